"""Gravity from the ground's texture: two families of level lines -> the horizon -> the up direction.

A tiled or paved floor, planks, a court's markings, the seams of a wall's
panels: lines that run level in two directions. Each family's segments meet
in one vanishing direction ``d`` (``n . d = 0`` for every segment's
interpretation normal ``n``, as in ``lines``), and both directions are level,
so the up is ``d1 x d2`` (the horizon is the line through their vanishing
points). The families are found by RANSAC over pairs of segments, as the
vertical one is, among directions far from a level camera's up (a wall's
verticals are not a level family), the second at nearly a right angle to the
first: a floor's two families mostly are (tiles, boards, a room's walls), and
two directions at a narrow angle make their cross product, the up, unsure.

Frames and conventions as ``lines``: pixels, the OpenCV camera frame, the
person's box masked out before. The maths is numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rotations import angle_between_degrees
from .lines import (
    INLIER_DEGREES,
    LEVEL_UP,
    MAX_TILT_DEGREES,
    MIN_SIGNIFICANCE,
    _refine,
    direction_sigma_degrees,
    up_sign,
)

LEVEL_FROM_UP_DEGREES = 45.0
"""A level family's direction lies at least this far from a level camera's up (every level direction does for a
camera tilted less than 45 degrees; the vertical direction does not)."""
MIN_CROSSING_DEGREES = 80.0
"""The two families cross at least at this angle (the bench's tiled floors: 83-90 degrees; a pair found at
77-79 degrees was a floor family and a stray one, 4-7 degrees off the true up)."""
MIN_LINES = 3
"""Fewest distinct lines (inliers per picture) in each family."""
MIN_DEPRESSION_DEGREES = 6.0
"""Each family's segments lie at least this far below (or above) the horizon, the median of their midpoints'
rays: a floor seen at a grazing angle shows its far tiles foreshortened and aliased into false lines (a floor
3 degrees below the horizon gave an up 9 degrees off; the bench's floors lie 12-36 degrees below)."""
MAX_SIGMA_DEGREES = 3.0
"""Refuse an up less certain than this (the posture does as well; a weak second family was 5-7 degrees off)."""
ITERATIONS = 600
"""RANSAC hypotheses (pairs of segments) per family."""


@dataclass(frozen=True)
class GroundVote:
    """The up direction from two level line families.

    Attributes:
        up: (3,) unit vector, OpenCV camera frame, pointing up in the picture.
        sigma_degrees: its 1-sigma angular uncertainty.
        directions: (2, 3) the families' vanishing directions.
        lines: (2,) distinct lines per picture in each family.
    """

    up: np.ndarray
    sigma_degrees: float
    directions: np.ndarray
    lines: np.ndarray


def _level_directions(rng: np.random.Generator, count: int) -> np.ndarray:
    """(count, 3) unit directions uniform over the band at least ``LEVEL_FROM_UP_DEGREES`` from a level up."""
    limit = np.cos(np.radians(LEVEL_FROM_UP_DEGREES))
    c = rng.uniform(-limit, limit, count)  # the component along the level up
    phi = rng.uniform(0.0, 2 * np.pi, count)
    s = np.sqrt(1.0 - c**2)
    return np.stack([s * np.cos(phi), -c, s * np.sin(phi)], axis=1)


def _family(n: np.ndarray, weight: np.ndarray, rng: np.random.Generator,
            other: np.ndarray | None = None) -> np.ndarray | None:
    """The best supported level vanishing direction among segments ``n`` (N, 3); with ``other`` (3,), one that crosses
    it at ``MIN_CROSSING_DEGREES`` or more and makes an up within ``MAX_TILT_DEGREES`` of a level camera's. None when
    no direction gathers ``MIN_SIGNIFICANCE`` times the votes of chance (texture aligns by chance)."""
    if len(n) < 2:
        return None
    sin_thr = np.sin(np.radians(INLIER_DEGREES))
    pairs = rng.integers(0, len(n), size=(ITERATIONS, 2))
    d = np.cross(n[pairs[:, 0]], n[pairs[:, 1]])
    norm = np.linalg.norm(d, axis=1)
    d = d[norm > 1e-6] / norm[norm > 1e-6, None]
    keep = np.abs(d @ LEVEL_UP) <= np.cos(np.radians(LEVEL_FROM_UP_DEGREES))
    if other is not None:
        keep &= np.abs(d @ other) <= np.cos(np.radians(MIN_CROSSING_DEGREES))
        up = np.cross(d, other)
        keep &= np.abs(up @ LEVEL_UP) >= np.cos(np.radians(MAX_TILT_DEGREES)) * np.linalg.norm(up, axis=1)
    d = d[keep]
    if len(d) == 0:
        return None
    scores = (np.abs(n @ d.T) < sin_thr).T @ weight
    best = int(np.argmax(scores))
    chance = (np.abs(n @ _level_directions(rng, 200).T) < sin_thr).T @ weight
    if scores[best] < MIN_SIGNIFICANCE * max(float(np.percentile(chance, 90)), float(weight.min())):
        return None
    return _refine(n, weight, d[best], sin_thr)


def midpoint_rays(segments: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(N, 3) unit rays (camera frame) through the midpoints of ``segments`` (N, 4 pixels) under intrinsics ``K``."""
    seg = np.asarray(segments, np.float64).reshape(-1, 4)
    mid = 0.5 * (seg[:, :2] + seg[:, 2:])
    rays = np.concatenate([mid, np.ones((len(mid), 1))], axis=1) @ np.linalg.inv(np.asarray(K, np.float64)).T
    return rays / np.linalg.norm(rays, axis=1, keepdims=True)


def ground_up(n: np.ndarray, length: np.ndarray, rays: np.ndarray, *, frames: int = 1,
              seed: int = 0) -> GroundVote | None:
    """The up direction from level line families among segments with interpretation normals ``n`` (N, 3),
    lengths ``length`` (N,) pixels and midpoint rays ``rays`` (N, 3, :func:`midpoint_rays`), pooled from
    ``frames`` pictures of a still camera; None if unsure.

    None when two families crossing at ``MIN_CROSSING_DEGREES`` or more are not both significant, when either has
    fewer than ``MIN_LINES`` distinct lines or lies near the horizon (``MIN_DEPRESSION_DEGREES``), when the up
    lies farther than ``MAX_TILT_DEGREES`` from a level camera's, or when it is less certain than
    ``MAX_SIGMA_DEGREES``. The uncertainty: each direction's own
    (``lines.direction_sigma_degrees``, a line counted once however many pictures show it) over the sine of
    the angle the two cross at.
    """
    n = np.asarray(n, np.float64).reshape(-1, 3)
    if len(n) < 4 * MIN_LINES:
        return None
    weight = np.sqrt(np.asarray(length, np.float64))
    rng = np.random.default_rng(seed)
    sin_thr = np.sin(np.radians(INLIER_DEGREES))
    first = _family(n, weight, rng)
    if first is None:
        return None
    rest = np.abs(n @ first) >= sin_thr
    second = _family(n[rest], weight[rest], rng, other=first)
    if second is None:
        return None
    members = [np.abs(n @ d) < sin_thr for d in (first, second)]
    lines = np.array([m.sum() / max(frames, 1) for m in members])
    crossing = float(angle_between_degrees(first, second))
    crossing = min(crossing, 180.0 - crossing)
    if lines.min() < MIN_LINES or crossing < MIN_CROSSING_DEGREES:
        return None
    up = up_sign(np.cross(first, second) / np.linalg.norm(np.cross(first, second)))
    if angle_between_degrees(up, LEVEL_UP) > MAX_TILT_DEGREES:
        return None
    rays = np.asarray(rays, np.float64).reshape(-1, 3)
    depression = [np.median(np.abs(np.degrees(np.arcsin(np.clip(rays[m] @ up, -1.0, 1.0))))) for m in members]
    if min(depression) < MIN_DEPRESSION_DEGREES:
        return None
    sigmas = [direction_sigma_degrees(n[m], d, frames) for m, d in zip(members, (first, second))]
    sigma = float(np.hypot(*sigmas) / np.sin(np.radians(crossing)))
    if not sigma <= MAX_SIGMA_DEGREES:
        return None
    return GroundVote(up=up, sigma_degrees=sigma, directions=np.stack([first, second]), lines=lines)
