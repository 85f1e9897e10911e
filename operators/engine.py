"""Create Engine / Check Engine: set up and test the engine's Python environment.

Both run their work off the UI thread (a subprocess sequence, or a check
that imports torch and MediaPipe in a subprocess) and poll it on a timer;
in background mode they wait synchronously.
"""

import time
from pathlib import Path
from typing import Any

import bpy

from ..blender_mocap import preferences
from ..blender_mocap.engine import BackgroundCall, CommandSequence
from ..blender_mocap.engine_env import (
    check_engine,
    create_engine_commands,
    default_engine_dir,
    find_engine_python,
    venv_python,
)

TIMER_STEP = 0.25

_TASKS: dict[str, Any] = {}
"""Running task per operator idname (at most one each)."""
_TIMERS: dict[str, Any] = {}


def _redraw(context: bpy.types.Context) -> None:
    wm = context.window_manager
    if wm is None:
        return
    for window in wm.windows:
        for area in window.screen.areas:
            if area.type in {'PREFERENCES', 'VIEW_3D'}:
                area.tag_redraw()


class _PolledTask:
    """Shared modal plumbing: start a task, poll it on a timer, Esc cancels."""

    # No class annotations here: Blender would read them as operator properties.

    def _key(self) -> str:
        return str(getattr(self, "bl_idname", type(self).__name__))

    def start(self, context: bpy.types.Context) -> Any:
        raise NotImplementedError

    def step(self, context: bpy.types.Context, task: Any) -> str:
        """Status text while running."""
        raise NotImplementedError

    def finish(self, context: bpy.types.Context, task: Any) -> set[str]:
        raise NotImplementedError

    def abort(self, task: Any) -> None:
        """Stop the task (Esc)."""

    def run_sync(self, context: bpy.types.Context) -> set[str]:
        task = self.start(context)
        if task is None:
            return {'CANCELLED'}
        while not task.done:
            time.sleep(TIMER_STEP)
        return self.finish(context, task)

    def run_modal(self, context: bpy.types.Context, operator: Any) -> set[str]:
        if bpy.app.background:
            return self.run_sync(context)
        if self._key() in _TASKS:
            operator.report({'WARNING'}, "Already running")
            return {'CANCELLED'}
        task = self.start(context)
        if task is None:
            return {'CANCELLED'}
        _TASKS[self._key()] = task
        wm = context.window_manager
        assert wm is not None
        _TIMERS[self._key()] = wm.event_timer_add(TIMER_STEP, window=context.window)
        wm.modal_handler_add(operator)
        return {'RUNNING_MODAL'}

    def _end(self, context: bpy.types.Context) -> None:
        _TASKS.pop(self._key(), None)
        timer = _TIMERS.pop(self._key(), None)
        wm = context.window_manager
        if timer is not None and wm is not None:
            wm.event_timer_remove(timer)
        if context.workspace is not None:
            context.workspace.status_text_set(None)
        preferences.STATUS.busy = ""
        _redraw(context)

    def poll_modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        task = _TASKS.get(self._key())
        if task is None:
            return {'CANCELLED'}
        if event.type == 'ESC' and event.value == 'PRESS':
            self.abort(task)
            self._end(context)
            return {'CANCELLED'}
        if event.type != 'TIMER':
            return {'PASS_THROUGH'}
        if not task.done:
            text = self.step(context, task)
            preferences.STATUS.busy = text
            if context.workspace is not None:
                context.workspace.status_text_set(f"{text} - Esc to cancel")
            _redraw(context)
            return {'PASS_THROUGH'}
        self._end(context)
        return self.finish(context, task)


class MOCAP_OT_create_engine(bpy.types.Operator, _PolledTask):
    """Create the engine: a Python environment with torch, MediaPipe and the other pinned packages (several GB, takes minutes)"""

    bl_idname = "mocap.create_engine"
    bl_label = "Create Engine"
    bl_options = {'REGISTER'}

    def start(self, context: bpy.types.Context) -> CommandSequence | None:
        venv_dir = default_engine_dir()
        try:
            commands = create_engine_commands(venv_dir)
            task = CommandSequence(commands)
        except OSError as exc:
            self.report({'ERROR'}, f"Could not start creating the engine: {exc}")
            return None
        self.report({'INFO'}, f"Creating the engine in {venv_dir} (several minutes, about 7 GB)")
        return task

    def step(self, context: bpy.types.Context, task: Any) -> str:
        last = (task.log_tail(1) or [""])[0][:120]
        return f"Creating engine: step {task.step + 1}/{len(task.commands)}: {last}"

    def abort(self, task: Any) -> None:
        task.cancel()
        self.report({'WARNING'}, "Engine creation cancelled")

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

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        return self.run_sync(context)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:  # type: ignore[override]
        return self.run_modal(context, self)

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:  # type: ignore[override]
        return self.poll_modal(context, event)


class MOCAP_OT_check_engine(bpy.types.Operator, _PolledTask):
    """Check that the engine's Python can import torch, MediaPipe and OpenCV"""

    bl_idname = "mocap.check_engine"
    bl_label = "Check Engine"
    bl_options = {'REGISTER'}

    def start(self, context: bpy.types.Context) -> BackgroundCall | None:
        configured = preferences.configured_python(context)
        status = preferences.refresh_status(configured)
        if not status.python:
            status.checked, status.ok = True, False
            status.message = "No engine found: click Create Engine or set the engine's Python"
            self.report({'ERROR'}, status.message)
            return None
        return BackgroundCall(check_engine, Path(status.python))

    def step(self, context: bpy.types.Context, task: Any) -> str:
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

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        return self.run_sync(context)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:  # type: ignore[override]
        return self.run_modal(context, self)

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:  # type: ignore[override]
        return self.poll_modal(context, event)


__all__ = ["MOCAP_OT_create_engine", "MOCAP_OT_check_engine", "find_engine_python"]
