"""Frame conventions between the motion file and Blender, in one place (numpy only).

Frames named here:

- *motion world*: the frame ``Motion.poses``/``trans`` are expressed in; its up
  direction is ``Motion.world_up``. Engine output uses the OpenCV camera frame
  of the video (x right, y down, z forward, ``world_up = (0, -1, 0)``); AMASS
  files are Z-up.
- *Blender world*: Z up, metres.
- *OpenCV camera*: x right, y down, z forward (looking along +z).
- *Blender camera*: x right, y up, looking along -z.
- *Pixels*: continuous image coordinates, origin at the top-left corner of the
  top-left pixel, x right, y down, so the image spans [0, W] x [0, H] and its
  centre is (W/2, H/2). An intrinsic matrix K maps OpenCV camera points to
  these coordinates: ``u = fx * x / z + cx``.

- *SMPL-X model*: Y up, the body facing +Z, its left towards +X: the frame of
  the rest joints and mesh.

The armature object's matrix_world is ``BLENDER_FROM_SMPLX_MODEL``, so the rest
pose stands upright in Blender, facing -Y as Blender characters do. Armature
space is then the model frame, and the motion world enters only through the
root: ``armature_from_world`` re-expresses the global orientation and
translation of each frame (see ``armature.key_motion``).
"""

from __future__ import annotations

import numpy as np

from ..core.rotations import rotation_between

SENSOR_WIDTH_MM = 36.0
"""Blender camera sensor width used for every take (``sensor_fit = 'HORIZONTAL'``)."""

BLENDER_CAMERA_FROM_OPENCV_CAMERA = np.diag([1.0, -1.0, -1.0])
"""(3, 3) OpenCV camera axes -> Blender camera axes (flip y and z); its own inverse."""


BLENDER_FROM_SMPLX_MODEL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
"""(3, 3) SMPL-X model axes -> Blender world axes: 90 degrees about X (Y up -> Z up, +Z -> -Y)."""


def armature_from_world(world_up: np.ndarray) -> np.ndarray:
    """(3,) motion world up -> (3, 3) rotation armature space <- motion world.

    ``BLENDER_FROM_SMPLX_MODEL^T @ blender_from_world(world_up)``.
    """
    return BLENDER_FROM_SMPLX_MODEL.T @ blender_from_world(world_up)


def blender_from_world(world_up: np.ndarray) -> np.ndarray:
    """(3,) motion world up direction -> (3, 3) rotation Blender world <- motion world.

    The smallest rotation taking ``world_up`` to +Z. For the OpenCV world
    (``world_up = (0, -1, 0)``) it is exactly ``[[1,0,0],[0,0,1],[0,-1,0]]``:
    camera forward (+z) becomes Blender +Y and image down (+y) becomes -Z. For a
    Z-up world it is the identity.
    """
    up = np.asarray(world_up, np.float64).reshape(3)
    R = rotation_between(up, np.array([0.0, 0.0, 1.0]))
    # Axis-aligned ups are the common case; snap the round-off (6e-17 and the
    # like) so the armature's matrix_world reads as clean numbers in the UI.
    snapped = np.round(R)
    R = np.where(np.abs(R - snapped) < 1e-12, snapped, R)
    return R


def blender_camera_pose_from_opencv_extrinsics(
    extrinsics: np.ndarray, world_up: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(4, 4) camera-from-world [R|t] (OpenCV) -> Blender camera rotation (3, 3), location (3,).

    Both results are in Blender world: rotation Blender world <- Blender camera,
    location = camera centre ``C = -R^T t`` mapped by :func:`blender_from_world`.
    """
    E = np.asarray(extrinsics, np.float64)
    R, t = E[:3, :3], E[:3, 3]
    A = blender_from_world(world_up)
    centre_world = -R.T @ t
    rotation = A @ R.T @ BLENDER_CAMERA_FROM_OPENCV_CAMERA
    return rotation, A @ centre_world


def blender_lens_from_opencv_intrinsics(K: np.ndarray, image_size: np.ndarray) -> dict[str, float]:
    """(3, 3) pinhole K in pixels + (2,) (W, H) -> Blender camera settings.

    Returns ``lens`` (mm, for a ``SENSOR_WIDTH_MM`` wide sensor fitted
    horizontally), ``shift_x`` and ``shift_y``. Lens shift is measured in
    units of the sensor-fit dimension: with ``sensor_fit = 'HORIZONTAL'`` that
    is the image *width*, for portrait videos too (with 'AUTO' it would be
    ``max(W, H)``; the portrait projection test pins this down). Assumes
    square pixels (uses fx only).
    A principal point right of centre puts the optical axis right of the
    frame's centre, i.e. the frame is shifted left: negative ``shift_x``;
    one below centre gives positive ``shift_y`` (Blender's y is up).
    """
    K = np.asarray(K, np.float64)
    width, height = (float(v) for v in np.asarray(image_size).reshape(2))
    fx, cx, cy = K[0, 0], K[0, 2], K[1, 2]
    return {
        "lens": float(fx * SENSOR_WIDTH_MM / width),
        "shift_x": float(-(cx - width / 2.0) / width),
        "shift_y": float((cy - height / 2.0) / width),
        "sensor_width": SENSOR_WIDTH_MM,
    }


def blender_fps_from_rate(fps: float) -> tuple[int, float]:
    """Frames per second -> Blender's (``render.fps``, ``render.fps_base``).

    Blender's rate is ``fps / fps_base`` with an integer ``fps``; 29.97 becomes
    (30, 1.001) as in Blender's own presets.
    """
    whole = max(1, int(round(fps)))
    return whole, whole / float(fps)
