"""The demo's performer against his hand annotation (issue 16): is the take on the man on the box?

    python3 dev.py bench demo_identity

Captures the real demo clip three times in this process (balanced preset,
MediaPipe backend, mannequin body): with MediaPipe's own tracking
(``--no-follow``, the baseline), with the default following (nobody picked:
the most prominent person of the first frames) and with ``dev.py demo``'s
pick. For each take: the share of the annotated frames
(``tests/testdata/demo_person.json``, every 10 frames, where he is visible) on
which the take's 2D mid-hip (its hips projected with its own camera) is within
``tracking.IDENTITY_FRACTION`` of his annotated height of his annotated pelvis,
the frames it misses, and its wall time. Writes bench/results/demo_identity.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy  # noqa: E402  (sets up the paths)
import tracking  # noqa: E402
from _results import write_results  # noqa: E402

ANNOTATION = accuracy.ROOT / "tests" / "testdata" / "demo_person.json"
RUNS = {"no_follow": ("--no-follow",), "follow": (), "pick": ("--person", None)}


def annotated() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(frames (N,), pelvis pixels (N, 2), height pixels (N,)) of the annotated frames where he is visible."""
    marks = [m for m in json.loads(ANNOTATION.read_text())["frames"] if m["visible"]]
    return (np.array([m["frame"] for m in marks]), np.array([m["pelvis"] for m in marks], float),
            np.array([m["height"] for m in marks], float))


def identity(take: Path, frames: np.ndarray, pelvis: np.ndarray, height: np.ndarray) -> tuple[float, list[int]]:
    """(share of the annotated frames the take is on him, the frames it is not)."""
    _, ours2, valid, _ = accuracy.take_joints(take, int(frames.max()) + 1)
    ours = tracking.pelvis_2d(ours2)[frames]
    ours[~valid[frames]] = np.nan
    d = np.linalg.norm(ours - pelvis, axis=-1)
    hit = np.where(np.isnan(d), False, d <= tracking.IDENTITY_FRACTION * height)
    return float(hit.mean()), [int(f) for f in frames[~hit]]


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    import dev

    video = dev.demo_clip()
    frames, pelvis, height = annotated()
    results: dict[str, float] = {"annotated_frames": float(len(frames))}
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in RUNS.items():
            args = [a if a is not None else dev.DEMO_PERSON for a in extra]
            out = Path(tmp) / f"{name}.npz"
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "core", "capture", str(video), "--out", str(out),
                                   "--body", "mannequin", "--progress", "none", *args],
                                  cwd=accuracy.ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"capture {name} failed: {done.stderr[-2000:]}")
            share, missed = identity(out, frames, pelvis, height)
            results[f"{name}.identity"], results[f"{name}.seconds"] = share, time.perf_counter() - t0
            print(f"{name:10s} identity {share:.3f} ({round(share * len(frames))}/{len(frames)}), "
                  f"missed frames {missed or 'none'}, {results[f'{name}.seconds']:.1f} s")
    for name in ("follow", "pick"):
        print(f"{name} / no_follow: identity {results[f'{name}.identity'] - results['no_follow.identity']:+.3f}, "
              f"time x{results[f'{name}.seconds'] / results['no_follow.seconds']:.2f}")
    write_results("demo_identity", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
