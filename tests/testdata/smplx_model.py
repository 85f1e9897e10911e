"""A synthetic file in the SMPL-X format, for tests and benches (test data: never the real model, never shipped)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from core.body.mannequin import mesh, rest_joints
from core.body.smplx_file import SMPLX_NUM_FACES, SMPLX_NUM_VERTICES
from core.skeleton import NUM_JOINTS, PARENTS


def write_synthetic_model(path: str | Path, *, num_betas: int = 10, num_expression: int = 10,
                          seed: int = 0, pickled_extras: bool = True) -> Path:
    """Write an SMPL-X-format .npz with synthetic contents and the real keys, shapes and dtypes.

    The body is our mannequin (``core.body.mannequin``) padded to SMPL-X's
    10,475 vertices and 20,908 faces, so the smplx library's fixed vertex ids
    (nose, finger tips ...) index real vertices. Joints are regressed exactly
    to the mannequin's rest joints; ``shapedirs`` holds ``num_betas`` shape
    and ``num_expression`` expression directions (the older 10 + 10 layout
    the smplx library accepts); pose correctives are small. With
    ``pickled_extras`` it also carries a pickled dict member, as real releases
    do, which safe loading must skip.
    """
    rng = np.random.default_rng(seed)
    verts, faces, weights = mesh()
    joints = rest_joints()
    v = np.zeros((SMPLX_NUM_VERTICES, 3))
    w = np.zeros((SMPLX_NUM_VERTICES, NUM_JOINTS))
    n = min(len(verts), SMPLX_NUM_VERTICES)
    v[:n], w[:n] = verts[:n], weights[:n]
    # Padding vertices sit on joints, rigidly bound to them: they move like the skeleton.
    pad = np.arange(n, SMPLX_NUM_VERTICES)
    v[pad] = joints[pad % NUM_JOINTS]
    w[pad, pad % NUM_JOINTS] = 1.0
    f = np.zeros((SMPLX_NUM_FACES, 3), np.int64)
    m = min(len(faces), SMPLX_NUM_FACES)
    f[:m] = faces[:m]
    # Padding faces are degenerate triangles on padding vertices (zero area, invisible).
    extra = np.arange(SMPLX_NUM_FACES - m)
    f[m:] = np.stack([pad[extra % len(pad)]] * 3, axis=1)
    # J_regressor: each joint = the mean of its padding vertices (which sit on it).
    regressor = np.zeros((NUM_JOINTS, SMPLX_NUM_VERTICES))
    for j in range(NUM_JOINTS):
        own = pad[pad % NUM_JOINTS == j]
        regressor[j, own] = 1.0 / len(own)
    # Shape directions: smooth global deformations (scale-like and width-like fields).
    total = num_betas + num_expression
    shapedirs = np.zeros((SMPLX_NUM_VERTICES, 3, total))
    for k in range(total):
        a = rng.normal(size=(3, 3)) * 0.02
        shapedirs[:, :, k] = v @ a.T
    # Pose correctives for the first body joints only (hips, spine): enough to
    # exercise the code path, and mostly zeros so the file compresses to a few MB.
    posedirs = np.zeros((SMPLX_NUM_VERTICES, 3, 9 * (NUM_JOINTS - 1)))
    posedirs[:, :, :27] = rng.normal(size=(SMPLX_NUM_VERTICES, 3, 27)) * 1e-4
    kintree = np.array([[4294967295] + list(PARENTS[1:]), list(range(NUM_JOINTS))], np.int64)
    arrays: dict[str, np.ndarray] = {
        "v_template": v.astype(np.float64),
        "f": f.astype(np.int32),
        "J_regressor": regressor,
        "weights": w,
        "kintree_table": kintree,
        "shapedirs": shapedirs,
        "posedirs": posedirs,
        "hands_componentsl": np.eye(45), "hands_componentsr": np.eye(45),
        "hands_meanl": np.zeros(45), "hands_meanr": np.zeros(45),
        "lmk_faces_idx": np.arange(51, dtype=np.int64),
        "lmk_bary_coords": np.full((51, 3), 1.0 / 3.0),
        "dynamic_lmk_faces_idx": np.zeros((79, 17), np.int64),
        "dynamic_lmk_bary_coords": np.full((79, 17, 3), 1.0 / 3.0),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if pickled_extras:
        arrays["joint2num"] = np.array({"pelvis": 0}, dtype=object)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    return path
