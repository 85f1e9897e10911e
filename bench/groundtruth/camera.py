"""The render camera: OpenCV camera-from-world matrices, pinhole intrinsics, projection, framing.

Blender world: Z up, metres. OpenCV camera frame: x right, y down, z forward.
"""

from __future__ import annotations

import math

import numpy as np

from .bvh import Bvh
from .clips import ClipSpec, Rig, RenderSettings


def look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(4, 4) OpenCV camera-from-world for a camera at ``eye`` looking at ``target`` (Blender world, Z up)."""
    z = target - eye
    z = z / np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)  # image down
    R = np.stack([x, y, z])
    M = np.eye(4)
    M[:3, :3] = R
    M[:3, 3] = -R @ eye
    return M


def intrinsics(width: int, height: int, hfov_degrees: float) -> np.ndarray:
    """Pinhole K of a Blender camera with horizontal sensor fit, principal point at the centre."""
    f = 0.5 * width / math.tan(math.radians(hfov_degrees) / 2.0)
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def project(points_cam: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(..., 3) camera-frame points -> (..., 2) pixels."""
    uvw = points_cam @ K.T
    return uvw[..., :2] / uvw[..., 2:3]


def transform(M: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(..., 3) points through the (4, 4) rigid transform ``M``."""
    return points @ M[:3, :3].T + M[:3, 3]


def choose_camera(world: np.ndarray, bvh: Bvh, rig: Rig, spec: ClipSpec, settings: RenderSettings,
                  floor: float) -> np.ndarray:
    """Camera-from-world framing every joint of the clip, from the subject's mean front (+azimuth)."""
    idx = bvh.index
    left = world[:, idx(rig.limbs["left_hip"])] - world[:, idx(rig.limbs["right_hip"])]
    left[:, 2] = 0.0
    forward = np.cross(left.mean(0), [0.0, 0.0, 1.0])
    forward /= np.linalg.norm(forward)
    a = math.radians(spec.azimuth_degrees)
    side = np.cross(forward, [0.0, 0.0, 1.0])  # the subject's right (forward = left x up)
    direction = math.cos(a) * forward + math.sin(a) * side
    centre = 0.5 * (world.reshape(-1, 3).min(0) + world.reshape(-1, 3).max(0))
    target = np.array([centre[0], centre[1], floor + 0.95])
    K = intrinsics(settings.width, settings.height, settings.hfov_degrees)
    pts = world.reshape(-1, 3)
    lo = 0.5 * (1 - settings.frame_fill) * np.array([settings.width, settings.height])
    hi = np.array([settings.width, settings.height]) - lo
    distance = settings.min_distance
    while True:
        eye = target + distance * direction
        eye[2] = floor + settings.camera_height
        M = look_at(eye, target)
        uv = project(transform(M, pts), K)
        if (uv >= lo).all() and (uv <= hi).all():
            return M
        distance += 0.1
        if distance > 30:
            raise RuntimeError(f"{spec.name}: cannot frame the clip within 30 m")
