"""The render camera: OpenCV camera-from-world matrices, pinhole intrinsics, projection, framing.

Blender world: Z up, metres. OpenCV camera frame: x right, y down, z forward.
"""

from __future__ import annotations

import math

import numpy as np

from .bvh import Bvh
from .clips import ClipSpec, Rig, RenderSettings


def look_at(eye: np.ndarray, target: np.ndarray, roll_degrees: float = 0.0) -> np.ndarray:
    """(4, 4) OpenCV camera-from-world for a camera at ``eye`` looking at ``target`` (Blender world, Z up).

    With ``roll_degrees`` 0 the image's x axis is horizontal; a positive roll
    turns the camera about its optical axis so that its right side goes down
    (the scene turns anticlockwise in the image). Not for a camera looking
    straight up or down.
    """
    z = target - eye
    z = z / np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)  # image down
    r = math.radians(roll_degrees)
    x, y = math.cos(r) * x + math.sin(r) * y, -math.sin(r) * x + math.cos(r) * y
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


def pitch_roll_degrees(cam_from_world: np.ndarray) -> tuple[float, float]:
    """(pitch, roll) of an OpenCV camera-from-world in a Z-up world, degrees, as ``look_at`` makes them.

    Pitch: the optical axis above the horizon; roll: positive when the
    camera's right side is down.
    """
    R = np.asarray(cam_from_world, np.float64)[:3, :3]
    up = R @ np.array([0.0, 0.0, 1.0])           # world up in the camera frame
    pitch = math.degrees(math.asin(np.clip(up[2], -1.0, 1.0)))
    roll = math.degrees(math.atan2(-up[0], -up[1]))
    return pitch, roll


def aim(eye: np.ndarray, heading: np.ndarray, pitch_degrees: float, roll_degrees: float) -> np.ndarray:
    """(4, 4) camera-from-world at ``eye``, turned to the horizontal ``heading`` and tilted as given."""
    p = math.radians(pitch_degrees)
    h = np.array([heading[0], heading[1], 0.0])
    forward = math.cos(p) * h / np.linalg.norm(h) + math.sin(p) * np.array([0.0, 0.0, 1.0])
    return look_at(eye, eye + forward, roll_degrees)


def choose_camera(world: np.ndarray, bvh: Bvh, rig: Rig, spec: ClipSpec, settings: RenderSettings,
                  floor: float) -> np.ndarray:
    """Camera-from-world framing every joint of the clip, from the subject's mean front (+azimuth).

    Without a ``spec.shot`` the camera is level-ish: at ``settings.camera_height``
    aimed at hip height over the middle of the motion, moving back until the
    clip fits. With one it keeps the shot's pitch, roll and height exactly and
    is turned towards the middle of the motion; it moves along the ground
    (nearest first) until the clip fits.
    """
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

    def fits(M: np.ndarray) -> bool:
        cam = transform(M, pts)
        if (cam[:, 2] < 0.3).any():
            return False
        uv = project(cam, K)
        return bool((uv >= lo).all() and (uv <= hi).all())

    shot = spec.shot
    distance = settings.min_distance if shot is None else 0.5
    while distance <= 30:
        eye = target + distance * direction
        if shot is None:
            eye[2] = floor + settings.camera_height
            M = look_at(eye, target)
        else:
            eye[2] = floor + shot.height_m
            M = aim(eye, -direction, shot.pitch_degrees, shot.roll_degrees)
        if fits(M):
            return M
        distance += 0.1 if shot is None else 0.05
    raise RuntimeError(f"{spec.name}: cannot frame the clip within 30 m")
