"""Run the engine as a subprocess and read its JSON progress lines.

Standard library only (no bpy): the capture operator drives an
:class:`EngineJob` from Blender's main thread, and tests drive it from plain
Python. The engine's protocol (one JSON object per stdout line) is in the
README's "Progress protocol": ``stage``, ``progress`` (always with the overall
``fraction``), ``warning``, ``error``, ``done`` events; anything else on
stdout is ignored. :func:`run_engine` is the synchronous runner of the batch.

Threading: one daemon thread per job reads stdout into a ``queue.Queue`` and a
second one keeps the tail of stderr. Neither touches bpy; the owner calls
:meth:`EngineJob.poll` on its own thread to take the parsed events.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from ..core.errors import CancelledError, MocapError
from ..core import options
from ..core.options import Body, Device, FootLock, Gender, People, PoseBackend, Preset

EXTENSION_ROOT = Path(__file__).resolve().parent.parent
"""The extension root (holds core/): the engine runs with this as its cwd."""

EVENT_KINDS = frozenset({"stage", "progress", "warning", "error", "done"})

STDERR_TAIL_LINES = 40


@dataclass(frozen=True, kw_only=True)
class CaptureRequest:
    """One capture the add-on asks the engine for, copied from the scene properties.

    Not the engine's own ``core.capture.CaptureSettings``: these are the
    option values as the engine's command line takes them (see
    ``core/options.py``, where each is declared); None leaves an option to
    the engine.

    Attributes:
        video: absolute path of the input video.
        output_dir: folder the motion file is copied to when the take is built.
        start: first video frame (0-based) to process.
        end: the frame after the last one to process (exclusive; the panel
            shows the last frame kept); None = to the end of the video.
        stride: keep every ``stride``-th frame (None: the preset's).
        max_frames: stop after this many processed frames; None = no limit.
        fov: horizontal field of view in degrees; None = the engine's choice (from
            the video's metadata when it records a focal length, else 60).
        body: body model, "auto" (SMPL-X when the folder holds the gender's
            file, else the mannequin), "mannequin" or "smplx".
        smplx_dir: the user's SMPL-X model folder; None = the engine's own
            fallback (``BLENDER_MOCAP_SMPLX_DIR``).
        gender: "neutral", "male" or "female" (which SMPL-X file).
        preset: fitting effort, "fast", "balanced" or "accurate".
        device: "auto", "cpu" or "cuda".
        pose_backend: "mediapipe" or "torch".
        person: who to follow, "X,Y" or "X,Y@FRAME" (a pixel of the video on
            them); None = MediaPipe's own tracking.
        people: "one" or "all" (everyone, one motion file each: ``core.people``).
        foot_lock: "auto", "always" or "off" (planted heels and toes).
        smoothing, smoothing_hands, smoothing_face: jitter filter strength,
            0 (off) to 1, for the body and root, the fingers, the face.
        camera_pitch, camera_roll: the camera's known tilt in degrees (pitch
            positive looking down, roll positive clockwise seen from behind);
            None = estimated by the engine.
        level_camera: assume a level camera instead of estimating the up direction.
    """

    video: str
    output_dir: str
    start: int | None = None
    end: int | None = None
    stride: int | None = None
    max_frames: int | None = None
    fov: float | None = None
    body: Body | None = None
    smplx_dir: str | None = None
    gender: Gender | None = None
    preset: Preset | None = None
    device: Device | None = None
    pose_backend: PoseBackend | None = None
    person: str | None = None
    people: People | None = None
    foot_lock: FootLock | None = None
    smoothing: float | None = None
    smoothing_hands: float | None = None
    smoothing_face: float | None = None
    camera_pitch: float | None = None
    camera_roll: float | None = None
    level_camera: bool | None = None

    def cli_args(self) -> list[str]:
        """The engine's optional arguments for this request (defaults left out)."""
        return options.engine_args(asdict(self))


def engine_command(python: str | os.PathLike[str], video: str | os.PathLike[str], out: str | os.PathLike[str],
                   args: Iterable[str] = ()) -> list[str]:
    """The engine command line for one capture with JSON progress on stdout."""
    return [str(python), "-m", "core", "capture", str(video), "--out", str(out), "--progress", "json", *args]


def capture_command(python: str | os.PathLike[str], request: CaptureRequest, out: str | os.PathLike[str]) -> list[str]:
    """The engine command line for ``request``."""
    return engine_command(python, request.video, out, request.cli_args())


def parse_event(line: str, kinds: frozenset[str] = EVENT_KINDS) -> dict[str, Any] | None:
    """One engine stdout line -> event dict, or None for anything else.

    Lines that are not a JSON object with an ``"event"`` in ``kinds`` are
    ignored: libraries the engine uses print to stdout too.
    """
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if not isinstance(value, dict) or value.get("event") not in kinds:
        return None
    return value


class EngineJob:
    """One engine subprocess and the events it has reported so far.

    Args:
        command: the full command line (see :func:`capture_command`).
        cwd: working directory; the extension root so ``-m core`` resolves.
        env: environment overrides added to ``os.environ``.
    """

    def __init__(
        self,
        command: list[str],
        *,
        cwd: str | os.PathLike[str] = EXTENSION_ROOT,
        env: dict[str, str] | None = None,
        kinds: frozenset[str] = EVENT_KINDS,
    ) -> None:
        self.command = list(command)
        self.kinds = kinds
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        full_env = dict(os.environ)
        full_env["PYTHONUNBUFFERED"] = "1"  # progress lines must arrive as they are printed
        if env:
            full_env.update(env)
        # Raises OSError (e.g. FileNotFoundError) when the python cannot start.
        self._proc = subprocess.Popen(
            self.command,
            cwd=str(cwd),
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        self._readers = [
            threading.Thread(target=self._read_stdout, args=(self._proc.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(self._proc.stderr,), daemon=True),
        ]
        for thread in self._readers:
            thread.start()
        self.cancelled = False

    # -- reader threads (never touch bpy) --------------------------------
    def _read_stdout(self, stream: IO[str]) -> None:
        for line in stream:
            event = parse_event(line, self.kinds)
            if event is not None:
                self._events.put(event)
        stream.close()

    def _read_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            self._stderr.append(line.rstrip("\n"))
        stream.close()

    # -- owner's API ------------------------------------------------------
    @property
    def pid(self) -> int:
        return self._proc.pid

    def poll(self) -> list[dict[str, Any]]:
        """Events received since the last call, oldest first (never blocks)."""
        events: list[dict[str, Any]] = []
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                return events

    @property
    def returncode(self) -> int | None:
        """The exit code, or None while the engine runs."""
        return self._proc.poll()

    @property
    def finished(self) -> bool:
        """The process exited and every line it printed has been read."""
        return self._proc.poll() is not None and not any(t.is_alive() for t in self._readers)

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the process and its readers; returns the exit code."""
        code = self._proc.wait(timeout)
        for thread in self._readers:
            thread.join(timeout)
        return code

    def stderr_tail(self) -> str:
        """The last lines the engine wrote to stderr."""
        return "\n".join(self._stderr)

    def error_message(self) -> str:
        """A message for the user about a failed run (exit code != 0)."""
        code = self._proc.poll()
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = (" (the system ran out of memory?)" if -code == signal.SIGKILL
                    else "")
            return (f"The engine stopped unexpectedly: it was killed by {name}{hint}. Nothing was "
                    "changed. Try again with a shorter frame range, a larger stride or the fast preset.")
        lines = [line for line in self._stderr if line.strip()]
        errors = [line for line in lines if line.startswith("error:")]
        detail = (errors or lines or [f"exit code {code}"])[-1].strip()
        return f"The engine failed: {detail}"

    def cancel(self) -> None:
        """Stop the engine: terminate, wait up to 1 s, then kill. Idempotent."""
        self.cancelled = True
        if self._proc.poll() is None:
            try:
                self._proc.terminate()  # SIGTERM: the engine exits with 130
                self._proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            except OSError:
                pass  # already gone
        for thread in self._readers:
            thread.join(timeout=1.0)


def event_fraction(event: dict[str, Any]) -> float | None:
    """Overall progress 0..1 from a ``progress`` event, or None."""
    if event.get("event") != "progress":
        return None
    fraction = event.get("fraction")
    if isinstance(fraction, (int, float)):
        return min(max(float(fraction), 0.0), 1.0)
    return None


def describe_event(event: dict[str, Any]) -> str:
    """Status-bar text for an event."""
    kind = event.get("event")
    if kind == "stage":
        return str(event.get("message") or event.get("stage", ""))
    if kind == "progress":
        stage = str(event.get("stage", ""))
        done, total = event.get("done"), event.get("total")
        if done is not None and total:
            return f"{stage}: {done}/{total}"
        return stage
    return str(event.get("message", ""))


@dataclass(kw_only=True)
class JobProgress:
    """What an engine job has reported so far, for an operator's status bar and result.

    :meth:`apply` folds the job's events in: progress only ever moves forward,
    warnings accumulate, the (last) error message and the ``done`` event are kept.
    Operators' run records inherit it (its fields are keyword-only).
    """

    fraction: float = 0.0
    status: str = "Starting the engine"
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    done_event: dict[str, Any] | None = None

    def apply(self, events: Iterable[dict[str, Any]]) -> None:
        for event in events:
            kind = event.get("event")
            if kind == "progress":
                fraction = event_fraction(event)
                if fraction is not None:
                    self.fraction = max(self.fraction, fraction)
                self.status = describe_event(event)
            elif kind == "stage":
                self.status = describe_event(event)
            elif kind == "warning":
                self.warnings.append(str(event.get("message", "")))
            elif kind == "error":
                self.error = str(event.get("message", "")) or "unknown engine error"
            elif kind == "done":
                self.done_event = event


def _print_event(stem: str, event: dict[str, Any], last_percent: list[int]) -> None:
    """Short human lines on stdout: stages, warnings and every tenth percent."""
    kind = event["event"]
    if kind == "progress":
        percent = int(100 * float(event.get("fraction", 0.0)))
        if percent >= last_percent[0] + 10:
            last_percent[0] = percent - percent % 10
            print(f"{stem}: {percent}% {describe_event(event)}", flush=True)
    elif kind in ("stage", "warning"):
        prefix = "warning: " if kind == "warning" else ""
        print(f"{stem}: {prefix}{describe_event(event)}", flush=True)


def run_engine(engine_python: str, video: str, out: Path, engine_args: list[str],
               on_event: Callable[[dict], None] | None = None,
               should_cancel: Callable[[], bool] | None = None, command: list[str] | None = None) -> Path:
    """Run one engine capture (``command``, default :func:`engine_command`'s) synchronously; returns the motion
    path (with ``--people all`` the engine writes ``blender_mocap.people.person_files`` of it instead).

    Each event but ``error`` is passed to ``on_event`` (default: short human
    lines on stdout). Raises MocapError with the engine's own message when it
    fails, CancelledError (after stopping the engine) when ``should_cancel()``.
    """
    stem = Path(video).stem
    try:
        job = EngineJob(command or engine_command(engine_python, Path(video).resolve(), out.resolve(), engine_args))
    except OSError as exc:
        raise MocapError(f"cannot start the engine with {engine_python}: {exc.strerror}") from exc
    message: str | None = None
    done: dict[str, Any] = {}
    last_percent = [-10]
    while True:
        finished = job.finished  # read before polling, so no event is left behind
        for event in job.poll():
            done = event if event["event"] == "done" else done
            if event["event"] == "error":
                message = describe_event(event)
            elif on_event is not None:
                on_event(event)
            else:
                _print_event(stem, event, last_percent)
        if finished:
            break
        if should_cancel is not None and should_cancel():
            job.cancel()
            raise CancelledError("batch cancelled; the engine was stopped")
        time.sleep(0.05)
    code = job.wait()
    if code != 0:
        raise MocapError(message or job.error_message())
    if not out.is_file() and not done.get("outs"):  # --people all writes out.person1.npz ... instead
        raise MocapError(f"the engine finished but wrote no motion file at {out}")
    return out


class CommandSequence:
    """Run commands one after another on a daemon thread (engine creation).

    The thread only starts processes and records their output; the owner
    reads :attr:`step`, :meth:`log_tail`, :attr:`done` and :attr:`error` from
    its own thread.
    """

    def __init__(self, commands: list[list[str]], *, cwd: str | os.PathLike[str] = EXTENSION_ROOT) -> None:
        self.commands = [list(c) for c in commands]
        self.cwd = str(cwd)
        self.step = 0
        self.done = False
        self.error: str | None = None
        self._log: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[str] | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for index, command in enumerate(self.commands):
                with self._lock:
                    if self._cancelled:
                        self.error = "cancelled"
                        return
                    self.step = index
                    self._log.append("$ " + " ".join(command))
                    self._proc = subprocess.Popen(
                        command, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace",
                    )
                assert self._proc.stdout is not None
                for line in self._proc.stdout:
                    self._log.append(line.rstrip("\n"))
                code = self._proc.wait()
                if code != 0:
                    last = next((ln for ln in reversed(self._log) if ln.strip()), "")
                    self.error = "cancelled" if self._cancelled else (
                        f"step {index + 1} of {len(self.commands)} failed (exit code {code}): {last}"
                    )
                    return
        except OSError as exc:
            self.error = f"could not run {self.commands[self.step][0]}: {exc}"
        finally:
            self.done = True

    def log_tail(self, lines: int = 1) -> list[str]:
        return list(self._log)[-lines:]

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                proc.kill()
        self._thread.join(timeout=2.0)


class BackgroundCall:
    """Call a plain function (no bpy!) on a daemon thread; read ``result`` when ``done``."""

    def __init__(self, fn: Any, *args: Any) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True)
        self._thread.start()

    def _run(self, fn: Any, args: tuple[Any, ...]) -> None:
        try:
            self.result = fn(*args)
        except Exception as exc:  # reported to the user by the owner
            self.error = exc
        finally:
            self.done = True

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
