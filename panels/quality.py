"""The Quality sub-panel: how good the active character's current take is."""

import bpy

from ..blender_mocap.take import take_quality, take_up_source, take_warnings
from .draw import draw_quality_panel
from .sidebar import MocapSidebar


class MOCAP_PT_quality(MocapSidebar, bpy.types.Panel):
    """Quality figures of the active take (also in the motion file and batch report.json)"""

    bl_idname = "MOCAP_PT_quality"
    bl_label = "Take Quality"
    bl_parent_id = "MOCAP_PT_capture"

    def draw(self, context: bpy.types.Context) -> None:
        if self.layout is None:
            return
        quality, low = take_quality(context.active_object)
        draw_quality_panel(self.layout, quality, low, take_warnings(context.active_object),
                           up_source=take_up_source(context.active_object))
