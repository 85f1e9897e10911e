"""The bench's rendered clips with exact truth (``bench/groundtruth.py``, cached), for tests that run real models."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def first_frames(name: str, count: int) -> tuple[list[np.ndarray], Any]:
    """(the first ``count`` frames RGB, the prepared clip) of the bench's rendered clip ``name``."""
    cv2 = pytest.importorskip("cv2")
    sys.path.insert(0, str(ROOT / "bench"))
    import groundtruth

    clip = groundtruth.prepare_clip(groundtruth.clips_named(name)[0], log=lambda *a: None)
    cap = cv2.VideoCapture(str(clip.video))
    frames = []
    while len(frames) < count:
        ok, bgr = cap.read()
        assert ok, f"{clip.video} has fewer than {count} frames"
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames, clip
