"""Limb landmarks flipped away and back on a lying body are bridged before the fit; upright bodies are left alone."""

from __future__ import annotations

import dataclasses

import numpy as np

from core.body.mannequin import forward_kinematics, rest_joints
from core.fit.optimize import OptimizeSettings, fit_clip
from core.fit.optimize.excursions import ExcursionSettings, bridge_excursions, find_excursions
from core.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from core.skeleton import JOINT_INDEX as J
from tests.testdata.clips import CAMERA_K as K
from tests.testdata.clips import CLIP_BETAS, IMAGE_SIZE, landmarks_from_motion, smooth_motion

FLIP = np.arange(20, 27)                     # frames on which the left leg is read on the wrong side of the hip
LEFT_LEG = [25, 27, 29, 31]                  # knee, ankle, heel, toe


def clip(lying: bool):
    """A 45-frame mannequin clip, turned 90 degrees in the image (lying on its side) when ``lying``, whose left
    leg landmarks (image and world) are mirrored through the left hip on ``FLIP``: the misreading MediaPipe
    makes of a lying body's hidden leg."""
    poses, trans = smooth_motion(45, np.random.default_rng(2))
    if lying:
        roll = axis_angle_to_matrix(np.array([0.0, 0.0, np.pi / 2]))
        poses = poses.copy()
        poses[:, 0] = matrix_to_axis_angle(roll @ axis_angle_to_matrix(poses[:, 0]))
    rest = rest_joints(CLIP_BETAS)
    truth = landmarks_from_motion(poses, trans, rest, K, IMAGE_SIZE, world_axes="view")
    seen = dataclasses.replace(truth, body_2d=truth.body_2d.copy(), body_world=truth.body_world.copy())
    for arr, dims in ((seen.body_2d, 2), (seen.body_world, 3)):
        hip = arr[FLIP, 23:24, :dims]
        arr[FLIP[:, None], LEFT_LEG, :dims] = 2 * hip - arr[FLIP[:, None], LEFT_LEG, :dims]
    return poses, trans, rest, truth, seen


def left_leg_error_mm(fit, poses, rest, trans) -> np.ndarray:
    """(T,) mean distance of the fitted left knee and ankle from the truth, mm."""
    legs = [J["left_knee"], J["left_ankle"]]
    ours, _ = forward_kinematics(fit.poses.astype(np.float64), fit.rest_joints, fit.trans)
    true, _ = forward_kinematics(poses.reshape(len(poses), -1), rest, trans)
    return 1000 * np.linalg.norm(ours[:, legs] - true[:, legs], axis=-1).mean(-1)


def test_a_flipped_leg_of_a_lying_body_is_found_on_its_frames_only() -> None:
    *_, seen = clip(lying=True)
    mask = find_excursions(seen.body_2d, seen.body_world, np.array([0.0, -1.0, 0.0]))
    assert set(np.flatnonzero(mask.any(1))) == set(FLIP)
    assert set(np.flatnonzero(mask.any(0))) == set(LEFT_LEG)


def test_the_same_flip_on_an_upright_body_is_left_to_the_fit() -> None:
    # Upright, a limb that leaves and comes back within a few frames may be a real kick or punch.
    *_, seen = clip(lying=False)
    bridged, mask = bridge_excursions(seen, None)
    assert not mask.any() and bridged is seen


def test_the_fit_of_a_lying_body_keeps_its_leg_through_the_flip() -> None:
    poses, trans, rest, _, seen = clip(lying=True)
    fit = fit_clip(seen, K)
    off = fit_clip(seen, K, settings=OptimizeSettings(excursions=ExcursionSettings(enabled=False)))
    err, err_off = left_leg_error_mm(fit, poses, rest, trans), left_leg_error_mm(off, poses, rest, trans)
    print(f"left knee + ankle on the flipped frames: {err[FLIP].mean():.0f} mm bridged, {err_off[FLIP].mean():.0f} mm not")
    assert err[FLIP].max() < 60.0 and err_off[FLIP].mean() > 3 * err[FLIP].mean()


def test_a_clip_fitted_in_windows_keeps_the_leg_too() -> None:
    # The flip is looked for on the whole clip once, not on the shape fit's spread frames (not consecutive).
    poses, trans, rest, _, seen = clip(lying=True)
    fit = fit_clip(seen, K, settings=OptimizeSettings(window_frames=24, window_overlap=6))
    assert left_leg_error_mm(fit, poses, rest, trans)[FLIP].max() < 60.0
