"""World landmarks lifted onto the image rays: exact data stays, noisy data improves, outliers are ignored."""

from __future__ import annotations

import dataclasses

import numpy as np

from core.body.mannequin import forward_kinematics, rest_joints
from core.camera import solve_translation
from core.fit.lifting import LiftSettings, camera_from_view, lift_to_rays
from core.body.landmark_layout import LIMB_LANDMARKS
from core.fit.optimize import OptimizeSettings, fit_clip
from tests.testdata.clips import landmarks_from_motion, smooth_motion
from core.landmarks import BODY
from core.skeleton import JOINT_INDEX, LIMB_JOINTS

K = np.array([[1000.0, 0.0, 640.0], [0.0, 1000.0, 360.0], [0.0, 0.0, 1.0]])
SIZE = (1280, 720)
BETAS = np.array([0.05, 0.04, -0.03, 0.06, -0.04])
DISTAL = [BODY[f"{s}_{j}"] for s in ("left", "right") for j in ("wrist", "ankle")]


def limb_error_mm(fit, poses, rest, trans) -> np.ndarray:
    """(T, 12) distance between fitted and true limb joints, camera frame, mm."""
    limbs = [JOINT_INDEX[n] for n in LIMB_JOINTS]
    fitted, _ = forward_kinematics(np.asarray(fit.poses, np.float64), fit.rest_joints, fit.trans)
    true, _ = forward_kinematics(np.asarray(poses, np.float64).reshape(len(poses), -1), rest, trans)
    return 1000 * np.linalg.norm(fitted[:, limbs] - true[:, limbs], axis=-1)


def clip(frames: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    poses, trans = smooth_motion(frames, rng)
    rest = rest_joints(BETAS)
    return poses, trans, rest, landmarks_from_motion(poses, trans, rest, K, SIZE)


def with_world_noise(seq, depth: float = 0.06, across: float = 0.03, seed: int = 1):
    """MediaPipe-like world landmarks: per-frame errors, twice as large along the camera axis."""
    rng = np.random.default_rng(seed)
    world = np.array(seq.body_world, copy=True)
    world[..., :3] += rng.normal(size=world[..., :3].shape) * (across, across, depth)
    world[..., :3] -= world[:, [BODY["left_hip"], BODY["right_hip"]], :3].mean(1, keepdims=True)
    return dataclasses.replace(seq, body_world=world.astype(np.float32))


def test_landmarks_that_agree_stay_where_they_are() -> None:
    _, _, _, seq = clip()
    lifted = lift_to_rays(seq.body_world, seq.body_2d, K)
    np.testing.assert_allclose(lifted, seq.body_world, atol=2e-4)


def test_noisy_world_landmarks_move_onto_the_image_rays_and_nearer_the_true_depth() -> None:
    _, _, _, seq = clip()
    noisy = with_world_noise(seq)
    lifted = lift_to_rays(noisy.body_world, noisy.body_2d, K)
    before = np.abs(noisy.body_world[:, DISTAL, 2] - seq.body_world[:, DISTAL, 2]).mean()
    after = np.abs(lifted[:, DISTAL, 2] - seq.body_world[:, DISTAL, 2]).mean()
    assert after < 0.95 * before

    def image_error(world: np.ndarray) -> float:
        """Pixels between the limb points, placed as a fit would (best translation), and their landmarks."""
        t = solve_translation(world[..., :3], seq.body_2d[..., :2], np.ones(world.shape[:2]), K)
        cam = world[..., :3] + t[:, None]
        px = cam[..., :2] / cam[..., 2:] * K[[0, 1], [0, 1]] + K[:2, 2]
        return float(np.linalg.norm(px - seq.body_2d[..., :2], axis=-1)[:, LIMB_LANDMARKS].mean())

    assert image_error(lifted) < 0.2 * image_error(noisy.body_world)


def test_a_misdetected_image_landmark_keeps_the_world_offset() -> None:
    _, _, _, seq = clip()
    uv = np.array(seq.body_2d, copy=True)
    knee = BODY["left_knee"]
    uv[10, knee, :2] += (250.0, -200.0)
    lifted = lift_to_rays(seq.body_world, uv, K)
    assert np.linalg.norm(lifted[10, knee, :3] - seq.body_world[10, knee, :3]) < 0.03


def test_the_fit_with_noisy_world_landmarks_comes_nearer_the_truth() -> None:
    poses, trans, rest, seq = clip(30, seed=0)
    noisy = with_world_noise(seq)
    lifted = limb_error_mm(fit_clip(noisy, K), poses, rest, trans).mean()
    unlifted = limb_error_mm(fit_clip(noisy, K, settings=OptimizeSettings(lift=LiftSettings(enabled=False))),
                             poses, rest, trans).mean()
    assert lifted < 0.85 * unlifted, (lifted, unlifted)


def test_world_depth_errors_cost_less_than_errors_across_the_ray() -> None:
    """The world term weighs a disagreement along the camera ray by ``world_depth``, across it fully."""
    import torch

    from core.body.model import MannequinBody, axis_angle_to_matrix_torch
    from core.fit.optimize import ObjectiveWeights
    from core.fit.optimize.objective import ClipProblem
    from core.fit.optimize.setup import observations

    poses, trans, rest, seq = clip(4, seed=5)
    body = MannequinBody()
    wrist = BODY["left_wrist"]
    world = np.asarray(seq.body_world, np.float64)
    ray = world[:, wrist, :3] + trans + rest[0]  # about where the wrist is in the camera: its ray
    ray /= np.linalg.norm(ray, axis=-1, keepdims=True)
    across = np.cross(ray, [1.0, 0.0, 0.0])
    across /= np.linalg.norm(across, axis=-1, keepdims=True)

    def world_cost(direction: np.ndarray, weight: float) -> float:
        moved = np.array(seq.body_world, copy=True)
        moved[:, wrist, :3] += 0.05 * direction
        obs = observations(dataclasses.replace(seq, body_world=moved), body, np.ones(4, bool), torch.device("cpu"))
        settings = OptimizeSettings(weights=ObjectiveWeights(world_depth=weight))
        problem = ClipProblem(body, obs, K, 30.0, settings, fit_face=False)
        local = axis_angle_to_matrix_torch(torch.as_tensor(poses.reshape(4, -1, 3), dtype=torch.float32))
        b = torch.as_tensor(BETAS, dtype=torch.float32)
        terms = problem.terms(b, local, torch.as_tensor(trans, dtype=torch.float32), None)
        return float(terms["world_3d"])

    along_cost, across_cost = world_cost(ray, 0.2), world_cost(across, 0.2)
    assert 0.15 < along_cost / across_cost < 0.3
    assert abs(world_cost(ray, 1.0) / world_cost(across, 1.0) - 1.0) < 0.02


def test_world_landmarks_seen_along_the_ray_are_turned_into_the_camera_axes() -> None:
    """MediaPipe poses its world landmarks as seen along the ray through the person (its crop does not
    say where in the picture it was): ``camera_from_view`` undoes exactly that turn, and a person on
    the optical axis is left as they are."""
    poses, trans, rest, _ = clip(12, seed=3)
    trans = trans + np.array([1.4, 0.9, 0.0])                         # far off the picture's centre
    camera = landmarks_from_motion(poses, trans, rest, K, SIZE)
    view = landmarks_from_motion(poses, trans, rest, K, SIZE, world_axes="view")
    turned = np.degrees(np.arccos(np.clip(np.sum(camera.body_world[..., :3] * view.body_world[..., :3], -1)
                                          / np.linalg.norm(camera.body_world[..., :3], axis=-1)
                                          / np.linalg.norm(view.body_world[..., :3], axis=-1), -1, 1)))
    assert np.median(turned) > 10.0                                   # the two conventions differ here
    back = camera_from_view(view.body_world, view.body_2d, K)
    np.testing.assert_allclose(back[..., :3], camera.body_world[..., :3], atol=1e-5)
    np.testing.assert_array_equal(back[..., 3], view.body_world[..., 3])
    centred = np.array(view.body_world, copy=True)
    uv = np.array(view.body_2d, copy=True)
    uv[:, :, :2] += K[:2, 2] - 0.5 * (uv[:, 23, :2] + uv[:, 24, :2])[:, None]   # mid-hip on the optical axis
    np.testing.assert_allclose(camera_from_view(centred, uv, K), centred, atol=1e-6)


def test_a_standing_person_low_in_a_pitched_camera_stands_upright_in_the_world() -> None:
    """A camera pitched 20 degrees down sees a person standing still near the bottom of its picture
    (the ray to their hips 15 degrees below the optical axis), with MediaPipe-like world landmarks (seen
    along that ray). The fitted trunk (pelvis to neck) stands as the true one, upright in the world,
    within 1.5 degrees; read in the camera's axes as they come, the landmarks tip it by about the ray's
    angle (the fit's image terms take back only part of it)."""
    from core.rotations import axis_angle_to_matrix, matrix_to_axis_angle

    T = 10
    poses = np.zeros((T, 55, 3))
    # upright facing a level camera is 180 degrees about x; the camera pitched 20 degrees down adds 20
    poses[:, 0] = matrix_to_axis_angle(axis_angle_to_matrix(np.array([np.radians(200.0), 0.0, 0.0])))
    poses[:, [16, 17], 2] = [-1.2, 1.2]                                # arms down (shoulders)
    trans = np.tile([0.2, 1.0, 3.6], (T, 1))
    rest = rest_joints(BETAS)
    seq = landmarks_from_motion(poses, trans, rest, K, SIZE, world_axes="view")

    def trunk_tilt(settings: LiftSettings) -> float:
        fit = fit_clip(seq, K, settings=OptimizeSettings(lift=settings))
        joints, _ = forward_kinematics(np.asarray(fit.poses, np.float64), fit.rest_joints, fit.trans)
        true, _ = forward_kinematics(poses.reshape(T, -1), rest, trans)
        spine = [JOINT_INDEX["pelvis"], JOINT_INDEX["neck"]]
        fitted = joints[:, spine[1]] - joints[:, spine[0]]
        truth = true[:, spine[1]] - true[:, spine[0]]
        cos = np.sum(fitted * truth, -1) / np.linalg.norm(fitted, axis=-1) / np.linalg.norm(truth, axis=-1)
        tilt = float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))).mean())
        return tilt

    assert trunk_tilt(LiftSettings()) < 1.5
    assert trunk_tilt(LiftSettings(view_rotation=False)) > 8.0


def test_the_view_elevation_mediapipe_reads_short_is_given_back_exactly() -> None:
    """Seen from above, an upright person tips their top toward the camera by the view's elevation;
    MediaPipe reads a quarter of it short (a body squarer to the ray, fitted farther away). With the up
    known, ``tip_to_elevation`` gives that share back exactly; seen level it changes nothing, and seen
    from below it tips the other way."""
    from core.fit.lifting import tip_to_elevation
    from core.rotations import axis_angle_to_matrix

    poses, trans, rest, seq = clip(8, seed=5)
    true = np.asarray(seq.body_world, np.float64)
    uv = np.asarray(seq.body_2d, np.float64)
    mid = 0.5 * (uv[:, 23, :2] + uv[:, 24, :2])
    ray = np.concatenate([(mid - K[:2, 2]) / np.diag(K)[:2], np.ones((len(mid), 1))], -1)
    ray /= np.linalg.norm(ray, axis=-1, keepdims=True)
    for pitch in (-30.0, 20.0):                                       # the camera looking down, then up
        a = np.radians(pitch)
        up = np.array([0.0, -np.cos(a), np.sin(a)])                  # pitched down: up leans toward the camera's +z
        elevation = np.arcsin(-(ray @ up))
        axis = np.cross(up, -ray)
        axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
        short = np.array(true, copy=True)                             # MediaPipe: a quarter of the tip left out
        short[..., :3] = np.einsum("nij,nkj->nki", axis_angle_to_matrix(axis * (-0.25 * elevation)[:, None]),
                                   true[..., :3])
        back = tip_to_elevation(short, uv, K, up, 0.25)
        np.testing.assert_allclose(back[..., :3], true[..., :3], atol=1e-9)
        np.testing.assert_array_equal(back[..., 3], true[..., 3])
        top = true[:, BODY["nose"], :3] - true[:, [23, 24], :3].mean(1)
        moved = (back[:, BODY["nose"], :3] - short[:, BODY["nose"], :3]) @ np.array([0.0, 0.0, 1.0])
        assert np.all(np.sign(moved) == -np.sign(elevation)) and np.all(np.linalg.norm(top, axis=-1) > 0.3)
    up = np.cross(ray[0], [1.0, 0.0, 0.0])                           # square to the first frame's ray: seen level
    up /= np.linalg.norm(up)
    np.testing.assert_allclose(tip_to_elevation(true[:1], uv[:1], K, up, 0.25), true[:1], atol=1e-12)
