"""Test clip helpers: reading a few RGB frames, and the FFmpeg of the imageio-ffmpeg wheel."""

from __future__ import annotations

import subprocess

import numpy as np

from core.video import iter_frames, open_video


def read_frames(path, count: int | None = None, start: int = 0) -> list[np.ndarray]:
    """Up to ``count`` (default: all) RGB uint8 frames of the video ``path`` from frame ``start``.

    Decoded as a capture decodes them (``core.video.iter_frames``).
    """
    end = None if count is None else start + count
    return [rgb for _, rgb in iter_frames(open_video(path), start=start, end=end)]


def ffmpeg(*args: str) -> None:
    """Run the FFmpeg binary of the imageio-ffmpeg wheel (overwriting outputs, errors only); raise on failure."""
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True, timeout=60)
