"""Our own anatomical joint limits: a cost term for the optimiser and a projection for its start.

Hinge joints (elbows, knees, finger middle/end joints) bend about their hinge
axis, one way only; every other joint pays a soft cost for large angles
(shoulders and hips least).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ...body.model import LEVEL_ORDER, LEVEL_POSITION
from ...skeleton import JOINT_INDEX, NUM_JOINTS

J = JOINT_INDEX


# Hinge joints: (joints, hinge axis in the model frame, sign of a normal bend
# per side [left, right]); the rotation's sine-vector (vee of (R - R^T) / 2)
# must lie along the axis with that sign. Elbows also twist about the arm (X).
_HINGES = [
    (("left_knee", "right_knee"), 0, (1.0, 1.0), (1, 2)),
    (("left_elbow", "right_elbow"), 1, (-1.0, 1.0), (2,)),
] + [
    ((f"left_{f}{k}", f"right_{f}{k}"), 2, (-1.0, 1.0), (0, 1))
    for f in ("index", "middle", "ring", "pinky") for k in (2, 3)
]
_SOFT = {"left_shoulder": 0.2, "right_shoulder": 0.2, "left_hip": 0.2, "right_hip": 0.2,
         "left_collar": 2.0, "right_collar": 2.0, "spine1": 1.0, "spine2": 1.0, "spine3": 1.0,
         "neck": 1.0, "head": 0.5, "jaw": 2.0, "left_ankle": 0.5, "right_ankle": 0.5,
         "left_foot": 2.0, "right_foot": 2.0, "left_wrist": 0.3, "right_wrist": 0.3}


def _limit_tables() -> tuple[Tensor, ...]:
    soft = torch.full((NUM_JOINTS,), 0.1)  # fingers and everything else: mild
    soft[0] = 0.0
    for name, w in _SOFT.items():
        soft[J[name]] = w
    joints, axes, signs, off = [], [], [], []
    for names, axis, sgn, off_axes in _HINGES:
        for name, s in zip(names, sgn):
            joints.append(J[name])
            axes.append(axis)
            signs.append(s)
            m = torch.zeros(3)
            m[list(off_axes)] = 1.0
            off.append(m)
    return soft, torch.tensor(joints), torch.tensor(axes), torch.tensor(signs), torch.stack(off)


_LIMITS = _limit_tables()


def project_to_limits(aa: np.ndarray) -> np.ndarray:
    """(T, 55, 3) axis-angle with every hinge joint turned into a pure bend the allowed way.

    Keeps the component along the hinge axis (and the elbow's twist), drops
    the rest and clamps a backwards bend to 0: the optimiser then starts
    inside the joint limits even where the initialiser saw bad landmarks.
    """
    out = np.array(aa, np.float64, copy=True)
    for names, axis, signs, off_axes in _HINGES:
        for name, sign in zip(names, signs):
            j = J[name]
            v = out[:, j]
            bend = np.clip(sign * v[:, axis], 0.0, 2.6) * sign
            keep = np.zeros_like(v)
            keep[:, axis] = bend
            for k in {0, 1, 2} - set(off_axes) - {axis}:
                keep[:, k] = v[:, k]
            out[:, j] = keep
    return out


def joint_limit_cost(local: Tensor, *, level_order: bool = False) -> Tensor:
    """(N,) anatomical cost of local joint rotations (N, 55, 3, 3), radians^2-like
    (SMPL-X joint order, or ``LEVEL_ORDER`` with ``level_order=True``).

    With s = vee(R - R^T) / 2 (sin(angle) x axis) and c = cos(angle):
    every joint pays soft_j x (1 - c) x 2 (~ angle^2); hinge joints also pay
    100 x (off-axis components of s)^2 and 100 x (bend the wrong way)^2.
    """
    soft, hj, ha, hs, hoff = (t.to(local.device) for t in _LIMITS)
    if level_order:
        soft = soft[torch.as_tensor(LEVEL_ORDER, device=local.device)]
        hj = torch.as_tensor(LEVEL_POSITION, device=local.device)[hj]
    # One diagonal and one gather rather than nine single-element selects: each select's
    # backward fills a zero tensor the size of ``local``.
    tr = local.diagonal(dim1=-2, dim2=-1).sum(-1)
    cost = (soft * (3.0 - tr)).sum(-1)
    R = local.index_select(1, hj).flatten(-2)                               # (N, H, 9)
    upper = torch.tensor([7, 2, 3], device=local.device)                    # R21, R02, R10
    lower = torch.tensor([5, 6, 1], device=local.device)                    # R12, R20, R01
    s = 0.5 * (R.index_select(-1, upper) - R.index_select(-1, lower))      # (N, H, 3)
    along = s.gather(-1, ha[None, :, None].expand(s.shape[0], -1, 1))[..., 0]
    wrong = torch.relu(-hs * along)
    cost = cost + 100.0 * ((s * hoff) ** 2).sum((-1, -2)) + 100.0 * (wrong ** 2).sum(-1)
    return cost


