"""Motion cleanup: planted feet, no jitter, no floating, with figures to prove it."""

from __future__ import annotations

import numpy as np
import pytest

from core.body.mannequin import forward_kinematics
from core.cleanup import CleanupSettings, clean_motion
from core.cleanup.floor import PROXY_INDEX, proxy_heights
from core.cleanup import image_speeds
from core.cleanup.contacts import detect_contacts
from core.cleanup.footlock import HOLD_RISE, proxy_targets
from core.cleanup.smoothing import one_euro_within_noise, one_euro_zero_phase
from tests.testdata.walk import corrupt, synthetic_walk, to_camera
from core.errors import MocapError


@pytest.fixture(scope="module")
def walk():
    motion, truth = synthetic_walk(150)
    return motion, truth, to_camera(motion)


def _proxies(motion) -> np.ndarray:
    pos, _ = forward_kinematics(motion.poses, motion.rest_joints, motion.trans)
    return pos[:, PROXY_INDEX]


def _skate_mm(motion, contacts) -> float:
    """Mean horizontal travel per frame of the feet while truly planted, mm (Z-up world)."""
    pts = _proxies(motion)
    both = contacts[1:] & contacts[:-1]
    return float(np.linalg.norm(np.diff(pts[..., :2], axis=0), axis=-1)[both].mean() * 1000)


def test_floor_is_found_and_the_take_stands_on_it(walk) -> None:
    _, _, seen = walk
    result = clean_motion(seen, CleanupSettings(smoothing_body=0.0))
    # The camera looks 10 degrees down: the floor is tilted 10 degrees from the image's up.
    assert result.quality["floor_tilt_degrees"] == pytest.approx(10.0, abs=0.5)
    np.testing.assert_array_equal(result.motion.world_up, [0, 0, 1])
    pts = _proxies(result.motion)
    soles = pts[..., 2] - proxy_heights(seen.rest_joints, seen.v_template)
    assert np.median(soles[result.contacts]) == pytest.approx(0.0, abs=0.005)
    assert soles.min() > -0.005  # nothing under the floor


def test_floor_tilt_is_the_cameras_tilt_whatever_up_the_take_was_given(walk) -> None:
    """With the true up known (as core.gravity gives it), the floor still reads 10 degrees from the
    camera's level, and the feet did not tilt it away from that up."""
    import copy

    _, _, seen = walk
    told = copy.deepcopy(seen)
    a = np.radians(10.0)
    told.world_up = np.array([0.0, -np.cos(a), -np.sin(a)])  # the camera looks 10 degrees down
    told.up_sigma_degrees = 1.0
    result = clean_motion(told, CleanupSettings(smoothing_body=0.0))
    assert result.quality["floor_tilt_degrees"] == pytest.approx(10.0, abs=0.5)
    assert result.quality["floor_off_up_degrees"] < 0.5
    pts = _proxies(result.motion)
    soles = pts[..., 2] - proxy_heights(seen.rest_joints, seen.v_template)
    assert np.abs(np.percentile(soles[result.contacts], [10, 90])).max() < 0.01  # planted soles on that floor
    level = clean_motion(seen, CleanupSettings(smoothing_body=0.0))
    assert level.quality["floor_off_up_degrees"] == pytest.approx(10.0, abs=0.5)  # the feet tilted a level up


def test_overlay_is_unchanged_by_grounding(walk) -> None:
    """Moving the take onto the floor moves the camera with it: every joint keeps its pixel."""
    _, _, seen = walk
    settings = CleanupSettings(foot_lock="off", smoothing_body=0.0, smoothing_hands=0.0, smoothing_face=0.0)
    grounded = clean_motion(seen, settings).motion

    def pixels(m):
        pos, _ = forward_kinematics(m.poses, m.rest_joints, m.trans)
        E = np.eye(4) if m.camera_extrinsics is None else m.camera_extrinsics
        cam = pos @ E[:3, :3].T + E[:3, 3]
        uv = cam @ m.camera_intrinsics.T
        return uv[..., :2] / uv[..., 2:]

    np.testing.assert_allclose(pixels(grounded), pixels(seen), atol=0.05)


def test_contacts_agree_with_the_truth(walk) -> None:
    _, truth, seen = walk
    assert (clean_motion(seen).contacts == truth).mean() >= 0.9
    # With slide and jitter, over several noise draws (most misses are one frame
    # at the start or end of a step).
    agree = [(clean_motion(corrupt(seen, seed=s)).contacts == truth).mean() for s in range(4)]
    assert np.mean(agree) >= 0.9 and min(agree) >= 0.85, agree


def test_slide_and_jitter_are_removed(walk) -> None:
    _, truth, seen = walk
    bad = corrupt(seen, seed=2)
    off = CleanupSettings(foot_lock="off", smoothing_body=0.0, smoothing_hands=0.0, smoothing_face=0.0)
    before = clean_motion(bad, off)
    after = clean_motion(bad)
    skate_before, skate_after = _skate_mm(before.motion, truth), _skate_mm(after.motion, truth)
    assert skate_after <= 0.3 * skate_before and skate_after <= 10.0, (skate_before, skate_after)
    assert after.quality["jitter_mm_per_frame2"] < 0.5 * before.quality["jitter_mm_per_frame2"]
    assert after.quality["ground_penetration_mm"] < 0.5


def test_foot_lock_off_leaves_the_legs_alone(walk) -> None:
    _, _, seen = walk
    settings = CleanupSettings(foot_lock="off", smoothing_body=0.0, smoothing_hands=0.0, smoothing_face=0.0)
    out = clean_motion(seen, settings).motion
    np.testing.assert_allclose(out.poses[:, 3:], seen.poses[:, 3:], atol=1e-6)


def test_ground_off_keeps_the_camera_frame(walk) -> None:
    _, _, seen = walk
    out = clean_motion(seen, CleanupSettings(ground=False)).motion
    np.testing.assert_array_equal(out.world_up, seen.world_up)
    np.testing.assert_allclose(out.camera_extrinsics, np.eye(4), atol=1e-9)
    # The feet are still planted (in the camera frame): the take changed, the frame did not.
    assert not np.allclose(out.poses, seen.poses)


def test_smoothing_keeps_fast_motion() -> None:
    """A fast 4 Hz swing keeps its amplitude, while noise on a still signal drops a lot."""
    rate = 30.0
    t = np.arange(120) / rate
    fast = np.sin(2 * np.pi * 4.0 * t)[:, None] * np.ones((1, 3))
    kept = one_euro_zero_phase(fast, rate, 0.5)
    assert np.abs(kept[20:-20]).max() > 0.7
    rng = np.random.default_rng(0)
    still = rng.normal(0, 0.01, (120, 3))
    assert one_euro_zero_phase(still, rate, 0.5).std() < 0.35 * still.std()


def test_bad_settings_and_missing_rest_data(walk) -> None:
    _, _, seen = walk
    with pytest.raises(MocapError, match="foot lock"):
        CleanupSettings(foot_lock="sometimes")
    with pytest.raises(MocapError, match="between 0 and 1"):
        CleanupSettings(smoothing_body=2.0)
    import copy

    bare = copy.deepcopy(seen)
    bare.rest_joints = None
    with pytest.raises(MocapError, match="rest skeleton"):
        clean_motion(bare)


def test_a_steady_take_is_not_smoothed_but_a_jittery_one_is(walk) -> None:
    """Smoothing only removes what the take's own noise accounts for."""
    _, _, seen = walk
    out = clean_motion(seen, CleanupSettings(foot_lock="off")).motion
    # The exact walk has no jitter: its joints keep their rotations (a plain
    # One Euro at this strength moves them by about 0.05).
    np.testing.assert_allclose(out.poses[:, 3:], seen.poses[:, 3:], atol=1e-4)
    rate = 30.0
    t = np.arange(150) / rate
    slow = 0.5 * np.stack([np.sin(np.pi * t), np.cos(np.pi * t)], axis=-1)[:, None, :]
    noisy = slow + np.random.default_rng(0).normal(0, 0.03, slow.shape)
    smoothed, used = one_euro_within_noise(noisy, rate, 0.5)
    assert used[0] > 0
    error = lambda x: np.sqrt(np.mean(np.sum((x - slow) ** 2, axis=-1)))  # noqa: E731
    assert error(smoothed) < 0.7 * error(noisy)


def _keypoints(frames: int = 60) -> np.ndarray:
    """MediaPipe-style (T, 33, 3) landmarks of someone standing still: torso 100 px (0.5 m)."""
    kp = np.zeros((frames, 33, 3))
    kp[..., 2] = 1.0
    kp[:, [11, 12], 1], kp[:, [23, 24], 1] = 100.0, 200.0
    kp[:, [11, 23], 0], kp[:, [12, 24], 0] = 300.0, 340.0
    kp[:, 29:33, 1] = 380.0
    kp[:, 29:33, 0] = [[290.0, 300.0, 340.0, 350.0]]
    return kp


def test_a_landmark_glitch_does_not_lift_a_planted_foot() -> None:
    """MediaPipe's heel jumps 15 px for three frames (the other leg passing in
    front): the foot stays planted; a foot that really moves is still seen moving."""
    kp = _keypoints()
    kp[30:33, 29, 0] += 15.0
    kp[:, 32, 0] += np.arange(60) * 6.0  # right toe: 6 px per frame = 0.9 m/s
    speed = image_speeds(kp, 30.0, CleanupSettings().contacts.image_window)
    assert speed[:, 0].max() < 0.05
    assert np.median(speed[5:-5, 3]) == pytest.approx(0.9, rel=0.05)
    fitted = np.zeros((60, 4))
    fitted[:, 3] = 0.9  # the fit moves that toe too (else it would join its flat foot's planted heel)
    contacts = detect_contacts(np.zeros((60, 4)), fitted, image_speed=speed)
    assert contacts[:, 0].all() and not contacts[:, 3].any()


def test_a_foot_the_video_shows_still_is_planted_though_the_fit_floats_it() -> None:
    """Depth errors float a planted heel 8 cm above the fitted floor (as on the
    rendered CMU walk), or a whole stance 40 cm (the rendered CMU jumps, whose
    root depth drifts): still in the video, each is a contact for as long as it
    stands; a foot as high that moves in the video, or one still but 60 cm up, is not."""
    kp = _keypoints()
    kp[:, 30, 0] += np.arange(60) * 4.0  # the right heel drifts 0.6 m/s in the video
    speed = image_speeds(kp, 30.0, CleanupSettings().contacts.image_window)
    heights = np.full((60, 4), 0.08)
    heights[:, 1] = 0.40
    heights[:, 3] = 0.60
    contacts = detect_contacts(heights, np.zeros((60, 4)), image_speed=speed)
    assert contacts[:, 0].all() and contacts[:, 1].all()
    assert not contacts[:, 2].any() and not contacts[:, 3].any()
    # Without the video, height alone decides: 8 cm is too high for a contact.
    assert not detect_contacts(heights, np.zeros((60, 4))).any()


def test_a_planted_foot_is_held_along_the_floor_but_may_roll() -> None:
    """During a contact the heel stops sliding, but its height follows the fit
    (the heel rises before toe-off) up to ``HOLD_RISE`` over the stance's median
    height, and never goes below the floor."""
    T = 20
    points = np.zeros((T, 4, 3))
    points[:, :, 2] = 0.08
    points[:, 0, 0] = np.linspace(0.0, 0.05, T)  # the fitted heel slides 5 cm...
    points[:, 0, 2] = 0.08 + np.linspace(-0.02, 0.03, T)  # ...dips below the floor, then rises 3 cm
    contacts = np.zeros((T, 4), bool)
    contacts[:, 0] = True
    rest = np.full(4, 0.08)
    targets, weights = proxy_targets(points, contacts, rest)
    assert np.ptp(targets[:, 0, 0]) < 1e-9 and np.ptp(targets[:, 0, 1]) < 1e-9
    ceiling = np.median(points[:, 0, 2]) + HOLD_RISE
    np.testing.assert_allclose(targets[:, 0, 2], np.clip(points[:, 0, 2], 0.08, ceiling))
    assert targets[:, 0, 2].max() > 0.09  # it still rolls
    assert (weights[:, 0] == 1).all() and (weights[:, 1:] == 0).all()


def test_a_foot_leaving_the_floor_fast_does_not_jerk() -> None:
    """After a lock the held offset fades out, so the foot moves as fitted plus a
    smooth small correction: its acceleration stays near the fit's own."""
    T, rate = 40, 30.0
    t = np.arange(T)
    # The fitted heel slides 1 mm a frame while planted, then lifts off, reaching 2 m/s within 4 frames.
    speed = np.where(t < 20, 0.001, 0.001 + (2.0 / rate) * np.clip((t - 19) / 4, 0, 1))
    points = np.zeros((T, 4, 3))
    points[:, :, 2] = 0.1
    points[:, 0, 0] = np.cumsum(speed)
    contacts = np.zeros((T, 4), bool)
    contacts[:20, 0] = True
    targets, _ = proxy_targets(points, contacts, np.full(4, 0.08))
    accel = lambda p: np.abs(np.diff(p[:, 0, 0], 2)).max()  # noqa: E731
    # Easing from the held place straight onto the fitted path would double it.
    assert accel(targets) < 1.25 * accel(points)
    assert np.ptp(targets[:20, 0, 0]) < 1e-9  # held while planted


def test_a_free_leg_moves_with_the_body_when_the_root_is_shifted() -> None:
    """The root is shifted to keep a planted foot still; the other, swinging leg
    keeps its fitted pose instead of being bent back to where it was."""
    from core.cleanup.footlock import LEGS, lock_feet

    motion, truth = synthetic_walk(90)
    drift = np.zeros_like(motion.trans)
    drift[:, 1] = np.linspace(0.0, 0.3, motion.num_frames)  # the whole body drifts 30 cm
    contacts = np.zeros_like(truth)
    contacts[:, :2] = truth[:, :2]  # only the left foot is planted
    heights = proxy_heights(motion.rest_joints, motion.v_template)
    poses, trans = lock_feet(motion.poses, motion.rest_joints, motion.trans + drift, contacts, heights)
    assert not np.allclose(trans, motion.trans + drift)  # the root was shifted
    import copy

    locked = copy.deepcopy(motion)
    locked.poses, locked.trans = poses.astype(np.float32), trans.astype(np.float32)
    pts = _proxies(locked)
    both = contacts[1:, 0] & contacts[:-1, 0]
    assert np.linalg.norm(np.diff(pts[:, 0, :2], axis=0), axis=-1)[both].max() < 1e-3
    right = [3 * j + i for j in LEGS["right"][:3] for i in range(3)]
    np.testing.assert_allclose(poses[:, right], motion.poses[:, right], atol=1e-5)


def test_a_held_foot_moves_the_body_along_the_cameras_line_of_sight_not_across_it() -> None:
    """The picture places the pelvis across the camera's line of sight to a pixel: a held foot the fit
    carried 30 cm sideways is the legs' to reach, not a reason to carry the whole body off where the video
    shows it (a crossing walker was moved 20-54 cm sideways off himself); along the line of sight, where a
    monocular fit drifts, the root still follows the held foot."""
    from core.cleanup.footlock import ACROSS_RAY_LIMIT, ACROSS_RAY_PIXELS, lock_feet

    motion, truth = synthetic_walk(90)
    pelvis = forward_kinematics(motion.poses, motion.rest_joints, motion.trans)[0][:, 0]
    camera = np.array([pelvis[:, 0].mean() - 6.0, pelvis[:, 1].mean(), 1.5])  # looks along +x at the walk
    drift = np.zeros_like(motion.trans)
    drift[:, :2] = np.linspace(0.0, 0.3, motion.num_frames)[:, None]  # 30 cm along and 30 cm across the ray
    contacts = np.zeros_like(truth)
    contacts[:, :2] = True  # the left foot held throughout, while the fit carries the body 42 cm
    heights = proxy_heights(motion.rest_joints, motion.v_template)
    start = motion.trans + drift
    _, free = lock_feet(motion.poses, motion.rest_joints, start, contacts, heights)
    _, seen = lock_feet(motion.poses, motion.rest_joints, start, contacts, heights, camera=camera)
    ray = pelvis[:, :2] + drift[:, :2] - camera[:2]
    ray /= np.linalg.norm(ray, axis=1, keepdims=True)
    across = np.stack([-ray[:, 1], ray[:, 0]], axis=1)

    def parts(trans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        moved = (trans - start)[:, :2]
        return (moved * ray).sum(axis=1), (moved * across).sum(axis=1)

    free_along, free_across = parts(free)
    seen_along, seen_across = parts(seen)
    assert np.abs(free_across).max() > 0.1  # without the camera the body is carried sideways
    assert np.abs(seen_across).max() <= min(ACROSS_RAY_LIMIT + 1e-6, 0.5 * np.abs(free_across).max())
    assert np.abs(seen_along).max() > 0.1  # the drift along the ray is still taken back
    np.testing.assert_allclose(seen_along, free_along, atol=1e-6)
    # With the camera's focal length the limit is in the picture: at 6 m and 1500 px, 2 px are 8 mm, where
    # 8 cm would carry the body 20 px off where the video shows it.
    _, pictured = lock_feet(motion.poses, motion.rest_joints, start, contacts, heights, camera=camera, focal=1500.0)
    pictured_along, pictured_across = parts(pictured)
    distance = np.linalg.norm(pelvis + drift - camera, axis=1)
    assert np.abs(seen_across).max() > 0.05
    assert (np.abs(pictured_across) <= ACROSS_RAY_PIXELS * distance / 1500.0 + 1e-6).all()
    np.testing.assert_allclose(pictured_along, free_along, atol=1e-6)


def test_the_knee_turns_smoothly_when_a_locked_leg_straightens() -> None:
    """A straight leg's slight sideways bend goes from one side to the other: the
    IK's knee turns smoothly through the forward bend instead of jumping to it
    when the fitted bend falls below a threshold (as it used to)."""
    from core.body.mannequin import rest_joints
    from core.cleanup.footlock import LEGS, solve_legs

    rest = rest_joints()
    hip, knee, ankle, foot = LEGS["left"]

    def legs(knee_rotations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        poses = np.zeros((len(knee_rotations), 55, 3))
        poses[:, knee] = knee_rotations
        pos, _ = forward_kinematics(poses.reshape(len(poses), -1), rest, np.zeros((len(poses), 3)))
        return poses.reshape(len(poses), -1), pos

    # The rest leg is straight: the knee lies on the hip-ankle line.
    h, k, a = rest[hip], rest[knee], rest[ankle]
    assert np.linalg.norm(np.cross(k - h, a - h)) < 1e-9
    T = 41
    # The rest leg hangs along -Y, the body faces +Z: a sideways bend turns about Z.
    poses, pos = legs(np.stack([np.zeros(T), np.zeros(T), np.linspace(0.01, -0.01, T)], 1))
    lift = np.array([0.0, 0.01, 0.0])  # the planted heel 1 cm higher: the knee must bend about 6 cm
    r_ankle, r_foot = LEGS["right"][2:]
    solved = solve_legs(poses, rest, np.zeros((T, 3)), {"left": pos[:, ankle] + lift, "right": pos[:, r_ankle]},
                        {"left": pos[:, foot] + lift, "right": pos[:, r_foot]})
    new, _ = forward_kinematics(solved, rest, np.zeros((T, 3)))
    np.testing.assert_allclose(new[:, ankle], pos[:, ankle] + lift, atol=1e-3)
    step = np.linalg.norm(np.diff(new[:, knee], axis=0), axis=-1)
    assert step.max() < 0.01  # it jumped 9 cm at the threshold


def test_a_toe_the_video_loses_stays_planted_with_its_flat_foot() -> None:
    """MediaPipe's left toe glitches for 8 frames while the heel stands still
    (as on the rendered CMU jumps): the fit holds the toe low and slow beside
    the heel, so it is planted with it. The right foot's toe, 6 cm above its
    planted heel (a heel strike), is not."""
    kp = _keypoints()
    kp[20:28, 31, 0] += np.linspace(0.0, 40.0, 8)  # the left toe landmark wanders off and back
    kp[28:36, 31, 0] += np.linspace(40.0, 0.0, 8)
    kp[20:36, 32, 0] = kp[20:36, 31, 0] + 50.0  # ... and the right one alike
    speed = image_speeds(kp, 30.0, CleanupSettings().contacts.image_window)
    assert np.nanmax(speed[:, 1]) > 0.5  # the video alone would lift it
    heights = np.zeros((60, 4))
    heights[:, 3] = 0.06
    contacts = detect_contacts(heights, np.full((60, 4), 0.2), image_speed=speed)
    assert contacts[:, 0].all() and contacts[:, 1].all()
    assert contacts[:, 2].all() and not contacts[20:36, 3].all()


def test_a_foot_lifted_towards_the_camera_is_not_held() -> None:
    """A foot lifted straight towards the camera stands still in the video, but
    the fit sees it rise fast: its contact ends as it rises, not when it is
    50 cm up. A still foot the fit floats 40 cm at a steady
    height (the root's depth drift) is still held."""
    kp = _keypoints()
    speed = image_speeds(kp, 30.0, CleanupSettings().contacts.image_window)
    heights = np.zeros((60, 4))
    heights[30:, 0] = np.arange(30) * 0.04  # the left heel rises from frame 30, 1.2 m/s
    climb = np.gradient(heights, axis=0) * 30.0
    heights[:, 2] = 0.40
    contacts = detect_contacts(heights, np.zeros((60, 4)), image_speed=speed, climb=climb)
    assert contacts[:30, 0].all() and not contacts[32:, 0].any()
    assert contacts[:, 2].all()


def test_a_short_gap_in_a_stance_is_bridged() -> None:
    """The left foot's landmarks slip for 6 frames (longer than the median
    rides out) while the fit keeps the foot low and slow: one contact, not
    two. A gap in which the fit lifts the foot 12 cm stays a gap."""
    from core.cleanup.contact_pass import ContactPassSettings, refine_contacts

    kp = _keypoints()
    slip = np.minimum(np.maximum(np.arange(60) - 26, 0), 6) * 6.0  # 6 px a frame (0.9 m/s) for 6 frames
    kp[:, 29:32, 0] += slip[:, None]
    speed = image_speeds(kp, 30.0, CleanupSettings().contacts.image_window)
    heights = np.zeros((60, 4))
    heights[27:33, 2] = 0.12  # the right foot really goes up
    slow = np.full((60, 4), 0.2)
    found = detect_contacts(heights, slow, image_speed=speed)
    assert not found[:, 0].all()  # the video alone makes two contacts
    unbridged = refine_contacts(found, heights, slow, settings=ContactPassSettings(bridge_frames=0))
    assert not unbridged[:, 0].all()
    contacts = refine_contacts(found, heights, slow)
    assert contacts[:, 0].all() and contacts[:, 1].all()
    assert contacts[:25, 2].all() and contacts[36:, 2].all() and not contacts[28:32, 2].any()


def test_a_foot_settling_far_from_its_fit_does_not_jump() -> None:
    """The held place of a contact is 8 cm from where the fit puts the foot
    when it lands: the ramp into the lock is as long as it needs to stay
    under RAMP_STEP a frame, instead of jumping in its default 4 frames."""
    from core.cleanup.footlock import RAMP_STEP

    T = 60
    points = np.zeros((T, 4, 3))
    points[:, :, 2] = 0.08
    points[:, 0, 0] = np.r_[np.full(30, -0.08), np.linspace(-0.08, 0.08, 30)]  # the fit slides the planted heel 16 cm
    contacts = np.zeros((T, 4), bool)
    contacts[30:, 0] = True
    targets, weights = proxy_targets(points, contacts, np.full(4, 0.08), blend_frames=4)
    step = np.linalg.norm(np.diff(targets[:, 0, :2], axis=0), axis=1)
    assert step.max() <= RAMP_STEP + 1e-9
    assert np.ptp(targets[30:, 0, 0]) < 1e-9 and (weights[30:, 0] == 1).all()


def test_a_stance_the_fit_floats_is_held_by_its_own_height() -> None:
    """The fit floats a whole stance 30 cm off the floor (its depth drifts, as
    on the rendered CMU jumps). The video starts the contact while the foot
    stands still; when the landmark then creeps at 0.2 m/s (no longer
    "still", but slower than a stepping foot) the contact lasts, as one on
    the floor would. It ends when the foot rises 10 cm above its stance."""
    kp = _keypoints()
    kp[:, 29, 0] += np.clip(np.arange(60) - 10, 0, None) * 1.3  # creeps 1.3 px a frame (0.2 m/s) from frame 10
    speed = image_speeds(kp, 30.0, CleanupSettings().contacts.image_window)
    assert 0.15 < np.nanmedian(speed[15:45, 0]) < 0.3
    heights = np.full((60, 4), 0.30)
    heights[50:, 0] = 0.40
    contacts = detect_contacts(heights, np.zeros((60, 4)), image_speed=speed)
    assert contacts[:50, 0].all() and not contacts[50:, 0].any()


def test_a_foot_at_the_top_of_a_jump_is_not_planted() -> None:
    """At the top of a jump the feet hardly move in the video, but the fit has
    them up to 30 cm up, going up and then down: no contact. A foot the fit
    holds as high but level (a floated stance) is one."""
    kp = _keypoints()
    speed = image_speeds(kp, 30.0, CleanupSettings().contacts.image_window)
    t = np.arange(60) / 30.0
    heights = np.full((60, 4), 0.25)
    heights[:, 0] = np.maximum(0.3 - 4.9 * (t - 1.0) ** 2, 0.0)  # a ballistic arc, 30 cm up at frame 30
    climb = np.gradient(heights, axis=0) * 30.0
    contacts = detect_contacts(heights, np.zeros((60, 4)), image_speed=speed, climb=climb)
    assert not contacts[24:37, 0].any() and contacts[:20, 0].all() and contacts[40:, 0].all()
    assert contacts[:, 2].all()


def test_a_foot_between_two_close_locks_crossfades_without_jumping() -> None:
    """The fit drags a heel 4 cm a frame through two stances 6 frames apart
    (a foot that slides with the body before a jump): each lock holds its
    place exactly, and between them the held place crossfades, no frame
    moving much more than the 84 cm from one place to the other shared over
    the gap. The ramps used to reach into the other lock and take over from
    its ramp mid-way, moving a foot 40 cm in one frame."""
    T = 36
    points = np.zeros((T, 4, 3))
    points[:, :, 2] = 0.08
    points[:, 0, 0] = 0.04 * np.arange(T)
    contacts = np.zeros((T, 4), bool)
    contacts[:15, 0] = contacts[21:, 0] = True
    targets, weights = proxy_targets(points, contacts, np.full(4, 0.08))
    x = targets[:, 0, 0]
    assert np.ptp(x[:15]) < 1e-9 and np.ptp(x[21:]) < 1e-9
    assert (weights[:15, 0] == 1).all() and (weights[21:, 0] == 1).all()
    assert np.abs(np.diff(x)).max() < 1.7 * (x[21] - x[14]) / 7


def test_a_foot_far_below_the_floor_stands_on_lower_ground_and_is_not_lifted() -> None:
    """Small dips into the floor are lifted out of it; a foot 1.8 m down (the demo's man landed on the grass
    below the box whose top is the floor) keeps its height: lifting it pointed his legs up from the pelvis."""
    from core.cleanup.footlock import LIFT_FULL, LIFT_NONE, lifted_height

    rest = 0.08
    z = rest - np.array([-0.1, 0.0, 0.05, LIFT_FULL, LIFT_NONE, 1.8])
    np.testing.assert_allclose(lifted_height(z, rest)[:4], [rest + 0.1, rest, rest, rest])
    np.testing.assert_allclose(lifted_height(z, rest)[4:], z[4:])
    dips = np.linspace(0.0, 0.5, 501)
    assert np.abs(np.diff(lifted_height(rest - dips, rest))).max() < 0.01  # no jump where the lift fades


def test_feet_the_video_does_not_show_drive_neither_contacts_nor_the_floor() -> None:
    """A walk whose second half has unseen feet (visibility 0.05: cut off by the frame), where the fit
    invented legs 25 cm too long: those feet plant nothing, and the floor stays under the seen ones."""
    import copy

    from core.landmarks import BODY

    motion, truth = synthetic_walk(150)
    hidden = np.arange(150) >= 75
    sunk = copy.deepcopy(motion)
    sunk.trans[hidden, 2] -= 0.25
    take = to_camera(sunk)
    kp = np.full((150, 75, 3), np.nan, np.float32)  # where in the picture is not the point here (and a
    kp[..., 2] = 0.9  # constant position would read as feet standing still to the stance carry-over)
    legs = [BODY[f"{s}_{p}"] for s in ("left", "right") for p in ("knee", "ankle", "heel", "foot_index")]
    kp[np.ix_(hidden, legs, [2])] = 0.05
    take.keypoints_2d = kp
    result = clean_motion(take, CleanupSettings(smoothing_body=0.0))
    assert not result.contacts[hidden].any()
    assert (result.contacts[~hidden] == truth[~hidden]).mean() > 0.9
    soles = _proxies(result.motion)[..., 2] - proxy_heights(take.rest_joints, take.v_template)
    planted = result.contacts & ~hidden[:, None]
    assert np.median(soles[planted]) == pytest.approx(0.0, abs=0.01)  # the seen feet stand on the floor


def test_an_unseen_foot_starts_no_contact_and_ends_its_own() -> None:
    heights = np.zeros((30, 4))
    seen = np.ones((30, 4), bool)
    seen[:, 1] = False  # never seen
    seen[15:, 0] = False  # seen, then cut off
    contacts = detect_contacts(heights, np.zeros((30, 4)), seen=seen)
    assert contacts[:15, 0].all() and not contacts[15:, 0].any()
    assert not contacts[:, 1].any() and contacts[:, 2:].all()


def test_a_landing_foot_is_planted_when_it_stops_falling_not_on_its_impact_frame() -> None:
    """The demo's man lands 1.8 m below the box: on the last frame of the fall his feet were already low
    in the picture but still falling 3 m/s, and planting them there let a held foot drop 9 cm in one
    frame. The contact starts once the foot stops falling."""
    heights = np.zeros((40, 4))
    heights[:20] = np.linspace(1.0, 0.0, 21)[:20, None] ** 0.5 * 0.6  # falling ever faster onto the ground
    climb = np.gradient(heights, axis=0) * 30.0
    contacts = detect_contacts(heights, np.zeros((40, 4)), climb=climb)
    assert not contacts[climb[:, 0] < -1.0, 0].any()
    assert contacts[22:, 0].all()
