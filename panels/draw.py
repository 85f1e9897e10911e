"""Draw code for the Mocap panel as free functions (no bpy import at run time).

The panel class calls these; tests call them with a layout mock whose spec
comes from the bpy stubs, so a wrong property name or a misspelt layout
method fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.options import OPTIONS

if TYPE_CHECKING:
    import bpy

CAPTURE_OPERATOR = "mocap.capture"
IMPORT_OPERATOR = "mocap.import_motion"
PREVIEW_OPERATOR = "mocap.preview"


def draw_dimmed_prop(layout: bpy.types.UILayout, props: Any, name: str, *, active: bool) -> None:
    """``props.<name>`` on a row of its own, greyed out (still editable) unless ``active``: the option counts
    only when another one is set."""
    row = layout.row()
    row.active = active
    row.prop(props, name)


TOGGLES = {option.prop: option.ui.toggle[0] for option in OPTIONS if option.ui is not None and option.ui.toggle}
"""Property -> the checkbox property that must be on for its value to count (the option table's ``Ui.toggle``)."""


def draw_toggled_prop(layout: bpy.types.UILayout, props: Any, name: str, *, also: bool = True) -> None:
    """``props.<name>``'s checkbox (``TOGGLES``), then the value, greyed out unless the checkbox is on and ``also``."""
    toggle = TOGGLES[name]
    layout.prop(props, toggle)
    draw_dimmed_prop(layout, props, name, active=bool(getattr(props, toggle)) and also)


def draw_camera_tilt(layout: bpy.types.UILayout, props: Any) -> None:
    """Level Camera, and the camera's known pitch and roll (each with its Set toggle; else estimated)."""
    layout.prop(props, "level_camera")
    for angle in ("camera_pitch", "camera_roll"):
        row = layout.row()
        row.active = not props.level_camera
        row.prop(props, TOGGLES[angle])
        sub = row.row()
        sub.active = bool(getattr(props, TOGGLES[angle])) and not props.level_camera
        sub.prop(props, angle, text="")


def draw_capture_panel(
    layout: bpy.types.UILayout,
    props: Any,
    *,
    engine_line: str,
    engine_ok: bool,
    running: str = "",
) -> None:
    """The capture panel: video, options, Capture and Import buttons, engine status.

    Args:
        layout: the panel's layout.
        props: the scene's ``mocap`` property group.
        engine_line: cached engine status text (no process is started here).
        engine_ok: whether that status allows a capture.
        running: status of a capture in progress, "" when none runs.
    """
    layout.use_property_split = True
    layout.use_property_decorate = False

    col = layout.column()
    col.prop(props, "video_path")
    col.prop(props, "output_dir")

    box = layout.box()
    box.label(text="Frames", icon='FILE_MOVIE')
    sub = box.column(align=True)
    sub.prop(props, "frame_start")
    sub.prop(props, "frame_end")
    sub.prop(props, "frame_stride")
    sub.prop(props, "max_frames")

    box = layout.box()
    box.label(text="Camera & Engine", icon='CAMERA_DATA')
    draw_toggled_prop(box, props, "fov")
    draw_camera_tilt(box, props)
    box.prop(props, "preset")
    box.prop(props, "device")
    box.prop(props, "pose_backend")
    box.prop(props, "people")
    draw_dimmed_prop(box, props, "person", active=props.people != 'ALL')  # everyone is captured: no one to pick

    box = layout.box()
    box.label(text="Body", icon='ARMATURE_DATA')
    box.prop(props, "body_model")
    draw_dimmed_prop(box, props, "gender", active=props.body_model != 'MANNEQUIN')

    box = layout.box()
    box.label(text="Cleanup", icon='MOD_SMOOTH')
    box.prop(props, "foot_lock")
    col = box.column(align=True)
    col.prop(props, "smoothing")
    col.prop(props, "smoothing_hands")
    col.prop(props, "smoothing_face")

    box = layout.box()
    box.label(text="Scene", icon='SCENE_DATA')
    box.prop(props, "target")
    box.prop(props, "ground")
    box.prop(props, "correctives")
    box.prop(props, "resample")

    row = layout.row()
    row.scale_y = 1.5
    if running:
        row.label(text=running, icon='SORTTIME')
    else:
        row.operator(CAPTURE_OPERATOR, text="Capture", icon='REC')
    row = layout.row(align=True)
    row.operator(PREVIEW_OPERATOR, text="Preview", icon='SEQUENCE')
    row.operator(IMPORT_OPERATOR, text="Import Motion File...", icon='IMPORT')

    layout.label(text=engine_line, icon='CHECKMARK' if engine_ok else 'ERROR')


BATCH_OPERATOR = "mocap.batch"


def draw_batch_panel(layout: bpy.types.UILayout, props: Any, *, running: str = "") -> None:
    """The batch sub-panel: folders, formats, Convert Folder button or the running status.

    The capture options of the main panel (frames, body, quality, scene)
    apply to every video of the batch; with Multi-Camera Takes, each take is
    a folder of videos and the Multi-Camera panel's rig file and person
    height apply too.
    """
    layout.use_property_split = True
    layout.use_property_decorate = False
    col = layout.column()
    col.prop(props, "batch_input_dir")
    col.prop(props, "batch_output_dir")
    col.prop(props, "batch_multi_camera")
    layout.prop(props, "batch_outputs")
    row = layout.row()
    row.scale_y = 1.3
    if running:
        row.label(text=running, icon='SORTTIME')
    else:
        row.operator(BATCH_OPERATOR, text="Convert Folder", icon='FILE_FOLDER')


def draw_live_panel(layout: bpy.types.UILayout, props: Any, *, status: str | None) -> None:
    """The Live sub-panel: source and options, then Go Live; while a session runs (``status``: its
    figures line) the options are greyed out and Record / Stop show instead."""
    layout.use_property_split = True
    layout.use_property_decorate = False
    col = layout.column()
    col.enabled = status is None
    for name in ("live_source", "live_realtime", "live_vmc", "live_lag"):
        col.prop(props, name)
    smoothing = col.column()
    smoothing.enabled = not getattr(props, "live_lag", 0)  # a lag's window smooths instead of the filter
    smoothing.prop(props, "smoothing")
    row = layout.row()
    row.scale_y = 1.3
    if status is None:
        row.operator("mocap.live", icon='PLAY')
        return
    layout.label(text=status)
    row.operator("mocap.live_record", icon='REC')
    row.operator("mocap.live_stop", icon='PAUSE')


QUALITY_LABELS: dict[str, tuple[str, str, float]] = {
    # figure name: (label, unit, scale)
    "mean_reprojection_error_px": ("Reprojection error", "px", 1.0),
    "low_confidence_fraction": ("Low-confidence frames", "%", 100.0),
    "bridged_frames": ("Bridged frames", "", 1.0),
    "jitter_mm_per_frame2": ("Jitter", "mm/frame²", 1.0),
    "foot_skate_mm": ("Foot skate", "mm/frame", 1.0),
    "ground_penetration_mm": ("Ground penetration", "mm", 1.0),
    "ground_levels": ("Ground levels", "", 1.0),
    "up_uncertainty_degrees": ("Up direction uncertainty", "°", 1.0),
    "camera_pitch_degrees": ("Camera pitch (down)", "°", 1.0),
    "camera_roll_degrees": ("Camera roll", "°", 1.0),
}


def quality_lines(quality: dict[str, float]) -> list[str]:
    """Readable lines for a take's quality figures, known figures first, in a fixed order."""
    lines = []
    for key, (label, unit, scale) in QUALITY_LABELS.items():
        if key in quality:
            value = float(quality[key]) * scale
            text = f"{value:.0f}" if unit in ("", "%") else f"{value:.1f}"
            lines.append(f"{label}: {text}{' ' + unit if unit and unit != '%' else unit}")
    return lines


def draw_quality_panel(layout: bpy.types.UILayout, quality: dict[str, float] | None, low_ranges: str = "",
                       warnings: Sequence[str] = (), up_source: str = "") -> None:
    """The take's quality figures, where its up direction came from, which frames are weak, and the capture's warnings."""
    if not quality:
        layout.label(text="Select a captured character to see its take's quality", icon='INFO')
        return
    col = layout.column(align=True)
    for line in quality_lines(quality):
        col.label(text=line)
    if up_source:
        col.label(text=f"Up from {up_source}")
    if low_ranges:
        layout.label(text=f"Low confidence: frames {low_ranges}", icon='ERROR')
        layout.label(text="(red keys on the Mocap channel in the Dope Sheet)")
    for warning in warnings:
        layout.label(text=warning, icon='ERROR')
