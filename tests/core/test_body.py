"""The built-in mannequin: rest skeleton, mesh, forward kinematics and skinning."""

from __future__ import annotations

import numpy as np
import pytest

from core.body.mannequin import (
    NUM_BETAS,
    STATURE,
    Mannequin,
    forward_kinematics,
    mesh,
    pelvis_height,
    rest_joints,
    skin,
)
from core.rotations import axis_angle_to_matrix
from core.skeleton import JOINT_INDEX as J
from core.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS


def naive_fk(poses: np.ndarray, rest: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference: 4x4 homogeneous transforms, one frame and one joint at a time."""
    T = poses.shape[0]
    aa = poses.reshape(T, NUM_JOINTS, 3).astype(np.float64)
    rest = rest.astype(np.float64)
    pos = np.zeros((T, NUM_JOINTS, 3))
    rot = np.zeros((T, NUM_JOINTS, 3, 3))
    for t in range(T):
        G = []
        for j in range(NUM_JOINTS):
            local = np.eye(4)
            local[:3, :3] = axis_angle_to_matrix(aa[t, j])
            p = PARENTS[j]
            local[:3, 3] = rest[j] + trans[t] if p < 0 else rest[j] - rest[p]
            G.append(local if p < 0 else G[p] @ local)
            pos[t, j] = G[j][:3, 3]
            rot[t, j] = G[j][:3, :3]
    return pos, rot


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("flat", [True, False])
def test_forward_kinematics_matches_naive_reference(dtype, flat) -> None:
    rng = np.random.default_rng(1)
    rest = rest_joints(rng.normal(0, 0.05, NUM_BETAS))
    poses = rng.normal(0, 0.6, (4, NUM_JOINTS, 3))
    trans = rng.normal(0, 1.0, (4, 3))
    arg = poses.reshape(4, -1) if flat else poses
    pos, rot = forward_kinematics(arg.astype(dtype), rest, trans)
    ref_pos, ref_rot = naive_fk(poses.astype(dtype), rest, trans)
    assert pos.shape == (4, NUM_JOINTS, 3) and rot.shape == (4, NUM_JOINTS, 3, 3)
    assert pos.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(pos, ref_pos, atol=tol)
    np.testing.assert_allclose(rot, ref_rot, atol=tol)


def test_forward_kinematics_of_the_first_joints_only() -> None:
    """The legs alone (12 joints reach the feet), as finding the ground on a long take poses them."""
    rng = np.random.default_rng(2)
    rest = rest_joints()
    poses = rng.normal(0, 0.6, (3, 165))
    trans = rng.normal(0, 1.0, (3, 3))
    pos, rot = forward_kinematics(poses, rest, trans, joints=12)
    ref_pos, ref_rot = naive_fk(poses, rest, trans)
    assert pos.shape == (3, 12, 3) and rot.shape == (3, 12, 3, 3)
    np.testing.assert_allclose(pos, ref_pos[:, :12], atol=1e-10)
    np.testing.assert_allclose(rot, ref_rot[:, :12], atol=1e-10)


def test_zero_pose_is_the_rest_pose_moved_by_trans() -> None:
    rest = rest_joints()
    pos, rot = forward_kinematics(np.zeros((1, 165)), rest, np.array([[1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(pos[0], rest + [1.0, 2.0, 3.0], atol=1e-6)
    np.testing.assert_allclose(rot[0], np.broadcast_to(np.eye(3), (NUM_JOINTS, 3, 3)), atol=1e-12)


def test_rest_pose_is_a_t_pose_in_the_smplx_frame() -> None:
    rest = rest_joints()
    assert rest.shape == (NUM_JOINTS, 3) and rest.dtype == np.float32
    np.testing.assert_allclose(rest[0], 0.0)
    # Left is +X, mirrored on the right; arms horizontal, legs vertical.
    for name in JOINT_NAMES:
        if name.startswith("left_"):
            left, right = rest[J[name]], rest[J["right_" + name[5:]]]
            assert left[0] > 0, name
            np.testing.assert_allclose(right, left * [-1, 1, 1], atol=1e-6)
    arm = rest[J["left_wrist"]] - rest[J["left_shoulder"]]
    assert arm[0] > 0.5 and abs(arm[1]) < 1e-6 and abs(arm[2]) < 1e-6
    leg = rest[J["left_ankle"]] - rest[J["left_hip"]]
    assert leg[1] < -0.7 and abs(leg[0]) < 1e-6
    # Head above neck above chest; feet forward of the ankles; thumbs point forward.
    assert rest[J["head"], 1] > rest[J["neck"], 1] > rest[J["spine3"], 1] > 0
    assert rest[J["left_foot"], 2] > rest[J["left_ankle"], 2]
    thumb = rest[J["left_thumb3"]] - rest[J["left_thumb1"]]
    assert thumb[2] > 0.5 * np.linalg.norm(thumb) and thumb[0] > 0
    # Eyes in front of the head joint, above it.
    assert rest[J["left_eye_smplhf"], 2] > 0 and rest[J["left_eye_smplhf"], 1] > rest[J["head"], 1]


def test_betas_change_what_they_document() -> None:
    base = rest_joints()
    taller = rest_joints([np.log(1.1)])
    np.testing.assert_allclose(taller, base * 1.1, rtol=1e-5, atol=1e-6)

    def arm_length(r):
        return np.linalg.norm(r[J["left_wrist"]] - r[J["left_shoulder"]])

    def leg_length(r):
        return np.linalg.norm(r[J["left_ankle"]] - r[J["left_hip"]])

    long_arms = rest_joints([0, np.log(1.2)])
    assert arm_length(long_arms) == pytest.approx(1.2 * arm_length(base), rel=1e-5)
    assert leg_length(long_arms) == pytest.approx(leg_length(base), rel=1e-6)
    long_legs = rest_joints([0, 0, np.log(1.2)])
    assert leg_length(long_legs) == pytest.approx(1.2 * leg_length(base), rel=1e-5)
    assert pelvis_height([0, 0, np.log(1.2)]) > pelvis_height()
    wide = rest_joints([0, 0, 0, np.log(1.2)])
    assert wide[J["left_shoulder"], 0] == pytest.approx(1.2 * base[J["left_shoulder"], 0], rel=1e-5)
    hips = rest_joints([0, 0, 0, 0, np.log(1.2)])
    assert hips[J["left_hip"], 0] == pytest.approx(1.2 * base[J["left_hip"], 0], rel=1e-5)


def test_mesh_is_a_valid_skinned_body_of_the_right_height() -> None:
    v, f, w = mesh()
    assert v.dtype == np.float32 and f.dtype == np.int32 and w.dtype == np.float32
    assert 2000 < v.shape[0] < 15000
    assert w.shape == (v.shape[0], NUM_JOINTS)
    np.testing.assert_allclose(w.sum(1), 1.0, atol=1e-5)
    assert w.min() >= 0
    assert f.min() >= 0 and f.max() < v.shape[0]
    assert np.all((f[:, 0] != f[:, 1]) & (f[:, 1] != f[:, 2]) & (f[:, 0] != f[:, 2]))
    # Soles at -pelvis_height, top of the head at stature above them.
    assert v[:, 1].min() == pytest.approx(-pelvis_height(), abs=0.01)
    assert v[:, 1].max() - v[:, 1].min() == pytest.approx(STATURE, abs=0.02)
    # Faces point outwards: the signed volume is positive and human-sized (~0.07 m^3).
    a, b, c = (v[f[:, k]].astype(np.float64) for k in range(3))
    volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0
    assert 0.04 < volume < 0.12
    # Every joint that moves something has vertices (fingers included).
    skinned = w.max(0) > 0.5
    for name in ("left_index3", "right_pinky3", "left_thumb3", "head", "jaw", "left_foot", "right_elbow"):
        assert skinned[J[name]], name


def test_mesh_scales_with_stature() -> None:
    v0, _, _ = mesh()
    v1, _, _ = mesh([np.log(1.8 / STATURE)])
    assert v1[:, 1].max() - v1[:, 1].min() == pytest.approx(1.8, abs=0.02)
    assert v1.shape == v0.shape


def test_skinning_rest_pose_is_identity_and_bends_only_the_forearm() -> None:
    body = Mannequin()
    v, f, w = body.mesh()
    rest = body.rest_joints
    poses = np.zeros((2, NUM_JOINTS, 3), np.float32)
    poses[1, J["left_elbow"]] = (0.0, -np.pi / 2, 0.0)  # flex: the forearm turns to +Z (forward)
    pos, rot = body.forward_kinematics(poses)
    out = skin(v, w, rest, rot, pos)
    assert out.shape == (2, v.shape[0], 3)
    np.testing.assert_allclose(out[0], v, atol=1e-5)
    hand = w[:, J["left_wrist"]] > 0.9
    moved = np.linalg.norm(out[1] - v, axis=1)
    assert out[1][hand, 2].min() > 0.1  # the left hand came forward
    right_side = v[:, 0] < -0.05
    assert moved[right_side].max() < 1e-5  # nothing on the right moved
    # Near the elbow the skin moves part-way: blended weights, no tearing.
    elbow = rest[J["left_elbow"]]
    near_elbow = (np.abs(v[:, 0] - elbow[0]) < 0.01) & (np.linalg.norm(v[:, 1:] - elbow[1:], axis=1) < 0.06)
    assert near_elbow.sum() > 10
    assert 0.005 < np.median(moved[near_elbow]) < 0.05


def test_skin_matches_per_vertex_reference() -> None:
    rng = np.random.default_rng(3)
    v, _, w = mesh()
    rest = rest_joints()
    pos, rot = forward_kinematics(rng.normal(0, 0.4, (2, 165)), rest, rng.normal(0, 1, (2, 3)))
    out = skin(v, w, rest, rot, pos)
    for k in rng.choice(v.shape[0], 20, replace=False):
        for t in range(2):
            ref = sum(w[k, j] * (rot[t, j] @ (v[k] - rest[j]) + pos[t, j]) for j in range(NUM_JOINTS))
            np.testing.assert_allclose(out[t, k], ref, atol=1e-9)
