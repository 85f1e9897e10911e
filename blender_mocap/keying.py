"""Bulk keyframe writing: whole F-curves at once, never ``keyframe_insert``.

Per-key ``keyframe_insert`` for 55 bones x 1,800 frames takes about a minute;
``keyframe_points.add`` + ``foreach_set`` takes a tenth of a second. Two small
writers share the work, picked by Blender version:

- Blender 4.4+ (and 5.x, which removed ``Action.fcurves``): slotted actions;
  F-curves live in the channelbag of an action slot on a keyframe strip.
- Blender 4.2/4.3: legacy ``Action.fcurves`` (4.3's slotted API is an
  experimental variant with other signatures, so it is not used).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import cast

import bpy
import numpy as np

from ..core.rotations import quat_sign_continuous

Channel = tuple[str, int, str, np.ndarray]
"""(data_path, array_index, group name, values (T,)) of one F-curve."""

Marks = Mapping[str, np.ndarray]
"""data_path -> (T,) bool: keys of that F-curve to mark (see ``MARK_KEY_TYPE``)."""

Progress = Callable[[int, int], None]
"""progress(F-curves written, F-curves in all); it may raise (e.g. CancelledError) to stop the writing."""

FRAME_CHUNK = 8192
"""Frames worked on at a time before keying (quaternions, signs, pose features): float64 work arrays
for a chunk, not the take (a 100,000-frame take held gigabytes of (T, 55, 3, 3) matrices)."""

SLOTTED = bpy.app.version >= (4, 4, 0)
"""Slotted actions (channelbags): Blender 4.4 and later."""


def _enum_value(prop_name: str, item: str) -> int:
    prop = cast(bpy.types.EnumProperty, bpy.types.Keyframe.bl_rna.properties[prop_name])
    return prop.enum_items[item].value


def _linear_value() -> int:
    return _enum_value("interpolation", "LINEAR")


MARK_KEY_TYPE = 'EXTREME'
"""Keyframe type of marked keys: drawn red in the Dope Sheet and Timeline, a colour bar over bad frames."""


def _fill(fcurve: bpy.types.FCurve, frames: np.ndarray, values: np.ndarray, linear: int,
          marked: np.ndarray | None = None) -> None:
    n = frames.shape[0]
    co = np.empty((n, 2), np.float32)
    co[:, 0] = frames
    co[:, 1] = values
    points = fcurve.keyframe_points
    points.add(n)
    points.foreach_set("co", co.ravel())
    points.foreach_set("interpolation", np.full(n, linear, np.int32))
    if marked is not None and marked.any():
        types = np.where(marked, _enum_value("type", MARK_KEY_TYPE), _enum_value("type", "KEYFRAME"))
        points.foreach_set("type", types.astype(np.int32))
    # Keys arrive sorted and unique, so update() only recomputes handles.
    fcurve.update()


def _write_slotted(id_data: bpy.types.Object | bpy.types.Key, action: bpy.types.Action,
                   channels: Sequence[Channel], frames: np.ndarray, marks: Marks, progress: Progress) -> None:
    slot = action.slots.new(id_type=id_data.id_type, name=id_data.name)
    layer = action.layers[0] if len(action.layers) else action.layers.new("Layer")
    strip = cast(bpy.types.ActionKeyframeStrip,
                 layer.strips[0] if len(layer.strips) else layer.strips.new(type='KEYFRAME'))
    channelbag = strip.channelbag(slot, ensure=True)
    groups: dict[str, bpy.types.ActionGroup] = {}
    linear = _linear_value()
    for done, (data_path, index, group, values) in enumerate(channels, start=1):
        fcurve = channelbag.fcurves.new(data_path, index=index)
        if group:
            # fcurves.new(group_name=) exists only from 5.0; groups.new works on 4.4+.
            if group not in groups:
                groups[group] = channelbag.groups.new(group)
            fcurve.group = groups[group]
        _fill(fcurve, frames, values, linear, marks.get(data_path))
        progress(done, len(channels))
    anim = id_data.animation_data or id_data.animation_data_create()
    anim.action = action
    anim.action_slot = slot


def _write_legacy(id_data: bpy.types.Object | bpy.types.Key, action: bpy.types.Action,
                  channels: Sequence[Channel], frames: np.ndarray, marks: Marks, progress: Progress) -> None:
    linear = _linear_value()
    for done, (data_path, index, group, values) in enumerate(channels, start=1):
        # Action.fcurves exists up to Blender 4.4 only (removed in 5.0, so not in its stubs).
        fcurve = getattr(action, "fcurves").new(data_path, index=index, action_group=group)
        _fill(fcurve, frames, values, linear, marks.get(data_path))
        progress(done, len(channels))
    anim = id_data.animation_data or id_data.animation_data_create()
    anim.action = action


def write_fcurves(id_data: bpy.types.Object | bpy.types.Key, action: bpy.types.Action,
                  channels: Sequence[Channel], frames: np.ndarray, marks: Marks | None = None,
                  progress: Progress | None = None) -> None:
    """Write one F-curve per channel into ``action`` and assign it to ``id_data``.

    Args:
        id_data: the animated data-block (an Object for pose bones, a Key
            for shape-key values).
        action: a new action; on Blender 4.4+ it may already hold slots for
            other data-blocks (one action per take), each call adds a slot.
        channels: (data_path, array_index, group, values (T,)) per F-curve,
            paths relative to ``id_data``; ``group`` may be "".
        frames: (T,) scene frames of the keys, strictly increasing.
        marks: data_path -> (T,) bool: those keys get ``MARK_KEY_TYPE``.
        progress: called after each F-curve (see :data:`Progress`).

    Keys are LINEAR: the data is dense (a key per captured frame), so Bezier
    overshoot would only add wobble.
    """
    frames = np.asarray(frames, np.float64).reshape(-1)
    marks = marks or {}
    report = progress or (lambda done, total: None)
    if SLOTTED:
        _write_slotted(id_data, action, channels, frames, marks, report)
    else:
        _write_legacy(id_data, action, channels, frames, marks, report)


def sign_continuous(quats: np.ndarray) -> np.ndarray:
    """``quat_sign_continuous`` of (T, J, 4) quaternions, in their own dtype, a chunk of frames at a time.

    Each chunk continues from the previous one's last (already fixed) frame, so the
    result is the whole-take one; a long take never holds float64 copies of all its frames.
    """
    out = np.array(quats, copy=True)
    for a in range(1, out.shape[0], FRAME_CHUNK):
        out[a - 1:a + FRAME_CHUNK] = quat_sign_continuous(out[a - 1:a + FRAME_CHUNK])
    return out


def key_bones(obj: bpy.types.Object, action: bpy.types.Action | str, frames: np.ndarray,
              quats: np.ndarray, bone_names: Sequence[str],
              root_locations: np.ndarray | None = None,
              root_bone_name: str | None = None,
              extra_channels: Sequence[Channel] = (), marks: Marks | None = None,
              progress: Progress | None = None) -> bpy.types.Action:
    """Key every pose bone's rotation (and the root's location) on every frame.

    Args:
        obj: armature object; its pose bones must use ``rotation_mode = 'QUATERNION'``.
        action: a new, empty action, or the name for one to create.
        frames: (T,) scene frames, strictly increasing.
        quats: (T, J, 4) bone-local rotations (w, x, y, z), one per ``bone_names``.
        bone_names: J pose bone names.
        root_locations: (T, 3) bone-local location of ``root_bone_name``, or None.
        extra_channels: more (data_path, index, group, values) F-curves of
            ``obj`` for the same slot (e.g. per-frame confidence).
        marks: keys to mark, see :func:`write_fcurves`.
        progress: called after each F-curve, see :func:`write_fcurves`.

    Returns the action, assigned to ``obj``. Quaternion signs are made
    continuous over time first.
    """
    if isinstance(action, str):
        action = bpy.data.actions.new(action)
    quats = sign_continuous(np.asarray(quats))
    channels: list[Channel] = []
    for j, name in enumerate(bone_names):
        path = f'pose.bones["{bpy.utils.escape_identifier(name)}"]'
        for i in range(4):
            channels.append((f"{path}.rotation_quaternion", i, name, quats[:, j, i]))
        if root_locations is not None and name == root_bone_name:
            for i in range(3):
                channels.append((f"{path}.location", i, name, root_locations[:, i]))
    channels.extend(extra_channels)
    write_fcurves(obj, action, channels, frames, marks, progress)
    return action
