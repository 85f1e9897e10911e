"""The per-frame closed-form solve: joint rotations from landmark directions, numpy, all frames at once.

Body segment frames are built from landmark directions and turned into SMPL-X
joint rotations (local = R_parent_global^T @ R_global); the translation comes
from ``core.camera.solve_translation``. ``core.fit.ik`` drives it over a clip.

Frames: landmarks come in the OpenCV camera frame (x right, y down, z away
from the camera). The fitted global orient maps the body's model frame (Y up,
facing +Z, left = +X) into that camera frame, so an upright person facing the
camera gets ~180 deg about X; ``trans`` is in metres in the camera frame.
"""

from __future__ import annotations

import numpy as np

from ..body.landmark_layout import FINGERS, landmarks_from_fk, rest_body_landmarks, rest_hand_landmarks
from ..body.mannequin import forward_kinematics
from ..camera import solve_translation, unproject
from ..landmarks import BODY
from ..rotations import axis_angle_to_matrix, matrix_to_axis_angle, rotation_between
from ..skeleton import JOINT_INDEX, NUM_JOINTS, PARENTS
from .result import mean_reprojection_error

B = BODY
J = JOINT_INDEX


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
# The per-frame solve
# ----------------------------------------------------------------------------

class RestFrames:
    """Rest directions the fit matches observations against, for one body (rest joints (55, 3))."""

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
    return unproject(hand[..., :2], Z, K)


def assign_hands(uv: np.ndarray, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Swap the hands where each sits nearer the other pose wrist (2D), against handedness mix-ups.

    uv (N, 33, 2) body landmarks, pixels; left, right (N, 21, 3) hand landmarks.
    Returns (left, right), swapped per frame where that fits better."""
    def dist(hand, k):
        return np.nan_to_num(np.linalg.norm(hand[:, 0, :2] - uv[:, k], axis=-1), nan=0.0)

    keep = dist(left, B["left_wrist"]) + dist(right, B["right_wrist"])
    swap = dist(left, B["right_wrist"]) + dist(right, B["left_wrist"])
    s = (swap < keep)[:, None, None]
    return np.where(s, right, left), np.where(s, left, right)


def _pose_trunk(G: np.ndarray, P: np.ndarray, rest: RestFrames) -> None:
    """Global rotations (in place in G (N, 55, 3, 3)) of pelvis, spine, collars, neck, head, jaw and eyes."""
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


def _pose_limbs(G: np.ndarray, P: np.ndarray, rest: RestFrames, straight_limb_blend: float) -> None:
    """Global rotations (in place in G) of arms, legs and feet; needs the trunk's."""
    forward = G[:, J["spine3"]][..., :, 2]       # chest +Z
    backward = -G[:, 0][..., :, 2]              # pelvis -Z
    L = rest.body
    for side in ("left", "right"):
        sh, el, wr = B[f"{side}_shoulder"], B[f"{side}_elbow"], B[f"{side}_wrist"]
        G[:, J[f"{side}_shoulder"]], G[:, J[f"{side}_elbow"]] = _limb(
            G[:, J[f"{side}_collar"]], P[:, el] - P[:, sh], P[:, wr] - P[:, el],
            L[el] - L[sh], L[wr] - L[el], np.array([0.0, 0.0, 1.0]), forward, straight_limb_blend)
        hp, kn, an = B[f"{side}_hip"], B[f"{side}_knee"], B[f"{side}_ankle"]
        G[:, J[f"{side}_hip"]], G[:, J[f"{side}_knee"]] = _limb(
            G[:, 0], P[:, kn] - P[:, hp], P[:, an] - P[:, kn],
            L[kn] - L[hp], L[an] - L[kn], np.array([0.0, 0.0, -1.0]), backward, straight_limb_blend)
        heel, toe = B[f"{side}_heel"], B[f"{side}_foot_index"]
        G[:, J[f"{side}_ankle"]] = _rotation_from_frames(
            P[:, toe] - P[:, heel], P[:, an] - P[:, heel], L[toe] - L[heel], L[an] - L[heel])
        G[:, J[f"{side}_foot"]] = G[:, J[f"{side}_ankle"]]


def _pose_hands(G: np.ndarray, P: np.ndarray, hands: np.ndarray, t_mid: np.ndarray, K: np.ndarray,
                rest: RestFrames, fit_hands: bool) -> None:
    """Global rotations (in place in G) of wrists and fingers; the hands' depths come from ``t_mid`` (N, 3)."""
    L = rest.body
    for h, side in enumerate(("left", "right")):
        wr, pk, ix = B[f"{side}_wrist"], B[f"{side}_pinky"], B[f"{side}_index"]
        wrist = _rotation_from_frames(
            0.5 * (P[:, pk] + P[:, ix]) - P[:, wr], P[:, ix] - P[:, pk],
            0.5 * (L[pk] + L[ix]) - L[wr], L[ix] - L[pk])
        Hr = rest.hand[h]
        hand = hands[:, h]
        present = np.all(np.isfinite(hand), axis=(-1, -2)) & fit_hands
        if present.any():
            pts = _backproject_hand(np.nan_to_num(hand), P[:, wr, 2] + t_mid[:, 2], K)
            from_hand = _rotation_from_frames(pts[:, 9] - pts[:, 0], pts[:, 5] - pts[:, 17],
                                              Hr[9] - Hr[0], Hr[5] - Hr[17])
            wrist = np.where(present[:, None, None], from_hand, wrist)
        G[:, J[f"{side}_wrist"]] = wrist
        # The five fingers at once, one knuckle level at a time (F = 5 on axis 1).
        base = 1 + 4 * np.arange(len(FINGERS))
        parent = np.repeat(wrist[:, None], len(FINGERS), axis=1)                 # (N, F, 3, 3)
        for k in (1, 2, 3):
            jj = [J[f"{side}_{finger}{k}"] for finger in FINGERS]
            if present.any():
                rest_dir = (parent @ (Hr[base + k] - Hr[base + k - 1])[..., None])[..., 0]
                g = rotation_between(rest_dir, pts[:, base + k] - pts[:, base + k - 1]) @ parent  # as _swing
                G[:, jj] = np.where(present[:, None, None, None], g, parent)
            else:
                G[:, jj] = parent
            parent = G[:, jj]


def fit_frames(world: np.ndarray, uv: np.ndarray, vis: np.ndarray, hands: np.ndarray, K: np.ndarray,
               rest: RestFrames, *, straight_limb_blend: float, fit_hands: bool, min_visibility: float,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve N good frames. world (N, 33, 3) metres, uv (N, 33, 2) pixels, vis (N, 33), hands (N, 2, 21, 3).

    ``straight_limb_blend``, ``fit_hands`` and ``min_visibility``: see ``core.fit.ik.FitSettings``.
    Returns local axis-angle (N, 55, 3), trans (N, 3), reprojection error (N,) pixels.
    """
    N = world.shape[0]
    G = np.broadcast_to(np.eye(3), (N, NUM_JOINTS, 3, 3)).copy()
    _pose_trunk(G, world, rest)
    _pose_limbs(G, world, rest, straight_limb_blend)
    # Translation first: the hands' depths come from it.
    t_mid = solve_translation(world, uv, vis, K)
    _pose_hands(G, world, hands, t_mid, K, rest, fit_hands)

    parents = np.array([max(p, 0) for p in PARENTS])
    local = np.swapaxes(G[:, parents], -1, -2) @ G
    local[:, 0] = G[:, 0]
    aa = matrix_to_axis_angle(local)

    # FK pelvis = J_0 + trans, mid-hip = R_0 (mid_hip_rest - J_0) + J_0 + trans.
    trans = t_mid - rest.joints[0] - _mat_vec(G[:, 0], rest.mid_hip - rest.joints[0])

    pos, rot = forward_kinematics(aa, rest.joints, trans)
    body, _ = landmarks_from_fk(pos, rot, rest.joints)
    return aa, trans, mean_reprojection_error(body, uv, vis, K, min_visibility)
