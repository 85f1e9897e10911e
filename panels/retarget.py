"""The Retarget to… sub-panel: pick the character, the mapping, edit the list, retarget."""

from __future__ import annotations

from typing import Any

import bpy


class MOCAP_UL_retarget_bones(bpy.types.UIList):
    """Target bone <- SMPL-X joint"""

    bl_idname = "MOCAP_UL_retarget_bones"

    def draw_item(self, context, layout, data, item, icon, active_data, active_property, index=0, flt_flag=0):
        draw_bone_row(layout, item)


def draw_bone_row(layout: bpy.types.UILayout, item: Any) -> None:
    """One row: the bone's name, and the joint it takes (editable)."""
    row = layout.row(align=True)
    row.label(text=item.bone, icon='BONE_DATA')
    row.prop(item, "joint", text="")


def draw_retarget_panel(layout: bpy.types.UILayout, props: Any, has_take: bool) -> None:
    """The panel's body, as a free function (tests draw it on a spec'd layout)."""
    layout.prop(props, "target")
    row = layout.row(align=True)
    row.prop(props, "preset")
    if props.preset == "FILE":
        layout.prop(props, "preset_file", text="")
    row = layout.row(align=True)
    row.operator("mocap.retarget_map", icon='GROUP_BONE')
    row.operator("mocap.retarget_save_preset", text="Save Preset", icon='FILE_TICK')
    if props.target is not None and props.mapped_for == props.target.name and len(props.bones):
        layout.template_list("MOCAP_UL_retarget_bones", "", props, "bones", props, "active_bone", rows=6)
    elif props.target is not None:
        layout.label(text="Mapped by the choice above (Map Bones to see and edit it)", icon='INFO')
    col = layout.column()
    col.enabled = has_take and props.target is not None
    col.operator("mocap.retarget", text="Retarget", icon='ARMATURE_DATA')
    if not has_take:
        layout.label(text="Select a take's armature to retarget", icon='INFO')


class MOCAP_PT_retarget(bpy.types.Panel):
    """Put the active take on your own character (Rigify, Mixamo, Unreal or any humanoid armature)"""

    bl_idname = "MOCAP_PT_retarget"
    bl_label = "Retarget to…"
    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "Mocap"
    bl_parent_id = "MOCAP_PT_capture"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context: bpy.types.Context) -> None:
        props = getattr(context.scene, "mocap_retarget", None)
        if props is None or self.layout is None:
            return
        from ..operators.retarget import take_rig

        draw_retarget_panel(self.layout, props, take_rig(context) is not None)
