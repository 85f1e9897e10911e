"""What a fit returns, and the pieces of it both fitters build the same way.

Numpy only (``core.fit`` stays importable without torch): the result
dataclass, the no-person message, the bridged-frames warning and the
reprojection error reported per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..body.landmark_layout import BODY_DIRECT
from ..camera import project
from ..motion import frame_ranges

NO_PERSON = ("no person was found in any frame of the video. Check that one whole person "
             "(head to feet) is clearly visible, and that the frame range is right.")
"""The message when no frame of a clip can be fitted."""


@dataclass
class FitResult:
    """Per-frame SMPL-X parameters fitted to a clip. T frames, B betas.

    Attributes:
        poses: (T, 165) float32 axis-angle per joint relative to its parent,
            SMPL-X order; the global orient maps the model frame into the
            OpenCV camera frame.
        trans: (T, 3) float32 metres, OpenCV camera frame (FK's pelvis joint =
            rest_joints[0] + trans).
        betas: (B,) float32 shape of ``body_model`` (the mannequin's: see
            core.body.mannequin).
        rest_joints: (55, 3) float32 rest joints of ``betas``, metres, model frame.
        confidence: (T,) float32 in [0, 1], how well the body was seen
            (``core.landmarks.seen_confidence``: the 12 limb landmarks' mean
            visibility, capped by the better seen leg's and arm's); 0 where
            nobody was found.
        bridged: (T,) bool, True where the frame had no person (or too few
            visible landmarks) and was carried over from its neighbours.
        reprojection_error: (T,) float32 mean pixel distance between the
            fitted joints and the visible 2D landmarks they map to; NaN where bridged.
        warnings: messages for the user.
        expression: (T, E) float32 face expression (E = 0 without a face).
        body_model: "mannequin" or "smplx", the body the parameters belong to.
        gender: "neutral", "male" or "female".
        timings: name -> seconds (or counts) of the fit, for reports.
    """

    poses: np.ndarray
    trans: np.ndarray
    betas: np.ndarray
    rest_joints: np.ndarray
    confidence: np.ndarray
    bridged: np.ndarray
    reprojection_error: np.ndarray
    warnings: list[str] = field(default_factory=list)
    expression: np.ndarray | None = None
    body_model: str = "mannequin"
    gender: str = "neutral"
    timings: dict[str, float] = field(default_factory=dict)


def bridged_warning(frames: np.ndarray, bridged: np.ndarray, what: str, how: str = "") -> str:
    """'6 frames {what} were bridged{how} (frames 12-17)': ``frames`` the (T,) video frame numbers, ``bridged`` (T,) bool."""
    n = int(np.count_nonzero(bridged))
    return (f"{n} frame{'s' if n != 1 else ''} {what} {'were' if n != 1 else 'was'} bridged{how} "
            f"(frames {frame_ranges(frames, bridged, limit=5)})")


def mean_reprojection_error(body_points: np.ndarray, uv: np.ndarray, visibility: np.ndarray, K: np.ndarray,
                            min_visibility: float, min_depth: float | None = None) -> np.ndarray:
    """(N,) mean pixel distance between projected body landmarks and the seen 2D ones; NaN where none is seen.

    Args:
        body_points: (N, 33, 3) fitted body landmarks, OpenCV camera frame, metres.
        uv: (N, 33, 2) observed landmarks, pixels (finite).
        visibility: (N, 33) landmark visibility (finite); below ``min_visibility`` unseen.
        K: (3, 3) intrinsics; min_depth: see ``core.camera.project``.

    Only the landmarks placed exactly at a joint (``BODY_DIRECT``) count.
    """
    px = project(body_points[:, BODY_DIRECT], K, min_depth)
    err = np.linalg.norm(px - uv[:, BODY_DIRECT], axis=-1)
    w = (visibility[:, BODY_DIRECT] >= min_visibility).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w.sum(-1) > 0, (err * w).sum(-1) / np.maximum(w.sum(-1), 1.0), np.nan)
