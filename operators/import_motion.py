"""File > Import > SMPL-X / blender-mocap motion (.npz): a motion file -> a take.

Adapter only: operator properties + the SMPL-X folder preference ->
:class:`BuildOptions` -> ``read_motion`` -> one ``build_take`` call (one undo
step; a failure leaves the scene as it was).
"""

from pathlib import Path

import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ImportHelper

from ..blender_mocap.properties import option_property
from ..core.errors import MocapError


class MOCAP_OT_import_motion(bpy.types.Operator, ImportHelper):  # type: ignore[misc]
    """Import a motion file (blender-mocap, or AMASS / SMPL-X .npz) as an animated SMPL-X take"""

    bl_idname = "mocap.import_motion"
    bl_label = "Import SMPL-X Motion"
    bl_options = {'REGISTER', 'UNDO'}

    filename_ext = ".npz"
    filter_glob: StringProperty(default="*.npz", options={'HIDDEN'})  # type: ignore[valid-type]
    ground: option_property("ground")  # type: ignore[valid-type]
    correctives: option_property("correctives")  # type: ignore[valid-type]
    resample: option_property("resample")  # type: ignore[valid-type]
    # File > Import adds new things by default; 'ACTIVE' puts the take on the selected rig.
    target: option_property("target", default="new")  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        from ..blender_mocap.preferences import smplx_dir
        from ..blender_mocap.scene import build_take
        from ..blender_mocap.take import record_motion_file, rig_of
        from ..blender_mocap.settings import build_options_from_props
        from ..core.motion import read_motion

        path = Path(self.filepath)  # type: ignore[attr-defined]  # ImportHelper's property
        options = build_options_from_props(self, smplx_dir=smplx_dir(context), blend_filepath=bpy.data.filepath)
        target = rig_of(context.active_object) if self.target == 'ACTIVE' else None
        wm = context.window_manager
        if wm is not None:  # a long take keys for a while: the cursor shows how far it is
            wm.progress_begin(0, 1000)
        try:
            motion = read_motion(path)
            video = motion.source_video if motion.source_video and Path(motion.source_video).is_file() else None
            take = build_take(context, motion, name=path.stem, video_path=video, options=options, target=target,
                              progress=lambda f, what: wm.progress_update(f * 1000) if wm is not None else None)
        except MocapError as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        finally:
            if wm is not None:
                wm.progress_end()
        record_motion_file(take, path)
        for warning in take.warnings:
            self.report({'WARNING'}, warning)
        where = f"onto '{take.armature.name}'" if take.reused else f"as '{take.armature.name}'"
        self.report({'INFO'}, f"Imported {motion.num_frames} frames from {path.name} {where} "
                              f"(action '{take.action.name}')")
        return {'FINISHED'}


def menu_func_import(self: bpy.types.Menu, context: bpy.types.Context) -> None:
    if self.layout is not None:
        self.layout.operator(MOCAP_OT_import_motion.bl_idname, text="SMPL-X / blender-mocap motion (.npz)")
