"""The set around the subject for a tilted shot (numpy): a room with vertical edges, or a studio sweep.

:func:`set_pieces` lays the set out around the clip's motion and the camera
and returns plain meshes (vertices in Blender's world, quads, a colour) that
the render process (:mod:`groundtruth.render`) builds as they are. Everything
stands behind the subject's whole motion as the camera sees it, so nothing
hides the person.

- ``room``: the textured ground of the plain scene (built by the render
  process), a back wall and two side walls 2.8 m high under a ceiling, a door frame with its
  door in the back wall, a table and a tall cabinet against the back wall:
  vertical edges (wall corners, door posts, table legs, cabinet sides) to find
  gravity from, as in an ordinary room.
- ``studio``: a seamless backdrop of one colour, the floor curving up into a
  back wall 8 m high and 60 m wide; no edge, line or texture anywhere.
"""

from __future__ import annotations

import numpy as np

WALL_HEIGHT = 2.8
WALL = (0.78, 0.74, 0.66)
DOOR_FRAME = (0.30, 0.20, 0.12)
DOOR = (0.55, 0.42, 0.30)
TABLE = (0.45, 0.30, 0.18)
CABINET = (0.35, 0.42, 0.50)
STUDIO = (0.80, 0.80, 0.79)
BOX_FACES = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]


def _frame(cam_from_world: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The camera's eye, its horizontal heading and the horizontal right of it (Z-up world)."""
    R, t = cam_from_world[:3, :3], cam_from_world[:3, 3]
    eye = -R.T @ t
    forward = R[2].copy()
    forward[2] = 0.0
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    return eye, forward, right


def _box(name: str, color, origin: np.ndarray, forward: np.ndarray, right: np.ndarray,
         along: tuple[float, float], side: tuple[float, float], z: tuple[float, float]) -> dict:
    """A box spanning ``along`` x ``side`` x ``z``: metres from ``origin`` (on the floor under the
    camera) along ``forward``, ``right`` and up."""
    corners = [origin + a * forward + s * right + np.array([0.0, 0.0, h])
               for a in along for s in side for h in z]
    return {"name": name, "color": list(color), "verts": np.array(corners).tolist(), "faces": BOX_FACES}


def _room(points: np.ndarray, eye: np.ndarray, forward: np.ndarray, right: np.ndarray, floor: float) -> list[dict]:
    origin = np.array([eye[0], eye[1], floor])
    rel = points[:, :2] - eye[:2]
    a, s = rel @ forward[:2], rel @ right[:2]
    back = float(a.max()) + 1.2                                  # the back wall, 1.2 m behind the motion
    mid = 0.5 * (float(s.min()) + float(s.max()))
    d0, d1 = mid + 0.9, mid + 1.8                                # the door, right of the middle of the motion
    left = min(float(s.min()) - 1.8, mid - 2.6)
    right_wall = max(float(s.max()) + 1.8, d1 + 1.5)            # room for the cabinet right of the door
    near = min(-1.0, float(a.min()) - 3.0)
    t = 0.1  # wall thickness
    pieces = [
        _box("WallBack", WALL, origin, forward, right, (back, back + t), (left - t, right_wall + t), (0.0, WALL_HEIGHT)),
        _box("WallLeft", WALL, origin, forward, right, (near, back), (left - t, left), (0.0, WALL_HEIGHT)),
        _box("WallRight", WALL, origin, forward, right, (near, back), (right_wall, right_wall + t), (0.0, WALL_HEIGHT)),
    ]
    pieces.append(_box("Ceiling", WALL, origin, forward, right, (near, back + t), (left - t, right_wall + t),
                       (WALL_HEIGHT, WALL_HEIGHT + t)))
    # the door in the back wall: two posts, a lintel, the door leaf
    for name, side, height in (("DoorPostL", (d0 - 0.1, d0), (0.0, 2.15)), ("DoorPostR", (d1, d1 + 0.1), (0.0, 2.15)),
                               ("DoorLintel", (d0 - 0.1, d1 + 0.1), (2.05, 2.15))):
        pieces.append(_box(name, DOOR_FRAME, origin, forward, right, (back - 0.06, back), side, height))
    pieces.append(_box("Door", DOOR, origin, forward, right, (back - 0.03, back), (d0, d1), (0.0, 2.05)))
    # a table against the back wall, left of the middle: top and four legs
    t0, t1, depth = mid - 2.2, mid - 1.0, 0.7
    pieces.append(_box("TableTop", TABLE, origin, forward, right, (back - depth, back - 0.02), (t0, t1), (0.72, 0.76)))
    for i, (la, ls) in enumerate(((back - depth + 0.04, t0 + 0.04), (back - depth + 0.04, t1 - 0.1),
                                  (back - 0.12, t0 + 0.04), (back - 0.12, t1 - 0.1))):
        pieces.append(_box(f"TableLeg{i}", TABLE, origin, forward, right, (la, la + 0.06), (ls, ls + 0.06), (0.0, 0.72)))
    # a tall cabinet in the back corner on the right, clear of the door
    pieces.append(_box("Cabinet", CABINET, origin, forward, right, (back - 0.45, back), (right_wall - 0.8, right_wall),
                       (0.0, 1.9)))
    return pieces


def _studio(points: np.ndarray, eye: np.ndarray, forward: np.ndarray, right: np.ndarray, floor: float) -> list[dict]:
    origin = np.array([eye[0], eye[1], floor])
    rel = points[:, :2] - eye[:2]
    start = float((rel @ forward[:2]).max()) + 1.0             # the curve starts 1 m behind the motion
    radius, height, half_width = 2.5, 8.0, 30.0
    profile = [(-30.0, 0.0)]                                    # (along, up) from behind the camera ...
    for k in range(33):                                         # ... a quarter circle up ...
        phi = 0.5 * np.pi * k / 32
        profile.append((start + radius * np.sin(phi), radius * (1.0 - np.cos(phi))))
    profile.append((start + radius, height))                    # ... into a vertical wall
    verts = [origin + a * forward + s * right + np.array([0.0, 0.0, h])
             for a, h in profile for s in (-half_width, half_width)]
    faces = [(2 * i, 2 * i + 1, 2 * i + 3, 2 * i + 2) for i in range(len(profile) - 1)]
    return [{"name": "Sweep", "color": list(STUDIO), "verts": np.array(verts).tolist(), "faces": faces,
             "smooth": True}]  # smooth shading: no facet lines across the curve


def set_pieces(scene: str, points: np.ndarray, cam_from_world: np.ndarray, floor: float) -> list[dict]:
    """Meshes of the set (``name``, ``color`` RGB 0-1, ``verts`` (N, 3) Blender world, ``faces`` quads,
    optionally ``smooth``: shade smooth).

    ``scene``: ``plain`` (nothing: the render process's ground and sky),
    ``room`` or ``studio`` (module docstring). ``points`` (N, 3): every joint
    of the clip in Blender's world; ``floor``: the ground's height.
    """
    if scene == "plain":
        return []
    eye, forward, right = _frame(np.asarray(cam_from_world, np.float64))
    points = np.asarray(points, np.float64).reshape(-1, 3)
    if scene == "room":
        return _room(points, eye, forward, right, floor)
    if scene == "studio":
        return _studio(points, eye, forward, right, floor)
    raise ValueError(f"unknown scene {scene!r}; known: plain, room, studio")
