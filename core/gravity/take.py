"""Gravity for a captured take: the sampled frames and the fitted joints in, the take's up direction set."""

from __future__ import annotations

import numpy as np

from ..body.mannequin import forward_kinematics
from ..landmarks import NUM_BODY
from ..motion import Motion
from . import FrameSampler, Gravity, estimate_gravity, person_boxes


def take_gravity(motion: Motion, sampler: FrameSampler | None = None, *, pitch_degrees: float | None = None,
                 roll_degrees: float | None = None, level_camera: bool = False) -> Gravity:
    """The up direction of ``motion`` (a fit, still in the OpenCV camera frame) from its frames and its body.

    ``sampler``: the frames kept while the capture streamed the video (None:
    no scene lines). The person's landmarks (``motion.keypoints_2d``) mask
    their own lines; the fitted joints give the posture.
    """
    frames = []
    if sampler is not None and motion.camera_intrinsics is not None:
        K = np.asarray(motion.camera_intrinsics, np.float64)
        boxes = person_boxes(motion.keypoints_2d[:, :NUM_BODY]) if motion.keypoints_2d is not None else None
        row_of = {int(f): i for i, f in enumerate(motion.frame_indices)}
        for index, gray, scale in sampler.frames:
            row = row_of.get(index)
            box = None
            if boxes is not None and row is not None and np.isfinite(boxes[row]).all():
                box = boxes[row][None] * scale
            frames.append((gray, np.diag([scale, scale, 1.0]) @ K, box))
    joints = None
    if motion.rest_joints is not None:
        joints, _ = forward_kinematics(motion.poses, motion.rest_joints, motion.trans)
        joints = np.where(~motion.bridged[:, None, None], joints, np.nan)
    K_video = None if motion.camera_intrinsics is None else np.asarray(motion.camera_intrinsics, np.float64)
    size = float(max(motion.image_size)) if motion.image_size is not None else 0.0
    return estimate_gravity(frames=frames, joints=joints, fps=float(motion.fps), weights=motion.confidence,
                            keypoints_2d=motion.keypoints_2d, K=K_video, image_size=size,
                            pitch_degrees=pitch_degrees, roll_degrees=roll_degrees, level_camera=level_camera)


def apply_gravity(motion: Motion, gravity: Gravity) -> None:
    """Set ``motion``'s up direction (its world is the camera frame) and record where it came from, in place."""
    motion.world_up = np.asarray(gravity.up, np.float64).copy()
    motion.up_source = gravity.source
    motion.up_sigma_degrees = float(gravity.sigma_degrees)
    motion.quality = {**motion.quality, "camera_pitch_degrees": gravity.pitch_degrees,
                      "camera_roll_degrees": gravity.roll_degrees}
