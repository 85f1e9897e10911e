"""Batch overhead: what the batch machinery and the exports cost on top of the capture.

    python3 dev.py bench batch

Runs the headless batch converter on the demo clip (1768x994, 230 frames) with
every output format, twice: once to convert, once to re-run (which must skip).
Prints, per stage, seconds and the share of the engine's capture time (the
baseline measured in the same run), and writes bench/results/batch.json.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from _results import write_results  # noqa: E402
from extension_package import extension  # noqa: E402


def main() -> int:
    sys.path.insert(0, str(ROOT))
    import dev

    clip = dev.demo_clip()
    headless = extension("blender_mocap.headless").blender_mocap.headless
    formats = "blend,fbx,bvh,glb,npz"
    with tempfile.TemporaryDirectory(prefix="mocap-bench-batch-") as tmp:
        out = Path(tmp) / "out"
        engine = os.environ.get("BLENDER_MOCAP_ENGINE_PYTHON", sys.executable)
        args = ["capture", str(clip), "--out", str(out), "--outputs", formats, "--engine-python", engine]
        t0 = time.perf_counter()
        code = headless.main(args)
        wall = time.perf_counter() - t0
        report = json.loads((out / "report.json").read_text())
        t1 = time.perf_counter()
        code_again = headless.main(args)
        rerun = time.perf_counter() - t1
    if code != 0 or code_again != 0:
        print(f"batch failed (exit {code}, {code_again})", file=sys.stderr)
        return 1
    entry = report["videos"][0]
    timings = entry["timings"]
    engine_s = timings["engine"]
    overhead = {k: v for k, v in timings.items() if k == "build" or k.startswith("export_")}
    machinery = wall - sum(timings.get(k, 0.0) for k in ("engine", "build")) - sum(
        v for k, v in timings.items() if k.startswith("export_"))
    results = {
        "frames": entry["frames"], "width": 1768, "height": 994,
        "engine_seconds": engine_s, "wall_seconds": round(wall, 3),
        "rerun_seconds": round(rerun, 3),
        **{f"{k}_seconds": v for k, v in overhead.items()},
        "batch_machinery_seconds": round(machinery, 3),
        "overhead_fraction_of_capture": round((wall - engine_s) / engine_s, 4),
        "rerun_fraction_of_capture": round(rerun / engine_s, 4),
    }
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; demo clip {entry['frames']} frames 1768x994")
    print(f"capture (engine, baseline): {engine_s:7.2f} s  1.000")
    for key, value in overhead.items():
        print(f"{key:27s} {value:7.2f} s  {value / engine_s:.3f} x capture")
    print(f"{'batch machinery':27s} {machinery:7.2f} s  {machinery / engine_s:.3f} x capture")
    print(f"{'total overhead':27s} {wall - engine_s:7.2f} s  {(wall - engine_s) / engine_s:.3f} x capture")
    print(f"{'re-run (all skipped)':27s} {rerun:7.2f} s  {rerun / engine_s:.3f} x capture")
    print(f"wrote {write_results('batch', results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
