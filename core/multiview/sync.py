"""Put unsynchronised videos of one performance on one time base: offsets from sound or from motion.

An offset is the number of seconds a video started *after* video 0 (so
``offset[0] == 0``): the same moment at time ``t`` in video 0 is at
``t - offset[i]`` in video ``i``. Both estimators score every candidate
offset with a view-independent measure and fit a parabola through the best
score, so offsets are sub-frame:

- ``audio_offsets``: the onset envelope (spectral flux) of each sound track,
  sampled every 5 ms. A clap or footsteps reach every phone within a
  millisecond or two (sound travels 3.4 m in 10 ms), so the tracks agree.
- ``motion_offsets`` (in ``motion_sync``): the 2-D body keypoints. Projected
  speeds depend on the view, so the offset is found geometrically instead:
  for cameras that stay put, one fundamental matrix relates every frame of
  two views only at the true offset.

``resample`` then puts a ``PoseSequence`` onto the common frames, and
``resample_views`` all views onto the frames they share.
"""

from __future__ import annotations

import subprocess
from dataclasses import fields
from pathlib import Path

import numpy as np

from ..errors import MocapError
from ..landmarks import PoseSequence
from .motion_sync import motion_offsets
from .timebase import bracket, join_pairs, parabola_minimum, sample_times

__all__ = ["audio_offsets", "motion_offsets", "read_audio", "onset_envelope", "resample", "resample_views",
           "sample_times"]

AUDIO_RATE = 16000
"""Hz: the sound tracks are decoded to mono at this rate (claps and steps live well below 8 kHz)."""
ONSET_HOP = 80
"""Samples between onset-envelope values: 5 ms, a sixth of a frame at 30 fps before the peak fit."""
ONSET_WINDOW = 512
AMBIGUOUS_RATIO = 0.8
"""A second correlation peak this high relative to the best makes the offset ambiguous."""
MIN_OVERLAP = 0.3
"""Lags that overlap less than this fraction of the shorter signal are not considered."""

# ---------------------------------------------------------------------------- correlation


def _masked_correlation(a: np.ndarray, b: np.ndarray, min_overlap: int) -> np.ndarray:
    """Normalised cross-correlation of (N, C) and (M, C) signals with NaN gaps, at every lag.

    Returns (N + M - 1,) scores; index ``k`` is lag ``k - (M - 1)``, the shift
    with ``b[n] ~ a[n + lag]``. Each channel is z-scored over its valid
    samples; a lag's score is the summed product over the samples valid in
    both, divided by the channel count and by the square root of their
    count times the shorter signal's length: gaps and partial overlaps
    neither inflate a lag nor hide it. Lags overlapping fewer than ``min_overlap``
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
    # Dividing by the overlap alone would let a short overlap holding one matching event score as high as the
    # whole take; by its square root times the shorter signal's length, longer agreement counts for more.
    norm = np.sqrt(np.maximum(counts, 1) * min(za.shape[0], zb.shape[0])) * max(za.shape[1], 1)
    scores = np.where(counts >= min_overlap, products / norm, -np.inf)
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
        lag += parabola_minimum(-scores[k - 1], -best, -scores[k + 1])
    far = np.abs(np.arange(len(scores)) - k) > separation
    rival = float(scores[far].max()) if far.any() and np.isfinite(scores[far]).any() else -np.inf
    return lag, best, rival


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
    return join_pairs(len(videos), pairs)


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
    pos, nxt, w = bracket(times, want)
    eps = 1e-6
    inside = (want >= times[0] - eps) & (want <= times[-1] + eps)
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


def resample_views(seqs: list[PoseSequence], offsets: np.ndarray,
                   fps: float | None = None) -> tuple[list[PoseSequence], float]:
    """Every view on the same frames, spanning the time two or more views overlap.

    ``offsets`` (C,) as from ``audio_offsets`` / ``motion_offsets``; ``fps``
    defaults to the fastest view's rate. Returns the resampled views and the
    time of their frame 0 in seconds on video 0's clock (frame k is at
    ``start + k / fps``).
    """
    offsets = np.asarray(offsets, np.float64)
    if len(seqs) < 2 or offsets.shape != (len(seqs),) or not np.isfinite(offsets).all():
        raise MocapError(f"resampling needs two or more views and one finite offset each (got {len(seqs)} views, "
                         f"offsets {offsets.tolist()})")
    rate = float(fps) if fps is not None else max(float(seq.fps) for seq in seqs)
    firsts, lasts = [], []
    for seq, offset in zip(seqs, offsets):
        times = sample_times(seq)
        if len(times) == 0:
            raise MocapError("resampling: a view has no frames")
        firsts.append(offset + times[0])
        lasts.append(offset + times[-1])
    start, end = sorted(firsts)[1], sorted(lasts)[-2]
    if end <= start:
        raise MocapError("the videos do not overlap in time: check the offsets")
    count = int(np.floor((end - start) * rate + 1e-6)) + 1
    return [resample(seq, float(offset) - start, rate, count) for seq, offset in zip(seqs, offsets)], float(start)
