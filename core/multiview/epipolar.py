"""Two-view geometry in pixels: fundamental matrices from a rig or from point pairs, and the Sampson distance.

A point ``x1`` in view 1 and ``x2`` in view 2 show the same 3-D point when
``x2^T F x1 = 0`` (homogeneous pixels). The Sampson distance is the
first-order distance, in pixels, of a pair from satisfying that.
"""

from __future__ import annotations

import numpy as np

from .rig import CameraRig


def _skew(v: np.ndarray) -> np.ndarray:
    return np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])


def fundamental_from_rig(rig: CameraRig, first: int, second: int) -> np.ndarray:
    """(3, 3) F with ``x_second^T F x_first = 0`` for the rig's cameras ``first`` and ``second``."""
    R = rig.R[second] @ rig.R[first].T
    t = rig.t[second] - R @ rig.t[first]
    E = _skew(t) @ R
    return np.linalg.inv(rig.K[second]).T @ E @ np.linalg.inv(rig.K[first])


def sampson_distance(F: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """(...,) pixels: Sampson distance of pairs ``x1``, ``x2`` (..., 2) under F (3, 3); NaN where either is NaN."""
    h1 = np.concatenate([x1, np.ones(x1.shape[:-1] + (1,))], -1)
    h2 = np.concatenate([x2, np.ones(x2.shape[:-1] + (1,))], -1)
    Fx1 = h1 @ F.T
    Ftx2 = h2 @ F
    num = np.einsum("...i,...i->...", h2, Fx1)
    den = Fx1[..., 0] ** 2 + Fx1[..., 1] ** 2 + Ftx2[..., 0] ** 2 + Ftx2[..., 1] ** 2
    return np.abs(num) / np.sqrt(np.maximum(den, 1e-300))


def _normaliser(x: np.ndarray) -> np.ndarray:
    """(3, 3) Hartley's conditioning: centre the points and scale their mean distance to sqrt(2)."""
    centre = x.mean(0)
    scale = np.sqrt(2) / max(float(np.mean(np.linalg.norm(x - centre, axis=1))), 1e-12)
    return np.array([[scale, 0, -scale * centre[0]], [0, scale, -scale * centre[1]], [0, 0, 1]])


def fundamental_from_points(x1: np.ndarray, x2: np.ndarray, weights: np.ndarray | None = None,
                            rounds: int = 3, soft_px: float = 4.0) -> np.ndarray:
    """(3, 3) F fitted to N >= 8 pixel pairs (N, 2), robustly: normalised 8-point, reweighted.

    Each round reweights the pairs by ``1 / (1 + (d / soft_px)^2)`` of their
    Sampson distance ``d`` (a Cauchy loss), so a few wrong detections do not
    bend F; the rank-2 constraint is enforced after every solve.
    """
    T1, T2 = _normaliser(x1), _normaliser(x2)
    n1 = x1 @ T1[:2, :2].T + T1[:2, 2]
    n2 = x2 @ T2[:2, :2].T + T2[:2, 2]
    A = np.concatenate([n2[:, :1] * n1, n2[:, :1], n2[:, 1:2] * n1, n2[:, 1:2], n1, np.ones((len(n1), 1))], 1)
    w = np.ones(len(x1)) if weights is None else np.asarray(weights, np.float64)
    F = np.eye(3)
    for _ in range(max(rounds, 1)):
        M = (A * w[:, None]).T @ A
        vec = np.linalg.eigh(M)[1][:, 0]
        U, S, Vt = np.linalg.svd(vec.reshape(3, 3))
        F = T2.T @ (U @ np.diag([S[0], S[1], 0.0]) @ Vt) @ T1
        d = sampson_distance(F, x1, x2)
        w = (np.ones(len(x1)) if weights is None else np.asarray(weights, np.float64)) / (1 + (d / soft_px) ** 2)
    return F / np.linalg.norm(F)
