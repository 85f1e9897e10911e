"""Triangulation: exact on clean views, an outlier view is flagged and outvoted, one view gives no point."""

from __future__ import annotations

import time

import numpy as np
import pytest

from core.errors import MocapError
from core.multiview.triangulate import triangulate
from core.rotations import axis_angle_to_matrix
from tests.testdata.multiview_scenes import look_at_rig, observe, ring, skeleton


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clean_views_give_the_points_back(dtype):
    rig = look_at_rig(ring(3, 120.0), focals=[900.0, 1200.0, 1500.0], sizes=[[1280, 720], [1920, 1080], [720, 1280]])
    truth = skeleton(np.arange(40) / 30.0, seed=3)
    obs = observe(rig, truth, noise_px=0.0).astype(dtype)
    points, inliers = triangulate(obs[..., :2], obs[..., 2], rig)
    assert points.shape == truth.shape and inliers.shape == obs.shape[:-1]
    np.testing.assert_allclose(points, truth, atol=1e-3 if dtype == np.float32 else 1e-6)
    assert inliers.all()


def test_outlier_view_is_flagged_and_does_not_move_the_point():
    rig = look_at_rig(ring(4, 180.0))
    truth = skeleton(np.arange(300) / 30.0, seed=4)
    obs = observe(rig, truth, noise_px=1.0, seed=1)
    # View 2 swaps left and right wrists in every frame (a classic detector mistake), and loses frame 5.
    obs[2, :, [15, 16]] = obs[2, :, [16, 15]]
    obs[2, 5] = np.nan
    # Only one view sees the nose in frame 7: no point.
    obs[1:, 7, 0, 2] = 0.0
    start = time.perf_counter()
    points, inliers = triangulate(obs[..., :2], obs[..., 2], rig)
    seconds = time.perf_counter() - start
    apart = np.linalg.norm(obs[2, :, 15, :2] - obs[2, :, 16, :2], axis=-1) > 40  # px: where a swap shows
    assert apart.mean() > 0.8
    assert not inliers[2, apart][:, [15, 16]].any(), "the swapped wrists were not flagged"
    assert inliers[[0, 1, 3]][:, :, [15, 16]].all()
    assert not inliers[2, 5].any()
    assert np.isnan(points[7, 0]).all() and not inliers[:, 7, 0].any()
    err = np.linalg.norm(points - truth, axis=-1)
    # 1 px noise at 3.5 m: millimetres. A swap within the threshold (hands close together) may pull a bit.
    assert np.nanmax(err[:, :15]) < 0.02 and np.nanmax(err[:, 17:]) < 0.02
    assert np.nanmax(err[apart][:, [15, 16]]) < 0.02, np.nanmax(err[apart][:, [15, 16]])
    assert seconds < 10.0, seconds  # 4 views x 300 frames x 33 joints: well under a second when vectorised


def test_wrong_shapes_are_a_clear_error():
    rig = look_at_rig(ring(2, 90.0))
    with pytest.raises(MocapError, match="do not fit 2 cameras"):
        triangulate(np.zeros((3, 5, 33, 2)), np.ones((3, 5, 33)), rig)


def test_two_cameras_facing_each_other_give_no_depth_a_third_does():
    """Cameras 180 degrees apart see a point at their height along one line: with only them agreeing, the point
    is left out (its depth along that line would be the keypoints' noise); a third camera 90 degrees round
    fixes it. Points well below them (the feet) are seen from above by both, along crossing rays: kept."""
    rig = look_at_rig(ring(4, 270.0, heights=[1.2] * 4))        # cameras at 0, 90, 180 and 270 degrees
    truth = skeleton(np.arange(20) / 30.0, seed=5)
    obs = observe(rig, truth, noise_px=1.0, seed=2)
    facing = obs.copy()
    facing[[1, 3], ..., 2] = 0.0                                # only cameras 0 and 2 (facing each other) see it
    points, inliers = triangulate(facing[..., :2], facing[..., 2], rig)
    rays = truth[None] - rig.centres()[[0, 2], None, None]
    angle = np.degrees(np.arccos(np.clip(-(rays[0] * rays[1]).sum(-1) / np.linalg.norm(rays, axis=-1).prod(0),
                                         -1, 1)))             # degrees from parallel
    narrow = angle < 19.0
    assert narrow.mean() > 0.3 and (angle > 21.0).any()
    assert np.isnan(points[narrow]).all() and not inliers[:, narrow].any()
    assert np.isfinite(points[angle > 21.0]).all()
    # with no limit on the rays' angle, the same views put those points far off
    loose, _ = triangulate(facing[..., :2], facing[..., 2], rig, min_ray_angle=0.0)
    third = obs.copy()
    third[3, ..., 2] = 0.0                                      # cameras 0, 1 and 2
    points, inliers = triangulate(third[..., :2], third[..., 2], rig)
    assert np.isfinite(points).all() and inliers[:3].all()
    good = np.linalg.norm(points - truth, axis=-1).mean()
    assert good < 0.01
    assert np.linalg.norm(loose[narrow] - truth[narrow], axis=-1).mean() > 3 * good


def test_an_arm_the_second_view_guesses_at_low_visibility_is_triangulated_from_both():
    """MediaPipe marks an arm behind the body at visibility 0.1-0.3 but still places it within a few pixels:
    that guess and the camera that sees the arm give its depth (a view under 0.1 is left out)."""
    rig = look_at_rig(ring(2, 90.0))
    truth = skeleton(np.arange(60) / 30.0, seed=6)
    obs = observe(rig, truth, noise_px=1.0, seed=3)
    arm = [13, 15]                                              # left elbow and wrist
    rng = np.random.default_rng(4)
    obs[1, :, arm, :2] += rng.normal(0.0, 4.0, obs[1, :, arm, :2].shape)   # a guess: a few pixels off
    obs[1, :, arm, 2] = 0.15
    points, inliers = triangulate(obs[..., :2], obs[..., 2], rig)
    assert np.isfinite(points[:, arm]).all() and inliers[:, :, arm].all()
    assert np.linalg.norm(points[:, arm] - truth[:, arm], axis=-1).mean() < 0.03
    obs[1, :, arm, 2] = 0.05
    points, inliers = triangulate(obs[..., :2], obs[..., 2], rig)
    assert np.isnan(points[:, arm]).all() and not inliers[1, :, arm].any()


def _left_arm_behind(frames: int, measured: int):
    """Two cameras 90 degrees apart; the second cannot see the left elbow and wrist (visibility 0.05, under
    MIN_CONFIDENCE), so they are triangulated on the first ``measured`` frames only. (rig, truth, observations,
    triangulated points, confidences)."""
    rig = look_at_rig(ring(2, 90.0))
    truth = skeleton(np.arange(frames) / 30.0, seed=7)
    obs = observe(rig, truth)
    points = truth.copy()
    points[measured:, [13, 15]] = np.nan
    conf = np.ones((2, frames, 33))
    conf[1, :, [13, 15]] = 0.05
    return rig, truth, obs, points, conf


def test_a_limb_one_view_alone_sees_is_put_on_its_ray_a_bone_from_its_parent():
    """The second camera cannot see the left arm behind the body: the elbow and wrist are not triangulated and
    are put on camera 0's rays through them, at the bone lengths the triangulated frames measured, on the side
    camera 0's own 3D bones point to, though those bones are 10 degrees off in direction and 20% short (a
    one-view guess): they land on the truth. A wrist both views see but disagree on stays unset, as does a
    point whose parent is not known."""
    from core.multiview.triangulate import hang_on_parents

    T = 40
    rig, truth, obs, points, conf = _left_arm_behind(T, 20)  # left elbow, wrist: bones measured on 0-19
    points[:, 16] = np.nan              # right wrist: both views, disagreeing
    points[:, [24, 26]] = np.nan        # right hip and knee: the knee has no parent to hang on
    turn = axis_angle_to_matrix(np.array([0.0, 0.0, np.radians(10.0)]))
    own = np.stack([0.8 * truth @ turn.T, truth + np.random.default_rng(0).normal(0.0, 0.1, truth.shape)])
    out, hung = hang_on_parents(points, own, obs[..., :2], conf, rig)
    np.testing.assert_allclose(out[20:, [13, 15]], truth[20:, [13, 15]], atol=1e-6)
    assert hung[20:, [13, 15]].all() and hung.sum() == 2 * (T - 20)
    assert np.isnan(out[:, [16, 24, 26]]).all()
    np.testing.assert_array_equal(out[:, :13], truth[:, :13])


def test_a_limb_the_views_disagree_on_hangs_on_the_far_surer_view():
    """Camera 0 sees the right wrist behind the body (visibility 0.2) and marks it 30 px off; camera 1 sees it
    plainly (0.6) and right. The views disagree, so it is not triangulated; the surer view puts it on its ray a
    measured forearm from the elbow, on the truth (left to the 2D terms, the fit started from camera 0's guess
    and its wrist stayed 18-34 cm off on the rendered take). Views of like confidence (0.4 against 0.6) that
    disagree still leave it to the 2D terms."""
    from core.multiview.triangulate import hang_on_parents

    rig, truth, obs, points, conf = _left_arm_behind(30, 30)   # everything triangulated but the right wrist
    points[10:, 16] = np.nan
    obs[0, 10:, 16, 0] += 30.0
    conf[0, 10:, 16], conf[1, 10:, 16] = 0.2, 0.6
    own = np.stack([truth, truth + np.random.default_rng(1).normal(0.0, 0.02, truth.shape)])
    out, hung = hang_on_parents(points, own, obs[..., :2], conf, rig)
    assert hung[10:, 16].all() and hung.sum() == 20
    np.testing.assert_allclose(out[10:, 16], truth[10:, 16], atol=1e-6)
    conf[0, 10:, 16] = 0.4
    out, hung = hang_on_parents(points, own, obs[..., :2], conf, rig)
    assert not hung.any() and np.isnan(out[10:, 16]).all()


def test_with_too_few_triangulated_frames_the_bone_is_the_views_own_length_on_its_ray():
    """Fewer than MIN_BONE_FRAMES frames measured the bone: the hung point still lies on the view's ray (its
    picture kept), at the view's own bone length from the parent (MediaPipe's, here 20% long), not at a
    length measured from too few frames."""
    from core.multiview.triangulate import MIN_BONE_FRAMES, hang_on_parents

    rig, truth, obs, points, conf = _left_arm_behind(30, MIN_BONE_FRAMES - 1)  # one frame short of measuring
    own = np.stack([1.2 * truth, truth])
    out, hung = hang_on_parents(points, own, obs[..., :2], conf, rig)
    later = slice(MIN_BONE_FRAMES - 1, None)
    assert hung[later, [13, 15]].all()
    bone = {}
    for child, parent in ((13, 11), (15, 13)):
        bone[child] = (np.linalg.norm(out[later, child] - out[later, parent], axis=-1),
                       np.linalg.norm(truth[later, child] - truth[later, parent], axis=-1))
    np.testing.assert_allclose(bone[13][0], 1.2 * bone[13][1], rtol=1e-6)  # the shoulder is triangulated
    # the wrist hangs on a hung elbow its ray may pass further than the bone from: never nearer than the bone
    assert (bone[15][0] >= 1.2 * bone[15][1] - 1e-6).all()
    np.testing.assert_allclose(observe(rig, out)[0, later][:, [13, 15], :2], obs[0, later][:, [13, 15], :2], atol=1e-4)
