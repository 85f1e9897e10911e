"""The torch hand pipeline against MediaPipe Holistic itself, on real frames of the demo.

Holistic is run as ``mp.solutions.holistic`` builds it, observing a few of its
inner streams too (the ROI its hand landmark model saw), so the hand part can
be checked on its own (fed Holistic's own pose landmarks) and end to end
(fed our body tracker's).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
mp = pytest.importorskip("mediapipe")
cv2 = pytest.importorskip("cv2")

from core.pose_torch import TorchPoseSettings, estimate_body  # noqa: E402
from core.pose_torch import hands as H  # noqa: E402
from core.pose_torch.tracker import BodyModels  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parent))
from video_frames import read_frames  # noqa: E402

TRACK_ROI = "handlandmarksleftandrightcpu__{}_hand_tracking_roi"


def _holistic(frames):
    """Holistic (model_complexity 1, smoothed, as core.pose runs it) on frames:
    pose (T, 33, 4) normalized + visibility, hands (T, 2, 21, 3) normalized, hand ROIs (T, 2, 5)."""
    from mediapipe.python import solution_base
    from mediapipe.python.solutions import holistic

    sides = ("left", "right")
    solution = solution_base.SolutionBase(
        binary_graph_path=holistic._BINARYPB_FILE_PATH,
        side_inputs={"model_complexity": 1, "smooth_landmarks": True, "enable_segmentation": False,
                     "smooth_segmentation": True, "refine_face_landmarks": False, "use_prev_landmarks": True},
        outputs=["pose_landmarks", "left_hand_landmarks", "right_hand_landmarks"] + [TRACK_ROI.format(s) for s in sides])
    n = len(frames)
    pose = np.full((n, 33, 4), np.nan)
    hands = np.full((n, 2, 21, 3), np.nan)
    rois = np.full((n, 2, 5), np.nan)
    try:
        for i, f in enumerate(frames):
            r = solution.process(f)
            if r.pose_landmarks is not None:
                pose[i] = [(p.x, p.y, p.z, p.visibility) for p in r.pose_landmarks.landmark]
            for s, side in enumerate(sides):
                lm = getattr(r, f"{side}_hand_landmarks")
                if lm is not None:
                    hands[i, s] = [(p.x, p.y, p.z) for p in lm.landmark]
                roi = getattr(r, TRACK_ROI.format(side))
                if roi is not None:
                    rois[i, s] = (roi.x_center, roi.y_center, roi.width, roi.height, roi.rotation)
    finally:
        solution.close()
    return pose, hands, rois


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread here: on a CPU shared with other work, two threads waiting on each other at every
    layer made these networks up to 100 times slower (measured: this file 115 s with 2 threads, 10 s with 1).
    Only float rounding depends on it (it can flip a hand presence score within 0.01 of 0.5)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def models():
    return BodyModels("cpu")


@pytest.fixture(scope="module")
def close_up(demo_video):
    """Frames 100-119 of the demo at full size (1768x994): both hands found on most frames, tracked between them."""
    frames = read_frames(demo_video, 20, start=100)
    return frames, _holistic(frames)


@pytest.fixture(scope="module")
def short(short_clip):
    frames = read_frames(short_clip, 60)
    return frames, _holistic(frames)


def test_hand_rois_follow_holistics_geometry():
    """Pure ROI maths on a hand seen straight (wrist below, fingers up): centred on the middle finger, upright."""
    pose = np.full((1, 33, 4), np.nan)
    pose[0, :, 3] = 1.0
    pose[0, 15, :2] = (0.5, 0.6)  # wrist
    pose[0, 17, :2] = (0.47, 0.45)  # pinky
    pose[0, 19, :2] = (0.53, 0.45)  # index
    pose[0, [16, 18, 20], :2] = pose[0, [15, 17, 19], :2] + 0.2
    pose[0, 16, 3] = 0.05  # the right wrist is barely visible: no right hand ROI
    rois, valid = H.rois_from_pose(pose, 400, 400)
    assert valid.tolist() == [[True, False]]
    x, y, w, h, rot = rois[0, 0]
    middle = (0.51, 0.45)
    side = 2 * np.hypot(0.01, 0.15) * 2.7  # twice wrist -> middle, scaled 2.7
    assert rot == pytest.approx(np.arctan2(0.01, 0.15), abs=1e-9)  # leaning right = clockwise
    assert w == pytest.approx(side) and h == pytest.approx(side)
    # shifted by 0.1 (unscaled) side along the hand, towards the fingers
    assert np.hypot(x - middle[0], y - middle[1]) == pytest.approx(0.1 * side / 2.7)
    assert y < middle[1] and x > middle[0]


@pytest.mark.parametrize("batch_size", [1, 2])
def test_hands_from_holistics_pose_match_holistic(close_up, models, batch_size):
    """Fed Holistic's own pose, the hand part alone: at batch 1 the same hands, tracking choices and ROIs.

    Batch 2 starts a second segment with no previous hand (a warm start): it
    may pick the re-crop ROI where Holistic kept its tracking ROI, so only
    the landmarks are compared there.
    """
    frames, (pose, ref, ref_rois) = close_up
    h, w = frames[0].shape[:2]
    track = H.HandTracker(H.HandModels.of(models), batch_size=batch_size, warmup_frames=4).run_chunk(frames, pose)
    ref_present = np.isfinite(ref[..., 0, 0])
    assert ref_present.sum() >= 25  # of 40 hands
    agree = track.present == ref_present
    both = track.present & ref_present
    err = np.hypot((track.landmarks[both][..., 0] - ref[both][..., 0]) * w,
                   (track.landmarks[both][..., 1] - ref[both][..., 1]) * h)
    zerr = np.abs(track.landmarks[both][..., 2] - ref[both][..., 2]) * w
    if batch_size == 1:
        assert agree.all()
        assert track.tracked.sum() >= 10  # the tracking branch is exercised ...
        np.testing.assert_allclose(track.rois, ref_rois, atol=0.01)  # ... and picks Holistic's ROIs
        assert err.max() < 0.005 * w  # measured: 7 px of 1768 on the worst of 90 frames
        assert np.median(err) < 1.0 and np.median(zerr) < 1.0
    else:
        assert agree.mean() >= 0.95
        assert (err < 0.01 * w).mean() >= 0.95


def test_estimate_body_hands_match_holistic(short, models):
    """End to end on the short clip (our body feeding our hands): Holistic's hands.

    Where our body's hand landmarks differ from MediaPipe's (a fast arm swing:
    up to 40 px on two frames), the hand ROI differs and a hand whose presence
    score is near 0.5 may come out the other way: measured 2 frames of 60 per hand.
    """
    frames, (_, ref, _) = short
    h, w = frames[0].shape[:2]
    settings = TorchPoseSettings(device="cpu", batch_size=1, redetect=False)  # MediaPipe's own tracking
    seq = estimate_body(((i, f) for i, f in enumerate(frames)), num_frames=len(frames), fps=30.0,
                        image_size=(2 * w, 2 * h), settings=settings, models=models)
    ref_px = ref * np.array([2 * w, 2 * h, 2 * w])  # pixels of the (doubled) original frame, z like x
    for s, ours in enumerate((seq.left_hand, seq.right_hand)):
        ref_present = np.isfinite(ref_px[:, s, 0, 0])
        present = np.isfinite(ours[:, 0, 0])
        assert np.isfinite(ours[present]).all() and not np.isfinite(ours[~present]).any()
        assert ref_present.sum() >= 4
        assert (present == ref_present).mean() >= 0.95
        both = present & ref_present
        err = np.linalg.norm(ours[both][..., :2] - ref_px[both, s][..., :2], axis=-1)
        assert (err < 0.01 * 2 * w).mean() >= 0.95
        np.testing.assert_allclose(ours[both][..., 2], ref_px[both, s][..., 2], atol=0.005 * 2 * w)
    # Subject's left hand near the subject's left wrist.
    for ours, wrist in ((seq.left_hand, 15), (seq.right_hand, 16)):
        found = np.isfinite(ours[:, 0, 0]) & seq.present
        gap = np.linalg.norm(ours[found, 0, :2] - seq.body_2d[found, wrist, :2], axis=-1)
        assert np.median(gap) < 0.05 * 2 * w
