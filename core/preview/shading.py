"""Face colours and the flat shader (numpy; the shader also runs on torch tensors).

Flat Lambert shading with a light at the camera: a face's brightness is
``ambient + diffuse * |cos|`` of the angle between its normal and the ray
from the camera to it, so the body reads as a solid without any light set-up.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..skeleton import JOINT_INDEX, NUM_JOINTS, PARENTS
from .raster import Fragments
from .settings import ShadingSettings

PART_COLORS: dict[str, tuple[float, float, float]] = {
    "torso": (0.80, 0.80, 0.82),
    "head": (0.95, 0.80, 0.60),
    "left_arm": (0.35, 0.60, 0.95),
    "right_arm": (0.95, 0.55, 0.30),
    "left_hand": (0.55, 0.80, 1.00),
    "right_hand": (1.00, 0.75, 0.45),
    "left_leg": (0.30, 0.45, 0.85),
    "right_leg": (0.85, 0.40, 0.25),
}
"""RGB 0..1 per body part: the subject's left in blues, right in oranges."""

_PART_ROOTS = {  # the joint whose subtree makes the part (first match walking up wins)
    "left_collar": "left_arm", "right_collar": "right_arm",
    "left_wrist": "left_hand", "right_wrist": "right_hand",
    "left_hip": "left_leg", "right_hip": "right_leg",
    "neck": "head",
}


def joint_parts() -> list[str]:
    """Body part name for each of the 55 joints (SMPL-X order)."""
    parts = []
    for j in range(NUM_JOINTS):
        k, part = j, "torso"
        while k >= 0:
            name = _JOINT_NAMES[k]
            if name in _PART_ROOTS:
                part = _PART_ROOTS[name]
                break
            k = PARENTS[k]
        parts.append(part)
    return parts


_JOINT_NAMES = {i: n for n, i in JOINT_INDEX.items()}


def face_part_colors(faces: np.ndarray, skin_weights: np.ndarray) -> np.ndarray:
    """(F, 3) float32 RGB 0..1: each face coloured by the body part that moves it most.

    ``skin_weights`` (V, 55): a face takes the part of the joint with the
    largest summed weight over its three vertices.
    """
    table = np.array([PART_COLORS[p] for p in joint_parts()], np.float32)  # (55, 3)
    w = np.asarray(skin_weights, np.float32)
    f = np.asarray(faces, np.int64)
    joint = (w[f[:, 0]] + w[f[:, 1]] + w[f[:, 2]]).argmax(axis=1)
    return table[joint]


def confidence_color(confidence: np.ndarray) -> np.ndarray:
    """(T,) confidence 0..1 -> (T, 3) RGB 0..1: red at 0, yellow at 0.5, green at 1."""
    c = np.clip(np.nan_to_num(np.asarray(confidence, np.float32), nan=0.0), 0.0, 1.0)
    red = np.clip(2.0 - 2.0 * c, 0.0, 1.0) * 0.9
    green = np.clip(2.0 * c, 0.0, 1.0) * 0.85
    return np.stack([red, green, np.full_like(c, 0.2)], axis=-1)


def frame_base_colors(base: np.ndarray, confidence: np.ndarray, settings: ShadingSettings) -> np.ndarray:
    """(T, F, 3) float32 unlit face colours for T frames.

    Args:
        base: (F, 3) per-face part colours (used in "part" mode).
        confidence: (T,) per-frame confidence 0..1.
    """
    conf = np.clip(np.nan_to_num(np.asarray(confidence, np.float32), nan=0.0), 0.0, 1.0)
    if settings.colors == "confidence":
        return np.broadcast_to(confidence_color(conf)[:, None, :], (conf.shape[0], base.shape[0], 3))
    if settings.colors != "part":
        raise ValueError(f"unknown colour mode {settings.colors!r}")
    low = max(settings.low_confidence, 1e-6)
    amount = np.clip((low - conf) / low, 0.0, 1.0)[:, None, None] * 0.8  # 0 at the threshold
    return base[None] * (1.0 - amount) + np.asarray(settings.tint, np.float32) * amount


def lambert(verts_cam: np.ndarray, faces: np.ndarray, settings: ShadingSettings) -> np.ndarray:
    """(N, F) float32 brightness per face for (N, V, 3) camera-frame vertices."""
    v = np.asarray(verts_cam, np.float32)
    f = np.asarray(faces, np.int64)
    a, b, c = v[:, f[:, 0]], v[:, f[:, 1]], v[:, f[:, 2]]
    n = np.cross(b - a, c - a)
    ray = a + b + c
    cos = np.abs(np.einsum("nfk,nfk->nf", n, ray))
    norm = np.linalg.norm(n, axis=-1) * np.linalg.norm(ray, axis=-1)
    cos = np.divide(cos, norm, out=np.zeros_like(cos), where=norm > 0)
    return settings.ambient + settings.diffuse * cos


class FlatShader:
    """Fragments + per-face colours -> RGBA images.

    The colour table is looked up with the fragments' own array type, so for
    PyTorch3D it runs on the device and only uint8 images leave it.
    """

    def __init__(self, settings: ShadingSettings = ShadingSettings()) -> None:
        self.settings = settings

    def face_colors(self, verts_cam: np.ndarray, faces: np.ndarray, base: np.ndarray) -> np.ndarray:
        """(N, F, 4) uint8 lit RGBA per face; ``base`` (N, F, 3) unlit RGB 0..1."""
        lit = np.asarray(base, np.float32) * lambert(verts_cam, faces, self.settings)[..., None]
        rgb = np.clip(lit * 255.0 + 0.5, 0, 255).astype(np.uint8)
        alpha = np.full(rgb.shape[:2] + (1,), 255, np.uint8)
        return np.concatenate([rgb, alpha], axis=-1)

    def __call__(self, fragments: Fragments, face_rgba: np.ndarray) -> np.ndarray:
        """(N, H, W, 4) uint8 numpy images; alpha 0 where no face is.

        ``face_rgba``: (N, F, 4) uint8 from :meth:`face_colors`, packed in
        the order of ``fragments.pix_to_face``.
        """
        table = np.concatenate([np.zeros((1, 4), np.uint8), face_rgba.reshape(-1, 4)])
        p2f = fragments.pix_to_face
        if isinstance(p2f, np.ndarray):
            # One 4-byte gather per pixel (RGBA as uint32) is ~3x faster than gathering rows.
            packed = table.view(np.uint32).reshape(-1)
            return packed[p2f + 1].view(np.uint8).reshape(p2f.shape + (4,))
        return _shade_torch(p2f, table)


def _shade_torch(p2f: Any, table: np.ndarray) -> np.ndarray:
    import torch

    lut = torch.as_tensor(table, device=p2f.device)
    return lut[p2f + 1].cpu().numpy()
