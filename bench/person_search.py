"""What following the person costs (issue 16): a capture of the demo with the search against one without.

    python3 dev.py bench person_search [--repeats 3] [--frames N] [--pose-backend mediapipe|torch] [--pick] [--parts]

Captures the demo clip (the whole capture: pose, fit, cleanup, writing) in
the same process, alternating: without the search (``--no-follow``: MediaPipe's
own tracking), then with it (the default: the most prominent person of the first
frames, or with ``--pick`` the man picked as ``dev.py demo`` picks him; kept by
``core.person``, Holistic's results checked against him, and searched for with
the frame turned where tracking is weak). Prints wall and CPU seconds of each run, their
medians over ``--repeats`` pairs and the ratio with / without (target <= 1.1),
after an untimed 10-frame capture that pays the process's imports,
with the load average before and after (the machine may be shared). Writes
bench/results/person_search.json.

``--parts`` (MediaPipe backend) also says where the following's CPU goes, per captured frame's part (CPU
seconds of the thread that does it, median over the runs with the search, and how often it ran): the checks of
Holistic's body (``holds``, with the rival searches), the stand-in (the torch tracker where Holistic lost the
person: its searches and tracking), the turned look (``read``, with its second looks), loading the stand-in's
networks (their traces kept on disk, or converting and tracing them), and the networks' runs inside all of these
(their first calls, loading included); within those, the searches for the person (``finder.Finder.search``: the
stand-in's where its tracking is weak, and the first frames' search for the most prominent person), the detector's
runs (searches and rival searches) and the turned look's short-trunk second looks. The timers cost a little
themselves; the ratio above is of runs with them.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _results import write_results  # noqa: E402


def demo_clip() -> Path:
    import dev

    clip = dev.CACHE / "demo.mp4"
    return clip if clip.is_file() else dev.demo_clip()


def timed_capture(video: Path, out: Path, settings) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one capture."""
    from core.capture import capture

    wall, cpu = time.perf_counter(), time.process_time()
    capture(video, out, settings)
    return time.perf_counter() - wall, time.process_time() - cpu


# (owner module, class or None, function, part name): what ``--parts`` times.
PARTS = (("core.pose_follow", "Follower", "holds", "checks"), ("core.pose_follow", "Follower", "_rival", "rival"),
         ("core.pose_follow", "Follower", "stand_in", "stand_in"), ("core.pose_torch.turned", "TurnedLook", "read",
                                                                    "turned_look"),
         ("core.pose_torch.networks", "Network", "_load_or_trace", "load_networks"),
         ("core.pose_torch.networks", "BodyModels", "_run", "network_runs"),
         ("core.pose_torch.finder", "Finder", "search", "searches"),
         ("core.pose_torch.finder", "Finder", "detect_turned", "detector"),
         ("core.pose_torch.turned", "TurnedLook", "_read_wide", "short_trunk_look"))


class PartTimer:
    """CPU seconds (of the calling thread) and calls of each of ``PARTS`` while :attr:`on`."""

    def __init__(self) -> None:
        import importlib

        self.on = False
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        for module, owner, name, part in PARTS:
            holder = getattr(importlib.import_module(module), owner)
            setattr(holder, name, self._timed(getattr(holder, name), part))

    def _timed(self, function, part: str):
        def timed(*args, **kwargs):
            if not self.on:
                return function(*args, **kwargs)
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[part] = self.seconds.get(part, 0.0) + time.thread_time() - start
                self.calls[part] = self.calls.get(part, 0) + 1
        return timed

    def take(self) -> tuple[dict[str, float], dict[str, int]]:
        """The parts' seconds and calls since the last take."""
        out = self.seconds, self.calls
        self.seconds, self.calls = {}, {}
        return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="pairs of captures (default 3; the median is kept)")
    parser.add_argument("--frames", type=int, default=None, help="capture only the first N frames")
    parser.add_argument("--pose-backend", default="mediapipe", choices=("mediapipe", "torch"))
    parser.add_argument("--pick", action="store_true", help="follow the man picked as dev.py demo picks him "
                        "(default: nobody picked, the most prominent person followed)")
    parser.add_argument("--parts", action="store_true", help="say where the following's CPU goes (MediaPipe backend)")
    args = parser.parse_args(argv)

    import dev
    from core.capture import CaptureSettings
    from core.pose import PoseSettings

    video = demo_clip()
    base = CaptureSettings(max_frames=args.frames, pose_backend=args.pose_backend, body="mannequin")
    runs = {"without": replace(base, pose=PoseSettings(follow=False)),
            "with": replace(base, person=dev.DEMO_PERSON) if args.pick else base}
    load_before = os.getloadavg()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python "
          f"{platform.python_version()}; load average {load_before[0]:.1f}; demo clip, "
          f"{args.frames or 'all'} frames, {args.pose_backend} backend, "
          f"{'the man picked' if args.pick else 'nobody picked'}")
    times: dict[str, list[tuple[float, float]]] = {k: [] for k in runs}
    timer = PartTimer() if args.parts else None
    parts: list[tuple[dict[str, float], dict[str, int]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-person-search-") as tmp:
        # Not timed: the process's first capture imports MediaPipe, torch and the fit (seconds of CPU), which
        # every run of the CLI pays alike; timed, they fell on the first pair's run without the search.
        timed_capture(video, Path(tmp) / "warm-up.npz", replace(runs["without"], max_frames=10))
        for repeat in range(args.repeats):
            for name, settings in runs.items():
                if timer is not None:
                    timer.on = name == "with"
                wall, cpu = timed_capture(video, Path(tmp) / f"{name}.npz", settings)
                if timer is not None and timer.on:
                    parts.append(timer.take())
                times[name].append((wall, cpu))
                print(f"  pair {repeat + 1}, {name} the search: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    load_after = os.getloadavg()
    results: dict[str, float | int | str] = {"frames": args.frames or 0, "repeats": args.repeats,
                                              "pose_backend": args.pose_backend, "pick": int(args.pick),
                                              "load_before": round(load_before[0], 2),
                                              "load_after": round(load_after[0], 2)}
    for k, kind in enumerate(("wall", "cpu")):
        median = {name: float(np.median([t[k] for t in runs_])) for name, runs_ in times.items()}
        results[f"without_{kind}_seconds"] = round(median["without"], 2)
        results[f"with_{kind}_seconds"] = round(median["with"], 2)
        results[f"{kind}_ratio"] = round(median["with"] / median["without"], 3)
        print(f"median {kind}: {median['with']:.1f} s with the search, {median['without']:.1f} s without: "
              f"ratio {results[f'{kind}_ratio']:.2f} (target <= 1.1)")
    for part in dict.fromkeys(p for _, _, _, p in PARTS):
        if parts:
            seconds = float(np.median([run.get(part, 0.0) for run, _ in parts]))
            calls = int(np.median([counts.get(part, 0) for _, counts in parts]))
            results[f"part_{part}_cpu_seconds"], results[f"part_{part}_calls"] = round(seconds, 3), calls
            print(f"  {part}: {seconds:.2f} s CPU in {calls} calls (median of {len(parts)} runs)")
    print(f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    path = write_results("person_search", results)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
