"""The engine environment: where its Python lives, whether it works, how to make one.

Standard library only: this module runs inside Blender (preferences, capture
operator) and from a plain Python before any environment exists (``dev.py``).

The engine is a virtual environment holding the pinned packages of
``core/requirements.txt`` (torch, MediaPipe, smplx, OpenCV, PyTorch3D). It
lives outside Blender so that Blender upgrades, Blender's own Python version
and a crashing CUDA driver cannot break the user's scene.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The extension root (the repository root in a checkout): holds core/."""

DEFAULT_HOME = Path(
    os.environ.get("BLENDER_MOCAP_HOME")
    or Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "blender-mocap"
)
"""Where environments and cached downloads go unless the user says otherwise."""

ENGINE_PYTHON_ENV = "BLENDER_MOCAP_ENGINE_PYTHON"


def engine_requirements() -> Path:
    """The pinned requirements of the engine."""
    return ROOT / "core" / "requirements.txt"


def engine_constraints() -> Path:
    """Every transitive package pinned, so two set-ups resolve alike."""
    return ROOT / "core" / "constraints.txt"


def venv_python(venv_dir: Path) -> Path:
    """The Python executable inside a virtual environment folder."""
    if sys.platform == "win32":
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def requirements_digest(*files: Path) -> str:
    """Short hash of requirement files: an environment is rebuilt when it changes."""
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def default_engine_dir() -> Path:
    """The engine environment the add-on creates and looks for by default."""
    return DEFAULT_HOME / "engine"


def find_engine_python(configured: str = "") -> Path | None:
    """The engine Python to use, or None when none is configured or found.

    Order: the path set in the add-on's preferences, the
    ``BLENDER_MOCAP_ENGINE_PYTHON`` environment variable, the default engine
    folder, the development environment made by ``dev.py``.
    """
    candidates = [configured, os.environ.get(ENGINE_PYTHON_ENV, "")]
    candidates += [str(venv_python(default_engine_dir())), str(venv_python(DEFAULT_HOME / "dev-env"))]
    for candidate in candidates:
        if candidate:
            path = Path(candidate).expanduser()
            if path.is_file():
                return path
    return None


def check_engine(python: Path, timeout: float = 120.0) -> tuple[bool, str]:
    """Can ``python`` run the engine? Returns (ok, message for the user)."""
    if not Path(python).is_file():
        return False, f"Engine Python not found: {python}"
    code = "import mediapipe, torch, cv2, numpy, smplx; print(torch.__version__)"
    try:
        proc = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, timeout=timeout, cwd=ROOT
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"Engine Python {python} could not run: {exc}"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
        return False, f"Engine at {python} is missing packages ({last}). Create the engine again."
    return True, f"Engine ready: {python} (torch {proc.stdout.strip()})"


def create_engine_commands(venv_dir: Path, extra_requirements: tuple[Path, ...] = ()) -> list[list[str]]:
    """Commands that create a virtual environment with the pinned packages, in order.

    The base interpreter must be Python 3.11 (MediaPipe 0.10.21 and bpy 5.0.1
    wheels exist for it); ``sys.executable`` is used unless it is Blender's own,
    in which case a ``python3.11`` on PATH is preferred.
    """
    base = base_python()
    py = str(venv_python(venv_dir))
    reqs = ["-r", str(engine_requirements())]
    for extra in extra_requirements:
        reqs += ["-r", str(extra)]
    return [
        [base, "-m", "venv", str(venv_dir)],
        [py, "-m", "pip", "install", "--upgrade", "pip"],
        [py, "-m", "pip", "install", *reqs, "-c", str(engine_constraints())],
    ]


def base_python() -> str:
    """A Python 3.11 to build environments from."""
    if sys.version_info[:2] == (3, 11) and "blender" not in Path(sys.executable).name.lower():
        return sys.executable
    for name in ("python3.11", "python3"):
        for folder in os.environ.get("PATH", "").split(os.pathsep):
            exe = Path(folder) / name
            if exe.is_file() and os.access(exe, os.X_OK):
                return str(exe)
    return sys.executable


def ensure_environment(venv_dir: Path, extra_requirements: tuple[Path, ...] = (), log=print) -> Path:
    """Create or update the environment in ``venv_dir`` when its pins changed.

    A stamp file records the digest of the requirement files it was built
    from, so a second call with unchanged pins costs nothing. Returns the
    environment's Python.
    """
    files = (engine_requirements(), engine_constraints(), *extra_requirements)
    digest = requirements_digest(*files)
    stamp = venv_dir / ".blender-mocap-stamp"
    python = venv_python(venv_dir)
    if python.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return python
    log(f"setting up the environment in {venv_dir} (first time: several minutes, ~7 GB)")
    for cmd in create_engine_commands(venv_dir, extra_requirements):
        if cmd[1:3] == ["-m", "venv"] and python.is_file():
            continue
        log("$ " + " ".join(cmd))
        subprocess.run(cmd, check=True)
    stamp.write_text(digest + "\n")
    return python


if __name__ == "__main__":
    # `python blender_mocap/engine_env.py [DIR]`: create the engine environment.
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else default_engine_dir()
    print(ensure_environment(target))
