"""A take filmed by several videos (motion file v3): every camera built, each with its own video behind it."""

from __future__ import annotations

import bpy
import numpy as np
from readback import project_blender


def _still(tmp_path, name: str, width: int, height: int) -> str:
    """A one-frame 'video' (PNG) Blender loads as a movie clip."""
    image = bpy.data.images.new(name, width, height)
    path = tmp_path / f"{name}.png"
    image.filepath_raw = str(path)
    image.file_format = 'PNG'
    image.save()
    bpy.data.images.remove(image)
    return str(path)


def _side_camera() -> np.ndarray:
    """Camera-from-world of a camera 3 m to the right of camera 0's subject, looking back at it (-x)."""
    R = np.array([[0.0, 0, 1], [0, 1, 0], [-1, 0, 0]])
    E = np.eye(4)
    E[:3, :3] = R
    E[:3, 3] = -R @ np.array([3.1, 0.2, 3.0])
    return E


def test_every_camera_is_built_with_its_own_video(pkg, motion_factory, tmp_path):
    motion = motion_factory(4)
    front = _still(tmp_path, "front", 64, 36)
    side = _still(tmp_path, "side", 36, 64)
    K1 = np.array([[900.0, 0, 360], [0, 900, 640], [0, 0, 1]])
    motion.cameras = pkg.core.motion_cameras.MotionCameras(
        intrinsics=np.stack([motion.camera_intrinsics, K1]), extrinsics=np.stack([np.eye(4), _side_camera()]),
        image_size=np.array([[1280, 720], [720, 1280]]), names=("front", "side"), videos=(front, side),
        time_offsets=np.array([0.0, 1.5]), fps=np.array([30.0, 25.0]))
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="two", video_path=front)

    assert len(take.other_cameras) == 1
    other = take.other_cameras[0]
    assert other.name.startswith("two_camera_2") and other.type == 'CAMERA' and other != take.camera
    assert other.users_collection[0] == take.collection
    background = other.data.background_images[0]
    assert other.data.show_background_images and background.source == 'MOVIE_CLIP'
    assert background.clip != take.clip and background.clip.filepath.endswith("side.png")
    assert background.clip.frame_start == 1 + 45  # its video started 1.5 s after video 0, at 30 fps
    assert tuple(other["mocap_image_size"]) == (720, 1280)
    assert any("25 fps" in w for w in take.warnings)  # another frame rate: the background drifts

    # the side camera sees the body where its own intrinsics put it
    scene = bpy.context.scene
    scene.render.resolution_x, scene.render.resolution_y = 720, 1280
    A = pkg.blender_mocap.convert.blender_from_world(motion.world_up)
    rng = np.random.default_rng(3)
    for _ in range(10):
        world_point = np.array([0.1, 0.2, 3.0]) + rng.uniform(-0.5, 0.5, 3)
        cam = _side_camera()[:3, :3] @ world_point + _side_camera()[:3, 3]
        expected = (K1 @ cam)[:2] / cam[2]
        got = project_blender(scene, other, A @ world_point - [0.0, 0.0, take.ground_offset])
        np.testing.assert_allclose(got, expected, atol=0.5)


def test_a_one_camera_take_gets_no_further_cameras(pkg, motion_factory):
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion_factory(2), name="one")
    assert take.other_cameras == []
    assert [o for o in take.collection.objects if o.type == 'CAMERA'] == [take.camera]
