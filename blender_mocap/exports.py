"""Finished files from a take: Blender's bundled exporters, written under a temporary name.

Every output is written as ``.<name>.<pid>.partial.<ext>`` next to its final path,
checked, and renamed only when whole, so a file that exists is complete and a
good file is never replaced by a broken one. Blender's savers report FINISHED
after a short write on a full disk, so the check does not trust them: the
disk must not have filled up, a .blend must read back, a .glb must be as long
as its header says, a copy as long as its source. Needs bpy.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.errors import CancelledError, MocapError


MIN_FREE_BYTES = 1 << 20
"""Free space a write must find before it starts."""
FULL_BYTES = 64 << 10
"""Less free space than this after a write: the disk filled up, so the write may be short."""


def check_free_space(folder: Path, what: str, *, need: int = MIN_FREE_BYTES, after: bool = False) -> None:
    """Raise MocapError when ``folder``'s disk has less than ``need`` bytes free (``after``: a write just filled it)."""
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # nothing to measure (e.g. the folder vanished): the write itself will say
    if free < need:
        how = "the disk filled up while writing it" if after else f"only {free / 1e6:.1f} MB are free there"
        raise MocapError(f"cannot write {what}: {how}. Free some disk space and try again; "
                         "existing files were left as they were.")


def write_atomic(dst: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` a temporary file next to ``dst``, then rename it over ``dst``.

    An OSError (a full disk, a read-only folder) becomes a MocapError; the
    temporary file never stays behind and ``dst`` is replaced only when whole.
    """
    tmp = dst.with_name(f".{dst.stem}.{os.getpid()}.partial{dst.suffix}")
    try:
        write(tmp)
        os.replace(tmp, dst)
    except OSError as exc:
        raise MocapError(f"cannot write {dst}: {exc.strerror or exc}. Check the free disk space and the "
                         "folder's permissions; existing files were left as they were.") from exc
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(dst: Path, text: str) -> None:
    """``text`` (UTF-8) as the file ``dst``, whole or not at all."""
    write_atomic(dst, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def copy_atomic(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` under a temporary name, check its length, then rename."""

    def write(tmp: Path) -> None:
        shutil.copyfile(src, tmp)
        if tmp.stat().st_size != src.stat().st_size:
            raise MocapError(f"cannot write {dst}: the copy came out short")

    check_free_space(dst.parent, dst.name, need=src.stat().st_size + MIN_FREE_BYTES)
    write_atomic(dst, write)


def verify_export(fmt: str, tmp: Path, final: Path) -> None:
    """Raise MocapError unless the exporter's file ``tmp`` is whole (see the module docstring)."""
    import bpy

    check_free_space(tmp.parent, final.name, need=FULL_BYTES, after=True)
    if fmt == "blend":
        try:
            # Reading the file's blocks is the check; nothing is linked. (fake-bpy-module types load()
            # as returning None; it returns a context manager.)
            loader: Any = bpy.data.libraries.load(str(tmp))  # type: ignore[func-returns-value]
            with loader:
                pass
        except OSError as exc:
            raise MocapError(f"the saved {final.name} does not read back ({exc}); nothing was replaced") from exc
    elif fmt == "glb":
        with open(tmp, "rb") as fh:  # the 12-byte header, not the whole file
            head = fh.read(12)
        declared = int.from_bytes(head[8:12], "little") if head[:4] == b"glTF" else -1
        if declared != tmp.stat().st_size:
            raise MocapError(f"the exported {final.name} is incomplete; nothing was replaced")


def export_take(fmt: str, take: Any, final: Path, should_cancel: Callable[[], bool] | None = None) -> None:
    """Write one format with Blender's bundled exporter, under a temporary name.

    ``should_cancel`` is asked once the file is written and checked: True (a Ctrl-C
    that arrived while Blender wrote) drops it with a CancelledError instead of renaming it."""
    import bpy

    tmp = final.with_name(f".{final.stem}.{os.getpid()}.partial.{fmt}")
    check_free_space(final.parent, final.name)
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
        verify_export(fmt, tmp, final)
        if should_cancel is not None and should_cancel():
            raise CancelledError(f"cancelled while writing {final.name}; it was not kept")
        os.replace(tmp, final)
    except RuntimeError as exc:
        raise MocapError(f"Blender's {fmt.upper()} exporter failed for {final.name}: {exc}") from exc
    except OSError as exc:
        raise MocapError(f"cannot write {final}: {exc.strerror}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def build_progress(say: Callable[..., None], step: int) -> Callable[[float, str], None]:
    """A ``build_take`` progress callback that says "40% building: keying ..." every ``step`` percent."""
    last = [-step]

    def report(fraction: float, what: str) -> None:
        percent = int(100 * fraction)
        if percent >= last[0] + step:
            last[0] = percent - percent % step
            say("progress", f"{percent}% building: {what}", stage="building", fraction=fraction)
    return report
