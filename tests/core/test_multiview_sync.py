"""Sync: a known start offset is found from the sound tracks and from the keypoint motion, to a fraction of a frame."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import MocapError
from core.multiview.sync import audio_offsets, motion_offsets, resample, resample_views, sample_times
from tests.testdata.multiview_scenes import (AUDIO_RATE, look_at_rig, observe, phone_recording, ring, scene_audio,
                                             sequence, silent_video, skeleton)


def test_audio_offsets_find_known_starts_within_half_a_frame(tmp_path):
    scene = scene_audio(7.0, seed=1)
    starts = [0.25, 0.9137, 0.0]  # seconds into the scene each phone started
    videos = [phone_recording(tmp_path, f"v{i}", scene, s, gain, fps, seed=i)
              for i, (s, gain, fps) in enumerate(zip(starts, (1.0, 0.3, 2.0), (30, 25, 30)))]
    offsets = audio_offsets(videos)
    assert offsets is not None
    truth = np.array(starts) - starts[0]
    err_frames = np.abs(offsets - truth) * 30
    assert err_frames.max() < 0.25, (offsets, truth)


def test_audio_offsets_none_without_sound_and_error_when_ambiguous(tmp_path):
    silent = silent_video(tmp_path / "silent.mp4")
    scene = scene_audio(5.0, seed=2)
    loud = phone_recording(tmp_path, "loud", scene, 0.0, 1.0, 25, seed=3)
    assert audio_offsets([loud, silent]) is None
    # A metronome: identical ticks every 0.5 s match at many offsets.
    ticks = np.random.default_rng(4).normal(0.0, 0.002, 5 * AUDIO_RATE)
    click = np.random.default_rng(5).normal(0.0, 0.5, 600)
    for k in range(10):
        ticks[k * AUDIO_RATE // 2: k * AUDIO_RATE // 2 + 600] += click
    videos = [phone_recording(tmp_path, f"tick{i}", ticks, s, 1.0, 25, seed=6 + i) for i, s in enumerate((0, 1.1))]
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


def test_views_resampled_onto_the_frames_two_views_share():
    rig = look_at_rig(ring(3, 120.0))
    starts = np.array([0.5, 0.0, 2.0])  # video 1 started first, video 2 last
    lengths = [4.0, 3.0, 3.0]  # seconds; the views overlap pairwise from 0.5 s to 4.5 s of the performance
    rates = [30.0, 25.0, 30.0]
    seqs = []
    for c in range(3):
        times = starts[c] + np.arange(int(lengths[c] * rates[c])) / rates[c]
        seqs.append(sequence(observe(rig, skeleton(times, seed=2))[c], rates[c]))
    views, start = resample_views(seqs, starts - starts[0])
    assert start == pytest.approx(0.0)  # video 0's first frame: from then on two views see the person
    assert all(v.fps == 30.0 and v.num_frames == views[0].num_frames for v in views)
    end = start + (views[0].num_frames - 1) / 30.0
    assert end == pytest.approx(starts[0] + lengths[0] - 1 / 30.0 - starts[0], abs=1 / 30.0)
    # Frame k of every view shows the same moment: compare with the truth at that moment.
    k = 40
    moment = starts[0] + start + k / 30.0
    truth = observe(rig, skeleton(np.array([moment]), seed=2))[:, 0]
    for c in (0, 1):
        np.testing.assert_allclose(views[c].body_2d[k, :, :2], truth[c, :, :2], atol=3.0)  # 1-frame interpolation
    assert np.isnan(views[2].body_2d[k]).all()  # video 2 had not started yet
    with pytest.raises(MocapError, match="do not overlap"):
        resample_views(seqs[:2], np.array([0.0, 30.0]))


def test_motion_sync_of_six_views_scores_a_spanning_set_of_pairs(monkeypatch):
    """Six cameras: 9 pair scans (each view with view 0 and with the next) instead of all 15, and every
    start still within half a frame."""
    from core.multiview import motion_sync

    assert len(motion_sync.scored_pairs(4)) == 6                      # few views: every pair
    pairs = motion_sync.scored_pairs(8)
    assert len(pairs) == 13 and {k for p in pairs for k in p} == set(range(8))
    scanned = []
    coarse = motion_sync._coarse_curve
    monkeypatch.setattr(motion_sync, "_coarse_curve", lambda a, b, m: scanned.append(1) or coarse(a, b, m))
    rig = look_at_rig(ring(6, 300.0))
    starts = np.array([0.4, 1.234, 0.0, 0.8, 1.9, 0.25])
    seqs = []
    for c in range(6):
        times = starts[c] + np.arange(int(8.0 * 30)) / 30.0
        seqs.append(sequence(observe(rig, skeleton(times, seed=8), noise_px=1.5, seed=c)[c], 30.0))
    offsets = motion_offsets(seqs)
    assert len(scanned) == 9
    err_frames = np.abs(offsets - (starts - starts[0])) * 30.0
    assert err_frames.max() < 0.5, offsets
