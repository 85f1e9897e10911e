"""Robust triangulation of keypoints seen by several calibrated cameras, vectorised over frames and joints.

For every point (frame, joint) independently:

1. hypotheses: a two-view DLT for every pair of views that saw it;
2. RANSAC over views: the hypothesis whose reprojection agrees (within the
   threshold, in front of the camera) with the most confident views wins,
   so a view that tracked the wrong limb or another person is outvoted;
3. a confidence-weighted DLT over the agreeing views, then a few
   Gauss-Newton steps on the weighted reprojection error in pixels.

Everything is a batched numpy operation over all points at once (a 4x4
eigen-solve or a 3x3 solve per point); C <= 8 views make at most 28 pairs.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..camera import project
from ..errors import MocapError
from ..landmarks import BODY, PoseSequence
from .rig import CameraRig

MIN_CONFIDENCE = 0.1
"""Keypoints less confident than this are not used. MediaPipe's visibility says whether a point is in sight,
not how well it is placed: on the rendered four-phone take (limb landmarks of all four views against the
truth, error over the image diagonal, median / 90th percentile) visibility 0.1-0.3 is 1.1-1.4% / 5-8%,
0.3-0.7 0.8-0.9% / 6-7%, over 0.7 0.7% / 2-3%, and only under 0.1 does it jump (2.2-2.3% / 9-12%). An arm
behind the body from the second camera (visibility 0.1-0.3) is then triangulated from both views instead
of hanging on camera 0's one-view bone (``hang_on_parents``): at 0.3 that bone put the 2-camera take's left
elbow and wrist 13-15 cm from the truth relative to the hips, triangulated at 0.1 5-7 cm (both with the
landmarks' definition offsets); offset-free limb PA-MPJPE 37.1 -> 32.8 mm (2 cameras, true rig, cached
landmarks), 38.1 -> 31.1 (3), 23.0 -> 23.3 (4)."""
THRESHOLD_FRACTION = 0.012
"""Reprojection error (fraction of the image diagonal: 24 px at 1920x1080) within which a view agrees."""
MIN_RAY_ANGLE = 20.0
"""Degrees: the agreeing views' rays must cross at least this far from parallel. Two cameras facing each other
(180 degrees apart) see a point along nearly one line, so its depth along that line is noise: on the rendered
four-phone take, cameras 0 and 2 (opposite) alone put the limbs 57 mm off along camera 0's axis (26 mm with
cameras 0 and 1, 90 degrees apart), and the three-camera fit came out worse than the two-camera one."""


def view_keypoints(seqs: list[PoseSequence]) -> tuple[np.ndarray, np.ndarray]:
    """(uv (C, T, 33, 2) pixels, confidence (C, T, 33); NaN confidence where missing) of the body landmarks of
    views on one time base, as ``triangulate`` takes them."""
    lengths = {seq.num_frames for seq in seqs}
    if len(lengths) != 1:
        raise MocapError(f"the views have different frame counts {sorted(lengths)}: "
                         "put them on one time base first (sync)")
    body = np.stack([seq.body_2d.astype(np.float64) for seq in seqs])
    conf = np.where(np.isfinite(body[..., :2]).all(-1), body[..., 2], np.nan)
    return body[..., :2], conf


def agreement_pixels(rig: CameraRig, fraction: float = THRESHOLD_FRACTION) -> np.ndarray:
    """(C,) pixels: the reprojection error within which each camera of ``rig`` agrees with a point,
    ``fraction`` of its image diagonal."""
    return fraction * np.linalg.norm(rig.image_sizes.astype(np.float64), axis=1)


def _normalised(uv: np.ndarray, rig: CameraRig) -> np.ndarray:
    """(C, N, 2) pixels -> (C, N, 2) normalised image coordinates (K^-1 applied)."""
    K = rig.K
    return np.stack([(uv[..., 0] - K[:, None, 0, 2]) / K[:, None, 0, 0],
                     (uv[..., 1] - K[:, None, 1, 2]) / K[:, None, 1, 1]], -1)


def _dlt(xn: np.ndarray, weights: np.ndarray, Rt: np.ndarray) -> np.ndarray:
    """(N, 3) points minimising the weighted algebraic error; xn (C, N, 2), weights (C, N) >= 0, Rt (C, 3, 4).

    Each view adds rows ``w (x P3 - P1)`` and ``w (y P3 - P2)``; the solution
    is the eigenvector of the smallest eigenvalue of A^T A (4x4 per point).
    """
    rows_x = xn[..., 0:1] * Rt[:, None, 2] - Rt[:, None, 0]  # (C, N, 4)
    rows_y = xn[..., 1:2] * Rt[:, None, 2] - Rt[:, None, 1]
    w = np.nan_to_num(weights)[..., None]
    rows_x = np.nan_to_num(rows_x) * w
    rows_y = np.nan_to_num(rows_y) * w
    M = np.einsum("cni,cnj->nij", rows_x, rows_x) + np.einsum("cni,cnj->nij", rows_y, rows_y)
    vec = np.linalg.eigh(M)[1][..., 0]  # (N, 4)
    with np.errstate(divide="ignore", invalid="ignore"):
        return vec[:, :3] / vec[:, 3:4]


def _reprojection(points: np.ndarray, rig: CameraRig) -> tuple[np.ndarray, np.ndarray]:
    """((C, N, 2) pixels, (C, N) depths) of world points (N, 3)."""
    cam = rig.to_camera(points)
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = np.stack([project(cam[c], rig.K[c]) for c in range(rig.num_cameras)])
    return uv, cam[..., 2]


def _refine(points: np.ndarray, uv: np.ndarray, weights: np.ndarray, rig: CameraRig, steps: int = 3) -> np.ndarray:
    """Gauss-Newton on the weighted reprojection error in pixels, batched over points (N, 3)."""
    fx, fy = rig.K[:, 0, 0][:, None], rig.K[:, 1, 1][:, None]
    w = np.nan_to_num(weights)
    target = np.nan_to_num(uv)
    for _ in range(steps):
        cam = rig.to_camera(points)
        z = np.where(np.abs(cam[..., 2]) > 1e-6, cam[..., 2], 1e-6)
        pred = np.stack([fx * cam[..., 0] / z, fy * cam[..., 1] / z], -1) + rig.K[:, None, :2, 2]
        r = (pred - target) * w[..., None]  # (C, N, 2)
        # d(pred)/d(cam) for each view, then chain through R.
        du = np.stack([fx / z, np.zeros_like(z), -fx * cam[..., 0] / z**2], -1)
        dv = np.stack([np.zeros_like(z), fy / z, -fy * cam[..., 1] / z**2], -1)
        J = np.stack([du, dv], -2) @ rig.R[:, None]  # (C, N, 2, 3)
        J = J * w[..., None, None]
        H = np.einsum("cnki,cnkj->nij", J, J) + 1e-9 * np.eye(3)
        g = np.einsum("cnki,cnk->ni", J, r)
        ok = np.isfinite(points).all(-1)
        step = np.zeros_like(points)
        step[ok] = np.linalg.solve(H[ok], g[ok][..., None])[..., 0]
        points = points - step
    return points


def _crossing(points: np.ndarray, views: np.ndarray, rig: CameraRig, min_angle: float) -> np.ndarray:
    """(N,) bool: some two of the ``views`` (C, N) bool see the point (N, 3) along rays at least ``min_angle``
    degrees from parallel (either way: two cameras facing each other see it along one line too)."""
    rays = points[None] - rig.centres()[:, None]                          # (C, N, 3)
    rays /= np.maximum(np.linalg.norm(rays, axis=-1, keepdims=True), 1e-12)
    best = np.zeros(len(points))
    for a, b in itertools.combinations(range(rig.num_cameras), 2):
        sine = np.linalg.norm(np.cross(rays[a], rays[b]), axis=-1)
        best = np.where(views[a] & views[b], np.maximum(best, np.nan_to_num(sine)), best)
    return best >= np.sin(np.radians(min_angle))


def triangulate(uv: np.ndarray, confidence: np.ndarray, rig: CameraRig, *,
                threshold_fraction: float = THRESHOLD_FRACTION,
                min_confidence: float = MIN_CONFIDENCE,
                min_ray_angle: float = MIN_RAY_ANGLE) -> tuple[np.ndarray, np.ndarray]:
    """World points from C views: uv (C, T, J, 2) pixels, confidence (C, T, J) in [0, 1] (NaN = missing).

    Returns ``points`` (T, J, 3) metres in the rig's world (NaN where fewer
    than two views agree, or where the agreeing views' rays cross at less
    than ``min_ray_angle`` degrees: their depth is a guess) and ``inliers``
    (C, T, J) bool: the views that agreed with the point (False: not seen,
    too unsure, or an outlier).
    """
    uv = np.asarray(uv, np.float64)
    conf = np.asarray(confidence, np.float64)
    C = rig.num_cameras
    if uv.ndim != 4 or uv.shape[0] != C or uv.shape[-1] != 2 or conf.shape != uv.shape[:-1]:
        raise MocapError(f"triangulate: keypoints {uv.shape} and confidences {conf.shape} do not fit "
                         f"{C} cameras (expected (C, T, J, 2) and (C, T, J))")
    T, J = uv.shape[1:3]
    flat = uv.reshape(C, T * J, 2)
    usable = np.isfinite(flat).all(-1) & (np.nan_to_num(conf.reshape(C, T * J)) >= min_confidence)
    w = np.where(usable, conf.reshape(C, T * J), 0.0)
    xn = np.where(usable[..., None], _normalised(flat, rig), np.nan)
    Rt = np.concatenate([rig.R, rig.t[..., None]], -1)
    threshold = agreement_pixels(rig, threshold_fraction)[:, None]                                   # (C, 1)

    def agreement(points: np.ndarray) -> np.ndarray:
        pred, depth = _reprojection(points, rig)
        err = np.linalg.norm(pred - flat, axis=-1)
        return usable & (depth > 0) & (err < threshold)

    best_score = np.full(T * J, -1.0)
    best_mask = np.zeros((C, T * J), bool)
    for a, b in itertools.combinations(range(C), 2):
        pair = np.zeros((C, T * J))
        pair[a], pair[b] = w[a], w[b]
        both = usable[a] & usable[b]
        if not both.any():
            continue
        hypothesis = np.full((T * J, 3), np.nan)
        hypothesis[both] = _dlt(xn[:, both], pair[:, both], Rt)
        mask = agreement(hypothesis) & both
        score = (mask * w).sum(0) + 1e-3 * mask.sum(0)
        better = score > best_score
        best_score[better] = score[better]
        best_mask[:, better] = mask[:, better]
    points = np.full((T * J, 3), np.nan)
    solvable = best_mask.sum(0) >= 2
    if solvable.any():
        weights = np.where(best_mask, w, 0.0)[:, solvable]
        first = _dlt(xn[:, solvable], weights, Rt)
        points[solvable] = _refine(first, flat[:, solvable], weights, rig)
        # Views that agree with the refined point (it may win back one the hypothesis missed).
        final = agreement(points) & solvable
        enough = (final.sum(0) >= 2) & _crossing(points, final, rig, min_ray_angle)
        best_mask = np.where(enough, final, False)
        points[~enough] = np.nan
    else:
        best_mask[:] = False
    return points.reshape(T, J, 3), best_mask.reshape(C, T, J)


LIMB_PARENTS = tuple((BODY[f"{side}_{child}"], BODY[f"{side}_{parent}"])
                     for chain in ((("elbow", "shoulder"), ("wrist", "elbow"), ("pinky", "wrist"), ("index", "wrist"),
                                    ("thumb", "wrist")),
                                   (("knee", "hip"), ("ankle", "knee"), ("heel", "ankle"), ("foot_index", "ankle")))
                     for side in ("left", "right") for child, parent in chain)
"""(landmark, its parent) along MediaPipe's arms and legs, parents first: shoulder -> elbow -> wrist -> hand,
hip -> knee -> ankle -> heel and toes."""


DOMINANT_CONFIDENCE = 2.0
"""A limb point the views disagree on (not triangulated) is hung on its most confident view's ray when that
view is at least this many times as confident as any other (``hang_on_parents``). Until December 2026 only a
point one view alone saw was hung and the views' 2D terms were left to decide the others; but a fit that starts
from camera 0's one-view depth is too far off there for the robust 2D term of the view that is right to pull
(its cost saturates): on the rendered four-phone take (2 cameras, true rig) camera 0 marked the left wrist at
visibility 0.17-0.28 and 17-30 px off on the last frames, camera 1 at 0.51-0.67 and 1-4 px off, and the fitted
wrist came out 18-34 cm from the truth. A low visibility marks a point hidden behind the body; over the whole
take such points are placed about as well as others (``MIN_CONFIDENCE``), so the rule rests on the take's
figures, not on that. Balanced preset, world MPJPE / offset-free limb PA-MPJPE, 1 (never) -> 2:
cameras 0-1 50.1 -> 49.6 / 32.4 -> 31.4 mm (49.9 / 32.2 at 3, 51.1 / 33.5 at 1.5), cameras 0 and 3 55.4 -> 54.1 /
41.0 -> 37.9, cameras 2 and 3 58.5 -> 54.5 / 40.4 -> 38.0 (55.2 / 38.6 at 3); 3 and 4 cameras unchanged."""
MIN_BONE_FRAMES = 10
"""Frames in which a bone's both ends must be triangulated for its length to be measured (``hang_on_parents``);
with fewer, the seeing view's own bone length is used."""


def _rays(uv: np.ndarray, rig: CameraRig) -> tuple[np.ndarray, np.ndarray]:
    """(origins (C, N, 3), unit directions (C, N, 3)) in the rig's world of the rays through pixels uv (C, N, 2)."""
    xn = _normalised(uv, rig)
    d = np.einsum("cji,cnj->cni", rig.R, np.concatenate([xn, np.ones(xn.shape[:-1] + (1,))], -1))
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    return np.broadcast_to(rig.centres()[:, None], d.shape), d


def _on_ray(origin: np.ndarray, ray: np.ndarray, parent: np.ndarray, length: np.ndarray,
            bone: np.ndarray) -> np.ndarray:
    """(N, 3) the point of each ray (``origin`` + s ``ray``, s > 0; all (N, 3)) at ``length`` (N,) from ``parent``,
    of the two the one whose direction from the parent is nearer ``bone``'s; where the ray passes farther than
    that from the parent, its point nearest the parent."""
    b = np.einsum("ni,ni->n", ray, origin - parent)
    c = np.einsum("ni,ni->n", origin - parent, origin - parent) - length ** 2
    root = np.sqrt(np.maximum(b * b - c, 0.0))
    near, far = origin + (-b - root)[:, None] * ray, origin + (-b + root)[:, None] * ray
    unit = bone / np.maximum(np.linalg.norm(bone, axis=-1, keepdims=True), 1e-9)
    pick_far = np.einsum("ni,ni->n", far - parent, unit) > np.einsum("ni,ni->n", near - parent, unit)
    return np.where(pick_far[:, None] | (-b - root <= 0)[:, None], far, near)


def hang_on_parents(points: np.ndarray, own: np.ndarray, uv: np.ndarray, confidence: np.ndarray, rig: CameraRig,
                    min_confidence: float = MIN_CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Limb points one view alone saw (or far surest saw), put where that view sees them, a bone's length from their parent.

    ``points`` (T, 33, 3): triangulated body landmarks in the rig's world (NaN where not); ``own`` (C, T, 33, 3):
    each view's one-view 3D landmarks (MediaPipe's), turned into the world's axes; ``uv`` (C, T, 33, 2) pixels
    and ``confidence`` (C, T, 33) the views' landmarks. A limb point not triangulated, seen by one view alone
    (``min_confidence``: the arm behind the body from the second camera) or by one view at least
    ``DOMINANT_CONFIDENCE`` times as confident as any other (views of like confidence that disagree are left to
    their 2D terms), whose parent is known (triangulated, or hung itself) is put on that view's ray
    through it, at the bone's length from the parent (the median over the frames both ends were triangulated
    in, else that view's own bone's), on the side that view's own bone points to. The view's picture of the
    point is kept exactly and the bone does not stretch; of MediaPipe's one-view 3D only the front-or-back
    choice is used, as its bone directions are far off: hung by camera 0's own bones (up to December 2026), the
    2-camera rendered take's left wrist was 15 cm from the truth relative to the hips.
    Returns (points with the hung ones filled in, hung (T, 33) bool).
    """
    out = np.array(points, np.float64, copy=True)
    own = np.asarray(own, np.float64)
    conf = np.where(np.isfinite(uv).all(-1), np.nan_to_num(np.asarray(confidence, np.float64)), 0.0)
    hung = np.zeros(out.shape[:2], bool)
    frames = np.arange(out.shape[0])
    for child, parent in LIMB_PARENTS:
        both = np.isfinite(points[:, child]).all(-1) & np.isfinite(points[:, parent]).all(-1)
        view = conf[:, :, child].argmax(0)                                                 # (T,)
        bone = own[view, frames, child] - own[view, frames, parent]                         # (T, 3)
        length = np.linalg.norm(bone, axis=-1)
        if both.sum() >= MIN_BONE_FRAMES:
            length[:] = np.median(np.linalg.norm(points[both, child] - points[both, parent], axis=-1))
        alone = (conf[:, :, child] >= min_confidence).sum(0) == 1
        ranked = np.sort(conf[:, :, child], axis=0)                                        # (C, T) ascending
        alone |= (ranked[-1] >= min_confidence) & (ranked[-1] >= DOMINANT_CONFIDENCE * ranked[-2])
        need = (~np.isfinite(out[:, child]).all(-1) & np.isfinite(out[:, parent]).all(-1) & alone
                & np.isfinite(bone).all(-1))
        if not need.any():
            continue
        origin, ray = _rays(np.nan_to_num(uv[:, :, child]), rig)                          # (C, T, 3) each
        pick = view[need], frames[need]
        out[need, child] = _on_ray(origin[pick], ray[pick], out[need, parent], length[need], bone[need])
        hung[need, child] = True
    return out, hung
