"""The add-on's end of the live stream: a UDP receiver thread that keeps the newest pose. No bpy.

The engine (``python -m core live``) sends one datagram per solved frame to
the port this receiver binds on 127.0.0.1 (``core.live.protocol``). The
thread reads them as they come; the main thread (a ``bpy.app.timers``
callback) takes the newest with :meth:`LiveReceiver.take_newest`, so Blender
never waits on the network and never applies a stale pose. Malformed
datagrams and out-of-order ones (a ``seq`` not above the last accepted) are
dropped and counted, never raised. While recording, every accepted frame is
kept, in order, for the take.
"""

from __future__ import annotations

import collections
import socket
import threading
import time

from ..core.live.protocol import LiveFrame, ProtocolError, unpack

WINDOW = 90
"""Frames the latency and rate figures are taken over (about 3 s at 30 fps)."""


class LiveReceiver:
    """Receives live frames on ``127.0.0.1:port`` (``port`` 0: a free one, see :attr:`port`).

    Counters (read any time): ``received`` frames accepted, ``malformed``
    datagrams that were not a readable message, ``out_of_order`` messages older
    than one already accepted.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self.received = self.malformed = self.out_of_order = 0
        self.last_received: float | None = None  # time.monotonic() of the last frame accepted
        self.last_error = ""
        self._last_seq: int | None = None
        self._newest: LiveFrame | None = None
        self._recording: list[LiveFrame] | None = None
        self._arrivals: collections.deque[tuple[float, float]] = collections.deque(maxlen=WINDOW)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mocap-live-receiver", daemon=True)

    def start(self) -> LiveReceiver:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:  # the socket was closed under us: the receiver is stopping
                return
            self.handle(data, time.time())

    def handle(self, data: bytes, now: float) -> LiveFrame | None:
        """Accept one datagram received at wall-clock ``now``; the frame, or None when it was dropped."""
        try:
            frame = unpack(data)
        except ProtocolError as exc:
            with self._lock:
                self.malformed += 1
                self.last_error = str(exc)
            return None
        with self._lock:
            if self._last_seq is not None and frame.seq <= self._last_seq:
                self.out_of_order += 1
                return None
            self._last_seq = frame.seq
            self.received += 1
            self.last_received = time.monotonic()
            self._newest = frame
            self._arrivals.append((now, now - frame.captured))
            if self._recording is not None:
                self._recording.append(frame)
        return frame

    def take_newest(self) -> LiveFrame | None:
        """The newest frame not taken yet (None: nothing new since the last call)."""
        with self._lock:
            frame, self._newest = self._newest, None
            return frame

    def start_recording(self) -> None:
        """Keep every frame accepted from now on."""
        with self._lock:
            if self._recording is None:
                self._recording = []

    @property
    def recording(self) -> bool:
        return self._recording is not None

    def recorded_count(self) -> int:
        with self._lock:
            return len(self._recording or ())

    def stop_recording(self) -> list[LiveFrame]:
        """The frames recorded (in order), and recording off."""
        with self._lock:
            frames, self._recording = self._recording or [], None
            return frames

    def figures(self) -> tuple[float, float]:
        """(frames per second received, median glass-to-receive latency in ms) over the last frames; 0 when unknown."""
        with self._lock:
            arrivals = list(self._arrivals)
        if len(arrivals) < 2:
            return 0.0, 0.0
        span = arrivals[-1][0] - arrivals[0][0]
        fps = (len(arrivals) - 1) / span if span > 0 else 0.0
        ages = sorted(a for _, a in arrivals)
        return fps, 1000.0 * ages[len(ages) // 2]

    def close(self) -> None:
        """Stop the thread and free the port. Safe to call twice."""
        self._stop.set()
        self._sock.close()
        if self._thread.is_alive():
            self._thread.join(timeout=1.0)
