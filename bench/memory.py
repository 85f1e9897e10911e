"""Peak memory of a capture against clip length: frames are streamed, so memory stays bounded.

    python3 dev.py bench memory [--minutes 10] [--size 320x180]
    python3 dev.py bench memory --build 100000


Builds clips from the demo's first seconds, looped to 1 minute and to N
minutes (default 10) at a small resolution, runs the engine on each in its own
process and reads that process's peak resident memory (``ru_maxrss``). The
1-minute run is the baseline; the issue's target is a ratio of at most 1.5.
Writes bench/results/memory.json. The 10-minute run takes several minutes
(MediaPipe on 18,000 frames).

``--build FRAMES`` measures the Blender side instead: a synthetic mannequin take of FRAMES
frames (``tests/testdata/walk.py``'s walk, repeated, with the mannequin's mesh) is built into a
.blend by ``headless.py build`` in its own process, against a 1,800-frame one (a minute at 30 fps).
Blender keeps about 70 bytes per key, 224 F-curves a frame, and a second copy of the action while
it evaluates or saves the scene: that part grows with the take and cannot be streamed.
Writes bench/results/memory_build.json.
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


def write_long_take(path: Path, frames: int) -> Path:
    """A ``frames``-long mannequin take: a 1,000-frame walk (whole gait cycles) repeated, walking on."""
    import dataclasses

    import numpy as np

    sys.path.insert(0, str(ROOT))
    from core.body.mannequin import mesh
    from core.motion import write_motion
    from tests.testdata.walk import synthetic_walk, to_camera

    walk = to_camera(synthetic_walk(1000)[0])
    reps = -(-frames // 1000)
    stride = walk.trans[-1] - walk.trans[0] + (walk.trans[1] - walk.trans[0])
    verts, faces, weights = mesh()
    take = dataclasses.replace(
        walk, poses=np.tile(walk.poses, (reps, 1))[:frames],
        trans=np.concatenate([walk.trans + k * stride for k in range(reps)])[:frames].astype(np.float32),
        frame_indices=np.arange(frames), confidence=np.ones(frames, np.float32), bridged=np.zeros(frames, bool),
        reprojection_error=np.ones(frames, np.float32), expression=np.zeros((frames, 0), np.float32),
        v_template=verts.astype(np.float32), faces=faces.astype(np.int32), skin_weights=weights.astype(np.float32))
    return write_motion(path, take)


def peak_rss_build_mb(take: Path, out: Path) -> tuple[float, float]:
    """(peak resident MB, seconds) of ``headless.py build take --out out`` in its own process."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PEAK, sys.executable, str(ROOT / "blender_mocap" / "headless.py"),
                           "build", str(take), "--out", str(out)], capture_output=True, text=True, check=True)
    code, kb = proc.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"building {take.name} failed with exit code {code}")
    return int(kb) / 1024.0, time.perf_counter() - t0


def build_main(frames: int) -> int:
    results: dict[str, float | str] = {}
    with tempfile.TemporaryDirectory(prefix="mocap-bench-build-") as tmp:
        runs = {}
        for label, count in (("1800", 1800), (str(frames), frames)):
            take = write_long_take(Path(tmp) / f"take{label}.npz", count)
            peak, seconds = peak_rss_build_mb(take, Path(tmp) / f"take{label}.blend")
            runs[label] = peak
            results[f"peak_rss_mb_{label}"] = round(peak, 1)
            results[f"seconds_{label}"] = round(seconds, 1)
            print(f"{count:7d} frames: headless build peak RSS {peak:7.1f} MB  ({seconds:.1f} s)")
    per_key = (runs[str(frames)] - runs["1800"]) * 2**20 / ((frames - 1800) * 224)
    results["bytes_per_key"] = round(per_key, 1)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores")
    print(f"growth: {per_key:.0f} bytes per key (224 F-curves a frame; Blender's own keys and their evaluated copy)")
    print(f"wrote {write_results('memory_build', results)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--size", default="320x180")
    parser.add_argument("--build", type=int, metavar="FRAMES", help="measure building a take of FRAMES frames instead")
    args = parser.parse_args()
    if args.build:
        return build_main(args.build)
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
