"""The take's camera: placed and shaped like the video's camera, with the video behind it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import bpy
import numpy as np
from mathutils import Matrix

from . import convert
from .build_context import BuildContext, Created
from .take_keys import ROLE, ROLE_CAMERA


def build_camera(ctx: BuildContext, arm_obj: bpy.types.Object) -> tuple[bpy.types.Object, bpy.types.MovieClip | None]:
    """The camera object (and the video as its background clip, when it loads) in the take's collection.

    Needs ``ctx.motion.camera_intrinsics`` and ``image_size``.
    """
    motion = ctx.motion
    K, image_size = motion.camera_intrinsics, motion.image_size
    assert K is not None and image_size is not None  # checked by the caller
    extrinsics = motion.camera_extrinsics if motion.camera_extrinsics is not None else np.eye(4)
    return place_camera(ctx, arm_obj, f"{ctx.name}_camera", K, image_size, extrinsics, ctx.video_path)


def camera_matrix_world(arm_obj: bpy.types.Object, extrinsics: np.ndarray, world_up: np.ndarray) -> Matrix:
    """The Blender matrix_world of a camera with OpenCV camera-from-world ``extrinsics`` (4, 4) in a motion's
    world (``world_up``), for the take keyed on ``arm_obj``. The live session moves its camera with it."""
    rotation, location = convert.blender_camera_pose_from_opencv_extrinsics(extrinsics, world_up)
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = location
    # The take is keyed in the rig's space: if the animator moved a re-used
    # rig, the camera goes with it so the overlay still holds.
    rig_default = np.eye(4)
    rig_default[:3, :3] = convert.BLENDER_FROM_SMPLX_MODEL
    moved = np.array(arm_obj.matrix_world) @ rig_default.T
    return Matrix((moved @ matrix).tolist())


def place_camera(ctx: BuildContext, arm_obj: bpy.types.Object, name: str, K: np.ndarray, image_size: np.ndarray,
                 extrinsics: np.ndarray, video_path: str | None,
                 ) -> tuple[bpy.types.Object, bpy.types.MovieClip | None]:
    """A camera object ``name`` in the take's collection: OpenCV ``K`` (3, 3) and camera-from-world
    ``extrinsics`` (4, 4) in the motion's world, ``video_path`` (when it loads) as its background."""
    created = ctx.created
    cam_data = created.add(bpy.data.cameras.new(name))
    cam_obj = created.add(bpy.data.objects.new(name, cam_data))
    ctx.collection.objects.link(cam_obj)
    cam_obj[ROLE] = ROLE_CAMERA

    cam_obj.matrix_world = camera_matrix_world(arm_obj, extrinsics, ctx.motion.world_up)

    lens = convert.blender_lens_from_opencv_intrinsics(K, image_size)
    cam_data.sensor_fit = 'HORIZONTAL'
    cam_data.sensor_width = lens["sensor_width"]
    cam_data.lens = lens["lens"]
    cam_data.shift_x = lens["shift_x"]
    cam_data.shift_y = lens["shift_y"]

    clip = _load_background(cam_data, video_path, created, ctx.warnings) if video_path else None
    return cam_obj, clip


def _load_background(cam_data: Any, video_path: str, created: Created,
                     warnings: list[str]) -> bpy.types.MovieClip | None:
    """Load the video as a movie clip behind the camera; returns the clip or None."""
    if not os.path.isfile(video_path):
        warnings.append(f"video not found, the camera has no background: {video_path}")
        return None
    existing = set(bpy.data.movieclips)
    try:
        clip = bpy.data.movieclips.load(str(Path(video_path).resolve()), check_existing=True)
    except RuntimeError as exc:
        warnings.append(f"could not load the video {video_path} as background: {exc}")
        return None
    if tuple(clip.size) == (0, 0):
        warnings.append(f"Blender cannot read the video {video_path}; the camera has no background")
        if clip not in existing:
            bpy.data.movieclips.remove(clip)
        return None
    if clip not in existing:
        created.add(clip)
    # Movie clip frame 1 shows video frame 0, as scene frame f + 1 does.
    clip.frame_start = 1
    background = cam_data.background_images.new()
    background.source = 'MOVIE_CLIP'
    background.clip = clip
    cam_data.show_background_images = True
    return clip
