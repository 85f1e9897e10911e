"""The fitted parameters of one window read back as a ``core.fit.result.FitResult`` (numpy, SMPL-X order)."""

from __future__ import annotations

import numpy as np
import torch

from ...body.mannequin import rest_joints as mannequin_rest_joints
from ...body.model import BodyModel, MannequinBody
from ...landmarks import NUM_BODY, PoseSequence, seen_confidence
from ...rotations import matrix_to_axis_angle
from ...skeleton import POSE_DIM
from ..result import FitResult, bridged_warning, mean_reprojection_error
from .settings import OptimizeSettings
from .setup import Frames, Params


def bridging_warnings(frame_indices: np.ndarray, bridged: np.ndarray, present: np.ndarray) -> list[str]:
    """The user's warnings for a take's bridged frames: those without a person and those seen too poorly.

    ``frame_indices`` (T,) video frame numbers, ``bridged`` (T,) the take's bridged flags, ``present``
    (T,) a person was found. One warning of each kind per take, and their counts add up to
    ``bridged.sum()`` (the take's ``bridged_frames`` figure)."""
    warnings: list[str] = []
    missing = bridged & ~present
    if missing.any():
        warnings.append(bridged_warning(frame_indices, missing, "without a person", " from their neighbours"))
    unreliable = bridged & present
    if unreliable.any():
        warnings.append(bridged_warning(frame_indices, unreliable, "with too few visible landmarks"))
    return warnings


def read_result(seq: PoseSequence, K: np.ndarray, body: BodyModel, params: Params, fit_face: bool,
                frames: Frames, settings: OptimizeSettings) -> FitResult:
    """The fit of the T frames of ``seq`` from the optimised ``params`` (timings left empty)."""
    T = seq.num_frames
    with torch.no_grad():
        local = params.local_joint_order()
        betas = params.betas.detach()
        expr = params.expression.detach() if fit_face else None
        out = body(betas, local, params.trans, expr)
        pts = out.points[:, :NUM_BODY].double().cpu().numpy()
    aa = matrix_to_axis_angle(local.double().cpu().numpy())
    uv_all = np.nan_to_num(np.asarray(seq.body_2d, np.float64))
    reproj = mean_reprojection_error(pts, uv_all[..., :2], uv_all[..., 2], K, settings.min_visibility, 1e-3)
    reproj = np.where(frames.good, reproj, np.nan)
    betas_np = betas.float().cpu().numpy()
    rest = (mannequin_rest_joints(betas_np) if isinstance(body, MannequinBody)
            else body.rest_data(betas_np)["rest_joints"])
    confidence = np.where(frames.good, seen_confidence(seq.body_2d), 0.0)
    return FitResult(
        poses=aa.reshape(T, POSE_DIM).astype(np.float32),
        trans=params.trans.detach().float().cpu().numpy(),
        betas=betas_np.astype(np.float32),
        rest_joints=np.asarray(rest, np.float32),
        confidence=np.clip(confidence, 0.0, 1.0).astype(np.float32),
        bridged=~frames.good,
        reprojection_error=reproj.astype(np.float32),
        warnings=bridging_warnings(seq.frame_indices, ~frames.good, frames.present),
        expression=(expr.float().cpu().numpy() if expr is not None
                    else np.zeros((T, body.num_expression), np.float32)),
        body_model=body.name,
        gender=body.gender,
    )
