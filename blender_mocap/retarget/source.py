"""The source of a retarget: the SMPL-X joints' world rotations and positions on every frame.

Numpy only. A :class:`SourcePose` comes from a motion file (:func:`source_from_motion`)
or from any keyed rig whose bones are mapped to SMPL-X joints (:func:`source_from_rig_pose`:
our own take's armature, or a retargeted character for a round trip).

Frames: everything in Blender world (Z up, metres); rotations are deltas from
the source's own rest pose, in world axes (a bone's world rotation is
``G @ rest world rotation``), so they do not depend on bone rolls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.motion import Motion
from ...core.rotations import axis_angle_to_matrix
from ...core.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS
from .. import convert


@dataclass
class SourcePose:
    """Where the SMPL-X joints are and how they turned, frame by frame.

    Attributes:
        frames: (T,) scene frames.
        rotations: (T, 55, 3, 3) world rotation of each joint relative to its rest orientation.
        positions: (T, 55, 3) world joint positions, metres.
        rest: (55, 3) world rest positions.
        present: (55,) bool: the joint exists in the source (a rig may lack fingers).
    """

    frames: np.ndarray
    rotations: np.ndarray
    positions: np.ndarray
    rest: np.ndarray
    present: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])


def source_from_motion(motion: Motion, world_from_model: np.ndarray | None = None) -> SourcePose:
    """The SMPL-X forward kinematics of ``motion`` as a :class:`SourcePose`.

    ``world_from_model``: (4, 4) the take's armature's matrix_world (default
    ``BLENDER_FROM_SMPLX_MODEL``, as ``armature.build_armature`` places it).
    The motion's world enters through its root as in ``armature.key_motion``.
    """
    M = np.eye(4)
    M[:3, :3] = convert.BLENDER_FROM_SMPLX_MODEL
    if world_from_model is not None:
        M = np.asarray(world_from_model, np.float64)
    W = M[:3, :3] / np.cbrt(np.linalg.det(M[:3, :3]))
    scale = float(np.cbrt(np.linalg.det(M[:3, :3])))
    C = convert.armature_from_world(motion.world_up)
    rest_model = np.asarray(motion.rest_joints, np.float64)
    local = axis_angle_to_matrix(motion.joint_rotations().astype(np.float64))
    T = local.shape[0]
    K = np.empty((T, NUM_JOINTS, 3, 3))
    P = np.empty((T, NUM_JOINTS, 3))
    K[:, 0] = C @ local[:, 0]
    P[:, 0] = (rest_model[0] + np.asarray(motion.trans, np.float64)) @ C.T
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        K[:, j] = K[:, p] @ local[:, j]
        P[:, j] = P[:, p] + np.einsum("tab,b->ta", K[:, p], rest_model[j] - rest_model[p])
    G = np.einsum("ab,tjbc,dc->tjad", W, K, W)
    positions = scale * P @ W.T + M[:3, 3]
    rest = scale * rest_model @ W.T + M[:3, 3]
    frames = np.asarray(motion.frame_indices, np.float64) + 1
    return SourcePose(frames, G, positions, rest, np.ones(NUM_JOINTS, bool))


def pose_forward(rest_rot: np.ndarray, heads: np.ndarray, parents: np.ndarray, local: np.ndarray,
                 root_loc: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Blender's pose evaluation for a plain FK rig: (T, B, 3, 3) pose rotations, (T, B, 3) heads.

    Args:
        rest_rot: (B, 3, 3) bones' rest rotations (``matrix_local``), armature space.
        heads: (B, 3) rest heads, armature space.
        parents: (B,) parent index, -1 for roots; parents come first.
        local: (T, B, 3, 3) pose-bone rotations (the matrix of ``rotation_quaternion``).
        root_loc: (T, B, 3) pose-bone locations (bone-local), or None.
    """
    T, B = local.shape[:2]
    Q = np.empty((T, B, 3, 3))
    P = np.empty((T, B, 3))
    for b in range(B):
        p = int(parents[b])
        loc = root_loc[:, b] if root_loc is not None else np.zeros((T, 3))
        if p < 0:
            Q[:, b] = rest_rot[b] @ local[:, b]
            P[:, b] = heads[b] + loc @ rest_rot[b].T
        else:
            rel = rest_rot[p].T @ rest_rot[b]
            frame = Q[:, p] @ rel  # the bone's frame before its own rotation: locations move along it
            Q[:, b] = frame @ local[:, b]
            offset = rest_rot[p].T @ (heads[b] - heads[p])
            P[:, b] = P[:, p] + np.einsum("tab,b->ta", Q[:, p], offset) + np.einsum("tab,tb->ta", frame, loc)
    return Q, P


def source_from_rig_pose(frames: np.ndarray, world: np.ndarray, rest_rot: np.ndarray, heads: np.ndarray,
                         parents: np.ndarray, local: np.ndarray, root_loc: np.ndarray | None,
                         joint_of_bone: list[str | None]) -> SourcePose:
    """A :class:`SourcePose` from a keyed rig's bones (see :func:`pose_forward` for the shapes).

    ``world``: (4, 4) the rig's matrix_world; ``joint_of_bone``: the SMPL-X joint
    each bone stands for (None: not a joint). Joints no bone stands for are
    marked absent and follow their parent joint.
    """
    Q, P = pose_forward(rest_rot, heads, parents, local, root_loc)
    R = world[:3, :3] / np.cbrt(np.linalg.det(world[:3, :3]))
    T = Q.shape[0]
    G = np.tile(np.eye(3), (T, NUM_JOINTS, 1, 1))
    pos = np.zeros((T, NUM_JOINTS, 3))
    rest = np.zeros((NUM_JOINTS, 3))
    present = np.zeros(NUM_JOINTS, bool)
    for b, joint in enumerate(joint_of_bone):
        if joint is None:
            continue
        j = JOINT_NAMES.index(joint)
        present[j] = True
        G[:, j] = R @ Q[:, b] @ rest_rot[b].T @ R.T
        pos[:, j] = P[:, b] @ world[:3, :3].T + world[:3, 3]
        rest[j] = world[:3, :3] @ heads[b] + world[:3, 3]
    for j in range(1, NUM_JOINTS):  # absent joints ride on their parent
        if not present[j]:
            p = PARENTS[j]
            G[:, j] = G[:, p]
            rest[j] = rest[p]
            pos[:, j] = pos[:, p]
    return SourcePose(np.asarray(frames, np.float64), G, pos, rest, present)
