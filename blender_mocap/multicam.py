"""Every further camera of a take filmed by several videos (motion file v3), each with its own video behind it.

Camera 0 is the take's own camera (``camera.build_camera``); cameras 1.. are
built the same way from the motion's camera list, named after the take and the
camera, so the overlay can be checked from every view: select one and make it
the active camera (Ctrl+Numpad 0). Each background clip starts on the scene
frame where its video started (the offsets of the sync). Blender plays a movie
clip one frame per scene frame, so a video at another frame rate than camera
0's drifts: that is said in the take's warnings.
"""

from __future__ import annotations

import bpy
import numpy as np

from . import prepare
from .build_context import BuildContext
from .camera import place_camera

IMAGE_SIZE = "mocap_image_size"
"""Custom property of each camera object: its video's (width, height); the scene renders camera 0's."""


def build_other_cameras(ctx: BuildContext, arm_obj: bpy.types.Object,
                        ) -> list[tuple[bpy.types.Object, bpy.types.MovieClip | None]]:
    """Cameras 1.. of ``ctx.motion.cameras`` (none for a one-camera take), with their backgrounds."""
    cams = ctx.motion.cameras
    if cams is None or cams.num_cameras < 2:
        return []
    rate = float(prepare.video_rate(ctx.motion))
    built = []
    for k in range(1, cams.num_cameras):
        name = f"{ctx.name}_camera_{k + 1}_{cams.names[k]}"
        cam_obj, clip = place_camera(ctx, arm_obj, name, cams.intrinsics[k], cams.image_size[k],
                                     cams.extrinsics[k], cams.videos[k] or None)
        cam_obj[IMAGE_SIZE] = [int(v) for v in cams.image_size[k]]
        if clip is not None:
            # Scene frame f + 1 shows video 0's frame f; video k's first frame is time_offsets[k] later.
            clip.frame_start = 1 + int(round(float(cams.time_offsets[k]) * rate))
            if abs(float(cams.fps[k]) - rate) > 0.01:
                ctx.warnings.append(f"camera {k + 1}'s video runs at {float(cams.fps[k]):g} fps against the "
                                    f"take's {rate:g}: Blender plays one clip frame per scene frame, so its "
                                    "background drifts from the take")
        built.append((cam_obj, clip))
    first = cams.image_size[0]
    if np.any(cams.image_size[1:] != first):
        ctx.warnings.append("the cameras' videos differ in size: the scene renders camera 1's "
                            f"{int(first[0])}x{int(first[1])}; set the output size to a camera's "
                            f"'{IMAGE_SIZE}' to look through it")
    return built
