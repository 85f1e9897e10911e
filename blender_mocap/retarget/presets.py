"""Mapping presets as JSON files: the built-in ones (``presets/``) and the user's own.

A preset file::

    {"format": "blender-mocap/retarget-preset", "version": 1, "name": "mixamo",
     "description": "...", "bones": {"mixamorig:Hips": "pelvis", ...}}

``bones`` maps target bone names to SMPL-X joint names. Standard library only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ...core.errors import MocapError
from ...core.skeleton import JOINT_NAMES
from .mapping import Mapping

PRESET_FORMAT = "blender-mocap/retarget-preset"
PRESET_VERSION = 1
BUILTIN_DIR = Path(__file__).resolve().parent / "presets"
BUILTIN = ("rigify", "mixamo", "unreal")
"""The built-in presets, in the order auto-mapping tries them."""


def read_preset(path: str | os.PathLike[str]) -> Mapping:
    """The mapping in a preset file; MocapError says what is wrong with it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MocapError(f"cannot read the mapping preset {path}: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MocapError(f"the mapping preset {path.name} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != PRESET_FORMAT or not isinstance(data.get("bones"), dict):
        raise MocapError(f"{path.name} is not a blender-mocap mapping preset (it needs \"format\": "
                         f"\"{PRESET_FORMAT}\" and a \"bones\" object)")
    if int(data.get("version", 0)) > PRESET_VERSION:
        raise MocapError(f"{path.name} is a newer preset (version {data.get('version')}); update the add-on")
    bones = data["bones"]
    bad = sorted(str(j) for j in bones.values() if j not in JOINT_NAMES)
    if bad:
        raise MocapError(f"{path.name}: not SMPL-X joints: {', '.join(bad[:5])}")
    return {str(b): str(j) for b, j in bones.items()}


def write_preset(path: str | os.PathLike[str], mapping: Mapping, name: str = "", description: str = "") -> Path:
    """Save ``mapping`` as a preset file (UTF-8 JSON) at ``path``."""
    path = Path(path)
    data = {"format": PRESET_FORMAT, "version": PRESET_VERSION, "name": name or path.stem,
            "description": description, "bones": dict(mapping)}
    try:
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise MocapError(f"cannot write the mapping preset {path}: {exc.strerror}") from exc
    return path


def builtin_preset(name: str) -> Mapping:
    """One of :data:`BUILTIN` by name."""
    if name not in BUILTIN:
        raise MocapError(f"unknown mapping preset '{name}': choose {', '.join(BUILTIN)}, auto or a .json file")
    return read_preset(BUILTIN_DIR / f"{name}.json")


def builtin_presets() -> list[tuple[str, Mapping]]:
    """(name, mapping) of every built-in preset, plus ``smplx`` (our own armature: bone = joint)."""
    return [(name, builtin_preset(name)) for name in BUILTIN] + [("smplx", {j: j for j in JOINT_NAMES})]


def preset_by_choice(choice: str) -> Mapping | None:
    """``auto`` -> None; a built-in name -> its mapping; anything else is read as a preset file."""
    if choice in ("", "auto"):
        return None
    if choice in BUILTIN:
        return builtin_preset(choice)
    if not choice.lower().endswith(".json"):
        raise MocapError(f"unknown mapping preset '{choice}': choose {', '.join(BUILTIN)}, auto or a .json file")
    return read_preset(choice)
