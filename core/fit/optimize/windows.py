"""Long clips in overlapping windows: the windows, a window's frames, and the cross-fade that stitches them."""

from __future__ import annotations

import dataclasses

import numpy as np

from ...landmarks import PoseSequence
from ...rotations import axis_angle_to_quat_wxyz, quat_wxyz_to_axis_angle
from ...skeleton import NUM_JOINTS
from ..result import FitResult


def window_starts(T: int, window: int, overlap: int) -> list[int]:
    """First frame of each window of ``window`` frames, neighbours sharing ``overlap``, covering T frames."""
    return list(range(0, T - overlap, window - overlap))


def spread_frames(T: int, count: int) -> np.ndarray:
    """About ``count`` frame indices spread evenly over T frames (the shape fit's sample)."""
    return np.unique(np.linspace(0, T - 1, count).round().astype(int))


def frames_of(seq: PoseSequence, idx: np.ndarray, fps: float | None = None) -> PoseSequence:
    """The frames ``idx`` of ``seq`` as a sequence of their own."""
    return dataclasses.replace(
        seq, fps=seq.fps if fps is None else fps, frame_indices=seq.frame_indices[idx],
        body_2d=seq.body_2d[idx], body_world=seq.body_world[idx], left_hand=seq.left_hand[idx],
        right_hand=seq.right_hand[idx], face=seq.face[idx], present=seq.present[idx])


def stitch(parts: list[tuple[int, FitResult | None]], T: int, overlap: int, shape_fit: FitResult) -> FitResult:
    """Cross-fade window results into one clip (rotations by normalised quaternion blend).

    ``parts``: (first frame, result or None where nobody was found) per window; T frames in all;
    ``overlap`` frames shared by neighbours; ``shape_fit`` gives the shape and body. The windows'
    warnings are not carried over: they count frames per window (overlaps twice), so the caller
    words the take's own from the stitched ``bridged`` flags."""
    quat = np.zeros((T, NUM_JOINTS, 4))
    trans = np.zeros((T, 3))
    E = shape_fit.expression.shape[1]
    expression = np.zeros((T, E))
    weight = np.zeros(T)
    confidence = np.zeros(T, np.float32)
    reproj = np.full(T, np.nan, np.float32)
    bridged = np.ones(T, bool)
    for start, part in parts:
        if part is None:
            continue
        n = part.poses.shape[0]
        w = np.ones(n)
        if start > 0:
            w[:overlap] = np.linspace(0.0, 1.0, overlap + 2)[1:-1]
        if start + n < T:
            w[-overlap:] = np.minimum(w[-overlap:], np.linspace(1.0, 0.0, overlap + 2)[1:-1])
        q = axis_angle_to_quat_wxyz(part.poses.reshape(n, NUM_JOINTS, 3).astype(np.float64))
        sl = slice(start, start + n)
        # Same hemisphere as what is already there, so the blend does not cancel out.
        flip = np.sum(q * quat[sl], axis=-1, keepdims=True) < 0
        quat[sl] += w[:, None, None] * np.where(flip, -q, q)
        trans[sl] += w[:, None] * part.trans
        if part.expression.shape[1] == E:
            expression[sl] += w[:, None] * part.expression
        weight[sl] += w
        mine = w >= 0.5
        confidence[sl][mine] = part.confidence[mine]
        reproj[sl][mine] = part.reprojection_error[mine]
        bridged[sl][mine] = part.bridged[mine]
    have = weight > 0
    frames = np.arange(T)
    for arr in (trans, expression):
        arr[have] /= weight[have, None]
    quat[have] /= np.linalg.norm(quat[have], axis=-1, keepdims=True)
    if not have.all():  # whole windows without a person: hold/interpolate from the neighbours
        for k in range(3):
            trans[:, k] = np.interp(frames, frames[have], trans[have, k])
        nearest = frames[have][np.clip(np.searchsorted(frames[have], frames), 0, have.sum() - 1)]
        quat[~have] = quat[nearest[~have]]
        bridged[~have] = True
    poses = quat_wxyz_to_axis_angle(quat).reshape(T, -1)
    return dataclasses.replace(
        shape_fit, poses=poses.astype(np.float32), trans=trans.astype(np.float32),
        expression=expression.astype(np.float32), confidence=confidence, bridged=bridged,
        reprojection_error=reproj, warnings=[])
