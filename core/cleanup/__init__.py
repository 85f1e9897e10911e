"""Motion cleanup: ground the take, plant the feet, remove jitter, and measure the result.

    result = clean_motion(motion, CleanupSettings(foot_lock="auto", smoothing_body=0.5))
    result.motion      # the cleaned take (Z-up world on the floor when ground=True)
    result.contacts    # (T, 4) bool: left heel, left toe, right heel, right toe
    result.quality     # name -> figure, also merged into result.motion.quality

Order of work: smooth (so speeds are not noise), find the floor and move the
take onto it, detect contacts, set the root's depth from the planted feet's
image rays (``root``), lock the feet (last, so nothing moves them again:
the lock holds each planted foot where the anchored root put it), measure. numpy only; works for any body with rest joints (mannequin
or SMPL-X), using joints as heel/toe proxies.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from .. import landmarks
from ..body.mannequin import forward_kinematics
from ..errors import MocapError
from ..motion import Motion
from ..rotations import angle_between_degrees
from .contact_pass import TORSO_METRES, ContactPassSettings, refine_contacts
from .contacts import (ContactSettings, behind_a_standing_leg, detect_contacts, flipping, foot_swaps, frames_at,
                       gaussian_smooth, horizontal_speed, median_filter, moving_average, running_max, still_feet)
from .flight import FlightSettings, ballistic_root
from .floor import (
    PROXY_INDEX,
    Floor,
    estimate_floor,
    floor_frame,
    ground_certainty,
    planted_level,
    proxy_heights,
    reexpress,
    support_certainty,
    tilt_cap_degrees,
)
from .footlock import leg_bones, lock_feet
from .levels import LEVEL_SPAN_SECONDS, LevelSettings, find_levels, level_under, raised_levels
from .quality import foot_skate_mm, jitter_mm, penetration_mm, step_figures
from .root import AnchorSettings, anchor_root, camera_centre, can_anchor
from .smoothing import one_euro_within_noise, one_euro_zero_phase, smooth_rotations

FOOT_LOCK_MODES = ("auto", "always", "off")
BODY = list(range(0, 22))
FACE = [22, 23, 24]
HANDS = list(range(25, 55))


@dataclass(frozen=True)
class CleanupSettings:
    """What cleanup does. Every field has a CLI flag and an add-on property.

    Attributes:
        ground: put the take on the floor estimated from the clip, in a Z-up
            world with the floor at Z = 0 (the camera moves with it, so the
            overlay on the video is unchanged). Off keeps the camera frame.
        foot_lock: "auto" plants heels and toes when they are low and slow,
            "always" whenever they are low, "off" never.
        smoothing_body, smoothing_hands, smoothing_face: 0 (off) to 1
            (strong) strength of the zero-phase One Euro filter on the body
            (and root translation), finger joints, and jaw/eyes/expression.
            For joint rotations and the root's path it is the most allowed:
            each joint (and axis of the root) gets the strongest filter up
            to it that changes it by no more than its own measured noise
            (see ``smoothing``), so a steady fit is left as it is.
        blend_frames: frames of the ramps into and out of each foot lock.
        contacts: detection thresholds.
        contact_pass: the post-pass over detected contacts (bridging, carrying, dropping: ``contact_pass``).
        anchor_root: move the root so planted feet stand where their image
            rays meet the floor (``root``): the root's depth follows the
            feet instead of the fit's depth guess. Off keeps the fit's depth.
        anchor: how planted feet set the root (``root.AnchorSettings``).
        lock_root: the foot lock moves the root along the floor so planted feet
            stay put (a monocular fit's depth drifts); off, the legs alone plant
            them and the root stays where the fit put it (several cameras saw it).
        levels: how ground levels are told apart (``levels.LevelSettings``).
        flight: when a span without contacts is a flight whose pelvis falls under gravity, and how its
            parabola is fitted (``flight.FlightSettings``); a filmed take's misread places in the picture
            follow it there.
    """

    ground: bool = True
    foot_lock: str = "auto"
    smoothing_body: float = 0.5
    smoothing_hands: float = 0.5
    smoothing_face: float = 0.5
    blend_frames: int = 4
    contacts: ContactSettings = field(default_factory=ContactSettings)
    contact_pass: ContactPassSettings = field(default_factory=ContactPassSettings)
    anchor_root: bool = True
    anchor: AnchorSettings = field(default_factory=AnchorSettings)
    lock_root: bool = True
    levels: LevelSettings = field(default_factory=LevelSettings)
    flight: FlightSettings = field(default_factory=FlightSettings)

    def __post_init__(self) -> None:
        if self.foot_lock not in FOOT_LOCK_MODES:
            raise MocapError(f"foot lock must be one of {', '.join(FOOT_LOCK_MODES)}, not '{self.foot_lock}'")
        for name in ("smoothing_body", "smoothing_hands", "smoothing_face"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise MocapError(f"{name.replace('_', ' ')} must be between 0 and 1, got {value}")


@dataclass
class CleanupResult:
    """The cleaned take and what was found on the way."""

    motion: Motion
    contacts: np.ndarray
    floor: Floor
    quality: dict[str, float]
    warnings: list[str] = field(default_factory=list)


def smooth_motion(motion: Motion, settings: CleanupSettings) -> None:
    """Smooth rotations, translation and expression in place (per body-part strength)."""
    rate = float(motion.fps)
    rot = motion.joint_rotations().astype(np.float64).copy()
    for joints, strength in ((BODY, settings.smoothing_body), (HANDS, settings.smoothing_hands),
                             (FACE, settings.smoothing_face)):
        if strength > 0:
            rot[:, joints] = smooth_rotations(rot[:, joints], rate, strength)
    motion.poses = rot.reshape(motion.num_frames, -1).astype(np.float32)
    # Each axis of the root's path has its own noise (depth is the least certain in a monocular fit).
    trans, _ = one_euro_within_noise(motion.trans.astype(np.float64)[:, :, None], rate, settings.smoothing_body)
    motion.trans = trans[:, :, 0].astype(np.float32)
    if motion.expression.shape[1] and settings.smoothing_face > 0:
        motion.expression = one_euro_zero_phase(motion.expression, rate, settings.smoothing_face).astype(np.float32)


# MediaPipe landmarks of the contact proxies, in floor.PROXIES' order: heel for the ankle, foot index for the toes.
_IMAGE_PROXIES = [landmarks.BODY[n] for n in ("left_heel", "left_foot_index", "right_heel", "right_foot_index")]
# Shoulder-hip pairs, about 0.5 m on an adult.
_IMAGE_TORSO = [(landmarks.BODY[f"{side}_shoulder"], landmarks.BODY[f"{side}_hip"]) for side in ("left", "right")]


def torso_pixels(keypoints: np.ndarray) -> float:
    """The person's median shoulder-to-hip length in the picture, pixels (about 0.5 m on an adult), or NaN.

    ``keypoints``: (T, K, 3) landmarks, MediaPipe body order first, pixels + confidence.
    """
    kp = np.asarray(keypoints, np.float64)
    uv = np.where((kp[..., 2] > 0.3)[..., None], kp[..., :2], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames without the torso give NaN
        torso = np.nanmean([np.linalg.norm(uv[:, a] - uv[:, b], axis=-1) for a, b in _IMAGE_TORSO], axis=0)
        return float(np.nanmedian(torso))


def feet_swapped_back(keypoints: np.ndarray, rate: float) -> np.ndarray:
    """(T, K, 3) a copy of the image ``keypoints`` (MediaPipe body order first, at ``rate`` frames a second) with
    the heel and toe landmarks of the two feet exchanged back on the frames the detector swapped their labels
    (``contacts.foot_swaps``, judged with what it saw of them). Every rule that reads the feet in the picture
    reads them so: a one-frame swap read as given is a flip of all four landmarks (:func:`contacts.flipping`)."""
    kp = np.array(keypoints, np.float64)
    seen = landmarks.seen_landmarks(kp[:, _IMAGE_PROXIES, 2])
    feet = np.where(seen[..., None], kp[:, _IMAGE_PROXIES, :2], np.nan)
    swapped = np.flatnonzero(foot_swaps(feet[:, :2], feet[:, 2:], rate))
    if swapped.size:
        proxies = np.asarray(_IMAGE_PROXIES)
        kp[swapped[:, None], proxies] = kp[swapped[:, None], proxies[[2, 3, 0, 1]]]
    return kp


def image_speeds(keypoints: np.ndarray | None, rate: float, window: int, *,
                 swaps_undone: bool = False) -> np.ndarray | None:
    """(T, 4) speed of the feet in the video, in m/s at the person's scale, or None.

    A static camera sees a planted foot stand still, whatever depth errors the
    3D fit has; the pixel speed of MediaPipe's heel and toe landmarks, scaled
    by the torso's length in pixels (taken as 0.5 m), is the steadiest cue
    for contact in a monocular capture. The landmarks glitch, though, for a
    few frames at a time (typically while the other leg passes in front), so
    the velocity is the median of the per-frame velocities over ``window``
    centred frames at 30 fps (:func:`frames_at`): a glitch shorter than half the window does not show; feet
    whose labels the detector swapped are swapped back first, with what it saw of them (:func:`feet_swapped_back`;
    ``swaps_undone``: ``keypoints`` are so already). NaN where a landmark is missing.
    """
    if keypoints is None or keypoints.shape[1] < landmarks.NUM_BODY or keypoints.shape[0] < 3:
        return None
    kp = np.asarray(keypoints, np.float64) if swaps_undone else feet_swapped_back(keypoints, rate)
    seen = landmarks.seen_landmarks(kp[..., 2])
    uv = np.where(seen[..., None], kp[..., :2], np.nan)
    scale = torso_pixels(kp)
    if not np.isfinite(scale) or scale < 5:
        return None
    feet, seen = uv[:, _IMAGE_PROXIES], seen[:, _IMAGE_PROXIES]
    velocity = np.gradient(feet, axis=0)  # (T, 4, 2) pixels per frame
    velocity = median_filter(velocity, frames_at(window, rate))
    speed = np.linalg.norm(velocity, axis=-1) * rate * (TORSO_METRES / scale)
    # A speed is unknown on a missing landmark's frame and beside it (the gradient reaches it); not np.roll,
    # which wrapped the take's last frame onto its first: an unseen last frame hid frame 0's speeds, so no
    # stance could start there from the picture (the demo, whose last frame has no person).
    missing = ~seen
    near = missing.copy()
    near[1:] |= missing[:-1]
    near[:-1] |= missing[1:]
    speed[near] = np.nan
    return speed


FLOOR_MIN_SEEN = 8
"""Sole points of seen feet the floor needs; with fewer (legs out of view most of the take, which
the capture warns about) it is fitted to the fit's guessed feet after all."""


def feet_seen(keypoints: np.ndarray | None, frames: int) -> np.ndarray:
    """(T, 4) whether the video shows each contact proxy's landmark (heel, foot index; see
    ``core.landmarks.seen_landmarks``); all True for a take without landmarks (nothing to tell)."""
    if keypoints is None or keypoints.shape[0] != frames or keypoints.shape[1] < landmarks.NUM_BODY:
        return np.ones((frames, len(_IMAGE_PROXIES)), bool)
    return landmarks.seen_landmarks(np.asarray(keypoints, np.float64)[:, _IMAGE_PROXIES, 2])


def _proxy_points(motion: Motion) -> np.ndarray:
    """(T, 4, 3) float64 the take's contact proxies (``floor.PROXIES``) in its world, metres."""
    pos, _ = forward_kinematics(motion.poses, motion.rest_joints, motion.trans)
    return pos[:, PROXY_INDEX].astype(np.float64)


def _contacts(motion: Motion, points: np.ndarray, heights: np.ndarray, rate: float, seen: np.ndarray,
              settings: CleanupSettings) -> np.ndarray:
    """(T, 4) contacts of a Z-up take on the floor (Z = 0): detected (``contacts``), then refined by the
    one post-pass (``contact_pass``: gaps bridged, stances the picture still shows carried, short ones dropped).
    ``points`` (T, 4, 3): its contact proxies (:func:`_proxy_points`); ``seen`` (T, 4): :func:`feet_seen`."""
    sole_height = points[..., 2] - heights[None, :]
    speed = horizontal_speed(points, rate, settings.contacts.speed_window)
    smooth = moving_average(points, settings.contacts.speed_window)
    velocity = np.gradient(smooth, axis=0) * rate if len(smooth) > 1 else np.zeros_like(smooth)
    speed_3d = np.linalg.norm(velocity, axis=-1)
    given = motion.keypoints_2d
    pictured = given is not None and given.shape[1] >= landmarks.NUM_BODY  # the picture says how long feet stand
    # The rules below read the picture's feet with the detector's swaps of their labels undone.
    kp = feet_swapped_back(given, rate) if pictured and len(given) >= 3 else None
    image_speed = None if kp is None else image_speeds(kp, rate, settings.contacts.image_window, swaps_undone=True)
    # Contacts are found even with foot lock off: the quality figures report skate on them.
    mode = settings.foot_lock if settings.foot_lock != "off" else "auto"
    if image_speed is not None:
        # Feet the video shows still far above the floor stand on a level of their own (a box): their soles
        # are measured from it, so its stances start contacts as the floor's do (``levels.raised_levels``;
        # "always" too: its feet are low on the box).
        still = still_feet(image_speed, velocity[..., 2], settings.contacts)
        pelvis = pelvis_positions(motion)[:, 2]
        raised, spans = raised_levels(sole_height, still & seen, settings.contacts.height_on_still, settings.levels,
                                      pelvis_height=pelvis, leg_length=sum(leg_bones(motion.rest_joints, "left")))
        sole_height = sole_height - level_under(sole_height, raised, settings.levels.reach, spans,
                                                int(round(LEVEL_SPAN_SECONDS * rate)))
    unsure = hidden = None
    if image_speed is not None:
        feet = np.where(landmarks.seen_landmarks(kp[:, _IMAGE_PROXIES, 2])[..., None], kp[:, _IMAGE_PROXIES, :2],
                        np.nan)
        torso = torso_pixels(kp)
        unsure = flipping(feet, torso, rate, settings.contacts)
        hidden = behind_a_standing_leg(kp, points, camera_centre(motion), torso, image_speed, settings.contacts)
    found = detect_contacts(sole_height, speed, mode, settings.contacts, image_speed=image_speed, hidden=hidden,
                            speed_3d=speed_3d, climb=velocity[..., 2], seen=seen, unsure=unsure)
    fitted = mode == "auto"  # "always" goes by height alone: the fit's speeds bridge nothing
    return refine_contacts(found, sole_height if fitted else None, speed_3d if fitted else None,
                           given[:, _IMAGE_PROXIES] if pictured else None, torso_pixels(given) if pictured else None,
                           seen, image_speed if fitted else None, settings.contact_pass.at_rate(rate),
                           points if fitted else None)


def floor_tilts(floor: Floor, up: np.ndarray, camera_extrinsics: np.ndarray) -> dict[str, float]:
    """The floor's tilt figures, in degrees, for a floor found in the take's world before grounding.

    ``floor_tilt_degrees``: from the camera's level (its -y axis): how far the camera looks tilted
    over the floor, comparable with a known camera tilt. ``floor_off_up_degrees``: how far the feet
    tilted the floor from the take's estimated up direction (``up``).
    """
    level = np.asarray(camera_extrinsics, np.float64)[:3, :3].T @ np.array([0.0, -1.0, 0.0])
    return {"floor_tilt_degrees": float(angle_between_degrees(floor.normal, level)),
            "floor_off_up_degrees": float(angle_between_degrees(floor.normal, up))}


def _find_floor(motion: Motion, proxies: np.ndarray, heights: np.ndarray, rate: float, seen: np.ndarray,
                settings: CleanupSettings) -> Floor:
    """The floor under the take's resting soles, in its current world (the camera frame for captures).
    ``proxies`` (T, 4, 3): its contact proxies (:func:`_proxy_points`); ``seen`` (T, 4): :func:`feet_seen`."""
    up = np.asarray(motion.world_up, np.float64)
    up = up / np.linalg.norm(up)
    soles = proxies - heights[None, :, None] * up
    # Speeds along the floor are unknown before it is found; use full 3D speed here.
    smooth = moving_average(proxies, settings.contacts.speed_window)
    speed = np.linalg.norm(np.gradient(smooth, axis=0), axis=-1) * rate if len(smooth) > 1 else np.zeros(proxies.shape[:2])
    if seen.sum() >= FLOOR_MIN_SEEN:  # feet the video does not show do not set the floor
        soles = np.where(seen[..., None], soles, np.nan)
    # The up's own uncertainty (core.gravity) says how far the feet may tilt the floor.
    return estimate_floor(soles.reshape(-1, 3), speed.reshape(-1), up, max_tilt_deg=tilt_cap_degrees(motion.up_sigma_degrees),
                          up_sigma_degrees=motion.up_sigma_degrees)


def _figures(motion: Motion, heights: np.ndarray, contacts: np.ndarray, support: np.ndarray,
             floor_figures: dict[str, float]) -> dict[str, float]:
    """The cleaned take's quality figures (README's motion-file table), penetration against each foot's level."""
    pos, _ = forward_kinematics(motion.poses, motion.rest_joints, motion.trans)
    points = pos[:, PROXY_INDEX].astype(np.float64)
    mean_pen, max_pen = penetration_mm(points, heights, support)
    return {
        "jitter_mm_per_frame2": jitter_mm(pos),
        "foot_skate_mm": foot_skate_mm(points, contacts),
        "ground_penetration_mm": mean_pen,
        "ground_penetration_max_mm": max_pen,
        "contact_fraction": float(contacts.mean()) if contacts.size else 0.0,
        "ground_levels": float(motion.ground.num_levels) if motion.ground is not None else 1.0,
        **floor_figures,
        **step_figures(pos[:, 0].astype(np.float64), points, contacts),
    }


def pelvis_positions(motion: Motion) -> np.ndarray:
    """(T, 3) float64 the pelvis in the take's world: the rest pelvis moved by ``trans`` (the root turns about it,
    so no forward kinematics is needed)."""
    return np.asarray(motion.rest_joints, np.float64)[0] + np.asarray(motion.trans, np.float64)


def near_contacts(contacts: np.ndarray, margin: int = 1, sigma: float = 2.0) -> np.ndarray:
    """(T,) 0..1 how far each frame's root is held by the planted feet (``contacts`` (T, 4)): 1 on frames with a
    contact and ``margin`` frames either side, fading out over a Gaussian of ``sigma`` frames beyond."""
    held = running_max(np.asarray(contacts, bool).any(axis=1).astype(np.float64), 2 * margin + 1)
    return np.maximum(held, np.clip(2.0 * gaussian_smooth(held, sigma, truncate=4.0), 0.0, 1.0))


LEGS_RETURN_SECONDS = 4.0 / 30.0
"""The Gaussian (its sigma) over which the legs, beyond the last frame with a planted foot, return to the fitted
pose the picture shows (:func:`legs_near_contacts`). At 2 frames at 30 fps (as the root's return,
:func:`in_the_picture`) the tilted and held-out sets' limb acceleration error rose 0.1-0.9 mm/frame^2 where
the legs left the lock's pose; at 4 by at most 0.3, and at 6 the legs kept half as much of the fit's pose."""


def legs_near_contacts(contacts: np.ndarray, rate: float) -> np.ndarray:
    """(T,) 0..1 how much of the foot lock's corrections the legs take on each frame (``footlock.lock_feet``'s
    ``hold``): all on frames with a planted foot (``contacts`` (T, 4)), fading out over a Gaussian of
    ``LEGS_RETURN_SECONDS`` (at ``rate`` frames a second) beyond, where the legs return to the fitted pose (as the
    root returns to the picture, :func:`in_the_picture`)."""
    return near_contacts(contacts, margin=0, sigma=LEGS_RETURN_SECONDS * rate)


def in_the_picture(motion: Motion, fitted_pelvis: np.ndarray, contacts: np.ndarray, margin: int = 1,
                   sigma: float = 2.0) -> np.ndarray:
    """(T, 3) root translation of ``motion`` with its pelvis back on the camera ray through ``fitted_pelvis`` (T, 3,
    the fit's, same world) at the depth the cleanup gave it, away from planted feet: frames with a contact
    (``contacts`` (T, 4)) and ``margin`` frames either side keep the root the foot lock gave them, and the return
    fades in over a Gaussian of ``sigma`` frames beyond (a touch-down of a frame or two is planted whole; the
    lock's eases beyond it give way to the picture). Without a planted foot (a jump's or a flip's flight) the
    root's moves that carry stances' corrections across the flight moved the body off its place in the picture."""
    trans = np.asarray(motion.trans, np.float64)
    near = near_contacts(contacts, margin, sigma)
    if near.min() >= 1.0:
        return trans
    centre = camera_centre(motion)
    pelvis = pelvis_positions(motion)
    ray = np.asarray(fitted_pelvis, np.float64) - centre
    ray /= np.maximum(np.linalg.norm(ray, axis=1, keepdims=True), 1e-9)
    target = centre + np.linalg.norm(pelvis - centre, axis=1, keepdims=True) * ray
    return trans + (1.0 - near)[:, None] * (target - pelvis)


def clean_motion(motion: Motion, settings: CleanupSettings = CleanupSettings(), *,
                 progress: Callable[[int, int], None] | None = None,
                 contacts: np.ndarray | None = None) -> CleanupResult:
    """Return a cleaned copy of ``motion`` (the input is not changed).

    ``contacts``: (T, 4) bool, the contacts to plant (``floor.PROXIES`` order) instead of detecting them,
    for a caller that knows them (``bench cleanup`` plants the true ones: the lock apart from detection).
    Raises MocapError when the take has no rest skeleton to work with, or ``contacts`` is not (T, 4).
    """
    if motion.rest_joints is None:
        raise MocapError("cleanup needs the take's rest skeleton (rest joints); this file has none")
    if contacts is not None and np.shape(contacts) != (motion.num_frames, len(PROXY_INDEX)):
        raise MocapError(f"contacts must be {len(PROXY_INDEX)} flags (heels and toes) for each of the take's "
                         f"{motion.num_frames} frames, not an array of shape {np.shape(contacts)}")
    out = copy.deepcopy(motion)
    filmed = out.camera_intrinsics is not None  # a take with no camera (a mocap file) has no line of sight
    rate = float(out.fps)
    settings = replace(settings, contacts=settings.contacts.at_rate(rate))  # its frame counts at the take's rate
    heights = proxy_heights(out.rest_joints, out.v_template)

    smooth_motion(out, settings)
    if progress:
        progress(1, 4)

    up = np.asarray(out.world_up, np.float64)
    up = up / np.linalg.norm(up)
    seen = feet_seen(out.keypoints_2d, out.num_frames)  # cleanup changes no landmark: one look for every step
    pos, _ = forward_kinematics(out.poses, out.rest_joints, out.trans)
    floor = _find_floor(out, pos[:, PROXY_INDEX].astype(np.float64), heights, rate, seen, settings)
    E = np.eye(4) if out.camera_extrinsics is None else np.asarray(out.camera_extrinsics, np.float64)
    camera_forward = E[:3, :3].T @ np.array([0.0, 0.0, 1.0])  # camera +z in world axes
    R, origin = floor_frame(floor, camera_forward, pos[0, 0])
    original_up = np.asarray(out.world_up, np.float64).copy()
    reexpress(out, R, origin)
    points = _proxy_points(out)
    contacts = _contacts(out, points, heights, rate, seen, settings) if contacts is None else np.array(contacts, bool)
    anchoring = settings.anchor_root and can_anchor(out)
    if anchoring:
        # The anchors put every stance on the floor: the floor is where the stances stand (their median),
        # not under the lowest one a depth drift of the fit sank (that carried every stance down its rays).
        level = planted_level(points, heights, contacts, settings.anchor.support_tolerance)
        reexpress(out, np.eye(3), np.array([0.0, 0.0, level]))
        origin, floor = origin + level * R[2], Floor(floor.normal, floor.offset + level)
        points = _proxy_points(out)
    # The levels the planted soles stand on (a box, the floor): anchors, locks and figures use them.
    out.ground = find_levels(points[..., 2] - heights[None, :], contacts, settings.levels)
    support = out.ground.support()
    fitted_pelvis = pelvis_positions(out) if filmed else None
    if anchoring:
        out.trans = (out.trans + anchor_root(out, contacts, settings.anchor, support).correction).astype(np.float32)
    if progress:
        progress(2, 4)
    if settings.foot_lock != "off":
        poses, trans = lock_feet(out.poses, out.rest_joints, out.trans, contacts, heights,
                                 settings.blend_frames, support, move_root=settings.lock_root,
                                 camera=camera_centre(out) if filmed else None,
                                 focal=float(np.asarray(out.camera_intrinsics)[0, 0]) if filmed else None,
                                 rate=rate, hold=legs_near_contacts(contacts, rate) if filmed else None)
        out.poses, out.trans = poses.astype(np.float32), trans.astype(np.float32)
    if fitted_pelvis is not None:  # the picture has the pelvis where the fit put it: in flight, keep it there
        out.trans = in_the_picture(out, fitted_pelvis, contacts).astype(np.float32)
        # In flight the body falls under gravity: the places in the picture a parabola through the rest misses
        # (the landmark model's misreadings of a tucked body) move onto it.
        trans, _ = ballistic_root(out.trans, out.rest_joints, contacts, 1.0 - near_contacts(contacts),
                                  camera_centre(out), rate, seen, settings.flight)
        out.trans = trans.astype(np.float32)
    if progress:
        progress(3, 4)

    quality = _figures(out, heights, contacts, support, {**floor_tilts(floor, up, E)})
    floor_warnings = ground_certainty(out.up_sigma_degrees, out.up_source, quality)
    floor_warnings += support_certainty(contacts, int(seen.sum()), FLOOR_MIN_SEEN, quality)
    if not settings.ground:
        # Back to the original world: the inverse of p' = R (p - o) is p = R^T (p' + R o).
        reexpress(out, R.T, -R @ origin)
        out.world_up = original_up
        out.ground = None  # heights along the floor's Z mean nothing in the camera frame
    out.quality = {**out.quality, **quality}
    if progress:
        progress(4, 4)
    return CleanupResult(motion=out, contacts=contacts, floor=floor, quality=quality, warnings=floor_warnings)
