"""The engine's fast exit (``core.cli_common.exit_now``): a normal exit's promises kept, its teardown skipped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import atexit, sys, threading, time
from pathlib import Path
from core.cli_common import exit_now

out = Path(sys.argv[1])

class Teardown:
    def __del__(self):  # run when the interpreter frees this module's globals at a normal exit
        (out / "teardown").write_text("ran")

kept = Teardown()
atexit.register(lambda: sys.stdout.write(" and the exit handler"))

def late():
    time.sleep(0.3)
    (out / "thread").write_text("finished")

threading.Thread(target=late).start()
sys.stdout.write("the last event")  # no newline, not flushed: exit_now flushes it
exit_now(int(sys.argv[2]))
"""


def run(tmp_path: Path, code: int, fast: bool = True) -> subprocess.CompletedProcess:
    script = SCRIPT if fast else SCRIPT.replace("exit_now(int(sys.argv[2]))", "sys.exit(int(sys.argv[2]))")
    return subprocess.run([sys.executable, "-c", script, str(tmp_path), str(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_exit_now_keeps_the_code_the_output_the_exit_handlers_and_waits_for_threads(tmp_path):
    proc = run(tmp_path, 130)
    assert proc.returncode == 130, proc.stderr
    assert proc.stdout == "the last event and the exit handler"
    assert (tmp_path / "thread").read_text() == "finished"  # a non-daemon thread was waited for


def test_exit_now_skips_the_interpreters_teardown_that_a_normal_exit_runs(tmp_path):
    normal = tmp_path / "normal"
    normal.mkdir()
    assert run(normal, 0, fast=False).returncode == 0
    assert (normal / "teardown").is_file()  # the reference: sys.exit frees the module's objects
    fast = tmp_path / "fast"
    fast.mkdir()
    assert run(fast, 0).returncode == 0
    assert not (fast / "teardown").exists()


def test_the_engine_command_line_exits_through_it_with_its_codes(tmp_path):
    missing = subprocess.run([sys.executable, "-m", "core", "info", str(tmp_path / "none.npz")], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 1 and "error" in missing.stderr
    usage = subprocess.run([sys.executable, "-m", "core", "capture"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert usage.returncode == 2


POOL = r"""
import sys
from concurrent.futures import ThreadPoolExecutor
from core.cli_common import exit_now

pool = ThreadPoolExecutor(max_workers=1)  # never shut down, as a library's pool may be
pool.submit(lambda: None).result()
sys.stdout.write("pool idle")
exit_now(3)
"""


def test_exit_now_ends_with_an_idle_thread_pool_that_nobody_shut_down():
    proc = subprocess.run([sys.executable, "-c", POOL], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3 and proc.stdout == "pool idle"
