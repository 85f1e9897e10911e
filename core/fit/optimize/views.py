"""Further cameras of a multi-view take in the whole-clip fit: their landmarks, where they stand, their term.

The fit works in camera 0's frame (OpenCV axes, metres), as a one-camera fit
does; every further camera v sees a point p of that frame at
``R[v] @ p + t[v]``. Its 2D landmarks (already on camera 0's frames: synced and
resampled) add the same robust reprojection cost as camera 0's, in metres at
the point's depth in that camera (``objective.multiview_term``), so a view adds as much as camera 0 does.
With more than one view the depth is seen, so MediaPipe's one-view depth is
left out (``multiview_settings``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ...landmarks import PoseSequence
from .settings import OptimizeSettings
from .setup import Start, initial_translation, observations, usable_frames
from .windows import frames_of


MULTIVIEW_ITERATIONS = 100
"""The fewest L-BFGS steps of a multi-view fit. Rendered four-phone take, balanced preset (40 steps):
offset-free limb PA-MPJPE 30.3 mm with 4 cameras at 40 steps, 27.0 at 100 (the whole run 14 s longer);
2 cameras: 48.6 at 40, 43.1 at 150, 37.9 at 800 (the accurate preset)."""


@dataclass
class CameraViews:
    """V further cameras of a clip of T frames (camera 0 is the fit's own camera and frame).

    Attributes:
        seqs: V landmark sequences on camera 0's T frames (``core.landmarks.PoseSequence``).
        K: (V, 3, 3) intrinsics, pixels.
        R: (V, 3, 3), t: (V, 3) camera-v-from-camera-0, metres.
        mid_hip: (T, 3) the mid-hip triangulated from all cameras, camera 0's frame, metres
            (NaN where not seen): the start's root is put there; None keeps the one-view start.
    """

    seqs: list[PoseSequence]
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    mid_hip: np.ndarray | None = None

    def frames(self, idx: np.ndarray, fps: float | None = None) -> "CameraViews":
        """The frames ``idx`` of every view (a window of the clip)."""
        return dataclasses.replace(self, seqs=[frames_of(s, idx, fps) for s in self.seqs],
                                   mid_hip=None if self.mid_hip is None else self.mid_hip[idx])


@dataclass
class ViewObservations:
    """The views' landmarks as tensors: uv (V, N, P, 2) pixels, w (V, N, P) weights (0 where unseen);
    R (V, 3, 3), t (V, 3) camera-v-from-camera-0; f, c (V, 2) focal lengths and principal points."""

    uv: Tensor
    w: Tensor
    R: Tensor
    t: Tensor
    f: Tensor
    c: Tensor


def view_observations(views: CameraViews, body, settings: OptimizeSettings, device: torch.device) -> ViewObservations:
    """Every view's landmarks on ``device`` (the same points as camera 0's: body, hands, face)."""
    per = [observations(s, body, usable_frames(s, settings).good, device) for s in views.seqs]

    def t(x: np.ndarray) -> Tensor:
        return torch.as_tensor(np.asarray(x, np.float32), device=device)

    K = np.asarray(views.K, np.float64)
    return ViewObservations(uv=torch.stack([o.uv for o in per]), w=torch.stack([o.w2d for o in per]),
                            R=t(views.R), t=t(views.t), f=t(K[:, [0, 1], [0, 1]]), c=t(K[:, :2, 2]))


def start_at_mid_hip(start: Start, body, mid_hip: np.ndarray | None) -> Start:
    """``start`` with its root moved so the body's mid-hip is at ``mid_hip`` (T, 3) where that is known:
    one camera's depth can be off by tens of centimetres, where the other cameras' robust 2D terms would
    no longer pull (their Geman-McClure cost saturates)."""
    if mid_hip is None:
        return start
    known = np.all(np.isfinite(mid_hip), axis=-1)
    if not known.any():
        return start
    # frames without a triangulated mid-hip keep their offset from the nearest known frame
    idx = np.arange(len(mid_hip))
    placed = initial_translation(body, start.betas, start.local, np.where(known[:, None], mid_hip, 0.0))
    shift = placed - start.trans
    for axis in range(3):
        shift[:, axis] = np.interp(idx, idx[known], shift[known, axis])
    return dataclasses.replace(start, trans=start.trans + shift)


def multiview_settings(settings: OptimizeSettings) -> OptimizeSettings:
    """``settings`` for a fit that sees the clip from several cameras and whose 3D landmarks are the
    triangulated ones (``core.capture_multi``), not MediaPipe's one-view guess: the 3D term counts every
    axis alike (the depth too) at half the 2D terms' weight, and no lifting onto camera 0's rays (that
    mends one view's depth, which the triangulation has measured); at least ``MULTIVIEW_ITERATIONS``
    iterations, as every view's term has more to say than the preset's few steps follow."""
    w = settings.weights
    return dataclasses.replace(settings, lift=dataclasses.replace(settings.lift, enabled=False),
                               iterations=max(settings.iterations, MULTIVIEW_ITERATIONS),
                               weights=dataclasses.replace(w, world_3d=0.5, world_depth=1.0))
