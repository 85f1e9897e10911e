"""The up direction and the floor against exact truth: which source answers, how far off each is, and whether
the uncertainty it states is right.

    python3 dev.py bench gravity [--set tilted|default|held_out | --clips a,b] [--preset balanced] [--raw-dir DIR]

On the rendered ground-truth clips of the accuracy benchmark (``bench/groundtruth/``; default: ``--set tilted``,
cameras pitched -35 to +10 degrees and rolled up to 15), the engine captures each clip once without cleanup
(``--no-cleanup``: the fit in the camera frame; ``--raw-dir DIR`` keeps it there and reuses it). Then, in this
process, on that fit:

- every source on its own (``core.gravity.take.take_sources``: the scene's vertical lines and the ground's level
  lines on the frames the capture samples, each printed alone when both answer, then fused as the capture does,
  the upright figure, the posture): its camera pitch and roll, its stated 1-sigma, its error against the render
  camera's true up (and that error's pitch and roll parts: the pitch part is the body's lean toward or away from
  the camera, which the person's outline in the picture cannot show, so the posture's pitch carries the fit's
  depth errors), and ``error / sigma`` (a stated uncertainty is honest when this sits near 1 or below over
  many clips; far below on every clip, it is pessimistic and lets weaker cues such as the feet move the floor);
- the fused up (``take_gravity``) and the floor cleanup puts under it: ``up_error_deg`` and
  ``floor_tilt_error_deg`` as ``bench accuracy`` reports them (the take's world up is the floor's normal), and
  how far the feet tilted the floor off the fused up (``floor_off_up_deg``), with the ground-uncertain flag;
- the floor under the TRUE up stated at 1-sigma 5 and 8 degrees (``pull_s5_deg``, ``pull_s8_deg``): how far the
  soles pull a right up off (0: the floor follows the up);
- cost: the gravity estimate's seconds (scene lines on the sampled frames plus the fused estimate on the fit)
  against the capture's own wall seconds (a ratio in this process; timings carry the load average). Issue 15's
  target is the gravity estimate <= 0.5 s per take.

Writes bench/results/gravity.json.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import accuracy  # noqa: E402
import groundtruth  # noqa: E402
import world_metrics as wm  # noqa: E402
from _results import write_results  # noqa: E402

SIGMAS = (5.0, 8.0)
"""1-sigma (degrees) at which the true up is handed to the floor, to see whether the floor follows it."""


def sampled_frames(video: Path, frames: int):
    """The frames the capture keeps for the scene lines (``core.gravity.FrameSampler``), decoded as it does."""
    from core.gravity import FrameSampler
    from core.video import iter_frames, open_video

    info = open_video(video)
    sampler = FrameSampler(frames, info.width)
    for _ in sampler.tap(iter_frames(info)):
        pass
    return sampler


def floor_up_errors(motion, gravity, up_true: np.ndarray, tilt_true: float) -> dict[str, float]:
    """Cleanup under ``gravity``: the floor's up error, its tilt error, how far the feet tilted it off ``gravity``."""
    from core.cleanup import clean_motion
    from core.gravity.take import apply_gravity

    take = copy.deepcopy(motion)
    apply_gravity(take, gravity)
    result = clean_motion(take)
    E = np.asarray(result.motion.camera_extrinsics, np.float64)
    return {"up_error_deg": wm.angle_degrees(E[:3, :3] @ result.motion.world_up, up_true),
            "floor_tilt_error_deg": abs(float(result.quality["floor_tilt_degrees"]) - tilt_true),
            "floor_off_up_deg": float(result.quality["floor_off_up_degrees"]),
            "ground_uncertain": float(result.quality.get("ground_uncertain", 0.0))}


def score_clip(clip, raw: Path, capture_seconds: float | None) -> tuple[dict[str, float], list[str]]:
    """Figures of one clip (flat names) and its printed lines."""
    from core.gravity import Gravity, pitch_roll_from_up
    from core.gravity import fuse
    from core.gravity import picture_sources
    from core.gravity.take import line_pictures, scene_lines, take_gravity, take_sources
    from core.motion import read_motion

    motion = read_motion(raw)
    up_true = np.asarray(clip.truth["world_up_cam"], np.float64)
    tilt_true = wm.tilt_from_level_degrees(up_true)
    sampler = sampled_frames(clip.video, len(clip.truth["limb_cam"]))
    t0 = time.perf_counter()
    lines = scene_lines(sampler, motion.keypoints_2d, np.asarray(motion.frame_indices), motion.camera_intrinsics)
    sources = take_sources(motion, lines)  # what take_gravity fuses: each source worked out once
    fused = fuse(sources) if sources else take_gravity(motion, lines)  # none: take_gravity's level fallback
    seconds = time.perf_counter() - t0
    pitch, roll = pitch_roll_from_up(up_true)
    out: dict[str, float] = {"truth_pitch_deg": pitch, "truth_roll_deg": roll, "gravity_seconds": seconds,
                             "capture_reused": float(capture_seconds is None),  # kept from --raw-dir: not timed
                             **({} if capture_seconds is None else {"capture_seconds": capture_seconds,
                                                                    "gravity_share": seconds / capture_seconds})}
    printed = [f"{clip.spec.name}: true pitch {pitch:.1f}, roll {roll:.1f}; gravity {seconds:.2f} s"]
    # The pictures' sources on their own too, when both answer (the take fuses them before the person's).
    pictures = picture_sources(line_pictures(sampler, motion.keypoints_2d, np.asarray(motion.frame_indices),
                                             motion.camera_intrinsics))
    for source in [*(pictures if len(pictures) > 1 else []), *sources, fused]:
        key = "fused" if source is fused else source.source.replace(" ", "_")
        error = wm.angle_degrees(source.up, up_true)
        pitch_error, roll_error = source.pitch_degrees - pitch, source.roll_degrees - roll
        out.update({f"{key}.error_deg": error, f"{key}.sigma_deg": source.sigma_degrees,
                    f"{key}.error_over_sigma": error / source.sigma_degrees,
                    f"{key}.pitch_error_deg": pitch_error, f"{key}.roll_error_deg": roll_error})
        name = f"fused: {source.source}" if source is fused else source.source
        printed.append(f"  {name:<36} pitch {source.pitch_degrees:6.1f} roll {source.roll_degrees:6.1f}  "
                       f"error {error:5.2f} (pitch {pitch_error:+5.1f}, roll {roll_error:+5.1f})  "
                       f"stated ±{source.sigma_degrees:4.1f}  error/sigma {error / source.sigma_degrees:4.2f}")
    floor = floor_up_errors(motion, fused, up_true, tilt_true)
    out.update({f"floor.{k}": v for k, v in floor.items()})
    printed.append(f"  floor under it: up error {floor['up_error_deg']:.2f}, tilt error {floor['floor_tilt_error_deg']:.2f}, "
                   f"feet tilted it {floor['floor_off_up_deg']:.2f} off the up, ground uncertain {floor['ground_uncertain']:.0f}")
    for sigma in SIGMAS:
        pull = floor_up_errors(motion, Gravity(up=up_true, sigma_degrees=sigma, source="the truth"), up_true, tilt_true)
        out[f"pull_s{sigma:g}_deg"] = pull["up_error_deg"]
    printed.append("  the true up stated at " + ", ".join(f"±{s:g}°: the floor ends {out[f'pull_s{s:g}_deg']:.2f}° off it"
                                                         for s in SIGMAS))
    return out, printed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", default=None, help="comma-separated clip names (instead of --set)")
    parser.add_argument("--set", dest="clip_set", choices=sorted(groundtruth.CLIP_SETS), default=None,
                        help="a named set of clips (default: tilted)")
    parser.add_argument("--preset", default="balanced")
    parser.add_argument("--raw-dir", default=None, help="keep the uncleaned captures here and reuse them")
    args = parser.parse_args(argv)
    try:
        specs = groundtruth.clips_selected(args.clips, args.clip_set or (None if args.clips else "tilted"))
    except ValueError as exc:
        parser.error(str(exc))
    python = os.environ.get("BLENDER_MOCAP_ENGINE_PYTHON") or sys.executable
    load = os.getloadavg()[0]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load {load:.1f}; preset {args.preset}")
    results: dict[str, float | str] = {"clips": ",".join(s.name for s in specs), "preset": args.preset,
                                       "load_average": round(load, 1)}
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-gravity-") as tmp:  # without --raw-dir, nothing is left behind
        for spec in specs:
            clip = groundtruth.prepare_clip(spec, python=python, log=print)
            raw, capture_seconds = accuracy.raw_capture(python, clip, args.preset, Path(args.raw_dir or tmp))
            figures, printed = score_clip(clip, raw, capture_seconds)
            print("\n".join(printed))
            results[f"{spec.name}.frames"] = len(clip.truth["limb_cam"])
            results.update({f"{spec.name}.{k}": round(float(v), 4) for k, v in figures.items()})
            rows.append(figures)
    for key in ("fused.error_deg", "floor.up_error_deg", "floor.floor_tilt_error_deg", "gravity_seconds",
                *(f"pull_s{s:g}_deg" for s in SIGMAS)):
        results[f"mean.{key}"] = round(float(np.nanmean([r[key] for r in rows])), 4)
        results[f"max.{key}"] = round(float(np.nanmax([r[key] for r in rows])), 4)
    print(f"\nmean / max over {len(rows)} clips: fused up error {results['mean.fused.error_deg']:.2f} / "
          f"{results['max.fused.error_deg']:.2f} deg, the floor's up error {results['mean.floor.up_error_deg']:.2f} / "
          f"{results['max.floor.up_error_deg']:.2f}, floor tilt error {results['mean.floor.floor_tilt_error_deg']:.2f} / "
          f"{results['max.floor.floor_tilt_error_deg']:.2f} (target <= 2 each); a right up stated at ±8° ends "
          f"{results['mean.pull_s8_deg']:.2f} / {results['max.pull_s8_deg']:.2f} off; gravity "
          f"{results['mean.gravity_seconds']:.2f} / {results['max.gravity_seconds']:.2f} s (target <= 0.5, load {load:.1f})")
    print(f"wrote {write_results('gravity', results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
