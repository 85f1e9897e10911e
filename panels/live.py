"""The Live sub-panel of the Mocap tab (draw code in ``draw.draw_live_panel``)."""

import bpy

from ..blender_mocap import live
from .draw import draw_live_panel
from .sidebar import MocapSidebar


class MOCAP_PT_live(MocapSidebar, bpy.types.Panel):
    """Drive a character live from a camera or stream"""

    bl_idname = "MOCAP_PT_live"
    bl_label = "Live"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context: bpy.types.Context) -> None:
        props = getattr(context.scene, "mocap", None)
        if props is None or self.layout is None:
            return
        session = live.current()
        draw_live_panel(self.layout, props, status=session.status() if session is not None else None)
