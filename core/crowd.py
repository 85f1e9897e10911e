"""Everyone in view (``--people all``): a stable ID per person across frames.

Numpy and SciPy only; no network. Each frame's candidates (the bodies a
tracker found: their region and looks) are matched to the people known so far
in one Hungarian assignment (``scipy.optimize.linear_sum_assignment``): the
cost of giving a candidate to a person is how far it lies from where they are
expected, in region sides, plus how unlike their looks it is
(``core.person.Identity``, the identity the single-person search keeps).
A candidate no known person may take (too far, too big a change of size; for
someone missing over ``LOST_SECONDS``, looks that do not match) starts a new
person, so a passer-by never takes an ID that is someone else's, and a person
who leaves and comes back takes their old ID again when their looks match.

When the clip is done, :meth:`Crowd.people` keeps the people seen long enough
(short tracks are false detections or someone crossing a corner) and numbers
them by first appearance, then size (larger first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .person import SIZE_STEP, Identity, far_from

LOOKS_WEIGHT = 2.0
"""Cost of one unit of appearance distance (0 same colours, 1 none shared) against one region side of
distance: two people side by side are told apart by their clothes before their places."""
UNKNOWN_LOOKS = 0.5
"""Appearance distance charged when either signature is unknown (a part not seen)."""
MIN_SECONDS = 0.5
"""A person seen on fewer frames than this many seconds' worth is dropped (issue 16: short tracks)."""
LOST_SECONDS = 0.5
"""Missing this long, a person may be anywhere: only looks that match claim them (:func:`match_cost`), their expected
place moves on no further (:meth:`Track.expected`) and no body is taken for a blend of them (:meth:`Track.blend`).
``core.person.LOST_FRAMES`` at 30 fps, counted here in the clip's frames (``Crowd.fps``)."""
RECENT_SECONDS = 1 / 3
"""Sightings a person's expected place and size are judged from (:meth:`Track.expected`, :meth:`Track.size`): this
long's worth (10 at 30 fps). Long enough that one blended reading (10-12 px off on the rendered crossings) moves the
mean velocity by about a pixel a frame, against ten for the last step alone; short enough that a walker's turn or
stop shows within it. Their mean velocity over these and their median size, not the last step's (the identity's,
``core.person.Identity.expected``): the last reading before someone passes in front of a person is often a blend of
the two (the rendered three-person crossing's far walker read 15% larger, his pelvis lower, on the frame before he
was hidden: a crop where that put him 13 frames later, 30 px too low and too large, found nobody)."""
_NO = 1e6
"""Cost of a pair that may not be matched."""


@dataclass(frozen=True)
class Candidate:
    """One body a tracker found in a frame.

    Attributes:
        region: (4,) cx, cy, side (px), rotation (rad): ``core.person.region_of``.
        signature: appearance signature (``core.person.appearance``), None when not seen.
        size: the body's size without its arms (``core.person.body_size``, px), None when not known.
    """

    region: np.ndarray
    signature: np.ndarray | None = None
    size: float | None = None


@dataclass
class Track:
    """One person: their identity, and the frames (rows of the capture) and region sides they were seen with."""

    identity: Identity = field(default_factory=Identity)
    rows: list[int] = field(default_factory=list)
    sides: list[float] = field(default_factory=list)
    centres: list[np.ndarray] = field(default_factory=list)
    sizes: list[float] = field(default_factory=list)
    recent: int = 10
    """Sightings judged from (``RECENT_SECONDS`` in frames)."""
    lost: int = 15
    """Frames missing after which they are lost (``LOST_SECONDS`` in frames)."""

    @property
    def first(self) -> int:
        return self.rows[0]

    @property
    def size(self) -> float | None:
        """Their body's size (``Candidate.size``), the median of their last ``recent`` known ones; None unknown."""
        return float(np.median(self.sizes[-self.recent:])) if self.sizes else None

    def see(self, row: int, candidate: Candidate) -> None:
        self.identity.see(candidate.region, candidate.signature)
        self.rows.append(row)
        self.sides.append(float(candidate.region[2]))
        self.centres.append(np.asarray(candidate.region[:2], np.float64))
        if candidate.size:
            self.sizes.append(float(candidate.size))

    def blend(self, candidate: Candidate, others: list[Candidate]) -> bool:
        """Whether ``candidate``, where this person should be, is a body read over another of the frame (``others``:
        the bodies nearer someone else's track than this one's; one it overlaps, :func:`overlap`), not theirs: it is
        over ``SIZE_STEP`` times their size (whoever hides a person stands nearer the camera, so looks larger), or
        they were missing, the body it overlaps is larger than they are and it is nearer that body's size than
        theirs (geometric mean): a person hidden behind someone is taken back once clear of them, or once read at
        their own size. Their own reading beside it does not make it a blend: someone first seen in front of
        them is someone else, and a smaller person beside a larger one keeps their readings after a missed frame.
        A crop on a person half hidden reads a body between the two: the rendered two-person crossing's far walker
        (199 px) lost behind the near one (268 px) was read on frame 57 as one of 266 px, 9 px lower, 42 px from
        the near walker's pelvis, and on frame 69, coming out, as one of 235 px, 12 px lower, 36 px from it; his take,
        bridged between those, passed nearer the near walker than himself. Never while they are lost or of unknown
        size."""
        size = self.size
        if not size or not candidate.size or self.identity.missing >= self.lost \
                or not self.identity.near(candidate.region):
            return False
        larger = candidate.size > SIZE_STEP * size
        return any(other is not candidate and overlap(candidate.region, other.region)
                   and (larger or (self.identity.missing > 0 and (other.size or 0.0) > size
                                   and candidate.size > np.sqrt(size * other.size))) for other in others)

    def expected(self, row: int) -> np.ndarray:
        """(4,) the upright region (cx, cy, side, 0) where the person should be on frame ``row``: their last place
        moved on at their mean velocity over their last ``recent`` sightings (at most ``lost`` frames of it), of
        their median side over those."""
        rows, centres = self.rows[-self.recent:], self.centres[-self.recent:]
        velocity = (centres[-1] - centres[0]) / (rows[-1] - rows[0]) if rows[-1] > rows[0] else np.zeros(2)
        cx, cy = centres[-1] + velocity * min(row - rows[-1], self.lost)
        return np.array([cx, cy, float(np.median(self.sides[-self.recent:])), 0.0])


def overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two regions (4,) overlap: their pelvises within a quarter of the larger side (``core.person.far_from``
    from either)."""
    return not (far_from(a, b) and far_from(b, a))


def match_cost(identity: Identity, candidate: Candidate, lost: int) -> float:
    """Cost of the candidate being this person (``_NO`` when it may not be them).

    Near where they are expected: distance in region sides plus ``LOOKS_WEIGHT`` x appearance
    distance. Missing ``lost`` frames or more (``LOST_SECONDS``: they may be anywhere): their looks
    alone, and only looks that match (``Identity.looks_like``) count.
    """
    if identity.missing >= lost:
        if identity.looks_like(candidate.signature) is not True:
            return _NO
        return LOOKS_WEIGHT * identity.unlike(candidate.signature)
    if not identity.near(candidate.region):
        return _NO
    unlike = identity.unlike(candidate.signature)
    return identity.gap(candidate.region) + LOOKS_WEIGHT * (UNKNOWN_LOOKS if math.isnan(unlike) else unlike)


class Crowd:
    """The people of one capture, matched frame by frame (see the module docstring)."""

    def __init__(self, fps: float = 30.0) -> None:
        if not fps > 0:
            raise ValueError(f"the crowd's frame rate must be positive, got {fps}")
        self.fps = fps
        self.tracks: list[Track] = []

    def step(self, row: int, candidates: list[Candidate]) -> list[int]:
        """Match frame ``row``'s candidates to people; returns each candidate's track index (a new track for a
        candidate nobody may take) or -1 for a candidate dropped as a blend: a :meth:`Track.blend` of the person
        it would cost least to give it to (it is nobody's, and left out of the assignment, where it could push
        that person onto someone else's body); a blend of anyone else may only not go to them. People not matched
        miss the frame."""
        from scipy.optimize import linear_sum_assignment

        owners = [-1] * len(candidates)
        keep = list(range(len(candidates)))
        if self.tracks and candidates:
            cost = np.array([[match_cost(t.identity, c, t.lost) for c in candidates] for t in self.tracks])
            whose = np.argmin(cost, axis=0)  # the track each body would cost least to give to
            blends = np.array([[t.blend(c, [o for o, w in zip(candidates, whose) if w != k]) for c in candidates]
                               for k, t in enumerate(self.tracks)])
            keep = [c for c in keep if not blends[whose[c], c]]
            cost = np.where(blends, _NO, cost)[:, keep]
            for t, k in zip(*linear_sum_assignment(cost)):
                if cost[t, k] < _NO:
                    owners[keep[k]] = int(t)
        matched = set(owners)
        for t, track in enumerate(self.tracks):
            if t not in matched:
                track.identity.miss()
        for c in keep:
            if owners[c] < 0:
                self.tracks.append(Track(recent=max(2, round(RECENT_SECONDS * self.fps)),
                                         lost=max(1, round(LOST_SECONDS * self.fps))))
                owners[c] = len(self.tracks) - 1
            self.tracks[owners[c]].see(row, candidates[c])
        return owners

    def people(self, min_seconds: float = MIN_SECONDS) -> list[int]:
        """Track indices of the people to keep, in ID order (person 1 first): seen on at least
        ``min_seconds`` of frames (at least 2, at ``fps``), ordered by first frame, then median size (larger first)."""
        least = max(2, math.ceil(min_seconds * self.fps))
        kept = [t for t, track in enumerate(self.tracks) if len(track.rows) >= least]
        # Sizes to whole pixels: people of one size keep the order the tracker met them in.
        return sorted(kept, key=lambda t: (self.tracks[t].first, -round(float(np.median(self.tracks[t].sides))), t))
