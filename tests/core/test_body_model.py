"""The fitter's body models in torch: both match their references, and core.body stays torch-free."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.body.mannequin import NUM_BETAS, forward_kinematics, rest_joints
from core.body.model import (
    LEVEL_ORDER,
    MannequinBody,
    axis_angle_to_matrix_torch,
    forward_kinematics_torch,
    matrix_to_rot6d,
    rot6d_to_matrix,
)
from core.body.landmark_layout import landmarks_from_fk
from core.rotations import axis_angle_to_matrix
from core.skeleton import NUM_JOINTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smplx_body(tmp_path_factory: pytest.TempPathFactory):
    from tests.testdata.smplx_model import write_synthetic_model
    from core.body.smplx_model import SMPLXBody

    folder = tmp_path_factory.mktemp("smplx")
    write_synthetic_model(folder / "smplx" / "SMPLX_NEUTRAL.npz")
    return SMPLXBody(folder)


def random_motion(frames: int, seed: int):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.5, (frames, NUM_JOINTS, 3)), rng.normal(0, 1.0, (frames, 3)), rng


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mannequin_in_torch_matches_the_numpy_mannequin(dtype) -> None:
    poses, trans, rng = random_motion(5, 1)
    betas = rng.normal(0, 0.08, NUM_BETAS)
    body = MannequinBody().to(dtype)
    out = body(torch.as_tensor(betas, dtype=dtype), axis_angle_to_matrix_torch(torch.as_tensor(poses, dtype=dtype)),
               torch.as_tensor(trans, dtype=dtype))
    rest = rest_joints(betas).astype(np.float64)
    pos, rot = forward_kinematics(poses, rest, trans)
    lm_body, lm_hands = landmarks_from_fk(pos, rot, rest)
    tol = 1e-5 if dtype == torch.float32 else 1e-6  # rest data is stored in float32
    np.testing.assert_allclose(out.joints.numpy(), pos, atol=tol)
    np.testing.assert_allclose(out.rotations.numpy(), rot, atol=tol)
    np.testing.assert_allclose(out.points.numpy()[:, :33], lm_body, atol=tol)
    np.testing.assert_allclose(out.points.numpy()[:, 33:75].reshape(5, 2, 21, 3), lm_hands, atol=tol)


def test_level_ordered_input_gives_the_same_pose() -> None:
    poses, trans, _ = random_motion(3, 2)
    local = axis_angle_to_matrix_torch(torch.as_tensor(poses))
    J = torch.as_tensor(rest_joints(), dtype=torch.float64)[None]
    a = forward_kinematics_torch(local, J, torch.as_tensor(trans))
    b = forward_kinematics_torch(local[:, LEVEL_ORDER], J, torch.as_tensor(trans), level_order=True)
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y)


def test_rotation_conversions_round_trip() -> None:
    poses, _, _ = random_motion(4, 3)
    R = axis_angle_to_matrix_torch(torch.as_tensor(poses))
    np.testing.assert_allclose(R.numpy(), axis_angle_to_matrix(poses), atol=1e-12)
    torch.testing.assert_close(rot6d_to_matrix(matrix_to_rot6d(R)), R)
    # Any 6 numbers give a rotation: the optimiser may step anywhere.
    M = rot6d_to_matrix(torch.randn(10, 6, dtype=torch.float64))
    torch.testing.assert_close(M @ M.transpose(-1, -2), torch.eye(3, dtype=torch.float64).expand(10, 3, 3))
    assert torch.allclose(torch.linalg.det(M), torch.ones(10, dtype=torch.float64))


def test_smplx_body_matches_the_smplx_library_on_joints_and_landmark_vertices(smplx_body) -> None:
    from core.body.landmark_layout import SMPLX_BODY_VERTICES, SMPLX_FINGERTIP_VERTICES

    body = smplx_body
    assert body.name == "smplx" and body.num_betas == 10 and body.num_expression == 10 and body.num_face == 51
    poses, trans, rng = random_motion(3, 4)
    betas = rng.normal(0, 1, 10).astype(np.float32)
    expression = rng.normal(0, 1, (3, 10)).astype(np.float32)
    out = body(torch.as_tensor(betas), axis_angle_to_matrix_torch(torch.as_tensor(poses, dtype=torch.float32)),
               torch.as_tensor(trans, dtype=torch.float32), torch.as_tensor(expression))
    verts, joints = body.full_vertices(betas, poses.reshape(3, -1), trans, expression)
    np.testing.assert_allclose(out.joints.numpy(), joints, atol=1e-4)
    pts = out.points.numpy()
    np.testing.assert_allclose(pts[:, 0], verts[:, SMPLX_BODY_VERTICES["nose"]], atol=1e-4)
    np.testing.assert_allclose(pts[:, 29], verts[:, SMPLX_BODY_VERTICES["left_heel"]], atol=1e-4)
    np.testing.assert_allclose(pts[:, 33 + 8], verts[:, SMPLX_FINGERTIP_VERTICES["left"][1]], atol=1e-4)
    faces, bary = body.smplx.faces_tensor.numpy(), body.smplx.lmk_bary_coords.numpy()
    face_pts = np.einsum("lk,nlkc->nlc", bary, verts[:, faces[body.smplx.lmk_faces_idx.numpy()]])
    np.testing.assert_allclose(pts[:, 75:], face_pts, atol=1e-4)


def test_smplx_rest_data_holds_the_fitted_shape(smplx_body) -> None:
    betas = np.linspace(-1, 1, 10).astype(np.float32)
    data = smplx_body.rest_data(betas)
    assert data["v_template"].shape == (10475, 3) and data["faces"].shape == (20908, 3)
    assert data["shape_dirs"].shape == (10475, 3, 10) and data["expression_dirs"].shape == (10475, 3, 10)
    neutral = data["v_template"] - data["shape_dirs"] @ betas
    np.testing.assert_allclose(neutral, smplx_body.smplx.v_template.numpy(), atol=1e-5)


def test_smplx_loading_never_hands_smplx_an_unvalidated_file(tmp_path: Path) -> None:
    from core.body.smplx_file import ModelFileError
    from core.body.smplx_model import SMPLXBody

    bad = tmp_path / "SMPLX_NEUTRAL.npz"
    np.savez(bad, v_template=np.zeros((5, 3)))  # not an SMPL-X file
    with pytest.raises(ModelFileError, match="not an SMPL-X model file"):
        SMPLXBody(tmp_path)
    with pytest.raises(ModelFileError, match="no SMPL-X model file for gender 'male'"):
        SMPLXBody(tmp_path, "male")


def test_core_body_package_stays_free_of_torch() -> None:
    code = ("import sys; import core.body, core.body.mannequin, core.body.smplx_file, core.fit; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
