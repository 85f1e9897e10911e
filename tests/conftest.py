"""Shared fixtures: real video clips, fetched and cut once, cached between runs.

No media is committed: the demo clip comes from the sports2d wheel on PyPI
(BSD-3-Clause) through ``dev.py``, and short clips are cut from it here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE_PYTHON = os.environ.get("BLENDER_MOCAP_ENGINE_PYTHON") or sys.executable


def _cache() -> Path:
    path = Path(os.environ.get("BLENDER_MOCAP_CACHE", "")) if os.environ.get("BLENDER_MOCAP_CACHE") else None
    if path is None:
        sys.path.insert(0, str(ROOT))
        import dev

        path = dev.CACHE
    path.mkdir(parents=True, exist_ok=True)
    return path


def cut_clip(source: Path, target: Path, *, start: int, count: int, width: int) -> Path:
    """Write frames [start, start+count) of ``source`` scaled to ``width`` px as MP4."""
    import cv2

    if target.is_file():
        return target
    cap = cv2.VideoCapture(str(source))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    partial = target.with_name(target.stem + ".partial.mp4")
    writer = None
    for _ in range(count):
        ok, frame = cap.read()
        if not ok:
            break
        h, w = frame.shape[:2]
        size = (width, round(h * width / w) // 2 * 2)
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        if writer is None:
            writer = cv2.VideoWriter(str(partial), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        writer.write(frame)
    cap.release()
    assert writer is not None, f"could not read {source}"
    writer.release()
    partial.replace(target)
    return target


@pytest.fixture(scope="session")
def demo_video() -> Path:
    """The real demo clip: 1768x994, 30 fps, 230 frames; a man on a box, a woman walking."""
    clip = _cache() / "demo.mp4"
    if not clip.is_file():
        sys.path.insert(0, str(ROOT))
        import dev

        clip = dev.demo_clip()
    return clip


@pytest.fixture(scope="session")
def short_clip(demo_video: Path) -> Path:
    """Frames 30-89 of the demo (2 s, 640x360): the man raises both arms near frame 60 (30 here)."""
    return cut_clip(demo_video, _cache() / "demo_30-89_640.mp4", start=30, count=60, width=640)


@pytest.fixture(scope="session")
def second_clip(demo_video: Path) -> Path:
    """Frames 140-179 of the demo (480x270): he walks along the box, the woman crosses below."""
    return cut_clip(demo_video, _cache() / "demo_140-179_480.mp4", start=140, count=40, width=480)


@pytest.fixture(scope="session")
def engine_python() -> str:
    """The Python that runs the engine (``python -m core``) in tests."""
    return ENGINE_PYTHON
