"""Cleanup at other frame rates: its windows span as long at 15 fps (``--preset fast``) as at 30."""

from __future__ import annotations

import numpy as np
import pytest

from core.cleanup import CleanupSettings, frames_at, image_speeds

TORSO_PIXELS_A_METRE = 200.0  # the landmarks below: a 100 px torso, taken as 0.5 m


def _keypoints(frames: int) -> np.ndarray:
    """MediaPipe-style (T, 33, 3) landmarks of someone standing still: torso 100 px (0.5 m)."""
    kp = np.zeros((frames, 33, 3))
    kp[..., 2] = 1.0
    kp[:, [11, 12], 1], kp[:, [23, 24], 1] = 100.0, 200.0
    kp[:, [11, 23], 0], kp[:, [12, 24], 0] = 300.0, 340.0
    kp[:, 29:33, 1] = 380.0
    kp[:, 29:33, 0] = [[290.0, 300.0, 340.0, 350.0]]
    return kp


@pytest.mark.parametrize("rate", [15.0, 30.0])
def test_a_foot_moving_for_a_short_moment_reads_as_moving_at_any_rate(rate: float) -> None:
    """A foot that moves 13 cm in 0.13 s (a jump's push-off), between two stances, reads as moving in the video
    at ``--preset fast``'s 15 fps as it does at 30. At 15 fps the image window's 7 frames spanned 0.47 s and
    the move's 2 frames read as still; on the rendered studio jumps a toe stayed held from take-off to landing,
    60 cm from where it stood."""
    frames = int(2 * rate)
    start, moving = frames // 2, int(round(0.13 * rate))
    kp = _keypoints(frames)
    kp[:, 29, 0] += TORSO_PIXELS_A_METRE / rate * np.clip(np.arange(frames) - start, 0, moving)  # left heel
    speed = image_speeds(kp, rate, CleanupSettings().contacts.image_window)
    on = CleanupSettings().contacts.image_speed_on
    assert (speed[start:start + moving + 1, 0] > on).all()  # every frame it moves on reads as moving
    assert speed[:start - 3, 0].max() < 0.05 and speed[start + moving + 4:, 0].max() < 0.05  # still around it


def test_the_image_window_spans_as_long_at_any_rate() -> None:
    """7 frames at 30 fps (0.23 s) are 5 at 15 fps (halves round up: a shorter window lets landmark
    glitches through), 13 at 60; never fewer than 1."""
    assert [frames_at(7, rate) for rate in (15.0, 24.0, 29.97, 30.0, 60.0)] == [5, 5, 7, 7, 13]
    assert frames_at(7, 2.0) == 1 and frames_at(1, 15.0) == 1
