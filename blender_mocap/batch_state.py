"""What a batch remembers between runs: a manifest per video, so a re-run skips finished work.

``<out>/.blender-mocap/<stem>.json`` records the input's signature (path, size,
time), the settings' digest and the outputs written, by key: a format
(``"blend"``, ``"npz"`` ...) for a one-person take, ``"person<N>.<format>"``
per person of a ``--people all`` take (``blender_mocap.people``). A video is
complete when its manifest matches the input and the settings, every output it
lists exists and is newer than the input, and every format asked for is among
them. Also :func:`stopper`, the cancel check between a batch's steps (``batch``, ``people``).
Pure Python (no bpy).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.errors import CancelledError, MocapError

STATE_DIR = ".blender-mocap"
"""The output folder's subfolder with the batch's own files (manifests, the lock, the engine's scratch files)."""


def stopper(should_cancel: Callable[[], bool]) -> Callable[[str], None]:
    """``stop(what)``, called between a batch's steps: raise CancelledError saying what was under way when a
    cancel is pending."""
    def stop(what: str) -> None:
        if should_cancel():
            raise CancelledError(f"cancelled while {what}; it was not kept")
    return stop


def output_folder(out_dir: str | Path) -> Path:
    """``out_dir`` as a Path, created with its state folder; MocapError when it cannot be written."""
    out_dir = Path(out_dir)
    try:
        (out_dir / STATE_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MocapError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}. "
                         "Choose a folder you can write to.") from exc
    return out_dir


def input_signature(video: Path) -> dict[str, Any]:
    """What identifies an input video's contents cheaply: its resolved path, size and modification time (ns)."""
    st = video.stat()
    return {"path": str(video.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def manifest_path(out_dir: Path, stem: str) -> Path:
    return out_dir / STATE_DIR / f"{stem}.json"


def manifest(video: Path, settings: Any, outputs: dict[str, str]) -> str:
    """The manifest's text for ``video`` converted with ``settings`` (a ``batch.BatchSettings``) into
    ``outputs`` (key -> path, as ``batch.VideoReport.outputs``)."""
    return json.dumps({"input": input_signature(video), "settings": settings.digest(), "outputs": outputs},
                      indent=1)


def _covers(key: str, fmt: str) -> bool:
    """Whether the output key ``key`` (``"fbx"``, ``"person2.fbx"``) is a file of format ``fmt``."""
    return key == fmt or key.endswith(f".{fmt}")


def complete_outputs(video: Path, out_dir: Path, stem: str, settings: Any) -> dict[str, str] | None:
    """The outputs of ``video`` (key -> path in ``out_dir``) when a re-run with ``settings`` has nothing to
    do (see the module docstring); None when it must convert the video (again)."""
    try:
        recorded = json.loads(manifest_path(out_dir, stem).read_text(encoding="utf-8"))
        signature = input_signature(video)
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or recorded.get("input") != signature \
            or recorded.get("settings") != settings.digest():
        return None
    listed = recorded.get("outputs")
    if not isinstance(listed, dict):
        return None
    # Where the files are now: the folder may have been moved since, the names stay.
    outputs = {str(key): str(out_dir / Path(str(path)).name) for key, path in listed.items()}
    if not all(any(_covers(key, fmt) for key in outputs) for fmt in settings.outputs):
        return None
    for path in outputs.values():
        out = Path(path)
        if not out.is_file() or out.stat().st_mtime_ns < signature["mtime_ns"]:
            return None
    return outputs
