"""Setting up the whole-clip problem: which frames count, the observations, the start, the parameters.

The start is the closed-form per-frame fit (``core.fit.ik``) on the mannequin
(pose vectors mean the same on both bodies), moved inside the joint limits and
smoothed over time; the parameters hold it on the optimiser's device.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d
from torch import Tensor

from ...body.landmark_layout import LIMB_LANDMARKS, landmarks_from_fk
from ...body.mannequin import forward_kinematics
from ...body.model import LEVEL_ORDER, LEVEL_POSITION, BodyModel, MannequinBody, matrix_to_rot6d, rot6d_to_matrix
from ...landmarks import NUM_HAND, PoseSequence, seen_landmarks
from ...rotations import axis_angle_to_matrix
from ...skeleton import JOINT_INDEX, NUM_JOINTS
from ..closed_form import assign_hands
from ..ik import fit_sequence, observed_frames
from ..lifting import camera_from_view, lift_to_rays, tip_to_elevation
from ..result import FitResult
from .limits import project_to_limits
from .settings import OptimizeSettings

J = JOINT_INDEX


@dataclass
class Frames:
    """Which of a clip's T frames the fit may use.

    Attributes:
        present: (T,) bool, a person with all 33 body landmarks finite.
        good: (T,) bool, present and its limb landmarks seen well enough
            (``OptimizeSettings.min_frame_confidence``): only these take a data term.
        limb_visibility: (T,) mean visibility of the 12 limb landmarks, 0 where not present.
    """

    present: np.ndarray
    good: np.ndarray
    limb_visibility: np.ndarray


def usable_frames(seq: PoseSequence, settings: OptimizeSettings) -> Frames:
    """The frames of ``seq`` that hold a person, and those seen well enough to fit."""
    T = seq.num_frames
    uv_all = np.asarray(seq.body_2d, np.float64)
    present = observed_frames(seq)
    limb_vis = np.where(present, np.nan_to_num(uv_all[:, LIMB_LANDMARKS, 2]).mean(-1) if T else 0.0, 0.0)
    good = present & (limb_vis >= settings.min_frame_confidence)
    return Frames(present, good, limb_vis)


def lifted(seq: PoseSequence, K: np.ndarray, good: np.ndarray, settings: OptimizeSettings) -> PoseSequence:
    """``seq`` with the world landmarks of its good frames turned into the camera's axes (and, with a known
    up, tipped by the share of the view's elevation MediaPipe leaves out), put on
    the image landmarks' camera rays (``core.fit.lifting``), or ``seq`` itself when lifting is off
    (3D landmarks that are not MediaPipe's one-view guess: the multi-view fit's triangulated ones)."""
    lift = settings.lift
    if not lift.enabled or not good.any():
        return seq
    world = np.asarray(seq.body_world, np.float64)[good]
    uv = np.asarray(seq.body_2d, np.float64)[good]
    if lift.view_rotation:
        world = camera_from_view(world, uv, K)
    if lift.up is not None and lift.elevation_gain:
        world = tip_to_elevation(world, uv, K, np.asarray(lift.up), lift.elevation_gain)
    world = lift_to_rays(world, uv, K, lift)
    out = np.array(seq.body_world, copy=True)
    out[good] = world.astype(out.dtype)
    return dataclasses.replace(seq, body_world=out)


@dataclass
class Observations:
    """Landmarks of the clip as tensors; weights are 0 where unseen or bridged.

    uv (N, P, 2) pixels and w2d (N, P) for all landmark points (body, hands,
    face); world (N, 33, 3) metres, relative to the mid-hip, and w3d (N, 33);
    hand_px (N, 2, 21, 3) the hands as MediaPipe gives them (x, y pixels; z,
    depth relative to the wrist in pixel scale), [left, right] after
    ``assign_hands``, and whand (N, 2).
    """

    uv: Tensor
    w2d: Tensor
    world: Tensor
    w3d: Tensor
    hand_px: Tensor
    whand: Tensor


def observations(seq: PoseSequence, body: BodyModel, good: np.ndarray, device: torch.device) -> Observations:
    """The clip's landmarks as tensors on ``device``; frames where ``good`` (T,) is False weigh 0."""
    T = seq.num_frames
    uv_body = np.asarray(seq.body_2d, np.float64)
    left, right = assign_hands(np.nan_to_num(uv_body[..., :2]), np.asarray(seq.left_hand, np.float64),
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
    # A landmark not seen at all (cut off, hidden) does not pull the 3D term: the model invents it.
    w3d = np.where(seen_landmarks(world[..., 3]), np.clip(np.nan_to_num(world[..., 3]), 0.0, 1.0), 0.0) * good[:, None]

    def t(x: np.ndarray) -> Tensor:
        return torch.as_tensor(np.asarray(x, np.float32), device=device)

    return Observations(
        uv=t(np.concatenate(parts_uv, 1)), w2d=t(np.concatenate(parts_w, 1)),
        world=t(np.nan_to_num(world[..., :3])), w3d=t(w3d),
        hand_px=t(np.nan_to_num(hands)), whand=t(hand_ok),
    )


class Params(torch.nn.Module):
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
        return self.local()[:, torch.as_tensor(LEVEL_POSITION, device=self.rot6d.device)]


def gaussian_smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """(T, ...) values smoothed along time (axis 0) by a Gaussian of ``sigma_frames`` frames.

    The window is cut at 3 sigma, rounded up (SciPy's own cut, ``truncate``,
    rounds to the nearest frame: 6 frames instead of 7 at 2 frames' sigma, so
    the radius is given). Past the clip's ends the frames inside are mirrored
    about the end frame (``mode="mirror"``: ... 2 1 | 0 1 2 ...), so an end
    frame weighs in its own smoothed value as much as any frame does in its
    own, a still start or end stays still and a constant sequence is
    unchanged. Repeating the end frame instead (``"nearest"``) also gave it
    the half of the window past the end: about 60 % of its smoothed value at
    2 frames' sigma, against 20 % inside. MediaPipe's first frame (its
    detector's, with no previous frame to track from) is often a poor one
    (limb PA-MPJPE on frame 0 above the clip's median on 4 of the 5 tilted
    clips); on tilt_room_jumps_high it reads an arm hidden behind the body in
    front of it, the start held the body (its 12 limb joints) turned 31 and
    26 degrees about the vertical on frames 0 and 1, the fit 26 and 20 (15
    and 12 mirrored), and W-MPJPE, whose windows are aligned on their first
    two frames, read 330 mm (252 mirrored). The other side of it: where the
    first frame is the good one and the next are misread, the start now
    follows them as an inner frame would (the demo clip: MediaPipe reads the
    man, standing and facing the camera, turned away on frames 1-3, at
    confidence 0.6 on 2-3; frames 0 and 1 of the take moved 13 and 10 cm and
    frame 0 is now drawn turned like them)."""
    radius = max(1, int(np.ceil(3.0 * sigma_frames)))
    return gaussian_filter1d(np.asarray(x, np.float64), sigma_frames, axis=0, mode="mirror", radius=radius)


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


@dataclass
class Start:
    """The optimiser's start for T frames: local (T, 55, 3, 3) joint rotations, SMPL-X order;
    trans (T, 3) metres, camera frame; betas (B,); fit_shape: whether ``betas`` is optimised."""

    local: np.ndarray
    trans: np.ndarray
    betas: np.ndarray
    fit_shape: bool


def initial_values(seq: PoseSequence, K: np.ndarray, body: BodyModel, good: np.ndarray,
                   settings: OptimizeSettings, betas: np.ndarray | None) -> Start:
    """The start: the closed-form per-frame fit of the good frames (others bridged), inside the
    joint limits and smoothed over ``settings.init_smoothing_seconds``; ``betas`` fixes the shape.
    ``body`` must already sit on the optimiser's device."""
    T = seq.num_frames
    init = fit_sequence(dataclasses.replace(seq, present=good.copy()), K, settings=settings.ik)
    local0 = axis_angle_to_matrix(project_to_limits(init.poses.reshape(T, NUM_JOINTS, 3)))
    smooth_frames = settings.init_smoothing_seconds * seq.fps
    if smooth_frames > 0 and T > 2:
        local0 = smooth_rotations(local0, smooth_frames)
    if betas is not None:
        betas0 = np.asarray(betas, np.float32)
    elif isinstance(body, MannequinBody):
        betas0 = np.asarray(init.betas, np.float32)
    else:
        betas0 = body.initial_betas(np.asarray(seq.body_world, np.float64)[good])
    mid_hip0 = _mid_hip(init)
    if smooth_frames > 0 and T > 2:
        mid_hip0 = gaussian_smooth(mid_hip0, smooth_frames)
    trans0 = initial_translation(body, betas0, local0, mid_hip0)
    return Start(local0, trans0, betas0, settings.fit_shape and betas is None)


def _mid_hip(init: FitResult) -> np.ndarray:
    """(T, 3) mid-hip of the closed-form fit, camera frame."""
    pos, rot = forward_kinematics(init.poses.astype(np.float64), init.rest_joints, init.trans)
    lm_body, _ = landmarks_from_fk(pos, rot, init.rest_joints)
    return 0.5 * (lm_body[:, 23] + lm_body[:, 24])
