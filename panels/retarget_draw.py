"""Draw code of the Retarget to… panel as free functions (no bpy import at run time, so tests draw it on a
layout mock specced from the bpy stubs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import bpy


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
