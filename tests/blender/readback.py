"""What a test reads back from Blender as numpy: data-block counts, deformed vertices, posed joints, pixels.

Imported by the test modules next to it (pytest puts this folder on the path).
"""

from __future__ import annotations

import bpy
import numpy as np
from bpy_extras.object_utils import world_to_camera_view
from mathutils import Vector


def data_counts() -> dict[str, int]:
    """How many objects, actions, armatures, cameras, collections, meshes and movie clips the file holds."""
    return {kind: len(getattr(bpy.data, kind)) for kind in
            ("objects", "actions", "armatures", "cameras", "collections", "meshes", "movieclips")}


def evaluated_vertices(obj) -> np.ndarray:
    """(V, 3) Blender world positions of the evaluated (deformed) mesh at the current frame."""
    evaluated = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    mesh = evaluated.to_mesh()
    try:
        co = np.empty(len(mesh.vertices) * 3, np.float32)
        mesh.vertices.foreach_get("co", co)
    finally:
        evaluated.to_mesh_clear()
    mw = np.array(evaluated.matrix_world)
    return co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3]


def world_heads(obj, names) -> np.ndarray:
    """(J, 3) Blender world positions of the evaluated pose bones' heads."""
    evaluated = obj.evaluated_get(bpy.context.evaluated_depsgraph_get())
    mw = np.array(evaluated.matrix_world)
    heads = np.array([evaluated.pose.bones[n].head for n in names])
    return heads @ mw[:3, :3].T + mw[:3, 3]


def project_blender(scene, camera, point_blender) -> np.ndarray:
    """(2,) pixels (y down) of a Blender world point seen by ``camera`` at the scene's resolution."""
    x, y, _ = world_to_camera_view(scene, camera, Vector(point_blender))
    width, height = scene.render.resolution_x, scene.render.resolution_y
    return np.array([x * width, (1.0 - y) * height])
