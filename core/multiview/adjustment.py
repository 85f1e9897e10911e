"""Bundle adjustment of a rig against a person's keypoints: the least-squares problem ``calibrate`` solves.

The parameters, in this order in the vector SciPy sees: cameras 1..C-1
(rotation vectors, then translations), optional log focal scales, the
person's bone lengths, and the 3-D keypoints. Residuals: weighted pixel
errors, the bones' stretch, the scale anchor; the Jacobian is analytic and
sparse.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from ..rotations import axis_angle_to_matrix, matrix_to_axis_angle
from .epipolar import skew

BONE_WEIGHT = 1.0
"""A bone deviating from its length by d costs like a keypoint moved by d (in pixels at the typical depth)."""


class Adjustment:
    """Bundle adjustment: cameras 1..C-1 (rotation vector, translation), optional log focal scales (every
    camera's, or those ``refine_focal`` (C,) marks), the person's bone lengths and the 3-D keypoints.

    Observations m = 0..M-1: camera ``cam[m]`` sees point ``point[m]`` at
    pixel ``uv[m]`` with weight ``weight[m]``. Bones: ``bones`` (B, 2) point
    indices, ``groups`` (B,) which of the ``n_groups`` lengths each has;
    ``bone_scale`` pixels per rig unit at the typical depth.
    Camera 0 stays at the origin; one residual holds the ``anchor`` camera's
    distance from it where it started, since an image never shows scale.
    Besides the reprojection errors, each bone in each frame is pulled to
    its one length for the whole clip: the person's limbs do not stretch,
    which holds the 3-D keypoints (and so the cameras) against keypoint
    noise that a free point per frame would absorb.
    """

    def __init__(self, Ks: np.ndarray, cam: np.ndarray, point: np.ndarray, uv: np.ndarray, weight: np.ndarray,
                 anchor: int, refine_focal: bool | np.ndarray, bones: np.ndarray, groups: np.ndarray, n_groups: int,
                 bone_scale: float) -> None:
        self.Ks, self.cam, self.point, self.uv = Ks, cam, point, uv
        self.sqrt_w = np.sqrt(weight)
        self.anchor = anchor
        self.anchor_length = 1.0
        self.bones, self.groups = bones.reshape(-1, 2), groups
        self.bone_scale = bone_scale
        self.C = len(Ks)
        self.N = int(point.max()) + 1
        free = np.broadcast_to(np.asarray(refine_focal, bool), (self.C,))
        self.focal_index = np.where(free, np.cumsum(free) - 1, -1)  # each camera's focal parameter, -1: fixed
        self.n_focal = int(free.sum())
        self.refine_focal = self.n_focal > 0
        self.G = n_groups

    def _offsets(self) -> tuple[int, int, int]:
        """Where the focal scales, the bone lengths and the points start in the parameter vector."""
        k = 3 * (self.C - 1)
        return 2 * k, 2 * k + self.n_focal, 2 * k + self.n_focal + self.G

    def pack(self, R: np.ndarray, t: np.ndarray, points: np.ndarray) -> np.ndarray:
        lengths = np.ones(self.G)
        if len(self.bones):
            d = np.linalg.norm(points[self.bones[:, 0]] - points[self.bones[:, 1]], axis=-1)
            lengths = np.array([np.median(d[self.groups == g]) if (self.groups == g).any() else 1.0
                                for g in range(self.G)])
        return np.concatenate([matrix_to_axis_angle(R[1:]).ravel(), t[1:].ravel(), np.zeros(self.n_focal),
                               lengths, points.ravel()])

    def unpack(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(K (C, 3, 3), R (C, 3, 3), t (C, 3), bone lengths (G,), points (N, 3)) from the parameter vector."""
        k = 3 * (self.C - 1)
        focal, bone, point = self._offsets()
        R = np.concatenate([np.eye(3)[None], axis_angle_to_matrix(x[:k].reshape(-1, 3))])
        t = np.concatenate([np.zeros((1, 3)), x[k:2 * k].reshape(-1, 3)])
        Ks = self.Ks.copy()
        if self.refine_focal:
            free = self.focal_index >= 0
            Ks[free, :2, :2] *= np.exp(x[focal:bone])[:, None, None]
        return Ks, R, t, x[bone:point], x[point:].reshape(-1, 3)

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """(2M + B + 1,) weighted pixel errors of the M observations, the B bones' stretch, the scale anchor."""
        Ks, R, t, lengths, points = self.unpack(x)
        cam = np.einsum("mij,mj->mi", R[self.cam], points[self.point]) + t[self.cam]
        z = np.maximum(cam[:, 2:3], 1e-3)
        K = Ks[self.cam]
        pred = cam[:, :2] / z * np.stack([K[:, 0, 0], K[:, 1, 1]], -1) + K[:, :2, 2]
        pixels = ((pred - self.uv) * self.sqrt_w[:, None]).ravel()
        d = np.linalg.norm(points[self.bones[:, 0]] - points[self.bones[:, 1]], axis=-1)
        stretch = BONE_WEIGHT * self.bone_scale * (d - lengths[self.groups])
        return np.concatenate([pixels, stretch, [1000.0 * (np.linalg.norm(t[self.anchor]) - self.anchor_length)]])

    def jacobian(self, x: np.ndarray) -> scipy.sparse.csr_matrix:
        """(2M + B + 1, n) the residuals' derivatives, analytic and sparse: each observation depends on its
        camera's pose and focal and its point, each bone on its two points and its length, the anchor on its
        camera's t. (Finite differences over the sparsity pattern took about 900 residual evaluations per
        round, three quarters of a 4-camera calibration's time.)"""
        Ks, R, t, _, points = self.unpack(x)
        k = 3 * (self.C - 1)
        focal, bone, point = self._offsets()
        M, B = len(self.cam), len(self.bones)
        RX = np.einsum("mij,mj->mi", R[self.cam], points[self.point])
        cam = RX + t[self.cam]
        z = np.maximum(cam[:, 2], 1e-3)
        f = np.stack([Ks[self.cam, 0, 0], Ks[self.cam, 1, 1]], -1)             # (M, 2)
        Jp = np.zeros((M, 2, 3))                                                # d pixels / d camera point
        Jp[:, 0, 0], Jp[:, 1, 1] = f[:, 0] / z, f[:, 1] / z
        Jp[:, :, 2] = -f * cam[:, :2] / z[:, None] ** 2
        Jp *= self.sqrt_w[:, None, None]
        obs_rows = np.stack([2 * np.arange(M), 2 * np.arange(M) + 1], -1)      # (M, 2)
        rows, cols, vals = [], [], []

        def block(row_pairs: np.ndarray, columns: np.ndarray, values: np.ndarray) -> None:
            """values (n, 2, q) at rows (n, 2) x columns (n, q)."""
            q = columns.shape[1]
            rows.append(np.repeat(row_pairs[:, :, None], q, axis=2).ravel())
            cols.append(np.repeat(columns[:, None, :], 2, axis=1).ravel())
            vals.append(values.ravel())

        moving = self.cam > 0
        base = 3 * (self.cam[moving] - 1)[:, None] + np.arange(3)
        # R(w + d) X ~ R(w) X + (J_l(w) d) x R(w) X: d(RX)/dw = -[RX]x J_l(w), J_l the left Jacobian of SO(3)
        turn = -Jp[moving] @ skew(RX[moving]) @ _left_jacobian(x[:k].reshape(-1, 3))[self.cam[moving] - 1]
        block(obs_rows[moving], base, turn)
        block(obs_rows[moving], k + base, Jp[moving])
        if self.refine_focal:  # pixels - c scale with the focal length: d/d log f = f * xy / z
            free = self.focal_index[self.cam] >= 0
            block(obs_rows[free], (focal + self.focal_index[self.cam[free]])[:, None],
                  (f * cam[:, :2] / z[:, None] * self.sqrt_w[:, None])[free][..., None])
        block(obs_rows, point + 3 * self.point[:, None] + np.arange(3), Jp @ R[self.cam])
        if B:
            diff = points[self.bones[:, 0]] - points[self.bones[:, 1]]
            unit = BONE_WEIGHT * self.bone_scale * diff / np.maximum(np.linalg.norm(diff, axis=-1), 1e-12)[:, None]
            rows.append(np.repeat(2 * M + np.arange(B), 7))
            cols.append(np.concatenate([point + 3 * self.bones[:, :1] + np.arange(3),
                                        point + 3 * self.bones[:, 1:] + np.arange(3),
                                        (bone + self.groups)[:, None]], 1).ravel())
            vals.append(np.concatenate([unit, -unit, np.full((B, 1), -BONE_WEIGHT * self.bone_scale)], 1).ravel())
        ta = t[self.anchor]
        rows.append(np.full(3, 2 * M + B))
        cols.append(k + 3 * (self.anchor - 1) + np.arange(3))
        vals.append(1000.0 * ta / max(float(np.linalg.norm(ta)), 1e-12))
        n = point + 3 * self.N
        return scipy.sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                       shape=(2 * M + B + 1, n))


def _left_jacobian(w: np.ndarray) -> np.ndarray:
    """(..., 3) rotation vectors -> (..., 3, 3) left Jacobians of SO(3):
    I + (1 - cos a) / a^2 [w]x + (a - sin a) / a^3 [w]x^2 (their series below 1e-4 rad)."""
    a = np.linalg.norm(w, axis=-1)[..., None, None]
    small = a < 1e-4
    safe = np.where(small, 1.0, a)
    c1 = np.where(small, 0.5 - a**2 / 24, (1 - np.cos(safe)) / safe**2)
    c2 = np.where(small, 1 / 6 - a**2 / 120, (safe - np.sin(safe)) / safe**3)
    S = skew(w)
    return np.eye(3) + c1 * S + c2 * (S @ S)
