"""Calibration files: our JSON, Pose2Sim/anipose TOML and OpenCV (EasyMocap) YAML read back the rig they hold."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import MocapError
from core.multiview.calibration_files import read_calibration, write_calibration
from tests.testdata.multiview_scenes import look_at_rig, ring


def _rig():
    return look_at_rig(ring(3, 150.0, heights=[1.0, 1.0, 1.0]), focals=[900.0, 1200.0, 1500.0],
                       sizes=[[1280, 720], [1920, 1080], [720, 1280]])


def _same(a, b, atol=1e-9):
    assert a.names == b.names
    for key in ("K", "R", "t", "image_sizes"):
        np.testing.assert_allclose(getattr(a, key), getattr(b, key), atol=atol)


@pytest.mark.parametrize("suffix", [".json", ".toml", ".yml", ".xml"])
def test_written_calibration_reads_back(tmp_path, suffix):
    rig = _rig()
    back = read_calibration(write_calibration(rig, tmp_path / f"rig{suffix}"))
    _same(back, rig)
    # Without a stored up, the cameras' average up is used: these cameras are level, so it is the true up.
    np.testing.assert_allclose(back.world_up, [0.0, 0.0, 1.0], atol=1e-9)


def test_pose2sim_toml_in_millimetres_and_with_distortion(tmp_path):
    text = """
[cam_01]
name = "front"
size = [ 1920.0, 1080.0,]
matrix = [ [ 1500.0, 0.0, 960.0,], [ 0.0, 1500.0, 540.0,], [ 0.0, 0.0, 1.0,],]
distortions = [ 0.0, 0.0, 0.0, 0.0,]
rotation = [ 0.0, 0.0, 0.0,]
translation = [ 0.0, 0.0, 3000.0,]
fisheye = false

[cam_02]
name = "side"
size = [ 1280.0, 720.0,]
matrix = [ [ 1000.0, 0.0, 640.0,], [ 0.0, 1000.0, 360.0,], [ 0.0, 0.0, 1.0,],]
distortions = [ -0.2, 0.05, 0.0, 0.0,]
rotation = [ 0.0, 1.5707963267948966, 0.0,]
translation = [ 0.0, 0.0, 3000.0,]
fisheye = false

[metadata]
adjusted = false
error = 0.0
"""
    path = tmp_path / "Calib_scene.toml"
    path.write_text(text)
    with pytest.raises(MocapError, match="side's lens distortion"):
        read_calibration(path)
    rig = read_calibration(path, ignore_distortion=True)
    assert rig.names == ("front", "side")
    np.testing.assert_allclose(rig.centres(), [[0.0, 0.0, -3.0], [3.0, 0.0, 0.0]], atol=1e-9)  # mm -> m
    np.testing.assert_allclose(rig.image_sizes, [[1920, 1080], [1280, 720]])


def test_easymocap_intri_and_extri_files_are_read_together(tmp_path):
    import cv2

    rig = _rig()
    intri = cv2.FileStorage(str(tmp_path / "intri.yml"), cv2.FILE_STORAGE_WRITE)
    extri = cv2.FileStorage(str(tmp_path / "extri.yml"), cv2.FILE_STORAGE_WRITE)
    for fs in (intri, extri):
        fs.startWriteStruct("names", cv2.FileNode_SEQ)
        for name in ("01", "02", "03"):
            fs.write("", name)
        fs.endWriteStruct()
    for c, name in enumerate(("01", "02", "03")):
        intri.write(f"K_{name}", rig.K[c])
        intri.write(f"dist_{name}", np.zeros((1, 5)))
        extri.write(f"R_{name}", cv2.Rodrigues(rig.R[c])[0])
        extri.write(f"T_{name}", rig.t[c].reshape(3, 1))
    intri.release()
    extri.release()
    for given in ("intri.yml", "extri.yml"):
        back = read_calibration(tmp_path / given)
        assert back.names == ("01", "02", "03")
        np.testing.assert_allclose(back.R, rig.R, atol=1e-9)
        np.testing.assert_allclose(back.t, rig.t, atol=1e-9)
        np.testing.assert_allclose(back.K, rig.K)
        np.testing.assert_allclose(back.image_sizes, rig.image_sizes)  # from the centred principal points


def test_missing_damaged_and_unknown_files_are_explained(tmp_path):
    with pytest.raises(MocapError, match="does not exist"):
        read_calibration(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[cam_1\nmatrix = 3")
    with pytest.raises(MocapError, match="cannot be read as TOML"):
        read_calibration(bad)
    partial = tmp_path / "partial.toml"
    partial.write_text("[cam_1]\nmatrix = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]\n")
    with pytest.raises(MocapError, match="cam_1 lacks"):
        read_calibration(partial)
    other = tmp_path / "rig.txt"
    other.write_text("hello")
    with pytest.raises(MocapError, match="unknown format"):
        read_calibration(other)
