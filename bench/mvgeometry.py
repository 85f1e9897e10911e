"""Multi-camera geometry on synthetic scenes with exact truth: sync, calibration from the person, triangulation.

    python3 dev.py bench mvgeometry [--frames 300] [--noise 2.0]

The scene (``tests/testdata/multiview_scenes.py``): an adult skeleton (1.70 m
proportions) walking, turning and swinging its limbs, seen by cameras on a
circle 3.5 m away at 0.8-2 m heights, mixed focal lengths and image sizes;
keypoints are the exact projections plus Gaussian pixel noise (``--noise``,
MediaPipe-like) and, in every view, 3 % of keypoints replaced by confident
wrong positions (a detector's swaps and jumps). Measured in the same process:

- sync: ``motion_offsets`` on 4 views (25 and 30 fps, starts up to 1.9 s
  apart) and ``audio_offsets`` on two MP4s whose sound carries a clap and
  footsteps (AAC, different gains and noise): error in frames of 30 fps;
- calibration: ``calibrate_from_person`` on 2 cameras 90 degrees apart and on
  4 cameras over 200 degrees: camera-centre (mm) and orientation (degrees)
  errors after a similarity alignment, the up direction's error (degrees),
  and seconds (wall clock and this process's CPU time: the machine is shared); the baseline is the
  essential-matrix + PnP start without bundle adjustment (``rounds=0``);
- triangulation: ``triangulate`` (RANSAC over views) against a plain
  confidence-weighted DLT over all views (the baseline): mean error (mm) with
  the outliers above, and the speed of the batched DLT against the same DLT
  in a per-point loop (an SVD per point).

``--take DIR`` also runs on a rendered multi-phone take (the folder
``bench/groundtruth/multicam.py`` writes under the cache: ``cam_<k>/clip.mp4``,
``rig.json``, ``multiview.npz``): sound and motion sync against the true
offsets, and calibration from MediaPipe's keypoints (true intrinsics, views
put on one time base with the true offsets) against the true rig.
MediaPipe's landmarks are cached under the cache's ``bench/mvgeometry``.

Writes bench/results/mvgeometry.json.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core.multiview.calibrate import calibrate_from_person  # noqa: E402
from core.multiview.compare import rig_errors  # noqa: E402
from core.multiview.sync import audio_offsets, motion_offsets  # noqa: E402
from core.multiview.triangulate import _dlt, _normalised, triangulate, view_keypoints  # noqa: E402
from tests.testdata.multiview_scenes import (look_at_rig, observe, phone_recording, ring,  # noqa: E402
                                             scene_audio, sequence, skeleton)

from _results import write_results  # noqa: E402


def corrupt(obs: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Replace ``share`` of the keypoints of every view by confident random pixels."""
    rng = np.random.default_rng(seed)
    out = obs.copy()
    hit = rng.random(out.shape[:-1]) < share
    out[..., 0] = np.where(hit, rng.uniform(0, 1280, hit.shape), out[..., 0])
    out[..., 1] = np.where(hit, rng.uniform(0, 720, hit.shape), out[..., 1])
    return out


def bench_motion_sync(frames: int, noise: float) -> dict:
    rig = look_at_rig(ring(4, 180.0))
    starts = np.array([0.4, 1.234, 0.0, 1.9])
    rates = [25.0, 30.0, 25.0, 30.0]
    seqs = []
    for c in range(4):
        times = starts[c] + np.arange(int(frames / 30.0 * rates[c])) / rates[c]
        seqs.append(sequence(corrupt(observe(rig, skeleton(times, seed=7), noise, seed=c), 0.03, c)[c], rates[c]))
    t0 = time.perf_counter()
    offsets = motion_offsets(seqs)
    seconds = time.perf_counter() - t0
    err = np.abs(offsets - (starts - starts[0])) * 30.0
    return {"motion_sync_max_error_frames": float(err.max()), "motion_sync_seconds": seconds}


def bench_audio_sync() -> dict:
    with tempfile.TemporaryDirectory(prefix="mvgeometry-") as tmp:
        scene = scene_audio(7.0, seed=1)
        starts = [0.25, 0.9137, 1.5]
        videos = [phone_recording(Path(tmp), f"v{i}", scene, s, g, fps, seed=i)
                  for i, (s, g, fps) in enumerate(zip(starts, (1.0, 0.3, 2.0), (30, 25, 30)))]
        t0 = time.perf_counter()
        offsets = audio_offsets(videos)
        seconds = time.perf_counter() - t0
    assert offsets is not None
    err = np.abs(offsets - (np.array(starts) - starts[0])) * 30.0
    return {"audio_sync_max_error_frames": float(err.max()), "audio_sync_seconds": seconds}


def bench_calibration(cameras: int, span: float, frames: int, noise: float) -> dict:
    rig = look_at_rig(ring(cameras, span, heights=np.linspace(0.8, 2.0, cameras)),
                      focals=np.linspace(900, 1600, cameras))
    truth = skeleton(np.arange(frames) / 30.0, seed=5)
    obs = corrupt(observe(rig, truth, noise, seed=1), 0.03, seed=2)
    seqs = [sequence(obs[c], 30.0) for c in range(cameras)]
    out = {}
    for label, rounds in (("baseline_", 0), ("", 2)):
        t0, c0 = time.perf_counter(), time.process_time()
        estimate = calibrate_from_person(seqs, list(rig.K), rounds=rounds)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        centre, angle, _ = rig_errors(estimate, rig)
        key = f"{label}calib_{cameras}cams"
        true_up = rig.R[0] @ np.array([0.0, 0.0, 1.0])  # in camera 0's frame, the estimate's world
        out |= {f"{key}_centre_max_mm": 1000 * float(centre.max()), f"{key}_angle_max_deg": float(angle.max()),
                f"{key}_up_error_deg": float(np.degrees(np.arccos(np.clip(estimate.world_up @ true_up, -1, 1)))),
                f"{key}_seconds": seconds, f"{key}_cpu_seconds": cpu}
    return out


def naive_triangulate(uv: np.ndarray, conf: np.ndarray, rig) -> np.ndarray:
    """Reference: the same weighted DLT, one point at a time (an SVD per point), no outlier handling."""
    C, N = uv.shape[:2]
    xn = _normalised(uv, rig)
    Rt = np.concatenate([rig.R, rig.t[..., None]], -1)
    out = np.zeros((N, 3))
    for n in range(N):
        rows = []
        for c in range(C):
            rows += [conf[c, n] * (xn[c, n, 0] * Rt[c, 2] - Rt[c, 0]), conf[c, n] * (xn[c, n, 1] * Rt[c, 2] - Rt[c, 1])]
        v = np.linalg.svd(np.array(rows))[2][-1]
        out[n] = v[:3] / v[3]
    return out


def bench_triangulation(frames: int, noise: float) -> dict:
    rig = look_at_rig(ring(4, 200.0))
    truth = skeleton(np.arange(frames) / 30.0, seed=6)
    obs = corrupt(observe(rig, truth, noise, seed=3), 0.03, seed=4)
    t0 = time.perf_counter()
    points, inliers = triangulate(obs[..., :2], obs[..., 2], rig)
    fast = time.perf_counter() - t0
    C, T, J = obs.shape[:3]
    t0 = time.perf_counter()
    plain = _dlt(_normalised(obs[..., :2].reshape(C, -1, 2), rig), obs[..., 2].reshape(C, -1),
                 np.concatenate([rig.R, rig.t[..., None]], -1)).reshape(T, J, 3)
    batched = time.perf_counter() - t0
    sample = min(2000, T * J)
    t0 = time.perf_counter()
    naive = naive_triangulate(obs[..., :2].reshape(C, -1, 2)[:, :sample], obs[..., 2].reshape(C, -1)[:, :sample], rig)
    slow = (time.perf_counter() - t0) * (T * J) / sample
    np.testing.assert_allclose(naive, plain.reshape(-1, 3)[:sample], atol=1e-6)  # the same maths
    err = 1000 * np.linalg.norm(points - truth, axis=-1)
    err_plain = 1000 * np.linalg.norm(plain - truth, axis=-1)
    return {"triangulate_mean_error_mm": float(np.nanmean(err)), "baseline_dlt_mean_error_mm": float(err_plain.mean()),
            "triangulate_error_ratio": float(np.nanmean(err) / err_plain.mean()),
            "triangulate_seconds": fast, "dlt_batched_seconds": batched, "baseline_dlt_loop_seconds": slow,
            "dlt_batched_speedup": slow / batched,
            "outlier_views_flagged_share": float(1 - inliers.mean())}


def take_landmarks(take: Path, camera: int):
    """MediaPipe Holistic on one phone's clip of the take, cached."""
    import os

    import mediapipe

    from core.landmarks import PoseSequence
    from core.pose import PoseSettings, estimate_holistic
    from core.video import iter_frames, open_video

    cache = Path(os.environ.get("BLENDER_MOCAP_CACHE", Path.home() / ".local/share/blender-mocap/cache"))
    path = cache / "bench" / "mvgeometry" / f"{take.name}-cam_{camera}-mediapipe-{mediapipe.__version__}.npz"
    if not path.is_file():
        info = open_video(take / f"cam_{camera}" / "clip.mp4")
        seq = estimate_holistic(iter_frames(info), num_frames=info.frame_count, fps=info.fps,
                                image_size=(info.width, info.height), settings=PoseSettings())
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, body_2d=seq.body_2d, present=seq.present, frame_indices=seq.frame_indices, fps=seq.fps,
                 image_size=seq.image_size)
    data = np.load(path)
    seq = PoseSequence.empty(len(data["frame_indices"]), float(data["fps"]), tuple(data["image_size"]))
    seq.frame_indices, seq.body_2d, seq.present = data["frame_indices"], data["body_2d"], data["present"]
    return seq


def bench_take(take: Path) -> dict:
    from core.multiview.compare import reprojection_errors
    from core.multiview.rig import load_rig
    from core.multiview.sync import resample_views

    truth = load_rig(take / "rig.json")
    info = np.load(take / "multiview.npz")
    true_offsets, fps = info["offsets_seconds"], info["fps"]
    C = truth.num_cameras
    out: dict = {"take": take.name, "take_cameras": C}
    sound = audio_offsets([take / f"cam_{c}" / "clip.mp4" for c in range(C)])
    if sound is not None:
        out["take_audio_sync_max_error_frames"] = float(np.max(np.abs(sound - true_offsets) * fps))
    seqs = [take_landmarks(take, c) for c in range(C)]
    t0 = time.perf_counter()
    motion = motion_offsets(seqs)
    out["take_motion_sync_seconds"] = time.perf_counter() - t0
    out["take_motion_sync_max_error_frames"] = float(np.max(np.abs(motion - true_offsets) * fps))
    views, _ = resample_views(seqs, true_offsets)
    out["take_common_frames"] = views[0].num_frames
    t0, c0 = time.perf_counter(), time.process_time()
    estimate = calibrate_from_person(views, list(truth.K))
    out["take_calib_seconds"], out["take_calib_cpu_seconds"] = time.perf_counter() - t0, time.process_time() - c0
    centre, angle, _ = rig_errors(estimate, truth)
    true_up = truth.R[0] @ np.asarray(info["world_up"], np.float64)
    uv, conf = view_keypoints(views)
    out |= {"take_calib_centre_max_mm": 1000 * float(centre.max()),
            "take_calib_centre_mean_mm": 1000 * float(centre.mean()), "take_calib_angle_max_deg": float(angle.max()),
            "take_calib_up_error_deg": float(np.degrees(np.arccos(np.clip(estimate.world_up @ true_up, -1, 1)))),
            "take_reprojection_px_estimate": float(np.nanmax(reprojection_errors(estimate, uv, conf))),
            "take_reprojection_px_true_rig": float(np.nanmax(reprojection_errors(truth, uv, conf)))}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--noise", type=float, default=2.0, help="pixel noise (standard deviation)")
    parser.add_argument("--take", type=Path, help="a rendered multi-phone take folder to run on as well")
    args = parser.parse_args(argv)
    figures: dict = {"frames": args.frames, "noise_px": args.noise, "outlier_share": 0.03,
                     "machine": platform.processor() or platform.machine()}
    figures |= bench_motion_sync(args.frames, args.noise)
    figures |= bench_audio_sync()
    figures |= bench_calibration(2, 90.0, args.frames, args.noise)
    figures |= bench_calibration(4, 200.0, args.frames, args.noise)
    figures |= bench_triangulation(args.frames, args.noise)
    if args.take is not None:
        figures |= bench_take(args.take)
    for key in ("calib_2cams", "calib_4cams"):
        figures[f"{key}_centre_ratio"] = figures[f"{key}_centre_max_mm"] / figures[f"baseline_{key}_centre_max_mm"]
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value:.4g}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    print(f"wrote {write_results('mvgeometry', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
