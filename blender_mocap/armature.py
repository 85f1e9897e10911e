"""The take's armature: bones from the rest joints, the rest pose, and the keys of the motion.

Frames (see ``convert``): the armature object's matrix_world is
``BLENDER_FROM_SMPLX_MODEL``, so the rest pose stands upright in Blender and
armature space is the SMPL-X model frame (rest joints are placed as given).
Each SMPL-X joint rotation R_j (model axes, relative to the parent) becomes
the bone-local quaternion of B_j^T R_j B_j, where B_j is the bone's rest
rotation in armature space (``bone.matrix_local``); the motion world enters
through the root alone (global orientation and translation re-expressed in
armature space). With these, Blender's pose equals the SMPL-X forward
kinematics whatever the bones' rolls are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bpy
import numpy as np
from mathutils import Matrix

from ..core.errors import MocapError
from ..core.motion import LOW_CONFIDENCE, Motion
from ..core.rotations import axis_angle_to_matrix, axis_angle_to_quat_wxyz, matrix_to_quat_wxyz
from . import convert, keying
from .build_context import BuildContext
from .take_keys import CONFIDENCE_PROP, ROLE, ROLE_RIG

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

RIG_TOLERANCE = 0.01
"""Metres: an existing rig takes a new take when every rest joint is this close (and names match)."""


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


def build_armature(ctx: BuildContext) -> bpy.types.Object:
    """A new armature object in the take's collection: one bone per joint at the rest joints."""
    scene, view_layer, motion, name, created = ctx.scene, ctx.view_layer, ctx.motion, ctx.name, ctx.created
    names = tuple(motion.joint_names)
    parents = np.asarray(motion.parents)
    heads = np.asarray(motion.rest_joints, np.float64)
    tails = bone_tails(heads, parents, names)

    arm_data = created.add(bpy.data.armatures.new(name))
    arm_data.display_type = 'STICK'
    arm_obj = created.add(bpy.data.objects.new(name, arm_data))
    ctx.collection.objects.link(arm_obj)
    matrix = np.eye(4)
    matrix[:3, :3] = convert.BLENDER_FROM_SMPLX_MODEL  # rest pose upright, facing -Y
    arm_obj.matrix_world = Matrix(matrix.tolist())
    arm_obj.show_in_front = True
    arm_obj[ROLE] = ROLE_RIG

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


def bone_quaternions(motion: Motion, rest: np.ndarray, C: np.ndarray) -> np.ndarray:
    """(T, J, 4) float32 bone-local rotations (w, x, y, z; w >= 0) of every frame.

    ``rest``: (J, 3, 3) bone rest rotations B_j (armature space <- bone space);
    ``C``: (3, 3) armature space <- motion world, which turns the root. A bone's
    local rotation is B^T R B, whose quaternion is R's with the vector part
    turned by B^T; the root's is B_0^T C R_0 B_0.
    """
    rotations = motion.joint_rotations()
    T, J = rotations.shape[:2]
    out = np.empty((T, J, 4), np.float32)
    for a in range(0, T, keying.FRAME_CHUNK):
        aa = rotations[a:a + keying.FRAME_CHUNK].astype(np.float64)
        q = axis_angle_to_quat_wxyz(aa)
        q[..., 1:] = np.einsum("jba,njb->nja", rest, q[..., 1:])
        q[:, 0] = matrix_to_quat_wxyz(rest[0].T @ C @ axis_angle_to_matrix(aa[:, 0]) @ rest[0])
        out[a:a + keying.FRAME_CHUNK] = np.where(q[..., :1] < 0, -q, q)
    return out


def key_motion(arm_obj: bpy.types.Object, action: bpy.types.Action, motion: Motion,
               progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Key all bones on every motion frame; returns the (T,) scene frames.

    ``progress(done, total)`` is called after each F-curve (see ``keying.write_fcurves``).
    """
    names = tuple(motion.joint_names)
    armature: Any = arm_obj.data
    bones = armature.bones
    # B_j: bone rest rotation, armature space <- bone space.
    rest = np.array([np.array(bones[n].matrix_local)[:3, :3] for n in names])
    # Armature space is the model frame, not the motion world: move the root
    # into it. With C = armature_from_world, the pelvis turns by C R_0 and sits
    # at C (J_0 + trans), i.e. its offset from rest is C (J_0 + trans) - J_0.
    # J_0 is the motion's pelvis; the offset is taken from the rig's own one
    # (they differ by up to RIG_TOLERANCE on a re-used rig).
    C = convert.armature_from_world(motion.world_up)
    pelvis_motion = np.asarray(motion.rest_joints, np.float64)[0]
    pelvis_rig = np.array(bones[names[0]].head_local, np.float64)
    offset = (pelvis_motion + np.asarray(motion.trans, np.float64)) @ C.T - pelvis_rig
    quats = bone_quaternions(motion, rest, C)
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
                     marks={path: conf < LOW_CONFIDENCE}, progress=progress)
    return frames
