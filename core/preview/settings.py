"""Settings of the preview renderer and of a preview job (frozen dataclasses, no heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..motion import LOW_CONFIDENCE

RENDERERS = ("auto", "pytorch3d", "cpu")
LAYOUTS = ("overlay", "side-by-side")
SECOND_VIEWS = ("side", "top")
COLOR_MODES = ("part", "confidence")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class RasterSettings:
    """How a batch of meshes becomes per-pixel face indices (both rasterizers).

    Attributes:
        image_size: (height, width) of every image in the batch, pixels.
        cull_backfaces: skip faces turned away from the camera (counter-clockwise
            seen from outside is front). A closed body looks the same either
            way; culling halves the work.
        z_near: faces with a vertex closer to the camera than this (metres) are
            not drawn (no near-plane clipping: a quick look, not a film render).
        bin_size: PyTorch3D only: coarse-to-fine bin size in pixels; None lets
            PyTorch3D choose, 0 is its naive rasterizer (the only one its CPU
            build implements, whatever is set here).
        max_faces_per_bin: PyTorch3D only: faces a bin may hold; None lets
            PyTorch3D choose. Too small a value drops faces (PyTorch3D warns).
    """

    image_size: tuple[int, int] = (256, 256)
    cull_backfaces: bool = True
    z_near: float = 1e-3
    bin_size: int | None = None
    max_faces_per_bin: int | None = None


@dataclass(frozen=True)
class ShadingSettings:
    """How faces are coloured: flat Lambert shading under a light at the camera.

    Attributes:
        colors: "part" (one colour per body part: torso, head, each arm, hand
            and leg) or "confidence" (the whole body green at confidence 1,
            through yellow to red at 0).
        ambient: brightness of a face seen edge-on, 0..1.
        diffuse: extra brightness of a face seen head-on, 0..1 (ambient +
            diffuse <= 1 keeps colours unsaturated).
        low_confidence: frames whose confidence is below this are tinted with
            ``tint`` in "part" mode (in proportion to how far below they are).
        tint: RGB 0..1 colour low-confidence frames are pulled towards.
        background: RGB 0..255 of pixels no face covers in views without video.
    """

    colors: str = "part"
    ambient: float = 0.35
    diffuse: float = 0.65
    low_confidence: float = LOW_CONFIDENCE
    tint: tuple[float, float, float] = (1.0, 0.15, 0.1)
    background: tuple[int, int, int] = (40, 40, 46)


@dataclass(frozen=True)
class PreviewSettings:
    """What a preview job draws. Every field has a CLI flag (``python -m core preview``).

    Attributes:
        out: MP4 to write; None writes ``<motion stem>.preview.mp4`` next to
            the motion file.
        video: the video to draw over; None uses the motion file's
            ``source_video``.
        resolution: longer side of each view in pixels; None keeps the
            video's size (the side-by-side output is twice as wide).
        start, end: video frame range, 0-based, end exclusive (None: all the
            frames the motion holds).
        stride: draw every ``stride``-th frame of the motion.
        layout: "overlay" (body over the video) or "side-by-side" (overlay on
            the left, a fixed second view on the right so depth errors show).
        second_view: "side" or "top": the fixed camera of the right-hand view.
        opacity: 0..1, how opaque the body is over the video.
        shading: face colours and light (see :class:`ShadingSettings`).
        landmarks: draw the 2D landmarks stored in the motion file on top.
        frame_numbers: burn the video frame number into each frame.
        renderer: "auto" (PyTorch3D on CUDA, else the CPU renderer), "pytorch3d"
            or "cpu".
        device: torch device for PyTorch3D: "auto" (CUDA when available),
            "cpu" or "cuda".
        chunk_size: frames rendered per batch; memory stays flat for any clip
            length because each chunk is written and dropped before the next.
    """

    out: Path | None = None
    video: Path | None = None
    resolution: int | None = 960
    start: int = 0
    end: int | None = None
    stride: int = 1
    layout: str = "overlay"
    second_view: str = "side"
    opacity: float = 0.6
    shading: ShadingSettings = ShadingSettings()
    landmarks: bool = False
    frame_numbers: bool = True
    renderer: str = "auto"
    device: str = "auto"
    chunk_size: int = 8
