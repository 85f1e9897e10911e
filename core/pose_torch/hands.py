"""Hand tracking from the body, as MediaPipe Holistic does it, with batched torch networks.

Reproduces the hand part of MediaPipe 0.10.21's holistic_landmark_cpu graph
(HandLandmarksLeftAndRightCpu), per hand and frame:

1. ROI from the pose: the (smoothed) pose landmarks of the wrist, pinky and
   index of that side, gated on the wrist's visibility > 0.1. Centre at the
   estimated middle finger (2 index + pinky) / 3, side twice its distance to
   the wrist, rotated so wrist -> middle points up, then moved 0.1 side
   towards the fingers (shift_y -0.1), squared and scaled by 2.7
   (HandDetectionsFromPoseToRects + RectTransformation).
2. Re-crop: hand_recrop.tflite on a 256x256 crop of that ROI gives two points;
   the re-crop ROI is centred on the first, side twice their distance, rotated
   so first -> second points down, shifted by -0.1 side, squared
   (AlignmentPointsRects with target angle -90 degrees + RectTransformation).
3. Tracking choice (RoiTrackingCalculator): the ROI from the previous frame's
   hand landmarks (HandLandmarksToRect on the palm's 12 points, scaled 2,
   shifted -0.1) is kept while it agrees with the re-crop ROI (rotation within 40
   degrees, centre within 0.2 and size within 0.4 of the re-crop side) and the
   previous landmarks lie inside the re-crop ROI shrunk by 10%; else the
   re-crop ROI is used. No re-crop ROI (no person, wrist hidden): no hand.
4. hand_landmark_full.tflite on a 224x224 crop of that ROI; the hand is found
   when its presence score exceeds 0.5; landmarks are projected back
   (z / 224 / 0.4, scaled by the ROI width like x). Holistic smooths nothing
   here: the output is raw.

Steps 1-2 depend only on the body, so they run batched over a whole chunk.
Step 3 makes frame t+1 depend on frame t; like the body tracker, a chunk is cut
into ``batch_size`` segments tracked in lock-step (both hands of every segment
in one network call). Segment 0 continues the previous chunk; each other
segment starts ``warmup_frames`` early with no previous hand, as after a lost
hand; its chain joins MediaPipe's exactly at the first frame where both choose
the re-crop ROI. ``batch_size`` 1 is Holistic's tracking exactly.

The "left" hand is the subject's left (pose landmarks 15, 17, 19), which is
Holistic's ``left_hand_landmarks``.

Coordinates as in body.py: normalized x / frame width, y / frame height; ROIs
(x_center, y_center, width, height, rotation) normalized, radians clockwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..landmarks import BODY, NUM_HAND
from . import body

RECROP_SIZE = 256
HAND_SIZE = 224
SIDES = ("left", "right")
POSE_POINTS = {side: tuple(BODY[f"{side}_{name}"] for name in ("wrist", "pinky", "index")) for side in SIDES}
WRIST_VISIBILITY = 0.1
HAND_PRESENCE = 0.5
NORMALIZE_Z = 0.4
POSE_ROI_SCALE = 2.7
LANDMARKS_ROI_SCALE = 2.0
SHIFT_Y = -0.1
# RoiTrackingCalculator's options in the holistic graph.
MAX_ROTATION_DEGREES = 40.0
MAX_TRANSLATION = 0.2
MAX_SCALE = 0.4
RECROP_MARGIN = -0.1
PALM_SUBSET = [0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18]  # the landmarks the tracking ROI is made of
RECROP_BATCH = {"cpu": 8}  # re-crop inputs per network call: on a CPU 8 cost 1.3 ms each, 64 cost 2.8 (cache)
RECROP_BATCH_GPU = 64


def transform_rects(rects: np.ndarray, width: int, height: int, scale: float, shift_y: float) -> np.ndarray:
    """RectTransformationCalculator with ``square_long``: (..., 5) rects shifted along their own y, squared, scaled."""
    x, y, w, h, rot = (rects[..., i] for i in range(5))
    dx = -(height * h * shift_y * np.sin(rot)) / width
    dy = (height * h * shift_y * np.cos(rot)) / height
    long_side = np.maximum(w * width, h * height)
    return np.stack([x + dx, y + dy, long_side / width * scale, long_side / height * scale, rot], axis=-1)


def _aligned_rects(p0: np.ndarray, p1: np.ndarray, width: int, height: int, target: float) -> np.ndarray:
    """(..., 2) normalized points -> (..., 5) rects centred on p0, side 2 |p1 - p0| px, p0 -> p1 at ``target``."""
    x0, y0 = p0[..., 0] * width, p0[..., 1] * height
    x1, y1 = p1[..., 0] * width, p1[..., 1] * height
    box = 2.0 * np.hypot(x1 - x0, y1 - y0)
    rot = body.normalize_radians(target - np.arctan2(-(y1 - y0), x1 - x0))
    return np.stack([p0[..., 0], p0[..., 1], box / width, box / height, rot], axis=-1)


def rois_from_pose(pose: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Pose landmarks (N, 33, >=4: normalized x, y, z, visibility; NaN = no person) -> per side ROIs.

    Returns rois (N, 2, 5) (left, right) and valid (N, 2): the person is there
    and that wrist's visibility exceeds 0.1.
    """
    rois = np.full((len(pose), 2, 5), np.nan)
    valid = np.zeros((len(pose), 2), bool)
    for s, side in enumerate(SIDES):
        wrist, pinky, index = (pose[:, i, :2] for i in POSE_POINTS[side])
        vis = pose[:, POSE_POINTS[side][0], 3]
        ok = np.isfinite(wrist).all(1) & np.isfinite(pinky).all(1) & np.isfinite(index).all(1)
        ok &= np.where(np.isfinite(vis), vis, -1.0) > WRIST_VISIBILITY
        middle = (2.0 * index + pinky) / 3.0
        # Centre on the middle finger, rotation wrist -> middle up, side twice their distance.
        rect = _aligned_rects(wrist, middle, width, height, math.pi / 2)
        rect[:, :2] = middle
        rois[ok, s] = transform_rects(rect[ok], width, height, POSE_ROI_SCALE, SHIFT_Y)
        valid[:, s] = ok
    return rois, valid


def rois_from_recrop(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """(N, 2, 2) re-crop points in frame coordinates -> (N, 5) re-crop ROIs."""
    rect = _aligned_rects(points[:, 0], points[:, 1], width, height, -math.pi / 2)
    return transform_rects(rect, width, height, 1.0, SHIFT_Y)


def rect_from_hand(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """HandLandmarksToRectCalculator (+ its RectTransformation) on one hand's (21, >=2) landmarks -> (5,) ROI.

    What Holistic 0.10.21 computes (matched to its tracking ROIs): the
    calculator sees the 12-landmark palm subset ``PALM_SUBSET`` (fingertips
    and distal joints left out); its joints 0, 4, 6, 8 there are the wrist and
    the index, middle and ring knuckles. Rotation: wrist -> the mean of the
    middle knuckle and the mean of the index and ring knuckles points up; box:
    the subset's extent in those rotated axes; then scaled by 2, shifted by
    -0.1 side along the hand and squared.
    """
    pts = landmarks[PALM_SUBSET]
    xs, ys = pts[:, 0], pts[:, 1]
    x0, y0 = xs[0] * width, ys[0] * height
    x1 = ((xs[4] + xs[8]) / 2.0 + xs[6]) / 2.0 * width
    y1 = ((ys[4] + ys[8]) / 2.0 + ys[6]) / 2.0 * height
    rot = float(body.normalize_radians(math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)))
    cx, cy = (xs.max() + xs.min()) / 2.0, (ys.max() + ys.min()) / 2.0
    px, py = (xs - cx) * width, (ys - cy) * height
    rev = float(body.normalize_radians(-rot))
    qx = px * math.cos(rev) - py * math.sin(rev)
    qy = px * math.sin(rev) + py * math.cos(rev)
    mx, my = (qx.max() + qx.min()) / 2.0, (qy.max() + qy.min()) / 2.0
    centre_x = mx * math.cos(rot) - my * math.sin(rot) + width * cx
    centre_y = mx * math.sin(rot) + my * math.cos(rot) + height * cy
    rect = np.array([centre_x / width, centre_y / height, (qx.max() - qx.min()) / width,
                     (qy.max() - qy.min()) / height, rot])
    return transform_rects(rect, width, height, LANDMARKS_ROI_SCALE, SHIFT_Y)


def keep_tracking(prev_landmarks: np.ndarray, prev_rect: np.ndarray, recrop: np.ndarray, width: int, height: int) -> bool:
    """RoiTrackingCalculator's choice: True keeps the previous frame's ROI, False takes the re-crop ROI."""
    c, s = math.cos(-recrop[4]), math.sin(-recrop[4])

    def turn(x, y):  # normalized -> pixels in the re-crop ROI's axes
        return x * width * c - y * height * s, x * width * s + y * height * c

    px, py = turn(prev_rect[0], prev_rect[1])
    rx, ry = turn(recrop[0], recrop[1])
    rw, rh = recrop[2] * width, recrop[3] * height
    diff = math.degrees(prev_rect[4]) - math.degrees(recrop[4])
    if diff > 180.0:
        diff -= 360.0
    if diff < -180.0:
        diff += 360.0
    if abs(diff) > MAX_ROTATION_DEGREES:
        return False
    if abs(px - rx) > rw * MAX_TRANSLATION or abs(py - ry) > rh * MAX_TRANSLATION:
        return False
    if abs(prev_rect[2] * width - rw) > rw * MAX_SCALE or abs(prev_rect[3] * height - rh) > rh * MAX_SCALE:
        return False
    lx, ly = turn(prev_landmarks[:, 0], prev_landmarks[:, 1])
    half_w, half_h = rw * (1.0 + RECROP_MARGIN) / 2.0, rh * (1.0 + RECROP_MARGIN) / 2.0
    inside = (rx - half_w < lx) & (lx < rx + half_w) & (ry - half_h < ly) & (ly < ry + half_h)
    return bool(inside.all())


class HandModels:
    """The re-crop and hand landmark networks, run through a :class:`tracker.BodyModels` (device, crops, traces).

    Use :meth:`of` to share one instance per ``BodyModels`` (the networks load once).
    """

    @classmethod
    def of(cls, base) -> "HandModels":
        """The hand networks attached to ``base`` (built on first use)."""
        models = getattr(base, "_hand_models", None)
        if models is None:
            models = base._hand_models = cls(base)
        return models

    def __init__(self, base):
        from .networks import Network

        self.base = base
        self.recropper = Network("holistic_landmark/hand_recrop.tflite", None, base.device)
        # Outputs: landmarks, presence, handedness (unused, not computed), world landmarks (unused).
        self.landmarker = Network("hand_landmark/hand_landmark_full.tflite", [0, 1], base.device)

    def recrop(self, images: list[np.ndarray], rois: np.ndarray) -> np.ndarray:
        """Frames and ROIs from the pose (N, 5) -> (N, 2, 2) re-crop points in frame coordinates."""
        out = np.empty((len(images), 2, 2))
        torch = self.base.torch
        step = RECROP_BATCH.get(self.base.device.type, RECROP_BATCH_GPU)
        for lo in range(0, len(images), step):
            hi = min(lo + step, len(images))
            x = self.base.crop(images[lo:hi], rois[lo:hi], RECROP_SIZE, "replicate") * (1.0 / 255.0)
            (raw,) = self.base._run(self.recropper, x.contiguous(memory_format=torch.channels_last))
            pts = raw.float().reshape(hi - lo, 2, 2).cpu().double().numpy() / RECROP_SIZE
            out[lo:hi] = body.project(pts, rois[lo:hi])
        return out

    def landmarks(self, images: list[np.ndarray], rois: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frames and hand ROIs (N, 5) -> presence scores (N,) and landmarks (N, 21, 3) in frame coordinates."""
        torch = self.base.torch
        x = self.base.crop(images, rois, HAND_SIZE, "replicate") * (1.0 / 255.0)
        raw, flag, _, _ = self.base._run(self.landmarker, x.contiguous(memory_format=torch.channels_last))
        lm = raw.float().reshape(len(images), NUM_HAND, 3).cpu().double().numpy() / HAND_SIZE
        lm[..., 2] /= NORMALIZE_Z
        return flag.float().reshape(-1).cpu().double().numpy(), body.project(lm, rois)


@dataclass
class HandTrack:
    """Per-frame hands of :class:`HandTracker`, frame order; index 0 of axis 1 is the subject's left hand.

    Attributes:
        landmarks: (T, 2, 21, 3) normalized x, y and z (z in units of frame
            width, relative depth); NaN where the hand was not found.
        present: (T, 2) bool.
        rois: (T, 2, 5) the ROI the landmark model saw (NaN when none).
        tracked: (T, 2) bool, that ROI came from the previous frame's landmarks.
    """

    landmarks: np.ndarray
    present: np.ndarray
    rois: np.ndarray
    tracked: np.ndarray


@dataclass
class _Segment:
    """Frames ``first..stop`` one hand stream tracks; those before ``start`` only warm it up."""

    first: int
    start: int
    stop: int
    prev: list[np.ndarray | None]  # the last frame's hand landmarks per side, None when not found


class HandTracker:
    """Both hands of the tracked person through consecutive chunks of frames (see the module docstring)."""

    def __init__(self, models: HandModels, batch_size: int = 1, warmup_frames: int = 8):
        self.models = models
        self.batch_size = max(1, batch_size)
        self.warmup_frames = max(0, warmup_frames)
        self._carry: list[np.ndarray | None] = [None, None]  # last frame's hand landmarks per side

    def run_chunk(self, images: list[np.ndarray], pose: np.ndarray) -> HandTrack:
        """Hands in ``images`` given the body's landmarks there (N, 33, >=4 normalized, NaN = no person)."""
        n = len(images)
        out = HandTrack(np.full((n, 2, NUM_HAND, 3), np.nan), np.zeros((n, 2), bool),
                        np.full((n, 2, 5), np.nan), np.zeros((n, 2), bool))
        if n == 0:
            return out
        h, w = images[0].shape[:2]
        pose_rois, valid = rois_from_pose(pose, w, h)
        recrop = np.full((n, 2, 5), np.nan)
        todo = np.argwhere(valid)
        if len(todo):
            pts = self.models.recrop([images[i] for i, _ in todo], pose_rois[valid])
            recrop[valid] = rois_from_recrop(pts, w, h)
        segments = [_Segment(first, start, stop, list(self._carry) if k == 0 else [None, None])
                    for k, (first, start, stop) in enumerate(body.split_segments(n, self.batch_size, self.warmup_frames))]
        for step in range(max(seg.stop - seg.first for seg in segments)):
            jobs: list[tuple[_Segment, int, int, np.ndarray, bool]] = []  # segment, frame, side, roi, tracked
            for seg in segments:
                i = seg.first + step
                if i >= seg.stop:
                    continue
                for s in range(2):
                    prev = seg.prev[s]
                    if not valid[i, s]:
                        seg.prev[s] = None
                        continue
                    roi, tracked = recrop[i, s], False
                    if prev is not None:
                        prev_rect = rect_from_hand(prev, w, h)
                        if keep_tracking(prev, prev_rect, recrop[i, s], w, h):
                            roi, tracked = prev_rect, True
                    jobs.append((seg, i, s, roi, tracked))
            if not jobs:
                continue
            rois = np.stack([j[3] for j in jobs])
            scores, lms = self.models.landmarks([images[j[1]] for j in jobs], rois)
            for (seg, i, s, roi, tracked), score, lm in zip(jobs, scores, lms):
                found = score > HAND_PRESENCE
                seg.prev[s] = lm if found else None
                if i < seg.start:
                    continue  # warm-up frame: the previous segment owns it
                out.rois[i, s] = roi
                out.tracked[i, s] = tracked
                if found:
                    out.landmarks[i, s] = lm
                    out.present[i, s] = True
        self._carry = list(segments[-1].prev)
        return out
