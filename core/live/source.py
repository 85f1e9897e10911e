"""The live source: a decode thread that keeps only the newest frame.

A camera index (``0``), a device path (``/dev/video0``), a network stream
(``udp://``, ``rtsp://``, ``http://``: whatever OpenCV's FFmpeg opens) or a
video file. A camera or stream is read as fast as it delivers; the pose stage
takes the newest frame and every frame it never took is dropped and counted,
so latency never builds up. A file is read either at its own frame rate
(``realtime``: rehearsal, tests and the bench; late frames are dropped the
same way) or frame by frame as fast as the pose stage takes them (no drops).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MocapError

STREAM_PREFIXES = ("udp://", "rtsp://", "rtmp://", "http://", "https://", "tcp://", "srt://")


class Newest:
    """A one-item handoff between two threads that keeps only the newest item.

    ``put`` replaces an item not taken yet (counted in ``dropped``) or, when
    ``lossless``, waits until it was taken; ``take`` waits for an item.
    ``close`` wakes both sides; after it ``take`` gives what is left, then None.
    """

    def __init__(self, lossless: bool = False) -> None:
        self.lossless = lossless
        self.dropped = self.count = 0
        self.closed = False
        self._item: Any = None
        self._cond = threading.Condition()

    def put(self, item: Any) -> None:
        with self._cond:
            while self.lossless and self._item is not None and not self.closed:
                self._cond.wait(0.1)
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self.count += 1
            self._cond.notify_all()

    def take(self, timeout: float = 0.5) -> Any:
        """The newest item not taken yet, waiting up to ``timeout`` s; None if none came."""
        with self._cond:
            if self._item is None and not self.closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            self._cond.notify_all()
            return item

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


@dataclass(frozen=True)
class SourceFrame:
    """One decoded frame.

    Attributes:
        index: the source's frame counter, from 0 (a file: its frame index).
        time: seconds on the source's clock (a file: index / fps; a camera: since the first frame, on the
            monotonic clock: it never steps back).
        captured: wall-clock seconds (``time.time()``) when it was read: the glass time.
        rgb: (H, W, 3) uint8, downscaled to the source's ``max_side``.
        decode_ms: milliseconds reading, decoding and downscaling it took.
    """

    index: int
    time: float
    captured: float
    rgb: np.ndarray
    decode_ms: float = 0.0


def describe(source: str) -> str:
    """What kind of source ``source`` names: "camera", "stream" or "file"."""
    if source.isdigit():
        return "camera"
    if source.lower().startswith(STREAM_PREFIXES) or source.startswith("/dev/"):
        return "stream"
    return "file"


class LiveSource:
    """Decodes ``source`` in a thread; :meth:`take` gives the newest frame not taken yet.

    Attributes (read any time): ``decoded`` frames read, ``dropped`` frames
    replaced by a newer one before the pose stage took them, ``ended`` once
    the source has no more frames, ``fps`` its frame rate (0 when unknown),
    ``size`` (width, height) of the frames given (after downscaling).
    """

    def __init__(self, source: str, *, realtime: bool = False, max_side: int = 640,
                 max_frames: int | None = None) -> None:
        import cv2

        self.kind = describe(source)
        self.source = source
        if self.kind == "file" and not Path(source).is_file():
            raise MocapError(f"live source not found: {source}. Give a camera index (0), a device path, "
                             "a stream URL (udp://, rtsp://, http://) or a video file")
        self._cap = cv2.VideoCapture(int(source) if self.kind == "camera" else source)
        if not self._cap.isOpened():
            raise MocapError(f"cannot open the live source {source}: "
                             + ("is the camera connected and not in use by another program?" if self.kind == "camera"
                                else "OpenCV's FFmpeg cannot read it"))
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if not 0.0 < self.fps < 1000.0:
            self.fps = 0.0
        self.realtime = realtime
        self.lossless = self.kind == "file" and not realtime
        self.max_side = max_side
        self.max_frames = max_frames
        self.size = (0, 0)
        self.error: str | None = None
        self._frames = Newest(lossless=self.lossless)
        self._last = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-decode", daemon=True)

    def start(self) -> LiveSource:
        self._thread.start()
        return self

    def _shrink(self, bgr: np.ndarray) -> np.ndarray:
        import cv2

        h, w = bgr.shape[:2]
        if self.max_side and max(h, w) > self.max_side:
            f = self.max_side / max(h, w)
            bgr = cv2.resize(bgr, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def _run(self) -> None:
        start = time.monotonic()  # the source's clock: never steps back (the wall clock may, set by NTP)
        index = 0
        try:
            while not self._stop.is_set() and (self.max_frames is None or index < self.max_frames):
                if self.realtime and self.fps > 0:  # a file at its own rate: frame i is shown at start + i / fps
                    wait = start + index / self.fps - time.monotonic()
                    if wait > 0 and self._stop.wait(wait):
                        break
                began = time.perf_counter()
                ok, bgr = self._cap.read()
                if not ok or bgr is None:
                    if self.kind != "file":  # a file ends; a camera or stream that stops was cut off
                        self.error = (f"the {self.kind} {self.source} stopped delivering frames after {index}: "
                                      + ("is it still connected?" if self.kind == "camera" else "did it end or drop?"))
                    break
                now, captured = time.monotonic(), time.time()
                frame_time = index / self.fps if self.kind == "file" and self.fps > 0 else now - start
                rgb = self._shrink(bgr)
                self.size = (rgb.shape[1], rgb.shape[0])
                self._last = now
                # captured: the wall clock, as the receiver's (the same machine's) latency figure needs
                self._frames.put(SourceFrame(index, frame_time, captured, rgb,
                                             1000.0 * (time.perf_counter() - began)))
                index += 1
        except Exception as exc:  # noqa: BLE001 - a decoder fault ends the source; the session reports it
            self.error = f"the live source stopped: {exc}"
        finally:
            self._cap.release()
            self._frames.close()

    @property
    def decoded(self) -> int:
        return self._frames.count

    @property
    def dropped(self) -> int:
        return self._frames.dropped

    @property
    def ended(self) -> bool:
        return self._frames.closed

    @property
    def last_frame_at(self) -> float:
        """Monotonic seconds when the last frame was decoded (the start before the first)."""
        return self._last

    def take(self, timeout: float = 0.5) -> SourceFrame | None:
        """The newest frame not taken yet, waiting up to ``timeout`` s; None if none came (see ``ended``)."""
        return self._frames.take(timeout)

    def close(self) -> None:
        """Stop the decode thread (the capture is released by it)."""
        self._stop.set()
        self._frames.close()
        self._thread.join(timeout=2.0)
