"""Target characters for the retarget tests and bench, built in Blender by code (test data: never shipped).

Humanoid skeletons named as Mixamo, Unreal or anything else, in a T- or
A-pose, with other proportions than ours, random bone rolls, 1 to 4 spine
bones, with or without fingers, in centimetres on a Y-up object (as a Mixamo
FBX imports) or in metres; and Rigify's human generated from its meta-rig.
Needs bpy.
"""

from __future__ import annotations

import math

import bpy
import numpy as np
from mathutils import Matrix

from .rig_names import Namer, mixamo_name, plain_name, unreal_name  # noqa: F401  (used from here)

FINGERS = ("thumb", "index", "middle", "ring", "pinky")

LIMBS = (("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("right_shoulder", "right_elbow"),
         ("right_elbow", "right_wrist"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
         ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("neck", "head"))
SPINE_1_TO_1 = (("mid_hip", "spine1"), ("spine1", "spine2"), ("spine2", "spine3"), ("spine3", "neck"))
SPINE_OTHER = (("mid_hip", "neck"),)
"""Joint directions compared (issue 18's list). The spine: each segment between mapped joints, so a
spine of three bones segment by segment, a spine of another count (Rigify's controls too) by its
mid-hip-to-neck line."""

RIGIFY_MEASURE = {"left_shoulder": "ORG-upper_arm.L", "left_elbow": "ORG-forearm.L", "left_wrist": "ORG-hand.L",
                  "right_shoulder": "ORG-upper_arm.R", "right_elbow": "ORG-forearm.R", "right_wrist": "ORG-hand.R",
                  "left_hip": "ORG-thigh.L", "left_knee": "ORG-shin.L", "left_ankle": "ORG-foot.L",
                  "right_hip": "ORG-thigh.R", "right_knee": "ORG-shin.R", "right_ankle": "ORG-foot.R",
                  "neck": "ORG-spine.004", "head": "ORG-spine.006"}
"""Rigify is keyed on its controls and measured on the ORG bones its deform bones follow."""


def humanoid(namer: Namer, *, spine: int = 3, fingers: bool = True, a_pose: bool = True,
             legs: float = 1.0, arms: float = 1.0, torso: float = 1.0, twist: bool = False,
             shuffle: bool = False) -> list[tuple[str, str | None, np.ndarray, np.ndarray]]:
    """(name, parent, head, tail) in the world (metres, Z up, facing -Y, left = +X), parents first
    unless ``shuffle`` (then in a scrambled order, as some exporters write them)."""
    bones: list[tuple[str, str | None, np.ndarray, np.ndarray]] = []
    hip_z = 0.9 * legs
    top = hip_z + 0.55 * torso

    def add(name, parent, head, tail):
        bones.append((name, parent, np.asarray(head, float), np.asarray(tail, float)))

    pelvis = namer("pelvis", "", 0)
    spine_z = np.linspace(hip_z + 0.1 * torso, top, spine + 1)
    add(pelvis, None, (0, 0.01, hip_z), (0, 0.01, spine_z[0]))
    parent = pelvis
    for k in range(spine):
        name = namer("spine", "", k + 1)
        add(name, parent, (0, 0.0, spine_z[k]), (0, 0.0, spine_z[k + 1]))
        parent = name
    chest = parent
    add(namer("neck", "", 0), chest, (0, 0.01, top), (0, 0.0, top + 0.12 * torso))
    add(namer("head", "", 0), namer("neck", "", 0), (0, 0.0, top + 0.12 * torso), (0, 0.0, top + 0.33 * torso))
    turn = math.radians(45.0) if a_pose else 0.0
    for side, sx in (("L", 1.0), ("R", -1.0)):
        shoulder = np.array([0.17 * sx, 0.02, top - 0.04])
        down = np.array(Matrix.Rotation(turn * sx, 3, "Y"))

        def arm(x: float, y: float = 0.0, z: float = 0.0) -> np.ndarray:
            return shoulder + down @ np.array([x * sx * arms, y, z])

        add(namer("collar", side, 0), chest, (0.02 * sx, 0.0, top - 0.06), shoulder)
        add(namer("upper", side, 0), namer("collar", side, 0), arm(0), arm(0.28, 0.01))
        add(namer("fore", side, 0), namer("upper", side, 0), arm(0.28, 0.01), arm(0.54))
        add(namer("hand", side, 0), namer("fore", side, 0), arm(0.54), arm(0.63))
        if twist:
            add(f"upperarm_twist_01{'_' + side.lower()}", namer("upper", side, 0), arm(0.14, 0.005), arm(0.2))
            add(f"lowerarm_twist_01{'_' + side.lower()}", namer("fore", side, 0), arm(0.41), arm(0.47))
        if fingers:
            for f, (x0, y0) in zip(FINGERS, ((0.57, -0.04), (0.64, -0.025), (0.64, 0.0), (0.64, 0.02),
                                             (0.63, 0.04))):
                parent = namer("hand", side, 0)
                for k in (1, 2, 3):
                    x = x0 + 0.03 * (k - 1)
                    name = namer(f, side, k)
                    add(name, parent, arm(x, y0), arm(x + 0.03, y0 - (0.01 if f == "thumb" else 0.0)))
                    parent = name
        hx = 0.09 * sx
        add(namer("thigh", side, 0), pelvis, (hx, 0.0, hip_z - 0.05), (hx + 0.01 * sx, -0.01, 0.5 * legs))
        add(namer("shin", side, 0), namer("thigh", side, 0), (hx + 0.01 * sx, -0.01, 0.5 * legs),
            (hx + 0.01 * sx, 0.02, 0.08 * legs))
        add(namer("foot", side, 0), namer("shin", side, 0), (hx + 0.01 * sx, 0.02, 0.08 * legs),
            (hx + 0.01 * sx, -0.11, 0.02))
        add(namer("toe", side, 0), namer("foot", side, 0), (hx + 0.01 * sx, -0.11, 0.02),
            (hx + 0.01 * sx, -0.17, 0.02))
    if shuffle:
        rng = np.random.default_rng(7)
        bones = [bones[i] for i in rng.permutation(len(bones))]
    return bones


def build_rig(name: str, bones, *, seed: int = 0, centimetres_y_up: bool = False) -> bpy.types.Object:
    """An armature object from (name, parent, head, tail) world bones, each with a random roll.

    ``centimetres_y_up``: the object is turned 90 degrees about X and scaled 0.01, as a Mixamo FBX imports,
    so its armature space is Y-up centimetres while the character stands as before in the world.
    """
    data = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, data)
    bpy.context.scene.collection.objects.link(obj)
    if centimetres_y_up:
        obj.matrix_world = Matrix.Rotation(math.pi / 2, 4, 'X') @ Matrix.Scale(0.01, 4)
    inverse = np.array(obj.matrix_world.inverted())
    rng = np.random.default_rng(seed)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode='EDIT')
    made = {}
    for bone, _, head, tail in bones:
        eb = data.edit_bones.new(bone)
        eb.head = (inverse[:3, :3] @ head + inverse[:3, 3]).tolist()
        eb.tail = (inverse[:3, :3] @ tail + inverse[:3, 3]).tolist()
        eb.roll = float(rng.uniform(-math.pi, math.pi))
        made[bone] = eb
    for bone, parent, _, _ in bones:
        if parent is not None:
            made[bone].parent = made[parent]
    bpy.ops.object.mode_set(mode='OBJECT')
    return obj


def rigify_human() -> bpy.types.Object:
    """Rigify's human meta-rig generated into its rig (Blender's bundled Rigify), the meta-rig removed."""
    import addon_utils

    addon_utils.enable("rigify", default_set=True)
    before = set(bpy.data.objects)
    bpy.ops.object.armature_human_metarig_add()
    meta = bpy.context.active_object
    bpy.ops.pose.rigify_generate()
    rig = next(o for o in bpy.data.objects if o.type == 'ARMATURE' and o is not meta and o not in before)
    bpy.data.objects.remove(meta)
    return rig


def heads(obj, names) -> dict[str, np.ndarray]:
    M = np.array(obj.matrix_world)
    return {n: (M @ np.append(np.array(obj.pose.bones[n].head), 1.0))[:3] for n in names}


def joint_points(obj, bones: dict[str, str]) -> dict[str, np.ndarray]:
    h = heads(obj, list(bones.values()))
    out = {j: h[b] for j, b in bones.items()}
    out["mid_hip"] = 0.5 * (out["left_hip"] + out["right_hip"])
    return out


def direction_errors(take, target, measure: dict[str, str]) -> np.ndarray:
    """(frames, pairs) angles in degrees between the source's and the target's joint directions
    (the last column: the spine's worst segment)."""
    scene = bpy.context.scene
    spine = SPINE_1_TO_1 if "spine3" in measure else SPINE_OTHER
    joints = {j: j for j in measure}
    errors = []
    for frame in range(scene.frame_start, scene.frame_end + 1):
        scene.frame_set(frame)
        s, t = joint_points(take.armature, joints), joint_points(target, measure)
        row = [angle(s[b] - s[a], t[b] - t[a]) for a, b in LIMBS]
        row.append(max(angle(s[b] - s[a], t[b] - t[a]) for a, b in spine))
        errors.append(row)
    return np.array(errors)


def angle(u: np.ndarray, v: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v), -1, 1))))


def measured_bones(mapping: dict[str, str], one_to_one: bool = True) -> dict[str, str]:
    """Joint -> the target bone measured for it (``mapping``: bone -> joint); with the spine's when it is
    mapped bone for joint (``one_to_one``)."""
    bones = {j: b for b, j in mapping.items()}
    spine = {j: bones[j] for j in ("spine1", "spine2", "spine3")} if one_to_one else {}
    return {**{j: bones[j] for j in RIGIFY_MEASURE}, **spine}


def ankle_tracks(source_rig, target, mapping: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """(T, 2, 3) world ankle heads (left, right) of the source rig and of the target over the scene's frames."""
    ankles = {j: b for b, j in mapping.items() if j in ("left_ankle", "right_ankle")}
    order = ("left_ankle", "right_ankle")
    scene = bpy.context.scene
    src, tgt = [], []
    for frame in range(scene.frame_start, scene.frame_end + 1):
        scene.frame_set(frame)
        src.append([heads(source_rig, [j])[j] for j in order])
        tgt.append([heads(target, [ankles[j]])[ankles[j]] for j in order])
    return np.array(src), np.array(tgt)


def skate(src: np.ndarray, tgt: np.ndarray, contacts) -> tuple[float, float]:
    """Mean horizontal travel per frame (metres) of the source's and the target's ankles on frames where the
    source's ankle is in contact on both ends (``contacts``: (T, 3) positions -> (T,) bool)."""
    steps_src, steps_tgt = [], []
    for k in range(src.shape[1]):
        held = contacts(src[:, k])
        both = held[1:] & held[:-1]
        steps_src.append(np.linalg.norm(np.diff(src[:, k, :2], axis=0), axis=1)[both])
        steps_tgt.append(np.linalg.norm(np.diff(tgt[:, k, :2], axis=0), axis=1)[both])
    return float(np.concatenate(steps_src).mean()), float(np.concatenate(steps_tgt).mean())
