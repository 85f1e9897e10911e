"""SMPL-X model files as data, never code: safe loading.

(A synthetic stand-in for tests is ``tests/testdata/smplx_model.py``.)

numpy only (the Blender side uses it to build SMPL-X rest data without torch).

SMPL-X files are licensed: the user downloads them and points blender-mocap at
the folder (the smplx library's layout, ``<folder>/smplx/SMPLX_NEUTRAL.npz`` or
``<folder>/SMPLX_NEUTRAL.npz``). They never enter the repository.

Loading: ``.npz`` archives are read with ``allow_pickle=False``; members that
hold pickled objects (some releases carry ``joint2num``/``part2num`` dicts) are
skipped, never unpickled. ``.pkl`` files are read with a restricted unpickler
that admits numpy arrays and scipy sparse matrices only, so a pickle that tries
to run code is rejected.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np

from ..errors import MocapError
from ..skeleton import NUM_JOINTS

GENDERS = ("neutral", "male", "female")

REQUIRED_KEYS = ("v_template", "f", "J_regressor", "weights", "kintree_table", "shapedirs", "posedirs")
"""Keys every SMPL-X model file has and the body needs (the face landmark keys are optional)."""


class ModelFileError(MocapError):
    """A body-model file that is missing, unreadable, unsafe or not SMPL-X."""


def find_model_file(folder: str | Path, gender: str = "neutral") -> Path:
    """The SMPL-X file for ``gender`` in ``folder`` (smplx library layouts), .npz preferred.

    Raises ModelFileError naming where it looked.
    """
    if gender not in GENDERS:
        raise ModelFileError(f"unknown gender '{gender}': use one of {', '.join(GENDERS)}")
    folder = Path(folder).expanduser()
    if folder.is_file():
        return folder
    name = f"SMPLX_{gender.upper()}"
    candidates = [folder / "smplx" / f"{name}.npz", folder / f"{name}.npz",
                  folder / "models" / "smplx" / f"{name}.npz",
                  folder / "smplx" / f"{name}.pkl", folder / f"{name}.pkl"]
    for path in candidates:
        if path.is_file():
            return path
    raise ModelFileError(
        f"no SMPL-X model file for gender '{gender}' in {folder} (looked for {name}.npz and "
        f"{name}.pkl, also under smplx/). Download SMPL-X from its official site and point "
        "blender-mocap at the folder that holds it."
    )


class _ArraysOnly(pickle.Unpickler):
    """Unpickles numpy arrays and scipy sparse matrices; refuses every other global."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("scipy.sparse.csc", "csc_matrix"), ("scipy.sparse._csc", "csc_matrix"),
        ("scipy.sparse.csr", "csr_matrix"), ("scipy.sparse._csr", "csr_matrix"),
        ("_codecs", "encode"),  # Python 2 pickles store byte strings through it
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise ModelFileError(
                f"the model file asks to load '{module}.{name}', which is not array data; "
                "it is refused because loading it could run code"
            )
        return super().find_class(module, name)


def _load_pkl(path: Path) -> dict[str, np.ndarray]:
    try:
        with open(path, "rb") as fh:
            data = _ArraysOnly(fh, encoding="latin1").load()
    except ModelFileError as exc:
        raise ModelFileError(f"{path.name}: {exc}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as exc:
        raise ModelFileError(f"{path.name} is not a readable SMPL-X .pkl file: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelFileError(f"{path.name} does not hold a dictionary of arrays")
    out = {}
    for key, value in data.items():
        if hasattr(value, "toarray"):  # scipy sparse (J_regressor in .pkl releases)
            value = value.toarray()
        if isinstance(value, np.ndarray) and value.dtype != object:
            out[str(key)] = value
    return out


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path.name} is not an .npz archive (damaged or not an SMPL-X file)")
    out = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for key in npz.files:
                try:
                    out[key] = npz[key]
                except ValueError:
                    continue  # a pickled object member: metadata we do not need, never unpickled
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelFileError(f"{path.name} could not be read: {exc}") from exc
    return out


def load_model_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Read an SMPL-X model file (.npz or .pkl) safely and check it is SMPL-X.

    Returns the numeric arrays by key (``v_template`` (V, 3), ``f`` (F, 3),
    ``J_regressor`` (55, V), ``weights`` (V, 55), ``kintree_table`` (2, 55),
    ``shapedirs`` (V, 3, S), ``posedirs`` (V, 3, 486), ...).
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"SMPL-X model file not found: {path}")
    data = _load_pkl(path) if path.suffix.lower() == ".pkl" else _load_npz(path)
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise ModelFileError(
            f"{path.name} is not an SMPL-X model file (missing {', '.join(missing)}); "
            "SMPL and SMPL+H files are not supported"
        )
    verts = data["v_template"].shape[0]
    checks = {
        "v_template": (verts, 3), "J_regressor": (NUM_JOINTS, verts), "weights": (verts, NUM_JOINTS),
        "kintree_table": (2, NUM_JOINTS),
    }
    for key, shape in checks.items():
        if data[key].shape != shape:
            raise ModelFileError(
                f"{path.name}: '{key}' has shape {data[key].shape}, SMPL-X needs {shape}"
            )
    if data["shapedirs"].ndim != 3 or data["shapedirs"].shape[:2] != (verts, 3):
        raise ModelFileError(f"{path.name}: 'shapedirs' has shape {data['shapedirs'].shape}")
    if data["posedirs"].shape[:2] != (verts, 3) or data["posedirs"].shape[-1] != 9 * (NUM_JOINTS - 1):
        raise ModelFileError(f"{path.name}: 'posedirs' has shape {data['posedirs'].shape}")
    for key in ("v_template", "J_regressor", "weights", "shapedirs", "posedirs"):
        if not np.isfinite(data[key]).all():
            raise ModelFileError(f"{path.name}: '{key}' holds NaN or infinite values")
    return data


# ---------------------------------------------------------------------------
# The format's fixed sizes (the smplx library's vertex ids index into them).

SMPLX_NUM_VERTICES = 10475
SMPLX_NUM_FACES = 20908
