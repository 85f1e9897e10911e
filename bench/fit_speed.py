"""Fitting speed: the whole-clip batched optimiser against a per-frame optimiser with the same terms.

    python3 dev.py bench fit_speed [--frames 900] [--baseline-frames 30] [--preset balanced]

A 900-frame synthetic clip (``tests/testdata/clips.py`` ``smooth_motion`` on the
mannequin, landmarks from ``landmarks_from_motion`` (world landmarks seen along the ray through the
person, as MediaPipe gives them) with MediaPipe-like noise:
2 px in the image, 1.5 cm in the world landmarks) is precomputed, so only the
fit is timed. Measured in the same process:

- the preset (default balanced) through ``core.fit.optimize.fit_clip``: all
  frames one batch, closed-form start, L-BFGS, temporal terms included;
- the baseline, SMPLify / EasyMocap style: the same objective (temporal terms
  need neighbours, so they drop out) and the same number of iterations, but one
  frame at a time, each frame its own ``fit_clip`` call on a one-frame clip.
  It is timed on the first ``--baseline-frames`` frames and scaled to the clip.

Prints frames per second, the ratio, limb-joint error against the truth (mm),
peak memory (resource maxrss of the process, tracemalloc peak of Python
allocations during a second, untimed run of the batched fit: tracing slows
Python allocations) and writes bench/results/fit_speed.json.
Torch threads stay at torch's default (recorded); the fit itself runs on one
CPU thread (``core.fit.optimize.solver.one_cpu_thread``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.body.mannequin import forward_kinematics  # noqa: E402
from core.body.model import MannequinBody  # noqa: E402
from core.fit.optimize import fit_clip, preset  # noqa: E402
from core.landmarks import PoseSequence  # noqa: E402
from core.skeleton import JOINT_INDEX, LIMB_JOINTS  # noqa: E402
from tests.testdata.clips import CAMERA_K as K  # noqa: E402
from tests.testdata.clips import mannequin_clip  # noqa: E402

LIMBS = [JOINT_INDEX[n] for n in LIMB_JOINTS]

from _results import write_results  # noqa: E402


def make_clip(frames: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    poses, trans, rest, seq = mannequin_clip(frames, rng, world_axes="view")  # as MediaPipe gives them
    seq.body_2d[..., :2] += rng.normal(0, 2.0, seq.body_2d[..., :2].shape).astype(np.float32)
    seq.body_world[..., :3] += rng.normal(0, 0.015, seq.body_world[..., :3].shape).astype(np.float32)
    return poses, trans, rest, seq


def frame_slice(seq: PoseSequence, i: int) -> PoseSequence:
    return dataclasses.replace(seq, **{name: getattr(seq, name)[i:i + 1] for name in (
        "frame_indices", "body_2d", "body_world", "left_hand", "right_hand", "face", "present")})


def limb_error_mm(poses, trans, rest, true_poses, true_trans, true_rest) -> float:
    a, _ = forward_kinematics(np.asarray(poses, np.float64).reshape(len(poses), -1), rest, trans)
    b, _ = forward_kinematics(np.asarray(true_poses, np.float64).reshape(len(true_poses), -1), true_rest, true_trans)
    return float(1000 * np.linalg.norm(a[:, LIMBS] - b[:, LIMBS], axis=-1).mean())


def accel_error_mm(poses, trans, rest, true_poses, true_trans, true_rest) -> float:
    """Mean norm of the difference of limb-joint accelerations, mm per frame^2 (jitter)."""
    a, _ = forward_kinematics(np.asarray(poses, np.float64).reshape(len(poses), -1), rest, trans)
    b, _ = forward_kinematics(np.asarray(true_poses, np.float64).reshape(len(true_poses), -1), true_rest, true_trans)
    return float(1000 * np.linalg.norm(np.diff(a[:, LIMBS], 2, 0) - np.diff(b[:, LIMBS], 2, 0), axis=-1).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=900)
    parser.add_argument("--baseline-frames", type=int, default=30)
    parser.add_argument("--preset", default="balanced")
    args = parser.parse_args()

    settings = preset(args.preset, device="cpu").optimize
    poses, trans, rest, seq = make_clip(args.frames)
    body = MannequinBody()
    fit_clip(frame_slice(seq, 0), K, body, settings=settings)  # warm-up: first-call costs out of the timing

    t0 = time.perf_counter()
    fit = fit_clip(seq, K, body, settings=settings)
    batched_s = time.perf_counter() - t0
    rss_after_batched = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    # The Python allocations' peak from a second, traced run: tracing slows every Python
    # allocation (the numpy start most), so a traced run is no timing (0.9 s of 3.7 s here).
    tracemalloc.start()
    fit_clip(seq, K, body, settings=settings)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    n_base = min(args.baseline_frames, args.frames)
    per_frame = []
    t0 = time.perf_counter()
    for i in range(n_base):
        per_frame.append(fit_clip(frame_slice(seq, i), K, body, settings=settings))
    baseline_s_measured = time.perf_counter() - t0
    baseline_s = baseline_s_measured * args.frames / n_base

    batched_fps = args.frames / batched_s
    baseline_fps = args.frames / baseline_s
    err_batched = limb_error_mm(fit.poses, fit.trans, fit.rest_joints, poses, trans, rest)
    err_batched_head = limb_error_mm(fit.poses[:n_base], fit.trans[:n_base], fit.rest_joints,
                                     poses[:n_base], trans[:n_base], rest)
    err_base = float(np.mean([limb_error_mm(f.poses, f.trans, f.rest_joints, poses[i:i + 1], trans[i:i + 1], rest)
                              for i, f in enumerate(per_frame)]))
    base_poses = np.concatenate([f.poses for f in per_frame])
    base_trans = np.concatenate([f.trans for f in per_frame])
    # The per-frame fits each have their own shape; score them on the mean one.
    base_rest = np.mean([f.rest_joints for f in per_frame], axis=0)
    acc_batched = accel_error_mm(fit.poses[:n_base], fit.trans[:n_base], fit.rest_joints,
                                 poses[:n_base], trans[:n_base], rest)
    acc_base = accel_error_mm(base_poses, base_trans, base_rest, poses[:n_base], trans[:n_base], rest)
    result = {
        "frames": args.frames,
        "baseline_frames_measured": n_base,
        "preset_iterations": settings.iterations,
        "batched_evaluations": fit.timings["evaluations"],
        "batched_seconds": batched_s,
        "batched_fps": batched_fps,
        "baseline_seconds_extrapolated": baseline_s,
        "baseline_fps": baseline_fps,
        "speedup_vs_per_frame": baseline_s / batched_s,
        "limb_error_mm_batched": err_batched,
        "limb_error_mm_batched_first_frames": err_batched_head,
        "limb_error_mm_per_frame_baseline": err_base,
        "accel_error_mm_batched_first_frames": acc_batched,
        "accel_error_mm_per_frame_baseline": acc_base,
        "peak_rss_mb": rss_after_batched,
        "tracemalloc_peak_mb": traced_peak / 2**20,
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count() or 0,
        "load_average_1min": os.getloadavg()[0],
    }
    print(f"fit_speed on {platform.machine()} ({os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, load {os.getloadavg()[0]:.1f}), preset {args.preset} "
          f"({settings.iterations} L-BFGS iterations)")
    print(f"  batched, {args.frames} frames: {batched_s:.2f} s = {batched_fps:.0f} frames/s "
          f"({fit.timings['evaluations']:.0f} objective evaluations), limb error {err_batched:.1f} mm")
    print(f"  per-frame baseline: {baseline_s_measured:.2f} s for {n_base} frames -> {baseline_fps:.1f} frames/s "
          f"(limb error {err_base:.1f} mm; batched on the same frames {err_batched_head:.1f} mm)")
    print(f"  jitter on those frames (limb acceleration error): per-frame {acc_base:.1f}, "
          f"batched {acc_batched:.1f} mm/frame^2")
    print(f"  speed-up: {baseline_s / batched_s:.1f} x   peak RSS {rss_after_batched:.0f} MB, "
          f"tracemalloc peak {traced_peak / 2**20:.1f} MB")
    print(f"  -> {write_results('fit_speed', result).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
