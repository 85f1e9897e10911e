"""PyTorch3D rasterizer: the preview's renderer on CUDA (imports torch and pytorch3d).

Batched ``Meshes``, ``faces_per_pixel=1``, no gradients; cameras converted
from OpenCV K and camera-from-world extrinsics with
``pytorch3d.utils.cameras_from_opencv_projection``. Fragments stay on the
device: the shader colours them there and only the uint8 images are copied
back (see ``core.preview.renderer``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import torch
from pytorch3d.renderer import MeshRasterizer, RasterizationSettings
from pytorch3d.structures import Meshes
from pytorch3d.utils import cameras_from_opencv_projection

from .camera import Camera
from .raster import Fragments
from .settings import RasterSettings

log = logging.getLogger(__name__)


def resolve_device(device: str = "auto") -> torch.device:
    """"auto" -> CUDA when available, else CPU; "cpu" / "cuda" as given."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class PyTorch3DRasterizer:
    """PyTorch3D's ``MeshRasterizer`` behind the preview's rasterizer interface.

    Args:
        settings: raster settings (``bin_size`` and ``max_faces_per_bin`` are
            passed to PyTorch3D as they are).
        device: torch device the meshes are rasterized on.
    """

    def __init__(self, settings: RasterSettings = RasterSettings(), device: str | torch.device = "auto") -> None:
        self.settings = settings
        self.device = resolve_device(device) if isinstance(device, str) else device
        self.name = f"pytorch3d ({self.device.type})"

    @torch.no_grad()
    def __call__(self, verts: np.ndarray, faces: np.ndarray, cameras: Sequence[Camera]) -> Fragments:
        N = int(np.shape(verts)[0])
        H, W = self.settings.image_size
        if len(cameras) != N:
            raise ValueError(f"{N} meshes but {len(cameras)} cameras")
        dev = self.device
        v = torch.as_tensor(np.asarray(verts, np.float32), device=dev)
        f = torch.as_tensor(np.asarray(faces, np.int64), device=dev)
        meshes = Meshes(verts=v, faces=f.expand(N, -1, -1))
        R = torch.as_tensor(np.stack([c.R for c in cameras]), dtype=torch.float32, device=dev)
        t = torch.as_tensor(np.stack([c.t for c in cameras]), dtype=torch.float32, device=dev)
        K = torch.as_tensor(np.stack([c.K for c in cameras]), dtype=torch.float32, device=dev)
        size = torch.tensor([tuple(c.image_size) for c in cameras], dtype=torch.float32, device=dev)
        if (size != torch.tensor([H, W], dtype=torch.float32, device=dev)).any():
            raise ValueError(f"camera image sizes must all be the raster size {(H, W)}")
        cams = cameras_from_opencv_projection(R, t, K, size)
        raster = MeshRasterizer(
            cameras=cams,
            raster_settings=RasterizationSettings(
                image_size=(H, W),
                blur_radius=0.0,
                faces_per_pixel=1,
                bin_size=self.settings.bin_size,
                max_faces_per_bin=self.settings.max_faces_per_bin,
                cull_backfaces=self.settings.cull_backfaces,
            ),
        )
        fragments = raster(meshes)
        return Fragments(pix_to_face=fragments.pix_to_face[..., 0], zbuf=fragments.zbuf[..., 0])

    def end_chunk(self) -> str | None:
        """After a chunk: report GPU memory in use, then return cached blocks to the driver."""
        if self.device.type != "cuda":
            return None
        used = torch.cuda.memory_allocated(self.device) / 2**20
        peak = torch.cuda.max_memory_allocated(self.device) / 2**20
        torch.cuda.empty_cache()
        return f"GPU memory in use {used:.0f} MiB (peak {peak:.0f} MiB)"
