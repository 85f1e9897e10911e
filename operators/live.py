"""Live: start a session, record, stop. Thin: properties -> option values -> one ``LiveSession``.

The session's newest pose is applied by a ``bpy.app.timers`` callback
(:func:`live_timer`), never in an operator's loop; ``MOCAP_OT_live`` stays modal
only to end the session on Esc.
"""

from __future__ import annotations

from typing import Any

import bpy

from ..blender_mocap import live
from ..blender_mocap.preferences import engine_python_path, smplx_dir
from ..blender_mocap.settings import default_output_dir, option_values, property_options, resolve_path
from ..core.errors import MocapError
from ..core.options import LIVE, LIVE_SHARED


def live_timer() -> float | None:
    """The timer: the session's events and newest pose; unregisters itself when the session ended."""
    session = live.current()
    scene = bpy.context.scene
    if session is None or scene is None:
        return None
    try:
        going = session.tick(scene)
    except MocapError as exc:  # the rig could not be built: say so and stop the engine
        session.message = str(exc)
        session.stop(None)
        return None
    return live.TICK_SECONDS if going else None


def _values(props: Any) -> dict[str, Any]:
    wanted = {"live_source", *LIVE_SHARED} | {o.name for o in property_options(LIVE)}
    return {name: value for name, value in option_values(props, property_options()).items() if name in wanted}


class MOCAP_OT_live(bpy.types.Operator):
    """Drive a character live from a camera, stream or video file (Esc or Stop ends it)"""

    bl_idname = "mocap.live"
    bl_label = "Go Live"
    bl_options = {'REGISTER'}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return getattr(context.scene, "mocap", None) is not None and live.current() is None

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:  # type: ignore[override]
        props = getattr(context.scene, "mocap")
        python = engine_python_path(context)
        if python is None:
            self.report({'ERROR'}, "No engine configured: open Preferences > Add-ons > blender-mocap "
                                   "and click Create Engine (or set the engine's Python).")
            return {'CANCELLED'}
        output = resolve_path(str(props.output_dir), bpy.data.filepath) or default_output_dir(bpy.data.filepath)
        try:
            values = _values(props)
            if smplx_dir(context):  # a preference, not a scene property: SMPL-X when its files are there
                values["smplx_dir"] = smplx_dir(context)
            live.LiveSession(str(python), values, output_dir=output)
        except MocapError as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        bpy.app.timers.register(live_timer, first_interval=0.0)
        assert context.window_manager is not None
        context.window_manager.modal_handler_add(self)
        return {'RUNNING_MODAL'}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:  # type: ignore[override]
        session = live.current()
        if session is None or session.state in ("ended", "stopped"):
            return {'FINISHED'}
        if event.type == 'ESC' and event.value == 'PRESS':
            _stop(self, context, session)
            return {'FINISHED'}
        return {'PASS_THROUGH'}


def _stop(operator: bpy.types.Operator, context: bpy.types.Context, session: live.LiveSession) -> None:
    try:
        result = session.stop(context.scene)
    except MocapError as exc:
        operator.report({'ERROR'}, str(exc))
        return
    if result is not None:
        operator.report({'INFO'}, f"Live take recorded: {result}")


class MOCAP_OT_live_record(bpy.types.Operator):
    """Record the live pose from now on; Stop keys it onto the character as a take and writes its motion file"""

    bl_idname = "mocap.live_record"
    bl_label = "Record"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        session = live.current()
        return session is not None and session.state == "live" and not session.receiver.recording

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        session = live.current()
        if session is not None:
            session.record()
        return {'FINISHED'}


class MOCAP_OT_live_stop(bpy.types.Operator):
    """End the live session and its engine (a recording becomes a take)"""

    bl_idname = "mocap.live_stop"
    bl_label = "Stop"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return live.current() is not None

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        session = live.current()
        if session is not None:
            _stop(self, context, session)
        return {'FINISHED'}
