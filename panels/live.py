"""The Live panel: source, options, Go Live / Record / Stop, and the session's figures."""

from __future__ import annotations

import bpy

from ..blender_mocap import live


class MOCAP_PT_live(bpy.types.Panel):
    """Drive a character live from a camera or stream"""

    bl_idname = "MOCAP_PT_live"
    bl_label = "Live"
    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "Mocap"
    bl_options = {'DEFAULT_CLOSED'}

    def draw(self, context: bpy.types.Context) -> None:
        props = getattr(context.scene, "mocap", None)
        layout = self.layout
        if props is None or layout is None:
            return
        session = live.SESSIONS[-1] if live.SESSIONS else None
        col = layout.column()
        col.enabled = session is None
        col.prop(props, "live_source")
        col.prop(props, "realtime")
        col.prop(props, "vmc")
        col.prop(props, "smoothing")
        if session is None:
            layout.operator("mocap.live", icon='PLAY')
            return
        layout.label(text=session.status())
        row = layout.row()
        row.operator("mocap.live_record", icon='REC')
        row.operator("mocap.live_stop", icon='SNAP_FACE')
