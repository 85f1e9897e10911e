"""Keeping MediaPipe Holistic on the chosen person: a check of each of its results, and a stand-in.

Holistic tracks whoever its detector found first and, once it loses them
(a flip, a fast turn), takes the strongest upright detection: often a
passer-by. :class:`Follower` checks every body Holistic returns against the
followed person's identity (``core.person.Identity``: where they should be,
their size and, every few frames, their colours). Where Holistic has lost
them or holds someone else, the torch backend's tracker (the very landmark
network Holistic runs, ``core.pose_torch``) stands in: it searches for them
(the frame turned four ways, their last place eight ways) and tracks them
until Holistic holds them again. Those frames have the body only: Holistic's
hands and face there belong to no one or to someone else.

The networks are loaded on the first frame that needs them; a clip Holistic
follows throughout never loads them. The follower works in a thread of its own
(:class:`Behind`), a few frames behind Holistic: Holistic's results never
depend on it, and MediaPipe's graph does not keep two cores busy, so the
stand-in's searches run beside it rather than after it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .person import (CLEAR_LOOKS, LOST_FRAMES, ON_TORSO, RIVAL_EVERY, SETTLE_LOOKS, Identity, PersonPick, apart,
                     appearance, body_size, far_from, pick_distance, region_of, torso_gap)
from .pose_torch.networks import one_cpu_thread
from .pose_torch.turned import TurnedLook

SIGNATURE_EVERY = 5
"""Frames between two looks at the colours of the person Holistic holds."""
PICK_NEAR = 0.1
"""On the picked frame, Holistic's person must cover the pick to within this many region sides (and have it on
their torso or head, ``core.person.ON_TORSO``)."""
HAND_BACK = 0.1
"""Where the stand-in found the person on the last frame, Holistic's body takes the track back when it looks like
them, or, their looks unknown, within this many region sides of where they should be now (``Identity.gap``: the
person moves a few hundredths of a side a frame). On the rendered three-person crossing Holistic held the walker
in front of the picked jumper, 0.18 region sides from him, of his size within 20% (neither enough to disagree
with his track) and unlike him: it took the track back from the stand-in the frame after it found him."""
SAME_BODY = 0.1
"""Holistic's body whose trunk and limbs lie, joint by joint (the median over the landmarks both see well), within
this many of its region sides of the stand-in's reading on the last frame is the stand-in's body: both hold one
person, so the stand-in hands them back whatever their looks say. The demo's man after his landing (frames
203-229): Holistic on him 0.02-0.05 sides from the stand-in, his looks 0.55-0.78 from those he had on the box
against the sun (the woman's are as far), and the stand-in went on to the clip's end. Joint by joint, not by
region: someone passing right in front of the person may share their region for a frame, not their pose."""
SAME_BODY_JOINTS = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
"""Shoulders, elbows, wrists, hips, knees and ankles."""
PICK_CARRY = 10
"""Frames after the picked one on which a pick that lands on nobody's torso is tried again, at the same pixel.
A person picked where they are half hidden behind someone nearer is read as that someone (or a blend of the
two) by every crop round the pick: the rendered three-person crossing's jumper, picked on his hip on frame 6
(a third of him hidden), was followed as the walker in front for the whole clip. Two frames later he stands
apart and his own reading lands on the pick. The frames before it have nobody (the fit bridges them); a pick
that never lands (on an arm or a leg) is followed from the picked frame's best reading, by its looks."""


class Follower:
    """The followed person's identity, checked against Holistic's results, and the torch stand-in.

    Args:
        min_detection, min_tracking: Holistic's thresholds, used by the stand-in too.
        mirror_average: the stand-in averages world landmarks with the mirrored crop's.
        pick: the person to follow (a pixel of the original video, ``image_size``).
        image_size: (width, height) of the original video.
    """

    def __init__(self, *, min_detection: float, min_tracking: float, mirror_average: bool,
                 pick: PersonPick | None, image_size: tuple[int, int]):
        self.identity = Identity()
        self.min_detection, self.min_tracking, self.mirror_average = min_detection, min_tracking, mirror_average
        self.pick = pick
        self.width = image_size[0]
        self._tracker = None
        self._frames = 0
        self.doubt = False  # Holistic's body did not look like the person at the last check
        self.stand_in_frames = 0  # frames the torch stand-in found the person on
        self.standing_in = False  # the stand-in found the person on the last frame
        self.turned = TurnedLook(lambda: self.tracker().models, min_tracking)  # turned bodies read twice
        self.landed = pick is None  # the pick has found its person (on their torso), or stopped looking
        self.carried = 0  # frames the pick was tried on without landing (PICK_CARRY)
        self._fallback = None  # the picked frame's best reading (a finder.Found), followed if the pick never lands
        self._nobody = False  # on this frame the pick has not landed yet: nobody is taken
        # Holistic's body on the last frame, where it was refused as someone else (beside the person and unlike them,
        # or another body than the stand-in's): Holistic tracks whoever it holds frame to frame, so its body on the
        # next frame, where it has not moved away, is that someone still (``Identity.bystander``: it must look like
        # the person to take the track). On the rendered three-person crossing Holistic held the walker in front of
        # the picked jumper, refused beside him frame after frame; the frame the stand-in lost the jumper (missing
        # one frame, within the person's first reach, ``core.person.NEAR``) it took the walker, unlooked, for good.
        self._other = None
        self._stand_in_body: np.ndarray | None = None  # the stand-in's last reading (33, 3: x, y px, visibility)
        self._holistic_body: np.ndarray | None = None  # Holistic's body on this frame (33, 3: x, y px, visibility)

    def tracker(self):
        """The torch stand-in (loaded on first use), sharing this identity."""
        if self._tracker is None:
            from .pose_torch.settings import TorchPoseSettings
            from .pose_torch.networks import BodyModels
            from .pose_torch.tracker import BodyTracker

            settings = TorchPoseSettings(device="cpu", batch_size=1, hands=False, mirror_average=self.mirror_average,
                                         min_detection_confidence=self.min_detection,
                                         min_tracking_confidence=self.min_tracking)
            self._tracker = BodyTracker(settings, BodyModels("cpu"))
            self._tracker.identity = self.identity
        return self._tracker

    def pick_here(self, index: int, first: bool, image: np.ndarray) -> np.ndarray | None:
        """The pick in pixels of ``image`` when frame ``index`` is the picked one (None: the first frame)."""
        if self.pick is None:
            return None
        picked = index == self.pick.frame or (self.pick.frame is None and first)
        if not (picked or (not self.landed and self.carried > 0)):  # (carried: the frames after a pick on nobody)
            return None
        return np.array([self.pick.x, self.pick.y]) * (image.shape[1] / self.width)

    def follow_ahead(self, image: np.ndarray) -> bool:
        """Learn the picked person's looks from their frame (seen ahead of the others); False if nobody is there.
        Where the pick lands on nobody's torso there (``PICK_CARRY``), nobody is followed until it does."""
        assert self.pick is not None
        pick = np.array([self.pick.x, self.pick.y]) * (image.shape[1] / self.width)
        tracker = self.tracker()
        with one_cpu_thread():
            found = tracker.finder.search(image, Identity(), pick)
        if found is None:
            return False
        # Frames before the picked one are followed by the best reading's looks whether or not the pick lands
        # on it; from the picked frame on, a pick that did not is tried again, nobody taken (``PICK_CARRY``).
        self._follow(found)
        self.landed = _lands(pick, found, image)
        if not self.landed:
            self._fallback = found
        return True

    def _follow(self, found) -> None:
        """Follow the person ``found`` (a ``finder.Found``) by their looks from here: the stand-in is seeded
        with them and the identity is its."""
        self.tracker().seed(found)
        self.identity = self.tracker().identity

    def _land(self, image: np.ndarray, pts: np.ndarray | None, pick: np.ndarray) -> bool:
        """Whether the pick, not landed yet, lands on this frame: on Holistic's body (``pts`` (33, 3) px, None:
        none), or on the best reading round it (which the stand-in then takes). Counts the frames it does not
        (``PICK_CARRY``); after the last, the picked frame's best reading is followed by its looks."""
        if pts is not None and torso_gap(pick, pts) <= ON_TORSO:
            self._landed_here()
            return True
        with one_cpu_thread():
            found = self.tracker().finder.search(image, Identity(), pick)
        if found is not None and _lands(pick, found, image):
            self._landed_here()
            return True
        self._fallback = self._fallback or found
        self.carried += 1
        if self.carried > PICK_CARRY:
            self.landed = True
            if self._fallback is not None:
                self._follow(self._fallback)
        return False

    def _landed_here(self) -> None:
        """The pick lands on this frame: the looks the frames before the picked one were followed by (the picked
        frame's best reading, ``follow_ahead``) are forgotten; the person's own are learnt from here."""
        self.landed = True
        self.identity = Identity()
        self.tracker().identity = self.identity

    def holds(self, image: np.ndarray, body: np.ndarray | None, pick: np.ndarray | None) -> bool:
        """Whether Holistic's body (33, 3: x, y normalized, visibility; None: none found) in ``image``
        is the followed person; if so the identity takes it in."""
        self._frames += 1
        self.identity.bystander = self.identity.bystander_looks = None
        h, w = image.shape[:2]
        pts = None if body is None else np.concatenate([body[:, :2] * [w, h], body[:, 2:3]], axis=1)
        self._holistic_body = pts
        # Not landed and no pick to land: a frame before the picked one (``pick_here``), followed by looks.
        self._nobody = not self.landed and pick is not None and not self._land(image, pts, pick)
        other, self._other = self._other, None  # Holistic's refused body of the last frame: only the next one's
        if self._nobody or pts is None:
            return False
        region = region_of(pts)
        if region is None:
            return False
        if other is not None and not far_from(region, other):  # Holistic still holds that someone (``_other``)
            self.identity.bystander = other
        if pick is not None and (pick_distance(pick, pts) > PICK_NEAR * region[2] or torso_gap(pick, pts) > ON_TORSO):
            return False
        size = body_size(pts)
        if pick is None and not self.identity.known and not self._prominent(image, region):
            return False
        if pick is None and self.standing_in and not self._hands_back(image, region, pts):
            return False
        due = self._frames % SIGNATURE_EVERY == 0 or self.identity.missing >= LOST_FRAMES
        if pick is None and self.identity.known:
            rival = (lambda unlike: self._rival(image, region, unlike)) if self._frames % RIVAL_EVERY == 0 else None
            checked = self.identity.check(region, size, lambda: appearance(image, pts), due=due, doubt=self.doubt,
                                          rival=rival)
            self.doubt = checked.doubt
            if not checked.accepted:
                if self.identity.settled and checked.like is False:
                    self.identity.bystander = self._other = region  # someone else: the stand-in must not take them
                return False
            if checked.rival is not None:
                self._move_to(checked.rival)
                return False
            signature = checked.signature
        else:
            signature = appearance(image, pts) if due or self.doubt or not self.identity.known else None
        self.identity.see(region, signature, size)
        if pick is not None:  # the user chose this frame: their looks here are theirs
            self.identity.looks = max(self.identity.looks, SETTLE_LOOKS)
        self.standing_in = False
        if self._tracker is not None:
            self._tracker.pause()
        return True

    def _hands_back(self, image: np.ndarray, region: np.ndarray, pts: np.ndarray) -> bool:
        """Whether the stand-in, which found the person on the last frame, hands them back to Holistic's body
        (``region``, landmarks ``pts`` px): it looks like them, or, their looks not known, it lies where they
        should be (``HAND_BACK``). Else the stand-in goes on (it may be the one that has slid onto someone: on
        the composed crossing of tests/core/test_tracking.py it read the person coming out from behind the
        other with the pelvis at the chest, Holistic read them right and looked like them); a body beside the
        person that does not look like them is someone else, whom its crop must not slide onto
        (``Identity.bystander``, ``bystander_looks``)."""
        if self._same_body(pts):
            return True
        looks = appearance(image, pts) if self.identity.settled else None
        like = self.identity.looks_like(looks)
        beside = self.identity.gap(region) > HAND_BACK
        if beside and like is False:
            self.identity.bystander, self.identity.bystander_looks = region, looks
            self._other = region
        # Looks not known yet (the first frames of a take without a pick): where the person should be, as any
        # candidate (``Identity.near``); the stricter ``HAND_BACK`` refused the demo's man doing jumping jacks on
        # frames 9-10 of his first two seconds (his region's centre moves with his arms), and bridged them.
        # Looking like them is not enough where the body is another one than the stand-in's (``far_from`` where the
        # person was a frame ago): on the rendered three-person crossing Holistic held the walker in front of the
        # picked jumper, 0.3 region sides from him and within the jumper's looks (clothes of like colours); it took
        # the track back and kept it for the rest of the clip (identity 0.08).
        if like is True and beside and far_from(region, self.identity.expected()):
            self._other = region
            return False
        return like is True or (like is None and self.identity.near(region))

    def _same_body(self, pts: np.ndarray) -> bool:
        """Whether Holistic's body (``pts`` (33, 3) px and visibility) is the one the stand-in read on the last
        frame, joint by joint (``SAME_BODY``)."""
        last = self._stand_in_body
        if last is None:
            return False
        joints = list(SAME_BODY_JOINTS)
        both = (pts[joints, 2] > 0.5) & (last[joints, 2] > 0.5)
        region = region_of(last)
        if both.sum() < len(joints) // 2 or region is None:
            return False
        apart = np.linalg.norm(pts[joints, :2][both] - last[joints, :2][both], axis=1)
        return bool(np.median(apart) <= SAME_BODY * region[2])

    def _prominent(self, image: np.ndarray, region: np.ndarray) -> bool:
        """Without a pick the person followed is the most prominent one in view (the largest, surest;
        ``finder.Finder.search`` with nobody known), not whoever Holistic's detector scored highest:
        whether Holistic's body (``region``) is them. If not, the identity moves to them and the
        stand-in takes over there."""
        with one_cpu_thread():
            found = self.tracker().finder.search(image, Identity())
        if found is None or not far_from(found.region, region):
            return True
        self._move_to(found)
        return False

    def _move_to(self, found) -> None:
        """The person is ``found`` (a ``finder.Found``), not Holistic's body: the identity moves there and the
        stand-in takes over from there."""
        self.identity.see(found.region, found.signature, found.size)
        self.tracker().pause()

    def _rival(self, image: np.ndarray, region: np.ndarray, unlike: float):
        """Someone else in ``image`` who looks more like the person than Holistic's body at ``region``, ``unlike``
        them (a passer-by who took the track while hiding them?): a ``finder.Found``, or None."""
        with one_cpu_thread():
            return self.tracker().finder.rival(image, self.identity, region, unlike, self.mirror_average)

    def stand_in(self, image: np.ndarray, pick: np.ndarray | None):
        """The followed person's body in ``image`` by the torch tracker: ((33, 3) x, y normalized and
        visibility, (33, 4) world landmarks and visibility), or None where they are not found."""
        if self._nobody:  # the pick has not landed yet
            return None
        picks = {0: pick} if pick is not None else None
        with one_cpu_thread():
            track = self.tracker().run_chunk([image], picks)
        self.standing_in = bool(track.present[0])
        if not track.present[0]:
            self._stand_in_body = None
            return None
        self.stand_in_frames += 1
        lm = track.landmarks[0]
        h, w = image.shape[:2]
        self._stand_in_body = np.concatenate([lm[:, :2] * [w, h], lm[:, 3:4]], axis=1)
        self._clear_looks(image, pick)
        return np.concatenate([lm[:, :2], lm[:, 3:4]], axis=1), track.world[0]

    def _clear_looks(self, image: np.ndarray, pick: np.ndarray | None) -> None:
        """The stand-in found the person, Holistic holding someone else: on a pick's frame where that someone
        overlaps them, the looks just taken (the pick's) are a blend of the two (``Identity.crowded``); later, where
        they stand apart, the person's own looks replace those (``core.person.CLEAR_LOOKS``)."""
        other, me = self._holistic_body, self._stand_in_body
        if other is None or me is None:
            return
        if pick is not None:
            self.identity.crowded = 0 if apart(me, other) else CLEAR_LOOKS
        elif self.identity.crowded and apart(me, other):
            self.identity.see_clear(appearance(image, me))


def _lands(pick: np.ndarray, found, image: np.ndarray) -> bool:
    """Whether a reading round a pick (a ``finder.Found`` in ``image``; the pick in its pixels) has the pick on
    its torso or head."""
    from .pose_torch.finder import pixels

    h, w = image.shape[:2]
    return torso_gap(pick, pixels(found.landmarks[:33], w, h)) <= ON_TORSO


FOLLOW_BEHIND = 30
"""Frames the follower's thread may lag behind Holistic: about a second of video (45 MB of 960 x 540 RGB).
Its work comes in bursts (loading the stand-in's networks on the first frame that needs them, 0.5-1 s
of CPU; the searches through a flip, 0.15 s each), which Holistic's next frames then run beside."""


class Behind:
    """``work(item)`` done in order in a thread of its own, at most ``depth`` items behind :meth:`put`.

    Use as a context manager: leaving the block (normally, on an error or a cancel of the caller) stops
    the thread and joins it. :meth:`finish` waits for the last item. An exception of ``work`` is raised in
    the caller by the next :meth:`put` or by :meth:`finish`; the items after it are not worked on.
    ``depth`` 0 works on each item in the caller's thread, at once (the reference the thread is tested
    against: each item is worked on the same way, in the same order, so the results are the same).
    """

    def __init__(self, work: Callable[[Any], None], depth: int = FOLLOW_BEHIND, name: str = "follow") -> None:
        self._work = work
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, depth))
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True) if depth > 0 else None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            if item is _DONE:
                return
            try:
                self._work(item)
            except BaseException as exc:  # raised in the caller
                self._error = exc
                return

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def put(self, item: Any) -> None:
        """Hand ``item`` to the thread, waiting while it is ``depth`` items behind."""
        if self._thread is None:
            self._work(item)
            return
        while True:
            if not self._thread.is_alive():
                self._raise()
                raise RuntimeError("the follower's thread has stopped")
            try:
                self._queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        """Wait until every item is worked on; raises what ``work`` raised."""
        if self._thread is None:
            return
        self.put(_DONE)
        self._thread.join()
        self._raise()

    def __enter__(self) -> "Behind":
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


_DONE = object()
