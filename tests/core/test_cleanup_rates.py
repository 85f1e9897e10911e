"""Cleanup at other frame rates: its windows span as long at 15 fps (``--preset fast``) as at 30."""

from __future__ import annotations

import numpy as np
import pytest

from core.cleanup import CleanupSettings, frames_at, image_speeds
from core.cleanup.contact_pass import ContactPassSettings, refine_contacts
from tests.core.test_cleanup import _keypoints

TORSO_PIXELS_A_METRE = 200.0  # ``_keypoints``' landmarks: a 100 px torso, taken as 0.5 m


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


@pytest.mark.parametrize("rate", [15.0, 30.0])
def test_the_post_pass_bridges_a_glitch_but_not_a_step_at_any_rate(rate: float) -> None:
    """A foot whose contact drops for 0.1 s while the fit keeps it low and slow (a landmark glitch) stands on;
    one lifted for 0.33 s (a short step) stays lifted, at 15 fps as at 30: unscaled, the post-pass's 6 frames
    bridged 0.4 s at 15 fps, a whole step of the rendered room walk held in one place."""
    frames = int(2 * rate)
    glitch, step = int(round(0.1 * rate)), int(round(0.33 * rate))
    contacts = np.ones((frames, 4), bool)
    contacts[10:10 + glitch, 0] = False
    contacts[frames // 2:frames // 2 + step, 1] = False
    out = refine_contacts(contacts, np.zeros((frames, 4)), np.full((frames, 4), 0.2),
                          settings=ContactPassSettings().at_rate(rate))
    assert out[:, 0].all()
    assert not out[frames // 2:frames // 2 + step, 1].any()
    assert ContactPassSettings().at_rate(30.0) == ContactPassSettings()


@pytest.mark.parametrize("rate", [15.0, 30.0])
def test_a_short_stance_the_picture_shows_still_is_planted_at_any_rate(rate: float) -> None:
    """A foot the video shows still for 0.13 s (a running stance is about 0.2 s), floated 30 cm by the fit so only
    the picture can plant it, is planted at 15 fps as at 30: counted in frames, ``min_frames`` (3) asked 0.2 s of
    it at ``--preset fast``'s 15 fps, and the tilted room walk's contact recall there was 0.82 (0.97 scaled)."""
    from core.cleanup.contacts import ContactSettings, detect_contacts

    frames = int(rate * 2)
    stance = np.arange(frames // 2, frames // 2 + int(round(0.13 * rate)))
    image_speed = np.full((frames, 4), 1.2)  # the feet move ...
    image_speed[stance] = 0.05  # ... but for a moment
    heights = np.full((frames, 4), 0.3)
    settings = ContactSettings().at_rate(rate)
    contacts = detect_contacts(heights, np.full((frames, 4), 2.0), settings=settings, image_speed=image_speed,
                               climb=np.zeros((frames, 4)))
    assert contacts[stance].all() and contacts.sum() == 4 * len(stance)
    assert ContactSettings().at_rate(30.0) == ContactSettings()
