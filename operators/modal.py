"""What the engine-running operators (capture, preview, batch) share: how they wait.

Interactive runs poll their subprocess from a modal timer; background runs
(``blender -b``, or a script calling the operator) block and poll in a loop.
Either way only the main thread touches bpy.
"""

import time
from collections.abc import Callable
from typing import Any

import bpy

from ..blender_mocap.engine import EngineJob

TIMER_STEP = 0.1
"""Seconds between two polls of the engine."""
PROGRESS_SCALE = 1000
"""window_manager.progress_* runs from 0 to this (it takes 0..9999)."""


def wait_for(job: EngineJob, poll: Callable[[], None], on_abort: Callable[[], None]) -> None:
    """Block until ``job`` has ended and its output is read, calling ``poll`` in between.

    Anything that interrupts the wait (KeyboardInterrupt in a batch run)
    calls ``on_abort`` first, so no engine or temporary folder is left behind.
    """
    try:
        while not job.finished:
            poll()
            time.sleep(TIMER_STEP)
    except BaseException:
        on_abort()
        raise


def start_modal(operator: bpy.types.Operator, context: bpy.types.Context, *, progress_bar: bool) -> Any:
    """Add the polling timer (and the window's progress bar) and the modal handler; returns the timer."""
    wm = context.window_manager
    assert wm is not None
    timer = wm.event_timer_add(TIMER_STEP, window=context.window)
    if progress_bar:
        wm.progress_begin(0, PROGRESS_SCALE)
    wm.modal_handler_add(operator)
    return timer


def stop_modal(context: bpy.types.Context, timer: Any) -> None:
    """Undo :func:`start_modal` (timer and progress bar, when there was a timer) and clear the status text."""
    wm = context.window_manager
    if wm is not None and timer is not None:
        wm.event_timer_remove(timer)
        wm.progress_end()
    if context.workspace is not None:
        context.workspace.status_text_set(None)
