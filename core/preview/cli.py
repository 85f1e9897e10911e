"""``python -m core preview MOTION.npz``: the preview subcommand (wired into core/cli.py).

    python -m core preview take.npz [--out take.preview.mp4] [--video VIDEO]
        [--resolution PX] [--start N] [--end N] [--stride K]
        [--layout overlay|side-by-side] [--second-view side|top] [--opacity A]
        [--colors part|confidence] [--landmarks] [--no-frame-numbers]
        [--renderer auto|pytorch3d|cpu] [--device auto|cpu|cuda] [--chunk-size N]
        [--progress bar|json|none]

Exit codes as for ``capture``: 0 ok, 1 MocapError, 2 bad arguments, 130 cancelled.
With ``--progress json`` stdout carries the JSON-lines protocol (stage
"rendering", progress, warning, error, done); log lines (the renderer chosen,
GPU memory per chunk) go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ..cli_common import display, run_job
from ..option_values import positive_int, unit_interval
from .settings import COLOR_MODES, DEVICES, LAYOUTS, RENDERERS, SECOND_VIEWS, PreviewSettings, ShadingSettings

def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``preview`` subcommand to ``python -m core``'s subparsers; returns it."""
    p = subparsers.add_parser(
        "preview", help="render the fitted body over the video into an MP4 (quick look)",
        description="Render the take's body over its video (and a second view) into an MP4.",
    )
    p.add_argument("motion", type=Path, help="motion file (.npz) written by a capture")
    p.add_argument("--out", type=Path, default=None,
                   help="MP4 to write (default: MOTION's name with .preview.mp4, next to it)")
    p.add_argument("--video", type=Path, default=None,
                   help="the video to draw over (default: the one the motion file names)")
    p.add_argument("--resolution", type=positive_int, default=960,
                   help="longer side of each view in pixels (default 960)")
    p.add_argument("--full-resolution", dest="resolution", action="store_const", const=None,
                   help="keep the video's size")
    p.add_argument("--start", type=int, default=0, help="first video frame, 0-based (default 0)")
    p.add_argument("--end", type=int, default=None, help="end video frame, exclusive (default: last)")
    p.add_argument("--stride", type=positive_int, default=1, help="draw every N-th frame of the take")
    p.add_argument("--layout", choices=LAYOUTS, default="overlay",
                   help="overlay: body over the video; side-by-side: plus a fixed second view")
    p.add_argument("--second-view", choices=SECOND_VIEWS, default="side",
                   help="camera of the second view in side-by-side (default side)")
    p.add_argument("--opacity", type=unit_interval, default=0.6, help="body opacity over the video, 0..1")
    p.add_argument("--colors", choices=COLOR_MODES, default="part",
                   help="part: one colour per body part (low-confidence frames tinted red); "
                        "confidence: green to red by frame confidence")
    p.add_argument("--landmarks", action="store_true", help="draw the 2D landmarks on top")
    p.add_argument("--no-frame-numbers", dest="frame_numbers", action="store_false",
                   help="do not burn frame numbers in")
    p.add_argument("--renderer", choices=RENDERERS, default="auto",
                   help="auto: PyTorch3D on CUDA, else the CPU renderer (default)")
    p.add_argument("--device", choices=DEVICES, default="auto", help="torch device for PyTorch3D")
    p.add_argument("--chunk-size", type=positive_int, default=8, help="frames rendered per batch")
    p.add_argument("--progress", choices=("bar", "json", "none"), default=None,
                   help="progress display (default: bar on a terminal, none otherwise)")
    return p


def settings_from_args(args: argparse.Namespace) -> PreviewSettings:
    """The job's settings for parsed arguments."""
    return PreviewSettings(
        out=args.out, video=args.video, resolution=args.resolution or None,
        start=args.start, end=args.end, stride=args.stride, layout=args.layout,
        second_view=args.second_view, opacity=args.opacity,
        shading=ShadingSettings(colors=args.colors), landmarks=args.landmarks,
        frame_numbers=args.frame_numbers, renderer=args.renderer, device=args.device,
        chunk_size=args.chunk_size,
    )


def run(args: argparse.Namespace) -> int:
    """Run the preview for parsed arguments; returns the exit code."""
    from .job import render_preview

    mode, emit = display(args)
    handler = logging.StreamHandler(sys.stderr)  # the log never goes to stdout (JSON there)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("core.preview")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        return run_job(lambda should_cancel: render_preview(args.motion, settings_from_args(args), emit=emit,
                                                            should_cancel=should_cancel), mode)
    finally:
        logger.removeHandler(handler)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry for tests and scripts: ``python -m core.preview.cli MOTION ...``."""
    parser = argparse.ArgumentParser(prog="python -m core")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    try:
        args = parser.parse_args(["preview", *(sys.argv[1:] if argv is None else argv)])
    except SystemExit as exc:
        return int(exc.code or 0)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
