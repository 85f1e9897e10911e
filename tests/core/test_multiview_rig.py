"""The camera rig: projection agrees with each camera's own pinhole, and a saved rig reads back the same."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import MocapError
from core.multiview.rig import CameraRig, load_rig, save_rig
from core.rotations import axis_angle_to_matrix


def _rig() -> CameraRig:
    R = axis_angle_to_matrix(np.array([[0.0, 0.0, 0.0], [0.0, -np.pi / 2, 0.0]]))
    centres = np.array([[0.0, -1.5, -3.0], [3.0, -1.2, 0.0]])
    t = -np.einsum("cij,cj->ci", R, centres)
    K = np.array([[[1000.0, 0, 640], [0, 1000, 360], [0, 0, 1]], [[800.0, 0, 320], [0, 800, 240], [0, 0, 1]]])
    return CameraRig(names=("front", "side"), K=K, R=R, t=t, image_sizes=[[1280, 720], [640, 480]],
                     world_up=[0, -2, 0])


def test_projection_and_centres_match_the_cameras():
    rig = _rig()
    np.testing.assert_allclose(rig.centres(), [[0.0, -1.5, -3.0], [3.0, -1.2, 0.0]], atol=1e-9)
    np.testing.assert_allclose(rig.world_up, [0, -1, 0])
    uv = rig.project(np.array([[0.0, -1.5, 0.0], [0.0, -1.2, 0.0]]))
    assert uv.shape == (2, 2, 2)
    np.testing.assert_allclose(uv[0, 0], [640, 360])  # straight ahead of the front camera
    np.testing.assert_allclose(uv[1, 1], [320, 240])  # straight ahead of the side camera


def test_saved_rig_reads_back_and_damage_is_reported(tmp_path):
    rig = _rig()
    path = save_rig(rig, tmp_path / "rig.json")
    back = load_rig(path)
    assert back.names == rig.names
    for key in ("K", "R", "t", "image_sizes", "world_up"):
        np.testing.assert_allclose(getattr(back, key), getattr(rig, key))
    data = json.loads(path.read_text())
    data["cameras"][1]["R"] = [[2, 0, 0], [0, 1, 0], [0, 0, 1]]
    path.write_text(json.dumps(data))
    with pytest.raises(MocapError, match="not a rotation"):
        load_rig(path)
    with pytest.raises(MocapError, match="does not exist"):
        load_rig(tmp_path / "missing.json")
