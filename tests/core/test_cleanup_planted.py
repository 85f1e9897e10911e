"""Planted feet that never jump: the fit's own lifts of a planted foot are not kept (cleanup.footlock)."""

from __future__ import annotations

import copy

import numpy as np

from core.body.mannequin import forward_kinematics
from core.cleanup import CleanupSettings, clean_motion
from core.cleanup.contact_pass import refine_contacts
from core.cleanup.contacts import segments
from core.cleanup.floor import PROXY_INDEX
from core.cleanup.footlock import HOLD_RISE, HOLD_SPEED, proxy_targets
from core.skeleton import JOINT_INDEX
from tests.core.test_cleanup_root import _with_landmarks
from tests.testdata.walk import synthetic_walk, to_camera


def _planted_steps(motion, contacts: np.ndarray) -> np.ndarray:
    """(T-1, 4) frame-to-frame 3D steps of the heel and toe proxies, NaN unless planted on both frames."""
    pos, _ = forward_kinematics(motion.poses.astype(np.float64), motion.rest_joints, motion.trans)
    step = np.linalg.norm(np.diff(pos[:, PROXY_INDEX], axis=0), axis=-1)
    return np.where(contacts[1:] & contacts[:-1], step, np.nan)


def test_a_heel_the_fit_lifts_30_cm_in_one_frame_stays_planted() -> None:
    """In the middle of a stance the fit bends the knee for one frame and lifts the heel 30 cm (the picture,
    MediaPipe's landmarks, still shows the foot where it stands): after cleanup no planted heel or toe moves
    more than 2 cm from one frame to the next. Before, the lock held the foot along the floor only and its
    height followed the fit: the heel went up 30 cm and came down again."""
    motion, truth = synthetic_walk(120)
    s, e = max(segments(truth[:, 0]), key=lambda run: run[1] - run[0])
    k = (s + e) // 2
    lifted = copy.deepcopy(motion)
    poses = lifted.poses.reshape(lifted.num_frames, -1, 3).copy()
    poses[k, JOINT_INDEX["left_hip"], 0] -= 1.1  # thigh forward, knee bent back: the heel goes up
    poses[k, JOINT_INDEX["left_knee"], 0] += 1.9
    lifted.poses = poses.reshape(lifted.num_frames, -1).astype(np.float32)
    ankle = JOINT_INDEX["left_ankle"]
    rise = (forward_kinematics(lifted.poses, lifted.rest_joints, lifted.trans)[0][k, ankle, 2]
            - forward_kinematics(motion.poses, motion.rest_joints, motion.trans)[0][k, ankle, 2])
    assert rise > 0.3
    seen = _with_landmarks(to_camera(motion))  # the picture: the foot stays where it stands
    seen_lifted = to_camera(lifted)
    seen_lifted.keypoints_2d = seen.keypoints_2d
    result = clean_motion(seen_lifted, CleanupSettings())
    assert result.contacts[s + 2:e - 2, 0].all()  # the stance is one contact through the lifted frame
    steps = _planted_steps(result.motion, truth)
    assert np.nanmax(steps) < 0.02


def test_a_planted_proxy_rises_at_most_hold_rise_over_its_stance() -> None:
    """The fit raises a planted toe 8 cm for three frames: the lock keeps it within ``HOLD_RISE`` of the
    stance's median height, and lets it sink no lower than the floor."""
    T = 30
    points = np.zeros((T, 4, 3))
    points[..., 2] = 0.05
    points[12:15, 1, 2] += 0.08
    points[20, 1, 2] -= 0.03
    contacts = np.zeros((T, 4), bool)
    contacts[5:25, 1] = True
    targets, _ = proxy_targets(points, contacts, np.full(4, 0.05))
    assert np.all(targets[5:25, 1, 2] <= 0.05 + HOLD_RISE + 1e-9)
    assert np.all(targets[5:25, 1, 2] >= 0.05 - 1e-9)


def test_a_planted_foot_the_fit_sinks_moves_at_most_hold_step_a_frame() -> None:
    """Mid-stance the fit sinks a planted heel 4 cm a frame for four frames and lifts it back (the demo's
    man on his box): its held height moves at most ``HOLD_SPEED`` (10 mm a frame at 30 fps), so no planted step exceeds 2 cm.
    Before, a planted height followed the fit down to the floor, 4 cm in one frame."""
    T = 40
    points = np.zeros((T, 4, 3))
    points[..., 2] = 0.25  # standing on a box, 20 cm above the floor the rest height is measured from
    points[15:23, 0, 2] -= 0.04 * np.array([1, 2, 3, 4, 4, 3, 2, 1])
    contacts = np.zeros((T, 4), bool)
    contacts[5:35, 0] = True
    targets, _ = proxy_targets(points, contacts, np.full(4, 0.05))
    steps = np.abs(np.diff(targets[5:35, 0, 2]))
    assert steps.max() <= HOLD_SPEED / 30 + 1e-9
    assert np.linalg.norm(np.diff(targets[:, 0], axis=0), axis=-1).max() < 0.02


def test_a_planted_foot_the_fit_sinks_moves_as_fast_at_any_frame_rate() -> None:
    """The same sink, every frame twice as long apart (``--preset fast`` reads every second frame, 15 fps): the held
    height moves at ``HOLD_SPEED`` a second, 20 mm a frame, so it follows the fit as far in the same time. Before,
    the pace was 10 mm a frame whatever the rate: at 15 fps half as fast, the held foot lagging the fit's stance."""
    T = 20
    points = np.zeros((T, 4, 3))
    points[..., 2] = 0.25
    points[5:11, 0, 2] -= 0.04 * np.array([1, 2, 3, 3, 2, 1])
    contacts = np.zeros((T, 4), bool)
    contacts[2:18, 0] = True
    targets, _ = proxy_targets(points, contacts, np.full(4, 0.05), rate=15.0)
    steps = np.abs(np.diff(targets[2:18, 0, 2]))
    assert steps.max() <= HOLD_SPEED / 15 + 1e-9
    assert steps.max() > HOLD_SPEED / 30 + 1e-3


def test_a_toe_dropped_for_a_few_frames_under_a_standing_heel_does_not_drag_the_foot() -> None:
    """The fit slides a standing foot 4.5 cm a frame (1.35 m/s, faster than any bridge by speed allows) and
    the toe's contact drops for five frames while its heel stays planted (the demo's box, frames 90-94).
    The toe keeps its contact through the gap, so neither the toe nor its heel steps more than 2 cm.
    Before, the toe was locked twice, 36 cm apart, and crossfaded between the two places in five frames."""
    T = 40
    points = np.zeros((T, 4, 3))
    points[..., 2] = 0.05
    points[:, :, 1] = 0.045 * np.arange(T)[:, None]
    found = np.zeros((T, 4), bool)
    found[5:35, 0:2] = True
    found[18:23, 1] = False
    sole = points[..., 2] - 0.05
    speed = np.full((T, 4), 1.35)
    contacts = refine_contacts(found, sole, speed)
    assert contacts[5:35, 1].all()
    targets, weights = proxy_targets(points, contacts, np.full(4, 0.05))
    held = weights[1:, :2] * weights[:-1, :2] == 1.0
    steps = np.linalg.norm(np.diff(targets[:, :2], axis=0), axis=-1)
    assert held[:, 1].sum() >= 28 and steps[held].max() < 0.02
    # Not a toe whose heel stands and that itself rises out of its stance (a toe raised on the heel).
    sole[18:23, 1] = 0.12
    assert not refine_contacts(found, sole, speed)[18:23, 1].any()


def test_a_locked_heel_does_not_follow_its_toe_out_of_the_toes_lock() -> None:
    """Heel and toe of a standing foot are locked; the toe's contact ends first while the fit slides the
    whole body on, 2.5 cm a frame (the legs alone plant the feet here). The locked heel stays where it
    stands: its steps are under 1 cm. Before, it turned about the toe's ramp target, which eases back onto
    the sliding fit, and went with it (38 mm a frame on the rendered room walk, 10 cm on the demo's box)."""
    from core.cleanup.footlock import lock_feet
    from core.cleanup.floor import proxy_heights

    motion, truth = synthetic_walk(120)
    s, e = max(segments(truth[:, 0]), key=lambda run: run[1] - run[0])
    mid = (s + e) // 2
    pitched = copy.deepcopy(motion)
    pitched.trans[mid:, 1] += 0.025 * np.arange(1, motion.num_frames - mid + 1)  # the fit slides on
    contacts = np.zeros_like(truth)
    contacts[s:e, 0] = True
    contacts[s:mid, 1] = True
    heights = proxy_heights(motion.rest_joints, motion.v_template)
    out_poses, out_trans = lock_feet(pitched.poses, pitched.rest_joints, pitched.trans, contacts, heights,
                                     move_root=False)
    pos, _ = forward_kinematics(out_poses, pitched.rest_joints, out_trans)
    heel = pos[s:e, JOINT_INDEX["left_ankle"]]
    assert np.linalg.norm(np.diff(heel, axis=0), axis=-1).max() < 0.01


def _heel_steps(contacts: np.ndarray, pitched, motion, frames: slice, fitted: bool = False) -> np.ndarray:
    """Frame-to-frame 3D steps (m) of the left heel over ``frames`` after locking ``pitched`` (the legs alone);
    ``fitted``: less the fitted heel's own steps there."""
    from core.cleanup.floor import proxy_heights
    from core.cleanup.footlock import lock_feet

    heights = proxy_heights(motion.rest_joints, motion.v_template)
    out_poses, out_trans = lock_feet(pitched.poses, pitched.rest_joints, pitched.trans, contacts, heights,
                                     move_root=False)
    heel = forward_kinematics(out_poses, pitched.rest_joints, out_trans)[0][frames, JOINT_INDEX["left_ankle"]]
    steps = np.linalg.norm(np.diff(heel, axis=0), axis=-1)
    if fitted:
        fit = forward_kinematics(pitched.poses, pitched.rest_joints, pitched.trans)[0][frames, JOINT_INDEX["left_ankle"]]
        steps -= np.linalg.norm(np.diff(fit, axis=0), axis=-1)
    return steps


def test_a_locked_heel_does_not_follow_its_toe_into_the_toes_lock() -> None:
    """A heel is locked; the fit has its foot 4 cm off until the toe's lock starts, so the toe's lock starts
    4 cm off its held place and its ramp carries the fitted toe in. The locked heel stays put: no step
    over 5 mm (it moves under 0.1 mm). Before, the heel turned about the toe's ramp target and followed it
    in, 13 mm in one frame here (41 mm on the rendered room walk; 26 mm for a foot 8 cm off)."""
    motion, truth = synthetic_walk(120)
    s, e = max(segments(truth[:, 0]), key=lambda run: run[1] - run[0])
    mid = (s + e) // 2
    pitched = copy.deepcopy(motion)
    pitched.trans[:mid, 1] -= 0.04  # the fit has the foot 4 cm off until the toe's lock
    contacts = np.zeros_like(truth)
    contacts[s:e, 0] = True
    contacts[mid:e, 1] = True
    assert _heel_steps(contacts, pitched, motion, slice(s, e)).max() < 0.005


def test_a_heel_the_fit_lifts_fast_off_its_planted_toe_peels_off_slowly() -> None:
    """The toe stays locked while the fit bends the knee and lifts the free heel faster and faster, 3 to 13 cm a
    frame, for four frames (a heel the truth had planted: the rendered studio walk, 65-75 mm a frame). The heel rises at
    most ``PEEL_STEP`` a frame while its toe stands, and fades back onto the fit after the toe's lock,
    never stepping 2 cm more than the fitted heel does."""
    from core.cleanup.footlock import PEEL_STEP

    motion, truth = synthetic_walk(120)
    s, e = max(segments(truth[:, 0]), key=lambda run: run[1] - run[0])
    mid = (s + e) // 2
    pitched = copy.deepcopy(motion)
    poses = pitched.poses.reshape(pitched.num_frames, -1, 3).copy()
    bend = np.minimum(np.arange(1, motion.num_frames - mid + 1), 4)  # knee bent back: the heel goes up
    poses[mid:, JOINT_INDEX["left_hip"], 0] -= 0.25 * bend
    poses[mid:, JOINT_INDEX["left_knee"], 0] += 0.45 * bend
    pitched.poses = poses.reshape(pitched.num_frames, -1).astype(np.float32)
    fitted = forward_kinematics(pitched.poses, pitched.rest_joints, pitched.trans)[0][:, JOINT_INDEX["left_ankle"]]
    assert np.linalg.norm(np.diff(fitted[mid - 1:mid + 4], axis=0), axis=-1).max() > 0.1
    contacts = np.zeros_like(truth)
    contacts[s:mid, 0] = True
    contacts[s:e, 1] = True
    assert _heel_steps(contacts, pitched, motion, slice(mid, e)).max() <= PEEL_STEP + 2e-3
    assert _heel_steps(contacts, pitched, motion, slice(e - 1, e + 30), fitted=True).max() < 0.02


def test_a_toe_leaves_the_floor_after_its_heel_not_before() -> None:
    """The lock holds a toe whose contact ends 10 frames before its heel's (a fit that turns the standing foot)
    to the heel's end: a foot leaves toes last. One that ends 20 frames early is a foot on its heel and
    is left; so is a toe that outlasts its heel (the heel rising first is how a foot leaves)."""
    from core.cleanup.footlock import toe_off_last

    contacts = np.zeros((60, 4), bool)
    contacts[5:30, 0] = True
    contacts[5:20, 1] = True
    contacts[5:40, 2] = True
    contacts[5:20, 3] = True
    contacts[45:55, 2:4] = True
    contacts[45:50, 2] = False
    out = toe_off_last(contacts)
    assert out[5:30, 1].all() and not out[30:, 1].any()
    assert not out[20:40, 3].any()
    assert out[45:55, 3].all() and not out[45:50, 2].any()


def test_cleanup_plants_the_contacts_it_is_given_and_refuses_a_wrong_shape() -> None:
    """A caller that knows the contacts (``bench cleanup`` plants the true ones, to tell the lock apart from
    detection) gets them planted as given: the result's contacts are those, and a heel the fit slides 3 cm a
    frame through a given stance, with no landmarks to detect it by, steps under 1 cm a frame there. A (T, 3)
    array is refused with a message, not a traceback."""
    import pytest

    from core.errors import MocapError

    motion, truth = synthetic_walk(120)
    s, e = max(segments(truth[:, 0]), key=lambda run: run[1] - run[0])
    slid = copy.deepcopy(motion)
    slid.trans[s:, 1] += 0.03 * np.arange(1, motion.num_frames - s + 1)
    take = to_camera(slid)
    given = np.zeros_like(truth)
    given[s:e, 0] = True
    result = clean_motion(take, CleanupSettings(), contacts=given)
    assert np.array_equal(result.contacts, given)
    steps = _planted_steps(result.motion, given)[:, 0]
    assert np.nanmax(steps) < 0.01
    with pytest.raises(MocapError, match="4 flags"):
        clean_motion(take, CleanupSettings(), contacts=given[:, :3])


def _knee_angles(poses: np.ndarray, rest_joints: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """(T, 2) inner knee angles, degrees (180: straight), left and right."""
    pos, _ = forward_kinematics(poses, rest_joints, trans)
    out = []
    for side in ("left", "right"):
        hip, knee, ankle = (pos[:, JOINT_INDEX[f"{side}_{j}"]] for j in ("hip", "knee", "ankle"))
        a, b = hip - knee, ankle - knee
        cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        out.append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return np.stack(out, axis=1)


def test_a_stance_held_above_a_lowered_pelvis_does_not_bend_the_knees() -> None:
    """A man stands still on both feet, knees nearly straight (163 degrees); for the stance's first 10 of
    40 frames the fit holds his pelvis 12 cm lower, legs as they are (the demo's first frames on the box).
    The lock holds each foot at the stance's median place; reaching it from the lowered pelvis bent both
    knees to 120 degrees. Now no knee is bent more than ``KNEE_SLACK_DEGREES`` beyond the fit's (counted
    from ``KNEE_CAP_DEGREES``, 150, for straighter legs): the held foot sinks with the pelvis instead (it
    stays where it is held along the floor); on the frames before the pelvis rises, where the feet rise ahead
    of the straight legs' reach, at most ``REACH_KNEE_DEGREES``."""
    from core.cleanup.floor import proxy_heights
    from core.cleanup.footlock import KNEE_CAP_DEGREES, KNEE_SLACK_DEGREES, LEGS, REACH_KNEE_DEGREES, lock_feet

    motion, _ = synthetic_walk(10)
    T = 40
    poses = np.repeat(motion.poses[:1].astype(np.float64), T, 0).reshape(T, -1, 3)
    for hip, knee, ankle, foot in LEGS.values():
        poses[:, [ankle, foot]] = 0.0
        poses[:, hip] = [-0.15, 0.0, 0.0]
        poses[:, knee] = [0.3, 0.0, 0.0]
    poses = poses.reshape(T, -1)
    heights = proxy_heights(motion.rest_joints, motion.v_template)
    trans = np.repeat(motion.trans[:1].astype(np.float64), T, 0)
    pos, _ = forward_kinematics(poses, motion.rest_joints, trans)
    trans[:, 2] -= (pos[0, PROXY_INDEX, 2] - heights).min()  # standing on the floor
    trans[:10, 2] -= 0.12
    fitted = _knee_angles(poses, motion.rest_joints, trans)
    assert np.allclose(fitted, fitted[0, 0], atol=0.01) and 160 < fitted[0, 0] < 166

    locked_poses, locked_trans = lock_feet(poses, motion.rest_joints, trans, np.ones((T, 4), bool), heights)
    locked = _knee_angles(locked_poses, motion.rest_joints, locked_trans)
    bent = np.minimum(fitted, KNEE_CAP_DEGREES) - locked
    assert bent[:4].max() < KNEE_SLACK_DEGREES + 0.5  # 134.5 or more (150 - 15.5)
    assert bent.max() < REACH_KNEE_DEGREES + 0.5
    pos, _ = forward_kinematics(locked_poses, motion.rest_joints, locked_trans)
    heel = pos[:, JOINT_INDEX["left_ankle"]]
    assert np.ptp(heel[:, :2], axis=0).max() < 0.01  # still held in place along the floor


def _standing(T: int, knee: float = 0.3):
    """A man standing still on both feet for ``T`` frames, knees a little bent (``knee`` radians), soles on
    the floor: (motion, poses (T, 165), trans (T, 3), proxy rest heights (4,))."""
    from core.cleanup.floor import proxy_heights
    from core.cleanup.footlock import LEGS

    motion, _ = synthetic_walk(10)
    poses = np.repeat(motion.poses[:1].astype(np.float64), T, 0).reshape(T, -1, 3)
    for hip, knee_joint, ankle, foot in LEGS.values():
        poses[:, [ankle, foot]] = 0.0
        poses[:, hip] = [-knee / 2, 0.0, 0.0]
        poses[:, knee_joint] = [knee, 0.0, 0.0]
    poses = poses.reshape(T, -1)
    heights = proxy_heights(motion.rest_joints, motion.v_template)
    trans = np.repeat(motion.trans[:1].astype(np.float64), T, 0)
    pos, _ = forward_kinematics(poses, motion.rest_joints, trans)
    trans[:, 2] -= (pos[0, PROXY_INDEX, 2] - heights).min()
    return motion, poses, trans, heights


def test_a_heel_sunk_by_the_knee_reach_rises_out_of_it_at_most_hold_step_a_frame() -> None:
    """A man holds his pelvis low through a 40-frame stance. For its first 10 frames the fit has his knees
    nearly straight (163 degrees, its feet below the floor), then bent (the feet on the floor): where reaching
    the held heels would bend the knees far beyond the fit's, they sink (``within_knee_reach``), and where the
    fit bends the knees the sink ends. The held heels then rise at most ``HOLD_SPEED``. Before, they came
    up with the fit's knee in one frame (here 6 cm; on the demo's box, frames 3-5, 4 cm a frame)."""
    from core.cleanup.footlock import LEGS, lock_feet

    T = 40
    motion, poses, trans, heights = _standing(T)
    trans[:, 2] -= 0.12
    poses = poses.reshape(T, -1, 3)
    for hip, knee, _, _ in LEGS.values():
        poses[10:, hip] = [-0.5, 0.0, 0.0]
        poses[10:, knee] = [1.0, 0.0, 0.0]
    poses = poses.reshape(T, -1)
    locked_poses, locked_trans = lock_feet(poses, motion.rest_joints, trans, np.ones((T, 4), bool), heights)
    pos, _ = forward_kinematics(locked_poses, motion.rest_joints, locked_trans)
    heel = pos[:, [JOINT_INDEX["left_ankle"], JOINT_INDEX["right_ankle"]]]
    assert heel[:10, :, 2].max() < heel[30:, :, 2].min() - 0.03  # sunk at first
    assert np.abs(np.diff(heel[..., 2], axis=0)).max() <= HOLD_SPEED / 30 + 1e-3
    assert np.ptp(heel[..., :2], axis=0).max() < 0.01  # held in place along the floor


def test_a_planted_foot_its_straight_leg_cannot_reach_settles_and_lifts_off_without_jumping() -> None:
    """A man stands 40 frames on straight legs. For the first 10 the fit holds his pelvis 10 cm higher (a
    landing's first frames, the demo's box), over the last 2 it rises 4.5 cm (a take-off): the lock holds his
    feet at the stance's place on the floor, which his straight legs cannot reach there. Before, the feet hung from
    the legs and dropped 10 cm in one frame where the pelvis came down (the demo: 25-46 mm a frame, and 48 mm at
    the flip's take-off). Now they rise only as far as the legs need, settling and lifting at most ``REACH_SPEED``
    (or as the lock's own heights move, ``HOLD_SPEED``): no planted step above 2 cm (issue 15), and where
    the legs reach they stand on the floor."""
    from core.cleanup.footlock import REACH_SPEED, lock_feet

    T = 40
    motion, poses, trans, heights = _standing(T, knee=0.0)
    trans[:10, 2] += 0.10
    trans[-2:, 2] += [0.02, 0.045]
    contacts = np.ones((T, 4), bool)
    locked_poses, locked_trans = lock_feet(poses, motion.rest_joints, trans, contacts, heights)
    locked = copy.copy(motion)
    locked.poses, locked.rest_joints, locked.trans = locked_poses, motion.rest_joints, locked_trans
    steps = _planted_steps(locked, contacts)
    assert np.nanmax(steps) < 0.02
    pos, _ = forward_kinematics(locked_poses, motion.rest_joints, locked_trans)
    assert np.abs(np.diff(pos[:, PROXY_INDEX, 2], axis=0)).max() <= max(REACH_SPEED, HOLD_SPEED) / 30 + 1e-3
    assert np.abs(pos[24:30, PROXY_INDEX, 2] - heights).max() < 0.01  # on the floor where the legs reach it


def test_a_heel_that_turns_about_its_toe_and_stands_again_slides_in_slowly() -> None:
    """The toe stays locked while the heel leaves its lock for three frames and the fit carries the foot 10 cm
    sideways and 11 cm towards the toe, then the heel stands again: its new place lies nearer the toe's held place
    than the foot is long (val_cmu_01_01b: 8 cm for a 14 cm foot). Turned about the toe onto the foot's length,
    the fading lag moved the planted heel up to 1.75 times as fast as it faded: 17.7 mm a frame here (21 mm on
    that walk). It fades that much slower now: under 15 mm a frame."""
    motion, truth = synthetic_walk(120)
    s, e = max(segments(truth[:, 0]), key=lambda run: run[1] - run[0])
    mid = (s + e) // 2
    pos = forward_kinematics(motion.poses, motion.rest_joints, motion.trans)[0]
    forward = pos[mid, JOINT_INDEX["left_foot"]] - pos[mid, JOINT_INDEX["left_ankle"]]
    forward[2] = 0.0
    forward /= np.linalg.norm(forward)
    sideways = np.cross(forward, [0.0, 0.0, 1.0])
    turned = copy.deepcopy(motion)
    ramp = np.minimum(np.arange(1, motion.num_frames - mid + 1), 3) / 3.0
    turned.trans[mid:] += ramp[:, None] * (0.11 * forward + 0.1 * sideways)
    contacts = np.zeros_like(truth)
    contacts[s:mid, 0] = True
    contacts[mid + 3:e, 0] = True
    contacts[s:e, 1] = True
    assert _heel_steps(contacts, turned, motion, slice(mid + 3, e)).max() < 0.015
