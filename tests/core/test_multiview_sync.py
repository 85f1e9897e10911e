"""Sync: a known start offset is found from the sound tracks and from the keypoint motion, to a fraction of a frame."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from core.errors import MocapError
from core.multiview.sync import audio_offsets, motion_offsets, resample, sample_times
from tests.core.multiview_synth import look_at_rig, observe, ring, sequence, skeleton
from tests.core.video_frames import ffmpeg

RATE = 48000


def _scene_audio(duration: float, seed: int) -> np.ndarray:
    """(N,) the sound of the scene: quiet hiss, a clap at 1.3 s and footsteps at irregular times."""
    rng = np.random.default_rng(seed)
    sound = rng.normal(0.0, 0.002, int(duration * RATE))
    for when, loudness in ((1.3, 0.8), (2.45, 0.2), (3.1, 0.25), (3.62, 0.2), (4.5, 0.3)):
        start = int(when * RATE)
        burst = rng.normal(0.0, loudness, int(0.03 * RATE)) * np.exp(-np.arange(int(0.03 * RATE)) / (0.006 * RATE))
        sound[start:start + len(burst)] += burst
    return sound


def _write_wav(path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32000).astype("<i2").tobytes())


def _phone_recording(tmp_path, name: str, scene: np.ndarray, start: float, gain: float, fps: int,
                     seed: int) -> object:
    """An MP4 (tiny video + AAC sound) that started recording ``start`` seconds into the scene."""
    rng = np.random.default_rng(seed)
    part = scene[int(start * RATE):] * gain + rng.normal(0.0, 0.003, len(scene) - int(start * RATE))
    wav = tmp_path / f"{name}.wav"
    _write_wav(wav, part)
    out = tmp_path / f"{name}.mp4"
    ffmpeg("-f", "lavfi", "-i", f"color=c=gray:s=64x48:r={fps}", "-i", str(wav), "-shortest",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", str(out))
    return out


def test_audio_offsets_find_known_starts_within_half_a_frame(tmp_path):
    scene = _scene_audio(7.0, seed=1)
    starts = [0.25, 0.9137, 0.0]  # seconds into the scene each phone started
    videos = [_phone_recording(tmp_path, f"v{i}", scene, s, gain, fps, seed=i)
              for i, (s, gain, fps) in enumerate(zip(starts, (1.0, 0.3, 2.0), (30, 25, 30)))]
    offsets = audio_offsets(videos)
    assert offsets is not None
    truth = np.array(starts) - starts[0]
    err_frames = np.abs(offsets - truth) * 30
    assert err_frames.max() < 0.25, (offsets, truth)


def test_audio_offsets_none_without_sound_and_error_when_ambiguous(tmp_path):
    silent = tmp_path / "silent.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=64x48:r=25", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
           str(silent))
    scene = _scene_audio(5.0, seed=2)
    loud = _phone_recording(tmp_path, "loud", scene, 0.0, 1.0, 25, seed=3)
    assert audio_offsets([loud, silent]) is None
    # A metronome: identical ticks every 0.5 s match at many offsets.
    ticks = np.random.default_rng(4).normal(0.0, 0.002, 5 * RATE)
    click = np.random.default_rng(5).normal(0.0, 0.5, 600)
    for k in range(10):
        ticks[k * RATE // 2: k * RATE // 2 + 600] += click
    videos = [_phone_recording(tmp_path, f"tick{i}", ticks, s, 1.0, 25, seed=6 + i) for i, s in enumerate((0, 1.1))]
    with pytest.raises(MocapError, match="several offsets"):
        audio_offsets(videos)


@pytest.mark.parametrize("fps", [(25.0, 30.0), (30.0, 30.0)])
def test_motion_offsets_find_known_starts_at_mixed_frame_rates(fps):
    rig = look_at_rig(ring(3, 150.0))
    starts = np.array([0.4, 1.234, 0.0])  # seconds into the performance each camera started
    rates = [fps[0], fps[1], fps[0]]
    seqs = []
    for c in range(3):
        times = starts[c] + np.arange(int(9.0 * rates[c])) / rates[c]
        body = observe(rig, skeleton(times, seed=7), noise_px=1.5, seed=c)[c]
        seqs.append(sequence(body, rates[c]))
    seqs[1].body_2d[40:55] = np.nan  # a gap in one view
    offsets = motion_offsets(seqs)
    truth = starts - starts[0]
    err_frames = np.abs(offsets - truth) * max(fps)
    assert err_frames.max() < 0.5, (offsets, truth)


def test_resample_onto_common_frames_keeps_gaps_missing():
    body = np.zeros((50, 33, 3), np.float32)
    body[..., 0] = np.arange(50)[:, None] * 10.0  # x moves 10 px a frame at 25 fps
    body[..., 2] = 1.0
    body[20] = np.nan
    seq = sequence(body, 25.0, first_frame=0)
    out = resample(seq, offset_seconds=0.5, fps=30.0, num_frames=80)
    assert out.num_frames == 80 and out.fps == 30.0
    times = np.arange(80) / 30.0 - 0.5  # video time of each common frame
    inside = (times >= 0) & (times <= 49 / 25)
    near_gap = np.abs(times * 25 - 20) < 1
    ok = inside & ~near_gap
    np.testing.assert_allclose(out.body_2d[ok, 0, 0], times[ok] * 250.0, atol=1e-3)
    assert np.isnan(out.body_2d[~inside | near_gap, 0, 0]).all()
    assert (out.present == ok).all()
    np.testing.assert_allclose(sample_times(sequence(body, 10.0, first_frame=4))[:2], [0.4, 0.5])
