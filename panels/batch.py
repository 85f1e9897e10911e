"""The Batch sub-panel of the Mocap tab: a folder of videos in, finished files out."""

import bpy

from ..blender_mocap import runs
from .draw import draw_batch_panel


class MOCAP_PT_batch(bpy.types.Panel):
    """Convert a folder of videos with the capture options above"""

    bl_idname = "MOCAP_PT_batch"
    bl_label = "Batch"
    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "Mocap"
    bl_parent_id = "MOCAP_PT_capture"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context: bpy.types.Context) -> None:
        props = getattr(context.scene, "mocap", None)
        if props is None or self.layout is None:
            return
        run = runs.BATCH.current
        draw_batch_panel(self.layout, props, running=f"{run.status} - Esc to cancel" if run else "")
