"""The fitting objective: one function per term, and their weighted sum for a clip.

Every term is a scalar averaged over frames, in metres squared (or the
squared unit of its prior) so that terms compare: 2D residuals are converted to
metres at the point's depth (pixel error / focal length x depth). Each term's
weight is an ``ObjectiveWeights`` field of the same name, applied in
``ClipProblem.total`` and nowhere else.

Shapes: N frames, P landmark points (``core.body.model``'s layout: 33 body,
21 + 21 hand, then the face points).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ...body.model import FACE_START, HANDS_START, BodyModel
from ...landmarks import NUM_BODY, NUM_HAND
from .limits import joint_limit_cost
from .settings import OptimizeSettings
from .setup import Observations
from .views import ViewObservations


def geman_mcclure(sq: Tensor, sigma: float) -> Tensor:
    """Geman-McClure of squared residuals: sigma^2 r^2 / (r^2 + sigma^2) (~r^2 when small, -> sigma^2)."""
    s2 = sigma * sigma
    return s2 * sq / (sq + s2)


def image_costs(points: Tensor, uv: Tensor, weight: Tensor, f: Tensor, c: Tensor, sigma: float) -> Tensor:
    """(N, P) robust, weighted squared distance between projected ``points`` (N, P, 3) and seen pixels
    ``uv`` (N, P, 2), in metres at the point's depth; ``weight`` (N, P), intrinsics ``f``, ``c`` (2,)."""
    z = points[..., 2:3].clamp_min(0.05)
    projected = points[..., :2] / z * f + c
    # Pixels -> metres at the point's depth, so 2D and 3D terms share units.
    sq = (((projected - uv) / f) ** 2).sum(-1) * (z[..., 0].detach() ** 2)
    return geman_mcclure(sq, sigma) * weight


def world_term(body_points: Tensor, world: Tensor, weight: Tensor, depth_weight: float, sigma: float) -> Tensor:
    """Robust agreement of the body landmarks (N, 33, 3), relative to their mid-hip, with the metric
    world landmarks ``world`` (N, 33, 3) (same origin, camera axes); ``weight`` (N, 33). The
    residual's component along the camera ray counts ``depth_weight`` times (squared)."""
    rel = body_points - 0.5 * (body_points[:, 23:24] + body_points[:, 24:25])
    d3 = rel - world
    if depth_weight != 1.0:  # scale the component along the ray by sqrt(depth_weight)
        ray = body_points.detach()
        ray = ray / ray.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        along = (d3 * ray).sum(-1, keepdim=True)
        d3 = d3 - (1.0 - depth_weight ** 0.5) * along * ray
    sq3 = (d3 ** 2).sum(-1)
    return (geman_mcclure(sq3, sigma) * weight).sum(-1).mean()


def hands_3d_term(hand_points: Tensor, hand_px: Tensor, weight: Tensor, f: Tensor, c: Tensor,
                  sigma: float) -> Tensor:
    """Agreement of the fitted hand points (N, 2, 21, 3), relative to the wrist, with MediaPipe's
    hands ``hand_px`` (N, 2, 21, 3: x, y pixels, z = f * dZ / Z_wrist) back-projected at the
    fitted wrist's depth; ``weight`` (N, 2)."""
    zw = hand_points[:, :, :1, 2:3].detach().clamp_min(0.05)                   # fitted wrist depth
    zp = zw * (1.0 + hand_px[..., 2:3] / f[0])
    xy = (hand_px[..., :2] - c) / f * zp
    obs = torch.cat([xy, zp], -1)
    obs_rel = obs - obs[:, :, :1]
    pred_rel = hand_points - hand_points[:, :, :1]
    sqh = ((pred_rel - obs_rel) ** 2).sum(-1)
    return (geman_mcclure(sqh, sigma).sum(-1) * weight).sum(-1).mean()


def multiview_term(points: Tensor, views: ViewObservations, sigma: float) -> Tensor:
    """Robust reprojection cost of ``points`` (N, P, 3; camera 0's frame) in every further camera
    (``core.fit.optimize.views``): per camera the mean over frames of the summed point costs, as
    camera 0's ``reprojection`` + ``hands_2d`` + ``face_2d``, summed over the cameras."""
    cam = torch.einsum("vij,npj->vnpi", views.R, points) + views.t[:, None, None]
    rho = image_costs(cam, views.uv, views.w, views.f[:, None, None], views.c[:, None, None], sigma)
    return rho.sum(-1).mean(-1).sum()


def velocity_term(joints: Tensor, time_scale: float) -> Tensor:
    """Mean squared joint velocity of joints (N, 55, 3), metres per frame at 30 fps."""
    v = (joints[1:] - joints[:-1]) * time_scale
    return (v ** 2).sum((-1, -2)).mean()


def acceleration_term(joints: Tensor, time_scale: float) -> Tensor:
    """Mean squared joint acceleration of joints (N, 55, 3), metres per frame^2 at 30 fps."""
    a = (joints[2:] - 2.0 * joints[1:-1] + joints[:-2]) * time_scale ** 2
    return (a ** 2).sum((-1, -2)).mean()


def expression_acceleration_term(expression: Tensor) -> Tensor:
    """Mean squared acceleration of the expression coefficients (N, E), per frame^2 of the clip."""
    return ((expression[2:] - 2 * expression[1:-1] + expression[:-2]) ** 2).sum(-1).mean()


def shape_term(betas: Tensor, sigma: float) -> Tensor:
    """Squared size of ``betas`` (B,) in units of the prior deviation ``sigma``."""
    return ((betas / sigma) ** 2).sum()


def expression_term(expression: Tensor) -> Tensor:
    """Mean squared size of the expression coefficients (N, E)."""
    return (expression ** 2).sum(-1).mean()


class ClipProblem:
    """The objective of one clip over parameters for N frames, evaluable in one batch (or on
    any subset of frames: ``temporal=False`` drops the terms that need neighbours)."""

    def __init__(self, body: BodyModel, obs: Observations, K: np.ndarray, fps: float,
                 settings: OptimizeSettings, fit_face: bool, views: ViewObservations | None = None) -> None:
        self.body = body
        self.views = views
        self.obs = obs
        self.settings = settings
        self.fit_face = fit_face
        dev = obs.uv.device
        self.f = torch.tensor([K[0, 0], K[1, 1]], dtype=torch.float32, device=dev)
        self.c = torch.tensor([K[0, 2], K[1, 2]], dtype=torch.float32, device=dev)
        self.time_scale = fps / 30.0
        # Per-frame terms are means over frames; scale to a per-frame sum so the
        # optimiser sees the same curvature for 30 frames as for 3000.
        self.loss_scale = float(obs.uv.shape[0])

    def terms(self, betas: Tensor, local: Tensor, trans: Tensor, expression: Tensor | None,
              temporal: bool = True, level_order: bool = False) -> dict[str, Tensor]:
        """Each term, unweighted, averaged over frames (scalars); a term that does not apply
        (no face, a zero weight, too few frames for the temporal terms) is 0.

        Args: betas (B,); local (N, 55, 3, 3), SMPL-X joint order or ``LEVEL_ORDER`` with
        ``level_order=True``; trans (N, 3); expression (N, E) or None.
        """
        s, w, o, body = self.settings, self.settings.weights, self.obs, self.body
        face = expression is not None and self.fit_face
        out = body(betas, local, trans, expression if self.fit_face else None, level_order=level_order)
        pts = out.points
        N = pts.shape[0]
        zero = pts.new_zeros(())
        rho = image_costs(pts, o.uv, o.w2d, self.f, self.c, s.robust_sigma_2d)
        temporal = temporal and N > 2
        views = {} if self.views is None else {"multiview_2d": multiview_term(pts, self.views, s.robust_sigma_2d),
                                               "camera_prior": self.views.prior() / self.loss_scale}
        return views | {
            "reprojection": rho[:, :NUM_BODY].sum(-1).mean(),
            "hands_2d": rho[:, HANDS_START:FACE_START].sum(-1).mean(),
            "face_2d": rho[:, FACE_START:].sum(-1).mean() if body.num_face and self.fit_face else zero,
            "world_3d": world_term(pts[:, :NUM_BODY], o.world, o.w3d, w.world_depth, s.robust_sigma_3d),
            "hands_3d": (hands_3d_term(pts[:, HANDS_START:FACE_START].reshape(N, 2, NUM_HAND, 3), o.hand_px,
                                       o.whand, self.f, self.c, s.robust_sigma_3d) if w.hands_3d else zero),
            "joint_limits": joint_limit_cost(local, level_order=level_order).mean(),
            "velocity": velocity_term(out.joints, self.time_scale) if temporal else zero,
            "acceleration": acceleration_term(out.joints, self.time_scale) if temporal else zero,
            "expression_acceleration": (expression_acceleration_term(expression)
                                        if temporal and face and expression is not None else zero),
            "shape": shape_term(betas, body.betas_sigma),
            "expression": expression_term(expression) if face and expression is not None else zero,
        }

    def total(self, t: dict[str, Tensor]) -> Tensor:
        """The objective: each term of ``terms`` times its weight, summed (a scalar, per frame)."""
        w = self.settings.weights
        views = (w.multiview_2d * t["multiview_2d"] + w.camera_prior * t["camera_prior"]
                 if "multiview_2d" in t else None)
        one = (w.reprojection * t["reprojection"] + w.hands_2d * t["hands_2d"] + w.face_2d * t["face_2d"]
                + w.world_3d * t["world_3d"] + w.hands_3d * t["hands_3d"]
                + w.joint_limits * t["joint_limits"]
                + w.velocity * t["velocity"] + w.acceleration * t["acceleration"]
                + w.expression_acceleration * t["expression_acceleration"]
                + w.shape * t["shape"] + w.expression * t["expression"])
        return one if views is None else one + views  # one camera: the same sum, bit for bit

    def objective(self, betas: Tensor, local: Tensor, trans: Tensor, expression: Tensor | None,
                  temporal: bool = True, level_order: bool = False) -> Tensor:
        """``total(terms(...))``: the weighted objective at these parameters (arguments as ``terms``)."""
        return self.total(self.terms(betas, local, trans, expression, temporal=temporal, level_order=level_order))
