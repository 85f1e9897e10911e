"""Several phones against one: sync, calibration from the person and the multi-view fit, with exact truth (issue 20).

    python3 dev.py bench multiview [--cameras 2,3,4] [--preset balanced] [--calibration truth|person]

The take (``groundtruth.multicam.FOUR_PHONES``, rendered once and cached): CMU
01_03 filmed by four phones 90 degrees apart (heights 0.8-2 m, fields of view
48-70 degrees, 640x360, 360x640 portrait, 480x360, 512x384; one at 25 fps,
the others at 30; starts 0, 1.37, 0.62 and 1.85 s), each MP4 with the same
clap and footsteps on its sound track. Cameras 0-1 are the 2-camera rig (90
degrees apart), 0-2 the 3-camera one, 0-3 all four.

Figures (baselines measured in the same run):

- ``sync_sound_max_frames`` / ``sync_motion_max_frames``: the largest error of
  ``core.multiview.sync.audio_offsets`` / ``motion_offsets`` over the views, in
  that view's own frames (targets 0.5 and 1).
- ``calib_<C>cam_centre_cm`` / ``_orient_deg``: ``calibrate_from_person`` on
  cameras 0..C-1 (2 and 4; the true intrinsics given, as ``bench accuracy``
  gives the true field of view), the largest camera error after a similarity
  alignment (``compare.rig_errors``); ``calib_<C>cam_seconds`` its time (target
  20 s for 4 cameras x 300 frames: the time is also scaled to 300 frames).
- per camera count C: ``python -m core capture-multi`` on cameras 0..C-1 (true
  offsets; the true rig, or the person's calibration with ``--calibration
  person``) against ``python -m core capture`` of camera 0 alone, both scored on
  camera 0's frames that every one of the C cameras films: offset-free limb
  PA-MPJPE and its ratio (targets 0.5 with 2 cameras, 0.4 with 4), W-MPJPE
  (target 40 mm), true-contact foot skate in the take's world (target 3 mm);
  ``cost_ratio``: capture-multi's wall time over the sum of the single-view pose
  stages of its videos (target 1.3). The metrics are ``bench/accuracy.py``'s.
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

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT)]

import accuracy as acc  # noqa: E402
from _results import write_results  # noqa: E402
from groundtruth.multicam import prepare_multiview  # noqa: E402
from groundtruth.truth import Clip  # noqa: E402


def run_engine(python: str, args: list[str]) -> float:
    """``python -m core ARGS``: its wall seconds (a failure raises with the engine's message)."""
    cmd = [python, "-m", "core", *args, "--progress", "none"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return time.perf_counter() - t0


def true_rig(clip, cameras: int):
    """The true cameras 0..cameras-1 (``core.multiview.rig.CameraRig``)."""
    from core.multiview.rig import CameraRig, load_rig

    true = load_rig(clip.rig_path)
    return CameraRig(true.names[:cameras], true.K[:cameras], true.R[:cameras], true.t[:cameras],
                     true.image_sizes[:cameras], true.world_up)


def pose_sequences(clip) -> tuple[list, list[float]]:
    """Each view's landmarks (MediaPipe Holistic, the engine's defaults; cached beside the take) and pose seconds."""
    import mediapipe

    from core.capture import CaptureSettings, frame_range
    from core.pose_stage import Reporter, find_person
    from core.body.model import MannequinBody
    from core.landmarks import PoseSequence, mark_outside, repair_side_swaps
    from core.video import open_video

    seqs, seconds = [], []
    for view in clip.views:
        cache = view.folder / f"pose-{mediapipe.__version__}.npz"
        if not cache.is_file():
            info = open_video(view.video)
            end, expected = frame_range(CaptureSettings(), info, 1)
            t0 = time.perf_counter()
            seq = find_person(CaptureSettings(), info, MannequinBody(), Reporter(None), end=end, stride=1,
                               expected=expected, mirror=False, torch_pose=None, should_cancel=None)
            mark_outside(seq)
            repair_side_swaps(seq)
            np.savez(cache, seconds=time.perf_counter() - t0, **{k: np.asarray(v) for k, v in vars(seq).items()})
        data = dict(np.load(cache))
        seconds.append(float(data.pop("seconds")))
        fields = {k: data[k] for k in data}
        seqs.append(PoseSequence(**{**fields, "fps": float(fields["fps"])}))
    return seqs, seconds


def sync_figures(clip, seqs) -> dict[str, float]:
    from core.errors import MocapError
    from core.multiview import sync

    truth = clip.timing["offsets_seconds"]
    fps = clip.timing["fps"]
    out: dict[str, float] = {}
    for name, find in (("sound", lambda: sync.audio_offsets([v for v in clip.videos])),
                       ("motion", lambda: sync.motion_offsets(seqs))):
        t0 = time.perf_counter()
        try:
            found = find()
        except MocapError as exc:  # no clear answer: the engine says so and asks for --offsets
            print(f"  sync by {name}: refused ({exc})")
            found = None
        out[f"sync_{name}_seconds"] = round(time.perf_counter() - t0, 2)
        if found is None:
            out[f"sync_{name}_max_frames"] = float("nan")
            continue
        err = np.abs(np.asarray(found) - truth)[1:] * fps[1:]
        out[f"sync_{name}_max_frames"] = round(float(err.max()), 3)
        print(f"  sync by {name}: offsets {np.round(found, 3)} s (true {truth}), worst {err.max():.2f} frames")
    return out


def on_clock(clip, seqs, cameras: int) -> list:
    """Views 0..cameras-1 on camera 0's frames at the true offsets."""
    from core.multiview import sync

    base = seqs[0]
    return [base] + [sync.resample(s, float(o), base.fps, base.num_frames)
                     for s, o in zip(seqs[1:cameras], clip.timing["offsets_seconds"][1:cameras])]


def calibration_figures(clip, seqs, cameras: int) -> dict[str, float]:
    from core.multiview.calibrate import calibrate_from_person
    from core.multiview.compare import rig_errors

    sub = true_rig(clip, cameras)
    views = on_clock(clip, seqs, cameras)
    t0 = time.perf_counter()
    rig = calibrate_from_person(views, list(sub.K))
    seconds = time.perf_counter() - t0
    centre, orient, _ = rig_errors(rig, sub)
    key = f"calib_{cameras}cam"
    print(f"  calibration from the person, {cameras} cameras: centres {np.round(100 * centre, 1)} cm, "
          f"orientations {np.round(orient, 2)} deg, {seconds:.1f} s")
    return {f"{key}_centre_cm": round(100 * float(centre.max()), 2), f"{key}_orient_deg": round(float(orient.max()), 3),
            f"{key}_seconds": round(seconds, 2), f"{key}_seconds_per_300_frames": round(seconds * 300 / len(views[0].frame_indices), 2)}


def score(path: Path, clip0: Clip, first: int) -> dict[str, float]:
    """accuracy.py's figures of the take at ``path`` on camera 0's frames from ``first``."""
    truth = clip0.truth
    T = len(truth["limb_cam"])
    cut = {k: (v[first:] if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == T else v) for k, v in truth.items()}
    take = acc.read_take(path, T)
    for name in ("limbs", "limbs_2d", "feet", "valid"):
        setattr(take, name, getattr(take, name)[first:])
    view = Clip(clip0.spec, clip0.folder, clip0.video, cut, clip0.meta)
    return {**acc.all_metrics(take.limbs, cut["limb_cam"], take.limbs_2d, cut["limb_2d"], take.valid),
            **acc.world_figures(take.limbs, take.valid, cut["limb_cam"], acc.truth_world(view, T - first), take)}


def main(argv: list[str] | None = None) -> int:
    from core.multiview.rig import save_rig

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cameras", default="2,3,4", help="camera counts to fit (comma-separated, 2 to 4)")
    parser.add_argument("--preset", default="balanced", choices=("fast", "balanced", "accurate"))
    parser.add_argument("--calibration", default="truth", choices=("truth", "person"),
                        help="the fit's cameras: the true rig, or calibrated from the person by capture-multi")
    args = parser.parse_args(argv)
    python = os.environ.get("BLENDER_MOCAP_ENGINE_PYTHON") or sys.executable
    counts = [int(c) for c in args.cameras.split(",")]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}")
    clip = prepare_multiview(python=python)
    timing = clip.timing
    starts, fps = timing["start_seconds"], timing["fps"]
    results: dict[str, float | str | int] = {"take": clip.spec.name, "cameras": len(clip.views),
                                             "frames": ",".join(str(int(f)) for f in timing["frames"]),
                                             "fps": ",".join(f"{f:g}" for f in fps), "preset": args.preset,
                                             "fit_calibration": args.calibration}
    seqs, pose_seconds = pose_sequences(clip)
    for k, s in enumerate(pose_seconds):
        results[f"pose_seconds_cam{k}"] = round(s, 1)
    results.update(sync_figures(clip, seqs))
    for cameras in (2, 4):
        results.update(calibration_figures(clip, seqs, cameras))

    with tempfile.TemporaryDirectory(prefix="bench-multiview-") as tmp:
        single = Path(tmp) / "single.npz"
        hfov = float(clip.views[0].truth["hfov_degrees"])
        wall = run_engine(python, ["capture", str(clip.videos[0]), "--out", str(single), "--fov", f"{hfov:.6f}",
                                      "--preset", args.preset])
        results["single_capture_seconds"] = round(wall, 1)
        for cameras in counts:
            first = int(np.ceil((starts[:cameras].max() - starts[0]) * fps[0] - 1e-9))
            out = Path(tmp) / f"multi{cameras}.npz"
            offsets = ",".join(f"{o:.6f}" for o in timing["offsets_seconds"][:cameras])
            extra = ["--calibration", str(save_rig(true_rig(clip, cameras), Path(tmp) / f"rig{cameras}.json"))] if args.calibration == "truth" else []
            wall = run_engine(python, ["capture-multi", *map(str, clip.videos[:cameras]), "--out", str(out),
                                          "--offsets", offsets, "--preset", args.preset, *extra])
            one, many = score(single, clip.views[0], first), score(out, clip.views[0], first)
            key = f"{cameras}cam"
            ratio = many["offset_free_pa_mpjpe_mm"] / one["offset_free_pa_mpjpe_mm"]
            results.update({
                f"{key}.scored_frames": int(len(clip.views[0].truth["limb_cam"]) - first),
                f"{key}.offset_free_pa_mpjpe_mm": round(many["offset_free_pa_mpjpe_mm"], 1),
                f"{key}.single_offset_free_pa_mpjpe_mm": round(one["offset_free_pa_mpjpe_mm"], 1),
                f"{key}.offset_free_pa_ratio": round(ratio, 3),
                f"{key}.pa_mpjpe_mm": round(many["pa_mpjpe_mm"], 1), f"{key}.single_pa_mpjpe_mm": round(one["pa_mpjpe_mm"], 1),
                f"{key}.w_mpjpe_mm": round(many["w_mpjpe_mm"], 1), f"{key}.single_w_mpjpe_mm": round(one["w_mpjpe_mm"], 1),
                f"{key}.skate_world_mm": round(many["skate_world_mm"], 2),
                f"{key}.single_skate_world_mm": round(one["skate_world_mm"], 2),
                f"{key}.capture_seconds": round(wall, 1),
                f"{key}.cost_ratio": round(wall / sum(pose_seconds[:cameras]), 3)})
            print(f"  {cameras} cameras ({results[f'{key}.scored_frames']} frames every camera films): offset-free "
                  f"PA-MPJPE {many['offset_free_pa_mpjpe_mm']:.1f} mm vs one camera {one['offset_free_pa_mpjpe_mm']:.1f}"
                  f" ({ratio:.2f}x), W-MPJPE {many['w_mpjpe_mm']:.0f} vs {one['w_mpjpe_mm']:.0f} mm, skate "
                  f"{many['skate_world_mm']:.1f} vs {one['skate_world_mm']:.1f} mm, {wall:.0f} s = "
                  f"{results[f'{key}.cost_ratio']:.2f}x the pose stages")
            write_results("multiview", results)
    path = write_results("multiview", results)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
