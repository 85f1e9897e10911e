"""The multi-view fit (core/fit/optimize/views.py): a second camera's 2D landmarks fix what one camera gets wrong."""

from __future__ import annotations

import dataclasses

import numpy as np

from core.body.mannequin import forward_kinematics
from core.fit.optimize import OptimizeSettings, fit_clip, preset
from core.fit.optimize.views import CameraViews, multiview_settings
from core.multiview.rig import CameraRig
from core.multiview.triangulate import triangulate
from core.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from core.skeleton import JOINT_INDEX, LIMB_JOINTS
from tests.testdata.clips import CAMERA_K, IMAGE_SIZE, landmarks_from_motion, mannequin_clip

LIMBS = [JOINT_INDEX[n] for n in LIMB_JOINTS]


def side_view(poses: np.ndarray, trans: np.ndarray, rest: np.ndarray, R: np.ndarray, t: np.ndarray):
    """The clip's motion (camera 0's frame) as camera 1 (camera-1-from-camera-0 R, t) sees it."""
    moved = np.array(poses, np.float64).reshape(len(poses), -1, 3).copy()
    moved[:, 0] = matrix_to_axis_angle(R @ axis_angle_to_matrix(moved[:, 0]))
    pelvis = rest[0] + trans
    return moved, (pelvis @ R.T + t) - rest[0]


def limb_error(fit, poses: np.ndarray, trans: np.ndarray, rest: np.ndarray) -> float:
    true, _ = forward_kinematics(np.asarray(poses, np.float64).reshape(len(poses), -1), rest, trans)
    got, _ = forward_kinematics(fit.poses.astype(np.float64), fit.rest_joints, fit.trans)
    return float(np.linalg.norm(got[:, LIMBS] - true[:, LIMBS], axis=-1).mean())


def test_a_second_camera_fixes_the_depth_one_camera_gets_wrong() -> None:
    rng = np.random.default_rng(4)
    poses, trans, rest, seq = mannequin_clip(24, rng, hands=False)
    # One camera's 3D landmarks err in depth (MediaPipe's do): stretch them 1.8x along the camera axis.
    world = np.array(seq.body_world, copy=True)
    world[..., 2] *= 1.8
    wrong = dataclasses.replace(seq, body_world=world)
    # Camera 1 stands 4 m to camera 0's right, turned 90 degrees to look at the person.
    R = axis_angle_to_matrix(np.array([0.0, np.pi / 2, 0.0]))
    t = -R @ np.array([4.0, 0.0, 4.0])
    side_poses, side_trans = side_view(poses, trans, rest, R, t)
    side = landmarks_from_motion(side_poses, side_trans, rest, CAMERA_K, IMAGE_SIZE)
    assert np.all((side_trans + rest[0]) @ np.array([0.0, 0.0, 1.0]) > 2.0)  # in front of camera 1
    assert np.all(side.body_2d[..., 0] > 0) and np.all(side.body_2d[..., 0] < IMAGE_SIZE[0])  # in view
    # The views' triangulated mid-hip starts the root (core.capture_multi does the same).
    rig = CameraRig(("front", "side"), np.stack([CAMERA_K, CAMERA_K]), np.stack([np.eye(3), R]),
                    np.stack([np.zeros(3), t]), np.array([IMAGE_SIZE, IMAGE_SIZE]), np.array([0.0, -1.0, 0.0]))
    uv = np.stack([seq.body_2d[..., :2], side.body_2d[..., :2]]).astype(np.float64)
    points, _ = triangulate(uv, np.ones(uv.shape[:-1]), rig)
    views = CameraViews([side], CAMERA_K[None], R[None], t[None], mid_hip=0.5 * (points[:, 23] + points[:, 24]))
    settings = OptimizeSettings(iterations=40, device="cpu")
    one = fit_clip(wrong, CAMERA_K, settings=settings)
    two = fit_clip(wrong, CAMERA_K, settings=settings, views=views)
    e1, e2 = limb_error(one, poses, trans, rest), limb_error(two, poses, trans, rest)
    assert e2 < 0.5 * e1, (e1, e2)
    assert e2 < 0.05  # measured 0.042 (one camera: 0.087)


def test_the_views_pull_limbs_the_start_has_wrong_within_the_presets_steps() -> None:
    """Forearms and shins that no two views agreed on keep MediaPipe's one-view depth in the start, 15 cm off,
    with no 3D term (visibility 0, as ``capture_multi`` leaves them): only the cameras' 2D terms can turn them.
    The balanced preset's multi-view fit takes preconditioned steps (each joint's by its reach) and brings them
    in within its iterations; plain steps (multi-view fits until December 2026) left them halfway. Measured:
    25 mm mean limb error preconditioned, 45 mm plain."""
    poses, trans, rest, seq = mannequin_clip(30, np.random.default_rng(5), hands=False)
    world = np.array(seq.body_world, copy=True)
    limbs = [13, 14, 15, 16, 25, 26, 27, 28]                        # elbows, wrists, knees, ankles
    world[:, limbs, 2] += np.where(np.arange(len(limbs)) % 2, 0.15, -0.15)
    world[:, limbs, 3] = 0.0
    R = axis_angle_to_matrix(np.array([0.0, np.pi / 2, 0.0]))
    t = -R @ np.array([4.0, 0.0, 4.0])
    side = landmarks_from_motion(*side_view(poses, trans, rest, R, t), rest, CAMERA_K, IMAGE_SIZE)
    settings = dataclasses.replace(multiview_settings(preset("balanced").optimize, 2), device="cpu")
    assert settings.precondition
    fit = fit_clip(dataclasses.replace(seq, body_world=world), CAMERA_K, settings=settings,
                   views=CameraViews([side], CAMERA_K[None], R[None], t[None]))
    assert limb_error(fit, poses, trans, rest) < 0.032


def test_multiview_settings_drop_the_one_view_depth() -> None:
    s = multiview_settings(OptimizeSettings(iterations=15))
    assert s.weights.world_depth == 1.0 and not s.lift.enabled and s.iterations >= 100
    assert multiview_settings(OptimizeSettings(iterations=15), 4).iterations > s.iterations  # more views, more steps
    assert OptimizeSettings().weights.multiview_2d == 1.0


def test_the_views_fix_a_view_that_swapped_left_and_right() -> None:
    """Three cameras; the second labels the person's sides the wrong way round on some frames (as if they faced
    the other way, as MediaPipe does): ``side_flips`` finds exactly those frames, and a mirrored labelling of
    every view is found too."""
    from core.landmarks import BODY_SWAP
    from core.multiview.sides import side_flips
    from tests.testdata.multiview_scenes import look_at_rig, observe, ring, sequence, skeleton

    rig = look_at_rig(ring(3, 150.0))
    obs = observe(rig, skeleton(np.arange(40) / 30.0, seed=2), noise_px=1.0)
    seqs = [sequence(o, 30.0) for o in obs]
    swapped = np.zeros(40, bool)
    swapped[10:18] = True
    seqs[1].body_2d[swapped] = seqs[1].body_2d[swapped][:, BODY_SWAP]
    flips = side_flips(seqs, rig)
    np.testing.assert_array_equal(flips[1], swapped)
    assert not flips[0].any() and not flips[2].any()
    for seq in seqs:  # every view mirrored: the face looks backwards from the body's own facing
        seq.body_2d[:] = seq.body_2d[:, BODY_SWAP]
    flips = side_flips(seqs, rig)
    assert flips[:, ~swapped].all() and not flips[1, swapped].any()


def test_a_side_on_view_does_not_take_the_swap_of_the_view_facing_the_person() -> None:
    """Two cameras 90 degrees apart: the person faces the first, the second sees them side-on. The first view's
    sides are swapped on some frames (as MediaPipe does with a person it takes to face away). The side-on view
    sees left and right near one another, so both its labellings agree with the first view on as many
    keypoints; how closely they agree tells them apart: only the first view's swapped frames are flipped."""
    from core.landmarks import BODY, BODY_SWAP
    from core.multiview.sides import side_flips
    from tests.testdata.multiview_scenes import look_at_rig, observe, sequence, skeleton

    body = skeleton(np.arange(40) / 30.0, seed=5, walk=0.0)
    across = (body[10:20, BODY["left_shoulder"]] - body[10:20, BODY["right_shoulder"]]).mean(0) * [1, 1, 0]
    across /= np.linalg.norm(across)
    hips = body[10:20, BODY["left_hip"]:BODY["right_hip"] + 1].mean((0, 1)) * [1, 1, 0]
    centres = np.stack([hips + 3.5 * np.cross([0.0, 0.0, 1.0], across), hips + 3.5 * across]) + [[0, 0, 1.2], [0, 0, 1.4]]
    rig = look_at_rig(centres, target=hips + [0.0, 0.0, 1.0])
    seqs = [sequence(o, 30.0) for o in observe(rig, body, noise_px=2.0, seed=5)]
    swapped = np.zeros(40, bool)
    swapped[10:20] = True
    seqs[0].body_2d[swapped] = seqs[0].body_2d[swapped][:, BODY_SWAP]
    flips = side_flips(seqs, rig)
    np.testing.assert_array_equal(flips[0], swapped)
    assert not flips[1].any()


def _camera_error(R: np.ndarray, t: np.ndarray, R_true: np.ndarray, t_true: np.ndarray) -> tuple[float, float]:
    """(degrees, metres) between two cameras' orientations and centres."""
    cos = np.clip((np.trace(R @ R_true.T) - 1) / 2, -1.0, 1.0)
    return float(np.degrees(np.arccos(cos))), float(np.linalg.norm(-R.T @ t + R_true.T @ t_true))


def test_refinement_pulls_perturbed_cameras_back_toward_the_truth() -> None:
    """Two further cameras placed 2 degrees and 8 cm off (a calibration's error): fitted with the body, both come
    back most of the way; without refinement they stay where they were put."""
    from core.fit.optimize.views import CameraRefinement

    rng = np.random.default_rng(7)
    poses, trans, rest, seq = mannequin_clip(24, rng, hands=False)
    truth, views, wrong = [], [], []
    for k, (yaw, dist) in enumerate(((np.pi / 2, 4.0), (-np.pi / 2.5, 4.5))):
        R = axis_angle_to_matrix(np.array([0.05, yaw, 0.0]))
        t = -R @ np.array([dist * np.sin(yaw), -0.3, 4.0 - dist * np.cos(yaw)])
        side_poses, side_trans = side_view(poses, trans, rest, R, t)
        views.append(landmarks_from_motion(side_poses, side_trans, rest, CAMERA_K, IMAGE_SIZE))
        truth.append((R, t))
        axis, move = rng.normal(size=3), rng.normal(size=3)
        turn = axis_angle_to_matrix(axis / np.linalg.norm(axis) * np.radians(2.0))
        centre = -R.T @ t + 0.08 * move / np.linalg.norm(move)
        wrong.append((turn @ R, -(turn @ R) @ centre))
    R0, t0 = np.stack([r for r, _ in wrong]), np.stack([t for _, t in wrong])
    settings = multiview_settings(OptimizeSettings(iterations=100, device="cpu"))
    fixed = CameraViews(views, np.stack([CAMERA_K] * 2), R0.copy(), t0.copy())
    fit_clip(seq, CAMERA_K, settings=settings, views=fixed)
    refined = CameraViews(views, np.stack([CAMERA_K] * 2), R0.copy(), t0.copy(), refine=CameraRefinement())
    fit_clip(seq, CAMERA_K, settings=settings, views=refined)
    for k in range(2):
        before = _camera_error(R0[k], t0[k], *truth[k])
        np.testing.assert_allclose(fixed.R[k], R0[k])           # not asked to move: stays
        after = _camera_error(refined.R[k], refined.t[k], *truth[k])
        assert before[0] > 1.9 and before[1] > 0.079
        assert after[0] < 0.5 * before[0] and after[1] < 0.5 * before[1], (k, before, after)
