"""Gravity from the person's own standing posture, in the fitted joints (OpenCV camera frame).

A person standing still with straight legs and an upright trunk has the
mid-ankle -> mid-hip -> mid-shoulder line close to vertical. Over many such
frames the mean of that direction estimates the up direction; people lean a
few degrees (and a monocular fit's depth errs), so the uncertainty has a floor.
"""

from __future__ import annotations

import numpy as np

from ..rotations import angle_between_degrees
from ..skeleton import JOINT_INDEX
from .lines import LEVEL_UP, MAX_TILT_DEGREES

STRAIGHT_KNEE_DEGREES = 160.0
"""A leg counts as straight when its knee angle (hip-knee-ankle) is at least this."""
UPRIGHT_TRUNK_DEGREES = 12.0
"""The trunk (mid-hip -> mid-shoulder) may bend this much from the legs' line."""
STILL_SPEED = 0.35
"""Mid-hip speed (m/s) below which the person counts as standing still."""
MIN_STANDING_SECONDS = 0.5
"""Fewest seconds of standing frames for an estimate."""
SIGMA_FLOOR_DEGREES = 3.0
"""People lean; the fitted depth of the body is the least certain axis."""
CORRELATION_SECONDS = 0.5
"""Frames closer than this share their errors: the spread is divided by sqrt(seconds / this)."""


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def upright_frames(joints: np.ndarray, knee_degrees: float = STRAIGHT_KNEE_DEGREES,
                   trunk_degrees: float = UPRIGHT_TRUNK_DEGREES) -> np.ndarray:
    """(T,) bool: frames with both knees (hip-knee-ankle) at least ``knee_degrees`` open and the trunk
    (mid-hip -> mid-shoulder) within ``trunk_degrees`` of the legs' line (mid-ankle -> mid-hip), at any speed.

    ``joints``: (T, J, 3) SMPL-X joints in metres, any frame; frames with a NaN joint are False.
    """
    J = JOINT_INDEX
    P = np.asarray(joints, np.float64)
    ok = np.isfinite(P).all(axis=(1, 2))
    for side in ("left", "right"):
        hip, knee, ankle = P[:, J[f"{side}_hip"]], P[:, J[f"{side}_knee"]], P[:, J[f"{side}_ankle"]]
        ok &= angle_between_degrees(hip - knee, ankle - knee) >= knee_degrees
    mid_ankle = 0.5 * (P[:, J["left_ankle"]] + P[:, J["right_ankle"]])
    mid_hip = 0.5 * (P[:, J["left_hip"]] + P[:, J["right_hip"]])
    mid_shoulder = 0.5 * (P[:, J["left_shoulder"]] + P[:, J["right_shoulder"]])
    return ok & (angle_between_degrees(mid_hip - mid_ankle, mid_shoulder - mid_hip) <= trunk_degrees)


def standing_frames(joints: np.ndarray, fps: float) -> np.ndarray:
    """(T,) bool: frames where the person stands (legs straight, trunk upright over them, slow).

    ``joints``: (T, J, 3) SMPL-X joints in metres, any frame (camera frame for a capture).
    """
    P = np.asarray(joints, np.float64)
    mid_hip = 0.5 * (P[:, JOINT_INDEX["left_hip"]] + P[:, JOINT_INDEX["right_hip"]])
    if P.shape[0] > 1:
        speed = np.linalg.norm(np.gradient(mid_hip, axis=0), axis=-1) * fps
    else:
        speed = np.zeros(P.shape[0])
    return upright_frames(P) & (speed < STILL_SPEED)


def posture_up(joints: np.ndarray, fps: float, weights: np.ndarray | None = None) -> tuple[np.ndarray, float, int] | None:
    """(up (3,) unit, 1-sigma degrees, standing frames) from the standing frames of ``joints``; None if too few.

    ``joints``: (T, J, 3) metres (camera frame: the result is in it too);
    ``weights``: optional (T,) frame confidences (0 drops a frame).
    The mean direction is robust: frames more than 2.5 robust spreads off
    are dropped and the mean taken again.
    """
    J = JOINT_INDEX
    P = np.asarray(joints, np.float64)
    standing = standing_frames(P, fps)
    if weights is not None:
        standing &= np.asarray(weights) > 0.3
    count = int(standing.sum())
    if count < max(3, MIN_STANDING_SECONDS * fps):
        return None
    S = P[standing]
    mid_ankle = 0.5 * (S[:, J["left_ankle"]] + S[:, J["right_ankle"]])
    mid_shoulder = 0.5 * (S[:, J["left_shoulder"]] + S[:, J["right_shoulder"]])
    d = _unit(mid_shoulder - mid_ankle)
    up = _unit(np.median(d, axis=0))
    for _ in range(3):
        off = angle_between_degrees(d, up[None])
        scale = max(1.4826 * float(np.median(off)), 0.5)
        keep = off <= 2.5 * scale
        up = _unit(d[keep].mean(axis=0))
    if angle_between_degrees(up, LEVEL_UP) > MAX_TILT_DEGREES:
        return None  # a camera tilted that far, or a body fitted upside down (a handstand): not the up
    off = angle_between_degrees(d[keep], up[None])
    spread = float(np.sqrt(np.mean(off**2)))
    independent = max(1.0, keep.sum() / fps / CORRELATION_SECONDS)
    sigma = float(np.hypot(spread / np.sqrt(independent), SIGMA_FLOOR_DEGREES))
    return up, sigma, count
