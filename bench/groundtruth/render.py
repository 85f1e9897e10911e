"""The render process: Blender (bpy) builds the scene of a job file and renders its frames.

Runs in a process of its own (``python -m groundtruth _render JOB.json`` with
bench/ on the path, started by :func:`groundtruth.truth.render_clip`) so bpy
never shares a process with MediaPipe. Needs numpy and bpy only (imported
inside the functions, so the rest of the package imports without Blender).
The job file names the excerpt BVH, the body arrays, the floor height, the
camera and the ``RenderSettings``; the BVH is imported with Blender's own
importer and drives the body through an Armature modifier; a textured ground
plane (none in a studio), a sun, a sky-coloured world and the set's pieces
(``job["set"]``, :func:`groundtruth.room.set_pieces`: walls, door frame, table,
or a studio sweep) complete the scene.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np


def import_bvh_blender(path: str, scale: float):
    """Import a BVH with Blender's bundled importer, one key per BVH frame from frame 1; returns the armature."""
    import bpy

    bpy.ops.import_anim.bvh(filepath=path, global_scale=scale, frame_start=1, use_fps_scale=False,
                            update_scene_fps=False, update_scene_duration=True, rotate_mode="NATIVE",
                            axis_forward="-Z", axis_up="Y")
    return bpy.context.active_object


def blender_bone_heads(arm, frames: list[int]) -> tuple[list[str], np.ndarray]:
    """World positions of every pose bone's head on the given scene frames: names, (F, B, 3)."""
    import bpy

    scene = bpy.context.scene
    names = [b.name for b in arm.pose.bones]
    out = np.zeros((len(frames), len(names), 3))
    for i, f in enumerate(frames):
        scene.frame_set(f)
        mw = np.array(arm.matrix_world)
        for j, b in enumerate(arm.pose.bones):
            out[i, j] = mw[:3, :3] @ np.array(b.head) + mw[:3, 3]
    return names, out


def render(job_path: str) -> None:
    """Render the frames of a job file written by :func:`groundtruth.truth.render_clip`.

    Also saves Blender's own posed bone heads (``job["check"]``: ``heads`` of person 0, ``heads_<k>``
    of person k of a clip of several people) for the FK cross-check.
    """
    import bpy

    job = json.loads(Path(job_path).read_text())
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    arms = []
    for person in job.get("people") or [{"bvh": job["bvh"], "body": job["body"]}]:
        arms.append(import_bvh_blender(person["bvh"], job["scale"]))
        _body(scene, arms[-1], np.load(person["body"]))
    if job.get("scene", "plain") != "studio":
        _ground(scene, job["floor"])
    for piece in job.get("set", []):
        _piece(scene, piece)
    _lights(scene)
    _camera(scene, np.array(job["cam_from_world"]), job["settings"]["hfov_degrees"])
    _render_settings(scene, job["settings"])
    if job.get("set"):
        scene.display.shadow_shift = 0.4  # Workbench: no shadow acne stripes on walls lit at a grazing angle

    frames = [1 + k for k in range(job["count"])]
    names, heads = blender_bone_heads(arms[0], frames)
    others = {f"heads_{k}": blender_bone_heads(arm, frames)[1] for k, arm in enumerate(arms[1:], 1)}
    np.savez(job["check"], names=np.array(names), heads=heads, **others)
    for k, f in enumerate(frames):
        scene.frame_set(f)
        scene.render.filepath = str(Path(job["frames_dir"]) / f"{k:04d}.png")
        bpy.ops.render.render(write_still=True)


def _body(scene, arm, body) -> None:
    """The body mesh (arrays of :func:`groundtruth.body.build_body`), rigidly skinned to ``arm``."""
    import bpy

    mesh = bpy.data.meshes.new("Body")
    faces = [tuple(int(i) for i in f if i >= 0) for f in body["faces"]]
    mesh.from_pydata(body["verts"].tolist(), [], faces)
    mesh.polygons.foreach_set("material_index", body["face_material"].astype(np.int32))
    mesh.polygons.foreach_set("use_smooth", np.ones(len(faces), bool))
    for name, color in zip(body["materials"], body["material_colors"]):
        mesh.materials.append(_material(str(name), tuple(color)))
    mesh.update()
    obj = bpy.data.objects.new("Body", mesh)
    scene.collection.objects.link(obj)
    for b, bone in enumerate(body["bones"]):
        group = obj.vertex_groups.new(name=str(bone))
        group.add([int(i) for i in np.flatnonzero(body["vert_bone"] == b)], 1.0, "REPLACE")
    mod = obj.modifiers.new("Armature", "ARMATURE")
    mod.object = arm
    arm.hide_render = True


def _camera(scene, cam_from_world: np.ndarray, hfov_degrees: float) -> None:
    """The scene camera at the OpenCV camera-from-world ``cam_from_world``, horizontal sensor fit."""
    import bpy
    from mathutils import Matrix

    cam_data = bpy.data.cameras.new("Camera")
    cam_data.sensor_fit = "HORIZONTAL"
    cam_data.sensor_width = 36.0
    cam_data.lens = 18.0 / math.tan(math.radians(hfov_degrees) / 2.0)
    cam = bpy.data.objects.new("Camera", cam_data)
    scene.collection.objects.link(cam)
    R = cam_from_world[:3, :3]
    eye = -R.T @ cam_from_world[:3, 3]
    world_from_cam_blender = np.eye(4)  # Blender camera: x right, y up, looks down -z
    world_from_cam_blender[:3, :3] = R.T @ np.diag([1.0, -1.0, -1.0])
    world_from_cam_blender[:3, 3] = eye
    cam.matrix_world = Matrix(world_from_cam_blender.tolist())
    scene.camera = cam


def _render_settings(scene, s: dict) -> None:
    """Image size, engine and its sampling, PNG output (``s``: ``RenderSettings`` as a dict)."""
    r = scene.render
    r.resolution_x, r.resolution_y, r.resolution_percentage = s["width"], s["height"], 100
    r.engine = s["engine"]
    r.image_settings.file_format = "PNG"
    r.film_transparent = False
    if s["engine"] == "CYCLES":
        scene.cycles.device = "CPU"
        scene.cycles.samples = s["samples"]
        scene.cycles.use_adaptive_sampling = True
        scene.cycles.use_denoising = s["denoise"]
        scene.cycles.max_bounces = 4
        r.threads_mode = "AUTO"
    elif s["engine"] == "BLENDER_EEVEE":
        scene.eevee.taa_render_samples = s["samples"]
    else:
        shading = scene.display.shading
        shading.light = "STUDIO"
        shading.color_type = "TEXTURE"  # material colours, and the ground image
        shading.show_shadows = True
    scene.view_settings.view_transform = "Standard" if s["engine"] == "BLENDER_WORKBENCH" else "AgX"


def _material(name: str, color: tuple[float, float, float]):
    import bpy

    mat = bpy.data.materials.new(name)
    mat.diffuse_color = (*color, 1.0)
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes.get("Principled BSDF")
    bsdf.inputs["Base Color"].default_value = (*color, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.45 if name in ("skin", "lips") else (0.25 if name in ("eye", "pupil") else 0.8)
    if name == "skin":
        bsdf.inputs["Subsurface Weight"].default_value = 0.08
    return mat


def _ground(scene, floor: float) -> None:
    """A 30 m floor with a procedural checker (Cycles/EEVEE) and a matching image (Workbench)."""
    import bpy

    mesh = bpy.data.meshes.new("Ground")
    h = 15.0
    mesh.from_pydata([(-h, -h, floor), (h, -h, floor), (h, h, floor), (-h, h, floor)], [], [(0, 1, 2, 3)])
    mesh.uv_layers.new(name="UVMap")
    uv = np.array([(0, 0), (1, 0), (1, 1), (0, 1)], np.float32) * 30.0
    mesh.uv_layers[0].data.foreach_set("uv", uv.ravel())
    obj = bpy.data.objects.new("Ground", mesh)
    scene.collection.objects.link(obj)
    mat = bpy.data.materials.new("Ground")
    mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    bsdf = nodes["Principled BSDF"]
    bsdf.inputs["Roughness"].default_value = 0.9
    size = 64
    yy, xx = np.mgrid[:size, :size]
    tile = (((xx // 32) + (yy // 32)) % 2).astype(np.float32)
    rgb = np.where(tile[..., None] > 0, (0.55, 0.53, 0.48), (0.38, 0.40, 0.36))
    pixels = np.concatenate([rgb, np.ones((size, size, 1))], axis=-1).astype(np.float32)
    img = bpy.data.images.new("GroundTiles", size, size)
    img.pixels.foreach_set(pixels.ravel())
    img.pack()
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = img
    tex.interpolation = "Closest"
    links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    mesh.materials.append(mat)


def _piece(scene, piece: dict) -> None:
    """One mesh of the set: ``verts`` (N, 3) Blender world, ``faces`` quads, one matte ``color``."""
    import bpy

    mesh = bpy.data.meshes.new(piece["name"])
    mesh.from_pydata([tuple(v) for v in piece["verts"]], [], [tuple(f) for f in piece["faces"]])
    mesh.materials.append(_material(piece["name"], tuple(piece["color"])))
    mesh.polygons.foreach_set("use_smooth", np.full(len(mesh.polygons), bool(piece.get("smooth", False))))
    mesh.update()
    obj = bpy.data.objects.new(piece["name"], mesh)
    scene.collection.objects.link(obj)


def _lights(scene) -> None:
    import bpy

    sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", "SUN"))
    sun.data.energy = 3.5
    sun.data.angle = math.radians(3.0)
    sun.rotation_euler = (math.radians(40), 0.0, math.radians(30))
    scene.collection.objects.link(sun)
    world = bpy.data.worlds.new("Sky")
    world.use_nodes = True
    bg = world.node_tree.nodes["Background"]
    bg.inputs["Color"].default_value = (0.55, 0.70, 0.95, 1.0)
    bg.inputs["Strength"].default_value = 0.9
    world.color = (0.55, 0.70, 0.95)
    scene.world = world
