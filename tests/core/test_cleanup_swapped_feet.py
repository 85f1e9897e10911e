"""Feet whose labels the pose detector swaps for frames at a time (issue 15: the demo's side-step along the box)."""

from __future__ import annotations

import numpy as np

from core import landmarks
from core.cleanup import image_speeds
from core.cleanup.contacts import foot_swaps

FEET = [landmarks.BODY[n] for n in ("left_heel", "left_foot_index", "right_heel", "right_foot_index")]


def _side_step(T: int = 40) -> np.ndarray:
    """(T, 75, 3) landmarks of a man whose left foot stands until frame 19 and steps 120 px sideways over frames
    19-22, next to his right foot, which stands all along; torso 100 px, every landmark seen."""
    kp = np.zeros((T, 75, 3))
    kp[:, :landmarks.NUM_BODY, 2] = 1.0
    for side, x in (("left", 300.0), ("right", 340.0)):
        kp[:, landmarks.BODY[f"{side}_shoulder"], :2] = [x, 200.0]
        kp[:, landmarks.BODY[f"{side}_hip"], :2] = [x, 300.0]
    left = np.interp(np.arange(T), [0, 19, 22, T], [300.0, 300.0, 420.0, 420.0])
    kp[:, FEET[0], 0], kp[:, FEET[1], 0] = left, left + 20.0
    kp[:, FEET[2], 0], kp[:, FEET[3], 0] = 440.0, 460.0
    kp[:, FEET, 1] = [450.0, 455.0, 450.0, 455.0]
    return kp


def unswapped_feet(left: np.ndarray, right: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """``left``, ``right`` (T, N, 2) with the labels swapped back where :func:`foot_swaps` says the detector
    swapped them (as ``core.cleanup.image_speeds`` does)."""
    left, right = np.asarray(left, np.float64).copy(), np.asarray(right, np.float64).copy()
    swapped = foot_swaps(left, right, rate)
    left[swapped], right[swapped] = right[swapped], left[swapped].copy()
    return left, right


def test_a_foot_that_steps_while_the_detector_swaps_its_labels_reads_moving_in_the_picture() -> None:
    """The detector gives the left foot's landmarks to the right foot and back on frames 18-20, as the left foot
    steps beside the right (the demo's side-step along the box, frames 118-120). Read as labelled, the left foot
    jumped to where it lands one frame early and stood there: the median of its image velocity read it still
    throughout (its stance went on through the step, the lock holding it 100 px behind). Swapped back, it reads
    moving on the frames it moves, as without the swap, and both feet still where they stand."""
    kp = _side_step()
    swapped = kp.copy()
    swapped[18:21, FEET[:2]], swapped[18:21, FEET[2:]] = kp[18:21, FEET[2:]], kp[18:21, FEET[:2]]
    speed = image_speeds(swapped, 30.0, 7)
    assert np.allclose(speed, image_speeds(kp, 30.0, 7))
    assert speed[19:23, :2].min() > 1.0  # m/s: the step
    assert np.delete(speed, np.arange(19, 23), axis=0).max() < 0.05


def test_feet_that_pass_each_other_keep_their_labels() -> None:
    """Feet crossing in the picture as a foot steps past the other are not swapped: each keeps its own path."""
    T = 30
    left = np.zeros((T, 2, 2))
    right = np.zeros((T, 2, 2))
    left[:, :, 0] = np.linspace(0.0, 200.0, T)[:, None] + [0.0, 20.0]
    left[:, :, 1] = 450.0
    right[:, :, 0] = [100.0, 120.0]
    right[:, :, 1] = 452.0
    out_left, out_right = unswapped_feet(left, right, 30.0)
    assert np.allclose(out_left, left) and np.allclose(out_right, right)


def test_a_swap_that_starts_on_an_unseen_foot_does_not_leave_the_rest_of_the_take_swapped() -> None:
    """The detector swaps the feet's labels on frames 10-12, and on frame 10 does not see the foot it labels left.
    Compared with the frame before only, the swap's start showed nothing, its end looked like a swap, and every
    frame after it kept the wrong labels: the left foot's step (frames 19-22) read as the right foot's, the left
    foot still. Each foot is now compared with where it was last seen, and only short runs are swapped back: the
    step is the left foot's and both feet read as without the swap from frame 13 on."""
    kp = _side_step(60)
    swapped = kp.copy()
    swapped[10:13, FEET[:2]], swapped[10:13, FEET[2:]] = kp[10:13, FEET[2:]], kp[10:13, FEET[:2]]
    swapped[10, FEET[:2], 2] = 0.0
    speed, truth = image_speeds(swapped, 30.0, 7), image_speeds(kp, 30.0, 7)
    assert speed[19:23, :2].min() > 1.0 and np.nanmax(speed[19:23, 2:]) < 0.05  # the left foot steps
    assert np.allclose(speed[16:], truth[16:])  # past the swap (and the median's reach), as without it


def test_labels_that_stay_swapped_for_long_are_left_as_given() -> None:
    """A run of frames that looks swapped but lasts over ``SWAP_SECONDS`` is not swapped back (as
    ``core.landmarks.repair_side_swaps``): the labelling the take holds longest is kept, whichever it is."""
    from core.cleanup.contacts import SWAP_SECONDS, foot_swaps

    T = 90
    left = np.zeros((T, 1, 2))
    right = np.zeros((T, 1, 2))
    left[:, 0, 0], right[:, 0, 0] = 100.0, 300.0
    left[40:70, 0, 0], right[40:70, 0, 0] = 300.0, 100.0  # 30 frames, 1 s at 30 fps
    assert not foot_swaps(left, right, 30.0).any()
    assert 30 > SWAP_SECONDS * 30.0
    assert foot_swaps(left, right, 30.0, max_seconds=1.5)[40:70].all()  # short enough at a longer limit
    assert foot_swaps(left, right, 30.0, max_seconds=1.5).sum() == 30
