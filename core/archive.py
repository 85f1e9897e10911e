"""Read chosen arrays from an ``.npz`` archive without trusting what it declares.

``np.load(path)[key]`` believes the archive: a member whose header declares a
(10**12, 165) array asks for terabytes, a small archive can hold gigabytes of
zeros that compress to nothing, and any ``ValueError`` looks like a pickle. Here
only the wanted members are opened; each ``.npy`` header is read first and its
declared shape and dtype are checked against the member's stored size, a
frame limit and a byte budget before a single element is read. Decompression
never produces more than the member's declared size (``zipfile`` stops there
and checks the CRC), so the budget bounds memory.

numpy and the standard library only: the Blender side reads motion files too.
"""

from __future__ import annotations

import io
import math
import os
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import numpy as np
from numpy.lib import format as npy_format

from .errors import MocapError

MAX_LEADING = 10_000_000
"""Most rows one array may declare: about 3.8 days of frames at 30 fps."""
MAX_BYTES = 2 * 1024**3
"""Most bytes all wanted members may decompress to together (a 100,000-frame take needs ~0.3 GB)."""


class ArchiveError(MocapError):
    """An archive that cannot be read safely; the message names the file and the fault."""


class NotAnArchiveError(ArchiveError):
    """The file is not a zip archive at all."""


class PickledArrayError(ArchiveError):
    """A member holds Python objects (reading them could run code)."""


def _header(fp, name: str, key: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = npy_format.read_magic(fp)
        if version == (1, 0):
            return npy_format.read_array_header_1_0(fp)
        if version == (2, 0):
            return npy_format.read_array_header_2_0(fp)
        raise ValueError(f"unsupported .npy version {version}")
    except ValueError as exc:
        raise ArchiveError(f"{name} is damaged: member '{key}' is not a NumPy array ({exc})") from exc


def read_arrays(
    path: str | os.PathLike[str],
    keys: Iterable[str],
    *,
    max_bytes: int = MAX_BYTES,
    max_leading: int = MAX_LEADING,
) -> dict[str, np.ndarray]:
    """The members of ``keys`` that the archive holds, as arrays; all other members stay unread.

    Raises:
        NotAnArchiveError: the file is not a zip archive.
        ArchiveError: the file cannot be opened (the OS's reason), or a wanted member is damaged, declares more data than it
            stores, more than ``max_leading`` rows, or the wanted members
            together exceed ``max_bytes``.
        PickledArrayError: a wanted member holds Python objects.
    """
    path = Path(path)
    name = path.name
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise ArchiveError(f"cannot open {path}: {exc.strerror or exc}") from exc
    with fh:
        try:
            archive = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise NotAnArchiveError(f"{name} is not a readable .npz archive ({exc})") from exc
        with archive:
            members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
            wanted = [key for key in dict.fromkeys(keys) if key in members]
            budget = max_bytes
            out: dict[str, np.ndarray] = {}
            for key in wanted:
                info = members[key]
                if info.file_size > budget:
                    raise ArchiveError(
                        f"{name}: member '{key}' unpacks to {info.file_size / 1e6:.0f} MB, more than the "
                        f"{max_bytes / 1e9:.1f} GB a motion file may hold: it is damaged or not a motion file"
                    )
                budget -= info.file_size
                out[key] = _read_member(archive, info, name, key, max_leading)
    return out


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, key: str,
                 max_leading: int) -> np.ndarray:
    try:
        with archive.open(info) as fp:
            shape, fortran, dtype = _header(fp, name, key)
            if dtype.hasobject:
                raise PickledArrayError(
                    f"{name} holds pickled Python objects (member '{key}'), which are refused because "
                    "loading them can run code. Export it again as plain arrays."
                )
            if shape and shape[0] > max_leading:
                raise ArchiveError(f"{name}: member '{key}' declares {shape[0]:,} rows; the limit is "
                                   f"{max_leading:,}: it is damaged or not a motion file")
            count = math.prod(shape)  # Python ints: a forged shape cannot overflow into a match
            stored = info.file_size - fp.tell()
            if count * dtype.itemsize != stored:
                raise ArchiveError(
                    f"{name} is damaged: member '{key}' declares a {shape} {dtype} array "
                    f"({count * dtype.itemsize:,} bytes) but stores {stored:,} bytes"
                )
            data = bytearray(stored)  # writable, filled in place: no second copy of a large member
            view, got = memoryview(data), 0
            while got < stored:
                n = cast(io.BufferedIOBase, fp).readinto(view[got:])  # a ZipExtFile
                if not n:
                    break
                got += n
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:  # CRC, truncation, bad deflate data
        raise ArchiveError(f"{name} is damaged: member '{key}' cannot be read ({exc})") from exc
    except (NotImplementedError, RuntimeError) as exc:  # unknown compression, encrypted member
        raise ArchiveError(f"{name}: member '{key}' cannot be read ({exc})") from exc
    if got != stored:
        raise ArchiveError(f"{name} is damaged: member '{key}' is truncated")
    array = np.frombuffer(data, dtype=dtype, count=count)
    return array.reshape(shape[::-1]).transpose() if fortran else array.reshape(shape)
