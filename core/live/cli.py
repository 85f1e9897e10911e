"""``python -m core live SOURCE``: the live subcommand (wired into core/cli.py).

    python -m core live SOURCE [--realtime] [--send HOST:PORT] [--take REST.npz] [--vmc HOST:PORT]
        [--hands] [--seconds S] [--fov DEG] [--camera-pitch DEG] [--camera-roll DEG] [--smoothing S]
        [--lag FRAMES]
        [--body auto|mannequin|smplx] [--smplx-dir DIR] [--gender G] [--no-follow]
        [--progress bar|json|none]

SOURCE: a camera index (0), a device path, a stream URL or a video file.
Ends on Ctrl-C / SIGTERM (exit 0: stopping is how a live session ends), when
``--seconds`` pass or when a file ends. With ``--progress json`` stdout
carries the JSON-lines protocol plus ``ready`` and ``stats`` events.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli_common import display, run_job
from ..options import LIVE, LIVE_SHARED, OPTION, add_argument, options_for


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``live`` subcommand to ``python -m core``'s subparsers; returns it."""
    p = subparsers.add_parser(
        "live", help="drive a body from a camera or stream in real time (poses out over UDP)",
        description="Live capture: each frame's solved pose goes out as one UDP datagram "
                    "(the README's 'The live stream'), and optionally as VMC/OSC bone messages.")
    p.add_argument("source", help="camera index (0), device path, stream URL (udp://, rtsp://, http://) or video file")
    p.add_argument("--send", metavar="HOST:PORT", default=None,
                   help="where the stream's datagrams go (the add-on's receiver; loopback)")
    p.add_argument("--take", type=Path, default=None,
                   help="write the session's rest take (the fitted body, one frame) here once the shape is known")
    p.add_argument("--hands", action="store_true",
                   help="MediaPipe Holistic: fingers too, at about a third of the frame rate on a 2-core CPU")
    p.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--lag", type=int, default=0, metavar="FRAMES",
                   help="send each pose FRAMES frames late, the mean of the frames around it: nearer the offline "
                        "take and steadier, FRAMES source frames later (1: 33 ms at 30 fps); replaces the "
                        "--smoothing filter (default 0: no lag, the filter smooths)")
    p.add_argument("--progress", choices=("bar", "json", "none"), default=None,
                   help="progress display (default: bar on a terminal, none otherwise)")
    for option in options_for(LIVE):
        add_argument(p, option, default=option.default)
    for name in LIVE_SHARED:
        add_argument(p, OPTION[name], default=OPTION[name].default)
    return p


def _show(mode: str, emit):
    """The display's handler, with the live events a terminal wants to see (ready, stats) on stderr."""
    def show(event: dict) -> None:
        if mode != "json" and event["event"] in ("ready", "stats"):
            if event["event"] == "ready":
                sys.stderr.write("live: streaming\n")
            else:
                sys.stderr.write(f"\rlive: {event['fps_sent']:.1f} fps, {event['frames_dropped']} dropped, "
                                 f"glass to send {event['glass_to_send_ms_median']} ms ")
            sys.stderr.flush()
            return
        if event["event"] != "done" or mode == "json":
            emit(event)

    return show


def run(args: argparse.Namespace) -> int:
    from .session import LiveSettings, run_live  # not at import: `python -m core capture` starts without it

    mode, emit = display(args)
    settings = LiveSettings(
        source=str(args.source), realtime=args.realtime, send=args.send,
        take=str(args.take) if args.take else None, vmc=args.vmc or None, hands=args.hands,
        hfov_degrees=args.fov, camera_pitch=args.camera_pitch, camera_roll=args.camera_roll,
        smoothing=args.smoothing, lag=args.lag, seconds=args.seconds, body=args.body, gender=args.gender,
        smplx_dir=args.smplx_dir or None, follow=args.follow)
    return run_job(lambda should_cancel: run_live(settings, emit=_show(mode, emit), should_cancel=should_cancel),
                   mode)
