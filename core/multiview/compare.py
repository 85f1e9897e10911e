"""Compare two calibrations of one rig (e.g. from the person and from a board, or against a rendered truth).

Two calibrations differ by a similarity (rotation, translation, scale) of
their world frames; ``rig_errors`` removes the best one and reports what is
left per camera, in the reference's units.
"""

from __future__ import annotations

import numpy as np

from ..errors import MocapError
from .rig import CameraRig


CENTRE_TOLERANCE = 0.03
"""Metres a camera centre may be off (issue 20's target), against ``ORIENTATION_TOLERANCE``."""
ORIENTATION_TOLERANCE = 1.0
"""Degrees a camera orientation may be off (issue 20's target)."""


def _orientation_rotation(estimate: CameraRig, reference: CameraRig) -> np.ndarray:
    """(3, 3) Q, x_ref = Q x_est: the chordal mean of ``R_ref_c^T R_est_c`` over the cameras."""
    U, _, Vt = np.linalg.svd(np.einsum("cji,cjk->ik", reference.R, estimate.R))
    return U @ np.diag([1.0, 1.0, np.linalg.det(U @ Vt)]) @ Vt


def _centre_fit(ce: np.ndarray, cr: np.ndarray) -> tuple[float, np.ndarray]:
    """(s, d) fitting ``cr = s ce + d`` by least squares (ce already rotated)."""
    a, b = ce - ce.mean(0), cr - cr.mean(0)
    scale = float((a * b).sum() / max(float((a * a).sum()), 1e-300)) if len(ce) > 1 else 1.0
    return scale, cr.mean(0) - scale * ce.mean(0)


def _tripods(rig: CameraRig, reach: float) -> np.ndarray:
    """(4C, 3) each camera's centre and the points ``reach`` along its three axes (world)."""
    centres = rig.centres()
    return np.concatenate([centres] + [centres + reach * rig.R[:, k, :] for k in range(3)])


def rig_similarity(estimate: CameraRig, reference: CameraRig,
                   joint: bool = True) -> tuple[float, np.ndarray, np.ndarray]:
    """(scale s, rotation Q (3, 3), offset d (3,)) with ``x_ref ~ s Q x_est + d``: the similarity between two
    calibrations' worlds, found from the cameras alone (never from what they film).

    ``joint`` (default): the one similarity that best lays the cameras' centres and orientations together,
    each weighed by its tolerance (``CENTRE_TOLERANCE`` per ``ORIENTATION_TOLERANCE``). Each camera stands for
    its centre and three points at ``reach`` along its axes, reach chosen so that turning a camera by the
    orientation tolerance moves those three points as far (summed in squares) as moving its centre by the
    centre tolerance: 0.03 / (sqrt(2) * 1 degree) = 1.22 m. The similarity of these point sets is Umeyama's,
    the estimate's reach in its own units following the scale. Any number of cameras, two included (a pair's
    centres alone leave the turn about their baseline free).

    ``joint=False``: Q from the orientations alone (their chordal mean), then s and d from the centres (as
    up to December 2026). One camera's orientation error then turns the whole rig, undamped by the centres:
    one camera of four turned 2 degrees turns every other by 0.5 and, at 3.5 m, moves centres 3 cm. On the
    rendered two-phone rig calibrated from the person this reads 4.0 cm / 0.89 degrees, jointly 1.3 cm / 1.30.
    """
    if estimate.num_cameras != reference.num_cameras:
        raise MocapError(f"cannot compare a rig of {estimate.num_cameras} cameras with one of "
                         f"{reference.num_cameras}")
    Q = _orientation_rotation(estimate, reference)
    scale, d = _centre_fit(estimate.centres() @ Q.T, reference.centres())
    if not joint:
        return scale, Q, d
    reach = CENTRE_TOLERANCE / (np.sqrt(2.0) * np.radians(ORIENTATION_TOLERANCE))
    target = _tripods(reference, reach)
    for _ in range(4):  # the estimate's reach is in its own units: it follows the scale found
        source = _tripods(estimate, reach / max(scale, 1e-12))
        a, b = source - source.mean(0), target - target.mean(0)
        U, S, Vt = np.linalg.svd(b.T @ a)
        D = np.diag([1.0, 1.0, np.linalg.det(U @ Vt)])
        Q = U @ D @ Vt
        scale = float(np.trace(np.diag(S) @ D) / max(float((a * a).sum()), 1e-300))
        d = target.mean(0) - scale * Q @ source.mean(0)
    return scale, Q, d


def rig_errors(estimate: CameraRig, reference: CameraRig,
               joint: bool = True) -> tuple[np.ndarray, np.ndarray, float]:
    """(centre errors (C,) reference units, orientation errors (C,) degrees, scale) after the similarity
    alignment of ``rig_similarity`` (``joint``: see there)."""
    scale, Q, d = rig_similarity(estimate, reference, joint)
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
