"""``python -m core capture-multi VIDEO VIDEO [...] --out take.npz``: several videos of one performance.

The subcommand takes every option of ``capture`` (applied to each video) and
the multi-view options of the option table (``core.options``, surface ``multi``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .cli_common import display, run_job
from .options import MULTI, add_argument, add_engine_arguments, options_for


def add_parser(sub: Any) -> None:
    """The ``capture-multi`` subcommand on ``python -m core``'s subparsers."""
    cap = sub.add_parser("capture-multi", help="capture one person filmed by several videos into one motion file")
    cap.add_argument("videos", type=Path, nargs="+", metavar="VIDEO", help="2 to 8 videos of the same performance")
    cap.add_argument("--out", type=Path, required=True, help="motion file to write (.npz)")
    cap.add_argument("--progress", choices=("bar", "json", "none"), default=None,
                     help="progress display (default: bar on a terminal, none otherwise)")
    group = cap.add_argument_group("several cameras")
    for option in options_for(MULTI):
        add_argument(group, option, default=option.default)
    add_engine_arguments(cap)


def multi_settings(args: argparse.Namespace, capture: Any) -> Any:
    """``MultiCaptureSettings`` from parsed arguments and the one-video ``CaptureSettings``."""
    from .capture_multi import MultiCaptureSettings

    offsets = None if args.offsets is None else tuple(float(v) for v in args.offsets.split(","))
    return MultiCaptureSettings(capture=capture, offsets=offsets, calibration=args.calibration,
                                save_calibration=args.save_calibration, person_height=args.person_height)


def run(args: argparse.Namespace, capture: Any) -> int:
    """Run ``capture-multi`` with the one-video settings ``capture`` (built from the same arguments)."""
    from .capture_multi import capture_multi

    mode, emit = display(args)
    settings = multi_settings(args, capture)
    return run_job(lambda should_cancel: capture_multi(list(args.videos), args.out, settings, emit=emit,
                                                       should_cancel=should_cancel), mode)
