"""Per-frame joint rotations from landmarks: the closed-form "walking skeleton" fit of a clip.

Every frame is solved on its own, in closed form (``core.fit.closed_form``),
all frames of a chunk at once with numpy; frames without a person are
bridged from their neighbours. The whole-clip optimiser
(``core.fit.optimize``) starts from this fit and returns the same
``FitResult``. Frames and units: see ``core.fit.closed_form``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..body.mannequin import NUM_BETAS, rest_joints as mannequin_rest_joints
from ..body.shape import estimate_betas
from ..errors import CancelledError, MocapError
from ..landmarks import PoseSequence, seen_confidence
from ..rotations import axis_angle_to_matrix, matrix_to_quat_wxyz, quat_slerp, quat_wxyz_to_axis_angle
from ..skeleton import NUM_JOINTS, POSE_DIM
from .closed_form import RestFrames, assign_hands, fit_frames
from .result import NO_PERSON, FitResult, bridged_warning


@dataclass(frozen=True)
class FitSettings:
    """Options of ``fit_sequence``.

    Attributes:
        estimate_shape: fit the mannequin's betas to the clip's median segment
            lengths; False keeps the default body (betas = 0).
        fit_hands: pose the fingers from the hand landmarks; False leaves the
            hands flat.
        min_visibility: landmarks below this visibility are left out of the
            shape estimate and the reprojection error (and down-weighted in the
            translation solve, which weights by visibility).
        straight_limb_blend: weight of the torso-based fallback bend direction
            for a straight arm or leg (its twist is unobservable then); it fades
            out as the limb bends, so bent limbs are unaffected.
        chunk_frames: frames solved per numpy batch; cancellation is checked
            and progress reported between chunks. Small chunks pay numpy's
            per-call overhead: 900 frames took 0.24 s of CPU in chunks of 30
            and 0.12 s in chunks of 120 (the same poses; about 15 ms between
            cancellation checks).
    """

    estimate_shape: bool = True
    fit_hands: bool = True
    min_visibility: float = 0.5
    straight_limb_blend: float = 0.2
    chunk_frames: int = 120


# ----------------------------------------------------------------------------
# Bridging gaps
# ----------------------------------------------------------------------------

def _bridge(aa: np.ndarray, trans: np.ndarray, good: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill frames where ``good`` is False: slerp joint rotations and lerp translation
    between the nearest good frames, holding the first/last good frame at the ends."""
    T = good.shape[0]
    idx = np.flatnonzero(good)
    k = np.searchsorted(idx, np.arange(T))
    prv = idx[np.clip(k - 1, 0, idx.size - 1)]
    nxt = idx[np.clip(k, 0, idx.size - 1)]
    prv = np.where(np.arange(T) < idx[0], nxt, prv)
    span = np.maximum(nxt - prv, 1)
    alpha = np.clip((np.arange(T) - prv) / span, 0.0, 1.0)[:, None]

    q = matrix_to_quat_wxyz(axis_angle_to_matrix(aa))
    q_mid = quat_slerp(q[prv], q[nxt], alpha)
    aa_mid = quat_wxyz_to_axis_angle(q_mid)
    t_mid = (1.0 - alpha) * trans[prv] + alpha * trans[nxt]
    out_aa = np.where(good[:, None, None], aa, aa_mid)
    out_t = np.where(good[:, None], trans, t_mid)
    return out_aa, out_t


# ----------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------

def observed_frames(seq: PoseSequence) -> np.ndarray:
    """(T,) bool: a person was found and all 33 body landmarks (2D and world) are finite."""
    with np.errstate(invalid="ignore"):
        return (np.asarray(seq.present, bool)
                & np.all(np.isfinite(np.asarray(seq.body_world)[..., :3]), axis=(-1, -2))
                & np.all(np.isfinite(np.asarray(seq.body_2d)), axis=(-1, -2)))


def fit_sequence(
    seq: PoseSequence,
    K: np.ndarray,
    *,
    settings: FitSettings = FitSettings(),
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> FitResult:
    """Fit the mannequin's pose, translation and shape to a clip's landmarks.

    Args:
        seq: the clip's landmarks (``core.landmarks.PoseSequence``).
        K: (3, 3) camera intrinsics in pixels (OpenCV convention).
        settings: see ``FitSettings``.
        progress: called as progress(done, total) with frames solved so far.
        should_cancel: polled between chunks of ``settings.chunk_frames``
            frames; when it returns True a CancelledError is raised.

    A frame is solved when a person is present and all 33 body landmarks are
    finite; other frames are bridged from their neighbours.

    Raises:
        MocapError: no frame holds a person.
        CancelledError: ``should_cancel`` returned True.
    """
    K = np.asarray(K, np.float64)
    T = seq.num_frames
    world_all = np.asarray(seq.body_world, np.float64)
    uv_all = np.asarray(seq.body_2d, np.float64)
    good = observed_frames(seq)
    if T == 0 or not good.any():
        raise MocapError(NO_PERSON)
    gidx = np.flatnonzero(good)
    warnings: list[str] = []

    betas = estimate_betas(world_all[gidx], settings.min_visibility) if settings.estimate_shape \
        else np.zeros(NUM_BETAS)
    rest = RestFrames(mannequin_rest_joints(betas))

    hands_all = np.stack([np.asarray(seq.left_hand, np.float64), np.asarray(seq.right_hand, np.float64)], 1)
    aa = np.zeros((T, NUM_JOINTS, 3))
    trans = np.zeros((T, 3))
    reproj = np.full(T, np.nan)
    n = gidx.size
    chunk = max(1, int(settings.chunk_frames))
    for start in range(0, n, chunk):
        if should_cancel is not None and should_cancel():
            raise CancelledError("fitting cancelled by the user")
        sel = gidx[start:start + chunk]
        world = world_all[sel]
        uv = uv_all[sel]
        left, right = assign_hands(uv[..., :2], hands_all[sel, 0], hands_all[sel, 1])
        vis = np.clip(np.nan_to_num(uv[..., 2]), 0.0, 1.0)
        aa[sel], trans[sel], reproj[sel] = fit_frames(
            world[..., :3], uv[..., :2], vis, np.stack([left, right], 1), K, rest,
            straight_limb_blend=settings.straight_limb_blend, fit_hands=settings.fit_hands,
            min_visibility=settings.min_visibility)
        if progress is not None:
            progress(min(start + chunk, n), n)

    bridged = ~good
    if bridged.any():
        aa, trans = _bridge(aa, trans, good)
        warnings.append(bridged_warning(seq.frame_indices, bridged, "without a person", " by interpolation"))

    confidence = np.where(good, seen_confidence(seq.body_2d), 0.0)
    return FitResult(
        poses=aa.reshape(T, POSE_DIM).astype(np.float32),
        trans=trans.astype(np.float32),
        betas=np.asarray(betas, np.float32),
        rest_joints=rest.joints.astype(np.float32),
        confidence=np.clip(confidence, 0.0, 1.0).astype(np.float32),
        bridged=bridged,
        reprojection_error=reproj.astype(np.float32),
        warnings=warnings,
    )
