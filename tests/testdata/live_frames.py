"""The demo clip as the live bench streams it (test data: never shipped): 640x480 RGB frames, letterboxed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np


def letterboxed_frames(video: Path, count: int) -> Iterator[tuple[int, np.ndarray]]:
    """(index, (480, 640, 3) RGB uint8) for the first ``count`` frames of the 16:9 ``video``: scaled to 640x360
    and centred between black bars, as ``bench live`` plays the demo. Fails if the video has fewer frames."""
    import cv2

    cap = cv2.VideoCapture(str(video))
    try:
        for index in range(count):
            ok, bgr = cap.read()
            assert ok, f"{video} has fewer than {count} frames"
            small = cv2.resize(bgr, (640, 360), interpolation=cv2.INTER_AREA)
            yield index, cv2.cvtColor(cv2.copyMakeBorder(small, 60, 60, 0, 0, cv2.BORDER_CONSTANT), cv2.COLOR_BGR2RGB)
    finally:
        cap.release()
