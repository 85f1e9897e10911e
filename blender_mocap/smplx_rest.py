"""SMPL-X rest data from the user's model file, numpy only (no torch, no bpy).

AMASS files carry poses and betas but no rest skeleton or mesh; captures with
SMPL-X carry the fitted mesh but not the pose correctives. Both come from the
user's SMPL-X model file (``core.body.smplx_file`` loads it safely) with the
same arithmetic the smplx library uses:

- shape space: ``shapedirs[..., :B]`` for the betas; the expression space is
  ``shapedirs[..., 300:300 + E]`` in the 400-direction releases and
  ``shapedirs[..., 10:10 + E]`` in the older 10 + 10 layout (smplx's rule:
  fewer than 400 directions means the old layout, where only 10 are shape);
- fitted rest mesh ``v_shaped = v_template + shape_dirs @ betas`` and rest
  joints ``J_regressor @ v_shaped`` (model frame: Y up, facing +Z, metres);
- pose correctives: ``posedirs`` (V, 3, 486) weighted by the pose feature
  ``(R_j - I)`` of joints 1..54, row-major, added to the rest mesh before
  skinning.

Expression offsets are applied to the vertices only: a Blender rest skeleton
cannot move per frame, while smplx also regresses the joints from the
expression-deformed mesh (a face-only, millimetre-scale difference).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ..core.body.smplx_file import find_model_file, load_model_arrays
from ..core.errors import MocapError
from ..core.motion import Motion
from ..core.skeleton import NUM_JOINTS

SHAPE_SPACE_DIM = 300
"""Shape directions before the expression block in the 400-direction SMPL-X releases."""
NUM_POSE_FEATURES = 9 * (NUM_JOINTS - 1)  # 486


@dataclasses.dataclass(frozen=True)
class SmplxRest:
    """The rest data of one SMPL-X body for one set of betas (model frame, metres).

    Attributes:
        v_template: (V, 3) float32 fitted-shape rest mesh.
        faces: (F, 3) int32 triangles.
        skin_weights: (V, 55) float32 LBS weights.
        rest_joints: (55, 3) float32 rest joints regressed from ``v_template``.
        shape_dirs: (V, 3, B) float32 shape directions of the betas used.
        expression_dirs: (V, 3, E) float32 expression directions.
        warnings: what the user should know (e.g. betas the model cannot hold).
    """

    v_template: np.ndarray
    faces: np.ndarray
    skin_weights: np.ndarray
    rest_joints: np.ndarray
    shape_dirs: np.ndarray
    expression_dirs: np.ndarray
    warnings: tuple[str, ...] = ()


def load_model(folder: str | Path, gender: str) -> tuple[dict[str, np.ndarray], Path]:
    """The SMPL-X arrays for ``gender`` from the user's folder, safely loaded, and the file used.

    Falls back to the neutral model when the gender's file is missing.
    Raises MocapError naming the folder when nothing usable is found.
    """
    if not str(folder).strip():
        raise MocapError(
            "No SMPL-X model folder is set: download SMPL-X from its official site and set "
            "'SMPL-X model folder' in Preferences > Add-ons > blender-mocap."
        )
    try:
        path = find_model_file(folder, gender)
    except MocapError:
        if gender == "neutral":
            raise
        path = find_model_file(folder, "neutral")
    return load_model_arrays(path), path


def shape_space(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(V, 3, S) shape directions and (V, 3, X) expression directions of a model file."""
    dirs = np.asarray(arrays["shapedirs"])
    if dirs.shape[-1] >= SHAPE_SPACE_DIM + 100:
        return dirs[..., :SHAPE_SPACE_DIM], dirs[..., SHAPE_SPACE_DIM:]
    # The 10 shape + 10 expression layout (smplx warns and uses [10:20]).
    return dirs[..., :10], dirs[..., 10:20]


def rest_from_model(arrays: dict[str, np.ndarray], betas: np.ndarray, num_expression: int) -> SmplxRest:
    """Rest mesh, joints, weights and blend shapes for ``betas`` (B,) and E expression coefficients.

    Betas beyond what the model holds are dropped (with a warning when not 0);
    so are expression coefficients.
    """
    shape_all, expr_all = shape_space(arrays)
    betas = np.asarray(betas, np.float64).reshape(-1)
    warnings: list[str] = []
    used = min(betas.size, shape_all.shape[-1])
    if betas.size > used and np.any(np.abs(betas[used:]) > 1e-6):
        warnings.append(f"the SMPL-X model holds {used} shape coefficients; the other "
                        f"{betas.size - used} betas of the file were ignored")
    expressions = min(int(num_expression), expr_all.shape[-1])
    if num_expression > expressions:
        warnings.append(f"the SMPL-X model holds {expressions} expression coefficients; "
                        f"the other {num_expression - expressions} were ignored")
    shape_dirs = np.asarray(shape_all[..., :used], np.float64)
    v_shaped = np.asarray(arrays["v_template"], np.float64) + shape_dirs @ betas[:used]
    joints = np.asarray(arrays["J_regressor"], np.float64) @ v_shaped
    return SmplxRest(
        v_template=v_shaped.astype(np.float32),
        faces=np.asarray(arrays["f"]).astype(np.int32),
        skin_weights=np.asarray(arrays["weights"], np.float32),
        rest_joints=joints.astype(np.float32),
        shape_dirs=shape_dirs.astype(np.float32),
        expression_dirs=np.asarray(expr_all[..., :expressions], np.float32),
        warnings=tuple(warnings),
    )


def pose_dirs(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """(V, 3, 486) float32 pose-corrective directions, feature k = 9 (j - 1) + 3 a + b."""
    dirs = np.asarray(arrays["posedirs"], np.float32)
    return dirs.reshape(dirs.shape[0], 3, NUM_POSE_FEATURES)


def pose_feature(local_rotations: np.ndarray) -> np.ndarray:
    """(..., 55, 3, 3) joint rotations relative to the parent -> (..., 486) ``(R_j - I)``, j >= 1."""
    R = np.asarray(local_rotations, np.float64)[..., 1:, :, :]
    return (R - np.eye(3)).reshape(R.shape[:-3] + (NUM_POSE_FEATURES,))


def complete_motion(motion: Motion, arrays: dict[str, np.ndarray]) -> tuple[Motion, list[str]]:
    """A copy of ``motion`` (e.g. an AMASS file) with the SMPL-X rest data it lacks.

    Betas and expression are cut to what the model holds, so the keyed
    values and the shape keys agree.
    """
    rest = rest_from_model(arrays, motion.betas, motion.expression.shape[1])
    used_betas = rest.shape_dirs.shape[-1]
    used_expr = rest.expression_dirs.shape[-1]
    completed = dataclasses.replace(
        motion,
        betas=np.asarray(motion.betas, np.float32).reshape(-1)[:used_betas],
        expression=np.asarray(motion.expression, np.float32)[:, :used_expr],
        body_model="smplx",
        rest_joints=rest.rest_joints,
        v_template=rest.v_template,
        faces=rest.faces,
        skin_weights=rest.skin_weights,
        shape_dirs=rest.shape_dirs,
        expression_dirs=rest.expression_dirs,
    )
    return completed, list(rest.warnings)
