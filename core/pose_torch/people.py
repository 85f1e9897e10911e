"""Every person's body in a clip (``--people all``): all regions of a frame in one batch, IDs by ``core.crowd``.

Per frame: each person tracked on the previous frame gives the region the
landmark model looks at next (MediaPipe's tracking, from the two auxiliary
landmarks), and the detector, run on the whole frame, adds a region for every
body no tracked region covers (someone entering, or coming out from behind
someone else). The landmark model sees all of those regions in one batch;
bodies found twice (two regions on one person, as when one walks in front of
another) are kept once, the surer reading; then ``core.crowd.Crowd`` matches
the bodies to people (place and looks) and each person's landmarks go through
the single-person tracker's filters (``tracker.BodyTracker``: One Euro on the
image and world landmarks, the next region of interest).

Hands, when asked, are found per person as the torch backend finds them
(``hands.HandTracker`` on that person's body), one chunk of frames at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..crowd import Candidate, Crowd, overlap
from ..errors import CancelledError
from ..landmarks import NUM_BODY
from ..person import APPEARANCE_SAME, NEAR, appearance, appearance_distance, body_size, region_of
from . import body, finder
from .hands import HandModels, HandTracker
from .settings import TorchPoseSettings
from .estimate import shrink
from .networks import one_cpu_thread
from .tracker import BodyModels, BodyTracker, Stream

SAME_BODY = 0.08
"""Two readings whose landmarks lie this many region sides apart or less (median over the 33) are one body:
the same person read from two regions agrees to a few per cent; two people overlapping differ in pose."""
COVERED = 0.3
"""Detections (of the frame and its tiles) centred within this many region sides of each other are one person."""
TRACKED = 0.1
"""A detection centred within this many region sides of a tracked person's region adds nothing new (one
further off may be someone coming out from behind them)."""
CHUNK = 32
"""Frames kept in memory at a time (for the hands, which are tracked per chunk)."""
TILE = 0.75
"""Side of the detector's tiles in frame heights (the shorter side): BlazePose's detector sees its input at
224 px and misses people under about a third of it, as those further off in a wide shot are."""
DETECT_EVERY = 3
"""Frames between two detector passes over the whole frame and its tiles (tracked people need none): someone
entering is found within this many frames."""
MISSING_CROPS = (0.0, -1.0, 1.0)
"""Where a person missing for less than ``SEARCH_SECONDS`` is looked for by the landmark model (on the frames
``Identity.search_due`` says): upright crops on their expected region (``core.crowd.Track.expected``) and
``finder.BESIDE`` of its side either side (``finder.beside``), as the single-person search looks for a lost person. The detector alone
did not find the rendered three-person crossing's far walker again after the walker in front had hidden him (frames
60-92: it found him before, 136 px tall, and again from frame 93), and his take bridged 28 visible frames."""
UNKNOWN_CROPS = (-1.0, 1.0)
"""Where someone not yet known is looked for by the landmark model beside each tracked person, on the detector's
frames (``DETECT_EVERY``): upright crops ``UNKNOWN_SHIFT`` of that person's side either side of them, ``UNKNOWN_SIDE``
of it wide. A person standing just beside another is not found by the detector, whose boxes all sit on the other:
the rendered three-person crossing's third man, visible from frame 6 35-80 px beside the walker in front, was found
only from frame 24 (no detection nearer him than about 45 px). A reading that looks like the person the crop is beside
is theirs, read again (``_bodies``). No crop that another tracked person's region covers (``COVERED``): on the
rendered crossings that left every reading as it was and took 9-12% off the tracker's CPU time (the person the crop
is beside always covers it: that is where it looks)."""
UNKNOWN_SHIFT = 0.3
"""How far beside a tracked person (in their region's sides) ``UNKNOWN_CROPS`` are centred: as far as two detections
must lie apart to be two people (``COVERED``). Someone the detector cannot tell from them stands about that far (the
rendered three-person crossing's third man: 0.13-0.27 of the walker's side on frames 6-15); crops centred
``finder.BESIDE`` (0.35) away at the walker's side held him at their edge, over bare floor, and read him only from
frame 15, though he stood clear of the walker from frame 12 (issue 16: his ``--people all`` take then missed 9 of his
114 visible frames, identity 0.92)."""
UNKNOWN_SIDE = 0.65
"""Side of ``UNKNOWN_CROPS`` in the tracked person's region sides: a crop that holds less of them. At their full side
a crop beside the walker held the walker's body as well as the third man's and read a body between the two (presence
0.25-0.5) or the walker; at 0.6-0.7 it read the man at presence 0.99 from frame 12 on (0.5 or 0.8: from frame 15;
replayed on the rendered crossing, December 2026)."""
BACK_TURNS = (0.0, 45.0, -45.0)
"""Turns (degrees, from the person's own region) of the crops in which someone first found beside another is looked
for on the frames before (``PeopleTracker._look_back``), for a body bent over. Not borne out yet: on the rendered
three-person crossing upright crops alone read the third man, bent double, on the same frames (7-11) alike
(``PeopleTracker`` on its first 30 frames, December 2026); the turned ones treble the look back's crops."""
BACK_SIDES = (0.6, 0.8, 1.0)
"""Sides of those crops, in the person's region sides (of the next frame's reading): a body bent over someone fills
its region unlike an upright one, and each frame takes the surest reading that passes. On the rendered three-person
crossing the three read the third man back to frame 7; 1.0 alone to frame 11, 0.8 to 10, 0.6 none, 0.6 and 1.0 to
9, 0.8 and 1.0 to 11 (as ``BACK_TURNS``)."""
SEARCH_SECONDS = 1.0
"""How long a missing person is looked for (``MISSING_CROPS``), in the frames of the clip (``track_people``'s
``fps``); later only the detector finds them."""


def tiles(width: int, height: int, side: float = TILE) -> np.ndarray:
    """(N, 5) ROIs (normalized cx, cy, w, h, rotation) the detector looks at: the whole frame
    (letterboxed), then squares ``side`` frame heights wide, overlapping by half, over all of it."""
    full, _ = body.letterbox_roi(width, height)
    s = side * min(width, height)
    xs = np.linspace(s / 2, width - s / 2, max(1, int(np.ceil((width - s) / (s / 2))) + 1))
    ys = np.linspace(s / 2, height - s / 2, max(1, int(np.ceil((height - s) / (s / 2))) + 1))
    return np.stack([full] + [np.array([x / width, y / height, s / width, s / height, 0.0]) for y in ys for x in xs])


def detect_everywhere(models: BodyModels, image: np.ndarray, min_score: float) -> list[tuple[float, np.ndarray]]:
    """(score, ROI (5,) for the landmark model) of each person the detector finds in ``image`` or one of
    its :func:`tiles`, strongest first, one per person (one detector call for all tiles)."""
    h, w = image.shape[:2]
    found = [(float(score), roi) for score, roi in finder.detect_in(models, image, tiles(w, h), min_score)]
    found.sort(key=lambda f: -f[0])
    kept: list[tuple[float, np.ndarray]] = []
    for score, roi in found:
        if not any(_covers(other, roi, w, h) for _, other in kept):
            kept.append((score, roi))
    return kept


def _covers(a: np.ndarray, b: np.ndarray, w: int, h: int, within: float = COVERED) -> bool:
    """ROI ``b`` is centred within ``within`` of the larger side of ``a`` and ``b``: the same person."""
    side = max(a[2] * w, a[3] * h, b[2] * w, b[3] * h)
    return bool(np.hypot((a[0] - b[0]) * w, (a[1] - b[1]) * h) < within * side)


@dataclass
class PeopleTrack:
    """Every kept person's raw results, in ID order (person 1 first); T frames.

    Attributes:
        landmarks: (P, T, 33, 5) normalized x, y, z, visibility, presence; NaN where not found.
        world: (P, T, 33, 4) metres + visibility; NaN where not found.
        present: (P, T) bool.
        hands: (P, T, 2, 21, 3) normalized hand landmarks (left, right), NaN where not found; None without hands.
    """

    landmarks: np.ndarray
    world: np.ndarray
    present: np.ndarray
    hands: np.ndarray | None = None


@dataclass
class _Person:
    """Tracking state of one person (a ``core.crowd`` track): filters and next region, their results."""

    stream: Stream
    landmarks: dict[int, np.ndarray] = field(default_factory=dict)  # row -> (33, 5)
    world: dict[int, np.ndarray] = field(default_factory=dict)  # row -> (33, 4)
    hands: dict[int, np.ndarray] = field(default_factory=dict)  # row -> (2, 21, 3)
    hand_tracker: HandTracker | None = None
    beside: bool = False
    """First found by a crop beside someone (``UNKNOWN_CROPS``): until seen a while (``_tentative``), their own
    reading of a body another person also read is not preferred to that person's."""


class PeopleTracker:
    """Tracks everyone in a stream of frames (see the module docstring)."""

    def __init__(self, settings: TorchPoseSettings, models: BodyModels | None = None, fps: float = 30.0):
        self.settings = settings
        self.search_frames = max(1, round(SEARCH_SECONDS * fps))
        self.single = BodyTracker(settings, models)  # its models and its per-person filters
        self.models = self.single.models
        self.crowd = Crowd(fps)
        self.people: list[_Person] = []
        self.hand_models = HandModels.of(self.models) if settings.hands else None
        self._recent: dict[int, np.ndarray] = {}  # row -> frame, the last ``search_frames`` (``_look_back``)
        self._looked_back: set[int] = set()
        self._handed = -1  # the last row ``hands_of_chunk`` has done

    def step(self, image: np.ndarray, row: int) -> None:
        """Find everyone in frame ``row`` (RGB uint8, the frames in order)."""
        s = self.settings
        h, w = image.shape[:2]
        # Kept before any return (a frame with nothing to read is kept too, and the frame a second back let go):
        # at most ``search_frames`` frames, full-size with the accurate preset.
        self._recent[row] = image
        for old in [r for r in self._recent if r <= row - self.search_frames]:
            del self._recent[old]
        for person in self.people:
            person.stream.ticks += 1
        tracked = [(k, p.stream.roi) for k, p in enumerate(self.people) if p.stream.roi is not None]
        rois = [roi for _, roi in tracked]
        sources = [k for k, _ in tracked]
        searched: dict[int, int] = {}  # ROI -> the missing person it looks for
        for k, roi in self._missing(image, row):
            if not any(_covers(r, roi, w, h, TRACKED) for r in rois):
                searched[len(rois)] = k
                rois.append(roi)
                sources.append(-1)
        # The detector is asked as when nobody is missing (a search crop is no tracked body: with nobody tracked it
        # looks on every frame), and a body it finds counts unless a tracked region covers it: one a search crop
        # covers is read as well, and kept where the crop's reading is not the missing person (``_bodies``).
        held = [roi for _, roi in tracked]
        beside: dict[int, int] = {}  # ROI -> the tracked person it lies beside
        if row % DETECT_EVERY == 0 or not held:
            for _, roi in detect_everywhere(self.models, image, s.min_detection_confidence):
                if not any(_covers(r, roi, w, h, TRACKED) for r in held):
                    rois.append(roi)
                    sources.append(-1)
            for k, roi in self._beside(image, row):  # none on a tracked person: their own crop reads them
                if not any(_covers(r, roi, w, h, TRACKED) for r in rois) \
                        and not any(_covers(r, roi, w, h, COVERED) for q, r in tracked if q != k):
                    beside[len(rois)] = k
                    rois.append(roi)
                    sources.append(-1)
        if not rois:
            self._miss_all()
            return
        flags, lms, worlds = self.models.landmarks([image] * len(rois), np.stack(rois), s.mirror_average)
        readings = self._bodies(image, flags, lms, sources, searched, beside)
        if beside:
            readings = self._confirmed(image, readings, lms, worlds, beside)
        owners = self.crowd.step(row, [c for c, _ in readings])
        found = set()
        for owner, (_, j) in zip(owners, readings):
            if owner < 0:  # a blend of two bodies (``core.crowd.Track.blend``): nobody's
                continue
            while owner >= len(self.people):
                self.people.append(_Person(Stream(s), beside=j in beside))
            person = self.people[owner]
            if sources[j] != owner:  # a new region for this person: their filters start afresh
                person.stream.lose()
            pts, world = self.single.accept(person.stream, lms[j], worlds[j], w, h)
            person.landmarks[row], person.world[row] = pts, world
            found.add(owner)
        for k, person in enumerate(self.people):
            if k not in found:
                person.stream.lose()
        for k, person in enumerate(self.people):
            if person.beside and k not in self._looked_back and k in found and not self._tentative(k):
                self._looked_back.add(k)
                self._look_back(k)

    def _look_back(self, k: int) -> None:
        """Person ``k``, first found by a crop beside someone (``UNKNOWN_CROPS``) and seen a while since (no longer
        ``_tentative``: ``core.crowd.Track.recent`` sightings, 10 at 30 fps), looked for on the frames before their
        first that are still kept: those of the last ``SEARCH_SECONDS`` counted from the frame where that happens (at
        30 fps, seen on 10 frames in a row, the 20 frames before their first): someone the detector does not see beside
        another was often there already, hidden in part or bent over them, where no crop beside them read them twice
        alike. Now that their looks are known, crops on their region of the next frame (``BACK_SIDES``,
        ``BACK_TURNS``) read them where a reading looks like them, lies within ``NEAR`` of that region, and is nobody
        else's body of that frame (``_taken``); frame by frame until none does. The readings get hands as tracked
        ones do (``_take_back``). The rendered three-person crossing's third man,
        bent double a third hidden behind the walker in front on frames 6-11, is found only on frame 12 (his
        ``--people all`` take missed those 6 of his 114 visible frames, identity 0.95)."""
        person, identity = self.people[k], self.crowd.tracks[k].identity
        first = min(person.landmarks)
        after = person.landmarks[first]  # the reading of the frame after the one looked at
        back: list[tuple[int, np.ndarray, np.ndarray]] = []  # (row, landmarks (39, 5), world), latest first
        for row in range(first - 1, -1, -1):
            image = self._recent.get(row)
            if image is None:
                break
            h, w = image.shape[:2]
            region = region_of(finder.pixels(after, w, h))
            if region is None:
                break
            rois = np.stack([finder.roi_of_region((region + [0.0, 0.0, 0.0, np.radians(t)]) * [1.0, 1.0, side, 1.0],
                                                  w, h) for side in BACK_SIDES for t in BACK_TURNS])
            flags, lms, worlds = self.models.landmarks([image] * len(rois), rois, self.settings.mirror_average)
            others = None  # everyone else's bodies on the frame, once (their looks cost a histogram each)
            best = None
            for j in np.argsort(-flags):
                if flags[j] < self.settings.min_tracking_confidence:
                    break
                pts = finder.pixels(lms[j, :NUM_BODY], w, h)
                here = region_of(pts)
                if here is None or np.hypot(*(here[:2] - region[:2])) > NEAR * region[2]:
                    continue
                looks = appearance(image, pts)
                if identity.looks_like(looks) is not True:
                    continue
                if others is None:
                    others = self._others(image, row, person)
                if not any(_taken(_Reading(pts, here, looks), other) for other in others):
                    best = j
                    break
            if best is None:
                break
            back.append((row, lms[best], worlds[best]))
            after = lms[best, :NUM_BODY]
        if back:
            self._take_back(person, back[::-1])

    def _others(self, image: np.ndarray, row: int, person: _Person) -> list[_Reading]:
        """Every other person's body read on frame ``row`` (``image``)."""
        h, w = image.shape[:2]
        out = []
        for q in self.people:
            if q is not person and row in q.landmarks:
                pts = finder.pixels(q.landmarks[row], w, h)
                region = region_of(pts)
                if region is not None:
                    out.append(_Reading(pts, region, appearance(image, pts)))
        return out

    def _take_back(self, person: _Person, back: list[tuple[int, np.ndarray, np.ndarray]]) -> None:
        """Give ``person`` the readings ``_look_back`` found on the frames before their first (``back``: (row,
        landmarks (39, 5), world), in frame order), as read, and, with hands asked for, their hands on the frames
        whose chunk ``hands_of_chunk`` has done (the later ones get theirs with their chunk). Not through filters of
        their own (``BodyTracker.accept`` on a fresh ``Stream``, from the earliest): on the rendered three-person
        crossing that moved the third man's frames 8-11 up to 9 px and took his ``--people all`` limb PA-MPJPE from
        56.3 to 58.2 mm (``bench tracking --clips CROSSING``, December 2026): he unbends there, and the filters lag."""
        for row, lm, world in back:
            person.landmarks[row] = lm[:NUM_BODY].copy()
            person.world[row] = np.concatenate([world[:NUM_BODY], lm[:NUM_BODY, 3:4]], axis=1)
        done = [row for row, _, _ in back if row <= self._handed]
        if done and self.hand_models is not None:
            tracker = HandTracker(self.hand_models, 1, self.settings.warmup_frames)
            hands = tracker.run_chunk([self._recent[r] for r in done], np.stack([person.landmarks[r] for r in done]))
            for i, r in enumerate(done):
                person.hands[r] = hands.landmarks[i]

    def _missing(self, image: np.ndarray, row: int) -> list[tuple[int, np.ndarray]]:
        """(person, ROI (5,)) where each person missing on the last frame, for less than ``SEARCH_SECONDS``, may be
        on frame ``row`` (``MISSING_CROPS`` round ``core.crowd.Track.expected``), on the frames their search is due
        (``core.person.Identity.search_due``). Not someone just found beside another and lost (``_tentative``): most
        are bodies a crop read where nobody was, and a search crop's reading of anyone like them revived them."""
        h, w = image.shape[:2]
        out = []
        for k, person in enumerate(self.people):
            track = self.crowd.tracks[k]
            if person.stream.roi is None and track.rows and 0 < track.identity.missing < self.search_frames \
                    and not self._tentative(k) and track.identity.search_due():
                out += [(k, roi) for roi in finder.beside(track.expected(row), MISSING_CROPS, w, h)]
        return out

    def _beside(self, image: np.ndarray, row: int) -> list[tuple[int, np.ndarray]]:
        """(person, ROI (5,)) where someone unknown may stand beside each person tracked into frame ``row``
        (``UNKNOWN_CROPS``, ``UNKNOWN_SHIFT`` and ``UNKNOWN_SIDE`` of ``core.crowd.Track.expected``)."""
        h, w = image.shape[:2]
        return [(k, roi) for k, person in enumerate(self.people) if person.stream.roi is not None
                for roi in finder.beside(self.crowd.tracks[k].expected(row), UNKNOWN_CROPS, w, h, UNKNOWN_SHIFT,
                                         UNKNOWN_SIDE)]

    def _confirmed(self, image: np.ndarray, readings: list[tuple[Candidate, int]], lms: np.ndarray,
                   worlds: np.ndarray, beside: dict[int, int]) -> list[tuple[Candidate, int]]:
        """``readings`` (``_bodies``) with each one of a crop beside someone (``beside``) read again on the crop it
        points to, as tracking would go on: kept, as the second reading (``lms``, ``worlds`` rewritten), only where
        that finds the same body (``SAME_BODY``). A crop holding the edge of someone, or nobody, fools the model
        once: on the rendered three-person crossing, crops beside the walkers read bodies in empty floor at
        presence 0.6-0.93, which, taken as new people, were tracked 15-30 frames and kept as people of their own."""
        h, w = image.shape[:2]
        new = [i for i, (_, j) in enumerate(readings) if j in beside]
        if not new:
            return readings
        rows = [readings[i][1] for i in new]
        again = np.stack([body.roi_from_points(lms[j, NUM_BODY, :2], lms[j, NUM_BODY + 1, :2], w, h) for j in rows])
        flags2, lms2, worlds2 = self.models.landmarks([image] * len(rows), again, self.settings.mirror_average)
        out = list(readings)
        for i, j, flag, lm, world in zip(new, rows, flags2, lms2, worlds2):
            first, second = finder.pixels(lms[j, :NUM_BODY], w, h), finder.pixels(lm[:NUM_BODY], w, h)
            region = region_of(second)
            if flag < self.settings.min_tracking_confidence or region is None \
                    or not _same_body(first, second, region[2]):
                out[i] = None
                continue
            lms[j], worlds[j] = lm, world
            out[i] = (Candidate(region, appearance(image, second), body_size(second)), j)
        return [r for r in out if r is not None]

    def _tentative(self, k: int) -> bool:
        """Whether person ``k`` was first found by a crop beside someone and seen on fewer than ``recent`` frames
        (``core.crowd.Track``): such a crop can read a body that is not there, and its tracking then slides onto
        the person beside (the rendered two-person crossing: frame 45, between the walkers; on frame 46 it read the
        near walker, and took his reading from him, and his filters started afresh)."""
        return self.people[k].beside and len(self.crowd.tracks[k].rows) < self.crowd.tracks[k].recent

    def _miss_all(self) -> None:
        self.crowd.step(-1, [])
        for person in self.people:
            person.stream.lose()

    def _bodies(self, image: np.ndarray, flags: np.ndarray, lms: np.ndarray, sources: list[int],
                searched: dict[int, int] | None = None,
                beside: dict[int, int] | None = None) -> list[tuple[Candidate, int]]:
        """(candidate, index of its reading) of each distinct body the landmark model found. A reading of a crop
        that looks for a missing person (``searched``: reading -> their track) counts only where it looks like
        them: a crop beside someone else reads a part of them too (the rendered three-person crossing: a crop
        beside the walker in front, where the far walker hidden behind him was expected, read a body of the
        walker's colours 0.17 region sides from him, which took the far walker's track). A reading of a crop beside
        a tracked person, looking for someone unknown (``beside``: reading -> that person), counts only where it
        looks unlike them, and unlike every body kept before it that it overlaps (``core.crowd``'s rule: pelvises
        within a quarter of the larger side): else it is one of them read again."""
        h, w = image.shape[:2]
        searched, beside = searched or {}, beside or {}
        found: list[tuple[float, int, np.ndarray, np.ndarray | None, np.ndarray]] = []
        for j in np.flatnonzero(flags >= self.settings.min_tracking_confidence):
            pts = finder.pixels(lms[j, :NUM_BODY], w, h)
            region = region_of(pts)
            if region is None:
                continue
            looks = appearance(image, pts) if j in searched or j in beside else None  # else once kept
            if (j in searched and self.crowd.tracks[searched[j]].identity.looks_like(looks) is not True) \
                    or (j in beside and self.crowd.tracks[beside[j]].identity.looks_like(looks) is not False):
                continue
            # A tracked person's own reading first, then the surer: it keeps a body found twice.
            found.append((float(sources[j] >= 0 and not self._tentative(sources[j])) + float(flags[j]), int(j),
                          region, looks, pts))
        found.sort(key=lambda f: -f[0])
        kept: list[tuple[Candidate, int, _Reading]] = []
        for _, j, region, looks, pts in found:
            # A crop beside someone may also have read a body over theirs, not unlike it.
            if not any(_taken(_Reading(pts, region, looks), other, by_looks=j in beside) for _, _, other in kept):
                signature = appearance(image, pts) if looks is None else looks
                kept.append((Candidate(region, signature, body_size(pts)), j, _Reading(pts, region, signature)))
        return [(c, j) for c, j, _ in kept]

    def hands_of_chunk(self, images: list[np.ndarray], rows: list[int]) -> None:
        """Track each person's hands through ``images`` (frames ``rows``), given their bodies there."""
        if self.hand_models is None:
            return
        for person in self.people:
            if not any(r in person.landmarks for r in rows):
                continue
            if person.hand_tracker is None:
                person.hand_tracker = HandTracker(self.hand_models, 1, self.settings.warmup_frames)
            pose = np.stack([person.landmarks.get(r, np.full((NUM_BODY, 5), np.nan)) for r in rows])
            track = person.hand_tracker.run_chunk(images, pose)
            for i, r in enumerate(rows):
                person.hands[r] = track.landmarks[i]
        self._handed = max(self._handed, max(rows, default=-1))

    def result(self, frames: int) -> PeopleTrack:
        """The kept people's results over ``frames`` rows, in ID order (``core.crowd.Crowd.people``)."""
        keep = self.crowd.people()
        P = len(keep)
        out = PeopleTrack(np.full((P, frames, NUM_BODY, 5), np.nan), np.full((P, frames, NUM_BODY, 4), np.nan),
                          np.zeros((P, frames), bool),
                          np.full((P, frames, 2, 21, 3), np.nan) if self.hand_models is not None else None)
        for p, k in enumerate(keep):
            person = self.people[k]
            for r, lm in person.landmarks.items():
                out.landmarks[p, r], out.world[p, r], out.present[p, r] = lm, person.world[r], True
            if out.hands is not None:
                for r, hands in person.hands.items():
                    out.hands[p, r] = hands
        return out


def track_people(frames: Iterable[tuple[int, np.ndarray]], *, fps: float, settings: TorchPoseSettings,
                 models: BodyModels | None = None, num_frames: int = 0,
                 progress: Callable[[int, int], None] | None = None,
                 should_cancel: Callable[[], bool] | None = None) -> tuple[list[int], PeopleTrack]:
    """(video frame index of each row, everyone's results) of streamed ``(index, rgb)`` frames.

    ``frames`` as ``core.pose_torch.estimate_body`` takes them (RGB uint8, possibly downscaled;
    the results are normalized to the frame). ``fps``: frames per second of the stream (short
    tracks are dropped by time). ``num_frames``: expected count, for ``progress(done, total)``.

    The torch ops run on one CPU thread (``networks.one_cpu_thread``), as the fit's do: the crops are
    small, and on torch's default two threads of the 2-core bench machine under load (11), 30 frames of
    two people crossing took 89 s wall / 30 s CPU against 11.9 s / 4.0 s on one thread. The second core
    is left to the decoding and to the people's Holistic graphs.
    """
    tracker = PeopleTracker(settings, models, fps)
    indices: list[int] = []
    chunk: list[np.ndarray] = []
    rows: list[int] = []
    with one_cpu_thread(tracker.models.device):
        for index, rgb in frames:
            small = np.ascontiguousarray(shrink(rgb, settings.max_side))
            tracker.step(small, len(indices))
            rows.append(len(indices))
            indices.append(index)
            chunk.append(small)
            if len(chunk) >= CHUNK:
                tracker.hands_of_chunk(chunk, rows)
                chunk, rows = [], []
            if progress is not None:
                progress(len(indices), max(num_frames, len(indices)))
            if should_cancel is not None and should_cancel():  # every frame: a frame of everyone takes long
                raise CancelledError()
        if chunk:
            tracker.hands_of_chunk(chunk, rows)
    if progress is not None:
        progress(len(indices), max(num_frames, len(indices)))
    return indices, tracker.result(len(indices))


class _Reading(NamedTuple):
    """One body the landmark model read on a frame: ``pts`` (33, >=3) pixels, their ``region`` (``region_of``) and
    ``looks`` (``appearance``; None where not seen or not needed)."""

    pts: np.ndarray
    region: np.ndarray
    looks: np.ndarray | None


def _taken(reading: _Reading, other: _Reading, by_looks: bool = True) -> bool:
    """Whether ``reading`` is the body ``other`` (of the same frame) read again: one body (``SAME_BODY``), or, where
    ``by_looks``, overlapping it (``core.crowd``'s rule: pelvises within a quarter of the larger side) and not unlike
    it (``APPEARANCE_SAME``): a crop beside someone reads a body over theirs."""
    return _same_body(reading.pts, other.pts, max(reading.region[2], other.region[2])) or (
        by_looks and overlap(reading.region, other.region)
        and not appearance_distance(other.looks, reading.looks) >= APPEARANCE_SAME)


def _same_body(a: np.ndarray, b: np.ndarray, side: float) -> bool:
    """Whether two readings (33, >=2 px) may be of one body: their landmarks not a median over ``SAME_BODY`` of a
    region's ``side`` (pixels) apart."""
    return not np.median(np.hypot(*(a[:, :2] - b[:, :2]).T)) > SAME_BODY * side
