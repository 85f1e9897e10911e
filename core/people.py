"""Capture every person in a video (``--people all``): one motion file per person.

``take.npz`` asked for, ``take.person1.npz``, ``take.person2.npz`` ... written
(:func:`person_path`), each the same format as a one-person take. The pose
stage runs once for everyone (``core.pose_torch.people``: all regions of a
frame in one batch, a stable ID per person by ``core.crowd``); then each
person goes through the capture job as one person does (``core.capture.capture``
with their landmarks: fit, up direction, cleanup, the file). IDs are numbered
by first appearance, then size.

All files share person 1's world and camera: every other person's take is
re-expressed in it (the same camera extrinsics), so a scene built from them
needs one camera and the people stand where the video shows them, relative to
each other.

Events: the one-person job's, with "person N: " before each stage and warning,
progress as one overall fraction, and at the end one ``done`` event whose
``out`` is person 1's file, ``outs`` every file and ``people`` per person
``{"id", "out", "frames", "quality"}``.
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CancelledError, MocapError
from .landmarks import PoseSequence
from .motion import Motion, write_motion
from .pipeline import READ_AHEAD_FRAMES, Stages, frames_ahead, put_unless
from .pose_stage import POSE_MAX_SIZE, STAGE_SPANS
from .video import iter_frames

PERSON_FILE = re.compile(r"\.person(\d+)$")
"""How a person's motion file's stem ends: ``take.person2`` (the ID)."""
SAME_PERSON = 0.1
"""A person's own Holistic graph holds them on a frame where its body lies within this share of their
height (median over the 33 landmarks) of the body the crowd tracker found for them."""
POSE_SPAN = STAGE_SPANS["pose"][1]
"""Share of the overall progress the pose stage takes (where its span ends); the people's fits share the rest."""


def person_path(out: str | Path, number: int) -> Path:
    """The motion file of person ``number`` (1-based) of a capture asked to write ``out``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.person{number}{out.suffix}")


def sequences_of(indices: list[int], track: Any, fps: float, image_size: tuple[int, int]) -> list[PoseSequence]:
    """Each person's PoseSequence (``core.pose_torch.people.PeopleTrack`` in ID order), cut to the frames
    from their first to their last appearance (frames between, where they are hidden, are bridged by the fit)."""
    width, height = image_size
    seqs = []
    for p in range(track.present.shape[0]):
        rows = np.flatnonzero(track.present[p])
        span = slice(int(rows[0]), int(rows[-1]) + 1)
        n = span.stop - span.start
        seq = PoseSequence.empty(n, fps, (width, height))
        seq.frame_indices = np.asarray(indices[span], np.int64)
        lm = track.landmarks[p, span]
        seq.body_2d = np.concatenate([lm[..., :2] * [width, height], lm[..., 3:4]], axis=-1).astype(np.float32)
        seq.body_world = track.world[p, span].astype(np.float32)
        seq.present = track.present[p, span].copy()
        if track.hands is not None:
            hands = (track.hands[p, span] * [width, height, width]).astype(np.float32)
            seq.left_hand, seq.right_hand = hands[:, 0], hands[:, 1]
        seqs.append(seq)
    return seqs


class _PoseStage:
    """The capture job's pose stage for everyone: runs on the first person's capture, then hands out
    each person's landmarks and the frames the scene's up direction was sampled from."""

    def __init__(self) -> None:
        self.sequences: list[PoseSequence] = []
        self.sampled: list = []

    def finder(self, number: int) -> Callable[..., PoseSequence]:
        def find(settings, info, body, report, *, end, stride, expected, mirror, torch_pose, should_cancel,
                 sampler=None, stages=None) -> PoseSequence:
            if number == 0:
                self._run(settings, info, report, end=end, stride=stride, expected=expected, mirror=mirror,
                          should_cancel=should_cancel, sampler=sampler, stages=stages)
            elif sampler is not None:
                sampler.frames = list(self.sampled)
            return self.sequences[number]
        return find

    def _run(self, settings, info, report, *, end, stride, expected, mirror, should_cancel, sampler,
             stages: Stages | None) -> None:
        """Everyone's bodies (and, with the torch backend, hands) by ``core.pose_torch.people``; with the
        MediaPipe backend then everyone's hands and face by Holistic (:func:`everyone_with_holistic`).
        With ``stages`` the frames are decoded in a thread of their own, a few ahead."""
        from .capture import torch_pose_settings
        from .pose_torch.people import CHUNK as TRACK_CHUNK
        from .pose_torch.people import track_people

        holistic = settings.pose_backend == "mediapipe"
        pose = replace(torch_pose_settings(settings, mirror), batch_size=1, redetect=False, hands=not holistic)
        frames = iter_frames(info, start=settings.start, end=end, stride=stride, max_size=POSE_MAX_SIZE,
                             should_cancel=should_cancel)
        if sampler is not None:
            frames = sampler.tap(frames)
        if stages is not None:  # its hands are tracked a chunk of frames at a time
            frames = stages.read_ahead(frames, frames_ahead(1 if holistic else TRACK_CHUNK))
        report.stage("pose", f"finding every person in {expected} frames (MediaPipe's pose models in PyTorch, "
                             "all people of a frame in one batch)")
        progress = report.progress_of("pose")
        halves = 2 if holistic else 1  # the people, then their Holistic graphs: each half the pose span
        indices, track = track_people(frames, fps=info.fps / stride, settings=pose, num_frames=expected,
                                      progress=lambda done, total: progress(done, halves * total),
                                      should_cancel=should_cancel)
        if not indices:
            raise MocapError("the video yielded no frames to analyse")
        self.sequences = sequences_of(indices, track, info.fps / stride, (info.width, info.height))
        if not self.sequences:
            raise MocapError("no person was seen for half a second or more in the frames captured")
        if sampler is not None:
            self.sampled = list(sampler.frames)
        if holistic:  # hands and face: one Holistic graph per person
            report.stage("pose", f"MediaPipe Holistic on each of {len(self.sequences)} people (their hands and "
                                 "face), all from one decoding of the video")
            self.sequences = everyone_with_holistic(
                self.sequences, settings, info, stride=stride, mirror=mirror, should_cancel=should_cancel,
                progress=lambda done, total: progress(total + done, 2 * total), stages=stages)


def with_holistic(seq: PoseSequence, settings: Any, info: Any, *, stride: int, mirror: bool,
                  progress: Callable[[int, int], None] | None = None,
                  should_cancel: Callable[[], bool] | None = None,
                  frames: Iterable[tuple[int, np.ndarray]] | None = None) -> PoseSequence:
    """``seq`` (one person's crowd-tracked body) with MediaPipe Holistic's hands and face on the frames where
    a Holistic graph of their own, started on them, holds them (``SAME_PERSON``). The body stays the crowd
    tracker's (the same landmark network): who is who is decided there, with everyone in view at once.
    ``frames``: their frames (``seq.frame_indices``, as ``iter_frames`` gives them); None decodes them."""
    from .person import PersonPick
    from .pose import estimate_holistic

    first, last = int(seq.frame_indices[0]), int(seq.frame_indices[-1])
    x, y = np.nanmean(seq.body_2d[0, [23, 24], :2], axis=0)
    if frames is None:
        frames = iter_frames(info, start=first, end=last + 1, stride=stride, max_size=POSE_MAX_SIZE,
                             should_cancel=should_cancel)
    own = estimate_holistic(frames, num_frames=seq.num_frames, fps=seq.fps, image_size=(info.width, info.height),
                            settings=replace(settings.pose, mirror_average=mirror, follow=True),
                            progress=progress, should_cancel=should_cancel, pick=PersonPick(float(x), float(y), first))
    if own.num_frames != seq.num_frames or not np.array_equal(own.frame_indices, seq.frame_indices):
        return seq  # the video gave other frames this time: keep the crowd tracker's
    with warnings.catch_warnings():  # frames where either found nobody are all NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        xy = seq.body_2d[..., :2]
        size = np.nanmax(np.nanmax(xy, axis=1) - np.nanmin(xy, axis=1), axis=1)  # their extent, any posture
        gap = np.nanmedian(np.linalg.norm(own.body_2d[..., :2] - xy, axis=-1), axis=1)
    holds = own.present & seq.present & (gap < SAME_PERSON * np.maximum(np.nan_to_num(size), 1.0))
    names = ("left_hand", "right_hand", "face")
    out = replace(seq, **{name: getattr(seq, name).copy() for name in names})
    for name in names:
        getattr(out, name)[holds] = getattr(own, name)[holds]
    return out


def everyone_with_holistic(seqs: list[PoseSequence], settings: Any, info: Any, *, stride: int, mirror: bool,
                           progress: Callable[[int, int], None] | None = None,
                           should_cancel: Callable[[], bool] | None = None,
                           stages: Stages | None = None) -> list[PoseSequence]:
    """:func:`with_holistic` for every person, the same results. With ``stages`` (overlapping) the video is
    decoded once, a few frames ahead, and each person's Holistic graph runs in a thread of its own on the
    frames of their span (MediaPipe's graphs leave the GIL: two people keep both cores busy); else person
    after person, each decoding their frames. ``progress(done, total)``: frames done over all people."""
    total = sum(s.num_frames for s in seqs)
    done = [0] * len(seqs)
    lock = threading.Lock()

    def part(k: int) -> Callable[[int, int], None] | None:
        if progress is None:
            return None

        def report(count: int, _: int) -> None:
            with lock:  # the events of every thread go out one at a time
                done[k] = count
                progress(sum(done), total)
        return report

    if stages is None or not stages.overlap or len(seqs) == 1:
        return [with_holistic(seq, settings, info, stride=stride, mirror=mirror, progress=part(k),
                              should_cancel=should_cancel) for k, seq in enumerate(seqs)]
    first = min(int(s.frame_indices[0]) for s in seqs)
    last = max(int(s.frame_indices[-1]) for s in seqs)
    frames = stages.read_ahead(iter_frames(info, start=first, end=last + 1, stride=stride, max_size=POSE_MAX_SIZE,
                                           should_cancel=should_cancel))
    feeds = [Feed() for _ in seqs]

    def own(k: int) -> PoseSequence:
        try:
            return with_holistic(seqs[k], settings, info, stride=stride, mirror=mirror, progress=part(k),
                                 should_cancel=stages.should_cancel, frames=feeds[k])
        finally:
            feeds[k].stop()  # done or failed: the decoding thread hands it nothing more

    jobs = [stages.background(lambda k=k: own(k), f"holistic {k + 1}") for k in range(len(seqs))]
    spans = [(int(s.frame_indices[0]), int(s.frame_indices[-1])) for s in seqs]
    try:
        for index, rgb in frames:
            for (lo, hi), feed in zip(spans, feeds):
                if lo <= index <= hi and not feed.put((index, rgb)):
                    raise CancelledError("a person's Holistic graph stopped")  # its own error comes below
        for feed in feeds:
            feed.close()
    except BaseException as exc:
        for feed in feeds:
            feed.abort()
        errors = []
        for job in jobs:
            try:
                job.result()
            except BaseException as error:  # noqa: BLE001 - re-raised below
                errors.append(error)
        # A person's own failure (their graph's MocapError) says more than the cancel it caused here.
        raise next((e for e in errors if not isinstance(e, CancelledError)), exc) from None
    return [job.result() for job in jobs]


class Feed:
    """Frames handed from the decoding thread to one consumer thread: an iterator for the consumer, which
    ends after :meth:`close`; :meth:`abort` makes it raise CancelledError. :meth:`put` waits while the consumer
    is ``depth`` frames behind, and returns False once the consumer has stopped iterating (done or failed)."""

    def __init__(self, depth: int = READ_AHEAD_FRAMES) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._gone = threading.Event()

    def put(self, item: tuple[int, np.ndarray]) -> bool:
        return put_unless(self._queue, item, self._gone)

    def close(self) -> None:
        """No more frames: the consumer's iteration ends after those queued."""
        self.put(_END)  # type: ignore[arg-type]

    def stop(self) -> None:
        """The consumer takes nothing more (called from its thread when it is done or failed)."""
        self._gone.set()

    def abort(self) -> None:
        """The capture failed elsewhere: the consumer's next frame raises CancelledError."""
        self._gone.set()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_ABORT)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        try:
            while True:
                try:
                    item = self._queue.get(timeout=0.05)
                except queue.Empty:
                    if self._gone.is_set():
                        raise CancelledError("capture cancelled") from None
                    continue
                if item is _END:
                    return
                if item is _ABORT:
                    raise CancelledError("capture cancelled")
                yield item
        finally:
            self._gone.set()


_END, _ABORT = object(), object()


class _Relay:
    """Passes one person's capture events on: their stages and warnings named, progress as one overall
    fraction (the pose stage once, then the people's fits one after another), their ``done`` kept."""

    def __init__(self, emit: Callable[[dict], None] | None, stage: _PoseStage) -> None:
        self.emit, self.stage = emit, stage
        self.done: list[dict] = []

    def of(self, number: int) -> Callable[[dict], None]:
        def relay(event: dict) -> None:
            kind = event.get("event")
            if kind == "done":
                self.done.append(event)
                return
            if self.emit is None:
                return
            event = dict(event)
            everyone = number == 0 and kind == "stage" and event.get("stage") in ("decoding", "pose")
            if kind in ("stage", "warning") and not everyone:  # the first pose stage is everyone's
                event["message"] = f"person {number + 1}: {event['message']}"
            if kind == "progress" and "fraction" in event and (number > 0 or event["fraction"] > POSE_SPAN):
                count = max(len(self.stage.sequences), 1)
                within = max(float(event["fraction"]) - POSE_SPAN, 0.0) / (1.0 - POSE_SPAN)
                event["fraction"] = round(POSE_SPAN + (1.0 - POSE_SPAN) * (number + within) / count, 4)
            self.emit(event)
        return relay


def capture_people(video: str | Path, out: str | Path, settings: Any, *,
                   emit: Callable[[dict], None] | None = None,
                   should_cancel: Callable[[], bool] | None = None) -> list[Motion]:
    """Capture everyone in ``video``: ``person_path(out, N)`` for each person N (``settings``: a
    ``core.capture.CaptureSettings``); returns their motions in ID order. MocapError when nobody is
    found; a cancel removes the files already written."""
    from .capture import capture, check_output

    out = check_output(out)
    stage = _PoseStage()
    relay = _Relay(emit, stage)
    one = replace(settings, people="one", person=None)
    if settings.person and emit is not None:
        emit({"event": "warning", "message": f"--person {settings.person} is ignored: --people all captures everyone"})
    motions: list[Motion] = []
    paths: list[Path] = []
    try:
        number = 0
        while number == 0 or number < len(stage.sequences):
            paths.append(person_path(out, number + 1))
            motions.append(capture(video, paths[-1], one, emit=relay.of(number), should_cancel=should_cancel,
                                   find_person=stage.finder(number)))
            number += 1
        if settings.cleanup is not None:
            motions = share_world(motions, paths)
    except MocapError:  # a cancel or a failure leaves no file behind, as one person's capture
        for path in paths:
            path.unlink(missing_ok=True)
        raise
    if emit is not None:
        people = [{"id": k + 1, "out": str(p.resolve()), "frames": m.num_frames, "quality": m.quality}
                  for k, (m, p) in enumerate(zip(motions, paths))]
        emit({"event": "done", "out": people[0]["out"], "outs": [p["out"] for p in people],
              "frames": motions[0].num_frames, "quality": motions[0].quality, "people": people})
    return motions


def share_world(motions: list[Motion], paths: list[Path]) -> list[Motion]:
    """Every take re-expressed in the first one's world (its camera extrinsics), files rewritten.

    Each take's cleanup put it on its own estimated floor; the camera saw them all at once, so
    world_1 <- camera <- world_k moves person k into person 1's world with the pixels unchanged.
    """
    from .cleanup.floor import reexpress

    E1 = np.asarray(motions[0].camera_extrinsics, np.float64)
    for motion, path in zip(motions[1:], paths[1:]):
        Ek = np.asarray(motion.camera_extrinsics, np.float64)
        M = np.linalg.inv(E1) @ Ek  # world_1 from world_k
        if np.allclose(M, np.eye(4), atol=1e-9):
            continue
        R, t = M[:3, :3], M[:3, 3]
        reexpress(motion, R, -R.T @ t)  # p1 = R (p - origin) with origin = -R^T t
        motion.camera_extrinsics = E1.copy()  # equal up to rounding; exactly one camera
        write_motion(path, motion)
    return motions
