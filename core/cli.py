"""``python -m core``: the engine's command line.

    python -m core capture VIDEO --out RESULT.npz [--progress bar|json|none] ...
    python -m core preview RESULT.npz [--out PREVIEW.mp4] ...
    python -m core info MOTION.npz

Exit codes: 0 success, 1 a failure with a message (stderr, and a JSON
``error`` event with ``--progress json``), 2 bad arguments, 130 cancelled
(Ctrl-C or SIGTERM). With ``--progress json`` stdout carries one JSON object
per line (see the README's "Progress protocol"); nothing else is printed there.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import __version__
from .errors import CancelledError, MocapError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


class Cancel:
    """Turns SIGTERM/SIGINT into a flag the job polls, so it stops cleanly."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, *_: object) -> None:
        self.requested = True


def display(args: argparse.Namespace) -> tuple[str, Callable[[dict], None]]:
    """(mode, event handler) for ``--progress``: a bar on a terminal, else quiet (warnings only)."""
    mode = args.progress or ("bar" if sys.stderr.isatty() else "none")
    handlers: dict[str, Callable[[dict], None]] = {"bar": ProgressBar(), "json": json_emit, "none": warnings_only}
    return mode, handlers[mode]


def run_job(job: Callable[[Callable[[], bool]], object], mode: str) -> int:
    """Run ``job(should_cancel)`` with SIGTERM/SIGINT as cancellation; returns the exit code.

    The one place the engine's commands turn MocapError and CancelledError
    into a message (stderr, and a JSON ``error`` event) and an exit code.
    """
    cancel = Cancel()
    previous = {sig: signal.signal(sig, cancel) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        job(lambda: cancel.requested)
    except CancelledError as exc:
        fail(str(exc), mode)
        return EXIT_CANCELLED
    except MocapError as exc:
        fail(str(exc), mode)
        return EXIT_FAILED
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    return EXIT_OK


class ProgressBar:
    """A one-line progress bar on stderr for terminals."""

    def __init__(self) -> None:
        self.stage = ""
        self.start = time.perf_counter()

    def __call__(self, event: dict) -> None:
        kind = event["event"]
        if kind == "stage":
            self.stage = event["stage"]
            sys.stderr.write(f"\r\033[K{event['message']}\n")
        elif kind == "progress":
            frac = event["fraction"]
            filled = int(30 * frac)
            sys.stderr.write(
                f"\r\033[K[{'#' * filled}{'.' * (30 - filled)}] {100 * frac:5.1f}% "
                f"{self.stage} {event['done']}/{event['total']}"
            )
        elif kind == "warning":
            sys.stderr.write(f"\r\033[Kwarning: {event['message']}\n")
        elif kind == "done":
            sys.stderr.write(
                f"\r\033[Kdone: {event['frames']} frames in {time.perf_counter() - self.start:.1f} s -> {event['out']}\n"
            )
        sys.stderr.flush()


def warnings_only(event: dict) -> None:
    """The quiet display (``--progress none``): only warnings, on stderr."""
    if event["event"] == "warning":
        sys.stderr.write(f"warning: {event['message']}\n")


def json_emit(event: dict) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def unit_interval(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="blender-mocap engine")
    parser.add_argument("--version", action="version", version=f"blender-mocap engine {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    cap = sub.add_parser("capture", help="capture the person in a video into a motion file")
    cap.add_argument("video", type=Path, help="input video file")
    cap.add_argument("--out", type=Path, required=True, help="motion file to write (.npz)")
    cap.add_argument("--progress", choices=("bar", "json", "none"), default=None,
                     help="progress display (default: bar on a terminal, none otherwise)")
    cap.add_argument("--start", type=int, default=0, help="first frame, 0-based (default 0)")
    cap.add_argument("--end", type=int, default=None, help="end frame, exclusive (default: last)")
    cap.add_argument("--stride", type=positive_int, default=None,
                     help="analyse every N-th frame (default: the preset's, 1 or 2 for fast)")
    cap.add_argument("--max-frames", type=positive_int, default=None, help="analyse at most N frames")
    cap.add_argument("--fov", type=float, default=None,
                     help="horizontal field of view of the camera in degrees (default: from the video's "
                          "35 mm-equivalent focal length when its metadata has one, as iPhone videos do; else 60)")
    cap.add_argument("--model-complexity", type=int, choices=(0, 1), default=1,
                     help="MediaPipe pose model: 0 lite, 1 full (default)")
    cap.add_argument("--pose-backend", choices=("mediapipe", "torch"), default="mediapipe",
                     help="mediapipe: MediaPipe Holistic on the CPU, body, hands and face (default); "
                          "torch: MediaPipe's pose and hand models run by PyTorch, batched, on --device (no face)")
    cap.add_argument("--pose-batch", type=positive_int, default=None, metavar="N",
                     help="frames per network call of the torch pose backend (default: 1 on a CPU, 32-64 on a GPU)")
    cap.add_argument("--mirror-average", action=argparse.BooleanOptionalAction, default=None,
                     help="average the pose model's 3D landmarks with those of the mirrored frame: better depth, "
                          "one more pose pass per frame (default: on with --preset accurate, off otherwise)")
    cap.add_argument("--body", choices=("auto", "mannequin", "smplx"), default="auto",
                     help="body model: smplx (your SMPL-X files), mannequin (built in), or auto "
                          "(smplx when --smplx-dir holds the gender's file; the default)")
    cap.add_argument("--smplx-dir", type=Path, default=None,
                     help="SMPL-X model folder (default: $BLENDER_MOCAP_SMPLX_DIR)")
    cap.add_argument("--gender", choices=("neutral", "male", "female"), default="neutral",
                     help="which SMPL-X model file to use (default neutral)")
    cap.add_argument("--preset", choices=("fast", "balanced", "accurate"), default="balanced",
                     help="speed/quality of the fit (default balanced)")
    cap.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                     help="where the fit runs (default auto: CUDA when available)")

    clean = cap.add_argument_group("cleanup (floor, feet, smoothing)")
    clean.add_argument("--no-cleanup", action="store_true",
                       help="keep the fit as it is: no floor, no foot locking, no smoothing")
    clean.add_argument("--no-floor", action="store_true",
                       help="stay in the camera frame instead of a Z-up world on the estimated floor")
    clean.add_argument("--foot-lock", choices=("auto", "always", "off"), default="auto",
                       help="plant heels and toes: auto (low and slow), always (low), off (default auto)")
    for name, what in (("smoothing", "body and root"), ("smoothing-hands", "fingers"),
                       ("smoothing-face", "jaw, eyes and expression")):
        clean.add_argument(f"--{name}", type=unit_interval, default=0.5, metavar="S",
                           help=f"most jitter filtering for the {what}, 0 (off) to 1 (default 0.5); "
                                "joints are filtered only as much as their measured jitter calls for")

    from .preview import cli as preview_cli

    preview_cli.add_parser(sub)

    info = sub.add_parser("info", help="check a motion file and print what it holds")
    info.add_argument("motion", type=Path)
    return parser


def _capture(args: argparse.Namespace) -> int:
    from .capture import CaptureSettings, capture
    from .cleanup import CleanupSettings
    from .pose import PoseSettings

    mode, emit = display(args)
    settings = CaptureSettings(
        start=args.start, end=args.end, stride=args.stride, max_frames=args.max_frames,
        hfov_degrees=args.fov,
        pose=PoseSettings(model_complexity=args.model_complexity),
        pose_backend=args.pose_backend, pose_batch=args.pose_batch, mirror_average=args.mirror_average,
        body=args.body, smplx_dir=str(args.smplx_dir) if args.smplx_dir else None,
        gender=args.gender, preset=args.preset, device=args.device,
        cleanup=None if args.no_cleanup else CleanupSettings(
            ground=not args.no_floor, foot_lock=args.foot_lock, smoothing_body=args.smoothing,
            smoothing_hands=args.smoothing_hands, smoothing_face=args.smoothing_face),
    )
    return run_job(lambda should_cancel: capture(args.video, args.out, settings, emit=emit,
                                                 should_cancel=should_cancel), mode)


def fail(message: str, mode: str) -> None:
    """Report a failure: on stderr, and as a JSON ``error`` event in json mode."""
    if mode == "json":
        json_emit({"event": "error", "message": message})
    sys.stderr.write(f"error: {message}\n")


def _info(args: argparse.Namespace) -> int:
    from .motion import read_motion

    try:
        motion = read_motion(args.motion)
    except MocapError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_FAILED
    print(f"{args.motion}: {motion.num_frames} frames at {motion.fps:g} fps, body {motion.body_model}")
    for name, value in motion.quality.items():
        print(f"  {name}: {value:g}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, 0 on --help
        return int(exc.code or 0)
    if args.command == "capture":
        return _capture(args)
    if args.command == "preview":
        from .preview import cli as preview_cli

        return preview_cli.run(args)
    return _info(args)
