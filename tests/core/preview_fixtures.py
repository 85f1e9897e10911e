"""Synthetic takes for the preview tests: the mannequin moving in front of a camera, and a video.

Everything is generated here (our own mannequin, plain OpenCV frames): no
third-party media.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.body.mannequin import mesh, rest_joints
from core.motion import Motion
from core.skeleton import JOINT_INDEX, JOINT_NAMES, PARENTS


def arms_pose(num: int) -> np.ndarray:
    """(num, 165): upright facing an OpenCV camera, arms swinging down, a step in depth."""
    poses = np.zeros((num, 55, 3))
    poses[:, 0] = (np.pi, 0.0, 0.0)  # 180 deg about X: upright, facing the camera
    swing = np.linspace(0.2, 1.1, num)
    poses[:, JOINT_INDEX["left_shoulder"], 2] = -swing
    poses[:, JOINT_INDEX["right_shoulder"], 2] = swing
    poses[:, JOINT_INDEX["left_elbow"], 1] = -0.6
    poses[:, JOINT_INDEX["right_elbow"], 1] = 0.6
    poses[:, JOINT_INDEX["left_hip"], 0] = -0.4
    poses[:, JOINT_INDEX["left_knee"], 0] = 0.7
    return poses.reshape(num, 165).astype(np.float32)


def make_motion(num: int = 6, size: tuple[int, int] = (320, 240), video: str = "",
                body: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> Motion:
    """A take of ``num`` frames, image ``size`` (w, h), body 1.7 m tall about 3.2 m away."""
    w, h = size
    f = 0.5 * w / np.tan(np.radians(30.0))  # 60 deg horizontal field of view
    K = np.array([[f, 0.0, w / 2.0], [0.0, f, h / 2.0], [0.0, 0.0, 1.0]])
    v, faces, weights = body if body is not None else mesh()
    trans = np.zeros((num, 3), np.float32)
    trans[:, 2] = np.linspace(3.2, 3.6, num)
    trans[:, 1] = 0.15
    conf = np.linspace(1.0, 0.1, num).astype(np.float32)
    kp = np.zeros((num, 75, 3), np.float32)
    kp[:, :, :2] = (w / 2.0, h / 2.0)
    kp[:, :, 2] = 1.0
    return Motion(
        poses=arms_pose(num), trans=trans, betas=np.zeros(5, np.float32), fps=30.0,
        frame_indices=np.arange(num, dtype=np.int64), confidence=conf,
        bridged=np.zeros(num, bool), reprojection_error=np.zeros(num, np.float32),
        expression=np.zeros((num, 0), np.float32), camera_intrinsics=K, camera_extrinsics=np.eye(4),
        image_size=np.array([w, h]), world_up=np.array([0.0, -1.0, 0.0]), body_model="mannequin",
        joint_names=JOINT_NAMES, parents=np.array(PARENTS, np.int32), rest_joints=rest_joints(),
        v_template=v, faces=faces, skin_weights=weights, keypoints_2d=kp, source_video=video,
    )


def write_video(path: Path, num: int, size: tuple[int, int], fps: float = 30.0) -> Path:
    """A plain test video: a dark gradient with the frame number as a bright bar."""
    import cv2

    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    ramp = np.linspace(20, 90, w, dtype=np.float32)[None, :, None]
    for k in range(num):
        frame = np.broadcast_to(ramp, (h, w, 3)).astype(np.uint8).copy()
        frame[: 6, : 10 * (k + 1)] = 250
        writer.write(frame)
    writer.release()
    return path
