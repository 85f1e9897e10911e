"""Contacts carried on by the picture (core.cleanup.stance)."""

from __future__ import annotations

import numpy as np

from core.cleanup.stance import StanceSettings, bridge_gaps, extend_stances


def _still_then_moving(T: int, leaves: int) -> np.ndarray:
    """(T, 4, 3) landmarks: every foot stands at (300, 400) px, seen, and from frame ``leaves`` moves 6 px a frame."""
    kp = np.zeros((T, 4, 3))
    kp[..., 0], kp[..., 1], kp[..., 2] = 300.0, 400.0, 0.9
    kp[leaves:, :, 0] += 6.0 * np.arange(1, T - leaves + 1)[:, None]
    return kp


def test_a_contact_lasts_while_the_picture_shows_the_foot_still() -> None:
    """Detection ended the stance at frame 10, but the landmark stands still to frame 12: the contact
    is carried on to there and not past, and not past ``max_frames``."""
    T = 20
    contacts = np.zeros((T, 4), bool)
    contacts[:10] = True
    kp = _still_then_moving(T, leaves=13)
    kp[10:13, :, :2] += 0.5  # landmark noise under the tolerance
    out = extend_stances(contacts, kp, torso_pixels=60.0)
    assert out[:13].all() and not out[13:].any()
    short = extend_stances(contacts, kp, torso_pixels=60.0, settings=StanceSettings(max_frames=1))
    assert short[:11].all() and not short[11:].any()


def test_a_contact_is_not_carried_where_the_foot_is_unseen_or_moves() -> None:
    T = 20
    contacts = np.zeros((T, 4), bool)
    contacts[:10] = True
    kp = _still_then_moving(T, leaves=10)  # moves from the frame detection ends it
    assert not extend_stances(contacts, kp, torso_pixels=60.0)[10:].any()
    kp = _still_then_moving(T, leaves=15)
    kp[10, :, 2] = 0.1  # not seen
    assert not extend_stances(contacts, kp, torso_pixels=60.0)[10:].any()
    # A far person's feet are small: the tolerance follows the torso in pixels.
    kp = _still_then_moving(T, leaves=15)
    kp[10:12, :, 0] += 4.0
    assert not extend_stances(contacts, kp, torso_pixels=60.0)[10:].any()
    assert extend_stances(contacts, kp, torso_pixels=200.0)[10:12].all()


def test_gaps_of_one_or_two_frames_are_bridged_longer_ones_not() -> None:
    flags = np.array([1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1], bool)
    np.testing.assert_array_equal(bridge_gaps(flags, 2), [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1])
    contacts = np.repeat(flags[:, None], 4, axis=1)
    out = extend_stances(contacts, None, None)
    assert out[:9].all() and not out[9:12].any()
