"""The add-on's scene settings: one property group, ``scene.mocap``."""

import math

import bpy
from bpy.props import BoolProperty, FloatProperty, IntProperty, StringProperty


class MOCAP_PG_settings(bpy.types.PropertyGroup):
    """Capture options stored with the scene (saved in the .blend)."""

    video_path: StringProperty(  # type: ignore[valid-type]
        name="Video",
        description="Video of one person to capture",
        subtype='FILE_PATH',
        default="",
    )
    output_dir: StringProperty(  # type: ignore[valid-type]
        name="Output Folder",
        description=(
            "Folder for the motion files. Empty: a 'mocap' folder next to the .blend file "
            "(a temporary folder while the file is unsaved)"
        ),
        subtype='DIR_PATH',
        default="",
    )
    frame_start: IntProperty(  # type: ignore[valid-type]
        name="Start",
        description="First video frame to capture (0 = the first frame of the video)",
        default=0,
        min=0,
    )
    frame_end: IntProperty(  # type: ignore[valid-type]
        name="End",
        description="Last video frame to capture (-1 = to the end of the video)",
        default=-1,
        min=-1,
    )
    frame_stride: IntProperty(  # type: ignore[valid-type]
        name="Stride",
        description="Capture every n-th frame (1 = every frame)",
        default=1,
        min=1,
        soft_max=10,
    )
    max_frames: IntProperty(  # type: ignore[valid-type]
        name="Max Frames",
        description="Stop after this many captured frames (0 = no limit)",
        default=0,
        min=0,
    )
    use_fov: BoolProperty(  # type: ignore[valid-type]
        name="Set Field of View",
        description="Use the known horizontal field of view of the camera instead of the default (60 degrees)",
        default=False,
    )
    fov: FloatProperty(  # type: ignore[valid-type]
        name="Field of View",
        description="Horizontal field of view of the camera that shot the video",
        subtype='ANGLE',
        default=math.radians(60.0),
        min=math.radians(5.0),
        max=math.radians(170.0),
    )
