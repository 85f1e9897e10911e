"""Peak memory of a capture against clip length: frames are streamed, so memory stays bounded.

    python3 dev.py bench memory [--minutes 10] [--size 320x180]

Builds clips from the demo's first seconds, looped to 1 minute and to N
minutes (default 10) at a small resolution, runs the engine on each in its own
process and reads that process's peak resident memory (``ru_maxrss``). The
1-minute run is the baseline; the issue's target is a ratio of at most 1.5.
Writes bench/results/memory.json. The 10-minute run takes several minutes
(MediaPipe on 18,000 frames).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PEAK = r"""
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


from _results import write_results  # noqa: E402


def make_clip(source: Path, target: Path, seconds: float, size: tuple[int, int]) -> int:
    """Loop the first 3 s of ``source`` (forwards then backwards) to ``seconds`` at ``size``."""
    import cv2

    cap = cv2.VideoCapture(str(source))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    loop = []
    while len(loop) < int(3 * fps):
        ok, frame = cap.read()
        if not ok:
            break
        loop.append(cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
    cycle = loop + loop[::-1]
    total = int(seconds * fps)
    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(total):
        writer.write(cycle[i % len(cycle)])
    writer.release()
    return total


def peak_rss_mb(video: Path, out: Path) -> tuple[float, float]:
    engine = os.environ.get("BLENDER_MOCAP_ENGINE_PYTHON", sys.executable)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PEAK, engine, "-m", "core", "capture", str(video),
                           "--out", str(out), "--progress", "none"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    code, kb = proc.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"capture of {video.name} failed with exit code {code}")
    return int(kb) / 1024.0, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--size", default="320x180")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    sys.path.insert(0, str(ROOT))
    import dev

    source = dev.demo_clip()
    results: dict[str, float | str] = {"width": size[0], "height": size[1]}
    with tempfile.TemporaryDirectory(prefix="mocap-bench-memory-") as tmp:
        runs = {}
        for label, minutes in (("1min", 1.0), (f"{args.minutes:g}min", args.minutes)):
            clip = Path(tmp) / f"{label}.mp4"
            frames = make_clip(source, clip, 60.0 * minutes, size)
            peak, seconds = peak_rss_mb(clip, Path(tmp) / f"{label}.npz")
            runs[label] = peak
            results[f"frames_{label}"] = frames
            results[f"peak_rss_mb_{label}"] = round(peak, 1)
            results[f"seconds_{label}"] = round(seconds, 1)
            print(f"{label:>6}: {frames:6d} frames  peak RSS {peak:7.1f} MB  ({seconds:.0f} s)")
    labels = list(runs)
    ratio = runs[labels[1]] / runs[labels[0]]
    results["peak_ratio"] = round(ratio, 3)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores")
    print(f"peak memory {labels[1]} / {labels[0]} (baseline): {ratio:.3f}  (target <= 1.5)")
    print(f"wrote {write_results('memory', results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
