"""The feet's speeds in the picture at the take's edges: what starts a stance on its first frame."""

from __future__ import annotations

import numpy as np

from core.cleanup import CleanupSettings, image_speeds
from core.cleanup.contacts import detect_contacts
from tests.core.test_cleanup import _keypoints


def test_a_take_whose_last_frame_lost_the_person_still_plants_its_first() -> None:
    """The demo's last frame has no person (bridged, its landmarks unseen). The feet of the first frame
    are seen standing, so their speed is known and a still foot is planted from frame 0 on (the unseen
    last frame wrapped onto the first hid its speeds: no stance could start there from the picture)."""
    kp = _keypoints()
    kp[-1, :, 2] = 0.0  # the last frame: nobody seen
    speed = image_speeds(kp, 30.0, CleanupSettings().contacts.image_window)
    assert np.isfinite(speed[0]).all() and np.isnan(speed[-2:]).all()
    heights = np.full((60, 4), 0.3)  # floated by the fit: only the picture's stillness plants it
    contacts = detect_contacts(heights, np.zeros((60, 4)), image_speed=speed)
    assert contacts[:-2].all()


def test_a_take_whose_first_frame_lost_the_person_keeps_its_last_speeds() -> None:
    """The same the other way round: an unseen first frame leaves the last frames' speeds known."""
    kp = _keypoints()
    kp[0, :, 2] = 0.0
    speed = image_speeds(kp, 30.0, CleanupSettings().contacts.image_window)
    assert np.isnan(speed[:2]).all() and np.isfinite(speed[2:]).all()
