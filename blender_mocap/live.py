"""A live session in Blender: the engine process, the receiver, the rig it drives, and the recording.

:class:`LiveSession` starts ``python -m core live SOURCE --send 127.0.0.1:PORT``
(the port of its :class:`~blender_mocap.live_stream.LiveReceiver`). When the
engine says ``ready`` it has written the session's rest take (the fitted
body in one frame); the rig is built from it with the capture's scene
building (``scene.build_take``). Then :meth:`LiveSession.tick`, called from a
``bpy.app.timers`` callback on the main thread, applies the newest pose and
never waits. Record keeps every received frame; :meth:`LiveSession.stop` ends
the engine and, when frames were recorded, writes them as a motion file and
keys them onto the rig as a take with the capture's bulk keying
(``armature.key_motion`` through ``build_take``).

Sessions are kept in :data:`SESSIONS`; :func:`stop_all` (on unregister and at
exit) ends every engine, so none is left running. The engine itself also
stops when this receiver's port refuses its datagrams (Blender gone).
"""

from __future__ import annotations

import atexit
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import bpy
import numpy as np

from ..core.errors import MocapError
from ..core.live.protocol import LiveFrame
from ..core.motion import Motion, read_motion, write_motion
from ..core.options import LIVE, LIVE_SHARED, OPTION, option_args, options_for
from . import convert
from .armature import bone_quaternions
from .camera import camera_matrix_world
from .engine import EVENT_KINDS, EngineJob
from .live_stream import LiveReceiver
from .scene import build_take
from .settings import BuildOptions

LIVE_EVENT_KINDS = EVENT_KINDS | {"ready", "stats"}
TICK_SECONDS = 1.0 / 60.0
"""How often the timer looks for a new pose: twice a 30 fps stream's rate, so a pose waits < 17 ms."""
STALL_SECONDS = 3.0
"""A live session with no pose for this long says so in the panel (the person left, or the engine stalled)."""
LIVE_BUILD = BuildOptions(ground=False, correctives="NONE")
"""The stream is already on its floor (Z = 0); a rig moved every frame has no use for baked correctives."""


def live_command(python: str | os.PathLike[str], values: dict[str, Any], port: int, take: Path) -> list[str]:
    """The engine command of a live session: option ``values`` (``live_source`` and the live options)."""
    options = options_for(LIVE) + tuple(OPTION[name] for name in LIVE_SHARED)
    return [str(python), "-m", "core", "live", str(values["live_source"]), "--send", f"127.0.0.1:{port}",
            "--take", str(take), "--progress", "json",
            *option_args(values, options, {o.name: o.default for o in options})]


class LiveSession:
    """One live session: engine + receiver + the rig it drives. Only the main thread calls its methods."""

    def __init__(self, python: str, values: dict[str, Any], *, output_dir: str) -> None:
        self.values = dict(values)
        self.output_dir = Path(output_dir)
        self._temp = tempfile.TemporaryDirectory(prefix="mocap-live-")
        self.receiver = LiveReceiver().start()
        self.take_path = Path(self._temp.name) / "live_rest.npz"
        try:
            self.job = EngineJob(live_command(python, self.values, self.receiver.port, self.take_path),
                                 kinds=LIVE_EVENT_KINDS)
        except OSError as exc:
            self.receiver.close()
            raise MocapError(f"cannot start the engine {python}: {exc}") from exc
        self.state = "starting"
        self.message = "starting the engine"
        self.rest: Motion | None = None
        self.rig: bpy.types.Object | None = None
        self.camera: bpy.types.Object | None = None
        self._camera_at: tuple[float, float, float] | None = None  # (height, pitch, roll) it was placed at
        self.applied = 0
        self.fps_source = 30.0
        self.result: Path | None = None
        self.warnings: list[str] = []
        self._rig_frames: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        SESSIONS.append(self)

    # -- the main thread's tick ------------------------------------------------
    def tick(self, scene: bpy.types.Scene) -> bool:
        """Handle engine events and apply the newest pose; False once the engine has ended."""
        for event in self.job.poll():
            kind = event["event"]
            if kind == "ready":
                self.fps_source = float(event.get("fps") or 30.0)
                self._build_rig(scene)
            elif kind == "stage":
                self.message = str(event.get("message", ""))
            elif kind == "warning":
                self.warnings.append(str(event.get("message", "")))
        frame = self.receiver.take_newest()
        if frame is not None and self.rig is not None:
            self.apply(frame)
        if self.job.finished and self.state != "stopped":
            self.state = "ended"
            code = self.job.returncode
            if code not in (0, 130):
                self.message = self.job.error_message()
            else:  # a camera cut off or a stalled stream ends the engine with a warning: say that, not just "ended"
                reason = "; ".join(self.warnings) if self.warnings else "the engine ended"
                self.message = reason + ("; Stop keys the recording" if self.receiver.recording else "")
            return False
        return True

    def _build_rig(self, scene: bpy.types.Scene) -> None:
        rest = read_motion(self.take_path)
        take = build_take(scene, rest, name="Live", options=LIVE_BUILD)
        rig = take.armature
        if rig.animation_data is not None:  # the live pose drives the bones; the one-frame take would override it
            rig.animation_data.action = None
        bpy.data.actions.remove(take.action)
        names = tuple(rest.joint_names)
        bones: Any = rig.data
        B = np.array([np.array(bones.bones[n].matrix_local)[:3, :3] for n in names])
        C = convert.armature_from_world(rest.world_up)
        pelvis_rig = np.array(bones.bones[names[0]].head_local, np.float64)
        self._rig_frames = (B, C, np.asarray(rest.rest_joints, np.float64)[0], pelvis_rig)
        self.rest, self.rig, self.camera = rest, rig, take.camera
        self.state, self.message = "live", "live"

    def apply(self, frame: LiveFrame) -> None:
        """Pose the rig as ``frame`` says (the same bone conversion as the keyed takes)."""
        assert self.rest is not None and self.rig is not None and self._rig_frames is not None
        B, C, pelvis_motion, pelvis_rig = self._rig_frames
        one = replace(self.rest, poses=frame.poses[None], trans=frame.trans[None])
        quats = bone_quaternions(one, B, C)[0]
        pose: Any = self.rig.pose
        for name, q in zip(self.rest.joint_names, quats):
            pose.bones[name].rotation_quaternion = q
        offset = (pelvis_motion + frame.trans.astype(np.float64)) @ C.T - pelvis_rig
        pose.bones[self.rest.joint_names[0]].location = offset @ B[0]
        self._place_camera(frame)
        self.applied += 1

    def _place_camera(self, frame: LiveFrame) -> None:
        """Move the take's camera to the frame's height and tilt (a version 2 message) when they changed by
        more than a centimetre or a tenth of a degree: the floor and the up are estimated as the session goes."""
        if self.camera is None or self.rig is None or self.rest is None:
            return
        at = (frame.camera_height, frame.camera_pitch or 0.0, frame.camera_roll or 0.0)
        if self._camera_at is not None and abs(at[0] - self._camera_at[0]) < 0.01 \
                and max(abs(at[1] - self._camera_at[1]), abs(at[2] - self._camera_at[2])) < 0.1:
            return
        extrinsics = frame.camera_extrinsics()  # built only when the camera moves, not on every frame
        if extrinsics is None:  # a version 1 message carries no camera
            return
        self.camera.matrix_world = camera_matrix_world(self.rig, extrinsics, self.rest.world_up)
        self._camera_at = at

    # -- record and stop -------------------------------------------------------
    def record(self) -> None:
        self.receiver.start_recording()

    def stop(self, scene: bpy.types.Scene | None = None) -> Path | None:
        """End the engine (and the receiver); a recording becomes a motion file and, with ``scene``, a take
        on the rig. Returns the motion file or None. Safe to call twice."""
        if self.state == "stopped":
            return self.result
        self.job.cancel()
        frames = self.receiver.stop_recording()
        self.receiver.close()
        self.state = "stopped"
        if frames and self.rest is not None:
            motion = recorded_motion(self.rest, frames, self.fps_source)
            self.output_dir.mkdir(parents=True, exist_ok=True)
            self.result = write_motion(self.output_dir / f"live-{time.strftime('%Y%m%d-%H%M%S')}.npz", motion)
            if scene is not None:
                build_take(scene, motion, name=self.result.stem, options=LIVE_BUILD, target=self.rig)
        self._temp.cleanup()
        if self in SESSIONS:
            SESSIONS.remove(self)
        return self.result

    def status(self) -> str:
        """One line for the panel: state, frame rate, latency, drops."""
        fps, latency = self.receiver.figures()
        dropped = self.receiver.malformed + self.receiver.out_of_order
        text = f"{self.message}: {fps:.0f} fps, {latency:.0f} ms glass to pose" if self.state == "live" \
            else self.message
        last = self.receiver.last_received
        if self.state == "live" and last is not None and time.monotonic() - last > STALL_SECONDS:
            text = (f"no pose from the engine for {time.monotonic() - last:.0f} s: its camera or stream may have "
                    "stalled (the engine ends by itself after 5 s without a frame)")
        if dropped:
            text += f", {dropped} bad messages dropped"
        if self.receiver.recording:
            text += f", recording {self.receiver.recorded_count()} frames"
        return text


def recorded_motion(rest: Motion, frames: list[LiveFrame], fps: float) -> Motion:
    """The take of recorded ``frames`` (in order) on the session's rest take, the camera at the last frame's
    height and tilt. Frame indices are the video's for a file source (a preview lines up with it), else counted
    from 0 at the first frame recorded; gaps where the stream dropped frames. A frame whose index is not after the
    last one kept is left out: a take's keys need increasing frames, and the whole recording would be lost (the
    engine's lag sent an index twice under load until that was mended, December 2026)."""
    kept: list[LiveFrame] = []
    for frame in frames:
        if not kept or frame.frame > kept[-1].frame:
            kept.append(frame)
    frames = kept
    first = 0 if rest.source_video and Path(rest.source_video).is_file() else frames[0].frame
    extrinsics = frames[-1].camera_extrinsics()  # a version 2 stream's camera: height and tilt
    if extrinsics is None and rest.camera_extrinsics is not None:  # version 1: the rest take's tilt
        extrinsics = np.array(rest.camera_extrinsics, np.float64)
        extrinsics[:3, 3] = -extrinsics[:3, 2] * frames[-1].camera_height  # t = -R^T (0, 0, h)
    T = len(frames)
    return replace(
        rest, poses=np.stack([f.poses for f in frames]).astype(np.float32),
        trans=np.stack([f.trans for f in frames]).astype(np.float32),
        frame_indices=np.array([f.frame - first for f in frames], np.int64),
        confidence=np.array([f.confidence for f in frames], np.float32),
        bridged=np.array([f.held for f in frames], bool), reprojection_error=np.full(T, np.nan, np.float32),
        expression=np.zeros((T, rest.expression.shape[1]), np.float32),  # SMPL-X's width; the face stays at rest
        fps=fps, camera_extrinsics=extrinsics,
        quality={"frames": float(T)})


SESSIONS: list[LiveSession] = []
"""Live sessions whose engine may be running (normally at most one)."""


def current() -> LiveSession | None:
    """The newest live session (the one the panel shows and the operators drive), or None."""
    return SESSIONS[-1] if SESSIONS else None


def stop_all() -> None:
    """End every live session's engine (unregister, Blender's exit); a recording is still written as a
    motion file, but no take is built."""
    for session in list(SESSIONS):
        session.stop(None)


atexit.register(stop_all)
