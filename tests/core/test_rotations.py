"""Rotation maths checked against SciPy's ``Rotation``, as roma and kornia test theirs.

``core.rotations`` (numpy, both sides) and the fitter's torch rotations
(``core.body.model``: axis-angle -> matrix, 6D <-> matrix), in float32 and
float64, with fixed seeds, on angles spread over (0, pi) plus the places
where rotation code breaks: exactly 0, tiny angles, pi - 1e-3, pi - 1e-6 and
pi itself, and with any leading batch dimensions.

Tolerances. Each float32 case is compared with SciPy run in float64 on the
same float32 numbers, so only our own round-off is measured.
- float64: the conversions are well conditioned (errors seen: ~5e-16); the
  one ill-conditioned spot, reading the axis near pi back from a matrix, is
  named where it is tested. 1e-12 is ~5,000 ulp of 1.
- float32, numpy: the work is float64, rounded once to float32 at the end:
  half an ulp, 3e-8 at 1 and 1.2e-7 at pi; 1e-6 is 8 ulp at pi.
- float32, torch: float32 throughout (sin, cos, norm, a 3x3 product), a few
  ulp per step: 2e-6.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from core.body.model import axis_angle_to_matrix_torch, matrix_to_rot6d, rot6d_to_matrix
from core.rotations import (
    axis_angle_to_matrix,
    axis_angle_to_quat_wxyz,
    matrix_to_axis_angle,
    matrix_to_quat_wxyz,
    quat_sign_continuous,
    quat_slerp,
    quat_wxyz_to_axis_angle,
    rotation_between,
)

ATOL = {np.float64: 1e-12, np.float32: 1e-6}
ATOL_TORCH = {torch.float64: 1e-12, torch.float32: 2e-6}
DTYPES = [np.float64, np.float32]
LEADING = [(), (60,), (4, 15), (2, 3, 10)]
"""Leading batch dimensions the 60 test rotations are laid out in (() takes the first alone)."""

NEAR_PI = (np.pi - 1e-3, np.pi - 1e-6, np.pi)
SPECIAL = (0.0, 1e-12, 1e-9, 1e-7, 1e-6, 1e-5, 1e-3) + NEAR_PI


def angles_and_axes(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(60,) angles in [0, pi], each special angle three times, the rest uniform; (60, 3) unit axes."""
    rng = np.random.default_rng(seed)
    special = np.repeat(SPECIAL, 3)
    angles = np.concatenate([special, rng.uniform(0.0, np.pi, 60 - special.size)])
    axes = rng.normal(size=(60, 3))
    return angles, axes / np.linalg.norm(axes, axis=-1, keepdims=True)


def rotvecs(dtype, leading: tuple[int, ...] = (60,), seed: int = 0) -> np.ndarray:
    """(*leading, 3) axis-angle vectors of the test angles, in ``dtype``."""
    angles, axes = angles_and_axes(seed)
    aa = (axes * angles[:, None]).astype(dtype)
    return aa[0] if leading == () else aa.reshape(leading + (3,))


def matrices(dtype, leading: tuple[int, ...] = (60,)) -> np.ndarray:
    """(*leading, 3, 3) matrices of the test rotations (SciPy's, from float64), in ``dtype``."""
    R = Rotation.from_rotvec(rotvecs(np.float64)).as_matrix().astype(dtype)
    return R[0] if leading == () else R.reshape(leading + (3, 3))


def reference(x: np.ndarray, trailing: int) -> np.ndarray:
    """The same numbers in float64, flattened to (N, ...) for SciPy."""
    return np.asarray(x, np.float64).reshape((-1,) + x.shape[x.ndim - trailing:])


def assert_same_quaternion(got: np.ndarray, expected: np.ndarray, atol: float) -> None:
    """q and -q are one rotation: compare each with the nearer sign."""
    got, expected = np.asarray(got, np.float64).reshape(-1, 4), expected.reshape(-1, 4)
    err = np.minimum(np.abs(got - expected).max(-1), np.abs(got + expected).max(-1))
    assert err.max() <= atol, f"max error {err.max():.3g} > {atol:.3g}"


def assert_close(got: np.ndarray, expected: np.ndarray, atol: float) -> None:
    err = np.abs(np.asarray(got, np.float64).reshape(expected.shape) - expected).max()
    assert err <= atol, f"max error {err:.3g} > {atol:.3g}"


def _assert_same_rotvec(got: np.ndarray, expected: np.ndarray, atol: float | np.ndarray) -> None:
    """(N, 3) axis-angle vectors equal within (N,) or one ``atol``; at an angle
    of pi, v and -v are one rotation and either is right."""
    got = np.asarray(got, np.float64).reshape(expected.shape)
    err = np.abs(got - expected).max(-1)
    at_pi = np.linalg.norm(expected, axis=-1) > np.pi - 1e-5
    err = np.where(at_pi, np.minimum(err, np.abs(got + expected).max(-1)), err)
    worst = np.argmax(err - atol)
    assert np.all(err <= atol), f"error {err[worst]:.3g} > {np.broadcast_to(atol, err.shape)[worst]:.3g}"


def _from_matrix_tolerance(expected: np.ndarray, dtype) -> np.ndarray:
    """(N, 3) axis-angle -> (N,) tolerance of axis-angle read back from a ``dtype`` matrix.

    The one ill-conditioned spot: near pi the axis comes from the matrix's
    antisymmetric part, which is only 2 sin(angle) large (2e-6 at pi - 1e-6),
    so the matrix's own round-off e moves the axis by about e / sin(angle).
    A float32 matrix (e ~ 6e-8) pins it to ~0.1 there; float64 to ~1e-10.
    """
    sin = np.maximum(np.sin(np.linalg.norm(expected, axis=-1)), 1e-300)
    return np.maximum(ATOL[dtype], 4 * float(np.finfo(dtype).eps) / sin)


# ----------------------------------------------------------------------------
# core.rotations (numpy)
# ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("leading", LEADING)
def test_axis_angle_to_matrix_and_quat_wxyz(dtype, leading) -> None:
    aa = rotvecs(dtype, leading)
    expected = Rotation.from_rotvec(reference(aa, 1))
    R = axis_angle_to_matrix(aa)
    assert R.shape == leading + (3, 3) and R.dtype == dtype
    assert_close(R, expected.as_matrix(), ATOL[dtype])
    q = axis_angle_to_quat_wxyz(aa)
    assert q.shape == leading + (4,) and q.dtype == dtype
    # Same sign as SciPy too: w = cos(angle / 2) >= 0 for angles up to pi.
    assert_close(q, expected.as_quat(scalar_first=True), ATOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("leading", LEADING)
def test_quat_wxyz_to_axis_angle(dtype, leading) -> None:
    aa64 = rotvecs(np.float64)
    # Any norm and either sign: the function normalises and picks w >= 0.
    rng = np.random.default_rng(1)
    q = Rotation.from_rotvec(aa64).as_quat(scalar_first=True)
    q = (q * rng.uniform(0.5, 2.0, (60, 1)) * rng.choice([-1.0, 1.0], (60, 1))).astype(dtype)
    q = q[0] if leading == () else q.reshape(leading + (4,))
    aa = quat_wxyz_to_axis_angle(q)
    assert aa.shape == leading + (3,) and aa.dtype == dtype
    angle = np.linalg.norm(np.asarray(aa, np.float64), axis=-1)
    assert np.all(angle <= np.pi + ATOL[dtype])
    expected = Rotation.from_quat(reference(q, 1), scalar_first=True).as_rotvec()
    _assert_same_rotvec(aa, expected, ATOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("leading", LEADING)
def test_matrix_to_quat_wxyz_and_axis_angle(dtype, leading) -> None:
    R = matrices(dtype, leading)
    q = matrix_to_quat_wxyz(R)
    assert q.shape == leading + (4,) and q.dtype == dtype
    assert np.all(q[..., 0] >= 0)
    # A float32 matrix is a rotation only to float32 precision; SciPy and
    # Shepperd's method project it onto the rotations differently, by about
    # its own round-off, which stays within the tolerance.
    assert_same_quaternion(q, Rotation.from_matrix(reference(R, 2)).as_quat(scalar_first=True), ATOL[dtype])

    aa = matrix_to_axis_angle(R)
    assert aa.shape == leading + (3,) and aa.dtype == dtype
    # Near pi the axis is ill-conditioned in the matrix (see _from_matrix_tolerance),
    # but SciPy reads the same matrix: the two agree to round-off even there.
    expected = Rotation.from_matrix(reference(R, 2)).as_rotvec()
    _assert_same_rotvec(aa, expected, ATOL[dtype])
    got = np.asarray(aa, np.float64).reshape(expected.shape)
    # Whatever the axis, the rotation is right to the matrix's precision.
    assert_close(Rotation.from_rotvec(got).as_matrix(), reference(R, 2), 10 * ATOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trips(dtype) -> None:
    aa = rotvecs(dtype, (2, 3, 10))
    aa64 = reference(aa, 1)
    _assert_same_rotvec(matrix_to_axis_angle(axis_angle_to_matrix(aa)), aa64, _from_matrix_tolerance(aa64, dtype))
    assert_same_quaternion(matrix_to_quat_wxyz(axis_angle_to_matrix(aa)), axis_angle_to_quat_wxyz(aa)
                           .astype(np.float64), ATOL[dtype])
    _assert_same_rotvec(quat_wxyz_to_axis_angle(axis_angle_to_quat_wxyz(aa)), aa64, 2 * ATOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_rotation_between(dtype) -> None:
    rng = np.random.default_rng(2)
    a = rng.normal(size=(50, 3))
    b = rng.normal(size=(50, 3)) * rng.uniform(0.1, 10.0, (50, 1))  # any length
    b[:5] = a[:5] * 3.0                                             # parallel: identity
    b[5:10] = -a[5:10] * 0.5                                        # opposite: half a turn
    b[10:15] = -a[10:15] + 1e-7 * rng.normal(size=(5, 3))           # nearly opposite
    a, b = a.astype(dtype), b.astype(dtype)
    R = rotation_between(a, b)
    assert R.shape == (50, 3, 3) and R.dtype == dtype
    a64, b64 = reference(a, 1), reference(b, 1)
    a_hat = a64 / np.linalg.norm(a64, axis=-1, keepdims=True)
    b_hat = b64 / np.linalg.norm(b64, axis=-1, keepdims=True)
    tol = 10 * ATOL[dtype]
    moved = np.einsum("nij,nj->ni", np.asarray(R, np.float64), a_hat)
    assert_close(np.delete(moved, np.s_[10:15], 0), np.delete(b_hat, np.s_[10:15], 0), tol)
    # Nearly opposite, the axis is the cross product over its own small length
    # (sin = 1e-7), so round-off e in the inputs moves it by about e / sin.
    assert_close(moved[10:15], b_hat[10:15], max(tol, 1e3 * float(np.finfo(dtype).eps) / 1e-7))
    # The smallest such rotation: its angle is the angle between a and b ...
    angle = np.linalg.norm(Rotation.from_matrix(reference(R, 2)).as_rotvec(), axis=-1)
    assert_close(angle[15:], np.arccos(np.clip(np.sum(a_hat * b_hat, -1), -1, 1))[15:], tol)
    assert_close(angle[:10], np.r_[np.zeros(5), np.full(5, np.pi)], tol)
    # ... and for generic pairs it is SciPy's shortest rotation.
    for i in range(15, 50):
        expected = Rotation.align_vectors(b_hat[i:i + 1], a_hat[i:i + 1])[0].as_matrix()
        assert_close(R[i], expected, tol)


def _unit_quats(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    q = rng.normal(size=shape + (4,))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_quat_slerp_follows_the_shorter_arc(dtype) -> None:
    rng = np.random.default_rng(3)
    q0 = _unit_quats(rng, (12, 5))
    rel = rotvecs(np.float64, (12, 5), seed=4)
    rel[..., :] *= np.where(np.linalg.norm(rel, axis=-1, keepdims=True) > np.pi - 1e-5, 0.0, 1.0)  # no tie at pi
    # q1 = q0 then rel, given with a random sign: the sign must not matter.
    r0 = Rotation.from_quat(q0.reshape(-1, 4), scalar_first=True)
    r1 = r0 * Rotation.from_rotvec(rel.reshape(-1, 3))
    q1 = r1.as_quat(scalar_first=True).reshape(12, 5, 4) * rng.choice([-1.0, 1.0], (12, 5, 1))
    t = rng.uniform(0.0, 1.0, (12, 1))  # one fraction per row, broadcast over its 5 joints
    t[0] = 0.0
    t[1] = 1.0
    q = quat_slerp(q0.astype(dtype), q1.astype(dtype), t)
    assert q.shape == (12, 5, 4) and q.dtype == dtype
    # Reference: q0 turned by t times the relative rotation (SciPy's rotvec is the shorter way round).
    tt = np.broadcast_to(t, (12, 5)).reshape(-1, 1)
    r0 = Rotation.from_quat(reference(q0.astype(dtype), 1), scalar_first=True)
    r1 = Rotation.from_quat(reference(q1.astype(dtype), 1), scalar_first=True)
    expected = (r0 * Rotation.from_rotvec(tt * (r0.inv() * r1).as_rotvec())).as_quat(scalar_first=True)
    assert_same_quaternion(q, expected, 10 * ATOL[dtype])
    assert_close(q[0], q0[0].astype(dtype).astype(np.float64), 10 * ATOL[dtype])  # t = 0 is q0, sign and all
    assert_close(np.linalg.norm(np.asarray(q, np.float64), axis=-1), np.ones((12, 5)), 10 * ATOL[dtype])


def test_quat_slerp_scalar_fraction_and_equal_ends() -> None:
    q0 = _unit_quats(np.random.default_rng(5), (2, 3))
    assert_close(quat_slerp(q0, q0, 0.3), q0, 1e-15)   # nearly equal ends take the linear branch
    assert_close(quat_slerp(q0, -q0, 0.7), q0, 1e-15)  # -q0 is the same rotation
    mid = quat_slerp(np.array([1.0, 0, 0, 0]), axis_angle_to_quat_wxyz(np.array([0.0, 0.0, 2.0])), 0.5)
    assert_close(mid, axis_angle_to_quat_wxyz(np.array([0.0, 0.0, 1.0])), 1e-15)


def _continuous_naive(q: np.ndarray) -> np.ndarray:
    """The definition, frame by frame: flip a frame whose dot product with the fixed previous one is negative."""
    q = np.array(q, np.float64)
    for t in range(1, q.shape[0]):
        flip = np.sum(q[t] * q[t - 1], axis=-1, keepdims=True) < 0
        q[t] = np.where(flip, -q[t], q[t])
    return q


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (2,), (300,), (200, 55), (50, 2, 3)])
def test_quat_sign_continuous(dtype, shape) -> None:
    rng = np.random.default_rng(6)
    # A smooth motion with a random sign on every frame and joint.
    steps = rng.normal(scale=0.1, size=shape + (3,))
    q = axis_angle_to_quat_wxyz(np.cumsum(steps, axis=0)) * rng.choice([-1.0, 1.0], shape + (1,))
    q = q.astype(dtype)
    fixed = quat_sign_continuous(q)
    assert fixed.shape == q.shape and fixed.dtype == dtype
    np.testing.assert_array_equal(fixed, _continuous_naive(q).astype(dtype))
    np.testing.assert_array_equal(np.abs(fixed), np.abs(q))  # only signs change ...
    np.testing.assert_array_equal(fixed[0], q[0])           # ... and not the first frame's
    assert np.all(np.sum(fixed[1:].astype(np.float64) * fixed[:-1], axis=-1) >= 0)


# ----------------------------------------------------------------------------
# The fitter's torch rotations (core.body.model)
# ----------------------------------------------------------------------------

TORCH_DTYPES = [torch.float64, torch.float32]


@pytest.mark.parametrize("dtype", TORCH_DTYPES)
@pytest.mark.parametrize("leading", LEADING)
def test_axis_angle_to_matrix_torch(dtype, leading) -> None:
    aa = torch.as_tensor(rotvecs(np.float64, leading), dtype=dtype)
    R = axis_angle_to_matrix_torch(aa)
    assert R.shape == leading + (3, 3) and R.dtype == dtype
    aa64 = reference(aa.numpy(), 1)
    expected = Rotation.from_rotvec(aa64).as_matrix()
    # Below 1e-6 rad the function returns the identity, off by the angle itself.
    angle = np.linalg.norm(aa64, axis=-1)[:, None, None]
    atol = np.where(angle < 1e-6, np.maximum(angle, ATOL_TORCH[dtype]), ATOL_TORCH[dtype])
    err = np.abs(R.numpy().astype(np.float64).reshape(expected.shape) - expected)
    assert np.all(err <= atol + 1e-15), f"max error {err.max():.3g}"
    # Where the identity takes over (the angle as torch computes it), the result is the identity.
    small = aa.reshape(-1, 3).norm(dim=-1) < 1e-6
    assert torch.equal(R.reshape(-1, 3, 3)[small], torch.eye(3, dtype=dtype).expand(int(small.sum()), 3, 3))


@pytest.mark.parametrize("dtype", TORCH_DTYPES)
def test_axis_angle_to_matrix_torch_gradient_is_finite(dtype) -> None:
    aa = torch.as_tensor(rotvecs(np.float64), dtype=dtype).requires_grad_(True)
    axis_angle_to_matrix_torch(aa).square().sum().backward()
    assert aa.grad is not None and torch.isfinite(aa.grad).all()


@pytest.mark.parametrize("dtype", TORCH_DTYPES)
@pytest.mark.parametrize("leading", LEADING)
def test_rot6d_is_the_first_two_columns(dtype, leading) -> None:
    R = torch.as_tensor(matrices(np.float64, leading), dtype=dtype)
    d6 = matrix_to_rot6d(R)
    assert d6.shape == leading + (6,) and d6.dtype == dtype
    # Columns, stored [col0, col1] (PyTorch3D's matrix_to_rotation_6d takes rows).
    assert torch.equal(d6, torch.cat([R[..., :, 0], R[..., :, 1]], dim=-1))
    back = rot6d_to_matrix(d6)
    assert back.shape == R.shape and back.dtype == dtype
    # A float32 matrix is orthonormal to its round-off only; Gram-Schmidt moves it by about that.
    torch.testing.assert_close(back, R, atol=ATOL_TORCH[dtype], rtol=0)


def test_rot6d_is_not_pytorch3d_rows() -> None:
    quarter_turn_z = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    torch.testing.assert_close(matrix_to_rot6d(quarter_turn_z), torch.tensor([0.0, 1.0, 0.0, -1.0, 0.0, 0.0]))


@pytest.mark.parametrize("dtype", TORCH_DTYPES)
def test_rot6d_to_matrix_is_gram_schmidt_on_columns(dtype) -> None:
    """Any 6 numbers (the optimiser may step anywhere) give a rotation whose first
    column is the first 3 numbers normalised and whose second lies in their plane."""
    d6 = torch.as_tensor(np.random.default_rng(7).normal(size=(4, 5, 6)), dtype=dtype)
    R = rot6d_to_matrix(d6)
    eye = torch.eye(3, dtype=dtype).expand(4, 5, 3, 3)
    tol = dict(atol=ATOL_TORCH[dtype], rtol=0)
    torch.testing.assert_close(R.transpose(-1, -2) @ R, eye, **tol)
    torch.testing.assert_close(torch.linalg.det(R), torch.ones(4, 5, dtype=dtype), **tol)
    a1, a2 = d6[..., :3], d6[..., 3:]
    torch.testing.assert_close(R[..., :, 0], a1 / a1.norm(dim=-1, keepdim=True), **tol)
    normal = torch.cross(a1, a2, dim=-1)
    torch.testing.assert_close((R[..., :, 1] * normal).sum(-1), torch.zeros(4, 5, dtype=dtype), **tol)
    assert ((R[..., :, 1] * a2).sum(-1) > 0).all()
