"""Everyone in a video (``--people all``): one armature and body per person, one camera for all.

The engine writes ``take.person1.npz``, ``take.person2.npz`` ... (``core.people``),
every file in person 1's world with one camera. :func:`build_people` builds
each as a take of its own (``scene.build_take``) named by ID, ``Person 1``,
``Person 2`` ...: person 1 with the camera and the video as its background,
the others without a camera of their own, standing on the floor person 1
stands on (one ground offset for all, so the camera still sees them where
the video does). :func:`export_people` is the batch's: all of them in one
``.blend``, and per person its motion file and its FBX, BVH or glTF.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import MocapError
from ..core.motion import Motion, read_motion
from . import prepare
from .batch_state import manifest, manifest_path, stopper
from .exports import copy_atomic, export_take, write_text_atomic
from .settings import BuildOptions

if TYPE_CHECKING:  # bpy stays out of the import of this module: the batch imports it before Blender runs
    from .take import BuiltTake

PERSON_NAME = "Person {}"
"""A person's take, armature and collection name, by ID (1-based)."""
_PERSON_STEM = re.compile(r"\.person(\d+)$")


def person_files(out: str | Path) -> list[Path]:
    """The motion files an engine asked to write ``out`` wrote with ``--people all``, by ID
    (``take.person1.npz``, ``take.person2.npz`` ...; none for a one-person capture)."""
    out = Path(out)
    found = []
    for path in out.parent.glob(f"{out.stem}.person*{out.suffix}"):
        match = _PERSON_STEM.search(path.stem)
        if match and path.stem[:match.start()] == out.stem:
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found)]


def build_people(context_or_scene, motions: list[Motion], *, video_path: str | None = None,
                 options: BuildOptions | None = None, progress: Callable[[float, str], None] | None = None,
                 should_cancel: Callable[[], bool] | None = None) -> list[BuiltTake]:
    """One take per person (``motions`` in ID order, sharing person 1's camera): ``Person 1`` ...

    The scene's frame range covers everyone. On a failure (or a cancel) the takes already
    built are removed again, so the scene is left as it was.
    """
    import bpy

    from .scene import build_take

    if not motions:
        raise MocapError("no person's motion to build")
    options = options or BuildOptions()
    built: list[BuiltTake] = []
    offset = 0.0
    try:
        for k, motion in enumerate(motions):
            part = _part(progress, k, len(motions))
            name = PERSON_NAME.format(k + 1)
            if k == 0:
                take = build_take(context_or_scene, motion, name=name, video_path=video_path, options=options,
                                  progress=part, should_cancel=should_cancel)
                offset = take.ground_offset
            else:  # no camera of their own; on person 1's floor
                if options.ground:
                    motion = prepare.shift_along_up(motion, offset)
                motion = dataclasses.replace(motion, camera_intrinsics=None)
                take = build_take(context_or_scene, motion, name=name, options=dataclasses.replace(options, ground=False),
                                  progress=part, should_cancel=should_cancel)
                take.ground_offset = offset
            built.append(take)
    except MocapError:
        for take in reversed(built):
            remove_take(take)
        raise
    scene = context_or_scene if isinstance(context_or_scene, bpy.types.Scene) else context_or_scene.scene
    scene.frame_start = min(t.frame_range[0] for t in built)
    scene.frame_end = max(t.frame_range[1] for t in built)
    return built


def _part(progress: Callable[[float, str], None] | None, k: int, count: int) -> Callable[[float, str], None] | None:
    """Person ``k``'s share of a build's progress."""
    if progress is None:
        return None
    return lambda fraction, what: progress((k + fraction) / count, f"{PERSON_NAME.format(k + 1)}: {what}")


def remove_take(take: BuiltTake) -> None:
    """Remove what ``build_take`` made for a new character (objects, their data, actions, clip, collection)."""
    import bpy

    data: list[Any] = []
    for obj in (take.body, take.camera, take.armature):
        if obj is not None:
            data.append(obj.data)
            bpy.data.objects.remove(obj)
    stores: list[tuple[Any, Any]] = [(bpy.data.armatures, bpy.types.Armature), (bpy.data.meshes, bpy.types.Mesh),
                                     (bpy.data.cameras, bpy.types.Camera)]
    for block in data:
        for store, kind in stores:
            if isinstance(block, kind) and block.users == 0:
                store.remove(block)
    for action in [take.action] + [a for a in (take.shape_action,) if a is not None and a != take.action]:
        bpy.data.actions.remove(action)
    if take.clip is not None and take.clip.users == 0:
        bpy.data.movieclips.remove(take.clip)
    bpy.data.collections.remove(take.collection)


def export_people(video: Path, stem: str, out_dir: Path, settings: Any, paths: list[Path], report: Any,
                  say: Callable[..., None], progress: Callable[[float, str], None],
                  should_cancel: Callable[[], bool]) -> None:
    """The batch's outputs of a ``--people all`` capture (the engine's files ``paths``, by ID; removed
    afterwards) in a fresh file: ``<stem>.blend`` with everyone, per person ``<stem>.person<N>.<fmt>`` of
    the other formats. ``settings``: the ``batch.BatchSettings``; ``report``: the video's
    ``batch.VideoReport`` (its outputs, figures and warnings are filled in). A cancel between steps,
    while building or before an export is renamed drops the output under way. When all are written, the
    video's manifest lists them (``batch_state``): a re-run skips the video."""
    if not paths:
        raise MocapError("the engine finished but wrote no person's motion file")
    options = BuildOptions(ground=settings.ground, correctives=settings.correctives, smplx_dir=settings.smplx_dir or "")
    try:
        _export_people(video, stem, out_dir, settings.outputs, options, paths, report, say, progress, should_cancel)
        write_text_atomic(manifest_path(out_dir, stem), manifest(video, settings, report.outputs))
    finally:
        for path in paths:
            path.unlink(missing_ok=True)


def _export_people(video: Path, stem: str, out_dir: Path, outputs: tuple[str, ...], options: BuildOptions,
                   paths: list[Path], report: Any, say: Callable[..., None], progress: Callable[[float, str], None],
                   should_cancel: Callable[[], bool]) -> None:
    import bpy

    from .take import record_motion_file

    stop = stopper(should_cancel)
    stop(f"reading {video.name}'s motions")
    motions = [read_motion(p) for p in paths]
    report.frames = max(m.num_frames for m in motions)
    report.quality = {f"person{k + 1}.{name}": float(v)
                      for k, m in enumerate(motions) for name, v in m.quality.items()}
    bpy.ops.wm.read_homefile(use_empty=True)
    say("stage", f"building {len(motions)} people", stage="building")
    takes = build_people(bpy.context, motions, video_path=str(video.resolve()), options=options, progress=progress,
                         should_cancel=should_cancel)
    for k, take in enumerate(takes):
        report.warnings += [f"{take.armature.name}: {w}" for w in take.warnings]
        if "npz" in outputs:
            record_motion_file(take, out_dir / f"{stem}.person{k + 1}.npz")
    for fmt in outputs:
        for k, take in enumerate(takes[:1] if fmt == "blend" else takes):  # one .blend holds everyone
            final = out_dir / (f"{stem}.{fmt}" if fmt == "blend" else f"{stem}.person{k + 1}.{fmt}")
            stop(f"writing {final.name}")
            if fmt == "npz":
                copy_atomic(paths[k], final)
            else:
                export_take(fmt, take, final, should_cancel=should_cancel)
            report.outputs[fmt if fmt == "blend" else f"person{k + 1}.{fmt}"] = str(final)
            say("output", f"wrote {final}", format=fmt, path=str(final))
