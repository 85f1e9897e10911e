"""The add-on's scene settings: one property group, ``scene.mocap``.

The capture, cleanup and scene-building properties are made from the option
table (``core/options.py``, through ``settings.scene_property_specs``); the
others (paths, batch folders) are declared here.
"""

from collections.abc import Callable
from typing import Any

import bpy
from bpy.props import BoolProperty, CollectionProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

from ..core.options import OPTION
from .settings import property_spec, scene_property_specs

_PROPERTY_FUNCTIONS: dict[str, Callable[..., Any]] = {"BoolProperty": BoolProperty, "EnumProperty": EnumProperty,
                       "FloatProperty": FloatProperty, "IntProperty": IntProperty, "StringProperty": StringProperty}


def _make(spec: tuple[str, dict[str, Any]]) -> Any:
    kind, kwargs = spec
    return _PROPERTY_FUNCTIONS[kind](**kwargs)


def option_property(name: str, **override: Any) -> Any:
    """The Blender property of the option ``name`` (``core/options.py``), e.g. for an operator.

    ``override`` replaces its arguments, in option values: ``option_property("target", default="new")``.
    """
    return _make(property_spec(OPTION[name], **override))


BATCH_FORMAT_ITEMS = [
    ('BLEND', ".blend", "A Blender file with the take"),
    ('FBX', "FBX", "Armature, body and animation for other 3D tools"),
    ('BVH', "BVH", "Skeleton animation"),
    ('GLB', "glTF", "Binary glTF (.glb) with the skinned body and animation"),
    ('NPZ', "Motion", "The motion file (SMPL-X parameters)"),
]


class MOCAP_PG_video(bpy.types.PropertyGroup):
    """One video of a multi-camera take (an item of ``scene.mocap.multi_videos``)."""

    path: StringProperty(  # type: ignore[valid-type]
        name="Video", description="A video of the performance, filmed by one of the cameras", subtype='FILE_PATH')


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
    batch_input_dir: StringProperty(  # type: ignore[valid-type]
        name="Videos",
        description=("Folder of videos to convert (its video files, not sub-folders); with Multi-Camera Takes, a "
                     "folder holding one performance's videos, or a folder of such folders"),
        subtype='DIR_PATH',
        default="",
    )
    batch_output_dir: StringProperty(  # type: ignore[valid-type]
        name="Output",
        description="Folder for the converted files and report.json",
        subtype='DIR_PATH',
        default="",
    )
    batch_multi_camera: BoolProperty(  # type: ignore[valid-type]
        name="Multi-Camera Takes",
        description=("Each sub-folder holds the videos of one performance, one per camera (sorted by name: the "
                     "first is camera 1), or the folder itself does. The Multi-Camera panel's rig file and "
                     "person height apply to every take"),
        default=False,
    )
    batch_outputs: EnumProperty(  # type: ignore[valid-type]
        name="Formats",
        description="Files to write for each video",
        items=BATCH_FORMAT_ITEMS,
        options={'ENUM_FLAG'},
        default={'BLEND', 'NPZ'},
    )
    multi_videos: CollectionProperty(  # type: ignore[valid-type]
        type=MOCAP_PG_video, name="Videos",
        description="The videos of one performance, one per camera (2 to 8); the first is camera 1")
    multi_video_index: IntProperty(name="Active Video", default=0, min=0)  # type: ignore[valid-type]


# Blender reads the annotations when the class is registered: add the option properties.
vars(MOCAP_PG_settings)["__annotations__"].update({name: _make(spec) for name, spec in scene_property_specs().items()})
