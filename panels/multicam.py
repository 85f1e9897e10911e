"""The Multi-Camera sub-panel of the Mocap tab: several videos of one performance into one take."""

from __future__ import annotations

import bpy

from ..blender_mocap import runs
from .multicam_draw import VIDEO_LIST, draw_multicam_panel, draw_video_row
from .sidebar import MocapSubPanel


class MOCAP_UL_multi_videos(bpy.types.UIList):
    """The videos of a multi-camera take, camera 1 first"""

    bl_idname = VIDEO_LIST

    def draw_item(self, context, layout, data, item, icon, active_data, active_property, index=0, flt_flag=0):
        draw_video_row(layout, item, index)


class MOCAP_PT_multicam(MocapSubPanel, bpy.types.Panel):
    """Capture one person filmed by 2 to 8 cameras (phones) into one take with every camera"""

    bl_idname = "MOCAP_PT_multicam"
    bl_label = "Multi-Camera"

    def draw(self, context: bpy.types.Context) -> None:
        props = getattr(context.scene, "mocap", None)
        if props is None or self.layout is None:
            return
        run = runs.CAPTURE.current
        draw_multicam_panel(self.layout, props,
                            running=f"{run.status} ({run.fraction:.0%}) - Esc to cancel" if run is not None else "")
