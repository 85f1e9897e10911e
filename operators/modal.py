"""The one modal loop of the operators that run work off the UI thread (capture, preview, batch, engine).

Interactive runs poll their task from a modal timer, one step every
:data:`TIMER_STEP` seconds; Esc cancels. Background runs (``blender -b``, or a
script calling the operator with ``execute``) block and poll in a loop.
Either way only the main thread touches bpy.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import bpy

from ..blender_mocap.runs import Slot

TIMER_STEP = 0.1
"""Seconds between two polls of the running task."""
PROGRESS_SCALE = 1000
"""window_manager.progress_* runs from 0 to this (it takes 0..9999)."""

class ModalUI:
    """The timer of one modal run, and the window's progress bar when asked for.

    :meth:`stop` undoes what :meth:`start` did, no more (a progress bar is ended
    only when this started one), and is safe to call twice.
    """

    def __init__(self) -> None:
        self.timer: Any = None
        self.progress_bar = False

    def start(self, operator: bpy.types.Operator, context: bpy.types.Context, *, progress_bar: bool) -> None:
        """Add the polling timer (and the progress bar) and the modal handler."""
        wm = context.window_manager
        assert wm is not None
        self.timer = wm.event_timer_add(TIMER_STEP, window=context.window)
        if progress_bar:
            wm.progress_begin(0, PROGRESS_SCALE)
            self.progress_bar = True
        wm.modal_handler_add(operator)

    def show(self, context: bpy.types.Context, text: str, fraction: float) -> None:
        """Status-bar text, and the progress bar's position (0 to 1) when there is one."""
        if context.workspace is not None:
            context.workspace.status_text_set(f"{text} - Esc to cancel")
        if self.progress_bar and context.window_manager is not None:
            context.window_manager.progress_update(fraction * PROGRESS_SCALE)

    def stop(self, context: bpy.types.Context) -> None:
        """Remove the timer and the progress bar this started, and clear the status text."""
        wm = context.window_manager
        if wm is not None:
            if self.timer is not None:
                wm.event_timer_remove(self.timer)
            if self.progress_bar:
                wm.progress_end()
        self.timer, self.progress_bar = None, False
        if context.workspace is not None:
            context.workspace.status_text_set(None)


class PolledOperator(bpy.types.Operator):
    """An operator that starts one task, polls it until done, and reports the result.

    ``invoke`` runs it modally (a :class:`ModalUI` timer, Esc cancels);
    ``execute``, and ``invoke`` in background mode, wait synchronously. The
    run is kept in :attr:`slot` while it goes. Subclasses set :attr:`slot`
    (and :attr:`progress_bar`, :attr:`cancel_events`, :attr:`cancel_message`)
    and implement the hooks below.
    """

    # No class annotations at run time: Blender would read them as operator properties.
    if TYPE_CHECKING:
        slot: Slot[Any]
        _ui: ModalUI
    progress_bar = False
    cancel_events = frozenset({'ESC'})
    cancel_message = ""
    """Reported as a warning when the user cancels; "" reports nothing."""

    # Hooks.
    def begin(self, context: bpy.types.Context) -> Any:
        """Start the task and keep it in :attr:`slot`; report why and return None when it cannot start."""
        raise NotImplementedError

    def update(self, run: Any) -> None:
        """Read what the task has reported since the last call."""

    def is_done(self, run: Any) -> bool:
        raise NotImplementedError

    def status(self, run: Any) -> tuple[str, float]:
        """Status-bar text and fraction done (0 to 1) while the task runs."""
        raise NotImplementedError

    def finish(self, context: bpy.types.Context, run: Any) -> set[str]:
        """The task has ended: use its result and report it. :meth:`release` follows."""
        raise NotImplementedError

    def release(self, context: bpy.types.Context, run: Any, *, cancel: bool) -> None:
        """Stop the task when ``cancel`` and free what the run holds, :attr:`slot` included. Safe twice."""
        raise NotImplementedError

    # The loop.
    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        self._ui = ModalUI()
        run = self.begin(context)
        if run is None:
            return {'CANCELLED'}
        try:
            while not self.is_done(run):
                self.update(run)
                time.sleep(TIMER_STEP)
        except BaseException:  # KeyboardInterrupt in a batch run: leave no task behind
            self._abort(context, run)
            raise
        return self._end(context, run)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:  # type: ignore[override]
        if bpy.app.background:
            return self.execute(context)
        self._ui = ModalUI()
        run = self.begin(context)
        if run is None:
            return {'CANCELLED'}
        self._ui.start(self, context, progress_bar=self.progress_bar)
        self.show_status(context, run)
        return {'RUNNING_MODAL'}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:  # type: ignore[override]
        run = self.slot.current
        if run is None:
            self._ui.stop(context)
            return {'CANCELLED'}
        if event.type in self.cancel_events and event.value == 'PRESS':
            self._abort(context, run)
            if self.cancel_message:
                self.report({'WARNING'}, self.cancel_message)
            return {'CANCELLED'}
        if event.type != 'TIMER':
            return {'PASS_THROUGH'}
        self.update(run)
        if not self.is_done(run):
            self.show_status(context, run)
            return {'PASS_THROUGH'}
        return self._end(context, run)

    def cancel(self, context: bpy.types.Context) -> None:
        # Blender calls this when the operator is stopped from outside (file load, quit).
        run = self.slot.current
        if run is not None:
            self._abort(context, run)

    def show_status(self, context: bpy.types.Context, run: Any) -> None:
        text, fraction = self.status(run)
        self._ui.show(context, text, fraction)

    def _abort(self, context: bpy.types.Context, run: Any) -> None:
        try:
            self.release(context, run, cancel=True)
        finally:
            self._ui.stop(context)

    def _end(self, context: bpy.types.Context, run: Any) -> set[str]:
        try:
            self.update(run)
            return self.finish(context, run)
        finally:
            try:
                self.release(context, run, cancel=False)
            finally:
                self._ui.stop(context)
