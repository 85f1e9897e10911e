"""Preview: render the active take over its video with the engine, then show the MP4.

Adapter only: operator properties -> :class:`PreviewRequest` -> one
:class:`EngineJob` running ``<engine python> -m core preview MOTION --out
MP4 --progress json ...`` -> the
MP4 loaded as a movie clip, shown in an open Movie Clip editor or, when none
is open, as the scene camera's front background. A 0.1 s modal timer polls
the engine so the UI never freezes; in background mode the operator waits.

The take's motion file is found on its action or armature (``MOTION_FILE_PROP``,
set when the take is built from a saved motion file), or given as the
operator's ``filepath``.
"""

from __future__ import annotations

import os
from pathlib import Path

import bpy
from bpy.props import BoolProperty, EnumProperty, IntProperty, StringProperty

from ..blender_mocap import runs
from ..blender_mocap.engine import EngineJob
from ..blender_mocap.preferences import engine_python_path
from ..blender_mocap.runs import PreviewRequest, PreviewRun
from ..blender_mocap.take import rig_of, take_motion_file
from ..blender_mocap.take_keys import PREVIEW_PROP, VIDEO_PROP
from ..core.errors import MocapError
from .modal import PolledOperator


def preview_path(motion: str | os.PathLike[str]) -> Path:
    """``take.npz`` -> ``take.preview.mp4`` next to it (the engine's default too)."""
    path = Path(motion)
    return path.with_name(path.stem + ".preview.mp4")


def show_clip(context: bpy.types.Context, path: Path, first_frame: int) -> tuple[bpy.types.MovieClip, str]:
    """Load ``path`` as a movie clip and put it on screen; returns (clip, where it is shown)."""
    stale = [c for c in bpy.data.movieclips if c.get(PREVIEW_PROP) and Path(bpy.path.abspath(c.filepath)) == path]
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
    clip[PREVIEW_PROP] = True
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
            if bg.clip is not None and bg.clip.get(PREVIEW_PROP):
                cam.background_images.remove(bg)
        bg = cam.background_images.new()
        bg.source = 'MOVIE_CLIP'
        bg.clip = clip
        bg.display_depth = 'FRONT'
        bg.alpha = 1.0
        cam.show_background_images = True
        return clip, f"as the background of camera '{camera.name}' (look through it, or open a Movie Clip editor)"
    return clip, "as a movie clip (open a Movie Clip editor to play it)"


class MOCAP_OT_preview(PolledOperator):
    """Render a quick-look video of the take's body over the video (engine, PyTorch3D or CPU) and show it"""

    bl_idname = "mocap.preview"
    bl_label = "Preview Take"
    bl_options = {'REGISTER'}

    slot = runs.PREVIEW
    progress_bar = True
    cancel_message = "Preview cancelled"

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
        if runs.PREVIEW.running():
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
        rig = rig_of(context.active_object)
        video = rig.get(VIDEO_PROP, "") if rig is not None and not self.filepath else ""
        return PreviewRequest(
            motion=motion, out=str(preview_path(motion)),
            video=bpy.path.abspath(video) if isinstance(video, str) and video else "",
            layout=self.layout, resolution=self.resolution, landmarks=self.landmarks, renderer=self.renderer,
        )

    def begin(self, context: bpy.types.Context) -> PreviewRun | None:
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
        runs.PREVIEW.start(run)
        return run

    def update(self, run: PreviewRun) -> None:
        run.handle_events()

    def is_done(self, run: PreviewRun) -> bool:
        return run.job.finished

    def status(self, run: PreviewRun) -> tuple[str, float]:
        return f"Mocap preview: {run.status} ({run.fraction:.0%})", run.fraction

    def finish(self, context: bpy.types.Context, run: PreviewRun) -> set[str]:
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

    def release(self, context: bpy.types.Context, run: PreviewRun, *, cancel: bool) -> None:
        if cancel:
            run.job.cancel()
        runs.PREVIEW.end(run)
