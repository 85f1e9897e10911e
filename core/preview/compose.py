"""Putting rendered bodies over video frames: overlay, second view, landmarks, labels (OpenCV)."""

from __future__ import annotations

import numpy as np

LANDMARK_GROUPS = ((0, 33, (255, 255, 255)), (33, 54, (80, 170, 255)), (54, 75, (255, 160, 60)))
"""keypoints_2d rows (start, end, RGB): MediaPipe body, subject's left hand, right hand."""

BODY_EDGES = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (27, 29), (29, 31), (27, 31), (24, 26), (26, 28), (28, 30), (30, 32), (28, 32),
    (0, 2), (0, 5), (2, 7), (5, 8),
)
"""MediaPipe pose landmark pairs drawn as lines (shoulders, arms, torso, legs, feet, face)."""


def _cv2():
    import cv2

    return cv2


def overlay(frame: np.ndarray, render: np.ndarray, opacity: float) -> np.ndarray:
    """The body over the video: (H, W, 3) uint8 frame, (H, W, 4) uint8 render -> (H, W, 3) uint8.

    Where the render's alpha is set the result is ``(1 - opacity) * frame +
    opacity * body``; elsewhere the frame is unchanged.
    """
    cv2 = _cv2()
    opacity = float(np.clip(opacity, 0.0, 1.0))
    out = frame.copy()
    box = _box(render)
    if box is None:
        return out
    ys, xs = box
    blended = cv2.addWeighted(frame[ys, xs], 1.0 - opacity, np.ascontiguousarray(render[ys, xs, :3]), opacity, 0.0)
    np.copyto(out[ys, xs], blended, where=render[ys, xs, 3:4] > 0)
    return out


def _box(render: np.ndarray) -> tuple[slice, slice] | None:
    """Rows and columns of the render's bounding box (the body is a small part of a frame)."""
    alpha = render[..., 3] > 0
    rows = np.flatnonzero(alpha.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(alpha[rows[0]:rows[-1] + 1].any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def on_background(render: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    """(H, W, 4) render -> (H, W, 3) uint8 over a plain colour (the second view)."""
    out = np.empty(render.shape[:2] + (3,), np.uint8)
    out[:] = background
    box = _box(render)
    if box is not None:
        ys, xs = box
        np.copyto(out[ys, xs], render[ys, xs, :3], where=render[ys, xs, 3:4] > 0)
    return out


def draw_landmarks(image: np.ndarray, keypoints: np.ndarray, scale: tuple[float, float],
                   min_confidence: float = 0.3) -> None:
    """Draw (K, 3) landmarks (pixels of the motion's image + confidence) in place.

    ``scale`` = (sx, sy) from the motion's pixels to ``image``'s. Points with
    confidence below ``min_confidence`` (or NaN) are skipped.
    """
    cv2 = _cv2()
    kp = np.asarray(keypoints, np.float64)
    ok = np.isfinite(kp).all(axis=1) & (kp[:, 2] >= min_confidence)
    shift = 4  # sub-pixel drawing: coordinates in 1/16 px
    # Pixel j covers [j, j + 1): OpenCV draws at integer centres, hence - 0.5.
    pts = np.round((kp[:, :2] * scale - 0.5) * (1 << shift)).astype(np.int64)
    radius = max(2, round(min(image.shape[:2]) / 180))
    for a, b in BODY_EDGES:
        if a < len(kp) and b < len(kp) and ok[a] and ok[b]:
            cv2.line(image, tuple(int(x) for x in pts[a]), tuple(int(x) for x in pts[b]),
                     (255, 255, 255), 1, cv2.LINE_AA, shift)
    for start, end, color in LANDMARK_GROUPS:
        for k in range(start, min(end, len(kp))):
            if ok[k]:
                cv2.circle(image, tuple(int(x) for x in pts[k]), radius << shift, color, -1, cv2.LINE_AA, shift)


def draw_label(image: np.ndarray, text: str, *, right: bool = False) -> None:
    """Burn ``text`` into the top-left (or top-right) corner on a dark box, in place."""
    cv2 = _cv2()
    scale = max(0.4, image.shape[0] / 720.0)
    thick = max(1, round(scale * 1.5))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    pad = max(3, th // 3)
    x = image.shape[1] - tw - 3 * pad if right else pad
    cv2.rectangle(image, (x, pad), (x + tw + 2 * pad, pad + th + base + 2 * pad), (0, 0, 0), -1)
    cv2.putText(image, text, (x + pad, pad + th + pad), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), thick, cv2.LINE_AA)
