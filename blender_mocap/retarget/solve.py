"""The transfer: SMPL-X joint motion -> the target's bone rotations and root location (numpy only).

Each target bone's world rotation is built from the source in world space,
through both rest poses, never by copying local values:

    Q_b(t) = S_b(t) @ G_b(t) @ O_b @ A_b

- ``A_b``: the bone's rest rotation in the world (its roll and axes, whatever they are);
- ``O_b``: the rest-pose difference, the rotation that turns the target's rest
  (an A-pose, say) into the source's (a T-pose). The root gets the whole body
  frame (left, up); every other bone the smallest turn of its chord (the segment
  from its head to the next mapped bone's head) onto the source's, on top of
  its parent's, so twist is carried down a chain;
- ``G_b``: the source joint's world rotation since its rest; for a bone
  between two mapped ones (a spine of 2 or 4 bones, a twist segment) the
  source rotations slerped at the bone's place along the chain;
- ``S_b``: a swing that lays the bone's chord exactly on the source chain's
  chord at the same fractions of its length (identity for a bone mapped 1:1;
  it spreads the source's bends over a different number of bones).

Unmapped twist bones hanging off a chain take a share of its twist (:func:`_twist_leaves`).

The local rotation follows Blender's pose rule ``Q_b = Q_p A_p^T A_b L_b``
(``p`` the bone's effective parent: the nearest bone it moves rigidly with).
The root moves with the source's mid-hip point, scaled by leg length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.rotations import (axis_angle_to_matrix, matrix_to_quat_wxyz, quat_slerp, quat_wxyz_to_axis_angle,
                               rotation_between)
from ...core.skeleton import JOINT_NAMES, PARENTS
from .feet import contacts, hold_targets, two_bone_ik
from .source import SourcePose

_PREFERRED_NEXT = {
    "pelvis": ("spine1", "spine2", "spine3", "neck", "head"),
    "spine1": ("spine2", "spine3", "neck"),
    "spine2": ("spine3", "neck"),
    "spine3": ("neck", "head"),
    "left_wrist": ("left_middle1", "left_ring1", "left_index1", "left_pinky1"),
    "right_wrist": ("right_middle1", "right_ring1", "right_index1", "right_pinky1"),
}
"""Where a joint has several mapped children, the one its chord points at (as the SMPL-X armature's bones)."""
_L_HIP, _R_HIP = JOINT_NAMES.index("left_hip"), JOINT_NAMES.index("right_hip")


@dataclass
class TargetRig:
    """The target armature's rest pose, in the world (Z up).

    Attributes:
        names: B bone names, parents first.
        parents: (B,) index of each bone's effective parent (-1: none).
        rest_rot: (B, 3, 3) rest rotations in the world (``matrix_world @ matrix_local``, scale removed).
        heads: (B, 3) rest heads in the world, metres.
        joints: the SMPL-X joint each bone takes (None: not mapped).
        object_scale: the armature object's uniform scale (world metres per armature unit).
        floor: world height the character stands on (its object's origin).
    """

    names: list[str]
    parents: np.ndarray
    rest_rot: np.ndarray
    heads: np.ndarray
    joints: list[str | None]
    object_scale: float = 1.0
    floor: float = 0.0
    origin_xy: np.ndarray = field(default_factory=lambda: np.zeros(2))


@dataclass
class Retargeted:
    """What to key on the target.

    Attributes:
        bones: K names of the keyed bones (mapped ones and those between them).
        quats: (T, K, 4) bone-local rotations (w, x, y, z).
        root_bone: the bone that takes the pelvis, keyed with ``root_location``.
        root_location: (T, 3) its pose location, bone-local armature units.
        frames: (T,) scene frames.
        rotations: (T, B, 3, 3) every target bone's world rotation.
        positions: (T, B, 3) every target bone's world head.
        scale: target leg length over the source's (how root motion was scaled).
        planted: frames on which a target foot was held by the feet pass, per leg (left, right).
    """

    bones: list[str]
    quats: np.ndarray
    root_bone: str
    root_location: np.ndarray
    frames: np.ndarray
    rotations: np.ndarray
    positions: np.ndarray
    scale: float
    planted: tuple[int, int] = (0, 0)


@dataclass
class _Chord:
    """A bone's segment along a source chain: source joints, their length fractions, and the bone's."""

    path: list[int]  # source joint indices from the anchor's joint down
    g: np.ndarray  # (m,) cumulative fractions of the source path at its joints
    start: float
    end: float
    child: int  # target bone whose head ends the chord
    mid_hip: bool = False  # the path starts at the mid-hip point, not the pelvis joint (the trunk)

    def points(self, joints: np.ndarray) -> np.ndarray:
        """(m, ...) the path's points from (..., 55, 3) joint positions (rest or posed)."""
        out = np.moveaxis(joints[..., self.path, :], -2, 0).copy()
        if self.mid_hip:
            out[0] = 0.5 * (joints[..., _L_HIP, :] + joints[..., _R_HIP, :])
        return out


def _source_path(source: SourcePose, top: int, bottom: int) -> list[int] | None:
    path = [bottom]
    while path[-1] != top:
        p = PARENTS[path[-1]]
        if p < 0:
            return None
        path.append(p)
    return [j for j in reversed(path) if source.present[j]]


def _fractions(points: np.ndarray) -> np.ndarray:
    steps = np.linalg.norm(np.diff(points, axis=0), axis=1)
    total = steps.sum()
    return np.concatenate([[0.0], np.cumsum(steps) / total]) if total > 1e-9 else np.linspace(0, 1, len(points))


def _along(g: np.ndarray, values: np.ndarray, f: float) -> np.ndarray:
    """Linear interpolation of ``values`` (m, ...) given at fractions ``g`` (m,), at ``f``."""
    s = int(np.clip(np.searchsorted(g, f, side="right") - 1, 0, len(g) - 2))
    u = (f - g[s]) / max(g[s + 1] - g[s], 1e-12)
    return (1 - u) * values[s] + u * values[s + 1]


def _children(parents: np.ndarray) -> list[list[int]]:
    kids: list[list[int]] = [[] for _ in parents]
    for b, p in enumerate(parents):
        if p >= 0:
            kids[int(p)].append(b)
    return kids


def _next_anchors(rig: TargetRig, kids: list[list[int]], a: int) -> list[list[int]]:
    """Target paths from anchor ``a`` down to each nearest mapped descendant."""
    out, stack = [], [[a, c] for c in kids[a]]
    while stack:
        path = stack.pop()
        if rig.joints[path[-1]] is not None:
            out.append(path)
        else:
            stack += [path + [c] for c in kids[path[-1]]]
    return out


def chords(rig: TargetRig, source: SourcePose) -> dict[int, _Chord]:
    """Each keyed bone's chord (bones between anchors included); ends without one are left out."""
    kids = _children(rig.parents)
    index = {n: i for i, n in enumerate(JOINT_NAMES)}
    hips = [_bone_of(rig, "left_hip"), _bone_of(rig, "right_hip")]
    trunk_ok = hips[0] is not None and hips[1] is not None and bool(source.present[[_L_HIP, _R_HIP]].all())
    out: dict[int, _Chord] = {}
    for a, joint in enumerate(rig.joints):
        if joint is None or not source.present[index[joint]]:
            continue
        ja = index[joint]
        options = []
        for path in _next_anchors(rig, kids, a):
            jc = index[str(rig.joints[path[-1]])]
            spath = _source_path(source, ja, jc) if source.present[jc] else None
            if spath is None or len(spath) < 2:
                continue
            # The trunk runs from the mid-hip point: its chords then add up to the source's hips-to-neck line.
            mid = joint == "pelvis" and trunk_ok and JOINT_NAMES[jc] in _PREFERRED_NEXT["pelvis"]
            heads = rig.heads[path].copy()
            mid_hip = _mid_hip(rig)
            if mid and mid_hip is not None:
                heads[0] = mid_hip
            f = _fractions(heads)
            g = _fractions(_Chord(spath, np.zeros(0), 0, 0, 0, mid).points(source.rest))
            for k, bone in enumerate(path[1:-1], start=1):
                out[bone] = _Chord(spath, g, float(f[k]), float(f[k + 1]), path[k + 1], mid)
            options.append((path, spath, g, float(f[1]), mid))
        if not options:
            continue
        preferred = _PREFERRED_NEXT.get(joint, ())
        rank = [preferred.index(JOINT_NAMES[o[1][-1]]) if JOINT_NAMES[o[1][-1]] in preferred else len(preferred)
                for o in options]
        path, spath, g, f1, mid = options[int(np.argmin(rank))]
        out[a] = _Chord(spath, g, 0.0, f1, path[1], mid)
    if trunk_ok:
        out.update(_trunk(rig, source))
    return out


def _trunk(rig: TargetRig, source: SourcePose) -> dict[int, _Chord]:
    """Chords of the bones from the pelvis to the neck as one chain from the mid-hip point, when some
    of them are not mapped (a spine of another count than the source's).

    Spread by length over the whole trunk (whatever the spine count on either side),
    the chords add up to the source's mid-hip-to-neck line, so the trunk leans as the source's does.
    """
    root, neck = _bone_of(rig, "pelvis"), _bone_of(rig, "neck")
    j_neck = JOINT_NAMES.index("neck")
    if root is None or neck is None or not source.present[j_neck]:
        return {}
    path = [neck]
    while path[-1] != root and rig.parents[path[-1]] >= 0:
        path.append(int(rig.parents[path[-1]]))
    spath = _source_path(source, 0, j_neck)
    if path[-1] != root or spath is None:
        return {}
    path.reverse()
    anchors = [JOINT_NAMES.index(str(rig.joints[b])) for b in path if rig.joints[b] is not None]
    if len(anchors) == len(path) and anchors == spath:
        return {}  # mapped bone for joint on both sides: joint-to-joint chords, so a round trip returns the rotations
    heads = rig.heads[path].copy()
    mid_hip = _mid_hip(rig)
    if mid_hip is None:
        return {}
    heads[0] = mid_hip
    f = _fractions(heads)
    g = _fractions(_Chord(spath, np.zeros(0), 0, 0, 0, True).points(source.rest))
    return {bone: _Chord(spath, g, float(f[k]), float(f[k + 1]), path[k + 1], True)
            for k, bone in enumerate(path[:-1])}


def _frame(left: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(3, 3) orthonormal columns (left, up, forward) from a left and an up direction."""
    up = up / np.linalg.norm(up)
    left = left - up * (left @ up)
    left = left / np.linalg.norm(left)
    return np.stack([left, up, np.cross(left, up)], axis=1)


def _bone_of(rig: TargetRig, joint: str) -> int | None:
    return rig.joints.index(joint) if joint in rig.joints else None


def _mid_hip(rig: TargetRig) -> np.ndarray | None:
    """(3,) the point between the bones that take the hips, or None when one is not mapped."""
    left, right = _bone_of(rig, "left_hip"), _bone_of(rig, "right_hip")
    return None if left is None or right is None else 0.5 * (rig.heads[left] + rig.heads[right])


def _body_alignment(rig: TargetRig, source: SourcePose) -> np.ndarray:
    """(3, 3) world rotation turning the target's rest body frame (left, up) onto the source's."""
    idx = {n: i for i, n in enumerate(JOINT_NAMES)}
    hips = [_bone_of(rig, "left_hip"), _bone_of(rig, "right_hip")]
    top = next((b for j in ("neck", "spine3", "head", "spine2") if (b := _bone_of(rig, j)) is not None), None)
    root = _bone_of(rig, "pelvis")
    mid_t = _mid_hip(rig)
    if hips[0] is None or hips[1] is None or top is None or root is None or mid_t is None:
        return np.eye(3)
    t_frame = _frame(rig.heads[hips[0]] - rig.heads[hips[1]], rig.heads[top] - mid_t)
    s_top = idx[str(rig.joints[top])]
    mid_s = source.rest[[idx["left_hip"], idx["right_hip"]]].mean(axis=0)
    s_frame = _frame(source.rest[idx["left_hip"]] - source.rest[idx["right_hip"]], source.rest[s_top] - mid_s)
    return s_frame @ t_frame.T


def leg_length(points: dict[str, np.ndarray]) -> float | None:
    """Mean hip-knee-ankle length of the legs found in ``points`` (joint name -> (3,) position), or None."""
    legs = []
    for side in ("left", "right"):
        hip, knee, ankle = (points.get(f"{side}_{p}") for p in ("hip", "knee", "ankle"))
        if hip is not None and knee is not None and ankle is not None:
            legs.append(float(np.linalg.norm(knee - hip) + np.linalg.norm(ankle - knee)))
    return float(np.mean(legs)) if legs else None


def root_scale(rig: TargetRig, source: SourcePose) -> float:
    """Target leg length over the source's (the pelvis heights' ratio when a rig has no mapped legs)."""
    idx = {n: i for i, n in enumerate(JOINT_NAMES)}
    target = leg_length({j: rig.heads[b] for b, j in enumerate(rig.joints) if j is not None})
    src = leg_length({j: source.rest[idx[j]] for j in JOINT_NAMES if source.present[idx[j]]})
    if target and src:
        return target / src
    root = _bone_of(rig, "pelvis")
    src_height = source.rest[0, 2] - source.rest[:, 2].min()
    if root is None or src_height < 1e-6:
        return 1.0
    return max(float(rig.heads[root, 2] - rig.floor), 1e-3) / float(src_height)


def _slerp_matrices(G0: np.ndarray, G1: np.ndarray, u: float) -> np.ndarray:
    q = quat_slerp(matrix_to_quat_wxyz(G0), matrix_to_quat_wxyz(G1), u)
    return axis_angle_to_matrix(quat_wxyz_to_axis_angle(q))


def _source_rotation(source: SourcePose, joint: str | None, chord: _Chord | None) -> np.ndarray | None:
    """(T, 3, 3) the source rotation a bone follows: its joint's, or slerped along its chain."""
    if joint is not None:
        return source.rotations[:, JOINT_NAMES.index(joint)]
    if chord is None:
        return None
    mid = 0.5 * (chord.start + chord.end)
    g = chord.g
    s = int(np.clip(np.searchsorted(g, mid, side="right") - 1, 0, len(g) - 2))
    u = (mid - g[s]) / max(g[s + 1] - g[s], 1e-12)
    return _slerp_matrices(source.rotations[:, chord.path[s]], source.rotations[:, chord.path[s + 1]], u)


def _chord_start(rig: TargetRig, b: int, chord: _Chord | None) -> np.ndarray:
    """Where a bone's chord starts: its head, or the mid-hip point for the root's trunk chord."""
    mid_hip = _mid_hip(rig)
    if chord is not None and chord.mid_hip and chord.start == 0.0 and mid_hip is not None:
        return mid_hip
    return rig.heads[b]


def retarget(source: SourcePose, rig: TargetRig, plant_feet: bool = True) -> Retargeted:
    """Solve every frame at once (vectorised over frames). See the module docstring for the rule.

    ``plant_feet``: hold the target's feet during the source's contacts (``feet``)."""
    T, B = source.num_frames, len(rig.names)
    found = chords(rig, source)
    body = _body_alignment(rig, source)
    O = np.empty((B, 3, 3))
    Q = np.empty((T, B, 3, 3))
    keyed: list[int] = []
    root = _bone_of(rig, "pelvis")
    if root is None:
        raise ValueError("no bone takes the pelvis")
    for b in range(B):
        p = int(rig.parents[b])
        O_par = O[p] if p >= 0 else np.eye(3)
        chord = found.get(b)
        joint = rig.joints[b]
        if joint is not None and not source.present[JOINT_NAMES.index(joint)]:
            joint = None
            chord = None
        G = _source_rotation(source, joint, chord)
        start = _chord_start(rig, b, chord)
        if chord is not None:
            base = body if b == root else O_par
            rest = chord.points(source.rest)
            d_s = _along(chord.g, rest, chord.end) - _along(chord.g, rest, chord.start)
            O[b] = rotation_between(base @ (rig.heads[chord.child] - start), d_s) @ base
        else:
            O[b] = body if b == root else O_par
        if G is None:  # not driven: rides on its parent
            Q[:, b] = (Q[:, p] @ rig.rest_rot[p].T @ rig.rest_rot[b]) if p >= 0 else rig.rest_rot[b]
            continue
        keyed.append(b)
        Q[:, b] = G @ (O[b] @ rig.rest_rot[b])
        if chord is not None:
            points = chord.points(source.positions)
            want = _along(chord.g, points, chord.end) - _along(chord.g, points, chord.start)
            have = np.einsum("tab,b->ta", G @ O[b], rig.heads[chord.child] - start)
            Q[:, b] = rotation_between(have, want) @ Q[:, b]
    _twist_leaves(rig, found, Q, keyed)
    scale = root_scale(rig, source)
    P = _positions(rig, source, Q, root, scale)
    planted = (0, 0)
    if plant_feet:
        planted = _plant(rig, source, Q, P)
        if any(planted):
            P = _positions(rig, source, Q, root, scale)
    out = _keys(rig, source, Q, P, keyed, root, scale)
    out.planted = planted
    return out


def _plant(rig: TargetRig, source: SourcePose, Q: np.ndarray, P: np.ndarray) -> tuple[int, int]:
    """The feet pass on each leg whose thigh, shin and foot are a parent chain; frames held per leg."""
    idx = {n: i for i, n in enumerate(JOINT_NAMES)}
    held = []
    for side in ("left", "right"):
        hip, knee, ankle = (_bone_of(rig, f"{side}_{p}") for p in ("hip", "knee", "ankle"))
        if hip is None or knee is None or ankle is None or rig.parents[knee] != hip or rig.parents[ankle] != knee:
            held.append(0)
            continue
        mask = contacts(source.positions[:, idx[f"{side}_ankle"]])
        if source.present[idx[f"{side}_foot"]]:
            mask |= contacts(source.positions[:, idx[f"{side}_foot"]])
        want, weight = hold_targets(P[:, ankle], mask)
        two_bone_ik(Q, P, hip, knee, P[:, ankle], want, weight)
        held.append(int((weight >= 1.0).sum()))
    return held[0], held[1]


def _twist_leaves(rig: TargetRig, found: dict[int, _Chord], Q: np.ndarray, keyed: list[int]) -> None:
    """Unmapped twist bones (``twist`` in the name) under a keyed bone take a share of the twist between
    that bone and the next keyed one down its chain, by how far along it they sit (Unreal's
    ``lowerarm_twist_01_l`` turns with part of the hand's twist about the forearm, as its skinning expects).
    ``Q`` (T, B, 3, 3) and ``keyed`` are updated in place."""
    driven = set(keyed)
    for u, name in enumerate(rig.names):
        p = int(rig.parents[u])
        if u in driven or "twist" not in name.lower() or p not in driven or p not in found:
            continue
        c = found[p].child
        span = rig.heads[c] - rig.heads[p]
        if c not in driven or span @ span < 1e-12:
            continue
        share = float(np.clip((rig.heads[u] - rig.heads[p]) @ span / (span @ span), 0.0, 1.0))
        follow = Q[:, p] @ rig.rest_rot[p].T  # how the parent turned since its rest (world)
        q = matrix_to_quat_wxyz(Q[:, c] @ np.swapaxes(follow @ rig.rest_rot[c], 1, 2))  # the child's own turn
        axis = np.einsum("tab,b->ta", follow, span / np.linalg.norm(span))
        twist = np.concatenate([q[:, :1], np.sum(q[:, 1:] * axis, axis=1, keepdims=True) * axis], axis=1)
        twist /= np.maximum(np.linalg.norm(twist, axis=1, keepdims=True), 1e-12)
        part = quat_slerp(np.tile([1.0, 0.0, 0.0, 0.0], (len(q), 1)), twist, share)
        Q[:, u] = axis_angle_to_matrix(quat_wxyz_to_axis_angle(part)) @ follow @ rig.rest_rot[u]
        keyed.append(u)


def _positions(rig: TargetRig, source: SourcePose, Q: np.ndarray, root: int, scale: float) -> np.ndarray:
    """(T, B, 3) world heads: the root follows the source's mid-hip (scaled), the rest by forward kinematics."""
    idx = {n: i for i, n in enumerate(JOINT_NAMES)}
    T, B = Q.shape[:2]
    mid_hip = _mid_hip(rig)
    if mid_hip is not None and source.present[idx["left_hip"]] and source.present[idx["right_hip"]]:
        mid_t = mid_hip
        mid_s = source.positions[:, [idx["left_hip"], idx["right_hip"]]].mean(axis=1)
    else:
        mid_t, mid_s = rig.heads[root], source.positions[:, 0]
    want = np.empty((T, 3))
    want[:, :2] = rig.origin_xy + scale * mid_s[:, :2]
    want[:, 2] = rig.floor + scale * mid_s[:, 2]
    P = np.empty((T, B, 3))
    for b in range(B):
        p = int(rig.parents[b])
        if b == root:
            P[:, b] = want + np.einsum("tab,b->ta", Q[:, b] @ rig.rest_rot[b].T, rig.heads[b] - mid_t)
        elif p >= 0:
            P[:, b] = P[:, p] + np.einsum("tab,b->ta", Q[:, p] @ rig.rest_rot[p].T, rig.heads[b] - rig.heads[p])
        else:
            P[:, b] = rig.heads[b]
    return P


def _keys(rig: TargetRig, source: SourcePose, Q: np.ndarray, P: np.ndarray, keyed: list[int], root: int,
          scale: float) -> Retargeted:
    T = Q.shape[0]
    quats = np.empty((T, len(keyed), 4), np.float32)
    for k, b in enumerate(keyed):
        p = int(rig.parents[b])
        if p >= 0:
            local = rig.rest_rot[b].T @ rig.rest_rot[p] @ np.swapaxes(Q[:, p], 1, 2) @ Q[:, b]
        else:
            local = rig.rest_rot[b].T @ Q[:, b]
        q = matrix_to_quat_wxyz(local)
        quats[:, k] = np.where(q[:, :1] < 0, -q, q)
    # The root's parent chain stays at rest, so its location moves along its own rest axes.
    root_location = (P[:, root] - rig.heads[root]) @ rig.rest_rot[root] / rig.object_scale
    return Retargeted([rig.names[b] for b in keyed], quats, rig.names[root], root_location.astype(np.float32),
                      source.frames, Q, P, scale)
