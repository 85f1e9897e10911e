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
import shutil
import subprocess
import sys
from dataclasses import dataclass
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


ENGINE_PYTHON_VERSIONS = ((3, 11), (3, 12))
"""Pythons the pinned engine packages install on: MediaPipe 0.10.21 has wheels up to 3.12 and
none for 3.13, the Python of Blender 5.1 and later. 3.11 is the tested one, so it comes first."""

PROBE = ("import sys, venv, ensurepip; "
         "print(sys.version_info[0], sys.version_info[1], sys.executable, sep='\\n')")
"""What a candidate interpreter must run: its version and path, and venv with pip (Debian's
python3.x without python3.x-venv lacks ensurepip and could not make the environment)."""


class NoEnginePython(RuntimeError):
    """No Python the engine can be made from; the message says exactly what to install."""


@dataclass(frozen=True)
class BasePython:
    """An interpreter to build the engine environment from.

    Attributes:
        command: how to start it: its path, or a launcher (``py -3.11``; ``uv python find``
            is resolved to a path first).
        version: (major, minor) as found: from the file name, or from running it.
        origin: where it was found, for the user ("this Python", "PATH", "py launcher", "uv").
    """

    command: tuple[str, ...]
    version: tuple[int, int]
    origin: str

    def describe(self) -> str:
        return f"Python {self.version[0]}.{self.version[1]} ({' '.join(self.command)}, from {self.origin})"


def _uv_python_dir() -> Path:
    """Where ``uv python install`` puts its Pythons (``UV_PYTHON_INSTALL_DIR`` overrides it)."""
    if os.environ.get("UV_PYTHON_INSTALL_DIR"):
        return Path(os.environ["UV_PYTHON_INSTALL_DIR"])
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming") / "uv" / "python"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "uv" / "python"


def base_python_candidates() -> list[BasePython]:
    """Interpreters that may build the engine, best first, found by file checks only (no process).

    This Python (unless it is Blender's own on a version without MediaPipe wheels), then
    ``python3.11`` / ``python3.12`` on PATH, the Windows ``py`` launcher's 3.11 / 3.12, and the
    Pythons ``uv`` and ``pyenv`` installed. Their versions come from their names; :func:`probe`
    runs them (a pyenv shim on PATH may name a version that is not active).
    """
    found: list[BasePython] = []
    if sys.version_info[:2] in ENGINE_PYTHON_VERSIONS and "blender" not in Path(sys.executable).name.lower():
        found.append(BasePython((sys.executable,), sys.version_info[:2], "this Python"))
    for version in ENGINE_PYTHON_VERSIONS:
        exe = shutil.which(f"python{version[0]}.{version[1]}")
        if exe:
            found.append(BasePython((exe,), version, "PATH"))
    launcher = shutil.which("py") if sys.platform == "win32" else None
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for version in ENGINE_PYTHON_VERSIONS:
        dotted = f"{version[0]}.{version[1]}"
        if launcher:
            found.append(BasePython((launcher, f"-{dotted}"), version, "py launcher"))
        name = "python.exe" if sys.platform == "win32" else f"bin/python{dotted}"
        for root, pattern, origin in ((_uv_python_dir(), f"cpython-{dotted}.*", "uv"), (pyenv, f"{dotted}.*", "pyenv")):
            for folder in sorted(root.glob(pattern), reverse=True):
                if (folder / name).is_file():
                    found.append(BasePython((str(folder / name),), version, origin))
    return found


def probe(candidate: BasePython, timeout: float = 30.0) -> BasePython | None:
    """``candidate`` resolved to its interpreter's path and real version, or None when it does not
    start, is another version than the engine needs, or cannot make a virtual environment."""
    try:
        proc = subprocess.run([*candidate.command, "-c", PROBE], capture_output=True, text=True, timeout=timeout)
        major, minor, exe = proc.stdout.split("\n")[:3]
        version = (int(major), int(minor))
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    if proc.returncode != 0 or version not in ENGINE_PYTHON_VERSIONS:
        return None
    return BasePython((exe.strip(),), version, candidate.origin)


def find_base_python() -> BasePython | None:
    """The first candidate that passes :func:`probe` (each one is run), or None."""
    for candidate in base_python_candidates():
        found = probe(candidate)
        if found is not None:
            return found
    return None


def install_advice(platform: str = sys.platform) -> str:
    """What to install when no candidate works, for ``platform`` (``sys.platform``'s values)."""
    need = " or ".join(f"{a}.{b}" for a, b in ENGINE_PYTHON_VERSIONS)
    how = {
        "win32": "install it from python.org (or `winget install Python.Python.3.11`; the `py` launcher "
                 "then finds it)",
        "darwin": "install it with `brew install python@3.11` (or from python.org)",
    }.get(platform, "install your distribution's python3.11 with its venv module (Debian/Ubuntu: "
                    "`sudo apt install python3.11 python3.11-venv`)")
    return (f"Create Engine needs Python {need} (MediaPipe 0.10.21 has no wheels for newer Pythons, "
            f"such as Blender 5.1's own 3.13), and none was found. To get one, {how}, or with uv "
            "(https://docs.astral.sh/uv/): `uv python install 3.11`. Then click Create Engine again, "
            "or set Engine Python to an environment you made yourself.")


def create_engine_commands(venv_dir: Path, extra_requirements: tuple[Path, ...] = (),
                           base: BasePython | None = None) -> list[list[str]]:
    """Commands that create a virtual environment with the pinned packages, in order.

    ``base`` is the interpreter to make it from (default: :func:`find_base_python`, which runs
    the candidates). Raises :class:`NoEnginePython`, whose message says what to install, when
    there is none.
    """
    base = base or find_base_python()
    if base is None:
        raise NoEnginePython(install_advice())
    py = str(venv_python(venv_dir))
    reqs = ["-r", str(engine_requirements())]
    for extra in extra_requirements:
        reqs += ["-r", str(extra)]
    return [
        [*base.command, "-m", "venv", str(venv_dir)],
        [py, "-m", "pip", "install", "--upgrade", "pip"],
        [py, "-m", "pip", "install", *reqs, "-c", str(engine_constraints())],
    ]


def base_python() -> str:
    """A Python 3.11 or 3.12 to build environments from (``dev.py``): :func:`find_base_python`'s,
    else this Python."""
    found = find_base_python()
    return found.command[0] if found is not None else sys.executable


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
