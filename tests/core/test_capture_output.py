"""A capture checks where it will write before it decodes a frame (issue 17's weak spots).

Before, `--out take.blend` captured for minutes and wrote an npz named .blend,
and a folder or an unwritable place failed only after the whole capture.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.capture import check_output
from core.errors import MocapError
from test_cli import ROOT, events_of, run_engine
from unprivileged import error_as_nobody, needs_root, shared_folder  # noqa: F401 - a fixture


@pytest.mark.parametrize("name, message", [
    ("take.blend", r"writes a motion file \(\.npz\).*headless\.py"),
    ("folder", "is a folder"),
])
def test_a_wrong_out_fails_before_any_frame_is_decoded(short_clip: Path, tmp_path: Path, name: str,
                                                       message: str) -> None:
    out = tmp_path / name
    if name == "folder":
        out.mkdir()
    proc = run_engine("capture", str(short_clip), "--out", str(out), "--progress", "json")
    assert proc.returncode == 1
    errors = [e["message"] for e in events_of(proc) if e["event"] == "error"]
    assert len(errors) == 1 and re.search(message, errors[0]), errors
    assert not [e for e in events_of(proc) if e["event"] == "stage"], "it started working first"
    assert sorted(p.name for p in tmp_path.iterdir()) == (["folder"] if name == "folder" else [])


def test_missing_folders_below_a_writable_one_are_fine(tmp_path: Path) -> None:
    assert check_output(tmp_path / "a" / "b" / "take.NPZ") == tmp_path / "a" / "b" / "take.NPZ"


@needs_root
def test_an_unwritable_folder_is_refused_as_the_user_meets_it(shared_folder: Path) -> None:
    locked = shared_folder / "locked"
    locked.mkdir(mode=0o555)
    message = error_as_nobody(lambda: check_output(locked / "sub" / "take.npz"), MocapError)
    assert "not a folder you can write to" in message and str(locked) in message, message


def test_a_cancel_while_writing_leaves_no_file(short_clip: Path, tmp_path: Path) -> None:
    """Issue 17, bug 7: a cancel that arrives once the file is being written still cancels."""
    from core.capture import CaptureSettings, capture
    from core.errors import CancelledError

    stages: list[str] = []

    def emit(event: dict) -> None:
        if event["event"] == "stage":
            stages.append(event["stage"])

    out = tmp_path / "take.npz"
    with pytest.raises(CancelledError, match="no motion file"):
        capture(short_clip, out, CaptureSettings(max_frames=6), emit=emit,
                should_cancel=lambda: bool(stages) and stages[-1] == "writing")
    assert stages[-1] == "writing" and list(tmp_path.iterdir()) == []


def test_info_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """`python -m core info X.npz | head -1` printed a BrokenPipeError traceback in about half the runs."""
    import subprocess
    import sys

    from core.motion import write_motion
    from test_motion import make_motion

    motion = make_motion(4)
    motion.quality = {f"figure_{i}": float(i) for i in range(2000)}  # more than a pipe holds
    take = write_motion(tmp_path / "take.npz", motion)
    proc = subprocess.Popen([sys.executable, "-m", "core", "info", str(take)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line is written
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
