"""Gravity from the scene's vertical lines: segments -> a vertical vanishing direction on the unit sphere.

Frames: pixels (origin top-left, y down) and the OpenCV camera frame (x right,
y down, z forward). A segment with endpoints p1, p2 (pixels) lies in the plane
through the camera centre spanned by the rays ``K^-1 [p; 1]``; its unit normal
``n`` is the segment's *interpretation normal*. Every world-vertical segment's
plane contains the vertical direction ``v``, so ``n . v = 0``: ``v`` is voted
by RANSAC over pairs of segments (``v = n_i x n_j``) and refined by least
squares on the sphere (the smallest eigenvector of ``sum w n n^T``).

OpenCV only for the detector; the maths is numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rotations import angle_between_degrees

MIN_LENGTH_FRACTION = 0.035
"""Shortest segment kept, as a share of the image's longer side (bark and grass make short ones)."""
MAX_FROM_VERTICAL_DEGREES = 40.0
"""Candidates lean at most this much from the image's vertical (pitch -35 deg with 15 deg roll reaches ~37 deg
at the picture's edge)."""
MAX_TILT_DEGREES = 60.0
"""A vanishing direction farther than this from a level camera's up is not the vertical one."""
INLIER_DEGREES = 0.75
"""A segment votes for ``v`` when ``v`` is within this angle of the segment's plane."""
MIN_LINES = 6
"""Fewest distinct consistent lines (inliers per frame) for an estimate."""
MIN_SIGNIFICANCE = 3.0
"""The winner must gather this many times the votes of a typical hypothesis (chance alignments of texture)."""
MAX_SIGMA_DEGREES = 5.0
"""Refuse an estimate less certain than this: the posture does as well."""
SIGMA_FLOOR_DEGREES = 1.0
"""Added in quadrature to the lines' own spread: lens distortion, a field of view a few degrees off."""
RIVAL_ORTHOGONAL_DEGREES = 10.0
"""A second line family within this of a right angle to the winner's direction is a rival for the vertical."""
LEVEL_UP = np.array([0.0, -1.0, 0.0])


@dataclass(frozen=True)
class VerticalVote:
    """A vertical vanishing direction found in line segments.

    Attributes:
        up: (3,) unit vector, OpenCV camera frame, the one of +-v that points
            up in the picture (negative y).
        sigma_degrees: 1-sigma angular uncertainty of ``up``.
        lines: inliers per frame (distinct consistent lines).
        inliers: (N,) bool, which of the segments voted for it.
    """

    up: np.ndarray
    sigma_degrees: float
    lines: float
    inliers: np.ndarray


def detect_segments(gray: np.ndarray, boxes: np.ndarray | None = None,
                    max_lean_degrees: float = MAX_FROM_VERTICAL_DEGREES) -> np.ndarray:
    """(N, 4) line segments x1, y1, x2, y2 in the pixels of ``gray`` (H, W) uint8, leaning at most
    ``max_lean_degrees`` from the picture's vertical (default: the near-vertical ones; 90: all).

    ``boxes``: (B, 4) x0, y0, x1, y1 pixel boxes to mask out (the person):
    a segment with its midpoint or an endpoint inside one is dropped.
    """
    import cv2

    gray = np.ascontiguousarray(gray)
    min_length = MIN_LENGTH_FRACTION * max(gray.shape)
    detector = cv2.ximgproc.createFastLineDetector(length_threshold=int(min_length), distance_threshold=1.414,
                                                   canny_th1=50, canny_th2=50, canny_aperture_size=3, do_merge=True)
    found = detector.detect(gray)
    if found is None:
        return np.zeros((0, 4))
    seg = np.asarray(found, np.float64).reshape(-1, 4)
    seg = seg[near_vertical(seg, max_lean_degrees)]
    if boxes is not None and len(boxes) and len(seg):
        keep = np.ones(len(seg), bool)
        for point in (seg[:, :2], seg[:, 2:], 0.5 * (seg[:, :2] + seg[:, 2:])):
            for x0, y0, x1, y1 in np.asarray(boxes, np.float64):
                keep &= ~((point[:, 0] >= x0) & (point[:, 0] <= x1) & (point[:, 1] >= y0) & (point[:, 1] <= y1))
        seg = seg[keep]
    return seg


def near_vertical(segments: np.ndarray, max_lean_degrees: float = MAX_FROM_VERTICAL_DEGREES) -> np.ndarray:
    """(N,) bool: which ``segments`` (N, 4 pixels) lean at most ``max_lean_degrees`` from the picture's vertical."""
    d = segments[:, 2:] - segments[:, :2]
    return np.degrees(np.arctan2(np.abs(d[:, 0]), np.abs(d[:, 1]))) <= max_lean_degrees


def shared_fraction(a: np.ndarray, b: np.ndarray, tolerance: float = 3.0) -> float:
    """Share of segments ``a`` (N, 4 pixels) that ``b`` (M, 4) also holds: a line through the same place.

    A segment of ``a`` is held when its endpoints and midpoint lie within
    ``tolerance`` pixels of one segment of ``b`` (across it, and inside its
    span): a static camera finds most of its scene's lines again in every
    frame, a moving one almost none.
    """
    if len(a) == 0 or len(b) == 0:
        return 0.0
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = b[:, 2:] - b[:, :2]
    length = np.maximum(np.linalg.norm(d, axis=1), 1e-9)
    unit = d / length[:, None]
    found = np.ones((len(a), len(b)), bool)
    for point in (a[:, :2], a[:, 2:], 0.5 * (a[:, :2] + a[:, 2:])):
        rel = point[:, None, :] - b[None, :, :2]  # (N, M, 2)
        along = np.einsum("nmk,mk->nm", rel, unit)
        across = np.abs(rel[..., 0] * unit[None, :, 1] - rel[..., 1] * unit[None, :, 0])
        found &= (across < tolerance) & (along > -tolerance) & (along < length[None] + tolerance)
    return float(found.any(axis=1).mean())


def interpretation_normals(segments: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) unit normals of the planes through the camera centre and each segment, and (N,) lengths in pixels.

    ``segments``: (N, 4) pixels; ``K``: (3, 3) intrinsics of those pixels.
    """
    seg = np.asarray(segments, np.float64).reshape(-1, 4)
    Kinv = np.linalg.inv(np.asarray(K, np.float64))
    ones = np.ones((len(seg), 1))
    a = np.concatenate([seg[:, :2], ones], 1) @ Kinv.T
    b = np.concatenate([seg[:, 2:], ones], 1) @ Kinv.T
    n = np.cross(a, b)
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    return n / np.maximum(norm, 1e-12), np.linalg.norm(seg[:, 2:] - seg[:, :2], axis=1)


def sphere_lstsq(n: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(v, eigenvalues ascending) minimising sum w (n . v)^2 over unit v."""
    M = (n * w[:, None]).T @ n
    values, vectors = np.linalg.eigh(M)
    return vectors[:, 0], values


def _random_directions(rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, 3) unit directions spread uniformly over the cone of ``MAX_TILT_DEGREES`` around a level up."""
    cos_max = np.cos(np.radians(MAX_TILT_DEGREES))
    c = rng.uniform(cos_max, 1.0, count)
    phi = rng.uniform(0.0, 2 * np.pi, count)
    s = np.sqrt(1.0 - c**2)
    return np.stack([s * np.cos(phi), -c, s * np.sin(phi)], axis=1)


def up_sign(v: np.ndarray) -> np.ndarray:
    """The one of +-``v`` (3,) that points up in the picture (negative y)."""
    return -v if v[1] > 0 else v


def vertical_vanishing_direction(segments: np.ndarray, K: np.ndarray, *, frames: int = 1,
                                 iterations: int = 400, seed: int = 0) -> VerticalVote | None:
    """The vertical vanishing direction of ``segments`` (N, 4 pixels) under intrinsics ``K``; None if unsure.

    ``frames``: how many pictures the segments were pooled from; a static
    line is found once per picture, so the number of distinct lines (and the
    uncertainty) counts it once. None when fewer than ``MIN_LINES`` distinct
    lines agree, when the winning direction gathers no more votes than chance
    alignments of texture would (``MIN_SIGNIFICANCE``), or when the result
    is less certain than ``MAX_SIGMA_DEGREES``.
    """
    n, length = interpretation_normals(segments, K)
    return vote_vertical(n, length, frames=frames, iterations=iterations, seed=seed)


def vote_vertical(n: np.ndarray, length: np.ndarray, *, frames: int = 1, iterations: int = 400,
                  seed: int = 0) -> VerticalVote | None:
    """:func:`vertical_vanishing_direction` on interpretation normals ``n`` (N, 3) and lengths (N,) pixels."""
    if len(n) < 2 * MIN_LINES:
        return None
    rng = np.random.default_rng(seed)
    pairs = rng.integers(0, len(n), size=(iterations, 2))
    v = np.cross(n[pairs[:, 0]], n[pairs[:, 1]])
    norm = np.linalg.norm(v, axis=1)
    ok = norm > 1e-6
    v = v[ok] / norm[ok, None]
    v = np.where(v[:, 1:2] > 0, -v, v)
    v = v[v @ LEVEL_UP >= np.cos(np.radians(MAX_TILT_DEGREES))]
    if len(v) == 0:
        return None
    sin_thr = np.sin(np.radians(INLIER_DEGREES))
    weight = np.sqrt(length)  # long segments are surer, but a few long ones must not outvote many
    scores = (np.abs(n @ v.T) < sin_thr).T @ weight  # (H,)
    best = int(np.argmax(scores))
    # Chance: the votes a direction drawn at random from the same cone gathers (texture aligns by chance).
    directions = _random_directions(rng, 200)
    if scores[best] < _enough(n, weight, directions, sin_thr):
        return None
    up = _refine(n, weight, v[best], sin_thr)
    if up is None:
        return None
    rival = _orthogonal_rival(n, weight, v, up, sin_thr, directions, frames)
    if rival is not None and rival @ LEVEL_UP > up @ LEVEL_UP:
        up = rival
    inliers = np.abs(n @ up) < sin_thr
    lines = inliers.sum() / max(frames, 1)
    if lines < MIN_LINES or angle_between_degrees(up, LEVEL_UP) > MAX_TILT_DEGREES:
        return None
    sigma = direction_sigma_degrees(n[inliers], up, frames)
    if not sigma <= MAX_SIGMA_DEGREES:
        return None
    return VerticalVote(up=up, sigma_degrees=sigma, lines=float(lines), inliers=inliers)


def _enough(n: np.ndarray, weight: np.ndarray, directions: np.ndarray, sin_thr: float) -> float:
    """Votes a significant direction needs: ``MIN_SIGNIFICANCE`` times what random ``directions`` gather."""
    chance = (np.abs(n @ directions.T) < sin_thr).T @ weight
    return MIN_SIGNIFICANCE * max(float(np.percentile(chance, 90)), float(weight.min()))


def _refine(n: np.ndarray, weight: np.ndarray, up: np.ndarray, sin_thr: float) -> np.ndarray | None:
    """``up`` refitted by least squares to the segments whose planes hold it (four rounds); None if none do."""
    for _ in range(4):
        inliers = np.abs(n @ up) < sin_thr
        if inliers.sum() < 2:
            return None
        up, _ = sphere_lstsq(n[inliers], weight[inliers])
        up = up_sign(up)
    return up


def _orthogonal_rival(n: np.ndarray, weight: np.ndarray, v: np.ndarray, up: np.ndarray, sin_thr: float,
                      directions: np.ndarray, frames: int) -> np.ndarray | None:
    """A second line family's direction, at right angles to ``up`` and as well supported; None if there is none.

    Looking down (or up) steeply, horizontal lines running away from the
    camera vanish inside the cone a vertical may take, and on a floor or a
    ceiling they can outnumber the walls' verticals. Two such families at
    right angles are a horizontal and the vertical: for a camera tilted
    less than 45 degrees every horizontal direction lies farther from the
    level camera's up than the vertical does, so the caller keeps the nearer.
    Its significance is judged against chance among the segments the winner
    left (the winner's family would lift chance everywhere near it).
    """
    rest = np.abs(n @ up) >= sin_thr
    across = np.abs(v @ up) < np.sin(np.radians(RIVAL_ORTHOGONAL_DEGREES))
    if rest.sum() < 2 or not across.any():
        return None
    scores = (np.abs(n[rest] @ v[across].T) < sin_thr).T @ weight[rest]
    if scores.max() < _enough(n[rest], weight[rest], directions, sin_thr):
        return None
    rival = _refine(n[rest], weight[rest], v[across][int(np.argmax(scores))], sin_thr)
    if rival is None or abs(float(rival @ up)) > np.sin(np.radians(RIVAL_ORTHOGONAL_DEGREES)):
        return None
    if (np.abs(n @ rival) < sin_thr).sum() / max(frames, 1) < MIN_LINES:
        return None
    return rival


def direction_sigma_degrees(n: np.ndarray, v: np.ndarray, frames: int = 1) -> float:
    """1-sigma angular uncertainty (degrees, worst direction) of ``v`` fitted to normals ``n`` (N, 3).

    Residuals ``r = n . v`` have variance ``s^2``; moving ``v`` by a small
    angle ``d`` along a tangent direction ``e`` changes them by ``(n . e) d``,
    so the information along ``e`` is ``sum (n . e)^2 / s^2``; the weakest
    tangent direction is the second eigenvector of ``sum n n^T``. A line seen
    in ``frames`` pictures counts once, and ``SIGMA_FLOOR_DEGREES`` is added
    in quadrature.
    """
    r = n @ v
    s2 = float(np.mean(r**2)) * len(r) / max(len(r) - 2, 1)
    M = n.T @ n
    values = np.linalg.eigvalsh(M)
    info = max(values[1], 1e-12) / max(frames, 1)
    sigma = np.degrees(np.sqrt(s2 / info))
    return float(np.hypot(sigma, SIGMA_FLOOR_DEGREES))
