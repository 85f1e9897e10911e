"""Motion file v3: the list of cameras of a take filmed by several videos; v1 and v2 files still read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.motion import FORMAT_VERSION, MotionFileError, read_motion, write_motion
from core.motion_cameras import CAMERA_KEYS, MotionCameras
from core.rotations import axis_angle_to_matrix
from tests.core.test_motion import make_motion


def two_cameras(extrinsics0: np.ndarray) -> MotionCameras:
    K1 = np.array([[400.0, 0, 180], [0, 400, 320], [0, 0, 1]])
    E1 = np.eye(4)
    E1[:3, :3] = axis_angle_to_matrix(np.array([0.0, np.pi / 2, 0.0]))
    E1[:3, 3] = [0.5, 0.0, 3.0]
    K0 = np.array([[500.0, 0, 320], [0, 500, 180], [0, 0, 1]])
    return MotionCameras(np.stack([K0, K1]), np.stack([extrinsics0, E1 @ extrinsics0]),
                         np.array([[640, 360], [360, 640]]), ("front", "side"), ("a.mp4", "b.mov"),
                         np.array([0.0, 1.37]), np.array([30.0, 25.0]))


def test_v3_round_trips_every_camera(tmp_path: Path) -> None:
    take = make_motion()
    take.cameras = two_cameras(take.camera_extrinsics)
    back = read_motion(write_motion(tmp_path / "multi.npz", take))
    assert FORMAT_VERSION == 3
    assert back.cameras is not None and back.cameras.num_cameras == 2
    assert back.cameras.names == ("front", "side") and back.cameras.videos == ("a.mp4", "b.mov")
    np.testing.assert_allclose(back.cameras.extrinsics, take.cameras.extrinsics)
    np.testing.assert_allclose(back.cameras.intrinsics, take.cameras.intrinsics)
    np.testing.assert_array_equal(back.cameras.image_size, [[640, 360], [360, 640]])
    np.testing.assert_allclose(back.cameras.time_offsets, [0.0, 1.37])
    np.testing.assert_allclose(back.cameras.fps, [30.0, 25.0])
    # the single-camera keys are camera 0, for readers that know one camera
    np.testing.assert_allclose(back.camera_extrinsics, back.cameras.extrinsics[0])


def test_moving_the_world_keeps_the_cameras_relative_places() -> None:
    take = make_motion()
    cams = two_cameras(np.eye(4))
    world = np.eye(4)
    world[:3, :3] = axis_angle_to_matrix(np.array([0.3, 0.0, 0.1]))
    world[:3, 3] = [0.0, 1.0, -2.0]
    moved = cams.moved(world)
    np.testing.assert_allclose(moved.extrinsics[0], world)
    np.testing.assert_allclose(moved.extrinsics[1] @ np.linalg.inv(moved.extrinsics[0]),
                               cams.extrinsics[1] @ np.linalg.inv(cams.extrinsics[0]), atol=1e-12)
    assert take.cameras is None


@pytest.mark.parametrize("version", [1, 2])
def test_v1_and_v2_files_still_read(tmp_path: Path, version: int) -> None:
    take = make_motion()
    take.up_source, take.up_sigma_degrees = "posture", 3.0
    take.cameras = two_cameras(take.camera_extrinsics)
    write_motion(tmp_path / "v3.npz", take)
    dropped = set(CAMERA_KEYS) | ({"up_source", "up_sigma_degrees"} if version == 1 else set())
    with np.load(tmp_path / "v3.npz") as npz:
        old = {k: npz[k] for k in npz.files if k not in dropped}
    old["format_version"] = np.array(version)
    np.savez(tmp_path / f"v{version}.npz", **old)
    back = read_motion(tmp_path / f"v{version}.npz")
    assert back.cameras is None
    assert back.up_source == ("posture" if version == 2 else "")
    np.testing.assert_array_equal(back.poses, take.poses)
    np.testing.assert_allclose(back.camera_intrinsics, take.camera_intrinsics)


def test_a_damaged_camera_list_is_refused_with_its_fault(tmp_path: Path) -> None:
    take = make_motion()
    take.cameras = two_cameras(take.camera_extrinsics)
    write_motion(tmp_path / "ok.npz", take)
    with np.load(tmp_path / "ok.npz") as npz:
        data = {k: npz[k] for k in npz.files}
    partial = {k: v for k, v in data.items() if k != "cameras_fps"}
    np.savez(tmp_path / "partial.npz", **partial)
    with pytest.raises(MotionFileError, match="lacks cameras_fps"):
        read_motion(tmp_path / "partial.npz")
    stale = dict(data, cameras_extrinsics=data["cameras_extrinsics"][::-1].copy())
    np.savez(tmp_path / "stale.npz", **stale)
    with pytest.raises(MotionFileError, match="camera 0 of the camera list differs"):
        read_motion(tmp_path / "stale.npz")
    short = dict(data, cameras_fps=np.array([30.0]))
    np.savez(tmp_path / "short.npz", **short)
    with pytest.raises(MotionFileError, match="cameras_fps"):
        read_motion(tmp_path / "short.npz")
