#!/usr/bin/env python3
"""Set up, run the demo, run the tests: the README's commands.

    python3 dev.py demo    # set up, capture the demo clip, write a .blend + motion file
    python3 dev.py test    # set up, run the whole test suite (what CI runs)
    python3 dev.py bench NAME   # run bench/NAME.py in the environment

Standard library only: it runs before any environment exists. Environments
and downloads live under $BLENDER_MOCAP_HOME (default
~/.local/share/blender-mocap) and are reused while the pinned requirements
are unchanged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "blender_mocap"))
import engine_env  # noqa: E402  (stdlib-only module of the add-on)

HOME = engine_env.DEFAULT_HOME
DEV_ENV = HOME / "dev-env"
TYPECHECK_ENV = HOME / "typecheck-env"
CACHE = HOME / "cache"

DEMO_WHEEL = "sports2d==0.8.34"
DEMO_MEMBER = "Sports2D/Demo/demo.mp4"


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
    digest = engine_env.requirements_digest(reqs)
    python = engine_env.venv_python(TYPECHECK_ENV)
    stamp = TYPECHECK_ENV / ".blender-mocap-stamp"
    if not (python.is_file() and stamp.is_file() and stamp.read_text().strip() == digest):
        log(f"setting up the type-check environment in {TYPECHECK_ENV}")
        if not python.is_file():
            subprocess.run([engine_env.base_python(), "-m", "venv", str(TYPECHECK_ENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(reqs)], check=True)
        stamp.write_text(digest + "\n")
    return python


def demo_clip() -> Path:
    """The real demo clip (BSD-3-Clause, from the sports2d wheel), fetched once and cached."""
    target = CACHE / "demo.mp4"
    if target.is_file():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    wheels = CACHE / "wheels"
    log(f"fetching the demo clip from the {DEMO_WHEEL} wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", DEMO_WHEEL, "-d", str(wheels)],
        check=True,
    )
    wheel = next(wheels.glob("sports2d-0.8.34-*.whl"))
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
    cmd = [str(python), str(ROOT / "blender_mocap" / "headless.py"), "capture", str(clip), "--out", str(out)]
    return subprocess.run(cmd, env=env).returncode


def test(args: list[str]) -> int:
    python = dev_python()
    demo_clip()
    tc_python = typecheck_python()
    env = dict(os.environ, BLENDER_MOCAP_ENGINE_PYTHON=str(python), BLENDER_MOCAP_CACHE=str(CACHE))
    steps = [
        ("type check of the Blender side (mypy + fake-bpy-module)",
         [str(tc_python), "tests/mocked/typecheck.py"]),
        ("Blender-side logic against a spec'd mock bpy",
         [str(tc_python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/mocked"]),
        ("core and real-Blender tests",
         [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/core", "tests/blender", *args]),
    ]
    failed = []
    for title, cmd in steps:
        log(title)
        if subprocess.run(cmd, cwd=ROOT, env=env).returncode != 0:
            failed.append(title)
    if failed:
        log("FAILED: " + "; ".join(failed))
        return 1
    log("all test steps passed")
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
