"""A starting shape for the mannequin from metric landmarks: segment lengths -> betas.

Numpy only. The betas are the mannequin's log scales (``core.body.mannequin``);
the lengths are measured on the landmark layout of ``core.body.landmark_layout``.
"""

from __future__ import annotations

import numpy as np

from .landmark_layout import rest_body_landmarks
from .mannequin import NUM_BETAS, rest_joints


def segment_lengths(P: np.ndarray) -> np.ndarray:
    """(..., 33, 3) landmarks -> (..., 5) lengths, metres: torso (mid-hip to mid-shoulder),
    arm and leg (both segments, mean of the sides), shoulder width, hip width."""
    def d(i, j):
        return np.linalg.norm(P[..., i, :] - P[..., j, :], axis=-1)

    torso = np.linalg.norm(0.5 * (P[..., 11, :] + P[..., 12, :]) - 0.5 * (P[..., 23, :] + P[..., 24, :]), axis=-1)
    arm = 0.5 * (d(11, 13) + d(13, 15) + d(12, 14) + d(14, 16))
    leg = 0.5 * (d(23, 25) + d(25, 27) + d(24, 26) + d(26, 28))
    return np.stack([torso, arm, leg, d(11, 12), d(23, 24)], axis=-1)


_SHAPE_LANDMARKS = np.array([11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28])


SIZE_LIMITS = (float(np.log(1.3 / 1.7)), float(np.log(2.1 / 1.7)))
"""``betas[0]``'s range (the overall size, a log ratio to the default 1.7 m body): statures of 1.3 to 2.1 m."""
BETA_LIMIT = 0.3
"""The proportions' range (``betas[1:]``, log ratios to the overall size): plausible adults."""


def clamp_betas(betas: np.ndarray) -> np.ndarray:
    """``betas`` (NUM_BETAS,) held to :data:`SIZE_LIMITS` and :data:`BETA_LIMIT`, in place; returned."""
    betas[0] = np.clip(betas[0], *SIZE_LIMITS)
    betas[1:] = np.clip(betas[1:], -BETA_LIMIT, BETA_LIMIT)
    return betas


def estimate_betas(world: np.ndarray, min_visibility: float = 0.5) -> np.ndarray:
    """(NUM_BETAS,) mannequin betas from metric landmarks (N, 33, 4) of good frames.

    Medians over frames whose 12 limb landmarks are all visible (all frames if
    none are). Each beta is a log ratio of an observed length to the default
    body's (see core.body.mannequin): overall from the torso (mid-hip to
    mid-shoulder), then arm, leg, shoulder and hip width relative to it.
    Clamped to plausible adult ranges.
    """
    vis = world[..., _SHAPE_LANDMARKS, 3]
    ok = np.all(vis >= min_visibility, axis=-1)
    use = world[ok] if ok.any() else world
    observed = np.median(segment_lengths(use[..., :3]), axis=0)
    rest = segment_lengths(rest_body_landmarks(rest_joints(None)))
    ratio = np.log(np.maximum(observed, 1e-6) / rest)
    betas = np.zeros(NUM_BETAS)
    betas[0] = np.clip(ratio[0], *SIZE_LIMITS)
    betas[1:5] = ratio[1:5] - betas[0]
    return clamp_betas(betas)
