"""What the engine's commands share: exit codes, progress displays, cancellation.

Used by ``core/cli.py`` (``python -m core``) and ``core/preview/cli.py``
(``preview``); it imports neither, so both import it.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import NoReturn

from .errors import CancelledError, MocapError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


class Cancel:
    """Turns SIGTERM/SIGINT into a flag the job polls, so it stops cleanly."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, *_: object) -> None:
        self.requested = True


def display(args: argparse.Namespace) -> tuple[str, Callable[[dict], None]]:
    """(mode, event handler) for ``--progress``: a bar on a terminal, else quiet (warnings only)."""
    mode = args.progress or ("bar" if sys.stderr.isatty() else "none")
    handlers: dict[str, Callable[[dict], None]] = {"bar": ProgressBar(), "json": json_emit, "none": warnings_only}
    return mode, handlers[mode]


def run_job(job: Callable[[Callable[[], bool]], object], mode: str) -> int:
    """Run ``job(should_cancel)`` with SIGTERM/SIGINT as cancellation; returns the exit code.

    The one place the engine's commands turn MocapError and CancelledError
    into a message (stderr, and a JSON ``error`` event) and an exit code.
    """
    cancel = Cancel()
    previous = {sig: signal.signal(sig, cancel) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        job(lambda: cancel.requested)
    except CancelledError as exc:
        fail(str(exc), mode)
        return EXIT_CANCELLED
    except MocapError as exc:
        fail(str(exc), mode)
        return EXIT_FAILED
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    return EXIT_OK


class ProgressBar:
    """A one-line progress bar on stderr for terminals."""

    def __init__(self) -> None:
        self.stage = ""
        self.start = time.perf_counter()

    def __call__(self, event: dict) -> None:
        kind = event["event"]
        if kind == "stage":
            self.stage = event["stage"]
            sys.stderr.write(f"\r\033[K{event['message']}\n")
        elif kind == "progress":
            frac = event["fraction"]
            filled = int(30 * frac)
            sys.stderr.write(
                f"\r\033[K[{'#' * filled}{'.' * (30 - filled)}] {100 * frac:5.1f}% "
                f"{self.stage} {event['done']}/{event['total']}"
            )
        elif kind == "warning":
            sys.stderr.write(f"\r\033[Kwarning: {event['message']}\n")
        elif kind == "done":
            sys.stderr.write(
                f"\r\033[Kdone: {event['frames']} frames in {time.perf_counter() - self.start:.1f} s -> {event['out']}\n"
            )
        sys.stderr.flush()


def warnings_only(event: dict) -> None:
    """The quiet display (``--progress none``): only warnings, on stderr."""
    if event["event"] == "warning":
        sys.stderr.write(f"warning: {event['message']}\n")


def json_emit(event: dict) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def fail(message: str, mode: str) -> None:
    """Report a failure: on stderr, and as a JSON ``error`` event in json mode."""
    if mode == "json":
        json_emit({"event": "error", "message": message})
    sys.stderr.write(f"error: {message}\n")


def exit_now(code: int) -> NoReturn:
    """End the engine process with exit ``code``, skipping the interpreter's teardown of its modules.

    An engine command's work is done when it returns: its threads are joined (``core.pipeline.Stages``),
    its files written atomically. What Python would still do, freeing torch's, MediaPipe's and OpenCV's
    modules one by one, took seconds after the motion file was written (``import torch`` then exit:
    0.9-1.2 s at load 8; the demo's capture, from its "writing" event to the process's end: 2.2-2.6 s
    at load 10, 0.13-0.18 s with this exit), and the add-on and the batch wait for the process to end.
    What a normal exit does that matters is kept, in its order: threading's own exit hooks (an idle
    ``ThreadPoolExecutor``'s workers are told to stop there: joined before that, they never end) and the
    wait for threads that are not daemons (``threading._shutdown``, which the interpreter calls first),
    the exit handlers (``atexit``), and stdout and stderr flushed (a reader that has gone away, ``| head``,
    is not an error). Both calls are CPython's private API, stable since 3.9 and used as the interpreter does."""
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
            pass
    os._exit(code)
