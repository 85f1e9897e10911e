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
"""The fewest L-BFGS steps of a multi-view fit of two cameras, ``MULTIVIEW_STEPS_PER_CAMERA`` more for each further
one. Rendered four-phone take, balanced preset (40 steps): offset-free limb PA-MPJPE 30.3 mm with 4 cameras at 40
steps, 27.0 at 100 (the whole run 14 s longer); 2 cameras: 48.6 at 40, 43.1 at 150, 37.9 at 800 (the accurate
preset)."""
MULTIVIEW_STEPS_PER_CAMERA = 50
"""More views need more steps to agree: with the multi-view cleanup and one-view limbs hung on their parents
(``core.capture_multi``), true rig, cached landmarks, 100 -> 200 -> 300 steps: 2 cameras 39.0 -> 39.2 -> 39.5 mm
(world MPJPE 69 -> 64 -> 62), 3 cameras 38.3 -> 33.3 -> 31.4 (69 -> 62 -> 57), 4 cameras 23.0 -> 21.3 -> 20.6
(41 -> 39 -> 38). Each 100 steps cost 4-8 s on that 150-frame take (loaded), against a pose stage of 37 s for
2 cameras and 92 s for 4: 200 steps for every count took 2 cameras from 1.23x to 1.44x their pose stage. Those were
plain steps; the balanced and fast presets' multi-view fits now take preconditioned ones
(``OptimizeSettings.precondition``), which get further in the same steps (December 2026, true rig, cached landmarks,
world MPJPE / offset-free limb PA-MPJPE, plain -> preconditioned: 2 cameras 53.6 -> 50.1 / 31.0 -> 32.4 mm, 3 cameras
52.2 -> 44.9 / 30.4 -> 26.6, 4 cameras 41.0 -> 38.6 / 24.0 -> 21.7; cameras 0 and 3 56.8 -> 55.4 / 39.9 -> 41.0,
cameras 2 and 3 62.2 -> 58.5 / 41.7 -> 40.4, cameras 0, 1 and 3 42.8 -> 41.9 / 24.8 -> 26.8). Neither has converged
there: preconditioned, 400 steps + 50 per further camera give 45.7 / 28.0, 43.3 / 26.0 and 38.4 / 21.9 mm at 2-3
times the fit's time, for which the cost target (1.3x the pose stage) leaves no room."""


MULTIVIEW_3D_WEIGHT = 1.0
"""The triangulated body's 3D term (``ObjectiveWeights.world_3d``) in a multi-view fit. Rendered four-phone take,
true rig, the follower's landmarks, side flips by closeness, offset-free limb PA-MPJPE / world MPJPE at 0.5 ->
1.0: 2 cameras 38.4 -> 37.9 / 69.0 -> 66.4 mm, 3 cameras 36.0 -> 35.0 / 62.4 -> 58.6, 4 cameras 24.2 -> 23.6 /
41.2 -> 41.0 (2 cameras, before the side flips by closeness: 0 gave 43.1 / 78.6, 2.0 gave 42.5 / 68.5)."""


@dataclass(frozen=True)
class CameraRefinement:
    """The further cameras' places refined with the body (camera 0 is the fit's frame and stays put).

    Each camera turns about its own centre by a small rotation and its centre moves; a Gaussian prior keeps
    both near the calibration: ``rotation_degrees`` and ``centre_m`` are how far it is trusted to be off. A body
    of one shape whose every frame must project onto every view pins the cameras down better than free
    keypoints do (the calibration's bundle adjustment): the bones cannot stretch to absorb a camera's error.
    """

    rotation_degrees: float = 3.0
    centre_m: float = 0.10


@dataclass
class CameraViews:
    """V further cameras of a clip of T frames (camera 0 is the fit's own camera and frame).

    Attributes:
        seqs: V landmark sequences on camera 0's T frames (``core.landmarks.PoseSequence``).
        K: (V, 3, 3) intrinsics, pixels.
        R: (V, 3, 3), t: (V, 3) camera-v-from-camera-0, metres.
        mid_hip: (T, 3) the mid-hip triangulated from all cameras, camera 0's frame, metres
            (NaN where not seen): the start's root is put there; None keeps the one-view start.
        refine: refine R and t with the body (``CameraRefinement``); the fit writes the refined ones back
            into ``R`` and ``t``. None: the cameras stay as given.
    """

    seqs: list[PoseSequence]
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    mid_hip: np.ndarray | None = None
    refine: CameraRefinement | None = None

    def frames(self, idx: np.ndarray, fps: float | None = None) -> "CameraViews":
        """The frames ``idx`` of every view (a window of the clip)."""
        return dataclasses.replace(self, seqs=[frames_of(s, idx, fps) for s in self.seqs],
                                   mid_hip=None if self.mid_hip is None else self.mid_hip[idx])


def cayley(omega: Tensor) -> Tensor:
    """(..., 3) -> (..., 3, 3) rotations (I - A)^-1 (I + A), A = skew(omega / 2): about ``|omega|`` radians
    about ``omega`` when small, exact rotations, and a smooth gradient at zero (Rodrigues' has none there)."""
    x, y, z = (0.5 * omega).unbind(-1)
    zero = torch.zeros_like(x)
    A = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], -1).reshape(omega.shape[:-1] + (3, 3))
    eye = torch.eye(3, dtype=omega.dtype, device=omega.device).expand_as(A)
    return torch.linalg.solve(eye - A, eye + A)


@dataclass
class ViewObservations:
    """The views' landmarks as tensors: uv (V, N, P, 2) pixels, w (V, N, P) weights (0 where unseen);
    R0 (V, 3, 3), t0 (V, 3) the given camera-v-from-camera-0; f, c (V, 2) focal lengths and principal points.
    With refinement, ``omega`` (V, 3) turns each camera about its centre and ``shift`` (V, 3) moves the centre
    (metres, camera 0's frame), both trainable and held near zero by ``prior`` (``sigma_rotation`` radians,
    ``sigma_centre`` metres)."""

    uv: Tensor
    w: Tensor
    R0: Tensor
    t0: Tensor
    f: Tensor
    c: Tensor
    omega: Tensor | None = None
    shift: Tensor | None = None
    sigma_rotation: float = 1.0
    sigma_centre: float = 1.0

    @property
    def R(self) -> Tensor:
        """(V, 3, 3) camera-v-from-camera-0 rotations as refined so far."""
        return self.R0 if self.omega is None else cayley(self.omega) @ self.R0

    @property
    def t(self) -> Tensor:
        """(V, 3) camera-v-from-camera-0 translations as refined so far (the centre moved by ``shift``)."""
        if self.omega is None or self.shift is None:
            return self.t0
        centre = -torch.einsum("vji,vj->vi", self.R0, self.t0) + self.shift
        return -torch.einsum("vij,vj->vi", self.R, centre)

    def parameters(self) -> list[Tensor]:
        """The trainable camera parameters (none without refinement)."""
        return [] if self.omega is None or self.shift is None else [self.omega, self.shift]

    def prior(self) -> Tensor:
        """Squared rotation and centre moves in units of their deviations, summed over the cameras (a scalar)."""
        if self.omega is None or self.shift is None:
            return self.uv.new_zeros(())
        return ((self.omega / self.sigma_rotation) ** 2).sum() + ((self.shift / self.sigma_centre) ** 2).sum()

    def refined(self) -> tuple[np.ndarray, np.ndarray]:
        """(R (V, 3, 3), t (V, 3)) float64 as refined."""
        with torch.no_grad():
            return self.R.double().cpu().numpy(), self.t.double().cpu().numpy()


def view_observations(views: CameraViews, body, settings: OptimizeSettings, device: torch.device) -> ViewObservations:
    """Every view's landmarks on ``device`` (the same points as camera 0's: body, hands, face)."""
    per = [observations(s, body, usable_frames(s, settings).good, device) for s in views.seqs]

    def t(x: np.ndarray) -> Tensor:
        return torch.as_tensor(np.asarray(x, np.float32), device=device)

    K = np.asarray(views.K, np.float64)
    out = ViewObservations(uv=torch.stack([o.uv for o in per]), w=torch.stack([o.w2d for o in per]),
                           R0=t(views.R), t0=t(views.t), f=t(K[:, [0, 1], [0, 1]]), c=t(K[:, :2, 2]))
    if views.refine is not None:
        V = len(views.seqs)
        out.omega = torch.zeros((V, 3), device=device, requires_grad=True)
        out.shift = torch.zeros((V, 3), device=device, requires_grad=True)
        out.sigma_rotation = float(np.radians(views.refine.rotation_degrees))
        out.sigma_centre = float(views.refine.centre_m)
    return out


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


def multiview_settings(settings: OptimizeSettings, cameras: int = 2) -> OptimizeSettings:
    """``settings`` for a fit that sees the clip from several cameras and whose 3D landmarks are the
    triangulated ones (``core.capture_multi``), not MediaPipe's one-view guess: the 3D term counts every
    axis alike (the depth too) at ``MULTIVIEW_3D_WEIGHT``, and no lifting onto camera 0's rays (that
    mends one view's depth, which the triangulation has measured); at least ``MULTIVIEW_ITERATIONS``
    iterations for 2 ``cameras`` and ``MULTIVIEW_STEPS_PER_CAMERA`` more for each further one, as every view's
    term has more to say than the preset's few steps follow."""
    w = settings.weights
    return dataclasses.replace(settings, lift=dataclasses.replace(settings.lift, enabled=False),
                               iterations=max(settings.iterations, MULTIVIEW_ITERATIONS
                                              + MULTIVIEW_STEPS_PER_CAMERA * max(cameras - 2, 0)),
                               weights=dataclasses.replace(w, world_3d=MULTIVIEW_3D_WEIGHT, world_depth=1.0))
