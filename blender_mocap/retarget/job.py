"""Retargeting as a job: a motion file onto a character .blend (``headless.py retarget``), and a batch's
take onto a character (``headless.py capture --target``). Needs bpy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import bpy

from ...core.errors import MocapError
from ...core.motion import read_motion, validate_motion
from ...core.skeleton import JOINT_NAMES
from .. import convert, prepare
from ..exports import export_take
from ..take import BuiltTake
from .apply import RetargetResult, RetargetSettings, retarget_onto, source_from_rig
from .presets import preset_by_choice
from .source import source_from_motion


OUT_FORMATS = (".blend", ".fbx", ".glb", ".bvh")
"""What ``retarget_file`` writes, by the extension of ``out``."""


def split_target(spec: str) -> tuple[Path, str]:
    """``character.blend[:ArmatureName]`` -> (path, armature name or "")."""
    head, sep, name = spec.rpartition(":")
    if sep and head.lower().endswith(".blend"):
        return Path(head), name
    return Path(spec), ""


def pick_armature(objects: Any, name: str, where: str) -> bpy.types.Object:
    """The armature called ``name`` among ``objects``, or the only one when ``name`` is empty."""
    armatures = [o for o in objects if o is not None and o.type == 'ARMATURE']
    if name:
        found = next((o for o in armatures if o.name == name), None)
        if found is None:
            raise MocapError(f"{where} has no armature '{name}' (it has: "
                             f"{', '.join(o.name for o in armatures) or 'none'})")
        return found
    if len(armatures) != 1:
        raise MocapError(f"{where} has {len(armatures)} armatures "
                         f"({', '.join(o.name for o in armatures) or 'none'}): name one as FILE.blend:ARMATURE")
    return armatures[0]


def character_take(armature: bpy.types.Object, action: bpy.types.Action, frames: tuple[int, int],
                   warnings: list[str]) -> BuiltTake:
    """The retargeted character as a take (what the exporters and the batch report read): its armature,
    the first mesh under it, its new action."""
    body = next((c for c in armature.children if c.type == 'MESH'), None)
    collection = armature.users_collection[0] if armature.users_collection else bpy.data.collections.new("character")
    return BuiltTake(collection=collection, armature=armature, action=action, body=body, frame_range=frames,
                     reused=True, warnings=warnings)


def _check_blend(path: Path) -> None:
    if not path.is_file():
        raise MocapError(f"the character file {path} does not exist")
    if path.suffix.lower() != ".blend":
        raise MocapError(f"the character file {path.name} is not a .blend file")


def append_character(spec: str, scene: bpy.types.Scene) -> bpy.types.Object:
    """Append every object of ``character.blend`` into ``scene``; returns its armature (see :func:`split_target`)."""
    path, name = split_target(spec)
    _check_blend(path)
    try:
        # fake-bpy-module types load() as returning None; it returns a context manager.
        loader: Any = bpy.data.libraries.load(str(path))  # type: ignore[func-returns-value]
        with loader as (data_from, data_to):
            data_to.objects = list(data_from.objects)
    except OSError as exc:
        raise MocapError(f"cannot read the character file {path.name}: {exc}") from exc
    collection = bpy.data.collections.new(path.stem)
    scene.collection.children.link(collection)
    for obj in data_to.objects:
        if obj is not None:
            collection.objects.link(obj)
    return pick_armature(data_to.objects, name, path.name)


def retarget_take(take: BuiltTake, spec: str, preset: str, warnings: list[str]) -> BuiltTake:
    """A batch's built take onto the character of ``spec``, appended into the take's scene; returns the
    character as a take (exports then write it). The retarget's warnings are added to ``warnings``."""
    scene = bpy.context.scene
    if scene is None:
        raise MocapError("no scene to put the character in")
    target = append_character(spec, scene)
    source = source_from_rig(take.armature, {j: j for j in JOINT_NAMES})
    result = retarget_onto(target, source, take.action.name, RetargetSettings(preset=preset))
    warnings += result.warnings
    return character_take(target, result.action, take.frame_range, result.warnings)


def check_target(spec: str, preset: str) -> None:
    """MocapError (a bad argument) when the character file or the preset cannot be used."""
    _check_blend(split_target(spec)[0])
    preset_by_choice(preset)


def retarget_file(motion_path: str | os.PathLike[str], target: str, out: str | os.PathLike[str],
                  preset: str = "auto") -> RetargetResult:
    """Open ``character.blend``, put the motion file's take on its armature and save it as ``out``.

    The take stands on Z = 0 (as ``headless.py build`` puts it); the scene's frame
    range becomes the take's. ``out``'s extension picks the format: ``.blend`` (the
    character's whole file), or the character alone as ``.fbx``, ``.glb`` or ``.bvh``
    (Blender's bundled exporters). It is written whole or not at all.
    """
    path, name = split_target(target)
    _check_blend(path)
    if Path(out).suffix.lower() not in OUT_FORMATS:
        raise MocapError(f"--out {Path(out).name}: write a {', '.join(OUT_FORMATS)} file")
    motion = read_motion(motion_path)
    validate_motion(motion, Path(motion_path).name)
    if motion.rest_joints is None:
        raise MocapError(f"{Path(motion_path).name} has no rest skeleton (an AMASS file): build it first with "
                         "headless.py build, or capture it with blender-mocap")
    motion, _ = prepare.put_on_ground(motion)
    try:
        bpy.ops.wm.open_mainfile(filepath=str(path))
    except RuntimeError as exc:
        raise MocapError(f"cannot open the character file {path.name}: {exc}") from exc
    armature = pick_armature(bpy.data.objects, name, path.name)
    take = Path(motion.source_video).stem if motion.source_video else Path(motion_path).stem
    result = retarget_onto(armature, source_from_motion(motion), take, RetargetSettings(preset=preset))
    scene = bpy.context.scene
    frames = (int(result.solved.frames[0]), int(result.solved.frames[-1]))
    if scene is not None:
        scene.frame_start, scene.frame_end = frames
        scene.render.fps, scene.render.fps_base = convert.blender_fps_from_rate(prepare.video_rate(motion))
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MocapError(f"cannot create the folder {out.parent}: {exc.strerror}") from exc
    fmt = out.suffix.lower().lstrip(".")
    export_take(fmt, character_take(armature, result.action, frames, result.warnings), out)
    return result
