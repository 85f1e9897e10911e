"""Rotation conversions in NumPy, batched over any leading dimensions.

Names state both ends of a conversion. Quaternions are (w, x, y, z), the order
Blender's ``rotation_quaternion`` uses. Axis-angle vectors are the SMPL-X
convention: direction = axis, norm = angle in radians. Matrices act on column
vectors (``R @ v``). Work is done in float64 and returned in the input's float
dtype, because the Blender side keys thousands of these at once and float32
round-off near identity is visible as jitter. For the same reason angles come
from ``arctan2`` of a sine and a cosine part, which is accurate over [0, pi];
the angle between quaternions in :func:`quat_slerp` is the one ``arccos``, and
there its error does not reach the result (see the comment there).

Also here, so that both sides use one copy: :func:`quat_slerp` (interpolation)
and :func:`quat_sign_continuous` (one sign per frame for keying and filtering).
Tested against SciPy's ``Rotation`` in ``tests/core/test_rotations.py``.
"""

from __future__ import annotations

import numpy as np


def _float(x: np.ndarray) -> tuple[np.ndarray, np.dtype]:
    x = np.asarray(x)
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return x.astype(np.float64), dtype


def axis_angle_to_matrix(aa: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 3, 3) rotation matrix (Rodrigues)."""
    aa, dtype = _float(aa)
    theta = np.linalg.norm(aa, axis=-1, keepdims=True)
    k = aa / np.where(theta < 1e-8, 1.0, theta)
    theta = theta[..., None]
    small = theta < 1e-8
    safe = np.where(small, 1.0, theta)
    kx, ky, kz = k[..., 0], k[..., 1], k[..., 2]
    zero = np.zeros_like(kx)
    K = np.stack([zero, -kz, ky, kz, zero, -kx, -ky, kx, zero], axis=-1).reshape(k.shape[:-1] + (3, 3))
    eye = np.broadcast_to(np.eye(3), K.shape)
    R = eye + np.sin(safe) * K + (1.0 - np.cos(safe)) * (K @ K)
    # Near zero the first-order expansion I + [aa]x is exact to O(theta^2).
    ax, ay, az = aa[..., 0], aa[..., 1], aa[..., 2]
    z = np.zeros_like(ax)
    A = np.stack([z, -az, ay, az, z, -ax, -ay, ax, z], axis=-1).reshape(aa.shape[:-1] + (3, 3))
    R = np.where(small, eye + A, R)
    return R.astype(dtype)


def matrix_to_quat_wxyz(R: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrix -> (..., 4) unit quaternion, w >= 0.

    Shepperd's method: pick the largest of w, x, y, z to divide by, so no
    branch divides by a number near zero.
    """
    R, dtype = _float(R)
    m = R
    tr = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    cand = np.stack([tr, m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]], axis=-1)
    pick = np.argmax(cand, axis=-1)
    q = np.empty(R.shape[:-2] + (4,))
    # case w largest
    s = np.sqrt(np.maximum(1.0 + tr, 1e-12)) * 2.0
    qw = np.stack([0.25 * s, (m[..., 2, 1] - m[..., 1, 2]) / s,
                   (m[..., 0, 2] - m[..., 2, 0]) / s, (m[..., 1, 0] - m[..., 0, 1]) / s], -1)
    s = np.sqrt(np.maximum(1.0 + m[..., 0, 0] - m[..., 1, 1] - m[..., 2, 2], 1e-12)) * 2.0
    qx = np.stack([(m[..., 2, 1] - m[..., 1, 2]) / s, 0.25 * s,
                   (m[..., 0, 1] + m[..., 1, 0]) / s, (m[..., 0, 2] + m[..., 2, 0]) / s], -1)
    s = np.sqrt(np.maximum(1.0 + m[..., 1, 1] - m[..., 0, 0] - m[..., 2, 2], 1e-12)) * 2.0
    qy = np.stack([(m[..., 0, 2] - m[..., 2, 0]) / s, (m[..., 0, 1] + m[..., 1, 0]) / s,
                   0.25 * s, (m[..., 1, 2] + m[..., 2, 1]) / s], -1)
    s = np.sqrt(np.maximum(1.0 + m[..., 2, 2] - m[..., 0, 0] - m[..., 1, 1], 1e-12)) * 2.0
    qz = np.stack([(m[..., 1, 0] - m[..., 0, 1]) / s, (m[..., 0, 2] + m[..., 2, 0]) / s,
                   (m[..., 1, 2] + m[..., 2, 1]) / s, 0.25 * s], -1)
    q = np.choose(pick[..., None], [qw, qx, qy, qz])
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    q = np.where(q[..., :1] < 0, -q, q)
    return q.astype(dtype)


def axis_angle_to_quat_wxyz(aa: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 4) unit quaternion (w, x, y, z)."""
    aa, dtype = _float(aa)
    theta = np.linalg.norm(aa, axis=-1, keepdims=True)
    half = 0.5 * theta
    # sin(t/2)/t -> 1/2 as t -> 0; the series keeps it accurate there.
    k = np.where(theta < 1e-6, 0.5 - theta**2 / 48.0, np.sin(half) / np.where(theta < 1e-6, 1.0, theta))
    q = np.concatenate([np.cos(half), aa * k], axis=-1)
    return q.astype(dtype)


def quat_wxyz_to_axis_angle(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternion -> (..., 3) axis-angle with angle in [0, pi]."""
    q, dtype = _float(q)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    q = np.where(q[..., :1] < 0, -q, q)
    vec = q[..., 1:]
    s = np.linalg.norm(vec, axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(s, q[..., :1])
    k = np.where(s < 1e-8, 2.0, angle / np.where(s < 1e-8, 1.0, s))
    return (vec * k).astype(dtype)


def matrix_to_axis_angle(R: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrix -> (..., 3) axis-angle."""
    return quat_wxyz_to_axis_angle(matrix_to_quat_wxyz(R))


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3), (..., 3) directions -> (..., 3, 3) smallest rotation taking a to b.

    Vectors need not be unit length. For opposite vectors the rotation is
    180 degrees about an axis perpendicular to ``a``.
    """
    a, dtype = _float(a)
    b, _ = _float(b)
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    axis = np.cross(a, b)
    cos = np.clip(np.sum(a * b, axis=-1, keepdims=True), -1.0, 1.0)
    sin = np.linalg.norm(axis, axis=-1, keepdims=True)
    # Opposite vectors: any axis perpendicular to a works; take the one from
    # the coordinate axis least aligned with a.
    helper = np.eye(3)[np.argmin(np.abs(a), axis=-1)]
    perp = np.cross(a, helper)
    perp = perp / np.linalg.norm(perp, axis=-1, keepdims=True)
    opposite = (sin < 1e-9) & (cos < 0)
    axis = np.where(opposite, perp, axis / np.where(sin < 1e-12, 1.0, sin))
    angle = np.arctan2(sin, cos)
    angle = np.where(opposite, np.pi, angle)
    return axis_angle_to_matrix(axis * angle).astype(dtype)


def angle_between_degrees(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(...,) angles in degrees between the directions ``a`` and ``b`` (..., 3), any leading dimensions
    (neither needs to be unit length)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    return np.degrees(np.arccos(np.clip(np.sum(a * b, axis=-1), -1.0, 1.0)))


def quat_slerp(q0: np.ndarray, q1: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """(..., 4) unit quaternions q0, q1 and (...) fractions t -> (..., 4) unit quaternions.

    Spherical linear interpolation along the shorter arc: t = 0 gives q0, t = 1
    gives q1 or -q1 (the same rotation), t = 0.5 the rotation halfway between.
    ``t`` broadcasts against the leading dimensions. Component order does not
    matter (w first or last), only that both use the same.
    """
    q0, dtype = _float(q0)
    q1, _ = _float(q1)
    a = np.asarray(t, np.float64)[..., None]
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0.0, -q1, q1)
    dot = np.abs(dot).clip(max=1.0)
    # arccos is ill-conditioned at dot = 1: a round-off e in dot moves theta by
    # about e / theta. The weights sin(a theta) / sin(theta) -> a change with
    # theta by a slope of order theta, so they still keep full precision.
    theta = np.arccos(dot)
    sin = np.sin(theta)
    near = sin < 1e-6  # nearly equal: linear is exact enough and avoids 0/0
    w0 = np.where(near, 1.0 - a, np.sin((1.0 - a) * theta) / np.where(near, 1.0, sin))
    w1 = np.where(near, a, np.sin(a * theta) / np.where(near, 1.0, sin))
    q = w0 * q0 + w1 * q1
    return (q / np.linalg.norm(q, axis=-1, keepdims=True)).astype(dtype)


def quat_sign_continuous(q: np.ndarray) -> np.ndarray:
    """(T, ..., 4) quaternions over time -> the same rotations, signs flipped so neighbours agree.

    q and -q are the same rotation, but whatever works on the four numbers
    (Blender's F-curve interpolation, a filter over time) sees a jump between
    them: a sign change between two keys spins the bone through a full turn.
    Each frame takes the sign that makes its dot product with the previous
    (already fixed) frame non-negative; frame 0 keeps its own. Where that dot
    product is exactly 0 either sign would do and the previous frame's flip is
    kept.
    """
    q, dtype = _float(q)
    if q.shape[0] < 2:
        return q.astype(dtype)
    # Fixed frame t-1 is s[t-1] * q[t-1], so frame t's flip relative to it is
    # s[t-1] times its flip relative to the raw q[t-1]: a running product.
    dots = np.sum(q[1:] * q[:-1], axis=-1)
    step = np.where(dots < 0.0, -1.0, 1.0)
    sign = np.concatenate([np.ones((1,) + step.shape[1:]), np.cumprod(step, axis=0)], axis=0)
    return (q * sign[..., None]).astype(dtype)


def skew(v: np.ndarray) -> np.ndarray:
    """(..., 3) -> (..., 3, 3) cross-product matrices: ``skew(a) @ b == cross(a, b)``."""
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    zero = np.zeros_like(x)
    return np.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(v.shape + (3,))
