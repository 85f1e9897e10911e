"""Whole-clip fitting: all frames of a clip in one batch, one optimiser, torch.

The closed-form per-frame fit (``core.fit.ik``) gives the start: it is exact on
clean landmarks and never far off, so a short optimisation suffices. This
module then optimises, for every frame at once (float32, CUDA when available,
else CPU):

- shared shape ``betas`` (B,) for the clip;
- per-frame joint rotations of the whole tree (global orient, 21 body joints,
  15 + 15 finger joints with full articulation, the jaw on SMPL-X when the face
  was seen; eyes stay at rest, nothing observes them);
- per-frame translation, metres, OpenCV camera frame;
- per-frame ``expression`` (SMPL-X with face landmarks).

Rotations are optimised in the 6D form (two matrix columns, Zhou et al. 2019):
continuous, no wrap-around at 180 deg where an upright subject facing the
camera sits, and cheap to turn into matrices. Only joints and a few landmark
points are posed per iteration, never the whole mesh.

Objective (every term a weight in ``ObjectiveWeights``) in metres squared so
that terms compare: 2D residuals are converted to metres at the point's depth
(pixel error / focal length x depth).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..body.landmark_layout import BODY_DIRECT, LIMB_LANDMARKS
from ..body.model import (
    FACE_START,
    HANDS_START,
    LEVEL_ORDER,
    BodyModel,
    MannequinBody,
    matrix_to_rot6d,
    rot6d_to_matrix,
)
from ..errors import CancelledError, MocapError
from ..landmarks import NUM_BODY, NUM_HAND, PoseSequence
from ..rotations import axis_angle_to_matrix, matrix_to_axis_angle
from ..skeleton import JOINT_INDEX, NUM_JOINTS, POSE_DIM
from .closed_form import assign_hands as _assign_hands
from .ik import FitSettings, fit_sequence, observed_frames
from .lifting import LiftSettings, lift_to_rays
from .result import NO_PERSON, FitResult
from .result import frame_ranges as _ranges

J = JOINT_INDEX


@dataclass(frozen=True)
class ObjectiveWeights:
    """Weights of the fitting objective's terms; 0 switches a term off.

    Attributes:
        reprojection: confidence-weighted, robust (Geman-McClure) distance
            between the projected body landmarks and MediaPipe's 2D body
            landmarks, in metres at the landmark's depth.
        hands_2d: the same for the 21 + 21 hand landmarks (MediaPipe's hand
            model, which sees the fingers much better than the body model).
        face_2d: the same for the face points (SMPL-X only): drives the jaw and
            the expression.
        world_3d: robust agreement of the body landmarks, relative to the
            mid-hip, with MediaPipe's metric world landmarks (same origin, camera
            axes): gives depth and bone lengths that one view cannot. Those
            landmarks are biased (against rendered motion capture: depth errors
            twice the image-plane ones, upper arms 10-30 % short), so the term
            stays well below the 2D one.
        world_depth: relative weight, within ``world_3d``, of the residual's
            component along the camera ray through the point (the depth). With
            depth errors about 2.3 x the image-plane ones (PA-aligned, both
            rendered clips), inverse-variance weighting gives about 1 / 2.3^2 =
            0.2: the depth still decides front from back, the image-plane
            components keep their full weight. (The accurate preset, run to
            convergence, does better with less: see ``ACCURATE_WEIGHTS``.)
        hands_3d: agreement of the hand landmarks, relative to the wrist, with
            MediaPipe's relative hand depth (placed at the fitted wrist's
            depth): tells a finger curling towards the camera from one curling away.
        joint_limits: our own anatomical limits: hinge joints (elbows, knees,
            finger middle/end joints) bend about their hinge axis, one way only;
            other joints pay a soft cost for large angles (shoulders and hips
            least); see ``joint_limit_cost``.
        velocity: mean squared joint velocity (metres per frame at 30 fps).
        acceleration: mean squared joint acceleration (metres per frame^2 at
            30 fps): removes jitter while leaving real motion its speed.
        shape: squared size of ``betas`` in units of the body's prior deviation
            (1 for SMPL-X's unit-variance betas, 0.15 for the mannequin's log
            scales): keeps the shape plausible when the views say little.
        expression: squared size of the expression coefficients.
    """

    reprojection: float = 1.0
    hands_2d: float = 1.0
    face_2d: float = 0.5
    world_3d: float = 0.1
    world_depth: float = 0.2
    hands_3d: float = 0.1
    joint_limits: float = 1e-3
    velocity: float = 0.002
    acceleration: float = 0.3
    shape: float = 1e-4
    expression: float = 1e-5


@dataclass(frozen=True)
class OptimizeSettings:
    """How the whole-clip optimisation runs.

    Attributes:
        iterations: L-BFGS steps over the whole clip (each one objective
            evaluation plus the few more its line search asks for).
        history: L-BFGS memory (pairs of past steps).
        device: "auto" (CUDA when available, else CPU), "cpu" or "cuda".
        mixed_precision: run the posing and the objective in bfloat16 autocast
            (CUDA only; ignored on CPU, where it would be slower).
        robust_sigma_2d: Geman-McClure scale of the 2D terms, metres at depth:
            residuals well past it stop pulling (a mis-detected landmark).
        robust_sigma_3d: the same for the 3D terms.
        min_visibility: body landmarks below this visibility count as unseen
            for the reported reprojection error.
        min_frame_confidence: a frame whose 12 limb landmarks have a mean
            visibility below this is treated as missing: bridged and flagged.
        fit_shape: optimise ``betas`` (else keep the initial shape).
        init_smoothing_seconds: standard deviation, seconds, of the Gaussian
            that smooths the closed-form start (joint rotations and the root's
            path) over time before the optimisation; 0 switches it off. The
            per-frame start carries the landmarks' frame-to-frame jitter, and
            the few iterations a preset affords are better spent refining the
            fit than removing jitter (rendered motion capture, 5 clips, with
            the capture's cleanup: acceleration error -15 to -25 %, PA-MPJPE
            2-5 mm lower; one clip that diverged without it came back). About
            two frames at 30 fps: well under the duration of a real movement.
        weights: the objective's terms.
        ik: settings of the closed-form initialiser.
        lift: how MediaPipe's world landmarks are first put on the camera rays
            of the image landmarks, their limb depths combined with the depths
            the image and the bone lengths imply (``core.fit.lifting``); both
            the closed-form start and the ``world_3d`` term use the result.
        window_frames: clips longer than this are fitted in overlapping
            windows of this many frames with one shared shape, so memory stays
            bounded for any clip length (the whole-clip batch of a 10-minute
            clip would need gigabytes for its autograd graph).
        window_overlap: frames two neighbouring windows share; the result
            cross-fades over them.
    """

    iterations: int = 40
    history: int = 10
    device: str = "auto"
    mixed_precision: bool = False
    robust_sigma_2d: float = 0.05
    robust_sigma_3d: float = 0.1
    min_visibility: float = 0.5
    min_frame_confidence: float = 0.1
    fit_shape: bool = True
    init_smoothing_seconds: float = 0.067
    weights: ObjectiveWeights = ObjectiveWeights()
    ik: FitSettings = FitSettings()
    lift: LiftSettings = LiftSettings()
    window_frames: int = 1800
    window_overlap: int = 30


@dataclass(frozen=True)
class Preset:
    """A speed/quality trade-off: optimiser settings plus the video frame stride it implies.

    Attributes:
        name: "fast", "balanced" or "accurate".
        stride: analyse every ``stride``-th video frame (an explicit
            ``--stride`` wins); pose estimation dominates the run time, so
            this is the fast preset's biggest saving.
        optimize: the optimiser settings.
        mirror_average: the pose stage also looks at every frame mirrored and
            averages the two metric world landmarks (``core.pose.PoseSettings``
            and ``core.pose_torch.TorchPoseSettings``): better depth, one more
            landmark pass per frame.
    """

    name: str
    stride: int
    optimize: OptimizeSettings
    mirror_average: bool = False


ACCURATE_WEIGHTS = ObjectiveWeights(world_3d=0.07, world_depth=0.1)
"""The accurate preset's objective: MediaPipe's world landmarks pull less (their
depth least), so the image, the bone lengths and the priors decide more, which
pays only when the optimiser runs long enough to follow them."""

PRESETS: dict[str, Preset] = {
    "fast": Preset("fast", 2, OptimizeSettings(iterations=15, mixed_precision=True)),
    "balanced": Preset("balanced", 1, OptimizeSettings(iterations=40)),
    "accurate": Preset("accurate", 1, OptimizeSettings(iterations=800, history=20, weights=ACCURATE_WEIGHTS),
                       mirror_average=True),
}
"""The presets; "balanced" is the default. "accurate" runs the optimiser to
convergence with lighter world-landmark weights and averages the world landmarks
with the mirrored frame's. Chosen on the two benchmark clips and checked on three
held-out ones (``bench/groundtruth.py`` HELD_OUT: other motion, other camera
angles), PA-MPJPE of the 12 limb joints, MediaPipe backend, scratch sweeps:

- 300 iterations, weights as balanced, no mirror: benchmark 70.9 mm, held-out 71.2;
- + mirror: 68.9 and 68.2;
- + 800 iterations: 67.0 and 64.6;
- + ``ACCURATE_WEIGHTS``: 65.4 and 62.3 (the weights alone, at 300 iterations
  without the mirror: 70.4 on the benchmark).

1000 iterations gave no more (62.4 against 62.6 on the benchmark clips, torch
pose). The mirror is not in balanced: at 40 iterations it sent one held-out clip
(the person facing the camera, arms up) into a wrong basin for its first second
(71.8 -> 91.3 mm) that 300+ iterations climb out of."""
DEFAULT_PRESET = "balanced"


def preset(name: str = DEFAULT_PRESET, *, device: str = "auto") -> Preset:
    """The preset ``name`` with its optimiser on ``device``. Raises MocapError for an unknown name."""
    if name not in PRESETS:
        raise MocapError(f"unknown preset '{name}': use one of {', '.join(PRESETS)}")
    p = PRESETS[name]
    return dataclasses.replace(p, optimize=dataclasses.replace(p.optimize, device=device))


def resolve_device(device: str) -> torch.device:
    """"auto" -> CUDA when available, else CPU; "cuda" without a GPU is a user error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise MocapError("--device cuda was asked for, but torch sees no CUDA GPU here; use --device cpu or auto")
    if device not in ("cpu", "cuda"):
        raise MocapError(f"unknown device '{device}': use auto, cpu or cuda")
    return torch.device(device)


# ----------------------------------------------------------------------------
# Objective terms
# ----------------------------------------------------------------------------

def geman_mcclure(sq: Tensor, sigma: float) -> Tensor:
    """Geman-McClure of squared residuals: sigma^2 r^2 / (r^2 + sigma^2) (~r^2 when small, -> sigma^2)."""
    s2 = sigma * sigma
    return s2 * sq / (sq + s2)


# Hinge joints: (joints, hinge axis in the model frame, sign of a normal bend
# per side [left, right]); the rotation's sine-vector (vee of (R - R^T) / 2)
# must lie along the axis with that sign. Elbows also twist about the arm (X).
_HINGES = [
    (("left_knee", "right_knee"), 0, (1.0, 1.0), (1, 2)),
    (("left_elbow", "right_elbow"), 1, (-1.0, 1.0), (2,)),
] + [
    ((f"left_{f}{k}", f"right_{f}{k}"), 2, (-1.0, 1.0), (0, 1))
    for f in ("index", "middle", "ring", "pinky") for k in (2, 3)
]
_SOFT = {"left_shoulder": 0.2, "right_shoulder": 0.2, "left_hip": 0.2, "right_hip": 0.2,
         "left_collar": 2.0, "right_collar": 2.0, "spine1": 1.0, "spine2": 1.0, "spine3": 1.0,
         "neck": 1.0, "head": 0.5, "jaw": 2.0, "left_ankle": 0.5, "right_ankle": 0.5,
         "left_foot": 2.0, "right_foot": 2.0, "left_wrist": 0.3, "right_wrist": 0.3}


def _limit_tables() -> tuple[Tensor, ...]:
    soft = torch.full((NUM_JOINTS,), 0.1)  # fingers and everything else: mild
    soft[0] = 0.0
    for name, w in _SOFT.items():
        soft[J[name]] = w
    joints, axes, signs, off = [], [], [], []
    for names, axis, sgn, off_axes in _HINGES:
        for name, s in zip(names, sgn):
            joints.append(J[name])
            axes.append(axis)
            signs.append(s)
            m = torch.zeros(3)
            m[list(off_axes)] = 1.0
            off.append(m)
    return soft, torch.tensor(joints), torch.tensor(axes), torch.tensor(signs), torch.stack(off)


_LIMITS = _limit_tables()


def project_to_limits(aa: np.ndarray) -> np.ndarray:
    """(T, 55, 3) axis-angle with every hinge joint turned into a pure bend the allowed way.

    Keeps the component along the hinge axis (and the elbow's twist), drops
    the rest and clamps a backwards bend to 0: the optimiser then starts
    inside the joint limits even where the initialiser saw bad landmarks.
    """
    out = np.array(aa, np.float64, copy=True)
    for names, axis, signs, off_axes in _HINGES:
        for name, sign in zip(names, signs):
            j = J[name]
            v = out[:, j]
            bend = np.clip(sign * v[:, axis], 0.0, 2.6) * sign
            keep = np.zeros_like(v)
            keep[:, axis] = bend
            for k in {0, 1, 2} - set(off_axes) - {axis}:
                keep[:, k] = v[:, k]
            out[:, j] = keep
    return out
_POSITION_IN_LEVEL_ORDER = np.argsort(LEVEL_ORDER)


def joint_limit_cost(local: Tensor, *, level_order: bool = False) -> Tensor:
    """(N,) anatomical cost of local joint rotations (N, 55, 3, 3), radians^2-like
    (SMPL-X joint order, or ``LEVEL_ORDER`` with ``level_order=True``).

    With s = vee(R - R^T) / 2 (sin(angle) x axis) and c = cos(angle):
    every joint pays soft_j x (1 - c) x 2 (~ angle^2); hinge joints also pay
    100 x (off-axis components of s)^2 and 100 x (bend the wrong way)^2.
    """
    soft, hj, ha, hs, hoff = (t.to(local.device) for t in _LIMITS)
    if level_order:
        soft = soft[torch.as_tensor(LEVEL_ORDER, device=local.device)]
        hj = torch.as_tensor(_POSITION_IN_LEVEL_ORDER, device=local.device)[hj]
    tr = local[..., 0, 0] + local[..., 1, 1] + local[..., 2, 2]
    cost = (soft * (3.0 - tr)).sum(-1)
    R = local[:, hj]
    s = 0.5 * torch.stack([R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0],
                           R[..., 1, 0] - R[..., 0, 1]], -1)             # (N, H, 3)
    along = s.gather(-1, ha[None, :, None].expand(s.shape[0], -1, 1))[..., 0]
    wrong = torch.relu(-hs * along)
    cost = cost + 100.0 * ((s * hoff) ** 2).sum((-1, -2)) + 100.0 * (wrong ** 2).sum(-1)
    return cost


# ----------------------------------------------------------------------------
# Observations
# ----------------------------------------------------------------------------

@dataclass
class _Observations:
    """Landmarks of the clip as tensors; weights are 0 where unseen or bridged.

    uv (N, P, 2) pixels and w2d (N, P) for all landmark points (body, hands,
    face); world (N, 33, 3) and w3d (N, 33); hand_rel (N, 2, 21, 3) hand points
    relative to the wrist in (pixels, pixels, relative-depth pixels) and whand (N, 2).
    """

    uv: Tensor
    w2d: Tensor
    world: Tensor
    w3d: Tensor
    hand_px: Tensor
    whand: Tensor


def _observations(seq: PoseSequence, body: BodyModel, good: np.ndarray, device: torch.device) -> _Observations:
    T = seq.num_frames
    uv_body = np.asarray(seq.body_2d, np.float64)
    left, right = _assign_hands(np.nan_to_num(uv_body[..., :2]), np.asarray(seq.left_hand, np.float64),
                                np.asarray(seq.right_hand, np.float64))
    hands = np.stack([left, right], 1)                                          # (T, 2, 21, 3)
    hand_ok = np.all(np.isfinite(hands), axis=(-1, -2)) & good[:, None]         # (T, 2)
    vis = np.clip(np.nan_to_num(uv_body[..., 2]), 0.0, 1.0) * good[:, None]
    parts_uv = [np.nan_to_num(uv_body[..., :2]), np.nan_to_num(hands[..., :2]).reshape(T, -1, 2)]
    parts_w = [vis, np.repeat(hand_ok.astype(np.float64), NUM_HAND, axis=1)]
    if body.num_face:
        face = np.asarray(seq.face, np.float64)[:, body.face_mesh_ids, :2]
        face_ok = np.all(np.isfinite(face), axis=(-1, -2)) & good
        parts_uv.append(np.nan_to_num(face))
        parts_w.append(np.repeat(face_ok[:, None].astype(np.float64), body.num_face, axis=1))
    world = np.asarray(seq.body_world, np.float64)
    w3d = np.clip(np.nan_to_num(world[..., 3]), 0.0, 1.0) * good[:, None]

    def t(x: np.ndarray) -> Tensor:
        return torch.as_tensor(np.asarray(x, np.float32), device=device)

    return _Observations(
        uv=t(np.concatenate(parts_uv, 1)), w2d=t(np.concatenate(parts_w, 1)),
        world=t(np.nan_to_num(world[..., :3])), w3d=t(w3d),
        hand_px=t(np.nan_to_num(hands)), whand=t(hand_ok),
    )


# ----------------------------------------------------------------------------
# The problem: parameters, objective
# ----------------------------------------------------------------------------

class ClipProblem:
    """The objective of one clip over parameters for N frames, evaluable in one batch.

    Also used frame by frame by the speed benchmark's per-frame baseline.
    """

    def __init__(self, body: BodyModel, obs: _Observations, K: np.ndarray, fps: float,
                 settings: OptimizeSettings, fit_face: bool) -> None:
        self.body = body
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
        """Each weighted term, averaged over frames (scalars).

        local: (N, 55, 3, 3), SMPL-X joint order or ``LEVEL_ORDER``."""
        s, w, o, body = self.settings, self.settings.weights, self.obs, self.body
        out = body(betas, local, trans, expression if self.fit_face else None, level_order=level_order)
        pts = out.points
        N = pts.shape[0]
        z = pts[..., 2:3].clamp_min(0.05)
        uv = pts[..., :2] / z * self.f + self.c
        # Pixels -> metres at the point's depth, so 2D and 3D terms share units.
        sq = (((uv - o.uv) / self.f) ** 2).sum(-1) * (z[..., 0].detach() ** 2)
        rho = geman_mcclure(sq, s.robust_sigma_2d) * o.w2d
        result: dict[str, Tensor] = {
            "reprojection": w.reprojection * rho[:, :NUM_BODY].sum(-1).mean(),
            "hands_2d": w.hands_2d * rho[:, HANDS_START:FACE_START].sum(-1).mean(),
        }
        if body.num_face and self.fit_face:
            result["face_2d"] = w.face_2d * rho[:, FACE_START:].sum(-1).mean()
        bp = pts[:, :NUM_BODY]
        rel = bp - 0.5 * (bp[:, 23:24] + bp[:, 24:25])
        d3 = rel - o.world
        if w.world_depth != 1.0:  # scale the component along the ray by sqrt(world_depth)
            ray = bp.detach()
            ray = ray / ray.norm(dim=-1, keepdim=True).clamp_min(1e-6)
            along = (d3 * ray).sum(-1, keepdim=True)
            d3 = d3 - (1.0 - w.world_depth ** 0.5) * along * ray
        sq3 = (d3 ** 2).sum(-1)
        result["world_3d"] = w.world_3d * (geman_mcclure(sq3, s.robust_sigma_3d) * o.w3d).sum(-1).mean()
        if w.hands_3d:
            hp = pts[:, HANDS_START:FACE_START].reshape(N, 2, NUM_HAND, 3)
            zw = hp[:, :, :1, 2:3].detach().clamp_min(0.05)                   # fitted wrist depth
            px = o.hand_px
            # MediaPipe: x, y pixels, z = f * dZ / Z_wrist; back-projected at the fitted wrist depth.
            zp = zw * (1.0 + px[..., 2:3] / self.f[0])
            xy = (px[..., :2] - self.c) / self.f * zp
            obs = torch.cat([xy, zp], -1)
            obs_rel = obs - obs[:, :, :1]
            pred_rel = hp - hp[:, :, :1]
            sqh = ((pred_rel - obs_rel) ** 2).sum(-1)
            result["hands_3d"] = w.hands_3d * (geman_mcclure(sqh, s.robust_sigma_3d).sum(-1) * o.whand).sum(-1).mean()
        result["joint_limits"] = w.joint_limits * joint_limit_cost(local, level_order=level_order).mean()
        if temporal and N > 2:
            x = out.joints
            v = (x[1:] - x[:-1]) * self.time_scale
            a = (x[2:] - 2.0 * x[1:-1] + x[:-2]) * self.time_scale ** 2
            result["velocity"] = w.velocity * (v ** 2).sum((-1, -2)).mean()
            result["acceleration"] = w.acceleration * (a ** 2).sum((-1, -2)).mean()
            if expression is not None and self.fit_face:
                result["acceleration"] = result["acceleration"] + w.acceleration * (
                    (expression[2:] - 2 * expression[1:-1] + expression[:-2]) ** 2).sum(-1).mean() * 1e-2
        result["shape"] = w.shape * ((betas / body.betas_sigma) ** 2).sum()
        if expression is not None and self.fit_face:
            result["expression"] = w.expression * (expression ** 2).sum(-1).mean()
        return result


class _Params(torch.nn.Module):
    """Trainable parameters. Rotations are held in ``LEVEL_ORDER`` (see
    ``forward_kinematics_torch``); joints nothing observes (``fixed``) get no
    gradient, so they keep their start."""

    def __init__(self, local0: np.ndarray, trans0: np.ndarray, betas0: np.ndarray, expr0: np.ndarray,
                 free: np.ndarray, device: torch.device, fit_shape: bool) -> None:
        super().__init__()
        R0 = torch.as_tensor(local0[:, LEVEL_ORDER], dtype=torch.float32, device=device)
        self.rot6d = torch.nn.Parameter(matrix_to_rot6d(R0))
        self.fixed = torch.as_tensor(np.flatnonzero(~free[LEVEL_ORDER]), device=device)
        self.trans = torch.nn.Parameter(torch.as_tensor(trans0, dtype=torch.float32, device=device))
        self.betas = torch.nn.Parameter(torch.as_tensor(betas0, dtype=torch.float32, device=device),
                                        requires_grad=fit_shape)
        self.expression = torch.nn.Parameter(torch.as_tensor(expr0, dtype=torch.float32, device=device))

    def local(self) -> Tensor:
        """(N, 55, 3, 3) local rotations in ``LEVEL_ORDER``."""
        return rot6d_to_matrix(self.rot6d)

    def local_joint_order(self) -> Tensor:
        """(N, 55, 3, 3) local rotations in SMPL-X joint order."""
        return self.local()[:, torch.as_tensor(np.argsort(LEVEL_ORDER), device=self.rot6d.device)]


def gaussian_smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """(T, ...) values smoothed along time (axis 0) by a Gaussian of ``sigma_frames`` frames.

    The window is cut at 3 sigma; past the clip's ends the end frame repeats,
    so a still start or end stays still and a constant sequence is unchanged."""
    radius = max(1, int(np.ceil(3.0 * sigma_frames)))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma_frames) ** 2)
    kernel /= kernel.sum()
    frames = np.arange(x.shape[0])
    out = np.zeros(x.shape, np.float64)
    for offset, weight in zip(offsets, kernel):  # one tap at a time: memory stays at two clips' worth
        out += weight * x[np.clip(frames + offset, 0, x.shape[0] - 1)]
    return out


def smooth_rotations(R: np.ndarray, sigma_frames: float) -> np.ndarray:
    """(T, J, 3, 3) rotations smoothed along time: the Gaussian average of the
    matrices, projected back onto the rotations (SVD: the nearest rotation in
    the Frobenius norm). Neighbouring frames differ by small turns, where this
    equals the rotation mean to second order; bridged frames are already
    interpolated, so every frame holds a real rotation."""
    M = gaussian_smooth(R, sigma_frames)
    U, _, Vt = np.linalg.svd(M)
    flip = np.ones(M.shape[:-1])
    flip[..., -1] = np.sign(np.linalg.det(U @ Vt))
    return (U * flip[..., None, :]) @ Vt


def free_joints(fit_face: bool) -> np.ndarray:
    """(55,) bool: joints the optimiser moves (all but the eyes; the jaw only with a face)."""
    free = np.ones(NUM_JOINTS, bool)
    free[[J["left_eye_smplhf"], J["right_eye_smplhf"]]] = False
    free[J["jaw"]] = fit_face
    return free


def initial_translation(body: BodyModel, betas: np.ndarray, local0: np.ndarray, mid_hip_cam: np.ndarray,
                        ) -> np.ndarray:
    """(T, 3) trans putting the body's mid-hip at ``mid_hip_cam`` (T, 3) with orientations ``local0``."""
    dev = body.point_weights.device
    with torch.no_grad():
        b = torch.as_tensor(betas, dtype=torch.float32, device=dev)
        Jr, _ = body.rest(b)
        out = body(b, torch.eye(3, device=dev)[None, None].expand(1, NUM_JOINTS, 3, 3), torch.zeros(1, 3, device=dev))
        mid_rest = (0.5 * (out.points[0, 23] + out.points[0, 24]) - Jr[0, 0]).double().cpu().numpy()
        root = Jr[0, 0].double().cpu().numpy()
    return mid_hip_cam - root - np.einsum("tab,b->ta", local0[:, 0], mid_rest)


# ----------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------

def fit_clip(
    seq: PoseSequence,
    K: np.ndarray,
    body: BodyModel | None = None,
    *,
    settings: OptimizeSettings = OptimizeSettings(),
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> FitResult:
    """Fit ``body`` (default: the mannequin) to a clip's landmarks, all frames as one batch
    (see :func:`fit_window`), or in overlapping windows of ``settings.window_frames``
    with one shared shape when the clip is longer (memory stays bounded).
    """
    T = seq.num_frames
    window, overlap = int(settings.window_frames), int(settings.window_overlap)
    if T <= window or window <= 2 * overlap:
        return fit_window(seq, K, body, settings=settings, progress=progress, should_cancel=should_cancel)
    body = body if body is not None else MannequinBody()
    starts = list(range(0, T - overlap, window - overlap))
    total = len(starts) + 1
    step = [0]

    def part_progress(done: int, count: int) -> None:
        if progress is not None:
            progress(step[0] * count + done, total * count)

    # The shape: one fit on frames spread over the whole clip (one window's worth).
    spread = np.unique(np.linspace(0, T - 1, window).round().astype(int))
    shape_fit = fit_window(_frames(seq, spread, fps=seq.fps * len(spread) / T), K, body, settings=settings,
                           progress=part_progress, should_cancel=should_cancel)
    betas = shape_fit.betas
    parts: list[tuple[int, FitResult | None]] = []
    warnings: list[str] = []
    for start in starts:
        step[0] += 1
        stop = min(start + window, T)
        try:
            part = fit_window(_frames(seq, np.arange(start, stop)), K, body, settings=settings, betas=betas,
                              progress=part_progress, should_cancel=should_cancel)
            warnings += [w for w in part.warnings if w not in warnings]
        except CancelledError:
            raise
        except MocapError:
            part = None  # nobody in this stretch: bridged from its neighbours below
        parts.append((start, part))
    if all(p is None for _, p in parts):
        raise MocapError(NO_PERSON)
    return _stitch(parts, T, overlap, shape_fit, warnings)


def _frames(seq: PoseSequence, idx: np.ndarray, fps: float | None = None) -> PoseSequence:
    """The frames ``idx`` of ``seq`` as a sequence of their own."""
    return dataclasses.replace(
        seq, fps=seq.fps if fps is None else fps, frame_indices=seq.frame_indices[idx],
        body_2d=seq.body_2d[idx], body_world=seq.body_world[idx], left_hand=seq.left_hand[idx],
        right_hand=seq.right_hand[idx], face=seq.face[idx], present=seq.present[idx])


def _stitch(parts: list[tuple[int, FitResult | None]], T: int, overlap: int, shape_fit: FitResult,
            warnings: list[str]) -> FitResult:
    """Cross-fade window results into one clip (rotations by normalised quaternion blend)."""
    from ..rotations import axis_angle_to_quat_wxyz, quat_wxyz_to_axis_angle

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
        warnings.append(f"{int((~have).sum())} frames in stretches without a person were bridged")
    poses = quat_wxyz_to_axis_angle(quat).reshape(T, -1)
    return dataclasses.replace(
        shape_fit, poses=poses.astype(np.float32), trans=trans.astype(np.float32),
        expression=expression.astype(np.float32), confidence=confidence, bridged=bridged,
        reprojection_error=reproj, warnings=warnings)


def fit_window(
    seq: PoseSequence,
    K: np.ndarray,
    body: BodyModel | None = None,
    *,
    settings: OptimizeSettings = OptimizeSettings(),
    betas: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> FitResult:
    """Fit ``body`` (default: the mannequin) to a clip's landmarks, all frames as one batch.

    Args:
        seq: the clip's landmarks (``core.landmarks.PoseSequence``), T frames.
        K: (3, 3) camera intrinsics, pixels (OpenCV).
        body: a ``core.body.model.BodyModel`` (``MannequinBody`` or ``SMPLXBody``).
        settings: see ``OptimizeSettings`` (``PRESETS`` holds the presets).
        betas: (B,) a fixed shape (another window's); None fits the shape
            when ``settings.fit_shape``.
        progress: progress(done, total), counted in optimiser iterations after
            the initialiser.
        should_cancel: polled between iterations; True raises CancelledError.

    Returns:
        ``FitResult`` with poses (T, 165), trans (T, 3) in the camera frame,
        betas (B,), expression (T, E), rest_joints of the fitted shape,
        per-frame confidence, bridged flags and reprojection error (pixels).

    Frames without a person, or whose limb landmarks are nearly all unseen
    (mean visibility below ``settings.min_frame_confidence``), take no data
    term: the temporal terms carry the motion through them, and they are
    flagged ``bridged`` with a warning.

    Raises:
        MocapError: no usable frame; unknown device.
        CancelledError: ``should_cancel`` returned True.
    """
    started = time.perf_counter()
    body = body if body is not None else MannequinBody()
    device = resolve_device(settings.device)
    K = np.asarray(K, np.float64)
    T = seq.num_frames
    uv_all = np.asarray(seq.body_2d, np.float64)
    world_all = np.asarray(seq.body_world, np.float64)
    present = observed_frames(seq)
    limb_vis = np.where(present, np.nan_to_num(uv_all[:, LIMB_LANDMARKS, 2]).mean(-1) if T else 0.0, 0.0)
    good = present & (limb_vis >= settings.min_frame_confidence)
    if T == 0 or not good.any():
        raise MocapError(NO_PERSON)
    if settings.lift.enabled:
        lifted = np.array(seq.body_world, copy=True)
        lifted[good] = lift_to_rays(world_all[good], uv_all[good], K, settings.lift).astype(lifted.dtype)
        seq = dataclasses.replace(seq, body_world=lifted)
        world_all = np.asarray(lifted, np.float64)

    # Start: the closed-form per-frame fit (on the mannequin; pose vectors mean
    # the same on both bodies), with unreliable frames bridged.
    init_seq = dataclasses.replace(seq, present=good.copy())
    init = fit_sequence(init_seq, K, settings=settings.ik)
    warnings: list[str] = []
    missing = ~present
    if missing.any():
        frames = np.asarray(seq.frame_indices)[missing]
        warnings.append(
            f"{frames.size} frame{'s' if frames.size != 1 else ''} without a person "
            f"{'were' if frames.size != 1 else 'was'} bridged from their neighbours (frames {_ranges(frames)})")
    local0 = axis_angle_to_matrix(project_to_limits(init.poses.reshape(T, NUM_JOINTS, 3)))
    smooth_frames = settings.init_smoothing_seconds * seq.fps
    if smooth_frames > 0 and T > 2:
        local0 = smooth_rotations(local0, smooth_frames)
    if betas is not None:
        betas0 = np.asarray(betas, np.float32)
    elif isinstance(body, MannequinBody):
        betas0 = np.asarray(init.betas, np.float32)
    else:
        betas0 = body.initial_betas(world_all[good])
    fit_shape = settings.fit_shape and betas is None
    from ..body.mannequin import forward_kinematics
    from ..body.landmark_layout import landmarks_from_fk

    pos, rot = forward_kinematics(init.poses.astype(np.float64), init.rest_joints, init.trans)
    lm_body, _ = landmarks_from_fk(pos, rot, init.rest_joints)
    body = body.to(device)
    mid_hip0 = 0.5 * (lm_body[:, 23] + lm_body[:, 24])
    if smooth_frames > 0 and T > 2:
        mid_hip0 = gaussian_smooth(mid_hip0, smooth_frames)
    trans0 = initial_translation(body, betas0, local0, mid_hip0)

    fit_face = bool(body.num_face) and bool(np.isfinite(np.asarray(seq.face)[good]).any())
    obs = _observations(seq, body, good, device)
    problem = ClipProblem(body, obs, K, seq.fps, settings, fit_face)
    expr0 = np.zeros((T, body.num_expression), np.float32)
    params = _Params(local0, trans0, betas0, expr0, free_joints(fit_face), device, fit_shape)
    trainable = [params.rot6d, params.trans]
    if fit_shape:
        trainable.append(params.betas)
    if fit_face:
        trainable.append(params.expression)
    autocast = settings.mixed_precision and device.type == "cuda"
    n_iter = max(0, int(settings.iterations))
    max_eval = int(n_iter * 1.25) + 1
    evaluations = [0]

    def closure() -> Tensor:
        if should_cancel is not None and should_cancel():
            raise CancelledError("fitting cancelled by the user")
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=autocast):
            loss = sum(problem.terms(params.betas, params.local(), params.trans,
                                     params.expression if fit_face else None, level_order=True).values())
        loss = loss * problem.loss_scale
        loss.backward()
        assert params.rot6d.grad is not None
        params.rot6d.grad[:, params.fixed] = 0.0  # unobserved joints stay where they started
        evaluations[0] += 1
        if progress is not None:
            progress(min(evaluations[0], max_eval), max_eval)
        return loss

    # L-BFGS with a strong-Wolfe line search (as SMPLify and EasyMocap use):
    # from the closed-form start the problem is nearly quadratic and converges
    # in a few dozen steps, and unlike Adam it takes no step where the
    # gradient vanishes, so an exact start stays exact.
    optimizer = torch.optim.LBFGS(trainable, lr=1.0, max_iter=n_iter, max_eval=max_eval,
                                  history_size=settings.history, line_search_fn="strong_wolfe",
                                  tolerance_grad=1e-9, tolerance_change=1e-12)
    if n_iter:
        optimizer.step(closure)
    if progress is not None and evaluations[0] < max_eval:
        progress(max_eval, max_eval)

    with torch.no_grad():
        local = params.local_joint_order()
        betas = params.betas.detach()
        expr = params.expression.detach() if fit_face else None
        out = body(betas, local, params.trans, expr)
        pts = out.points[:, :NUM_BODY].double().cpu().numpy()
    aa = matrix_to_axis_angle(local.double().cpu().numpy())
    px = pts[:, BODY_DIRECT, :2] / np.maximum(pts[:, BODY_DIRECT, 2:3], 1e-3) * (K[0, 0], K[1, 1]) + (K[0, 2], K[1, 2])
    err = np.linalg.norm(px - np.nan_to_num(uv_all[:, BODY_DIRECT, :2]), axis=-1)
    wv = (np.nan_to_num(uv_all[:, BODY_DIRECT, 2]) >= settings.min_visibility).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        reproj = np.where(good & (wv.sum(-1) > 0), (err * wv).sum(-1) / np.maximum(wv.sum(-1), 1.0), np.nan)

    bridged = ~good
    unreliable = present & ~good
    if unreliable.any():
        frames = np.asarray(seq.frame_indices)[unreliable]
        warnings.append(
            f"{frames.size} frame{'s' if frames.size != 1 else ''} with too few visible landmarks "
            f"{'were' if frames.size != 1 else 'was'} bridged (frames {_ranges(frames)})")
    betas_np = betas.float().cpu().numpy()
    rest = body.rest_data(betas_np)["rest_joints"] if not isinstance(body, MannequinBody) else None
    if rest is None:
        from ..body.mannequin import rest_joints as mannequin_rest

        rest = mannequin_rest(betas_np)
    confidence = np.where(good, limb_vis, 0.0)
    return FitResult(
        poses=aa.reshape(T, POSE_DIM).astype(np.float32),
        trans=params.trans.detach().float().cpu().numpy(),
        betas=betas_np.astype(np.float32),
        rest_joints=np.asarray(rest, np.float32),
        confidence=np.clip(confidence, 0.0, 1.0).astype(np.float32),
        bridged=bridged,
        reprojection_error=reproj.astype(np.float32),
        warnings=warnings,
        expression=(expr.float().cpu().numpy() if expr is not None
                    else np.zeros((T, body.num_expression), np.float32)),
        body_model=body.name,
        gender=body.gender,
        timings={"fit_seconds": time.perf_counter() - started, "iterations": float(n_iter),
                 "evaluations": float(evaluations[0])},
    )
