#!/usr/bin/env python3
"""Set up, run the demo, run the tests: the README's commands.

    python3 dev.py demo    # set up, capture the demo clip, write a .blend + motion file
    python3 dev.py test    # set up, run the whole test suite (what CI runs)
    python3 dev.py bench NAME   # run bench/NAME.py in the environment

Standard library only: it runs before any environment exists. Environments
and downloads live under $BLENDER_MOCAP_HOME (default
~/.local/share/blender-mocap) and are reused while the pinned requirements
are unchanged.

``test`` also runs tests/blender on the oldest and the newest supported
Blender (see ``BLENDERS``), each in a small environment of its own (bpy,
numpy, pytest, OpenCV; the engine still runs in the dev environment).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "blender_mocap"))
import engine_env  # noqa: E402  (stdlib-only module of the add-on)

HOME = engine_env.DEFAULT_HOME
DEV_ENV = HOME / "dev-env"
TYPECHECK_ENV = HOME / "typecheck-env"
CACHE = HOME / "cache"
WHEELS = CACHE / "wheels"
"""Downloaded wheels, shared by the small environments (pip's own HTTP cache may stay empty)."""

DEMO_WHEEL = "sports2d==0.8.34"
DEMO_MEMBER = "Sports2D/Demo/demo.mp4"
DEMO_PERSON = "650,285@0"
"""The demo's performer: his pelvis in frame 0 (tests/testdata/demo_person.json)."""


def log(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def dev_python() -> Path:
    """The development environment: the engine's packages plus bpy and pytest."""
    return engine_env.ensure_environment(DEV_ENV, (ROOT / "tests" / "requirements.txt",), log=log)


def typecheck_python() -> Path:
    """A small environment with fake-bpy-module (stub bpy) for mypy and mocked tests.

    Kept apart from the development environment because fake-bpy-module
    installs a stub ``bpy`` package that would shadow the real one.
    """
    reqs = ROOT / "tests" / "mocked" / "requirements.txt"
    return small_environment(TYPECHECK_ENV, reqs, engine_env.base_python(), "the type-check environment",
                             shared_wheels=False)


@dataclass(frozen=True)
class Blender:
    """A Blender version the real-Blender tests run on, in an environment of its own."""

    label: str
    python: str
    """The Python version its bpy wheel needs ("3.11")."""
    requirements: Path
    folder: Path


BLENDERS = (
    Blender("Blender 4.2 LTS", "3.11", ROOT / "tests" / "requirements-blender-4.2.txt", HOME / "blender-4.2-env"),
    Blender("the newest Blender", "3.13", ROOT / "tests" / "requirements-blender-newest.txt",
            HOME / "blender-newest-env"),
)
"""The oldest and the newest supported Blender; the dev environment holds bpy 5.0.1 (tests/requirements.txt)."""


class SetupError(Exception):
    """An environment could not be made; the message says what to install."""


def small_environment(folder: Path, reqs: Path, base: str, what: str, *, shared_wheels: bool = True) -> Path:
    """A virtual environment in ``folder`` with ``reqs`` installed, rebuilt when they change.

    With ``shared_wheels`` the wheels are downloaded once into ``WHEELS`` and
    installed from there, so environments that pin the same wheel share it.
    """
    digest = engine_env.requirements_digest(reqs)
    python = engine_env.venv_python(folder)
    stamp = folder / ".blender-mocap-stamp"
    if python.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return python
    log(f"setting up {what} in {folder}")
    if not python.is_file():
        subprocess.run([base, "-m", "venv", str(folder)], check=True)
    pip = [str(python), "-m", "pip"]
    if shared_wheels:
        WHEELS.mkdir(parents=True, exist_ok=True)
        subprocess.run([*pip, "download", "-q", "-r", str(reqs), "-d", str(WHEELS)], check=True)
        subprocess.run([*pip, "install", "-q", "--no-index", "--find-links", str(WHEELS), "-r", str(reqs)],
                       check=True)
    else:
        subprocess.run([*pip, "install", "-q", "-r", str(reqs)], check=True)
    stamp.write_text(digest + "\n")
    return python


def find_python(version: str) -> str:
    """An installed Python ``version`` ("3.13"): this one, a pyenv one, or one on PATH."""
    name = f"python{version}"
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = [sys.executable]
    candidates += [str(p) for p in sorted(pyenv.glob(f"versions/{version}*/bin/{name}"), reverse=True)]
    candidates += [str(Path(d) / name) for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    for exe in candidates:
        if Path(exe).is_file() and _python_version(exe) == version:
            return exe
    raise SetupError(f"Python {version} not found (not this Python, not under {pyenv}/versions, not "
                     f"{name} on PATH): install it, e.g. `pyenv install {version}`, and run again")


def _python_version(exe: str) -> str:
    """"3.13" for a working interpreter with venv, "" otherwise (a pyenv shim may not run)."""
    try:
        proc = subprocess.run([exe, "-c", "import sys, venv; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def pinned(reqs: Path, package: str) -> str:
    """The version ``reqs`` pins ``package`` to ("5.0.1"), or "?" when it does not."""
    for line in reqs.read_text(encoding="utf-8").splitlines():
        name, _, version = line.partition("==")
        if name.strip().lower() == package:
            return version.split("#")[0].strip()
    return "?"


def blender_python(blender: Blender) -> Path:
    """The Python of ``blender``'s test environment, made (once) if needed."""
    return small_environment(blender.folder, blender.requirements, find_python(blender.python),
                             f"an environment for {blender.label}")


def demo_clip() -> Path:
    """The real demo clip (BSD-3-Clause, from the sports2d wheel), fetched once and cached."""
    target = CACHE / "demo.mp4"
    if target.is_file():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    log(f"fetching the demo clip from the {DEMO_WHEEL} wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", DEMO_WHEEL, "-d", str(WHEELS)],
        check=True,
    )
    wheel = next(WHEELS.glob("sports2d-0.8.34-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        partial = target.with_suffix(".partial")
        with zf.open(DEMO_MEMBER) as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst)
        partial.replace(target)
    return target


def demo(args: list[str]) -> int:
    python = dev_python()
    clip = demo_clip()
    out = Path(args[0]) if args else ROOT / "demo-output"
    log(f"capturing {clip} -> {out}")
    env = dict(os.environ, BLENDER_MOCAP_ENGINE_PYTHON=str(python))
    # The man on the box is picked (a pixel on him in frame 0): people walk past while he flips.
    cmd = [str(python), str(ROOT / "blender_mocap" / "headless.py"), "capture", str(clip), "--out", str(out),
           "--person", DEMO_PERSON]
    return subprocess.run(cmd, env=env).returncode


def test(args: list[str]) -> int:
    started = time.monotonic()
    python = dev_python()
    demo_clip()
    tc_python = typecheck_python()
    env = dict(os.environ, BLENDER_MOCAP_ENGINE_PYTHON=str(python), BLENDER_MOCAP_CACHE=str(CACHE))
    pytest = ["-m", "pytest", "-q", "-p", "no:cacheprovider"]
    steps = [
        ("type check of the Blender side (mypy + fake-bpy-module)",
         [str(tc_python), "tests/mocked/typecheck.py"]),
        ("Blender-side logic against a spec'd mock bpy",
         [str(tc_python), *pytest, "tests/mocked"]),
        (f"core and real-Blender tests (bpy {pinned(ROOT / 'tests' / 'requirements.txt', 'bpy')})",
         [str(python), *pytest, "tests/core", "tests/blender", *args]),
    ]
    failed = []
    for blender in BLENDERS:
        title = f"real-Blender tests on {blender.label} (bpy {pinned(blender.requirements, 'bpy')})"
        try:
            steps.append((title, [str(blender_python(blender)), *pytest, "tests/blender"]))
        except (SetupError, subprocess.CalledProcessError) as exc:
            log(f"{title}: no environment: {exc}")
            failed.append(title)
    log(f"environments ready after {time.monotonic() - started:.0f} s")
    for title, cmd in steps:
        log(title)
        t0 = time.monotonic()
        ok = subprocess.run(cmd, cwd=ROOT, env=env).returncode == 0
        log(f"{'passed' if ok else 'FAILED'} in {time.monotonic() - t0:.0f} s: {title}")
        if not ok:
            failed.append(title)
    total = f"{time.monotonic() - started:.0f} s in all"
    if failed:
        log(f"FAILED ({total}): " + "; ".join(failed))
        return 1
    log(f"all test steps passed ({total})")
    return 0


def bench(args: list[str]) -> int:
    if not args:
        names = sorted(p.stem for p in (ROOT / "bench").glob("*.py")
                       if not p.stem.startswith("_") and "\ndef main(" in p.read_text(encoding="utf-8"))
        log("usage: python3 dev.py bench NAME  (one of: " + ", ".join(names) + ")")
        return 2
    python = dev_python()
    demo_clip()
    env = dict(os.environ, BLENDER_MOCAP_ENGINE_PYTHON=str(python), BLENDER_MOCAP_CACHE=str(CACHE))
    script = ROOT / "bench" / f"{args[0]}.py"
    return subprocess.run([str(python), str(script), *args[1:]], cwd=ROOT, env=env).returncode


def main() -> int:
    commands = {"demo": demo, "test": test, "bench": bench}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
