"""Rasterizer interface and the CPU rasterizer (numpy z-buffer).

A rasterizer turns a batch of posed meshes and one camera per mesh into
:class:`Fragments`: for every pixel, the nearest face and its depth. It is the
first half of a :class:`~core.preview.renderer.MeshRenderer` (the shader is the
second), as in PyTorch3D's ``MeshRenderer(rasterizer, shader)``. Two
implementations share the interface: :class:`CpuRasterizer` here (numpy only)
and ``core.preview.raster_pytorch3d.PyTorch3DRasterizer``.

Why a numpy z-buffer for the CPU path: PyTorch3D's CPU kernel tests every face
against every pixel (DESIGN.md: over 20 s for one 512 px image of a 20k-face
body), and a painter's algorithm with OpenCV's ``fillConvexPoly`` needs one
Python call per face (~10k calls a frame) and gets intersecting parts wrong.
Body triangles cover a few pixels each, so testing each face only against the
pixels of its own bounding box is cheap when it is vectorised: faces are
grouped by bounding-box size, every group is one set of array operations, and
the z-test is a single ``np.maximum.at`` over (depth, face) keys packed into
int64. Depth is interpolated as 1/z, which is affine in screen space, so the
result is perspective-correct like PyTorch3D's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .camera import Camera
from .settings import RasterSettings


@dataclass
class Fragments:
    """Per-pixel output of a rasterizer for a batch of N images.

    Attributes:
        pix_to_face: (N, H, W) int64, index of the nearest face in the packed
            face list (image n, face f -> ``n * F + f``), -1 where no face is.
            A numpy array (CPU rasterizer) or a torch tensor on the
            rasterizer's device (PyTorch3D).
        zbuf: (N, H, W) float32 camera-space depth (z, metres) of that face at
            the pixel centre, -1 where no face is. Same array type.
    """

    pix_to_face: Any
    zbuf: Any


class Rasterizer(Protocol):
    """What every rasterizer offers (see the module docstring)."""

    name: str
    """Shown in the log: which renderer drew the preview."""
    settings: RasterSettings

    def __call__(self, verts: np.ndarray, faces: np.ndarray, cameras: Sequence[Camera]) -> Fragments:
        """Rasterize N meshes sharing ``faces``.

        Args:
            verts: (N, V, 3) float32 world-frame vertices, metres.
            faces: (F, 3) int vertex indices, counter-clockwise seen from outside.
            cameras: N cameras, one per mesh; their ``image_size`` must equal
                ``settings.image_size``.
        """
        ...


class CpuRasterizer:
    """Numpy z-buffer rasterizer; see the module docstring for how and why.

    Pixel (i, j) is sampled at its centre (u, v) = (j + 0.5, i + 0.5) in the
    camera's pixel coordinates, the convention of ``core.preview.camera`` and
    of PyTorch3D's ``cameras_from_opencv_projection``.
    """

    name = "cpu (numpy z-buffer)"

    def __init__(self, settings: RasterSettings = RasterSettings()) -> None:
        self.settings = settings

    def __call__(self, verts: np.ndarray, faces: np.ndarray, cameras: Sequence[Camera]) -> Fragments:
        verts = np.asarray(verts, np.float32)
        faces = np.asarray(faces, np.int64)
        N = verts.shape[0]
        H, W = self.settings.image_size
        if len(cameras) != N:
            raise ValueError(f"{N} meshes but {len(cameras)} cameras")
        p2f = np.empty((N, H, W), np.int64)
        zbuf = np.empty((N, H, W), np.float32)
        for n, cam in enumerate(cameras):
            if tuple(cam.image_size) != (H, W):
                raise ValueError(f"camera image size {cam.image_size} != raster size {(H, W)}")
            face, depth = rasterize_one(cam.to_camera(verts[n]), faces, cam.K, (H, W),
                                        cull_backfaces=self.settings.cull_backfaces,
                                        z_near=self.settings.z_near)
            p2f[n] = np.where(face >= 0, face + n * faces.shape[0], -1)
            zbuf[n] = depth
        return Fragments(pix_to_face=p2f, zbuf=zbuf)


def rasterize_one(
    verts_cam: np.ndarray,
    faces: np.ndarray,
    K: np.ndarray,
    image_size: tuple[int, int],
    *,
    cull_backfaces: bool = True,
    z_near: float = 1e-3,
) -> tuple[np.ndarray, np.ndarray]:
    """Rasterize one mesh given in the camera frame.

    Args:
        verts_cam: (V, 3) vertices in the OpenCV camera frame, metres.
        faces: (F, 3) int vertex indices.
        K: (3, 3) intrinsics, pixels.
        image_size: (H, W).

    Returns:
        face (H, W) int64 index into ``faces`` of the nearest face, -1 where
        empty; depth (H, W) float32 camera z of that face, -1 where empty.
    """
    H, W = image_size
    v = np.asarray(verts_cam, np.float64)
    z = v[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        u = (K[0, 0] * v[:, 0] + K[0, 1] * v[:, 1]) / z + K[0, 2]
        w = K[1, 1] * v[:, 1] / z + K[1, 2]
    fz = z[faces]
    ok = (fz > z_near).all(axis=1)
    fu, fw = u[faces], w[faces]
    # Pixels whose centre (j + 0.5) lies within the face's extent.
    x0 = np.ceil(np.nan_to_num(fu.min(axis=1), nan=0.0) - 0.5)
    x1 = np.floor(np.nan_to_num(fu.max(axis=1), nan=-1.0) - 0.5)
    y0 = np.ceil(np.nan_to_num(fw.min(axis=1), nan=0.0) - 0.5)
    y1 = np.floor(np.nan_to_num(fw.max(axis=1), nan=-1.0) - 0.5)
    x0, y0 = np.maximum(x0, 0), np.maximum(y0, 0)
    x1, y1 = np.minimum(x1, W - 1), np.minimum(y1, H - 1)
    ok &= (x1 >= x0) & (y1 >= y0)
    # Twice the signed screen area. Negative = counter-clockwise in the world
    # seen from the camera (front-facing): u right, v down flips the winding.
    area2 = (fu[:, 1] - fu[:, 0]) * (fw[:, 2] - fw[:, 0]) - (fu[:, 2] - fu[:, 0]) * (fw[:, 1] - fw[:, 0])
    ok &= (area2 < 0) if cull_backfaces else (area2 != 0)
    sel = np.flatnonzero(ok)

    buf = np.full(H * W, -1, np.int64)
    if sel.size:
        _fill(buf, sel, fu[sel], fw[sel], fz[sel], area2[sel],
              x0[sel].astype(np.int64), y0[sel].astype(np.int64),
              x1[sel].astype(np.int64), y1[sel].astype(np.int64), W)
    hit = buf >= 0
    face = np.where(hit, buf & 0xFFFFFFFF, -1).reshape(H, W)
    inv_z = (buf >> 32).astype(np.int32).view(np.float32)
    depth = np.full(H * W, -1.0, np.float32)
    depth[hit] = 1.0 / inv_z[hit]
    return face, depth.reshape(H, W)


def _fill(buf: np.ndarray, face_ids: np.ndarray, fu: np.ndarray, fw: np.ndarray, fz: np.ndarray,
          area2: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, W: int) -> None:
    """Z-test every face against the pixels of its bounding box, into ``buf``.

    ``buf`` (H * W,) int64 holds per pixel ``(bits of 1/z as int32) << 32 | face``;
    positive float32 bit patterns order like the floats, so the largest key
    is the nearest face and one ``np.maximum.at`` is the whole z-test.
    """
    # Barycentric coordinates as affine functions of the pixel centre, in
    # coordinates local to each box (x - x0): small numbers keep float32
    # evaluation exact enough that neighbouring faces leave no cracks.
    lu = fu - x0[:, None]
    lw = fw - y0[:, None]
    inv = 1.0 / area2
    a0 = (lw[:, 1] - lw[:, 2]) * inv
    b0 = (lu[:, 2] - lu[:, 1]) * inv
    c0 = (lu[:, 1] * lw[:, 2] - lu[:, 2] * lw[:, 1]) * inv
    a1 = (lw[:, 2] - lw[:, 0]) * inv
    b1 = (lu[:, 0] - lu[:, 2]) * inv
    c1 = (lu[:, 2] * lw[:, 0] - lu[:, 0] * lw[:, 2]) * inv
    iz = 1.0 / fz
    d0, d1 = iz[:, 0] - iz[:, 2], iz[:, 1] - iz[:, 2]
    # 1/z = 1/z2 + l0 (1/z0 - 1/z2) + l1 (1/z1 - 1/z2): affine in the pixel too.
    da, db, dc = a0 * d0 + a1 * d1, b0 * d0 + b1 * d1, iz[:, 2] + c0 * d0 + c1 * d1
    coeffs = np.stack([a0, b0, c0, a1, b1, c1, da, db, dc], axis=1).astype(np.float32)
    bw, bh = x1 - x0, y1 - y0  # box size - 1
    # Group faces by box size (powers of two per axis): one set of array
    # operations per group; a body at 512 px has a handful of groups.
    gx = np.ceil(np.log2(bw + 1.0)).astype(np.int64)
    gy = np.ceil(np.log2(bh + 1.0)).astype(np.int64)
    group = gx * 64 + gy
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    keys, pixels = [], []
    for idx in np.split(order, bounds):
        sx, sy = 1 << int(gx[idx[0]]), 1 << int(gy[idx[0]])
        ox = np.tile(np.arange(sx, dtype=np.float32), sy)
        oy = np.repeat(np.arange(sy, dtype=np.float32), sx)
        c = coeffs[idx]
        px, py = ox + 0.5, oy + 0.5
        l0 = c[:, 0:1] * px + c[:, 1:2] * py + c[:, 2:3]
        l1 = c[:, 3:4] * px + c[:, 4:5] * py + c[:, 5:6]
        inside = (l0 >= 0) & (l1 >= 0) & (l0 + l1 <= 1)
        inside &= (ox <= bw[idx, None]) & (oy <= bh[idx, None])
        fi, ci = np.nonzero(inside)
        if fi.size == 0:
            continue
        inv_z = c[fi, 6] * px[ci] + c[fi, 7] * py[ci] + c[fi, 8]
        inv_z = np.maximum(inv_z, np.float32(1e-30))  # stays positive: keys must be >= 0
        keys.append((inv_z.view(np.int32).astype(np.int64) << 32) | face_ids[idx[fi]])
        pixels.append((y0[idx[fi]] + oy[ci].astype(np.int64)) * W + x0[idx[fi]] + ox[ci].astype(np.int64))
    if keys:
        np.maximum.at(buf, np.concatenate(pixels), np.concatenate(keys))
