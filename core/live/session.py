"""The live loop: newest frame -> pose -> solve -> one datagram (and VMC), with its figures.

``run_live`` is the job the ``live`` command runs. The decode thread
(``core.live.source``) keeps only the newest frame; this loop takes it,
finds the pose, solves and sends, so a frame waits at most one pose step and
latency never accumulates. Progress and cancellation are parameters, as for
``core.capture.capture``; cancelling is the normal way a live session ends
(the add-on's Stop sends SIGTERM), so it returns its figures instead of raising.
"""

from __future__ import annotations

import contextlib
import math

import socket
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import MocapError
from ..gravity import up_from_pitch_roll
from ..landmarks import PoseSequence
from ..motion import Motion, write_motion
from ..skeleton import JOINT_NAMES, PARENTS, POSE_DIM
from ..video import DEFAULT_HFOV_DEGREES, default_intrinsics
from .body import LiveBody, choose_live_body
from .follow import LiveFollow
from .lag import LAG_FRAME, FixedLag
from .pose import FramePose
from .search import SEARCH_SECONDS, CropSearch
from .turned import TurnedSearch
from .protocol import FLAG_HELD, LiveFrame, pack
from .solver import LiveSolver, Solved
from .source import LiveSource, Newest, SourceFrame
from .vmc import VmcSender, parse_address

Event = dict
STAGES = ("decode", "pose", "follow", "look", "solve", "fit", "filter", "floor", "send")
"""The stages timed, each frame: decoding and downscaling, MediaPipe, the check that its body is the person
followed (``core.live.follow``: greying a stranger out, region and colours; where the person is missing, the
second looks for them, ``core.live.turned`` then ``core.live.search``), the whole solve and its parts (the
closed-form fit with the left/right repair, the One Euro filter, the floor, contacts and camera tilt),
packing and sending (the datagram and VMC). ``look``: the second looks alone, on the frames they ran on only
(the frames the person was missing on, within ``SEARCH_SECONDS``)."""
FIGURE_FRAMES = 300
"""Frames the figures' medians are taken over (the last ten seconds at 30 fps)."""
STATS_EVERY = 1.0
"""Seconds between two ``stats`` events."""
STALL_SECONDS = 5.0
"""A camera or stream that gives no frame this long has stalled: the session ends with a message (the decode
thread may be stuck in the driver; it is a daemon and goes with the process)."""
RECEIVER_GONE_SECONDS = 2.0
"""A session whose receiver's port refuses datagrams this long ends: Blender was closed or crashed,
and an engine must never be left running without it."""


@dataclass(frozen=True)
class LiveSettings:
    """What a live session does.

    Attributes:
        source: camera index, device path, stream URL or video file (``core.live.source``).
        realtime: play a file at its own frame rate (else every frame, as fast as the pose keeps up).
        send: HOST:PORT the stream's datagrams go to (None: none).
        take: where to write the session's rest take (a one-frame motion file with the
            body's shape, built into a rig by the add-on) once the shape is known; None: not written.
        vmc: HOST:PORT for VMC/OSC bone messages (None: off).
        hands: MediaPipe Holistic (fingers, slower) instead of Pose (body only).
        hfov_degrees: the camera's horizontal field of view (None: the default, 60).
        camera_pitch, camera_roll: the camera's tilt in degrees, the floor's up (both None: estimated as
            the session goes from the person's upright posture, level until then).
        smoothing: One Euro filtering, 0 (off) to 1; not used with ``lag``.
        lag: thirtieths of a second each pose is sent late, the line through the frames around it
            (``core.live.lag``: nearer the offline take and steadier, 33 ms later a unit at any frame rate); 0:
            none, the One Euro filter smooths.
        seconds: stop after this long (None: until cancelled or the source ends).
        max_side: frames are downscaled to this longer side before the pose.
        warmup_frames: frames with a person the body's shape comes from before streaming.
        body, gender, smplx_dir: the body streamed, as a capture's options (``core.live.body``): SMPL-X
            when its files are found ("auto"), else the mannequin.
        follow: keep to the first person found (``core.live.follow``); False: whoever MediaPipe tracks.
    """

    source: str
    realtime: bool = False
    send: str | None = None
    take: str | None = None
    vmc: str | None = None
    hands: bool = False
    hfov_degrees: float | None = None
    camera_pitch: float | None = None
    camera_roll: float | None = None
    smoothing: float = 0.5
    lag: int = 1
    seconds: float | None = None
    max_side: int = 640
    warmup_frames: int = 20
    body: str = "auto"
    gender: str = "neutral"
    smplx_dir: str | None = None
    follow: bool = True


def rest_take(solver: LiveSolver, settings: LiveSettings, K: np.ndarray, size: tuple[int, int], fps: float) -> Motion:
    """The session's one-frame take: the fitted body (mannequin or SMPL-X) in its rest pose, the camera 1 m up
    (the receiver moves it to each message's ``camera_height``, pitch and roll), for the add-on to build the rig
    from."""
    betas = np.asarray(solver.betas, np.float32)
    rest = solver.body.rest_data(betas)
    expression_dirs = rest.get("expression_dirs")
    return Motion(
        poses=np.zeros((1, POSE_DIM), np.float32), trans=np.zeros((1, 3), np.float32), betas=betas,
        fps=fps, frame_indices=np.zeros(1, np.int64), confidence=np.ones(1, np.float32),
        bridged=np.zeros(1, bool), reprojection_error=np.full(1, np.nan, np.float32),
        expression=np.zeros((1, 0 if expression_dirs is None else expression_dirs.shape[2]), np.float32),
        camera_intrinsics=K, camera_extrinsics=solver.camera_extrinsics(1.0),
        image_size=np.asarray(size, np.int64), world_up=np.array([0.0, 0.0, 1.0]), body_model=solver.body.name,
        gender=solver.body.gender, joint_names=JOINT_NAMES, parents=np.array(PARENTS, np.int32),
        rest_joints=solver.rest_joints.astype(np.float32), v_template=rest["v_template"], faces=rest["faces"],
        skin_weights=rest["skin_weights"], shape_dirs=rest.get("shape_dirs"), expression_dirs=expression_dirs,
        source_video=settings.source, up_source=solver.upright.source)


def _first_frame(source: LiveSource, should_cancel: Callable[[], bool]) -> SourceFrame:
    deadline = time.monotonic() + 10.0
    while True:
        frame = source.take(0.2)
        if frame is not None:
            return frame
        if should_cancel():
            raise MocapError("live session stopped before the first frame")
        if source.ended or time.monotonic() > deadline:
            raise MocapError(source.error or "the live source gave no frame (within 10 s)")


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def moment_index(nearest: SourceFrame, at: float, fps: float, newest: int, last: int | None) -> int:
    """The source frame index a lagged pose is sent as: the frame at its moment ``at`` (``nearest``, the solved
    frame nearest it, moved by the time between them in frames of ``fps``; a moment halfway between two frames,
    a 15 fps stream's, the earlier), kept after the ``last`` index sent and up to the ``newest`` frame solved.

    Not the nearest solved frame's own index: an engine that solves frames unevenly (under load, 18-24 of a
    30 fps source's) has the same frame nearest two moments in a row (solved 0, 3, 4, 7, 8: nearest 3, 3, 7, 7),
    and a recording with a repeated index could not be built. The moments (2, 3, 6, 7 there) are a frame or more
    apart, as the newest frames are; ``last`` holds a camera's uneven frame times to that too."""
    shift = (at - nearest.time) * fps
    index = min(nearest.index + math.floor(shift + 0.5 - 1e-6), newest)
    return index if last is None else max(index, last + 1)


class _Session:
    """The two stages after decoding: pose (the calling thread) and solve + send (a worker thread).

    Pose hands each frame's landmarks to the solver through a :class:`Newest`
    handoff, so the solve of one frame overlaps the pose of the next and a
    slow solve drops stale landmarks instead of queueing them.
    """

    def __init__(self, settings: LiveSettings, source: LiveSource, first: SourceFrame,
                 emit: Callable[[Event], None], body: LiveBody) -> None:
        self.settings, self.source, self.emit = settings, source, emit
        self.size = (first.rgb.shape[1], first.rgb.shape[0])
        self.fps = source.fps or 30.0
        self.K = default_intrinsics(self.size[0], self.size[1], settings.hfov_degrees or DEFAULT_HFOV_DEGREES)
        given = settings.camera_pitch is not None or settings.camera_roll is not None
        up = up_from_pitch_roll(settings.camera_pitch or 0.0, settings.camera_roll or 0.0) if given else None
        # with a lag, the window smooths (centred, no lag of its own): the One Euro filter would only add its lag
        self.solver = LiveSolver(self.K, up, smoothing=0.0 if settings.lag else settings.smoothing,
                                 warmup_frames=settings.warmup_frames, body=body)
        # the lag is a time (thirtieths of a second), whatever the stream's rate (core.live.lag)
        self.lag: FixedLag[SourceFrame] | None = FixedLag(settings.lag * LAG_FRAME) if settings.lag else None
        self.target = parse_address(settings.send) if settings.send else None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if self.target is not None:  # connected: the kernel reports a port nobody listens on (ICMP refused)
            self.sock.connect(self.target)
        self.vmc: VmcSender | None = None
        self.landmarks = Newest(lossless=source.lossless)
        self.follow = LiveFollow() if settings.follow else None
        self.search: CropSearch | None = None  # the second look (core.live.search), while the pose runs
        # the turned look (core.live.turned), tried before it; its networks load in a thread from the start
        self.turned = TurnedSearch(SEARCH_SECONDS, wait=source.lossless).load() if self.follow is not None else None
        self.sent = 0
        self.last_index: int | None = None  # the source frame index last sent (each one sent is greater)
        self.held = 0  # poses sent held (nobody found on their frame: the last pose repeated)
        self.held_since: float | None = None  # source time of the first frame of the current hold
        self.longest_hold = 0.0  # seconds of the longest run of held poses so far (source clock)
        self.start = time.perf_counter()  # restarted when streaming starts
        # Per-stage milliseconds of the last FIGURE_FRAMES frames (bounded: memory stays flat).
        self.stage_ms: dict[str, deque[float]] = {name: deque(maxlen=FIGURE_FRAMES) for name in STAGES}
        self.ages_ms: deque[float] = deque(maxlen=FIGURE_FRAMES)  # glass (frame read) to sent
        self.error: BaseException | None = None
        self.streaming = False  # set once the rest take is out and the first pose may go
        self.refused_since: float | None = None
        self.refused_last: float | None = None
        self.receiver_gone = False  # the receiver's port has refused datagrams for RECEIVER_GONE_SECONDS
        self.stalled = False  # the source gave no frame for STALL_SECONDS
        self._worker = threading.Thread(target=self._solve_loop, name="live-solve", daemon=True)

    def figures(self) -> dict[str, float | None]:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        return {"frames_sent": self.sent, "frames_decoded": self.source.decoded,
                "frames_dropped": self.source.dropped + self.landmarks.dropped,
                "frames_someone_else": self.follow.rejected if self.follow is not None else 0,
                "frames_found_again": (self.search.found if self.search is not None else 0)
                + (self.turned.found if self.turned is not None else 0),
                "frames_found_turned": self.turned.found if self.turned is not None else 0,
                "second_looks": self.search.looks if self.search is not None else 0,
                "turned_looks": self.turned.looks if self.turned is not None else 0,
                "frames_held": self.held, "longest_hold_s": round(self.longest_hold, 2),
                "fps_sent": round(self.sent / elapsed, 2),
                **{f"{name}_ms_median": _median(list(self.stage_ms[name])) for name in STAGES},
                "glass_to_send_ms_median": _median(list(self.ages_ms)), "seconds": round(elapsed, 2),
                "warmup_shape_ms": round(self.solver.shape_ms, 1)}

    def run(self, first: SourceFrame, cancelled: Callable[[], bool]) -> None:
        """Pose every newest frame until cancelled, the time is up or the source ends."""
        self._worker.start()
        limit = self.settings.seconds
        last_stats = time.perf_counter()
        frame: SourceFrame | None = first
        try:
            # the second look serves the follow only: without it, no second model is loaded
            with FramePose(hands=self.settings.hands) as pose, \
                    (CropSearch() if self.follow is not None else contextlib.nullcontext()) as search:
                self.search = search
                while not cancelled() and self.error is None and not self.receiver_gone:
                    if limit is not None and self.streaming and time.perf_counter() - self.start >= limit:
                        break
                    if frame is None:
                        frame = self.source.take(0.2)
                        if frame is None and self.source.ended:
                            break
                        if frame is None and time.monotonic() - self.source.last_frame_at > STALL_SECONDS:
                            self.stalled = True
                            break
                        continue
                    self.landmarks.put((frame, self._pose(pose, frame)))
                    self.stage_ms["decode"].append(frame.decode_ms)
                    frame = None
                    if self.streaming and time.perf_counter() - last_stats >= STATS_EVERY:
                        last_stats = time.perf_counter()
                        self.emit({"event": "stats", **self.figures()})
        finally:
            self.landmarks.close()
            self._worker.join(timeout=5.0)
            self.sock.close()
            if self.vmc is not None:
                self.vmc.close()
        if self.error is not None:
            raise MocapError(f"the live solve failed: {self.error}") from self.error

    def _pose(self, pose: FramePose, frame: SourceFrame) -> PoseSequence:
        """The landmarks of ``frame``: MediaPipe's body, taken off when it is not the person followed; where the
        person is missing, the body a second look finds where they should be: the landmark network on their crop
        turned four ways (``core.live.turned``), else MediaPipe in a crop (``core.live.search``)."""
        began = time.perf_counter()
        seen = self.follow.frame(frame.rgb) if self.follow is not None else frame.rgb
        posed = time.perf_counter()
        seq = pose.process(seen, frame.index, self.fps)
        checked = time.perf_counter()
        if self.follow is not None and self.search is not None and not self.follow.check(frame.rgb, seq, frame.time):
            seq = self._second_look(frame, time.perf_counter()) or seq
        done = time.perf_counter()
        self.stage_ms["pose"].append(1000.0 * (checked - posed))
        self.stage_ms["follow"].append(1000.0 * (posed - began + done - checked))
        return seq

    def _second_look(self, frame: SourceFrame, began: float) -> PoseSequence | None:
        """The person found again on ``frame``, where MediaPipe's body was not them (None: not looked for, or
        not found); the looks' time goes to the ``look`` stage on frames they ran on."""
        assert self.follow is not None and self.search is not None
        looks = self._looks()
        found = self.turned(frame.rgb, self.follow, frame.index, self.fps) if self.turned is not None else None
        if found is None:
            found = self.search(frame.rgb, self.follow, frame.index, self.fps)
        if self._looks() > looks:
            self.stage_ms["look"].append(1000.0 * (time.perf_counter() - began))
        return found

    def _looks(self) -> int:
        """Second looks taken so far, turned and in a crop."""
        return (self.search.looks if self.search is not None else 0) + (self.turned.looks if self.turned is not None
                                                                        else 0)

    def _solve_loop(self) -> None:
        try:
            while True:
                item = self.landmarks.take(0.2)
                if item is None:
                    if self.landmarks.closed:
                        return
                    continue
                frame, seq = item
                if not self.solver.ready:
                    if self.solver.warm_up(seq, frame.time):
                        self._ready()
                    continue
                began = time.perf_counter()
                solved = self.solver.solve(seq, frame.time)
                late = self.lag(frame, solved, frame.time) if self.lag is not None and solved is not None else None
                if late is not None:  # the moment `lag` back: its glass time that long before this frame's read
                    assert self.lag is not None
                    shown, pose, at = late
                    index = moment_index(shown, at, self.fps, frame.index, self.last_index)
                    self._send(shown, pose, at, frame.captured - self.lag.seconds, index)
                elif solved is not None and self.lag is None:
                    self._send(frame, solved)
                self.stage_ms["solve"].append(1000.0 * (time.perf_counter() - began))
                for name, ms in self.solver.stage_ms.items():
                    self.stage_ms[name].append(ms)
        except Exception as exc:  # noqa: BLE001 - the pose loop re-raises it as a MocapError
            self.error = exc

    def _ready(self) -> None:
        """The shape is known: write the rest take, start VMC, say so, and start the clock."""
        if self.settings.take:
            write_motion(Path(self.settings.take), rest_take(self.solver, self.settings, self.K, self.size, self.fps))
        if self.settings.vmc:
            self.vmc = VmcSender(self.settings.vmc, self.solver.rest_joints)
        self.emit({"event": "ready", "take": self.settings.take or "", "fps": self.fps,
                   "width": self.size[0], "height": self.size[1]})
        self.start = time.perf_counter()
        self.streaming = True

    def _send(self, frame: SourceFrame, solved: Solved, at: float | None = None,
              captured: float | None = None, index: int | None = None) -> None:
        """Send ``solved``, the pose of ``frame`` (with a lag: of the source's moment ``at``, glass time
        ``captured``, source frame ``index``, which ``frame`` is the nearest solved frame to)."""
        began = time.perf_counter()
        self.last_index = frame.index if index is None else index
        message = LiveFrame(seq=self.sent, frame=self.last_index, frame_time=frame.time if at is None else at,
                            captured=frame.captured if captured is None else captured,
                            sent=time.time(), confidence=solved.confidence, camera_height=solved.camera_height,
                            flags=solved.flags, trans=solved.trans, poses=solved.poses,
                            expression=np.zeros(0, np.float32), camera_pitch=solved.camera_pitch,
                            camera_roll=solved.camera_roll)
        if self.target is not None:
            try:
                self.sock.send(pack(message))
            except ConnectionRefusedError:  # nobody listens on the port (reported on every other send)
                now = time.monotonic()
                if self.refused_last is None or now - self.refused_last > 1.0:
                    self.refused_since = now  # the first refusal of a run
                self.refused_last = now
                self.receiver_gone = now - (self.refused_since or now) > RECEIVER_GONE_SECONDS
            except OSError:  # a full buffer or a network hiccup: this frame is lost, the next one goes
                pass
        if self.vmc is not None:
            self.vmc.send(solved.poses, solved.trans)
        self.sent += 1
        self._count_hold(frame, bool(solved.flags & FLAG_HELD))
        self.ages_ms.append(1000.0 * (message.sent - message.captured))  # with a lag, from the moment shown
        self.stage_ms["send"].append(1000.0 * (time.perf_counter() - began))


    def _count_hold(self, frame: SourceFrame, held: bool) -> None:
        """Count a sent pose held (or not), and time the run of held poses it is part of (from the first held
        frame's time to the next sent frame's, which may be several source frames later when the engine skips
        frames; a run still going lasts to its last frame's time plus one source frame)."""
        if not held:
            if self.held_since is not None:  # the run ends here: a held pose stayed on screen until this one
                self.longest_hold = max(self.longest_hold, frame.time - self.held_since)
            self.held_since = None
            return
        self.held += 1
        if self.held_since is None:
            self.held_since = frame.time
        self.longest_hold = max(self.longest_hold, frame.time - self.held_since + 1.0 / self.fps)


def run_live(settings: LiveSettings, *, emit: Callable[[Event], None] | None = None,
             should_cancel: Callable[[], bool] | None = None) -> dict[str, float | None]:
    """Run a live session until cancelled, ``settings.seconds`` pass (after the warm-up) or the source
    ends; returns its figures.

    Events: ``stage``, ``ready`` (``take``: the rest take file, written), ``stats`` (once a second:
    the figures so far), ``warning``, ``done`` (``frames``, ``quality``: the figures). MocapError for a
    source that cannot be opened or an address that is malformed, with a message."""
    send = emit or (lambda event: None)
    cancelled = should_cancel or (lambda: False)
    for address in (settings.send, settings.vmc):
        if address:
            parse_address(address)
    if settings.lag < 0:
        raise MocapError(f"--lag must be 0 (no lag) or a number of thirtieths of a second, not {settings.lag}")
    body = choose_live_body(settings.body, settings.gender, settings.smplx_dir)
    for message in body.warnings:
        send({"event": "warning", "message": message})
    source = LiveSource(settings.source, realtime=settings.realtime, max_side=settings.max_side).start()
    session: _Session | None = None
    try:
        send({"event": "stage", "stage": "live", "message": f"opening {settings.source} ({source.kind})"})
        first = _first_frame(source, cancelled)
        session = _Session(settings, source, first, send, body)
        session.run(first, cancelled)
    finally:
        source.close()
        if session is not None and session.turned is not None:
            session.turned.close()
    if source.error:
        send({"event": "warning", "message": source.error})
    if session.stalled:
        send({"event": "warning", "message": f"no frame from {settings.source} for {STALL_SECONDS:.0f} s: the "
                                             f"{source.kind} stalled; the live session ended"})
    if session.receiver_gone:
        send({"event": "warning", "message": f"the receiver at {settings.send} is gone; the live session ended"})
    if session.turned is not None and session.turned.error:
        send({"event": "warning", "message": session.turned.error})
    if not session.solver.ready:
        send({"event": "warning", "message": f"nobody was found in {settings.source}: nothing was streamed"})
    figures = session.figures()
    send({"event": "done", "out": settings.take or "", "frames": session.sent, "quality": figures})
    return figures
