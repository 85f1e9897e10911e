"""A root that stays put: planted feet where their image rays meet the floor (cleanup.root)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from core.body.landmark_layout import landmarks_from_fk
from core.body.mannequin import forward_kinematics
from core.camera import project
from core.cleanup import CleanupSettings, clean_motion
from core.cleanup.root import (
    IMAGE_FEET,
    AnchorSettings,
    anchor_root,
    camera_rays,
    clamp_steps,
    contact_anchors,
    foot_landmarks,
    landmark_rest_heights,
    ray_plane,
    solve_correction,
)
from core.cleanup.floor import PROXY_INDEX, proxy_heights
from core.landmarks import NUM_BODY
from core.motion import Motion
from core.skeleton import JOINT_INDEX
from tests.testdata.walk import synthetic_walk, to_camera


def _with_landmarks(seen: Motion) -> Motion:
    """The take with MediaPipe-layout 2D landmarks: its own body projected (exact, all visible)."""
    out = copy.deepcopy(seen)
    pos, rot = forward_kinematics(out.poses.astype(np.float64), out.rest_joints, out.trans)
    body, _ = landmarks_from_fk(pos, rot, out.rest_joints)
    kp = np.zeros((out.num_frames, 75, 3))
    kp[:, :NUM_BODY, :2] = project(body, out.camera_intrinsics)
    kp[:, :NUM_BODY, 2] = 1.0
    out.keypoints_2d = kp.astype(np.float32)
    return out


def _depth_noise(seen: Motion, sigma: float, seed: int = 0) -> Motion:
    """The take with its root's depth (camera z) thrown about by per-frame noise of ``sigma`` metres."""
    out = copy.deepcopy(seen)
    noise = np.random.default_rng(seed).normal(0.0, sigma, out.num_frames)
    out.trans = (out.trans + np.outer(noise, [0.0, 0.0, 1.0])).astype(np.float32)
    return out


def _crouch(frames: int = 90) -> Motion:
    """A Z-up take of the mannequin crouching twice (hips, knees and ankles bend together, feet flat
    and planted where they stand; the pelvis drops 15 cm)."""
    motion, _ = synthetic_walk(frames)
    poses = np.zeros((frames, 55, 3))
    poses[:, 0] = [np.pi / 2, 0.0, 0.0]
    bend = 0.3 * (1.0 - np.cos(2 * np.pi * np.arange(frames) / 45.0))
    for side, arm in (("left", -1.2), ("right", 1.2)):
        poses[:, JOINT_INDEX[f"{side}_hip"], 0] = -bend
        poses[:, JOINT_INDEX[f"{side}_knee"], 0] = 2 * bend
        poses[:, JOINT_INDEX[f"{side}_ankle"], 0] = -bend
        poses[:, JOINT_INDEX[f"{side}_shoulder"], 2] = arm
    pos, _ = forward_kinematics(poses.reshape(frames, -1), motion.rest_joints, np.zeros((frames, 3)))
    foot = pos[:, JOINT_INDEX["left_foot"]]
    trans = foot[:1] - foot  # the feet stay where they stand
    trans[:, 2] -= (pos[0, PROXY_INDEX, 2] - proxy_heights(motion.rest_joints, motion.v_template)).min()
    motion.poses, motion.trans = poses.reshape(frames, -1).astype(np.float32), trans.astype(np.float32)
    return motion


def _seen_with_known_up(motion: Motion, tilt_deg: float = 10.0) -> Motion:
    """``to_camera`` with the world's true up in the camera frame (as a gravity estimate gives it),
    so the floor found is the real one."""
    seen = _with_landmarks(to_camera(motion, tilt_deg=tilt_deg))
    tilt = np.radians(tilt_deg)
    forward, right = np.array([0.0, np.cos(tilt), -np.sin(tilt)]), np.array([1.0, 0.0, 0.0])
    seen.world_up = np.stack([right, np.cross(forward, right), forward]) @ np.array([0.0, 0.0, 1.0])
    return seen


def _camera_points(motion: Motion, points: np.ndarray) -> np.ndarray:
    E = motion.camera_extrinsics
    return points @ E[:3, :3].T + E[:3, 3]


def _pelvis_depth(motion: Motion) -> np.ndarray:
    pos, _ = forward_kinematics(motion.poses.astype(np.float64), motion.rest_joints, motion.trans)
    return _camera_points(motion, pos[:, 0])[:, 2]


@pytest.fixture(scope="module")
def walk():
    motion, truth = synthetic_walk(120)
    return truth, _with_landmarks(to_camera(motion))


def test_rays_meet_the_floor_where_the_point_is() -> None:
    """A point on Z = 0.02 seen by a tilted camera: its pixel's ray meets that plane at the point."""
    motion, _ = synthetic_walk(60)
    seen = to_camera(motion, tilt_deg=25.0)
    result = clean_motion(seen, CleanupSettings(anchor_root=False, foot_lock="off"))
    world = result.motion
    point = np.array([[0.3, 0.5, 0.02], [-0.4, 1.5, 0.02]])
    uv = project(_camera_points(world, point), world.camera_intrinsics)
    centre, rays = camera_rays(world, uv)
    assert centre[2] == pytest.approx(1.2, abs=0.05)  # the camera stands 1.2 m above the floor
    np.testing.assert_allclose(ray_plane(centre, rays, 0.02), point, atol=1e-6)
    # A ray that never comes down to the plane has no anchor.
    assert np.isnan(ray_plane(centre, np.array([0.0, 1.0, 0.1]), 0.02)).all()


def test_depth_noise_while_the_feet_are_planted_is_removed() -> None:
    """A crouch whose root depth jumps 10 cm a frame (both feet planted, floor and camera known):
    after cleanup the planted heels and toes sit on the points where their image rays meet the
    floor (within about 1 cm) and the root's depth error changes by under 2 cm a frame."""
    seen = _seen_with_known_up(_crouch())
    noisy = _depth_noise(seen, 0.10)
    settings = CleanupSettings(smoothing_body=0.0)  # the anchors alone, no filter helping

    def figures(result) -> tuple[float, float, float]:
        out = result.motion
        centre, rays = camera_rays(out, out.keypoints_2d[:, IMAGE_FEET, :2].astype(np.float64))
        anchors = ray_plane(centre, rays, landmark_rest_heights(out.rest_joints, out.v_template)[None, :])
        feet, _ = foot_landmarks(out)
        miss = np.linalg.norm(feet - anchors, axis=-1)[result.contacts]
        error = _pelvis_depth(out) - _pelvis_depth(seen)
        return float(np.median(miss)), float(np.percentile(miss, 90)), float(np.abs(np.diff(error)).max())

    result = clean_motion(noisy, settings)
    assert result.contacts.mean() > 0.95
    median, p90, jump = figures(result)
    assert median < 0.015 and p90 < 0.025 and jump < 0.02, (median, p90, jump)
    # Without the anchors the depth noise stays (the test can fail).
    _, _, jump_off = figures(clean_motion(noisy, CleanupSettings(smoothing_body=0.0, anchor_root=False)))
    assert jump_off > 0.1


def test_the_anchored_root_needs_no_scipy(monkeypatch) -> None:
    """Cleanup runs in Blender's Python too, which has no SciPy: with SciPy unimportable, a crouch whose
    root depth jumps 10 cm a frame is still anchored (the root's depth error changes under 2 cm a frame)."""
    import sys

    for name in [n for n in sys.modules if n == "scipy" or n.startswith("scipy.")] + ["scipy"]:
        monkeypatch.setitem(sys.modules, name, None)  # `import scipy...` now raises ImportError
    seen = _seen_with_known_up(_crouch())
    result = clean_motion(_depth_noise(seen, 0.10), CleanupSettings(smoothing_body=0.0))
    error = _pelvis_depth(result.motion) - _pelvis_depth(seen)
    assert float(np.abs(np.diff(error)).max()) < 0.02


def test_a_clean_take_is_left_where_it_stands() -> None:
    """Exact landmarks and an exact fit of a crouch: the anchors agree with the fit, the root barely moves."""
    seen = _seen_with_known_up(_crouch())
    grounded = clean_motion(seen, CleanupSettings(anchor_root=False, foot_lock="off"))
    correction = anchor_root(grounded.motion, grounded.contacts).correction
    assert np.abs(correction).max() < 0.005


def test_a_jump_keeps_its_flight() -> None:
    """Standing, a 40 cm vertical jump, standing, with 3 cm of depth noise: the flight keeps its
    height profile (the correction across it is smooth and small)."""
    motion, _ = synthetic_walk(90)
    frames = 90
    poses = np.repeat(motion.poses[:1], frames, 0)  # stand in the first frame's pose
    trans = np.repeat(motion.trans[:1].astype(np.float64), frames, 0)
    t = np.arange(frames) - 40
    flight = (t >= 0) & (t < 17)  # 17 frames at 30 fps: 0.57 s in the air, about 40 cm high
    trans[flight, 2] += 0.5 * 9.81 * (t[flight] / 30.0) * ((16 - t[flight]) / 30.0)
    motion.poses, motion.trans = poses, trans.astype(np.float32)
    seen = _with_landmarks(to_camera(motion))
    noisy = _depth_noise(seen, 0.03, seed=1)
    out = clean_motion(noisy, CleanupSettings(smoothing_body=0.0)).motion
    pos, _ = forward_kinematics(out.poses.astype(np.float64), out.rest_joints, out.trans)
    height = pos[:, 0, 2]
    rise = height[flight] - height[39]
    expected = trans[flight, 2] - trans[39, 2]
    assert np.abs(rise - expected).max() < 0.03, np.abs(rise - expected).max()


def test_the_correction_is_smooth_and_clamped_without_evidence() -> None:
    """Two stances anchored 30 cm apart with 10 frames between: the correction crosses the gap
    smoothly and never changes faster than the clamp allows."""
    T = 60
    weight = np.zeros(T)
    weight[:25] = weight[35:] = 1.0 / 0.05**2
    target = np.zeros((T, 3))
    target[35:, 1] = 0.3
    c = solve_correction(weight, target, np.full(T, 1e-3), 1.0 / 0.005**2)
    assert abs(c[5, 1]) < 0.03 and abs(c[-5, 1] - 0.3) < 0.03
    assert np.abs(np.diff(c[:, 1], 2)).max() < 0.01
    clamped = clamp_steps(c, np.zeros(T, bool), 0.01, 0.15)
    # The root's own quick swings are what the correction cancels, however fast.
    swing = np.zeros((T, 3))
    swing[::2, 2] = 0.1
    cancelled = solve_correction(np.zeros(T), np.zeros((T, 3)), np.full(T, 1e-3), 1.0 / 0.005**2, swing)
    assert np.abs(np.diff(cancelled + swing, 2, axis=0)).max() < 1e-3
    assert np.linalg.norm(np.diff(clamped, axis=0), axis=1).max() <= 0.01 + 1e-9


def test_anchoring_off_keeps_the_fits_depth(walk) -> None:
    """The setting turns it off: the cleaned take is the one without the anchor step."""
    _, seen = walk
    noisy = _depth_noise(seen, 0.05, seed=3)
    a = clean_motion(noisy, CleanupSettings(anchor_root=False)).motion
    b = clean_motion(noisy, CleanupSettings()).motion
    assert not np.allclose(a.trans, b.trans, atol=1e-3)
    bare = copy.deepcopy(noisy)
    bare.keypoints_2d = None  # no landmarks: nothing to anchor on, nothing changes
    c = clean_motion(bare, CleanupSettings(anchor_root=False)).motion
    d = clean_motion(bare, CleanupSettings()).motion
    np.testing.assert_allclose(c.trans, d.trans, atol=1e-6)


def test_a_stance_on_a_box_is_held_at_its_own_height() -> None:
    """A foot the fit puts steadily 1 m above the floor (a man on a box) is not dragged down its ray
    onto the floor: it is anchored at its own height, and its depth swings are still removed."""
    centre = np.array([0.0, -5.0, 1.5])
    place = np.array([0.0, 0.0, 1.02])  # on a box 1 m high; the landmark rests 2 cm above the sole
    rays = np.repeat(((place - centre) / np.linalg.norm(place - centre))[None], 20, 0)
    swings = np.random.default_rng(0).normal(0.0, 0.1, 20)[:, None] * rays  # the fit's depth noise
    points = place + swings
    pixels = np.full((20, 2), 500.0)
    anchors, moves, weights = contact_anchors(points, rays, pixels, centre, 0.02, 1000.0, AnchorSettings())
    assert (weights > 0).all()
    np.testing.assert_allclose(anchors[:, 2], 1.02, atol=0.02)
    np.testing.assert_allclose(points + moves, np.broadcast_to(place, points.shape), atol=0.02)
    # The same stance fitted 10 cm above the floor is taken down its ray onto the floor (most of
    # the way: the fit's own place counts a little).
    low = contact_anchors(points - [0.0, 0.0, 0.9], rays, pixels, centre, 0.02, 1000.0, AnchorSettings())[0]
    assert np.abs(low[:, 2] - 0.02).max() < 0.5 * 0.1


def test_a_stance_the_fit_sinks_does_not_carry_the_others_down() -> None:
    """A crouch (up known to 1 degree, so the floor's height is a lower envelope of the soles) whose
    first 25 frames the fit puts 40 cm farther along the camera's axis, sinking their planted feet
    under the others: the floor stays where most stances stand, the other frames keep their depth
    (within 2 cm) and the sunk stance is brought back to it. A floor under the lowest stance carried
    every other one down its rays, 15 cm farther away."""
    seen = _seen_with_known_up(_crouch())
    seen.up_sigma_degrees = 1.0
    sunk = copy.deepcopy(seen)
    sunk.trans[:25] += np.array([0.0, 0.0, 0.4], np.float32)
    out = clean_motion(sunk, CleanupSettings(smoothing_body=0.0)).motion
    error = _pelvis_depth(out) - _pelvis_depth(seen)
    assert np.abs(np.median(error[35:])) < 0.02, np.median(error[35:])
    assert np.abs(np.median(error[5:20])) < 0.03, np.median(error[5:20])


def test_the_floor_level_is_the_stances_on_it_not_on_a_box() -> None:
    """Planted soles 10 cm above the envelope floor for 40 frames and on a 70 cm box for 60: the
    floor's level is the ground stances' (a median over all, the box's, sank the demo's landing 77 cm
    into the floor); without planted feet near the floor it stays."""
    from core.cleanup.floor import planted_level

    rest = np.full(4, 0.02)
    points = np.zeros((100, 4, 3))
    points[:40, :, 2] = 0.12
    points[40:, :, 2] = 0.72
    contacts = np.ones((100, 4), bool)
    assert planted_level(points, rest, contacts, 0.3) == pytest.approx(0.10)
    assert planted_level(points[40:], rest, contacts[40:], 0.3) == 0.0
    assert planted_level(points, rest, np.zeros((100, 4), bool), 0.3) == 0.0


@pytest.mark.parametrize("up_sigma, up_off_degrees, drift", [(1.0, 0.0, 0.05), (8.0, 2.5, 0.05)])
def test_the_floor_height_under_the_stances_is_the_true_floor(up_sigma, up_off_degrees, drift) -> None:
    """A walk seen from 1.2 m up on a level floor, its root's depth drifting by a different 5 cm
    (1 sigma) every second: with a sure up, and with an unsure one 2.5 degrees off (the studio
    walk's case, which the feet may tilt), the floor cleanup puts under the person is the true
    floor within 1 cm and within 1.5 degrees."""
    from core.rotations import axis_angle_to_matrix

    motion, _ = synthetic_walk(120)
    seen = _seen_with_known_up(motion)
    true_up = np.asarray(seen.world_up, np.float64).copy()
    seen.world_up = axis_angle_to_matrix(np.radians(up_off_degrees) * np.array([1.0, 0.0, 0.0])) @ true_up
    seen.up_sigma_degrees = up_sigma
    steps = np.repeat(np.random.default_rng(0).normal(0.0, drift, 4), 30)
    seen.trans = (seen.trans + np.outer(steps, [0.0, 0.0, 1.0])).astype(np.float32)
    out = clean_motion(seen, CleanupSettings(smoothing_body=0.0)).motion
    # The true floor in the camera frame (tests.testdata.walk.to_camera: 4 m back, 1.2 m up, tilted 10 degrees).
    tilt = np.radians(10.0)
    forward, right = np.array([0.0, np.cos(tilt), -np.sin(tilt)]), np.array([1.0, 0.0, 0.0])
    R = np.stack([right, np.cross(forward, right), forward])
    floor_point = R @ np.array([0.0, 4.0, -1.2])  # the floor under the walk's centre, less the camera's place
    E = out.camera_extrinsics
    own_up, own_point = E[:3, :3] @ np.array([0.0, 0.0, 1.0]), E[:3, 3]
    pos, _ = forward_kinematics(out.poses.astype(np.float64), out.rest_joints, out.trans)
    pelvis = _camera_points(out, pos[:, 0]).mean(axis=0)
    under = pelvis - ((pelvis - own_point) @ own_up) * own_up
    assert abs((under - floor_point) @ true_up) < 0.01, (under - floor_point) @ true_up
    assert np.degrees(np.arccos(np.clip(own_up @ true_up, -1.0, 1.0))) < 1.5


def test_the_banded_solve_is_the_dense_one_and_refuses_a_system_it_cannot_solve() -> None:
    """The root correction's pentadiagonal solve (numpy, as Blender's Python has no SciPy) gives the dense solve's
    answer on short takes (1-6 frames) and a long one, and a weight that is not finite stops it with a message
    instead of a take whose every frame is NaN."""
    from core.cleanup.root import solve_pentadiagonal
    from core.errors import MocapError

    rng = np.random.default_rng(3)
    for T in (1, 2, 3, 4, 5, 6, 300):
        B = rng.normal(size=(T, T)) * (np.abs(np.subtract.outer(np.arange(T), np.arange(T))) <= 2)
        A = B @ B.T  # banded B (width 2) makes A width 4: keep only its pentadiagonal part, made dominant
        A = A * (np.abs(np.subtract.outer(np.arange(T), np.arange(T))) <= 2) + 10.0 * np.eye(T)
        off1 = np.concatenate([[0.0], np.diag(A, 1)])
        off2 = np.concatenate([[0.0, 0.0], np.diag(A, 2)])[:T]
        rhs = rng.normal(size=(T, 3))
        np.testing.assert_allclose(solve_pentadiagonal(off2, off1, np.diag(A).copy(), rhs), np.linalg.solve(A, rhs),
                                   rtol=1e-9, atol=1e-12)
    diag = np.full(5, 2.0)
    diag[2] = np.nan
    with pytest.raises(MocapError, match="could not be solved at frame 2"):
        solve_pentadiagonal(np.zeros(5), np.zeros(5), diag, np.ones((5, 3)))
