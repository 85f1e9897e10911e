"""Batch: convert a folder of videos without touching the open scene.

The conversion runs in a separate headless process (this Blender's binary
with ``-b``, or this Python when Blender runs as the ``bpy`` module) that
executes ``blender_mocap/headless.py capture``, the same job pipeline TDs run
from a shell. Its JSON progress lines are polled on a timer, so the UI stays
responsive and the open file is never modified; Esc stops the process, which
stops its engine in turn.
"""

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import bpy

from ..blender_mocap import runs
from ..blender_mocap.batch_multi import batch_multi_args
from ..blender_mocap.engine import EngineJob
from ..blender_mocap.preferences import engine_python_path, smplx_dir
from ..blender_mocap.runs import BatchRun
from ..blender_mocap.settings import build_options_from_props, resolve_path, settings_from_props
from ..core.errors import MocapError
from ..core.options import batch_args
from .modal import PolledOperator

HEADLESS = Path(__file__).resolve().parents[1] / "blender_mocap" / "headless.py"
BATCH_EVENTS = frozenset({"stage", "progress", "warning", "error", "done", "skipped", "output", "summary"})


def batch_command(props: Any, *, engine_python: Path, smplx_folder: str, blend_filepath: str) -> tuple[list[str], Path]:
    """The headless command line for the panel's batch settings, and where its report goes.

    With Multi-Camera Takes on, it is ``capture-multi``: each take a folder of videos, the Multi-Camera
    panel's rig file and person height applied to every take."""
    source = resolve_path(str(props.batch_input_dir), blend_filepath)
    target = resolve_path(str(props.batch_output_dir), blend_filepath)
    if not source or not Path(source).is_dir():
        raise MocapError(f"Choose a folder of videos to convert (not found: {source or 'none chosen'}).")
    if not target:
        raise MocapError("Choose an output folder for the batch.")
    if Path(target).resolve() == Path(source).resolve():
        raise MocapError("The output folder must differ from the folder of videos.")
    formats = sorted(str(f).lower() for f in props.batch_outputs)
    if not formats:
        raise MocapError("Choose at least one output format.")
    multi = bool(props.batch_multi_camera)
    multi_args = batch_multi_args(props, blend_filepath=blend_filepath) if multi else []
    capture = settings_from_props(props, blend_filepath=blend_filepath, smplx_dir=smplx_folder)
    options = build_options_from_props(props, smplx_dir=smplx_folder, blend_filepath=blend_filepath)
    if bpy.app.binary_path and Path(bpy.app.binary_path).is_file():
        runner = [bpy.app.binary_path, "-b", "--factory-startup", "--python", str(HEADLESS), "--"]
    else:  # Blender as a Python module: this Python has bpy
        runner = [sys.executable, str(HEADLESS)]
    cmd = runner + ["capture-multi" if multi else "capture", source, "--out", target, "--outputs", ",".join(formats),
                    "--progress", "json", "--engine-python", str(engine_python),
                    *capture.cli_args(), *batch_args(asdict(options)), *multi_args]
    return cmd, Path(target) / "report.json"


def describe(event: dict[str, Any]) -> str:
    """Status-bar text for one batch event: ``[i/n] video: message``."""
    return f"[{event.get('index', '?')}/{event.get('total', '?')}] {event.get('video', '')}: {event.get('message', '')}"


def handle_events(run: BatchRun) -> None:
    for event in run.job.poll():
        if event["event"] == "summary":
            run.summary = str(event.get("message", ""))
        elif event["event"] == "error":
            run.errors.append(describe(event))
        else:
            run.status = describe(event)


def finish_batch(run: BatchRun) -> tuple[str, str]:
    """(report level, message) once the process has ended."""
    code = run.job.wait()
    handle_events(run)
    if code == 0:
        return 'INFO', run.summary or f"Batch finished; report: {run.report}"
    if code == 1:
        return 'WARNING', (run.summary or "Some videos failed") + (f" ({run.errors[0]})" if run.errors else "")
    return 'ERROR', run.summary or run.job.error_message()


class MOCAP_OT_batch(PolledOperator):
    """Convert every video in a folder into the chosen files, in a separate process"""

    bl_idname = "mocap.batch"
    bl_label = "Convert Folder"
    bl_options = {'REGISTER'}

    slot = runs.BATCH
    cancel_message = "Batch cancelled; finished files are kept, report.json says which"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if runs.BATCH.running():
            cls.poll_message_set("A batch is already running")
            return False
        return getattr(context.scene, "mocap", None) is not None

    def begin(self, context: bpy.types.Context) -> BatchRun | None:
        props = getattr(context.scene, "mocap")
        try:
            python = engine_python_path(context)
            if python is None:
                raise MocapError("No engine configured: open Preferences > Add-ons > blender-mocap "
                                 "and click Create Engine (or set the engine's Python).")
            cmd, report = batch_command(props, engine_python=python, smplx_folder=smplx_dir(context),
                                        blend_filepath=bpy.data.filepath)
            job = EngineJob(cmd, kinds=BATCH_EVENTS)
        except MocapError as exc:
            self.report({'ERROR'}, str(exc))
            return None
        except OSError as exc:
            self.report({'ERROR'}, f"Cannot start the batch process: {exc}")
            return None
        run = BatchRun(job=job, report=report)
        runs.BATCH.start(run)
        return run

    def update(self, run: BatchRun) -> None:
        handle_events(run)

    def is_done(self, run: BatchRun) -> bool:
        return run.job.finished

    def status(self, run: BatchRun) -> tuple[str, float]:
        return f"Mocap batch: {run.status}", 0.0

    def finish(self, context: bpy.types.Context, run: BatchRun) -> set[str]:
        level, message = finish_batch(run)
        self.report({level}, message)  # type: ignore[arg-type]
        return {'FINISHED'} if level != 'ERROR' else {'CANCELLED'}

    def release(self, context: bpy.types.Context, run: BatchRun, *, cancel: bool) -> None:
        """Stop the batch process when ``cancel`` (it stops its engine) and forget the run."""
        if cancel:
            run.job.cancel()
        runs.BATCH.end(run)
