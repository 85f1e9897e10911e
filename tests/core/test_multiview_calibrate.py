"""Calibration from the person: known cameras are recovered from the keypoints of a moving person alone."""

from __future__ import annotations

import time

import numpy as np
import pytest

from core.errors import MocapError
from core.landmarks import BODY
from core.multiview.calibrate import calibrate_from_person
from core.multiview.rig import CameraRig
from core.multiview.compare import reprojection_errors, rig_errors
from core.rotations import angle_between_degrees
from tests.testdata.multiview_scenes import look_at_rig, observe, ring, sequence, skeleton


def _views(rig, frames: int, noise_px: float, seed: int = 0):
    truth = skeleton(np.arange(frames) / 30.0, seed=seed)
    obs = observe(rig, truth, noise_px=noise_px, seed=seed)
    return [sequence(obs[c], 30.0, tuple(rig.image_sizes[c])) for c in range(rig.num_cameras)], truth


def _check(rig, estimate, truth_points):
    centre_err, angle_err, _ = rig_errors(estimate, rig)
    assert centre_err.max() < 0.03, centre_err  # metres
    assert angle_err.max() < 1.0, angle_err  # degrees
    # Metric scale from adult bone lengths: the synthetic person has them, so the baseline comes out in metres.
    base_true = np.linalg.norm(rig.centres()[1] - rig.centres()[0])
    base_est = np.linalg.norm(estimate.centres()[1] - estimate.centres()[0])
    assert abs(base_est / base_true - 1) < 0.03, (base_est, base_true)
    # Up: the true up (world z) seen in camera 0's frame, which is the estimate's world. The cameras' average
    # -y axis alone is 5 degrees off here (pitched and rolled phones); the feet on the floor put it right.
    true_up = rig.R[0] @ np.array([0.0, 0.0, 1.0])
    assert angle_between_degrees(estimate.world_up, true_up) < 1.0


def test_two_cameras_ninety_degrees_apart_are_recovered():
    rig = look_at_rig(ring(2, 90.0, heights=[0.9, 1.6]), focals=[1000.0, 1400.0],
                      sizes=[[1280, 720], [1920, 1080]], roll_degrees=[0.0, 4.0])
    seqs, truth = _views(rig, 300, noise_px=1.0)
    estimate = calibrate_from_person(seqs, list(rig.K))
    _check(rig, estimate, truth)
    np.testing.assert_allclose(estimate.R[0], np.eye(3), atol=1e-12)  # the world is camera 0's frame
    uv = np.stack([s.body_2d[..., :2] for s in seqs])
    conf = np.stack([s.body_2d[..., 2] for s in seqs])
    assert (reprojection_errors(estimate, uv, conf) < 2.0).all()  # 1 px noise
    shifted = CameraRig(names=estimate.names, K=estimate.K, R=estimate.R, t=estimate.t + [[0, 0, 0], [0, 0.5, 0]],
                        image_sizes=estimate.image_sizes, world_up=estimate.world_up)
    assert (reprojection_errors(shifted, uv, conf) > 5.0).all()  # a camera 50 cm off shows


def test_four_cameras_three_hundred_frames_within_the_targets_and_time():
    rig = look_at_rig(ring(4, 200.0, heights=[0.8, 1.2, 1.5, 2.0]), focals=[900.0, 1100.0, 1300.0, 1600.0],
                      sizes=[[1280, 720], [1920, 1080], [1080, 1920], [1280, 720]])
    seqs, truth = _views(rig, 300, noise_px=1.5, seed=1)
    # One view loses the person for a while, and misses a few keypoints.
    seqs[2].body_2d[100:140] = np.nan
    seqs[3].body_2d[::7, 15] = [[900.0, 100.0, 0.9]]  # a confident wrong wrist every 7th frame
    start = time.perf_counter()
    estimate = calibrate_from_person(seqs, list(rig.K), person_height=1.70)
    seconds = time.perf_counter() - start
    _check(rig, estimate, truth)
    assert seconds < 60.0, seconds  # the target is 20 s on the 2-core CI machine; see bench multiview


def test_person_height_sets_the_scale_and_bad_input_is_explained():
    rig = look_at_rig(ring(2, 90.0))
    seqs, _ = _views(rig, 120, noise_px=0.5, seed=2)
    tall = calibrate_from_person(seqs, list(rig.K), person_height=1.87)
    base = np.linalg.norm(tall.centres()[1] - tall.centres()[0])
    assert abs(base / np.linalg.norm(rig.centres()[1] - rig.centres()[0]) - 1.1) < 0.03
    with pytest.raises(MocapError, match="different frame counts"):
        calibrate_from_person([seqs[0], sequence(seqs[1].body_2d[:50], 30.0)], list(rig.K))
    with pytest.raises(MocapError, match="not plausible"):
        calibrate_from_person(seqs, list(rig.K), person_height=17.0)
    with pytest.raises(MocapError, match="unknown bone"):
        calibrate_from_person(seqs, list(rig.K), bone_lengths={"tail": 0.3})
    empty = [sequence(np.full((120, 33, 3), np.nan), 30.0) for _ in range(2)]
    with pytest.raises(MocapError, match="too few"):
        calibrate_from_person(empty, list(rig.K))


def test_only_the_focal_lengths_of_lenses_not_stated_are_refined():
    """``capture-multi`` refines the focal lengths of the videos whose lens it only guesses (no ``--fov``, no
    metadata: the 60-degree default) and keeps the others': here two phones' guesses 20% off are found again
    within 3% while the two stated lenses stay as given, and the cameras land within the targets."""
    rig = look_at_rig(ring(4, 270.0, heights=[0.8, 1.2, 1.5, 2.0]), focals=[900.0, 1100.0, 1300.0, 1600.0],
                      sizes=[[1280, 720], [1920, 1080], [1080, 1920], [1280, 720]])
    seqs, truth = _views(rig, 300, noise_px=1.0, seed=3)
    guessed = [False, True, False, True]
    Ks = [k.copy() for k in rig.K]
    Ks[1][:2, :2] *= 1.2
    Ks[3][:2, :2] *= 0.8
    estimate = calibrate_from_person(seqs, Ks, refine_focal=guessed)
    np.testing.assert_array_equal(estimate.K[[0, 2]], rig.K[[0, 2]])
    focal_error = estimate.K[:, 0, 0] / rig.K[:, 0, 0] - 1
    assert np.abs(focal_error[[1, 3]]).max() < 0.03, focal_error
    _check(rig, estimate, truth)
    with pytest.raises(MocapError, match="refine_focal names 3 cameras for 4 views"):
        calibrate_from_person(seqs, Ks, refine_focal=guessed[:3])


@pytest.mark.parametrize("refine_focal", [False, True, [True, False, True]])
def test_the_adjustments_jacobian_matches_finite_differences(refine_focal):
    """The bundle adjustment's analytic Jacobian (rotation vectors through SO(3)'s left Jacobian, focal
    scales, points, bones, the anchor) against SciPy's central differences, away from the identity."""
    from scipy.optimize._numdiff import approx_derivative

    from core.multiview.adjustment import Adjustment

    rng = np.random.default_rng(0)
    rig = look_at_rig(ring(3, 150.0))
    points = rng.normal(scale=0.5, size=(20, 3)) + [0.0, 0.0, 1.0]
    cams, index = np.repeat(np.arange(3), 20), np.tile(np.arange(20), 3)
    uv = rig.project(points).reshape(-1, 2) + rng.normal(size=(60, 2))
    problem = Adjustment(rig.K, cams, index, uv, rng.uniform(0.5, 1.0, 60), 2, refine_focal,
                         np.array([[0, 1], [2, 3], [4, 5]]), np.array([0, 1, 0]), 2, 300.0)
    x = problem.pack(rig.R, rig.t, points)
    x = x + rng.normal(scale=0.01, size=x.shape)
    analytic = problem.jacobian(x).toarray()
    numeric = approx_derivative(problem.residuals, x, method="3-point")
    assert np.abs(numeric).max() > 1000
    np.testing.assert_allclose(analytic, numeric, atol=1e-4)


def _trunk_biased_views(rig, frames: int, bias_m: float, seed: int):
    """Views of a person whose hips and shoulders each camera marks off their 3-D point: by ``bias_m`` metres
    in a direction of that camera's picture plane, its own and the same over the clip (as MediaPipe marks the
    trunk's joints by the trunk's outline, which differs from each side), on small pictures with 2 px noise."""
    truth = skeleton(np.arange(frames) / 30.0, seed=seed, walk=0.2)
    trunk = [BODY[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
    rng = np.random.default_rng(seed + 10)
    seqs = []
    for c in range(rig.num_cameras):
        side = rng.normal(size=2)
        points = truth.copy()
        points[:, trunk] += np.append(bias_m * side / np.linalg.norm(side), 0.0) @ rig.R[c]
        seqs.append(sequence(observe(rig, points, noise_px=2.0, seed=seed + c)[c], 30.0, tuple(rig.image_sizes[c])))
    return seqs


@pytest.mark.parametrize("cameras,span,heights", [(2, 90.0, [0.9, 1.6]), (4, 270.0, [0.8, 1.2, 1.5, 2.0])])
def test_hips_and_shoulders_marked_differently_per_view_do_not_pull_the_cameras(monkeypatch, cameras, span,
                                                                                 heights):
    import core.multiview.calibrate as calibrate

    rig = look_at_rig(ring(cameras, span, heights=heights), focals=[550.0] * cameras, sizes=[[640, 360]] * cameras)
    seqs = _trunk_biased_views(rig, 120, 0.08, seed=0)
    centre, angle, _ = rig_errors(calibrate_from_person(seqs, list(rig.K), person_height=1.70), rig)
    assert centre.max() < 0.015 and angle.max() < 0.5, (centre, angle)
    # Every keypoint counting alike (as before): the cameras follow the trunk's bias.
    monkeypatch.setattr(calibrate, "JOINT_WEIGHTS", np.ones_like(calibrate.JOINT_WEIGHTS))
    centre_equal, _, _ = rig_errors(calibrate_from_person(seqs, list(rig.K), person_height=1.70), rig)
    # (Seen: 2 cameras 0.6 cm / 0.22 deg against 2.2 cm / 1.47 deg; 4 cameras 0.8 cm / 0.13 deg against 3.3 cm.)
    assert centre_equal.max() > 0.015 and centre_equal.max() > 3 * centre.max(), (centre_equal, centre)


def test_narrow_trunk_landmarks_do_not_change_the_scale():
    """MediaPipe marks shoulders and hips inside the trunk, each side's where that view's outline puts it: on
    the rendered four-phone take 0.286 and 0.172 m apart against an adult's 0.36 and 0.22. The limbs alone
    give the scale, so such a trunk leaves the baseline in metres (with the widths it read 3.7% long here)."""
    rig = look_at_rig(ring(2, 90.0, heights=[0.9, 1.6]))
    points = skeleton(np.arange(150) / 30.0, seed=3)
    for left, right, width in (("left_shoulder", "right_shoulder", 0.286), ("left_hip", "right_hip", 0.172)):
        a, b = points[:, BODY[left]], points[:, BODY[right]]
        mid, half = (a + b) / 2, (a - b) / 2
        half *= (width / 2) / np.linalg.norm(half, axis=-1, keepdims=True)
        points[:, BODY[left]], points[:, BODY[right]] = mid + half, mid - half
    obs = observe(rig, points, noise_px=0.5, seed=3)
    seqs = [sequence(obs[c], 30.0, tuple(rig.image_sizes[c])) for c in range(2)]
    estimate = calibrate_from_person(seqs, list(rig.K), person_height=1.70)
    true_base = np.linalg.norm(rig.centres()[1] - rig.centres()[0])
    assert abs(np.linalg.norm(estimate.centres()[1] - estimate.centres()[0]) / true_base - 1) < 0.015
    # A measured trunk width, given, counts: claiming the shoulders are 0.36 m stretches the rig.
    wide = calibrate_from_person(seqs, list(rig.K), person_height=1.70, bone_lengths={"shoulders": 0.36})
    assert np.linalg.norm(wide.centres()[1] - wide.centres()[0]) / true_base > 1.02


def test_two_nearby_stances_at_different_heights_hardly_tilt_the_cameras_up():
    """A take whose feet rest in two places 40 cm apart, their triangulated heights 4 cm apart however still
    each stance is (MediaPipe marks a heel or toe lower from a high camera than from a low one, and that
    stays for the stance): the plane through them is 5.7 degrees off the truth. Each place is one look at the
    floor, so the cameras' own up (exact here) moves a little (seen: 3.2 degrees); counted by its 80 frames
    the floor took it 12.8 degrees off."""
    from core.multiview.calibrate import _world_up

    R = np.stack([np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]),   # two level cameras, 90 degrees apart
                  np.array([[0, 1.0, 0], [0, 0, -1.0], [-1.0, 0, 0]])])
    up = np.array([0.0, 0.0, 1.0])
    rng = np.random.default_rng(0)
    points = np.full((120, 33, 3), np.nan)
    feet = [BODY[n] for n in ("left_heel", "right_heel", "left_foot_index", "right_foot_index")]
    sole = np.array([[0, 0, 0], [0, 0.2, 0], [0.15, 0, 0], [0.15, 0.2, 0]])
    stance = np.repeat([[0.0, 0.0, 0.0], [0.4, 0.0, 0.04]], 40, axis=0) + rng.normal(0, 0.002, (80, 3))
    points[:80, feet] = stance[:, None] + sole
    points[80:, feet] = np.linspace([0.4, 0.0, 0.3], [0.0, 0.0, 0.3], 40)[:, None] + sole  # both feet in the air
    assert angle_between_degrees(_world_up(R, points), up) < 4.0


def _correlated_views(rig, seconds: float, seed: int):
    """Views of the synthetic person with MediaPipe-like keypoint errors: 4 px that stay alike for about a
    third of a second (a Gaussian filter of 9 frames over white noise, rescaled)."""
    from scipy.ndimage import gaussian_filter1d

    obs = observe(rig, skeleton(np.arange(int(seconds * 30)) / 30.0, seed=seed))
    noise = gaussian_filter1d(np.random.default_rng(seed + 100).normal(size=obs[..., :2].shape), 9.0, axis=1)
    obs[..., :2] += 4.0 * noise / noise.std()
    return [sequence(obs[c], 30.0, tuple(rig.image_sizes[c])) for c in range(rig.num_cameras)]


def test_a_longer_take_calibrates_within_the_targets_where_five_seconds_do_not():
    """What limits a calibration from the person is the take's information against keypoint errors that last:
    on the rendered four-phone take (5 s) MediaPipe's own errors, shifted in time, place the cameras as far
    off as they do in place. With such errors on the take's four lenses, 20 s of the person moving meet the
    targets (README: film 10-20 s); 5 s do not (seen: 1.3 cm / 1.70 degrees with 2 cameras, 6.1 cm / 1.25
    with 4; 20 s: 0.3 / 0.40 and 2.5 / 0.49)."""
    rig = look_at_rig(ring(4, 270.0, heights=[1.5, 0.8, 2.0, 1.2]), focals=[533.0, 404.0, 433.0, 366.0],
                      sizes=[[640, 360], [360, 640], [480, 360], [512, 384]])
    errors = {}
    for seconds in (5.0, 20.0):
        seqs = _correlated_views(rig, seconds, seed=3)
        for cameras in (2, 4):
            sub = CameraRig(rig.names[:cameras], rig.K[:cameras], rig.R[:cameras], rig.t[:cameras],
                            rig.image_sizes[:cameras], rig.world_up)
            centre, angle, _ = rig_errors(calibrate_from_person(seqs[:cameras], list(sub.K)), sub)
            errors[seconds, cameras] = (centre.max(), angle.max())
    assert errors[20.0, 2][0] < 0.03 and errors[20.0, 2][1] < 1.0, errors
    assert errors[20.0, 4][0] < 0.03 and errors[20.0, 4][1] < 1.0, errors
    assert errors[5.0, 2][1] > 1.0 and errors[5.0, 4][0] > 0.03, errors


@pytest.mark.parametrize("cameras,span,heights", [(2, 90.0, [0.9, 1.6]), (4, 270.0, [0.8, 1.2, 1.5, 2.0])])
def test_offsets_a_frame_off_pull_the_cameras_less_when_the_timing_error_is_given(cameras, span, heights):
    # Every second camera films the person a frame later than the offsets say (as the motion sync can leave
    # them): its fast keypoints are off by their speed times 1/30 s, alike over a whole swing.
    rig = look_at_rig(ring(cameras, span, heights=heights), focals=[550.0] * cameras, sizes=[[640, 360]] * cameras)
    times = np.arange(150) / 30.0
    seqs = [sequence(observe(rig, skeleton(times + (1 / 30.0 if c % 2 else 0.0)), noise_px=1.0, seed=c)[c], 30.0,
                     tuple(rig.image_sizes[c])) for c in range(cameras)]
    told = rig_errors(calibrate_from_person(seqs, list(rig.K), person_height=1.70, timing_error=1 / 30.0), rig)
    plain = rig_errors(calibrate_from_person(seqs, list(rig.K), person_height=1.70), rig)
    # (Seen: 2 cameras 0.8 cm / 1.04 deg against 1.4 cm / 1.80; 4 cameras 11.7 cm / 1.96 against 24.5 / 4.25.)
    assert told[1].max() < 0.7 * plain[1].max(), (told[1], plain[1])  # orientations
    assert told[0].max() < 0.7 * plain[0].max(), (told[0], plain[0])  # centres
    with pytest.raises(MocapError, match="timing error"):
        calibrate_from_person(seqs, list(rig.K), timing_error=-0.1)


def test_a_relative_pose_that_puts_the_points_behind_a_camera_is_told() -> None:
    """The essential matrix's candidates are judged with any shared keypoint behind a camera as an outlier
    (``calibrate._behind``): the right pose has every point in front of both cameras, its twin turned by the
    baseline (the decomposition ``recoverPose`` may be fooled into by a wrong matrix) has them behind."""
    from core.multiview.calibrate import _behind
    from core.rotations import axis_angle_to_matrix

    rng = np.random.default_rng(0)
    X = rng.uniform([-1.0, -1.0, 4.0], [1.0, 1.0, 6.0], (40, 3))  # in front of camera 0
    R = axis_angle_to_matrix(np.array([0.0, np.radians(-40.0), 0.0]))
    t = np.array([3.0, 0.0, 1.0])
    Xb = X @ R.T + t
    assert (Xb[:, 2] > 0).all()  # and of camera b
    p0, p1 = X[:, :2] / X[:, 2:], Xb[:, :2] / Xb[:, 2:]
    assert not _behind(R, t, p0, p1).any()
    assert _behind(R, -t, p0, p1).all()
