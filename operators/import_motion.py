"""File > Import > SMPL-X / blender-mocap motion (.npz): a motion file -> a take."""

from pathlib import Path

import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ImportHelper

from ..core.errors import MocapError


class MOCAP_OT_import_motion(bpy.types.Operator, ImportHelper):  # type: ignore[misc]
    """Import a motion file (blender-mocap or AMASS SMPL-X .npz) as an animated take"""

    bl_idname = "mocap.import_motion"
    bl_label = "Import SMPL-X Motion"
    bl_options = {'REGISTER', 'UNDO'}

    filename_ext = ".npz"
    filter_glob: StringProperty(default="*.npz", options={'HIDDEN'})  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        from ..blender_mocap.scene import build_take
        from ..core.motion import read_motion

        path = Path(self.filepath)  # type: ignore[attr-defined]  # ImportHelper's property
        try:
            motion = read_motion(path)
            video = motion.source_video if motion.source_video and Path(motion.source_video).is_file() else None
            take = build_take(context, motion, name=path.stem, video_path=video)
        except MocapError as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        self.report({'INFO'}, f"Imported {motion.num_frames} frames from {path.name} as '{take.armature.name}'")
        return {'FINISHED'}


def menu_func_import(self: bpy.types.Menu, context: bpy.types.Context) -> None:
    if self.layout is not None:
        self.layout.operator(MOCAP_OT_import_motion.bl_idname, text="SMPL-X / blender-mocap motion (.npz)")
