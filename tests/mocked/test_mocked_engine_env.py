"""Create Engine on Blender 5.1+ (Python 3.13, no MediaPipe wheels): the interpreter it builds from.

Real interpreters in real processes: a Python 3.13 stands in for Blender 5.1's own, and the
engine-environment module runs in it as it does inside Blender (standard library only).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ENGINE_ENV = Path(__file__).resolve().parents[2] / "blender_mocap" / "engine_env.py"

SEARCH = """
import json, sys
sys.path.insert(0, sys.argv[1])  # as dev.py imports it: the module is standard library only
import engine_env as env
try:
    commands = env.create_engine_commands(env.Path(sys.argv[2]))
except env.NoEnginePython as exc:
    print(json.dumps({"error": str(exc)}))
else:
    print(json.dumps({"venv": commands[0], "candidates": [c.describe() for c in env.base_python_candidates()]}))
"""


def _runs(exe: str | None, minor: int) -> bool:
    return bool(exe) and subprocess.run(
        [str(exe), "-c", f"import sys; assert sys.version_info[:2] == (3, {minor})"], capture_output=True).returncode == 0


def _python(minor: int) -> str | None:
    """An installed Python 3.<minor> that runs: this one, pyenv's (its shims run only the active one), PATH's."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = [sys.executable, *sorted(str(p) for p in pyenv.glob(f"versions/3.{minor}*/bin/python3.{minor}")),
                  shutil.which(f"python3.{minor}")]
    return next((exe for exe in candidates if exe and _runs(exe, minor)), None)


def _python_3_13() -> str:
    exe = _python(13)
    if exe is None:
        pytest.skip("no Python 3.13 here to stand in for Blender 5.1's")
    return exe


def _search(python: str, tmp_path: Path, **env: str) -> dict:
    proc = subprocess.run([python, "-c", SEARCH, str(ENGINE_ENV.parent), str(tmp_path / "engine")], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _version(python: list[str]) -> tuple[int, int]:
    out = subprocess.run([*python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True,
                         text=True, timeout=60).stdout.split()
    return int(out[0]), int(out[1])


def test_on_python_3_13_the_engine_is_made_from_a_3_11_or_3_12_of_the_machine(tmp_path: Path) -> None:
    python = _python_3_13()
    if not (_python(11) or _python(12)):
        pytest.skip("no Python 3.11 or 3.12 on this machine")
    found = _search(python, tmp_path)
    assert "venv" in found, found
    assert found["venv"][-3:] == ["-m", "venv", str(tmp_path / "engine")]
    assert _version(found["venv"][:-3]) in ((3, 11), (3, 12))  # not the 3.13 it ran in


def test_without_a_suitable_python_it_says_exactly_what_to_install(tmp_path: Path) -> None:
    python = _python_3_13()
    empty = tmp_path / "empty"
    empty.mkdir()
    found = _search(python, tmp_path, PATH=str(empty), UV_PYTHON_INSTALL_DIR=str(empty), PYENV_ROOT=str(empty))
    message = found.get("error", "")
    assert "Python 3.11 or 3.12" in message and "MediaPipe" in message, found
    assert "uv python install 3.11" in message
    if sys.platform.startswith("linux"):
        assert "python3.11-venv" in message


def test_a_python_that_uv_installed_is_found(tmp_path: Path) -> None:
    """uv keeps its Pythons in cpython-X.Y.Z-<platform> folders; nothing else on PATH."""
    python = _python_3_13()
    real = _python(11) or _python(12)
    if real is None or sys.platform == "win32":
        pytest.skip("needs a python3.11 or python3.12 to lay out as uv does")
    version = _version([real])
    real_exe = subprocess.run([real, "-c", "import sys; print(sys.executable)"], capture_output=True,
                              text=True).stdout.strip()
    uv = tmp_path / "uv"
    exe = uv / f"cpython-{version[0]}.{version[1]}.0-linux-x86_64-gnu" / "bin" / f"python{version[0]}.{version[1]}"
    exe.parent.mkdir(parents=True)
    exe.symlink_to(real_exe)
    empty = tmp_path / "empty"
    empty.mkdir()
    found = _search(python, tmp_path, PATH=str(empty), UV_PYTHON_INSTALL_DIR=str(uv), PYENV_ROOT=str(empty))
    assert "venv" in found, found
    assert any("from uv" in c for c in found["candidates"])
    assert _version(found["venv"][:-3]) == version
