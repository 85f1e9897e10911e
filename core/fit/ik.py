"""Per-frame joint rotations from landmarks: the closed-form "walking skeleton" fit.

Every frame is solved on its own, in closed form, all frames of a chunk at
once with numpy: body segment frames are built from landmark directions and
turned into SMPL-X joint rotations (local = R_parent_global^T @ R_global).
A later fitter optimises the whole sequence; it keeps this module's API
(``fit_sequence`` -> ``FitResult``) and can start from its output.

Frames: landmarks come in the OpenCV camera frame (x right, y down, z away
from the camera). The fitted global orient maps the body's model frame (Y up,
facing +Z, left = +X) into that camera frame, so an upright person facing the
camera gets ~180 deg about X; ``trans`` is in metres in the camera frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..body.mannequin import NUM_BETAS, forward_kinematics, rest_joints as mannequin_rest_joints
from ..errors import CancelledError, MocapError
from ..landmarks import BODY, PoseSequence
from ..rotations import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_quat_wxyz,
    quat_wxyz_to_axis_angle,
    rotation_between,
)
from ..skeleton import JOINT_INDEX, NUM_JOINTS, PARENTS, POSE_DIM
from .mapping import (
    BODY_DIRECT,
    FINGERS,
    LIMB_LANDMARKS,
    landmarks_from_fk,
    rest_body_landmarks,
    rest_hand_landmarks,
)
from .synthetic import project

B = BODY
J = JOINT_INDEX


@dataclass(frozen=True)
class FitSettings:
    """Options of ``fit_sequence``.

    Attributes:
        estimate_shape: fit the mannequin's betas to the clip's median segment
            lengths; False keeps the default body (betas = 0).
        fit_hands: pose the fingers from the hand landmarks; False leaves the
            hands flat.
        min_visibility: landmarks below this visibility are left out of the
            shape estimate and the reprojection error (and down-weighted in the
            translation solve, which weights by visibility).
        straight_limb_blend: weight of the torso-based fallback bend direction
            for a straight arm or leg (its twist is unobservable then); it fades
            out as the limb bends, so bent limbs are unaffected.
        chunk_frames: frames solved per numpy batch; cancellation is checked
            and progress reported between chunks.
    """

    estimate_shape: bool = True
    fit_hands: bool = True
    min_visibility: float = 0.5
    straight_limb_blend: float = 0.2
    chunk_frames: int = 30


@dataclass
class FitResult:
    """Per-frame SMPL-X parameters fitted to a clip. T frames, B betas.

    Attributes:
        poses: (T, 165) float32 axis-angle per joint relative to its parent,
            SMPL-X order; the global orient maps the model frame into the
            OpenCV camera frame.
        trans: (T, 3) float32 metres, OpenCV camera frame (FK's pelvis joint =
            rest_joints[0] + trans).
        betas: (B,) float32 mannequin shape (see core.body.mannequin).
        rest_joints: (55, 3) float32 rest joints of ``betas``, metres, model frame.
        confidence: (T,) float32 in [0, 1], mean visibility of the 12 limb
            landmarks; 0 where nobody was found.
        bridged: (T,) bool, True where the frame had no person and was
            interpolated from its neighbours.
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


# ----------------------------------------------------------------------------
# Small batched helpers (any leading dims, float64)
# ----------------------------------------------------------------------------

def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """(..., 3, 3) orthonormal frame, columns: primary, secondary made perpendicular, their cross."""
    e1 = _unit(primary)
    e2 = _unit(secondary - np.sum(secondary * e1, -1, keepdims=True) * e1)
    return np.stack([e1, e2, np.cross(e1, e2)], axis=-1)


def _rotation_from_frames(obs_p, obs_s, rest_p, rest_s) -> np.ndarray:
    """Rotation taking the rest frame (rest_p, rest_s) onto the observed one (obs_p, obs_s)."""
    return _frame(obs_p, obs_s) @ np.swapaxes(_frame(np.asarray(rest_p, float), np.asarray(rest_s, float)), -1, -2)


def _fraction(R: np.ndarray, f: float) -> np.ndarray:
    """R^f: the same axis, f times the angle."""
    return axis_angle_to_matrix(f * matrix_to_axis_angle(R))


def _swing(R_parent: np.ndarray, rest_dir: np.ndarray, obs_dir: np.ndarray) -> np.ndarray:
    """Global rotation of a child: the parent's, then the smallest turn onto ``obs_dir``."""
    return rotation_between(R_parent @ rest_dir, obs_dir) @ R_parent


def _mat_vec(R: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.einsum("...ab,...b->...a", R, np.broadcast_to(v, R.shape[:-1]))


def _limb(R_parent, a_obs, f_obs, a_rest, f_rest, bend_rest, fallback, blend):
    """Upper and lower segment global rotations of a two-segment limb.

    The upper frame is the limb direction plus the bend direction (the part of
    the lower segment perpendicular to the upper one), matched to the rest
    bend direction; when the limb is nearly straight the bend direction fades
    into ``fallback`` (from the torso) so the twist stays continuous. The lower
    segment then needs only the smallest turn, about the hinge axis.
    """
    a = _unit(a_obs)
    fu = _unit(f_obs)
    b_raw = fu - np.sum(fu * a, -1, keepdims=True) * a
    sin_bend = np.linalg.norm(b_raw, axis=-1, keepdims=True)
    fb = _unit(fallback - np.sum(fallback * a, -1, keepdims=True) * a)
    w = blend * np.clip(1.0 - sin_bend / 0.3, 0.0, 1.0) ** 2
    b = b_raw + w * fb
    R_upper = _rotation_from_frames(a, b, a_rest, bend_rest)
    R_lower = _swing(R_upper, f_rest, f_obs)
    return R_upper, R_lower


# ----------------------------------------------------------------------------
# Shape and translation
# ----------------------------------------------------------------------------

def _segment_lengths(P: np.ndarray) -> np.ndarray:
    """(..., 33, 3) landmarks -> (..., 5) lengths, metres: torso (mid-hip to mid-shoulder),
    arm and leg (both segments, mean of the sides), shoulder width, hip width."""
    def d(i, j):
        return np.linalg.norm(P[..., i, :] - P[..., j, :], axis=-1)

    torso = np.linalg.norm(0.5 * (P[..., 11, :] + P[..., 12, :]) - 0.5 * (P[..., 23, :] + P[..., 24, :]), axis=-1)
    arm = 0.5 * (d(11, 13) + d(13, 15) + d(12, 14) + d(14, 16))
    leg = 0.5 * (d(23, 25) + d(25, 27) + d(24, 26) + d(26, 28))
    return np.stack([torso, arm, leg, d(11, 12), d(23, 24)], axis=-1)


_SHAPE_LANDMARKS = np.array([11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28])


def estimate_betas(world: np.ndarray, min_visibility: float = 0.5) -> np.ndarray:
    """(NUM_BETAS,) mannequin betas from metric landmarks (N, 33, 4) of good frames.

    Medians over frames whose 12 limb landmarks are all visible (all frames if
    none are). Each beta is a log ratio of an observed length to the default
    body's (see core.body.mannequin): overall from the torso (mid-hip to
    mid-shoulder), then arm, leg, shoulder and hip width relative to it.
    Clamped to plausible adult ranges.
    """
    vis = world[..., _SHAPE_LANDMARKS, 3]
    ok = np.all(vis >= min_visibility, axis=-1)
    use = world[ok] if ok.any() else world
    observed = np.median(_segment_lengths(use[..., :3]), axis=0)
    rest = _segment_lengths(rest_body_landmarks(mannequin_rest_joints(None)))
    ratio = np.log(np.maximum(observed, 1e-6) / rest)
    betas = np.zeros(NUM_BETAS)
    betas[0] = np.clip(ratio[0], np.log(1.3 / 1.7), np.log(2.1 / 1.7))
    betas[1:5] = np.clip(ratio[1:5] - betas[0], -0.3, 0.3)
    return betas


def solve_translation(world: np.ndarray, uv: np.ndarray, weight: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(N, 3) camera-frame position of each frame's landmark origin (the mid-hip).

    Finds t with project(world + t) ~ uv: the pinhole equations
    x_i (Z_i + t_z) = X_i + t_x (x_i normalised) are linear in t, solved by
    weighted least squares per frame; a second pass weights each equation by
    1 / depth^2 so the residual approximates pixels, and two more also
    down-weight outliers (robust reweighting).

    Args:
        world: (N, L, 3) metres, camera axes, relative to the origin; uv
            (N, L, 2) pixels; weight (N, L) >= 0 (0 for missing points).
    """
    K = np.asarray(K, np.float64)
    a = (uv[..., 0] - K[0, 2]) / K[0, 0]
    b = (uv[..., 1] - K[1, 2]) / K[1, 1]
    X, Y, Z = world[..., 0], world[..., 1], world[..., 2]
    w = weight.copy()
    t = None
    for it in range(4):
        # rows [1, 0, -a] and [0, 1, -b]; normal equations summed over landmarks.
        M = np.zeros(w.shape[:-1] + (3, 3))
        M[..., 0, 0] = M[..., 1, 1] = w.sum(-1)
        M[..., 0, 2] = M[..., 2, 0] = -(w * a).sum(-1)
        M[..., 1, 2] = M[..., 2, 1] = -(w * b).sum(-1)
        M[..., 2, 2] = (w * (a * a + b * b)).sum(-1)
        ra, rb = a * Z - X, b * Z - Y
        rhs = np.stack([(w * ra).sum(-1), (w * rb).sum(-1), -(w * (a * ra + b * rb)).sum(-1)], -1)
        t = np.linalg.solve(M + 1e-9 * np.eye(3), rhs[..., None])[..., 0]
        depth = np.maximum(Z + t[..., 2:3], 1e-3)
        w = weight / depth**2
        if it >= 1:
            # Passes 3-4 down-weight landmarks far off the solution (Geman-McClure
            # weights, 30 px scale), so one mis-detected point cannot move the body.
            px = np.stack([(X + t[..., 0:1]) / depth * K[0, 0] + K[0, 2],
                           (Y + t[..., 1:2]) / depth * K[1, 1] + K[1, 2]], -1)
            r2 = np.sum((px - uv) ** 2, -1) / 30.0**2
            w = w / (1.0 + r2) ** 2
    assert t is not None
    return t


# ----------------------------------------------------------------------------
# The per-frame solve
# ----------------------------------------------------------------------------

class _Rest:
    """Rest directions the fit matches observations against, for one body."""

    def __init__(self, rest_joints: np.ndarray) -> None:
        J0 = np.asarray(rest_joints, np.float64)
        L = rest_body_landmarks(J0)
        H = rest_hand_landmarks(J0)
        mid = lambda i, k: 0.5 * (L[i] + L[k])  # noqa: E731
        self.joints = J0
        self.up = mid(11, 12) - mid(23, 24)
        self.hips = L[23] - L[24]
        self.shoulders = L[11] - L[12]
        self.ears = L[7] - L[8]
        self.face = L[0] - mid(7, 8)
        self.mid_hip = mid(23, 24)
        self.body = L
        self.hand = H


def _backproject_hand(hand: np.ndarray, wrist_depth: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(N, 21, 3) hand landmarks (pixels + relative depth in pixel scale) -> camera-frame points.

    The relative depth is f * dZ / Z_wrist (MediaPipe scales it like x), so
    Z = Z_wrist (1 + z / f); x and y are then unprojected at that depth.
    """
    Z = wrist_depth[:, None] * (1.0 + hand[..., 2] / K[0, 0])
    X = (hand[..., 0] - K[0, 2]) / K[0, 0] * Z
    Y = (hand[..., 1] - K[1, 2]) / K[1, 1] * Z
    return np.stack([X, Y, Z], -1)


def _assign_hands(uv: np.ndarray, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Swap the hands where each sits nearer the other pose wrist (2D), against handedness mix-ups."""
    def dist(hand, k):
        return np.nan_to_num(np.linalg.norm(hand[:, 0, :2] - uv[:, k], axis=-1), nan=0.0)

    keep = dist(left, B["left_wrist"]) + dist(right, B["right_wrist"])
    swap = dist(left, B["right_wrist"]) + dist(right, B["left_wrist"])
    s = (swap < keep)[:, None, None]
    return np.where(s, right, left), np.where(s, left, right)


def _fit_frames(world, uv, vis, hands, K, rest: _Rest, settings: FitSettings):
    """Solve N good frames. world (N,33,3) m, uv (N,33,2) px, vis (N,33), hands (N,2,21,3).

    Returns local axis-angle (N, 55, 3), trans (N, 3), reprojection error (N,).
    """
    N = world.shape[0]
    G = np.broadcast_to(np.eye(3), (N, NUM_JOINTS, 3, 3)).copy()
    P = world
    mid = lambda i, k: 0.5 * (P[:, i] + P[:, k])  # noqa: E731
    up = mid(11, 12) - mid(23, 24)

    # Torso: pelvis from the hips, chest from the shoulders, both with the
    # trunk's up; the spine shares the difference equally.
    # The long trunk vector is the primary axis (less sensitive to landmark
    # noise than the 15 cm hip line); the hip / shoulder lines give the turn
    # about it, so the spine carries a pure twist.
    G[:, 0] = _rotation_from_frames(up, P[:, 23] - P[:, 24], rest.up, rest.hips)
    chest = _rotation_from_frames(up, P[:, 11] - P[:, 12], rest.up, rest.shoulders)
    step = _fraction(np.swapaxes(G[:, 0], -1, -2) @ chest, 1.0 / 3.0)
    for j, p in (("spine1", 0), ("spine2", J["spine1"]), ("spine3", J["spine2"])):
        G[:, J[j]] = G[:, p] @ step
    G[:, J["left_collar"]] = G[:, J["right_collar"]] = G[:, J["spine3"]]

    # Neck and head share the head's turn relative to the chest.
    head = _rotation_from_frames(P[:, 7] - P[:, 8], P[:, 0] - mid(7, 8), rest.ears, rest.face)
    half = _fraction(np.swapaxes(G[:, J["spine3"]], -1, -2) @ head, 0.5)
    G[:, J["neck"]] = G[:, J["spine3"]] @ half
    G[:, J["head"]] = G[:, J["neck"]] @ half
    for j in ("jaw", "left_eye_smplhf", "right_eye_smplhf"):
        G[:, J[j]] = G[:, J["head"]]

    forward = G[:, J["spine3"]][..., :, 2]       # chest +Z
    backward = -G[:, 0][..., :, 2]              # pelvis -Z
    L = rest.body
    for side in ("left", "right"):
        sh, el, wr = B[f"{side}_shoulder"], B[f"{side}_elbow"], B[f"{side}_wrist"]
        G[:, J[f"{side}_shoulder"]], G[:, J[f"{side}_elbow"]] = _limb(
            G[:, J[f"{side}_collar"]], P[:, el] - P[:, sh], P[:, wr] - P[:, el],
            L[el] - L[sh], L[wr] - L[el], np.array([0.0, 0.0, 1.0]), forward, settings.straight_limb_blend)
        hp, kn, an = B[f"{side}_hip"], B[f"{side}_knee"], B[f"{side}_ankle"]
        G[:, J[f"{side}_hip"]], G[:, J[f"{side}_knee"]] = _limb(
            G[:, 0], P[:, kn] - P[:, hp], P[:, an] - P[:, kn],
            L[kn] - L[hp], L[an] - L[kn], np.array([0.0, 0.0, -1.0]), backward, settings.straight_limb_blend)
        heel, toe = B[f"{side}_heel"], B[f"{side}_foot_index"]
        G[:, J[f"{side}_ankle"]] = _rotation_from_frames(
            P[:, toe] - P[:, heel], P[:, an] - P[:, heel], L[toe] - L[heel], L[an] - L[heel])
        G[:, J[f"{side}_foot"]] = G[:, J[f"{side}_ankle"]]

    # Translation first: the hands' depths come from it.
    t_mid = solve_translation(P, uv, vis, K)

    for h, side in enumerate(("left", "right")):
        wr, pk, ix = B[f"{side}_wrist"], B[f"{side}_pinky"], B[f"{side}_index"]
        wrist = _rotation_from_frames(
            0.5 * (P[:, pk] + P[:, ix]) - P[:, wr], P[:, ix] - P[:, pk],
            0.5 * (L[pk] + L[ix]) - L[wr], L[ix] - L[pk])
        Hr = rest.hand[h]
        hand = hands[:, h]
        present = np.all(np.isfinite(hand), axis=(-1, -2)) & settings.fit_hands
        if present.any():
            pts = _backproject_hand(np.nan_to_num(hand), P[:, wr, 2] + t_mid[:, 2], K)
            from_hand = _rotation_from_frames(pts[:, 9] - pts[:, 0], pts[:, 5] - pts[:, 17],
                                              Hr[9] - Hr[0], Hr[5] - Hr[17])
            wrist = np.where(present[:, None, None], from_hand, wrist)
        G[:, J[f"{side}_wrist"]] = wrist
        for f, finger in enumerate(FINGERS):
            m = 1 + 4 * f
            parent = wrist
            for k in (1, 2, 3):
                jj = J[f"{side}_{finger}{k}"]
                if present.any():
                    g = _swing(parent, Hr[m + k] - Hr[m + k - 1], pts[:, m + k] - pts[:, m + k - 1])
                    G[:, jj] = np.where(present[:, None, None], g, parent)
                else:
                    G[:, jj] = parent
                parent = G[:, jj]

    parents = np.array([max(p, 0) for p in PARENTS])
    local = np.swapaxes(G[:, parents], -1, -2) @ G
    local[:, 0] = G[:, 0]
    aa = matrix_to_axis_angle(local)

    # FK pelvis = J_0 + trans, mid-hip = R_0 (mid_hip_rest - J_0) + J_0 + trans.
    trans = t_mid - rest.joints[0] - _mat_vec(G[:, 0], rest.mid_hip - rest.joints[0])

    pos, rot = forward_kinematics(aa, rest.joints, trans)
    body, _ = landmarks_from_fk(pos, rot, rest.joints)
    px = project(body[:, BODY_DIRECT], K)
    err = np.linalg.norm(px - uv[:, BODY_DIRECT], axis=-1)
    w = (vis[:, BODY_DIRECT] >= settings.min_visibility).astype(np.float64)
    reproj = np.where(w.sum(-1) > 0, (err * w).sum(-1) / np.maximum(w.sum(-1), 1.0), np.nan)
    return aa, trans, reproj


# ----------------------------------------------------------------------------
# Bridging gaps
# ----------------------------------------------------------------------------

def _bridge(aa: np.ndarray, trans: np.ndarray, good: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill frames where ``good`` is False: slerp joint rotations and lerp translation
    between the nearest good frames, holding the first/last good frame at the ends."""
    T = good.shape[0]
    idx = np.flatnonzero(good)
    k = np.searchsorted(idx, np.arange(T))
    prv = idx[np.clip(k - 1, 0, idx.size - 1)]
    nxt = idx[np.clip(k, 0, idx.size - 1)]
    prv = np.where(np.arange(T) < idx[0], nxt, prv)
    span = np.maximum(nxt - prv, 1)
    alpha = np.clip((np.arange(T) - prv) / span, 0.0, 1.0)[:, None]

    q = matrix_to_quat_wxyz(axis_angle_to_matrix(aa))
    q0, q1 = q[prv], q[nxt]
    dot = np.sum(q0 * q1, -1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin = np.sin(theta)
    a = alpha[:, None]
    small = sin < 1e-6
    w0 = np.where(small, 1.0 - a, np.sin((1.0 - a) * theta) / np.where(small, 1.0, sin))
    w1 = np.where(small, a, np.sin(a * theta) / np.where(small, 1.0, sin))
    q_mid = w0 * q0 + w1 * q1
    aa_mid = quat_wxyz_to_axis_angle(q_mid)
    t_mid = (1.0 - alpha) * trans[prv] + alpha * trans[nxt]
    out_aa = np.where(good[:, None, None], aa, aa_mid)
    out_t = np.where(good[:, None], trans, t_mid)
    return out_aa, out_t


def _ranges(frames: np.ndarray, limit: int = 5) -> str:
    """'40-51, 90' for sorted frame numbers, at most ``limit`` runs then '...'."""
    runs = []
    start = prev = int(frames[0])
    for f in frames[1:]:
        f = int(f)
        if f != prev + 1:
            runs.append((start, prev))
            start = f
        prev = f
    runs.append((start, prev))
    text = ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs[:limit])
    return text + (", ..." if len(runs) > limit else "")


# ----------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------

NO_PERSON = ("no person was found in any frame of the video. Check that one whole person "
             "(head to feet) is clearly visible, and that the frame range is right.")
"""The message when no frame of a clip can be fitted."""


def observed_frames(seq: PoseSequence) -> np.ndarray:
    """(T,) bool: a person was found and all 33 body landmarks (2D and world) are finite."""
    with np.errstate(invalid="ignore"):
        return (np.asarray(seq.present, bool)
                & np.all(np.isfinite(np.asarray(seq.body_world)[..., :3]), axis=(-1, -2))
                & np.all(np.isfinite(np.asarray(seq.body_2d)), axis=(-1, -2)))


def fit_sequence(
    seq: PoseSequence,
    K: np.ndarray,
    *,
    settings: FitSettings = FitSettings(),
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> FitResult:
    """Fit the mannequin's pose, translation and shape to a clip's landmarks.

    Args:
        seq: the clip's landmarks (``core.landmarks.PoseSequence``).
        K: (3, 3) camera intrinsics in pixels (OpenCV convention).
        settings: see ``FitSettings``.
        progress: called as progress(done, total) with frames solved so far.
        should_cancel: polled between chunks of ``settings.chunk_frames``
            frames; when it returns True a CancelledError is raised.

    A frame is solved when a person is present and all 33 body landmarks are
    finite; other frames are bridged from their neighbours.

    Raises:
        MocapError: no frame holds a person.
        CancelledError: ``should_cancel`` returned True.
    """
    K = np.asarray(K, np.float64)
    T = seq.num_frames
    world_all = np.asarray(seq.body_world, np.float64)
    uv_all = np.asarray(seq.body_2d, np.float64)
    good = observed_frames(seq)
    if T == 0 or not good.any():
        raise MocapError(NO_PERSON)
    gidx = np.flatnonzero(good)
    warnings: list[str] = []

    betas = estimate_betas(world_all[gidx], settings.min_visibility) if settings.estimate_shape \
        else np.zeros(NUM_BETAS)
    rest = _Rest(mannequin_rest_joints(betas))

    hands_all = np.stack([np.asarray(seq.left_hand, np.float64), np.asarray(seq.right_hand, np.float64)], 1)
    aa = np.zeros((T, NUM_JOINTS, 3))
    trans = np.zeros((T, 3))
    reproj = np.full(T, np.nan)
    n = gidx.size
    chunk = max(1, int(settings.chunk_frames))
    for start in range(0, n, chunk):
        if should_cancel is not None and should_cancel():
            raise CancelledError("fitting cancelled by the user")
        sel = gidx[start:start + chunk]
        world = world_all[sel]
        uv = uv_all[sel]
        left, right = _assign_hands(uv[..., :2], hands_all[sel, 0], hands_all[sel, 1])
        vis = np.clip(np.nan_to_num(uv[..., 2]), 0.0, 1.0)
        aa[sel], trans[sel], reproj[sel] = _fit_frames(
            world[..., :3], uv[..., :2], vis, np.stack([left, right], 1), K, rest, settings)
        if progress is not None:
            progress(min(start + chunk, n), n)

    bridged = ~good
    if bridged.any():
        aa, trans = _bridge(aa, trans, good)
        frames = np.asarray(seq.frame_indices)[bridged]
        warnings.append(
            f"{frames.size} frame{'s' if frames.size != 1 else ''} without a person "
            f"{'were' if frames.size != 1 else 'was'} bridged by interpolation (frames {_ranges(frames)})")

    confidence = np.where(good, np.nan_to_num(uv_all[:, LIMB_LANDMARKS, 2]).mean(-1), 0.0)
    return FitResult(
        poses=aa.reshape(T, POSE_DIM).astype(np.float32),
        trans=trans.astype(np.float32),
        betas=np.asarray(betas, np.float32),
        rest_joints=rest.joints.astype(np.float32),
        confidence=np.clip(confidence, 0.0, 1.0).astype(np.float32),
        bridged=bridged,
        reprojection_error=reproj.astype(np.float32),
        warnings=warnings,
    )
