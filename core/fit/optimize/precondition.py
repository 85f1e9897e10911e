"""A diagonal preconditioner for the solver: each parameter group's step scaled to its reach.

L-BFGS takes one step length for all parameters, so it moves fastest along the
stiffest direction and crawls along the others. The fit's parameters differ
in stiffness by orders of magnitude: turning the pelvis moves every point of
the body by up to a metre per radian, turning a finger's end joint moves one
fingertip by 2 cm per radian, and the shared shape moves every point of every
frame at once. The solver therefore optimises scaled variables ``y = x / s``
with ``s`` about one over the square root of each parameter's curvature (a
Jacobi preconditioner), which makes those curvatures about equal.

The curvature is estimated from the body's geometry at its start shape: a
small turn ``d`` of joint j moves each point p below it by about
``d x (p - J_j)``, so the curvature is about the sum of ``|p - J_j|^2`` over
the landmark points and joints that hang from j (each a data or temporal
term of about unit weight), plus a floor for the lever of a point on the
joint itself; a translation moves every point one for one.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ...body.model import LEVEL_ORDER, BodyModel
from ...skeleton import NUM_JOINTS, PARENTS

MIN_LEVER = 0.03
"""Metres: the least lever counted for a point on its own joint (a landmark sits a few centimetres
off its joint's centre), so a joint with one point on it gets no unbounded step."""
MAX_SCALE = 30.0
"""The largest step scale of a rotation relative to the translation's (a finger's end joint)."""


def point_owners(body: BodyModel) -> np.ndarray:
    """(P,) the joint (SMPL-X order) each of the body's landmark points moves with most."""
    idx = body.point_joints.detach().cpu().numpy()
    w = body.point_weights.detach().cpu().numpy()
    dense = np.zeros((idx.shape[0], NUM_JOINTS))
    np.put_along_axis(dense, idx, w, axis=1)
    if body.point_matrix is not None:
        dense = np.abs(body.point_matrix.detach().cpu().numpy()) @ dense
    return dense.argmax(1)


def rotation_curvature(joints: np.ndarray, points: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """(55,) curvature of each joint's rotation (SMPL-X order): the summed squared lever, metres^2, of
    the joints and points (``points`` (P, 3), each on joint ``owners``) that hang from it."""
    ancestors = [[j] for j in range(NUM_JOINTS)]
    for j in range(NUM_JOINTS):
        p = PARENTS[j]
        while p >= 0:
            ancestors[j].append(p)
            p = PARENTS[p]
    curvature = np.zeros(NUM_JOINTS)
    for pos, owner in [*((joints[k], k) for k in range(NUM_JOINTS)), *zip(points, owners)]:
        for a in ancestors[owner]:
            curvature[a] += max(float(np.sum((pos - joints[a]) ** 2)), MIN_LEVER ** 2)
    return curvature


def betas_scale(body: BodyModel, betas: Tensor, count: int, frames: int) -> Tensor:
    """(B,) step scale of each shape coefficient: it moves every point of every frame at once, by
    the rest shape's own derivative (relative to the root, which the translation carries)."""
    def rest_points(b: Tensor) -> Tensor:
        J, V = body.rest(b)
        return torch.cat([J[0], V[0]]) - J[0, :1]

    jac = torch.autograd.functional.jacobian(rest_points, betas)          # (K, 3, B)
    curvature = frames * (jac.double() ** 2).sum((0, 1))
    return torch.sqrt(count / curvature.clamp_min(1e-9)).to(betas.dtype).clamp(max=MAX_SCALE)


class Scaled:
    """The solver's scaled variables: ``rot6d`` and ``betas`` are what L-BFGS moves (the parameters
    divided by ``rot_scale`` and ``betas_scale``); ``true_rot6d`` and ``true_betas`` give them back."""

    def __init__(self, body: BodyModel, rot6d: Tensor, betas: Tensor, frames: int, enabled: bool = True) -> None:
        """``enabled`` False: every scale 1, the plain steps (nothing is measured)."""
        if enabled:
            with torch.no_grad():
                J, _ = body.rest(betas.detach())
                points = body(betas.detach(), torch.eye(3, device=rot6d.device).expand(1, NUM_JOINTS, 3, 3),
                              torch.zeros(1, 3, device=rot6d.device)).points[0]
            pts = points.double().cpu().numpy()
            curvature = rotation_curvature(J[0].double().cpu().numpy(), pts, point_owners(body))
            count = NUM_JOINTS + len(pts)           # a translation moves every point one for one
            scale = np.clip(np.sqrt(count / curvature), 1.0 / MAX_SCALE, MAX_SCALE)[LEVEL_ORDER]
            self.rot_scale = torch.as_tensor(scale, dtype=rot6d.dtype, device=rot6d.device)[None, :, None]
            self.betas_scale = betas_scale(body, betas.detach(), count, frames)
        else:
            self.rot_scale = torch.ones((1, rot6d.shape[1], 1), dtype=rot6d.dtype, device=rot6d.device)
            self.betas_scale = torch.ones_like(betas.detach())
        self.rot6d = (rot6d.detach() / self.rot_scale).requires_grad_(True)
        self.betas = (betas.detach() / self.betas_scale).requires_grad_(betas.requires_grad)

    def true_rot6d(self) -> Tensor:
        return self.rot6d * self.rot_scale

    def true_betas(self) -> Tensor:
        return self.betas * self.betas_scale
