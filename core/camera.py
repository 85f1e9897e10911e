"""The pinhole camera: intrinsics, projection, unprojection, translation from 2D-3D matches.

Numpy only, no other engine module: the lowest layer, next to ``rotations``.
Frames: the OpenCV camera frame (x right, y down, z away from the camera),
metres; pixels with the origin at the top-left image corner, y down. ``K`` is
the (3, 3) intrinsics matrix [[fx, 0, cx], [0, fy, cy], [0, 0, 1]], pixels.
"""

from __future__ import annotations

import numpy as np


def focal_lengths(K: np.ndarray) -> np.ndarray:
    """(2,) (fx, fy) of intrinsics ``K``, pixels."""
    K = np.asarray(K, np.float64)
    return np.array([K[0, 0], K[1, 1]])


def principal_point(K: np.ndarray) -> np.ndarray:
    """(2,) (cx, cy) of intrinsics ``K``, pixels."""
    K = np.asarray(K, np.float64)
    return np.array([K[0, 2], K[1, 2]])


def project(points: np.ndarray, K: np.ndarray, min_depth: float | None = None) -> np.ndarray:
    """(..., 3) points in the OpenCV camera frame -> (..., 2) pixels with intrinsics K (3, 3).

    ``min_depth`` (metres) clamps the depth from below, so points at or behind
    the camera give large but finite pixels; None divides by the depth as is.
    """
    P = np.asarray(points, np.float64)
    z = P[..., 2:3] if min_depth is None else np.maximum(P[..., 2:3], min_depth)
    return (P[..., :2] / z) * focal_lengths(K) + principal_point(K)


def unproject(uv: np.ndarray, depth: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(..., 2) pixels at (...) depths, metres -> (..., 3) points in the OpenCV camera frame."""
    K = np.asarray(K, np.float64)
    X = (uv[..., 0] - K[0, 2]) / K[0, 0] * depth
    Y = (uv[..., 1] - K[1, 2]) / K[1, 1] * depth
    return np.stack([X, Y, depth], -1)


def solve_translation(world: np.ndarray, uv: np.ndarray, weight: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(N, 3) camera-frame position of each frame's point-set origin (e.g. the mid-hip).

    Finds t with project(world + t) ~ uv: the pinhole equations
    x_i (Z_i + t_z) = X_i + t_x (x_i normalised) are linear in t, solved by
    weighted least squares per frame; a second pass weights each equation by
    1 / depth^2 so the residual approximates pixels, and two more also
    down-weight outliers (robust reweighting).

    Args:
        world: (N, L, 3) metres, camera axes, relative to the origin; uv
            (N, L, 2) pixels; weight (N, L) >= 0 (0 for missing points).
    """
    K = np.asarray(K, np.float64)
    a = (uv[..., 0] - K[0, 2]) / K[0, 0]
    b = (uv[..., 1] - K[1, 2]) / K[1, 1]
    X, Y, Z = world[..., 0], world[..., 1], world[..., 2]
    w = weight.copy()
    t = None
    for it in range(4):
        # rows [1, 0, -a] and [0, 1, -b]; normal equations summed over landmarks.
        M = np.zeros(w.shape[:-1] + (3, 3))
        M[..., 0, 0] = M[..., 1, 1] = w.sum(-1)
        M[..., 0, 2] = M[..., 2, 0] = -(w * a).sum(-1)
        M[..., 1, 2] = M[..., 2, 1] = -(w * b).sum(-1)
        M[..., 2, 2] = (w * (a * a + b * b)).sum(-1)
        ra, rb = a * Z - X, b * Z - Y
        rhs = np.stack([(w * ra).sum(-1), (w * rb).sum(-1), -(w * (a * ra + b * rb)).sum(-1)], -1)
        t = np.linalg.solve(M + 1e-9 * np.eye(3), rhs[..., None])[..., 0]
        depth = np.maximum(Z + t[..., 2:3], 1e-3)
        w = weight / depth**2
        if it >= 1:
            # Passes 3-4 down-weight landmarks far off the solution (Geman-McClure
            # weights, 30 px scale), so one mis-detected point cannot move the body.
            px = np.stack([(X + t[..., 0:1]) / depth * K[0, 0] + K[0, 2],
                           (Y + t[..., 1:2]) / depth * K[1, 1] + K[1, 2]], -1)
            r2 = np.sum((px - uv) ** 2, -1) / 30.0**2
            w = w / (1.0 + r2) ** 2
    assert t is not None
    return t
