"""A live session through the real socket into real bpy: poses arrive and pose the rig, Record keys every
received frame in bulk, Stop ends the engine process. (The engine runs in the engine Python on a 2 s clip.)"""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

import bpy
import numpy as np
import pytest

from conftest import action_fcurves, make_motion


def _tick_until(session, scene, done, timeout: float = 90.0) -> None:
    """Call the session's tick as the add-on's timer would, until ``done()`` or the timeout."""
    deadline = time.monotonic() + timeout
    while not done():
        going = session.tick(scene)
        assert time.monotonic() < deadline, f"timed out: {session.message}; engine: {session.job.stderr_tail()}"
        if not going:
            break
        time.sleep(0.005)


def test_live_session_poses_records_and_stop_ends_the_engine(pkg, short_clip: Path, engine_python: str,
                                                            tmp_path: Path) -> None:
    live = importlib.import_module(f"{pkg.__name__}.blender_mocap.live")
    scene = bpy.context.scene
    session = live.LiveSession(engine_python, {"live_source": str(short_clip), "smoothing": 0.5},
                               output_dir=str(tmp_path))
    try:
        _tick_until(session, scene, lambda: session.state == "live")
        assert session.state == "live", session.message
        rig = session.rig
        assert rig is not None and rig.type == 'ARMATURE'
        session.record()
        _tick_until(session, scene, lambda: session.applied >= 12)
        assert session.applied >= 12, session.message
        # The applied pose is the stream's: some bone is turned away from its rest.
        turned = max(1.0 - abs(b.rotation_quaternion[0]) for b in rig.pose.bones)
        assert turned > 0.01
        # The take's camera follows the stream's estimate (v2: height above the floor, pitch, roll), not 1 m up.
        assert session.camera is not None and session._camera_at is not None
        assert session.camera.matrix_world.translation.z == pytest.approx(session._camera_at[0], abs=1e-4)
        assert abs(session._camera_at[0] - 1.0) > 0.01
        # A stream that goes quiet says so in the panel.
        session.receiver.last_received = time.monotonic() - 10.0
        assert "no pose from the engine for 10 s" in session.status()
        pid = session.job.pid
        result = session.stop(scene)
    finally:
        live.stop_all()
    assert session.job.returncode is not None  # Stop ended the engine process, not just the socket
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert result is not None and result.is_file()
    motion = importlib.import_module(f"{pkg.__name__}.core.motion").read_motion(result)
    recorded = motion.num_frames
    assert recorded >= session.applied - 1 >= 11
    # Record made an action keyed on every received frame (the bulk keying: one key per frame per channel).
    action = rig.animation_data.action
    assert action is not None and action.name == result.stem
    curves = action_fcurves(rig.animation_data)
    rotations = [c for c in curves if c.data_path.endswith("rotation_quaternion")]
    assert len(rotations) == 55 * 4
    keyed = np.array([k.co[0] for k in rotations[0].keyframe_points])
    np.testing.assert_array_equal(keyed, motion.frame_indices + 1)
    assert all(len(c.keyframe_points) == recorded for c in rotations)
    assert not live.SESSIONS


def test_a_recording_with_a_repeated_frame_index_still_builds_its_take(pkg) -> None:
    """Frames 3, 3, 7, 7, 11 recorded (an engine's lag sent an index twice under load): Stop's take is built, keyed
    on 1, 5 and 9 with the first pose of each index, instead of "the motion's frame indices are not increasing; the
    file is damaged" and the recording lost."""
    live = importlib.import_module(f"{pkg.__name__}.blender_mocap.live")
    protocol = importlib.import_module(f"{pkg.__name__}.core.live.protocol")
    rest = make_motion(1, camera=True, world_up=(0.0, 0.0, 1.0))
    frames = []
    for seq, index in enumerate([3, 3, 7, 7, 11]):
        poses = np.zeros(165, np.float32)
        poses[3] = 0.1 * seq  # the left hip turned by the message's number
        frames.append(protocol.LiveFrame(seq=seq, frame=index, frame_time=index / 30.0, captured=0.0, sent=0.0,
                                         confidence=1.0, camera_height=1.5, flags=0, trans=np.zeros(3, np.float32),
                                         poses=poses, expression=np.zeros(0, np.float32)))
    motion = live.recorded_motion(rest, frames, 30.0)
    np.testing.assert_array_equal(motion.frame_indices, [0, 4, 8])
    np.testing.assert_allclose(motion.poses[:, 3], [0.0, 0.2, 0.4], atol=1e-6)  # messages 0, 2, 4
    take = live.build_take(bpy.context.scene, motion, name="rec", options=live.LIVE_BUILD)
    rotations = [c for c in action_fcurves(take.armature.animation_data) if c.data_path.endswith("rotation_quaternion")]
    assert [k.co[0] for k in rotations[0].keyframe_points] == [1.0, 5.0, 9.0]


def test_stop_while_the_engine_starts_ends_it_and_builds_nothing(pkg, short_clip: Path, engine_python: str,
                                                                 tmp_path: Path) -> None:
    live = importlib.import_module(f"{pkg.__name__}.blender_mocap.live")
    objects = len(bpy.data.objects)
    session = live.LiveSession(engine_python, {"live_source": str(short_clip)}, output_dir=str(tmp_path))
    session.tick(bpy.context.scene)
    assert session.stop(bpy.context.scene) is None  # nothing recorded, nothing written
    assert session.job.returncode is not None and session.state == "stopped"
    assert len(bpy.data.objects) == objects and not list(tmp_path.iterdir()) and not live.SESSIONS


def test_a_source_the_engine_cannot_open_ends_the_session_with_its_message(pkg, engine_python: str,
                                                                          tmp_path: Path) -> None:
    live = importlib.import_module(f"{pkg.__name__}.blender_mocap.live")
    session = live.LiveSession(engine_python, {"live_source": str(tmp_path / "missing.mp4")},
                               output_dir=str(tmp_path))
    try:
        _tick_until(session, bpy.context.scene, lambda: session.state == "ended", timeout=60.0)
        assert session.state == "ended"
        assert "live source not found" in session.message and "missing.mp4" in session.message
    finally:
        live.stop_all()
    assert not live.SESSIONS


def test_the_panel_values_reach_the_live_command_as_the_engine_parses_them(pkg, tmp_path: Path) -> None:
    live = importlib.import_module(f"{pkg.__name__}.blender_mocap.live")
    cli = importlib.import_module(f"{pkg.__name__}.core.cli")
    values = {"live_source": "rtsp://cam.local/stream", "realtime": True, "vmc": "127.0.0.1:39539",
              "fov": 70.0, "camera_pitch": 12.0, "camera_roll": None, "smoothing": 0.25, "lag": 0}
    command = live.live_command("/engine/python", values, 40123, tmp_path / "rest.npz")
    assert command[:4] == ["/engine/python", "-m", "core", "live"]
    args = cli.build_parser().parse_args(command[3:])
    assert (args.source, args.realtime, args.vmc, args.fov, args.camera_pitch, args.camera_roll, args.smoothing,
            args.lag) == ("rtsp://cam.local/stream", True, "127.0.0.1:39539", 70.0, 12.0, None, 0.25, 0)
    assert (args.send, args.take, args.progress) == ("127.0.0.1:40123", tmp_path / "rest.npz", "json")
    defaults = cli.build_parser().parse_args(live.live_command("py", {"live_source": "0"}, 1, tmp_path)[3:])
    assert (defaults.realtime, defaults.vmc, defaults.smoothing, defaults.lag) == (False, None, 0.5, 1)


def test_with_smplx_files_the_live_character_is_smplx(pkg, short_clip: Path, engine_python: str,
                                                      tmp_path: Path) -> None:
    """With SMPL-X files in the model folder (a synthetic file in the real format here), the live session's
    character is the SMPL-X body (its mesh, its fitted shape), posed by the stream."""
    from tests.testdata.smplx_model import write_synthetic_model

    live = importlib.import_module(f"{pkg.__name__}.blender_mocap.live")
    write_synthetic_model(tmp_path / "models" / "smplx" / "SMPLX_NEUTRAL.npz", pickled_extras=False)
    scene = bpy.context.scene
    session = live.LiveSession(engine_python, {"live_source": str(short_clip), "smplx_dir": str(tmp_path / "models")},
                               output_dir=str(tmp_path))
    try:
        _tick_until(session, scene, lambda: session.state == "live", timeout=180.0)
        assert session.state == "live", session.message
        assert session.rest is not None and session.rest.body_model == "smplx"
        meshes = [c for c in session.rig.children if c.type == 'MESH']
        assert meshes and len(meshes[0].data.vertices) == 10475
        session.record()
        # Counted by the receiver since Record: poses applied before it are not in the recording.
        _tick_until(session, scene, lambda: session.receiver.recorded_count() >= 5)
        assert session.receiver.recorded_count() >= 5, session.message
        result = session.stop(scene)
    finally:
        live.stop_all()
    assert session.job.returncode is not None
    motion = importlib.import_module(f"{pkg.__name__}.core.motion").read_motion(result)
    assert motion.body_model == "smplx" and motion.num_frames >= 5  # the recording is an SMPL-X take


def test_an_engine_that_ends_with_a_warning_shows_it_in_the_panel(pkg, engine_python: str, tmp_path: Path) -> None:
    """A source that ends without anyone in view (as a camera cut off or a stalled stream ends the engine
    with a warning): the panel says why the session ended, not just that it did."""
    import cv2

    live = importlib.import_module(f"{pkg.__name__}.blender_mocap.live")
    empty = tmp_path / "empty.mp4"
    writer = cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (320, 240))
    for _ in range(20):
        writer.write(np.full((240, 320, 3), 90, np.uint8))
    writer.release()
    session = live.LiveSession(engine_python, {"live_source": str(empty)}, output_dir=str(tmp_path))
    try:
        _tick_until(session, bpy.context.scene, lambda: session.state == "ended", timeout=90.0)
        assert session.state == "ended"
        assert f"nobody was found in {empty}" in session.status()
    finally:
        live.stop_all()
