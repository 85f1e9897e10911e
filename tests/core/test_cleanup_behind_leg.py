"""A foot behind a standing leg: the picture does not show it, so its landmark's drift does not lift it."""

from __future__ import annotations

import numpy as np

from core.cleanup import CleanupSettings, image_speeds, torso_pixels
from core.cleanup.contacts import behind_a_standing_leg, detect_contacts
from tests.core.test_cleanup import _keypoints

LEFT = {"knee": 25, "ankle": 27, "heel": 29, "foot_index": 31}
RIGHT = {"knee": 26, "ankle": 28, "heel": 30, "foot_index": 32}
CAMERA = np.zeros(3)


def _standing_pair(frames: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks of someone standing with the left foot behind the right shin (torso 100 px, 0.5 m), and the
    fit's proxies (left heel, left toe, right heel, right toe), the left foot 20 cm farther from the camera."""
    kp = _keypoints(frames)
    kp[:, RIGHT["knee"], :2], kp[:, RIGHT["ankle"], :2] = (340.0, 290.0), (340.0, 370.0)
    kp[:, RIGHT["heel"], :2], kp[:, RIGHT["foot_index"], :2] = (335.0, 380.0), (355.0, 382.0)
    kp[:, LEFT["knee"], :2], kp[:, LEFT["ankle"], :2] = (320.0, 290.0), (338.0, 368.0)
    kp[:, LEFT["heel"], :2], kp[:, LEFT["foot_index"], :2] = (337.0, 378.0), (345.0, 379.0)
    points = np.zeros((frames, 4, 3))
    points[:, :, 2] = 3.0  # metres from the camera, along its axis
    points[:, :2, 2] += 0.2  # the left foot behind
    points[:, [1, 3], 0] = 0.1
    return kp, points


def _contacts(kp: np.ndarray, points: np.ndarray, hide: bool, fitted: float = 0.6,
              climb: np.ndarray | None = None, heights: np.ndarray | None = None) -> np.ndarray:
    settings = CleanupSettings().contacts
    speed = image_speeds(kp, 30.0, settings.image_window)
    hidden = behind_a_standing_leg(kp, points, CAMERA, torso_pixels(kp), speed, settings) if hide else None
    heights = np.zeros((len(kp), 4)) if heights is None else heights  # on the floor
    fit_speed = np.full((len(kp), 4), fitted)  # the fit slides the feet (its depth noise)
    fit_speed[:5] = 0.6  # ... slowly when the take starts
    return detect_contacts(heights, fit_speed, image_speed=speed, hidden=hidden, climb=climb)


def test_a_foot_behind_a_standing_shin_stays_planted_while_its_landmark_drifts_up_the_shin() -> None:
    """The tilted room jumps: the man crouched, both feet planted, the left behind the right shin. MediaPipe's
    left heel and toe crept up the right shin towards its knee, 0.6-0.9 m/s in the picture: the left foot's
    contact ended and the fit carried it 2-5 cm a frame (planted jumps up to 51 mm). The picture does not
    show that foot; the fit, which keeps it on the floor and slower than its own thresholds, decides."""
    kp, points = _standing_pair()
    drift = np.clip(np.arange(60) - 20, 0, 15)[:, None] * np.array([0.0, -4.0])  # 0.6 m/s up the shin
    kp[:, LEFT["heel"], :2] += drift
    kp[:, LEFT["foot_index"], :2] += drift
    assert not _contacts(kp, points, hide=False)[25:35, :2].all()  # read from the picture: lifted
    contacts = _contacts(kp, points, hide=True)
    assert contacts[:, :2].all() and contacts[:, 2:].all()


def test_a_foot_in_front_or_beside_a_swinging_leg_is_read_from_the_picture() -> None:
    """The same drift of a foot nearer the camera than the other leg, or behind a leg that swings, is seen:
    it lifts the foot as before (a leg swinging past hides the foot behind for a few frames only)."""
    kp, points = _standing_pair()
    drift = np.clip(np.arange(60) - 20, 0, 15)[:, None] * np.array([0.0, -4.0])
    kp[:, LEFT["heel"], :2] += drift
    kp[:, LEFT["foot_index"], :2] += drift
    front = points.copy()
    front[:, :2, 2] -= 0.4
    assert not _contacts(kp, front, hide=True)[25:35, :2].all()
    swinging = kp.copy()
    for name in ("knee", "ankle", "heel", "foot_index"):  # the right leg swings 0.9 m/s, the left foot with it
        swinging[:, RIGHT[name], 0] += np.arange(60) * 6.0
    swinging[:, [LEFT["heel"], LEFT["foot_index"]], 0] += np.arange(60)[:, None] * 6.0
    assert not behind_a_standing_leg(swinging, points, CAMERA, torso_pixels(swinging),
                                     image_speeds(swinging, 30.0, 7)).any()


def test_a_hidden_foot_is_not_lifted_by_the_fits_speed_but_by_its_rise() -> None:
    """The fit's depth noise moves a planted foot 0.4-2 m/s: behind a standing shin that ends no contact (on the
    demo it lifted the man's planted toe on the box, 28 mm in one frame); the fit's sole rising fast does."""
    kp, points = _standing_pair()
    drift = np.clip(np.arange(60) - 20, 0, 15)[:, None] * np.array([0.0, -4.0])  # the guess creeps up the shin
    kp[:, [LEFT["heel"], LEFT["foot_index"]], :2] += drift[:, None]
    assert _contacts(kp, points, hide=True, fitted=2.0)[:, :2].all()
    kp, points = _standing_pair()
    climb, heights = np.zeros((60, 4)), np.zeros((60, 4))
    climb[30:, :2] = 1.5  # the left foot rises 5 cm a frame
    heights[30:, :2] = 0.05 * np.arange(1, 31)[:, None]
    lifted = _contacts(kp, points, hide=True, climb=climb, heights=heights)
    assert lifted[:30, :2].all() and not lifted[30:, :2].any()
