"""Keeping a live session on one person: MediaPipe Pose's body checked frame by frame, causally.

MediaPipe Pose tracks whoever its detector found and, once it loses them (a
flip, a fast turn), takes whoever the detector finds next: often a passer-by
(the demo's woman while the man is in the air). Offline, ``core.pose_follow``
checks each body against the followed person and runs a torch search and
tracker where it fails; live there is no time for that search, so this is the
cheap, causal part of it, built on the same ``core.person.Identity`` (where the
person should be, their size, their colours every few frames):

- The person followed is the first one found (the warm-up's); once they have been missing for
  ``FORGET_SECONDS``, the next one found.
- A body is them while it lies where they are expected and is about their size
  (``Identity.near``). After ``LOST_FRAMES`` missing frames they may be anywhere:
  then any body that is not the stranger is taken.
- A body that is not them is a *stranger*, tracked by an identity of its own. Its
  frame counts as no person (the solver holds the last pose), and while the person
  is missing the stranger's expected region is greyed out of the frames the pose
  sees: MediaPipe's tracker loses the stranger and its detector finds someone else,
  the person once they are back in view.
- A body near the person that looks like the stranger and unlike the person (their
  colours settled, ``core.person.SETTLE_LOOKS``) is the stranger, who walked over them.

Costs a region every frame and a colour signature every ``SIGNATURE_EVERY`` frames
(a few milliseconds); every frame while the person is missing.
"""

from __future__ import annotations

import numpy as np

from ..landmarks import PoseSequence
from ..person import LOST_FRAMES, Identity, appearance, region_of
from ..pose_follow import SIGNATURE_EVERY

MASK_GREY = 128
"""The grey a stranger's region is painted with while the person is missing."""
FORGET_SECONDS = 3.0
"""Missing this long on the source's clock, the person has left: the next one found is followed, whoever it is
(at a webcam, someone else takes over). In seconds, not frames: the engine poses only the newest frame, and
under load it gets to 5-15 a second (this project's shared 2-core machine), where 90 frames missing took 6-18 s
of a stream holding the person's pose while whoever was in view went unfollowed."""
FORGET_FRAMES = 90
"""``FORGET_SECONDS`` in frames (3 s at 30 fps), for frames checked without their time."""
STRANGER_FAR = 1.0
"""A body not taken for the person becomes the stranger only this many region sides from where the person is
expected: one nearer may be the person, misread (in the demo's landing the man's region is half its size in
the air) and must not be greyed out or kept away; after ``LOST_FRAMES`` it is taken."""
STRANGER_NEAR = 0.5
"""A body whose pelvis is within this many region sides of where the stranger is expected is the stranger
(a fixed reach: the stranger is greyed out while the person is missing, so unseen, and a reach growing with
the frames unseen, as the person's does, would soon take the person back for the stranger)."""


def _box(region: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """Pixel box (x0, y0, x1, y1) of a region (cx, cy, side, rotation), clipped to the image."""
    half = 0.5 * float(region[2])
    x0, y0 = int(max(region[0] - half, 0)), int(max(region[1] - half, 0))
    x1, y1 = int(min(region[0] + half, width)), int(min(region[1] + half, height))
    return x0, y0, x1, y1


def _inside(point: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


class LiveFollow:
    """Who a live session follows; :meth:`frame` before the pose, :meth:`check` after it."""

    def __init__(self) -> None:
        self.identity = Identity()
        self.stranger: Identity | None = None
        self.rejected = 0  # frames whose body was someone else (and on which nobody found the person again)
        self._rejected_now = False  # the last checked frame's body was someone else
        self.masked = 0  # frames given to the pose with a stranger greyed out
        self._frames = 0
        self._now: float | None = None  # the time of the frame being checked, seconds (None: not given)
        self._seen_at: float | None = None  # the time of the last frame the person was seen on

    def frame(self, rgb: np.ndarray) -> np.ndarray:
        """The frame the pose is to see: ``rgb`` itself, or while the person is missing a copy with the
        stranger's expected region greyed out (unless that region covers where the person should be)."""
        if self.stranger is None or self.stranger.missing >= LOST_FRAMES or self.identity.missing == 0:
            return rgb
        region = self.stranger.expected()
        assert region is not None
        box = _box(region, rgb.shape[1], rgb.shape[0])
        ours = self.identity.expected()
        if ours is not None and _inside(ours[:2], box):
            return rgb
        out = rgb.copy()
        out[box[1]:box[3], box[0]:box[2]] = MASK_GREY
        self.masked += 1
        return out

    def check(self, rgb: np.ndarray, seq: PoseSequence, t: float | None = None) -> bool:
        """Whether the one-frame ``seq``'s body (found in ``rgb``, unmasked) is the person followed; a body
        that is someone else is taken off ``seq`` (``present`` False) and becomes the stranger. ``t``: the frame's
        time in seconds on the source's clock (the person is forgotten ``FORGET_SECONDS`` after they were last
        seen); None: ``FORGET_FRAMES`` frames."""
        self._frames += 1
        self._rejected_now = False
        self._now = t
        if self._gone():
            self.identity, self.stranger, self._seen_at = Identity(), None, None
        points = seq.body_2d[0]
        region = region_of(points) if seq.present[0] else None
        if region is None:
            self._miss()
            return False
        due = self.identity.missing > 0 or not self.identity.settled or self._frames % SIGNATURE_EVERY == 0
        signature = appearance(rgb, points) if due else None
        if self._is_person(region, signature):
            self._see(region, signature)
            if self.stranger is not None:
                self.stranger.miss()
            return True
        if signature is None:
            signature = appearance(rgb, points)
        if self._near_stranger(region) or self._more_like_stranger(signature):
            assert self.stranger is not None
            self.stranger.see(region, signature)
        elif self.identity.gap(region) > STRANGER_FAR:  # someone new, away from the person
            self.stranger = Identity()
            self.stranger.see(region, signature)
        seq.present[0] = False
        self.rejected += 1
        self._rejected_now = True
        self.identity.miss()
        return False

    def take_back(self, rgb: np.ndarray, seq: PoseSequence) -> bool:
        """Whether the one-frame ``seq``'s body, found by a second look (``core.live.search``) on a frame
        :meth:`check` found the person missing on, is them; if so they are seen on it (that frame's miss undone)."""
        points = seq.body_2d[0]
        region = region_of(points) if seq.present[0] else None
        if region is None or self.identity.missing == 0:
            return False
        signature = appearance(rgb, points)
        self.identity.missing -= 1  # as before this frame: the check counted it missing
        if self._is_person(region, signature) and not self._near_stranger(region):
            self._see(region, signature)
            self.rejected -= self._rejected_now  # the frame is the person's: not one lost to someone else
            self._rejected_now = False
            return True
        self.identity.missing += 1
        return False

    @property
    def now(self) -> float | None:
        """The time (seconds, source clock) of the frame last checked; None: checked without its time."""
        return self._now

    def missing_seconds(self, fps: float) -> float:
        """How long the person has been missing as of the frame last checked: seconds on the source's clock since
        the last frame they were seen on, or (frames checked without their time) their missing frames at ``fps``."""
        if self._now is None or self._seen_at is None:
            return self.identity.missing / fps
        return self._now - self._seen_at

    def _gone(self) -> bool:
        """Whether the person has been missing long enough to have left (``FORGET_SECONDS`` / ``FORGET_FRAMES``)."""
        if self.identity.missing == 0:
            return False
        if self._now is None or self._seen_at is None:
            return self.identity.missing >= FORGET_FRAMES
        return self._now - self._seen_at >= FORGET_SECONDS

    def _see(self, region: np.ndarray, signature: np.ndarray | None) -> None:
        self.identity.see(region, signature)
        self._seen_at = self._now

    def _miss(self) -> None:
        self.identity.miss()
        if self.stranger is not None:
            self.stranger.miss()

    def _near_stranger(self, region: np.ndarray) -> bool:
        stranger = self.stranger
        if stranger is None or stranger.region is None or stranger.missing >= LOST_FRAMES:
            return False
        return stranger.gap(region) < STRANGER_NEAR and stranger.same_size(region)

    def _more_like_stranger(self, signature: np.ndarray | None) -> bool:
        if self.stranger is None or signature is None:
            return False
        theirs, ours = self.stranger.unlike(signature), self.identity.unlike(signature)
        return bool(theirs < ours)  # False when either is NaN (unknown)

    def _is_person(self, region: np.ndarray, signature: np.ndarray | None) -> bool:
        identity = self.identity
        if not identity.known:
            return True  # the first person found is the one followed
        if identity.missing >= LOST_FRAMES:  # they may be anywhere now: anyone but the stranger
            return not self._near_stranger(region) and not self._more_like_stranger(signature)
        if not identity.near(region):
            return False
        # Near where they should be: the stranger walking over them is told apart by colours alone.
        return not (identity.settled and identity.looks_like(signature) is False
                    and self._more_like_stranger(signature))
