"""Pose throughput: MediaPipe (legacy Pose, CPU, one frame at a time) against the torch backend.

Run: python3 dev.py bench pose   (or: <dev python> bench/pose.py [--frames N])
Prints frames per second of both backends on the demo clip (640 px wide) and
the ratio torch / MediaPipe at batch sizes 1, 8 and 32; on CUDA also GPU
throughput in fp32 and fp16. Then body and hands: MediaPipe Holistic (which
always runs its face mesh too) against the torch backend with hands at batch 1.
Writes bench/results/pose.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from _results import write_results  # noqa: E402

def load_frames(count: int) -> list[np.ndarray]:
    import cv2

    sys.path.insert(0, str(ROOT / "tests"))
    import dev

    clip = dev.CACHE / "demo.mp4"
    if not clip.is_file():
        clip = dev.demo_clip()
    cap = cv2.VideoCapture(str(clip))
    frames = []
    while len(frames) < count:
        ok, f = cap.read()
        if not ok:
            break
        f = cv2.resize(f, (640, round(f.shape[0] * 640 / f.shape[1])), interpolation=cv2.INTER_AREA)
        frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    return frames


def solution_fps(solution, frames: list[np.ndarray]) -> float:
    """Frames per second of a MediaPipe solution (tracking, smoothed, model complexity 1) after one warm-up frame."""
    with solution(static_image_mode=False, model_complexity=1, smooth_landmarks=True) as running:
        running.process(frames[0])
        t = time.perf_counter()
        for f in frames:
            running.process(f)
        return len(frames) / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=240)
    args = parser.parse_args()
    import mediapipe as mp
    import torch

    from core.pose_torch import TorchPoseSettings
    from core.pose_torch.tracker import BodyModels, BodyTracker

    frames = load_frames(args.frames)
    n = len(frames)
    result: dict[str, float] = {"frames": n, "width": frames[0].shape[1], "height": frames[0].shape[0],
                                "cpu_threads": torch.get_num_threads()}
    mp_fps = solution_fps(mp.solutions.pose.Pose, frames)
    result["mediapipe_fps"] = mp_fps
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {n} frames "
          f"{frames[0].shape[1]}x{frames[0].shape[0]}")
    print(f"mediapipe  cpu           {mp_fps:7.1f} fps")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        for precision in (["fp32", "fp16"] if device == "cuda" else ["fp32"]):
            models = BodyModels(device, precision)
            for batch in (1, 8, 32):
                settings = TorchPoseSettings(device=device, precision=precision, batch_size=batch,
                                             segment_frames=max(1, -(-n // batch)))
                BodyTracker(settings, models).run_chunk(frames[: min(n, batch)])  # warm-up
                if device == "cuda":
                    torch.cuda.synchronize()
                t = time.perf_counter()
                tracker = BodyTracker(settings, models)
                tracker.run_chunk(frames)
                if device == "cuda":
                    torch.cuda.synchronize()
                fps = n / (time.perf_counter() - t)
                key = f"torch_{device}_{precision}_b{batch}"
                result[key + "_fps"] = fps
                result[key + "_ratio"] = fps / mp_fps
                result[key + "_retracked_segments"] = tracker.retracked_segments
                print(f"torch      {device:4s} {precision} b{batch:<3d} {fps:7.1f} fps   x{fps / mp_fps:.2f} of mediapipe"
                      f"   ({tracker.retracked_segments} segments tracked again)")
    # Body and hands: MediaPipe Holistic (which also runs its face mesh; it cannot skip it)
    # against the torch backend with hands, one stream, through estimate_body as captures use it.
    from core.pose_torch import estimate_body

    h, w = frames[0].shape[:2]
    holistic_fps = solution_fps(mp.solutions.holistic.Holistic, frames)
    result["holistic_fps"] = holistic_fps
    print(f"holistic   cpu           {holistic_fps:7.1f} fps   (body, hands and face)")
    for device in devices:
        models = BodyModels(device, "fp32")
        settings = TorchPoseSettings(device=device, batch_size=1, hands=True)
        estimate_body(enumerate(frames[:4]), num_frames=4, fps=30.0, image_size=(w, h), settings=settings,
                      models=models)  # warm-up: traces and hand networks
        t = time.perf_counter()
        seq = estimate_body(enumerate(frames), num_frames=n, fps=30.0, image_size=(w, h), settings=settings,
                            models=models)
        fps = n / (time.perf_counter() - t)
        found = float(np.isfinite(seq.left_hand[:, 0, 0]).mean() + np.isfinite(seq.right_hand[:, 0, 0]).mean()) / 2
        result[f"torch_{device}_hands_b1_fps"] = fps
        result[f"torch_{device}_hands_b1_ratio_to_holistic"] = fps / holistic_fps
        result[f"torch_{device}_hands_found_fraction"] = found
        print(f"torch      {device:4s} fp32 b1 {fps:7.1f} fps   x{fps / holistic_fps:.2f} of holistic   "
              f"(body and hands; hands found on {100 * found:.0f}% of hand-frames)")
    print(f"wrote {write_results('pose', result)}")


if __name__ == "__main__":
    main()
