"""BlazePose body tracking (detector + full landmark model) as batched torch code.

Reproduces the CPU graph of MediaPipe 0.10.21's legacy Pose solution
(pose_landmark_cpu): the detector on a 224x224 letterboxed frame, SSD anchors,
weighted non-maximum suppression, a rotated square region of interest (ROI)
from the detector's hip-centre and body-size keypoints, the landmark model on a
256x256 crop of that ROI, heatmap refinement, projection back to the frame,
and tracking: the next frame's ROI comes from the (always smoothed) auxiliary
landmarks; detection runs again when the landmark model loses the person.

Batching: tracking makes frame t+1 depend on frame t, so frames are not
batched one after the other. A chunk of frames is cut into ``batch_size``
contiguous segments that are tracked in lock-step: each step runs the
landmark model once on one frame of every segment (and the detector on those
segments that need it). Segment 0 carries the tracking state over from the
previous chunk, so with ``batch_size=1`` this is exactly MediaPipe's tracking.

Coordinates: "normalized" means x / frame width and y / frame height, the
frame being the image given (possibly downscaled); ROIs are (x_center,
y_center, width, height, rotation) normalized, rotation in radians clockwise
in the image (y down), as MediaPipe's NormalizedRect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..landmarks import NUM_BODY, unmirror_body
from .filters import LowPass, OneEuro

DETECTOR_SIZE = 224
LANDMARK_SIZE = 256
NUM_LANDMARKS = 39  # 33 body + 2 auxiliary (ROI) + 4 unused
ROI_SCALE = 1.25
FRAME_SECONDS = 0.033333  # the legacy solution's simulated 30 fps clock


def split_segments(frames: int, batch_size: int, warmup: int) -> list[tuple[int, int, int]]:
    """(first, start, stop) of the segments a chunk of ``frames`` is tracked in, in lock-step.

    At most ``batch_size`` contiguous segments, each at least twice the
    warm-up long; every segment but the first begins tracking ``warmup``
    frames before its ``start`` (``first``), the frames it only warms up on.
    """
    count = max(1, min(batch_size, frames // max(1, 2 * warmup)))
    out = []
    for k, part in enumerate(np.array_split(np.arange(frames), count)):
        start, stop = int(part[0]), int(part[-1]) + 1
        out.append((start - (0 if k == 0 else min(warmup, start)), start, stop))
    return out


def ssd_anchors() -> np.ndarray:
    """(2254, 2) anchor centres (x, y) of the pose detector, normalized, MediaPipe's order.

    SsdAnchorsCalculator with 5 layers, strides 8, 16, 32, 32, 32, one aspect
    ratio plus the interpolated one, fixed anchor size: layers of equal stride
    share one grid, two anchors per layer and cell.
    """
    strides = [8, 16, 32, 32, 32]
    out = []
    layer = 0
    while layer < len(strides):
        stride = strides[layer]
        per_cell = 0
        while layer < len(strides) and strides[layer] == stride:
            per_cell += 2
            layer += 1
        size = math.ceil(DETECTOR_SIZE / stride)
        ys, xs = np.meshgrid((np.arange(size) + 0.5) / size, (np.arange(size) + 0.5) / size, indexing="ij")
        cells = np.stack([xs.ravel(), ys.ravel()], axis=1)
        out.append(np.repeat(cells, per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


def normalize_radians(angle):
    return angle - 2.0 * math.pi * np.floor((angle + math.pi) / (2.0 * math.pi))


def roi_from_points(p0: np.ndarray, p1: np.ndarray, width: int, height: int, scale: float = ROI_SCALE) -> np.ndarray:
    """(..., 2) normalized centre point and size/rotation point -> (..., 5) ROI.

    AlignmentPointsRectsCalculator (box = twice the distance between the
    points, rotated so p0->p1 points up) followed by RectTransformationCalculator
    (square on the long side in pixels, then scaled).
    """
    x0, y0 = p0[..., 0] * width, p0[..., 1] * height
    x1, y1 = p1[..., 0] * width, p1[..., 1] * height
    box = np.sqrt((x1 - x0) ** 2 + (y1 - y0) ** 2) * 2.0
    rotation = normalize_radians(math.pi / 2 - np.arctan2(-(y1 - y0), x1 - x0))
    w, h = box / width, box / height
    long_side = np.maximum(w * width, h * height)
    w, h = long_side / width * scale, long_side / height * scale
    return np.stack([p0[..., 0], p0[..., 1], w, h, rotation], axis=-1)


def object_scale(p0: np.ndarray, p1: np.ndarray, width: int, height: int) -> float:
    """Size in pixels of the unscaled aligned box, the velocity scale of MediaPipe's landmark filters."""
    box = math.hypot((p1[0] - p0[0]) * width, (p1[1] - p0[1]) * height) * 2.0
    return box  # (box + box) / 2


def crop_matrices(rois: np.ndarray, width: int, height: int, size: int) -> np.ndarray:
    """(N, 5) normalized ROIs -> (N, 2, 3) maps from crop pixel (u, v, 1) to frame pixel (x, y).

    MediaPipe's OpenCV converter takes the corners of ``cv::RotatedRect`` (in
    float32, angle through degrees, as OpenCV computes them), maps them onto
    the crop's corners (0 and ``size``, not pixel centres) and samples at
    integer crop pixels. The corners are computed the same way here so the
    sampling positions agree to the last bit in all but rare rounding ties.
    """
    f32 = np.float32
    cx = (rois[:, 0] * width).astype(f32)
    cy = (rois[:, 1] * height).astype(f32)
    w = (rois[:, 2] * width).astype(f32)
    h = (rois[:, 3] * height).astype(f32)
    angle = (rois[:, 4] * 180.0 / math.pi).astype(f32).astype(np.float64) * math.pi / 180.0
    b = (np.cos(angle).astype(f32) * f32(0.5)).astype(f32)
    a = (np.sin(angle).astype(f32) * f32(0.5)).astype(f32)
    p0 = np.stack([cx - a * h - b * w, cy + b * h - a * w], axis=1).astype(f32).astype(np.float64)  # crop (0, size)
    p1 = np.stack([cx + a * h - b * w, cy - b * h - a * w], axis=1).astype(f32).astype(np.float64)  # crop (0, 0)
    p2 = (2 * np.stack([cx, cy], axis=1).astype(f32) - p0.astype(f32)).astype(np.float64)  # crop (size, 0)
    m = np.empty((len(rois), 2, 3), np.float64)
    m[:, :, 0] = (p2 - p1) / size
    m[:, :, 1] = (p0 - p1) / size
    m[:, :, 2] = p1
    return m


def letterbox_roi(width: int, height: int) -> tuple[np.ndarray, tuple[float, float]]:
    """The whole frame padded to a square (ROI (5,)) and the (horizontal, vertical) padding fractions."""
    if width >= height:
        return np.array([0.5, 0.5, 1.0, width / height, 0.0]), (0.0, (1.0 - height / width) / 2.0)
    return np.array([0.5, 0.5, height / width, 1.0, 0.0]), ((1.0 - width / height) / 2.0, 0.0)


def warp(torch, frames, matrices: np.ndarray, size: int, border: str):
    """Crops (N, 3, size, size) float in [0, 255] from uint8 frames (N, H, W, 3) on any device.

    OpenCV's bilinear warp of 8-bit images, emulated in integers: source
    positions quantized to 1/32 pixel (round half to even), weights in units
    of 1/32768, result rounded, outside pixels zero ("zero") or clamped
    ("replicate"). The landmark networks see the very bytes MediaPipe feeds them.
    """
    n, h, w, _ = frames.shape
    dev = frames.device
    m = torch.from_numpy(matrices).to(dev)
    ar = torch.arange(size, dtype=torch.float64, device=dev)
    # OpenCV: X0 = M01 * v + M02, then (X0 + M00 * u) * 32, rounded.
    x0 = m[:, 0, 1, None] * ar[None] + m[:, 0, 2, None]  # (N, v)
    y0 = m[:, 1, 1, None] * ar[None] + m[:, 1, 2, None]
    fx = (x0[:, :, None] + m[:, 0, 0, None, None] * ar[None, None]) * 32.0  # (N, v, u)
    fy = (y0[:, :, None] + m[:, 1, 0, None, None] * ar[None, None]) * 32.0
    qx = torch.round(fx).long()
    qy = torch.round(fy).long()
    ix, iy = qx >> 5, qy >> 5
    ax, ay = qx & 31, qy & 31
    batch = torch.arange(n, device=dev)[:, None, None]
    total = torch.zeros((n, size, size, 3), dtype=torch.int64, device=dev)
    for dy, dx, wgt in ((0, 0, (32 - ax) * (32 - ay)), (0, 1, ax * (32 - ay)),
                        (1, 0, (32 - ax) * ay), (1, 1, ax * ay)):
        px, py = ix + dx, iy + dy
        inside = (px >= 0) & (px < w) & (py >= 0) & (py < h)
        vals = frames[batch, py.clamp(0, h - 1), px.clamp(0, w - 1)].long()
        if border == "zero":
            vals = vals * inside[..., None]
        total += vals * (wgt * 32)[..., None]
    out = ((total + (1 << 14)) >> 15).clamp_(0, 255)
    return out.permute(0, 3, 1, 2).float()


@dataclass
class Detection:
    """The first (strongest) pose detection of a frame, normalized to the frame."""

    score: float
    box: np.ndarray  # (4,) xmin, ymin, width, height
    keypoints: np.ndarray  # (4, 2): hip centre, full-body size/rotation point, shoulder centre, upper-body point


def decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray,
                      padding: tuple[float, float], min_score: float, iou_threshold: float = 0.3,
                      limit: int | None = None) -> list[Detection]:
    """Decode one frame's detector outputs ((2254, 12), (2254,)) into its detections, strongest first.

    TensorsToDetectionsCalculator + MediaPipe's WEIGHTED non-max suppression
    (each cluster of boxes overlapping the strongest remaining one by more
    than ``iou_threshold`` is averaged, weighted by score), then letterbox
    removal with ``padding`` = (horizontal, vertical) fractions. MediaPipe's
    pose graph keeps only the first; the batched tracker looks at the others
    to follow the same person. ``limit`` stops after that many.
    """
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.astype(np.float64), -100.0, 100.0)))
    keep = np.flatnonzero(scores >= min_score)
    out: list[Detection] = []
    if keep.size == 0:
        return out
    raw = raw_boxes[keep].astype(np.float64) / DETECTOR_SIZE
    anc = anchors[keep].astype(np.float64)
    cx, cy = raw[:, 0] + anc[:, 0], raw[:, 1] + anc[:, 1]
    w, h = raw[:, 2], raw[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    kps = raw[:, 4:12].reshape(-1, 4, 2) + anc[:, None, :]
    s = scores[keep]
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    remaining = np.argsort(-s, kind="stable")
    px, py = padding
    while remaining.size and (limit is None or len(out) < limit):
        top = remaining[0]
        rest = boxes[remaining]
        ix0 = np.maximum(rest[:, 0], boxes[top, 0])
        iy0 = np.maximum(rest[:, 1], boxes[top, 1])
        ix1 = np.minimum(rest[:, 2], boxes[top, 2])
        iy1 = np.minimum(rest[:, 3], boxes[top, 3])
        inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
        union = area[remaining] + area[top] - inter
        iou = np.where((inter > 0) & (union > 0), inter / np.where(union > 0, union, 1.0), 0.0)
        in_cluster = iou > iou_threshold
        in_cluster[0] = True
        cluster = remaining[in_cluster]
        remaining = remaining[~in_cluster]
        wts = s[cluster] / s[cluster].sum()
        box = (boxes[cluster] * wts[:, None]).sum(0)
        kp = (kps[cluster] * wts[:, None, None]).sum(0)
        box_xywh = np.array([(box[0] - px) / (1 - 2 * px), (box[1] - py) / (1 - 2 * py),
                             (box[2] - box[0]) / (1 - 2 * px), (box[3] - box[1]) / (1 - 2 * py)])
        kp = np.stack([(kp[:, 0] - px) / (1 - 2 * px), (kp[:, 1] - py) / (1 - 2 * py)], axis=1)
        out.append(Detection(float(s[top]), box_xywh.astype(np.float32), kp.astype(np.float32)))
    return out


def refine_from_heatmap(torch, xy, heatmap, kernel: int = 9, min_confidence: float = 0.5):
    """RefineLandmarksFromHeatmapCalculator, batched (kernel 9: what the 0.10.21 graph uses, measured;
    the public pbtxt says 7).

    Args:
        xy: (N, K, 2) landmarks normalized to the crop.
        heatmap: (N, Hm, Wm, K) raw heatmap logits (TFLite layout).
    Returns (N, K, 2) refined: the sigmoid-weighted mean cell of the kernel
    window around each landmark, where the window's peak is confident enough.
    Keeps MediaPipe's quirks: truncation toward zero, and no upper bound check
    on the row (an empty window just leaves the point as it is).
    """
    n, hm_h, hm_w, k = heatmap.shape
    col = torch.trunc(xy[..., 0] * hm_w).long()
    row = torch.trunc(xy[..., 1] * hm_h).long()
    inside = (col >= 0) & (col < hm_w) & (row >= 0)
    off = (kernel - 1) // 2
    steps = torch.arange(-off, off + 1, device=xy.device)
    rows = row[..., None] + steps  # (N, K, k)
    cols = col[..., None] + steps
    row_ok = (rows >= 0) & (rows < hm_h)
    col_ok = (cols >= 0) & (cols < hm_w)
    hm = heatmap.permute(0, 3, 1, 2).reshape(n, k, hm_h * hm_w).float()
    flat = rows.clamp(0, hm_h - 1)[..., :, None] * hm_w + cols.clamp(0, hm_w - 1)[..., None, :]  # (N,K,k,k)
    vals = torch.gather(hm, 2, flat.reshape(n, k, -1)).reshape(n, k, kernel, kernel)
    mask = (row_ok[..., :, None] & col_ok[..., None, :]).float()
    conf = torch.sigmoid(vals) * mask
    total = conf.sum(dim=(-1, -2))
    peak = conf.amax(dim=(-1, -2))
    wc = (conf * cols[..., None, :].float()).sum(dim=(-1, -2))
    wr = (conf * rows[..., :, None].float()).sum(dim=(-1, -2))
    use = inside & (peak >= min_confidence) & (total > 0)
    safe = torch.where(total > 0, total, torch.ones_like(total))
    new_x = torch.where(use, wc / hm_w / safe, xy[..., 0])
    new_y = torch.where(use, wr / hm_h / safe, xy[..., 1])
    return torch.stack([new_x, new_y], dim=-1)


def average_mirrored_world(outputs, mirrored):
    """Landmark model outputs for n crops, and for the same crops mirrored left to right -> the first
    outputs, whose 33 body world landmarks are now the mean of the crop's and its mirror's (put back).

    Test-time augmentation: the network's depth guesses for a pose and for its
    mirror image err differently, and their mean is the better one (rendered
    motion capture, two clips: PA-MPJPE of the world landmarks 82 -> 78 and
    87 -> 85 mm). Everything else, image landmarks, presence and the auxiliary
    points that steer tracking, is the plain crop's, so tracking is unchanged.
    """
    n = outputs[4].shape[0]
    mean = outputs[4].float().reshape(n, NUM_LANDMARKS, 3).clone()
    other = mirrored[4].float().reshape(n, NUM_LANDMARKS, 3)
    mean[:, :NUM_BODY] = 0.5 * (mean[:, :NUM_BODY] + unmirror_body(other[:, :NUM_BODY]))
    return (*outputs[:4], mean.reshape(outputs[4].shape), *outputs[5:])


def project(points: np.ndarray, rois: np.ndarray) -> np.ndarray:
    """(N, K, 2 or 3) points normalized to their crops -> frame coordinates (z scaled by the ROI width)."""
    rot = rois[:, 4][:, None]
    c, s = np.cos(rot), np.sin(rot)
    x, y = points[..., 0] - 0.5, points[..., 1] - 0.5
    out = [(c * x - s * y) * rois[:, 2][:, None] + rois[:, 0][:, None],
           (s * x + c * y) * rois[:, 3][:, None] + rois[:, 1][:, None]]
    if points.shape[-1] > 2:
        out.append(points[..., 2] * rois[:, 2][:, None])
    return np.stack(out, axis=-1)


def decode_landmarks(torch, outputs, rois: np.ndarray):
    """Landmark model outputs for N crops -> numpy arrays in frame coordinates.

    Returns (presence (N,), landmarks (N, 39, 5) normalized x, y, z (z scaled
    like x), visibility, presence; world (N, 39, 3) metres, rotated like the ROI).
    """
    raw, flag, _, heatmap, world = outputs
    n = raw.shape[0]
    lm = raw.float().reshape(n, NUM_LANDMARKS, 5)
    xy = lm[..., :2] / LANDMARK_SIZE
    z = lm[..., 2] / LANDMARK_SIZE
    vis = torch.sigmoid(lm[..., 3])
    pres = torch.sigmoid(lm[..., 4])
    xy = refine_from_heatmap(torch, xy, heatmap)
    xyz = np.concatenate([xy.cpu().double().numpy(), z.cpu().double().numpy()[..., None]], axis=-1)
    out = np.concatenate([project(xyz, rois), vis.cpu().double().numpy()[..., None],
                          pres.cpu().double().numpy()[..., None]], axis=-1)
    wl = world.float().reshape(n, NUM_LANDMARKS, 3).cpu().double().numpy()
    c, s = np.cos(rois[:, 4][:, None]), np.sin(rois[:, 4][:, None])
    wx = c * wl[..., 0] - s * wl[..., 1]
    wy = s * wl[..., 0] + c * wl[..., 1]
    world_out = np.stack([wx, wy, wl[..., 2]], axis=-1)
    return flag.float().reshape(n).cpu().numpy(), out, world_out
