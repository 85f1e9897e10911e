"""The one post-pass over detected contacts (core.cleanup.contact_pass): bridging, carrying, dropping."""

from __future__ import annotations

import numpy as np

from core.cleanup.contact_pass import ContactPassSettings, bridge_gaps, carry_stances, carry_support, refine_contacts


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
    out = carry_stances(contacts, kp, torso_pixels=60.0)
    assert out[:13].all() and not out[13:].any()
    short = carry_stances(contacts, kp, torso_pixels=60.0, settings=ContactPassSettings(max_frames=1))
    assert short[:11].all() and not short[11:].any()


def test_a_landmark_glitch_does_not_end_the_carry_but_a_real_step_does() -> None:
    """MediaPipe's heel jumps 25 px for two frames and back while the other leg passes (a planted foot
    on the rendered walks): the carry rides it out. A foot that moves away for good is not carried."""
    T = 24
    contacts = np.zeros((T, 4), bool)
    contacts[:10] = True
    kp = _still_then_moving(T, leaves=18)
    kp[12:14, :, 1] -= 25.0
    out = carry_stances(contacts, kp, torso_pixels=60.0)
    assert out[:18].all() and not out[19:].any()


def test_a_contact_is_not_carried_where_the_foot_is_unseen_or_moves() -> None:
    T = 20
    contacts = np.zeros((T, 4), bool)
    contacts[:10] = True
    kp = _still_then_moving(T, leaves=10)  # moves from the frame detection ends it
    assert not carry_stances(contacts, kp, torso_pixels=60.0)[10:].any()
    kp = _still_then_moving(T, leaves=15)
    kp[10, :, 2] = 0.1  # not seen
    assert not carry_stances(contacts, kp, torso_pixels=60.0)[10:].any()
    # A far person's feet are small: the tolerance follows the torso in pixels.
    kp = _still_then_moving(T, leaves=15)
    kp[10:16, :, 0] += 6.0
    assert not carry_stances(contacts, kp, torso_pixels=60.0)[10:].any()
    assert carry_stances(contacts, kp, torso_pixels=200.0)[10:15].all()


def test_gaps_of_one_or_two_frames_are_bridged_longer_ones_not() -> None:
    flags = np.array([1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1], bool)
    np.testing.assert_array_equal(bridge_gaps(flags, 2), [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1])
    contacts = np.repeat(flags[:, None], 4, axis=1)
    out = refine_contacts(contacts, settings=ContactPassSettings(min_frames=1))
    assert out[:9].all() and not out[9:12].any()


def test_a_gap_is_bridged_by_the_fit_only_when_the_foot_stays_low_and_slow() -> None:
    """A 5-frame gap where the fit keeps the foot low and slow is one stance; the same gap where the
    foot rises 12 cm, or moves fast, stays a gap (a short step)."""
    contacts = np.ones((30, 4), bool)
    contacts[12:17] = False
    height = np.zeros((30, 4))
    height[12:17, 1] = 0.12
    speed = np.full((30, 4), 0.2)
    speed[12:17, 2] = 2.0
    out = refine_contacts(contacts, height, speed)
    assert out[:, 0].all() and out[:, 3].all()
    assert not out[12:17, 1].any() and not out[12:17, 2].any()


def test_a_body_without_flight_stands_on_its_last_stance() -> None:
    """No foot is found planted on frames 10-19 (the landmarks glitched on the stance foot while the other
    swung): the stance before carries on while that foot is slow in the video (to where the other lands),
    frames it leaves take the stance after, early, the same way; a foot swinging fast (a jump's flight)
    is not held. At the take's start the first stance is carried back."""
    T = 30
    contacts = np.zeros((T, 4), bool)
    contacts[:10, 0] = contacts[20:, 2] = True
    speed = np.full((T, 4), 0.5)
    out = carry_support(contacts, speed, ContactPassSettings())
    assert out[:, 0].sum() == 20 and out[:, 2].sum() == 10
    start = contacts.copy()
    start[:10] = False
    assert carry_support(start, speed, ContactPassSettings())[5:, 2].all()
    speed[12:, 0] = 3.0  # the heel leaves at 12
    speed[:17, 2] = 3.0  # the other lands at 17
    out = carry_support(contacts, speed, ContactPassSettings())
    assert out[:12, 0].all() and not out[12:, 0].any() and out[17:, 2].all() and not out[:17, 2].any()
    flight = carry_support(contacts, np.full((T, 4), 2.5), ContactPassSettings())
    np.testing.assert_array_equal(flight, contacts)


def test_a_walk_whose_landmarks_take_the_passing_leg_misses_no_contact_and_no_foot_jumps() -> None:
    """The synthetic walk (known contacts), slightly sliding and jittery, whose planted feet's landmarks
    jump 20 px away through the middle third of every stance (MediaPipe reading the passing leg, as on the
    rendered tilted walks): every true contact is held over 80% of its frames and no planted foot moves
    more than 2 cm in a frame. Stances detection ended at the glitch let the feet jump 9 cm."""
    from core.body.mannequin import forward_kinematics
    from core.cleanup import CleanupSettings, clean_motion
    from core.cleanup.contacts import segments
    from core.cleanup.floor import PROXY_INDEX
    from core.cleanup.root import IMAGE_FEET
    from tests.core.test_cleanup_root import _with_landmarks
    from tests.testdata.walk import corrupt, synthetic_walk, to_camera

    motion, truth = synthetic_walk(150)
    seen = _with_landmarks(to_camera(motion))
    kp = seen.keypoints_2d.copy()
    for p in range(4):
        for s, e in segments(truth[:, p]):
            a, b = s + (e - s) // 3, s + 2 * (e - s) // 3
            kp[a:b, IMAGE_FEET[p], 1] -= 20.0 + 3.0 * np.arange(b - a)
    seen.keypoints_2d = kp
    result = clean_motion(corrupt(seen, slide_mm=3.0, jitter_rad=0.01, trans_jitter_mm=3.0), CleanupSettings())
    held = [result.contacts[s:e, p].mean() for p in range(4) for s, e in segments(truth[:, p])]
    assert min(held) > 0.8, held
    pos, _ = forward_kinematics(result.motion.poses, result.motion.rest_joints, result.motion.trans)
    steps = np.linalg.norm(np.diff(pos[:, PROXY_INDEX], axis=0), axis=-1)
    assert steps[truth[1:] & truth[:-1]].max() < 0.02


def test_a_lone_two_frame_touch_is_not_carried_into_a_stance() -> None:
    """Detection found the right heel for 2 frames (near-equal landmarks of another pose backend did not):
    though the picture shows that foot still around them, it is no stance and stays out, where the carry
    made 8 frames of it. The same touch shared with its toe, or cut by the take's start, is kept and carried."""
    T = 30
    kp = _still_then_moving(T, leaves=T)  # every landmark stands still
    lone = np.zeros((T, 4), bool)
    lone[11:13, 2] = True
    assert not refine_contacts(lone, keypoints=kp, torso_pixels=60.0).any()
    shared = lone.copy()
    shared[10:16, 3] = True
    out = refine_contacts(shared, keypoints=kp, torso_pixels=60.0)
    assert out[11:13, 2].all() and out[:, 2].sum() > 2
    start = np.zeros((T, 4), bool)
    start[:2, 2] = True
    assert refine_contacts(start, keypoints=kp, torso_pixels=60.0)[:2, 2].all()


def _two_toe_stances(T: int, apart: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contacts (T, 4) of one toe standing on frames 5-24 and 32-49, its two stances ``apart`` metres apart along
    the floor in the fit (points (T, 4, 3)), every sole on the floor (T, 4)."""
    contacts = np.zeros((T, 4), bool)
    contacts[5:25, 1] = contacts[32:50, 1] = True
    points = np.zeros((T, 4, 3))
    points[32:, 1, 0] = apart
    return contacts, points, np.zeros((T, 4))


def test_a_glitch_between_two_stances_in_one_place_is_bridged_but_a_step_is_not() -> None:
    """A toe's contact drops for 7 frames (its landmark glitched) while the fit keeps it low and its stances
    on either side stand 8 cm apart: one stance. Stances 40 cm apart are a step, and a toe that rises
    15 cm in the gap has left the floor: neither is bridged."""
    from core.cleanup.contact_pass import bridge_same_place

    T = 60
    contacts, points, sole = _two_toe_stances(T, 0.08)
    assert bridge_same_place(contacts, points, sole)[5:50, 1].all()
    assert refine_contacts(contacts, sole, np.zeros((T, 4)), points=points)[5:50, 1].all()
    points[32:, 1, 0] = 0.4
    assert not bridge_same_place(contacts, points, sole)[25:32, 1].any()
    points[32:, 1, 0] = 0.08
    sole[27:30, 1] = 0.15
    assert not bridge_same_place(contacts, points, sole)[25:32, 1].any()


def test_two_stances_in_one_place_in_the_picture_are_one_though_the_fit_drifted() -> None:
    """A toe's landmark glitches for 7 frames between two stances the fit puts 20 cm apart (its depth
    drifted), while the picture shows the toe where it stood (3 px in a 100 px torso): one stance, held in one
    place. Stances the picture shows 60 px (30 cm at the person's scale) apart are a step."""
    from core.cleanup.contact_pass import bridge_same_place

    T = 60
    contacts, points, sole = _two_toe_stances(T, 0.20)
    kp = _still_then_moving(T, T)
    kp[25:32, 1, 0] += 50.0  # the glitch
    kp[32:, 1, 0] += 3.0
    assert bridge_same_place(contacts, points, sole, keypoints=kp, torso_pixels=100.0)[5:50, 1].all()
    assert not bridge_same_place(contacts, points, sole)[25:32, 1].any()  # the fit alone: two places
    assert refine_contacts(contacts, sole, np.zeros((T, 4)), kp, 100.0, points=points)[5:50, 1].all()
    kp[32:, 1, 0] += 57.0
    assert not bridge_same_place(contacts, points, sole, keypoints=kp, torso_pixels=100.0)[25:32, 1].any()
    # A step along the camera's ray hardly moves in the picture: stances the fit puts 40 cm apart stay two.
    kp[32:, 1, 0] -= 57.0
    points[32:, 1, 0] = 0.40
    assert not bridge_same_place(contacts, points, sole, keypoints=kp, torso_pixels=100.0)[25:32, 1].any()
    from core.cleanup.contact_pass import ContactPassSettings  # and where several cameras measured the 3D
    points[32:, 1, 0] = 0.20
    unpictured = ContactPassSettings(same_place_pictured=False)
    assert not bridge_same_place(contacts, points, sole, unpictured, keypoints=kp, torso_pixels=100.0)[25:32, 1].any()


def test_a_low_slow_gap_is_no_slip_where_the_picture_shows_the_foot_standing_elsewhere_after() -> None:
    """A boxer's heel shuffles: its contact drops for 5 frames, the fit keeps it low and slow (a monocular fit
    hardly lifts it), but the picture shows it standing 40 px further on after the gap than before (20 cm at a
    100 px torso): a step, not bridged (the stance after is carried back only over the frames its landmark has
    arrived on; the held-out val_boxing_late's right heel, frames 109-116, was held through its lift). The same
    gap with the landmark back where it stood is a slip and is bridged."""
    T = 30
    contacts = np.zeros((T, 4), bool)
    contacts[:12] = contacts[17:] = True
    height, speed = np.zeros((T, 4)), np.full((T, 4), 0.2)
    kp = _still_then_moving(T, leaves=T)
    kp[12:, :, 0] += np.minimum(10.0 + 8.0 * np.arange(T - 12), 40.0)[:, None]  # 8 px a frame, then 40 px on
    out = refine_contacts(contacts, height, speed, kp, 100.0)
    assert not out[12:15].any() and out[:12].all() and out[17:].all()
    back = _still_then_moving(T, leaves=T)
    back[12:17, :, 1] -= 25.0  # a glitch and back: the same place
    assert refine_contacts(contacts, height, speed, back, 100.0).all()
