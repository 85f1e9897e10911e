"""How the whole-clip optimisation runs: the objective's weights, the optimiser settings, the presets, the device."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from ...errors import MocapError
from ..ik import FitSettings
from ..lifting import LiftSettings
from .excursions import ExcursionSettings


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
        expression_acceleration: mean squared acceleration of the expression
            coefficients (per frame^2 at the clip's own rate; SMPL-X with face
            landmarks): a face that moves smoothly. Until this term had a name
            it was part of ``acceleration`` at 1/100 of its weight, hence
            0.3 / 100.
        shape: squared size of ``betas`` in units of the body's prior deviation
            (1 for SMPL-X's unit-variance betas, 0.15 for the mannequin's log
            scales): keeps the shape plausible when the views say little.
        expression: squared size of the expression coefficients.
        multiview_2d: the 2D terms of every further camera of a multi-view take
            (``core.fit.optimize.views``), body, hands and face together, each
            camera as much as camera 0; absent from a one-camera fit.
        camera_prior: with the further cameras refined in the fit (``views.CameraRefinement``), metres^2
            per unit of their prior (squared moves in units of the trusted deviations), over the clip
            (not per frame): about the squared 2D error, in metres at depth, of one frame's landmarks.
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
    expression_acceleration: float = 0.003
    shape: float = 1e-4
    expression: float = 1e-5
    multiview_2d: float = 1.0
    camera_prior: float = 1e-3


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
        precondition: L-BFGS steps on scaled variables, each joint's rotation
            by its reach and the shape by its hold on every frame
            (``core.fit.optimize.precondition``), so a few dozen iterations
            move the limbs as far as the image asks; on in the fast and
            balanced presets, and so in a multi-view fit of those presets
            (``views.multiview_settings`` keeps the preset's; until December
            2026 multi-view fits took plain steps, and the rendered four-phone
            take's fits were far from converged: world MPJPE 53.6 / 52.2 /
            41.0 -> 50.1 / 44.9 / 38.6 mm with 2 / 3 / 4 cameras, see
            ``views.MULTIVIEW_ITERATIONS``). Off here (plain steps) and in the
            accurate preset (run to convergence, it read worse preconditioned:
            offset-free PA-MPJPE 0.862x / 0.828x MediaPipe's on the default /
            tilted sets against 0.826x / 0.788x plain; why is not found). The
            further cameras' own parameters (``views.CameraRefinement``) take
            plain steps. With MediaPipe's one-view 3D landmarks and a second
            camera (a synthetic test, depth stretched 1.8x) the preconditioned
            fit follows that wrong 3D further; ``capture_multi`` gives the fit
            the triangulated body instead.
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
    precondition: bool = False
    excursions: ExcursionSettings = ExcursionSettings()


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
    "fast": Preset("fast", 2, OptimizeSettings(iterations=15, mixed_precision=True, precondition=True)),
    "balanced": Preset("balanced", 1, OptimizeSettings(iterations=40, precondition=True)),
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
(71.8 -> 91.3 mm) that 300+ iterations climb out of.

Known exception (issue 15, December 2026): on ``tilt_room_jumps_low`` (a low camera
7.8 m away, twice as far as any other bench clip, 70 degrees to the side) running
to convergence itself costs accuracy: offset-free PA-MPJPE of the raw take 30.4 mm
at the closed-form start, 30.0 after 40 plain steps, 32.3 / 34.3 / 36.4 after
200 / 400 / 800, while the objective keeps falling (its 2D term weighted 0.0093
at 100 evaluations, 0.0050 at 830) and the knees' and ankles' depths relative to
the hips drift. Neither the mirror, these weights, the up direction, the
preconditioner, the joint limits, the temporal terms, the shape, the hands nor
the robust scales is the cause (each changed alone at 800 steps: 34.9-44 mm), nor
the person's size in pixels (``tilt_room_jumps_high`` at half resolution still
gains from 800 steps: 51.8 -> 48.2 mm after cleanup). 200 steps cost 2-5 mm on
five of the nine other clips (gain 1-2 mm on three); pulling the rotations towards the start
(a penalty on their squared change) mends this clip but makes the plain PA-MPJPE
worse on most others (means +2.2 / +2.5 mm on the tilted / held-out sets)."""
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

