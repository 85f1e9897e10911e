"""Who a capture follows: the chosen person's identity, kept frame to frame, and a user's pick.

Numpy and OpenCV only; both pose backends use it. An :class:`Identity` holds
where the person's region is and how it moves (centre, velocity, side and
rotation of a MediaPipe-style region of interest), how big they are, and a
cheap appearance signature: HSV colour histograms of the torso and the legs
cut out along the landmarks. A candidate (a detection, or the landmarks a
backend found) is the person when it lies where they are expected and,
where that cannot tell (the person was lost for a while, or another person
overlaps them), when it looks like them.

Units: pixels of the image the pose backend sees (possibly downscaled),
y down; regions of interest are ``(cx, cy, side, rotation)`` in pixels and
radians clockwise, the way MediaPipe rotates its crops (0: upright).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import MocapError
from .landmarks import trunk_vectors
from .option_values import parse_person

# MediaPipe body landmark indices (core.landmarks.BODY) of the parts the signature looks at.
_TORSO = (11, 12, 24, 23)  # left shoulder, right shoulder, right hip, left hip: a quadrilateral
_LEGS = ((23, 25), (24, 26), (25, 27), (26, 28))  # thighs and shins
_HIPS, _SHOULDERS = (23, 24), (11, 12)
_HEAD = tuple(range(11))  # nose, eyes, ears, mouth
HIST_BINS = (16, 8)
"""Hue and saturation bins of a part's histogram: coarse, so lighting and small crops barely move it."""

APPEARANCE_SAME = 0.5
"""Bhattacharyya distance of two signatures below which they may be the same person. Measured on
the demo clip (torso and legs, 960 px frames): the man against himself on the box, turning and
walking into the sun's flare, 0.2-0.55; against the walking woman 0.7-0.85. Looks also change
(after his flip the man's shirt is up and he is backlit: 0.7-0.85 from his look before), so they
decide only where the place cannot: between people near the expected place, and after the person
was lost for a while."""
REPLACE_MARGIN = 0.15
"""A candidate replaces the tracked person when it looks like them by this much more ..."""
REPLACE_MAX = 0.65
"""... and is no further from their looks than this."""
NEAR = 0.35
"""A candidate's pelvis within this many region sides of where the person is expected is near
enough to be them; the reach grows by a quarter with every frame they are missing, up to 4 times.
(Growing it faster finds the demo's man sooner after his landing, but lets the woman walking by take
the track while he is in the air: missing frames are better than someone else's.) Beyond this first reach,
a candidate found after the person went missing must not look unlike them (``Identity.disagrees``)."""
SEARCH_EVERY = 3
"""Once the person has been missing two frames in a row, frames between two searches for them (the first two
missing frames are searched: in the demo's flip the man is often found again on the next one). A
person who left the view costs a search every third frame, not every frame, and one who comes back is
found within this many frames (issue 16's target)."""
SIZE_STEP = 1.25
"""A candidate whose body (``body_size``) is over this many times larger than the person's disagrees with their
track. Larger only: whoever hides the person stands nearer the camera, so looks larger, while a person
shrinks by their own motion (a tuck, a crouch, walking away); a smaller passer-by in front is left to the
looks (``RIVAL_EVERY``). A body keeps its size within a few percent frame to frame (walking: region sides
193-213 px), while a bystander who takes the track is rarely of the same size: on the rendered crossings the
walker in front reads 1.3-1.4 times the one behind. The person's size is a slow mean (``Identity.size``): a
crop sliding onto a bystander's body reads a blend of the two for a frame or two first."""
SIZE_MEMORY = 0.8
"""Share of the person's size kept at each sighting (the rest is the new reading's): about five frames."""
STRAY = 0.2
"""A candidate's pelvis this many region sides from where the person, seen on the last frame, should be
disagrees with their track: they move a few hundredths of a side a frame (the rendered crossings: 0.02;
the demo's flip 0.05-0.15), and a tracker's crop that slid onto the walker in front jumped 0.34."""
OCCLUDER_UNLIKE = 0.65
"""A body a track of the person slid onto is taken for someone hiding them (``Identity.slid``) when it is this far
from their looks: clearly unlike them, not a doubtful reading of them (the rendered three-person crossing: the
jumper read crouching, 0.51 from his looks, is still him; the jumper read over the far walker's crop, 0.73)."""
LOST_FRAMES = 15
"""Missing this many frames in a row, the person may be anywhere: candidates are judged by looks alone."""
RIVAL_EVERY = 3
"""While the tracked body does not look like the person, frames between two searches for someone who
does (``core.pose_torch.finder.Finder.rival``, the cost of a search): after the demo's flip the man is
backlit and his shirt up, unlike his looks for 40 frames, and a search on every one of them cost
more than tracking him."""
SETTLE_LOOKS = 4
"""Looks an identity takes in unconditionally (half old, half new; one every few frames, so over half a
second) before its looks may judge anyone.
The first readings of a person are not always right: on the demo's frames 31-35 MediaPipe read the
man lying on his side, his pelvis by his head, and the colours cut out along that reading were
0.8-0.9 from his own; learnt as his looks and kept (looks that do not match are not learnt), they
made every later, right reading of him a doubt and a misreading of him a 'rival' that took the
track (issue 16). A user's pick is settled at once: its frame was chosen (but see ``CLEAR_LOOKS``)."""
CLEAR_LOOKS = 3
"""Looks taken where the person stands clear of everyone that replace a pick's looks taken where they overlapped
someone (``Identity.crowded``): the first replaces them, the others are averaged in half and half. The rendered
three-person crossing's jumper, picked on frame 6 a third hidden behind the walker in front, was first read
(frames 8-16) as a blend of the two: those looks were 0.64-0.76 from his own when he stood apart (frames 23-32, 61-104),
the walker's 0.5-0.6 from them, and a rival search handed the walker the track on frame 105."""


def _part_histogram(hsv: np.ndarray, polygons: list[np.ndarray]) -> np.ndarray | None:
    """Normalized (16 * 8,) hue-saturation histogram of the pixels inside ``polygons`` (each (N, 2) px)."""
    import cv2

    h, w = hsv.shape[:2]
    pts = np.concatenate(polygons)
    x0, y0 = np.clip(np.floor(pts.min(0)).astype(int), 0, [w, h])
    x1, y1 = np.clip(np.ceil(pts.max(0)).astype(int) + 1, 0, [w, h])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for poly in polygons:
        cv2.fillConvexPoly(mask, np.round(poly - [x0, y0]).astype(np.int32), 255)
    if int(np.count_nonzero(mask)) < 30:
        return None
    hist = cv2.calcHist([np.ascontiguousarray(hsv[y0:y1, x0:x1])], [0, 1], mask, list(HIST_BINS), [0, 180, 0, 256])
    hist = hist.ravel().astype(np.float32)
    return hist / max(float(hist.sum()), 1e-9)


def _limb_polygon(a: np.ndarray, b: np.ndarray, width: float) -> np.ndarray:
    """A quadrilateral ``width`` wide along the segment a -> b."""
    d = b - a
    n = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-9) * (width / 2)
    return np.stack([a + n, b + n, b - n, a - n])


def appearance(rgb: np.ndarray, points: np.ndarray, min_visibility: float = 0.5) -> np.ndarray | None:
    """The colour signature of the person whose landmarks are ``points`` in ``rgb``.

    Args:
        rgb: (H, W, 3) uint8 image.
        points: (33, >=3) body landmarks: x, y in pixels of ``rgb``, visibility.
    Returns (2, 128) float32: the torso's and the legs' normalized hue-saturation
    histograms (a row of NaN for a part not seen), or None when neither is seen.
    """
    import cv2

    pts = np.asarray(points, np.float64)
    if not np.isfinite(pts[:, :3]).all():
        return None
    vis = pts[:, 2]
    out = np.full((2, HIST_BINS[0] * HIST_BINS[1]), np.nan, np.float32)
    shoulder = np.linalg.norm(pts[11, :2] - pts[12, :2])
    torso = np.linalg.norm(pts[[11, 12], :2].mean(0) - pts[[23, 24], :2].mean(0))
    width = max(0.4 * max(shoulder, 0.5 * torso), 2.0)
    parts = [
        [pts[list(_TORSO), :2]] if (vis[list(_TORSO)] >= min_visibility).all() else [],
        [_limb_polygon(pts[a, :2], pts[b, :2], width) for a, b in _LEGS if min(vis[a], vis[b]) >= min_visibility],
    ]
    if not any(parts):
        return None
    # Only the box round the parts is converted to HSV (the colours are per pixel, so the same), not the frame.
    h, w = rgb.shape[:2]
    corners = np.concatenate([poly for polygons in parts for poly in polygons])
    x0, y0 = np.clip(np.floor(corners.min(0)).astype(int), 0, [w, h])
    x1, y1 = np.clip(np.ceil(corners.max(0)).astype(int) + 1, 0, [w, h])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2HSV)
    for k, polygons in enumerate(parts):
        if not polygons:
            continue
        hist = _part_histogram(hsv, [poly - [x0, y0] for poly in polygons])
        if hist is not None:
            out[k] = hist
    return None if np.isnan(out).all() else out


def appearance_distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Bhattacharyya distance (0 same colours, 1 none shared) of two signatures over the parts both saw;
    NaN when they share none."""
    if a is None or b is None:
        return float("nan")
    both = ~(np.isnan(a).any(1) | np.isnan(b).any(1))
    if not both.any():
        return float("nan")
    bc = np.sqrt(np.clip(a[both], 0, None) * np.clip(b[both], 0, None)).sum(1)
    return float(np.mean(np.sqrt(np.clip(1.0 - bc, 0.0, 1.0))))


def far_from(region: np.ndarray, other: np.ndarray) -> bool:
    """Whether two regions (4,) hold different people: their pelvises a quarter of ``other``'s side apart or more."""
    return bool(np.hypot(*(region[:2] - other[:2])) > 0.25 * max(other[2], 1.0))


_ARMS = slice(13, 23)  # elbows, wrists and hands


def _box(points: np.ndarray, min_visibility: float = 0.5) -> np.ndarray | None:
    """(4,) x0, y0, x1, y1 of the landmarks (33, >=3: px, visibility) seen at ``min_visibility``, or None."""
    pts = np.asarray(points, np.float64)
    seen = np.isfinite(pts[:, :2]).all(1) & (np.nan_to_num(pts[:, 2]) >= min_visibility)
    return np.r_[pts[seen, :2].min(0), pts[seen, :2].max(0)] if seen.any() else None


def apart(points: np.ndarray, other: np.ndarray) -> bool:
    """Whether two bodies' landmarks (33, >=3: px, visibility) do not overlap in the image: the boxes round their
    seen landmarks do not meet, so neither's colours (``appearance``) hold any of the other's."""
    a, b = _box(points), _box(other)
    if a is None or b is None:
        return False
    return bool(a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def body_size(points: np.ndarray) -> float | None:
    """The side (px) of :func:`region_of` the body's landmarks (33, >=3) without its arms, or None: a size that
    a swing of the arms does not change (the demo's man at take-off: 237 -> 327 px with them, 237 -> 265
    without), for telling people apart (``Identity.disagrees``)."""
    pts = np.array(points, np.float64)
    pts[_ARMS, 2] = 0.0
    region = region_of(pts)
    return None if region is None else float(region[2])


def rotation_of(points: np.ndarray) -> float | None:
    """Rotation (radians, clockwise in the image, 0 upright) of body landmarks (33, >=3: px, visibility): the
    rotation of their :func:`region_of`, without the rest of the region (the turned look's per-frame check of
    an upright body needs only this), or None where hips or shoulders are unknown."""
    pts = np.asarray(points, np.float64)
    if not np.isfinite(pts[list(_HIPS + _SHOULDERS), :2]).all():
        return None
    up = pts[list(_SHOULDERS), :2].mean(0) - pts[list(_HIPS), :2].mean(0)
    return math.atan2(up[0], -up[1])  # 0 when the shoulders are straight above the hips (y down)


def region_of(points: np.ndarray, min_visibility: float = 0.3) -> np.ndarray | None:
    """(4,) region (cx, cy, side, rotation) of body landmarks (33, >=3: px, visibility), or None.

    Centred on the mid-hip, rotated so the spine points up (:func:`rotation_of`), and big enough for
    every visible landmark, like the region MediaPipe tracks the body in.
    """
    pts = np.asarray(points, np.float64)
    rotation = rotation_of(pts)
    if rotation is None:
        return None
    hip = pts[list(_HIPS), :2].mean(0)
    up = pts[list(_SHOULDERS), :2].mean(0) - hip
    seen = np.isfinite(pts[:, 0]) & (np.nan_to_num(pts[:, 2]) >= min_visibility)
    reach = np.linalg.norm(pts[seen, :2] - hip, axis=1).max() if seen.any() else 0.0
    reach = max(reach, 1.6 * float(np.hypot(*up)))  # a torso alone still stands for a whole body
    return np.array([hip[0], hip[1], 2.0 * 1.25 * reach, rotation])


@dataclass
class Identity:
    """The followed person, as last seen; updated on every frame they are found.

    Attributes:
        region: (4,) cx, cy, side (px), rotation (rad) when last seen; None before the first.
        velocity: (4,) change of the region per frame (smoothed).
        signature: appearance signature (see :func:`appearance`), a running mean; None unknown.
        missing: frames since they were last seen.
        looks: signatures taken in so far (see ``SETTLE_LOOKS``).
        bystander: (4,) the region of a body refused as someone else on this frame (the one MediaPipe
            holds while the person is hidden behind them), or None: a candidate there that does not
            look like the person is that someone too (a crop slides onto them a little at a time).
        size: their body's size (:func:`body_size`, px), a slow running mean (``SIZE_MEMORY``): a crop
            that slides onto a bystander over a few frames moves their region with it, not this; 0 unknown.
        bystander_looks: the bystander's signature, where it was taken: a candidate on them that looks more like
            them than like the person is them (:meth:`likeness`), however near the person's looks.
        occluder, occluder_looks: the region and signature of the body a track of the person slid onto, refused as
            someone else (:meth:`check`) after the person's looks last matched: the one who hides them now. Unlike
            ``bystander`` it is kept from frame to frame and moves with them (a candidate on them that looks more
            like them than like the person is them, and is where they are now); while it is known, a candidate must
            not look unlike the person (:meth:`disagrees`). Forgotten when the person is seen again apart from them
            or looking like themselves (:meth:`see`), or is lost (``LOST_FRAMES``).
        crowded: clear looks still to take (``CLEAR_LOOKS``): the looks were taken where someone else overlapped the
            person (a pick that landed on a body half hidden behind another's) and are a blend of the two:
            :meth:`see_clear` replaces them.
    """

    region: np.ndarray | None = None
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4))
    signature: np.ndarray | None = None
    missing: int = 0
    looks: int = 0
    size: float = 0.0
    bystander: np.ndarray | None = None
    bystander_looks: np.ndarray | None = None
    occluder: np.ndarray | None = None
    occluder_looks: np.ndarray | None = None
    crowded: int = 0

    @property
    def settled(self) -> bool:
        """Whether their looks are known well enough to doubt someone found where they should be."""
        return self.signature is not None and self.looks >= SETTLE_LOOKS

    def search_due(self) -> bool:
        """Whether to search for the person on this frame (they are not tracked on it): always while they
        are unknown or were seen a frame or two ago, then every ``SEARCH_EVERY`` frames."""
        return self.region is None or self.missing < 2 or (self.missing - 2) % SEARCH_EVERY == SEARCH_EVERY - 1

    @property
    def known(self) -> bool:
        return self.region is not None

    def expected(self) -> np.ndarray | None:
        """(4,) where the region should be now: the last one moved on at its velocity (at most half
        a second of it: a person does not keep flying)."""
        if self.region is None:
            return None
        steps = min(self.missing + 1, 15)
        out = self.region + self.velocity * steps
        out[2] = self.region[2]
        return out

    def gap(self, region: np.ndarray) -> float:
        """How far a candidate's region is from where the person is expected, in region sides
        (0 when nothing is known yet)."""
        expected = self.expected()
        if expected is None:
            return 0.0
        return float(np.hypot(*(region[:2] - expected[:2])) / max(expected[2], 1.0))

    def same_size(self, region: np.ndarray) -> bool:
        """The candidate's region is within half to twice the person's last one (True when nothing is known)."""
        return self.region is None or 0.5 < region[2] / max(self.region[2], 1.0) < 2.0

    def near(self, region: np.ndarray) -> bool:
        """The candidate is where the person should be (and of about their size)."""
        if self.region is None:
            return True
        return self.gap(region) < NEAR * min(1.0 + 0.25 * self.missing, 4.0) and self.same_size(region)

    def unlike(self, signature: np.ndarray | None) -> float:
        """Appearance distance of a signature from the person's (NaN when either is unknown)."""
        return appearance_distance(self.signature, signature)

    def looks_like(self, signature: np.ndarray | None) -> bool | None:
        """Whether a candidate's signature matches the person's; None when either is unknown."""
        return _like(self.unlike(signature))

    def disagrees(self, region: np.ndarray, size: float | None = None) -> bool:
        """Whether a candidate (its region, and its :func:`body_size` if known) disagrees with the person's
        track: it lies on a body just refused as someone else (``bystander``), someone hides the person
        (``occluder``), it is larger than they are
        (``SIZE_STEP``) or its place is: over ``STRAY`` from where the person seen on the last frame should be,
        over ``NEAR`` (the first reach) where they have been missing (the rendered three-person crossing: the
        far walker, hidden ten frames, was taken to be the jumper 0.53 region sides from where he was going,
        0.68 unlike him, for the rest of the clip). Then only their looks can say it is them (the signature
        must be computed). False while the person is unknown or lost (the looks judge anyway)."""
        if self.region is None or self.missing >= LOST_FRAMES:
            self.occluder = self.occluder_looks = None
            return False
        if self.bystander is not None and not far_from(region, self.bystander):
            return True
        if self.occluder is not None:  # someone hides them: a body near them may be that one, or a blend
            return True
        if size and self.size and size > SIZE_STEP * self.size:
            return True
        return self.gap(region) > (STRAY if self.missing == 0 else NEAR)

    def likeness(self, region: np.ndarray, signature: np.ndarray | None) -> float:
        """:meth:`unlike` of a candidate, or 1 where it lies on the bystander (``bystander_looks`` known) and looks
        more like them: a tracker's crop sliding from the person onto someone overlapping them reads a blend of
        the two, which can stay within ``APPEARANCE_SAME`` of the person's looks (the rendered three-person
        crossing: the jumper's crop slid onto the walker passing in front of him over four frames)."""
        unlike = self.unlike(signature)
        if math.isnan(unlike):
            return unlike
        for other, looks in ((self.bystander, self.bystander_looks), (self.occluder, self.occluder_looks)):
            if other is not None and looks is not None and not far_from(region, other) \
                    and appearance_distance(signature, looks) < unlike:
                if other is self.occluder:  # them again: where they are now (a part of them may read smaller)
                    self.occluder[:2] = region[:2]
                return 1.0
        return unlike

    def accepts(self, region: np.ndarray, signature: np.ndarray | None = None, size: float | None = None) -> bool:
        """Whether a candidate may be the person: near where they are expected (their looks may have
        changed: a flip, the sun), unless it disagrees with their track (:meth:`disagrees`) and does not
        look like them (a bystander the person is hidden behind, whom a tracker's crop slid onto); after
        ``LOST_FRAMES`` missing frames, anywhere if it looks like them."""
        return self._accepts(region, self.disagrees(region, size), _like(self.likeness(region, signature)))

    def _accepts(self, region: np.ndarray, disagrees: bool, like: bool | None) -> bool:
        """:meth:`accepts` with the candidate's :meth:`disagrees` and :meth:`looks_like` in hand."""
        if self.region is None or self.missing >= LOST_FRAMES:
            return like is not False
        if self.settled and disagrees and like is False:
            return False
        return self.near(region)

    def check(self, region: np.ndarray, size: float | None, look: Callable[[], np.ndarray | None], *, due: bool,
              doubt: bool, rival: Callable[[float], Any] | None = None) -> "Checked":
        """A tracked body (its region, :func:`body_size`) checked against the person, frame by frame: what
        ``core.pose_follow.Follower`` does with Holistic's body and ``core.pose_torch.tracker`` with its own.

        Its looks (``look()``, a few milliseconds) are taken at most once: where the caller's clock says
        they are ``due``, every frame while the last looks did not match (``doubt``: someone else may hold
        the track, the person coming out from behind them), and where the body disagrees with the track
        (:meth:`disagrees`: the crop may have slid onto a bystander). Accepted (:meth:`accepts`) but unlike
        the person, ``rival(unlike)`` (when the caller's clock gives it) searches for someone who looks more
        like them. The caller then :meth:`see` s the body, or the rival, or neither (refused)."""
        odd = self.disagrees(region, size)
        looked = due or doubt or odd
        signature = look() if looked else None
        unlike = self.likeness(region, signature)
        like = _like(unlike)
        if not self._accepts(region, odd, like):
            return Checked(False, signature, unlike, doubt)
        if looked:
            doubt = self.settled and like is False
        found = rival(unlike) if doubt and rival is not None else None
        return Checked(True, signature, unlike, doubt and found is None, found)

    def slid(self, region: np.ndarray, checked: "Checked", doubt: bool) -> None:
        """A track of the person (a crop that follows them frame to frame) read a body at ``region`` that
        :meth:`check` refused: where the person's looks matched at the last look (not ``doubt``) and this body's
        do not, the crop slid onto someone in front of them, who hides them now (``occluder``). On the rendered
        three-person crossing the far walker's crop slid onto the jumper passing before him, and a search then
        took a part of the jumper, near where the walker should be, for him, and followed the jumper on."""
        if not checked.accepted and checked.unlike >= OCCLUDER_UNLIKE and not doubt and self.missing < LOST_FRAMES:
            self.occluder, self.occluder_looks = np.array(region, np.float64), checked.signature

    def see(self, region: np.ndarray, signature: np.ndarray | None = None, size: float | None = None) -> None:
        """The person was found at ``region`` this frame (with this signature and :func:`body_size`, if
        computed)."""
        region = np.asarray(region, np.float64)
        if self.region is not None and self.missing == 0:
            step = region - self.region
            step[3] = (step[3] + math.pi) % (2 * math.pi) - math.pi
            self.velocity = 0.5 * self.velocity + 0.5 * step
        elif self.region is None or self.missing > 2:
            self.velocity = np.zeros(4)
        self.region = region
        self.missing = 0
        if self.occluder is not None and (far_from(region, self.occluder) or self.looks_like(signature)):
            self.occluder = self.occluder_looks = None  # seen again: apart from whoever hid them, or like themselves
        if size:
            self.size = size if not self.size else SIZE_MEMORY * self.size + (1.0 - SIZE_MEMORY) * size
        if signature is not None:
            self.looks += 1
            if self.signature is None:
                self.signature = signature.copy()
                return
            fill = np.isnan(self.signature) & ~np.isnan(signature)
            self.signature[fill] = signature[fill]
            both = ~np.isnan(self.signature) & ~np.isnan(signature)
            if self.looks <= SETTLE_LOOKS:  # still learning them: a first misreading fades out
                self.signature[both] = 0.5 * (self.signature[both] + signature[both])
            # Else a slow running mean: a passing shadow or flare must not become the person. Looks that do
            # not match are not learnt: they may be a passer-by's, who took the track while hiding the
            # person (the rival search then finds the person by the looks kept).
            elif self.looks_like(signature) is not False:
                self.signature[both] = 0.9 * self.signature[both] + 0.1 * signature[both]

    def see_clear(self, signature: np.ndarray | None) -> None:
        """Looks of the person taken where they stand clear of everyone (the caller knows the bodies round them),
        on a frame they were found on (:meth:`see`): while their looks are ``crowded`` the first such look replaces
        them and the next ones are averaged in (``CLEAR_LOOKS``)."""
        if not self.crowded or signature is None:
            return
        if self.crowded == CLEAR_LOOKS or self.signature is None:
            self.signature = signature.copy()
        else:
            fill = np.isnan(self.signature) & ~np.isnan(signature)
            self.signature[fill] = signature[fill]
            both = ~np.isnan(self.signature) & ~np.isnan(signature)
            self.signature[both] = 0.5 * (self.signature[both] + signature[both])
        self.crowded -= 1

    def stranger(self) -> "Identity":
        """The same person's looks with no idea where they are (a segment tracked from elsewhere in the clip)."""
        signature = None if self.signature is None else self.signature.copy()
        return Identity(None if self.region is None else self.region.copy(), signature=signature, missing=LOST_FRAMES,
                        looks=self.looks, size=self.size, crowded=self.crowded)

    def miss(self) -> None:
        """The person was not found this frame."""
        self.missing += 1


def _like(unlike: float) -> bool | None:
    """An appearance distance read as a likeness: None when unknown (NaN), else under ``APPEARANCE_SAME``."""
    return None if math.isnan(unlike) else unlike < APPEARANCE_SAME


@dataclass(frozen=True)
class Checked:
    """A tracked body checked against the person (:meth:`Identity.check`).

    Attributes:
        accepted: it may be the person (:meth:`Identity.accepts`).
        signature: its looks (:func:`appearance`), where they were taken, else None.
        unlike: their distance from the person's (:meth:`Identity.unlike`; NaN: not taken, or unknown).
        doubt: it does not look like the person (the caller's doubt where its looks were not taken, or
            where it was refused).
        rival: someone who looks more like the person (what the check's ``rival`` found), or None.
    """

    accepted: bool
    signature: np.ndarray | None
    unlike: float
    doubt: bool
    rival: Any = None

    @property
    def like(self) -> bool | None:
        """Whether it looks like the person (:meth:`Identity.looks_like`)."""
        return _like(self.unlike)


@dataclass(frozen=True)
class PersonPick:
    """A user's pick of the person to follow: the pixel (x, y) of the video, in frame ``frame``.

    ``frame`` is a video frame index (None: the capture's first frame).
    """

    x: float
    y: float
    frame: int | None = None

    def __str__(self) -> str:
        at = "" if self.frame is None else f"@{self.frame}"
        return f"{self.x:g},{self.y:g}{at}"


def parse_pick(text: str) -> PersonPick:
    """``"X,Y"`` or ``"X,Y@FRAME"`` (pixels of the video, a 0-based frame) -> PersonPick; MocapError if malformed."""
    try:
        x, y, frame = parse_person(text)
    except ValueError as exc:
        raise MocapError(f"--person {exc}") from None
    return PersonPick(x, y, frame)


ON_TORSO = 0.2
"""A reading lands on a pick when the pick lies within this many torso lengths (mid-hip to mid-shoulder) of
its torso or head (:func:`torso_gap`). Measured on the rendered three-person
crossing, its jumper picked on his hip on frame 6, a third hidden behind the walker in front: every
reading round the pick was the walker or a blend of the two, 0.27-0.40 torso lengths from the pick (the
best one 0.27); two frames later, the jumper standing apart, his reading 0.12, on frame 10 0.08."""


def torso_gap(pick_xy: np.ndarray, points: np.ndarray) -> float:
    """Distance from a pick to the torso (the hull of shoulders, hips and the seen head landmarks) of body
    landmarks (33, >=3: px, visibility), over the torso's length (mid-hip to mid-shoulder): 0 inside it, inf
    where hips or shoulders are unknown.
    A pick is on someone's bounding box (:func:`pick_distance`) more often than on them: a walker's
    swinging arm reaches over the person beside or behind them."""
    import cv2

    pts = np.asarray(points, np.float64)
    if not np.isfinite(pts[list(_TORSO), :2]).all():
        return float("inf")
    torso = float(np.linalg.norm(trunk_vectors(pts)))
    head = [k for k in _HEAD if np.isfinite(pts[k, :2]).all() and np.nan_to_num(pts[k, 2]) >= 0.3]
    hull = cv2.convexHull(pts[list(_TORSO) + head, :2].astype(np.float32).reshape(-1, 1, 2))
    inside = cv2.pointPolygonTest(hull, (float(pick_xy[0]), float(pick_xy[1])), True)
    return max(-float(inside), 0.0) / max(torso, 1.0)


def pick_distance(pick_xy: np.ndarray, points: np.ndarray, min_visibility: float = 0.3) -> float:
    """Pixels from a pick to a person (33, >=3 landmarks): 0 inside their landmarks' bounding box,
    else the distance to the nearest visible landmark."""
    pts = np.asarray(points, np.float64)
    seen = np.isfinite(pts[:, 0]) & (np.nan_to_num(pts[:, 2]) >= min_visibility)
    if not seen.any():
        return float("inf")
    xy = pts[seen, :2]
    lo, hi = xy.min(0), xy.max(0)
    if (pick_xy >= lo).all() and (pick_xy <= hi).all():
        return 0.0
    return float(np.linalg.norm(xy - pick_xy, axis=1).min())
