"""The per-frame fit: known motions come back from their landmarks, left stays left, gaps are bridged."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from core.body.mannequin import forward_kinematics, rest_joints
from core.errors import CancelledError, MocapError
from core.fit import FitSettings, fit_sequence
from tests.testdata.clips import CAMERA_K as K
from tests.testdata.clips import CLIP_BETAS as BETAS
from tests.testdata.clips import IMAGE_SIZE as SIZE
from tests.testdata.clips import landmarks_from_motion, mannequin_clip
from core.landmarks import BODY
from core.motion import Motion, validate_motion
from core.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from core.skeleton import JOINT_INDEX as J
from core.skeleton import NUM_JOINTS

SEGMENTS = [(J[f"{s}_{a}"], J[f"{s}_{b}"]) for s in ("left", "right")
            for a, b in (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle"))]


def make_clip(frames: int, seed: int = 0, hands: bool = True):
    return mannequin_clip(frames, np.random.default_rng(seed), smooth=False, hands=hands)


def angle_deg(Ra: np.ndarray, Rb: np.ndarray) -> np.ndarray:
    return np.degrees(np.linalg.norm(matrix_to_axis_angle(np.swapaxes(Ra, -1, -2) @ Rb), axis=-1))


def segment_directions(poses, trans, rest) -> np.ndarray:
    pos, _ = forward_kinematics(np.asarray(poses, np.float64).reshape(len(poses), -1), rest, trans)
    d = np.stack([pos[:, b] - pos[:, a] for a, b in SEGMENTS], 1)
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def test_recovers_known_poses_translation_and_shape() -> None:
    poses, trans, rest, seq = make_clip(120)
    fit = fit_sequence(seq, K)
    T = poses.shape[0]
    assert fit.poses.shape == (T, 165) and fit.poses.dtype == np.float32
    assert fit.trans.shape == (T, 3) and fit.rest_joints.shape == (NUM_JOINTS, 3)
    np.testing.assert_allclose(fit.betas, BETAS, atol=1e-3)
    got = fit.poses.reshape(T, NUM_JOINTS, 3)
    assert angle_deg(axis_angle_to_matrix(got[:, 0]), axis_angle_to_matrix(poses[:, 0])).max() < 1.0
    cos = np.sum(segment_directions(got, fit.trans, fit.rest_joints) * segment_directions(poses, trans, rest), -1)
    assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 2.0
    np.testing.assert_allclose(fit.trans, trans, atol=0.01)
    # Joint by joint, bent limbs, hands and head included, the rotations come back.
    err = angle_deg(axis_angle_to_matrix(got), axis_angle_to_matrix(poses))
    assert err.max() < 2.0
    assert np.nanmax(fit.reprojection_error) < 0.5
    assert not fit.bridged.any() and fit.warnings == []
    np.testing.assert_allclose(fit.confidence, 1.0)


def test_noisy_landmarks_still_give_the_right_limbs() -> None:
    poses, trans, rest, seq = make_clip(200, seed=4)
    rng = np.random.default_rng(5)
    seq.body_world[..., :3] += rng.normal(0, 0.01, seq.body_world[..., :3].shape).astype(np.float32)
    seq.body_2d[..., :2] += rng.normal(0, 2.0, seq.body_2d[..., :2].shape).astype(np.float32)
    fit = fit_sequence(seq, K)
    got = fit.poses.reshape(-1, NUM_JOINTS, 3)
    cos = np.sum(segment_directions(got, fit.trans, fit.rest_joints) * segment_directions(poses, trans, rest), -1)
    err = np.degrees(np.arccos(np.clip(cos, -1, 1)))
    assert np.median(err) < 3.0 and np.percentile(err, 95) < 8.0
    orient = angle_deg(axis_angle_to_matrix(got[:, 0]), axis_angle_to_matrix(poses[:, 0]))
    # 1 cm of noise on hips 15 cm apart tilts the pelvis by several degrees: per-frame, no smoothing yet.
    assert np.median(orient) < 6.0
    assert np.abs(fit.trans - trans).max() < 0.08
    assert np.nanmedian(fit.reprojection_error) < 10.0


def test_person_facing_the_camera_gets_180_degrees_about_x() -> None:
    poses = np.zeros((1, NUM_JOINTS, 3))
    poses[0, 0] = (np.pi, 0.0, 0.0)
    seq = landmarks_from_motion(poses, np.array([[0.0, 0.0, 4.0]]), rest_joints(), K, SIZE)
    # Facing the camera, the subject's left shoulder is on the image's right.
    assert seq.body_2d[0, BODY["left_shoulder"], 0] > seq.body_2d[0, BODY["right_shoulder"], 0]
    fit = fit_sequence(seq, K)
    R = axis_angle_to_matrix(fit.poses[0, :3].astype(np.float64))
    np.testing.assert_allclose(R, np.diag([1.0, -1.0, -1.0]), atol=1e-3)
    np.testing.assert_allclose(fit.poses[0, 3:], 0.0, atol=1e-3)


def test_raising_the_left_arm_in_the_landmarks_raises_the_bodys_left_arm() -> None:
    """Landmarks edited by hand (not from a pose): the arm on the image's right goes up."""
    poses = np.zeros((1, NUM_JOINTS, 3))
    poses[0, 0] = (np.pi, 0.0, 0.0)
    trans = np.array([[0.0, 0.0, 4.0]])
    seq = landmarks_from_motion(poses, trans, rest_joints(), K, SIZE)
    world = seq.body_world[0, :, :3].astype(np.float64)
    shoulder = world[BODY["left_shoulder"]]
    up = np.array([0.0, -1.0, 0.0])  # camera y points down
    raised = {"left_elbow": 0.30, "left_wrist": 0.55, "left_pinky": 0.63, "left_index": 0.64, "left_thumb": 0.60}
    for name, dist in raised.items():
        world[BODY[name]] = shoulder + dist * up + (0.0, 0.0, 0.01 if name == "left_index" else 0.0)
    world[BODY["left_index"]] += (0.02, 0.0, 0.0)
    world[BODY["left_pinky"]] -= (0.02, 0.0, 0.0)
    seq.body_world[0, :, :3] = world
    pos, _ = forward_kinematics(poses, rest_joints(), trans)
    mid_hip = 0.5 * (pos[0, J["left_hip"]] + pos[0, J["right_hip"]])  # body_world's origin, camera frame
    pts = world + mid_hip
    seq.body_2d[0, :, :2] = (pts[:, :2] / pts[:, 2:]) * 1000.0 + (640.0, 360.0)
    assert seq.body_2d[0, BODY["left_wrist"], 1] < seq.body_2d[0, BODY["left_shoulder"], 1] - 50  # up in the image
    seq.left_hand[:] = np.nan
    seq.right_hand[:] = np.nan

    fit = fit_sequence(seq, K)
    model = fit.poses.reshape(1, NUM_JOINTS, 3).copy()
    model[:, 0] = 0.0  # look at the body in its own frame: Y up, left = +X
    pos, _ = forward_kinematics(model, fit.rest_joints)
    left_wrist, right_wrist = pos[0, J["left_wrist"]], pos[0, J["right_wrist"]]
    assert left_wrist[1] > pos[0, J["head"], 1]            # the left hand is up, above the head
    assert left_wrist[0] > 0                                # on the body's left (+X) side
    assert abs(right_wrist[1] - pos[0, J["right_shoulder"], 1]) < 0.05  # the right arm stays level
    # And in the camera: the fitted left wrist projects onto the raised landmark.
    cam, _ = forward_kinematics(fit.poses.astype(np.float64), fit.rest_joints, fit.trans)
    px = cam[0, J["left_wrist"], :2] / cam[0, J["left_wrist"], 2] * 1000.0 + (640.0, 360.0)
    np.testing.assert_allclose(px, seq.body_2d[0, BODY["left_wrist"], :2], atol=3.0)


def test_missing_frames_are_bridged_and_flagged() -> None:
    poses, trans, rest, seq = make_clip(30, seed=2)
    gap = np.arange(10, 15)
    for name in ("body_2d", "body_world", "left_hand", "right_hand"):
        getattr(seq, name)[gap] = np.nan
    seq.present[gap] = False
    seq.present[:2] = False
    seq.body_world[:2] = np.nan
    fit = fit_sequence(seq, K)
    bridged = np.zeros(30, bool)
    bridged[gap] = True
    bridged[:2] = True
    np.testing.assert_array_equal(fit.bridged, bridged)
    assert np.isfinite(fit.poses).all() and np.isfinite(fit.trans).all()
    assert np.isnan(fit.reprojection_error[bridged]).all() and np.isfinite(fit.reprojection_error[~bridged]).all()
    np.testing.assert_array_equal(fit.confidence[bridged], 0.0)
    assert len(fit.warnings) == 1 and "7 frames" in fit.warnings[0] and "0-1, 10-14" in fit.warnings[0]
    # The start is held at the first good frame; the gap moves between its neighbours.
    np.testing.assert_allclose(fit.poses[0], fit.poses[2], atol=1e-6)
    np.testing.assert_allclose(fit.trans[12], 0.5 * (fit.trans[9] + fit.trans[15]), atol=1e-5)
    R = axis_angle_to_matrix(fit.poses.reshape(30, NUM_JOINTS, 3).astype(np.float64))
    half = angle_deg(R[9], R[15]) / 2.0
    np.testing.assert_allclose(angle_deg(R[9], R[12]), half, atol=0.5)
    np.testing.assert_allclose(angle_deg(R[12], R[15]), half, atol=0.5)
    # The result is a valid motion.
    validate_motion(Motion(
        poses=fit.poses, trans=fit.trans, betas=fit.betas, fps=30.0, frame_indices=seq.frame_indices,
        confidence=fit.confidence, bridged=fit.bridged, reprojection_error=fit.reprojection_error,
        expression=np.zeros((30, 0), np.float32), body_model="mannequin", rest_joints=fit.rest_joints))


def test_no_person_anywhere_is_a_user_error() -> None:
    seq = dataclasses.replace(make_clip(5)[3])
    seq.present[:] = False
    seq.body_world[:] = np.nan
    seq.body_2d[:] = np.nan
    with pytest.raises(MocapError, match="no person"):
        fit_sequence(seq, K)


def test_cancel_stops_the_fit_and_progress_counts_up() -> None:
    seq = make_clip(100)[3]
    calls: list[tuple[int, int]] = []
    with pytest.raises(CancelledError):
        fit_sequence(seq, K, settings=FitSettings(chunk_frames=30),
                     progress=lambda d, t: calls.append((d, t)), should_cancel=lambda: len(calls) >= 2)
    assert calls == [(30, 100), (60, 100)]
    calls.clear()
    fit_sequence(seq, K, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (100, 100) and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_float64_input_gives_the_same_result_as_float32() -> None:
    seq = make_clip(20, seed=7)[3]
    fit32 = fit_sequence(seq, K)
    seq64 = dataclasses.replace(seq, **{n: getattr(seq, n).astype(np.float64) for n in
                                        ("body_2d", "body_world", "left_hand", "right_hand", "face")})
    fit64 = fit_sequence(seq64, K.astype(np.float32))
    assert fit64.poses.dtype == np.float32
    np.testing.assert_allclose(fit64.poses, fit32.poses, atol=1e-4)
    np.testing.assert_allclose(fit64.trans, fit32.trans, atol=1e-5)


def test_swapped_handedness_is_undone_and_missing_hands_stay_flat() -> None:
    poses, trans, rest, seq = make_clip(20, seed=9)
    fit = fit_sequence(seq, K)
    swapped = dataclasses.replace(seq, left_hand=seq.right_hand.copy(), right_hand=seq.left_hand.copy())
    np.testing.assert_allclose(fit_sequence(swapped, K).poses, fit.poses, atol=1e-5)

    no_hands = dataclasses.replace(seq, left_hand=np.full_like(seq.left_hand, np.nan),
                                   right_hand=np.full_like(seq.right_hand, np.nan))
    flat = fit_sequence(no_hands, K).poses
    np.testing.assert_array_equal(flat[:, 75:], 0.0)
    # The wrists still turn, from the pose landmarks (index and pinky knuckles).
    got = axis_angle_to_matrix(flat.reshape(-1, NUM_JOINTS, 3)[:, J["left_wrist"]].astype(np.float64))
    assert angle_deg(got, axis_angle_to_matrix(poses[:, J["left_wrist"]])).max() < 1.0
    # With hands, curled fingers come back curled.
    curl = angle_deg(np.eye(3), axis_angle_to_matrix(fit.poses.reshape(-1, NUM_JOINTS, 3)[:, J["left_index2"]]
                                                     .astype(np.float64)))
    truth = np.degrees(np.linalg.norm(poses[:, J["left_index2"]], axis=-1))
    np.testing.assert_allclose(curl, truth, atol=1.0)
