"""Capture: video -> engine subprocess -> motion file -> animated take.

Adapter only: scene properties -> :class:`CaptureRequest` -> one
:class:`EngineJob` -> one :func:`build_take` call. The engine runs outside
Blender; a 0.1 s modal timer polls its events on the main thread so the UI
never freezes. In background mode (``blender -b``) the operator waits
synchronously instead.
"""

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Level = Literal['INFO', 'WARNING', 'ERROR']

import bpy

from ..blender_mocap.engine import CaptureRequest, EngineJob, JobProgress, capture_command
from ..blender_mocap.preferences import engine_python_path, smplx_dir
from ..blender_mocap.settings import BuildOptions, build_options_from_props, settings_from_props, validate_settings
from ..core.errors import MocapError
from .modal import PROGRESS_SCALE, start_modal, stop_modal, wait_for

CANCEL_MESSAGE = "Capture cancelled; the scene is unchanged"


@dataclass
class CaptureRun(JobProgress):
    """One running capture: the engine job and the temporary folder it owns."""

    settings: CaptureRequest
    job: EngineJob
    temp_dir: Path
    result: Path
    options: BuildOptions = field(default_factory=BuildOptions)
    target: Any = None
    """The rig to put the take on (None = a new character), chosen when the capture started."""
    timer: Any = None

    @property
    def name(self) -> str:
        return Path(self.settings.video).stem


_RUNNING: list[CaptureRun] = []
"""The capture in progress (at most one), read by poll() and the panel."""


def capture_running() -> bool:
    return bool(_RUNNING)


def current_capture() -> CaptureRun | None:
    return _RUNNING[0] if _RUNNING else None


def start_capture(settings: CaptureRequest, python: Path) -> CaptureRun:
    """Start the engine on ``settings.video``, writing into a new temp folder."""
    temp_dir = Path(tempfile.mkdtemp(prefix="blender-mocap-"))
    result = temp_dir / (Path(settings.video).stem + ".npz")
    try:
        job = EngineJob(capture_command(python, settings, result))
    except OSError as exc:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise MocapError(f"Could not start the engine {python}: {exc}") from exc
    return CaptureRun(settings=settings, job=job, temp_dir=temp_dir, result=result)


def handle_events(run: CaptureRun) -> None:
    """Apply the events the engine printed since the last call to ``run``."""
    run.apply(run.job.poll())


def cleanup_capture(context: bpy.types.Context | None, run: CaptureRun, *, cancel: bool) -> None:
    """Release everything a run holds: engine (killed when ``cancel``), temp folder, UI.

    Safe to call twice. Restores the status bar and ends the progress bar.
    """
    if cancel:
        run.job.cancel()
    if run in _RUNNING:
        _RUNNING.remove(run)
    shutil.rmtree(run.temp_dir, ignore_errors=True)
    if context is not None:
        stop_modal(context, run.timer)
        run.timer = None


def finish_capture(context: bpy.types.Context, run: CaptureRun) -> tuple[Level, str]:
    """Turn a finished engine run into a take. Returns (report level, message).

    The scene is changed only when the engine succeeded and the take was built;
    ``build_take`` removes what it created if it fails. A take goes onto
    ``run.target`` when that rig still exists and matches.
    """
    from ..blender_mocap.scene import build_take, record_motion_file
    from ..core.motion import read_motion

    code = run.job.returncode
    if run.job.cancelled or code == 130:
        return 'WARNING', CANCEL_MESSAGE
    if run.error or code != 0 or run.done_event is None:
        message = run.error or run.job.error_message()
        return 'ERROR', f"Capture failed: {message}"
    motion = read_motion(run.result)
    if not motion.source_video:
        motion.source_video = run.settings.video
    target = run.target
    try:
        if target is not None and target.name not in bpy.data.objects:
            target = None  # deleted while the engine ran
    except ReferenceError:
        target = None
    take = build_take(context, motion, name=run.name, video_path=run.settings.video,
                      options=run.options, target=target)
    run.warnings += take.warnings
    where = "onto the existing" if take.reused else "into the new"
    message = (
        f"Captured {motion.num_frames} frames from {Path(run.settings.video).name} "
        f"{where} character '{take.armature.name}' (action '{take.action.name}')"
    )
    try:
        saved = save_result(run.result, Path(run.settings.output_dir), run.name)
    except MocapError as exc:  # the take is in the scene: keep it, say what was lost
        run.warnings.append(str(exc))
        return 'INFO', message
    record_motion_file(take, saved)
    return 'INFO', f"{message}; motion saved to {saved}"


def save_result(result: Path, output_dir: Path, stem: str) -> Path:
    """Copy the motion file into ``output_dir`` without overwriting an older take."""
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        target = output_dir / f"{stem}.npz"
        index = 1
        while target.exists():
            target = output_dir / f"{stem}.{index:03d}.npz"
            index += 1
        shutil.copy2(result, target)
    except OSError as exc:
        raise MocapError(
            f"The take was built but its motion file could not be saved in {output_dir}: "
            f"{exc.strerror}. Choose another output folder."
        ) from exc
    return target


class MOCAP_OT_capture(bpy.types.Operator):
    """Capture the motion of the person in the video and build an animated SMPL-X take"""

    bl_idname = "mocap.capture"
    bl_label = "Capture Motion"
    bl_options = {'REGISTER', 'UNDO'}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if capture_running():
            cls.poll_message_set("A capture is already running")
            return False
        return getattr(context.scene, "mocap", None) is not None

    def _prepare(self, context: bpy.types.Context) -> CaptureRun | None:
        from ..blender_mocap.scene import rig_of

        assert context.scene is not None
        props = getattr(context.scene, "mocap")
        folder = smplx_dir(context)
        settings = settings_from_props(props, blend_filepath=bpy.data.filepath, smplx_dir=folder)
        options = build_options_from_props(props, smplx_dir=folder, blend_filepath=bpy.data.filepath)
        try:
            validate_settings(settings)
            python = engine_python_path(context)
            if python is None:
                raise MocapError(
                    "No engine configured: open Preferences > Add-ons > blender-mocap "
                    "and click Create Engine (or set the engine's Python)."
                )
            run = start_capture(settings, python)
        except MocapError as exc:
            self.report({'ERROR'}, str(exc))
            return None
        run.options = options
        run.target = rig_of(context.active_object) if props.target == 'ACTIVE' else None
        _RUNNING.append(run)
        return run

    def _finish(self, context: bpy.types.Context, run: CaptureRun) -> set[str]:
        level: Level
        try:
            handle_events(run)
            level, message = finish_capture(context, run)
        except MocapError as exc:
            level, message = 'ERROR', str(exc)
        finally:
            cleanup_capture(context, run, cancel=False)
        for warning in run.warnings:
            self.report({'WARNING'}, warning)
        self.report({level}, message)
        return {'FINISHED'} if level == 'INFO' else {'CANCELLED'}

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        # Synchronous path: background mode, or called from a script with EXEC_DEFAULT.
        run = self._prepare(context)
        if run is None:
            return {'CANCELLED'}
        wait_for(run.job, lambda: handle_events(run), lambda: cleanup_capture(context, run, cancel=True))
        return self._finish(context, run)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:  # type: ignore[override]
        if bpy.app.background:
            return self.execute(context)
        run = self._prepare(context)
        if run is None:
            return {'CANCELLED'}
        run.timer = start_modal(self, context, progress_bar=True)
        self._show_status(context, run)
        return {'RUNNING_MODAL'}

    def _show_status(self, context: bpy.types.Context, run: CaptureRun) -> None:
        if context.workspace is not None:
            context.workspace.status_text_set(
                f"Mocap: {run.name}: {run.status} ({run.fraction:.0%}) - Esc to cancel"
            )
        if context.window_manager is not None:
            context.window_manager.progress_update(run.fraction * PROGRESS_SCALE)

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:  # type: ignore[override]
        run = current_capture()
        if run is None:
            return {'CANCELLED'}
        if event.type in {'ESC', 'RIGHTMOUSE'} and event.value == 'PRESS':
            cleanup_capture(context, run, cancel=True)
            self.report({'WARNING'}, CANCEL_MESSAGE)
            return {'CANCELLED'}
        if event.type != 'TIMER':
            return {'PASS_THROUGH'}
        handle_events(run)
        if not run.job.finished:
            self._show_status(context, run)
            return {'PASS_THROUGH'}
        return self._finish(context, run)

    def cancel(self, context: bpy.types.Context) -> None:
        # Blender calls this when the operator is stopped from outside (file load, quit).
        run = current_capture()
        if run is not None:
            cleanup_capture(context, run, cancel=True)
