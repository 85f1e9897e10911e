"""Build a take in the Blender scene from a Motion: the one call that composes the builders.

``build_take`` prepares the motion (:func:`prepare_motion`: no bpy data
touched), then builds into one :class:`BuildContext`: the armature and its
keys (``armature``), the body with its shape keys and drivers (``body_mesh``),
the camera and its background clip (``camera``) and the take's records
(``take``), and sets the scene's frame rate, range and resolution last.

A take is one action named after the video (on Blender 4.4+ its shape-key
channels live in the same action, in a second slot), kept with a fake user so
several takes live side by side on one character: re-capturing onto a rig
whose joints match (same names, rest joints within ``RIG_TOLERANCE``) adds
and assigns a new action instead of building a second rig.

Everything created is tracked and every change to existing data is recorded;
if anything fails, all of it is undone and the scene is left as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import bpy
import numpy as np

from ..core.errors import MocapError
from ..core.motion import Motion, validate_motion
from . import convert, prepare, smplx_rest
from .armature import build_armature, key_motion, rig_mismatch
from .body_mesh import add_shape_keys, build_body, key_shapes
from .build_context import BuildContext, Created
from .camera import build_camera
from .multicam import build_other_cameras
from .settings import CORRECTIVES, SMPLX_DIR_ENV, BuildOptions, smplx_folder_advice
from .take import BuiltTake, find_body, record_quality
from .take_keys import ROLE, ROLE_CAMERA


def _scene_and_view_layer(context_or_scene) -> tuple[bpy.types.Scene, bpy.types.ViewLayer]:
    if isinstance(context_or_scene, bpy.types.Scene):
        scene = context_or_scene
        view_layer = bpy.context.view_layer
        if view_layer is None or bpy.context.scene != scene:
            view_layer = scene.view_layers[0]
        return scene, view_layer
    return context_or_scene.scene, context_or_scene.view_layer


def prepare_motion(motion: Motion, name: str, options: BuildOptions,
                   scene_rate: float) -> tuple[Motion, dict[str, np.ndarray] | None, float, list[str]]:
    """Validate and complete ``motion`` for the scene (no bpy data touched).

    Returns (motion to build, the SMPL-X model arrays when pose correctives
    are wanted and available, ground offset in metres, warnings).
    """
    validate_motion(motion, name)
    if options.correctives not in CORRECTIVES:
        raise MocapError(f"unknown corrective mode '{options.correctives}'")
    warnings: list[str] = []
    model: dict[str, np.ndarray] | None = None
    # Same fallback as the engine's: headless runs and farms set the folder once in the environment.
    smplx_dir = options.smplx_dir or os.environ.get(SMPLX_DIR_ENV, "")
    if motion.rest_joints is None:
        if not smplx_dir:
            raise MocapError(
                f"'{name}' has no rest skeleton or mesh (an AMASS/SMPL-X file): building its "
                f"body needs the SMPL-X model files. {smplx_folder_advice(bpy.app.background)}"
            )
        model, path = smplx_rest.load_model(smplx_dir, motion.gender)
        motion, more = smplx_rest.complete_motion(motion, model)
        warnings += more
        if path.stem.lower() != f"smplx_{motion.gender}":
            warnings.append(f"no {motion.gender} SMPL-X model in the folder; used {path.name}")
        validate_motion(motion, name)
    elif (motion.body_model == "smplx" and options.correctives != "NONE" and motion.v_template is not None):
        if not smplx_dir:
            warnings.append("no SMPL-X model folder is set, so the body has no pose correctives. "
                            + smplx_folder_advice(bpy.app.background))
        else:
            try:
                model, _ = smplx_rest.load_model(smplx_dir, motion.gender)
            except MocapError as exc:
                warnings.append(f"no pose correctives: {exc}")
    if model is not None and (options.correctives == "NONE" or motion.v_template is None
                              or model["v_template"].shape[0] != motion.v_template.shape[0]):
        if options.correctives != "NONE" and motion.v_template is not None:
            warnings.append("the SMPL-X model file does not match this take's mesh; no pose correctives")
        model = None

    if options.resample:
        source = prepare.video_rate(motion)
        if abs(source - scene_rate) > 1e-6 * scene_rate:
            motion = prepare.resample(motion, source, scene_rate)
            if motion.camera_intrinsics is not None:
                warnings.append(f"resampled from {source:g} to {scene_rate:g} fps: the video "
                                "background plays one video frame per scene frame and drifts")
    offset = 0.0
    if options.ground:
        motion, offset = prepare.put_on_ground(motion)
    return motion, model, offset, warnings


def build_take(context_or_scene, motion: Motion, *, name: str, video_path: str | None = None,
               options: BuildOptions | None = None, target: bpy.types.Object | None = None,
               progress: Callable[[float, str], None] | None = None,
               should_cancel: Callable[[], bool] | None = None) -> BuiltTake:
    """Create the take ``name`` from ``motion``: a new character, or a new action on ``target``.

    Args:
        context_or_scene: ``bpy.context`` (or another Context) or a Scene.
        motion: a validated or unvalidated Motion; it is validated first.
            AMASS files (no rest data) need ``options.smplx_dir``.
        name: take name (usually the video's stem): collection, armature and
            action are named after it.
        video_path: the source video; loaded as the camera's background when
            it exists.
        options: see :class:`BuildOptions` (default: feet on the ground,
            correctives driven, no resampling, no SMPL-X folder).
        target: an existing rig to put the take on. Used when it matches
            (:func:`rig_mismatch`); otherwise a new character is built and
            a warning says why.
        progress: ``progress(fraction 0 to 1, what is being done)`` as the
            build goes (after every F-curve while keying, the bulk of a long take).
        should_cancel: polled as often; True stops the build with a
            CancelledError and removes what it made.

    Returns the :class:`BuiltTake`. Sets the scene's frame rate (the video's:
    stored rate x frame stride, unless resampling), frame range and render
    resolution (when the motion has a camera), and makes the take's camera
    the scene camera when the scene has none or shows an earlier take.

    Raises:
        MocapError: the motion is invalid or lacks rest data, or Blender
            refused something; the scene is left as it was in that case.
        CancelledError: ``should_cancel`` returned True; the scene is left as it was.
    """
    options = options or BuildOptions()
    scene, view_layer = _scene_and_view_layer(context_or_scene)
    scene_rate = scene.render.fps / scene.render.fps_base
    if progress is not None:
        progress(0.0, f"preparing {motion.num_frames} frames")
    motion, model, offset, warnings = prepare_motion(motion, name, options, scene_rate)
    if target is not None:
        reason = rig_mismatch(target, motion)
        if reason:
            warnings.append(f"'{target.name}' cannot take this motion ({reason}); "
                            "built a new character")
            target = None
    created = Created()
    try:
        collection = created.add(bpy.data.collections.new(name))
        scene.collection.children.link(collection)
        ctx = BuildContext(scene=scene, view_layer=view_layer, motion=motion, name=name, options=options,
                           collection=collection, created=created, video_path=video_path, model=model,
                           warnings=warnings, progress=progress, should_cancel=should_cancel)
        ctx.step(0.05, "building the character")
        take = _build(ctx, target)
    except MocapError:
        created.remove_all()
        raise
    except Exception as exc:
        created.remove_all()
        raise MocapError(f"could not build the scene for '{name}': {exc}") from exc
    take.ground_offset = offset
    return take


def _build(ctx: BuildContext, target: bpy.types.Object | None) -> BuiltTake:
    motion = ctx.motion
    if target is None:
        arm_obj = build_armature(ctx)
        body = None
        if motion.v_template is not None and motion.faces is not None and motion.skin_weights is not None:
            body = build_body(ctx, arm_obj)
            add_shape_keys(ctx, body, arm_obj)
    else:
        arm_obj, body = target, find_body(target)
        ctx.created.keep_animation(arm_obj)
        mesh: Any = body.data if body is not None else None
        if mesh is not None and mesh.shape_keys is not None:
            ctx.created.keep_animation(mesh.shape_keys)

    action = ctx.created.add(bpy.data.actions.new(ctx.name))
    action.use_fake_user = True  # several takes live side by side; switching must not lose one
    bones = f"keying {len(motion.joint_names)} bones on {motion.num_frames} frames"
    frames = key_motion(arm_obj, action, motion, progress=ctx.keying(0.05, 0.75, bones))
    record_quality(action, motion, frames)
    shape_action = key_shapes(ctx, body, action, frames)

    camera = clip = None
    others: list = []
    if motion.camera_intrinsics is not None and motion.image_size is not None:
        camera, clip = build_camera(ctx, arm_obj)
        others = build_other_cameras(ctx, arm_obj)
    elif ctx.video_path:
        ctx.warnings.append("the motion has no camera, so the video is not shown as a background")

    ctx.step(0.95, "setting up the scene")
    first, last = _set_scene(ctx, camera, frames)
    ctx.step(1.0, "built")
    return BuiltTake(collection=ctx.collection, armature=arm_obj, action=action, camera=camera,
                     body=body, clip=clip, frame_range=(first, last), reused=target is not None,
                     shape_action=shape_action, warnings=ctx.warnings, other_cameras=[c for c, _ in others])


def _set_scene(ctx: BuildContext, camera: bpy.types.Object | None, frames: np.ndarray) -> tuple[int, int]:
    """Scene-wide settings, done last since nothing after them can fail; returns the frame range."""
    scene, motion = ctx.scene, ctx.motion
    if camera is not None:
        width, height = (int(v) for v in np.asarray(motion.image_size).reshape(2))
        scene.render.resolution_x = width
        scene.render.resolution_y = height
        scene.render.resolution_percentage = 100
        scene.render.pixel_aspect_x = 1.0
        scene.render.pixel_aspect_y = 1.0
        if scene.camera is None or scene.camera.get(ROLE) == ROLE_CAMERA:
            scene.camera = camera
    if not ctx.options.resample:
        fps, fps_base = convert.blender_fps_from_rate(prepare.video_rate(motion))
        scene.render.fps = fps
        scene.render.fps_base = fps_base
    first, last = int(frames[0]), int(frames[-1])
    scene.frame_start = first
    scene.frame_end = last
    scene.frame_set(first)
    return first, last
