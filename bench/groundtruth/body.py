"""The body that is rendered: tapered capsules and ellipsoids on the BVH rest skeleton (numpy).

Skin, T-shirt, jeans, shoes, hair, eyes, nose and mouth; every part rigidly
skinned to the bone it rides on. The arrays go to the render process
(:mod:`groundtruth.render`), which builds the mesh in Blender and drives it with
the imported BVH armature.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .bvh import Bvh
from .clips import Rig


SKIN = (0.80, 0.58, 0.46)
SHIRT = (0.70, 0.16, 0.14)
JEANS = (0.16, 0.22, 0.40)
SHOES = (0.10, 0.09, 0.08)
HAIR = (0.16, 0.10, 0.06)
EYE_WHITE = (0.92, 0.92, 0.90)
PUPIL = (0.05, 0.04, 0.04)
LIPS = (0.62, 0.30, 0.30)
MATERIALS = {"skin": SKIN, "shirt": SHIRT, "jeans": JEANS, "shoes": SHOES, "hair": HAIR,
             "eye": EYE_WHITE, "pupil": PUPIL, "lips": LIPS}


def _frame_axes(axis: np.ndarray, hint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors perpendicular to ``axis``; the first as close to ``hint`` as possible."""
    u = hint - axis * np.dot(hint, axis)
    if np.linalg.norm(u) < 1e-6:
        u = np.cross(axis, [1.0, 0.0, 0.0] if abs(axis[0]) < 0.9 else [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    return u, np.cross(axis, u)


def capsule(p0, p1, r0, r1, *, hint=(0.0, -1.0, 0.0), squash: float = 1.0, rings: int = 6,
            segments: int = 16) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """A tapered capsule from ``p0`` (radius ``r0``) to ``p1`` (``r1``), closed, quads + pole fans.

    ``squash`` scales the cross-section along the axis-perpendicular direction
    closest to ``hint`` (e.g. the body's front-back depth of the torso).
    """
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    axis = p1 - p0
    length = np.linalg.norm(axis)
    axis = axis / length if length > 1e-9 else np.array([0.0, 0.0, 1.0])
    u, v = _frame_axes(axis, np.asarray(hint, float))
    theta = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    ring_dir = np.cos(theta)[:, None] * u * squash + np.sin(theta)[:, None] * v
    verts = [p0 - axis * r0]
    for k in range(1, rings + 1):  # start cap, pole excluded, equator included
        phi = -np.pi / 2 + k * (np.pi / 2) / rings
        verts.extend(p0 + axis * r0 * np.sin(phi) + r0 * np.cos(phi) * ring_dir)
    for k in range(0, rings):  # end cap, equator included
        phi = k * (np.pi / 2) / rings
        verts.extend(p1 + axis * r1 * np.sin(phi) + r1 * np.cos(phi) * ring_dir)
    verts.append(p1 + axis * r1)
    n_rings = 2 * rings
    faces: list[tuple[int, ...]] = []
    for s in range(segments):
        faces.append((0, 1 + (s + 1) % segments, 1 + s))
    for r in range(n_rings - 1):
        a, b = 1 + r * segments, 1 + (r + 1) * segments
        for s in range(segments):
            s1 = (s + 1) % segments
            faces.append((a + s, a + s1, b + s1, b + s))
    top = len(verts) - 1
    last = 1 + (n_rings - 1) * segments
    for s in range(segments):
        faces.append((last + s, last + (s + 1) % segments, top))
    return np.array(verts), faces


def ellipsoid(centre, radii, axes, **kw) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """An ellipsoid: radii along the three unit ``axes`` (rows)."""
    verts, faces = capsule(np.zeros(3), np.zeros(3) + 1e-9 * np.array([0, 0, 1.0]), 1.0, 1.0,
                           hint=(1.0, 0.0, 0.0), **kw)
    axes = np.asarray(axes, float)
    # unit sphere around the origin, local frame: x = axes[0], y = axes[1], z = axes[2]
    return np.asarray(centre) + (verts * radii) @ axes, faces


@dataclass
class _Skeleton:
    """The rest skeleton (Blender world, metres), the body's directions, and the parts made so far."""

    rest: np.ndarray
    bvh: Bvh
    rig: Rig
    up: np.ndarray
    left: np.ndarray
    forward: np.ndarray
    parts: list[tuple[np.ndarray, list, str, str]] = field(default_factory=list)  # verts, faces, material, bone

    @classmethod
    def on(cls, rest: np.ndarray, bvh: Bvh, rig: Rig) -> _Skeleton:
        up = np.array([0.0, 0.0, 1.0])
        left = rest[bvh.index(rig.limbs["left_hip"])] - rest[bvh.index(rig.limbs["right_hip"])]
        left[2] = 0
        left /= np.linalg.norm(left)
        return cls(rest, bvh, rig, up, left, np.cross(left, up))

    def joint(self, name: str) -> np.ndarray:
        return self.rest[self.bvh.index(name)]

    def limb(self, side: str, joint: str) -> np.ndarray:
        return self.joint(self.rig.limbs[f"{side}_{joint}"])

    def child_of(self, name: str) -> str:
        return [n for n, p in zip(self.bvh.names, self.bvh.parents) if p == self.bvh.index(name)][0]

    def add(self, geom: tuple[np.ndarray, list], material: str, bone: str) -> None:
        self.parts.append((geom[0], geom[1], material, bone))


def build_body(rest: np.ndarray, bvh: Bvh, rig: Rig) -> dict:
    """The body mesh on the rest skeleton (Blender world, metres).

    Returns arrays for the render process: ``verts`` (V, 3), ``faces`` (N, 4)
    int with -1 padding for triangles, ``face_material`` (N,) index into
    ``materials``, ``vert_bone`` (V,) index into ``bones``, ``bones`` names,
    ``materials`` names.
    """
    body = _Skeleton.on(rest, bvh, rig)
    _add_torso(body)
    _add_head(body)
    _add_arms(body)
    _add_legs(body)
    return _mesh_arrays(body.parts)


def _add_torso(body: _Skeleton) -> None:
    """Capsules along the spine, wide and flattened front-back; hips; shoulders."""
    rig, up, depth = body.rig, body.up, -body.forward  # depth: capsule squash hint, front-back
    spine = [body.joint(n) for n in rig.spine]
    hip_l, hip_r = body.limb("left", "hip"), body.limb("right", "hip")
    sh_l, sh_r = body.limb("left", "shoulder"), body.limb("right", "shoulder")
    chest_top = 0.5 * (sh_l + sh_r) - 0.05 * up
    torso_pts = [0.5 * (hip_l + hip_r) + 0.02 * up] + spine[1:-1] + [chest_top]
    torso_bones = list(rig.spine[:-1]) + [rig.spine[-2]]
    radii = np.linspace(0.15, 0.17, len(torso_pts))
    for k in range(len(torso_pts) - 1):
        material = "jeans" if k == 0 else "shirt"
        body.add(capsule(torso_pts[k], torso_pts[k + 1], radii[k], radii[k + 1], hint=depth, squash=0.62),
                 material, torso_bones[k])
    # hips / trousers top
    body.add(capsule(hip_l, hip_r, 0.11, 0.11, hint=depth, squash=0.9), "jeans", rig.pelvis)
    neck_base = body.joint(rig.spine[-1])
    for side, collar in zip(("left", "right"), rig.collars):
        sh = body.limb(side, "shoulder")
        body.add(capsule(neck_base - 0.03 * up + 0.3 * (sh - neck_base), sh, 0.075, 0.065, hint=depth, squash=0.8),
                 "shirt", collar)


def _add_head(body: _Skeleton) -> None:
    """Neck, head, hair, eyes with pupils, brows, ears, nose, lips."""
    rig, up, left, forward = body.rig, body.up, body.left, body.forward
    neck_base = body.joint(rig.spine[-1])
    head_j = body.joint(rig.head)
    body.add(capsule(neck_base, head_j + 0.02 * up, 0.055, 0.05), "skin", rig.neck)
    centre = head_j + 0.10 * up + 0.01 * forward
    axes = np.stack([left, forward, up])
    body.add(ellipsoid(centre, (0.078, 0.095, 0.115), axes), "skin", rig.head)
    body.add(ellipsoid(centre + 0.025 * up - 0.018 * forward, (0.085, 0.09, 0.10), axes), "hair", rig.head)
    for s in (1.0, -1.0):
        eye = centre + 0.03 * s * left + 0.08 * forward + 0.018 * up
        body.add(ellipsoid(eye, (0.014, 0.008, 0.010), axes), "eye", rig.head)
        body.add(ellipsoid(eye + 0.007 * forward, (0.006, 0.004, 0.006), axes), "pupil", rig.head)
        brow = eye + 0.022 * up + 0.002 * forward
        body.add(ellipsoid(brow, (0.018, 0.005, 0.004), axes), "hair", rig.head)
        body.add(ellipsoid(centre + 0.078 * s * left + 0.005 * up, (0.012, 0.022, 0.03), axes), "skin", rig.head)
    body.add(ellipsoid(centre + 0.095 * forward - 0.01 * up, (0.011, 0.02, 0.025), axes), "skin", rig.head)
    body.add(ellipsoid(centre + 0.083 * forward - 0.05 * up, (0.022, 0.008, 0.007), axes), "lips", rig.head)


def _add_arms(body: _Skeleton) -> None:
    """Sleeves, forearms, hands with a thumb."""
    rig, up, forward = body.rig, body.up, body.forward
    for side in ("left", "right"):
        sh, el, wr = (body.limb(side, n) for n in ("shoulder", "elbow", "wrist"))
        body.add(capsule(sh, el, 0.058, 0.045), "shirt", rig.limbs[f"{side}_shoulder"])
        body.add(capsule(el, wr, 0.042, 0.032), "skin", rig.limbs[f"{side}_elbow"])
        d = (wr - el) / np.linalg.norm(wr - el)
        palm_side = np.cross(d, forward)
        palm_side = palm_side / np.linalg.norm(palm_side) if np.linalg.norm(palm_side) > 1e-6 else up
        hand_axes = np.stack([d, np.cross(palm_side, d), palm_side])
        body.add(ellipsoid(wr + 0.085 * d, (0.095, 0.045, 0.022), hand_axes), "skin", rig.limbs[f"{side}_wrist"])
        thumb = wr + 0.04 * d + 0.04 * np.cross(palm_side, d)
        body.add(capsule(thumb, thumb + 0.05 * d + 0.02 * np.cross(palm_side, d), 0.014, 0.011), "skin",
                 rig.limbs[f"{side}_wrist"])


def _add_legs(body: _Skeleton) -> None:
    """Jeans and shoes (heel to toe base, then the toe cap)."""
    rig, up, forward = body.rig, body.up, body.forward
    for k, side in enumerate(("left", "right")):
        hp, kn, an = (body.limb(side, n) for n in ("hip", "knee", "ankle"))
        body.add(capsule(hp, kn, 0.085, 0.058), "jeans", rig.limbs[f"{side}_hip"])
        body.add(capsule(kn, an, 0.055, 0.042), "jeans", rig.limbs[f"{side}_knee"])
        toe = body.joint(rig.toes[k])
        toe_end = body.joint(body.child_of(rig.toes[k]))
        heel = an - 0.05 * forward - 0.04 * up
        body.add(capsule(heel, toe, 0.045, 0.045, hint=up, squash=0.8), "shoes", rig.limbs[f"{side}_ankle"])
        body.add(capsule(toe, toe + 0.6 * (toe_end - toe), 0.042, 0.035, hint=up, squash=0.7), "shoes", rig.toes[k])


def _mesh_arrays(parts: list[tuple[np.ndarray, list, str, str]]) -> dict:
    """The parts as one mesh: see :func:`build_body` for the arrays."""
    materials = list(MATERIALS)
    bones = sorted({p[3] for p in parts})
    verts, faces, face_mat, vert_bone = [], [], [], []
    offset = 0
    for v, f, material, bone in parts:
        verts.append(v)
        faces.extend(tuple(i + offset for i in face) + (-1,) * (4 - len(face)) for face in f)
        face_mat.extend([materials.index(material)] * len(f))
        vert_bone.extend([bones.index(bone)] * len(v))
        offset += len(v)
    return {
        "verts": np.concatenate(verts), "faces": np.array(faces, np.int64),
        "face_material": np.array(face_mat, np.int64), "vert_bone": np.array(vert_bone, np.int64),
        "bones": np.array(bones), "materials": np.array(materials),
        "material_colors": np.array([MATERIALS[m] for m in materials]),
    }
