"""Quick-look previews: the fitted body rendered over the video, as an MP4.

Importing this package is light (numpy only). The renderer is composable like
PyTorch3D's: ``MeshRenderer(rasterizer, FlatShader(...))`` with a PyTorch3D
rasterizer (``core.preview.raster_pytorch3d``, imports torch/pytorch3d; the
path on CUDA) or the numpy ``CpuRasterizer`` (``core.preview.raster``), picked
by ``make_renderer``. ``render_preview`` (``core.preview.job``) is the job
behind ``python -m core preview``.
"""

from .camera import Camera, look_at_opencv, second_view_camera
from .raster import CpuRasterizer, Fragments, Rasterizer
from .renderer import MeshRenderer, make_renderer
from .settings import PreviewSettings, RasterSettings, ShadingSettings
from .shading import FlatShader

__all__ = [
    "Camera", "CpuRasterizer", "FlatShader", "Fragments", "MeshRenderer", "PreviewSettings",
    "RasterSettings", "Rasterizer", "ShadingSettings", "look_at_opencv", "make_renderer",
    "second_view_camera",
]
