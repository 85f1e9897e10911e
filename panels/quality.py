"""The Quality sub-panel: how good the active character's current take is."""

import bpy

from ..blender_mocap.scene import LOW_CONFIDENCE_PROP, QUALITY_PROP, rig_of
from .draw import draw_quality_panel


class MOCAP_PT_quality(bpy.types.Panel):
    """Quality figures of the active take (also in the motion file and batch report.json)"""

    bl_idname = "MOCAP_PT_quality"
    bl_label = "Take Quality"
    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "Mocap"
    bl_parent_id = "MOCAP_PT_capture"

    def draw(self, context: bpy.types.Context) -> None:
        if self.layout is None:
            return
        rig = rig_of(context.active_object)
        anim = rig.animation_data if rig is not None else None
        action = anim.action if anim is not None else None
        stored = action.get(QUALITY_PROP) if action is not None else None
        quality = {str(k): float(v) for k, v in stored.items()} if stored is not None else None
        low = str(action.get(LOW_CONFIDENCE_PROP, "")) if action is not None else ""
        draw_quality_panel(self.layout, quality, low)
