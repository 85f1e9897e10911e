"""Pinhole cameras for the preview, in the OpenCV convention (numpy only).

Frames: a camera maps world points X to its own frame by ``x_cam = R @ X + t``
(camera-from-world, OpenCV: x right, y down, z forward). ``K`` maps camera
points to pixels: ``(u, v) = (fx x / z + cx, fy y / z + cy)``.

Pixel convention (the engine's, MediaPipe's and PyTorch3D's
``cameras_from_opencv_projection``): pixel column ``j`` covers
``u in [j, j + 1)`` and is sampled at its centre ``u = j + 0.5``; the image
centre of a W x H image is ``(W / 2, H / 2)``. Scaling an image by ``s`` is then
exactly ``K' = diag(s, s, 1) @ K``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    """One pinhole view.

    Attributes:
        K: (3, 3) float64 intrinsics, pixels.
        R: (3, 3) float64 camera-from-world rotation.
        t: (3,) float64 camera-from-world translation, metres.
        image_size: (height, width) in pixels of the image this camera renders.
    """

    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    image_size: tuple[int, int]

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) world points -> (..., 3) camera-frame points (same dtype)."""
        pts = np.asarray(points)
        R = self.R.astype(pts.dtype if pts.dtype == np.float32 else np.float64)
        return pts @ R.T + self.t.astype(R.dtype)

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) world points -> (..., 2) pixels (u right, v down)."""
        uvw = self.to_camera(np.asarray(points, np.float64)) @ self.K.T
        return uvw[..., :2] / uvw[..., 2:3]

    def scaled(self, scale: float, image_size: tuple[int, int]) -> "Camera":
        """The same view rendered at ``scale`` times the pixel size, ``image_size`` = (h, w)."""
        S = np.diag([scale, scale, 1.0])
        return Camera(K=S @ self.K, R=self.R, t=self.t, image_size=image_size)


def look_at_opencv(eye: np.ndarray, target: np.ndarray, up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera-from-world (R (3, 3), t (3,)) of an OpenCV camera at ``eye`` looking at ``target``.

    ``up`` is the world direction that appears up in the image (image y points
    the other way). ``up`` must not be parallel to the viewing direction.
    """
    eye = np.asarray(eye, np.float64)
    forward = np.asarray(target, np.float64) - eye
    forward /= np.linalg.norm(forward)
    down = -np.asarray(up, np.float64)
    down = down - forward * np.dot(down, forward)
    down /= np.linalg.norm(down)
    right = np.cross(down, forward)  # x = y cross z for a right-handed (x, y, z)
    R = np.stack([right, down, forward])
    return R, -R @ eye


def second_view_camera(main: Camera, points: np.ndarray, world_up: np.ndarray, kind: str = "side",
                       margin: float = 0.15) -> Camera:
    """A fixed camera beside (``"side"``) or above (``"top"``) the body, framing ``points``.

    Args:
        main: the video's camera; the side camera looks across its viewing
            direction (so the main camera's depth runs left-right in the image),
            the top camera looks down with the main camera's forward pointing up
            in the image.
        points: (N, 3) world points the view must hold for the whole clip
            (posed joints of every frame), metres.
        world_up: (3,) up direction of the world frame.
        kind: "side" or "top".
        margin: extra border as a fraction of the framed extent.

    Same K focal convention and image size as ``main``. The camera keeps still
    over the clip so that motion in depth is visible as motion in the image.
    """
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    pts = pts[np.isfinite(pts).all(axis=1)]
    up = np.asarray(world_up, np.float64)
    up = up / np.linalg.norm(up)
    cam_forward = main.R[2]  # main camera's viewing direction in world axes
    cam_forward = cam_forward - up * np.dot(cam_forward, up)
    if np.linalg.norm(cam_forward) < 1e-6:  # main camera looks straight down/up
        cam_forward = main.R[1] - up * np.dot(main.R[1], up)
    cam_forward /= np.linalg.norm(cam_forward)
    side = np.cross(up, cam_forward)  # to the main camera's left or right, horizontal
    side /= np.linalg.norm(side)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = 0.5 * (lo + hi)
    if kind == "side":
        direction, image_up = -side, up  # stand on the +side, look back at the body
    elif kind == "top":
        direction, image_up = -up, cam_forward
    else:
        raise ValueError(f"unknown second view {kind!r}: use 'side' or 'top'")
    R_tmp, _ = look_at_opencv(centre - direction, centre, image_up)
    local = (pts - centre) @ R_tmp.T  # extent in the new camera's axes
    half_w = np.abs(local[:, 0]).max() + 1e-3
    half_h = np.abs(local[:, 1]).max() + 1e-3
    depth_half = np.abs(local[:, 2]).max()
    h, w = main.image_size
    f = min(main.K[0, 0], main.K[1, 1])
    # distance at which the extent (plus margin) fits both image axes
    dist = (1.0 + margin) * max(f * half_w / (0.5 * w), f * half_h / (0.5 * h)) + depth_half
    eye = centre - direction * dist
    R, t = look_at_opencv(eye, centre, image_up)
    K = np.array([[f, 0.0, w / 2.0], [0.0, f, h / 2.0], [0.0, 0.0, 1.0]])
    return Camera(K=K, R=R, t=t, image_size=(h, w))
