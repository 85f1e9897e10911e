"""Overlapping a capture's stages: work that runs in a thread of its own beside the pose model and the fit.

The pose model is the capture's long stage and does not keep two cores busy (its networks
are small; much of a frame's time is Python and single-threaded ops), and the fit runs
on one CPU thread (``core.fit.optimize.solver.one_cpu_thread``). Beside them, each in one thread:

- :class:`ReadAhead`: the video is decoded (and downscaled) a few frames ahead, so the
  pose model never waits for the decoder;
- :class:`Background`: a job that needs no fitted body runs while the frames are posed
  (:func:`warm_up`: the later stages' imports) or while the body is fitted
  (:func:`scene_lines_of`: the scene's vertical lines); its result is collected when needed.

:class:`Stages` owns a capture's threads and keeps its promises: a cancel or an error in
any thread stops every thread (joined, none left running) and reaches the caller as the
same ``MocapError`` / ``CancelledError`` the sequential run raises, so the CLI and the
add-on see no difference. Results do not depend on the threads: each thread does what
the sequential run did, on its own data, so the take is the same to the bit
(``tests/core/test_pipeline.py``). The fit itself cannot start before the last frame is
posed: it solves the whole clip as one batch (its temporal terms, one shape).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

import numpy as np

from .gravity import FrameSampler, Gravity
from .gravity.take import scene_lines
from .landmarks import PoseSequence

T = TypeVar("T")

READ_AHEAD_FRAMES = 8
"""Frames decoded ahead of the pose model: enough to ride out a slow frame of either,
few enough that memory stays small (8 frames of 960 x 540 RGB: 12 MB)."""

CHUNK_AHEAD_LIMIT = 64
"""Most frames :func:`frames_ahead` adds for a consumer's chunk (about 100 MB of 960 x 540 RGB): a GPU
batch of the torch backend takes thousands of frames at once, and those it holds itself."""

_END = object()


def frames_ahead(chunk: int = 1) -> int:
    """How far to decode ahead of a pose model that takes ``chunk`` frames before it works on them (the
    torch backend: ``batch_size * segment_frames``, 32 on a CPU; MediaPipe: 1).

    ``READ_AHEAD_FRAMES`` beyond the chunk: with only 8 ahead of a 32-frame chunk, the model waited for
    24 frames to be decoded before each chunk, while the decoder waited for the model: three quarters of
    the decoding stayed on the capture's path, and the overlapped capture took as long as the sequential one.
    """
    return min(max(chunk, 1), CHUNK_AHEAD_LIMIT) + READ_AHEAD_FRAMES


def put_unless(into: queue.Queue, item: object, stop: threading.Event) -> bool:
    """Put ``item`` into the bounded queue ``into``, waiting while it is full, unless ``stop`` is set
    (checked every 50 ms): True once put, False when stopped."""
    while not stop.is_set():
        try:
            into.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


class ReadAhead(Generic[T]):
    """Iterate ``items`` in a thread of its own, ``depth`` items ahead of the consumer.

    Use as a context manager around the iteration: leaving the block (normally, on an
    error or a cancel of the consumer) stops the producer and joins its thread. An
    exception of the producer (a decoding error, its own CancelledError) is raised in the
    consumer at the item where it happened, so errors arrive in the order of the sequential run.
    """

    def __init__(self, items: Iterable[T], depth: int = READ_AHEAD_FRAMES, name: str = "read-ahead") -> None:
        self._items = items
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)
        self._started = False

    def _put(self, item: object) -> bool:
        """Put ``item`` unless asked to stop; False when stopped."""
        return put_unless(self._queue, item, self._stop)

    def _produce(self) -> None:
        iterator = iter(self._items)
        try:
            for item in iterator:
                if not self._put((item, None)):
                    break
            else:
                self._put((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            self._put((_END, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # a generator's own clean-up (the video file) runs in its thread

    def __enter__(self) -> ReadAhead[T]:
        self._thread.start()
        self._started = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the producer and wait for its thread (it stops within one item)."""
        self._stop.set()
        if self._started:
            self._thread.join()

    def __iter__(self) -> Iterator[T]:
        if not self._started:
            raise RuntimeError("ReadAhead is iterated inside its with block")
        while True:
            item, error = self._queue.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item


class Background(Generic[T]):
    """``job()`` run in a thread of its own from construction; :meth:`result` waits for it.

    The job's exception (MocapError, CancelledError, anything) is raised by :meth:`result`
    in the caller's thread. :meth:`result` (or :meth:`wait`) must be called on every path,
    so the thread is always joined: use it as a context manager when the caller may leave
    early (an error of its own): leaving the block waits for the job.
    """

    def __init__(self, job: Callable[[], T], name: str = "background", *, thread: bool = True) -> None:
        self._job = job
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True) if thread else None
        if self._thread is not None:
            self._thread.start()
        else:
            self._run()

    def _run(self) -> None:
        try:
            self._value = self._job()
        except BaseException as exc:  # raised in the caller by result()
            self._error = exc

    def __enter__(self) -> Background[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.wait()

    def wait(self) -> None:
        """Wait for the job to end, whatever it returns or raises."""
        if self._thread is not None:
            self._thread.join()

    def result(self) -> T:
        """The job's return value, once it has ended; raises what the job raised."""
        self.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


class Stages:
    """The threads of one capture: started through it, all stopped and joined when its block ends.

    ``with Stages(should_cancel) as stages:`` then ``stages.read_ahead(frames)`` and
    ``stages.background(job)``. Leaving the block by an exception (the user's cancel, an
    error in any stage) first tells every thread to stop (:meth:`should_cancel` turns
    True for their jobs), then joins them, so no thread outlives the capture and no
    thread keeps working for a capture that has failed.

    ``overlap=False`` runs everything in the caller's thread, one stage after another (the
    reference the overlapped run is tested against, and the baseline of ``bench/capture_speed.py``).
    ``beside_pose=False`` keeps only the work beside the pose model in the caller's thread (the decoding
    and :class:`WarmUp`; :func:`overlap_pays` says where that pays): the work beside the fit, which runs
    on one thread, still has a thread of its own.
    """

    def __init__(self, should_cancel: Callable[[], bool] | None = None, *, overlap: bool = True,
                 beside_pose: bool = True) -> None:
        self._user_cancel = should_cancel
        self.overlap = overlap
        self.beside_pose = overlap and beside_pose
        self._stop = threading.Event()
        self._readers: list[ReadAhead] = []
        self._jobs: list[Background] = []

    def should_cancel(self) -> bool:
        """The ``should_cancel`` of work in a thread: the user's cancel, or the capture failed elsewhere."""
        return self._stop.is_set() or (self._user_cancel is not None and self._user_cancel())

    def read_ahead(self, items: Iterable[T], depth: int = READ_AHEAD_FRAMES, name: str = "decode") -> Iterator[T]:
        """``items`` produced in a thread ``depth`` ahead (see :class:`ReadAhead`); they feed the pose model."""
        if not self.beside_pose:
            return iter(items)
        reader: ReadAhead[T] = ReadAhead(items, depth, name)
        self._readers.append(reader)
        reader.__enter__()
        return iter(reader)

    def background(self, job: Callable[[], T], name: str = "background", *, during_pose: bool = False
                   ) -> Background[T]:
        """``job()`` started now in a thread (see :class:`Background`), beside the pose model if ``during_pose``;
        run here and now where that does not overlap."""
        running = Background(job, name, thread=self.beside_pose if during_pose else self.overlap)
        self._jobs.append(running)
        return running

    def __enter__(self) -> Stages:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is not None:
            self._stop.set()
        for reader in self._readers:
            reader.close()
        for job in self._jobs:
            job.wait()


def overlap_pays(pose_device: str | None, cores: int | None = None) -> bool:
    """Whether work beside the pose model (decoding ahead, the warm-up) makes a capture faster on this machine:
    with MediaPipe Holistic (``pose_device`` None) or the torch backend on a GPU, yes; the torch backend on the
    CPU only with more than two cores (``cores``: the CPUs this process may use; None: asked).

    The torch backend runs its networks on two CPU threads whose every op waits for the slower one: on a
    2-core machine they fill both cores, and any work beside them (decoding ahead, the warm-up's imports)
    stalls every op, so the overlapped capture was slower than the stages one after another (quiet, demo
    clip: 17.8-18.8 s against 16.9-18.0 s; ``bench/capture_speed.py``). MediaPipe's graph leaves room: 1.07x
    its pose stage overlapped. Beside the fit (one thread) there is always a core free."""
    if pose_device != "cpu":  # None (MediaPipe) or a GPU
        return True
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores > 2


def overlap_for(settings: Any) -> bool:
    """:func:`overlap_pays` for a capture's settings (``core.capture.CaptureSettings``: its pose backend and
    device; the torch backend's device resolved as it will be: "auto" is CUDA where there is one)."""
    if settings.pose_backend != "torch":
        return overlap_pays(None)
    from .pose_torch.networks import resolve_device

    return overlap_pays(resolve_device(settings.device))


WARM_UP_MODULES = (".cleanup", ".fit.optimize", ".gravity.lines")
"""What the stages after the pose model import, in the order :func:`warm_up` imports them: each
small, so a cancel waits for little."""
LATE_WARM_UP_MODULE = "torch._dynamo"
"""Imported by the fit's first optimizer (``torch.optim.Optimizer.add_param_group`` is wrapped by
``torch._disable_dynamo``): about 1.2 s of CPU in a fresh engine process, one import that cannot be
stopped. Imported at the start of the pose stage, a cancel then waited for it
(``tests/core/test_cli.py``: SIGTERM to exit took 3.2-4.0 s instead of under 3 s on the loaded
bench machine), so :func:`warm_up` imports it only once ``late`` is set: half-way through the pose
stage (:class:`WarmUp`), when the frames still to pose take longer than it."""


def warm_up(should_cancel: Callable[[], bool] | None = None, late: threading.Event | None = None) -> None:
    """Import what the stages after the pose model use, while it runs: a fresh engine process
    pays for these once, and on the second core they cost the capture no time. Stops between
    two imports when ``should_cancel()`` (an import itself cannot be stopped). With ``late``,
    then waits for it (or a cancel) and imports ``LATE_WARM_UP_MODULE``."""

    def cancelled() -> bool:
        return should_cancel is not None and should_cancel()

    for name in WARM_UP_MODULES:
        if cancelled():
            return
        try:
            importlib.import_module(name, __package__)
        except ImportError:
            pass  # the stage that needs it meets the error itself, with its message
    if cancelled():
        return
    import cv2

    cv2.ximgproc.createFastLineDetector()  # the scene lines' detector (OpenCV's contrib module loads lazily)
    if late is None:
        return
    while not late.wait(0.05):
        if cancelled():
            return
    if not cancelled():
        _import_late()


def _import_late() -> None:
    with contextlib.suppress(ImportError):  # the fit meets the error itself, with its message
        importlib.import_module(LATE_WARM_UP_MODULE)


class WarmUp:
    """:func:`warm_up` run beside the pose stage of a capture (through its ``stages``): :meth:`pose_progress`
    (the pose stage's ``progress(done, total)``) starts the late import half-way; :meth:`finish` starts it
    now if it has not started, and waits for the warm-up to end (before the fit imports anything itself:
    two threads importing one package could deadlock). Without work beside the pose model, :meth:`finish` makes
    the late import itself."""

    def __init__(self, stages: Stages) -> None:
        self.late = threading.Event()
        should_cancel = self.should_cancel = stages.should_cancel
        self.beside_pose = stages.beside_pose
        late = self.late if stages.beside_pose else None  # run in this thread, it would wait for itself
        self.job = stages.background(lambda: warm_up(should_cancel, late), "warm-up", during_pose=True)

    def pose_progress(self, done: int, total: int) -> None:
        if 2 * done >= total:
            self.late.set()

    def finish(self) -> None:
        """Called once the work beside the fit has started (the scene lines): where the late import was not
        made beside the pose model, it is made here, in this thread, beside that work, instead of by the
        fit's first optimizer after it (the torch backend on 2 cores: 0.85 s of CPU at the fit's start,
        while the second core sat idle once the 0.2 s lines were found)."""
        self.late.set()
        self.job.wait()
        if not self.beside_pose and not self.should_cancel():
            _import_late()


def scene_lines_of(sampler: FrameSampler, seq: PoseSequence, K: np.ndarray) -> Callable[[], Gravity | None]:
    """The job measuring the scene lines' up direction from the pose stage's output, to run beside the fit.

    ``seq``'s image landmarks are copied now, as the motion file will hold them (NaN as 0),
    so the job reads nothing the fit may touch.
    """
    keypoints = np.nan_to_num(seq.body_2d, nan=0.0)
    frame_indices = np.array(seq.frame_indices)
    return lambda: scene_lines(sampler, keypoints, frame_indices, K)


__all__ = ["CHUNK_AHEAD_LIMIT", "LATE_WARM_UP_MODULE", "READ_AHEAD_FRAMES", "Background", "ReadAhead", "Stages", "WARM_UP_MODULES", "WarmUp",
           "frames_ahead", "overlap_for", "overlap_pays", "put_unless", "scene_lines_of", "warm_up"]
