"""Test clip helpers: reading a few RGB frames, and the FFmpeg of the imageio-ffmpeg wheel."""

from __future__ import annotations

import subprocess

import cv2
import numpy as np


def read_frames(path, count: int, start: int = 0) -> list[np.ndarray]:
    """Up to ``count`` RGB uint8 frames of the video ``path`` from frame ``start``."""
    cap = cv2.VideoCapture(str(path))
    if start:
        cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    out = []
    while len(out) < count:
        ok, f = cap.read()
        if not ok:
            break
        out.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    cap.release()
    return out


def ffmpeg(*args: str) -> None:
    """Run the FFmpeg binary of the imageio-ffmpeg wheel (overwriting outputs, errors only); raise on failure."""
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True, timeout=60)
