"""Figures that say how good a take is, for the motion file, the panel and batch reports."""

from __future__ import annotations

import numpy as np

BODY_JOINTS = slice(0, 22)  # pelvis to wrists: what jitter is judged on


def jitter_mm(positions: np.ndarray) -> float:
    """Mean acceleration magnitude of the body joints, mm/frame^2, over (T, J, 3) metres."""
    if positions.shape[0] < 3:
        return 0.0
    acc = positions[2:, BODY_JOINTS] - 2 * positions[1:-1, BODY_JOINTS] + positions[:-2, BODY_JOINTS]
    return float(np.linalg.norm(acc, axis=-1).mean() * 1000.0)


def foot_skate_mm(points: np.ndarray, contacts: np.ndarray) -> float:
    """Mean horizontal travel per frame (mm) of Z-up contact proxies (T, P, 3) while in contact."""
    both = contacts[1:] & contacts[:-1]
    if not both.any():
        return 0.0
    step = np.linalg.norm(points[1:, :, :2] - points[:-1, :, :2], axis=-1)
    return float(step[both].mean() * 1000.0)


def penetration_mm(points: np.ndarray, rest_height: np.ndarray, support: np.ndarray | None = None
                   ) -> tuple[float, float]:
    """(mean, max) depth in mm of Z-up contact proxies' (T, P, 3) soles (``rest_height`` (P,) below them)
    under the ground each stands over, ``support`` (T, P) metres (``levels``; None: the floor, Z = 0)."""
    ground = 0.0 if support is None else np.asarray(support, np.float64)
    depth = np.maximum(ground + rest_height[None, :] - points[..., 2], 0.0)
    return float(depth.mean() * 1000.0), float(depth.max() * 1000.0)


def step_figures(pelvis: np.ndarray, points: np.ndarray, contacts: np.ndarray) -> dict[str, float]:
    """The largest frame-to-frame moves, mm: ``root_max_step_mm`` of the pelvis (T, 3), and
    ``planted_foot_max_step_mm`` of contact proxies (T, P, 3) planted on both frames."""
    if pelvis.shape[0] < 2:
        return {"root_max_step_mm": 0.0, "planted_foot_max_step_mm": 0.0}
    both = contacts[1:] & contacts[:-1]
    feet = np.linalg.norm(np.diff(points, axis=0), axis=-1)[both]
    return {"root_max_step_mm": float(np.linalg.norm(np.diff(pelvis, axis=0), axis=-1).max() * 1000.0),
            "planted_foot_max_step_mm": float(feet.max() * 1000.0) if feet.size else 0.0}
