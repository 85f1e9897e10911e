"""A take as the scene holds it: what was built, what it records, and how to find it again.

The records are custom properties (keys in :mod:`take_keys`): the quality
figures and low-confidence frames on the take's action, and the motion file on
its action (this take) and its armature (the latest take).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import bpy
import numpy as np

from ..core.motion import LOW_CONFIDENCE, Motion, frame_ranges
from .take_keys import LOW_CONFIDENCE_PROP, MOTION_FILE_PROP, QUALITY_PROP, ROLE, ROLE_BODY, UP_SOURCE_PROP, WARNINGS_PROP


@dataclass
class BuiltTake:
    """What ``scene.build_take`` created or updated.

    Attributes:
        collection: the take's collection (named after the take).
        armature: armature object, keyed with ``action``.
        action: the take's action (bone rotations, pelvis location and, on
            Blender 4.4+, the body's shape-key values in a second slot).
        camera: camera object matching the video, or None without intrinsics.
        body: skinned mesh object, or None when the motion has no rest mesh.
        clip: the video as a movie clip (camera background), or None.
        frame_range: (first, last) scene frames keyed.
        reused: the take went onto an existing rig.
        ground_offset: metres the take was lowered to stand on Z = 0.
        shape_action: the action holding the shape-key keys (``action`` on
            4.4+, a second one on 4.2), or None when nothing was keyed.
        warnings: things the user should know (e.g. video not found).
        other_cameras: the further cameras of a take filmed by several videos
            (``multicam``), each with its video as background; [] for one camera.
    """

    collection: bpy.types.Collection
    armature: bpy.types.Object
    action: bpy.types.Action
    camera: bpy.types.Object | None = None
    body: bpy.types.Object | None = None
    clip: bpy.types.MovieClip | None = None
    frame_range: tuple[int, int] = (1, 1)
    reused: bool = False
    ground_offset: float = 0.0
    shape_action: bpy.types.Action | None = None
    warnings: list[str] = field(default_factory=list)
    other_cameras: list[bpy.types.Object] = field(default_factory=list)


def rig_of(obj: bpy.types.Object | None) -> bpy.types.Object | None:
    """The take's armature: ``obj`` itself or the nearest armature above it, else None.

    Walks all parents, so the body (parented to its rig) and anything parented
    under the body or the rig select the rig.
    """
    while obj is not None and obj.type != 'ARMATURE':
        obj = obj.parent
    return obj


def find_body(rig: bpy.types.Object) -> bpy.types.Object | None:
    """The mesh a blender-mocap rig deforms (its child with an Armature modifier on it)."""
    for child in rig.children:
        if child.type == 'MESH' and any(m.type == 'ARMATURE' and getattr(m, "object", None) == rig
                                        for m in child.modifiers):
            if child.get(ROLE) == ROLE_BODY:
                return child
    return None


def low_confidence_ranges(frames: np.ndarray, confidence: np.ndarray, threshold: float = LOW_CONFIDENCE) -> str:
    """Scene frames whose confidence is below ``threshold``, as text: "12-18, 40"."""
    return frame_ranges(frames, np.asarray(confidence) < threshold)


def record_quality(action: bpy.types.Action, motion: Motion, frames: np.ndarray) -> None:
    """Store the take's quality figures and its low-confidence scene frames on ``action``."""
    action[QUALITY_PROP] = {k: float(v) for k, v in motion.quality.items() if np.isfinite(v)}
    action[LOW_CONFIDENCE_PROP] = low_confidence_ranges(frames, np.asarray(motion.confidence))
    action[UP_SOURCE_PROP] = up_source_text(motion)


def up_source_text(motion: Motion) -> str:
    """Where the take's up direction came from, for the panel: "scene lines ±1.1°" ("" when the file does not say)."""
    if not motion.up_source:
        return ""
    sigma = motion.up_sigma_degrees
    return motion.up_source + (f" ±{sigma:.1f}°" if sigma is not None else "")


def take_up_source(obj: bpy.types.Object | None) -> str:
    """Where the up direction of the current take of ``obj``'s rig came from ("" when unknown)."""
    rig = rig_of(obj)
    anim = rig.animation_data if rig is not None else None
    action = anim.action if anim is not None else None
    return str(action.get(UP_SOURCE_PROP, "")) if action is not None else ""


def take_quality(obj: bpy.types.Object | None) -> tuple[dict[str, float] | None, str]:
    """(quality figures, low-confidence frames as text) of the current take of ``obj``'s rig."""
    rig = rig_of(obj)
    anim = rig.animation_data if rig is not None else None
    action = anim.action if anim is not None else None
    if action is None:
        return None, ""
    stored = action.get(QUALITY_PROP)
    quality = {str(k): float(v) for k, v in stored.items()} if stored is not None else None
    return quality, str(action.get(LOW_CONFIDENCE_PROP, ""))


def record_warnings(take: BuiltTake, warnings: list[str]) -> None:
    """Keep the capture's warnings on the take's action, for the Take Quality panel."""
    take.action[WARNINGS_PROP] = "\n".join(w for w in warnings if w)


def take_warnings(obj: bpy.types.Object | None) -> list[str]:
    """The capture's warnings recorded on the current take of ``obj``'s rig (none when not recorded)."""
    rig = rig_of(obj)
    action = rig.animation_data.action if rig is not None and rig.animation_data is not None else None
    text = str(action.get(WARNINGS_PROP, "")) if action is not None else ""
    return [line for line in text.split("\n") if line]


def record_motion_file(take: BuiltTake, path: str | os.PathLike[str]) -> None:
    """Remember the take's motion file on its action (this take) and its rig (the latest take),
    so the Preview button and later tools find it."""
    value = str(Path(path).resolve())
    take.action[MOTION_FILE_PROP] = value
    take.armature[MOTION_FILE_PROP] = value


def take_motion_file(obj: bpy.types.Object | None) -> str:
    """The motion file recorded on the take ``obj`` belongs to (absolute), or ""."""
    rig = rig_of(obj)
    action = rig.animation_data.action if rig is not None and rig.animation_data is not None else None
    # The active take's own file first (a rig can hold several takes), then the rig's latest.
    value = action.get(MOTION_FILE_PROP, "") if action is not None else ""
    if not value and rig is not None:
        value = rig.get(MOTION_FILE_PROP, "")
    return bpy.path.abspath(value) if isinstance(value, str) and value else ""
