"""Accuracy against exact ground truth: rendered motion capture, recovered by the engine.

    python3 dev.py bench accuracy [--presets fast,balanced,accurate] [--clips cmu_01_03,boxing]
                                  [--frames N] [--engine CYCLES|BLENDER_EEVEE|BLENDER_WORKBENCH]

For each clip of ``bench/groundtruth/`` (real motion capture on a rendered
human-looking body, from a known camera; rendered once and cached), this runs
the engine CLI exactly as the add-on does (``python -m core capture clip.mp4
--out take.npz --fov <the render camera's horizontal fov>``, once per preset
when the CLI has ``--preset``), puts the take's joints through forward
kinematics (``core.body.mannequin.forward_kinematics`` on the take's own rest
joints, so it serves the mannequin and SMPL-X alike) into the OpenCV camera
frame, and compares the 12 limb joints (``core.skeleton.LIMB_JOINTS``) with the
truth.

Baseline, measured in the same run on the same frames: MediaPipe Holistic's own
metric world landmarks (pose landmarks 11-16 and 23-28) for the 3D figures and
its image landmarks for the 2D figure, from ``core.pose.estimate_holistic``
with the engine's default settings.

Metrics (lower is better), joints in millimetres:

- ``pa_mpjpe_mm``: mean joint error after a per-frame similarity Procrustes
  alignment (rotation, translation, scale) of the prediction onto the truth.
- ``mpjpe_mm``: mean joint error after aligning the mid-hip points (root-aligned;
  no rotation or scale: a wrong body orientation counts).
- ``accel_error_mm``: mean norm of the difference of the second finite
  differences of root-aligned joint positions, mm/frame^2 at the video's frame
  rate (a jitter measure).
A take fitted on every k-th frame (the fast preset's stride) is scored on
every video frame, the frames between its keys interpolated linearly as
Blender plays them.

- ``reproj_px``: mean 2D distance, pixels, between the joints projected with the
  take's camera and the truth projected with the render camera (for MediaPipe:
  its image landmarks).

Targets (issue 3): PA-MPJPE <= 0.8 x and acceleration error <= 0.5 x the
MediaPipe baseline. Results go to bench/results/accuracy.json (flat).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import groundtruth  # noqa: E402

# MediaPipe pose landmarks of core.skeleton.LIMB_JOINTS, in that order
MEDIAPIPE_LIMBS = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
HIPS = (6, 7)  # left_hip, right_hip within LIMB_JOINTS
METRICS = ("pa_mpjpe_mm", "mpjpe_mm", "accel_error_mm", "reproj_px")
TARGETS = {"pa_mpjpe_mm": 0.8, "accel_error_mm": 0.5}


# ----------------------------------------------------------------------------
# Metrics (numpy, any number of frames; joints (T, J, 3))
# ----------------------------------------------------------------------------

from _results import write_results  # noqa: E402


def procrustes_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """``pred`` (T, J, 3) aligned per frame onto ``gt`` by a similarity transform (Umeyama).

    Least squares over rotation (proper, det +1), translation and scale.
    """
    mu_p, mu_g = pred.mean(1, keepdims=True), gt.mean(1, keepdims=True)
    p0, g0 = pred - mu_p, gt - mu_g
    H = np.einsum("tji,tjk->tik", p0, g0)            # (T, 3, 3) cross-covariance
    U, S, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(np.einsum("tij,tjk->tik", Vt.transpose(0, 2, 1), U.transpose(0, 2, 1))))
    D = np.broadcast_to(np.eye(3), H.shape).copy()
    D[:, 2, 2] = d
    R = np.einsum("tij,tjk,tkl->til", Vt.transpose(0, 2, 1), D, U.transpose(0, 2, 1))
    scale = np.einsum("tii->t", np.einsum("tij,tjk->tik", D, S[:, :, None] * np.eye(3))) / (p0 ** 2).sum((1, 2))
    return scale[:, None, None] * np.einsum("tij,tkj->tki", R, p0) + mu_g


def pa_mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean per-joint error after per-frame Procrustes alignment, in the input's units."""
    return float(np.linalg.norm(procrustes_align(pred, gt) - gt, axis=-1).mean())


def root_align(joints: np.ndarray, root: tuple[int, ...] = HIPS) -> np.ndarray:
    """Joints minus the mean of the ``root`` joints (the mid-hip), per frame."""
    return joints - joints[:, list(root)].mean(1, keepdims=True)


def mpjpe(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean per-joint error after aligning the mid-hips (root-aligned MPJPE)."""
    return float(np.linalg.norm(root_align(pred) - root_align(gt), axis=-1).mean())


def accel_error(pred: np.ndarray, gt: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Mean |a_pred - a_gt| of root-aligned joints, units per frame^2.

    ``valid`` (T,) marks usable frames; an acceleration needs three
    consecutive valid frames.
    """
    a_p = np.diff(root_align(pred), 2, axis=0)
    a_g = np.diff(root_align(gt), 2, axis=0)
    err = np.linalg.norm(a_p - a_g, axis=-1).mean(-1)
    if valid is not None:
        ok = valid[:-2] & valid[1:-1] & valid[2:]
        err = err[ok]
    return float(err.mean()) if err.size else float("nan")


def reprojection_error(pred_2d: np.ndarray, gt_2d: np.ndarray) -> float:
    """Mean 2D distance (pixels) over joints and frames; NaN rows are skipped."""
    d = np.linalg.norm(pred_2d - gt_2d, axis=-1)
    return float(np.nanmean(d))


def all_metrics(pred_cam: np.ndarray, gt_cam: np.ndarray, pred_2d: np.ndarray, gt_2d: np.ndarray,
                valid: np.ndarray) -> dict[str, float]:
    """The four figures, 3D in millimetres, over the ``valid`` frames (T,) bool."""
    m = 1000.0
    return {
        "pa_mpjpe_mm": m * pa_mpjpe(pred_cam[valid], gt_cam[valid]),
        "mpjpe_mm": m * mpjpe(pred_cam[valid], gt_cam[valid]),
        "accel_error_mm": m * accel_error(np.nan_to_num(pred_cam), gt_cam, valid),
        "reproj_px": reprojection_error(pred_2d[valid], gt_2d[valid]),
    }


# ----------------------------------------------------------------------------
# Running the engine and MediaPipe
# ----------------------------------------------------------------------------

def cli_help(python: str) -> str:
    out = subprocess.run([python, "-m", "core", "capture", "--help"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout


def run_capture(python: str, video: Path, out: Path, hfov: float, preset: str | None) -> float:
    """The engine CLI on ``video``; returns wall seconds."""
    cmd = [python, "-m", "core", "capture", str(video), "--out", str(out), "--fov", f"{hfov:.6f}",
           "--progress", "none"]
    if preset is not None:
        cmd += ["--preset", preset]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"capture failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return time.perf_counter() - t0


def fill_between_keys(values: np.ndarray, keyed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation of (T, ...) ``values`` between the ``keyed`` (T,) frames.

    A take fitted on every k-th frame (a preset's stride) is keyed on those
    frames and Blender plays the frames between by interpolation; the video
    frames are scored as the user would see them. Frames outside the first
    and last key stay NaN. Returns (filled values, valid (T,) bool).
    """
    idx = np.flatnonzero(keyed)
    out = np.full_like(values, np.nan)
    valid = np.zeros(len(values), bool)
    if len(idx) == 0:
        return out, valid
    t = np.arange(idx[0], idx[-1] + 1)
    flat = values[idx].reshape(len(idx), -1)
    out[t] = np.stack([np.interp(t, idx, col) for col in flat.T], -1).reshape((len(t),) + values.shape[1:])
    valid[t] = True
    return out, valid


def take_joints(path: Path, frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Limb joints of a take: camera frame (T, 12, 3) m, pixels (T, 12, 2), valid (T,), info.

    Video frames the take does not hold (a stride) are interpolated linearly
    from its keys (:func:`fill_between_keys`); ``info["frames_fitted"]`` counts the keys.
    """
    from core.body.mannequin import forward_kinematics
    from core.motion import read_motion
    from core.skeleton import JOINT_INDEX, LIMB_JOINTS

    motion = read_motion(path)
    if motion.rest_joints is None:
        raise RuntimeError(f"{path}: the take has no rest joints")
    pos, _ = forward_kinematics(motion.poses.astype(np.float64), motion.rest_joints, motion.trans)
    E = np.eye(4) if motion.camera_extrinsics is None else np.asarray(motion.camera_extrinsics, np.float64)
    cam = pos @ E[:3, :3].T + E[:3, 3]
    limbs = cam[:, [JOINT_INDEX[n] for n in LIMB_JOINTS]]
    uv = groundtruth.project(limbs, np.asarray(motion.camera_intrinsics, np.float64))
    out3 = np.full((frames, 12, 3), np.nan)
    out2 = np.full((frames, 12, 2), np.nan)
    idx = np.asarray(motion.frame_indices)
    keep = (idx >= 0) & (idx < frames)
    out3[idx[keep]] = limbs[keep]
    out2[idx[keep]] = uv[keep]
    keyed = np.zeros(frames, bool)
    keyed[idx[keep]] = True
    out3, valid = fill_between_keys(out3, keyed)
    out2, _ = fill_between_keys(out2, keyed)
    info = {"body_model": motion.body_model, "frames_fitted": int(keyed.sum()), **motion.quality}
    return out3, out2, valid, info


def mediapipe_joints(clip: groundtruth.Clip) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe Holistic on the clip (cached next to it): world limbs (T, 12, 3) m, 2D (T, 12, 2), present."""
    import mediapipe

    cache = clip.folder / f"mediapipe-{mediapipe.__version__}.npz"
    if not cache.is_file():
        from core.pose import PoseSettings, estimate_holistic
        from core.video import iter_frames, open_video

        info = open_video(clip.video)
        seq = estimate_holistic(iter_frames(info), num_frames=info.frame_count, fps=info.fps,
                                image_size=(info.width, info.height), settings=PoseSettings())
        np.savez(cache, body_world=seq.body_world, body_2d=seq.body_2d, present=seq.present,
                 frame_indices=seq.frame_indices)
    data = np.load(cache)
    world = data["body_world"][:, list(MEDIAPIPE_LIMBS), :3].astype(np.float64)
    uv = data["body_2d"][:, list(MEDIAPIPE_LIMBS), :2].astype(np.float64)
    return world, uv, data["present"].astype(bool)


def fitting_code_id() -> dict[str, str]:
    """What fitting code ran: git HEAD, uncommitted core files, a hash of core/fit (all its packages),
    core/body, the camera, options, capture and CLI modules."""
    files = sorted([*ROOT.glob("core/fit/**/*.py"), *ROOT.glob("core/body/*.py"),
                    *(ROOT / "core" / f"{name}.py" for name in ("camera", "options", "capture", "cli", "cli_common"))])
    h = hashlib.sha256()
    for f in files:
        h.update(str(f.relative_to(ROOT)).encode())
        h.update(f.read_bytes())
    git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()  # noqa: E731
    status = subprocess.run(["git", "status", "--porcelain", "--", "core"], cwd=ROOT, capture_output=True, text=True)
    dirty = [line[3:] for line in status.stdout.splitlines()]
    return {"git_head": git("rev-parse", "--short", "HEAD"), "fit_code_sha256": h.hexdigest()[:16],
            "core_uncommitted": " ".join(dirty) or "none",
            "fit_modules": " ".join(str(f.relative_to(ROOT)) for f in files if "fit" in f.parts)}


# ----------------------------------------------------------------------------
# The benchmark
# ----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", default="fast,balanced,accurate",
                        help="presets to run when the CLI has --preset (comma-separated)")
    parser.add_argument("--clips", default=",".join(c.name for c in groundtruth.CLIPS),
                        help="comma-separated clip names; the held-out ones: "
                             + ",".join(c.name for c in groundtruth.HELD_OUT))
    parser.add_argument("--frames", type=int, default=None, help="use only the first N frames of each clip")
    parser.add_argument("--engine", default=groundtruth.RenderSettings().engine, help="Blender render engine")
    args = parser.parse_args(argv)

    python = os.environ.get("BLENDER_MOCAP_ENGINE_PYTHON") or sys.executable
    settings = groundtruth.RenderSettings(engine=args.engine)
    help_text = cli_help(python)
    has_presets = "--preset" in help_text
    presets: list[str | None] = [p for p in args.presets.split(",") if p] if has_presets else [None]
    labels = [p or "default" for p in presets]
    code = fitting_code_id()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}")
    print(f"fitting code: HEAD {code['git_head']}, sha {code['fit_code_sha256']}, "
          f"uncommitted: {code['core_uncommitted']}")
    print(f"engine CLI --preset: {'yes, running ' + ', '.join(labels) if has_presets else 'not yet (default run)'}")

    try:
        specs = groundtruth.clips_named(args.clips)
    except ValueError as exc:
        parser.error(str(exc))
    results: dict[str, float | str | int] = {
        "clips": ",".join(s.name for s in specs), "width": settings.width, "height": settings.height,
        "hfov_degrees": settings.hfov_degrees, "render_engine": settings.engine,
        "presets": ",".join(labels), **code,
    }
    per: dict[str, dict[str, dict[str, float]]] = {}   # method -> clip -> metric
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-accuracy-") as tmp:
        for spec in specs:
            t0 = time.perf_counter()
            clip = groundtruth.prepare_clip(spec, settings, python=python, log=print)
            prep = time.perf_counter() - t0
            T = len(clip.truth["limb_cam"]) if args.frames is None else min(args.frames, len(clip.truth["limb_cam"]))
            video = clip.video
            if args.frames is not None:
                video = Path(tmp) / f"{spec.name}-{T}.mp4"
                _cut(clip.video, video, T)
            gt3, gt2 = clip.truth["limb_cam"][:T], clip.truth["limb_2d"][:T]
            hfov = float(clip.truth["hfov_degrees"])
            results[f"{spec.name}.frames"] = T
            results[f"{spec.name}.render_seconds"] = round(float(clip.meta["render_seconds"]), 1)
            print(f"\n{spec.name}: {T} frames {settings.width}x{settings.height} @ {spec.fps:g} fps, "
                  f"camera {clip.meta['camera_distance_m']:.1f} m, hfov {hfov:g} deg "
                  f"(clip ready in {prep:.1f} s; first render took {clip.meta['render_seconds']:.0f} s)")

            t0 = time.perf_counter()
            mp_world, mp_2d, present = mediapipe_joints(clip)
            mp_world, mp_2d, present = mp_world[:T], mp_2d[:T], present[:T]
            per.setdefault("mediapipe", {})[spec.name] = all_metrics(mp_world, gt3, mp_2d, gt2, present)
            results[f"{spec.name}.mediapipe.detection_rate"] = float(present.mean())
            print(f"  mediapipe: person found in {100 * present.mean():.1f}% of frames "
                  f"({time.perf_counter() - t0:.1f} s)")

            for preset, label in zip(presets, labels):
                out = Path(tmp) / f"{spec.name}-{label}.npz"
                seconds = run_capture(python, video, out, hfov, preset)
                ours3, ours2, valid, info = take_joints(out, T)
                per.setdefault(label, {})[spec.name] = all_metrics(ours3, gt3, ours2, gt2, valid)
                results[f"{spec.name}.{label}.capture_seconds"] = round(seconds, 2)
                results[f"{spec.name}.{label}.body_model"] = str(info.pop("body_model"))
                results[f"{spec.name}.{label}.frames_fitted"] = int(info.pop("frames_fitted"))
                for name, value in info.items():  # the take's own quality figures
                    results[f"{spec.name}.{label}.take.{name}"] = round(float(value), 4)
                print(f"  {label}: capture {seconds:.1f} s, body {results[f'{spec.name}.{label}.body_model']}, "
                      f"{results[f'{spec.name}.{label}.frames_fitted']}/{T} frames fitted, {int(valid.sum())} scored")

    for method, clips in per.items():
        for clip_name, metrics in clips.items():
            for k, v in metrics.items():
                results[f"{clip_name}.{method}.{k}"] = round(v, 3)
        for k in METRICS:
            results[f"mean.{method}.{k}"] = round(float(np.mean([m[k] for m in clips.values()])), 3)
    for label in labels:
        for k in METRICS:
            results[f"ratio.{label}.{k}"] = round(results[f"mean.{label}.{k}"] / results[f"mean.mediapipe.{k}"], 3)
    results["total_seconds"] = round(time.perf_counter() - t_start, 1)

    _print_table(per, [s.name for s in specs], labels, results)
    path = write_results("accuracy", results)
    print(f"\nwrote {path} ({results['total_seconds']:.0f} s)")
    return 0


def _print_table(per, clip_names: list[str], labels: list[str], results: dict) -> None:
    cols = [*clip_names, "mean"]
    print("\nlimb joints (12), lower is better; ratio = ours / MediaPipe on the mean")
    width = max(12, *(len(c) + 2 for c in cols))
    header = f"{'metric':<16}{'method':<11}" + "".join(f"{c:>{width}}" for c in cols) + f"{'ratio':>8}{'target':>9}"
    print(header)
    print("-" * len(header))
    for k in METRICS:
        for method in ["mediapipe", *labels]:
            vals = [per[method][c][k] for c in clip_names] + [results[f"mean.{method}.{k}"]]
            row = f"{k:<16}{method:<11}" + "".join(f"{v:{width}.1f}" for v in vals)
            if method != "mediapipe":
                ratio = results[f"ratio.{method}.{k}"]
                target = TARGETS.get(k)
                verdict = "" if target is None else (f"<={target:g} ok" if ratio <= target else f"<={target:g} NO")
                row += f"{ratio:8.2f}{verdict:>9}"
            print(row)


def _cut(src: Path, dst: Path, frames: int) -> None:
    import cv2

    cap = cv2.VideoCapture(str(src))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    writer = None
    for _ in range(frames):
        ok, img = cap.read()
        if not ok:
            break
        if writer is None:
            writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), fps, (img.shape[1], img.shape[0]))
        writer.write(img)
    cap.release()
    if writer is not None:
        writer.release()


if __name__ == "__main__":
    sys.exit(main())
