"""The motion-file reader trusts nothing an archive declares (issue 17, bug 5).

Each case is a real archive written byte for byte as an attacker or a broken
disk would leave it; before the bounded reader, the first three cost a
MemoryError traceback, gigabytes of memory, and a "pickled objects" message
for a file that holds none.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy_format

from core.archive import ArchiveError, read_arrays
from core.motion import MotionFileError, read_motion, write_motion
from core.skeleton import POSE_DIM

from test_motion import make_motion
from unprivileged import error_as_nobody, needs_root, shared_folder  # noqa: F401 - a fixture


def npy_header(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    buf = io.BytesIO()
    npy_format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()  # magic, version and header


def take(tmp_path: Path) -> Path:
    return write_motion(tmp_path / "take.npz", make_motion(6))


def with_member(src: Path, dst: Path, key: str, payload: bytes | None = None, *, zeros: int = 0,
                header: bytes | None = None) -> Path:
    """Copy ``src`` replacing (or adding) member ``key``: ``header`` + ``payload`` or ``zeros`` zero bytes."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != f"{key}.npy":
                zout.writestr(info, zin.read(info))
        with zout.open(f"{key}.npy", "w", force_zip64=True) as fh:
            fh.write(header if header is not None else npy_header((zeros // 4,)))
            if payload is not None:
                fh.write(payload)
            chunk = bytes(1 << 20)
            left = zeros
            while left > 0:
                fh.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
    return dst


def test_a_header_declaring_a_trillion_frames_is_refused_before_reading(tmp_path: Path) -> None:
    good = take(tmp_path)
    bad = with_member(good, tmp_path / "huge.npz", "poses", bytes(6 * POSE_DIM * 4),
                      header=npy_header((10**12, POSE_DIM)))
    with pytest.raises(MotionFileError, match="declares 1,000,000,000,000 rows"):
        read_motion(bad)
    small = with_member(good, tmp_path / "short.npz", "poses", bytes(6 * POSE_DIM * 4),
                        header=npy_header((7, POSE_DIM)))
    with pytest.raises(MotionFileError, match="damaged: member 'poses' declares .* stores"):
        read_motion(small)


def test_a_zip_bomb_in_an_unused_member_costs_no_memory(tmp_path: Path) -> None:
    bomb = with_member(take(tmp_path), tmp_path / "bomb.npz", "padding", zeros=512 * 1024**2)
    assert bomb.stat().st_size < 4 * 1024**2  # 512 MB of zeros in a small file
    tracemalloc.start()
    try:
        motion = read_motion(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert motion.num_frames == 6
    assert peak < 32 * 1024**2, f"reading took {peak / 1e6:.0f} MB"


def test_wanted_members_share_a_byte_budget(tmp_path: Path) -> None:
    path = with_member(take(tmp_path), tmp_path / "big.npz", "keypoints_2d", zeros=8 * 1024**2)
    with pytest.raises(ArchiveError, match="unpacks to 8 MB"):
        read_arrays(path, ["poses", "keypoints_2d"], max_bytes=4 * 1024**2)
    assert set(read_arrays(path, ["poses", "trans"], max_bytes=4 * 1024**2)) == {"poses", "trans"}


def test_a_damaged_header_is_called_damaged_not_pickled(tmp_path: Path) -> None:
    bad = with_member(take(tmp_path), tmp_path / "garbled.npz", "trans", header=b"\x93NUMPY\x01\x00garbage!")
    with pytest.raises(MotionFileError, match="damaged: member 'trans' is not a NumPy array") as info:
        read_motion(bad)
    assert "pickled" not in str(info.value)


def test_object_arrays_are_still_refused_as_pickles(tmp_path: Path) -> None:
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    bad = with_member(take(tmp_path), tmp_path / "pickled.npz", "betas", buf.getvalue(), header=b"")
    with pytest.raises(MotionFileError, match="pickled Python objects"):
        read_motion(bad)


def test_a_corrupted_member_is_reported_not_raised_raw(tmp_path: Path) -> None:
    good = take(tmp_path)
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("poses.npy")
        offset = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data = bytearray(good.read_bytes())
    for i in range(offset + 40, offset + 60):
        data[i] ^= 0xFF
    bad = tmp_path / "flipped.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(MotionFileError, match="damaged|not a readable"):
        read_motion(bad)


def test_fortran_order_and_values_round_trip(tmp_path: Path) -> None:
    arrays = {"a": np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4)),
              "b": np.array("text"), "c": np.arange(5, dtype=np.int32)}
    path = tmp_path / "plain.npz"
    np.savez_compressed(path, **arrays)
    back = read_arrays(path, ["a", "b", "c", "missing"])
    assert set(back) == {"a", "b", "c"}
    for key, value in arrays.items():
        np.testing.assert_array_equal(back[key], value)
        assert back[key].dtype == value.dtype
    back["c"][0] = 7  # a writable array the reader's callers may adjust in place


@needs_root
def test_permission_denied_says_so_not_not_an_npz(shared_folder: Path) -> None:
    """A real permission error, as the unprivileged user ``nobody`` meets it (root reads anything)."""
    path = write_motion(shared_folder / "private.npz", make_motion(3))
    path.chmod(0o600)
    message = error_as_nobody(lambda: read_motion(path), MotionFileError)
    assert "Permission denied" in message and "private.npz" in message, message
