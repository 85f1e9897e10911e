"""The SMPL-X joint tree: names, parents and the layout of the pose vector.

Pure constants, no imports beyond the standard library, shared by every body
model (the user's SMPL-X files and our own mannequin) so that a pose vector
means the same thing on both. Order and names follow the smplx library
(``smplx/joint_names.py``) and the AMASS SMPL-X files.

Frames: the body's model frame is the SMPL-X one, Y up, the body facing +Z, its
left hand towards +X. Joint rotations are axis-angle vectors, each relative to
the parent joint, in that model frame's axes (rest orientations are identity).
"""

from __future__ import annotations

JOINT_NAMES: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee",
    "spine2", "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot",
    "neck", "left_collar", "right_collar", "head", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "jaw", "left_eye_smplhf", "right_eye_smplhf",
    "left_index1", "left_index2", "left_index3",
    "left_middle1", "left_middle2", "left_middle3",
    "left_pinky1", "left_pinky2", "left_pinky3",
    "left_ring1", "left_ring2", "left_ring3",
    "left_thumb1", "left_thumb2", "left_thumb3",
    "right_index1", "right_index2", "right_index3",
    "right_middle1", "right_middle2", "right_middle3",
    "right_pinky1", "right_pinky2", "right_pinky3",
    "right_ring1", "right_ring2", "right_ring3",
    "right_thumb1", "right_thumb2", "right_thumb3",
)

PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19,
    15, 15, 15,
    20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
    21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53,
)

NUM_JOINTS = len(JOINT_NAMES)  # 55
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

# Slices of the (165,) AMASS/SMPL-X pose vector, 3 axis-angle values per joint:
# global orient (joint 0), body (joints 1-21), jaw (22), eyes (23-24),
# left hand (25-39), right hand (40-54). Joint j occupies poses[3j:3j+3].
POSE_SLICES: dict[str, slice] = {
    "root_orient": slice(0, 3),
    "pose_body": slice(3, 66),
    "pose_jaw": slice(66, 69),
    "pose_eye": slice(69, 75),
    "pose_hand": slice(75, 165),
}
POSE_DIM = 3 * NUM_JOINTS  # 165

LIMB_JOINTS: tuple[str, ...] = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)
"""The 12 limb joints accuracy is reported on (PA-MPJPE, MPJPE)."""

assert len(PARENTS) == NUM_JOINTS
assert all(p < i for i, p in enumerate(PARENTS))
