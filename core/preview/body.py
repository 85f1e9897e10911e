"""The body mesh of a motion file, posed per frame by linear blend skinning (numpy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..body.mannequin import forward_kinematics
from ..errors import MocapError
from ..motion import Motion
from ..skeleton import NUM_JOINTS


@dataclass(frozen=True)
class Body:
    """Rest data of the take's body, from the motion file.

    Attributes:
        v_template: (V, 3) float32 rest vertices of the fitted shape, metres, model frame.
        faces: (F, 3) int64, counter-clockwise seen from outside.
        skin_weights: (V, 55) float32.
        rest_joints: (55, 3) float32 rest joints, model frame.
        expression_dirs: (V, 3, E) float32 or None.
    """

    v_template: np.ndarray
    faces: np.ndarray
    skin_weights: np.ndarray
    rest_joints: np.ndarray
    expression_dirs: np.ndarray | None = None


def body_from_motion(motion: Motion, name: str = "the motion file") -> Body:
    """The body to draw, or a MocapError saying what the file lacks."""
    missing = [key for key in ("v_template", "faces", "skin_weights", "rest_joints")
               if getattr(motion, key) is None]
    if missing:
        raise MocapError(
            f"{name} holds no body mesh ({', '.join(missing)} missing), so there is nothing to draw. "
            "Preview a motion file written by a capture (AMASS files carry no mesh)."
        )
    assert motion.v_template is not None and motion.faces is not None
    assert motion.skin_weights is not None and motion.rest_joints is not None
    expr = motion.expression_dirs
    if expr is not None and (expr.shape[-1] == 0 or motion.expression.shape[1] != expr.shape[-1]):
        expr = None
    return Body(
        v_template=np.asarray(motion.v_template, np.float32),
        faces=np.asarray(motion.faces, np.int64),
        skin_weights=np.asarray(motion.skin_weights, np.float32),
        rest_joints=np.asarray(motion.rest_joints, np.float32),
        expression_dirs=None if expr is None else np.asarray(expr, np.float32),
    )


def pose_body(body: Body, poses: np.ndarray, trans: np.ndarray,
              expression: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Posed vertices and joints for n frames (no pose correctives).

    Args:
        poses: (n, 165) axis-angle, SMPL-X order, relative to the parent.
        trans: (n, 3) root translation, metres, world frame.
        expression: (n, E) coefficients for ``body.expression_dirs`` (or None).

    Returns:
        verts (n, V, 3) float32 and joints (n, 55, 3) float32, world frame.

    Same maths as ``core.body.mannequin.skin`` (each joint moves a vertex by
    ``R_j (v - J_j) + p_j``, blended by the weights) written as one matrix
    product per chunk: (V, 55) weights x (55, n * 12) affine maps.
    """
    poses = np.asarray(poses, np.float64)
    n = poses.shape[0]
    pos, rot = forward_kinematics(poses, body.rest_joints, np.asarray(trans, np.float64))
    t = pos - np.einsum("tjab,jb->tja", rot, body.rest_joints.astype(np.float64))
    A = np.concatenate([rot, t[..., None]], axis=-1)  # (n, 55, 3, 4)
    A = A.transpose(1, 0, 2, 3).reshape(NUM_JOINTS, n * 12).astype(np.float32)
    M = (body.skin_weights @ A).reshape(-1, n, 3, 4)  # (V, n, 3, 4)
    v = np.broadcast_to(body.v_template[:, None], (body.v_template.shape[0], n, 3))
    if body.expression_dirs is not None and expression is not None:
        v = v + np.einsum("vke,ne->vnk", body.expression_dirs, np.asarray(expression, np.float32))
    verts = np.einsum("vnab,vnb->nva", M[..., :3], v) + M[..., 3].transpose(1, 0, 2)
    return verts.astype(np.float32), pos.astype(np.float32)
