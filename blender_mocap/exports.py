"""Finished files from a take: Blender's bundled exporters, written under a temporary name.

Every output is written as ``.<name>.partial.<ext>`` next to its final path
and renamed when whole, so a file that exists is complete. Needs bpy.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..core.errors import MocapError


def copy_atomic(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` under a temporary name, then rename."""
    tmp = dst.with_name(f".{dst.stem}.partial{dst.suffix}")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def export_take(fmt: str, take: Any, final: Path) -> None:
    """Write one format with Blender's bundled exporter, under a temporary name."""
    import bpy

    tmp = final.with_name(f".{final.stem}.partial.{fmt}")
    scene = bpy.context.scene
    view_layer = bpy.context.view_layer
    if scene is None or view_layer is None:
        raise MocapError("no scene to export (Blender has no active scene)")
    arm = take.armature
    for obj in view_layer.objects:
        obj.select_set(False)
    arm.select_set(True)
    if take.body is not None:
        take.body.select_set(True)
    view_layer.objects.active = arm
    try:
        if fmt == "blend":
            result = bpy.ops.wm.save_as_mainfile(filepath=str(tmp), check_existing=False, copy=True)
        elif fmt == "fbx":
            result = bpy.ops.export_scene.fbx(
                filepath=str(tmp), use_selection=True, object_types={'ARMATURE', 'MESH'},
                add_leaf_bones=False, bake_anim=True, bake_anim_use_all_actions=False,
                bake_anim_use_nla_strips=False, bake_anim_simplify_factor=0.0)
        elif fmt == "bvh":
            result = bpy.ops.export_anim.bvh(
                filepath=str(tmp), frame_start=scene.frame_start, frame_end=scene.frame_end,
                rotate_mode='NATIVE')
        elif fmt == "glb":
            result = bpy.ops.export_scene.gltf(
                filepath=str(tmp), export_format='GLB', use_selection=True, export_animations=True,
                export_cameras=False)
        else:  # pragma: no cover - check_settings rejects it first
            raise MocapError(f"unknown output format {fmt}")
        if result is None or "FINISHED" not in result or not tmp.is_file():
            raise MocapError(f"Blender's {fmt.upper()} exporter did not write {final.name}")
        os.replace(tmp, final)
    except RuntimeError as exc:
        raise MocapError(f"Blender's {fmt.upper()} exporter failed for {final.name}: {exc}") from exc
    except OSError as exc:
        raise MocapError(f"cannot write {final}: {exc.strerror}") from exc
    finally:
        tmp.unlink(missing_ok=True)
