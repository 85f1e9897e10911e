"""Capture speed: the whole capture against its pose stage alone (issue 19 part 4).

    python3 dev.py bench capture_speed [--frames N] [--runs 3] [--backend torch|mediapipe] [--preset balanced]
    python3 dev.py bench capture_speed --people [--clips demo,cross_two,cross_three] [--runs 1] [--backend ...]

Each figure is one fresh engine process, as the add-on and the batch start one per
capture (so one-time costs, imports and model loading, count as a user pays them),
timed from its start to its end (wall) and by its own CPU time (all threads):

- ``model``: the pose model alone: the frames decoded first (untimed), then only the
  pose stage's network work (``core.pose_torch.estimate_body`` or
  ``core.pose.estimate_holistic`` as the capture calls it, its models built);
- ``pose``: the pose stage as a capture ran it before the pipeline: decoding and the
  pose model one after the other;
- ``capture``: ``core.capture.capture`` as a user runs it: the stages overlapped where that pays
  (``core.pipeline.overlap_for``: not for the torch backend on a 2-core CPU);
- ``overlapped``: ``capture(..., overlap=True)``: the overlapped pipeline, always;
- ``sequential``: ``capture(..., overlap=False)``: every stage after the other.

The four run in turn, ``--runs`` rounds (their order rotated each round); the ratios are
taken within a round (pairwise, so a load that changes between rounds cancels) and the
median over the rounds is printed, with the load average before each round. On the demo
clip (230 frames, 1768x994). Writes bench/results/capture_speed.json.

``--people`` (issue 16 part 4): the cost of ``--people all`` against a one-person
capture of the same clip, each a fresh engine process, the two in turn (order
swapped every round), for the demo and the rendered crossing clips
(``bench/groundtruth``, ``CROSSING``; at their render camera's field of view).
Backend: the CLI's default (mediapipe) unless ``--backend`` is given. Figures per
clip: ``people.<clip>.all_over_one_wall`` / ``_cpu`` (median over rounds),
the seconds of each, ``people.<clip>.people`` (motion files written) and the
``--people all`` run's seconds from its first pose event to the end of the pose
stage (``all_pose_wall_seconds``). Writes bench/results/capture_speed_people.json.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the imports: a process pays for them

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _results import write_results  # noqa: E402

MODES = ("model", "pose", "capture", "overlapped", "sequential")
PEOPLE_MODES = ("one", "all")


def demo_clip() -> Path:
    sys.path.insert(0, str(ROOT))
    import dev

    clip = dev.CACHE / "demo.mp4"
    return clip if clip.is_file() else dev.demo_clip()


def _pose_stage(video: Path, frames: int, backend: str, preset: str, predecode: bool) -> tuple[float, float]:
    """Run the capture's pose stage (its settings, its frame size); returns the (wall, CPU) seconds spent
    decoding ahead when ``predecode`` (the frames then come from memory; nothing else runs meanwhile)."""
    from core.capture import CaptureSettings, frame_range, torch_pose_settings
    from core.fit.optimize import preset as fit_preset
    from core.pose import PoseSettings, estimate_holistic
    from core.pose_stage import POSE_MAX_SIZE
    from core.video import iter_frames, open_video

    settings = CaptureSettings(max_frames=frames, pose_backend=backend, preset=preset)
    chosen = fit_preset(preset)
    info = open_video(video)
    end, expected = frame_range(settings, info, chosen.stride)
    stream = iter_frames(info, start=0, end=end, stride=chosen.stride, max_size=POSE_MAX_SIZE)
    decoding = (0.0, 0.0)
    if predecode:
        t, c = time.perf_counter(), time.process_time()
        stream = iter(list(stream))
        decoding = (time.perf_counter() - t, time.process_time() - c)
    size = (info.width, info.height)
    if backend == "torch":
        from core.pose_torch import estimate_body

        estimate_body(stream, num_frames=expected, fps=info.fps, image_size=size,
                      settings=torch_pose_settings(settings, chosen.mirror_average))
    else:
        estimate_holistic(stream, num_frames=expected, fps=info.fps, image_size=size,
                          settings=PoseSettings(mirror_average=chosen.mirror_average, follow=False))
    return decoding


def people_child(mode: str, video: Path, fov: float | None, backend: str, preset: str, out: Path) -> dict:
    """A one-person (``mode`` "one") or ``--people all`` capture of ``video`` in this fresh process: wall and
    CPU seconds as :func:`child`, the files written, and the wall seconds the pose stage took."""
    from core.capture import CaptureSettings, capture
    from core.people import capture_people

    settings = CaptureSettings(pose_backend=backend, preset=preset, hfov_degrees=fov, people=mode)
    marks: dict[str, float] = {}

    def emit(event: dict) -> None:
        if event.get("event") == "stage":
            marks.setdefault(str(event.get("stage")), time.perf_counter())
            if event.get("stage") not in ("decoding", "pose"):
                marks.setdefault("after_pose", time.perf_counter())

    takes = capture_people(video, out, settings, emit=emit) if mode == "all" else [capture(video, out, settings, emit=emit)]
    end = time.perf_counter()
    pose = marks.get("after_pose", end) - marks.get("pose", end)
    return {"wall": end - STARTED, "cpu": time.process_time(), "files": len(takes), "pose_wall": pose}


def people_clips(names: str) -> list[tuple[str, Path, float | None]]:
    """(name, video, horizontal field of view or None) of each clip asked for: "demo" or a crossing clip."""
    clips: list[tuple[str, Path, float | None]] = []
    for name in (n for n in names.split(",") if n):
        if name == "demo":
            clips.append((name, demo_clip(), None))
            continue
        sys.path.insert(0, str(ROOT / "bench"))
        import groundtruth

        spec = groundtruth.clips_named(name)[0]
        clip = groundtruth.prepare_clip(spec, groundtruth.RenderSettings())
        clips.append((name, clip.video, float(clip.truth["hfov_degrees"])))
    return clips


def people_main(args: argparse.Namespace) -> None:
    """``--people``: every clip, ``--runs`` rounds of (one, all) in fresh processes; ratios within a round."""
    import tempfile

    backend = args.backend or "mediapipe"
    result: dict[str, float | str] = {"runs": args.runs, "backend": backend, "preset": args.preset,
                                      "cores": os.cpu_count() or 0, "load_average_1min_first": os.getloadavg()[0]}
    loads: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, video, fov in people_clips(args.clips):
            rounds = []
            for r in range(args.runs):
                loads.append(os.getloadavg()[0])
                timing = {}
                for mode in PEOPLE_MODES[r % 2:] + PEOPLE_MODES[:r % 2]:
                    cmd = [sys.executable, __file__, "--people-child", mode, "--video", str(video), "--backend",
                           backend, "--preset", args.preset, "--out", str(Path(tmp) / f"{name}-{mode}.npz")]
                    if fov is not None:
                        cmd += ["--fov", f"{fov:.6f}"]
                    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
                    if proc.returncode != 0:
                        raise SystemExit(f"{name} {mode} failed:\n{proc.stderr[-3000:]}")
                    timing[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
                rounds.append(timing)
                print(f"{name} round {r + 1} (load {loads[-1]:.1f}): one {timing['one']['wall']:.1f} s wall / "
                      f"{timing['one']['cpu']:.1f} s CPU; all {timing['all']['wall']:.1f} s wall / "
                      f"{timing['all']['cpu']:.1f} s CPU ({timing['all']['files']} people, pose stage "
                      f"{timing['all']['pose_wall']:.1f} s)", flush=True)
            for kind in ("wall", "cpu"):
                result[f"people.{name}.all_over_one_{kind}"] = statistics.median(
                    t["all"][kind] / t["one"][kind] for t in rounds)
                for mode in PEOPLE_MODES:
                    result[f"people.{name}.{mode}_{kind}_seconds"] = statistics.median(t[mode][kind] for t in rounds)
            result[f"people.{name}.all_pose_wall_seconds"] = statistics.median(t["all"]["pose_wall"] for t in rounds)
            result[f"people.{name}.people"] = rounds[-1]["all"]["files"]
            print(f"{name}: --people all / one person  x{result[f'people.{name}.all_over_one_wall']:.2f} wall   "
                  f"x{result[f'people.{name}.all_over_one_cpu']:.2f} CPU  ({result[f'people.{name}.people']} people, "
                  f"{backend} backend)", flush=True)
    result["load_average_1min_max"] = max(loads)
    result["load_average_1min_end"] = os.getloadavg()[0]
    print(f"load average {loads[0]:.1f} at the start, {max(loads):.1f} at most, {os.getloadavg()[0]:.1f} at the end")
    print(f"wrote {write_results('capture_speed_people', result)}")


def child(mode: str, frames: int, backend: str, preset: str, out: Path) -> dict:
    """One measurement in this (fresh) process: wall seconds since the start, CPU seconds of all threads."""
    video = demo_clip()
    skipped, cpu_skipped = 0.0, 0.0
    if mode in ("model", "pose"):
        skipped, cpu_skipped = _pose_stage(video, frames, backend, preset, predecode=mode == "model")
    else:
        from core.capture import CaptureSettings, capture

        capture(video, out, CaptureSettings(max_frames=frames, pose_backend=backend, preset=preset),
                overlap={"capture": None, "overlapped": True}.get(mode, False))
    return {"wall": time.perf_counter() - STARTED - skipped, "cpu": time.process_time() - cpu_skipped}


def run_child(mode: str, args: argparse.Namespace, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--frames", str(args.frames), "--backend", args.backend,
           "--preset", args.preset, "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=230, help="frames of the demo clip (default: all 230)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backend", default=None, choices=("torch", "mediapipe"),
                        help="pose backend (default: torch; with --people the CLI's default, mediapipe)")
    parser.add_argument("--people", action="store_true", help="--people all against one person (see above)")
    parser.add_argument("--clips", default="demo,cross_two,cross_three", help="with --people: demo or crossing clips")
    parser.add_argument("--people-child", choices=PEOPLE_MODES, help=argparse.SUPPRESS)
    parser.add_argument("--video", default="", help=argparse.SUPPRESS)
    parser.add_argument("--fov", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--preset", default="balanced")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.people_child:
        print(json.dumps(people_child(args.people_child, Path(args.video), args.fov, args.backend, args.preset,
                                      Path(args.out))))
        return
    if args.people:
        people_main(args)
        return
    args.backend = args.backend or "torch"
    if args.child:
        print(json.dumps(child(args.child, args.frames, args.backend, args.preset, Path(args.out))))
        return
    import tempfile

    rounds: list[dict[str, dict]] = []
    loads: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.runs):
            loads.append(os.getloadavg()[0])
            order = MODES[r % len(MODES):] + MODES[:r % len(MODES)]
            timing = {mode: run_child(mode, args, Path(tmp) / f"{mode}.npz") for mode in order}
            rounds.append(timing)
            print(f"round {r + 1} (load {loads[-1]:.1f}): " + ", ".join(
                f"{m} {timing[m]['wall']:.1f} s wall / {timing[m]['cpu']:.1f} s CPU" for m in MODES), flush=True)
    result: dict[str, float | str] = {"frames": args.frames, "runs": args.runs, "backend": args.backend,
                                      "preset": args.preset, "cores": os.cpu_count() or 0,
                                      "load_average_1min_first": loads[0], "load_average_1min_max": max(loads),
                                      "load_average_1min_end": os.getloadavg()[0]}
    for mode in MODES:
        for kind in ("wall", "cpu"):
            result[f"{mode}_{kind}_seconds_median"] = statistics.median(t[mode][kind] for t in rounds)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; demo clip, {args.frames} frames, "
          f"{args.backend} pose backend, {args.preset} preset; median of {args.runs} rounds, each ratio within a round")
    for whole in ("capture", "overlapped", "sequential"):
        for base in ("model", "pose"):
            for kind in ("wall", "cpu"):
                ratio = statistics.median(t[whole][kind] / t[base][kind] for t in rounds)
                result[f"{whole}_over_{base}_{kind}"] = ratio
            print(f"{whole:10s} / {base:5s}  x{result[f'{whole}_over_{base}_wall']:.2f} wall   "
                  f"x{result[f'{whole}_over_{base}_cpu']:.2f} CPU")
    ratio = statistics.median(t["capture"]["wall"] / t["sequential"]["wall"] for t in rounds)
    result["capture_over_sequential_wall"] = ratio
    result["overlapped_over_sequential_wall"] = statistics.median(t["overlapped"]["wall"] / t["sequential"]["wall"]
                                                                  for t in rounds)
    from core.capture import CaptureSettings
    from core.pipeline import overlap_for

    result["capture_overlaps"] = float(overlap_for(CaptureSettings(pose_backend=args.backend)))
    print(f"overlapped / sequential  x{result['overlapped_over_sequential_wall']:.2f} wall; the capture "
          f"{'overlaps' if result['capture_overlaps'] else 'runs the stages one after another'} here")
    print(f"load average {loads[0]:.1f} at the start, {max(loads):.1f} at most, {os.getloadavg()[0]:.1f} at the end")
    print(f"wrote {write_results('capture_speed', result)}")


if __name__ == "__main__":
    main()
