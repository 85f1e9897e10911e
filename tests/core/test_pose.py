"""MediaPipe Holistic on real frames: the man on the box, raising both arms."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from core.errors import CancelledError, MocapError
from core.landmarks import BODY, BODY_SWAP, PoseSequence, repair_side_swaps
from core.pose import PoseSettings, estimate_holistic
from core.video import iter_frames, open_video


@pytest.fixture(scope="module")
def sequence(short_clip: Path):
    info = open_video(short_clip)
    # Holistic's own output (follow=False): these tests pin MediaPipe's conventions and its known side swaps.
    return estimate_holistic(
        iter_frames(info), num_frames=info.frame_count, fps=info.fps, image_size=(info.width, info.height),
        settings=PoseSettings(follow=False),
    )


def test_mirror_average_moves_only_the_world_landmarks(short_clip: Path, sequence) -> None:
    info = open_video(short_clip)
    both = estimate_holistic(iter_frames(info), num_frames=info.frame_count, fps=info.fps,
                             image_size=(info.width, info.height),
                             settings=PoseSettings(mirror_average=True, follow=False))
    np.testing.assert_array_equal(both.present, sequence.present)
    np.testing.assert_array_equal(both.body_2d, sequence.body_2d)
    np.testing.assert_array_equal(both.left_hand, sequence.left_hand)
    np.testing.assert_array_equal(both.body_world[..., 3], sequence.body_world[..., 3])  # visibility
    # Averaged with the mirrored video's pose: a few centimetres, not the midline (see test_pose_torch).
    present = sequence.present
    gap = np.linalg.norm(both.body_world[present, :, :3] - sequence.body_world[present, :, :3], axis=-1)
    assert 0.002 < np.median(gap) < 0.06
    half_width = 0.5 * np.linalg.norm(sequence.body_world[present, 11, :3] - sequence.body_world[present, 12, :3],
                                      axis=-1)
    assert np.median(gap[:, [11, 12]]) < 0.3 * np.median(half_width)


def test_person_found_in_most_frames(sequence) -> None:
    assert sequence.num_frames == 60
    assert sequence.present.mean() > 0.85
    # Missing frames are NaN, never zeros that would look like landmarks.
    assert np.isnan(sequence.body_2d[~sequence.present]).all()
    assert np.isfinite(sequence.body_world[sequence.present]).all()


def test_arms_raised_above_the_head_at_the_right_moment(sequence) -> None:
    # Video frame 60 (clip frame 30): both wrists above the nose (image y grows downwards).
    frame = sequence.body_2d[30]
    nose_y = frame[BODY["nose"], 1]
    assert frame[BODY["left_wrist"], 1] < nose_y and frame[BODY["right_wrist"], 1] < nose_y
    # Clip frame 45: arms down again, wrists below the shoulders.
    frame = sequence.body_2d[45]
    assert frame[BODY["left_wrist"], 1] > frame[BODY["left_shoulder"], 1]


def test_left_is_the_subjects_left(sequence) -> None:
    # While raising his arms (clip frames 10-31) he faces the camera, so his
    # left shoulder is on the image's right. Later MediaPipe itself swaps his
    # sides for a few frames (32, 38-43): its known left/right confusion.
    ok = np.zeros(sequence.num_frames, bool)
    ok[10:32] = sequence.present[10:32]
    left_x = sequence.body_2d[ok, BODY["left_shoulder"], 0]
    right_x = sequence.body_2d[ok, BODY["right_shoulder"], 0]
    assert np.mean(left_x > right_x) == 1.0
    # World landmarks are in camera axes: x to the right of the image too.
    assert np.mean(sequence.body_world[ok, BODY["left_shoulder"], 0] > 0) == 1.0


def test_side_swaps_are_repaired(sequence) -> None:
    fixed = copy.deepcopy(sequence)
    swapped = repair_side_swaps(fixed)
    assert 32 in swapped and set(range(38, 44)) <= set(swapped)
    ok = fixed.present.copy()
    ok[:10] = False  # he is still turning towards the camera
    left_x = fixed.body_2d[ok, BODY["left_shoulder"], 0]
    right_x = fixed.body_2d[ok, BODY["right_shoulder"], 0]
    assert (left_x > right_x).all()


def _turning_sequence(frames: int, turn_degrees: float) -> PoseSequence:
    """A synthetic body whose chest turns steadily by ``turn_degrees`` over the clip."""
    seq = PoseSequence.empty(frames, 30.0, (640, 480))
    rest = {"left_shoulder": (0.2, -0.5, 0), "right_shoulder": (-0.2, -0.5, 0),
            "left_hip": (0.1, 0, 0), "right_hip": (-0.1, 0, 0)}
    for t in range(frames):
        a = np.radians(turn_degrees * t / max(frames - 1, 1))
        rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        for name, p in rest.items():
            seq.body_world[t, BODY[name], :3] = rot @ np.array(p)
            seq.body_world[t, BODY[name], 3] = 1.0
            seq.body_2d[t, BODY[name]] = (320 + 400 * (rot @ np.array(p))[0], 240, 1.0)
    seq.present[:] = True
    return seq


def test_a_real_turn_is_not_a_swap() -> None:
    seq = _turning_sequence(60, 180.0)  # half a turn in 2 s
    before = seq.body_2d.copy()
    assert repair_side_swaps(seq) == []
    np.testing.assert_array_equal(seq.body_2d, before)


def test_a_short_swap_is_undone_and_hands_follow() -> None:
    seq = _turning_sequence(60, 20.0)
    seq.left_hand[:] = 1.0
    seq.right_hand[:] = 2.0
    truth = seq.body_2d.copy()
    for t in (20, 21, 22):
        seq.body_2d[t] = seq.body_2d[t][BODY_SWAP]
        seq.body_world[t] = seq.body_world[t][BODY_SWAP]
        seq.left_hand[t], seq.right_hand[t] = 2.0, 1.0
    assert repair_side_swaps(seq) == [20, 21, 22]
    np.testing.assert_array_equal(seq.body_2d, truth)
    assert (seq.left_hand == 1.0).all() and (seq.right_hand == 2.0).all()


def test_a_sideways_glitch_does_not_start_a_swap() -> None:
    """One frame where the chest reads 100 degrees off (MediaPipe does this) is not a left/right swap."""
    seq = _turning_sequence(40, 10.0)
    truth = seq.body_2d.copy()
    t = 15
    c, s_ = np.cos(np.radians(100)), np.sin(np.radians(100))
    rot = np.array([[c, 0, s_], [0, 1, 0], [-s_, 0, c]])
    for name in ("left_shoulder", "right_shoulder", "left_hip", "right_hip"):
        seq.body_world[t, BODY[name], :3] = rot @ seq.body_world[t, BODY[name], :3]
    assert repair_side_swaps(seq) == []
    np.testing.assert_array_equal(seq.body_2d, truth)


def _turn_chest(seq: PoseSequence, t: int, degrees: float) -> None:
    c, s_ = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    rot = np.array([[c, 0, s_], [0, 1, 0], [-s_, 0, c]])
    for name in ("left_shoulder", "right_shoulder", "left_hip", "right_hip"):
        seq.body_world[t, BODY[name], :3] = rot @ seq.body_world[t, BODY[name], :3]


def test_a_swap_made_over_two_frames_is_undone() -> None:
    """The demo's first second: MediaPipe swaps his sides, and swaps them back over two frames (73 then 68
    degrees, through a sideways frame), so no single step reads as a flip. Every frame after the swap kept
    its labelling before (the true frames after it were counted as the swapped ones); the swapped frames are
    now relabelled, the sideways one with them, and not the true ones around them."""
    seq = _turning_sequence(60, 10.0)
    truth = seq.body_2d.copy()
    for t in range(4, 16):
        seq.body_2d[t] = seq.body_2d[t][BODY_SWAP]
        seq.body_world[t] = seq.body_world[t][BODY_SWAP]
    _turn_chest(seq, 16, 100.0)  # the sideways frame between the two labellings, still swapped
    seq.body_2d[16] = seq.body_2d[16][BODY_SWAP]
    seq.body_world[16] = seq.body_world[16][BODY_SWAP]
    assert repair_side_swaps(seq) == list(range(4, 17))
    np.testing.assert_array_equal(seq.body_2d, truth)


def test_landmarks_are_in_original_pixels_when_frames_are_downscaled(short_clip: Path, sequence) -> None:
    info = open_video(short_clip)
    small = estimate_holistic(
        iter_frames(info, end=40, max_size=320), num_frames=40, fps=info.fps,
        image_size=(info.width, info.height),
    )
    both = small.present & sequence.present[:40]
    diff = np.abs(small.body_2d[both, :25, :2] - sequence.body_2d[:40][both, :25, :2])
    assert np.median(diff) < 6.0  # pixels of the 640x360 frame


def test_cancel(short_clip: Path) -> None:
    info = open_video(short_clip)
    calls = []
    with pytest.raises(CancelledError):
        estimate_holistic(
            iter_frames(info), num_frames=60, fps=30.0, image_size=(640, 360),
            should_cancel=lambda: calls.append(1) or len(calls) > 2,
        )


def test_heavy_model_is_refused_because_it_needs_a_download() -> None:
    with pytest.raises(MocapError, match="download"):
        PoseSettings(model_complexity=2)


@pytest.mark.parametrize("promised", [5, 100])
def test_frame_count_that_differs_from_the_header(short_clip: Path, promised: int) -> None:
    """Headers lie about frame counts; the sequence holds exactly the frames decoded."""
    info = open_video(short_clip)
    seq = estimate_holistic(iter_frames(info, start=8, end=20), num_frames=promised, fps=30.0,
                            image_size=(info.width, info.height))
    assert seq.num_frames == 12 and seq.body_2d.shape == (12, 33, 3) and seq.face.shape[0] == 12
    np.testing.assert_array_equal(seq.frame_indices, np.arange(8, 20))
    assert seq.present[-5:].all()  # found once MediaPipe has locked on
