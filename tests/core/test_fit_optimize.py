"""The whole-clip optimiser: known motion comes back on both bodies, jitter goes, gaps are bridged."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from core.body.mannequin import forward_kinematics, rest_joints
from core.body.model import MannequinBody, axis_angle_to_matrix_torch
from core.errors import CancelledError, MocapError
from core.fit import fit_sequence
from core.fit.optimize import PRESETS, ObjectiveWeights, OptimizeSettings, fit_clip, preset, resolve_device
from core.fit.optimize.limits import joint_limit_cost
from core.fit.optimize.objective import ClipProblem
from core.fit.optimize.setup import gaussian_smooth, observations, smooth_rotations
from tests.testdata.clips import CAMERA_K as K
from tests.testdata.clips import CLIP_BETAS as BETAS
from tests.testdata.clips import IMAGE_SIZE as SIZE
from tests.testdata.clips import landmarks_from_body, smooth_motion
from tests.testdata.clips import mannequin_clip as synthetic_clip
from core.motion import validate_motion
from core.skeleton import JOINT_INDEX as J
from core.skeleton import LIMB_JOINTS, NUM_JOINTS

LIMBS = [J[n] for n in LIMB_JOINTS]


def mannequin_clip(frames: int, seed: int = 0):
    """World landmarks as MediaPipe gives them (seen along the ray through the person), as the fit expects."""
    return synthetic_clip(frames, np.random.default_rng(seed), world_axes="view")


def limb_positions(poses, rest, trans) -> np.ndarray:
    pos, _ = forward_kinematics(np.asarray(poses, np.float64).reshape(len(poses), -1), rest, trans)
    return pos[:, LIMBS]


def limb_error_mm(fit, poses, rest, trans) -> np.ndarray:
    """(T, 12) distance between fitted and true limb joints, camera frame, mm."""
    return 1000 * np.linalg.norm(limb_positions(fit.poses, fit.rest_joints, fit.trans)
                                 - limb_positions(poses, rest, trans), axis=-1)


def acceleration_error_mm(fit, poses, rest, trans) -> float:
    """Mean |acceleration difference| of the limb joints, mm per frame^2 (the jitter a viewer sees)."""
    a = np.diff(limb_positions(fit.poses, fit.rest_joints, fit.trans), 2, axis=0)
    b = np.diff(limb_positions(poses, rest, trans), 2, axis=0)
    return float(1000 * np.linalg.norm(a - b, axis=-1).mean())


def test_recovers_a_known_motion_of_the_mannequin() -> None:
    poses, trans, rest, seq = mannequin_clip(45)
    fit = fit_clip(seq, K)
    T = len(poses)
    assert fit.poses.shape == (T, 165) and fit.poses.dtype == np.float32 and fit.body_model == "mannequin"
    err = limb_error_mm(fit, poses, rest, trans)
    # Clean landmarks: the objective's optimum sits within millimetres of the truth
    # (the smoothness terms shave a little off real accelerations).
    assert err.mean() < 8.0 and err.max() < 30.0
    np.testing.assert_allclose(fit.betas, BETAS, atol=0.02)
    assert np.nanmax(fit.reprojection_error) < 3.0
    assert fit.timings["evaluations"] >= fit.timings["iterations"] > 0


def test_noisy_landmarks_jitter_less_than_the_per_frame_fit() -> None:
    poses, trans, rest, seq = mannequin_clip(45, seed=3)
    rng = np.random.default_rng(4)
    seq.body_world[..., :3] += rng.normal(0, 0.015, seq.body_world[..., :3].shape).astype(np.float32)
    seq.body_2d[..., :2] += rng.normal(0, 3.0, seq.body_2d[..., :2].shape).astype(np.float32)
    per_frame = fit_sequence(seq, K)
    fit = fit_clip(seq, K)
    assert acceleration_error_mm(fit, poses, rest, trans) < 0.5 * acceleration_error_mm(per_frame, poses, rest, trans)
    assert np.median(limb_error_mm(fit, poses, rest, trans)) < np.median(limb_error_mm(per_frame, poses, rest, trans))


def test_smoothing_the_start_leaves_steady_motion_alone_and_takes_out_jitter() -> None:
    from core.rotations import axis_angle_to_matrix, matrix_to_axis_angle

    rng = np.random.default_rng(11)
    t = np.linspace(0.0, 1.0, 60)
    axis = np.array([0.3, 0.9, -0.2]) / np.linalg.norm([0.3, 0.9, -0.2])
    steady = axis_angle_to_matrix((0.4 + 1.2 * t)[:, None, None] * axis)                   # (60, 1, 3, 3)
    out = smooth_rotations(steady, 2.0)
    np.testing.assert_allclose(np.einsum("tjab,tjcb->tjac", out, out), np.broadcast_to(np.eye(3), out.shape),
                               atol=1e-9)
    np.testing.assert_allclose(np.linalg.det(out), 1.0, atol=1e-9)
    # A turn at constant speed stays where it was (away from the clip's ends).
    inner = slice(6, -6)
    angle = np.linalg.norm(matrix_to_axis_angle(np.swapaxes(out, -1, -2) @ steady), axis=-1)
    assert np.degrees(angle[inner]).max() < 0.1
    # 3 degrees of frame-to-frame jitter on it shrinks to a fraction.
    noisy = steady @ axis_angle_to_matrix(rng.normal(0.0, np.radians(3.0), (60, 1, 3)))
    before = np.linalg.norm(matrix_to_axis_angle(np.swapaxes(noisy, -1, -2) @ steady), axis=-1)[inner]
    after = np.linalg.norm(matrix_to_axis_angle(np.swapaxes(smooth_rotations(noisy, 2.0), -1, -2) @ steady),
                           axis=-1)[inner]
    assert after.mean() < 0.5 * before.mean()


def test_a_misread_first_frame_weighs_in_the_start_no_more_than_a_misread_frame_inside() -> None:
    """MediaPipe's first frame is its detector's and often its worst: the smoothed start must not hold
    on to it more than to any other frame (repeating the end frame past the clip kept 60 % of it)."""
    from core.rotations import axis_angle_to_matrix, matrix_to_axis_angle

    still = np.broadcast_to(np.eye(3), (40, 1, 3, 3)).copy()
    turned = axis_angle_to_matrix(np.array([0.0, np.radians(40.0), 0.0]))   # the body read 40 deg turned
    first, inside = still.copy(), still.copy()
    first[0, 0], inside[20, 0] = turned, turned

    def kept(R: np.ndarray, frame: int) -> float:
        return float(np.degrees(np.linalg.norm(matrix_to_axis_angle(smooth_rotations(R, 2.0)[frame, 0]))))

    assert kept(first, 0) == pytest.approx(kept(inside, 20), rel=0.05)
    assert kept(first, 0) < 0.3 * 40.0
    np.testing.assert_allclose(smooth_rotations(still, 2.0), still, atol=1e-12)   # a still clip stays still
    np.testing.assert_allclose(gaussian_smooth(np.full((5, 3), 2.5), 2.0), 2.5)   # short clips too


def test_a_smooth_start_jitters_less_at_the_same_iterations() -> None:
    poses, trans, rest, seq = mannequin_clip(45, seed=3)
    rng = np.random.default_rng(4)
    seq.body_world[..., :3] += rng.normal(0, 0.015, seq.body_world[..., :3].shape).astype(np.float32)
    seq.body_2d[..., :2] += rng.normal(0, 3.0, seq.body_2d[..., :2].shape).astype(np.float32)
    settings = preset("fast").optimize
    rough = fit_clip(seq, K, settings=dataclasses.replace(settings, init_smoothing_seconds=0.0))
    smooth = fit_clip(seq, K, settings=settings)
    assert settings.init_smoothing_seconds > 0
    # Measured here: about a tenth of the jitter, and the limbs closer to the truth too.
    assert acceleration_error_mm(smooth, poses, rest, trans) < 0.4 * acceleration_error_mm(rough, poses, rest, trans)
    assert np.median(limb_error_mm(smooth, poses, rest, trans)) < np.median(limb_error_mm(rough, poses, rest, trans))


def test_an_outlier_landmark_does_not_drag_the_arm() -> None:
    poses, trans, rest, seq = mannequin_clip(30, seed=5)
    seq.body_2d[15, 25, :2] += (250.0, -200.0)   # left knee thrown across the image in one frame
    fit = fit_clip(seq, K)
    err = limb_error_mm(fit, poses, rest, trans)
    assert err[15, LIMB_JOINTS.index("left_knee")] < 25.0


def test_missing_and_unreliable_frames_are_bridged_and_flagged() -> None:
    poses, trans, rest, seq = mannequin_clip(40, seed=2)
    gap = np.arange(12, 18)
    for name in ("body_2d", "body_world", "left_hand", "right_hand"):
        getattr(seq, name)[gap] = np.nan
    seq.present[gap] = False
    seq.body_2d[30, :, 2] = 0.02                     # a frame where nothing is really seen
    fit = fit_clip(seq, K)
    expected = np.zeros(40, bool)
    expected[gap] = True
    expected[30] = True
    np.testing.assert_array_equal(fit.bridged, expected)
    assert np.isfinite(fit.poses).all() and np.isfinite(fit.trans).all()
    assert np.isnan(fit.reprojection_error[expected]).all() and np.isfinite(fit.reprojection_error[~expected]).all()
    np.testing.assert_array_equal(fit.confidence[expected], 0.0)
    assert any("6 frames without a person" in w and "12-17" in w for w in fit.warnings)
    assert any("too few visible" in w and "30" in w for w in fit.warnings)
    # The gap moves between its neighbours instead of freezing or flying off.
    err = limb_error_mm(fit, poses, rest, trans)
    assert err[gap].mean() < 120.0


def test_the_smplx_body_recovers_a_known_motion(tmp_path: Path) -> None:
    from tests.testdata.smplx_model import write_synthetic_model
    from core.body.smplx_model import SMPLXBody

    write_synthetic_model(tmp_path / "smplx" / "SMPLX_NEUTRAL.npz")
    body = SMPLXBody(tmp_path)
    rng = np.random.default_rng(6)
    poses, trans = smooth_motion(24, rng)
    betas = rng.normal(0, 0.5, body.num_betas)
    assert body.num_face == 51
    expression = np.zeros((24, body.num_expression))
    seq = landmarks_from_body(body, betas, poses, trans, K, SIZE, expression=expression)
    fit = fit_clip(seq, K, body)
    assert fit.body_model == "smplx" and fit.betas.shape == (10,) and fit.expression.shape == (24, 10)
    truth = body.full_vertices(betas, poses.reshape(24, -1), trans)[1]
    got = body.full_vertices(fit.betas, fit.poses, fit.trans, fit.expression)[1]
    err = 1000 * np.linalg.norm(got[:, LIMBS] - truth[:, LIMBS], axis=-1)
    # The synthetic file's landmark vertices (real SMPL-X indices) sit on arbitrary
    # joints of a mannequin-shaped mesh, so head, feet and finger tips start far off
    # and shape and pose trade a little: a few centimetres, not the millimetres of
    # the mannequin. Measured about 25 mm.
    assert err.mean() < 40.0, err.mean()
    assert np.nanmedian(fit.reprojection_error) < 4.0


def test_gradients_are_finite_even_at_the_rest_pose() -> None:
    poses, trans, rest, seq = mannequin_clip(6, seed=8)
    body = MannequinBody()
    obs = observations(seq, body, np.ones(6, bool), torch.device("cpu"))
    problem = ClipProblem(body, obs, K, 30.0, OptimizeSettings(), fit_face=False)
    for aa in (np.zeros((6, NUM_JOINTS, 3)), poses):
        local = axis_angle_to_matrix_torch(torch.as_tensor(aa, dtype=torch.float32)).requires_grad_(True)
        t = torch.as_tensor(trans, dtype=torch.float32).requires_grad_(True)
        b = torch.zeros(5, requires_grad=True)
        total = problem.objective(b, local, t, None)
        total.backward()
        assert torch.isfinite(total)
        for g in (local.grad, t.grad, b.grad):
            assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0


def test_joint_limits_penalise_a_backwards_knee_and_elbow() -> None:
    def cost(joint: str, axis: int, angle: float) -> float:
        aa = np.zeros((1, NUM_JOINTS, 3))
        aa[0, J[joint], axis] = angle
        return float(joint_limit_cost(axis_angle_to_matrix_torch(torch.as_tensor(aa, dtype=torch.float32)))[0])

    assert cost("left_knee", 0, -0.6) > 20 * cost("left_knee", 0, 0.6)       # knees bend one way
    assert cost("left_elbow", 1, 0.6) > 20 * cost("left_elbow", 1, -0.6)     # the left elbow bends about -Y
    assert cost("right_elbow", 1, -0.6) > 20 * cost("right_elbow", 1, 0.6)
    assert cost("left_knee", 2, 0.6) > 20 * cost("left_knee", 0, 0.6)        # and not sideways


def test_presets_trade_iterations_and_stride() -> None:
    fast, balanced, accurate = (PRESETS[n] for n in ("fast", "balanced", "accurate"))
    assert fast.optimize.iterations < balanced.optimize.iterations < accurate.optimize.iterations
    assert fast.stride > balanced.stride == accurate.stride == 1
    assert fast.optimize.mixed_precision and not balanced.optimize.mixed_precision
    assert preset().name == "balanced" and preset("fast", device="cpu").optimize.device == "cpu"
    with pytest.raises(MocapError, match="unknown preset"):
        preset("turbo")
    seq = mannequin_clip(20, seed=9)[3]
    quick = fit_clip(seq, K, settings=preset("fast").optimize)
    slow = fit_clip(seq, K, settings=preset("accurate").optimize)
    assert quick.timings["evaluations"] < slow.timings["evaluations"]


def test_device_choice() -> None:
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(MocapError, match="no CUDA"):
            resolve_device("cuda")


def test_cancel_and_progress() -> None:
    seq = mannequin_clip(10, seed=1)[3]
    calls: list[tuple[int, int]] = []
    fit_clip(seq, K, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1] and [d for d, _ in calls] == sorted(d for d, _ in calls)
    with pytest.raises(CancelledError):
        fit_clip(seq, K, should_cancel=lambda: True)


def test_the_cpu_fit_runs_on_one_thread_and_gives_the_setting_back() -> None:
    seq = mannequin_clip(10, seed=1)[3]
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        seen: list[int] = []
        fit_clip(seq, K, settings=OptimizeSettings(iterations=3, device="cpu"),
                 progress=lambda d, t: seen.append(torch.get_num_threads()))
        assert seen and set(seen) == {1}
        assert torch.get_num_threads() == 2
        with pytest.raises(CancelledError):  # also when the fit ends early
            fit_clip(seq, K, settings=OptimizeSettings(device="cpu"), should_cancel=lambda: True)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_no_person_anywhere_is_a_user_error() -> None:
    seq = mannequin_clip(5)[3]
    seq.present[:] = False
    with pytest.raises(MocapError, match="no person"):
        fit_clip(seq, K)


def test_the_result_is_a_valid_motion_file_for_both_bodies(tmp_path: Path) -> None:
    from core.body.smplx_file import SMPLX_NUM_VERTICES
    from tests.testdata.smplx_model import write_synthetic_model
    from core.body.smplx_model import SMPLXBody
    from core.capture import motion_from_fit

    seq = mannequin_clip(8, seed=11)[3]
    motion = motion_from_fit(seq, fit_clip(seq, K), K)
    validate_motion(motion)
    assert motion.body_model == "mannequin" and motion.shape_dirs is None and motion.expression.shape == (8, 0)

    write_synthetic_model(tmp_path / "SMPLX_FEMALE.npz")
    body = SMPLXBody(tmp_path, "female")
    fit = fit_clip(dataclasses.replace(seq), K, body, settings=OptimizeSettings(iterations=5))
    motion = motion_from_fit(seq, fit, K, body=body)
    validate_motion(motion)
    assert motion.body_model == "smplx" and motion.gender == "female"
    assert motion.shape_dirs.shape == (SMPLX_NUM_VERTICES, 3, 10)
    assert motion.expression_dirs.shape == (SMPLX_NUM_VERTICES, 3, 10) and motion.expression.shape == (8, 10)
    # v_template is the fitted shape: the neutral mesh plus the shape blend shapes.
    neutral = motion.v_template - motion.shape_dirs @ motion.betas
    np.testing.assert_allclose(neutral, body.smplx.v_template.numpy(), atol=1e-5)


def test_weights_are_documented() -> None:
    doc = ObjectiveWeights.__doc__ or ""
    for f in dataclasses.fields(ObjectiveWeights):
        assert f"{f.name}:" in doc


def test_long_clips_are_fitted_in_windows_with_one_shape() -> None:
    """Windows of 50 frames over 130 frames: close to the truth, one shape, no seams, memory per window."""
    poses, trans, rest, seq = mannequin_clip(130)
    settings = OptimizeSettings(window_frames=50, window_overlap=10)
    calls = []
    fit = fit_clip(seq, K, settings=settings, progress=lambda d, t: calls.append((d, t)))
    assert fit.poses.shape == (130, 165)
    err = limb_error_mm(fit, poses, rest, trans)
    assert err.mean() < 10.0
    np.testing.assert_allclose(fit.betas, BETAS, atol=0.03)
    # No jump where windows meet: the fitted limbs move as smoothly there as elsewhere.
    step = np.linalg.norm(np.diff(limb_positions(fit.poses, fit.rest_joints, fit.trans), axis=0), axis=-1).max(-1)
    truth_step = np.linalg.norm(np.diff(limb_positions(poses, rest, trans), axis=0), axis=-1).max(-1)
    assert (step - truth_step).max() < 0.02
    assert calls and calls[-1][0] <= calls[-1][1]


def test_a_window_without_anyone_is_bridged() -> None:
    poses, trans, rest, seq = mannequin_clip(130)
    gone = np.zeros(130, bool)
    gone[55:110] = True  # longer than a window: one window sees nobody
    seq = dataclasses.replace(seq, present=seq.present & ~gone,
                              body_2d=np.where(gone[:, None, None], np.nan, seq.body_2d),
                              body_world=np.where(gone[:, None, None], np.nan, seq.body_world))
    fit = fit_clip(seq, K, settings=OptimizeSettings(window_frames=50, window_overlap=10))
    assert fit.bridged[60:105].all() and not fit.bridged[:50].any()
    assert np.isfinite(fit.poses).all() and np.isfinite(fit.trans).all()


def test_a_long_take_warns_once_per_kind_with_the_takes_counts() -> None:
    """Windows of 50 over 130 frames, a gap across two windows and their overlap: one warning of each
    kind for the take (not one per window), and the counts add up to the take's bridged frames."""
    poses, trans, rest, seq = mannequin_clip(130)
    gone = np.zeros(130, bool)
    gone[55:110] = True
    seq = dataclasses.replace(seq, present=seq.present & ~gone,
                              body_2d=np.where(gone[:, None, None], np.nan, seq.body_2d),
                              body_world=np.where(gone[:, None, None], np.nan, seq.body_world))
    seq.body_2d[[20, 45], :, 2] = 0.02   # seen too poorly, frame 45 in the overlap of windows 1 and 2
    fit = fit_clip(seq, K, settings=OptimizeSettings(window_frames=50, window_overlap=10))
    missing = [w for w in fit.warnings if "without a person" in w]
    poorly = [w for w in fit.warnings if "too few visible" in w]
    assert len(missing) == 1 and len(poorly) == 1, fit.warnings
    assert missing[0].startswith("55 frames") and "55-109" in missing[0]
    assert poorly[0].startswith("2 frames") and "20, 45" in poorly[0]
    counts = sum(int(w.split()[0]) for w in fit.warnings if "bridged" in w)
    assert counts == int(fit.bridged.sum()) == 57



def test_landmarks_not_seen_take_no_part_in_the_3d_term() -> None:
    """Legs the pose model could not see (visibility 0.1: hidden, or cut off by the frame) come with
    invented metric landmarks: the 3D term leaves them out; half-seen ones (0.4, a leg behind the
    other) still count by their visibility (issue 16)."""
    _, _, _, seq = mannequin_clip(4, seed=4)
    seq.body_world[:, :, 3] = 0.9
    seq.body_world[:, [25, 27], 3] = 0.1  # left knee and ankle: unseen
    seq.body_world[:, [26, 28], 3] = 0.4  # right knee and ankle: half seen
    w3d = observations(seq, MannequinBody(), np.ones(4, bool), torch.device("cpu")).w3d.numpy()
    np.testing.assert_array_equal(w3d[:, [25, 27]], 0.0)
    np.testing.assert_allclose(w3d[:, [26, 28]], 0.4)
    np.testing.assert_allclose(w3d[:, 11], 0.9)
