"""QuickTime metadata items ('mdta' keys) of an MP4/MOV file, read from the box tree in pure Python.

OpenCV does not expose container metadata, and the engine adds no dependency
for it: this walks the ISO-BMFF / QuickTime box ("atom") tree itself, reading
box headers and seeking past everything else, so a file of any size costs a few
small reads (the 'mdat' media data is never read).

What is read, and where it is documented:

- QuickTime metadata: a 'meta' box whose 'hdlr' handler type is 'mdta', holding
  a 'keys' box (full box: version/flags, entry_count, then entries of
  key_size (4 bytes, counting itself), key_namespace (4, 'mdta'), key_value
  (UTF-8)) and an 'ilst' box whose children are items typed by the 1-based
  index of their key, each holding 'data' boxes: type indicator (4 bytes, the
  first 0 = well-known set), locale (4), value. Apple, QuickTime File Format:
  "Metadata atom ('meta')", "Metadata item keys atom ('keys')", "Metadata item
  list atom ('ilst')", "Data atom ('data')", "Well-known types"
  (developer.apple.com/documentation/quicktime-file-format).
- Where the 'meta' box sits: Apple's recorders write it in 'moov'; Apple
  documents the camera keys as "track-level metadata for video track"
  (AVFoundation, AVMetadataKey.quickTimeMetadataKeyCameraFocalLength35mmEquivalent),
  so 'trak' (and 'trak'/'udta') is searched too; FFmpeg (``-movflags
  use_metadata_tags``, checked with the FFmpeg of the imageio-ffmpeg wheel)
  writes it in 'moov'/'udta' as an ISO full box (4 bytes of version/flags
  before 'hdlr'). Both that and the QuickTime form ('hdlr' first) of 'meta'
  are accepted.
- Value types decoded (well-known types table): 1 UTF-8 (a number is taken
  from its start, so Apple's documented example "50.00mm" reads as 50),
  21/22 big-endian signed/unsigned integer of 1-4 bytes, 23/24 big-endian
  IEEE float32/float64, 65-67/74 and 75-78 fixed-width signed/unsigned
  integers. Other types are ignored.

Anything the reader does not understand (not a box tree, sizes that overrun
their parent, a truncated file, an unknown value type) yields no value, never
an exception: :func:`read_mdta_items` returns what it could read, possibly {}.
A box size of 0 ("to the end of the enclosing box or file") and 1 (a 64-bit
size follows the type) are handled.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

MAX_BOXES_PER_LEVEL = 100_000
"""Stop walking one level of the tree after this many boxes (a fragmented file
has one 'moof' + 'mdat' pair per fragment; a hostile one could have millions)."""

MAX_KEYS_BYTES = 1 << 20
"""The largest 'keys' box read (a phone's holds a few dozen keys, under 4 KB)."""

MAX_VALUE_BYTES = 4096
"""The largest 'data' value read: the values wanted here are short numbers and names."""

MAX_DEPTH = 4
"""How deep 'meta' boxes are looked for: moov/meta, moov/udta/meta, moov/trak/meta, moov/trak/udta/meta."""

_NUMBER = re.compile(r"\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))")


def _boxes(f: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of each box in [start, end); stops at the first malformed one."""
    pos = start
    for _ in range(MAX_BOXES_PER_LEVEL):
        if pos + 8 > end:
            return
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            return
        size, kind = struct.unpack(">I4s", head)
        header = 8
        if size == 1:  # a 64-bit size follows the type
            large = f.read(8)
            if len(large) < 8:
                return
            size = struct.unpack(">Q", large)[0]
            header = 16
        elif size == 0:  # the box runs to the end of its parent (or of the file)
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _meta_children_start(f: BinaryIO, start: int, end: int) -> int | None:
    """Where the child boxes of a 'meta' box begin: QuickTime form ('hdlr' first) or ISO full box."""
    f.seek(start)
    head = f.read(12)
    if len(head) >= 8 and head[4:8] == b"hdlr":
        return start
    if len(head) >= 12 and head[8:12] == b"hdlr":
        return start + 4
    return None


def _parse_keys(data: bytes) -> dict[int, str]:
    """1-based key index -> key name ('mdta' namespace only) from a 'keys' payload."""
    if len(data) < 8:
        return {}
    count = struct.unpack(">I", data[4:8])[0]
    keys: dict[int, str] = {}
    pos = 8
    for index in range(1, count + 1):
        if pos + 8 > len(data):
            break
        size = struct.unpack(">I", data[pos:pos + 4])[0]
        if size < 8 or pos + size > len(data):
            break
        if data[pos + 4:pos + 8] == b"mdta":
            try:
                keys[index] = data[pos + 8:pos + size].decode("utf-8")
            except UnicodeDecodeError:
                pass
        pos += size
    return keys


_INTEGER_TYPES: dict[int, tuple[tuple[int, ...], bool]] = {
    21: ((1, 2, 3, 4), True), 22: ((1, 2, 3, 4), False),  # big-endian, any width up to 4 bytes
    65: ((1,), True), 66: ((2,), True), 67: ((4,), True), 74: ((8,), True),
    75: ((1,), False), 76: ((2,), False), 77: ((4,), False), 78: ((8,), False),
}
"""Well-known integer types: type code -> (allowed byte widths, signed)."""


def decode_value(type_code: int, value: bytes) -> str | float | None:
    """A 'data' box value by its well-known type: str for text, float for numbers, None otherwise."""
    if type_code == 1:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    integer = _INTEGER_TYPES.get(type_code)
    if integer is not None:
        widths, signed = integer
        return float(int.from_bytes(value, "big", signed=signed)) if len(value) in widths else None
    if type_code == 23 and len(value) == 4:
        return float(struct.unpack(">f", value)[0])
    if type_code == 24 and len(value) == 8:
        return float(struct.unpack(">d", value)[0])
    return None


def as_number(value: str | float | None) -> float | None:
    """A finite number from a decoded value: numbers as they are, text by its leading number ("50.00mm" -> 50)."""
    if isinstance(value, str):
        match = _NUMBER.match(value)
        value = float(match.group(1)) if match else None
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _read_meta(f: BinaryIO, start: int, end: int, wanted: set[str], found: dict[str, str | float]) -> None:
    """Add the wanted 'mdta' items of one 'meta' box to ``found`` (items found earlier win)."""
    first = _meta_children_start(f, start, end)
    if first is None:
        return
    handler = None
    keys_at = ilst_at = None
    for kind, lo, hi in _boxes(f, first, end):
        if kind == b"hdlr":
            f.seek(lo)
            head = f.read(12)  # version/flags, pre-defined (QuickTime: component type), handler type
            handler = head[8:12] if len(head) == 12 else None
        elif kind == b"keys" and keys_at is None:
            keys_at = (lo, hi)
        elif kind == b"ilst" and ilst_at is None:
            ilst_at = (lo, hi)
    if handler != b"mdta" or keys_at is None or ilst_at is None or keys_at[1] - keys_at[0] > MAX_KEYS_BYTES:
        return
    f.seek(keys_at[0])
    keys = _parse_keys(f.read(keys_at[1] - keys_at[0]))
    indices = {index for index, name in keys.items() if name in wanted and name not in found}
    if not indices:
        return
    for kind, lo, hi in _boxes(f, *ilst_at):
        index = struct.unpack(">I", kind)[0]
        if index not in indices:
            continue
        for data_kind, dlo, dhi in _boxes(f, lo, hi):
            if data_kind != b"data" or dhi - dlo < 8 or dhi - dlo > 8 + MAX_VALUE_BYTES:
                continue
            f.seek(dlo)
            payload = f.read(dhi - dlo)
            if len(payload) != dhi - dlo or payload[0] != 0:  # only the well-known type set
                continue
            value = decode_value(int.from_bytes(payload[1:4], "big"), payload[8:])
            if value is not None:
                found.setdefault(keys[index], value)
                break


def _search(f: BinaryIO, start: int, end: int, depth: int, wanted: set[str], found: dict[str, str | float]) -> None:
    """Read every 'meta' box under a 'moov' (and its 'trak' and 'udta' boxes), in file order."""
    if depth > MAX_DEPTH:
        return
    for kind, lo, hi in _boxes(f, start, end):
        if kind == b"meta":
            _read_meta(f, lo, hi, wanted, found)
        elif kind in (b"trak", b"udta"):
            _search(f, lo, hi, depth + 1, wanted, found)


def read_mdta_items(path: str | Path, wanted: set[str] | frozenset[str]) -> dict[str, str | float]:
    """The wanted QuickTime metadata items ('mdta' keys) of an MP4/MOV file: key -> str or float.

    Keys absent from the file are absent from the result; a file that is not
    an MP4/MOV, is truncated or damaged, or cannot be opened gives {} (or what
    could be read before the damage). The first value met in file order wins
    when a key appears in more than one 'meta' box.
    """
    found: dict[str, str | float] = {}
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            for kind, lo, hi in _boxes(f, 0, size):
                if kind == b"moov":
                    _search(f, lo, hi, 1, set(wanted), found)
                    break  # a file has one movie box
    except (OSError, ValueError, struct.error, OverflowError):
        return found
    return found
