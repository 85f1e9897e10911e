"""Build a take in the Blender scene from a Motion: armature, body mesh, shape keys, action, camera.

Frames (see ``convert``): the armature object's matrix_world is
``BLENDER_FROM_SMPLX_MODEL``, so the rest pose stands upright in Blender and
armature space is the SMPL-X model frame (rest joints are placed as given).
Each SMPL-X joint rotation R_j (model axes, relative to the parent) becomes
the bone-local quaternion of B_j^T R_j B_j, where B_j is the bone's rest
rotation in armature space (``bone.matrix_local``); the motion world enters
through the root alone (global orientation and translation re-expressed in
armature space). With these, Blender's pose equals the SMPL-X forward
kinematics whatever the bones' rolls are.

The body (SMPL-X takes) carries shape keys as a TA would set them up: the
Basis is the neutral-shape mesh, one key per beta set to its fitted value,
one key per expression coefficient keyed per frame, and on real SMPL-X (the
user's model file) the 486 pose correctives ``(R_j - I)[a, b]``, driven by
the bone rotations (default) or baked per frame.

A take is one action named after the video (on Blender 4.4+ its shape-key
channels live in the same action, in a second slot), kept with a fake user so
several takes live side by side on one character: re-capturing onto a rig
whose joints match (same names, rest joints within ``RIG_TOLERANCE``) adds
and assigns a new action instead of building a second rig.

Everything created is tracked and every change to existing data is recorded;
if anything fails, all of it is undone and the scene is left as it was.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy
import numpy as np
from mathutils import Matrix

from ..core.errors import MocapError
from ..core.motion import LOW_CONFIDENCE, Motion, validate_motion
from ..core.rotations import axis_angle_to_matrix, matrix_to_quat_wxyz
from . import convert, keying, prepare, smplx_rest
from .settings import CORRECTIVES, SMPLX_DIR_ENV, BuildOptions

# Where a joint has several children, the one its bone points at.
_PREFERRED_CHILD = {
    "pelvis": "spine1",
    "spine3": "neck",
    "left_wrist": "left_middle1",
    "right_wrist": "right_middle1",
}
# Joints whose bone does not point at a child: (direction in the model frame or
# None for "continue the parent bone", length in metres).
CONFIDENCE_PROP = "mocap_confidence"
"""Armature custom property keyed with each frame's confidence (0 to 1)."""
QUALITY_PROP = "mocap_quality"
"""Action custom property: the take's quality figures (name -> number)."""
MOTION_FILE_PROP = "mocap_motion_file"
"""Action and armature custom property: absolute path of the take's motion file."""
LOW_CONFIDENCE_PROP = "mocap_low_confidence"
"""Action custom property: scene frames with confidence below ``LOW_CONFIDENCE``, as text ranges."""

_LEAF_SHAPE = {
    "head": (None, 0.15),
    "jaw": ((0.0, -0.3, 1.0), 0.08),
    "left_eye_smplhf": ((0.0, 0.0, 1.0), 0.02),
    "right_eye_smplhf": ((0.0, 0.0, 1.0), 0.02),
}
_MIN_BONE = 1e-3  # metres; Blender deletes zero-length bones on leaving edit mode.
_WEIGHT_EPS = 1e-4

RIG_TOLERANCE = 0.01
"""Metres: an existing rig takes a new take when every rest joint is this close (and names match)."""
ROLE = "blender_mocap"
"""Custom property on the objects a take creates: "rig", "body" or "camera"."""
SHAPE_KEY_RANGE = 10.0  # Blender's slider limit for shape-key values
_POSE_KEY_PREFIX = "pose_"


@dataclass
class BuiltTake:
    """What :func:`build_take` created or updated.

    Attributes:
        collection: the take's collection (named after the take).
        armature: armature object, keyed with ``action``.
        action: the take's action (bone rotations, pelvis location and, on
            Blender 4.4+, the body's shape-key values in a second slot).
        camera: camera object matching the video, or None without intrinsics.
        body: skinned mesh object, or None when the motion has no rest mesh.
        clip: the video as a movie clip (camera background), or None.
        frame_range: (first, last) scene frames keyed.
        reused: the take went onto an existing rig.
        ground_offset: metres the take was lowered to stand on Z = 0.
        shape_action: the action holding the shape-key keys (``action`` on
            4.4+, a second one on 4.2), or None when nothing was keyed.
        warnings: things the user should know (e.g. video not found).
    """

    collection: bpy.types.Collection
    armature: bpy.types.Object
    action: bpy.types.Action
    camera: bpy.types.Object | None = None
    body: bpy.types.Object | None = None
    clip: bpy.types.MovieClip | None = None
    frame_range: tuple[int, int] = (1, 1)
    reused: bool = False
    ground_offset: float = 0.0
    shape_action: bpy.types.Action | None = None
    warnings: list[str] = field(default_factory=list)


def bone_tails(rest_joints: np.ndarray, parents: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """(J, 3) rest joints (model frame, metres) -> (J, 3) bone tails, same frame.

    A bone points at its single child (or its preferred child). Bones without
    one continue their parent's direction (or follow ``_LEAF_SHAPE``) with a
    short length: half the parent bone, between 2 and 10 cm. No bone is
    shorter than 1 mm.
    """
    heads = np.asarray(rest_joints, np.float64)
    parents = np.asarray(parents)
    index = {n: i for i, n in enumerate(names)}
    children: dict[int, list[int]] = {}
    for j, p in enumerate(parents):
        if p >= 0:
            children.setdefault(int(p), []).append(j)
    tails = np.zeros_like(heads)
    # Parents come before children, so the parent's tail is known in time.
    for j, name in enumerate(names):
        kids = children.get(j, [])
        target = None
        if name in _LEAF_SHAPE:
            kids = []
        elif name in _PREFERRED_CHILD and _PREFERRED_CHILD[name] in index:
            target = heads[index[_PREFERRED_CHILD[name]]]
        elif len(kids) == 1:
            target = heads[kids[0]]
        elif kids:
            target = heads[kids].mean(axis=0)
        if target is not None and np.linalg.norm(target - heads[j]) >= _MIN_BONE:
            tails[j] = target
            continue
        shape_dir, length = _LEAF_SHAPE.get(name, (None, None))
        p = int(parents[j])
        parent_vec = tails[p] - heads[p] if p >= 0 else np.array([0.0, 0.1, 0.0])
        parent_len = float(np.linalg.norm(parent_vec))
        if shape_dir is not None:
            direction = np.asarray(shape_dir, np.float64)
        else:
            direction = parent_vec if parent_len > 1e-9 else np.array([0.0, 1.0, 0.0])
        direction = direction / np.linalg.norm(direction)
        if length is None:
            length = float(np.clip(0.5 * parent_len, 0.02, 0.10))
        tails[j] = heads[j] + direction * length
    return tails


def _bone_roll_reference(direction: np.ndarray) -> tuple[float, float, float]:
    """Where a bone's local Z should point (model frame): forward, or up for forward bones.

    With Y along the bone and Z towards the front of the body, bending a limb
    forward is a rotation about the bone's X axis, as animators expect.
    """
    d = direction / max(np.linalg.norm(direction), 1e-12)
    return (0.0, 1.0, 0.0) if abs(d[2]) > 0.9 else (0.0, 0.0, 1.0)


class _Created:
    """Every ID made while building, removed again on failure, and undo steps for changed data."""

    def __init__(self) -> None:
        self.ids: list[bpy.types.ID] = []
        self.undo: list[Callable[[], None]] = []

    def add(self, id_data):
        self.ids.append(id_data)
        return id_data

    def remove_all(self) -> None:
        for step in reversed(self.undo):
            step()
        self.undo.clear()
        collections: dict[type, Any] = {
            bpy.types.Object: bpy.data.objects,
            bpy.types.Armature: bpy.data.armatures,
            bpy.types.Mesh: bpy.data.meshes,
            bpy.types.Camera: bpy.data.cameras,
            bpy.types.Action: bpy.data.actions,
            bpy.types.MovieClip: bpy.data.movieclips,
            bpy.types.Collection: bpy.data.collections,
        }
        # Objects first: they hold users of the data-blocks behind them.
        for id_data in sorted(self.ids, key=lambda i: not isinstance(i, bpy.types.Object)):
            for kind, store in collections.items():
                if isinstance(id_data, kind):
                    try:
                        store.remove(id_data)
                    except ReferenceError:
                        pass  # already gone with its owner
                    break
        self.ids.clear()

    def keep_animation(self, id_data: Any) -> None:
        """Record ``id_data``'s action assignment so a failure restores it."""
        anim = getattr(id_data, "animation_data", None)
        if anim is None:
            self.undo.append(lambda: id_data.animation_data_clear())
            return
        action = anim.action
        slot = getattr(anim, "action_slot", None) if keying.SLOTTED else None

        def restore() -> None:
            data = id_data.animation_data
            if data is None:
                return
            data.action = action
            if slot is not None:
                data.action_slot = slot

        self.undo.append(restore)


def _scene_and_view_layer(context_or_scene) -> tuple[bpy.types.Scene, bpy.types.ViewLayer]:
    if isinstance(context_or_scene, bpy.types.Scene):
        scene = context_or_scene
        view_layer = bpy.context.view_layer
        if view_layer is None or bpy.context.scene != scene:
            view_layer = scene.view_layers[0]
        return scene, view_layer
    return context_or_scene.scene, context_or_scene.view_layer


def rig_mismatch(obj: bpy.types.Object | None, motion: Motion) -> str:
    """Why ``obj`` cannot take ``motion`` ("" when it can): same joints, rest within RIG_TOLERANCE."""
    if obj is None or obj.type != 'ARMATURE':
        return "it is not an armature"
    data: Any = obj.data
    bones = data.bones
    names = tuple(motion.joint_names)
    if len(bones) != len(names) or any(n not in bones for n in names):
        return "its bones are not the SMPL-X joints"
    for j, p in enumerate(np.asarray(motion.parents)):
        parent = bones[names[j]].parent
        if (parent.name if parent else None) != (names[p] if p >= 0 else None):
            return f"its bone '{names[j]}' has another parent"
    if motion.rest_joints is None:
        return ""
    heads = np.array([bones[n].head_local for n in names])
    gap = np.linalg.norm(heads - np.asarray(motion.rest_joints, np.float64), axis=1)
    worst = int(np.argmax(gap))
    if gap[worst] > RIG_TOLERANCE:
        return (f"its rest pose differs from this take's body ({names[worst]} is "
                f"{gap[worst] * 100:.1f} cm away, more than {RIG_TOLERANCE * 100:.0f} cm)")
    return ""


def find_body(rig: bpy.types.Object) -> bpy.types.Object | None:
    """The mesh a blender-mocap rig deforms (its child with an Armature modifier on it)."""
    for child in rig.children:
        if child.type == 'MESH' and any(m.type == 'ARMATURE' and getattr(m, "object", None) == rig
                                        for m in child.modifiers):
            if child.get(ROLE) == "body":
                return child
    return None


def rig_of(obj: bpy.types.Object | None) -> bpy.types.Object | None:
    """The armature ``obj`` is or deforms with (the active body selects its rig), else None."""
    if obj is None:
        return None
    if obj.type == 'ARMATURE':
        return obj
    if obj.type == 'MESH' and obj.parent is not None and obj.parent.type == 'ARMATURE':
        return obj.parent
    return None


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
                "body needs the SMPL-X model files. Set 'SMPL-X model folder' in "
                "Preferences > Add-ons > blender-mocap to the folder you downloaded them to."
            )
        model, path = smplx_rest.load_model(smplx_dir, motion.gender)
        motion, more = smplx_rest.complete_motion(motion, model)
        warnings += more
        if path.stem.lower() != f"smplx_{motion.gender}":
            warnings.append(f"no {motion.gender} SMPL-X model in the folder; used {path.name}")
        validate_motion(motion, name)
    elif (motion.body_model == "smplx" and options.correctives != "NONE" and motion.v_template is not None):
        if not smplx_dir:
            warnings.append("no SMPL-X model folder is set, so the body has no pose correctives")
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
               options: BuildOptions | None = None, target: bpy.types.Object | None = None) -> BuiltTake:
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

    Returns the :class:`BuiltTake`. Sets the scene's frame rate (the video's:
    stored rate x frame stride, unless resampling), frame range and render
    resolution (when the motion has a camera), and makes the take's camera
    the scene camera when the scene has none or shows an earlier take.

    Raises:
        MocapError: the motion is invalid or lacks rest data, or Blender
            refused something; the scene is left as it was in that case.
    """
    options = options or BuildOptions()
    scene, view_layer = _scene_and_view_layer(context_or_scene)
    scene_rate = scene.render.fps / scene.render.fps_base
    motion, model, offset, warnings = prepare_motion(motion, name, options, scene_rate)
    if target is not None:
        reason = rig_mismatch(target, motion)
        if reason:
            warnings.append(f"'{target.name}' cannot take this motion ({reason}); "
                            "built a new character")
            target = None
    created = _Created()
    try:
        take = _build(scene, view_layer, motion, name, video_path, options, model, target, created)
    except MocapError:
        created.remove_all()
        raise
    except Exception as exc:
        created.remove_all()
        raise MocapError(f"could not build the scene for '{name}': {exc}") from exc
    take.ground_offset = offset
    take.warnings[:0] = warnings
    return take


def _build(scene, view_layer, motion: Motion, name: str, video_path: str | None,
           options: BuildOptions, model: dict[str, np.ndarray] | None,
           target: bpy.types.Object | None, created: _Created) -> BuiltTake:
    warnings: list[str] = []
    collection = created.add(bpy.data.collections.new(name))
    scene.collection.children.link(collection)

    if target is None:
        arm_obj = _build_armature(scene, view_layer, motion, name, collection, created)
        arm_obj[ROLE] = "rig"
        body = None
        if motion.v_template is not None and motion.faces is not None and motion.skin_weights is not None:
            body = _build_body(motion, name, collection, arm_obj, created)
            _add_shape_keys(body, arm_obj, motion, model, options.correctives)
    else:
        arm_obj, body = target, find_body(target)
        created.keep_animation(arm_obj)
        mesh: Any = body.data if body is not None else None
        if mesh is not None and mesh.shape_keys is not None:
            created.keep_animation(mesh.shape_keys)

    action = created.add(bpy.data.actions.new(name))
    action.use_fake_user = True  # several takes live side by side; switching must not lose one
    frames = _key_motion(arm_obj, action, motion)
    shape_action = _key_shapes(body, action, motion, frames, name, created, warnings)

    camera = clip = None
    if motion.camera_intrinsics is not None and motion.image_size is not None:
        camera, clip = _build_camera(motion, name, collection, arm_obj, video_path, created, warnings)
    elif video_path:
        warnings.append("the motion has no camera, so the video is not shown as a background")

    # Scene-wide settings last: nothing after this point can fail.
    if camera is not None:
        width, height = (int(v) for v in np.asarray(motion.image_size).reshape(2))
        scene.render.resolution_x = width
        scene.render.resolution_y = height
        scene.render.resolution_percentage = 100
        scene.render.pixel_aspect_x = 1.0
        scene.render.pixel_aspect_y = 1.0
        if scene.camera is None or scene.camera.get(ROLE) == "camera":
            scene.camera = camera
    if not options.resample:
        fps, fps_base = convert.blender_fps_from_rate(prepare.video_rate(motion))
        scene.render.fps = fps
        scene.render.fps_base = fps_base
    first, last = int(frames[0]), int(frames[-1])
    scene.frame_start = first
    scene.frame_end = last
    scene.frame_set(first)
    return BuiltTake(collection=collection, armature=arm_obj, action=action, camera=camera,
                     body=body, clip=clip, frame_range=(first, last), reused=target is not None,
                     shape_action=shape_action, warnings=warnings)


def _build_armature(scene, view_layer, motion: Motion, name: str, collection,
                    created: _Created) -> bpy.types.Object:
    names = tuple(motion.joint_names)
    parents = np.asarray(motion.parents)
    heads = np.asarray(motion.rest_joints, np.float64)
    tails = bone_tails(heads, parents, names)

    arm_data = created.add(bpy.data.armatures.new(name))
    arm_data.display_type = 'STICK'
    arm_obj = created.add(bpy.data.objects.new(name, arm_data))
    collection.objects.link(arm_obj)
    matrix = np.eye(4)
    matrix[:3, :3] = convert.BLENDER_FROM_SMPLX_MODEL  # rest pose upright, facing -Y
    arm_obj.matrix_world = Matrix(matrix.tolist())
    arm_obj.show_in_front = True

    previous_active = view_layer.objects.active
    if previous_active is not None and previous_active.mode != 'OBJECT':
        with bpy.context.temp_override(scene=scene, view_layer=view_layer,
                                       active_object=previous_active,
                                       object=previous_active):
            bpy.ops.object.mode_set(mode='OBJECT')
    view_layer.objects.active = arm_obj
    with bpy.context.temp_override(scene=scene, view_layer=view_layer,
                                   active_object=arm_obj, object=arm_obj):
        bpy.ops.object.mode_set(mode='EDIT')
        try:
            edit_bones = arm_data.edit_bones
            for j, bone_name in enumerate(names):
                eb = edit_bones.new(bone_name)
                eb.head = heads[j].tolist()
                eb.tail = tails[j].tolist()
                eb.align_roll(_bone_roll_reference(tails[j] - heads[j]))
                p = int(parents[j])
                if p >= 0:
                    eb.parent = edit_bones[names[p]]
                    eb.use_connect = bool(np.allclose(heads[j], tails[p], atol=1e-6))
        finally:
            bpy.ops.object.mode_set(mode='OBJECT')
    if len(arm_data.bones) != len(names):
        raise MocapError(f"'{name}': Blender kept {len(arm_data.bones)} of {len(names)} bones")
    for pose_bone in arm_obj.pose.bones:
        pose_bone.rotation_mode = 'QUATERNION'
    return arm_obj


def _key_motion(arm_obj, action, motion: Motion) -> np.ndarray:
    """Key all bones on every motion frame; returns the (T,) scene frames."""
    names = tuple(motion.joint_names)
    bones = arm_obj.data.bones
    # B_j: bone rest rotation, armature space <- bone space.
    rest = np.array([np.array(bones[n].matrix_local)[:3, :3] for n in names])
    R = axis_angle_to_matrix(motion.joint_rotations().astype(np.float64))  # (T, J, 3, 3)
    # Armature space is the model frame, not the motion world: move the root
    # into it. With C = armature_from_world, the pelvis turns by C R_0 and sits
    # at C (J_0 + trans), i.e. its offset from rest is C (J_0 + trans) - J_0.
    # J_0 is the motion's pelvis; the offset is taken from the rig's own one
    # (they differ by up to RIG_TOLERANCE on a re-used rig).
    C = convert.armature_from_world(motion.world_up)
    R[:, 0] = C @ R[:, 0]
    pelvis_motion = np.asarray(motion.rest_joints, np.float64)[0]
    pelvis_rig = np.array(bones[names[0]].head_local, np.float64)
    offset = (pelvis_motion + np.asarray(motion.trans, np.float64)) @ C.T - pelvis_rig
    local = np.einsum("jba,tjbc,jcd->tjad", rest, R, rest)  # B^T R B
    quats = matrix_to_quat_wxyz(local)
    root_loc = offset @ rest[0]  # rows of B_0^T offset
    frames = np.asarray(motion.frame_indices, np.int64) + 1
    if np.any(np.diff(frames) <= 0):
        raise MocapError("the motion's frame indices are not increasing; the file is damaged")
    # Per-frame confidence as an animated custom property: a curve the animator
    # sees in the Graph Editor next to the bones, dipping where the take is weak;
    # its keys on low-confidence frames are Extreme keys, a red run in the Dope Sheet.
    arm_obj[CONFIDENCE_PROP] = 1.0
    path = f'["{CONFIDENCE_PROP}"]'
    conf = np.asarray(motion.confidence, np.float64)
    keying.key_bones(arm_obj, action, frames.astype(np.float64), quats, names,
                     root_locations=root_loc, root_bone_name=names[0], extra_channels=((path, 0, "Mocap", conf),),
                     marks={path: conf < LOW_CONFIDENCE})
    action[QUALITY_PROP] = {k: float(v) for k, v in motion.quality.items() if np.isfinite(v)}
    action[LOW_CONFIDENCE_PROP] = low_confidence_ranges(frames, np.asarray(motion.confidence))
    return frames


def record_motion_file(take: "BuiltTake", path: str | os.PathLike[str]) -> None:
    """Remember the take's motion file on its action (this take) and its rig (the latest take),
    so the Preview button and later tools find it."""
    value = str(Path(path).resolve())
    take.action[MOTION_FILE_PROP] = value
    take.armature[MOTION_FILE_PROP] = value


def low_confidence_ranges(frames: np.ndarray, confidence: np.ndarray, threshold: float = LOW_CONFIDENCE) -> str:
    """Scene frames whose confidence is below ``threshold``, as text: "12-18, 40"."""
    low = np.asarray(confidence) < threshold
    parts = []
    padded = np.concatenate([[False], low, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    for start, end in zip(edges[::2], edges[1::2]):
        a, b = int(frames[start]), int(frames[end - 1])
        parts.append(str(a) if a == b else f"{a}-{b}")
    return ", ".join(parts)


def _key_shapes(body, action, motion: Motion, frames: np.ndarray, name: str, created: _Created,
                warnings: list[str]) -> bpy.types.Action | None:
    """Key expression (and baked pose-corrective) shape keys of ``body`` for this take."""
    key = body.data.shape_keys if body is not None else None
    if key is None:
        return None
    blocks = key.key_blocks
    channels: list[keying.Channel] = []
    E = motion.expression.shape[1]
    expression_names = [f"expression_{k:02d}" for k in range(E)]
    have = [n for n in expression_names if n in blocks]
    if E and len(have) < E:
        warnings.append(f"the body has {len(have)} of the take's {E} expression shape keys; "
                        "the others are not keyed")
    for k, key_name in enumerate(expression_names):
        if key_name in blocks:
            channels.append((f'key_blocks["{key_name}"].value', 0, "Expression",
                             motion.expression[:, k].astype(np.float64)))
    if body.get("mocap_correctives") == "BAKED":
        R = axis_angle_to_matrix(motion.joint_rotations().astype(np.float64))
        feature = smplx_rest.pose_feature(R)  # (T, 486)
        for block in blocks:
            index = _pose_key_index(block.name, motion.joint_names)
            if index is not None:
                channels.append((f'key_blocks["{block.name}"].value', 0, "Pose correctives",
                                 feature[:, index]))
    if not channels:
        return None
    shape_action = action
    if not keying.SLOTTED:  # a legacy action animates one ID type
        shape_action = created.add(bpy.data.actions.new(f"{name}_shapes"))
        shape_action.use_fake_user = True
    keying.write_fcurves(key, shape_action, channels, frames.astype(np.float64))
    return shape_action


def _pose_key_name(joint: str, a: int, b: int) -> str:
    return f"{_POSE_KEY_PREFIX}{joint}_{a}{b}"


def _pose_key_index(key_name: str, joint_names: tuple[str, ...]) -> int | None:
    """Feature index 9 (j - 1) + 3 a + b of a pose-corrective key name, or None."""
    if not key_name.startswith(_POSE_KEY_PREFIX) or len(key_name) < len(_POSE_KEY_PREFIX) + 4:
        return None
    joint, ab = key_name[len(_POSE_KEY_PREFIX):-3], key_name[-2:]
    if key_name[-3] != "_" or joint not in joint_names or not ab.isdigit():
        return None
    j = joint_names.index(joint)
    a, b = int(ab[0]), int(ab[1])
    if j == 0 or a > 2 or b > 2:
        return None
    return 9 * (j - 1) + 3 * a + b


def _build_body(motion: Motion, name: str, collection, arm_obj, created: _Created):
    verts = np.asarray(motion.v_template, np.float32)
    faces = np.asarray(motion.faces, np.int32)
    mesh = created.add(bpy.data.meshes.new(f"{name}_body"))
    mesh.vertices.add(len(verts))
    mesh.vertices.foreach_set("co", verts.ravel())
    mesh.loops.add(faces.size)
    mesh.loops.foreach_set("vertex_index", faces.ravel())
    mesh.polygons.add(len(faces))
    mesh.polygons.foreach_set("loop_start", np.arange(0, faces.size, 3, dtype=np.int32))
    mesh.update(calc_edges=True)
    mesh.validate()
    mesh.shade_smooth()

    body = created.add(bpy.data.objects.new(f"{name}_body", mesh))
    collection.objects.link(body)
    body.parent = arm_obj
    body[ROLE] = "body"
    modifier = body.modifiers.new("Armature", 'ARMATURE')
    modifier.object = arm_obj

    weights = np.asarray(motion.skin_weights, np.float32)
    for j, joint in enumerate(motion.joint_names):
        group = body.vertex_groups.new(name=joint)
        column = weights[:, j]
        idx = np.flatnonzero(column > _WEIGHT_EPS)
        if idx.size == 0:
            continue
        # VertexGroup.add takes one weight per call: batch vertices sharing a
        # weight (rigid regions are all 1.0), one call per distinct value.
        values, inverse = np.unique(column[idx], return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(values) + 1))
        for k, value in enumerate(values.tolist()):
            group.add(idx[order[bounds[k]:bounds[k + 1]]].tolist(), value, 'REPLACE')
    return body


def _add_shape_keys(body, arm_obj, motion: Motion, model: dict[str, np.ndarray] | None,
                    correctives: str) -> None:
    """Basis = neutral shape, betas at their fitted values, expressions, pose correctives.

    The mesh's own coordinates become the Basis, so with every key at 0 the
    body is the model's neutral template; the beta keys at their fitted
    values give back the fitted ``v_template`` exactly.
    """
    shape_dirs = motion.shape_dirs
    expression_dirs = motion.expression_dirs if motion.expression.shape[1] else None
    posedirs = smplx_rest.pose_dirs(model) if model is not None and correctives != "NONE" else None
    if shape_dirs is None and expression_dirs is None and posedirs is None:
        return
    verts = np.asarray(motion.v_template, np.float64)
    betas = np.asarray(motion.betas, np.float64)
    basis_co = verts - shape_dirs @ betas if shape_dirs is not None else verts
    body.data.vertices.foreach_set("co", basis_co.astype(np.float32).ravel())
    body.shape_key_add(name="Basis", from_mix=False)

    def add(key_name: str, offsets: np.ndarray, limit: float):
        block = body.shape_key_add(name=key_name, from_mix=False)
        block.data.foreach_set("co", (basis_co + offsets).astype(np.float32).ravel())
        block.slider_min, block.slider_max = -limit, limit
        return block

    if shape_dirs is not None:
        for k in range(shape_dirs.shape[2]):
            block = add(f"beta_{k:02d}", shape_dirs[:, :, k], SHAPE_KEY_RANGE)
            block.value = float(np.clip(betas[k], -SHAPE_KEY_RANGE, SHAPE_KEY_RANGE))
    if expression_dirs is not None:
        for k in range(expression_dirs.shape[2]):
            add(f"expression_{k:02d}", expression_dirs[:, :, k], SHAPE_KEY_RANGE)
    if posedirs is None:
        return
    names = tuple(motion.joint_names)
    pose_keys: list[tuple[str, int, int, int]] = []
    # Only directions that move something: real SMPL-X has all 486; others may have fewer.
    active = np.flatnonzero(np.abs(posedirs).max(axis=(0, 1)) > 0.0)
    for index in active.tolist():
        j, rest = divmod(index, 9)
        a, b = divmod(rest, 3)
        key_name = _pose_key_name(names[j + 1], a, b)
        # (R - I) entries lie in [-2, 2].
        add(key_name, posedirs[:, :, index], 2.0)
        pose_keys.append((key_name, j + 1, a, b))
    body["mocap_correctives"] = correctives
    if correctives == "DRIVERS":
        add_corrective_drivers(body.data.shape_keys, arm_obj, pose_keys, names)


# Monomials of the bone quaternion (w, x, y, z) and the rotation matrix as
# quadratic forms in them: Q[c, d] = sum_m _Q_FORMS[c, d, m] * monomial_m / |q|^2.
_MONOMIALS = ("w*w", "x*x", "y*y", "z*z", "w*x", "w*y", "w*z", "x*y", "x*z", "y*z")
_Q_FORMS = np.zeros((3, 3, 10))
for (_c, _d), _terms in {
    (0, 0): {0: 1, 1: 1, 2: -1, 3: -1}, (0, 1): {7: 2, 6: -2}, (0, 2): {8: 2, 5: 2},
    (1, 0): {7: 2, 6: 2}, (1, 1): {0: 1, 1: -1, 2: 1, 3: -1}, (1, 2): {9: 2, 4: -2},
    (2, 0): {8: 2, 5: -2}, (2, 1): {9: 2, 4: 2}, (2, 2): {0: 1, 1: -1, 2: -1, 3: 1},
}.items():
    for _m, _v in _terms.items():
        _Q_FORMS[_c, _d, _m] = _v


def corrective_expression(bone_rest: np.ndarray, a: int, b: int) -> str:
    """Driver expression for ``(R - I)[a, b]`` from the bone's quaternion variables w, x, y, z.

    ``R = B Q B^T`` is the joint's rotation in model axes, ``Q`` the
    bone-local rotation of the (not necessarily unit) quaternion and ``B``
    (3, 3) the bone's rest rotation. The result is a ratio of quadratic forms
    with plain numbers, which Blender evaluates as a *simple expression*
    (no Python, works with auto-run scripts off).
    """
    B = np.asarray(bone_rest, np.float64)
    coef = np.einsum("c,d,cdm->m", B[a], B[b], _Q_FORMS)
    if a == b:
        coef[:4] -= 1.0  # minus I: subtract |q|^2 / |q|^2
    terms = [f"{c:+.10f}*{m}" for c, m in zip(coef, _MONOMIALS) if abs(c) > 1e-10]
    numerator = "".join(terms) if terms else "0"
    return f"({numerator})/(w*w+x*x+y*y+z*z+1e-12)"


def add_corrective_drivers(key: bpy.types.Key, arm_obj: bpy.types.Object,
                           pose_keys: list[tuple[str, int, int, int]], names: tuple[str, ...]) -> None:
    """One driver per pose-corrective key: its (R_j - I)[a, b] from the bone's rotation."""
    armature: Any = arm_obj.data
    bones = armature.bones
    for key_name, j, a, b in pose_keys:
        bone = names[j]
        rest = np.array(bones[bone].matrix_local)[:3, :3]
        fcurve: Any = key.driver_add(f'key_blocks["{key_name}"].value')
        for modifier in list(fcurve.modifiers):
            fcurve.modifiers.remove(modifier)
        driver = fcurve.driver
        driver.type = 'SCRIPTED'
        path = f'pose.bones["{bpy.utils.escape_identifier(bone)}"].rotation_quaternion'
        for i, letter in enumerate("wxyz"):
            var = driver.variables.new()
            var.name = letter
            var.type = 'SINGLE_PROP'
            target = var.targets[0]
            target.id_type = 'OBJECT'
            target.id = arm_obj
            target.data_path = f"{path}[{i}]"
        driver.expression = corrective_expression(rest, a, b)


def _build_camera(motion: Motion, name: str, collection, arm_obj, video_path: str | None,
                  created: _Created, warnings: list[str]):
    cam_data = created.add(bpy.data.cameras.new(f"{name}_camera"))
    cam_obj = created.add(bpy.data.objects.new(f"{name}_camera", cam_data))
    collection.objects.link(cam_obj)
    cam_obj[ROLE] = "camera"

    extrinsics = motion.camera_extrinsics if motion.camera_extrinsics is not None else np.eye(4)
    rotation, location = convert.blender_camera_pose_from_opencv_extrinsics(extrinsics, motion.world_up)
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = location
    # The take is keyed in the rig's space: if the animator moved a re-used
    # rig, the camera goes with it so the overlay still holds.
    rig_default = np.eye(4)
    rig_default[:3, :3] = convert.BLENDER_FROM_SMPLX_MODEL
    moved = np.array(arm_obj.matrix_world) @ rig_default.T
    cam_obj.matrix_world = Matrix((moved @ matrix).tolist())

    K, image_size = motion.camera_intrinsics, motion.image_size
    assert K is not None and image_size is not None  # checked by the caller
    lens = convert.blender_lens_from_opencv_intrinsics(K, image_size)
    cam_data.sensor_fit = 'HORIZONTAL'
    cam_data.sensor_width = lens["sensor_width"]
    cam_data.lens = lens["lens"]
    cam_data.shift_x = lens["shift_x"]
    cam_data.shift_y = lens["shift_y"]

    clip = _load_background(cam_data, video_path, created, warnings) if video_path else None
    return cam_obj, clip


def _load_background(cam_data, video_path: str, created: _Created, warnings: list[str]):
    """Load the video as a movie clip behind the camera; returns the clip or None."""
    if not os.path.isfile(video_path):
        warnings.append(f"video not found, the camera has no background: {video_path}")
        return None
    existing = set(bpy.data.movieclips)
    try:
        clip = bpy.data.movieclips.load(str(Path(video_path).resolve()), check_existing=True)
    except RuntimeError as exc:
        warnings.append(f"could not load the video {video_path} as background: {exc}")
        return None
    if tuple(clip.size) == (0, 0):
        warnings.append(f"Blender cannot read the video {video_path}; the camera has no background")
        if clip not in existing:
            bpy.data.movieclips.remove(clip)
        return None
    if clip not in existing:
        created.add(clip)
    # Movie clip frame 1 shows video frame 0, as scene frame f + 1 does.
    clip.frame_start = 1
    background = cam_data.background_images.new()
    background.source = 'MOVIE_CLIP'
    background.clip = clip
    cam_data.show_background_images = True
    return clip
