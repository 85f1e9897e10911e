"""Two-view geometry in pixels: fundamental matrices from a rig or from point pairs, and the Sampson distance.

A point ``x1`` in view 1 and ``x2`` in view 2 show the same 3-D point when
``x2^T F x1 = 0`` (homogeneous pixels). The Sampson distance is the
first-order distance, in pixels, of a pair from satisfying that.
"""

from __future__ import annotations

import numpy as np

from ..rotations import skew
from .rig import CameraRig


def fundamental_from_rig(rig: CameraRig, first: int, second: int) -> np.ndarray:
    """(3, 3) F with ``x_second^T F x_first = 0`` for the rig's cameras ``first`` and ``second``."""
    R = rig.R[second] @ rig.R[first].T
    t = rig.t[second] - R @ rig.t[first]
    E = skew(t) @ R
    return np.linalg.inv(rig.K[second]).T @ E @ np.linalg.inv(rig.K[first])


def sampson_distance(F: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """(...,) pixels: Sampson distance of pairs ``x1``, ``x2`` (..., 2) under F (3, 3); NaN where either is NaN."""
    return _sampson_parts(F, x1, x2)[0]


def _sampson_parts(F: np.ndarray, x1: np.ndarray, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Sampson distance, squared gradient norm of the epipolar constraint) per pair."""
    h1 = np.concatenate([x1, np.ones(x1.shape[:-1] + (1,))], -1)
    h2 = np.concatenate([x2, np.ones(x2.shape[:-1] + (1,))], -1)
    Fx1 = h1 @ F.T
    Ftx2 = h2 @ F
    num = np.einsum("...i,...i->...", h2, Fx1)
    den = Fx1[..., 0] ** 2 + Fx1[..., 1] ** 2 + Ftx2[..., 0] ** 2 + Ftx2[..., 1] ** 2
    return np.abs(num) / np.sqrt(np.maximum(den, 1e-300)), den


def _normaliser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, T^-1), each (3, 3): Hartley's conditioning (centre the points, scale their mean distance to sqrt(2))."""
    centre = x.mean(0)
    scale = np.sqrt(2) / max(float(np.mean(np.linalg.norm(x - centre, axis=1))), 1e-12)
    T = np.array([[scale, 0, -scale * centre[0]], [0, scale, -scale * centre[1]], [0, 0, 1]])
    T_inv = np.array([[1 / scale, 0, centre[0]], [0, 1 / scale, centre[1]], [0, 0, 1]])
    return T, T_inv


def _robust_start(x1: np.ndarray, x2: np.ndarray, threshold_px: float) -> np.ndarray | None:
    """F from OpenCV's MAGSAC++ on up to 400 evenly spread pairs (deterministic: OpenCV seeds its sampler)."""
    import cv2

    pick = np.unique(np.linspace(0, len(x1) - 1, min(len(x1), 400)).astype(int))
    try:
        F, _ = cv2.findFundamentalMat(x1[pick], x2[pick], cv2.USAC_MAGSAC, threshold_px, 0.999, 300)
    except cv2.error:
        return None
    return F[:3] if F is not None and F.shape[0] >= 3 and np.isfinite(F[:3]).all() else None


def fundamental_from_points(x1: np.ndarray, x2: np.ndarray, weights: np.ndarray | None = None,
                            soft_px: tuple[float, ...] = (16.0, 4.0), threshold_px: float = 3.0,
                            start: np.ndarray | None = None) -> np.ndarray:
    """(3, 3) F fitted to N >= 8 pixel pairs (N, 2), robustly.

    A robust start (MAGSAC++ on a sample: a linear fit is dragged into a
    wrong F by even 1 % of wrong detections when the cameras face each
    other), then rounds of the normalised 8-point fit weighted by
    ``1 / (1 + (d / s)^2)`` of each pair's Sampson distance ``d`` (a Cauchy
    loss, scale ``s`` shrinking) and by the inverse squared gradient of the
    constraint, which turns the algebraic error into the Sampson distance.
    The reweighted fits use every pair, so F changes smoothly with the data.
    ``start``: an F to begin from instead (e.g. one fitted to similar data).
    """
    x1 = np.asarray(x1, np.float64)
    x2 = np.asarray(x2, np.float64)
    (T1, T1_inv), (T2, T2_inv) = _normaliser(x1), _normaliser(x2)
    n1 = x1 @ T1[:2, :2].T + T1[:2, 2]
    n2 = x2 @ T2[:2, :2].T + T2[:2, 2]
    A = np.concatenate([n2[:, :1] * n1, n2[:, :1], n2[:, 1:2] * n1, n2[:, 1:2], n1, np.ones((len(n1), 1))], 1)
    base = np.ones(len(x1)) if weights is None else np.asarray(weights, np.float64)
    F = start if start is not None else _robust_start(x1, x2, threshold_px) if len(x1) >= 16 else None
    rounds: tuple[float | None, ...] = tuple(soft_px) if F is not None else (None, 64.0, *soft_px)
    for scale in rounds:
        if scale is None or F is None:
            w = base
        else:
            Fn = T2_inv.T @ F @ T1_inv  # F in the normalised coordinates
            w = base / (1 + (sampson_distance(F, x1, x2) / scale) ** 2) \
                / np.maximum(_sampson_parts(Fn / np.linalg.norm(Fn), n1, n2)[1], 1e-12)
        M = (A * w[:, None]).T @ A
        vec = np.linalg.eigh(M)[1][:, 0]
        U, S, Vt = np.linalg.svd(vec.reshape(3, 3))
        F = T2.T @ (U @ np.diag([S[0], S[1], 0.0]) @ Vt) @ T1
    return F / np.linalg.norm(F)
