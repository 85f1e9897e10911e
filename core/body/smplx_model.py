"""The user's SMPL-X body behind the fitter's ``BodyModel`` interface (torch + smplx).

Loading: the file is read and checked by ``core.body.smplx_file.load_model_arrays``
(never unpickles code). Its numeric arrays are then written to a sanitised
``.npz`` (no object members) in a temporary folder, and the ``smplx`` library
builds its ``SMPLX`` module from that copy (``use_pca=False``: full finger
articulation). smplx's own loader uses ``allow_pickle=True``; it only ever sees
our sanitised copy.

Fitting cost: the fitter never skins the whole mesh per iteration. Joints are
regressed from precomputed per-joint blend shapes (J_regressor @ shapedirs and
J_regressor @ expr_dirs, exact because both are linear), and only the few
vertices behind the landmarks (``core.body.landmark_layout``: nose, eyes, ears, heels,
toes, finger tips, the 51 face landmarks) are skinned, with their pose
correctives. ``full_vertices`` runs the smplx module on the whole mesh, for
checks and previews.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..skeleton import JOINT_INDEX, NUM_JOINTS
from .landmark_layout import TORSO_FRACTION, smplx_points
from .model import BodyModel, sparse_weights
from .smplx_file import ModelFileError, find_model_file, load_model_arrays

NUM_BETAS = 10
NUM_EXPRESSION = 10


def build_smplx_module(path: str | Path, gender: str, *, num_betas: int = NUM_BETAS,
                       num_expression: int = NUM_EXPRESSION):
    """An ``smplx.SMPLX`` module (use_pca=False) built from the validated arrays of ``path``."""
    import smplx

    arrays = load_model_arrays(path)
    with tempfile.TemporaryDirectory(prefix="blender-mocap-smplx-") as tmp:
        clean = Path(tmp) / f"SMPLX_{gender.upper()}.npz"
        np.savez(clean, **{k: v for k, v in arrays.items() if v.dtype != object})
        # smplx prints notices ("only 10 shape coefficients") on stdout, which
        # carries the JSON progress protocol: send them to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            try:
                module = smplx.SMPLX(
                    str(clean), gender=gender, ext="npz", use_pca=False, flat_hand_mean=True,
                    num_betas=num_betas, num_expression_coeffs=num_expression, use_face_contour=False,
                )
            except (KeyError, AttributeError, ValueError, IndexError) as exc:
                raise ModelFileError(f"{Path(path).name} could not be built as an SMPL-X body: {exc}") from exc
    return module, arrays


class SMPLXBody(BodyModel):
    """SMPL-X from the user's model folder (see the module docstring).

    Args:
        folder: the model folder (smplx layout) or the model file itself.
        gender: "neutral", "male" or "female".
    """

    name = "smplx"
    betas_sigma = 1.0

    def __init__(self, folder: str | Path, gender: str = "neutral") -> None:
        super().__init__()
        self.path = find_model_file(folder, gender)
        self.gender = gender
        module, arrays = build_smplx_module(self.path, gender)
        self.smplx = module
        self.num_betas = int(module.shapedirs.shape[-1])
        self.num_expression = int(module.expr_dirs.shape[-1])
        self.faces_np = np.asarray(arrays["f"], np.int32)

        Jreg = module.J_regressor.double()                                   # (55, V)
        self.register_buffer("j_template", (Jreg @ module.v_template.double()).float())
        self.register_buffer("j_shapedirs", torch.einsum("jv,vcb->jcb", Jreg, module.shapedirs.double()).float())
        self.register_buffer("j_exprdirs", torch.einsum("jv,vcb->jcb", Jreg, module.expr_dirs.double()).float())

        has_face = "lmk_faces_idx" in arrays and "lmk_bary_coords" in arrays
        spec = smplx_points(
            np.asarray(arrays["f"], np.int64),
            np.asarray(arrays["lmk_faces_idx"], np.int64) if has_face else None,
            np.asarray(arrays["lmk_bary_coords"], np.float64) if has_face else None,
        )
        verts = spec.vertex_ids                                              # (Sv,)
        self.face_mesh_ids = spec.face_mesh_ids
        self.register_buffer("sel_template", module.v_template[verts].float())
        self.register_buffer("sel_shapedirs", module.shapedirs[verts].float())
        self.register_buffer("sel_exprdirs", module.expr_dirs[verts].float())
        posedirs = module.posedirs.reshape(module.posedirs.shape[0], -1, 3)[:, verts]  # (486, Sv, 3)
        # Rigid points (joint + offset) ride on one joint; vertices carry their own weights.
        w_idx, w_val = sparse_weights(module.lbs_weights.double().numpy()[verts])
        n_rigid = len(spec.rigid_joints)
        joints = np.concatenate([np.pad(spec.rigid_joints[:, None], ((0, 0), (0, 3))), w_idx])
        weights = np.concatenate([np.pad(np.ones((n_rigid, 1), np.float32), ((0, 0), (0, 3))), w_val])
        self.register_buffer("point_joints", torch.as_tensor(joints, dtype=torch.long))
        self.register_buffer("point_weights", torch.as_tensor(weights, dtype=torch.float32))
        pd = torch.cat([torch.zeros(posedirs.shape[0], n_rigid, 3, dtype=posedirs.dtype), posedirs], 1)
        self.register_buffer("point_posedirs", pd.reshape(pd.shape[0], -1).float())
        self.register_buffer("point_matrix", torch.as_tensor(spec.matrix, dtype=torch.float32))
        self.register_buffer("rigid_joint_ids", torch.as_tensor(spec.rigid_joints, dtype=torch.long))
        self.register_buffer("rigid_offsets_h", torch.as_tensor(spec.rigid_offsets_h, dtype=torch.float32))

    def rest_joints_torch(self, betas: Tensor, expression: Tensor | None = None) -> Tensor:
        """(M, 55, 3) rest joints (M = N with a per-frame expression, else 1)."""
        J = self.j_template + torch.einsum("jcb,b->jc", self.j_shapedirs, betas)
        J = J[None]
        if expression is not None and self.num_expression:
            J = J + torch.einsum("jce,ne->njc", self.j_exprdirs, expression)
        return J

    def rest(self, betas: Tensor, expression: Tensor | None = None) -> tuple[Tensor, Tensor]:
        J = self.rest_joints_torch(betas, expression)
        V = self.sel_template + torch.einsum("vcb,b->vc", self.sel_shapedirs, betas)
        V = V[None]
        if expression is not None and self.num_expression:
            V = V + torch.einsum("vce,ne->nvc", self.sel_exprdirs, expression)
        # Rigid points: offsets in units of stature, scaled by this body's torso.
        scale = (J[:1, JOINT_INDEX["neck"]] - J[:1, 0]).norm(dim=-1, keepdim=True) / TORSO_FRACTION  # (1, 1)
        rigid = J[:, self.rigid_joint_ids] + self.rigid_offsets_h[None] * scale[:, None]
        M = max(J.shape[0], V.shape[0])
        return J, torch.cat([rigid.expand(M, -1, -1), V.expand(M, -1, -1)], 1)

    def rest_data(self, betas: np.ndarray) -> dict[str, np.ndarray]:
        m = self.smplx
        b = torch.as_tensor(np.asarray(betas, np.float32), device=m.v_template.device)
        with torch.no_grad():
            v = m.v_template + torch.einsum("vcb,b->vc", m.shapedirs, b)
            J = m.J_regressor @ v

        def arr(t: Tensor) -> np.ndarray:
            return t.detach().float().cpu().numpy()

        return {
            "rest_joints": arr(J),
            "v_template": arr(v),
            "faces": self.faces_np,
            "skin_weights": arr(m.lbs_weights),
            "shape_dirs": arr(m.shapedirs),
            "expression_dirs": arr(m.expr_dirs),
        }

    def full_vertices(self, betas: np.ndarray, poses: np.ndarray, trans: np.ndarray,
                      expression: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The smplx module's own forward on the whole mesh: (vertices (N, V, 3), joints (N, 55, 3)).

        poses (N, 165) axis-angle; for checks and previews, not for fitting.
        """
        dev = self.smplx.v_template.device
        P = torch.as_tensor(np.asarray(poses, np.float32), device=dev).reshape(-1, NUM_JOINTS, 3)
        N = P.shape[0]
        expr = torch.zeros(N, self.num_expression, device=dev) if expression is None else torch.as_tensor(
            np.asarray(expression, np.float32), device=dev)
        with torch.no_grad():
            out = self.smplx(
                betas=torch.as_tensor(np.asarray(betas, np.float32), device=dev)[None].expand(N, -1),
                global_orient=P[:, 0], body_pose=P[:, 1:22].reshape(N, -1), jaw_pose=P[:, 22],
                leye_pose=P[:, 23], reye_pose=P[:, 24],
                left_hand_pose=P[:, 25:40].reshape(N, -1), right_hand_pose=P[:, 40:55].reshape(N, -1),
                expression=expr, transl=torch.as_tensor(np.asarray(trans, np.float32), device=dev),
                return_full_pose=True,
            )
        return out.vertices.cpu().numpy(), out.joints[:, :NUM_JOINTS].cpu().numpy()
