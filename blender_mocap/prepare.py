"""A Motion made ready for the scene: resampled to the scene rate, standing on the ground (numpy only).

Both steps return a new Motion and leave the input alone, so the operator can
build from the file's data as it is when the user turns them off.

Ground rule: the take (root translation *and* camera) moves along the world's
up direction so that the feet's ground height lands on Blender Z = 0. The
ground height is a low percentile (``GROUND_PERCENTILE``) of the per-frame
lowest foot point: the soles of the mesh where it has one (vertices skinned
mostly to the ankles and feet, near the rest pose's sole), the ankle and foot
joints otherwise. A percentile instead of the minimum keeps one bad frame
(a foot pushed through the floor by a tracking glitch) from lifting the whole
take; a percentile instead of the median keeps a jump from sinking it. The
camera moves with the take, so the overlay on the video stays exact.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..core.body.mannequin import forward_kinematics
from ..core.motion import Motion
from ..core.rotations import axis_angle_to_quat_wxyz, quat_slerp, quat_wxyz_to_axis_angle

GROUND_PERCENTILE = 5.0
"""Percentile of the per-frame lowest foot point taken as the ground (percent of frames)."""
FOOT_JOINTS = ("left_ankle", "right_ankle", "left_foot", "right_foot")
SOLE_BAND = 0.03
"""Metres above the lowest rest-pose foot vertex that still count as sole."""
MAX_SOLE_POINTS = 400


def up_unit(motion: Motion) -> np.ndarray:
    up = np.asarray(motion.world_up, np.float64).reshape(3)
    return up / np.linalg.norm(up)


CHUNK_FRAMES = 4096
"""Frames posed at a time when finding the ground: a long take costs a chunk's memory, not the take's
(skinning 400 sole points on 100,000 frames at once took 5.5 GB)."""


def _soles(motion: Motion, feet: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The sole: (P,) vertex indices, (P, K) skin weights over the (K,) joints that move them; None
    without a mesh (the foot joints stand in)."""
    if motion.v_template is None or motion.skin_weights is None:
        return None
    weights = np.asarray(motion.skin_weights, np.float64)
    verts = np.asarray(motion.v_template, np.float64)
    on_feet = np.flatnonzero(weights[:, feet].sum(axis=1) >= 0.5)
    if on_feet.size == 0:
        return None
    # Rest pose: model frame, Y up; the soles are the feet's lowest band.
    heights = verts[on_feet, 1]
    sole = on_feet[heights <= heights.min() + SOLE_BAND]
    if sole.size > MAX_SOLE_POINTS:
        sole = sole[np.linspace(0, sole.size - 1, MAX_SOLE_POINTS).astype(int)]
    W = weights[sole]
    used = np.flatnonzero(W.max(axis=0) > 0.0)
    return sole, W[:, used] / W[:, used].sum(axis=1, keepdims=True), used


def foot_heights(motion: Motion, start: int = 0, stop: int | None = None) -> np.ndarray:
    """(N, P) heights along ``world_up`` (metres, motion world) of the feet's lowest candidate points
    on frames ``start:stop``: the sole vertices skinned, or the foot joints without a mesh.

    Skins only the sole vertices (few hundred) with the joints that move
    them, and only their height, so a 1,800-frame SMPL-X take costs milliseconds, not the full mesh.
    """
    if motion.rest_joints is None:
        raise ValueError("the motion has no rest skeleton")
    up = up_unit(motion)
    rest = np.asarray(motion.rest_joints, np.float64)
    index = {n: i for i, n in enumerate(motion.joint_names)}
    feet = [index[n] for n in FOOT_JOINTS if n in index]
    soles = _soles(motion, feet)
    # Only the joints up to the last one that moves the feet: the legs and spine, not the hands and face.
    reach = max(feet + ([] if soles is None else list(soles[2]))) + 1
    positions, rotations = forward_kinematics(motion.poses[start:stop].astype(np.float64), rest,
                                              np.asarray(motion.trans[start:stop], np.float64), joints=reach)
    if soles is None:
        return positions[:, feet] @ up
    sole, W, used = soles
    verts = np.asarray(motion.v_template, np.float64)[sole]
    # Linear blend skinning, only along up, as two matrix products over the K joints:
    # up . sum_k W_pk (R_k (v_p - J_k) + x_k) = sum_k (R_k^T up) . W_pk (v_p - J_k) + sum_k (up . x_k) W_pk.
    K = used.size
    lever = W.T[:, None, :] * (verts.T[None] - rest[used][:, :, None])  # (K, 3, P)
    turned = np.einsum("a,nkab->nkb", up, rotations[:, used])  # (N, K, 3): R_k^T up
    heights = turned.reshape(-1, 3 * K) @ lever.reshape(3 * K, -1) + (positions[:, used] @ up) @ W.T
    return heights


def ground_height(motion: Motion, percentile: float = GROUND_PERCENTILE) -> float:
    """Height of the ground along ``world_up`` (metres, motion world) the feet stand on."""
    lowest = np.concatenate([foot_heights(motion, a, a + CHUNK_FRAMES).min(axis=1)
                             for a in range(0, motion.num_frames, CHUNK_FRAMES)])  # (T,)
    return float(np.percentile(lowest, percentile))


def shift_along_up(motion: Motion, height: float) -> Motion:
    """A copy moved by ``-height`` along ``world_up``: root translation and camera together.

    The camera (camera-from-world ``[R | t]``) moves with the world points,
    ``t' = t + R d`` for the world shift ``-d``, so every projection is unchanged.
    """
    d = height * up_unit(motion)
    trans = (np.asarray(motion.trans, np.float64) - d).astype(np.float32)
    extrinsics = motion.camera_extrinsics
    if extrinsics is not None:
        extrinsics = np.array(extrinsics, np.float64)
        extrinsics[:3, 3] = extrinsics[:3, 3] + extrinsics[:3, :3] @ d
    cameras = motion.cameras.moved(extrinsics) if motion.cameras is not None and extrinsics is not None else None
    return dataclasses.replace(motion, trans=trans, camera_extrinsics=extrinsics, cameras=cameras)


def put_on_ground(motion: Motion, percentile: float = GROUND_PERCENTILE) -> tuple[Motion, float]:
    """(motion standing on Z = 0, the height removed in metres)."""
    height = ground_height(motion, percentile)
    return shift_along_up(motion, height), height


def resample(motion: Motion, source_rate: float, target_rate: float) -> Motion:
    """A copy sampled at ``target_rate`` on whole frames (rotations slerped, the rest linear).

    ``motion.frame_indices / source_rate`` are the stored frames' times; the
    result has one frame per ``1 / target_rate`` over the same time span,
    ``frame_indices`` counted at the target rate (scene frame = index + 1)
    and ``fps = target_rate``. 2D keypoints are dropped (they belong to the
    video's frames).
    """
    times = np.asarray(motion.frame_indices, np.float64) / float(source_rate)
    first = int(np.ceil(times[0] * target_rate - 1e-6))
    last = int(np.floor(times[-1] * target_rate + 1e-6))
    frames = np.arange(first, max(last, first) + 1, dtype=np.int64)
    when = frames / float(target_rate)
    T = motion.num_frames
    if T == 1:
        i0 = np.zeros(frames.size, np.int64)
        alpha = np.zeros(frames.size)
    else:
        i0 = np.clip(np.searchsorted(times, when, side="right") - 1, 0, T - 2)
        alpha = np.clip((when - times[i0]) / (times[i0 + 1] - times[i0]), 0.0, 1.0)
    i1 = np.minimum(i0 + 1, T - 1)

    def lerp(values: np.ndarray) -> np.ndarray:
        v = np.asarray(values, np.float64)
        a = alpha.reshape((-1,) + (1,) * (v.ndim - 1))
        return (1.0 - a) * v[i0] + a * v[i1]

    quats = axis_angle_to_quat_wxyz(motion.joint_rotations().astype(np.float64))
    poses = quat_wxyz_to_axis_angle(quat_slerp(quats[i0], quats[i1], alpha[:, None])).reshape(frames.size, -1)
    nearest = np.where(alpha < 0.5, i0, i1)
    return dataclasses.replace(
        motion,
        poses=poses.astype(np.float32),
        trans=lerp(motion.trans).astype(np.float32),
        expression=lerp(motion.expression).astype(np.float32),
        fps=float(target_rate),
        frame_indices=frames,
        confidence=lerp(motion.confidence).astype(np.float32),
        bridged=np.asarray(motion.bridged)[nearest],
        reprojection_error=np.asarray(motion.reprojection_error)[nearest],
        keypoints_2d=None,
    )


def video_rate(motion: Motion) -> float:
    """Frames per second of the *video*: keys sit on video frames (f + 1), not stored ones.

    ``Motion.fps`` is the rate of the stored frames; a capture with stride K
    stores every K-th video frame at fps = video fps / K. Playing the scene at
    the video's rate keeps the keys in step with the movie clip background.
    """
    steps = np.diff(np.asarray(motion.frame_indices))
    stride = max(1, int(round(float(np.median(steps))))) if steps.size else 1
    return float(motion.fps) * stride
