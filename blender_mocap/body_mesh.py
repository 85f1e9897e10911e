"""The take's body: skinned mesh, shape keys (betas, expressions, pose correctives) and their keys.

The body (SMPL-X takes) carries shape keys as a TA would set them up: the
Basis is the neutral-shape mesh, one key per beta set to its fitted value,
one key per expression coefficient keyed per frame, and on real SMPL-X (the
user's model file) the 486 pose correctives ``(R_j - I)[a, b]``, driven by
the bone rotations (default) or baked per frame.
"""

from __future__ import annotations

from typing import Any

import bpy
import numpy as np

from ..core.rotations import axis_angle_to_matrix
from . import keying, smplx_rest
from .build_context import BuildContext
from .take_keys import CORRECTIVES_PROP, ROLE, ROLE_BODY

_WEIGHT_EPS = 1e-4
SHAPE_KEY_RANGE = 10.0  # Blender's slider limit for shape-key values
_POSE_KEY_PREFIX = "pose_"


def build_body(ctx: BuildContext, arm_obj: bpy.types.Object) -> bpy.types.Object:
    """The skinned mesh of the motion's rest body, parented to and deformed by ``arm_obj``."""
    motion, name, created = ctx.motion, ctx.name, ctx.created
    verts = np.asarray(motion.v_template, np.float32)
    faces = np.asarray(motion.faces, np.int32)
    mesh = created.add(bpy.data.meshes.new(f"{name}_body"))
    mesh.vertices.add(len(verts))
    mesh.vertices.foreach_set("co", verts.ravel())
    mesh.loops.add(faces.size)
    mesh.loops.foreach_set("vertex_index", faces.ravel())
    mesh.polygons.add(len(faces))
    mesh.polygons.foreach_set("loop_start", np.arange(0, faces.size, 3, dtype=np.int32))
    mesh.update(calc_edges=True)
    mesh.validate()
    mesh.shade_smooth()

    body = created.add(bpy.data.objects.new(f"{name}_body", mesh))
    ctx.collection.objects.link(body)
    body.parent = arm_obj
    body[ROLE] = ROLE_BODY
    modifier = body.modifiers.new("Armature", 'ARMATURE')
    modifier.object = arm_obj

    weights = np.asarray(motion.skin_weights, np.float32)
    for j, joint in enumerate(motion.joint_names):
        group = body.vertex_groups.new(name=joint)
        column = weights[:, j]
        idx = np.flatnonzero(column > _WEIGHT_EPS)
        if idx.size == 0:
            continue
        # VertexGroup.add takes one weight per call: batch vertices sharing a
        # weight (rigid regions are all 1.0), one call per distinct value.
        values, inverse = np.unique(column[idx], return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(values) + 1))
        for k, value in enumerate(values.tolist()):
            group.add(idx[order[bounds[k]:bounds[k + 1]]].tolist(), value, 'REPLACE')
    return body


def add_shape_keys(ctx: BuildContext, body: Any, arm_obj: bpy.types.Object) -> None:
    """Basis = neutral shape, betas at their fitted values, expressions, pose correctives.

    The mesh's own coordinates become the Basis, so with every key at 0 the
    body is the model's neutral template; the beta keys at their fitted
    values give back the fitted ``v_template`` exactly.
    """
    motion, model, correctives = ctx.motion, ctx.model, ctx.options.correctives
    shape_dirs = motion.shape_dirs
    expression_dirs = motion.expression_dirs if motion.expression.shape[1] else None
    posedirs = smplx_rest.pose_dirs(model) if model is not None and correctives != "NONE" else None
    if shape_dirs is None and expression_dirs is None and posedirs is None:
        return
    verts = np.asarray(motion.v_template, np.float64)
    betas = np.asarray(motion.betas, np.float64)
    basis_co = verts - shape_dirs @ betas if shape_dirs is not None else verts
    body.data.vertices.foreach_set("co", basis_co.astype(np.float32).ravel())
    body.shape_key_add(name="Basis", from_mix=False)

    def add(key_name: str, offsets: np.ndarray, limit: float):
        block = body.shape_key_add(name=key_name, from_mix=False)
        block.data.foreach_set("co", (basis_co + offsets).astype(np.float32).ravel())
        block.slider_min, block.slider_max = -limit, limit
        return block

    if shape_dirs is not None:
        for k in range(shape_dirs.shape[2]):
            block = add(f"beta_{k:02d}", shape_dirs[:, :, k], SHAPE_KEY_RANGE)
            block.value = float(np.clip(betas[k], -SHAPE_KEY_RANGE, SHAPE_KEY_RANGE))
    if expression_dirs is not None:
        for k in range(expression_dirs.shape[2]):
            add(f"expression_{k:02d}", expression_dirs[:, :, k], SHAPE_KEY_RANGE)
    if posedirs is None:
        return
    names = tuple(motion.joint_names)
    pose_keys: list[tuple[str, int, int, int]] = []
    # Only directions that move something: real SMPL-X has all 486; others may have fewer.
    active = np.flatnonzero(np.abs(posedirs).max(axis=(0, 1)) > 0.0)
    for index in active.tolist():
        j, rest = divmod(index, 9)
        a, b = divmod(rest, 3)
        key_name = _pose_key_name(names[j + 1], a, b)
        # (R - I) entries lie in [-2, 2].
        add(key_name, posedirs[:, :, index], 2.0)
        pose_keys.append((key_name, j + 1, a, b))
    body[CORRECTIVES_PROP] = correctives
    if correctives == "DRIVERS":
        add_corrective_drivers(body.data.shape_keys, arm_obj, pose_keys, names)


def key_shapes(ctx: BuildContext, body: Any, action: bpy.types.Action,
               frames: np.ndarray) -> bpy.types.Action | None:
    """Key expression (and baked pose-corrective) shape keys of ``body`` for this take."""
    motion = ctx.motion
    key = body.data.shape_keys if body is not None else None
    if key is None:
        return None
    blocks = key.key_blocks
    channels: list[keying.Channel] = []
    E = motion.expression.shape[1]
    expression_names = [f"expression_{k:02d}" for k in range(E)]
    have = [n for n in expression_names if n in blocks]
    if E and len(have) < E:
        ctx.warnings.append(f"the body has {len(have)} of the take's {E} expression shape keys; "
                        "the others are not keyed")
    for k, key_name in enumerate(expression_names):
        if key_name in blocks:
            channels.append((f'key_blocks["{key_name}"].value', 0, "Expression",
                             motion.expression[:, k].astype(np.float64)))
    if body.get(CORRECTIVES_PROP) == "BAKED":
        rotations = motion.joint_rotations()
        feature = np.empty((motion.num_frames, smplx_rest.NUM_POSE_FEATURES), np.float32)
        for a in range(0, motion.num_frames, keying.FRAME_CHUNK):  # float64 matrices for a chunk, not the take
            feature[a:a + keying.FRAME_CHUNK] = smplx_rest.pose_feature(
                axis_angle_to_matrix(rotations[a:a + keying.FRAME_CHUNK].astype(np.float64)))
        for block in blocks:
            index = _pose_key_index(block.name, motion.joint_names)
            if index is not None:
                channels.append((f'key_blocks["{block.name}"].value', 0, "Pose correctives",
                                 feature[:, index]))
    if not channels:
        return None
    shape_action = action
    if not keying.SLOTTED:  # a legacy action animates one ID type
        shape_action = ctx.created.add(bpy.data.actions.new(f"{ctx.name}_shapes"))
        shape_action.use_fake_user = True
    keying.write_fcurves(key, shape_action, channels, frames.astype(np.float64),
                         progress=ctx.keying(0.75, 0.95, f"keying {len(channels)} shape keys"))
    return shape_action


def _pose_key_name(joint: str, a: int, b: int) -> str:
    return f"{_POSE_KEY_PREFIX}{joint}_{a}{b}"


def _pose_key_index(key_name: str, joint_names: tuple[str, ...]) -> int | None:
    """Feature index 9 (j - 1) + 3 a + b of a pose-corrective key name, or None."""
    if not key_name.startswith(_POSE_KEY_PREFIX) or len(key_name) < len(_POSE_KEY_PREFIX) + 4:
        return None
    joint, ab = key_name[len(_POSE_KEY_PREFIX):-3], key_name[-2:]
    if key_name[-3] != "_" or joint not in joint_names or not ab.isdigit():
        return None
    j = joint_names.index(joint)
    a, b = int(ab[0]), int(ab[1])
    if j == 0 or a > 2 or b > 2:
        return None
    return 9 * (j - 1) + 3 * a + b

# Monomials of the bone quaternion (w, x, y, z) and the rotation matrix as
# quadratic forms in them: Q[c, d] = sum_m _Q_FORMS[c, d, m] * monomial_m / |q|^2.
_MONOMIALS = ("w*w", "x*x", "y*y", "z*z", "w*x", "w*y", "w*z", "x*y", "x*z", "y*z")
_Q_FORMS = np.zeros((3, 3, 10))
for (_c, _d), _terms in {
    (0, 0): {0: 1, 1: 1, 2: -1, 3: -1}, (0, 1): {7: 2, 6: -2}, (0, 2): {8: 2, 5: 2},
    (1, 0): {7: 2, 6: 2}, (1, 1): {0: 1, 1: -1, 2: 1, 3: -1}, (1, 2): {9: 2, 4: -2},
    (2, 0): {8: 2, 5: -2}, (2, 1): {9: 2, 4: 2}, (2, 2): {0: 1, 1: -1, 2: -1, 3: 1},
}.items():
    for _m, _v in _terms.items():
        _Q_FORMS[_c, _d, _m] = _v


def corrective_expression(bone_rest: np.ndarray, a: int, b: int) -> str:
    """Driver expression for ``(R - I)[a, b]`` from the bone's quaternion variables w, x, y, z.

    ``R = B Q B^T`` is the joint's rotation in model axes, ``Q`` the
    bone-local rotation of the (not necessarily unit) quaternion and ``B``
    (3, 3) the bone's rest rotation. The result is a ratio of quadratic forms
    with plain numbers, which Blender evaluates as a *simple expression*
    (no Python, works with auto-run scripts off).
    """
    B = np.asarray(bone_rest, np.float64)
    coef = np.einsum("c,d,cdm->m", B[a], B[b], _Q_FORMS)
    if a == b:
        coef[:4] -= 1.0  # minus I: subtract |q|^2 / |q|^2
    terms = [f"{c:+.10f}*{m}" for c, m in zip(coef, _MONOMIALS) if abs(c) > 1e-10]
    numerator = "".join(terms) if terms else "0"
    return f"({numerator})/(w*w+x*x+y*y+z*z+1e-12)"


def add_corrective_drivers(key: bpy.types.Key, arm_obj: bpy.types.Object,
                           pose_keys: list[tuple[str, int, int, int]], names: tuple[str, ...]) -> None:
    """One driver per pose-corrective key: its (R_j - I)[a, b] from the bone's rotation."""
    armature: Any = arm_obj.data
    bones = armature.bones
    for key_name, j, a, b in pose_keys:
        bone = names[j]
        rest = np.array(bones[bone].matrix_local)[:3, :3]
        fcurve: Any = key.driver_add(f'key_blocks["{key_name}"].value')
        for modifier in list(fcurve.modifiers):
            fcurve.modifiers.remove(modifier)
        driver = fcurve.driver
        driver.type = 'SCRIPTED'
        path = f'pose.bones["{bpy.utils.escape_identifier(bone)}"].rotation_quaternion'
        for i, letter in enumerate("wxyz"):
            var = driver.variables.new()
            var.name = letter
            var.type = 'SINGLE_PROP'
            target = var.targets[0]
            target.id_type = 'OBJECT'
            target.id = arm_obj
            target.data_path = f"{path}[{i}]"
        driver.expression = corrective_expression(rest, a, b)

