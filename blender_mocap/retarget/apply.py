"""Put a take on a target armature: mapping, solve, keys on the target's own action (needs bpy).

The one call is :func:`retarget_onto`. Keys go in bulk through
``keying.key_bones`` (``foreach_set``, no per-frame ``bpy.ops``) into a new
action named ``"<take> on <target>"``; retargeting the same take again
replaces that action. The scene is left as it was if anything fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import bpy
import numpy as np

from ...core.errors import MocapError
from ...core.rotations import axis_angle_to_matrix, quat_wxyz_to_axis_angle
from .. import keying
from .mapping import Mapping, auto_map, check_mapping, resolve_preset
from .presets import builtin_presets, preset_by_choice
from ..take import rig_of
from ..take_keys import ROLE, ROLE_RIG
from .rig import is_control_rig, pose_bones, rest_bones, set_rigify_switches, target_rig, update_view_layer
from .solve import Retargeted, retarget
from .source import SourcePose, source_from_rig_pose

RETARGET_PROP = "mocap_retarget_of"
"""Action custom property: the take a retargeted action was made from (a re-retarget replaces it)."""


@dataclass(frozen=True)
class RetargetSettings:
    """How to retarget.

    Attributes:
        preset: "auto", a built-in preset ("rigify", "mixamo", "unreal") or a preset .json path.
        mapping: an explicit mapping (the panel's list); overrides ``preset`` when given.
        plant_feet: pin the target's feet during the source's contacts (two-bone IK on the legs).
    """

    preset: str = "auto"
    mapping: Mapping | None = None
    plant_feet: bool = True


@dataclass
class RetargetResult:
    """What :func:`retarget_onto` did: the target, its new action, the mapping used and how it was found."""

    target: bpy.types.Object
    action: bpy.types.Action
    mapping: Mapping
    mapped_by: str
    solved: Retargeted
    warnings: list[str] = field(default_factory=list)


def choose_mapping(obj: bpy.types.Object, settings: RetargetSettings) -> tuple[str, Mapping]:
    """(how it was found, mapping) for the armature ``obj``."""
    if obj.type != 'ARMATURE':
        raise MocapError(f"'{obj.name}' is not an armature: pick the character's armature to retarget to")
    names = [b.name for b in obj.data.bones]  # type: ignore[union-attr]
    if settings.mapping:
        used, mapping = "the given mapping", dict(settings.mapping)
    else:
        preset = preset_by_choice(settings.preset)
        if preset is None:
            used, mapping = auto_map(rest_bones(obj), builtin_presets())
        else:
            used, mapping = settings.preset, resolve_preset(preset, names)
    problems = check_mapping(mapping, names)
    if problems:
        raise MocapError(f"cannot retarget onto '{obj.name}' with {used}: " + "; ".join(problems[:4]))
    return used, mapping


def _fcurves(obj: bpy.types.Object) -> dict[tuple[str, int], Any]:
    anim = obj.animation_data
    action = anim.action if anim is not None else None
    if action is None:
        return {}
    if keying.SLOTTED:
        if anim is None or anim.action_slot is None or not len(action.layers) or not len(action.layers[0].strips):
            return {}
        strip: Any = action.layers[0].strips[0]
        bag = strip.channelbag(anim.action_slot)
        curves = list(bag.fcurves) if bag is not None else []
    else:
        curves = list(getattr(action, "fcurves"))
    return {(fc.data_path, fc.array_index): fc for fc in curves}


def _keys(fcurve: Any) -> tuple[np.ndarray, np.ndarray]:
    n = len(fcurve.keyframe_points)
    co = np.empty(2 * n, np.float32)
    fcurve.keyframe_points.foreach_get("co", co)
    return co[0::2].astype(np.float64), co[1::2].astype(np.float64)


def source_from_rig(obj: bpy.types.Object, mapping: Mapping) -> SourcePose:
    """The keyed motion of the armature ``obj`` (its active action) as SMPL-X joints through ``mapping``.

    Our own take's armature maps bone = joint; any plain FK rig works (a retargeted
    character, for a round trip). Rotations are read from quaternion F-curves
    (missing ones are at rest), the root's location from its location F-curves.
    """
    curves = _fcurves(obj)
    if not curves:
        raise MocapError(f"'{obj.name}' has no keyed animation to retarget")
    data: Any = obj.data
    bones = sorted(data.bones, key=lambda b: len(b.parent_recursive))
    names = [b.name for b in bones]
    index = {n: i for i, n in enumerate(names)}
    root = next((b for b, j in mapping.items() if j == "pelvis"), names[0])
    first = curves.get((f'pose.bones["{bpy.utils.escape_identifier(root)}"].rotation_quaternion', 0))
    frames = _keys(first)[0] if first is not None else _keys(next(iter(curves.values())))[0]
    T, B = len(frames), len(names)
    quats = np.zeros((T, B, 4))
    quats[..., 0] = 1.0
    loc = np.zeros((T, B, 3))
    for b, name in enumerate(names):
        path = f'pose.bones["{bpy.utils.escape_identifier(name)}"]'
        for i in range(4):
            if (fc := curves.get((f"{path}.rotation_quaternion", i))) is not None:
                x, y = _keys(fc)
                quats[:, b, i] = np.interp(frames, x, y)
        for i in range(3):
            if (fc := curves.get((f"{path}.location", i))) is not None:
                x, y = _keys(fc)
                loc[:, b, i] = np.interp(frames, x, y)
    quats /= np.linalg.norm(quats, axis=-1, keepdims=True)
    local = axis_angle_to_matrix(quat_wxyz_to_axis_angle(quats))
    rest = np.array([np.array(b.matrix_local, np.float64) for b in bones])
    parents = np.array([index[b.parent.name] if b.parent else -1 for b in bones])
    joints = [mapping.get(n) for n in names]
    update_view_layer()  # matrix_world of a just-linked object is stale until evaluated
    return source_from_rig_pose(frames, np.array(obj.matrix_world, np.float64), rest[:, :3, :3], rest[:, :3, 3],
                                parents, local, loc, joints)


def _replace_action(obj: bpy.types.Object, name: str, take: str) -> bpy.types.Action:
    old = bpy.data.actions.get(name)
    if old is not None and old.get(RETARGET_PROP) is not None:
        bpy.data.actions.remove(old)
    action = bpy.data.actions.new(name)
    action[RETARGET_PROP] = take
    action.use_fake_user = True
    return action


def retarget_onto(target: bpy.types.Object, source: SourcePose, take: str,
                  settings: RetargetSettings | None = None) -> RetargetResult:
    """Key ``source`` onto the armature ``target`` as the action ``"<take> on <target>"``.

    Raises MocapError (the target is left as it was) when the target cannot take it.
    """
    settings = settings or RetargetSettings()
    mapped_by, mapping = choose_mapping(target, settings)
    warnings: list[str] = []
    missing = [j for j in ("left_hip", "right_hip", "left_shoulder", "right_shoulder", "head")
               if j not in mapping.values()]
    if missing:
        warnings.append(f"no bone of '{target.name}' takes {', '.join(missing)}; those parts keep their rest pose")
    anim = target.animation_data or target.animation_data_create()
    previous = anim.action
    action = None
    try:
        anim.action = None
        if is_control_rig(target):
            set_rigify_switches(target)
        rig = target_rig(target, mapping)
        solved = retarget(source, rig, plant_feet=settings.plant_feet)
        for name in solved.bones:
            pose_bones(target)[name].rotation_mode = 'QUATERNION'
        action = _replace_action(target, f"{take} on {target.name}", take)
        keying.key_bones(target, action, solved.frames, solved.quats, solved.bones,
                         root_locations=solved.root_location, root_bone_name=solved.root_bone)
    except MocapError:
        _undo(anim, previous, action)
        raise
    except (ValueError, RuntimeError, KeyError) as exc:
        _undo(anim, previous, action)
        raise MocapError(f"could not retarget onto '{target.name}': {exc}") from exc
    return RetargetResult(target, action, mapping, mapped_by, solved, warnings)


def _undo(anim: Any, previous: bpy.types.Action | None, action: bpy.types.Action | None) -> None:
    if action is not None:
        bpy.data.actions.remove(action)
    anim.action = previous


def take_rig(context: Any, name: str = "") -> bpy.types.Object | None:
    """The take to retarget: the object ``name``, else the active object's rig when it is a take's."""
    if name:
        obj = bpy.data.objects.get(name)
        return rig_of(obj)
    rig = rig_of(context.active_object)
    return rig if rig is not None and rig.get(ROLE) == ROLE_RIG else None
