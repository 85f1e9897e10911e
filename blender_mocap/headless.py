"""Headless entry point: videos -> engine -> finished files, without Blender's UI.

    python blender_mocap/headless.py capture INPUT... --out DIR [--config SETTINGS.toml]
           [--outputs blend,fbx,bvh,glb,npz] [--progress text|json] [--engine-python PY]
           [--max-frames N] [--stride K] [--start N] [--end N] [--fov DEG]
           [--body B] [--smplx-dir DIR] [--gender G] [--preset P] [--device D] [--pose-backend B]
    python blender_mocap/headless.py capture-multi TAKE_DIR... --out DIR [--calibration RIG.json]
           [--person-height M] [the options of capture]
    python blender_mocap/headless.py build MOTION.npz --out FILE.blend [--video PATH]
    python blender_mocap/headless.py retarget TAKE.npz --target CHARACTER.blend[:ARMATURE] --out OUT.blend
           [--preset auto|rigify|mixamo|unreal|FILE.json]
    blender -b --python blender_mocap/headless.py -- capture INPUT... --out DIR
    python -m blender_mocap.headless capture ...   (from the extension root)

``python`` needs the ``bpy`` module installed; under ``blender -b`` the
arguments after ``--`` are used. ``capture`` is the batch converter
(``blender_mocap/batch.py``): INPUTs are videos, folders of videos or ``.txt``
lists; each video runs through the engine (``<engine python> -m core capture``)
and is built and exported into DIR, with ``DIR/report.json`` describing the
run. ``capture-multi`` does the same per multi-camera take (``blender_mocap/batch_multi.py``):
a folder holding the videos of one performance, or a folder of such folders. The capture and scene options are those of ``core/options.py`` with the
``batch`` surface (spelled as on the engine's command line: ``--end`` is
exclusive). The engine's Python is ``--engine-python``, else the environment variable
``BLENDER_MOCAP_ENGINE_PYTHON``, else this Python.

Exit codes: 0 every video done or skipped, 1 some failed (the reasons on
stderr and in report.json; the other videos are still processed), 2 bad
arguments, 130 cancelled (Ctrl-C or SIGTERM, also while Blender builds or
exports: the outputs finished before it are kept, the one under way is
dropped, report.json says so).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# No relative imports at module level: run as a script, this file has no
# package until the bootstrap at the bottom makes one.

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
ENGINE_PYTHON_ENV = "BLENDER_MOCAP_ENGINE_PYTHON"
EXTENSION_ROOT = Path(__file__).resolve().parents[1]


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would sys.exit(2); main returns it instead
        raise _UsageError(f"{self.prog}: error: {message}")


def _parser() -> argparse.ArgumentParser:
    from ..core.options import BATCH, BUILD, MULTI, OPTION, add_argument, options_for
    from .batch_multi import BATCH_MULTI_KEYS

    parser = _Parser(prog="blender_mocap/headless.py",
                     description="Capture videos into finished files without Blender's UI.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    cap = sub.add_parser("capture", help="convert videos (files, folders, .txt lists) into outputs")
    cap.add_argument("inputs", nargs="+", metavar="INPUT",
                     help="video files, folders of videos, or .txt files listing videos")
    _add_batch_arguments(cap, "per video")
    multi = sub.add_parser("capture-multi", help="convert multi-camera takes (a folder of videos per take)")
    multi.add_argument("inputs", nargs="+", metavar="DIR", help="take folders (the videos of one performance, "
                       "one per camera, camera 1 first by name), or folders of take folders")
    _add_batch_arguments(multi, "per take")
    for option in options_for(MULTI):
        if option.name in BATCH_MULTI_KEYS:
            add_argument(multi, option, default=None)
    build = sub.add_parser("build", help="build a .blend from a motion file (no engine)")
    build.add_argument("motion", metavar="MOTION.npz")
    build.add_argument("--out", required=True, metavar="FILE.blend")
    build.add_argument("--video", metavar="PATH", help="video for the camera background "
                       "(default: the motion's source video, if it exists)")
    for option in options_for(BUILD, BATCH):
        add_argument(build, option, default=option.default, shown_default=option.default)
    ret = sub.add_parser("retarget", help="put a motion file's take on your character (a .blend's armature)")
    ret.add_argument("motion", metavar="TAKE.npz")
    # The batch's retarget options; here the mapping is plain --preset (no fitting preset to clash with).
    target, preset = OPTION["retarget_target"], OPTION["retarget_preset"]
    ret.add_argument(target.flag, dest=target.name, required=True, metavar=target.metavar,
                     help="the character: a .blend file, and its armature when it has several")
    ret.add_argument("--out", required=True, metavar="OUT.blend",
                     help="the character file with the take keyed (.blend), or the character alone (.fbx, .glb, .bvh)")
    ret.add_argument("--preset", dest=preset.name, default=preset.default, metavar=preset.metavar,
                     help=preset.help.replace("for --target", "") + f" (default {preset.default})")
    return parser


def _add_batch_arguments(cap: argparse.ArgumentParser, each: str) -> None:
    """The batch's own arguments and its capture and scene options (``capture`` and ``capture-multi``)."""
    from ..core.options import BATCH, add_argument, options_for

    cap.add_argument("--out", required=True, metavar="DIR",
                     help=f"output folder: <name>.<format> {each} and report.json")
    cap.add_argument("--config", metavar="SETTINGS.toml",
                     help="settings file (keys named like the options below); options override it")
    cap.add_argument("--outputs", metavar="LIST",
                     help="comma-separated formats: blend,fbx,bvh,glb,npz (default blend,npz)")
    cap.add_argument("--engine-python", metavar="PY",
                     help=f"Python with the engine's packages (default: ${ENGINE_PYTHON_ENV} or this Python)")
    cap.add_argument("--progress", choices=("text", "json"), help="progress lines on stdout (default text)")
    for option in options_for(BATCH):
        add_argument(cap, option, default=None, shown_default=option.batch_default)


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
    with _cancel_on_signals() as cancel:
        if args.command == "retarget":
            return _retarget(args)
        if args.command == "capture-multi":
            return _capture_multi(args, cancel)
        return _build(args, cancel) if args.command == "build" else _capture(args, cancel)


def _batch_settings(args: argparse.Namespace, extra: tuple[str, ...] = ()) -> tuple[Any, dict]:
    """(BatchSettings, the values of ``extra`` keys) from ``--config`` and the command line (which wins)."""
    from .batch import BatchSettings, check_settings, settings_from_toml

    values = settings_from_toml(args.config, extra) if args.config else {}
    cli = {k: v for k, v in vars(args).items() if k not in ("command", "inputs", "out", "config") and v is not None}
    values = {**values, **cli}
    if isinstance(values.get("outputs"), str):
        values["outputs"] = tuple(f.strip() for f in values["outputs"].split(",") if f.strip())
    settings = BatchSettings(**{k: v for k, v in values.items() if k not in extra})
    check_settings(settings)
    return settings, {k: values.get(k) for k in extra}


def _capture_multi(args: argparse.Namespace, cancel) -> int:
    """``capture-multi``: the batch of multi-camera takes (``batch_multi``); exit codes as ``capture``."""
    from ..core.errors import MocapError
    from .batch_multi import BATCH_MULTI_KEYS, check_multi, collect_takes, run_multi_batch

    try:
        settings, multi = _batch_settings(args, BATCH_MULTI_KEYS)
        multi = check_multi(multi)
        takes = collect_takes(args.inputs)
    except (MocapError, TypeError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    return _run_batch(lambda: run_multi_batch(takes, args.out, settings, multi, should_cancel=cancel))


def _capture(args: argparse.Namespace, cancel) -> int:
    """``capture``: the batch. Ctrl-C or SIGTERM stops it, its engine included (exit 130)."""
    from ..core.errors import MocapError
    from .batch import collect_inputs, run_batch
    from .engine import run_engine

    try:
        settings, _ = _batch_settings(args)
        if settings.retarget_target:
            from .retarget.job import check_target
            check_target(settings.retarget_target, settings.retarget_preset)
        inputs = collect_inputs(args.inputs)
        if not inputs:
            raise MocapError("no videos found in " + ", ".join(args.inputs))
    except (MocapError, TypeError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    return _run_batch(lambda: run_batch(inputs, args.out, settings, should_cancel=cancel,
                                        run_engine=functools.partial(run_engine, should_cancel=cancel)))


def _run_batch(batch: Callable[[], tuple[int, Path]]) -> int:
    """Run a batch; its exit code, or 130 when cancelled, 1 when the batch itself cannot go on (its folder
    or report cannot be written)."""
    from ..core.errors import CancelledError, MocapError

    try:
        code, _ = batch()
    except CancelledError as exc:
        _error(str(exc))
        return EXIT_CANCELLED
    except MocapError as exc:
        _error(str(exc))
        return EXIT_FAILED
    return code


def _build(args: argparse.Namespace, cancel) -> int:
    """``build``: one motion file into a .blend, with progress lines; Ctrl-C stops it (exit 130)."""
    from ..core.errors import CancelledError, MocapError
    from .batch import build_file
    from .exports import build_progress
    from .settings import BuildOptions

    name = Path(args.motion).stem
    progress = build_progress(lambda kind, message, **_: _say(f"{name}: {message}"), 10)
    try:
        options = BuildOptions(ground=args.ground, correctives=args.correctives, smplx_dir=args.smplx_dir or "")
        out = build_file(args.motion, args.out, video_path=args.video, options=options, progress=progress,
                         should_cancel=cancel)
    except CancelledError as exc:
        _error(f"{exc}; {args.out} was left as it was")
        return EXIT_CANCELLED
    except MocapError as exc:
        _error(str(exc))
        return EXIT_FAILED
    _say(f"wrote {out}")
    return EXIT_OK


def _retarget(args: argparse.Namespace) -> int:
    """``retarget``: a motion file onto a character .blend, saved as ``--out``."""
    from ..core.errors import MocapError
    from .retarget.job import retarget_file

    try:
        result = retarget_file(args.motion, args.retarget_target, args.out, preset=args.retarget_preset)
    except MocapError as exc:
        _error(str(exc))
        return EXIT_FAILED
    for warning in result.warnings:
        _say(f"warning: {warning}")
    _say(f"mapped {len(result.mapping)} bones by {result.mapped_by}; keyed {len(result.solved.bones)} bones on "
         f"{len(result.solved.frames)} frames as '{result.action.name}'")
    _say(f"wrote {args.out}")
    return EXIT_OK


@contextlib.contextmanager
def _cancel_on_signals():
    """SIGTERM/SIGINT set a flag that the running step polls (yielded as ``is_set``): the engine,
    the build between F-curves, each export before its rename. A cancelled batch stops its
    engine instead of leaving it as an orphan. The previous handlers come back afterwards."""
    import signal
    import threading

    flag = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: flag.set())
    try:
        yield flag.is_set
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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


def exit_process(code: int) -> None:
    """Leave with ``code``: ``sys.exit``, except on Blender 4.2.

    Blender 4.2 (4.2.23 seen) segfaults at interpreter exit after any glTF
    export, a Blender bug (the default cube suffices), which turned a finished
    batch into exit code 139. There the streams are flushed and the process
    ends at once with its own code.
    """
    bpy = sys.modules.get("bpy")
    if bpy is not None and tuple(bpy.app.version[:2]) == (4, 2):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    exit_process(_bootstrap())
