"""MediaPipe Holistic on real frames: the man on the box, raising both arms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import CancelledError, MocapError
from core.landmarks import BODY
from core.pose import PoseSettings, estimate_holistic
from core.video import iter_frames, open_video


@pytest.fixture(scope="module")
def sequence(short_clip: Path):
    info = open_video(short_clip)
    return estimate_holistic(
        iter_frames(info), num_frames=info.frame_count, fps=info.fps, image_size=(info.width, info.height)
    )


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
    # While raising his arms he faces the camera, so his left shoulder is on
    # the image's right. (He turns sideways later in the clip.)
    ok = np.zeros(sequence.num_frames, bool)
    ok[20:41] = sequence.present[20:41]
    left_x = sequence.body_2d[ok, BODY["left_shoulder"], 0]
    right_x = sequence.body_2d[ok, BODY["right_shoulder"], 0]
    assert np.mean(left_x > right_x) == 1.0
    # World landmarks are in camera axes: x to the right of the image too.
    assert np.mean(sequence.body_world[ok, BODY["left_shoulder"], 0] > 0) == 1.0


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
