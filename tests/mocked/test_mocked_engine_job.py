"""EngineJob: JSON protocol parsing, a fake engine process, cancellation."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import pytest
from conftest import import_ext

engine = import_ext("blender_mocap.engine")


@pytest.mark.parametrize("line,expected", [
    ('{"event": "stage", "stage": "pose", "message": "Finding the person"}', "stage"),
    ('{"event": "done", "out": "/x.npz", "frames": 3, "quality": {}}\n', "done"),
    ("  {\"event\": \"warning\", \"message\": \"low light\"}  ", "warning"),
])
def test_protocol_lines_are_parsed(line: str, expected: str) -> None:
    event = engine.parse_event(line)
    assert event is not None and event["event"] == expected


@pytest.mark.parametrize("line", [
    "", "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.", "{not json", "[1, 2]",
    '{"event": "unknown"}', '{"message": "no event key"}', "42",
])
def test_other_lines_are_ignored(line: str) -> None:
    assert engine.parse_event(line) is None


def test_progress_fraction_and_status() -> None:
    ev = {"event": "progress", "stage": "pose", "done": 3, "total": 60, "fraction": 0.25}
    assert engine.event_fraction(ev) == 0.25
    assert engine.describe_event(ev) == "pose: 3/60"
    no_fraction = {"event": "progress", "stage": "pose", "done": 30, "total": 60}  # the engine always sends one
    assert engine.event_fraction(no_fraction) is None
    assert engine.event_fraction({"event": "stage", "stage": "pose"}) is None


FAKE_ENGINE = """
import json, sys, time
print("some library chatter")
for i in range(3):
    print(json.dumps({"event": "progress", "stage": "pose", "done": i + 1, "total": 3, "fraction": (i + 1) / 3}))
print(json.dumps({"event": "warning", "message": "frame 2: no person found"}))
print("Traceback-looking noise on stderr", file=sys.stderr)
print(json.dumps({"event": "done", "out": "x.npz", "frames": 3, "quality": {"q": 1.0}}))
"""


def _collect(job: Any, timeout: float = 20.0) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not job.finished:
        assert time.monotonic() < deadline, "fake engine did not finish"
        events += job.poll()
        time.sleep(0.02)
    return events + job.poll()


def test_job_reads_events_in_order(tmp_path: Any) -> None:
    job = engine.EngineJob([sys.executable, "-c", FAKE_ENGINE], cwd=tmp_path)
    events = _collect(job)
    assert [e["event"] for e in events] == ["progress"] * 3 + ["warning", "done"]
    assert job.returncode == 0
    assert "noise on stderr" in job.stderr_tail()


def test_failed_job_reports_the_last_stderr_line(tmp_path: Any) -> None:
    code = ("import json,sys; print(json.dumps({'event':'error','message':'no person found'}));"
            "print('MocapError: no person found', file=sys.stderr); sys.exit(1)")
    job = engine.EngineJob([sys.executable, "-c", code], cwd=tmp_path)
    events = _collect(job)
    assert events == [{"event": "error", "message": "no person found"}]
    assert job.returncode == 1
    assert job.error_message() == "The engine failed: MocapError: no person found"


def _cancel_once_running(job: Any) -> None:
    """Wait (10 s at most) for the engine's first event, then cancel it: the call must return within 3 s."""
    deadline = time.monotonic() + 10
    while not job.poll():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    start = time.monotonic()
    job.cancel()
    assert time.monotonic() - start < 3.0


def test_cancel_stops_a_running_engine_quickly(tmp_path: Any) -> None:
    code = "import json,time; print(json.dumps({'event':'stage','stage':'pose','message':'m'}), flush=True); time.sleep(60)"
    job = engine.EngineJob([sys.executable, "-c", code], cwd=tmp_path)
    _cancel_once_running(job)
    assert job.returncode is not None and job.cancelled
    job.cancel()  # idempotent


def test_cancel_kills_an_engine_that_ignores_sigterm(tmp_path: Any) -> None:
    code = ("import signal,time,json; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
            "print(json.dumps({'event':'stage','stage':'pose','message':'m'}), flush=True); time.sleep(60)")
    job = engine.EngineJob([sys.executable, "-c", code], cwd=tmp_path)
    _cancel_once_running(job)
    assert job.returncode == -9


def test_missing_python_raises_oserror(tmp_path: Any) -> None:
    with pytest.raises(OSError):
        engine.EngineJob([str(tmp_path / "no-python"), "-m", "core"], cwd=tmp_path)


def test_json_round_trip_of_every_event_kind() -> None:
    for kind in sorted(engine.EVENT_KINDS):
        assert engine.parse_event(json.dumps({"event": kind})) == {"event": kind}
