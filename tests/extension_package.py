"""The repository root imported as the extension package, for tests and benchmarks.

The repository root is the extension, and its modules import each other
relatively (``blender_mocap`` imports ``..core``), so they only import as
submodules of a package whose path is the root. Blender names that package
``bl_ext.<repository>.blender_mocap``; here it is ``blender_mocap_ext``, made
as an empty module with the root as its path, so the root's ``__init__.py``
(which imports bpy and registers the add-on) does not run.

Used by tests/blender (real bpy), tests/mocked (fake-bpy-module, a small venv)
and the benchmarks that drive the Blender side (bench/ puts tests/ on its
path): stdlib only.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

PACKAGE = "blender_mocap_ext"
ROOT = Path(__file__).resolve().parents[1]


def extension(*submodules: str) -> types.ModuleType:
    """The package ``blender_mocap_ext`` (made once), with ``submodules`` (e.g. "blender_mocap.keying") imported."""
    pkg = sys.modules.get(PACKAGE)
    if pkg is None:
        pkg = types.ModuleType(PACKAGE)
        pkg.__path__ = [str(ROOT)]
        pkg.__file__ = str(ROOT / "__init__.py")
        sys.modules[PACKAGE] = pkg
    for sub in submodules:
        importlib.import_module(f"{PACKAGE}.{sub}")
    return pkg


def extension_module(name: str) -> types.ModuleType:
    """The extension's module ``name`` (e.g. "blender_mocap.settings"), imported."""
    extension(name)
    return sys.modules[f"{PACKAGE}.{name}"]
