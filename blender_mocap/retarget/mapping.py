"""Which target bone takes which SMPL-X joint: by name, by preset, or by the skeleton's shape.

Pure Python (no bpy, no numpy): the input is a list of :class:`RestBone`
(name, parent, head and tail in the target's world frame, metres) and the
output a :class:`Mapping`, target bone name -> SMPL-X joint name
(``core.skeleton.JOINT_NAMES``). Bones left out of the mapping are not keyed
from a joint of their own: between two mapped bones of one chain (a spine of
2 or 4 bones, twist bones inside an arm) they share the chain's motion (see
``solve``), elsewhere they follow their parent.

Auto-mapping tries, in order: a built-in preset whose names the rig has,
names (Mixamo ``mixamorig:LeftArm``, Unreal ``upperarm_l``, Rigify
``DEF-upper_arm.L``, ``Left``/``L``/``.l``/``_l`` spellings, ``spine_01``-style
numbers), then the skeleton's shape for what names did not place: chains
from the hips to each end, sides by the body's left (facing from the toes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ...core.skeleton import JOINT_NAMES

Vec = tuple[float, float, float]
Mapping = dict[str, str]
"""Target bone name -> SMPL-X joint name."""

FINGERS = ("thumb", "index", "middle", "ring", "pinky")
SIDES = {"L": "left", "R": "right"}


@dataclass(frozen=True)
class RestBone:
    """One bone of the target's rest pose.

    Attributes:
        name: the bone's name.
        parent: its parent's name, or None for a root.
        head, tail: (x, y, z) in the target's world frame (Z up), metres.
    """

    name: str
    parent: str | None
    head: Vec
    tail: Vec


# -- names ------------------------------------------------------------------------------------------------------------
_NAMESPACE = re.compile(r"^.*[:|]")
_PREFIX = re.compile(r"^(def|org|ctrl|jnt|bip0?1)[-_. ]", re.I)
_SEGMENT = re.compile(r"\.(\d{3})$")  # Rigify's chain segments: upper_arm.L.001
_SIDE_SUFFIX = re.compile(r"[-_. ](l|r|left|right)$", re.I)
_SIDE_PREFIX = re.compile(r"^(l|r|left|right)[-_. ]", re.I)
_SIDE_CAMEL = re.compile(r"^(Left|Right)(?=[A-Z0-9])|(Left|Right)$")
_FINGER = re.compile(r"^(?:hand)?(thumb|index|middle|ring|pinky|little|f(?:index|middle|ring|pinky))"
                     r"(?:finger)?(\d*)$")

_LIMB_STEMS = {
    "collar": ("shoulder", "clavicle", "collar", "collarbone"),
    "shoulder": ("arm", "upperarm", "uparm", "humerus"),
    "elbow": ("forearm", "lowerarm", "lowarm", "elbow"),
    "wrist": ("hand", "wrist"),
    "hip": ("upleg", "upperleg", "thigh", "hip", "femur"),
    "knee": ("leg", "lowerleg", "lowleg", "calf", "shin", "knee"),
    "ankle": ("foot", "ankle"),
    "foot": ("toe", "toes", "toebase", "ball"),
    "eye_smplhf": ("eye",),
}
_STEM_JOINT = {stem: part for part, stems in _LIMB_STEMS.items() for stem in stems}
_CENTRE = {"hips": "pelvis", "pelvis": "pelvis", "hip": "pelvis", "neck": "neck", "neck1": "neck",
           "neck01": "neck", "head": "head", "jaw": "jaw"}
_SPINE = re.compile(r"^(spine|chest|upperchest|abdomen|waist)(\d*)$")


@dataclass(frozen=True)
class NameParts:
    """A bone name taken apart: side ("L", "R" or ""), stem (lower-case letters and digits), segment (0 or n of .00n)."""

    side: str
    stem: str
    segment: int


def name_parts(name: str) -> NameParts:
    """``mixamorig:LeftForeArm`` -> (L, forearm, 0); ``DEF-upper_arm.L.001`` -> (L, upperarm, 1); ``calf_r`` -> (R, calf, 0)."""
    base = _PREFIX.sub("", _NAMESPACE.sub("", name))
    segment = 0
    if m := _SEGMENT.search(base):
        segment, base = int(m.group(1)), base[:m.start()]
    side = ""
    if m := _SIDE_SUFFIX.search(base):
        side, base = m.group(1)[0].upper(), base[:m.start()]
    elif m := _SIDE_PREFIX.match(base):
        side, base = m.group(1)[0].upper(), base[m.end():]
    elif m := _SIDE_CAMEL.search(base):
        word = m.group(1) or m.group(2)
        side, base = word[0], base[:m.start()] + base[m.end():]
    return NameParts(side, re.sub(r"[^a-z0-9]", "", base.lower()), segment)


def joint_by_name(name: str) -> str | None:
    """The SMPL-X joint a bone's name says it is, or None (spine bones: see :func:`auto_map`)."""
    parts = name_parts(name)
    if parts.segment:
        return None  # a twist or extra segment of a chain: shares the chain's motion
    side = SIDES.get(parts.side)
    if m := _FINGER.match(parts.stem):
        finger = m.group(1).removeprefix("f").replace("little", "pinky")
        number = int(m.group(2)) if m.group(2) else 0
        return f"{side}_{finger}{number}" if side and 1 <= number <= 3 else None
    if side:
        part = _STEM_JOINT.get(parts.stem)
        return f"{side}_{part}" if part else None
    return _CENTRE.get(parts.stem)


# -- the skeleton -----------------------------------------------------------------------------------------------------
class Skeleton:
    """The target's bones with children and depths, for chain walks."""

    def __init__(self, bones: Sequence[RestBone]) -> None:
        self.bones = {b.name: b for b in bones}
        self.order = [b.name for b in bones]
        self.children: dict[str, list[str]] = {b.name: [] for b in bones}
        for b in bones:
            if b.parent in self.children:
                self.children[b.parent].append(b.name)

    def parent(self, name: str) -> str | None:
        parent = self.bones[name].parent
        return parent if parent in self.bones else None

    def ancestors(self, name: str) -> list[str]:
        out, p = [], self.parent(name)
        while p is not None:
            out.append(p)
            p = self.parent(p)
        return out

    def path(self, top: str, bottom: str) -> list[str] | None:
        """Bones from ``top`` down to ``bottom`` (both included), or None when ``top`` is not above it."""
        chain = [bottom, *self.ancestors(bottom)]
        return chain[: chain.index(top) + 1][::-1] if top in chain else None

    def subtree_size(self, name: str) -> int:
        return 1 + sum(self.subtree_size(c) for c in self.children[name])

    def head(self, name: str) -> Vec:
        return self.bones[name].head


def _sub(a: Vec, b: Vec) -> Vec:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _dot(a: Vec, b: Vec) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: Vec, b: Vec) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _length(a: Vec) -> float:
    return _dot(a, a) ** 0.5


# -- auto-mapping -----------------------------------------------------------------------------------------------------
def map_by_names(skeleton: Skeleton) -> Mapping:
    """Bones whose names say which joint they are (the first bone for each joint), plus the spine."""
    mapping: Mapping = {}
    taken: set[str] = set()
    for name in skeleton.order:
        joint = joint_by_name(name)
        if joint is not None and joint not in taken:
            mapping[name] = joint
            taken.add(joint)
    _map_spine(skeleton, mapping)
    return mapping


def _bone_of(mapping: Mapping, joint: str) -> str | None:
    return next((b for b, j in mapping.items() if j == joint), None)


def _map_spine(skeleton: Skeleton, mapping: Mapping) -> None:
    """The bones between the pelvis and the neck: three take spine1-3; another count is left to the solver
    (it spreads the source's spine over them by their length along the chain)."""
    pelvis, neck = _bone_of(mapping, "pelvis"), _bone_of(mapping, "neck")
    if pelvis is None or neck is None:
        return
    path = skeleton.path(pelvis, neck)
    if path is None:
        return
    inner = path[1:-1]
    for name in inner:
        if mapping.get(name, "").startswith("spine"):
            del mapping[name]
    if len(inner) == 3:
        for name, joint in zip(inner, ("spine1", "spine2", "spine3")):
            mapping[name] = joint


def _deepest_chain(skeleton: Skeleton, start: str) -> list[str]:
    """From ``start`` down through the child with the biggest subtree (twist leaves are skipped)."""
    chain = [start]
    while skeleton.children[chain[-1]]:
        chain.append(max(skeleton.children[chain[-1]], key=skeleton.subtree_size))
    return chain


def _hips(skeleton: Skeleton) -> str | None:
    """The first bone from the top where the body branches into three or more big subtrees (legs, spine)."""
    roots = [n for n in skeleton.order if skeleton.parent(n) is None]
    if not roots:
        return None
    name = max(roots, key=skeleton.subtree_size)
    while True:
        big = [c for c in skeleton.children[name] if skeleton.subtree_size(c) >= 3]
        if len(big) >= 3:
            return name
        if not skeleton.children[name]:
            return None
        name = max(skeleton.children[name], key=skeleton.subtree_size)


def map_by_topology(skeleton: Skeleton, mapping: Mapping | None = None) -> Mapping:
    """Fill in the body's main joints from the skeleton's shape where ``mapping`` lacks them.

    The hips are where the body branches into legs (going down) and the spine
    (going up); the chest where the spine branches into the arms and the neck.
    Left is the body's left: up (hips to head) crossed with forward (the toes'
    direction; -Y when there are none, Blender's front).
    """
    mapping = dict(mapping or {})
    hips = _bone_of(mapping, "pelvis") or _hips(skeleton)
    if hips is None:
        return mapping
    z = skeleton.head(hips)[2]
    branches = [c for c in skeleton.children[hips] if skeleton.subtree_size(c) >= 3]
    ends = {c: skeleton.head(_deepest_chain(skeleton, c)[-1]) for c in branches}
    spine = max(branches, key=lambda c: ends[c][2] - z)
    legs = sorted((c for c in branches if c != spine), key=lambda c: ends[c][2])[:2]
    leg_chains = [_deepest_chain(skeleton, leg) for leg in legs]
    forward: Vec = (0.0, -1.0, 0.0)
    if leg_chains and len(leg_chains[0]) >= 4:
        toe = _sub(skeleton.head(leg_chains[0][3]), skeleton.head(leg_chains[0][2]))
        if _length((toe[0], toe[1], 0.0)) > 1e-6:
            forward = (toe[0], toe[1], 0.0)
    up: Vec = (0.0, 0.0, 1.0)
    left = _cross(up, forward)
    mid = skeleton.head(hips)

    def side(chain: list[str]) -> str:
        return "left" if _dot(_sub(skeleton.head(chain[-1]), mid), left) > 0 else "right"

    def put(bone: str, joint: str) -> None:
        if bone not in mapping and joint not in mapping.values():
            mapping[bone] = joint

    put(hips, "pelvis")
    for chain in leg_chains:
        for bone, part in zip(chain, ("hip", "knee", "ankle", "foot")):
            put(bone, f"{side(chain)}_{part}")
    trunk = _deepest_chain(skeleton, spine)
    chest = next((n for n in trunk if len([c for c in skeleton.children[n]
                                           if skeleton.subtree_size(c) >= 2]) >= 3), None)
    if chest is None:
        return mapping
    arms = [c for c in skeleton.children[chest] if skeleton.subtree_size(c) >= 2]
    neck = max(arms, key=lambda c: skeleton.head(_deepest_chain(skeleton, c)[-1])[2])
    put(neck, "neck")
    neck_chain = _deepest_chain(skeleton, neck)
    if len(neck_chain) >= 2:
        put(neck_chain[-1] if len(neck_chain) == 2 else neck_chain[1], "head")
    for arm in (c for c in arms if c != neck):
        chain = _arm_chain(skeleton, arm)
        parts = ("collar", "shoulder", "elbow", "wrist") if len(chain) >= 4 else ("shoulder", "elbow", "wrist")
        for bone, part in zip(chain, parts):
            put(bone, f"{side(chain)}_{part}")
        _map_fingers(skeleton, chain[-1], side(chain), forward, put)
    _map_spine(skeleton, mapping)
    return mapping


def _arm_chain(skeleton: Skeleton, start: str) -> list[str]:
    """From the collar (or upper arm) to the hand: the hand is the first bone with two or more children."""
    chain = [start]
    while len(skeleton.children[chain[-1]]) == 1 and len(chain) < 4:
        chain.append(skeleton.children[chain[-1]][0])
    return chain


def _map_fingers(skeleton: Skeleton, hand: str, side: str, forward: Vec, put) -> None:
    """Five finger chains of 3 or more bones, thumb to pinky by how far forward their bases are."""
    fingers = [c for c in skeleton.children[hand] if len(_deepest_chain(skeleton, c)) >= 3]
    if len(fingers) != 5:
        return
    fingers.sort(key=lambda c: -_dot(skeleton.head(c), forward))
    for finger, base in zip(FINGERS, fingers):
        for k, bone in enumerate(_deepest_chain(skeleton, base)[:3], start=1):
            put(bone, f"{side}_{finger}{k}")


def auto_map(bones: Sequence[RestBone], presets: Iterable[tuple[str, Mapping]] = ()) -> tuple[str, Mapping]:
    """(what was used, mapping) for ``bones``: a built-in preset whose bones the rig has, else names and shape.

    A preset counts when the rig has at least 90% of its bones (under their
    names or without a ``namespace:`` prefix).
    """
    skeleton = Skeleton(bones)
    for name, preset in presets:
        found = resolve_preset(preset, skeleton.bones)
        if len(found) >= 0.9 * len(preset):
            return name, found
    return "auto", map_by_topology(skeleton, map_by_names(skeleton))


def resolve_preset(preset: Mapping, bone_names: Iterable[str]) -> Mapping:
    """A preset's entries the rig has: exact names first, then names without their ``namespace:`` prefix."""
    names = list(bone_names)
    plain = {_NAMESPACE.sub("", n): n for n in names}
    present = set(names)
    out: Mapping = {}
    for bone, joint in preset.items():
        if bone in present:
            out[bone] = joint
        elif _NAMESPACE.sub("", bone) in plain:
            out[plain[_NAMESPACE.sub("", bone)]] = joint
    return out


def check_mapping(mapping: Mapping, bone_names: Iterable[str]) -> list[str]:
    """What is wrong with ``mapping`` for a rig with ``bone_names``, for the user (empty when fine)."""
    names = set(bone_names)
    problems = [f"the rig has no bone '{b}'" for b in mapping if b not in names]
    problems += [f"'{j}' (for bone '{b}') is not an SMPL-X joint" for b, j in mapping.items() if j not in JOINT_NAMES]
    seen: dict[str, str] = {}
    for bone, joint in mapping.items():
        if joint in seen:
            problems.append(f"'{joint}' is mapped twice ('{seen[joint]}' and '{bone}')")
        seen[joint] = bone
    if "pelvis" not in seen:
        problems.append("no bone takes the pelvis (the root of the motion)")
    return problems
