"""Calibration from the person on the rendered four-phone take (``bench multiview``'s, rendered once and cached,
with MediaPipe's landmarks cached beside it): what the synthetic scenes of ``test_multiview_calibrate`` miss."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from core.multiview import sync
from core.multiview.calibrate import calibrate_from_person
from core.multiview.compare import rig_errors

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import multiview as bench  # noqa: E402
from groundtruth.multicam import prepare_multiview  # noqa: E402


@pytest.fixture(scope="module")
def take(engine_python: str):
    clip = prepare_multiview(python=engine_python, log=lambda *_: None)
    seqs, _ = bench.pose_sequences(clip)
    return clip, seqs


def test_two_cameras_synced_by_the_persons_motion_are_calibrated(take) -> None:
    """Without sound the offsets come from the person's motion: synced so, the four videos' first two are a
    third of a frame apart from the truth (-0.32 of video 2's frames). The essential matrix's best epipolar fit
    was then a pose 96 degrees off with a fifth of the keypoints behind a camera, and the calibration failed
    ("too few keypoints agree"; a rare case: offsets in steps of 0.1 frame from -1 to 1 all calibrated).
    Candidates are now judged with such keypoints as outliers."""
    clip, seqs = take
    offsets = sync.motion_offsets(seqs)
    views = [seqs[0], sync.resample(seqs[1], float(offsets[1]), seqs[0].fps, seqs[0].num_frames)]
    truth = bench.true_rig(clip, 2)
    centre, orient, _ = rig_errors(calibrate_from_person(views, list(truth.K)), truth)
    # (Seen: 2.1 cm / 2.7 degrees.)
    assert centre.max() < 0.05 and orient.max() < 4.0, (centre, orient)
