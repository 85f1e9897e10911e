"""A synthetic room seen by a pitched and rolled camera: exact gravity for tests (test data: never shipped).

The room's edges (wall corners, wall panel seams, a door frame, a table, a
shelf) are projected with a pinhole camera and drawn with OpenCV on a
textured background; ``blank_picture`` is the same texture with no
structure at all. The camera's pitch and roll follow ``core.gravity``'s
conventions, so the true up is ``core.gravity.up_from_pitch_roll``.
"""

from __future__ import annotations

import numpy as np

K_ROOM = np.array([[900.0, 0.0, 640.0], [0.0, 900.0, 360.0], [0.0, 0.0, 1.0]])
"""Intrinsics of the rendered pictures (1280x720, a 71 degree field of view)."""
SIZE = (1280, 720)


def camera_from_world(pitch_degrees: float, roll_degrees: float, yaw_degrees: float = 0.0) -> np.ndarray:
    """(3, 3) rotation OpenCV camera <- Z-up world for a camera looking along +Y (at yaw 0), pitched and rolled."""
    p, r, y = np.radians([pitch_degrees, roll_degrees, yaw_degrees])
    level = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    yaw = np.array([[np.cos(y), np.sin(y), 0.0], [-np.sin(y), np.cos(y), 0.0], [0.0, 0.0, 1.0]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(p), -np.sin(p)], [0.0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(-r), -np.sin(-r), 0.0], [np.sin(-r), np.cos(-r), 0.0], [0.0, 0.0, 1.0]])
    return rz @ rx @ level @ yaw


def room_edges() -> np.ndarray:
    """(N, 2, 3) the room's edges, Z-up world, metres: a 8 x 8 x 3 m room, the camera near one wall."""
    edges = []
    x0, x1, y0, y1, h = -4.0, 4.0, -1.0, 7.0, 3.0
    for x, y in ((x0, y1), (x1, y1), (x0, y0), (x1, y0)):  # corners
        edges.append(((x, y, 0.0), (x, y, h)))
    for x in np.arange(x0 + 0.7, x1, 0.9):  # panel seams on the back wall
        edges.append(((x, y1, 0.1), (x, y1, h - 0.1)))
    for y in np.arange(y0 + 1.0, y1, 1.1):  # and on the side walls
        for x in (x0, x1):
            edges.append(((x, y, 0.2), (x, y, h - 0.2)))
    for a, b in (((x0, y1, 0.0), (x1, y1, 0.0)), ((x0, y1, h), (x1, y1, h)), ((x0, y0, 0.0), (x0, y1, 0.0)),
                 ((x1, y0, 0.0), (x1, y1, 0.0)), ((x0, y0, h), (x0, y1, h)), ((x1, y0, h), (x1, y1, h))):
        edges.append((a, b))
    door = ((-1.3, y1, 0.0), (-1.3, y1, 2.1), (-0.4, y1, 2.1), (-0.4, y1, 0.0))
    edges += [(door[i], door[i + 1]) for i in range(3)]
    for cx, cy in ((1.2, 3.0), (2.6, 3.0), (1.2, 4.0), (2.6, 4.0)):  # table legs and top
        edges.append(((cx, cy, 0.0), (cx, cy, 0.75)))
    edges += [((1.2, 3.0, 0.75), (2.6, 3.0, 0.75)), ((1.2, 4.0, 0.75), (2.6, 4.0, 0.75))]
    for z in (0.4, 1.0, 1.6):  # a shelf against the left wall
        edges.append(((x0 + 0.3, 5.0, z), (x0 + 0.3, 6.2, z)))
    edges += [((x0 + 0.3, 5.0, 0.0), (x0 + 0.3, 5.0, 1.8)), ((x0 + 0.3, 6.2, 0.0), (x0 + 0.3, 6.2, 1.8))]
    return np.asarray(edges, np.float64)


def textured_background(rng: np.random.Generator, size: tuple[int, int] = SIZE) -> np.ndarray:
    """(H, W, 3) uint8 blotchy texture: no straight edges."""
    import cv2

    w, h = size
    noise = rng.random((h // 16 + 1, w // 16 + 1, 3)).astype(np.float32)
    blotches = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    fine = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 1.5)
    image = 90 + 80 * blotches + 40 * fine
    return np.clip(image, 0, 255).astype(np.uint8)


def render_room(pitch_degrees: float, roll_degrees: float, *, height: float = 1.6, yaw_degrees: float = 10.0,
                seed: int = 0, K: np.ndarray = K_ROOM, size: tuple[int, int] = SIZE) -> np.ndarray:
    """(H, W, 3) uint8 picture of the room from a camera ``height`` m above the floor, pitched and rolled."""
    import cv2

    rng = np.random.default_rng(seed)
    image = textured_background(rng, size)
    R = camera_from_world(pitch_degrees, roll_degrees, yaw_degrees)
    centre = np.array([0.3, 0.0, height])
    for a, b in room_edges():
        pa, pb = R @ (a - centre), R @ (b - centre)
        near = 0.2
        if pa[2] < near and pb[2] < near:
            continue
        if pa[2] < near or pb[2] < near:  # clip to the near plane
            t = (near - pa[2]) / (pb[2] - pa[2])
            cut = pa + t * (pb - pa)
            pa, pb = (cut, pb) if pa[2] < near else (pa, cut)
        ua, ub = (K @ pa)[:2] / pa[2], (K @ pb)[:2] / pb[2]
        if max(np.abs(ua).max(), np.abs(ub).max()) > 1e5:
            continue
        shade = int(rng.integers(10, 60))
        cv2.line(image, tuple(int(v) for v in np.round(ua * 16)), tuple(int(v) for v in np.round(ub * 16)),
                 (shade, shade, shade), 3, cv2.LINE_AA, shift=4)
    return image


def blank_picture(seed: int = 0, size: tuple[int, int] = SIZE) -> np.ndarray:
    """The background alone: a picture without straight structure (a studio sweep)."""
    return textured_background(np.random.default_rng(seed), size)


def render_floor(pitch_degrees: float, roll_degrees: float, *, height: float = 1.6, yaw_degrees: float = 20.0,
                 tile: float = 0.6, reach: float = 30.0, seed: int = 0, K: np.ndarray = K_ROOM,
                 size: tuple[int, int] = SIZE) -> np.ndarray:
    """(H, W, 3) uint8 picture of a tiled floor (``tile`` m squares out to ``reach`` m, then a plain sky) from a
    camera ``height`` m above it, pitched and rolled: level lines in two directions and no vertical structure.
    Drawn at twice the size and averaged down, so the tiles' edges are smooth."""
    import cv2

    w, h = size
    R = camera_from_world(pitch_degrees, roll_degrees, yaw_degrees)
    u, v = np.meshgrid((np.arange(2 * w) + 0.5) / 2.0, (np.arange(2 * h) + 0.5) / 2.0)
    rays = np.stack([u, v, np.ones_like(u)], axis=-1) @ np.linalg.inv(K).T @ R  # world directions (R^T r)
    down = rays[..., 2] < -1e-9
    t = np.where(down, height / np.maximum(-rays[..., 2], 1e-9), 2.0 * reach / height)  # not down: beyond reach
    x, y = 0.3 + t * rays[..., 0], t * rays[..., 1]
    floor = down & (np.hypot(x, y) < reach)
    checker = (np.floor(x / tile) + np.floor(y / tile)).astype(np.int64) % 2
    grey = np.where(floor, np.where(checker == 1, 70.0, 130.0), 200.0)
    image = cv2.resize(grey.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
    texture = textured_background(np.random.default_rng(seed), size).astype(np.float32) - 150.0
    return np.clip(image[..., None] + 0.25 * texture, 0, 255).astype(np.uint8)
