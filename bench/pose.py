"""Pose throughput: MediaPipe (legacy Pose, CPU, one frame at a time) against the torch backend.

Run: python3 dev.py bench pose   (or: <dev python> bench/pose.py [--frames N])
Prints frames per second of both backends on the demo clip (640 px wide) and
the ratio torch / MediaPipe at batch sizes 1, 8 and 32; on CUDA also GPU
throughput in fp32 and fp16. Then body and hands: MediaPipe Holistic (which
always runs its face mesh too) against the torch backend with hands at batch 1. Last, the cost of
the mirrored-frame average (``mirror_average``) on both backends.
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


def solution_fps(solution, frames: list[np.ndarray]) -> tuple[float, list]:
    """Frames per second of a MediaPipe solution (tracking, smoothed, model complexity 1) after one
    warm-up frame, and its results (kept as they come: a list append costs nothing next to a frame)."""
    with solution(static_image_mode=False, model_complexity=1, smooth_landmarks=True) as running:
        running.process(frames[0])
        results = []
        t = time.perf_counter()
        for f in frames:
            results.append(running.process(f))
        return len(frames) / (time.perf_counter() - t), results


def _points(landmarks, count: int, fields: str) -> np.ndarray:
    """A MediaPipe landmark list -> (count, len(fields)) array, NaN when it is None."""
    if landmarks is None:
        return np.full((count, len(fields)), np.nan)
    return np.array([[getattr(p, f) for f in fields] for p in landmarks.landmark])


def within_image_percent(ours: np.ndarray, theirs: np.ndarray, size: tuple[int, int], weight=None) -> dict:
    """Agreement of two (T, K, >=2) normalized landmark sets (NaN frames = not found):
    presence agreement, share within 1% of the image's longer side where both found them, median pixels."""
    w, h = size
    have_ours, have_theirs = np.isfinite(ours[:, 0, 0]), np.isfinite(theirs[:, 0, 0])
    both = have_ours & have_theirs
    err = np.hypot((ours[both, :, 0] - theirs[both, :, 0]) * w, (ours[both, :, 1] - theirs[both, :, 1]) * h)
    keep = np.ones(err.shape, bool) if weight is None else weight[both]
    return {"presence_agreement": float((have_ours == have_theirs).mean()),
            "within_1pct": float((err[keep] < 0.01 * max(w, h)).mean()) if keep.any() else float("nan"),
            "median_px": float(np.median(err[keep])) if keep.any() else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=240)
    args = parser.parse_args()
    import mediapipe as mp
    import torch

    from core.pose_torch import TorchPoseSettings
    from core.pose_torch.tracker import BodyModels, BodyTracker

    loaded: dict[tuple[str, str], BodyModels] = {}

    def models_for(device: str, precision: str) -> BodyModels:
        """One set of networks (and traces) per device and precision for the whole run."""
        if (device, precision) not in loaded:
            loaded[device, precision] = BodyModels(device, precision)
        return loaded[device, precision]

    frames = load_frames(args.frames)
    n = len(frames)
    result: dict[str, float] = {"frames": n, "width": frames[0].shape[1], "height": frames[0].shape[0],
                                "cpu_threads": torch.get_num_threads()}
    mp_fps, mp_results = solution_fps(mp.solutions.pose.Pose, frames)
    ref = np.stack([_points(r.pose_landmarks, 33, ("x", "y", "visibility"))
                    for r in mp_results])
    ref_world = np.stack([_points(r.pose_world_landmarks, 33, ("x", "y", "z")) for r in mp_results])
    size = (frames[0].shape[1], frames[0].shape[0])
    result["mediapipe_fps"] = mp_fps
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {n} frames "
          f"{frames[0].shape[1]}x{frames[0].shape[0]}")
    print(f"mediapipe  cpu           {mp_fps:7.1f} fps")
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        for precision in (["fp32", "fp16"] if device == "cuda" else ["fp32"]):
            models = models_for(device, precision)
            for batch in (1, 8, 32):
                settings = TorchPoseSettings(device=device, precision=precision, batch_size=batch,
                                             segment_frames=max(1, -(-n // batch)))
                BodyTracker(settings, models).run_chunk(frames[: min(n, batch)])  # warm-up
                if device == "cuda":
                    torch.cuda.synchronize()
                t = time.perf_counter()
                tracker = BodyTracker(settings, models)
                track = tracker.run_chunk(frames)
                if device == "cuda":
                    torch.cuda.synchronize()
                fps = n / (time.perf_counter() - t)
                ours = np.where(track.present[:, None, None], track.landmarks[..., :2], np.nan)
                agree = within_image_percent(ours, ref, size, weight=ref[..., 2] > 0.5)
                both = track.present & np.isfinite(ref_world[:, 0, 0])
                world_mm = 1000 * float(np.median(np.linalg.norm(track.world[both, :, :3] - ref_world[both], axis=-1)))
                key = f"torch_{device}_{precision}_b{batch}"
                result[key + "_fps"] = fps
                result[key + "_ratio"] = fps / mp_fps
                result[key + "_retracked_segments"] = tracker.retracked_segments
                result.update({f"{key}_{k}": v for k, v in agree.items()})
                result[key + "_world_median_mm"] = world_mm
                print(f"torch      {device:4s} {precision} b{batch:<3d} {fps:7.1f} fps   x{fps / mp_fps:.2f} of mediapipe"
                      f"   ({tracker.retracked_segments} segments tracked again; parity: presence "
                      f"{100 * agree['presence_agreement']:.1f}%, {100 * agree['within_1pct']:.1f}% of visible landmarks "
                      f"within 1% of the image, world median {world_mm:.1f} mm)")
    # Body and hands: MediaPipe Holistic (which also runs its face mesh; it cannot skip it)
    # against the torch backend with hands, one stream, through estimate_body as captures use it.
    from core.pose_torch import estimate_body

    h, w = frames[0].shape[:2]
    holistic_fps, holistic_results = solution_fps(mp.solutions.holistic.Holistic, frames)
    ref_hands = [np.stack([_points(getattr(r, f"{side}_hand_landmarks"), 21, ("x", "y")) for r in holistic_results])
                 for side in ("left", "right")]
    result["holistic_fps"] = holistic_fps
    print(f"holistic   cpu           {holistic_fps:7.1f} fps   (body, hands and face)")
    for device in devices:
        models = models_for(device, "fp32")
        settings = TorchPoseSettings(device=device, batch_size=1, hands=True)
        estimate_body(enumerate(frames[:4]), num_frames=4, fps=30.0, image_size=(w, h), settings=settings,
                      models=models)  # warm-up: traces and hand networks
        t = time.perf_counter()
        seq = estimate_body(enumerate(frames), num_frames=n, fps=30.0, image_size=(w, h), settings=settings,
                            models=models)
        fps = n / (time.perf_counter() - t)
        found = float(np.isfinite(seq.left_hand[:, 0, 0]).mean() + np.isfinite(seq.right_hand[:, 0, 0]).mean()) / 2
        for side, ours, theirs in (("left", seq.left_hand, ref_hands[0]), ("right", seq.right_hand, ref_hands[1])):
            agree = within_image_percent(ours[..., :2] / np.array([w, h]), theirs, (w, h))
            result.update({f"torch_{device}_hands_{side}_{k}": v for k, v in agree.items()})
            print(f"           {side:5s} hand parity with holistic: presence {100 * agree['presence_agreement']:.1f}%, "
                  f"{100 * agree['within_1pct']:.1f}% of landmarks within 1% of the image where both found it")
        result[f"torch_{device}_hands_b1_fps"] = fps
        result[f"torch_{device}_hands_b1_ratio_to_holistic"] = fps / holistic_fps
        result[f"torch_{device}_hands_found_fraction"] = found
        print(f"torch      {device:4s} fp32 b1 {fps:7.1f} fps   x{fps / holistic_fps:.2f} of holistic   "
              f"(body and hands; hands found on {100 * found:.0f}% of hand-frames)")
    # The mirrored-frame average of the balanced and accurate presets: what it costs each backend
    # (the torch body on the CPU, one stream; MediaPipe Holistic plus a Pose graph on the mirrored frames).
    from core.pose import PoseSettings, estimate_holistic

    models = models_for("cpu", "fp32")
    rates: dict[str, list[float]] = {"torch_cpu_b1": [], "holistic": []}
    for mirror in (False, True):
        settings = TorchPoseSettings(device="cpu", batch_size=1, mirror_average=mirror)
        BodyTracker(settings, models).run_chunk(frames[:2])  # warm-up
        t = time.perf_counter()
        BodyTracker(settings, models).run_chunk(frames)
        rates["torch_cpu_b1"].append(n / (time.perf_counter() - t))
        t = time.perf_counter()
        estimate_holistic(enumerate(frames), num_frames=n, fps=30.0, image_size=(w, h),
                          settings=PoseSettings(mirror_average=mirror))
        rates["holistic"].append(n / (time.perf_counter() - t))
    for name, (plain, mirrored) in rates.items():
        result[f"mirror_{name}_plain_fps"] = plain
        result[f"mirror_{name}_mirrored_fps"] = mirrored
        result[f"mirror_{name}_time_ratio"] = plain / mirrored
        print(f"mirror average  {name:13s} {plain:6.1f} -> {mirrored:6.1f} fps   x{plain / mirrored:.2f} the time")
    print(f"wrote {write_results('pose', result)}")


if __name__ == "__main__":
    main()
