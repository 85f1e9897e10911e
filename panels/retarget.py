"""The Retarget to… sub-panel: pick the character, the mapping, edit the list, retarget."""

from __future__ import annotations

import bpy

from ..blender_mocap.retarget.apply import take_rig
from .retarget_draw import draw_bone_row, draw_retarget_panel
from .sidebar import MocapSubPanel


class MOCAP_UL_retarget_bones(bpy.types.UIList):
    """Target bone <- SMPL-X joint"""

    bl_idname = "MOCAP_UL_retarget_bones"

    def draw_item(self, context, layout, data, item, icon, active_data, active_property, index=0, flt_flag=0):
        draw_bone_row(layout, item)


class MOCAP_PT_retarget(MocapSubPanel, bpy.types.Panel):
    """Put the active take on your own character (Rigify, Mixamo, Unreal or any humanoid armature)"""

    bl_idname = "MOCAP_PT_retarget"
    bl_label = "Retarget to…"

    def draw(self, context: bpy.types.Context) -> None:
        props = getattr(context.scene, "mocap_retarget", None)
        if props is None or self.layout is None:
            return
        draw_retarget_panel(self.layout, props, take_rig(context) is not None)
