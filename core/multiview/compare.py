"""Compare two calibrations of one rig (e.g. from the person and from a board, or against a rendered truth).

Two calibrations differ by a similarity (rotation, translation, scale) of
their world frames; ``rig_errors`` removes the best one and reports what is
left per camera, in the reference's units.
"""

from __future__ import annotations

import numpy as np

from ..errors import MocapError
from .rig import CameraRig


def rig_similarity(estimate: CameraRig, reference: CameraRig) -> tuple[float, np.ndarray, np.ndarray]:
    """(scale s, rotation Q (3, 3), offset d (3,)) with ``x_ref ~ s Q x_est + d``: the similarity between two
    calibrations' worlds, found from the cameras alone (never from what they film).

    Q is the chordal mean of ``R_ref_c^T R_est_c`` over the cameras (so two cameras suffice); then s and d fit
    ``c_ref = s Q c_est + d`` to the camera centres by least squares.
    """
    if estimate.num_cameras != reference.num_cameras:
        raise MocapError(f"cannot compare a rig of {estimate.num_cameras} cameras with one of "
                         f"{reference.num_cameras}")
    U, _, Vt = np.linalg.svd(np.einsum("cji,cjk->ik", reference.R, estimate.R))
    Q = U @ np.diag([1.0, 1.0, np.linalg.det(U @ Vt)]) @ Vt  # x_ref = Q x_est (+ scale, offset)
    ce = estimate.centres() @ Q.T
    cr = reference.centres()
    a, b = ce - ce.mean(0), cr - cr.mean(0)
    scale = float((a * b).sum() / max(float((a * a).sum()), 1e-300)) if len(ce) > 1 else 1.0
    return scale, Q, cr.mean(0) - scale * ce.mean(0)


def rig_errors(estimate: CameraRig, reference: CameraRig) -> tuple[np.ndarray, np.ndarray, float]:
    """(centre errors (C,) reference units, orientation errors (C,) degrees, scale) after the similarity
    alignment of ``rig_similarity``."""
    scale, Q, d = rig_similarity(estimate, reference)
    centre_errors = np.linalg.norm(scale * estimate.centres() @ Q.T + d - reference.centres(), axis=1)
    relative = np.einsum("cij,kj->cik", estimate.R, Q) @ np.transpose(reference.R, (0, 2, 1))
    cos = np.clip((np.trace(relative, axis1=1, axis2=2) - 1) / 2, -1.0, 1.0)
    return centre_errors, np.degrees(np.arccos(cos)), scale


def reprojection_errors(rig: CameraRig, uv: np.ndarray, confidence: np.ndarray,
                        min_confidence: float = 0.5) -> np.ndarray:
    """(C,) median pixel error per camera of keypoints triangulated with ``rig`` and projected back.

    ``uv`` (C, T, J, 2) and ``confidence`` (C, T, J) on one time base, as for
    ``triangulate``, which here keeps every confident view (no outlier
    rejection, so a wrong camera cannot hide); NaN for a camera with no
    confident keypoint seen by another. A few pixels is what the keypoint
    detector's noise gives; tens of pixels mean the calibration or the sync
    is wrong.
    """
    from .triangulate import triangulate

    conf = np.where(np.nan_to_num(confidence) >= min_confidence, confidence, 0.0)
    points, inliers = triangulate(uv, conf, rig, threshold_fraction=np.inf)
    err = np.linalg.norm(rig.project(points) - np.asarray(uv, np.float64), axis=-1)
    return np.array([np.median(err[c][inliers[c]]) if inliers[c].any() else np.nan for c in range(rig.num_cameras)])
