"""Multi-camera capture: the videos of one performance -> ``capture-multi`` in the engine -> one take, every camera.

The capture operator's loop, run and scene building (``operators/capture.py``)
with another engine command: the same progress, Esc to cancel, one undo step,
and the take built with a camera per video (``blender_mocap/multicam.py``).
The list operators edit ``scene.mocap.multi_videos``, whose first video is
camera 1 (its frames are the take's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bpy
from bpy.props import CollectionProperty, EnumProperty, StringProperty

from ..blender_mocap.engine import CaptureRequest
from ..blender_mocap.multicam_request import (
    MAX_VIDEOS,
    multi_request_from_props,
    validate_multi_request,
)
from ..blender_mocap.settings import VIDEO_EXTENSIONS
from .capture import CaptureOperator, EngineCommand


class MOCAP_OT_capture_multi(CaptureOperator):
    """Capture one person filmed by 2 to 8 videos into one take with a camera per video"""

    bl_idname = "mocap.capture_multi"
    bl_label = "Capture Multi-Camera"
    bl_options = {'REGISTER', 'UNDO'}

    def engine_request(self, props: object, folder: str) -> tuple[CaptureRequest, EngineCommand | None]:
        request = multi_request_from_props(props, blend_filepath=bpy.data.filepath, smplx_dir=folder)
        validate_multi_request(request)
        return request.capture, request.command


def _videos(context: bpy.types.Context) -> Any:
    """``scene.mocap.multi_videos`` (a collection of ``MOCAP_PG_video``)."""
    return getattr(context.scene, "mocap").multi_videos


class MOCAP_OT_multi_video_add(bpy.types.Operator):
    """Add videos of the performance to the multi-camera list (one per camera)"""

    bl_idname = "mocap.multi_video_add"
    bl_label = "Add Videos"
    bl_options = {'REGISTER', 'UNDO'}

    directory: StringProperty(subtype='DIR_PATH')  # type: ignore[valid-type]
    files: CollectionProperty(type=bpy.types.OperatorFileListElement)  # type: ignore[valid-type]
    filter_movie: bpy.props.BoolProperty(default=True, options={'HIDDEN'})  # type: ignore[valid-type]
    filter_folder: bpy.props.BoolProperty(default=True, options={'HIDDEN'})  # type: ignore[valid-type]

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return getattr(context.scene, "mocap", None) is not None

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:  # type: ignore[override]
        assert context.window_manager is not None
        context.window_manager.fileselect_add(self)
        return {'RUNNING_MODAL'}

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        videos = _videos(context)
        names = sorted(f.name for f in self.files if f.name)
        chosen = [str(Path(self.directory) / n) for n in names if Path(n).suffix.lower() in VIDEO_EXTENSIONS]
        if not chosen:
            self.report({'ERROR'}, "No video chosen: pick one or more video files (.mp4, .mov, ...)")
            return {'CANCELLED'}
        listed = {item.path for item in videos}
        fresh = [p for p in chosen if p not in listed]
        room = MAX_VIDEOS - len(videos)
        for path in fresh[:max(room, 0)]:
            videos.add().path = path
        getattr(context.scene, "mocap").multi_video_index = len(videos) - 1
        if len(fresh) > room:
            self.report({'WARNING'}, f"A take has at most {MAX_VIDEOS} cameras: {len(fresh) - max(room, 0)} "
                                     "video(s) were not added")
        return {'FINISHED'}


class MOCAP_OT_multi_video_remove(bpy.types.Operator):
    """Remove the selected video from the multi-camera list"""

    bl_idname = "mocap.multi_video_remove"
    bl_label = "Remove Video"
    bl_options = {'REGISTER', 'UNDO'}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        props = getattr(context.scene, "mocap", None)
        return props is not None and 0 <= props.multi_video_index < len(props.multi_videos)

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        props = getattr(context.scene, "mocap")
        props.multi_videos.remove(props.multi_video_index)
        props.multi_video_index = min(props.multi_video_index, max(len(props.multi_videos) - 1, 0))
        return {'FINISHED'}


class MOCAP_OT_multi_video_move(bpy.types.Operator):
    """Move the selected video up or down: the first video is camera 1, whose frames the take keeps"""

    bl_idname = "mocap.multi_video_move"
    bl_label = "Move Video"
    bl_options = {'REGISTER', 'UNDO'}

    direction: EnumProperty(items=[('UP', "Up", "Towards camera 1"),  # type: ignore[valid-type]
                                   ('DOWN', "Down", "Away from camera 1")])

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        props = getattr(context.scene, "mocap", None)
        return props is not None and len(props.multi_videos) > 1

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        props = getattr(context.scene, "mocap")
        index = props.multi_video_index
        to = index - 1 if self.direction == 'UP' else index + 1
        if not (0 <= index < len(props.multi_videos) and 0 <= to < len(props.multi_videos)):
            return {'CANCELLED'}
        props.multi_videos.move(index, to)
        props.multi_video_index = to
        return {'FINISHED'}
