"""A root that stays put: planted feet where their image rays meet the floor.

A monocular fit takes the body's depth from MediaPipe's depth guess and the
figure's apparent size; both swing when the silhouette changes (a crouch
before a jump moved the fitted pelvis 10-15 cm in depth per frame while both
feet stood still). The picture is steadier: in the Z-up world on the floor
(``floor.reexpress``) the camera (``camera_extrinsics``,
``camera_intrinsics``) gives each pixel's ray, and a planted heel or toe lies
where the ray through its MediaPipe landmark (heel, foot index) meets the
plane at that landmark's resting height above the floor.

:func:`anchor_root` turns that into a root translation per frame, one
least-squares solve over the take (:func:`solve_correction`):

- anchors: each contact's landmark stands at one place, the median of
  where its rays meet the plane, weighed against the fit's median place by
  how well each is known along the ray (pixel noise and the landmark's
  height above the floor both stretch by 1 / the ray's slope, so a camera at
  foot height, whose rays graze the floor, moves the fit little). Each frame
  of the contact asks the root to carry the fitted landmark onto that place
  along its ray, fading where the landmark leaves its place in the image. A
  contact whose fitted soles sit far off the floor stands on something else
  (a box, a step): it is anchored at its own median height, which still
  removes the depth swings inside it.
- a smooth root: the corrected root's acceleration beyond the fit's slow
  movement in depth (its depth smoothed over a few frames) is penalised, so
  between contacts (steps, flight) the correction is a smooth curve that
  carries the fit's own path (a jump keeps its ballistic shape) without its
  quick depth swings, and without image evidence the root does not jump;
- a weak pull towards the fit where nothing else speaks.

Afterwards each frame-to-frame change of the correction (beyond cancelling
the fit's quick swings) is clamped, as GVHMR clamps its per-frame root
corrections: ``max_step`` without planted feet, ``max_anchored_step`` with.

numpy only (cleanup runs in Blender's Python too, which has no SciPy). Frames: the Z-up world of
``floor.reexpress`` (floor at Z = 0), metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import landmarks
from ..body.landmark_layout import landmarks_from_fk, rest_body_landmarks
from ..body.mannequin import forward_kinematics
from ..errors import MocapError
from ..motion import Motion
from .contacts import gaussian_smooth, segments

IMAGE_FEET = [landmarks.BODY[n] for n in ("left_heel", "left_foot_index", "right_heel", "right_foot_index")]
"""MediaPipe landmarks of the contact proxies in ``floor.PROXIES`` order (left heel, left toe, right heel,
right toe)."""


@dataclass(frozen=True)
class AnchorSettings:
    """How planted feet set the root's depth (sigmas weigh the terms of :func:`solve_correction`).

    Attributes:
        min_visibility: a foot landmark below this visibility is not used.
        height_sigma: metres; how far a planted landmark may sit from its
            resting height above the floor (shoe, floor estimate), shared by
            the frames of a contact.
        pixel_sigma: pixels; the landmarks' own noise, per frame.
        depth_sigma: the fit's depth uncertainty as a share of the distance
            from the camera (monocular depth errs by 5-15 %), ...
        depth_frames: ... over about this many frames (its error drifts slowly).
        hold_sigma: metres; how loosely each frame's root follows its planted
            landmarks' held place (loose: the smooth-root term rules frame
            to frame, the anchors the level; a stance of n frames pulls with
            n / hold_sigma^2).
        still_pixels: pixels; a planted landmark this far from its place in
            the image counts 0.6 times, twice as far 0.14 times (Gaussian).
        accel_sigma: metres per frame^2; the corrected root's acceleration
            beyond the fit's slow movement in depth, ...
        swing_sigma: ... which is its depth smoothed by a Gaussian of this
            many frames (0: the correction's own acceleration).
        support_tolerance: metres; a contact whose fitted landmark sits
            further than this from its resting height above the floor
            stands on something else and is anchored at its own height.
        max_step, max_anchored_step: metres per frame; the most the
            correction changes between two frames without / with planted feet.
        min_frames: a contact needs this many frames with a seen landmark
            to be anchored.
    """

    min_visibility: float = 0.5
    height_sigma: float = 0.03
    pixel_sigma: float = 3.0
    depth_sigma: float = 0.05
    depth_frames: float = 10.0
    hold_sigma: float = 0.3
    still_pixels: float = 4.0
    accel_sigma: float = 0.005
    swing_sigma: float = 4.0
    support_tolerance: float = 0.3
    max_step: float = 0.05
    max_anchored_step: float = 0.15
    min_frames: int = 3


@dataclass
class RootAnchor:
    """What :func:`anchor_root` did.

    Attributes:
        correction: (T, 3) metres added to the root translation, Z-up world.
        anchored: (T,) bool, frames with a planted foot anchored.
        anchors: (T, 4, 3) where each planted landmark is held: its
            contact's ray-plane place weighed against the fit's (NaN where
            not planted or not seen), Z-up world.
    """

    correction: np.ndarray
    anchored: np.ndarray
    anchors: np.ndarray


def foot_landmarks(motion: Motion) -> tuple[np.ndarray, np.ndarray]:
    """(T, 4, 3) the fitted body's heel and foot-index landmarks and (T, 3) its pelvis, world frame, metres."""
    pos, rot = forward_kinematics(motion.poses.astype(np.float64), motion.rest_joints, motion.trans)
    body, _ = landmarks_from_fk(pos, rot, np.asarray(motion.rest_joints, np.float64))
    return body[:, IMAGE_FEET], pos[:, 0]


def landmark_rest_heights(rest_joints: np.ndarray, v_template: np.ndarray | None) -> np.ndarray:
    """(4,) height of the heel and foot-index landmarks above the sole, rest pose, metres.

    The sole is the lowest vertex of the rest mesh, else the lowest of these
    landmarks (they sit on the sole's edge).
    """
    y = rest_body_landmarks(rest_joints)[IMAGE_FEET, 1]
    sole = float(np.min(v_template[:, 1])) if v_template is not None and len(v_template) else float(y.min())
    return np.maximum(y - sole, 0.0)


def camera_centre(motion: Motion) -> np.ndarray:
    """(3,) the camera's centre in the take's world (``camera_extrinsics`` camera-from-world; None: the origin)."""
    E = np.eye(4) if motion.camera_extrinsics is None else np.asarray(motion.camera_extrinsics, np.float64)
    return -E[:3, :3].T @ E[:3, 3]


def camera_rays(motion: Motion, uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera centre (3,) and unit rays (..., 3) through pixels ``uv`` (..., 2), world frame.

    ``camera_extrinsics`` is camera-from-world (OpenCV), ``camera_intrinsics`` K.
    """
    E = np.eye(4) if motion.camera_extrinsics is None else np.asarray(motion.camera_extrinsics, np.float64)
    K = np.asarray(motion.camera_intrinsics, np.float64)
    R = E[:3, :3]
    centre = camera_centre(motion)
    cam = np.stack([(uv[..., 0] - K[0, 2]) / K[0, 0], (uv[..., 1] - K[1, 2]) / K[1, 1], np.ones(uv.shape[:-1])], -1)
    rays = cam @ R  # R^T applied to each row
    return centre, rays / np.linalg.norm(rays, axis=-1, keepdims=True)


def ray_plane(centre: np.ndarray, rays: np.ndarray, height: np.ndarray | float) -> np.ndarray:
    """(..., 3) where rays (..., 3) from ``centre`` meet the plane Z = ``height``; NaN where they do not
    (parallel, or the plane behind the camera)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (np.asarray(height, np.float64) - centre[2]) / rays[..., 2]
    s = np.where(np.isfinite(s) & (s > 0), s, np.nan)
    return centre + s[..., None] * rays


def contact_anchors(points: np.ndarray, rays: np.ndarray, pixels: np.ndarray, centre: np.ndarray,
                    rest_height: float, focal: float, settings: AnchorSettings, ground: float = 0.0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One contact of one proxy: held place (n, 3), the root moves it asks for (n, 3) and their weights (n,).

    ``points`` (n, 3) fitted landmark over the contact's frames, ``rays``
    (n, 3) unit image rays (NaN where unseen), ``pixels`` (n, 2) the
    landmark in the image, ``focal`` pixels. The foot
    stands at one place: the median of its per-frame anchors, weighed
    against the fit's median place by their uncertainties along the ray.
    Each frame asks the root to carry the fitted landmark there along its
    ray (the image already fixes where across the ray it is; the fit's depth
    is what is in doubt). Weights are 0 (moves 0, place NaN) where the
    landmark is unseen or its ray misses the plane, and fade where the
    landmark has left its place in the image (a heel rising before the toes
    leave, a contact's last frames): it is no longer standing there.
    ``ground``: metres, the height of the level the contact stands on (``levels``; 0: the floor).
    """
    n = points.shape[0]
    fitted = np.median(points, axis=0)
    # Standing on its level, or on something the fit steadily puts higher or lower (a box no level holds).
    level = ground + rest_height
    support = level if abs(fitted[2] - level) <= settings.support_tolerance else float(fitted[2])
    anchors = ray_plane(centre, rays, support)
    ok = np.isfinite(anchors).all(axis=1)
    moves = np.zeros((n, 3))
    weights = np.zeros(n)
    if ok.sum() < settings.min_frames:
        return np.full((n, 3), np.nan), moves, weights
    place = np.median(anchors[ok], axis=0)
    ray = np.median(rays[ok], axis=0)
    ray /= np.linalg.norm(ray)
    slope = max(abs(float(ray[2])), 1e-3)
    distance = float(np.linalg.norm(place - centre))
    # A stance the fit holds off the floor (yet within the tolerance) is less surely on it.
    height = float(np.hypot(settings.height_sigma, 0.5 * (fitted[2] - support)))
    # Across the ray a pixel is distance / focal metres (the median of n frames: / sqrt(n)); on the
    # plane that and a height error stretch by 1 / slope along the ray.
    anchor_sigma = float(np.hypot(height, distance * settings.pixel_sigma / focal / np.sqrt(ok.sum()))) / slope
    fit_sigma = settings.depth_sigma * distance
    held = fitted + fit_sigma**2 / (fit_sigma**2 + anchor_sigma**2) * (place - fitted)
    along = np.sum((held - points[ok]) * rays[ok], axis=1)
    moves[ok] = along[:, None] * rays[ok]
    away = np.linalg.norm(pixels[ok] - np.median(pixels[ok], axis=0), axis=1) / settings.still_pixels
    weights[ok] = np.exp(-0.5 * away**2) / (settings.hold_sigma**2 + anchor_sigma**2 / ok.sum())
    return np.where(ok[:, None], held, np.nan), moves, weights


def solve_pentadiagonal(off2: np.ndarray, off1: np.ndarray, diag: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """(T, ...) x solving A x = ``rhs`` for a symmetric positive definite pentadiagonal A given by its
    (T,) ``diag``, first superdiagonal ``off1`` (A[t-1, t] at t) and second ``off2`` (A[t-2, t] at t).

    An LDL^T factorisation in O(T), numpy only (what SciPy's ``solveh_banded`` does, which Blender's
    Python lacks); a loop over frames in plain floats.
    """
    T = len(diag)
    a, b, c = [float(v) for v in diag], [float(v) for v in off1], [float(v) for v in off2]
    d = [0.0] * T   # D
    l1 = [0.0] * T  # L[t, t-1]
    l2 = [0.0] * T  # L[t, t-2]
    for t in range(T):
        if t >= 2:
            l2[t] = c[t] / d[t - 2]
        if t >= 1:
            l1[t] = (b[t] - (l2[t] * l1[t - 1] * d[t - 2] if t >= 2 else 0.0)) / d[t - 1]
        d[t] = a[t] - l1[t] ** 2 * (d[t - 1] if t >= 1 else 0.0) - l2[t] ** 2 * (d[t - 2] if t >= 2 else 0.0)
        if not d[t] > 0:  # also NaN: SciPy's solve raised here, and a NaN root would spread over the whole take
            raise MocapError(f"the root's correction could not be solved at frame {t} (a weight that is not "
                             "finite and positive); run the capture again with --no-cleanup and report it")
    rhs = np.asarray(rhs, np.float64)
    out = np.empty((T, int(np.prod(rhs.shape[1:], dtype=int))))
    for k, column in enumerate(rhs.reshape(T, -1).T):
        y = column.tolist()
        for t in range(1, T):  # L y = rhs
            y[t] -= l1[t] * y[t - 1] + (l2[t] * y[t - 2] if t >= 2 else 0.0)
        y = [v / dv for v, dv in zip(y, d)]
        for t in range(T - 2, -1, -1):  # L^T x = D^-1 y
            y[t] -= l1[t + 1] * y[t + 1] + (l2[t + 2] * y[t + 2] if t + 2 < T else 0.0)
        out[:, k] = y
    return out.reshape(rhs.shape)


def solve_correction(anchor_weight: np.ndarray, anchor_move: np.ndarray, prior_weight: np.ndarray,
                     accel_weight: float, swing: np.ndarray | None = None) -> np.ndarray:
    """(T, 3) root correction c minimising, per axis (weights in 1/m^2):

        sum_t anchor_weight[t] |c_t - anchor_move[t]|^2   planted feet on their anchors
      + sum_t prior_weight[t] |c_t|^2                      the fit, where nothing else speaks
      + accel_weight sum_t |D2 (c + swing)_t|^2            a smooth root

    ``swing`` (T, 3) is the fitted root's own quick swings in depth (None:
    zero), so the corrected root, not the correction, is what is smooth
    (D2 = second difference). A symmetric pentadiagonal system, solved
    banded in O(T).
    """
    T = anchor_weight.shape[0]
    diag = anchor_weight + prior_weight + 1e-9
    off1 = np.zeros(T)  # A[t-1, t], stored at column t
    off2 = np.zeros(T)  # A[t-2, t]
    rhs = anchor_weight[:, None] * anchor_move
    if T >= 3 and accel_weight > 0:
        for k, coefficient in enumerate((1.0, -2.0, 1.0)):
            diag[k:T - 2 + k] += accel_weight * coefficient**2
        off1[1:T - 1] += accel_weight * -2.0  # pairs (t, t+1) and (t+1, t+2) of each [1, -2, 1] triple
        off1[2:T] += accel_weight * -2.0
        off2[2:T] += accel_weight
        if swing is not None:
            d2 = swing[2:] - 2 * swing[1:-1] + swing[:-2]  # the term's gradient is D2^T D2 swing
            rhs[:-2] -= accel_weight * d2
            rhs[1:-1] += 2 * accel_weight * d2
            rhs[2:] -= accel_weight * d2
    return solve_pentadiagonal(off2, off1, diag, rhs)


def clamp_steps(correction: np.ndarray, anchored: np.ndarray, max_step: float, max_anchored_step: float
                ) -> np.ndarray:
    """(T, 3) correction whose frame-to-frame change is at most ``max_anchored_step`` into a frame with
    anchored feet (``anchored`` (T,)) and ``max_step`` into others; the clamped path keeps the
    original's mean."""
    if correction.shape[0] < 2:
        return correction
    step = np.diff(correction, axis=0)
    limit = np.where(anchored[1:], max_anchored_step, max_step)
    size = np.linalg.norm(step, axis=1)
    step *= np.minimum(1.0, limit / np.maximum(size, 1e-12))[:, None]
    out = np.concatenate([correction[:1], correction[:1] + np.cumsum(step, axis=0)])
    return out + np.mean(correction - out, axis=0)


def depth_swings(pelvis: np.ndarray, centre: np.ndarray, sigma: float) -> np.ndarray:
    """(T, 3) the root's quick movement along its camera ray: the pelvis's distance from the camera
    less its Gaussian-smoothed distance (``sigma`` frames), along the ray; zero when ``sigma`` is 0."""
    if sigma <= 0 or pelvis.shape[0] < 3:
        return np.zeros_like(pelvis)
    offset = pelvis - centre
    depth = np.linalg.norm(offset, axis=1)
    ray = offset / np.maximum(depth, 1e-9)[:, None]
    return (depth - gaussian_smooth(depth, sigma, truncate=4.0))[:, None] * ray


def can_anchor(motion: Motion) -> bool:
    """Whether :func:`anchor_root` has what it needs: the body's 2D landmarks, a camera, three frames."""
    kp = motion.keypoints_2d
    return (kp is not None and kp.shape[1] >= landmarks.NUM_BODY and motion.camera_intrinsics is not None
            and motion.num_frames >= 3)


def anchor_root(motion: Motion, contacts: np.ndarray, settings: AnchorSettings = AnchorSettings(),
                support: np.ndarray | None = None) -> RootAnchor:
    """The root correction that puts planted feet where the image and the floor put them.

    ``motion`` is in the Z-up world on the floor (``floor.reexpress``) with
    its camera; ``contacts`` (T, 4) bool in ``floor.PROXIES`` order; ``support``
    (T, 4) metres, the ground level each proxy stands on (``levels``; None: the floor). Returns
    a zero correction when the take has no 2D landmarks or camera, or no
    planted foot is seen. The motion is not changed: add ``correction`` to
    ``motion.trans``.
    """
    T = motion.num_frames
    empty = RootAnchor(np.zeros((T, 3)), np.zeros(T, bool), np.full((T, 4, 3), np.nan))
    kp = motion.keypoints_2d
    if kp is None or not can_anchor(motion):
        return empty
    feet = np.asarray(kp[:, IMAGE_FEET], np.float64)
    centre, rays = camera_rays(motion, feet[..., :2])
    rays[feet[..., 2] < settings.min_visibility] = np.nan
    rays[np.asarray(motion.bridged, bool)] = np.nan
    points, pelvis = foot_landmarks(motion)
    rest = landmark_rest_heights(motion.rest_joints, motion.v_template)
    focal = float(np.mean(np.diag(np.asarray(motion.camera_intrinsics, np.float64))[:2]))
    weight, move_sum = np.zeros(T), np.zeros((T, 3))
    anchors = np.full((T, 4, 3), np.nan)
    for p in range(4):
        for s, e in segments(contacts[:, p]):
            ground = 0.0 if support is None else float(np.median(support[s:e, p]))
            a, moves, w = contact_anchors(points[s:e, p], rays[s:e, p], feet[s:e, p, :2], centre,
                                          float(rest[p]), focal, settings, ground)
            anchors[s:e, p] = np.where((w > 0)[:, None], a, np.nan)
            weight[s:e] += w
            move_sum[s:e] += w[:, None] * moves
    anchored = weight > 0
    if not anchored.any():
        return empty
    move = move_sum / np.maximum(weight, 1e-12)[:, None]
    distance = np.linalg.norm(pelvis - centre, axis=1)
    prior = 1.0 / ((settings.depth_sigma * distance) ** 2 * settings.depth_frames)
    swing = depth_swings(pelvis, centre, settings.swing_sigma)
    correction = solve_correction(weight, move, prior, 1.0 / settings.accel_sigma**2, swing)
    # Clamped: what the correction adds beyond cancelling the fit's own quick swings in depth.
    correction = clamp_steps(correction + swing, anchored, settings.max_step, settings.max_anchored_step) - swing
    return RootAnchor(correction, anchored, anchors)
