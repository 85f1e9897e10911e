"""Draw code of the Multi-Camera sub-panel as free functions (no bpy import at run time, so tests draw it
on a layout mock specced from the bpy stubs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .draw import draw_toggled_prop

if TYPE_CHECKING:
    import bpy

CAPTURE_MULTI_OPERATOR = "mocap.capture_multi"
VIDEO_LIST = "MOCAP_UL_multi_videos"


def draw_video_row(layout: bpy.types.UILayout, item: Any, index: int) -> None:
    """One video of the list: its camera number and file (editable)."""
    row = layout.row(align=True)
    row.label(text=f"{index + 1}", icon='CAMERA_DATA' if index else 'OUTLINER_OB_CAMERA')
    row.prop(item, "path", text="", emboss=False, icon='FILE_MOVIE')


def draw_multicam_panel(layout: bpy.types.UILayout, props: Any, *, running: str = "") -> None:
    """The videos (camera 1 first), how they are synced and calibrated, and Capture Multi-Camera.

    The capture options of the Motion Capture panel (frames, engine, body, cleanup,
    scene) apply to every video; the first video's frames are the take's.
    """
    layout.use_property_split = True
    layout.use_property_decorate = False
    row = layout.row()
    row.template_list(VIDEO_LIST, "", props, "multi_videos", props, "multi_video_index", rows=3)
    col = row.column(align=True)
    col.operator("mocap.multi_video_add", text="", icon='ADD')
    col.operator("mocap.multi_video_remove", text="", icon='REMOVE')
    col.separator()
    col.operator("mocap.multi_video_move", text="", icon='TRIA_UP').direction = 'UP'
    col.operator("mocap.multi_video_move", text="", icon='TRIA_DOWN').direction = 'DOWN'

    box = layout.box()
    box.label(text="Sync", icon='SOUND')
    draw_toggled_prop(box, props, "multi_offsets")

    box = layout.box()
    box.label(text="Cameras", icon='CON_CAMERASOLVER')
    draw_toggled_prop(box, props, "multi_calibration")
    draw_toggled_prop(box, props, "multi_person_height", also=not props.multi_from_file)
    box.prop(props, "multi_save_calibration")

    layout.label(text="Frames, engine, body, cleanup and scene: as set above", icon='INFO')
    row = layout.row()
    row.scale_y = 1.5
    if running:
        row.label(text=running, icon='SORTTIME')
    else:
        row.operator(CAPTURE_MULTI_OPERATOR, text="Capture Multi-Camera", icon='REC')
