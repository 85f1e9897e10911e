"""Calibrate a rig from the person: camera poses from body keypoints seen by every camera, then metric scale and up.

Steps (views already on one time base, see ``sync``):

1. the pair of camera 0 and the camera sharing most confident keypoints
   with it: an essential matrix (OpenCV, RANSAC) gives their relative pose;
2. the keypoints both see are triangulated; each further camera is placed
   by PnP (RANSAC) against those points, and the points re-triangulated;
3. bundle adjustment of every camera pose (and optionally focal length)
   and the 3-D keypoints of up to ``max_frames`` frames, minimising the
   confidence-weighted pixel error with a robust (soft-L1) loss, hips,
   shoulders and head counting less (``JOINT_WEIGHTS``: their definition
   changes with the side they are seen from), by
   ``scipy.optimize.least_squares`` with a sparse Jacobian pattern;
4. metric scale: the median length of each of the eight limb bones of
   the triangulated skeleton against an adult's (``ADULT_BONES``, a 1.70 m
   person; scaled to ``person_height`` when given; ``bone_lengths``
   overrides single bones and may add the trunk's widths, ``TRUNK_WIDTHS``),
   as one ratio of sums so long bones weigh most;
5. up: the cameras' average up (their -y axes: people hold phones upright)
   refined by the floor contacts of the feet (``_world_up``).

The world is camera 0's frame (its R is identity, t zero).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.optimize

from ..errors import MocapError
from ..landmarks import BODY, PoseSequence
from .adjustment import Adjustment
from .epipolar import sampson_distance, skew
from .rig import CameraRig
from .triangulate import triangulate, view_keypoints

ADULT_HEIGHT = 1.70
"""Metres: the stature the ``ADULT_BONES`` lengths belong to."""
ADULT_BONES: dict[str, tuple[str, str, float]] = {
    # name: (landmark, landmark, metres between them for a 1.70 m adult; MediaPipe's landmark positions,
    # which sit inside the joints, so these are a little shorter than anatomical segment lengths)
    "shoulders": ("left_shoulder", "right_shoulder", 0.36),
    "hips": ("left_hip", "right_hip", 0.22),
    "left_upper_arm": ("left_shoulder", "left_elbow", 0.28),
    "right_upper_arm": ("right_shoulder", "right_elbow", 0.28),
    "left_forearm": ("left_elbow", "left_wrist", 0.25),
    "right_forearm": ("right_elbow", "right_wrist", 0.25),
    "left_thigh": ("left_hip", "left_knee", 0.42),
    "right_thigh": ("right_hip", "right_knee", 0.42),
    "left_shin": ("left_knee", "left_ankle", 0.41),
    "right_shin": ("right_knee", "right_ankle", 0.41),
}
_CALIBRATION_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index")
CALIBRATION_JOINTS = np.array([BODY[n] for n in _CALIBRATION_NAMES])
"""The keypoints calibration uses: the body's and the head's (on the rendered 4-phone take the eyes and ears
cut the worst camera-centre error from 19 to 14 cm); not the mouth or fingers (small and noisy)."""
_LESS = {"left_shoulder": 0.1, "right_shoulder": 0.1, "left_hip": 0.1, "right_hip": 0.1, "nose": 0.5,
         "left_eye": 0.5, "right_eye": 0.5, "left_ear": 0.5, "right_ear": 0.5, "left_heel": 0.5, "right_heel": 0.5,
         "left_foot_index": 0.5, "right_foot_index": 0.5}
JOINT_WEIGHTS = np.array([_LESS.get(name, 1.0) for name in _CALIBRATION_NAMES])
"""(J,) how much each calibration keypoint counts in the bundle adjustment, by how much its definition changes
with the side it is seen from. A detector marks a hip or a shoulder somewhere inside a broad trunk, by the
trunk's outline, and that outline is not the same from the front, the side and the back: each camera then
sees another 3-D point, and cameras that fit those points best sit off the truth (on the rendered four-phone
take the keypoint-only adjustment reprojected MediaPipe's keypoints better than the true rig, 2.3 against 2.9
px, while 10 cm and 2.5 degrees off). Knees, elbows, wrists and ankles are narrow: any side marks nearly the
same point. The head's points are small but turn from view to view (an ear seen from behind, the nose from
the side), and heels and toes are marked lower from a high camera than from a low one (15-20 px apart on
that take): they count half. Measured on that take (``bench multiview``'s calibration figures, worst
camera): 2 cameras 9.8 cm / 2.45 degrees -> 4.0 cm / 0.89 degrees, 4 cameras 12.2 cm / 2.05 degrees ->
6.0 cm / 1.99 degrees; dropping the trunk (weight 0) lost its spread and made 4 cameras worse. See README,
"Several cameras (`capture-multi`)", for what the fitted takes showed."""
MIN_CONFIDENCE = 0.5
RANSAC_PIXELS = (1.0, 2.0, 4.0, 8.0)
"""The essential matrix's RANSAC thresholds tried (pixels): MediaPipe's keypoints are off by 2-10 px on
small pictures, and which threshold finds the right pose varies; the candidate with the least truncated
Sampson error over all shared keypoints wins. (A single threshold of 2 px can pick a wrong pose: on the
rendered take, given two more keypoints per frame, it put a camera that stands 90 degrees off at 6.)"""
CAMERA_UP_ERROR = float(np.sin(np.radians(5.0)))
"""How far off the cameras' average up typically is (phones pitched and rolled by hand): 5 degrees."""
FLOOR_BAND = 0.04
"""Metres above the floor (the 10th percentile of the lowest foot point) a foot point still touches it."""
STANCE_HEIGHT_ERROR = 0.03
"""Metres a foot's triangulated height may be off in one place on the floor, however still its frames agree:
MediaPipe marks heels and toes lower from a high camera than from a low one (15-20 px apart on the rendered
four-phone take), and that error stays while the foot stands there, so the floor's tilt is known from the
places the feet touch (``PLACE_SIZE``), not from their frames. On that take two stances 45 cm apart sat 4-5
cm apart in height; counted by frames, the floor put the up 6.2-10.1 degrees off (true rig, 2-4 cameras)
where the cameras' own average was 3.4-4.2 off; counted by places 3.5-6.0 (the person's calibration: 2
cameras 8.0 -> 6.7 degrees, 4 cameras 4.2 -> 1.5)."""
PLACE_SIZE = 0.1
"""Metres apart along the floor two contacts stand in separate places: each place is one look at the floor."""


def _normalise(uv: np.ndarray, K: np.ndarray) -> np.ndarray:
    return np.stack([(uv[..., 0] - K[0, 2]) / K[0, 0], (uv[..., 1] - K[1, 2]) / K[1, 1]], -1)


def _shared(conf: np.ndarray, a: int, b: int, min_confidence: float) -> np.ndarray:
    """(T, J) bool: the calibration keypoints confidently seen by both cameras a and b."""
    return (np.nan_to_num(conf[a]) >= min_confidence) & (np.nan_to_num(conf[b]) >= min_confidence)


def _relative_pose(uv: np.ndarray, conf: np.ndarray, Ks: np.ndarray, b: int,
                   min_confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """(R, t with |t| = 1) of camera b relative to camera 0, from their shared keypoints' essential matrix."""
    import cv2

    both = _shared(conf, 0, b, min_confidence)
    if both.sum() < 30:
        raise MocapError(f"calibration: cameras 1 and {b + 1} see too few of the same keypoints confidently "
                         f"({int(both.sum())}); film the person moving in view of both")
    p0 = _normalise(uv[0][both], Ks[0])
    p1 = _normalise(uv[b][both], Ks[b])
    if len(p0) > 4000:  # plenty for RANSAC; keeps it fast
        keep = np.linspace(0, len(p0) - 1, 4000).astype(int)
        p0, p1 = p0[keep], p1[keep]
    focal = float(np.mean([Ks[0][0, 0], Ks[b][0, 0]]))
    best, best_cost = None, np.inf
    for pixels in RANSAC_PIXELS:
        E, mask = cv2.findEssentialMat(p0, p1, np.eye(3), method=cv2.RANSAC, prob=0.999, threshold=pixels / focal)
        if E is None or E.shape != (3, 3) or int(mask.sum()) < 30:
            continue
        _, R, t, _ = cv2.recoverPose(E, p0, p1, np.eye(3), mask=mask)
        # Judge every candidate on all shared keypoints alike: its median-free, truncated Sampson error, a
        # keypoint that lands behind either camera counting as an outlier (see ``_behind``).
        F = skew(t.ravel()) @ R
        cap = 2 * RANSAC_PIXELS[-1]
        cost = float(np.where(_behind(R, t.ravel(), p0, p1), cap,
                              np.minimum(sampson_distance(F, p0, p1) * focal, cap)).mean())
        if cost < best_cost:
            best, best_cost = (R, t.ravel() / np.linalg.norm(t)), cost
    if best is None:
        raise MocapError(f"calibration: cameras 1 and {b + 1} share too few consistent keypoints to relate them; "
                         "film the person moving in view of both")
    return best


def _behind(R: np.ndarray, t: np.ndarray, p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    """(N,) bool: the points (N, 2) normalised in cameras 0 and b (x_b = R x_0 + t) triangulate behind either.

    ``cv2.recoverPose`` picks the essential matrix's decomposition whose RANSAC inliers lie in front, but the
    inliers of a wrong matrix can: on the rendered four-phone take synced by the person's motion (a third of a
    frame off) a pose 96 degrees off the truth fitted the epipolar lines better (Sampson 3.89 px against 3.99
    for one 15 degrees off, and 3.75 for the true) while a fifth of all shared keypoints lay behind a camera,
    and the adjustment from it failed."""
    import cv2

    X = cv2.triangulatePoints(np.eye(3, 4), np.hstack([R, t[:, None]]), p0.T, p1.T)
    X = X[:3] / np.where(np.abs(X[3]) > 1e-12, X[3], 1e-12)
    return (X[2] <= 0) | ((R @ X)[2] + t[2] <= 0)


def _rig(Ks: np.ndarray, R: np.ndarray, t: np.ndarray, sizes: np.ndarray, names) -> CameraRig:
    return CameraRig(names=tuple(names), K=Ks, R=R, t=t, image_sizes=sizes, world_up=[0.0, -1.0, 0.0])


def _initial_poses(uv: np.ndarray, conf: np.ndarray, Ks: np.ndarray, sizes: np.ndarray,
                   min_confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """(R (C, 3, 3), t (C, 3)) of every camera, camera 0 at the origin and one baseline of unit length."""
    import cv2

    C = len(Ks)
    counts = [int(_shared(conf, 0, c, min_confidence).sum()) if c else -1 for c in range(C)]
    first = int(np.argmax(counts))
    R, t = np.tile(np.eye(3), (C, 1, 1)), np.zeros((C, 3))
    R[first], t[first] = _relative_pose(uv, conf, Ks, first, min_confidence)
    placed = [0, first]
    while len(placed) < C:
        sub = _rig(Ks[placed], R[placed], t[placed], sizes[placed], [str(c) for c in placed])
        points, _ = triangulate(uv[placed], np.where(conf[placed] >= min_confidence, conf[placed], 0.0), sub)
        known = np.isfinite(points).all(-1)
        rest = [c for c in range(C) if c not in placed]
        seen = [int((known & (np.nan_to_num(conf[c]) >= min_confidence)).sum()) for c in rest]
        c = rest[int(np.argmax(seen))]
        use = known & (np.nan_to_num(conf[c]) >= min_confidence)
        if use.sum() < 12:
            raise MocapError(f"calibration: camera {c + 1} sees too little of what the others see to be placed")
        ok, rvec, tvec, inliers = cv2.solvePnPRansac(points[use], uv[c][use], Ks[c], None,
                                                     reprojectionError=4.0, iterationsCount=200)
        if not ok or inliers is None or len(inliers) < 12:
            raise MocapError(f"calibration: camera {c + 1} could not be placed from the person's keypoints")
        R[c] = cv2.Rodrigues(rvec)[0]
        t[c] = tvec.ravel()
        placed.append(c)
    return R, t


def _frames_for_adjustment(conf: np.ndarray, max_frames: int, min_confidence: float) -> np.ndarray:
    """Indices of up to ``max_frames`` frames spread over the clip, among those two or more views see well."""
    seen = (np.nan_to_num(conf) >= min_confidence).sum(-1)  # (C, T) confident joints per view
    good = np.flatnonzero((seen >= 0.5 * conf.shape[-1]).sum(0) >= 2)
    if len(good) < 10:
        raise MocapError("calibration: fewer than 10 frames show the person clearly in two views")
    return good[np.unique(np.linspace(0, len(good) - 1, min(max_frames, len(good))).astype(int))]


_LOCAL = {int(j): i for i, j in enumerate(CALIBRATION_JOINTS)}
_BONE_PAIRS = np.array([[_LOCAL[BODY[a]], _LOCAL[BODY[b]]] for a, b, _ in ADULT_BONES.values()])
_BONE_GROUP_NAMES = sorted({name.removeprefix("left_").removeprefix("right_") for name in ADULT_BONES})
_BONE_GROUPS = np.array([_BONE_GROUP_NAMES.index(name.removeprefix("left_").removeprefix("right_"))
                         for name in ADULT_BONES])
"""Left and right bones share one length: a body is (nearly) symmetric."""
def _bone_scale(rig: CameraRig, points: np.ndarray) -> float:
    """Pixels per rig unit at the typical depth: the focal length over the median depth of the points."""
    depth = np.nanmedian(rig.to_camera(points)[..., 2])
    return float(np.median(rig.K[:, 0, 0]) / depth) if np.isfinite(depth) and depth > 0 else 1.0


KEYPOINT_PIXELS = 4.0
"""Pixels: a detector's typical keypoint error, against which ``timing_weights`` weighs a timing error."""


def timing_weights(uv: np.ndarray, fps: float, timing_error: float) -> np.ndarray:
    """(C, T, J) weights of keypoints ``uv`` (C, T, J, 2) on a time base of ``fps`` whose views may be
    ``timing_error`` seconds off each other (offsets found from the person's motion: within a frame): a
    keypoint moving at v pixels per second is then off by about v * ``timing_error`` pixels besides the
    detector's ``KEYPOINT_PIXELS``, and that error is alike over a whole swing, so it tilts cameras rather
    than averaging out. Weight: KEYPOINT_PIXELS^2 / (KEYPOINT_PIXELS^2 + (v * timing_error)^2), a keypoint
    still counts fully; a missing neighbour frame counts as still.
    On the rendered four-phone take with offsets off by 1, -1 and 0.7 frames (``timing_error`` one frame,
    1/30 s): 2 cameras 1.0 cm / 1.38 degrees -> 0.95 / 1.24, 4 cameras 14.3 cm / 3.37 -> 9.0 / 2.55; with
    the true offsets the same weights gave 2 cameras 1.5 / 1.52 -> 0.9 / 1.19 but lifted the 4 cameras'
    person (keypoints 43 -> 54 mm from the true rig's, its fitted take's world MPJPE 63 -> 73 mm), so
    offsets known to a fraction of a frame (the sound, ``--offsets``) leave it at 0."""
    if timing_error <= 0 or uv.shape[1] < 2:
        return np.ones(uv.shape[:3])
    speed = np.nan_to_num(np.linalg.norm(np.gradient(uv, axis=1), axis=-1) * fps, nan=0.0)
    return KEYPOINT_PIXELS**2 / (KEYPOINT_PIXELS**2 + (speed * timing_error) ** 2)


def _adjust(uv: np.ndarray, conf: np.ndarray, rig: CameraRig, anchor: int, refine_focal: bool | Sequence[bool],
            min_confidence: float, weights: np.ndarray | None = None) -> CameraRig:
    """One round: triangulate (flagging outlier views), then adjust cameras, bones and points together;
    ``weights`` (C, T, J) scale each keypoint's say in the adjustment (``timing_weights``)."""
    usable = np.where(np.nan_to_num(conf) >= min_confidence, conf, 0.0)
    points, inliers = triangulate(uv, usable, rig)
    usable = usable * JOINT_WEIGHTS  # after triangulating: every keypoint still votes on outliers
    if weights is not None:
        usable = usable * weights
    T, J = points.shape[:2]
    keep = np.isfinite(points).all(-1) & (inliers.sum(0) >= 2)
    index = np.full((T, J), -1)
    index[keep] = np.arange(int(keep.sum()))
    obs = inliers & keep[None]
    cam_idx, frame_idx, joint_idx = np.nonzero(obs)
    if len(cam_idx) < 50:
        raise MocapError("calibration: too few keypoints agree across the views to adjust the cameras")
    ends = index[:, _BONE_PAIRS]  # (T, B0, 2) point indices of each bone's ends per frame
    both = (ends >= 0).all(-1)
    problem = Adjustment(rig.K, cam_idx, index[frame_idx, joint_idx], uv[cam_idx, frame_idx, joint_idx],
                         usable[cam_idx, frame_idx, joint_idx], anchor, refine_focal, ends[both],
                         np.broadcast_to(_BONE_GROUPS, both.shape)[both], len(_BONE_GROUP_NAMES),
                         _bone_scale(rig, points[keep]))
    problem.anchor_length = float(np.linalg.norm(rig.t[anchor]))
    x0 = problem.pack(rig.R, rig.t, points[keep])
    fit = scipy.optimize.least_squares(problem.residuals, x0, jac=problem.jacobian, loss="soft_l1",
                                       f_scale=3.0, x_scale="jac", method="trf", tr_solver="lsmr",
                                       max_nfev=60, ftol=1e-6, xtol=1e-8)
    Ks, R, t, _, _ = problem.unpack(fit.x)
    return _rig(Ks, R, t, rig.image_sizes, rig.names)


TRUNK_WIDTHS = ("shoulders", "hips")
"""Bones the metric scale leaves out unless given (``bone_lengths``): where a detector marks a hip or a
shoulder depends on the side it sees the trunk from (see ``JOINT_WEIGHTS``), so the widths it gives vary with
the cameras. On the rendered four-phone take (a 1.62 m mannequin) MediaPipe's keypoints, triangulated by the
true rig, put the shoulders 0.286 m and the hips 0.172 m apart, 21% and 22% under an adult's 0.36 and 0.22,
while the eight limb bones came within 4% of theirs: with the widths, a 1.70 m default read the rig 8.9% large
(scale 0.918 of the truth's), without them 4.4% (0.958; 1.62 / 1.70 = 0.953)."""


def _scale(points: np.ndarray, person_height: float | None, bone_lengths: dict[str, float] | None) -> float:
    """Metres per rig unit: adult (or given) bone lengths over the skeleton's median bone lengths; the limbs,
    and the trunk's widths only where given (``TRUNK_WIDTHS``)."""
    ratio = 1.0 if person_height is None else float(person_height) / ADULT_HEIGHT
    given = dict(bone_lengths or {})
    unknown = sorted(set(given) - set(ADULT_BONES))
    if unknown:
        raise MocapError(f"calibration: unknown bone names {unknown}; known: {sorted(ADULT_BONES)}")
    measured, reference = 0.0, 0.0
    for name, (a, b, length) in ADULT_BONES.items():
        if name in TRUNK_WIDTHS and name not in given:
            continue
        d = np.linalg.norm(points[:, BODY[a]] - points[:, BODY[b]], axis=-1)
        d = d[np.isfinite(d)]
        if len(d) >= 10:
            measured += float(np.median(d))
            reference += float(given.get(name, length * ratio))
    if not measured > 0:
        raise MocapError("calibration: the person's limbs were not seen well enough in two views to find the "
                         "scale; give --person-height")
    return reference / measured


def _places(points: np.ndarray, up: np.ndarray) -> int:
    """How many separate places, ``PLACE_SIZE`` apart along the floor (normal ``up``), (N, 3) contacts touch."""
    axis = np.cross(up, [1.0, 0.0, 0.0] if abs(up[0]) < 0.9 else [0.0, 1.0, 0.0])
    axis /= np.linalg.norm(axis)
    plane = np.stack([points @ axis, points @ np.cross(up, axis)], -1)  # both axes lie in the floor
    return len(np.unique(np.floor(plane / PLACE_SIZE).astype(np.int64), axis=0))


def _world_up(R: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Unit up in the rig's world: the cameras' average -y axis, refined by the floor the feet touch.

    ``points`` (T, 33, 3) metres. People hold phones upright, give or take a few degrees of pitch and roll
    that partly cancel over the cameras. The floor contacts (each frame's lowest foot point, where it is at
    floor height) lie in the floor, so up has no component along the directions they spread in; along
    each, that component is removed as far as the contacts pin it down (their scatter off the floor plane
    and, per place they touch, ``STANCE_HEIGHT_ERROR``, over their spread) against the cameras' typical
    tilt error: steps along a line fix the tilt along it, a walk around the room fixes up entirely, a few
    nearby stances hardly move it. The trunk is no guide: people lean while walking, bending or climbing.
    """
    camera_up = -R[:, 1, :].mean(0)
    camera_up /= np.linalg.norm(camera_up)
    feet = points[:, [BODY[n] for n in ("left_heel", "right_heel", "left_foot_index", "right_foot_index")]]
    up = camera_up
    for _ in range(3):  # contacts chosen again along the refined up
        height = feet @ up
        height = np.where(np.isfinite(height), height, np.inf)
        lowest = np.argmin(height, axis=1)
        low_h = height[np.arange(len(feet)), lowest]
        ok = np.isfinite(low_h)
        if ok.sum() < 20:
            break
        contact = ok & (np.abs(low_h - np.percentile(low_h[ok], 10)) < FLOOR_BAND)
        pts = feet[np.arange(len(feet)), lowest][contact]
        if len(pts) < 20:
            break
        values, vectors = np.linalg.eigh(np.cov((pts - pts.mean(0)).T))
        noise = np.sqrt(max(values[0], 1e-8))  # the contacts' scatter off their plane, metres
        height_var = noise**2 / len(pts) + STANCE_HEIGHT_ERROR**2 / _places(pts, up)
        refined = camera_up.copy()
        for i in (2, 1):  # the two widest directions of the contacts
            # Slope error of a line fit along this direction, against the cameras' tilt error: weigh the two.
            slope_var = height_var / max(values[i], 1e-12)
            trust_floor = CAMERA_UP_ERROR**2 / (CAMERA_UP_ERROR**2 + slope_var)
            refined -= trust_floor * (refined @ vectors[:, i]) * vectors[:, i]
        up = refined / np.linalg.norm(refined)
    return up


def calibrate_from_person(seqs: list[PoseSequence], Ks: list[np.ndarray], *, person_height: float | None = None,
                          bone_lengths: dict[str, float] | None = None, names: list[str] | None = None,
                          refine_focal: bool | Sequence[bool] = False, max_frames: int = 150, rounds: int = 2,
                          min_confidence: float = MIN_CONFIDENCE, timing_error: float = 0.0) -> CameraRig:
    """A CameraRig from C >= 2 views of one person on one time base, intrinsics ``Ks`` (C of (3, 3)) as a start.

    ``person_height`` (metres) scales the adult bone lengths used for metric
    scale; ``bone_lengths`` ({name in ADULT_BONES: metres}) replaces single
    bones. ``refine_focal`` also adjusts each camera's focal length (True:
    every camera's; C booleans: those marked, e.g. the cameras whose lens is
    only guessed, as ``capture-multi`` does; README, "A lens the video does not
    state"). ``rounds`` of bundle adjustment each re-flag outlier
    views first (0: the essential-matrix and PnP start alone, for
    comparison). ``timing_error`` (seconds): how far the views' offsets may be
    off (about a frame when found from the person's motion); fast keypoints
    then count less (``timing_weights``). World: camera 0's frame, metres.
    """
    C = len(seqs)
    if not 2 <= C <= 8 or len(Ks) != C:
        raise MocapError(f"calibration needs 2 to 8 views with one intrinsics matrix each (got {C} views, "
                         f"{len(Ks)} matrices)")
    if not 0.0 <= timing_error <= 1.0:
        raise MocapError(f"calibration: a timing error of {timing_error} s is not plausible (0 to 1 s)")
    if np.ndim(refine_focal) and np.shape(refine_focal) != (C,):
        raise MocapError(f"calibration: refine_focal names {np.shape(refine_focal)[0]} cameras for {C} views")
    if person_height is not None and not 0.5 <= person_height <= 2.6:
        raise MocapError(f"the person's height {person_height} m is not plausible (0.5 to 2.6 m)")
    names = [f"camera_{c + 1}" for c in range(C)] if names is None else list(names)
    K = np.stack([np.asarray(k, np.float64) for k in Ks])
    sizes = np.stack([np.asarray(seq.image_size, np.int64) for seq in seqs])
    uv, conf = view_keypoints(seqs)
    uv_j, conf_j = uv[:, :, CALIBRATION_JOINTS], conf[:, :, CALIBRATION_JOINTS]
    R, t = _initial_poses(uv_j, conf_j, K, sizes, min_confidence)
    anchor = int(np.argmax(np.linalg.norm(t, axis=1)))
    rig = _rig(K, R, t, sizes, names)
    frames = _frames_for_adjustment(conf_j, max_frames, min_confidence)
    weights = timing_weights(uv_j, float(seqs[0].fps), timing_error)[:, frames]  # speeds on every frame
    for _ in range(rounds):  # a second round re-flags outliers with the better cameras
        rig = _adjust(uv_j[:, frames], conf_j[:, frames], rig, anchor, refine_focal, min_confidence, weights)
    points, _ = triangulate(uv, np.where(np.nan_to_num(conf) >= min_confidence, conf, 0.0), rig)
    scale = _scale(points, person_height, bone_lengths)
    return CameraRig(names=rig.names, K=rig.K, R=rig.R, t=rig.t * scale, image_sizes=sizes,
                     world_up=_world_up(rig.R, points * scale))
