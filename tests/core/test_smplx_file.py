"""SMPL-X model files are data: safe loading, clear errors, and a pickle that runs code is refused."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from core.body.mannequin import rest_joints
from core.body.smplx_file import (
    SMPLX_NUM_VERTICES, ModelFileError, find_model_file, load_model_arrays,
)
from tests.testdata.smplx_model import write_synthetic_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    write_synthetic_model(folder / "smplx" / "SMPLX_NEUTRAL.npz")
    return folder


def test_synthetic_file_has_the_smplx_layout(model_dir: Path) -> None:
    data = load_model_arrays(find_model_file(model_dir))
    assert data["v_template"].shape == (SMPLX_NUM_VERTICES, 3)
    assert data["f"].shape == (20908, 3) and data["posedirs"].shape[-1] == 486
    # Its joints are the mannequin's, so results on both bodies can be compared.
    np.testing.assert_allclose(data["J_regressor"] @ data["v_template"], rest_joints(), atol=1e-6)
    # The pickled metadata member is skipped, never unpickled.
    assert "joint2num" not in data


def test_missing_gender_names_the_folder(model_dir: Path) -> None:
    with pytest.raises(ModelFileError, match=f"gender .female. in .*{model_dir.name}.*SMPLX_FEMALE"):
        find_model_file(model_dir, "female")


def test_not_smplx(tmp_path: Path) -> None:
    path = tmp_path / "SMPLX_NEUTRAL.npz"
    np.savez(path, v_template=np.zeros((10, 3)))
    with pytest.raises(ModelFileError, match="missing"):
        load_model_arrays(path)


def test_wrong_shapes(tmp_path: Path, model_dir: Path) -> None:
    data = load_model_arrays(find_model_file(model_dir))
    data["weights"] = data["weights"][:, :52]
    path = tmp_path / "bad.npz"
    np.savez(path, **data)
    with pytest.raises(ModelFileError, match="'weights' has shape"):
        load_model_arrays(path)


def test_pkl_with_arrays_loads(tmp_path: Path, model_dir: Path) -> None:
    import scipy.sparse

    data = load_model_arrays(find_model_file(model_dir))
    data["J_regressor"] = scipy.sparse.csc_matrix(data["J_regressor"])  # as .pkl releases store it
    path = tmp_path / "SMPLX_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps(data, protocol=2))
    loaded = load_model_arrays(path)
    assert isinstance(loaded["J_regressor"], np.ndarray) and loaded["J_regressor"].shape == (55, SMPLX_NUM_VERTICES)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch /tmp/blender-mocap-pwned",))


def test_pickle_that_runs_code_is_refused(tmp_path: Path) -> None:
    marker = Path("/tmp/blender-mocap-pwned")
    marker.unlink(missing_ok=True)
    path = tmp_path / "SMPLX_NEUTRAL.pkl"
    path.write_bytes(pickle.dumps({"v_template": _RunsCode()}))
    with pytest.raises(ModelFileError, match="could run code"):
        load_model_arrays(path)
    assert not marker.exists()


def test_npz_object_arrays_are_not_unpickled(tmp_path: Path) -> None:
    marker = Path("/tmp/blender-mocap-pwned")
    marker.unlink(missing_ok=True)
    path = tmp_path / "SMPLX_NEUTRAL.npz"
    np.savez(path, v_template=np.array([_RunsCode()], dtype=object))
    with pytest.raises(ModelFileError, match="missing v_template"):
        load_model_arrays(path)
    assert not marker.exists()
