"""Reading a target armature for the solver: its rest bones, its effective parents, its control switches.

A plain FK skeleton (Mixamo, Unreal, our own) is read as it is: every bone,
its real parent, its rest matrices. A control rig (bones with constraints,
as Rigify's) is read through the bones the mapping keys: each one's effective
parent (the keyed bone it moves rigidly with, through whatever constraints) is
found from one probe pose (:func:`_probe_parents`), and its rest is the
evaluated pose with the keyed bones at rest. Needs bpy.
"""

from __future__ import annotations

from typing import Any

import bpy
import numpy as np
from mathutils import Quaternion

from ...core.errors import MocapError
from .mapping import Mapping, RestBone
from .solve import TargetRig

RIGIFY_SWITCHES = {"IK_FK": 1.0, "FK_limb_follow": 1.0, "neck_follow": 1.0, "head_follow": 1.0}
"""Rigify's custom properties set so its FK controls drive the deform bones and each follows its parent."""

def pose_bones(obj: bpy.types.Object) -> Any:
    """``obj.pose.bones`` (an armature object always has a pose)."""
    pose: Any = obj.pose
    return pose.bones


def update_view_layer() -> None:
    """Evaluate the current view layer: object matrices and constrained bones are up to date afterwards."""
    view_layer = bpy.context.view_layer
    if view_layer is not None:
        view_layer.update()


def _world(obj: bpy.types.Object) -> np.ndarray:
    """The object's matrix_world (call :func:`update_view_layer` first: a just-appended object's is
    the identity until the view layer is evaluated)."""
    return np.array(obj.matrix_world, np.float64)


def rest_bones(obj: bpy.types.Object) -> list[RestBone]:
    """Every bone of ``obj``'s armature, parents first, head and tail in the world (metres)."""
    update_view_layer()
    M = _world(obj)
    data: Any = obj.data

    def w(v) -> tuple[float, float, float]:
        p = M[:3, :3] @ np.asarray(v, np.float64) + M[:3, 3]
        return (float(p[0]), float(p[1]), float(p[2]))

    bones = sorted(data.bones, key=lambda b: len(b.parent_recursive))
    return [RestBone(b.name, b.parent.name if b.parent else None, w(b.head_local), w(b.tail_local)) for b in bones]


def is_control_rig(obj: bpy.types.Object) -> bool:
    """True when any pose bone has a constraint (a rig whose controls drive its deform bones)."""
    return any(len(pb.constraints) for pb in pose_bones(obj))


def set_rigify_switches(obj: bpy.types.Object) -> list[str]:
    """Put a Rigify rig's limbs into FK and make neck, head and limbs follow their parents; the bones changed."""
    changed = []
    for pb in pose_bones(obj):
        for key, value in RIGIFY_SWITCHES.items():
            if key in pb.keys() and pb[key] != value:
                pb[key] = value
                changed.append(pb.name)
    return changed


def _reset(obj: bpy.types.Object, names: list[str]) -> None:
    for name in names:
        pb = pose_bones(obj)[name]
        pb.rotation_mode = 'QUATERNION'
        pb.rotation_quaternion = (1.0, 0.0, 0.0, 0.0)
        pb.location = (0.0, 0.0, 0.0)
        pb.scale = (1.0, 1.0, 1.0)


def _matrices(obj: bpy.types.Object, names: list[str]) -> np.ndarray:
    """(K, 4, 4) the bones' pose matrices (armature space), evaluated first."""
    update_view_layer()
    return np.array([np.array(pose_bones(obj)[n].matrix, np.float64) for n in names])


def _probe_parents(obj: bpy.types.Object, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """((K,) effective parent of each keyed bone among ``names`` (-1: none), (K, 4, 4) their evaluated
    rest matrices), from one probe pose.

    Every keyed bone is turned at once by its own rotation ``R_b`` (in its own frame). A bone that
    moves rigidly with bone ``c`` then sits at ``D_c M_b R_b``, ``D_c`` being how ``c`` moved, so
    ``E_b = M_b' (M_b R_b)^-1`` equals ``D_c`` for its effective parent only (the turns differ, so a
    grandparent's motion does not match), and the identity for a bone that follows none of them.
    """
    rest = _matrices(obj, names)
    K = len(names)
    rng = np.random.default_rng(0)
    turns = []
    for name in names:
        axis = rng.normal(size=3)
        turn = Quaternion((axis / np.linalg.norm(axis)).tolist(), float(rng.uniform(0.4, 0.9)))
        pose_bones(obj)[name].rotation_quaternion = turn
        turns.append(np.array(turn.to_matrix().to_4x4()))
    moved = _matrices(obj, names)
    for name in names:  # back at rest (evaluated with the keys that follow)
        pose_bones(obj)[name].rotation_quaternion = (1.0, 0.0, 0.0, 0.0)
    own = moved @ np.linalg.inv(rest @ np.array(turns))
    motion = moved @ np.linalg.inv(rest)
    parents = np.full(K, -1)
    for b in range(K):
        if np.abs(own[b] - np.eye(4)).max() < 1e-4:
            continue
        gap = np.abs(motion - own[b]).max(axis=(1, 2))
        gap[b] = np.inf
        if gap.min() < 1e-4:
            parents[b] = int(np.argmin(gap))
    return parents, rest


def _order(parents: np.ndarray) -> list[int]:
    """Indices with parents before children."""
    out: list[int] = []
    placed: set[int] = set()
    while len(out) < len(parents):
        for b, p in enumerate(parents):
            if b not in placed and (p < 0 or p in placed):
                out.append(b)
                placed.add(b)
    return out


def target_rig(obj: bpy.types.Object, mapping: Mapping) -> TargetRig:
    """The :class:`TargetRig` of ``obj`` for ``mapping`` (the rig's animation is left off while it is read)."""
    if obj.type != 'ARMATURE':
        raise MocapError(f"'{obj.name}' is not an armature")
    data: Any = obj.data
    if is_control_rig(obj):
        names = [n for n in mapping if n in pose_bones(obj)]
        _reset(obj, names)
        parents, rest = _probe_parents(obj, names)
        order = _order(parents)
        remap = {old: new for new, old in enumerate(order)}
        names = [names[i] for i in order]
        parents = np.array([remap[int(parents[i])] if parents[i] >= 0 else -1 for i in order])
        rest = rest[order]
    else:
        update_view_layer()
        bones = sorted(data.bones, key=lambda b: len(b.parent_recursive))
        names = [b.name for b in bones]
        index = {n: i for i, n in enumerate(names)}
        parents = np.array([index[b.parent.name] if b.parent else -1 for b in bones])
        rest = np.array([np.array(b.matrix_local, np.float64) for b in bones])
    M = _world(obj)
    scale = float(np.cbrt(abs(np.linalg.det(M[:3, :3]))))
    R = M[:3, :3] / scale
    rot = np.einsum("ab,kbc->kac", R, rest[:, :3, :3])
    rot /= np.linalg.norm(rot, axis=1, keepdims=True)
    heads = rest[:, :3, 3] @ M[:3, :3].T + M[:3, 3]
    return TargetRig(names=names, parents=parents, rest_rot=rot, heads=heads,
                     joints=[mapping.get(n) for n in names], object_scale=scale, floor=float(M[2, 3]),
                     origin_xy=M[:2, 3].copy())
