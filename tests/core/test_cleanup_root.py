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
    anchor_root,
    camera_rays,
    clamp_steps,
    foot_landmarks,
    landmark_rest_heights,
    ray_plane,
    solve_correction,
)
from core.landmarks import NUM_BODY
from core.motion import Motion
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


def test_planted_feet_move_towards_their_anchors(walk) -> None:
    """The root's depth jumps 10 cm a frame: with the anchor step the planted heels and toes sit
    closer to where their image rays meet the floor than without it, and the root moves no more."""
    truth, seen = walk
    noisy = _depth_noise(seen, 0.10)

    def misses(settings: CleanupSettings) -> tuple[float, float]:
        result = clean_motion(noisy, settings)
        out = result.motion
        centre, rays = camera_rays(out, out.keypoints_2d[:, IMAGE_FEET, :2].astype(np.float64))
        anchors = ray_plane(centre, rays, landmark_rest_heights(out.rest_joints, out.v_template)[None, :])
        feet, _ = foot_landmarks(out)
        miss = np.linalg.norm(feet - anchors, axis=-1)[result.contacts & truth]
        error = _pelvis_depth(out) - _pelvis_depth(seen)
        return float(np.median(miss)), float(np.abs(np.diff(error)).mean())

    (miss_on, step_on), (miss_off, step_off) = misses(CleanupSettings()), misses(CleanupSettings(anchor_root=False))
    assert miss_on < 0.8 * miss_off, (miss_on, miss_off)
    assert step_on <= 1.05 * step_off, (step_on, step_off)


def test_a_clean_take_is_left_where_it_stands(walk) -> None:
    """Exact landmarks and an exact fit: the anchors agree with the fit, the root barely moves."""
    _, seen = walk
    grounded = clean_motion(seen, CleanupSettings(anchor_root=False, foot_lock="off"))
    correction = anchor_root(grounded.motion, grounded.contacts).correction
    assert np.abs(correction).max() < 0.015


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
    c = solve_correction(weight, target, np.zeros(T), np.zeros((T, 3)), np.full(T, 1e-3), 1.0 / 0.005**2)
    assert abs(c[5, 1]) < 0.03 and abs(c[-5, 1] - 0.3) < 0.03
    assert np.abs(np.diff(c[:, 1], 2)).max() < 0.01
    clamped = clamp_steps(c, np.zeros(T, bool), 0.01, 0.15)
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
