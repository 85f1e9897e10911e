"""A second, turned look at a body that is turned: the landmark model on the crop turned the way the body turns.

The landmark model reads a body well when it stands upright in its crop.
MediaPipe's tracking turns the crop by the rotation of the body it read on the
previous frame. Through a flip or a roll the body turns by 15-25 degrees a
frame, so the crop lags, and once a reading goes wrong (the body read head
down, or lying across its true direction) the next crop is turned by that
wrong reading and the error holds: on the rendered backflip, Holistic read
the body 120 degrees off for ten frames after the flip's top, the pelvis a
quarter of the person's height away.

:class:`TurnedLook` keeps the rotation of the body's last two readings and,
while the body is turned (its hips-to-shoulders axis beyond
``TURNED_DEGREES`` of up in the image, or expected to be), predicts this
frame's rotation at the turning speed it had (``MOMENTUM``). Where the
reading in hand disagrees with that prediction by more than half of 45
degrees, the landmark model reads the crop turned to the prediction, and the
reading whose own rotation is nearer the prediction is kept (if the model
finds a body there at all). Upright bodies cost nothing: no second look.

Bent double or on all fours the model reads the arms as the legs, and that
reading turns with the body: where a turned body's trunk is short
(:data:`SHORT_TRUNK`), the crop is read turned every 30 degrees and a reading
with a whole trunk is kept (:data:`LONGER_TRUNK`), on the next frames too until
the reading in hand has the hips where it has them.

Pixel coordinates of the image given; landmarks as ``body.decode_landmarks``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..landmarks import trunk_vectors
from ..person import region_of, rotation_of
from . import body
from .finder import pixels

TURNED_DEGREES = 45.0
"""A body whose hips-to-shoulders axis is this far from up in the image (or is expected to be) is turned."""
MOMENTUM = 1.0
"""Share of the last frame's turn expected again on this one (1: the body turns on at the same speed). On the
rendered acrobatics (five clips, Holistic's readings, scratch), 0.5, 0.8 and 1.0 gave the same figures."""
MAX_TURN_DEGREES = 45.0
"""A body turns less than this between two frames (the rendered backflip: 15-25 degrees at 30 fps); two
readings further apart are a misreading (say, of a body half hidden behind someone), whose speed is not
carried on."""
AGREES_DEGREES = 22.5
"""A reading this near the predicted rotation needs no second look (the turned crop would be nearly its own)."""
SHORT_TRUNK = 0.75
"""A turned body read with its trunk (mid-hip to mid-shoulder, pixels) shorter than this share of its usual
length (:data:`TRUNK_FRAMES`) is read again in crops turned every :data:`WIDE_STEP_DEGREES`. Bent double or
on all fours, the model reads the arms as the legs: the hips slide up the back and the trunk shrinks (the
rendered backflip's landing, frames 88-95, and getup_facedown's frames 62-69: trunks of 0.06-0.19 of the
height against 0.23-0.25, the pelvis 0.10-0.19 of the height off). The reading turns no faster than the body
then, so the prediction agrees with it, and tracking holds the crop 40-80 degrees from the body. This look
runs where the prediction's found nothing better (through the backflip's top and the roll the prediction's
look reads the body better; run first, this one kept worse readings there)."""
TRUNK_FRAMES = 30
"""The usual trunk length: the 90th percentile of the kept readings' over this many frames."""
WIDE_STEP_DEGREES = 30.0
"""Turn between the crops of a short trunk's second look (eleven crops besides the reading's own; on the frames
above, the crops within 15-30 degrees of the body read it whole: trunk 0.75-0.85 of the usual length, pelvis
0.01-0.06 of the height off)."""
WIDE_REACH_DEGREES = MAX_TURN_DEGREES + WIDE_STEP_DEGREES
"""A short trunk's second look reads only the crops turned within this of the last kept reading: a reading kept is
turned less than :data:`MAX_TURN_DEGREES` from it, and a crop reads the body whole within 15-30 degrees of it, so
the crops beyond are a cost with nothing to keep (four crops of the eleven when the reading in hand is turned as the
last one; none of the rendered acrobatics' kept readings came from a crop further than 49 degrees from the last, and
the demo's flip took nine of these looks, 1.9 s of CPU, keeping none)."""
SAME_HIPS = 0.2
"""A short trunk's second look keeps the reading in hand where the reading it found has the mid-hip within this
share of the usual trunk length of the hand's (the body read alike, or read coming out of a misreading)."""
WHOLE_TRUNK = 0.5
LONGER_TRUNK = 1.2
"""A short trunk's second look keeps a reading whose trunk is at least ``WHOLE_TRUNK`` of the usual length
and ``LONGER_TRUNK`` times the one in hand (the longest, weighed by the model's presence, among those turned
less than :data:`MAX_TURN_DEGREES` from the last kept reading). Scratch replays of this look alone over the
bench's cached readings of five rendered acrobatic clips: pelvis within 10% of the height on 0.83 -> 0.94-0.95
of the backflip's frames, 0.91 -> 1.00 of getup_facedown's, the three others 1.00 as before; keeping readings
of 0.75 of the usual length only: 0.88 and 0.98; without the turn limit: 0.94, 1.00 and 0.98 on the roll (a
reading head down kept)."""
USUAL_SIDE = 4.0
"""A tucked reading's second look (its trunk under :data:`WHOLE_TRUNK` of the usual length, :data:`TRUNK_FRAMES`)
reads a crop at least this many usual trunk lengths on a side: what ``core.person.region_of`` gives a body read
whole (2 x 1.25 x 1.6 trunks). The tucked reading's own region is small, and in that crop the model reads the short
trunk again: on the rendered backflip's top (frames 31-34, trunks of 0.2-0.46 of the usual) crops of the reading's
region read the pelvis 0.08-0.19 of the height off at every turn, crops 1.25 times as big 0.02-0.05 off at the
body's own turn (scratch, exact truth). Not for longer readings: on the demo's flip, against the sun, readings of
0.6-0.8 of the usual trunk read in crops of the usual size moved the fit's feet on the box (its largest planted step
20 -> 37 mm) and put frame 180's pelvis further from the hand annotation (40 -> 66 px)."""


@dataclass
class TurnedReading:
    """The landmark model's reading of the turned crop.

    Attributes:
        roi: (5,) the crop (normalized x, y, width, height, rotation).
        flag: presence score in [0, 1].
        landmarks: (33, 5) normalized x, y, z, visibility, presence.
        world: (33, 4) metres and visibility, turned like the crop (as MediaPipe's world landmarks).
    """

    roi: np.ndarray
    flag: float
    landmarks: np.ndarray
    world: np.ndarray


def _wrap(angle: float) -> float:
    return float(body.normalize_radians(angle))


class TurnedLook:
    """Reads turned bodies a second time, in a crop turned as the body turns (see the module docstring).

    Args:
        models: gives the ``networks.BodyModels`` (its landmark model), called on the first second look
            only: a clip of upright bodies never loads the networks for this.
        min_presence: the model's presence a turned reading needs.
    """

    def __init__(self, models: Callable[[], Any], min_presence: float):
        self.models = models
        self.min_presence = min_presence
        self._rotations: list[float] = []  # the last three kept readings' rotations, oldest first
        self._trunks: list[float] = []  # the last TRUNK_FRAMES kept readings' trunk lengths, pixels
        self._wide = False  # the last frame's reading was a short trunk's second look's
        self.looks = 0  # second looks taken, for tests and benchmarks
        self.kept = 0  # of them, those that read the body better

    def forget(self) -> None:
        """The body was not seen on a frame: the next one starts without a turning speed, nor a short trunk's
        second look carried on (the trunk lengths are kept: a frame's miss mid-flip must not forget them)."""
        self._rotations.clear()
        self._wide = False

    def expected(self) -> float | None:
        """This frame's expected rotation (radians), from the last three readings; None before any.

        A turn is carried on only where the last two frames both turned the same way: then at the slower
        of their two speeds. One frame's jump is a misreading as often as a turn (a body seen from behind
        raising its arms, read 29 degrees turned from one frame to the next on a rendered phone's view), and
        carried on it would make the prediction, and so the second look, confirm itself."""
        if not self._rotations:
            return None
        last = self._rotations[-1]
        if len(self._rotations) < 3:
            return last
        speeds = np.diff(np.unwrap(self._rotations))
        if np.prod(np.sign(speeds)) <= 0 or np.abs(speeds).max() > math.radians(MAX_TURN_DEGREES):
            return last  # not a steady turn (or a misreading): expect none
        return _wrap(last + MOMENTUM * float(speeds[np.argmin(np.abs(speeds))]))

    def read(self, image: np.ndarray, points: np.ndarray, mirror_average: bool = False) -> TurnedReading | None:
        """The turned crop's reading where it reads the body of ``points`` (33, 3: px of ``image``, visibility)
        better, else None (keep ``points``' reading). Either way the kept reading's rotation is remembered."""
        own = rotation_of(points)
        if own is None:
            self.forget()
            return None
        expected = self.expected()
        turned = expected is not None and max(abs(own), abs(expected)) >= math.radians(TURNED_DEGREES)
        trunk = _trunk(points)
        usual = float(np.percentile(self._trunks, 90)) if self._trunks else trunk
        crop = self._crop(points, trunk, usual) if turned else None
        if turned and abs(_wrap(own - expected)) >= math.radians(AGREES_DEGREES):
            found = self._read_turned(image, points, own, expected, crop, mirror_average)
            if found is not None:
                self._wide = False
                return found
        # The rotation as expected (or no better reading turned to it), the trunk short: the arms read as legs.
        if turned and (trunk < SHORT_TRUNK * usual or self._wide):
            found = self._read_wide(image, points, own, trunk, usual, crop, mirror_average)
            self._wide = found is not None
            if found is not None:
                return found
        else:
            self._wide = False
        self.remember(own, trunk)
        return None

    def _read_turned(self, image: np.ndarray, points: np.ndarray, own: float, expected: float,
                     crop: tuple[np.ndarray, bool], mirror_average: bool) -> TurnedReading | None:
        """The reading in the crop turned to the ``expected`` rotation (and to the last kept one) where its own
        rotation is nearer ``expected`` than the reading in hand's (``own``), else None."""
        # The crop turned to the prediction, and to the last kept rotation where the turn slowed (the backflip
        # slows from 30 to 15 degrees a frame past its top; the prediction then runs 40 degrees ahead of the
        # body, beyond what the model reads, and the misreading held for 14 frames).
        angles = [expected] + [a for a in self._rotations[-1:] if abs(_wrap(a - expected)) >= math.radians(
            AGREES_DEGREES)]
        look = self._look(image, crop[0], angles, mirror_average)
        best, theirs = None, None
        for k, reading in look.readings():
            turn = rotation_of(reading)
            if turn is not None and (theirs is None or abs(_wrap(turn - expected)) < abs(_wrap(theirs - expected))):
                best, theirs = k, turn
        if best is None or abs(_wrap(theirs - expected)) >= abs(_wrap(own - expected)):
            return None
        return self._keep(look, best)

    def _read_wide(self, image: np.ndarray, points: np.ndarray, own: float, trunk: float, usual: float,
                   crop: tuple[np.ndarray, bool], mirror_average: bool) -> TurnedReading | None:
        """A turned body read with a short trunk (``trunk`` pixels, ``usual`` its usual length; see
        :data:`SHORT_TRUNK`): read again in the crop turned every :data:`WIDE_STEP_DEGREES` from the reading's
        own turn ``own``; the reading kept as :data:`LONGER_TRUNK` says, else None (keep the one in hand)."""
        last = self._rotations[-1] if self._rotations else None
        # The reading's own turn too where it is tucked and its region smaller than the usual one (:data:`USUAL_SIDE`):
        # that crop is not the one it was read in (the backflip's frame 30: read tucked, the pelvis 0.17 of the
        # height off; the crop of the usual size at its own turn reads it 0.03 off, the nearest turned one 48
        # degrees past the last reading).
        region, grown = crop
        steps = range(0 if grown else 1, round(360 / WIDE_STEP_DEGREES))
        angles = [_wrap(own + math.radians(WIDE_STEP_DEGREES) * k) for k in steps]
        if last is not None:  # only crops that can read the body turned as far as it turns in a frame
            angles = [a for a in angles if abs(_wrap(a - last)) <= math.radians(WIDE_REACH_DEGREES)]
        look = self._look(image, region, angles, mirror_average)
        # Following a misreading out (the last frame's reading was this look's), any longer trunk will do: the
        # misreading fades over a few frames (getup_facedown 71-76: trunks of 0.6-0.75 of the usual length).
        longer = 1.0 if self._wide else LONGER_TRUNK
        best, score, hip = None, 0.0, points[[23, 24], :2].mean(0)
        for k, theirs in look.readings():
            length, turn = _trunk(theirs), rotation_of(theirs)
            if turn is None or length < max(WHOLE_TRUNK * usual, longer * trunk):
                continue
            if last is not None and abs(_wrap(turn - last)) > math.radians(MAX_TURN_DEGREES):
                continue  # a body does not turn that far in a frame: the body read head down, or across
            if length * float(look.flags[k]) > score:
                best, score = k, length * float(look.flags[k])
        if best is None or np.linalg.norm(look.pixels(best)[[23, 24], :2].mean(0) - hip) < SAME_HIPS * usual:
            return None  # none longer, or the hips where the reading in hand has them: it reads the body
        return self._keep(look, best)

    def _crop(self, points: np.ndarray, trunk: float, usual: float) -> tuple[np.ndarray, bool]:
        """(the region (3,) px the second looks read ``points`` (33, 3 px; its trunk ``trunk`` pixels, ``usual``
        the body's usual one) in, whether it was grown): ``points``' region, no smaller than :data:`USUAL_SIDE`
        usual trunks a side where the reading is tucked (its trunk under :data:`WHOLE_TRUNK` of the usual)."""
        region = region_of(points)
        assert region is not None  # its hips and shoulders are known (it has a rotation)
        side = USUAL_SIDE * usual if self._trunks and trunk < WHOLE_TRUNK * usual else 0.0
        grown = bool(region[2] < side)
        region[2] = max(region[2], side)
        return region, grown

    def _look(self, image: np.ndarray, region: np.ndarray, angles: list[float], mirror_average: bool) -> "_Look":
        """The landmark model's readings of ``region`` (3,: centre and side, px; :meth:`_crop`) in ``image``, turned
        by each of ``angles`` (radians), in one batch."""
        h, w = image.shape[:2]
        rois = np.array([[region[0] / w, region[1] / h, region[2] / w, region[2] / h, a] for a in angles])
        from .networks import one_cpu_thread  # imports torch: only for a second look

        with one_cpu_thread():
            flags, lms, worlds = self.models().landmarks([image] * len(rois), rois, mirror_average)
        self.looks += 1
        return _Look(rois, flags, lms, worlds, w, h, self.min_presence)

    def _keep(self, look: "_Look", k: int) -> TurnedReading:
        """Reading ``k`` of a second look kept: its rotation and trunk remembered."""
        points = look.pixels(k)
        rotation = rotation_of(points)
        assert rotation is not None  # only readings with a rotation are kept
        self.remember(rotation, _trunk(points))
        self.kept += 1
        lms = look.lms[k, :33]
        return TurnedReading(look.rois[k], float(look.flags[k]), lms.copy(),
                             np.concatenate([look.worlds[k, :33], lms[:, 3:4]], axis=1))

    def remember(self, rotation: float, trunk: float | None = None) -> None:
        """The body's rotation (radians) and trunk length (pixels; None: not known) on this frame, read
        elsewhere (or kept here)."""
        self._rotations = [*self._rotations[-2:], rotation]
        if trunk is not None and np.isfinite(trunk):
            self._trunks = [*self._trunks[-(TRUNK_FRAMES - 1):], float(trunk)]


def _trunk(points: np.ndarray) -> float:
    """Image length (pixels) of the trunk of body landmarks (33, >=2: pixels)."""
    return float(np.linalg.norm(trunk_vectors(points)))


@dataclass(frozen=True)
class _Look:
    """A second look's batch: ``rois`` (N, 5), the model's ``flags`` (N,), landmarks ``lms`` (N, >=33, 5,
    normalized) and ``worlds`` (N, >=33, 3) on a ``w`` x ``h`` image; readings under ``min_presence`` are none."""

    rois: np.ndarray
    flags: np.ndarray
    lms: np.ndarray
    worlds: np.ndarray
    w: int
    h: int
    min_presence: float

    def pixels(self, k: int) -> np.ndarray:
        """(33, 3) reading ``k``: x, y pixels and visibility."""
        return pixels(self.lms[k, :33], self.w, self.h)

    def readings(self) -> Iterator[tuple[int, np.ndarray]]:
        """(k, reading in pixels) of every reading the model is present enough in."""
        return ((int(k), self.pixels(int(k))) for k in np.flatnonzero(self.flags >= self.min_presence))
