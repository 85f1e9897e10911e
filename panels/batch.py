"""The Batch sub-panel of the Mocap tab: a folder of videos in, finished files out."""

import bpy

from ..blender_mocap import runs
from .draw import draw_batch_panel
from .sidebar import MocapSubPanel


class MOCAP_PT_batch(MocapSubPanel, bpy.types.Panel):
    """Convert a folder of videos with the capture options above"""

    bl_idname = "MOCAP_PT_batch"
    bl_label = "Batch"

    def draw(self, context: bpy.types.Context) -> None:
        props = getattr(context.scene, "mocap", None)
        if props is None or self.layout is None:
            return
        run = runs.BATCH.current
        draw_batch_panel(self.layout, props, running=f"{run.status} - Esc to cancel" if run else "")
