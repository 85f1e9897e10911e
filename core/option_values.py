"""Value types of the option table's command-line options (argparse ``type=`` callables).

Standard library only, like :mod:`core.options`, which declares the options
that use them: both sides of the extension import these.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable


def positive_int(text: str) -> int:
    """argparse type: an integer of 1 or more."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def unit_interval(text: str) -> float:
    """argparse type: a number from 0 to 1."""
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def angle_within(limit: float) -> Callable[[str], float]:
    """argparse type: an angle in degrees from -limit to limit."""

    def parse(text: str) -> float:
        value = float(text)
        if not -limit <= value <= limit:
            raise argparse.ArgumentTypeError(f"must be between {-limit:g} and {limit:g} degrees, got {value:g}")
        return value

    return parse


PERSON_FORMAT = "X,Y or X,Y@FRAME"


def parse_person(text: str) -> tuple[float, float, int | None]:
    """``"X,Y"`` or ``"X,Y@FRAME"`` -> (x, y, frame or None): a pixel of the video on the person to
    follow, in a 0-based video frame (None: the capture's first frame). ValueError says what is wrong."""
    where, _, frame = str(text).strip().partition("@")
    parts = where.split(",")
    try:
        x, y = (float(p) for p in parts) if len(parts) == 2 else (None, None)
        at = int(frame) if frame.strip() else None
    except ValueError:
        x = None
    if x is None or y is None or (frame and at is None):
        raise ValueError(f"{text!r}: give a pixel of the video as {PERSON_FORMAT}, e.g. 640,360 or 640,360@120")
    if x < 0 or y < 0 or (at is not None and at < 0):
        raise ValueError(f"{text!r}: the pixel and the frame must be 0 or more")
    return x, y, at


def offsets_list(text: str) -> str:
    """argparse type: comma-separated seconds, one per video (``"0,1.37,-0.4"``), kept as text."""
    try:
        [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds per video separated by commas, got {text!r}") from None
    return text


def positive_metres(text: str) -> float:
    """argparse type: a length in metres from 0.5 to 2.5 (a person's height)."""
    value = float(text)
    if not 0.5 <= value <= 2.5:
        raise argparse.ArgumentTypeError(f"must be between 0.5 and 2.5 metres, got {value:g}")
    return value


def person_pick(text: str) -> str:
    """argparse type: a person pick (see :func:`parse_person`), written back in its plain form."""
    try:
        x, y, at = parse_person(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return f"{x:g},{y:g}" + ("" if at is None else f"@{at}")
