"""Retarget to…: the active take onto a character's armature (one undo step), mapping and presets.

Adapters only: properties -> :class:`RetargetSettings` -> one ``retarget_onto``
call. Usable from scripts: ``bpy.ops.mocap.retarget(target="Hero", preset="mixamo")``
puts the active take (the active object's rig, or ``source``) on the armature ``Hero``.
"""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, StringProperty
from bpy_extras.io_utils import ExportHelper

from ..blender_mocap.retarget.apply import RetargetSettings, choose_mapping, retarget_onto, source_from_rig, take_rig
from ..blender_mocap.retarget.presets import write_preset
from ..blender_mocap.retarget.props import PRESET_ITEMS, fill_mapping, mapping_of, preset_choice
from ..core.errors import MocapError
from ..core.skeleton import JOINT_NAMES


class MOCAP_OT_retarget(bpy.types.Operator):
    """Put the active take on the chosen character's armature (its own action; again replaces it)"""

    bl_idname = "mocap.retarget"
    bl_label = "Retarget"
    bl_options = {'REGISTER', 'UNDO'}

    target: StringProperty(name="Target", description="Armature to put the take on "  # type: ignore[valid-type]
                           "(default: the Retarget panel's character)")
    source: StringProperty(name="Source", description="The take's armature (default: the active one)")  # type: ignore[valid-type]
    preset: StringProperty(name="Preset", description="auto, rigify, mixamo, unreal or a preset .json "  # type: ignore[valid-type]
                           "(default: the panel's list or choice)")

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return take_rig(context) is not None

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        props = getattr(context.scene, "mocap_retarget")
        target = bpy.data.objects.get(self.target) if self.target else props.target
        source = take_rig(context, self.source)
        if target is None or source is None:
            self.report({'ERROR'}, "pick a take (its armature active) and a character to retarget to")
            return {'CANCELLED'}
        if target == source:
            self.report({'ERROR'}, "the character is the take itself: pick another armature")
            return {'CANCELLED'}
        given = mapping_of(props) if not self.preset and target == props.target else None
        settings = RetargetSettings(preset=self.preset or preset_choice(props), mapping=given)
        try:
            motion = source_from_rig(source, {j: j for j in JOINT_NAMES})
            action = source.animation_data.action if source.animation_data else None
            result = retarget_onto(target, motion, action.name if action else source.name, settings)
        except MocapError as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        for warning in result.warnings:
            self.report({'WARNING'}, warning)
        self.report({'INFO'}, f"'{result.action.name}': {len(result.solved.bones)} bones keyed "
                              f"({result.mapped_by})")
        return {'FINISHED'}


class MOCAP_OT_retarget_map(bpy.types.Operator):
    """Map the character's bones to the take's joints (the preset, or auto) and show the list to edit"""

    bl_idname = "mocap.retarget_map"
    bl_label = "Map Bones"
    bl_options = {'REGISTER', 'UNDO'}

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        props = getattr(context.scene, "mocap_retarget", None)
        return props is not None and props.target is not None

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        props = getattr(context.scene, "mocap_retarget")
        try:
            used, mapping = choose_mapping(props.target, RetargetSettings(preset=preset_choice(props)))
        except MocapError as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        fill_mapping(props, props.target, mapping)
        self.report({'INFO'}, f"{len(mapping)} bones mapped ({used})")
        return {'FINISHED'}


class MOCAP_OT_retarget_save_preset(bpy.types.Operator, ExportHelper):  # type: ignore[misc]
    """Save the mapping list as a preset .json file (load it with Mapping: File)"""

    bl_idname = "mocap.retarget_save_preset"
    bl_label = "Save Mapping Preset"

    filename_ext = ".json"
    filter_glob: StringProperty(default="*.json", options={'HIDDEN'})  # type: ignore[valid-type]
    kind: EnumProperty(items=PRESET_ITEMS, options={'HIDDEN'})  # type: ignore[valid-type]

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        props = getattr(context.scene, "mocap_retarget", None)
        return props is not None and mapping_of(props) is not None

    def execute(self, context: bpy.types.Context) -> set[str]:  # type: ignore[override]
        props = getattr(context.scene, "mocap_retarget")
        mapping = mapping_of(props) or {}
        try:
            path = write_preset(getattr(self, "filepath"), mapping, description=f"bones of {props.mapped_for}")
        except MocapError as exc:
            self.report({'ERROR'}, str(exc))
            return {'CANCELLED'}
        props.preset, props.preset_file = "FILE", str(path)
        self.report({'INFO'}, f"saved {len(mapping)} bones to {path.name}")
        return {'FINISHED'}
