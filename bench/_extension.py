"""The repository root imported as the add-on package ``blender_mocap_ext``, as Blender would
load the extension, for benchmarks that drive the Blender side (``bpy`` must be importable)."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

PACKAGE = "blender_mocap_ext"
ROOT = Path(__file__).resolve().parents[1]


def extension(*submodules: str) -> types.ModuleType:
    """The package (made once), with ``submodules`` (e.g. "blender_mocap.keying") imported."""
    pkg = sys.modules.get(PACKAGE)
    if pkg is None:
        pkg = types.ModuleType(PACKAGE)
        pkg.__path__ = [str(ROOT)]
        sys.modules[PACKAGE] = pkg
    for sub in submodules:
        importlib.import_module(f"{PACKAGE}.{sub}")
    return pkg
