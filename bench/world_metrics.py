"""World-frame and like-for-like figures of the accuracy benchmark (numpy only).

Joints are (T, J, 3) metres in the OpenCV camera frame of the render camera
(x right, y down, z forward) unless stated, the 12 limb joints in
``core.skeleton.LIMB_JOINTS`` order; the pelvis is the mid-hip of those joints
(for the truth and for every method alike). Foot points are (T, 4, 3): left
heel (ankle joint), left toe (toe-base / SMPL-X foot joint), right heel, right
toe. NaN rows are frames a method does not hold.

- :func:`offset_free_pa_mpjpe`: PA-MPJPE after removing each joint's constant
  definition offset (SMPL-X joint centres vs the truth's bone heads vs
  MediaPipe's landmarks), the offset expressed in the truth's body frame.
- :func:`windowed_world_errors`: W-MPJPE and WA-MPJPE over 100-frame windows
  and the root (pelvis) trajectory error, as GVHMR and WHAM report them,
  and how far W-MPJPE's two-frame alignment turns the windows off their
  best alignment.
- :func:`contact_skate`: foot skate on the TRUE contacts.
- :func:`penetration`, :func:`sole_heights`, :func:`contact_height`: feet below (or above) a floor plane.
- :func:`angle_degrees`, :func:`tilt_from_level_degrees`: the up direction.
- :func:`accel_ratio`: the pelvis's mean acceleration against the truth's.
"""

from __future__ import annotations

import numpy as np

HIPS = (6, 7)        # left_hip, right_hip within LIMB_JOINTS
SHOULDERS = (0, 1)   # left_shoulder, right_shoulder
ANKLES = (10, 11)    # left_ankle, right_ankle
LEVEL_UP_CAM = np.array([0.0, -1.0, 0.0])
"""World up in the camera frame of a level camera (image up)."""


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Similarity (scale, rotation, translation) taking ``src`` onto ``dst`` in least squares.

    ``src``, ``dst``: (..., N, 3). Returns scale (...,), R (..., 3, 3) proper
    (det +1, never a reflection) and t (..., 3) with ``dst ~ scale * R @ src + t``.
    """
    mu_s, mu_d = src.mean(-2, keepdims=True), dst.mean(-2, keepdims=True)
    s0, d0 = src - mu_s, dst - mu_d
    H = np.swapaxes(s0, -1, -2) @ d0                        # (..., 3, 3) cross-covariance
    U, S, Vt = np.linalg.svd(H)
    V, Ut = np.swapaxes(Vt, -1, -2), np.swapaxes(U, -1, -2)
    d = np.sign(np.linalg.det(V @ Ut))
    D = np.broadcast_to(np.eye(3), H.shape).copy()
    D[..., 2, 2] = d
    R = V @ D @ Ut
    scale = (S * np.diagonal(D, axis1=-2, axis2=-1)).sum(-1) / (s0 ** 2).sum((-1, -2))
    t = mu_d[..., 0, :] - scale[..., None] * (R @ mu_s[..., 0, :, None])[..., 0]
    return scale, R, t


def apply_similarity(scale: np.ndarray, R: np.ndarray, t: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``scale * R @ p + t`` for (..., N, 3) points and a transform with matching leading dimensions."""
    return scale[..., None, None] * (points @ np.swapaxes(R, -1, -2)) + t[..., None, :]


def pelvis(joints: np.ndarray) -> np.ndarray:
    """(T, 3) mid-hip of (T, 12, 3) limb joints."""
    return joints[:, list(HIPS)].mean(1)


def body_axes(joints: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rows = the body's left, up and forward axes in the joints' frame, from (T, 12, 3) limb joints.

    Left: right hip to left hip; up: mid-hip to mid-shoulder, made
    perpendicular to left; forward = left x up.
    """
    left = joints[:, HIPS[0]] - joints[:, HIPS[1]]
    left /= np.linalg.norm(left, axis=-1, keepdims=True)
    up = joints[:, list(SHOULDERS)].mean(1) - pelvis(joints)
    up -= (up * left).sum(-1, keepdims=True) * left
    up /= np.linalg.norm(up, axis=-1, keepdims=True)
    return np.stack([left, up, np.cross(left, up)], axis=1)


def offset_free_pa_mpjpe(pred: np.ndarray, gt: np.ndarray, rounds: int = 1000) -> tuple[float, np.ndarray]:
    """PA-MPJPE (input units) once each joint's constant offset in the truth's body frame is removed.

    Model: per frame t, a similarity A_t of the prediction equals the truth
    plus a per-joint offset that is constant in the truth's body frame B_t
    (:func:`body_axes`): ``A_t(pred_tj) = gt_tj + B_t^T c_j``. A_t and c are
    fitted together by alternating least squares; then the offsets are taken
    off and the usual per-frame PA-MPJPE is measured. The same procedure for
    every method, so joint-definition offsets (a bone head vs a joint centre
    vs a landmark) no longer count, and everything that varies over the clip
    still does.

    One pattern of offsets is left out of c: the body's own mean shape (in
    the body frame, centred), since offsets along it only make the body
    larger or smaller, which the per-frame scale of the alignment already
    takes; left free, c would shrink the target and the noise with it. The
    offset step is over-relaxed by 1.5 (plain alternation creeps, about 100
    rounds per decade on exact offsets) and stops when the offsets settle
    (a step under 1e-9 of the input unit) or after ``rounds``.
    Returns (error, offsets (J, 3) in the body frame: left, up, forward).
    """
    B = body_axes(gt)
    shape = np.einsum("tki,tji->tjk", B, gt - gt.mean(1, keepdims=True)).mean(0)  # (J, 3) mean centred shape
    shape /= np.linalg.norm(shape)
    c = np.zeros(gt.shape[1:])
    aligned = pred
    for _ in range(rounds):
        target = gt + np.einsum("tki,jk->tji", B, c)           # B_t^T c_j, in the camera frame
        aligned = apply_similarity(*umeyama(pred, target), pred)
        estimate = np.einsum("tki,tji->tjk", B, aligned - gt).mean(0)  # B_t (residual), mean over frames
        estimate -= (estimate * shape).sum() * shape
        step = 1.5 * (estimate - c)
        c = c + step
        if np.abs(step).max() < 1e-9:
            break
    corrected = aligned - np.einsum("tki,jk->tji", B, c)
    final = apply_similarity(*umeyama(corrected, gt), corrected)
    return float(np.linalg.norm(final - gt, axis=-1).mean()), c


def window_starts(frames: int, window: int) -> list[int]:
    """Starts of consecutive ``window``-frame windows over ``frames``; a remainder of at least half a
    window gets one more window ending on the last frame; fewer frames than a window: one window of all."""
    if frames <= window:
        return [0]
    starts = list(range(0, frames - window + 1, window))
    if frames - (starts[-1] + window) >= window // 2:
        starts.append(frames - window)
    return starts


def windowed_world_errors(pred: np.ndarray, gt: np.ndarray, window: int = 100) -> dict[str, float]:
    """W-MPJPE, WA-MPJPE and root trajectory error over windows (input units), as GVHMR/WHAM report them,
    and how far W-MPJPE's alignment turns each window off its best one (degrees).

    ``pred``, ``gt``: (T, J, 3) in any fixed world frames (a static camera's
    frame is one); the prediction's frame need not match the truth's. Each
    window (:func:`window_starts`) is aligned on its own:

    - ``w_mpjpe``: a similarity fitted on the window's first two frames' joints
      only, applied to the whole window; mean joint error. Drift of the
      root, of the orientation and of the scale after those two frames counts.
    - ``wa_mpjpe``: one similarity fitted on the whole window.
    - ``root_error``: the pelvis (mid-hip) after the ``w_mpjpe`` alignment.
    - ``align_turn_deg``: the angle between the rotations of those two
      alignments. A body turned wrongly in the two frames (its heading, most
      often) turns the whole window's path with it, and W-MPJPE then grows
      with the distance travelled though the path itself is right: this
      tells that part of W-MPJPE from an error in the path (root placement).
    Errors are means over all frames of all windows; the turn, the mean over windows.
    """
    T = len(gt)
    w_err, wa_err, root_err, turns = [], [], [], []
    for s in window_starts(T, window):
        p, g = pred[s:s + window], gt[s:s + window]
        first = umeyama(p[:2].reshape(-1, 3), g[:2].reshape(-1, 3))
        pw = apply_similarity(*first, p.reshape(-1, 3)).reshape(p.shape)
        w_err.append(np.linalg.norm(pw - g, axis=-1).mean(-1))
        root_err.append(np.linalg.norm(pelvis(pw) - pelvis(g), axis=-1))
        whole = umeyama(p.reshape(-1, 3), g.reshape(-1, 3))
        pa = apply_similarity(*whole, p.reshape(-1, 3)).reshape(p.shape)
        wa_err.append(np.linalg.norm(pa - g, axis=-1).mean(-1))
        turns.append(rotation_angle_degrees(first[1], whole[1]))
    return {"w_mpjpe": float(np.concatenate(w_err).mean()), "wa_mpjpe": float(np.concatenate(wa_err).mean()),
            "root_error": float(np.concatenate(root_err).mean()), "align_turn_deg": float(np.mean(turns))}


def rotation_angle_degrees(R1: np.ndarray, R2: np.ndarray) -> float:
    """Angle of the rotation between two (3, 3) rotations, degrees."""
    # |R1 - R2|_F = 2 sqrt(2) sin(angle / 2): exact near 0, where the arccos of the trace is not
    half = np.linalg.norm(R1 - R2) / (2.0 * np.sqrt(2.0))
    return float(np.degrees(2.0 * np.arcsin(np.clip(half, 0.0, 1.0))))


def contact_skate(points_cam: np.ndarray, contact: np.ndarray, up_cam: np.ndarray) -> dict[str, float]:
    """Foot skate (input units per frame) of (T, P, 3) camera-frame foot points on (T, P) true contacts.

    A step counts when the point is planted in both frames. ``skate_cam``:
    mean 3D travel per frame (in the camera frame; a rigid change of frame
    keeps it). ``skate_world``: mean travel along the floor of the given world,
    the 3D step less its part along ``up_cam`` (that world's up, in the camera
    frame). ``max_jump``: the largest 3D step. NaN without a planted pair.
    """
    both = contact[1:] & contact[:-1]
    step = np.diff(points_cam, axis=0)
    if not both.any():
        nan = float("nan")
        return {"skate_cam": nan, "skate_world": nan, "max_jump": nan}
    up = up_cam / np.linalg.norm(up_cam)
    along_floor = step - (step @ up)[..., None] * up
    return {"skate_cam": float(np.linalg.norm(step, axis=-1)[both].mean()),
            "skate_world": float(np.linalg.norm(along_floor, axis=-1)[both].mean()),
            "max_jump": float(np.linalg.norm(step, axis=-1)[both].max())}


def sole_heights(points_cam: np.ndarray, rest_height: np.ndarray, up_cam: np.ndarray,
                 floor_point_cam: np.ndarray) -> np.ndarray:
    """(T, P) height of each foot point's sole above a floor plane, input units (negative = below).

    ``points_cam`` (T, P, 3) foot points; ``rest_height`` (P,): each point's
    height above its sole; the floor passes through ``floor_point_cam`` with
    the normal ``up_cam``.
    """
    up = up_cam / np.linalg.norm(up_cam)
    return (points_cam - floor_point_cam) @ up - rest_height[None, :]


def penetration(points_cam: np.ndarray, rest_height: np.ndarray, up_cam: np.ndarray,
                floor_point_cam: np.ndarray) -> tuple[float, float]:
    """(mean, max) depth of the soles below a floor plane (:func:`sole_heights`), over every frame and point.

    A sole above the floor counts 0 (the same figure as the take's own
    ``ground_penetration_mm``).
    """
    depth = np.maximum(-sole_heights(points_cam, rest_height, up_cam, floor_point_cam), 0.0)
    return float(depth.mean()), float(depth.max())


def contact_height(points_cam: np.ndarray, rest_height: np.ndarray, up_cam: np.ndarray,
                   floor_point_cam: np.ndarray, contact: np.ndarray) -> float:
    """Mean height of the soles above a floor plane (:func:`sole_heights`, input units) over the (T, P)
    ``contact`` points and frames (positive = floating); NaN without a contact."""
    if not contact.any():
        return float("nan")
    return float(sole_heights(points_cam, rest_height, up_cam, floor_point_cam)[contact].mean())


def depth_ratio(pred: np.ndarray, gt: np.ndarray) -> float:
    """Median over frames of the predicted pelvis's distance from the camera over the truth's ((T, 12, 3)
    camera-frame limb joints; 1 = right, above 1 = placed too far). Frames with a non-finite pelvis are skipped."""
    d_pred, d_gt = np.linalg.norm(pelvis(pred), axis=-1), np.linalg.norm(pelvis(gt), axis=-1)
    ok = np.isfinite(d_pred) & np.isfinite(d_gt) & (d_gt > 0)
    return float(np.median(d_pred[ok] / d_gt[ok])) if ok.any() else float("nan")


def lean_to_camera_degrees(joints: np.ndarray, ray: np.ndarray) -> np.ndarray:
    """(T,) degrees by which the body's axis (mid-ankle -> mid-shoulder of (T, 12, 3) limb joints) tips its top
    toward the camera, seen along ``ray`` (T, 3): the direction from the camera to the person (0 = the axis
    square to the ray; an upright person seen from above tips toward the camera by the view's elevation)."""
    axis = joints[:, list(SHOULDERS)].mean(1) - joints[:, list(ANKLES)].mean(1)
    axis = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    ray = ray / np.linalg.norm(ray, axis=-1, keepdims=True)
    return np.degrees(np.arcsin(np.clip(-(axis * ray).sum(-1), -1.0, 1.0)))


def lean_to_camera_error(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean over frames of the predicted body's tip toward the camera less the truth's (degrees, both seen
    along the ray to the true pelvis; :func:`lean_to_camera_degrees`). Negative: the body stands squarer to
    the ray than it does, so its image is fitted by a body farther away (the depth bias of issue 15)."""
    ray = pelvis(gt)
    diff = lean_to_camera_degrees(pred, ray) - lean_to_camera_degrees(gt, ray)
    return float(np.nanmean(diff)) if np.isfinite(diff).any() else float("nan")


def angle_degrees(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two directions, degrees."""
    cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def tilt_from_level_degrees(up_cam: np.ndarray) -> float:
    """How far a camera is from level: the angle between the world's up in its frame and image up."""
    return angle_degrees(up_cam, LEVEL_UP_CAM)


def accel_ratio(pred_root: np.ndarray, gt_root: np.ndarray) -> float:
    """Mean |second difference| of a (T, 3) root path over the truth's; frames with NaN are skipped."""
    a_p = np.linalg.norm(np.diff(pred_root, 2, axis=0), axis=-1)
    a_g = np.linalg.norm(np.diff(gt_root, 2, axis=0), axis=-1)
    ok = np.isfinite(a_p) & np.isfinite(a_g)
    return float(a_p[ok].mean() / a_g[ok].mean()) if ok.any() else float("nan")
