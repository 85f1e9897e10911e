"""The floor under a take: estimate it, and re-express the motion in a Z-up world on it.

Static camera: the floor is one plane in the camera frame. Its points are the
soles of the feet while they rest, so the estimate uses the heel and toe
proxies (ankle and foot joints) on frames where they hardly move, lowered by
their height above the sole, and fits a plane to them robustly (RANSAC, then
least squares on the inliers), close to the motion's own up direction.
When the feet barely travel (someone standing on the spot) a tilted plane
cannot be told from noise, so only the height is fitted and the up
direction is kept.

The up direction's own uncertainty (``core.gravity``) sets how far the feet
may tilt the floor: with a confident up (``CONFIDENT_UP_DEGREES``) the
floor's normal *is* the up and the feet give only its height (a robust lower
envelope of resting soles); otherwise the plane's tilt is capped at two
sigmas (at most ``MAX_TILT_DEGREES``), and the cap is checked again after the
least-squares refinement, which can move a plane past it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..motion import Motion
from ..skeleton import JOINT_INDEX

# Contact proxies: ankle ~ heel, foot joint ~ ball of the foot / toes.
PROXIES = ("left_ankle", "left_foot", "right_ankle", "right_foot")
PROXY_INDEX = [JOINT_INDEX[n] for n in PROXIES]

MAX_TILT_DEGREES = 25.0
"""The feet never tilt the floor further than this from the up direction."""
CONFIDENT_UP_DEGREES = 2.5
"""An up direction this certain (1 sigma) is the floor's normal; the feet give only the height."""
UNCERTAIN_UP_DEGREES = 5.0
"""An up direction less certain than this makes the ground uncertain: the take says so."""
FEET_PLANE_SIGMA_DEGREES = 6.0
"""1-sigma of the plane through a monocular fit's resting soles: its depth errs by a share of the distance, so
the stances tilt the plane (2.5-17 degrees from the truth, median 5, on the ten rendered bench clips, where
the up's own cues erred 0.1-6). Within the cap the floor's normal is the inverse-variance mean of the up and
that plane, so feet move an uncertain up (a level-camera guess) a lot and a fair one little."""
SOLE_HEIGHT_ERROR_M = 0.03
"""How well a resting sole's height is known when nothing measured it (``fuse_normal``'s default; the RANSAC
band). ``estimate_floor`` passes the soles' own RMS distance off their plane (stances the fit's depth put
at different heights stray far). Soles that spread little along an axis measure the plane's tilt about it
poorly: on the bench's studio walk the plane rested on a 17 x 4 cm patch of stances, the others 8 cm RMS
off it, and tilted 14 degrees from the truth where the posture's up erred 2.6."""


def tilt_cap_degrees(up_sigma_degrees: float | None) -> float:
    """How far (degrees) the feet may tilt the floor from an up direction this uncertain (None: unknown)."""
    if up_sigma_degrees is None:
        return MAX_TILT_DEGREES
    if up_sigma_degrees <= CONFIDENT_UP_DEGREES:
        return 0.0
    return min(MAX_TILT_DEGREES, 2.0 * up_sigma_degrees)


@dataclass(frozen=True)
class Floor:
    """A plane ``normal . p = offset`` in the motion's world frame (unit normal pointing up)."""

    normal: np.ndarray
    offset: float

    def height(self, points: np.ndarray) -> np.ndarray:
        """Signed height of (..., 3) points above the plane, metres."""
        return points @ self.normal - self.offset


def ground_certainty(up_sigma_degrees: float | None, up_source: str, quality: dict[str, float]) -> list[str]:
    """Add ``up_uncertainty_degrees`` to a take's ``quality`` (when known) and return the warnings an uncertain ground gives.

    ``quality`` must hold ``floor_off_up_degrees`` (how far the feet tilted the floor from the up).
    """
    if up_sigma_degrees is None:
        return []
    quality["up_uncertainty_degrees"] = float(up_sigma_degrees)
    if up_sigma_degrees <= UNCERTAIN_UP_DEGREES:
        return []
    return [f"the ground is uncertain: the up direction (from {up_source or 'an unknown source'}) is only known "
            f"within ±{up_sigma_degrees:.0f}°, and the feet tilted the floor {quality['floor_off_up_degrees']:.0f}° "
            "from it. Give --camera-pitch and --camera-roll if you know the camera's tilt"]


MIN_PLANTED_FRAMES = 10
"""Frames with a planted foot (a third of a second at 30 fps) under which the floor's height rests on the
fit's guessed feet rather than on stances: the take says its ground is uncertain."""


def support_certainty(contacts: np.ndarray, feet_seen: int, min_seen: int, quality: dict[str, float]) -> list[str]:
    """The warnings a ground resting on little evidence gives, and ``quality["ground_uncertain"]``.

    ``contacts`` (T, P) bool; ``feet_seen``: how many proxy-frames the video shows, fewer than ``min_seen``
    and the floor was fitted to the fit's guessed feet. ``quality`` may already hold
    ``up_uncertainty_degrees`` (:func:`ground_certainty`); an up less certain than
    ``UNCERTAIN_UP_DEGREES`` also makes the ground uncertain.
    """
    warnings = []
    planted = int(np.asarray(contacts, bool).any(axis=1).sum())
    if feet_seen < min_seen:
        warnings.append("the ground is uncertain: the video hardly shows the feet, so the floor was fitted to "
                        "the feet the fit guessed")
    elif planted < MIN_PLANTED_FRAMES:
        warnings.append(f"the ground is uncertain: a foot was seen planted on only {planted} frame"
                        f"{'' if planted == 1 else 's'}, so the floor's height is the feet's lowest reach, "
                        "not where they stand")
    unsure_up = quality.get("up_uncertainty_degrees", 0.0) > UNCERTAIN_UP_DEGREES
    quality["ground_uncertain"] = 1.0 if warnings or unsure_up else 0.0
    return warnings


def proxy_heights(rest_joints: np.ndarray, v_template: np.ndarray | None) -> np.ndarray:
    """(4,) rest height of each contact proxy above the sole (model frame, Y up), metres.

    The sole is the lowest vertex of the rest mesh when there is one, else 2 cm
    below the lowest proxy (a typical ball-of-foot joint height).
    """
    y = np.asarray(rest_joints, np.float64)[PROXY_INDEX, 1]
    sole = float(np.min(v_template[:, 1])) if v_template is not None and len(v_template) else y.min() - 0.02
    return np.maximum(y - sole, 0.0)


def _plane_lstsq(points: np.ndarray) -> tuple[np.ndarray, float]:
    centre = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - centre, full_matrices=False)
    normal = vt[-1]
    return normal, float(normal @ centre)


def lower_envelope(heights: np.ndarray, inlier: float = 0.03) -> float:
    """The height (metres) most resting soles stand on, with none far below it: a robust lower envelope.

    Each candidate height scores the soles within ``inlier`` of it, less five
    times those more than ``2 * inlier`` below it (a floor under the feet, not
    through them); the best candidate's inliers give the median.
    """
    h = np.sort(np.asarray(heights, np.float64))
    candidates = h[:: max(1, len(h) // 200)]
    within = np.searchsorted(h, candidates + inlier) - np.searchsorted(h, candidates - inlier)
    below = np.searchsorted(h, candidates - 2 * inlier)
    best = candidates[int(np.argmax(within - 5.0 * below))]
    return float(np.median(h[np.abs(h - best) < inlier]))


def planted_level(points: np.ndarray, rest_height: np.ndarray, contacts: np.ndarray, within: float) -> float:
    """Median height (metres) above Z = 0 of a Z-up take's soles planted within ``within`` of it: (T, P, 3)
    contact proxies, (P,) their rest heights above the sole, (T, P) contacts; 0 without such a contact.

    The lower envelope of resting soles (``estimate_floor``) keeps feet out of the floor, but where
    the fit's depth drifts it sits under the lowest stance (planted heels stood a median 8-17 cm
    above it on the bench's jump clips); a cleanup that then carries every stance onto the floor
    (``root.anchor_root``) wants the level the stances share. Stances further up stand on something
    else (the demo's box, 70 cm up): they do not lift the floor.
    """
    heights = (points[..., 2] - rest_height[None, :])[contacts]
    heights = heights[np.abs(heights) <= within]
    return float(np.median(heights)) if heights.size else 0.0


def _within_cap(normal: np.ndarray, up: np.ndarray, max_tilt_deg: float) -> np.ndarray:
    """``normal`` turned towards ``up`` until it is at most ``max_tilt_deg`` from it (unchanged when within)."""
    tilt = np.arccos(np.clip(normal @ up, -1.0, 1.0))
    cap = np.radians(max_tilt_deg)
    if tilt <= cap + 1e-9:
        return normal
    side = normal - (normal @ up) * up
    side = side / np.linalg.norm(side)
    return np.cos(cap) * up + np.sin(cap) * side


def sole_spread(points: np.ndarray, normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How far (N, 3) sole points spread along a plane of unit ``normal``: (axes (2, 3) unit, along the
    plane, widest first; their standard deviations (2,), metres)."""
    flat = points - np.outer(points @ normal, normal)
    flat = flat - flat.mean(axis=0)
    values, vectors = np.linalg.eigh(flat.T @ flat / max(len(flat), 1))
    # eigh sorts ascending; the smallest is the normal's own direction (no spread).
    return vectors[:, [2, 1]].T, np.sqrt(np.maximum(values[[2, 1]], 0.0))


def fuse_normal(up: np.ndarray, feet: np.ndarray, up_sigma_degrees: float, spread: tuple[np.ndarray, np.ndarray],
                feet_sigma_degrees: float = FEET_PLANE_SIGMA_DEGREES, height_error_m: float = SOLE_HEIGHT_ERROR_M
                ) -> np.ndarray:
    """(3,) unit inverse-variance mean of two unit directions (3,) with 1-sigma uncertainties in degrees
    (small angles), weighed along each axis of the soles' ``spread`` along the plane (:func:`sole_spread`)
    apart: a plane through soles that spread ``s`` metres along an axis is tilted about it by about
    ``height_error_m / s`` (radians) more than ``feet_sigma_degrees``.
    """
    up = np.asarray(up, np.float64)
    feet = np.asarray(feet, np.float64)
    tilt = feet - (feet @ up) * up  # the feet's tilt from the up, along the floor (small angles)
    fused = up.copy()
    for axis, std in zip(*spread):
        axis = axis - (axis @ up) * up
        axis = axis / max(float(np.linalg.norm(axis)), 1e-12)
        measured = np.degrees(np.arctan2(height_error_m, max(float(std), 1e-6)))
        w_up, w_feet = up_sigma_degrees ** -2, float(np.hypot(feet_sigma_degrees, measured)) ** -2
        fused = fused + (tilt @ axis) * w_feet / (w_up + w_feet) * axis
    return fused / np.linalg.norm(fused)


def estimate_floor(sole_points: np.ndarray, speeds: np.ndarray, up: np.ndarray, *,
                   still_speed: float = 0.3, inlier: float = 0.03, max_tilt_deg: float = MAX_TILT_DEGREES,
                   up_sigma_degrees: float | None = None, seed: int = 0) -> Floor:
    """Fit the floor to sole points of resting feet.

    Args:
        sole_points: (N, 3) estimated sole positions (proxy lowered by its
            rest height), world frame, metres.
        speeds: (N,) speed of each point, m/s; only slow ones are used.
        up: (3,) the world's up direction: the plane's normal stays within
            ``max_tilt_deg`` of it (:func:`tilt_cap_degrees`; 0 keeps it and
            fits only the height), also after the least-squares refinement.
        up_sigma_degrees: the up's 1-sigma; given, the plane of the soles
            moves the normal from the up only by their relative weights
            (:func:`fuse_normal`, ``FEET_PLANE_SIGMA_DEGREES``, widened along each axis by the soles'
            spread and scatter); None: the
            plane of the soles is the floor.
    """
    up = np.asarray(up, np.float64)
    up = up / np.linalg.norm(up)
    ok = np.isfinite(sole_points).all(axis=1) & np.isfinite(speeds)
    slow = ok & (speeds < still_speed)
    pts = sole_points[slow] if slow.sum() >= 8 else sole_points[ok]
    if len(pts) == 0:
        return Floor(up, 0.0)
    heights = pts @ up
    if max_tilt_deg <= 0.0:
        return Floor(up, lower_envelope(heights, inlier))
    # The floor is the lower envelope: keep the lower half of the candidates.
    pts = pts[heights <= np.percentile(heights, 60)]
    horizontal = pts - np.outer(pts @ up, up)
    spread = np.ptp(horizontal, axis=0).max() if len(pts) else 0.0
    if len(pts) < 12 or spread < 0.4:
        return Floor(up, float(np.median(pts @ up)))
    rng = np.random.default_rng(seed)
    cos_tilt = np.cos(np.radians(max_tilt_deg))
    best, best_score = None, -np.inf
    for _ in range(200):
        sample = pts[rng.choice(len(pts), 3, replace=False)]
        normal = np.cross(sample[1] - sample[0], sample[2] - sample[0])
        norm = np.linalg.norm(normal)
        if norm < 1e-9:
            continue
        normal = normal / norm
        if normal @ up < 0:
            normal = -normal
        if normal @ up < cos_tilt:
            continue
        d = pts @ normal - normal @ sample[0]
        # Points well below a candidate floor are impossible: penalise them.
        score = np.sum(np.abs(d) < inlier) - 5.0 * np.sum(d < -2 * inlier)
        if score > best_score:
            best, best_score = (normal, float(normal @ sample[0])), score
    if best is None:
        return Floor(up, float(np.median(pts @ up)))
    normal, offset = best
    # Refine: least squares on the inliers, twice, the second time with a tighter band.
    for band in (inlier, inlier / 3):
        inliers = pts[np.abs(pts @ normal - offset) < band]
        if len(inliers) < 3:
            break
        normal, offset = _plane_lstsq(inliers)
        if normal @ up < 0:
            normal, offset = -normal, -offset
    # The refinement may have left the cone the candidates were drawn from: bring it back, height again.
    capped = _within_cap(normal, up, max_tilt_deg)
    if up_sigma_degrees is not None:
        height = pts @ normal - offset
        kept = pts[np.abs(height) < inlier]
        # How far the resting soles stray from the plane says how well the fit's depth placed them.
        scatter = max(inlier / 3, float(np.sqrt(np.mean(height**2))))
        capped = fuse_normal(up, capped, up_sigma_degrees, spread=sole_spread(kept if len(kept) >= 3 else pts, normal),
                             height_error_m=scatter)
    if capped is not normal:
        normal = capped
        offset = lower_envelope(pts @ normal, inlier)
    return Floor(normal, offset)


def floor_frame(floor: Floor, forward: np.ndarray, origin_hint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World-from-motion rotation and origin of the Z-up frame on the floor.

    Z = the floor's normal, Y = ``forward`` (e.g. the camera's viewing
    direction) flattened onto the floor, X = Y x Z; the origin is
    ``origin_hint`` dropped onto the floor. Returns (R (3, 3) whose rows are
    X, Y, Z in motion coordinates, origin (3,) in motion coordinates).
    """
    z = floor.normal / np.linalg.norm(floor.normal)
    y = np.asarray(forward, np.float64) - (np.asarray(forward, np.float64) @ z) * z
    if np.linalg.norm(y) < 1e-6:  # looking straight down: any horizontal direction
        y = np.cross(z, [1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.cross(z, [0.0, 1.0, 0.0])
    y = y / np.linalg.norm(y)
    x = np.cross(y, z)
    origin = np.asarray(origin_hint, np.float64)
    origin = origin - (origin @ z - floor.offset) * z
    return np.stack([x, y, z]), origin


def reexpress(motion: Motion, R: np.ndarray, origin: np.ndarray) -> None:
    """Move ``motion`` (in place) into the world p' = R (p - origin); Z becomes up.

    The global orientation turns by R, the translation follows the pelvis,
    and the camera extrinsics change so that every point still projects to
    the same pixel. Ground levels (heights along Z) follow a move that keeps
    Z up; after any other turn they are dropped (they are found again on the new floor).
    """
    from ..rotations import axis_angle_to_matrix, matrix_to_axis_angle

    R = np.asarray(R, np.float64)
    origin = np.asarray(origin, np.float64)
    poses = motion.poses.astype(np.float64)
    poses[:, :3] = matrix_to_axis_angle(R @ axis_angle_to_matrix(poses[:, :3]))
    pelvis_rest = np.asarray(motion.rest_joints, np.float64)[0]
    trans = (pelvis_rest + motion.trans.astype(np.float64) - origin) @ R.T - pelvis_rest
    E = np.eye(4) if motion.camera_extrinsics is None else np.asarray(motion.camera_extrinsics, np.float64)
    new_E = np.eye(4)
    new_E[:3, :3] = E[:3, :3] @ R.T
    new_E[:3, 3] = E[:3, :3] @ origin + E[:3, 3]
    motion.poses = poses.astype(np.float32)
    motion.trans = trans.astype(np.float32)
    motion.camera_extrinsics = new_E
    motion.world_up = np.array([0.0, 0.0, 1.0])
    if motion.ground is not None:
        keeps_up = np.allclose(R[2], [0.0, 0.0, 1.0], atol=1e-9)
        motion.ground = motion.ground.shifted(-float(origin[2])) if keeps_up else None
