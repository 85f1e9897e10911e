"""Jitter removal that keeps fast motion: a zero-phase One Euro filter.

Why One Euro: its cutoff frequency rises with the signal's speed, so slow or
still parts (where video mocap jitter is most visible) are filtered hard while
a fast swing keeps its peaks. Run forwards then backwards over the whole
clip (we have every frame), the lag of the causal filter cancels out.

Rotations are filtered as unit quaternions made sign-continuous over time,
then renormalised: over one frame the quaternions change little, so the
component-wise filter stays close to the sphere and renormalising is exact
enough (the error is second order in the step).

How hard to filter a joint's rotations follows the discrepancy principle: a
filter that changes a signal by more than the signal's noise is removing
motion, not noise. The noise is measured on the take itself (third
differences of white noise have 20 times its variance, while those of
smooth motion are tiny), and each joint gets the strongest filter, up to the
user's strength, whose RMS change stays within it. A fit that is already
steady is left as it is, and a fast punch is not flattened; a jittery one
is filtered as hard as the user allows.
"""

from __future__ import annotations

import math

import numpy as np

from ..rotations import axis_angle_to_quat_wxyz, quat_sign_continuous, quat_wxyz_to_axis_angle


def one_euro_cutoffs(strength: float) -> tuple[float, float]:
    """(min_cutoff Hz, beta) for a user strength in [0, 1]: 0 barely filters, 1 filters hard.

    min_cutoff goes from 8 Hz down to 0.4 Hz on a log scale; beta (how fast
    the cutoff opens with speed) is kept high enough that a 5 m/s swing still
    passes at well above 10 Hz.
    """
    s = min(max(float(strength), 0.0), 1.0)
    min_cutoff = math.exp(math.log(8.0) + s * (math.log(0.4) - math.log(8.0)))
    beta = 0.4 + 2.0 * s
    return min_cutoff, beta


def _alpha(cutoff: np.ndarray | float, rate: float) -> np.ndarray:
    tau = 1.0 / (2.0 * np.pi * np.asarray(cutoff))
    return 1.0 / (1.0 + tau * rate)


def _one_euro_pass(x: np.ndarray, rate: float, min_cutoff: float | np.ndarray, beta: float | np.ndarray,
                   d_cutoff: float = 1.0) -> np.ndarray:
    """Causal One Euro over axis 0 of x (T, ...); speed = norm over the last axis.

    ``min_cutoff`` and ``beta`` may be arrays that broadcast against one frame
    of ``x`` (several filters run side by side).
    """
    out = np.empty_like(x)
    out[0] = x[0]
    dx_prev = np.zeros_like(x[0])
    a_d = _alpha(d_cutoff, rate)
    for t in range(1, x.shape[0]):
        dx = (x[t] - out[t - 1]) * rate
        dx_hat = a_d * dx + (1 - a_d) * dx_prev
        speed = np.linalg.norm(dx_hat, axis=-1, keepdims=True)
        a = _alpha(min_cutoff + beta * speed, rate)
        out[t] = a * x[t] + (1 - a) * out[t - 1]
        dx_prev = dx_hat
    return out


def one_euro_zero_phase(x: np.ndarray, rate: float, strength: float) -> np.ndarray:
    """Filter (T, ..., D) signals over time, forwards and backwards; strength 0 returns x."""
    x = np.asarray(x, np.float64)
    if strength <= 0 or x.shape[0] < 3:
        return x.copy()
    return _zero_phase(x, rate, *one_euro_cutoffs(strength))


def _zero_phase(x: np.ndarray, rate: float, min_cutoff: float | np.ndarray, beta: float | np.ndarray) -> np.ndarray:
    forward = _one_euro_pass(x, rate, min_cutoff, beta)
    return _one_euro_pass(forward[::-1], rate, min_cutoff, beta)[::-1].copy()


def noise_level(x: np.ndarray) -> np.ndarray:
    """(T, N, D) signals -> (N,) robust estimate of the std of their white noise (norm over D).

    Third differences of white noise of std s have std s * sqrt(20); those of
    motion sampled well above its frequencies are small, so the median
    absolute third difference (a robust std: / 0.6745) measures the noise.
    """
    d3 = np.diff(np.asarray(x, np.float64), 3, axis=0)
    return np.linalg.norm(np.median(np.abs(d3), axis=0) / (0.6745 * np.sqrt(20.0)), axis=-1)


# Fractions of the user's strength tried, strongest first.
_STRENGTH_LADDER = (1.0, 0.8, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05)

_LADDER_BYTES = 64 << 20
"""The rungs of the ladder run side by side, on as many signals at a time as fit in this many bytes."""


def one_euro_within_noise(x: np.ndarray, rate: float, strength: float) -> tuple[np.ndarray, np.ndarray]:
    """Filter (T, N, D) signals, each with the strongest One Euro (at most ``strength``)
    whose RMS change to it stays within its own noise level (:func:`noise_level`).

    Returns the filtered signals and (N,) the strength each got (0: left as it was).
    """
    x = np.asarray(x, np.float64)
    out = x.copy()
    used = np.zeros(x.shape[1])
    if strength <= 0 or x.shape[0] < 5:
        return out, used
    sigma = noise_level(x)
    strengths = strength * np.asarray(_STRENGTH_LADDER)
    cutoffs = np.array([one_euro_cutoffs(s) for s in strengths])  # (R, 2)
    R = len(strengths)
    min_cutoff, beta = cutoffs[:, 0].reshape(R, 1, 1), cutoffs[:, 1].reshape(R, 1, 1)
    T, N, D = x.shape
    step = max(1, _LADDER_BYTES // (R * T * D * x.itemsize))
    for lo in range(0, N, step):
        part = x[:, lo:lo + step]
        # Every rung at once (T, R, n, D): one pass over the frames instead of one per rung.
        y = _zero_phase(np.broadcast_to(part[:, None], (T, R) + part.shape[1:]), rate, min_cutoff, beta)
        change = np.sqrt(np.mean(np.sum((y - part[:, None]) ** 2, axis=-1), axis=0))  # (R, n)
        ok = change <= sigma[lo:lo + step]
        rung = ok.argmax(axis=0)  # the strongest rung within the noise
        for j in np.flatnonzero(ok.any(axis=0)):
            out[:, lo + j] = y[:, rung[j], j]
            used[lo + j] = strengths[rung[j]]
    return out, used


def smooth_rotations(axis_angle: np.ndarray, rate: float, strength: float) -> np.ndarray:
    """(T, J, 3) axis-angle joint rotations, smoothed over time; same shape.

    ``strength`` is the most any joint is filtered; each joint gets as much
    as its own noise calls for (:func:`one_euro_within_noise`).
    """
    if strength <= 0 or axis_angle.shape[0] < 3:
        return np.asarray(axis_angle).copy()
    q = quat_sign_continuous(axis_angle_to_quat_wxyz(np.asarray(axis_angle, np.float64)))
    q, _ = one_euro_within_noise(q, rate, strength)
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    return quat_wxyz_to_axis_angle(q)
