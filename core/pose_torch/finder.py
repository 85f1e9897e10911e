"""Finding the followed person when tracking is weak: the frame turned four ways, the last place eight.

MediaPipe's tracking, once the landmark model's presence drops, runs the
detector on the upright frame and takes its strongest detection: a person in
the air upside down is rarely found, and a passer-by often takes the track.
A search here puts several candidates to the landmark model in one batch and
keeps the one that is the followed person (``core.person.Identity``):

- the region where the person should be now (their last one moved on at its
  velocity), turned by 0, 45, ..., 315 degrees: the landmark model finds a
  body lying or upside down when its crop is turned roughly upright;
- detections in the whole frame turned by 0, 90, 180 and 270 degrees (one
  detector call for the four; an inverted body is upright in one of them),
  with a small score threshold near the person's last place and the usual one
  elsewhere.

All in the pixels of the image the tracker sees; regions of interest as the
tracker's (normalized x, y, width, height, rotation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..person import (LOST_FRAMES, REPLACE_MARGIN, REPLACE_MAX, Identity, appearance, body_size, far_from,
                      pick_distance, region_of)
from . import body

NEAR_DETECTION = 0.1
"""Detector score enough for a candidate near the person's last place (elsewhere: the tracker's
min_detection_confidence). The man in the demo's flip scores 0.2-0.7 in some turn of the frame."""
MAX_DETECTIONS = 8
"""Candidates from detections given to the landmark model at most (the strongest)."""
PICK_SIDES = (0.45, 0.7, 1.0)
"""Sides of the regions tried round a user's pick, in frame heights (a person's region is about
1.4 times their height)."""
PICK_NEAR = 0.1
"""A candidate is the picked person when the pick lies within this many region sides of them."""
TURNS = 8
"""Rotations of the expected region tried (every 45 degrees: the landmark model copes with +-30)."""
FIRST_TURNS = (0, 1, -1, 4)
"""The turns (of ``TURNS``) tried first where the person was just seen: their expected rotation (it moves
on at the rotation's velocity), 45 degrees either side, and turned round."""
SURE = 0.8
"""Presence at which a candidate of the first turns that is the person ends a search."""
BESIDE = 0.35
"""Shift (region sides) of the upright crops tried either side of a missing person's expected place. A person
the detector cannot see (the rendered crossings' far walker, 150 px tall in 640 x 480) is found only by the
landmark model on a crop round them; coming out from behind a walker in front, their expected crop holds
both, and the model reads the one in front (refused: not like them)."""
UNFOLD = 1.25
"""Where the person's last region is smaller than this many times their size (``Identity.size``, a mean over
about five frames), their expected region is also tried at that side: a body seen curled up (a tuck) unfolds
faster than its region's velocity says, and a crop of the curled body holds too little of it. On the demo's
landing (frames 183-186) the crops of his tucked region (123 px at 960 px wide) found nobody, turned any way,
and the torch backend lost him for the rest of the take (he then looked unlike his looks before the flip,
and by then was far from where his tuck was going); crops of 185-330 px found him, presence 0.6-1.0
(issue 16). Tried only when no crop at their expected size found anybody (``search``): among the others,
the larger crops' readings won where a person came back after leaving the picture and lost them a frame
(``tests/core/test_corpus.py::test_person_leaves_and_returns``)."""
JUST_SEEN = 2
"""A person missing fewer frames than this is searched for in their expected region only (turned every
way), without the detector: they are where they were a moment ago. On the demo's flip no detection
ever won such a search (9 searches: the turned regions found him, or nobody was there), and the
detector with its candidates was half of each search's cost (0.17 of 0.33 s CPU)."""


@dataclass
class Found:
    """The landmark model's result on one candidate region.

    Attributes:
        roi: (5,) the region it saw (normalized x, y, width, height, rotation).
        flag: presence score in [0, 1].
        landmarks: (39, 5) normalized x, y, z, visibility, presence (body.decode_landmarks).
        world: (39, 3) metres.
        region: (4,) the person's region in pixels (core.person.region_of).
        signature: their appearance signature, when it was computed.
        size: their ``core.person.body_size`` (px), when it was computed.
    """

    roi: np.ndarray
    flag: float
    landmarks: np.ndarray
    world: np.ndarray
    region: np.ndarray
    signature: np.ndarray | None = None
    size: float | None = None


def pixels(landmarks: np.ndarray, w: int, h: int) -> np.ndarray:
    """(K, >=4) normalized landmarks -> (K, 3) x, y in pixels and visibility."""
    return np.concatenate([landmarks[:, :2] * [w, h], landmarks[:, 3:4]], axis=1)


def roi_of_region(region: np.ndarray, w: int, h: int) -> np.ndarray:
    """(4,) pixel region (cx, cy, side, rotation) -> (5,) normalized ROI."""
    return np.array([region[0] / w, region[1] / h, region[2] / w, region[2] / h, region[3]])


def beside(region: np.ndarray, sides, w: int, h: int, shift: float = BESIDE, size: float = 1.0) -> list[np.ndarray]:
    """ROIs of ``region`` (4,) upright and moved ``sides`` times ``shift`` of its side across (0: on it), ``size``
    times its side: where someone hidden comes out from behind whoever hid them, whom a crop on their expected
    place reads instead (the last term turns the region upright: someone coming out from behind a walker walks
    too)."""
    return [roi_of_region((region + [side * shift * region[2], 0.0, 0.0, -region[3]]) * [1.0, 1.0, size, 1.0], w, h)
            for side in sides]


def read_again(models, image: np.ndarray, rois: np.ndarray, min_presence: float, mirror_average: bool = False):
    """The landmark model on ``rois`` (N, 5), then again on the crop each reading present in it (``min_presence``)
    points to, as tracking would go on: (the indices of those readings, the first readings (presence, landmarks,
    world), the crops read again, their readings (presence, landmarks, world)). A crop that only half holds a body
    (turned, too large) can fool the model once; a real body is found again where it says it is."""
    h, w = image.shape[:2]
    flags, lms, worlds = models.landmarks([image] * len(rois), rois, mirror_average)
    keep = np.flatnonzero(flags >= min_presence)
    if keep.size == 0:
        return keep, (flags, lms, worlds), rois[:0], (flags[:0], lms[:0], worlds[:0])
    again = np.stack([body.roi_from_points(lms[k, 33, :2], lms[k, 34, :2], w, h) for k in keep])
    return keep, (flags, lms, worlds), again, models.landmarks([image] * len(again), again, mirror_average)


def detect_in(models, image: np.ndarray, rois: np.ndarray, min_score: float) -> list[tuple[float, np.ndarray]]:
    """(score, ROI (5,) for the landmark model) of the detections in each crop ``rois`` (N, 5 normalized) of
    ``image``, in crop order, one detector batch; each decoded in its crop's own square (no letterbox
    padding), then put back in the frame."""
    h, w = image.shape[:2]
    x = models.crop([image] * len(rois), rois, body.DETECTOR_SIZE, "zero") * (2.0 / 255.0) - 1.0
    boxes, scores = models._run(models.detector, x.contiguous(memory_format=models.torch.channels_last))
    boxes, scores = boxes.float().cpu().numpy(), scores.float().cpu().numpy()[..., 0]
    out = []
    for k in range(len(rois)):
        for det in body.decode_detections(boxes[k], scores[k], models.anchors, (0.0, 0.0), min_score):
            kp = body.project(det.keypoints[None, :2].astype(np.float64), rois[k:k + 1])[0]
            out.append((det.score, body.roi_from_points(kp[0], kp[1], w, h)))
    return out


class Finder:
    """Searches a frame for the followed person with a tracker's networks (``tracker.BodyModels``)."""

    def __init__(self, models, min_detection: float, min_presence: float):
        self.models = models
        self.min_detection = min_detection
        self.min_presence = min_presence
        self.searches = 0  # frames searched, for tests and benchmarks

    def detect_turned(self, image: np.ndarray, min_score: float, turns: int = 4) -> list[tuple[float, np.ndarray]]:
        """(score, ROI (5,)) of the detections in ``image`` turned by 0, 90, 180 and 270 degrees (the
        first ``turns`` of them), one batch."""
        h, w = image.shape[:2]
        frame, _ = body.letterbox_roi(w, h)
        rois = np.repeat(frame[None], turns, 0)
        rois[:, 4] = np.arange(turns) * (math.pi / 2)
        return detect_in(self.models, image, rois, min_score)

    def detected(self, image: np.ndarray, identity: Identity) -> list[np.ndarray]:
        """ROIs (5,) of the detections in ``image`` turned four ways that may be ``identity`` (strongest first,
        at most ``MAX_DETECTIONS``): a weak one near their expected place, any that is strong, and
        when they are lost any at all if their looks are known (the looks then judge)."""
        h, w = image.shape[:2]
        lost = identity.missing >= LOST_FRAMES or not identity.known
        found = []
        for score, roi in self.detect_turned(image, min(NEAR_DETECTION, self.min_detection)):
            near = not lost and identity.near(np.array([roi[0] * w, roi[1] * h, roi[2] * w, roi[4]]))
            by_looks = lost and identity.signature is not None
            if score >= self.min_detection or near or by_looks:
                found.append((score, roi))
        found.sort(key=lambda c: -c[0])
        return [roi for _, roi in found[:MAX_DETECTIONS]]

    def candidates(self, image: np.ndarray, identity: Identity, pick: np.ndarray | None = None) -> list[np.ndarray]:
        """ROIs (5,) to put to the landmark model for ``identity`` (or the person at ``pick``) in ``image``:
        regions round the pick, their expected region turned ``TURNS`` ways (or, lost, upright there and
        ``BESIDE`` it: a person the detector cannot see, such as the rendered crossings' far walker, comes out
        from behind someone where they were going), and detections."""
        h, w = image.shape[:2]
        rois = []
        if pick is not None:  # regions round the pick: the detector may miss whoever was picked
            for side in PICK_SIDES:
                for k in range(4):
                    rois.append(roi_of_region(np.array([pick[0], pick[1], side * h, k * math.pi / 2]), w, h))
        where = self._expected_beside(image, identity, (0.0, -1.0, 1.0)) if identity.missing >= LOST_FRAMES else []
        return rois + self._expected_turned(image, identity, range(TURNS)) + where + self.detected(image, identity)

    @staticmethod
    def _expected_turned(image: np.ndarray, identity: Identity, turns, side: float | None = None) -> list[np.ndarray]:
        """ROIs of the region where ``identity`` should be, turned by ``turns`` (steps of 360 / TURNS degrees),
        of ``side`` pixels (None: the expected region's own); none when they are unknown or lost."""
        expected = identity.expected()
        if expected is None or identity.missing >= LOST_FRAMES:
            return []
        h, w = image.shape[:2]
        out = []
        for k in turns:
            turned = expected.copy()
            turned[2] = expected[2] if side is None else side
            turned[3] += k * (2 * math.pi / TURNS)
            out.append(roi_of_region(turned, w, h))
        return out

    @staticmethod
    def _unfolded_side(identity: Identity) -> float | None:
        """The side at which a person whose expected region is smaller than ``UNFOLD`` times their size is also
        looked for (a tuck unfolding), or None."""
        expected = identity.expected()
        side = UNFOLD * identity.size
        return side if expected is not None and side > expected[2] else None

    @staticmethod
    def _expected_beside(image: np.ndarray, identity: Identity, sides=(-1.0, 1.0)) -> list[np.ndarray]:
        """ROIs of the region where ``identity`` should be, upright and moved ``sides`` times ``BESIDE`` of its
        side (left and right: where they come out from behind someone, whom a crop on their expected place
        reads instead; 0: on that place)."""
        expected = identity.expected()
        if expected is None:
            return []
        h, w = image.shape[:2]
        return beside(expected, sides, w, h)

    def search(self, image: np.ndarray, identity: Identity, pick: np.ndarray | None = None,
               mirror_average: bool = False) -> Found | None:
        """The followed person in ``image``, or None.

        Args:
            identity: who is followed; unknown (nothing seen yet) takes the most
                prominent person (the largest, surest one).
            pick: (2,) a pixel the person covers in this frame (a user's pick):
                the candidate nearest it wins, whoever the identity says.

        Where the person was just seen, their expected region is tried first in
        ``FIRST_TURNS`` (one small batch, no detector); a sure find there ends the
        search (``SURE``): most searches on the demo end so, at a quarter of the cost.
        Then the other turns, and detections only once they were missing ``JUST_SEEN`` frames.
        """
        self.searches += 1
        if pick is None and identity.known and identity.missing < LOST_FRAMES:
            first = self._expected_turned(image, identity, FIRST_TURNS)
            best, score = self._best(image, identity, None, np.stack(first), mirror_average)
            if best is not None and best.flag >= SURE and identity.looks_like(best.signature) is not False:
                return self._signed(image, best)
            rest = self._expected_turned(image, identity, [k for k in range(TURNS) if k % TURNS not in
                                                           {t % TURNS for t in FIRST_TURNS}])
            if identity.missing >= JUST_SEEN:  # they may have moved since: detections anywhere near too
                rest += self._expected_beside(image, identity) + self.detected(image, identity)
            again, again_score = self._best(image, identity, None, np.stack(rest), mirror_average)
            unfolded = self._unfolded_side(identity)
            if best is None and again is None and unfolded is not None:  # nobody at their size: a tuck unfolding?
                again, again_score = self._best(image, identity, None,
                                                np.stack(self._expected_turned(image, identity, range(TURNS), unfolded)),
                                                mirror_average)
            return self._signed(image, again if again is not None and again_score > score else best)
        rois = self.candidates(image, identity, pick)
        if not rois:
            return None
        if pick is not None:  # crops round a bare pixel can fool the model: look twice
            stack, flags, lms, worlds = self._confirmed(image, np.stack(rois), mirror_average)
            return self._signed(image, self._best(image, identity, pick, stack, mirror_average,
                                                  (flags, lms, worlds))[0])
        return self._signed(image, self._best(image, identity, None, np.stack(rois), mirror_average)[0])

    @staticmethod
    def _signed(image: np.ndarray, found: Found | None) -> Found | None:
        """``found`` with its appearance signature computed (if it was not)."""
        if found is not None and found.signature is None:
            h, w = image.shape[:2]
            found.signature = appearance(image, pixels(found.landmarks[:33], w, h))
        return found

    def _best(self, image: np.ndarray, identity: Identity, pick: np.ndarray | None, stack: np.ndarray,
              mirror_average: bool, outputs: tuple | None = None) -> tuple[Found | None, float]:
        """The candidate of ``stack`` (N, 5 ROIs) that best is the person, and its score (-inf: none);
        ``outputs``: the landmark model's (presence, landmarks, world) on them, when already run."""
        h, w = image.shape[:2]
        best, best_score = None, -math.inf
        if len(stack) == 0:
            return best, best_score
        flags, lms, worlds = outputs if outputs is not None else self.models.landmarks(
            [image] * len(stack), stack, mirror_average)
        for k in np.flatnonzero(flags >= self.min_presence):
            pts = pixels(lms[k, :33], w, h)
            region = region_of(pts)
            if region is None:
                continue
            found = Found(stack[k], float(flags[k]), lms[k], worlds[k], region, size=body_size(pts))
            if pick is not None:
                off = pick_distance(pick, pts) / region[2]
                if off > PICK_NEAR:
                    continue
                # Several readings of the body may cover the pick (a crop turned round can read a standing
                # person upside down, the pelvis at the chest): the one centred nearest it wins.
                score = found.flag - off - 0.5 * float(np.hypot(*(region[:2] - pick))) / region[2]
            elif not identity.known:
                score = region[2] * found.flag  # the most prominent person
            else:
                found.signature = appearance(image, pts) if identity.signature is not None else None
                if not identity.accepts(region, found.signature, found.size):
                    continue
                unlike = identity.unlike(found.signature)
                unlike = 0.5 if math.isnan(unlike) else unlike
                lost = identity.missing >= LOST_FRAMES  # anywhere by now: the likeness decides
                score = found.flag - unlike - (0.0 if lost else identity.gap(region))
            if score > best_score:
                best, best_score = found, score
        return best, best_score

    def _confirmed(self, image: np.ndarray, rois: np.ndarray, mirror_average: bool):
        """(rois, presence, landmarks, world) of :func:`read_again`'s second readings, for the candidates present
        in both readings (the lower presence of the two)."""
        keep, (flags, lms, _), again, (flags2, lms2, worlds2) = read_again(self.models, image, rois, self.min_presence,
                                                                          mirror_average)
        if keep.size == 0:
            return rois[:0], flags[:0], lms[:0], lms[:0, :, :3]
        return again, np.minimum(flags[keep], flags2), lms2, worlds2

    def others(self, image: np.ndarray, tracked: np.ndarray) -> list[np.ndarray]:
        """ROIs (5,) of the people detected upright in ``image`` other than the one at ``tracked`` (a pixel
        region (4,)), strongest first. Only these go to the landmark model: the tracked person was most of
        a rival search's cost. Upright only (a quarter of the detector's cost): a rival is someone the
        person was hidden behind and comes out from, walking or standing (the tracked person turned
        upside down is the search's business, ``search``)."""
        h, w = image.shape[:2]
        kept: list[np.ndarray] = []
        for _, roi in sorted(self.detect_turned(image, self.min_detection, turns=1), key=lambda c: -c[0]):
            place = np.array([roi[0] * w, roi[1] * h, roi[2] * w, roi[4]])
            if far_from(place, tracked) and all(far_from(place, k) for k in kept):
                kept.append(place)
                if len(kept) == MAX_DETECTIONS:
                    break
        return [roi_of_region(k, w, h) for k in kept]

    def rival(self, image: np.ndarray, identity: Identity, tracked: np.ndarray, unlike: float,
              mirror_average: bool = False) -> Found | None:
        """Someone else in ``image`` who looks more like the person than the one tracked (region
        ``tracked`` (4,), appearance distance ``unlike``): the person, after a passer-by took the track."""
        self.searches += 1
        h, w = image.shape[:2]
        rois = self.others(image, tracked)
        if not rois:
            return None
        stack = np.stack(rois)
        flags, lms, worlds = self.models.landmarks([image] * len(stack), stack, mirror_average)
        best, best_unlike = None, min(REPLACE_MAX, unlike - REPLACE_MARGIN)
        for k in np.flatnonzero(flags >= self.min_presence):
            pts = pixels(lms[k, :33], w, h)
            region = region_of(pts)
            if region is None or not far_from(region, tracked):
                continue
            signature = appearance(image, pts)
            d = identity.unlike(signature)
            if d < best_unlike:
                best, best_unlike = Found(stack[k], float(flags[k]), lms[k], worlds[k], region, signature,
                                          body_size(pts)), d
        return best
