"""Body models for the fitter, in torch: one interface, two bodies (mannequin, SMPL-X).

Engine side only (imports torch); ``core.body`` itself stays numpy-only for the
Blender side, so import this module directly: ``from core.body.model import ...``.

Every body is posed the same way, smplx ``batch_rigid_transform`` semantics
(see ``core.skeleton``): G_0 = [R_0 | J_0 + trans], G_j = G_parent @ [R_j | J_j - J_parent].
What differs is where the rest joints and the *landmark points* come from:

- the rest joints, as a function of the shape ``betas`` (and, for SMPL-X, of the
  per-frame ``expression``);
- a small set of rest *skinning points* S (never the whole mesh): joints with
  an offset for the mannequin, selected vertices for SMPL-X (heels, toes,
  finger tips, face points), each skinned with its own few joint weights;
- a (P, S) matrix that combines skinning points into the P landmark points
  the fitter compares with MediaPipe (identity, or barycentric face points).

The P landmark points come in a fixed layout: 33 MediaPipe body landmarks,
21 left-hand, 21 right-hand, then ``num_face`` face points whose MediaPipe
face-mesh indices are ``face_mesh_ids``.

Frames: model frame Y up, facing +Z, left = +X; the posed frame is whatever
the global orient and ``trans`` map into (the OpenCV camera frame in the fit).
Units: metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ..skeleton import NUM_JOINTS, PARENTS
from . import mannequin as _mannequin
from .landmark_layout import BODY_JOINT, HAND_JOINT, rest_body_landmarks, rest_hand_landmarks
from .shape import estimate_betas

NUM_BODY_POINTS = 33
NUM_HAND_POINTS = 21
HANDS_START = NUM_BODY_POINTS
FACE_START = NUM_BODY_POINTS + 2 * NUM_HAND_POINTS  # 75


@dataclass
class BodyOutput:
    """A posed batch of N frames.

    Attributes:
        joints: (N, 55, 3) posed joint positions, metres.
        rotations: (N, 55, 3, 3) global joint rotations.
        points: (N, P, 3) posed landmark points (layout in the module docstring).
    """

    joints: Tensor
    rotations: Tensor
    points: Tensor


# ----------------------------------------------------------------------------
# Rotations
# ----------------------------------------------------------------------------

def rot6d_to_matrix(d6: Tensor) -> Tensor:
    """(..., 6) -> (..., 3, 3): Gram-Schmidt on two columns (Zhou et al., CVPR 2019).

    The 6D form is the first two COLUMNS of the matrix, stored [col0, col1]:
    column 0 is the first three numbers normalised, column 1 the last three
    made orthogonal to it, column 2 their cross product. (PyTorch3D's
    ``rotation_6d_to_matrix`` uses the first two rows instead: the same six
    numbers mean the transposed rotation there.) It is continuous everywhere
    (axis-angle jumps at pi, where an upright person facing the camera sits:
    ~180 deg about X), so the optimiser never meets a wrap-around or a
    singular gradient.
    """
    # Written per component on contiguous (...) planes: elementwise ops over a last
    # axis of 3 run several times slower on CPU (forward and backward) than over a
    # long contiguous one, and this runs on every joint of every frame per evaluation.
    x1, y1, z1, x2, y2, z2 = d6.movedim(-1, 0).contiguous().unbind(0)
    n1 = (x1 * x1 + y1 * y1 + z1 * z1).clamp_min(1e-16).sqrt()  # clamped before the root: no 0/0 gradient
    x1, y1, z1 = x1 / n1, y1 / n1, z1 / n1
    dot = x1 * x2 + y1 * y2 + z1 * z2
    x2, y2, z2 = x2 - dot * x1, y2 - dot * y1, z2 - dot * z1
    n2 = (x2 * x2 + y2 * y2 + z2 * z2).clamp_min(1e-16).sqrt()
    x2, y2, z2 = x2 / n2, y2 / n2, z2 / n2
    x3, y3, z3 = y1 * z2 - z1 * y2, z1 * x2 - x1 * z2, x1 * y2 - y1 * x2    # b3 = b1 x b2
    return torch.stack([x1, x2, x3, y1, y2, y3, z1, z2, z3], -1).unflatten(-1, (3, 3))


def matrix_to_rot6d(R: Tensor) -> Tensor:
    """(..., 3, 3) -> (..., 6) first two columns, the inverse of ``rot6d_to_matrix`` on rotations."""
    return torch.cat([R[..., :, 0], R[..., :, 1]], dim=-1)


def axis_angle_to_matrix_torch(aa: Tensor) -> Tensor:
    """(..., 3) axis-angle -> (..., 3, 3) (Rodrigues).

    Below 1e-6 rad the result is the identity (off by at most the angle, and
    the axis is never divided by a zero length); its gradient there is zero.
    The fitter optimises 6D rotations, not these, so that flat spot never
    stalls it.
    """
    angle = aa.norm(dim=-1, keepdim=True)
    small = angle < 1e-6
    safe = torch.where(small, torch.ones_like(angle), angle)
    k = aa / safe
    kx, ky, kz = k.unbind(-1)
    zero = torch.zeros_like(kx)
    Kx = torch.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero], -1).reshape(aa.shape[:-1] + (3, 3))
    s = torch.sin(angle)[..., None]
    c = torch.cos(angle)[..., None]
    eye = torch.eye(3, dtype=aa.dtype, device=aa.device).expand(Kx.shape)
    R = eye + s * Kx + (1.0 - c) * (Kx @ Kx)
    return torch.where(small[..., None], eye, R)


# ----------------------------------------------------------------------------
# Forward kinematics by tree level
# ----------------------------------------------------------------------------

def _levels(parents: tuple[int, ...]) -> list[tuple[list[int], list[int]]]:
    """Joints grouped by depth; for each level (joint ids, index of each parent in the previous level)."""
    depth = [0] * len(parents)
    for j, p in enumerate(parents):
        depth[j] = 0 if p < 0 else depth[p] + 1
    out: list[tuple[list[int], list[int]]] = []
    for d in range(max(depth) + 1):
        ids = [j for j in range(len(parents)) if depth[j] == d]
        prev = out[-1][0] if out else []
        out.append((ids, [prev.index(parents[j]) for j in ids] if d else []))
    return out


_LEVELS = _levels(PARENTS)
LEVEL_ORDER = np.array([j for ids, _ in _LEVELS for j in ids])
"""Joints sorted by tree depth: ``local[:, LEVEL_ORDER]`` is the layout ``forward_kinematics_torch``
takes with ``level_order=True`` (each depth a contiguous slice, no gathers in the autograd graph)."""
LEVEL_POSITION = np.argsort(LEVEL_ORDER)
"""Where each joint (SMPL-X order) sits in ``LEVEL_ORDER``, the inverse permutation:
``x_level[:, LEVEL_POSITION]`` is ``x`` back in SMPL-X joint order."""
_LEVEL_SIZES = [len(ids) for ids, _ in _LEVELS]
_PARENT_INDEX = [max(p, 0) for p in PARENTS]
_LEVEL_PARENT = np.array(_PARENT_INDEX)[LEVEL_ORDER]
"""Parent (SMPL-X order) of each joint in ``LEVEL_ORDER``."""
_LEVEL_GATHER = [None if d == 0 or parent_pos == list(range(len(_LEVELS[d - 1][0]))) else parent_pos
                 for d, (_, parent_pos) in enumerate(_LEVELS)]
"""Per level, where each joint's parent sits in the previous level, or None where that is the
previous level itself in order (5 of the 11 levels: a chain step needs no gather)."""


def forward_kinematics_torch(local: Tensor, rest_joints: Tensor, trans: Tensor, *,
                             level_order: bool = False) -> tuple[Tensor, Tensor]:
    """Posed joints and global rotations, all frames at once (torch twin of
    ``core.body.mannequin.forward_kinematics``).

    Args:
        local: (N, 55, 3, 3) joint rotations relative to the parent, SMPL-X
            joint order (or ``LEVEL_ORDER`` with ``level_order=True``).
        rest_joints: (N, 55, 3) or (1, 55, 3) rest joints, metres, model frame, SMPL-X order.
        trans: (N, 3) root translation.

    Returns:
        positions (N, 55, 3), rotations (N, 55, 3, 3), SMPL-X joint order.

    Joints of one tree depth are composed in one batched matmul (11 levels
    instead of 55 sequential joints), and each depth is a contiguous slice of
    a level-ordered input: that is most of the fitter's speed on CPU. Gathers
    are ``index_select`` (its backward is a plain ``index_add``, where advanced
    indexing's accumulating ``index_put`` is several times slower on CPU), and
    a level whose parents are the previous level in order takes none.
    """
    N = local.shape[0]
    dev = local.device
    if not level_order:
        local = local.index_select(1, torch.as_tensor(LEVEL_ORDER, device=dev))
    J = rest_joints.index_select(1, torch.as_tensor(LEVEL_ORDER, device=dev))
    offsets = (J - rest_joints.index_select(1, torch.as_tensor(_LEVEL_PARENT, device=dev))).expand(N, -1, -1)
    gathers = [None if g is None else torch.as_tensor(g, device=dev) for g in _LEVEL_GATHER]
    # Rotations level by level; each joint's parent rotation is kept, so that all bone
    # offsets turn in one batched matmul afterwards instead of one per level.
    rots: list[Tensor] = []
    parent_rots: list[Tensor] = []
    for R_loc, idx in zip(torch.split(local, _LEVEL_SIZES, dim=1), gathers):
        if not rots:
            rots.append(R_loc)
            continue
        Rp = rots[-1] if idx is None else rots[-1].index_select(1, idx)
        parent_rots.append(Rp)
        rots.append(Rp @ R_loc)
    bones = (torch.cat(parent_rots, 1) @ offsets[:, 1:, :, None])[..., 0]          # (N, 54, 3)
    poss = [J[:, :1].expand(N, -1, -1) + trans[:, None]]
    for bone, idx in zip(torch.split(bones, _LEVEL_SIZES[1:], dim=1), gathers[1:]):
        poss.append((poss[-1] if idx is None else poss[-1].index_select(1, idx)) + bone)
    inv = torch.as_tensor(LEVEL_POSITION, device=dev)
    return torch.cat(poss, 1).index_select(1, inv), torch.cat(rots, 1).index_select(1, inv)


# ----------------------------------------------------------------------------
# The interface
# ----------------------------------------------------------------------------

class BodyModel(nn.Module):
    """A posable body with shape parameters and landmark points (see the module docstring).

    Subclasses set the class attributes and buffers below and implement
    ``rest`` and ``rest_data``; posing (``forward``) is shared.

    Attributes:
        name: "mannequin" or "smplx" (the motion file's ``body_model``).
        gender: "neutral", "male" or "female".
        num_betas, num_expression: B and E.
        betas_sigma: prior standard deviation of each beta (the shape prior's unit).
        face_mesh_ids: (F,) MediaPipe face-mesh index of each face point (empty: no face).
        Buffers: ``point_weights`` (S, K) skinning weights of each skinning point
        on joints ``point_joints`` (S, K) (K = at most 4 joints per point);
        ``point_matrix`` (P, S) or None (identity); ``point_posedirs``
        (486, S * 3) or None (pose correctives of the skinning points).
    """

    name = "body"
    gender = "neutral"
    num_betas = 0
    num_expression = 0
    betas_sigma = 1.0
    face_mesh_ids: np.ndarray = np.zeros(0, np.int64)

    point_weights: Tensor
    point_joints: Tensor
    point_matrix: Tensor | None
    point_posedirs: Tensor | None

    @property
    def num_face(self) -> int:
        return int(len(self.face_mesh_ids))

    def rest(self, betas: Tensor, expression: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Rest joints (M, 55, 3) and rest skinning points (M, S, 3) for (B,) betas.

        M = N when a per-frame (N, E) ``expression`` changes the rest shape, else 1.
        """
        raise NotImplementedError

    def rest_data(self, betas: np.ndarray) -> dict[str, np.ndarray]:
        """Rest data of the shape ``betas`` for the motion file (numpy, float32):
        rest_joints (55, 3), v_template (V, 3), faces (F, 3) int32, skin_weights
        (V, 55), and for SMPL-X shape_dirs (V, 3, B) and expression_dirs (V, 3, E)."""
        raise NotImplementedError

    def initial_betas(self, world: np.ndarray) -> np.ndarray:
        """(B,) a starting shape from metric landmarks (N, 33, 4) of good frames."""
        return np.zeros(self.num_betas, np.float32)

    def forward(self, betas: Tensor, local: Tensor, trans: Tensor,
                expression: Tensor | None = None, *, level_order: bool = False) -> BodyOutput:
        """Pose N frames.

        Args:
            betas: (B,) shared shape.
            local: (N, 55, 3, 3) joint rotations relative to the parent (SMPL-X
                order, or ``LEVEL_ORDER`` with ``level_order=True``).
            trans: (N, 3) metres.
            expression: (N, E) or None.
        """
        J, V = self.rest(betas, expression)
        pos, rot = forward_kinematics_torch(local, J, trans, level_order=level_order)
        N = local.shape[0]
        V = V.expand(N, -1, -1)
        if self.point_posedirs is not None:
            eye = torch.eye(3, dtype=local.dtype, device=local.device)
            joint_order = local[:, torch.as_tensor(LEVEL_POSITION, device=local.device)] if level_order else local
            feat = (joint_order[:, 1:] - eye).reshape(N, -1)
            V = V + (feat @ self.point_posedirs).reshape(N, -1, 3)
        idx = self.point_joints                                          # (S, K)
        if idx.shape[1] == 1:
            # Rigid points: v -> R_j (v - J_j) + p_j of their one joint.
            j = idx[:, 0]
            lever = (V - J.index_select(1, j)).expand(N, -1, -1)
            pts = pos.index_select(1, j) + (rot.index_select(1, j) @ lever[..., None])[..., 0]
        else:
            # Each joint maps a rest point v to R_j (v - J_j) + p_j; blend by weight.
            Jn = J.expand(N, -1, -1)
            shift = pos - (rot @ Jn[..., None])[..., 0]                  # (N, 55, 3)
            w = self.point_weights                                       # (S, K)
            R_pts = (w[None, :, :, None, None] * rot[:, idx]).sum(2)     # (N, S, 3, 3)
            t_pts = (w[None, :, :, None] * shift[:, idx]).sum(2)         # (N, S, 3)
            pts = (R_pts @ V[..., None])[..., 0] + t_pts
        if self.point_matrix is not None:
            pts = torch.einsum("ps,nsc->npc", self.point_matrix, pts)
        return BodyOutput(joints=pos, rotations=rot, points=pts)


def sparse_weights(weights: np.ndarray, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """(S, 55) dense weights -> (S, k) joint ids and renormalised weights of the k largest."""
    idx = np.argsort(-weights, axis=1)[:, :k]
    w = np.take_along_axis(weights, idx, 1)
    w = w / np.maximum(w.sum(1, keepdims=True), 1e-12)
    return idx.astype(np.int64), w.astype(np.float32)


# ----------------------------------------------------------------------------
# The mannequin
# ----------------------------------------------------------------------------

class MannequinBody(BodyModel):
    """The built-in mannequin (``core.body.mannequin``) in torch, betas = 5 log-scales.

    Every rest joint and landmark coordinate of the mannequin is
    stature x (c0 + c1 arm + c2 leg + c3 shoulder + c4 hip) with stature =
    1.70 m * exp(b0) and arm = exp(b1) ... hip = exp(b4) (see the numpy module),
    so the rest data is an exactly linear basis in those five factors, read off
    the numpy code once and checked against it in the tests. Landmarks are
    rigid: each point rides on one joint (``core.body.landmark_layout``).
    """

    name = "mannequin"
    num_betas = _mannequin.NUM_BETAS
    betas_sigma = 0.15

    def __init__(self) -> None:
        super().__init__()

        def rest_arrays(b: np.ndarray) -> np.ndarray:
            J = _mannequin.rest_joints(b).astype(np.float64)
            pts = np.concatenate([rest_body_landmarks(J), rest_hand_landmarks(J).reshape(-1, 3)])
            return np.concatenate([J, pts])  # (55 + 75, 3)

        base = rest_arrays(np.zeros(5))
        basis = np.zeros((5,) + base.shape)
        for k in range(1, 5):
            b = np.zeros(5)
            b[k] = np.log(2.0)
            basis[k] = rest_arrays(b) - base
        basis[0] = base - basis[1:].sum(0)
        self.register_buffer("basis", torch.as_tensor(basis, dtype=torch.float32))
        owners = np.concatenate([BODY_JOINT, HAND_JOINT.reshape(-1)])
        self.register_buffer("point_joints", torch.as_tensor(owners[:, None], dtype=torch.long))
        self.register_buffer("point_weights", torch.ones(len(owners), 1))
        self.point_matrix = None
        self.point_posedirs = None

    def rest(self, betas: Tensor, expression: Tensor | None = None) -> tuple[Tensor, Tensor]:
        factors = torch.cat([betas[:1] * 0.0, betas[1:5]]).exp() * betas[0].exp()
        full = torch.einsum("k,kpc->pc", factors, self.basis)[None]
        return full[:, :NUM_JOINTS], full[:, NUM_JOINTS:]

    def rest_data(self, betas: np.ndarray) -> dict[str, np.ndarray]:
        v, f, w = _mannequin.mesh(betas)
        return {"rest_joints": _mannequin.rest_joints(betas), "v_template": v, "faces": f, "skin_weights": w}

    def initial_betas(self, world: np.ndarray) -> np.ndarray:
        return estimate_betas(world).astype(np.float32)
