"""The Retarget panel's state: one property group, ``scene.mocap_retarget`` (the target, the preset and the
editable mapping list). Needs bpy."""

from __future__ import annotations

import bpy
from bpy.props import CollectionProperty, EnumProperty, IntProperty, PointerProperty, StringProperty

from ...core.options import OPTION
from ...core.skeleton import JOINT_NAMES
from .mapping import Mapping
from .presets import BUILTIN

NO_JOINT = "NONE"
JOINT_ITEMS = [(NO_JOINT, "(none)", "Not keyed from a joint: rides on its parent, or shares its chain's motion")] + [
    (j, j, f"SMPL-X joint {j}") for j in JOINT_NAMES]
PRESET_ITEMS = [("AUTO", "Auto", "A built-in preset the rig matches, else bone names and the skeleton's shape")] + [
    (name.upper(), name.capitalize(), f"The built-in {name} preset") for name in BUILTIN] + [
    ("FILE", "File", "A mapping preset .json file")]
"""The choices of the ``retarget_preset`` option (core/options.py) as enum items, plus a file."""


def _is_armature(_self, obj: bpy.types.Object) -> bool:
    return obj.type == 'ARMATURE'


class MOCAP_PG_retarget_bone(bpy.types.PropertyGroup):
    """One row of the mapping: a target bone and the SMPL-X joint it takes"""

    bone: StringProperty(name="Bone", description="Bone of the target armature")  # type: ignore[valid-type]
    joint: EnumProperty(name="Joint", items=JOINT_ITEMS, default=NO_JOINT,  # type: ignore[valid-type]
                        description="SMPL-X joint this bone takes")


class MOCAP_PG_retarget(bpy.types.PropertyGroup):
    """Where the active take goes: the character's armature, how its bones are mapped"""

    target: PointerProperty(type=bpy.types.Object, poll=_is_armature, name="Character",  # type: ignore[valid-type]
                            description="The armature to put the active take on")
    preset: EnumProperty(name="Mapping", items=PRESET_ITEMS, default=OPTION["retarget_preset"].default.upper(),  # type: ignore[valid-type]
                         description=OPTION["retarget_preset"].help)
    preset_file: StringProperty(name="Preset File", subtype='FILE_PATH',  # type: ignore[valid-type]
                                description="A mapping preset .json file")
    mapped_for: StringProperty(name="Mapped For", description="The armature the list was made for")  # type: ignore[valid-type]
    bones: CollectionProperty(type=MOCAP_PG_retarget_bone)  # type: ignore[valid-type]
    active_bone: IntProperty(name="Active Bone", default=0)  # type: ignore[valid-type]


def preset_choice(props) -> str:
    """The ``retarget_preset`` value the panel's choice stands for: "auto", a built-in name or a file path."""
    return props.preset_file if props.preset == "FILE" else props.preset.lower()


def mapping_of(props) -> Mapping | None:
    """The list's mapping, when it was made for the current target (else None: map again)."""
    if props.target is None or props.mapped_for != props.target.name or not len(props.bones):
        return None
    return {row.bone: row.joint for row in props.bones if row.joint != NO_JOINT}


def fill_mapping(props, target: bpy.types.Object, mapping: Mapping) -> None:
    """Show ``mapping`` in the list: every bone of ``target``, mapped ones first."""
    props.bones.clear()
    names = sorted(b.name for b in target.data.bones)  # type: ignore[union-attr]
    order = [n for n in names if n in mapping] + [n for n in names if n not in mapping]
    order.sort(key=lambda n: JOINT_NAMES.index(mapping[n]) if n in mapping else len(JOINT_NAMES))
    for name in order:
        row = props.bones.add()
        row.bone = name
        row.joint = mapping.get(name, NO_JOINT)
    props.mapped_for = target.name
    props.active_bone = 0
