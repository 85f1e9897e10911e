"""``python -m core``: the engine's command line.

    python -m core capture VIDEO --out RESULT.npz [--progress bar|json|none] ...
    python -m core capture-multi VIDEO VIDEO [...] --out RESULT.npz [--offsets ...] [--calibration RIG] ...
    python -m core preview RESULT.npz [--out PREVIEW.mp4] ...
    python -m core info MOTION.npz
    python -m core live SOURCE [--realtime] [--send HOST:PORT] [--vmc HOST:PORT] ...

Exit codes: 0 success, 1 a failure with a message (stderr, and a JSON
``error`` event with ``--progress json``), 2 bad arguments, 130 cancelled
(Ctrl-C or SIGTERM). With ``--progress json`` stdout carries one JSON object
per line (see the README's "Progress protocol"); nothing else is printed there.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from . import __version__
from . import cli_multi
from .cli_common import EXIT_FAILED, EXIT_OK, display, run_job
from .errors import MocapError
from .options import add_engine_arguments
from .live import cli as live_cli
from .preview import cli as preview_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="blender-mocap engine")
    parser.add_argument("--version", action="version", version=f"blender-mocap engine {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    cap = sub.add_parser("capture", help="capture the person in a video into a motion file")
    cap.add_argument("video", type=Path, help="input video file")
    cap.add_argument("--out", type=Path, required=True, help="motion file to write (.npz)")
    cap.add_argument("--progress", choices=("bar", "json", "none"), default=None,
                     help="progress display (default: bar on a terminal, none otherwise)")
    add_engine_arguments(cap)

    cli_multi.add_parser(sub)
    preview_cli.add_parser(sub)
    live_cli.add_parser(sub)

    info = sub.add_parser("info", help="check a motion file and print what it holds")
    info.add_argument("motion", type=Path)
    return parser


def capture_settings(args: argparse.Namespace):
    """The ``CaptureSettings`` of parsed ``capture`` (or ``capture-multi``) arguments."""
    from .capture import CaptureSettings
    from .cleanup import CleanupSettings
    from .pose import PoseSettings

    return CaptureSettings(
        start=args.start, end=args.end, stride=args.stride, max_frames=args.max_frames,
        hfov_degrees=args.fov,
        pose=PoseSettings(model_complexity=args.model_complexity, follow=args.follow),
        pose_backend=args.pose_backend, pose_batch=args.pose_batch, mirror_average=args.mirror_average,
        body=args.body, smplx_dir=str(args.smplx_dir) if args.smplx_dir else None,
        gender=args.gender, preset=args.preset, device=args.device, person=args.person, people=args.people,
        camera_pitch=args.camera_pitch, camera_roll=args.camera_roll, level_camera=args.level_camera,
        cleanup=None if args.no_cleanup else CleanupSettings(
            ground=not args.no_floor, anchor_root=not args.no_root_anchor, foot_lock=args.foot_lock,
            smoothing_body=args.smoothing,
            smoothing_hands=args.smoothing_hands, smoothing_face=args.smoothing_face),
    )


def _capture(args: argparse.Namespace) -> int:
    from .capture import capture

    mode, emit = display(args)
    settings = capture_settings(args)

    def job(should_cancel: Callable[[], bool]) -> object:
        if settings.people == "all":  # everyone: one motion file per person
            from .people import capture_people

            return capture_people(args.video, args.out, settings, emit=emit, should_cancel=should_cancel)
        return capture(args.video, args.out, settings, emit=emit, should_cancel=should_cancel)

    return run_job(job, mode)


def _info(args: argparse.Namespace) -> int:
    from .motion import read_motion

    try:
        motion = read_motion(args.motion)
    except MocapError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_FAILED
    lines = [f"{args.motion}: {motion.num_frames} frames at {motion.fps:g} fps, body {motion.body_model}"]
    if motion.up_source:
        sigma = f" ±{motion.up_sigma_degrees:.1f}°" if motion.up_sigma_degrees is not None else ""
        lines.append(f"  up from {motion.up_source}{sigma}")
    if motion.cameras is not None:
        lines.append(f"  {motion.cameras.num_cameras} cameras: {', '.join(motion.cameras.names)}")
    lines += [f"  {name}: {value:g}" for name, value in motion.quality.items()]
    try:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `info X.npz | head -1`: the reader has what it wanted
        # Python flushes stdout again at exit: point it at devnull so that flush cannot fail too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, 0 on --help
        return int(exc.code or 0)
    if args.command == "capture":
        return _capture(args)
    if args.command == "capture-multi":
        return cli_multi.run(args, capture_settings(args))
    if args.command == "preview":
        return preview_cli.run(args)
    if args.command == "live":
        return live_cli.run(args)
    return _info(args)
