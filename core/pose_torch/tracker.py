"""The batched body tracker: streams of frames tracked in lock-step (see body.py for the maths)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..landmarks import NUM_BODY
from ..person import LOST_FRAMES, RIVAL_EVERY, SETTLE_LOOKS, Identity, appearance, body_size, region_of
from . import body, finder
from .filters import LowPass, OneEuro
from .networks import BodyModels, model_path, resolve_device  # noqa: F401 (their home before networks.py)
from .settings import TorchPoseSettings


# Warm-up landmarks of a segment and the track's on the same frames differ by less than this
# fraction of the ROI side (median over the 33 landmarks) when both follow the same person.
# Measured on the demo clip after 5-8 warm-up frames: 0.01-0.11 for the same person (filter
# state and crop still settling during a fast arm swing); another person is a body away.
SAME_PERSON_FRACTION = 0.25
# A detection whose hip centre lies within this many region sides of the person's last known
# one is taken for them when a segment starts.
NEAR_SEED = 0.3
SIGNATURE_EVERY = 5
"""Frames between two checks of a tracked person's looks (``core.person.appearance``)."""


@dataclass
class Stream:
    """Tracking state of one person's stream of frames: the ROI for its next frame, the landmark filters
    (One Euro on the image and world landmarks), its own clock (``ticks``, frames seen) and identity.
    :meth:`BodyTracker.accept` reads a frame's landmarks into it; :meth:`lose` starts it afresh."""

    settings: TorchPoseSettings
    roi: np.ndarray | None = None
    ticks: int = 0
    aux: OneEuro = field(default_factory=lambda: OneEuro(0.01, 10.0))
    main: OneEuro = field(default_factory=lambda: OneEuro(0.05, 80.0))
    main_vis: LowPass = field(default_factory=lambda: LowPass(0.1))
    world: OneEuro = field(default_factory=lambda: OneEuro(0.1, 40.0))
    world_vis: LowPass = field(default_factory=lambda: LowPass(0.1))
    identity: Identity = field(default_factory=Identity)
    doubt: bool = False  # the tracked body did not look like the person at the last check

    def lose(self) -> None:
        self.roi = None
        for f in (self.aux, self.main, self.main_vis, self.world, self.world_vis):
            f.reset()


@dataclass
class BodyTrack:
    """Raw per-frame results of :class:`BodyTracker`, frame order.

    Attributes:
        landmarks: (T, 33, 5) normalized x, y, z (z in units of frame width),
            visibility, presence; NaN where no person.
        world: (T, 33, 4) metres (MediaPipe world landmarks) + visibility; NaN where no person.
        present: (T,) bool.
        rois: (T, 5) the ROI the landmark model saw (NaN when none).
        detected: (T,) bool, the ROI came from the detector (else from tracking).
    """

    landmarks: np.ndarray
    world: np.ndarray
    present: np.ndarray
    rois: np.ndarray
    detected: np.ndarray


@dataclass
class _Segment:
    """Frames one stream tracks in a chunk: ``warm`` frames before ``start`` only warm it up."""

    stream: Stream
    start: int
    stop: int
    warm: int = 0
    warm_lm: np.ndarray = field(default_factory=lambda: np.zeros((0, NUM_BODY, 5)))
    warm_world: np.ndarray = field(default_factory=lambda: np.zeros((0, NUM_BODY, 4)))

    @property
    def frames(self) -> range:
        return range(self.start - self.warm, self.stop)


class BodyTracker:
    """Tracks one person's body through a sequence of frames, in batches.

    ``batch_size`` 1 is MediaPipe's tracking exactly. With more, a chunk is
    cut into that many contiguous segments tracked in lock-step (one network
    call per step for all of them). Segment 0 continues the previous chunk;
    every other segment starts ``warmup_frames`` early from a detection, so its
    region of interest and filters have settled by its first frame, and its
    warm-up landmarks are checked against what the previous segment found on
    those same frames. Where they disagree (the detector picked someone else,
    or missed the person), the segment is tracked again from the previous
    segment's final state (all such segments in lock-step again), so one
    person is followed through the clip as MediaPipe follows them.
    """

    def __init__(self, settings: TorchPoseSettings = TorchPoseSettings(), models: BodyModels | None = None):
        self.settings = settings
        self.models = models or BodyModels(settings.device, settings.precision)
        self.finder = finder.Finder(self.models, settings.min_detection_confidence, settings.min_tracking_confidence)
        self._carry: Stream | None = None
        self.retracked_segments = 0  # segments whose warm start disagreed and were tracked again

    @property
    def identity(self) -> Identity:
        """The followed person (the identity the next chunk's first segment carries)."""
        if self._carry is None:
            self._carry = Stream(self.settings)
        return self._carry.identity

    @identity.setter
    def identity(self, identity: Identity) -> None:
        if self._carry is None:
            self._carry = Stream(self.settings)
        self._carry.identity = identity

    def pause(self) -> None:
        """Something else holds the person for now: the next chunk starts by searching for them."""
        if self._carry is not None:
            self._carry.lose()

    def follow(self, image: np.ndarray, pick: np.ndarray) -> bool:
        """Follow the person covering pixel ``pick`` (2,) of ``image`` (a frame of the video, seen ahead
        of the others): their looks pick them out of the first frames. False if nobody is there."""
        found = self.finder.search(image, Identity(), pick)
        if found is None:
            return False
        self.seed(found)
        return True

    def seed(self, found: finder.Found) -> None:
        """Follow the person ``found`` in a frame seen ahead of the others (a user's pick): their looks, from
        there, pick them out wherever they are (the identity knows their place but has lost them)."""
        self._carry = Stream(self.settings, identity=Identity(found.region, signature=found.signature,
                                                               missing=LOST_FRAMES, looks=SETTLE_LOOKS,
                                                               size=found.size or 0.0))

    def run_chunk(self, images: list[np.ndarray], picks: dict[int, np.ndarray] | None = None) -> BodyTrack:
        """Track through ``images`` (RGB uint8 (H, W, 3), consecutive frames of one video).

        The first segment continues from the previous call's last frame.
        ``picks``: frame of the chunk -> pixel (2,) of the person to follow there.
        """
        s = self.settings
        n = len(images)
        out = BodyTrack(np.full((n, NUM_BODY, 5), np.nan), np.full((n, NUM_BODY, 4), np.nan), np.zeros(n, bool),
                        np.full((n, 5), np.nan), np.zeros(n, bool))
        if n == 0:
            return out
        carry = self._carry or Stream(s)
        segments = [_Segment(carry if k == 0 else Stream(s, identity=carry.identity.stranger()), start, stop,
                             start - first)
                    for k, (first, start, stop) in enumerate(body.split_segments(n, s.batch_size, s.warmup_frames))]
        self._seed(images, segments)
        self._track(images, segments, out, picks)
        h, w = images[0].shape[:2]
        done = [True] + [False] * (len(segments) - 1)
        while not all(done):
            redo = []
            for k in range(1, len(segments)):
                if done[k] or not done[k - 1]:
                    continue
                if self._agrees(segments[k], out, w, h):
                    self._blend(segments[k], out)
                    done[k] = True
                else:
                    redo.append(k)
            # Each segment to redo continues exactly from its (final) predecessor; they run in lock-step.
            again = {k: _Segment(segments[k - 1].stream, segments[k].start, segments[k].stop) for k in redo}
            if again:
                self._track(images, list(again.values()), out, picks)
            for k, seg in again.items():
                segments[k] = seg
                done[k] = True
            self.retracked_segments += len(again)
        self._carry = segments[-1].stream
        return out

    def _seed(self, images: list[np.ndarray], segments: list[_Segment]) -> None:
        """Start each extra segment on the detection nearest the person the previous segment starts on.

        One detector call covers every segment's first frame. Segment 0 follows
        its carried region, or MediaPipe's choice (the strongest detection);
        then, segment by segment (about a second apart), the candidate whose
        hip centre is nearest the previous choice, within ``NEAR_SEED`` of its
        region's size, is the same person (people rarely swap places within a
        second); with no such candidate the segment starts on the previous
        choice's region. :meth:`_agrees` checks each start.
        """
        if len(segments) < 2:
            return
        h, w = images[0].shape[:2]
        found = self.models.detect([images[seg.frames[0]] for seg in segments], self.settings.min_detection_confidence,
                                   limit=None)
        ref = segments[0].stream.roi
        if ref is None and found[0]:
            ref = self._roi(found[0][0], w, h)
        for seg, candidates in zip(segments[1:], found[1:]):
            rois = [self._roi(d, w, h) for d in candidates]
            if ref is None:
                if rois:
                    ref = seg.stream.roi = rois[0]
                continue
            size = max(ref[2] * w, ref[3] * h)
            gaps = [np.hypot((r[0] - ref[0]) * w, (r[1] - ref[1]) * h) / size for r in rois]
            if gaps and min(gaps) < NEAR_SEED:
                ref = rois[int(np.argmin(gaps))]
            # else the detector missed them (small, turned, occluded: tracking still holds them):
            # start from where they were; the landmark model recentres within a few frames.
            seg.stream.roi = ref.copy()

    @staticmethod
    def _roi(det, w: int, h: int) -> np.ndarray:
        return body.roi_from_points(det.keypoints[0].astype(np.float64), det.keypoints[1].astype(np.float64), w, h)

    def _agrees(self, seg: _Segment, out: BodyTrack, w: int, h: int) -> bool:
        """Whether a warm-started segment found, on its last warm-up frames, the person the track holds there."""
        last = min(3, seg.warm)
        if last == 0:
            return True
        frames = np.arange(seg.start - last, seg.start)
        ours = seg.warm_lm[-last:]
        theirs = out.landmarks[frames]
        have_ours, have_theirs = np.isfinite(ours[:, 0, 0]), np.isfinite(theirs[:, 0, 0])
        if not np.array_equal(have_ours, have_theirs):
            return False
        if not have_ours.any():
            return True
        px = np.array([w, h])
        gap = np.linalg.norm((ours[have_ours, :, :2] - theirs[have_ours, :, :2]) * px, axis=-1)
        rois = out.rois[frames[have_ours]]
        size = np.maximum(rois[:, 2] * w, rois[:, 3] * h)  # the ROI's side in pixels, about 2.5 torso lengths
        return bool((np.median(gap, axis=1) < SAME_PERSON_FRACTION * size).all())

    @staticmethod
    def _blend(seg: _Segment, out: BodyTrack) -> None:
        """Cross-fade from the track into the segment over its warm-up frames, so the hand-over has no jump."""
        frames = np.arange(seg.start - seg.warm, seg.start)
        both = np.isfinite(seg.warm_lm[:, 0, 0]) & out.present[frames]
        ramp = (np.arange(1, seg.warm + 1) / (seg.warm + 1))[both, None, None]
        f = frames[both]
        out.landmarks[f] = (1 - ramp) * out.landmarks[f] + ramp * seg.warm_lm[both]
        out.world[f] = (1 - ramp) * out.world[f] + ramp * seg.warm_world[both]

    def _track(self, images: list[np.ndarray], segments: list[_Segment], out: BodyTrack,
               picks: dict[int, np.ndarray] | None = None) -> None:
        """Track ``segments`` in lock-step, writing their frames (not their warm-up) into ``out``.

        With ``settings.redetect`` a stream whose landmarks are weak, or not the
        followed person, searches for them (``finder.Finder``); so does every
        stream on a frame of ``picks`` (chunk frame -> pixel the user picked).
        """
        s = self.settings
        picks = picks or {}
        for seg in segments:
            seg.warm_lm = np.full((seg.warm, NUM_BODY, 5), np.nan)
            seg.warm_world = np.full((seg.warm, NUM_BODY, 4), np.nan)
        for step in range(max(len(seg.frames) for seg in segments)):
            active = [(seg, seg.frames[step]) for seg in segments if step < len(seg.frames)]
            for seg, i in active:
                seg.stream.ticks += 1
                if i in picks:
                    seg.stream.lose()
            need = [(seg, i) for seg, i in active if seg.stream.roi is None]
            if need and not s.redetect:
                self._detect(images, need, out)
            go = [(seg, i) for seg, i in active if seg.stream.roi is not None]
            weak = [pair for pair in need if s.redetect]
            if go:
                rois = np.stack([seg.stream.roi for seg, _ in go])
                flags, lms, worlds = self.models.landmarks([images[i] for _, i in go], rois, s.mirror_average)
                for j, (seg, i) in enumerate(go):
                    if i >= seg.start:
                        out.rois[i] = rois[j]
                    verdict = flags[j] >= s.min_tracking_confidence and self._check(seg.stream, images[i], lms[j])
                    if verdict is True:
                        self._write(seg, i, *self.accept(seg.stream, lms[j], worlds[j], *images[i].shape[1::-1]), out)
                        continue
                    seg.stream.lose()
                    if isinstance(verdict, finder.Found):
                        self._take(seg, i, verdict, images[i], out)
                    elif s.redetect:
                        weak.append((seg, i))
            for seg, i in weak:
                self._search(seg, i, images[i], picks.get(i), out)

    def _detect(self, images: list[np.ndarray], need: list[tuple[_Segment, int]], out: BodyTrack) -> None:
        """MediaPipe's re-detection: the strongest upright detection, whoever it is."""
        h, w = images[0].shape[:2]
        dets = self.models.detect([images[i] for _, i in need], self.settings.min_detection_confidence)
        for (seg, i), found in zip(need, dets):
            if not found:
                seg.stream.lose()
                continue
            seg.stream.roi = self._roi(found[0], w, h)
            if i >= seg.start:
                out.detected[i] = True

    def _check(self, st: Stream, image: np.ndarray, lm: np.ndarray) -> bool | finder.Found:
        """Whether tracked landmarks (39, 5) are still the followed person (always, without redetect);
        or, where they look unlike them, someone else who looks like them (``finder.Finder.rival``)."""
        if not self.settings.redetect:
            return True
        h, w = image.shape[:2]
        pts = finder.pixels(lm[:33], w, h)
        region = region_of(pts)
        if region is None:
            return False
        size = body_size(pts)
        rival = (lambda unlike: self.finder.rival(image, st.identity, region, unlike, self.settings.mirror_average)) \
            if st.ticks % RIVAL_EVERY == 0 else None
        checked = st.identity.check(region, size, lambda: appearance(image, pts), due=st.ticks % SIGNATURE_EVERY == 0,
                                    doubt=st.doubt, rival=rival)
        st.identity.slid(region, checked, st.doubt)
        st.doubt = checked.doubt
        if not checked.accepted:
            return False
        if checked.rival is not None:
            return checked.rival
        st.identity.see(region, checked.signature, size)
        return True

    def _search(self, seg: _Segment, i: int, image: np.ndarray, pick: np.ndarray | None, out: BodyTrack) -> None:
        """Look for the followed person in frame ``i`` (see finder.Finder.search); write them if found."""
        if pick is None and not seg.stream.identity.search_due():
            seg.stream.identity.miss()
            return
        found = self.finder.search(image, seg.stream.identity, pick, self.settings.mirror_average)
        if found is None:
            seg.stream.identity.miss()
            return
        self._take(seg, i, found, image, out)
        if pick is not None:  # the user chose this frame: their looks here are theirs
            seg.stream.identity.looks = max(seg.stream.identity.looks, SETTLE_LOOKS)

    def _take(self, seg: _Segment, i: int, found: finder.Found, image: np.ndarray, out: BodyTrack) -> None:
        """The person was found anew in frame ``i``: track on from there."""
        st = seg.stream
        st.identity.see(found.region, found.signature, found.size)
        if i >= seg.start:
            out.rois[i] = found.roi
            out.detected[i] = True
        h, w = image.shape[:2]
        self._write(seg, i, *self.accept(st, found.landmarks, found.world, w, h), out)

    @staticmethod
    def _write(seg: _Segment, i: int, pts: np.ndarray, world: np.ndarray, out: BodyTrack) -> None:
        if i < seg.start:
            seg.warm_lm[i - seg.start + seg.warm] = pts
            seg.warm_world[i - seg.start + seg.warm] = world
            return
        out.landmarks[i] = pts
        out.world[i] = world
        out.present[i] = True

    def accept(self, st: Stream, lm: np.ndarray, world: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
        """One frame's landmarks of ``st``'s person: ``lm`` (39, 5) the landmark model's normalized output (33
        body landmarks and the 2 auxiliary ones that place the next ROI), ``world`` (33+, 3) metres, in a
        ``w`` x ``h`` image. Returns the landmarks (33, 5) and world landmarks (33, 4: + visibility), smoothed
        by ``st``'s filters when the settings ask; sets ``st.roi`` for the next frame."""
        time_s = st.ticks * body.FRAME_SECONDS
        scale_px = np.array([w, h, w], np.float64)
        aux = lm[33:35]
        obj = body.object_scale(aux[0, :2], aux[1, :2], w, h)
        value_scale = 1.0 / obj if obj > 0 else 1.0
        aux_f = st.aux(aux[:, :3] * scale_px, time_s, value_scale) / scale_px
        st.roi = body.roi_from_points(aux_f[0, :2], aux_f[1, :2], w, h)
        pts = lm[:33].copy()
        wpts = world[:33]
        vis = pts[:, 3]
        if self.settings.smooth_landmarks:
            vis = st.main_vis(vis)
            pts[:, :3] = st.main(pts[:, :3] * scale_px, time_s, value_scale) / scale_px
            pts[:, 3] = vis
            wvis = st.world_vis(lm[:33, 3])
            wpts = st.world(wpts, time_s, 1.0)
        else:
            wvis = vis
        return pts, np.concatenate([wpts, wvis[:, None]], axis=1)
