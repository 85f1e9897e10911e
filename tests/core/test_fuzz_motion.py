"""The motion-file reader never crashes with anything but our own error (hypothesis fuzzing)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.motion import Motion, MotionFileError, read_motion, write_motion

KEYS = ["poses", "trans", "betas", "expression", "mocap_framerate", "mocap_frame_rate", "frame_indices",
        "confidence", "bridged", "reprojection_error", "camera_intrinsics", "camera_extrinsics",
        "image_size", "world_up", "joint_names", "parents", "rest_joints", "v_template", "faces",
        "skin_weights", "shape_dirs", "expression_dirs", "keypoints_2d", "quality_names",
        "quality_values", "format_version", "format_name", "gender", "body_model", "source_video",
        "root_orient", "pose_body", "pose_hand", "pose_jaw", "pose_eye"]

dims = st.sampled_from([0, 1, 2, 3, 5, 55, 165])
shapes = st.lists(dims, min_size=0, max_size=3).map(tuple)
dtypes = st.sampled_from([np.float32, np.float64, np.int32, np.int64, np.bool_, np.uint8, "U8", "S4", np.complex64])
specials = st.sampled_from([0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e30, 7.0])


@st.composite
def arrays(draw):
    shape = draw(shapes)
    dtype = draw(dtypes)
    fill = draw(specials)
    size = int(np.prod(shape)) if shape else 1
    if np.dtype(dtype).kind in "US":
        return np.full(shape, draw(st.sampled_from(["neutral", "smplx", "x", ""])), dtype=dtype)
    with np.errstate(invalid="ignore", over="ignore"):
        values = np.linspace(-2, 2, size).reshape(shape) if size else np.zeros(shape)
        values = np.where(np.arange(size).reshape(shape) % 7 == 3, fill, values) if size else values
        return values.astype(dtype)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contents=st.dictionaries(st.sampled_from(KEYS), arrays(), max_size=12))
def test_random_archives(tmp_path_factory, contents: dict[str, np.ndarray]) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "m.npz"
    np.savez(path, **contents)
    try:
        motion = read_motion(path)
    except MotionFileError:
        return
    assert isinstance(motion, Motion) and motion.num_frames >= 1


def _valid(frames: int = 4) -> Motion:
    return Motion(
        poses=np.zeros((frames, 165), np.float32), trans=np.zeros((frames, 3), np.float32),
        betas=np.zeros(5, np.float32), fps=30.0, frame_indices=np.arange(frames),
        confidence=np.ones(frames, np.float32), bridged=np.zeros(frames, bool),
        reprojection_error=np.zeros(frames, np.float32), expression=np.zeros((frames, 0), np.float32),
        rest_joints=np.zeros((55, 3), np.float32), body_model="mannequin",
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(KEYS), value=arrays())
def test_one_key_replaced_in_a_valid_file(tmp_path_factory, key: str, value: np.ndarray) -> None:
    folder = tmp_path_factory.mktemp("fuzz1")
    good = write_motion(folder / "good.npz", _valid())
    with np.load(good) as npz:
        data = {k: npz[k] for k in npz.files}
    data[key] = value
    bad = folder / "bad.npz"
    np.savez(bad, **data)
    try:
        read_motion(bad)
    except MotionFileError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4096), cut=st.integers(min_value=0, max_value=100))
def test_random_and_damaged_bytes(tmp_path_factory, data: bytes, cut: int) -> None:
    folder = tmp_path_factory.mktemp("fuzz2")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("poses.npy", data)
    for i, blob in enumerate([data, buffer.getvalue(), buffer.getvalue()[: len(buffer.getvalue()) * cut // 100]]):
        path = folder / f"{i}.npz"
        path.write_bytes(blob)
        try:
            read_motion(path)
        except MotionFileError:
            pass


def test_fuzzing_reaches_valid_files_too(tmp_path: Path) -> None:
    """The strategies can build a readable file, so the fuzzing is not only testing rejection."""
    path = write_motion(tmp_path / "ok.npz", _valid())
    assert read_motion(path).num_frames == 4
