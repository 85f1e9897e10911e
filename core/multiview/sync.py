"""Put unsynchronised videos of one performance on one time base: offsets from sound or from motion.

An offset is the number of seconds a video started *after* video 0 (so
``offset[0] == 0``): the same moment at time ``t`` in video 0 is at
``t - offset[i]`` in video ``i``. Both estimators score every candidate
offset with a view-independent measure and fit a parabola through the best
score, so offsets are sub-frame:

- ``audio_offsets``: the onset envelope (spectral flux) of each sound track,
  sampled every 5 ms. A clap or footsteps reach every phone within a
  millisecond or two (sound travels 3.4 m in 10 ms), so the tracks agree.
- ``motion_offsets``: the 2-D body keypoints. Projected speeds depend on
  the view (a step towards one camera is a step sideways for another), so
  the offset is found geometrically instead: for cameras that stay put, one
  fundamental matrix relates every frame of two views only at the true
  offset; the offset with the smallest epipolar (Sampson) residual wins.

``resample`` then puts a ``PoseSequence`` onto the common frames.
"""

from __future__ import annotations

import subprocess
from dataclasses import fields
from pathlib import Path

import numpy as np

from ..errors import MocapError
from ..landmarks import BODY, PoseSequence
from .epipolar import fundamental_from_points, sampson_distance

AUDIO_RATE = 16000
"""Hz: the sound tracks are decoded to mono at this rate (claps and steps live well below 8 kHz)."""
ONSET_HOP = 80
"""Samples between onset-envelope values: 5 ms, a sixth of a frame at 30 fps before the peak fit."""
ONSET_WINDOW = 512
COARSE_STEP = 0.1
"""Seconds between the offsets the motion sync tries first, before refining around the best."""
AMBIGUOUS_RATIO = 0.8
"""A second correlation peak this high relative to the best makes the offset ambiguous."""
MIN_OVERLAP = 0.3
"""Lags that overlap less than this fraction of the shorter signal are not considered."""

# The joints the motion sync matches across views: limbs, head and hips (not the face details).
_MOTION_JOINTS = np.array([BODY[n] for n in (
    "nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot_index",
    "right_foot_index")])


# ---------------------------------------------------------------------------- correlation


def _masked_correlation(a: np.ndarray, b: np.ndarray, min_overlap: int) -> np.ndarray:
    """Normalised cross-correlation of (N, C) and (M, C) signals with NaN gaps, at every lag.

    Returns (N + M - 1,) scores; index ``k`` is lag ``k - (M - 1)``, the shift
    with ``b[n] ~ a[n + lag]``. Each channel is z-scored over its valid
    samples; a lag's score is the summed product over the samples valid in
    both, divided by their count and the channel count, so gaps and partial
    overlaps do not bias it. Lags overlapping fewer than ``min_overlap``
    samples score -inf.
    """
    def prep(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        valid = np.isfinite(x)
        mean = np.nanmean(np.where(valid, x, np.nan), axis=0) if valid.any() else np.zeros(x.shape[1])
        std = np.nanstd(np.where(valid, x, np.nan), axis=0) if valid.any() else np.ones(x.shape[1])
        z = np.where(valid, (x - mean) / np.where(std > 1e-12, std, np.inf), 0.0)
        return z, valid.astype(np.float64)

    za, va = prep(np.asarray(a, np.float64))
    zb, vb = prep(np.asarray(b, np.float64))
    n = za.shape[0] + zb.shape[0] - 1
    size = 1 << (n - 1).bit_length()

    def xcorr(x: np.ndarray, y: np.ndarray) -> np.ndarray:  # sum over n of x[n + lag] * y[n], all lags
        spec = np.fft.rfft(x, size, axis=0) * np.conj(np.fft.rfft(y, size, axis=0))
        full = np.fft.irfft(spec, size, axis=0)
        return np.concatenate([full[size - (y.shape[0] - 1):], full[: x.shape[0]]]).sum(axis=1)

    products = xcorr(za, zb)
    counts = np.rint(xcorr(va, vb) / max(za.shape[1], 1))
    scores = np.where(counts >= min_overlap, products / np.maximum(counts, 1) / max(za.shape[1], 1), -np.inf)
    return scores


def _peak_lag(scores: np.ndarray, len_b: int, separation: int, what: str) -> tuple[float, float, float]:
    """(sub-sample lag, peak score, runner-up score) of a correlation from ``_masked_correlation``.

    The runner-up is the best score at least ``separation`` samples away
    from the peak, so the peak's own shoulders do not count as a rival.
    """
    if not np.isfinite(scores).any():
        raise MocapError(f"{what}: the recordings do not overlap enough in time to be synchronised")
    k = int(np.argmax(scores))
    best = float(scores[k])
    lag = float(k - (len_b - 1))
    if 0 < k < len(scores) - 1 and np.isfinite(scores[k - 1]) and np.isfinite(scores[k + 1]):
        # Parabola through the peak and its neighbours: its vertex is the sub-sample lag.
        left, right = scores[k - 1], scores[k + 1]
        denom = left - 2 * best + right
        if denom < 0:
            lag += float(np.clip(0.5 * (left - right) / denom, -0.5, 0.5))
    far = np.abs(np.arange(len(scores)) - k) > separation
    rival = float(scores[far].max()) if far.any() and np.isfinite(scores[far]).any() else -np.inf
    return lag, best, rival


def _join_pairs(n: int, pairs: dict[tuple[int, int], tuple[float, float]]) -> np.ndarray:
    """Offsets of n signals (offset[0] = 0) from pairwise differences ``offset[j] - offset[i]``, weighted."""
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


# ---------------------------------------------------------------------------- sound


def _ffmpeg() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        raise MocapError("syncing by sound needs FFmpeg (the imageio-ffmpeg package): install the engine's "
                         "requirements, or give the offsets with --offsets") from None
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def read_audio(video: Path, rate: int = AUDIO_RATE) -> np.ndarray | None:
    """(N,) float32 mono sound track of ``video`` at ``rate`` Hz; None when the file has no sound."""
    video = Path(video)
    if not video.is_file():
        raise MocapError(f"video {video} does not exist")
    cmd = [_ffmpeg(), "-nostdin", "-v", "error", "-i", str(video), "-map", "0:a:0?", "-vn", "-ac", "1",
           "-ar", str(rate), "-f", "f32le", "-"]
    run = subprocess.run(cmd, capture_output=True, check=False)
    if run.returncode != 0:
        message = run.stderr.decode("utf-8", "replace").strip().splitlines()
        if any("does not contain any stream" in line for line in message):
            return None
        raise MocapError(f"cannot read the sound of {video}: {message[-1] if message else 'FFmpeg failed'}")
    samples = np.frombuffer(run.stdout, np.float32)
    return samples if samples.size >= ONSET_WINDOW * 4 else None


def onset_envelope(samples: np.ndarray) -> np.ndarray:
    """(N,) mono samples at ``AUDIO_RATE`` -> (M,) onset strength every ``ONSET_HOP`` samples.

    Spectral flux: the summed rise of the log magnitude spectrum from one
    window to the next. Log magnitudes make it independent of each phone's
    gain; only rises count, so a clap's start stands out, not its echo.
    """
    x = np.asarray(samples, np.float64)
    count = 1 + (len(x) - ONSET_WINDOW) // ONSET_HOP
    frames = np.lib.stride_tricks.as_strided(x, (count, ONSET_WINDOW), (x.strides[0] * ONSET_HOP, x.strides[0]))
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(ONSET_WINDOW), axis=1))
    log_mag = np.log1p(1000.0 * spectrum / max(float(spectrum.max()), 1e-12))
    flux = np.maximum(np.diff(log_mag, axis=0), 0.0).sum(axis=1)
    # Window k+1 starts ONSET_HOP samples after window k; the rise belongs to window k+1.
    return np.concatenate([[0.0], flux])


def audio_offsets(videos: list[Path]) -> np.ndarray | None:
    """(C,) seconds each video starts after video 0, from the sound tracks; None when one has no sound.

    Raises MocapError when the sound gives no clear answer (no distinct event
    such as a clap, or a repeating rhythm that matches at several offsets).
    """
    if len(videos) < 2:
        raise MocapError("syncing needs at least two videos")
    envelopes = []
    for video in videos:
        samples = read_audio(Path(video))
        if samples is None:
            return None
        envelopes.append(onset_envelope(samples)[:, None])
    hop_seconds = ONSET_HOP / AUDIO_RATE
    pairs: dict[tuple[int, int], tuple[float, float]] = {}
    for i in range(len(videos)):
        for j in range(i + 1, len(videos)):
            a, b = envelopes[i], envelopes[j]
            scores = _masked_correlation(a, b, int(MIN_OVERLAP * min(len(a), len(b))))
            lag, best, rival = _peak_lag(scores, len(b), int(0.1 / hop_seconds), "sound sync")
            if not best > 0 or rival > AMBIGUOUS_RATIO * best:
                raise MocapError(
                    f"the sound tracks of {Path(videos[i]).name} and {Path(videos[j]).name} match at several "
                    "offsets: clap once, sharply, at the start of the take, or give the offsets with --offsets")
            pairs[(i, j)] = (lag * hop_seconds, best)
    return _join_pairs(len(videos), pairs)


# ---------------------------------------------------------------------------- motion


def sample_times(seq: PoseSequence) -> np.ndarray:
    """(T,) seconds since the start of the video of each stored frame of ``seq``.

    ``seq.fps`` is the rate of the stored frames (video fps / stride), so the
    video's own rate is ``seq.fps`` times the stride between frame indices.
    """
    idx = np.asarray(seq.frame_indices, np.float64)
    steps = np.diff(idx)
    stride = float(np.median(steps[steps > 0])) if (steps > 0).any() else 1.0
    return idx / (float(seq.fps) * stride)


def _interpolate(times: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``values`` (T, ...) sampled at increasing ``times`` (T,), linearly at ``at`` (N,); NaN outside or in gaps."""
    pos = np.clip(np.searchsorted(times, at, side="right") - 1, 0, max(len(times) - 2, 0))
    nxt = np.minimum(pos + 1, len(times) - 1)
    span = times[nxt] - times[pos]
    w = np.clip(np.where(span > 0, (at - times[pos]) / np.where(span > 0, span, 1.0), 0.0), 0.0, 1.0)
    w = w.reshape((-1,) + (1,) * (values.ndim - 1))
    out = (1 - w) * values[pos] + w * values[nxt]  # NaN at either end stays NaN
    out[(at < times[0] - 1e-9) | (at > times[-1] + 1e-9)] = np.nan
    return out


def _view_points(seq: PoseSequence, min_visibility: float) -> tuple[np.ndarray, np.ndarray]:
    """(times (T,), uv (T, J, 2)) of the motion joints, NaN where missing or barely visible."""
    body = seq.body_2d[:, _MOTION_JOINTS].astype(np.float64)
    uv = np.where((body[..., 2:3] >= min_visibility), body[..., :2], np.nan)
    if np.isfinite(uv).all(-1).sum() < 16:
        raise MocapError("motion sync: no person was found in one of the videos")
    return sample_times(seq), uv


def _epipolar_residual(view_a: tuple[np.ndarray, np.ndarray], view_b: tuple[np.ndarray, np.ndarray], lag: float,
                       min_pairs: int) -> float:
    """Median Sampson distance (pixels) of the best fundamental matrix when video b lags video a by ``lag`` s.

    The moment at time ``s`` in video a is at ``s - lag`` in video b. Static
    cameras see every moment through one fundamental matrix, so only the true
    lag lets one F explain all frames; inf when too few pairs overlap.
    """
    (times_a, uv_a), (times_b, uv_b) = view_a, view_b
    other = _interpolate(times_b, uv_b, times_a - lag)
    ok = np.isfinite(uv_a).all(-1) & np.isfinite(other).all(-1)
    if ok.sum() < min_pairs:
        return np.inf
    x1, x2 = uv_a[ok], other[ok]
    F = fundamental_from_points(x1, x2)
    return float(np.median(sampson_distance(F, x1, x2)))


def _scan(view_a, view_b, lags: np.ndarray, min_pairs: int) -> np.ndarray:
    return np.array([_epipolar_residual(view_a, view_b, float(lag), min_pairs) for lag in lags])


def _pair_lag(view_a, view_b, max_offset: float, step: float, what: str) -> tuple[float, float]:
    """(lag of video b behind video a in seconds, residual at it), coarse-to-fine with a parabola at the end."""
    span_a = view_a[0][-1] - view_a[0][0]
    span_b = view_b[0][-1] - view_b[0][0]
    joints = view_a[1].shape[1]
    min_pairs = max(int(MIN_OVERLAP * min(len(view_a[0]), len(view_b[0])) * joints * 0.5), 24)
    lo = max(-max_offset, view_a[0][0] - view_b[0][-1] + MIN_OVERLAP * min(span_a, span_b))
    hi = min(max_offset, view_a[0][-1] - view_b[0][0] - MIN_OVERLAP * min(span_a, span_b))
    if hi < lo:
        raise MocapError(f"{what}: the videos do not overlap enough in time to be synchronised")
    coarse = np.arange(lo, hi + 1e-9, COARSE_STEP)
    residuals = _scan(view_a, view_b, coarse, min_pairs)
    if not np.isfinite(residuals).any():
        raise MocapError(f"{what}: too few frames show the person in both videos to synchronise them")
    best = int(np.argmin(residuals))
    far = np.abs(coarse - coarse[best]) > 0.3
    rival = float(residuals[far].min()) if far.any() else np.inf
    if rival < residuals[best] / AMBIGUOUS_RATIO:
        raise MocapError(f"{what}: the movements match at several offsets (a repetitive or too small motion?): "
                         "record a clear single gesture at the start, or give --offsets")
    fine = coarse[best] + np.arange(-COARSE_STEP, COARSE_STEP + 1e-9, step)
    residuals = _scan(view_a, view_b, fine, min_pairs)
    k = int(np.argmin(residuals))
    lag = float(fine[k])
    if 0 < k < len(fine) - 1 and np.isfinite(residuals[k - 1:k + 2]).all():
        left, mid, right = residuals[k - 1:k + 2]
        denom = left - 2 * mid + right
        if denom > 0:
            lag += step * float(np.clip(0.5 * (left - right) / denom, -0.5, 0.5))
    return lag, float(residuals[k])


def motion_offsets(seqs: list[PoseSequence], *, max_offset: float = 10.0, min_visibility: float = 0.5) -> np.ndarray:
    """(C,) seconds each view's video starts after view 0's, from the 2-D keypoint motion.

    Speeds of projected joints depend on the view (a step towards one camera
    is a step sideways for another), so the offset is found geometrically:
    for static cameras one fundamental matrix relates all frames of two views
    only at the true offset. Each pair is scanned every 0.1 s within
    ``max_offset`` seconds, refined on a grid of a quarter of the faster
    view's frame, then a parabola through the smallest residual; views may
    have different frame rates. Raises MocapError when the motion gives no
    clear answer.
    """
    if len(seqs) < 2:
        raise MocapError("syncing needs at least two videos")
    views = [_view_points(seq, min_visibility) for seq in seqs]
    step = 0.25 / max(float(seq.fps) for seq in seqs)
    pairs: dict[tuple[int, int], tuple[float, float]] = {}
    for i in range(len(seqs)):
        for j in range(i + 1, len(seqs)):
            lag, residual = _pair_lag(views[i], views[j], max_offset, step, "motion sync")
            # Video j shows moment s of video i at s - lag: it started lag seconds later.
            pairs[(i, j)] = (lag, 1.0 / max(residual, 0.1) ** 2)
    return _join_pairs(len(seqs), pairs)


# ---------------------------------------------------------------------------- resampling


def resample(seq: PoseSequence, offset_seconds: float, fps: float, num_frames: int) -> PoseSequence:
    """``seq`` on the common time base: frame k shows common time ``k / fps`` (video 0's clock).

    Common time ``s`` is video time ``s - offset_seconds``. Every landmark
    array is interpolated linearly between the two stored frames around that
    time; where either is missing (NaN), or the time is outside the video,
    the result is missing too. ``frame_indices`` become 0..num_frames-1 of
    the common base.
    """
    if not fps > 0 or num_frames < 1:
        raise MocapError(f"resample: needs a positive frame rate and frame count (got {fps}, {num_frames})")
    out = PoseSequence.empty(num_frames, fps, (int(seq.image_size[0]), int(seq.image_size[1])))
    times = sample_times(seq)
    want = np.arange(num_frames) / fps - offset_seconds
    if seq.num_frames == 0:
        return out
    pos = np.clip(np.searchsorted(times, want, side="right") - 1, 0, max(seq.num_frames - 2, 0))
    nxt = np.minimum(pos + 1, seq.num_frames - 1)
    span = times[nxt] - times[pos]
    w = np.where(span > 0, (want - times[pos]) / np.where(span > 0, span, 1.0), 0.0)
    eps = 1e-6
    inside = (want >= times[0] - eps) & (want <= times[-1] + eps)
    w = np.clip(w, 0.0, 1.0)
    for f in fields(PoseSequence):
        src = getattr(seq, f.name)
        if not isinstance(src, np.ndarray) or src.dtype.kind != "f" or src.shape[:1] != (seq.num_frames,):
            continue
        wk = w.reshape((-1,) + (1,) * (src.ndim - 1))
        a, b = src[pos].astype(np.float64), src[nxt].astype(np.float64)
        # An exact hit on a stored frame takes it as it is, even beside a gap.
        value = np.where(wk <= eps, a, np.where(wk >= 1 - eps, b, (1 - wk) * a + wk * b))
        value[~inside] = np.nan
        setattr(out, f.name, value.astype(src.dtype))
    hit_a, hit_b = w <= eps, w >= 1 - eps
    out.present = inside & ((hit_a & seq.present[pos]) | (hit_b & seq.present[nxt])
                            | (seq.present[pos] & seq.present[nxt]))
    return out
