"""The Mocap tab of the 3D View sidebar."""

import bpy

from ..blender_mocap import runs
from ..blender_mocap.preferences import STATUS
from .draw import draw_capture_panel
from .sidebar import MocapSidebar


class MOCAP_PT_capture(MocapSidebar, bpy.types.Panel):
    """Capture a video into an animated SMPL-X take"""

    bl_idname = "MOCAP_PT_capture"
    bl_label = "Motion Capture"

    def draw(self, context: bpy.types.Context) -> None:
        props = getattr(context.scene, "mocap", None)
        if props is None or self.layout is None:
            return
        run = runs.CAPTURE.current
        running = f"{run.status} ({run.fraction:.0%}) - Esc to cancel" if run is not None else ""
        draw_capture_panel(
            self.layout, props, engine_line=STATUS.line(), engine_ok=STATUS.usable and not STATUS.busy,
            running=running,
        )
