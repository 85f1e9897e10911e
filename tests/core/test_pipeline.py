"""The overlapped capture (issue 19 part 4): the same take as the stages run one after another,
and a cancel or an error in any thread still stops everything, leaves no file and no thread."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core.capture import CaptureSettings, capture
from core.errors import CancelledError, MocapError
from core.pipeline import ReadAhead, Stages

FRAMES = 10


def live_threads() -> set[threading.Thread]:
    return set(threading.enumerate())


def test_the_overlapped_capture_writes_the_take_the_sequential_one_does(short_clip: Path, tmp_path: Path) -> None:
    before = live_threads()
    settings = CaptureSettings(max_frames=FRAMES)
    seen: dict[bool, list[str]] = {True: [], False: []}
    takes = {overlap: capture(short_clip, tmp_path / f"{overlap}.npz", settings, overlap=overlap,
                              emit=lambda e, o=overlap: seen[o].append(e["event"] + ":" + e.get("stage", "")))
             for overlap in (True, False)}
    a, b = takes[True], takes[False]
    assert a.num_frames == FRAMES
    for name in ("poses", "trans", "betas", "confidence", "bridged", "reprojection_error", "keypoints_2d",
                 "world_up", "expression"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.up_source == b.up_source and a.quality == b.quality
    # The same stages reach the add-on and the batch, in the same order (progress events are throttled in time).
    assert [e for e in seen[True] if not e.startswith("progress")] == \
        [e for e in seen[False] if not e.startswith("progress")]
    assert live_threads() == before


def test_a_cancel_while_frames_are_posed_stops_every_thread(short_clip: Path, tmp_path: Path) -> None:
    before = live_threads()
    posed: list[int] = []

    def emit(event: dict) -> None:
        if event["event"] == "progress" and event["stage"] == "pose":
            posed.append(event["done"])

    out = tmp_path / "take.npz"
    with pytest.raises(CancelledError):
        capture(short_clip, out, CaptureSettings(max_frames=40), emit=emit, should_cancel=lambda: bool(posed))
    assert posed and posed[-1] < 40, "it was not cancelled mid-pose"
    assert list(tmp_path.iterdir()) == []
    assert live_threads() == before


def test_a_decoding_error_in_its_thread_reaches_the_user_as_his_message(
        short_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.pose_stage

    real = core.pose_stage.iter_frames

    def failing(*args, **kwargs) -> Iterator[tuple[int, np.ndarray]]:
        for count, item in enumerate(real(*args, **kwargs)):
            if count == 5:
                raise MocapError("frame 35 could not be decoded: the file is damaged there")
            yield item

    monkeypatch.setattr(core.pose_stage, "iter_frames", failing)
    before = live_threads()
    with pytest.raises(MocapError, match="frame 35 could not be decoded"):
        capture(short_clip, tmp_path / "take.npz", CaptureSettings(max_frames=FRAMES))
    assert list(tmp_path.iterdir()) == []
    assert live_threads() == before


def test_an_error_beside_the_fit_reaches_the_user(
        short_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scene lines run in a thread while the body is fitted; their error is the capture's."""
    import core.pipeline

    def broken(*args, **kwargs):
        raise MocapError("the scene lines could not be measured")

    monkeypatch.setattr(core.pipeline, "scene_lines", broken)
    before = live_threads()
    with pytest.raises(MocapError, match="scene lines could not be measured"):
        capture(short_clip, tmp_path / "take.npz", CaptureSettings(max_frames=FRAMES))
    assert list(tmp_path.iterdir()) == []
    assert live_threads() == before


def test_read_ahead_keeps_the_order_and_raises_the_producers_error_at_its_item() -> None:
    def produce() -> Iterator[int]:
        yield from range(5)
        raise MocapError("broken at 5")

    got: list[int] = []
    with ReadAhead(produce(), depth=2) as ahead:
        with pytest.raises(MocapError, match="broken at 5"):
            for item in ahead:
                got.append(item)
    assert got == [0, 1, 2, 3, 4]


def test_a_consumer_that_stops_early_stops_the_producer() -> None:
    produced: list[int] = []
    closed = threading.Event()

    def produce() -> Iterator[int]:
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    before = live_threads()
    with ReadAhead(produce(), depth=3) as ahead:
        for item in ahead:
            if item == 2:
                break
    assert closed.is_set() and len(produced) <= 3 + 3 + 1  # taken, queued, one in hand
    assert live_threads() == before


def test_stages_tell_their_jobs_to_stop_when_the_capture_fails() -> None:
    stopped = threading.Event()
    before = live_threads()
    with pytest.raises(MocapError, match="pose failed"):
        with Stages() as stages:
            def job() -> None:
                while not stages.should_cancel():
                    time.sleep(0.01)
                stopped.set()

            stages.background(job)
            raise MocapError("pose failed")
    assert stopped.is_set() and live_threads() == before


def test_without_overlap_everything_runs_in_the_callers_thread() -> None:
    here = threading.current_thread()

    def where() -> Iterator[threading.Thread]:
        yield threading.current_thread()

    with Stages(overlap=False) as stages:
        job = stages.background(threading.current_thread)
        items = list(stages.read_ahead(where()))
    assert job.result() is here and items == [here]
    with Stages() as stages:
        job = stages.background(threading.current_thread)
        items = list(stages.read_ahead(where()))
    assert job.result() is not here and items[0] is not here


def test_the_torch_backends_overlapped_take_is_the_sequential_one(short_clip: Path, tmp_path: Path) -> None:
    """The torch backend takes frames a chunk (32) at a time: decoded a whole chunk ahead beside the pose
    model, with torch's compiler imported beside it from half-way, its take is still the sequential one."""
    pytest.importorskip("torch")
    settings = CaptureSettings(max_frames=40, pose_backend="torch")
    a, b = (capture(short_clip, tmp_path / f"{o}.npz", settings, overlap=o) for o in (True, False))
    for name in ("poses", "trans", "betas", "keypoints_2d", "confidence"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_a_capture_overlaps_its_stages_only_where_that_pays(short_clip: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """On a 2-core CPU the torch backend's two threads fill both cores: decoding beside them made the capture
    slower than the stages one after another, so a capture there runs them in turn; MediaPipe, a GPU or more
    cores overlap."""
    import core.capture
    from core.pipeline import overlap_for, overlap_pays

    assert overlap_pays(None, cores=2) and overlap_pays("cuda", cores=2) and overlap_pays("cpu", cores=4)
    assert not overlap_pays("cpu", cores=2) and not overlap_pays("cpu", cores=1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert overlap_for(CaptureSettings()) and not overlap_for(CaptureSettings(pose_backend="torch", device="cpu"))

    chosen: list[bool] = []

    class Recorded(Stages):
        def __init__(self, should_cancel=None, *, overlap: bool = True, beside_pose: bool = True) -> None:
            chosen.append((overlap, beside_pose))
            raise MocapError("stopped here")

    monkeypatch.setattr(core.capture, "Stages", Recorded)
    for backend in ("torch", "mediapipe"):
        with pytest.raises(MocapError, match="stopped here"):
            capture(short_clip, tmp_path / "x.npz", CaptureSettings(pose_backend=backend, device="cpu"))
    assert chosen == [(True, False), (True, True)]  # the scene lines beside the fit (one thread) in both

    here = threading.current_thread()
    with Stages(overlap=True, beside_pose=False) as stages:
        during = stages.background(threading.current_thread, during_pose=True)
        after = stages.background(threading.current_thread)
        items = list(stages.read_ahead(iter([1])))
    assert during.result() is here and after.result() is not here and items == [1]


LATE_IMPORT_BESIDE_THE_LINES = r"""
import sys, threading, time
from core.pipeline import LATE_WARM_UP_MODULE, Stages, WarmUp

assert LATE_WARM_UP_MODULE not in sys.modules
main = threading.current_thread()
with Stages(overlap=True, beside_pose=False) as stages:
    warm = WarmUp(stages)  # runs here: the pose model has the cores

    def lines():  # stands in for the scene lines: waits (at most 60 s) to see the import made meanwhile
        end = time.monotonic() + 60
        while LATE_WARM_UP_MODULE not in sys.modules and time.monotonic() < end:
            time.sleep(0.01)
        return LATE_WARM_UP_MODULE in sys.modules, threading.current_thread() is not main

    job = stages.background(lines, "scene lines")
    warm.finish()
    print(job.result())
"""


def test_without_work_beside_the_pose_model_the_late_import_runs_beside_the_scene_lines() -> None:
    """The torch backend on 2 cores: torch's compiler (0.85 s of CPU, imported by the fit's first optimizer)
    is imported while the scene lines are found in their thread, not after them at the fit's start."""
    import subprocess
    import sys

    pytest.importorskip("torch")
    proc = subprocess.run([sys.executable, "-c", LATE_IMPORT_BESIDE_THE_LINES], cwd=Path(__file__).parents[2],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "(True, True)"


def test_the_torch_backends_take_on_two_cores_is_the_sequential_one(short_clip: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The capture as a user runs it on a 2-core CPU runs its stages in turn (the late import beside the
    lines), and its take is the overlapped capture's to the bit."""
    pytest.importorskip("torch")
    from core.pipeline import overlap_for

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    settings = CaptureSettings(max_frames=12, pose_backend="torch", device="cpu")
    assert overlap_for(settings) is False
    a, b = (capture(short_clip, tmp_path / f"{o}.npz", settings, overlap=o) for o in (None, True))
    for name in ("poses", "trans", "betas", "keypoints_2d", "confidence", "world_up"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
