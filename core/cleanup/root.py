"""A root that stays put: planted feet where their image rays meet the floor.

A monocular fit takes the body's depth from MediaPipe's depth guess and the
figure's apparent size; both swing when the silhouette changes (a crouch
before a jump moved the fitted pelvis 10-15 cm in depth per frame while both
feet stood still). The picture itself is steadier: in the Z-up world on the
floor (``floor.reexpress``), the camera (``camera_extrinsics``,
``camera_intrinsics``) gives each pixel's ray, and a planted heel or toe lies
where the ray through its MediaPipe landmark (heel, foot index) meets the
plane at that landmark's resting height above the floor.

:func:`anchor_root` turns that into a per-frame root translation:

1. Anchors. For each contact (``contacts.detect_contacts``) of each proxy,
   the ray-floor points of the frames where the landmark is seen; their
   median is where the foot stands. A stance whose fitted soles are far off
   the floor stands on something else (a box, a step; the fit puts it there
   steadily): it is anchored at its own median height instead, which still
   removes the depth swings inside it. The anchor's own uncertainty along the
   ray (``height_sigma`` over the ray's slope, plus pixel noise) is weighed
   against the fit's depth uncertainty (``depth_sigma``): a camera at foot
   height, whose rays graze the floor, moves the fit little.
2. Per frame, the correction that carries each planted landmark onto its
   held place: the stance's shift from the fit to the anchor plus the
   removal of the fit's frame-to-frame movement along the ray (the static
   joint's displacement, as in GVHMR's root correction); the image's own
   sideways movement (a heel that rolls) is kept. Several planted proxies:
   their weighted mean.
3. Between contacts (steps, flight) the correction is blended with a cubic
   Hermite curve whose end slopes continue the neighbouring contacts'
   (a constant drift carries straight through, so a jump keeps its ballistic
   shape); before the first and after the last contact it is held. A blend
   whose change would exceed ``max_step`` per frame is spread over more
   frames: without image evidence the root never jumps.

numpy only. Frames: the Z-up world of ``floor.reexpress`` (floor at Z = 0),
metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import landmarks
from ..body.landmark_layout import landmarks_from_fk, rest_body_landmarks
from ..body.mannequin import forward_kinematics
from ..motion import Motion
from .contacts import moving_average, segments

IMAGE_FEET = [landmarks.BODY[n] for n in ("left_heel", "left_foot_index", "right_heel", "right_foot_index")]
"""MediaPipe landmarks of the contact proxies in ``floor.PROXIES`` order (left heel, left toe, right heel,
right toe)."""


@dataclass(frozen=True)
class AnchorSettings:
    """How planted feet set the root's depth (sigmas are the terms' weights, see :func:`solve_correction`).

    Attributes:
        min_visibility: a foot landmark below this visibility is not used.
        height_sigma: metres; how far a planted landmark may sit from its
            resting height above the floor (shoe, floor estimate).
        pixel_sigma: pixels; the landmarks' own noise.
        depth_sigma: the fit's depth uncertainty as a share of the distance
            from the camera (monocular depth errs by 5-15 %), ...
        depth_frames: ... over about this many frames (its error drifts slowly).
        static_sigma: metres; how much a planted landmark may move along its
            ray between two frames with the body (faster than ``swing_frames``).
        still_pixels: a planted landmark that moves further than this in the
            image between two frames is not standing still there.
        swing_frames: frames of the moving average whose shared movement is
            left alone: slower drifts are the anchors' and the fit's.
        accel_sigma: metres per frame^2; the correction's own acceleration.
        support_tolerance: metres; a contact whose fitted landmark sits
            further than this from its resting height above the floor
            stands on something else and is anchored at its own height.
        max_step, max_static_step: metres per frame; the most the correction
            changes between two frames without / with a planted foot.
        min_frames: a contact needs this many frames with a seen landmark
            to be anchored.
    """

    min_visibility: float = 0.5
    height_sigma: float = 0.03
    pixel_sigma: float = 3.0
    depth_sigma: float = 0.05
    depth_frames: float = 10.0
    static_sigma: float = 0.003
    still_pixels: float = 3.0
    swing_frames: int = 5
    accel_sigma: float = 0.005
    support_tolerance: float = 0.3
    max_step: float = 0.02
    max_static_step: float = 0.15
    min_frames: int = 5


@dataclass
class RootAnchor:
    """What :func:`anchor_root` did.

    Attributes:
        correction: (T, 3) metres added to the root translation, Z-up world.
        anchored: (T,) bool, frames whose correction comes from planted feet.
        anchors: (T, 4, 3) where each planted landmark is held (NaN where not
            planted or not anchored), Z-up world.
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


def camera_rays(motion: Motion, uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera centre (3,) and unit rays (..., 3) through pixels ``uv`` (..., 2), world frame.

    ``camera_extrinsics`` is camera-from-world (OpenCV), ``camera_intrinsics`` K.
    """
    E = np.eye(4) if motion.camera_extrinsics is None else np.asarray(motion.camera_extrinsics, np.float64)
    K = np.asarray(motion.camera_intrinsics, np.float64)
    R, t = E[:3, :3], E[:3, 3]
    centre = -R.T @ t
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


def stance_shift(points: np.ndarray, rays: np.ndarray, centre: np.ndarray, rest_height: float, focal: float,
                 settings: AnchorSettings) -> tuple[np.ndarray, float] | None:
    """One contact of one proxy: (shift (3,) from the fitted place to the anchor, its sigma along the ray, m).

    ``points`` (n, 3) fitted landmark over the contact's frames, ``rays``
    (n, 3) its image rays (NaN where unseen), ``focal`` pixels. None when too
    few frames see it or its rays miss the plane.
    """
    seen = np.isfinite(rays).all(axis=1)
    if seen.sum() < settings.min_frames:
        return None
    fitted = np.median(points, axis=0)
    # Standing on the floor, or on something the fit steadily puts higher or lower (a box).
    support = rest_height if abs(fitted[2] - rest_height) <= settings.support_tolerance else fitted[2]
    on_plane = ray_plane(centre, rays[seen], support)
    ok = np.isfinite(on_plane).all(axis=1)
    if ok.sum() < settings.min_frames:
        return None
    anchor = np.median(on_plane[ok], axis=0)
    ray = np.median(rays[seen][ok], axis=0)
    ray /= np.linalg.norm(ray)
    distance = float(np.linalg.norm(anchor - centre))
    slope = max(abs(float(ray[2])), 1e-3)
    # A stance the fit holds off the floor (yet within the tolerance) is less surely on it.
    height_sigma = float(np.hypot(settings.height_sigma, 0.5 * (fitted[2] - support)))
    # Across the ray a pixel is distance / focal metres (the median of n frames: / sqrt(n)); on the
    # plane both that and a height error stretch by 1 / slope along the ray.
    pixel = distance * settings.pixel_sigma / focal / np.sqrt(ok.sum())
    sigma = float(np.hypot(height_sigma, pixel)) / slope
    return anchor - fitted, sigma


def static_steps(points: np.ndarray, pelvis: np.ndarray, rays: np.ndarray, still: np.ndarray,
                 swing_frames: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The fitted body's frame-to-frame movement along the rays of its planted landmarks.

    A planted foot does not move; when the fit moves it along its ray from
    one frame to the next together with the pelvis's swing (its step less
    the mean over ``swing_frames``), the whole body moved in depth: the root's
    depth error (GVHMR removes the same displacement of
    joints it predicts static). The part both share is that error; a foot
    moving alone is the leg's (foot lock bends the leg for it) and a pelvis
    moving alone is real (a crouch). Returns (count (T,), sum of the shared
    along-ray steps (T, 3)) per frame pair (t - 1, t); row 0 is empty.

    Args:
        points: (T, P, 3) fitted landmarks; pelvis: (T, 3); rays: (T, P, 3)
            unit image rays (NaN where unseen); still: (T, P) bool, the
            landmark is planted and stands still in the image from the
            previous frame to this one.
    """
    T = points.shape[0]
    count = np.zeros(T)
    total = np.zeros((T, 3))
    if T < 2:
        return count, total
    both = still[1:] & np.isfinite(rays[1:]).all(-1) & np.isfinite(rays[:-1]).all(-1)
    ray = np.where(both[..., None], rays[1:], 0.0)
    foot = np.sum(np.diff(points, axis=0) * ray, axis=-1)
    # The pelvis's swings: its step less its local mean (walking carries it along the ray too).
    pelvis_step = np.diff(pelvis, axis=0)
    pelvis_step = pelvis_step - moving_average(pelvis_step, swing_frames)
    body = np.sum(pelvis_step[:, None, :] * ray, axis=-1)
    shared = np.where(foot * body > 0, np.sign(foot) * np.minimum(np.abs(foot), np.abs(body)), 0.0)
    count[1:] = both.sum(axis=1)
    total[1:] = (shared[..., None] * ray).sum(axis=1)
    return count, total


def solve_correction(anchor_weight: np.ndarray, anchor_target: np.ndarray, static_weight: np.ndarray,
                     static_step: np.ndarray, prior_weight: np.ndarray, accel_weight: float) -> np.ndarray:
    """(T, 3) root correction c minimising, per axis (weights in 1/m^2):

        sum_t anchor_weight[t] |c_t - anchor_target[t]|^2          planted feet on their anchors
      + sum_t static_weight[t] |c_t - c_{t-1} + static_step[t]|^2  planted feet do not move
      + sum_t prior_weight[t] |c_t|^2                              the fit, where nothing else speaks
      + accel_weight sum_t |c_{t+1} - 2 c_t + c_{t-1}|^2           a smooth correction

    ``static_step`` (T, 3) is the mean along-ray step of the frame pair
    (t - 1, t). A symmetric pentadiagonal system, solved banded in O(T).
    """
    from scipy.linalg import solveh_banded

    T = anchor_weight.shape[0]
    diag = anchor_weight + prior_weight + 1e-9
    off1 = np.zeros(T)  # A[t-1, t], stored at column t
    off2 = np.zeros(T)  # A[t-2, t]
    rhs = anchor_weight[:, None] * anchor_target
    w = static_weight[1:]
    diag[1:] += w
    diag[:-1] += w
    off1[1:] -= w
    rhs[1:] -= w[:, None] * static_step[1:]
    rhs[:-1] += w[:, None] * static_step[1:]
    if T >= 3 and accel_weight > 0:
        for k, coefficient in enumerate((1.0, -2.0, 1.0)):
            diag[k:T - 2 + k] += accel_weight * coefficient**2
        off1[1:T - 1] += accel_weight * (1.0 * -2.0)   # rows (t, t+1) of each [1, -2, 1] triple
        off1[2:T] += accel_weight * (-2.0 * 1.0)
        off2[2:T] += accel_weight * 1.0
    bands = np.stack([off2, off1, diag])  # upper form: row 0 = 2nd superdiagonal
    return solveh_banded(bands, rhs)


def clamp_steps(correction: np.ndarray, evidence: np.ndarray, max_step: float, max_static_step: float) -> np.ndarray:
    """(T, 3) correction whose frame-to-frame change is at most ``max_static_step`` where planted feet
    give evidence (``evidence`` (T,) for the pair (t - 1, t)) and ``max_step`` elsewhere."""
    if correction.shape[0] < 2:
        return correction
    step = np.diff(correction, axis=0)
    limit = np.where(evidence[1:], max_static_step, max_step)
    size = np.linalg.norm(step, axis=1)
    step *= np.minimum(1.0, limit / np.maximum(size, 1e-12))[:, None]
    # Integrate from the frame the solution trusts most (the middle), so clamping does not drift one end.
    out = np.concatenate([correction[:1], correction[:1] + np.cumsum(step, axis=0)])
    return out + np.mean(correction - out, axis=0)


def anchor_root(motion: Motion, contacts: np.ndarray, settings: AnchorSettings = AnchorSettings()) -> RootAnchor:
    """The root correction that puts planted feet where the image and the floor put them.

    ``motion`` is in the Z-up world on the floor (``floor.reexpress``) with
    its camera; ``contacts`` (T, 4) bool in ``floor.PROXIES`` order. Returns
    a zero correction when the take has no 2D landmarks or camera, or no
    contact could be anchored. The motion is not changed: add
    ``correction`` to ``motion.trans``.
    """
    T = motion.num_frames
    empty = RootAnchor(np.zeros((T, 3)), np.zeros(T, bool), np.full((T, 4, 3), np.nan))
    kp = motion.keypoints_2d
    if kp is None or kp.shape[1] < landmarks.NUM_BODY or motion.camera_intrinsics is None or T < 3:
        return empty
    feet = np.asarray(kp[:, IMAGE_FEET], np.float64)
    centre, rays = camera_rays(motion, feet[..., :2])
    rays[feet[..., 2] < settings.min_visibility] = np.nan
    rays[np.asarray(motion.bridged, bool)] = np.nan
    points, pelvis = foot_landmarks(motion)
    rest = landmark_rest_heights(motion.rest_joints, motion.v_template)
    focal = float(np.mean(np.diag(np.asarray(motion.camera_intrinsics, np.float64))[:2]))
    anchor_weight, anchor_sum = np.zeros(T), np.zeros((T, 3))
    held = np.full((T, 4, 3), np.nan)
    for p in range(4):
        for s, e in segments(contacts[:, p]):
            found = stance_shift(points[s:e, p], rays[s:e, p], centre, float(rest[p]), focal, settings)
            if found is None:
                continue
            shift, sigma = found
            # The anchor's error is the stance's, not each frame's: the stance as a whole weighs 1 / sigma^2.
            w = 1.0 / (sigma**2 * (e - s))
            anchor_weight[s:e] += w
            anchor_sum[s:e] += w * shift
            held[s:e, p] = np.median(points[s:e, p], axis=0) + shift
    anchored = anchor_weight > 0
    # Still: planted on both frames and not moving in the image (a contact's first and last frames
    # often catch the foot landing or leaving).
    moved = np.zeros(contacts.shape, bool)
    moved[1:] = np.linalg.norm(np.diff(feet[..., :2], axis=0), axis=-1) > settings.still_pixels
    still = contacts & np.roll(contacts, 1, axis=0) & ~moved
    still[0] = False
    count, step_sum = static_steps(points, pelvis, rays, still, settings.swing_frames)
    if not anchored.any() and not count.any():
        return empty
    target = np.where(anchored[:, None], anchor_sum / np.maximum(anchor_weight, 1e-12)[:, None], 0.0)
    distance = np.linalg.norm(np.nanmedian(points, axis=1) - centre, axis=1)
    fit_sigma = settings.depth_sigma * np.where(np.isfinite(distance), distance, np.nanmedian(distance))
    prior = 1.0 / (fit_sigma**2 * settings.depth_frames)
    mean_step = step_sum / np.maximum(count, 1)[:, None]
    # Only the swings: a slow shared drift (a lean, the fit's depth wandering over seconds) is left to
    # the anchors and the fit, else cancelling it step by step adds up.
    has = (count > 0).astype(np.float64)
    local = moving_average(mean_step * has[:, None], settings.swing_frames)
    mean_step = mean_step - local / np.maximum(moving_average(has[:, None], settings.swing_frames), 1e-9)
    correction = solve_correction(anchor_weight, target, (count > 0) / settings.static_sigma**2, mean_step,
                                  prior, 1.0 / settings.accel_sigma**2)
    correction = clamp_steps(correction, count > 0, settings.max_step, settings.max_static_step)
    return RootAnchor(correction, anchored, held)
