"""Sync videos without sound from the person's 2-D keypoints: epipolar consistency over candidate offsets.

Projected speeds depend on the view (a step towards one camera is a step
sideways for another), so the offset is found geometrically: for cameras
that stay put, one fundamental matrix relates every frame of two views only
at the true offset. A spanning set of pairs is scanned (``scored_pairs``: each
view against view 0 and against the next view); the offsets of all views are
then chosen together, so pairs that see the motion well outvote a pair fooled
by a stretch where the person hardly moves.
"""

from __future__ import annotations

import numpy as np

from ..errors import MocapError
from ..landmarks import BODY, PoseSequence
from .epipolar import fundamental_from_points, sampson_distance
from .timebase import interpolate_at, join_pairs, parabola_minimum, sample_times

COARSE_STEP = 0.1
"""Seconds between the offsets the motion sync tries first, before refining around the best."""
MOTION_MIN_OVERLAP = 0.5
"""Offsets leaving two views less than this share of the shorter one in common are not considered."""
COARSE_PAIRS = 800
"""Keypoint pairs (spread over the overlap) each offset of the coarse scan is scored on."""

# The joints the motion sync matches across views: limbs, head and hips (not the face details).
_MOTION_JOINTS = np.array([BODY[n] for n in (
    "nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot_index",
    "right_foot_index")])


def _view_points(seq: PoseSequence, min_visibility: float) -> tuple[np.ndarray, np.ndarray]:
    """(times (T,), uv (T, J, 2)) of the motion joints, NaN where missing or barely visible."""
    body = seq.body_2d[:, _MOTION_JOINTS].astype(np.float64)
    uv = np.where((body[..., 2:3] >= min_visibility), body[..., :2], np.nan)
    if np.isfinite(uv).all(-1).sum() < 16:
        raise MocapError("motion sync: no person was found in one of the videos")
    return sample_times(seq), uv


def _epipolar_residual(view_a: tuple[np.ndarray, np.ndarray], view_b: tuple[np.ndarray, np.ndarray], lag: float,
                       min_pairs: int, max_pairs: int | None = None,
                       start: np.ndarray | None = None) -> tuple[float, np.ndarray | None]:
    """Score (pixels) of the best fundamental matrix when video b lags video a by ``lag`` seconds, and that F.

    The moment at time ``s`` in video a is at ``s - lag`` in video b. Static
    cameras see every moment through one fundamental matrix, so only the true
    lag lets one F explain all frames. The score is the median Sampson
    distance times sqrt(most pairs any lag can have / pairs at this lag): a
    short overlap, where the person may hardly move, fits any lag, so its
    residual is trusted less (a median's spread shrinks with the square root
    of the count). inf and None when fewer than ``min_pairs`` pairs overlap.
    """
    (times_a, uv_a), (times_b, uv_b) = view_a, view_b
    other = interpolate_at(times_b, uv_b, times_a - lag)
    ok = np.isfinite(uv_a).all(-1) & np.isfinite(other).all(-1)
    if ok.sum() < min_pairs:
        return np.inf, None
    x1, x2 = uv_a[ok], other[ok]
    most = min(int(np.isfinite(uv_a).all(-1).sum()), int(np.isfinite(uv_b).all(-1).sum()))
    penalty = np.sqrt(max(most, len(x1)) / len(x1))
    if max_pairs is not None and len(x1) > max_pairs:  # the coarse scan: a spread sample is enough
        pick = np.linspace(0, len(x1) - 1, max_pairs).astype(int)
        x1, x2 = x1[pick], x2[pick]
    F = fundamental_from_points(x1, x2, start=start)
    return float(np.median(sampson_distance(F, x1, x2))) * penalty, F


def _scan(view_a, view_b, lags: np.ndarray, min_pairs: int, max_pairs: int | None = None,
          start: np.ndarray | None = None) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """Residuals (and fitted F) at every lag; ``start`` warm-starts each fit."""
    found = [_epipolar_residual(view_a, view_b, float(lag), min_pairs, max_pairs, start) for lag in lags]
    return np.array([r for r, _ in found]), [F for _, F in found]


def _coarse_curve(view_a, view_b, max_offset: float) -> tuple[np.ndarray, np.ndarray, list[np.ndarray | None]]:
    """(lags, scores, fitted F) every ``COARSE_STEP`` seconds over the lags that overlap enough."""
    span_a = view_a[0][-1] - view_a[0][0]
    span_b = view_b[0][-1] - view_b[0][0]
    joints = view_a[1].shape[1]
    min_pairs = max(int(MOTION_MIN_OVERLAP * min(len(view_a[0]), len(view_b[0])) * joints * 0.5), 24)
    lo = max(-max_offset, view_a[0][0] - view_b[0][-1] + MOTION_MIN_OVERLAP * min(span_a, span_b))
    hi = min(max_offset, view_a[0][-1] - view_b[0][0] - MOTION_MIN_OVERLAP * min(span_a, span_b))
    lags = np.arange(lo, hi + 1e-9, COARSE_STEP) if hi >= lo else np.zeros(0)
    scores, fits = _scan(view_a, view_b, lags, min_pairs, COARSE_PAIRS)
    return lags, scores, fits


def _local_minima(lags: np.ndarray, scores: np.ndarray, count: int) -> list[float]:
    """The lags of the ``count`` lowest local minima of a curve (finite scores only)."""
    s = np.where(np.isfinite(scores), scores, np.inf)
    left = np.concatenate([[np.inf], s[:-1]])
    right = np.concatenate([s[1:], [np.inf]])
    idx = np.flatnonzero((s <= left) & (s <= right) & np.isfinite(s))
    return [float(lags[i]) for i in idx[np.argsort(s[idx])][:count]]


def _joint_offsets(curves: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]], C: int,
                   what: str) -> np.ndarray:
    """(C,) coarse offsets minimising the summed, per-pair normalised scores of all pairs at once.

    One pair alone can be fooled (a stretch where the person hardly moves
    fits any lag); the offsets of all views must agree pair by pair, so the
    pairs that see the motion well outvote it. Coordinate descent from the
    offsets the pairs with view 0 suggest, over candidates from every
    pair's lowest minima chained through the others.
    """
    def cost(i: int, j: int, lag: float) -> float:
        lags, scores = curves[(i, j)]
        if len(lags) == 0 or lag < lags[0] - 1e-9 or lag > lags[-1] + 1e-9:
            return 3.0  # outside the overlap this pair can judge: as bad as a clear mismatch
        value = float(np.interp(lag, lags, scores))
        return min(value, 3.0) if np.isfinite(value) else 3.0

    def total(offsets: np.ndarray, view: int) -> float:
        return sum(cost(min(view, k), max(view, k), (offsets[k] - offsets[view]) * (-1 if k < view else 1))
                   for k in range(C) if k != view and (min(view, k), max(view, k)) in curves)

    offsets = np.zeros(C)
    for j in range(1, C):
        best = _local_minima(*curves[(0, j)], 1)
        offsets[j] = best[0] if best else 0.0
    for _ in range(3):
        for j in range(1, C):
            candidates = {float(offsets[j])}
            for i in range(C):
                if i != j and (min(i, j), max(i, j)) in curves:
                    key = (min(i, j), max(i, j))
                    sign = 1.0 if i < j else -1.0
                    candidates |= {offsets[i] + sign * m for m in _local_minima(*curves[key], 3)}
            trial = offsets.copy()
            scored = []
            for c in sorted(candidates):
                trial[j] = c
                scored.append((total(trial, j), c))
            offsets[j] = min(scored)[1]
            rivals = [v for v, c in scored if abs(c - offsets[j]) > 0.3]
            if rivals and min(rivals) < min(scored)[0] + 0.02 * sum((min(j, k), max(j, k)) in curves for k in range(C)):
                raise MocapError(f"{what}: the movements match at several offsets (a repetitive or too small "
                                 "motion?): record a clear single gesture at the start, or give --offsets")
    return offsets


def _refine_lag(view_a, view_b, lag: float, step: float, start: np.ndarray | None) -> tuple[float, float]:
    """(lag, score) refined within one coarse step of ``lag`` on a ``step`` grid, then a parabola."""
    min_pairs = 24
    fine = lag + np.arange(-COARSE_STEP, COARSE_STEP + 1e-9, step)
    residuals, _ = _scan(view_a, view_b, fine, min_pairs, start=start)
    if not np.isfinite(residuals).any():
        return lag, np.inf
    k = int(np.argmin(residuals))
    lag = float(fine[k])
    if 0 < k < len(fine) - 1 and np.isfinite(residuals[k - 1:k + 2]).all():
        lag += step * parabola_minimum(*residuals[k - 1:k + 2])
    return lag, float(residuals[k])


ALL_PAIRS_UP_TO = 4
"""Views up to which the motion sync scores every pair (6 scans for 4 views)."""


def scored_pairs(C: int) -> list[tuple[int, int]]:
    """The pairs of views the motion sync scores: every pair up to ``ALL_PAIRS_UP_TO`` views, else a spanning
    set, every view with view 0 and each with the next one.

    In the spanning set every view is tied to the others through two pairs (so one fooled pair is outvoted),
    in 2C - 3 scans instead of every pair's C(C - 1)/2: 13 instead of 28 for 8 cameras. On the rendered
    four-phone take the spanning set (5 pairs) synced within 0.80 frame, all 6 pairs within 0.60.
    """
    if C <= ALL_PAIRS_UP_TO:
        return [(i, j) for i in range(C) for j in range(i + 1, C)]
    return sorted({(0, j) for j in range(1, C)} | {(j, j + 1) for j in range(1, C - 1)})


def motion_offsets(seqs: list[PoseSequence], *, max_offset: float = 10.0, min_visibility: float = 0.5) -> np.ndarray:
    """(C,) seconds each view's video starts after view 0's, from the 2-D keypoint motion.

    Speeds of projected joints depend on the view (a step towards one camera
    is a step sideways for another), so the offset is found geometrically:
    for static cameras one fundamental matrix relates all frames of two views
    only at the true offset. Each pair of ``scored_pairs`` is scanned every 0.1 s within
    ``max_offset`` seconds; the offsets of all views are chosen together
    (``_joint_offsets``), then each pair is refined on a grid of a quarter of
    the faster view's frame with a parabola through the smallest residual,
    and the pairs are combined by weighted least squares. Views may have
    different frame rates. Raises MocapError when the motion gives no clear
    answer.
    """
    C = len(seqs)
    if C < 2:
        raise MocapError("syncing needs at least two videos")
    views = [_view_points(seq, min_visibility) for seq in seqs]
    step = 0.25 / max(float(seq.fps) for seq in seqs)
    curves, starts = {}, {}
    for i, j in scored_pairs(C):
        lags, scores, fits = _coarse_curve(views[i], views[j], max_offset)
        typical = float(np.median(scores[np.isfinite(scores)])) if np.isfinite(scores).any() else np.inf
        curves[(i, j)] = (lags, scores / typical if np.isfinite(typical) else scores)
        starts[(i, j)] = (lags, fits)
    if not any(np.isfinite(s).any() for _, s in curves.values()):
        raise MocapError("motion sync: too few frames show the person in two videos to synchronise them")
    coarse = _joint_offsets(curves, C, "motion sync")
    pairs: dict[tuple[int, int], tuple[float, float]] = {}
    for (i, j), (lags, fits) in starts.items():
        lag = coarse[j] - coarse[i]
        if len(lags) == 0 or not lags[0] - 1e-9 <= lag <= lags[-1] + 1e-9:
            continue
        nearest = fits[int(np.argmin(np.abs(lags - lag)))]
        refined, residual = _refine_lag(views[i], views[j], lag, step, nearest)
        if np.isfinite(residual):
            # Video j shows moment s of video i at s - lag: it started lag seconds later.
            pairs[(i, j)] = (refined, 1.0 / max(residual, 0.1) ** 2)
    return join_pairs(C, pairs)
