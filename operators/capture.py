"""Capture: video -> engine subprocess -> motion file -> animated take.

Adapter only: scene properties -> :class:`CaptureRequest` -> one
:class:`EngineJob` -> one :func:`build_take` call. The engine runs outside
Blender; a 0.1 s modal timer polls its events on the main thread so the UI
never freezes. In background mode (``blender -b``) the operator waits
synchronously instead.
"""

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import bpy

from ..blender_mocap import runs
from ..blender_mocap.engine import CaptureRequest, EngineJob, capture_command
from ..blender_mocap.preferences import engine_python_path, smplx_dir
from ..blender_mocap.runs import CaptureRun
from ..blender_mocap.settings import build_options_from_props, settings_from_props, validate_settings
from ..core.errors import MocapError
from .modal import PolledOperator

Level = Literal['INFO', 'WARNING', 'ERROR']

CANCEL_MESSAGE = "Capture cancelled; the scene is unchanged"


EngineCommand = Callable[[Path, Path], list[str]]
"""(engine python, motion file to write) -> the engine's command line."""


def start_capture(settings: CaptureRequest, python: Path, command: EngineCommand | None = None) -> CaptureRun:
    """Start the engine on ``settings.video`` (``command``: another engine command, e.g. capture-multi's),
    writing into a new temp folder."""
    temp_dir = Path(tempfile.mkdtemp(prefix="blender-mocap-"))
    result = temp_dir / (Path(settings.video).stem + ".npz")
    try:
        job = EngineJob(command(python, result) if command else capture_command(python, settings, result))
    except OSError as exc:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise MocapError(f"Could not start the engine {python}: {exc}") from exc
    return CaptureRun(settings=settings, job=job, temp_dir=temp_dir, result=result)


def handle_events(run: CaptureRun) -> None:
    """Apply the events the engine printed since the last call to ``run``."""
    run.apply(run.job.poll())


def cleanup_capture(run: CaptureRun, *, cancel: bool) -> None:
    """Release everything a run holds: engine (killed when ``cancel``), temp folder, run state.

    Safe to call twice. The operator's modal loop restores the status bar and progress bar.
    """
    if cancel:
        run.job.cancel()
    runs.CAPTURE.end(run)
    shutil.rmtree(run.temp_dir, ignore_errors=True)


def finish_capture(context: bpy.types.Context, run: CaptureRun,
                   progress: Callable[[float, str], None] | None = None) -> tuple[Level, str]:
    """Turn a finished engine run into a take. Returns (report level, message).

    ``progress(fraction, what)`` follows the build (a long take keys for a while).

    The scene is changed only when the engine succeeded and the take was built;
    ``build_take`` removes what it created if it fails. A take goes onto
    ``run.target`` when that rig still exists and matches.
    """
    from ..blender_mocap.scene import build_take
    from ..blender_mocap.take import record_motion_file, record_warnings
    from ..core.motion import read_motion

    code = run.job.returncode
    if run.job.cancelled or code == 130:
        return 'WARNING', CANCEL_MESSAGE
    if run.error or code != 0 or run.done_event is None:
        message = run.error or run.job.error_message()
        return 'ERROR', f"Capture failed: {message}"
    if run.done_event.get("people"):  # --people all: one take per person
        return finish_people(context, run, progress)
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
                      options=run.options, target=target, progress=progress)
    run.warnings += take.warnings
    record_warnings(take, run.warnings)
    where = "onto the existing" if take.reused else "into the new"
    source = Path(run.settings.video).name
    if motion.cameras is not None and motion.cameras.num_cameras > 1:
        source = f"{motion.cameras.num_cameras} cameras' videos ({source} first, each camera built)"
    message = (
        f"Captured {motion.num_frames} frames from {source} "
        f"{where} character '{take.armature.name}' (action '{take.action.name}')"
    )
    try:
        saved = save_result(run.result, Path(run.settings.output_dir), run.name)
    except MocapError as exc:  # the take is in the scene: keep it, say what was lost
        run.warnings.append(str(exc))
        return 'INFO', message
    record_motion_file(take, saved)
    return 'INFO', f"{message}; motion saved to {saved}"


def finish_people(context: bpy.types.Context, run: CaptureRun,
                  progress: Callable[[float, str], None] | None = None) -> tuple[Level, str]:
    """Turn a finished ``--people all`` run into one take per person (``Person 1`` ...) on one camera."""
    from ..blender_mocap.people import build_people, person_files
    from ..blender_mocap.take import record_motion_file, record_warnings
    from ..core.motion import read_motion

    paths = person_files(run.result)
    motions = [read_motion(path) for path in paths]
    for motion in motions:
        motion.source_video = motion.source_video or run.settings.video
    takes = build_people(context, motions, video_path=run.settings.video, options=run.options, progress=progress)
    for k, take in enumerate(takes):
        mine = [w for w in run.warnings if w.startswith(f"person {k + 1}: ")]  # the engine's, by ID
        record_warnings(take, mine + take.warnings)
        run.warnings += [f"{take.armature.name}: {w}" for w in take.warnings]
    names = ", ".join(take.armature.name for take in takes)
    message = f"Captured {len(takes)} people from {Path(run.settings.video).name} ({names}) on one camera"
    try:
        saved = [save_result(path, Path(run.settings.output_dir), f"{run.name}.person{k + 1}")
                 for k, path in enumerate(paths)]
    except MocapError as exc:  # the takes are in the scene: keep them, say what was lost
        run.warnings.append(str(exc))
        return 'INFO', message
    for take, path in zip(takes, saved):
        record_motion_file(take, path)
    return 'INFO', f"{message}; motion files saved in {Path(run.settings.output_dir)}"


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


class CaptureOperator(PolledOperator):
    """What the capture operators share (one video, several): everything but the engine request.

    Never registered itself: Blender loses a registered operator's class when a subclass is registered.
    """

    slot = runs.CAPTURE
    progress_bar = True
    cancel_events = frozenset({'ESC', 'RIGHTMOUSE'})
    cancel_message = CANCEL_MESSAGE

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if runs.CAPTURE.running():
            cls.poll_message_set("A capture is already running")
            return False
        return getattr(context.scene, "mocap", None) is not None

    def begin(self, context: bpy.types.Context) -> CaptureRun | None:
        from ..blender_mocap.take import rig_of

        assert context.scene is not None
        props = getattr(context.scene, "mocap")
        folder = smplx_dir(context)
        options = build_options_from_props(props, smplx_dir=folder, blend_filepath=bpy.data.filepath)
        try:
            settings, command = self.engine_request(props, folder)
            python = engine_python_path(context)
            if python is None:
                raise MocapError(
                    "No engine configured: open Preferences > Add-ons > blender-mocap "
                    "and click Create Engine (or set the engine's Python)."
                )
            run = start_capture(settings, python, command)
        except MocapError as exc:
            self.report({'ERROR'}, str(exc))
            return None
        run.options = options
        run.target = rig_of(context.active_object) if props.target == 'ACTIVE' else None
        runs.CAPTURE.start(run)
        return run

    def engine_request(self, props: object, folder: str) -> tuple[CaptureRequest, EngineCommand | None]:
        """The checked request for the scene's settings and its engine command (None: ``capture``'s);
        raises MocapError when the capture cannot start."""
        settings = settings_from_props(props, blend_filepath=bpy.data.filepath, smplx_dir=folder)
        validate_settings(settings)
        return settings, None

    def update(self, run: CaptureRun) -> None:
        handle_events(run)

    def is_done(self, run: CaptureRun) -> bool:
        return run.job.finished

    def status(self, run: CaptureRun) -> tuple[str, float]:
        return f"Mocap: {run.name}: {run.status} ({run.fraction:.0%})", run.fraction

    def finish(self, context: bpy.types.Context, run: CaptureRun) -> set[str]:
        level: Level
        try:
            # The build runs on this thread: the progress bar (the cursor's number) follows it.
            level, message = finish_capture(
                context, run, progress=lambda f, what: self._ui.show(context, f"Mocap: {run.name}: {what}", f))
        except MocapError as exc:
            level, message = 'ERROR', str(exc)
        for warning in run.warnings:
            self.report({'WARNING'}, warning)
        self.report({level}, message)
        return {'FINISHED'} if level == 'INFO' else {'CANCELLED'}

    def release(self, context: bpy.types.Context, run: CaptureRun, *, cancel: bool) -> None:
        cleanup_capture(run, cancel=cancel)


class MOCAP_OT_capture(CaptureOperator):
    """Capture the motion of the person in the video and build an animated SMPL-X take"""

    bl_idname = "mocap.capture"
    bl_label = "Capture Motion"
    bl_options = {'REGISTER', 'UNDO'}
