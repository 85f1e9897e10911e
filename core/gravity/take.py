"""Gravity for a captured take: the sampled frames and the fitted joints in, the take's up direction set."""

from __future__ import annotations

import numpy as np

from ..body.mannequin import forward_kinematics
from ..landmarks import NUM_BODY
from ..motion import Motion
from . import FrameSampler, Gravity, estimate_gravity, gravity_from_pictures, gravity_sources, person_boxes


def line_pictures(sampler: FrameSampler | None, keypoints_2d: np.ndarray | None, frame_indices: np.ndarray,
                  K: np.ndarray | None) -> list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """The sampled frames as the scene lines take them: (grey, K of its pixels, the person's box or None).

    ``keypoints_2d``: (T, K, 3) landmarks, pixels + confidence, rows as ``frame_indices``
    (the person masks their own lines); ``K``: (3, 3) intrinsics of the video's pixels.
    """
    frames: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
    if sampler is None or K is None:
        return frames
    K = np.asarray(K, np.float64)
    boxes = person_boxes(keypoints_2d[:, :NUM_BODY]) if keypoints_2d is not None else None
    row_of = {int(f): i for i, f in enumerate(frame_indices)}
    for index, gray, scale in sampler.frames:
        row = row_of.get(index)
        box = None
        if boxes is not None and row is not None and np.isfinite(boxes[row]).all():
            box = boxes[row][None] * scale
        frames.append((gray, np.diag([scale, scale, 1.0]) @ K, box))
    return frames


def scene_lines(sampler: FrameSampler | None, keypoints_2d: np.ndarray | None, frame_indices: np.ndarray,
                K: np.ndarray | None) -> Gravity | None:
    """The pictures' up direction, from the scene's vertical lines and the ground's level lines (None: neither
    answers), from the pose alone: the capture measures it while the body is fitted (``core.pipeline``).
    Arguments as :func:`line_pictures`."""
    return gravity_from_pictures(line_pictures(sampler, keypoints_2d, frame_indices, K))


def known_up(lines: Gravity | None, *, pitch_degrees: float | None = None, roll_degrees: float | None = None,
             level_camera: bool = False) -> np.ndarray | None:
    """(3,) the up direction known before the fit (camera frame), or None when only the fitted body can tell.

    Known: the user's (a level camera, or both pitch and roll), or the pictures' when the scene's vertical
    lines answered (``lines``: :func:`scene_lines`; a pitch or roll given alone replaces that angle). The fit
    uses it to give MediaPipe's body the share of the view's elevation it reads short
    (``core.fit.lifting.tip_to_elevation``). The ground's lines alone do not count: they answer on open
    ground filmed from near level, where MediaPipe's body already tips its top toward the camera as far as
    the person does or further (the held-out clips, cameras 5-7 degrees down: the tip made the lean error
    1.4 -> 2.4 degrees and W-MPJPE 177 -> 182 mm, ``bench accuracy``).
    """
    if lines is not None and not lines.draws_on("scene lines"):
        lines = None
    if level_camera or (pitch_degrees is not None and roll_degrees is not None) or lines is not None:
        return estimate_gravity(lines=lines, pitch_degrees=pitch_degrees, roll_degrees=roll_degrees,
                                level_camera=level_camera).up
    return None


def _body_cues(motion: Motion) -> dict:
    """``estimate_gravity``'s person arguments from a fit still in the OpenCV camera frame."""
    joints = None
    if motion.rest_joints is not None:
        joints, _ = forward_kinematics(motion.poses, motion.rest_joints, motion.trans)
        joints = np.where(~motion.bridged[:, None, None], joints, np.nan)
    K_video = None if motion.camera_intrinsics is None else np.asarray(motion.camera_intrinsics, np.float64)
    size = float(max(motion.image_size)) if motion.image_size is not None else 0.0
    return {"joints": joints, "fps": float(motion.fps), "weights": motion.confidence,
            "keypoints_2d": motion.keypoints_2d, "K": K_video, "image_size": size}


def take_gravity(motion: Motion, lines: Gravity | None = None, *, pitch_degrees: float | None = None,
                 roll_degrees: float | None = None, level_camera: bool = False) -> Gravity:
    """The up direction of ``motion`` (a fit, still in the OpenCV camera frame) from its scene lines and its body.

    ``lines``: the scene lines' answer, measured beside the fit (:func:`scene_lines`; None: none agreed,
    or no frames were kept); the fitted joints give the posture.
    """
    return estimate_gravity(lines=lines, **_body_cues(motion), pitch_degrees=pitch_degrees,
                            roll_degrees=roll_degrees, level_camera=level_camera)


def take_sources(motion: Motion, lines: Gravity | None = None) -> list[Gravity]:
    """Each source's own answer for ``motion`` (as :func:`take_gravity`, before they are fused): what
    ``bench gravity`` holds against the truth."""
    return gravity_sources(lines, **_body_cues(motion))


def apply_gravity(motion: Motion, gravity: Gravity) -> None:
    """Set ``motion``'s up direction (its world is the camera frame) and record where it came from, in place."""
    motion.world_up = np.asarray(gravity.up, np.float64).copy()
    motion.up_source = gravity.source
    motion.up_sigma_degrees = float(gravity.sigma_degrees)
    motion.quality = {**motion.quality, "camera_pitch_degrees": gravity.pitch_degrees,
                      "camera_roll_degrees": gravity.roll_degrees}
