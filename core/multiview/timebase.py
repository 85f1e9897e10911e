"""Times of stored frames, a sub-sample minimum, and joining pairwise time offsets into one offset per video.

Shared by the sound and motion sync (``sync``, ``motion_sync``).
"""

from __future__ import annotations

import numpy as np

from ..errors import MocapError
from ..landmarks import PoseSequence


def sample_times(seq: PoseSequence) -> np.ndarray:
    """(T,) seconds since the start of the video of each stored frame of ``seq``.

    ``seq.fps`` is the rate of the stored frames (video fps / stride), so the
    video's own rate is ``seq.fps`` times the stride between frame indices.
    """
    idx = np.asarray(seq.frame_indices, np.float64)
    steps = np.diff(idx)
    stride = float(np.median(steps[steps > 0])) if (steps > 0).any() else 1.0
    return idx / (float(seq.fps) * stride)


def bracket(times: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pos, nxt, w), each (N,): the stored samples around each time ``at`` (N,) among increasing ``times`` (T,)
    and the weight in [0, 1] of ``nxt`` in a linear interpolation between them (clamped at either end)."""
    pos = np.clip(np.searchsorted(times, at, side="right") - 1, 0, max(len(times) - 2, 0))
    nxt = np.minimum(pos + 1, len(times) - 1)
    span = times[nxt] - times[pos]
    w = np.clip(np.where(span > 0, (at - times[pos]) / np.where(span > 0, span, 1.0), 0.0), 0.0, 1.0)
    return pos, nxt, w


def interpolate_at(times: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``values`` (T, ...) sampled at increasing ``times`` (T,), linearly at ``at`` (N,); NaN outside or in gaps."""
    pos, nxt, w = bracket(times, at)
    w = w.reshape((-1,) + (1,) * (values.ndim - 1))
    out = (1 - w) * values[pos] + w * values[nxt]  # NaN at either end stays NaN
    out[(at < times[0] - 1e-9) | (at > times[-1] + 1e-9)] = np.nan
    return out


def parabola_minimum(left: float, mid: float, right: float) -> float:
    """Where, in samples from the middle one (within half a sample), the parabola through three equally spaced
    scores has its minimum; 0 when it opens downwards or is flat (no minimum to refine)."""
    denom = left - 2 * mid + right
    return float(np.clip(0.5 * (left - right) / denom, -0.5, 0.5)) if denom > 0 else 0.0


def join_pairs(n: int, pairs: dict[tuple[int, int], tuple[float, float]]) -> np.ndarray:
    """Offsets of n signals (offset[0] = 0) from pairwise differences ``offset[j] - offset[i]``, weighted.

    ``pairs`` maps (i, j) to (difference, weight); every video must be linked to video 0 through them.
    """
    linked = {0}
    for _ in range(n):
        linked |= {k for pair in pairs for k in pair if set(pair) & linked}
    if len(linked) < n:
        missing = sorted(set(range(n)) - linked)
        raise MocapError(f"sync: video(s) {[k + 1 for k in missing]} could not be related in time to the others "
                         "(too little overlap or motion): give the offsets with --offsets")
    rows, rhs, weights = [], [], []
    for (i, j), (diff, weight) in pairs.items():
        row = np.zeros(n)
        row[j], row[i] = 1.0, -1.0
        rows.append(row)
        rhs.append(diff)
        weights.append(max(weight, 1e-3))
    A = np.array(rows)[:, 1:] * np.sqrt(weights)[:, None]
    b = np.array(rhs) * np.sqrt(weights)
    sol = np.linalg.lstsq(A, b, rcond=None)[0]
    return np.concatenate([[0.0], sol])
