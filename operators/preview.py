"""Preview: render the active take over its video with the engine, then show the MP4.

Adapter only: operator properties -> :class:`PreviewRequest` -> one
:class:`EngineJob` running ``<engine python> -m core.preview.cli MOTION --out
MP4 --progress json ...`` (the same code as ``python -m core preview``) -> the
MP4 loaded as a movie clip, shown in an open Movie Clip editor or, when none
is open, as the scene camera's front background. A 0.1 s modal timer polls
the engine so the UI never freezes; in background mode the operator waits.

The take's motion file is found on its armature (custom property
``mocap_motion_file``, set when the take is built from a saved motion file),
or given as the operator's ``filepath``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, StringProperty

from ..blender_mocap.engine import EngineJob, JobProgress
from ..blender_mocap.preferences import engine_python_path
from ..core.errors import MocapError
from .modal import PROGRESS_SCALE, start_modal, stop_modal, wait_for

MOTION_FILE_KEY = "mocap_motion_file"
"""Custom property on a take's armature: absolute path of its saved motion file."""
VIDEO_KEY = "mocap_video"
"""Optional custom property on the armature: the video, when it moved since the capture."""
PREVIEW_KEY = "mocap_preview"
"""Custom property set on movie clips this operator loaded (so a re-run replaces them)."""
ENGINE_ENTRY = ("-m", "core", "preview")


@dataclass(frozen=True)
class PreviewRequest:
    """One preview run, copied from the operator's properties.

    Attributes:
        motion: the take's motion file (.npz).
        out: the MP4 to write (next to the motion file).
        video: the video to draw over; "" = the one the motion file names.
        layout: "overlay" or "side-by-side".
        resolution: longer side of each view, pixels.
        landmarks: draw the 2D landmarks on top.
        renderer: "auto", "cpu" or "pytorch3d".
    """

    motion: str
    out: str
    video: str = ""
    layout: str = "side-by-side"
    resolution: int = 960
    landmarks: bool = False
    renderer: str = "auto"

    def command(self, python: str | os.PathLike[str]) -> list[str]:
        cmd = [str(python), *ENGINE_ENTRY, self.motion, "--out", self.out, "--progress", "json",
               "--layout", self.layout, "--resolution", str(self.resolution), "--renderer", self.renderer]
        if self.video:
            cmd += ["--video", self.video]
        if self.landmarks:
            cmd.append("--landmarks")
        return cmd


def preview_path(motion: str | os.PathLike[str]) -> Path:
    """``take.npz`` -> ``take.preview.mp4`` next to it (the engine's default too)."""
    path = Path(motion)
    return path.with_name(path.stem + ".preview.mp4")


def take_rig(obj: bpy.types.Object | None) -> bpy.types.Object | None:
    """The take's armature: ``obj`` itself, or the armature its body is parented to."""
    while obj is not None and obj.type != 'ARMATURE':
        obj = obj.parent
    return obj


def take_motion_file(obj: bpy.types.Object | None) -> str:
    """The motion file recorded on the take ``obj`` belongs to, or ""."""
    rig = take_rig(obj)
    action = rig.animation_data.action if rig is not None and rig.animation_data is not None else None
    # The active take's own file first (a rig can hold several takes), then the rig's latest.
    value = action.get(MOTION_FILE_KEY, "") if action is not None else ""
    if not value and rig is not None:
        value = rig.get(MOTION_FILE_KEY, "")
    return bpy.path.abspath(value) if isinstance(value, str) and value else ""


def show_clip(context: bpy.types.Context, path: Path, first_frame: int) -> tuple[bpy.types.MovieClip, str]:
    """Load ``path`` as a movie clip and put it on screen; returns (clip, where it is shown)."""
    stale = [c for c in bpy.data.movieclips if c.get(PREVIEW_KEY) and Path(bpy.path.abspath(c.filepath)) == path]
    scene = context.scene
    camera = scene.camera if scene is not None else None
    if camera is not None and isinstance(camera.data, bpy.types.Camera):
        # Drop the camera's backgrounds of those clips first: removing a clip leaves
        # its background entry behind, empty, and a re-run would stack them.
        for bg in list(camera.data.background_images):
            if bg.clip is not None and bg.clip in stale:
                camera.data.background_images.remove(bg)
    for old in stale:
        bpy.data.movieclips.remove(old)  # a re-run replaces the old preview, never stacks copies
    clip = bpy.data.movieclips.load(str(path), check_existing=False)
    clip[PREVIEW_KEY] = True
    clip.frame_start = first_frame  # scene frame of the first preview frame: scrub in step with the take
    screen = context.screen
    if screen is not None:
        for area in screen.areas:
            if area.type == 'CLIP_EDITOR':
                space = area.spaces.active
                if isinstance(space, bpy.types.SpaceClipEditor):
                    space.clip = clip
                    area.tag_redraw()
                    return clip, "in the Movie Clip editor"
    if camera is not None and isinstance(camera.data, bpy.types.Camera):
        cam = camera.data
        for bg in list(cam.background_images):
            if bg.clip is not None and bg.clip.get(PREVIEW_KEY):
                cam.background_images.remove(bg)
        bg = cam.background_images.new()
        bg.source = 'MOVIE_CLIP'
        bg.clip = clip
        bg.display_depth = 'FRONT'
        bg.alpha = 1.0
        cam.show_background_images = True
        return clip, f"as the background of camera '{camera.name}' (look through it, or open a Movie Clip editor)"
    return clip, "as a movie clip (open a Movie Clip editor to play it)"


@dataclass
class PreviewRun(JobProgress):
    """One running preview render: the request, its engine job and where the clip starts."""

    request: PreviewRequest
    job: EngineJob
    first_frame: int
    timer: Any = None

    def handle_events(self) -> None:
        self.apply(self.job.poll())


_RUNNING: list[PreviewRun] = []


def preview_running() -> bool:
    return bool(_RUNNING)


class MOCAP_OT_preview(bpy.types.Operator):
    """Render a quick-look video of the take's body over the video (engine, PyTorch3D or CPU) and show it"""

    bl_idname = "mocap.preview"
    bl_label = "Preview Take"
    bl_options = {'REGISTER'}

    filepath: StringProperty(  # type: ignore[valid-type]
        name="Motion File",
        description="Motion file to preview (empty: the active take's)",
        subtype='FILE_PATH',
        default="",
    )
    layout: EnumProperty(  # type: ignore[valid-type]
        name="Layout",
        items=(
            ('side-by-side', "Side by Side", "Body over the video, and a fixed side view so depth errors show"),
            ('overlay', "Overlay", "Body over the video only"),
        ),
        default='side-by-side',
    )
    resolution: IntProperty(  # type: ignore[valid-type]
        name="Resolution", description="Longer side of each view in pixels", default=960, min=64, max=4096,
    )
    landmarks: BoolProperty(  # type: ignore[valid-type]
        name="Landmarks", description="Draw the 2D landmarks found in the video on top", default=False,
    )
    renderer: EnumProperty(  # type: ignore[valid-type]
        name="Renderer",
        items=(
            ('auto', "Automatic", "PyTorch3D on a CUDA GPU, else the CPU renderer"),
            ('cpu', "CPU", "The engine's CPU renderer"),
            ('pytorch3d', "PyTorch3D", "PyTorch3D (slow without a CUDA GPU)"),
        ),
        default='auto',
    )

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        if preview_running():
            cls.poll_message_set("A preview is already being rendered")
            return False
        return True

    def _request(self, context: bpy.types.Context) -> PreviewRequest:
        motion = bpy.path.abspath(self.filepath) if self.filepath else take_motion_file(context.active_object)
        if not motion:
            raise MocapError(
                "Select a take (its armature or body) that was built from a saved motion file, "
                "or pick a motion file to preview."
            )
        if not Path(motion).is_file():
            raise MocapError(f"The take's motion file was not found: {motion}")
        rig = take_rig(context.active_object)
        video = rig.get(VIDEO_KEY, "") if rig is not None and not self.filepath else ""
        return PreviewRequest(
            motion=motion, out=str(preview_path(motion)),
            video=bpy.path.abspath(video) if isinstance(video, str) and video else "",
            layout=self.layout, resolution=self.resolution, landmarks=self.landmarks, renderer=self.renderer,
        )

    def _start(self, context: bpy.types.Context) -> PreviewRun | None:
        try:
            request = self._request(context)
            python = engine_python_path(context)
            if python is None:
                raise MocapError(
                    "No engine configured: open Preferences > Add-ons > blender-mocap "
                    "and click Create Engine (or set the engine's Python)."
                )
            try:
                job = EngineJob(request.command(python))
            except OSError as exc:
                raise MocapError(f"Could not start the engine {python}: {exc}") from exc
        except MocapError as exc:
            self.report({'ERROR'}, str(exc))
            return None
        scene = context.scene
        run = PreviewRun(request=request, job=job, first_frame=scene.frame_start if scene is not None else 1)
        _RUNNING.append(run)
        return run

    def _finish(self, context: bpy.types.Context, run: PreviewRun) -> set[str]:
        self._cleanup(context, run, cancel=False)
        run.handle_events()
        for warning in run.warnings:
            self.report({'WARNING'}, warning)
        code = run.job.returncode
        if run.job.cancelled or code == 130:
            self.report({'WARNING'}, "Preview cancelled")
            return {'CANCELLED'}
        out = Path(run.request.out)
        if run.error or code != 0 or run.done_event is None or not out.is_file():
            self.report({'ERROR'}, f"Preview failed: {run.error or run.job.error_message()}")
            return {'CANCELLED'}
        try:
            _, where = show_clip(context, out, run.first_frame)
        except RuntimeError as exc:
            self.report({'ERROR'}, f"The preview was written to {out} but Blender could not load it: {exc}")
            return {'CANCELLED'}
        self.report({'INFO'}, f"Preview {out.name} shown {where}")
        return {'FINISHED'}

    def _cleanup(self, context: bpy.types.Context, run: PreviewRun, *, cancel: bool) -> None:
        if cancel:
            run.job.cancel()
        if run in _RUNNING:
            _RUNNING.remove(run)
        stop_modal(context, run.timer)
        run.timer = None

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        run = self._start(context)
        if run is None:
            return {'CANCELLED'}
        wait_for(run.job, run.handle_events, lambda: self._cleanup(context, run, cancel=True))
        return self._finish(context, run)

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:  # type: ignore[override]
        if bpy.app.background:
            return self.execute(context)
        run = self._start(context)
        if run is None:
            return {'CANCELLED'}
        run.timer = start_modal(self, context, progress_bar=True)
        return {'RUNNING_MODAL'}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:  # type: ignore[override]
        run = _RUNNING[0] if _RUNNING else None
        if run is None:
            return {'CANCELLED'}
        if event.type == 'ESC' and event.value == 'PRESS':
            self._cleanup(context, run, cancel=True)
            self.report({'WARNING'}, "Preview cancelled")
            return {'CANCELLED'}
        if event.type != 'TIMER':
            return {'PASS_THROUGH'}
        run.handle_events()
        if not run.job.finished:
            if context.workspace is not None:
                context.workspace.status_text_set(f"Mocap preview: {run.status} ({run.fraction:.0%}) - Esc to cancel")
            if context.window_manager is not None:
                context.window_manager.progress_update(run.fraction * PROGRESS_SCALE)
            return {'PASS_THROUGH'}
        return self._finish(context, run)

    def cancel(self, context: bpy.types.Context) -> None:
        run = _RUNNING[0] if _RUNNING else None
        if run is not None:
            self._cleanup(context, run, cancel=True)
