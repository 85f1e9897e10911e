"""Register and unregister every class of the extension, in one ordered list.

The top of the Blender side's layers: it imports the operators and panels,
and nothing imports it but the extension's ``__init__`` (lazily, so the
package imports without bpy).
"""

import bpy

from .blender_mocap.live import stop_all as stop_all_live
from .blender_mocap.preferences import MOCAP_AP_preferences, configured_python, refresh_status
from .blender_mocap.properties import MOCAP_PG_settings, MOCAP_PG_video
from .blender_mocap.retarget.props import MOCAP_PG_retarget, MOCAP_PG_retarget_bone
from .operators.batch import MOCAP_OT_batch
from .operators.capture import MOCAP_OT_capture
from .operators.engine import MOCAP_OT_check_engine, MOCAP_OT_create_engine
from .operators.import_motion import MOCAP_OT_import_motion, menu_func_import
from .operators.live import MOCAP_OT_live, MOCAP_OT_live_record, MOCAP_OT_live_stop, live_timer
from .operators.multicam import (
    MOCAP_OT_capture_multi,
    MOCAP_OT_multi_video_add,
    MOCAP_OT_multi_video_move,
    MOCAP_OT_multi_video_remove,
)
from .operators.preview import MOCAP_OT_preview
from .operators.retarget import MOCAP_OT_retarget, MOCAP_OT_retarget_map, MOCAP_OT_retarget_save_preset
from .panels.batch import MOCAP_PT_batch
from .panels.capture import MOCAP_PT_capture
from .panels.live import MOCAP_PT_live
from .panels.multicam import MOCAP_PT_multicam, MOCAP_UL_multi_videos
from .panels.quality import MOCAP_PT_quality
from .panels.retarget import MOCAP_PT_retarget, MOCAP_UL_retarget_bones

CLASSES: tuple[type, ...] = (
    MOCAP_PG_video,
    MOCAP_PG_settings,
    MOCAP_PG_retarget_bone,
    MOCAP_PG_retarget,
    MOCAP_AP_preferences,
    MOCAP_OT_capture,
    MOCAP_OT_capture_multi,
    MOCAP_OT_multi_video_add,
    MOCAP_OT_multi_video_remove,
    MOCAP_OT_multi_video_move,
    MOCAP_OT_preview,
    MOCAP_OT_import_motion,
    MOCAP_OT_create_engine,
    MOCAP_OT_check_engine,
    MOCAP_OT_batch,
    MOCAP_OT_live,
    MOCAP_OT_live_record,
    MOCAP_OT_live_stop,
    MOCAP_OT_retarget,
    MOCAP_OT_retarget_map,
    MOCAP_OT_retarget_save_preset,
    MOCAP_UL_retarget_bones,
    MOCAP_UL_multi_videos,
    MOCAP_PT_capture,
    MOCAP_PT_quality,
    MOCAP_PT_multicam,
    MOCAP_PT_batch,
    MOCAP_PT_retarget,
    MOCAP_PT_live,
)
"""Registration order: property groups before what uses them; unregistered in reverse."""


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.mocap = bpy.props.PointerProperty(type=MOCAP_PG_settings)  # type: ignore[attr-defined,func-returns-value]
    bpy.types.Scene.mocap_retarget = bpy.props.PointerProperty(type=MOCAP_PG_retarget)  # type: ignore[attr-defined,func-returns-value]
    bpy.types.TOPBAR_MT_file_import.append(menu_func_import)
    refresh_status(configured_python(bpy.context))  # file checks only: cheap


def unregister() -> None:
    stop_all_live()  # a live engine never outlives the add-on
    if bpy.app.timers.is_registered(live_timer):
        bpy.app.timers.unregister(live_timer)
    bpy.types.TOPBAR_MT_file_import.remove(menu_func_import)
    del bpy.types.Scene.mocap_retarget  # type: ignore[attr-defined]
    del bpy.types.Scene.mocap  # type: ignore[attr-defined]
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
