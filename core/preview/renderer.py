"""The mesh renderer (rasterizer + shader) and the automatic choice of rasterizer."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from ..errors import MocapError
from .camera import Camera
from .raster import CpuRasterizer, Rasterizer
from .settings import DEVICES, RENDERERS, RasterSettings, ShadingSettings
from .shading import FlatShader

log = logging.getLogger("core.preview")


class MeshRenderer:
    """``rasterizer`` then ``shader``, as PyTorch3D's ``MeshRenderer(rasterizer, shader)``.

    Args:
        rasterizer: a :class:`~core.preview.raster.Rasterizer` (CPU or PyTorch3D).
        shader: a :class:`~core.preview.shading.FlatShader`.
    """

    def __init__(self, rasterizer: Rasterizer, shader: FlatShader) -> None:
        self.rasterizer = rasterizer
        self.shader = shader

    @property
    def name(self) -> str:
        return self.rasterizer.name

    def __call__(self, verts: np.ndarray, faces: np.ndarray, cameras: Sequence[Camera],
                 base_colors: np.ndarray) -> np.ndarray:
        """Render N meshes, each through its own camera.

        Args:
            verts: (N, V, 3) float32 world-frame vertices, metres.
            faces: (F, 3) int, counter-clockwise seen from outside.
            cameras: N cameras with the rasterizer's image size.
            base_colors: (N, F, 3) float unlit face colours, RGB 0..1.

        Returns:
            (N, H, W, 4) uint8 RGBA numpy images, alpha 255 on the body, 0 elsewhere.
        """
        verts = np.asarray(verts, np.float32)
        verts_cam = np.stack([c.to_camera(verts[n]) for n, c in enumerate(cameras)])
        face_rgba = self.shader.face_colors(verts_cam, faces, base_colors)
        fragments = self.rasterizer(verts, faces, cameras)
        return self.shader(fragments, face_rgba)

    def end_chunk(self) -> str | None:
        """Release cached device memory after a chunk; returns a line for the log (or None)."""
        end = getattr(self.rasterizer, "end_chunk", None)
        return end() if end is not None else None


def make_renderer(
    renderer: str = "auto",
    device: str = "auto",
    raster: RasterSettings = RasterSettings(),
    shading: ShadingSettings = ShadingSettings(),
) -> tuple[MeshRenderer, str]:
    """Pick the rasterizer: returns the renderer and a sentence for the log saying why.

    ``renderer="auto"``: PyTorch3D on CUDA; the CPU renderer when there is no
    CUDA device or PyTorch3D is not installed (its CPU rasterizer takes
    seconds per frame). ``"pytorch3d"`` forces PyTorch3D (on ``device``),
    ``"cpu"`` the numpy rasterizer.

    Raises:
        MocapError: an unknown name, or PyTorch3D forced but not installed.
    """
    if renderer not in RENDERERS:
        raise MocapError(f"unknown renderer '{renderer}': use one of {', '.join(RENDERERS)}")
    if device not in DEVICES:
        raise MocapError(f"unknown device '{device}': use one of {', '.join(DEVICES)}")
    shader = FlatShader(shading)
    if renderer == "cpu":
        return MeshRenderer(CpuRasterizer(raster), shader), "CPU renderer (numpy z-buffer), as requested"
    try:
        import torch

        cuda = torch.cuda.is_available()
        from .raster_pytorch3d import PyTorch3DRasterizer
    except ImportError as exc:
        if renderer == "pytorch3d":
            raise MocapError(
                f"PyTorch3D is not installed in the engine environment ({exc}). "
                "Install easypytorch3d, or use the CPU renderer (--renderer cpu)."
            ) from exc
        return (MeshRenderer(CpuRasterizer(raster), shader),
                "CPU renderer (numpy z-buffer): PyTorch3D is not installed")
    if device == "cuda" and not cuda:
        raise MocapError("no CUDA device is available: use --device cpu or --device auto")
    if renderer == "auto" and (device == "cpu" or not cuda):
        why = "the device is the CPU" if device == "cpu" else "no CUDA device"
        return (MeshRenderer(CpuRasterizer(raster), shader),
                f"CPU renderer (numpy z-buffer): {why}, and PyTorch3D's CPU rasterizer takes seconds a frame")
    rasterizer = PyTorch3DRasterizer(raster, "cuda" if device == "auto" and cuda else device)
    if rasterizer.device.type == "cpu":
        why = "PyTorch3D on the CPU, as requested (slow: seconds per frame)"
    else:
        why = f"PyTorch3D on {rasterizer.device}"
    return MeshRenderer(rasterizer, shader), why
