"""Metric landmarks made to agree with the image: each limb point on its camera ray.

MediaPipe gives two views of the body: image landmarks (pixels, accurate to a
few pixels) and metric world landmarks (metres, relative to the mid-hip, whose
depth is the weak part: against rendered motion capture its errors along the
camera ray are about twice the image-plane ones, and biased). The two are
predicted separately, so the world landmarks placed in the camera do not
project onto the image landmarks.

:func:`lift_to_rays` rebuilds the limb points of the world landmarks so that
every one lies on the camera ray through its image landmark, walking each limb
outwards from the trunk (shoulder -> elbow -> wrist, hip -> knee -> ankle). A
point's depth relative to its parent is the inverse-variance combination of two
estimates:

- MediaPipe's own relative depth (world landmarks);
- the depth that the image and the bone's length imply: the child lies on its
  ray at the bone's length from the (already placed) parent, which leaves two
  candidates, in front of and behind the parent; MediaPipe's depth picks the
  nearer one (it is good at the sign, poor at the size). The bone length is the
  clip's median of MediaPipe's, the same for both sides.

The image-plus-length estimate is precise when the bone points along the ray
(its image length changes slowly with depth) and useless when the bone lies in
the image plane (the depth is then a square root of a small, noisy number), so
its variance is propagated from an image-position error and a bone-length error:
var = (L^2 sL^2 + d^2 sd^2) / dz^2 for bone length L (error sL), image-plane
length d (error sd) and relative depth dz (floored at a tenth of the bone).

Trunk points (shoulders, hips) keep their depth and move onto their rays; the
hand and foot points ride along with the wrist and ankle; head points move with
the mid-hip, so they keep their place relative to it. Frames with missing
landmarks, and points seen with low visibility, are left as MediaPipe gave them.

On exact landmarks (image and world from the same pose) nothing changes. On
rendered motion capture (two clips, all presets) the fit starts nearer the
truth and PA-MPJPE drops by about 3 mm (cmu 01_03) and 6 mm (boxing).

Before either, :func:`camera_from_view` turns the world landmarks into the
camera's axes. MediaPipe predicts them from a crop of the person centred on
the mid-hip, and the crop alone does not tell the network where in the picture
it was taken: a person seen off the picture's centre looks like a person turned
by the angle between the optical axis and the ray through them, and that is the
orientation the network reports (its axes are the crop's, rolled back to the
picture's by the ROI's rotation, not turned onto the camera's). The rotation
taking the optical axis onto the ray through the mid-hip's image landmark undoes
it (the perspective-crop correction of CLIFF and of "Perspective Crop Layers").
On the tilted rendered clips it takes MediaPipe's own orientation error (per
frame, limb joints against the truth) from 10-18 to 8-12 degrees, most where
the person is far off the centre: 35 -> 20 degrees on tilt_room_jumps_high's
first frame, whose mid-hip sits 20 degrees off the optical axis.

Turned, the landmarks still read the view's elevation short: an upright person
seen from above tips their top toward the camera by the elevation of the ray
(from the floor's level), and MediaPipe reports about three quarters of it (a
network that saw mostly level cameras). Against the truth of the bench's
clips, the turned landmarks' tip toward the camera errs by -0.29, -0.29 and
-0.27 times the elevation on the three clips filmed from 22-29 degrees above,
-0.245 pooled over all ten (tilted, default and held-out). A body squarer to
the ray than the person fits the same image farther away: the takes sat 5-10 %
too far (``bench accuracy``'s ``depth_ratio`` and ``lean_to_camera_error_deg``).
When the up direction is known before the fit (the scene's vertical lines, or
the user's pitch and roll), :func:`tip_to_elevation` gives the body back that
share of the elevation (``LiftSettings.elevation_gain``, with ``up``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..camera import solve_translation
from ..landmarks import BODY
from ..rotations import axis_angle_to_matrix, rotation_between

# (parent, child, landmarks that ride with the child), outwards from the trunk (also the live stream's bones).
LIMB_CHAIN = [
    (BODY["left_shoulder"], BODY["left_elbow"], ()),
    (BODY["left_elbow"], BODY["left_wrist"], (BODY["left_pinky"], BODY["left_index"], BODY["left_thumb"])),
    (BODY["right_shoulder"], BODY["right_elbow"], ()),
    (BODY["right_elbow"], BODY["right_wrist"], (BODY["right_pinky"], BODY["right_index"], BODY["right_thumb"])),
    (BODY["left_hip"], BODY["left_knee"], ()),
    (BODY["left_knee"], BODY["left_ankle"], (BODY["left_heel"], BODY["left_foot_index"])),
    (BODY["right_hip"], BODY["right_knee"], ()),
    (BODY["right_knee"], BODY["right_ankle"], (BODY["right_heel"], BODY["right_foot_index"])),
]
_TRUNK = (BODY["left_shoulder"], BODY["right_shoulder"], BODY["left_hip"], BODY["right_hip"])
_MOVED = sorted({*_TRUNK, *(c for _, c, _ in LIMB_CHAIN), *(a for _, _, r in LIMB_CHAIN for a in r)})


@dataclass(frozen=True)
class LiftSettings:
    """How :func:`lift_to_rays` weighs its two depth estimates.

    Attributes:
        enabled: False leaves the world landmarks as MediaPipe gave them.
        view_rotation: turn the world landmarks from the view of the person
            into the camera's axes first (:func:`camera_from_view`; the
            optimiser's ``lifted`` does it when ``enabled``).
        up: the world's up direction in the camera frame when it is known
            before the fit (the capture sets it from the scene lines or the
            user's pitch and roll); None leaves the elevation as read.
        elevation_gain: the share of the view's elevation MediaPipe leaves
            out of the body's tip toward the camera (:func:`tip_to_elevation`).
        image_sigma: error of an image landmark, metres at its depth (MediaPipe
            works on a crop of the person, so its pixel error scales with the
            person's size in the image: about 5 px at 600 px focal length and
            3.5 m).
        bone_sigma: relative error of a bone length (the clip median of
            MediaPipe's, which is short by up to a few tens of percent on
            the upper arms).
        world_depth_sigma: error of MediaPipe's depth of a point relative to
            its parent, metres.
        min_visibility: image landmarks below this visibility keep
            MediaPipe's world offset from their parent.
        outlier_distance: metres, at the point's depth, between an image
            landmark's ray and MediaPipe's world point placed in the camera.
            Up to it the point is lifted fully, from it the lift fades out, and
            from twice it the point keeps MediaPipe's world offset: a
            mis-detected image landmark does not move the body (the two
            agree within 0.1 m for 99 % of the limb points of rendered clips).
    """

    enabled: bool = True
    view_rotation: bool = True
    up: tuple[float, float, float] | None = None
    elevation_gain: float = 0.25
    image_sigma: float = 0.03
    bone_sigma: float = 0.1
    world_depth_sigma: float = 0.08
    min_visibility: float = 0.5
    outlier_distance: float = 0.2


def _mid_hip_rays(uv: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(T, 3) camera rays (z = 1, not unit) through the mid-hip of image landmarks ``uv`` (T, 33, >=2) pixels;
    NaN where a hip is not finite."""
    uv = np.asarray(uv, np.float64)
    K = np.asarray(K, np.float64)
    mid = 0.5 * (uv[:, BODY["left_hip"], :2] + uv[:, BODY["right_hip"], :2])
    return np.concatenate([(mid - K[:2, 2]) / np.diag(K)[:2], np.ones((len(mid), 1))], -1)


def camera_from_view(world: np.ndarray, uv: np.ndarray, K: np.ndarray) -> np.ndarray:
    """World landmarks (T, 33, >=3) turned from the view of the person into the camera's axes.

    MediaPipe's world landmarks (metres, relative to the mid-hip) are posed as
    the person looks along the ray through them; each frame is turned by the
    smallest rotation taking the optical axis (0, 0, 1) onto the ray through its
    mid-hip image landmark (``uv`` (T, 33, >=2) pixels; ``K`` (3, 3)). A person
    on the optical axis is unchanged. Extra columns (visibility) are kept;
    frames whose hips are not finite are returned as they are.
    """
    world = np.asarray(world, np.float64)
    out = world.copy()
    rays = _mid_hip_rays(uv, K)
    ok = np.all(np.isfinite(rays), axis=-1) & np.all(np.isfinite(world[..., :3]), axis=(-1, -2))
    if not ok.any():
        return out
    ray = rays[ok]
    R = rotation_between(np.broadcast_to(np.array([0.0, 0.0, 1.0]), ray.shape), ray)  # (N, 3, 3)
    out[ok, :, :3] = np.einsum("nij,nkj->nki", R, world[ok, :, :3])
    return out


def tip_to_elevation(world: np.ndarray, uv: np.ndarray, K: np.ndarray, up: np.ndarray,
                     gain: float) -> np.ndarray:
    """World landmarks (T, 33, >=3, camera axes) tipped toward the camera by ``gain`` x the view's elevation.

    The elevation is the angle of the ray through the mid-hip image landmark
    (``uv`` (T, 33, >=2) pixels, ``K`` (3, 3)) below the level of ``up`` (3,),
    the world's up in the camera frame; each frame turns about the mid-hip
    (the landmarks' origin) in the plane of ``up`` and the ray, the top
    toward the camera seen from above and away from it seen from below. Extra
    columns are kept; frames without finite hips, or seen straight along ``up``, are unchanged.
    """
    world = np.asarray(world, np.float64)
    out = world.copy()
    up = np.asarray(up, np.float64) / np.linalg.norm(up)
    ray = _mid_hip_rays(uv, K)
    ray /= np.linalg.norm(ray, axis=-1, keepdims=True)
    axis = np.cross(up, -ray)                                 # turns up toward the camera
    norm = np.linalg.norm(axis, axis=-1)
    ok = np.all(np.isfinite(ray), -1) & (norm > 1e-6) & np.all(np.isfinite(world[..., :3]), axis=(-1, -2))
    if not ok.any():
        return out
    elevation = np.arcsin(np.clip(-(ray[ok] @ up), -1.0, 1.0))
    R = axis_angle_to_matrix(axis[ok] / norm[ok, None] * (gain * elevation)[:, None])
    out[ok, :, :3] = np.einsum("nij,nkj->nki", R, world[ok, :, :3])
    return out


def lift_to_rays(world: np.ndarray, uv: np.ndarray, K: np.ndarray,
                 settings: LiftSettings = LiftSettings()) -> np.ndarray:
    """World landmarks (T, 33, >=3) rebuilt on the camera rays of ``uv`` (T, 33, 3: pixels, visibility).

    Returns a copy of ``world`` (visibility column kept) whose limb points lie
    on the rays through their image landmarks (see the module docstring),
    still relative to the (new) mid-hip, camera axes. Frames with any
    non-finite landmark are returned unchanged.
    """
    world = np.asarray(world, np.float64)
    uv = np.asarray(uv, np.float64)
    out = world.copy()
    if not settings.enabled or world.shape[0] == 0:
        return out
    K = np.asarray(K, np.float64)
    ok = np.all(np.isfinite(world[..., :3]), axis=(-1, -2)) & np.all(np.isfinite(uv), axis=(-1, -2))
    if not ok.any():
        return out
    P = world[ok, :, :3]
    vis = np.clip(uv[ok, :, 2], 0.0, 1.0)
    seen = vis >= settings.min_visibility
    t = solve_translation(P, uv[ok, :, :2], vis, K)
    cam = P + t[:, None]                                                     # MediaPipe's body in the camera
    rays = np.concatenate([(uv[ok, :, :1] - K[0, 2]) / K[0, 0], (uv[ok, :, 1:2] - K[1, 2]) / K[1, 1],
                           np.ones_like(uv[ok, :, :1])], -1)                # (N, 33, 3), z = 1
    unit = rays / np.linalg.norm(rays, axis=-1, keepdims=True)
    # How far each ray passes from MediaPipe's point (metres at its depth): trust in the image landmark.
    miss = np.linalg.norm(rays[..., :2] * cam[..., 2:3] - cam[..., :2], axis=-1)
    s = settings.outlier_distance
    trust = np.where(seen, np.clip((2.0 * s - miss) / max(s, 1e-9), 0.0, 1.0), 0.0)[..., None]
    length = {}
    for p, c, _ in LIMB_CHAIN:
        length[(p, c)] = float(np.median(np.linalg.norm(P[:, c] - P[:, p], axis=-1)))
    for i, j in ((0, 2), (1, 3), (4, 6), (5, 7)):  # left and right: one length per bone
        a, b = LIMB_CHAIN[i][:2], LIMB_CHAIN[j][:2]
        length[a] = length[b] = 0.5 * (length[a] + length[b])

    new = cam.copy()
    for k in _TRUNK:
        on_ray = rays[:, k] * cam[:, k, 2:3]
        new[:, k] = trust[:, k] * on_ray + (1.0 - trust[:, k]) * cam[:, k]
    for p, c, riders in LIMB_CHAIN:
        L = length[(p, c)]
        parent = new[:, p]
        r = unit[:, c]
        # child = s r with |s r - parent| = L: s^2 - 2 s (r.parent) + |parent|^2 - L^2 = 0
        b = np.sum(r * parent, -1)
        root = np.sqrt(np.maximum(b * b - np.sum(parent * parent, -1) + L * L, 0.0))
        dz_front = (b - root) * r[:, 2] - parent[:, 2]
        dz_back = (b + root) * r[:, 2] - parent[:, 2]
        dz_world = cam[:, c, 2] - cam[:, p, 2]
        dz_image = np.where(np.abs(dz_front - dz_world) <= np.abs(dz_back - dz_world), dz_front, dz_back)
        d = np.sqrt(np.maximum(L * L - dz_image ** 2, 0.0))
        # the image-plane length is a difference of two image points: sqrt(2) x their error
        var_image = ((L * settings.bone_sigma * L) ** 2 + 2.0 * (d * settings.image_sigma) ** 2) \
            / np.maximum(dz_image ** 2, (0.1 * L) ** 2)
        var_world = settings.world_depth_sigma ** 2
        dz = (dz_image * var_world + dz_world * var_image) / (var_world + var_image)
        lifted = rays[:, c] * (parent[:, 2] + dz)[:, None]
        kept = parent + (cam[:, c] - cam[:, p])                               # MediaPipe's offset from the parent
        use = np.minimum(trust[:, c], trust[:, p])
        new[:, c] = use * lifted + (1.0 - use) * kept
        delta = new[:, c] - cam[:, c]
        for a in riders:
            new[:, a] = cam[:, a] + delta
    mid = 0.5 * (new[:, BODY["left_hip"]] + new[:, BODY["right_hip"]])
    rel = cam - mid[:, None]                                               # unmoved points: same place in the camera
    rel[:, _MOVED] = new[:, _MOVED] - mid[:, None]
    out[ok, :, :3] = rel
    return out
