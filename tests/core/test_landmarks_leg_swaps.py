"""The pose detector's swaps of the two lower legs, undone in the pose stage (issue 15: the demo's side-step along
the box, frames 110-113 and 118-120, where MediaPipe gave the left foot and knee the right one's place)."""

from __future__ import annotations

import numpy as np

from core import landmarks
from core.landmarks import LEGS, PoseSequence, repair_leg_swaps

LEFT, RIGHT = LEGS["left"], LEGS["right"]  # knee, ankle, heel, toe


def _walk(T: int = 40, cross: bool = False) -> PoseSequence:
    """A man seen side-on, torso 100 px (metres: /500), every landmark seen: his right leg stands at x = 400; his
    left leg stands at x = 340 (``cross``: steps past the right one, 340 -> 460 px over frames 12-24, 10 px a
    frame), knee above ankle."""
    seq = PoseSequence.empty(T, 30.0, (800, 600))
    seq.present[:] = True
    body = np.zeros((T, landmarks.NUM_BODY, 2))
    for side, x in (("left", 395.0), ("right", 405.0)):
        body[:, landmarks.BODY[f"{side}_shoulder"]] = [x, 200.0]
        body[:, landmarks.BODY[f"{side}_hip"]] = [x, 300.0]
    left_x = np.interp(np.arange(T), [0, 12, 24, T], [340.0, 340.0, 460.0, 460.0]) if cross else np.full(T, 340.0)
    for leg, x in ((LEFT, left_x), (RIGHT, np.full(T, 400.0))):
        for point, (dx, y) in zip(leg, ((0.0, 380.0), (0.0, 450.0), (-8.0, 460.0), (20.0, 462.0))):
            body[:, point] = np.stack([x + dx, np.full(T, y)], -1)
    seq.body_2d[..., :2], seq.body_2d[..., 2] = body, 0.9
    seq.body_world[..., :2] = (body - [400.0, 300.0]) / 500.0
    seq.body_world[..., 2], seq.body_world[..., 3] = 0.0, 0.9
    return seq


def _swap_legs(seq: PoseSequence, frames: slice) -> PoseSequence:
    """A copy of ``seq`` with the two lower legs' labels swapped on ``frames`` (image and world landmarks)."""
    out = PoseSequence(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(seq).items()})
    for given, swapped in ((seq.body_2d, out.body_2d), (seq.body_world, out.body_world)):
        swapped[frames, LEFT], swapped[frames, RIGHT] = given[frames, RIGHT], given[frames, LEFT]
    return out


def test_legs_the_detector_swaps_for_three_frames_get_their_labels_back() -> None:
    """MediaPipe gives the left knee, ankle, heel and toe the right leg's places for frames 20-22 (the rest of the
    body keeps its sides). The fit saw the feet crossed there, both legs pulled 60 px across and back; the pose
    stage swaps them back, in the image and world landmarks alike, and touches no other frame."""
    truth = _walk()
    seq = _swap_legs(truth, slice(20, 23))
    assert repair_leg_swaps(seq) == [20, 21, 22]
    assert np.array_equal(seq.body_2d, truth.body_2d) and np.array_equal(seq.body_world, truth.body_world)


def test_a_swap_on_a_step_is_undone_and_the_step_kept() -> None:
    """The labels swap on frames 13-15, as the left foot steps towards the right one: swapped back, the left foot's
    path is smooth again."""
    truth = _walk(cross=True)
    seq = _swap_legs(truth, slice(13, 16))
    assert repair_leg_swaps(seq) == [13, 14, 15]
    assert np.array_equal(seq.body_2d, truth.body_2d)


def test_feet_that_really_pass_each_other_keep_their_labels() -> None:
    """A crossing step (the left foot passes the right one smoothly, as in every walking stride seen side-on) is
    what the person did: nothing is swapped."""
    seq = _walk(cross=True)
    before = seq.body_2d.copy()
    assert repair_leg_swaps(seq) == []
    assert np.array_equal(seq.body_2d, before)


def test_a_long_swap_is_kept_as_given() -> None:
    """Legs labelled the other way round for over half a second (20 frames) are not a detector's glitch of a few
    frames: kept as given, as ``repair_side_swaps`` keeps a long turn."""
    seq = _swap_legs(_walk(60), slice(20, 40))
    assert repair_leg_swaps(seq) == []


def test_unseen_legs_and_missing_frames_swap_nothing() -> None:
    """Frames with no person (NaN) and legs below the seen visibility carry no evidence either way."""
    seq = _walk()
    seq.present[5:9] = False
    seq.body_2d[5:9] = np.nan
    seq.body_2d[15:25, LEFT + RIGHT, 2] = 0.1
    assert repair_leg_swaps(seq) == []


def test_legs_found_again_after_frames_without_the_person_are_not_judged_by_where_they_were() -> None:
    """The follower loses the man for two frames (10-11) and finds him again with his feet crossed (they passed
    each other unseen): the path of the legs starts afresh there, so the frames after keep their labels. Judged
    by where the legs stood before the gap, frames 12-19 were swapped (bench tracking's cross_three, its third
    person captured alone: frames 8-18, limb PA-MPJPE 52.3 -> 68.4 mm)."""
    seq = _walk(30)
    seq.body_2d[12:20, LEFT, 0] += 70.0  # the left leg now stands right of the right one ...
    seq.body_2d[12:20, RIGHT, 0] -= 50.0  # ... which stands where the left one stood
    seq.present[10:12] = seq.present[20:] = False
    seq.body_2d[10:12] = seq.body_2d[20:] = np.nan
    assert repair_leg_swaps(seq) == []


def test_the_first_frame_after_frames_without_the_person_keeps_its_labels() -> None:
    """Found again after two frames without him, the man's legs read crossed on that first frame only: nothing
    before it says the detector swapped them there (the labels may have changed while he was unseen), so it
    keeps them (cross_three's second person captured alone: her first frame after 16 unseen ones swapped,
    limb PA-MPJPE 83.0 -> 86.1 mm)."""
    seq = _walk(30)
    seq.body_2d[12, LEFT, 0] += 60.0
    seq.body_2d[12, RIGHT, 0] -= 60.0
    seq.present[10:12] = False
    seq.body_2d[10:12] = np.nan
    assert repair_leg_swaps(seq) == []
