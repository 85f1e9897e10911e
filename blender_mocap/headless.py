"""Batch entry point: videos -> engine -> .blend files, without Blender's UI.

    python blender_mocap/headless.py capture VIDEO... --out DIR [--engine-python PY]
           [--max-frames N] [--stride K] [--start N] [--end N] [--fov DEG]
    python blender_mocap/headless.py build MOTION.npz --out FILE.blend [--video PATH]
    blender -b --python blender_mocap/headless.py -- capture VIDEO... --out DIR

``python`` needs the ``bpy`` module installed; under ``blender -b`` the
arguments after ``--`` are used. ``capture`` runs the engine
(``<engine python> -m core capture VIDEO --out DIR/<stem>.npz --progress json``,
working directory = the extension root) once per video, synchronously, then
builds each take into a fresh empty file saved as ``DIR/<stem>.blend``.
The engine's Python is ``--engine-python``, else the environment variable
``BLENDER_MOCAP_ENGINE_PYTHON``, else this Python.

Exit codes: 0 all done, 1 a take failed (the reason on stderr; the other
videos are still processed), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# No relative imports at module level: run as a script, this file has no
# package until the bootstrap at the bottom makes one.

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
ENGINE_PYTHON_ENV = "BLENDER_MOCAP_ENGINE_PYTHON"
EXTENSION_ROOT = Path(__file__).resolve().parents[1]
_ENGINE_OPTIONS = ("--max-frames", "--stride", "--start", "--end", "--fov")


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would sys.exit(2); main returns it instead
        raise _UsageError(f"{self.prog}: error: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="blender_mocap/headless.py",
                     description="Capture videos into .blend files without Blender's UI.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    cap = sub.add_parser("capture", help="run the engine on videos and save one .blend per video")
    cap.add_argument("videos", nargs="+", metavar="VIDEO")
    cap.add_argument("--out", required=True, metavar="DIR", help="folder for <stem>.npz and <stem>.blend")
    cap.add_argument("--engine-python", metavar="PY",
                     help=f"Python with the engine's packages (default: ${ENGINE_PYTHON_ENV} or this Python)")
    cap.add_argument("--max-frames", type=int)
    cap.add_argument("--stride", type=int)
    cap.add_argument("--start", type=int)
    cap.add_argument("--end", type=int)
    cap.add_argument("--fov", type=float)
    build = sub.add_parser("build", help="build a .blend from a motion file (no engine)")
    build.add_argument("motion", metavar="MOTION.npz")
    build.add_argument("--out", required=True, metavar="FILE.blend")
    build.add_argument("--video", metavar="PATH", help="video for the camera background "
                       "(default: the motion's source video, if it exists)")
    return parser


def _say(text: str) -> None:
    print(text, flush=True)


def _error(text: str) -> None:
    print(f"error: {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    from ..core.errors import MocapError

    if args.command == "build":
        try:
            out = build_file(args.motion, args.out, video_path=args.video)
        except MocapError as exc:
            _error(str(exc))
            return EXIT_FAILED
        _say(f"wrote {out}")
        return EXIT_OK

    engine_python = args.engine_python or os.environ.get(ENGINE_PYTHON_ENV) or sys.executable
    engine_args: list[str] = []
    for option in _ENGINE_OPTIONS:
        value = getattr(args, option[2:].replace("-", "_"))
        if value is not None:
            engine_args += [option, str(value)]
    out_dir = Path(args.out)
    failed = 0
    for video in args.videos:
        stem = Path(video).stem
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            motion_path = run_engine(engine_python, video, out_dir / f"{stem}.npz", engine_args)
            blend = build_file(motion_path, out_dir / f"{stem}.blend", video_path=video, name=stem)
        except MocapError as exc:
            _error(f"{video}: {exc}")
            failed += 1
            continue
        except OSError as exc:
            _error(f"{video}: {exc}")
            failed += 1
            continue
        _say(f"{stem}: wrote {motion_path}")
        _say(f"{stem}: wrote {blend}")
    if failed:
        _error(f"{failed} of {len(args.videos)} videos failed")
    return EXIT_FAILED if failed else EXIT_OK


def run_engine(engine_python: str, video: str, out: Path, engine_args: list[str]) -> Path:
    """Run one engine capture synchronously, relaying its progress; returns the motion path.

    Raises MocapError with the engine's own message when it fails.
    """
    import time

    from ..core.errors import MocapError
    from .engine import EngineJob, describe_event

    stem = Path(video).stem
    cmd = [engine_python, "-m", "core", "capture", str(Path(video).resolve()),
           "--out", str(out.resolve()), "--progress", "json", *engine_args]
    try:
        job = EngineJob(cmd, cwd=EXTENSION_ROOT)
    except OSError as exc:
        raise MocapError(f"cannot start the engine with {engine_python}: {exc.strerror}") from exc
    message = None
    last_percent = -10
    while True:
        finished = job.finished  # read before polling, so no event is left behind
        for event in job.poll():
            kind = event["event"]
            if kind == "progress":
                percent = int(100 * float(event.get("fraction", 0.0)))
                if percent < last_percent + 10:
                    continue
                last_percent = percent - percent % 10
                _say(f"{stem}: {percent}% {describe_event(event)}")
            elif kind == "error":
                message = describe_event(event)
            elif kind in ("stage", "warning"):
                prefix = "warning: " if kind == "warning" else ""
                _say(f"{stem}: {prefix}{describe_event(event)}")
        if finished:
            break
        time.sleep(0.05)
    code = job.wait()
    if code != 0:
        raise MocapError(message or job.error_message())
    if not out.is_file():
        raise MocapError(f"the engine finished but wrote no motion file at {out}")
    return out


def build_file(motion_path: str | os.PathLike[str], out: str | os.PathLike[str], *,
               video_path: str | None = None, name: str | None = None) -> Path:
    """Read a motion file, build its take into a fresh empty file and save it as ``out``.

    The .blend is saved under a temporary name next to ``out`` and renamed, so
    an interrupted run never leaves a half-written file. Returns ``out``.
    """
    import bpy

    from ..core.errors import MocapError
    from ..core.motion import read_motion
    from .scene import build_take

    motion_path = Path(motion_path)
    out = Path(out)
    motion = read_motion(motion_path)
    if video_path is None and motion.source_video and os.path.isfile(motion.source_video):
        video_path = motion.source_video
    if name is None:
        name = Path(motion.source_video).stem if motion.source_video else motion_path.stem
    bpy.ops.wm.read_homefile(use_empty=True)
    take = build_take(bpy.context, motion, name=name,
                      video_path=str(Path(video_path).resolve()) if video_path else None)
    for warning in take.warnings:
        _say(f"{name}: warning: {warning}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MocapError(f"cannot create the folder {out.parent}: {exc.strerror}") from exc
    tmp = out.with_name(f".{out.stem}.partial.blend")
    try:
        result = bpy.ops.wm.save_as_mainfile(filepath=str(tmp), check_existing=False)
        if result is None or "FINISHED" not in result or not tmp.is_file():
            raise MocapError(f"Blender could not save {out}")
        os.replace(tmp, out)
    except RuntimeError as exc:
        raise MocapError(f"Blender could not save {out}: {exc}") from exc
    except OSError as exc:
        raise MocapError(f"cannot write {out}: {exc.strerror}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _script_argv(argv: list[str]) -> list[str]:
    """Arguments for main(): after ``--`` under ``blender --python``, else argv[1:]."""
    if "--" in argv:
        return argv[argv.index("--") + 1:]
    return argv[1:]


def _bootstrap() -> int:
    """Load the extension root as package ``blender_mocap_ext`` and run its main()."""
    import importlib
    import types

    name = "blender_mocap_ext"
    pkg = sys.modules.get(name)
    if pkg is None:
        pkg = types.ModuleType(name)
        pkg.__path__ = [str(EXTENSION_ROOT)]
        sys.modules[name] = pkg
    headless = importlib.import_module(f"{name}.blender_mocap.headless")
    return headless.main(_script_argv(sys.argv))


if __name__ == "__main__":
    sys.exit(_bootstrap())
