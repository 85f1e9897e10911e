"""OSC 1.0 encoding (Open Sound Control): the messages and bundles VMC receivers read. Standard library only.

A message is its address pattern, a type-tag string (``,`` then one tag per
argument: ``s`` string, ``f`` float32, ``i`` int32) and the arguments, each
padded to a multiple of 4 bytes, numbers big-endian. A bundle is ``#bundle``,
a 64-bit NTP time tag (1 = "immediately") and its elements, each preceded by
its int32 size. (opensoundcontrol.stanford.edu/spec-1_0.html)
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

Arg = str | float | int

IMMEDIATELY = 1
"""The time tag of a bundle to act on at once."""


def _padded(raw: bytes) -> bytes:
    """``raw`` with its terminating NUL, padded with NULs to a multiple of 4 bytes."""
    return raw + b"\0" * (4 - len(raw) % 4)


def message(address: str, args: Sequence[Arg] = ()) -> bytes:
    """One OSC message. Python ints are int32 (``i``), floats float32 (``f``), strings ``s``."""
    if not address.startswith("/"):
        raise ValueError(f"an OSC address starts with '/': {address!r}")
    tags = [","]
    data = []
    for arg in args:
        if isinstance(arg, str):
            tags.append("s")
            data.append(_padded(arg.encode("utf-8")))
        elif isinstance(arg, bool) or not isinstance(arg, (int, float)):
            raise TypeError(f"OSC argument of type {type(arg).__name__}: use str, float or int")
        elif isinstance(arg, int):
            tags.append("i")
            data.append(struct.pack(">i", arg))
        else:
            tags.append("f")
            data.append(struct.pack(">f", arg))
    return _padded(address.encode("ascii")) + _padded("".join(tags).encode("ascii")) + b"".join(data)


def bundle(elements: Iterable[bytes], time_tag: int = IMMEDIATELY) -> bytes:
    """An OSC bundle of encoded messages (or bundles)."""
    parts = [b"#bundle\0", struct.pack(">Q", time_tag)]
    for element in elements:
        parts += [struct.pack(">i", len(element)), element]
    return b"".join(parts)
