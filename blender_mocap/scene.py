"""Build a take in the Blender scene from a Motion: armature, body mesh, action, camera.

Frames (see ``convert``): the armature object's matrix_world is
``BLENDER_FROM_SMPLX_MODEL``, so the rest pose stands upright in Blender and
armature space is the SMPL-X model frame (rest joints are placed as given).
Each SMPL-X joint rotation R_j (model axes, relative to the parent) becomes
the bone-local quaternion of B_j^T R_j B_j, where B_j is the bone's rest
rotation in armature space (``bone.matrix_local``); the motion world enters
through the root alone (global orientation and translation re-expressed in
armature space). With these, Blender's pose equals the SMPL-X forward
kinematics whatever the bones' rolls are.

Everything created is tracked; if anything fails, all of it is removed again
and the scene is left as it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy
import numpy as np
from mathutils import Matrix

from ..core.errors import MocapError
from ..core.motion import Motion, validate_motion
from ..core.rotations import axis_angle_to_matrix, matrix_to_quat_wxyz
from . import convert, keying

# Where a joint has several children, the one its bone points at.
_PREFERRED_CHILD = {
    "pelvis": "spine1",
    "spine3": "neck",
    "left_wrist": "left_middle1",
    "right_wrist": "right_middle1",
}
# Joints whose bone does not point at a child: (direction in the model frame or
# None for "continue the parent bone", length in metres).
_LEAF_SHAPE = {
    "head": (None, 0.15),
    "jaw": ((0.0, -0.3, 1.0), 0.08),
    "left_eye_smplhf": ((0.0, 0.0, 1.0), 0.02),
    "right_eye_smplhf": ((0.0, 0.0, 1.0), 0.02),
}
_MIN_BONE = 1e-3  # metres; Blender deletes zero-length bones on leaving edit mode.
_WEIGHT_EPS = 1e-4


@dataclass
class BuiltTake:
    """What :func:`build_take` created.

    Attributes:
        collection: the take's collection (named after the take).
        armature: armature object, keyed with ``action``.
        action: the take's action (bone rotations, pelvis location).
        camera: camera object matching the video, or None without intrinsics.
        body: skinned mesh object, or None when the motion has no rest mesh.
        clip: the video as a movie clip (camera background), or None.
        frame_range: (first, last) scene frames keyed.
        warnings: things the user should know (e.g. video not found).
    """

    collection: bpy.types.Collection
    armature: bpy.types.Object
    action: bpy.types.Action
    camera: bpy.types.Object | None = None
    body: bpy.types.Object | None = None
    clip: bpy.types.MovieClip | None = None
    frame_range: tuple[int, int] = (1, 1)
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
    """Every ID made while building, removed again on failure."""

    def __init__(self) -> None:
        self.ids: list[bpy.types.ID] = []

    def add(self, id_data):
        self.ids.append(id_data)
        return id_data

    def remove_all(self) -> None:
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


def _scene_and_view_layer(context_or_scene) -> tuple[bpy.types.Scene, bpy.types.ViewLayer]:
    if isinstance(context_or_scene, bpy.types.Scene):
        scene = context_or_scene
        view_layer = bpy.context.view_layer
        if view_layer is None or bpy.context.scene != scene:
            view_layer = scene.view_layers[0]
        return scene, view_layer
    return context_or_scene.scene, context_or_scene.view_layer


def build_take(context_or_scene, motion: Motion, *, name: str,
               video_path: str | None = None) -> BuiltTake:
    """Create the take ``name`` from ``motion`` in a new collection of the scene.

    Args:
        context_or_scene: ``bpy.context`` (or another Context) or a Scene.
        motion: a validated or unvalidated Motion; it is validated first.
        name: take name (usually the video's stem): collection, armature and
            action are named after it.
        video_path: the source video; loaded as the camera's background when
            it exists.

    Returns the :class:`BuiltTake`. Sets the scene's frame rate (the video's:
    stored rate x frame stride), frame range
    and render resolution (when the motion has a camera) and makes the take's
    camera the scene camera if the scene has none.

    Raises:
        MocapError: the motion is invalid or lacks rest data, or Blender
            refused something; nothing is left behind in that case.
    """
    validate_motion(motion, name)
    if motion.rest_joints is None:
        raise MocapError(
            f"'{name}' has no rest skeleton (rest joint positions), as in AMASS files. "
            "Building a body from it needs the SMPL-X model files, which this version "
            "cannot load yet; capture the video with blender-mocap to get a complete take."
        )
    scene, view_layer = _scene_and_view_layer(context_or_scene)
    created = _Created()
    try:
        return _build(scene, view_layer, motion, name, video_path, created)
    except MocapError:
        created.remove_all()
        raise
    except Exception as exc:
        created.remove_all()
        raise MocapError(f"could not build the scene for '{name}': {exc}") from exc


def _build(scene, view_layer, motion: Motion, name: str, video_path: str | None,
           created: _Created) -> BuiltTake:
    warnings: list[str] = []
    collection = created.add(bpy.data.collections.new(name))
    scene.collection.children.link(collection)

    arm_obj = _build_armature(scene, view_layer, motion, name, collection, created)
    action = created.add(bpy.data.actions.new(name))
    frames = _key_motion(arm_obj, action, motion)

    body = None
    if motion.v_template is not None and motion.faces is not None and motion.skin_weights is not None:
        body = _build_body(motion, name, collection, arm_obj, created)

    camera = clip = None
    if motion.camera_intrinsics is not None and motion.image_size is not None:
        camera, clip = _build_camera(scene, motion, name, collection, video_path, created, warnings)
    elif video_path:
        warnings.append("the motion has no camera, so the video is not shown as a background")

    fps, fps_base = convert.blender_fps_from_rate(_video_rate(motion))
    scene.render.fps = fps
    scene.render.fps_base = fps_base
    first, last = int(frames[0]), int(frames[-1])
    scene.frame_start = first
    scene.frame_end = last
    scene.frame_set(first)
    return BuiltTake(collection=collection, armature=arm_obj, action=action, camera=camera,
                     body=body, clip=clip, frame_range=(first, last), warnings=warnings)


def _video_rate(motion: Motion) -> float:
    """Frames per second of the *video*: keys sit on video frames (f + 1), not stored ones.

    ``Motion.fps`` is the rate of the stored frames; a capture with stride K
    stores every K-th video frame at fps = video fps / K. Playing the scene at
    the video's rate keeps the keys in step with the movie clip background.
    """
    steps = np.diff(np.asarray(motion.frame_indices))
    stride = max(1, int(round(float(np.median(steps))))) if steps.size else 1
    return float(motion.fps) * stride


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
    C = convert.armature_from_world(motion.world_up)
    R[:, 0] = C @ R[:, 0]
    pelvis_rest = np.asarray(motion.rest_joints, np.float64)[0]
    offset = (pelvis_rest + np.asarray(motion.trans, np.float64)) @ C.T - pelvis_rest
    local = np.einsum("jba,tjbc,jcd->tjad", rest, R, rest)  # B^T R B
    quats = matrix_to_quat_wxyz(local)
    root_loc = offset @ rest[0]  # rows of B_0^T offset
    frames = np.asarray(motion.frame_indices, np.int64) + 1
    if np.any(np.diff(frames) <= 0):
        raise MocapError("the motion's frame indices are not increasing; the file is damaged")
    keying.key_bones(arm_obj, action, frames.astype(np.float64), quats, names,
                     root_locations=root_loc, root_bone_name=names[0])
    return frames


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


def _build_camera(scene, motion: Motion, name: str, collection, video_path: str | None,
                  created: _Created, warnings: list[str]):
    cam_data = created.add(bpy.data.cameras.new(f"{name}_camera"))
    cam_obj = created.add(bpy.data.objects.new(f"{name}_camera", cam_data))
    collection.objects.link(cam_obj)

    extrinsics = motion.camera_extrinsics if motion.camera_extrinsics is not None else np.eye(4)
    rotation, location = convert.blender_camera_pose_from_opencv_extrinsics(extrinsics, motion.world_up)
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = location
    cam_obj.matrix_world = Matrix(matrix.tolist())

    K, image_size = motion.camera_intrinsics, motion.image_size
    if K is None or image_size is None:
        raise MocapError(f"'{name}': the motion has no camera intrinsics or image size")
    lens = convert.blender_lens_from_opencv_intrinsics(K, image_size)
    cam_data.sensor_fit = 'HORIZONTAL'
    cam_data.sensor_width = lens["sensor_width"]
    cam_data.lens = lens["lens"]
    cam_data.shift_x = lens["shift_x"]
    cam_data.shift_y = lens["shift_y"]
    width, height = (int(v) for v in np.asarray(motion.image_size).reshape(2))
    scene.render.resolution_x = width
    scene.render.resolution_y = height
    scene.render.resolution_percentage = 100
    scene.render.pixel_aspect_x = 1.0
    scene.render.pixel_aspect_y = 1.0

    clip = _load_background(cam_data, video_path, created, warnings) if video_path else None
    if scene.camera is None:
        scene.camera = cam_obj
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
