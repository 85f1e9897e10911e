"""core/ must run without Blender: every core module imports with bpy unimportable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import importlib, pkgutil, sys
for name in ("bpy", "mathutils", "bpy_extras", "bmesh"):
    sys.modules[name] = None  # any import of these now raises ImportError
import core
names = ["core"] + [m.name for m in pkgutil.walk_packages(core.__path__, "core.")
                    if m.name != "core.__main__"]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_every_core_module_imports_without_blender() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    # The walk must have found the real package, not an empty one.
    assert int(proc.stdout.strip()) >= 8


def test_core_package_import_is_light() -> None:
    """The Blender side imports core.motion: that must not pull in torch or OpenCV."""
    code = (
        "import sys; import core.motion, core.errors, core.skeleton, core.rotations; "
        "print(sorted(m for m in ('torch', 'cv2', 'mediapipe', 'smplx') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
