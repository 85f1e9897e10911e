"""A foot landmark flipping between two places frame after frame: neither a foot standing nor one moving."""

from __future__ import annotations

import numpy as np

from core.cleanup import CleanupSettings, image_speeds, torso_pixels
from core.cleanup.contacts import detect_contacts, flipping
from tests.core.test_cleanup import _keypoints

HEELS = [29, 30]  # MediaPipe's left and right heel
PROXIES = [29, 31, 30, 32]  # the contact proxies' landmarks: left heel, left toe, right heel, right toe


def _detect(kp: np.ndarray, heights: np.ndarray) -> np.ndarray:
    settings = CleanupSettings().contacts
    speed = image_speeds(kp, 30.0, settings.image_window)
    unsure = flipping(kp[:, PROXIES, :2], torso_pixels(kp), 30.0, settings)
    return detect_contacts(heights, np.full(heights.shape, 2.0), image_speed=speed, unsure=unsure)


def test_a_heel_flipping_between_two_places_is_not_planted_by_the_picture() -> None:
    """The held-out boxing take's left heel flipped 20-25 px a frame between two places while its truth was
    lifted: the median of its image velocity cancelled the flips and read it still, so it was planted (and its
    lock pushed the planted toe into the floor). A foot cannot reverse by 3 cm a frame twice in a third of a
    second: the picture does not show it standing. A heel that really stands still, floated as high by the fit,
    is planted; one glitch of a single frame on it (the other leg passing) does not unplant it."""
    kp = _keypoints()
    kp[:, HEELS[0], 0] += np.arange(60) * 6.0  # the left heel moves 0.9 m/s ...
    kp[20:32, HEELS[0], 0] = kp[20, HEELS[0], 0] + 20.0 * (np.arange(12) % 2)  # ... then flips 20 px a frame
    kp[40, HEELS[1], 0] += 20.0  # the right heel stands, one glitch
    speed = image_speeds(kp, 30.0, CleanupSettings().contacts.image_window)
    assert speed[22:30, 0].max() < 0.15  # the median reads the flipping heel still
    heights = np.full((60, 4), 0.3)  # floated by the fit: only the picture's stillness can plant a heel
    contacts = _detect(kp, heights)
    assert not contacts[:, 0].any()
    assert contacts[:, 2].all()


def test_a_planted_heel_whose_landmark_starts_flipping_stays_planted() -> None:
    """Unsure is not moving: a stance that started on a still heel is not ended by its landmark flipping."""
    kp = _keypoints()
    kp[30:40, HEELS[0], 0] += 20.0 * (np.arange(10) % 2)
    heights = np.full((60, 4), 0.3)
    contacts = _detect(kp, heights)
    assert contacts[:, 0].all()
    unsure = flipping(kp[:, PROXIES, :2], torso_pixels(kp), 30.0)
    assert unsure[30:40, 0].all() and not unsure[:, 1:].any()


def test_the_detectors_one_frame_swaps_of_the_feet_labels_are_not_flips() -> None:
    """MediaPipe gives the left foot's landmarks the right foot's places for one frame at a time (frames 20, 23,
    26) while the left foot comes to a stand: read as given, each swap is a flip of all four landmarks, and the
    stance would start six frames late; the cleanup reads the feet with those swaps undone (as its image speeds
    do), where nothing flips."""
    from core.cleanup import feet_swapped_back

    kp = _keypoints()
    kp[:, [29, 31], 0] -= 40.0
    kp[:, [30, 32], 0] += 40.0
    kp[:21, [29, 31], 0] += (np.arange(21) * 6.0 - 120.0)[:, None]  # the left foot moves 0.9 m/s, stands from 20
    for t in (20, 23, 26):
        kp[t, PROXIES] = kp[t, [30, 32, 29, 31]]
    settings = CleanupSettings().contacts
    assert flipping(kp[:, PROXIES, :2], torso_pixels(kp), 30.0, settings)[20:27].all()  # as given: unsure
    repaired = feet_swapped_back(kp, 30.0)
    assert not flipping(repaired[:, PROXIES, :2], torso_pixels(kp), 30.0, settings).any()
    np.testing.assert_array_equal(np.delete(repaired, [20, 23, 26], axis=0), np.delete(kp, [20, 23, 26], axis=0))


def test_foot_lock_always_plants_a_low_foot_whatever_its_landmark_does() -> None:
    """"always" goes by height alone: a heel on the floor whose landmark flips 20 px a frame is planted there."""
    kp = _keypoints()
    kp[0:40, HEELS[0], 0] += 20.0 * (np.arange(40) % 2)
    settings = CleanupSettings().contacts
    unsure = flipping(kp[:, PROXIES, :2], torso_pixels(kp), 30.0, settings)
    assert unsure[:40, 0].any()
    contacts = detect_contacts(np.zeros((60, 4)), np.zeros((60, 4)), "always", settings,
                               image_speed=image_speeds(kp, 30.0, settings.image_window), unsure=unsure)
    assert contacts[:40, 0].all()
