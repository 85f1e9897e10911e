"""Create Engine / Check Engine: set up and test the engine's Python environment.

Both run their work off the UI thread (a subprocess sequence, or a check
that imports torch and MediaPipe in a subprocess) and poll it on a timer;
in background mode they wait synchronously.
"""

from pathlib import Path
from typing import Any

import bpy

from ..blender_mocap import preferences, runs
from ..blender_mocap.engine import BackgroundCall, CommandSequence
from ..blender_mocap.engine_env import (
    check_engine,
    create_engine_commands,
    default_engine_dir,
    find_base_python,
    install_advice,
    venv_python,
)
from .modal import PolledOperator


def _redraw(context: bpy.types.Context) -> None:
    wm = context.window_manager
    if wm is None:
        return
    for window in wm.windows:
        for area in window.screen.areas:
            if area.type in {'PREFERENCES', 'VIEW_3D'}:
                area.tag_redraw()


class _EngineTask(PolledOperator):
    """Engine set-up work on a thread (a ``CommandSequence`` or a ``BackgroundCall``): done when ``task.done``.

    While it runs, the engine status line (preferences and panel) says what it is doing.
    """

    def begin(self, context: bpy.types.Context) -> Any:
        if self.slot.running():
            self.report({'WARNING'}, "Already running")
            return None
        task = self.start(context)
        if task is not None:
            self.slot.start(task)
        return task

    def start(self, context: bpy.types.Context) -> Any:
        raise NotImplementedError

    def step(self, task: Any) -> str:
        """Status text while running."""
        raise NotImplementedError

    def is_done(self, task: Any) -> bool:
        return bool(task.done)

    def status(self, task: Any) -> tuple[str, float]:
        return self.step(task), 0.0

    def show_status(self, context: bpy.types.Context, task: Any) -> None:
        super().show_status(context, task)
        preferences.STATUS.busy = self.step(task)
        _redraw(context)

    def release(self, context: bpy.types.Context, task: Any, *, cancel: bool) -> None:
        if cancel:
            self.abort(task)
        self.slot.end(task)
        preferences.STATUS.busy = ""
        _redraw(context)

    def abort(self, task: Any) -> None:
        """Stop the task (Esc, or Blender ending the operator)."""


class MOCAP_OT_create_engine(_EngineTask):
    """Create the engine: a Python environment with torch, MediaPipe and the other pinned packages (several GB, takes minutes)"""

    bl_idname = "mocap.create_engine"
    bl_label = "Create Engine"
    bl_options = {'REGISTER'}

    slot = runs.CREATE_ENGINE
    cancel_message = "Engine creation cancelled"

    def start(self, context: bpy.types.Context) -> CommandSequence | None:
        venv_dir = default_engine_dir()
        base = find_base_python()  # runs the candidates: Blender 5.1+'s own Python 3.13 cannot make it
        preferences.STATUS.base = base.describe() if base is not None else ""
        if base is None:
            self.report({'ERROR'}, install_advice())
            return None
        try:
            task = CommandSequence(create_engine_commands(venv_dir, base=base))
        except OSError as exc:
            self.report({'ERROR'}, f"Could not start creating the engine: {exc}")
            return None
        self.report({'INFO'}, f"Creating the engine in {venv_dir} from {base.describe()} "
                              "(several minutes, about 7 GB)")
        return task

    def step(self, task: Any) -> str:
        last = (task.log_tail(1) or [""])[0][:120]
        return f"Creating engine: step {task.step + 1}/{len(task.commands)}: {last}"

    def abort(self, task: Any) -> None:
        task.cancel()

    def finish(self, context: bpy.types.Context, task: Any) -> set[str]:
        if task.error:
            self.report({'ERROR'}, f"Could not create the engine: {task.error}")
            return {'CANCELLED'}
        python = venv_python(default_engine_dir())
        prefs = preferences.get_preferences(context)
        if prefs is not None:
            prefs.engine_python = str(python)
        preferences.refresh_status(str(python))
        self.report({'INFO'}, f"Engine created: {python}. Click Check Engine to test it.")
        return {'FINISHED'}


class MOCAP_OT_check_engine(_EngineTask):
    """Check that the engine's Python can import torch, MediaPipe and OpenCV"""

    bl_idname = "mocap.check_engine"
    bl_label = "Check Engine"
    bl_options = {'REGISTER'}

    slot = runs.CHECK_ENGINE

    def start(self, context: bpy.types.Context) -> BackgroundCall | None:
        configured = preferences.configured_python(context)
        status = preferences.refresh_status(configured)
        if not status.python:
            status.checked, status.ok = True, False
            status.message = "No engine found: click Create Engine or set the engine's Python"
            self.report({'ERROR'}, status.message)
            return None
        return BackgroundCall(check_engine, Path(status.python))

    def step(self, task: Any) -> str:
        return "Checking the engine (importing torch and MediaPipe)"

    def finish(self, context: bpy.types.Context, task: Any) -> set[str]:
        status = preferences.STATUS
        if task.error is not None:
            ok, message = False, f"Engine check failed: {task.error}"
        else:
            ok, message = task.result
        status.checked, status.ok, status.message = True, ok, message
        self.report({'INFO'} if ok else {'ERROR'}, message)
        return {'FINISHED'} if ok else {'CANCELLED'}

