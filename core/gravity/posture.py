"""Gravity from the person's own upright posture, in the fitted joints (OpenCV camera frame).

A person standing, or walking at mid-stance, with a straight supporting leg
and the trunk over the legs has the mid-ankle -> mid-shoulder line close to
vertical. Over many such frames the mean of that direction estimates the up
direction; people lean a few degrees (and a monocular fit's depth errs), so
the uncertainty has a floor. Walking counts (a person walking in place, or
across a structure-less studio, has no still frames: the level-camera guess
was 23 degrees off on the bench's studio walk); running does not (a runner
leans forward), nor does a crouch.
"""

from __future__ import annotations

import numpy as np

from ..rotations import angle_between_degrees
from ..skeleton import JOINT_INDEX
from .lines import LEVEL_UP, MAX_TILT_DEGREES

STRAIGHT_KNEE_DEGREES = 160.0
"""A leg counts as straight when its knee angle (hip-knee-ankle) is at least this (``upright_frames``' default)."""
UPRIGHT_TRUNK_DEGREES = 12.0
"""The trunk (mid-hip -> mid-shoulder) may bend this much from the legs' line (``upright_frames``' default)."""
STANCE_KNEE_DEGREES = 155.0
"""A supporting leg: at least one knee this straight (a walker's stance knee is 160-175 degrees at mid-stance;
a monocular fit's knees are a few degrees softer)."""
STANCE_TRUNK_DEGREES = 15.0
"""In a stance frame the trunk may bend this much from the legs' line (as the upright figure allows)."""
WALK_SPEED = 2.0
"""Mid-hip speed (m/s) below which a stance counts: walking, not running (a runner leans forward)."""
STILL_SPEED = 0.35
"""Mid-hip speed (m/s) below which an upright person stands still."""
MIN_STANDING_SECONDS = 0.5
"""Fewest seconds of standing (else stance) frames for an estimate."""
SIGMA_FLOOR_DEGREES = 3.0
"""People lean; the fitted depth of the body is the least certain axis."""
WALKING_SIGMA_FLOOR_DEGREES = 5.0
"""A walker's ankles are not centred under the trunk at every phase (the swing leg's bent knee holds its ankle
back): the stances' mean leans 2-6 degrees on the bench's walks (5.6 on the synthetic walk of the tests)."""
CORRELATION_SECONDS = 0.5
"""Frames closer than this share their errors: the spread is divided by sqrt(seconds / this)."""


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def upright_frames(joints: np.ndarray, knee_degrees: float = STRAIGHT_KNEE_DEGREES,
                   trunk_degrees: float = UPRIGHT_TRUNK_DEGREES, *, either_knee: bool = False) -> np.ndarray:
    """(T,) bool: frames with both knees (hip-knee-ankle; ``either_knee``: at least one, a supporting leg)
    at least ``knee_degrees`` open and the trunk (mid-hip -> mid-shoulder) within ``trunk_degrees`` of the
    legs' line (mid-ankle -> mid-hip), at any speed.

    ``joints``: (T, J, 3) SMPL-X joints in metres, any frame; frames with a NaN joint are False.
    """
    J = JOINT_INDEX
    P = np.asarray(joints, np.float64)
    ok = np.isfinite(P).all(axis=(1, 2))
    left, right = (angle_between_degrees(P[:, J[f"{side}_hip"]] - P[:, J[f"{side}_knee"]],
                                         P[:, J[f"{side}_ankle"]] - P[:, J[f"{side}_knee"]]) >= knee_degrees
                   for side in ("left", "right"))
    ok &= (left | right) if either_knee else (left & right)
    mid_ankle = 0.5 * (P[:, J["left_ankle"]] + P[:, J["right_ankle"]])
    mid_hip = 0.5 * (P[:, J["left_hip"]] + P[:, J["right_hip"]])
    mid_shoulder = 0.5 * (P[:, J["left_shoulder"]] + P[:, J["right_shoulder"]])
    return ok & (angle_between_degrees(mid_hip - mid_ankle, mid_shoulder - mid_hip) <= trunk_degrees)


def standing_frames(joints: np.ndarray, fps: float) -> np.ndarray:
    """(T,) bool: frames where the person stands or walks upright: one leg straight (``STANCE_KNEE_DEGREES``),
    the trunk within ``STANCE_TRUNK_DEGREES`` of the legs' line (mid-ankle -> mid-hip), slower than ``WALK_SPEED``.

    ``joints``: (T, J, 3) SMPL-X joints in metres, any frame (camera frame for a capture); frames with a NaN
    joint are False.
    """
    P = np.asarray(joints, np.float64)
    upright = upright_frames(P, STANCE_KNEE_DEGREES, STANCE_TRUNK_DEGREES, either_knee=True)
    return upright & (_speed(P, fps) < WALK_SPEED)


def _speed(joints: np.ndarray, fps: float) -> np.ndarray:
    """(T,) mid-hip speed, m/s, of (T, J, 3) joints."""
    mid_hip = 0.5 * (joints[:, JOINT_INDEX["left_hip"]] + joints[:, JOINT_INDEX["right_hip"]])
    if joints.shape[0] < 2:
        return np.zeros(joints.shape[0])
    return np.linalg.norm(np.gradient(mid_hip, axis=0), axis=-1) * fps


def _independent(frames: np.ndarray, fps: float) -> float:
    """How many independent looks (at least 1) sorted frame indices give: each run of consecutive frames
    counts its seconds over ``CORRELATION_SECONDS``, and at least one (separate stances err apart)."""
    if len(frames) == 0:
        return 1.0
    breaks = np.flatnonzero(np.diff(frames) > 1)
    lengths = np.diff(np.concatenate([[0], breaks + 1, [len(frames)]]))
    return max(1.0, float(np.maximum(1.0, lengths / fps / CORRELATION_SECONDS).sum()))


def posture_up(joints: np.ndarray, fps: float, weights: np.ndarray | None = None) -> tuple[np.ndarray, float, int] | None:
    """(up (3,) unit, 1-sigma degrees, stance frames) from the stance frames of ``joints``; None if too few.

    ``joints``: (T, J, 3) metres (camera frame: the result is in it too);
    ``weights``: optional (T,) frame confidences (0 drops a frame).
    The mean direction is robust: frames more than 2.5 robust spreads off
    are dropped and the mean taken again.
    """
    J = JOINT_INDEX
    P = np.asarray(joints, np.float64)
    sure = np.ones(len(P), bool) if weights is None else np.asarray(weights) > 0.3
    enough = max(3, MIN_STANDING_SECONDS * fps)
    standing = standing_frames(P, fps) & sure
    # Mostly standing still: the floor of a stance; mostly walking: a walker's.
    still = standing & upright_frames(P) & (_speed(P, fps) < STILL_SPEED)
    floor = SIGMA_FLOOR_DEGREES if 2 * still.sum() >= standing.sum() else WALKING_SIGMA_FLOOR_DEGREES
    count = int(standing.sum())
    if count < enough:
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
    independent = _independent(np.flatnonzero(standing)[keep], fps)
    sigma = float(np.hypot(spread / np.sqrt(independent), floor))
    return up, sigma, count
