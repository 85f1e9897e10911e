"""The operators' one modal loop: its timer and progress bar are undone exactly as far as they were made."""

from __future__ import annotations

import importlib
import types
from unittest import mock

import bpy


def _spec(rna_type: type, names: list[str]) -> mock.Mock:
    """A mock with just ``names``, each checked to be a function of the real ``rna_type``."""
    real = {f.identifier for f in rna_type.bl_rna.functions} | set(dir(rna_type))  # RNA and Python-defined
    assert set(names) <= real, set(names) - real
    return mock.Mock(spec_set=names)


def _context() -> types.SimpleNamespace:
    wm = _spec(bpy.types.WindowManager, ["event_timer_add", "event_timer_remove", "modal_handler_add",
                                         "progress_begin", "progress_update", "progress_end"])
    workspace = _spec(bpy.types.WorkSpace, ["status_text_set"])
    return types.SimpleNamespace(window_manager=wm, workspace=workspace, window=None)


def test_stop_ends_only_the_progress_bar_it_started(pkg):
    modal = importlib.import_module(f"{pkg.__name__}.operators.modal")
    operator = object()
    for progress_bar in (False, True):
        context = _context()
        ui = modal.ModalUI()
        ui.start(operator, context, progress_bar=progress_bar)
        ui.show(context, "Mocap: working", 0.5)
        ui.stop(context)
        ui.stop(context)  # twice is safe: nothing is removed or ended again
        wm = context.window_manager
        wm.event_timer_add.assert_called_once_with(modal.TIMER_STEP, window=None)
        wm.event_timer_remove.assert_called_once()
        wm.modal_handler_add.assert_called_once_with(operator)
        assert wm.progress_begin.call_count == wm.progress_end.call_count == int(progress_bar)
        assert wm.progress_update.call_count == int(progress_bar)
        context.workspace.status_text_set.assert_any_call("Mocap: working - Esc to cancel")
        assert context.workspace.status_text_set.call_args.args == (None,)


def test_a_loop_that_never_started_a_timer_removes_none(pkg):
    modal = importlib.import_module(f"{pkg.__name__}.operators.modal")
    context = _context()
    modal.ModalUI().stop(context)  # the synchronous path: only the status text is cleared
    context.window_manager.event_timer_remove.assert_not_called()
    context.window_manager.progress_end.assert_not_called()
