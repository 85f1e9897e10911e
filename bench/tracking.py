"""Tracking against exact truth (issue 16): the right person, through flips and crowds, from the start.

    python3 dev.py bench tracking [--clips ACROBATICS,CROSSING] [--preset balanced] [--frames N]

For each rendered clip of ``bench/groundtruth/`` (sets ``ACROBATICS``,
``TRAVEL``, ``CROSSING`` or clip names, see ``groundtruth.clips_named``) this
runs the engine CLI as ``bench accuracy`` does (``--preset``, the render
camera's ``--fov``) and compares the take with the truth of the chosen person
(person 0 of a crowd clip: the nearest, the camera's subject). Baseline,
measured in the same run on the same frames: MediaPipe Holistic alone
(``accuracy.mediapipe_joints``, cached next to the clip), its image hips and
its metric world landmarks.

Figures per clip (``<clip>.<method>.<figure>``):

- ``identity``: share of the frames where the person is visible (mid-hip in
  the image, under half of the limb joints hidden by someone nearer) on which
  the take's 2D mid-hip (its hips projected with its own camera) is within
  ``IDENTITY_FRACTION`` of the person's height in pixels (standing height
  ``height_from_limbs`` at the mid-hip's depth) of the truth. A frame with no
  pose counts as a miss. Target 1.0.
- ``on_other_frames`` (crowd clips): frames where the take's mid-hip is nearer
  another person's than the chosen one's; ``id_switches``: changes of the
  person it is nearest to.
- ``pa_upright_mm``, ``pa_inverted_mm``, ``inverted_ratio``: limb PA-MPJPE on the
  frames where the truth's trunk (mid-hip to mid-shoulder) is within
  ``INVERTED_DEGREES`` of up, on the others (inverted or lying), and their
  ratio (target <= 1.5). Frames without a pose are left out here (they count in
  ``identity``).
- ``detection_delay``: first frame on which the person was found (for the
  take: fitted from landmarks, not bridged) minus their first visible frame
  (target <= 3).
- ``people.*`` (crowd clips, once the engine has ``--people all``): every
  person's take against every person (:func:`score_people`), and each
  person's limb PA-MPJPE against their take captured alone (``--person`` on
  their pelvis in their first visible frame), on the frames both cover:
  ``person<k>.alone_pa_mm`` and ``person<k>.pa_ratio`` (target <= 1.10);
  ``id_switches`` target 0.

Results go to bench/results/tracking.json (flat).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy  # noqa: E402  (sets up the paths; the engine runner and MediaPipe's cache)
import groundtruth  # noqa: E402
from _results import write_results  # noqa: E402

IDENTITY_FRACTION = 0.10
"""A take is on the person when its mid-hip is within this share of the person's height (pixels)."""
INVERTED_DEGREES = 60.0
"""Trunk angle to up beyond which a frame is inverted or lying."""
OCCLUDED_HIDDEN = 0.5
"""A person with this share of limb joints hidden by someone nearer is not visible."""
HEIGHT_PER_LIMBS = 1.25
"""Standing height / (leg length + trunk length): 1.24 for the DeepMimic humanoid, 1.23-1.27 for CMU adults."""
HIPS = (groundtruth.LIMB_JOINTS.index("left_hip"), groundtruth.LIMB_JOINTS.index("right_hip"))
SHOULDERS = (groundtruth.LIMB_JOINTS.index("left_shoulder"), groundtruth.LIMB_JOINTS.index("right_shoulder"))
FIGURES = ("identity", "pa_upright_mm", "pa_inverted_mm", "inverted_ratio", "detection_delay")


# ----------------------------------------------------------------------------
# Figures (numpy; limb joints in core.skeleton.LIMB_JOINTS order)
# ----------------------------------------------------------------------------

def height_from_limbs(limb_cam: np.ndarray) -> float:
    """Standing height, metres, of the person whose limb joints are ``limb_cam`` (T, 12, 3), from lengths only
    (thigh + shin, median over frames and sides, + mid-hip to mid-shoulder, its 90th percentile: the trunk
    shortens when the spine bends), so inverted or lying frames give the same answer."""
    j = groundtruth.LIMB_JOINTS.index
    leg = [np.linalg.norm(limb_cam[:, j(f"{s}_hip")] - limb_cam[:, j(f"{s}_knee")], axis=-1)
           + np.linalg.norm(limb_cam[:, j(f"{s}_knee")] - limb_cam[:, j(f"{s}_ankle")], axis=-1) for s in ("left", "right")]
    trunk = np.linalg.norm(limb_cam[:, list(HIPS)].mean(1) - limb_cam[:, list(SHOULDERS)].mean(1), axis=-1)
    return float(HEIGHT_PER_LIMBS * (np.median(np.concatenate(leg)) + np.percentile(trunk, 90)))


def trunk_angle_degrees(limb_cam: np.ndarray, up_cam: np.ndarray) -> np.ndarray:
    """(T,) angle between the trunk (mid-hip to mid-shoulder) and ``up_cam`` (3,), degrees: 0 upright, 180 upside down."""
    trunk = limb_cam[:, list(SHOULDERS)].mean(1) - limb_cam[:, list(HIPS)].mean(1)
    cos = trunk @ up_cam / np.maximum(np.linalg.norm(trunk, axis=-1) * np.linalg.norm(up_cam), 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def pelvis_2d(limb_2d: np.ndarray) -> np.ndarray:
    """(..., T, 12, 2) -> (..., T, 2): the mid-hip in pixels."""
    return limb_2d[..., list(HIPS), :].mean(-2)


def identity_share(ours_pelvis: np.ndarray, true_pelvis: np.ndarray, height_px: np.ndarray,
                   visible: np.ndarray) -> float:
    """Share of ``visible`` (T,) frames where ``ours_pelvis`` (T, 2, NaN = no pose) is within
    ``IDENTITY_FRACTION * height_px`` (T,) of ``true_pelvis`` (T, 2); NaN when never visible."""
    if not visible.any():
        return float("nan")
    d = np.linalg.norm(ours_pelvis - true_pelvis, axis=-1)
    hit = np.where(np.isnan(d), False, d <= IDENTITY_FRACTION * height_px)
    return float(hit[visible].mean())


def nearest_person(ours_pelvis: np.ndarray, people_pelvis: np.ndarray, in_view: np.ndarray) -> np.ndarray:
    """(T,) index of the person (P, T, 2 pelvis pixels; ``in_view`` (P, T)) nearest the take's mid-hip
    (T, 2), -1 on frames without a pose."""
    d = np.linalg.norm(people_pelvis - ours_pelvis[None], axis=-1)
    d = np.where(in_view, d, np.inf)
    out = np.argmin(np.nan_to_num(d, nan=np.inf), axis=0)
    return np.where(np.isnan(ours_pelvis).any(-1), -1, out)


def id_switches(followed: np.ndarray) -> int:
    """Changes of the followed person (T,) over the frames with a pose (-1 skipped)."""
    seen = followed[followed >= 0]
    return int(np.count_nonzero(np.diff(seen))) if len(seen) > 1 else 0


def pa_per_frame(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(T,) limb PA-MPJPE per frame, the input's units (NaN where ``pred`` has none)."""
    out = np.full(len(gt), np.nan)
    ok = ~np.isnan(pred).any((1, 2))
    if ok.any():
        out[ok] = np.linalg.norm(accuracy.procrustes_align(pred[ok], gt[ok]) - gt[ok], axis=-1).mean(-1)
    return out


def split_by_posture(errors: np.ndarray, angle: np.ndarray) -> dict[str, float]:
    """Mean of per-frame ``errors`` (T,, metres) on upright and on inverted/lying frames (``angle`` (T,) degrees),
    millimetres, their ratio and the frame counts."""
    inverted = angle > INVERTED_DEGREES
    ok = ~np.isnan(errors)
    up = errors[ok & ~inverted]
    inv = errors[ok & inverted]
    pa_up = 1000.0 * float(up.mean()) if up.size else float("nan")
    pa_inv = 1000.0 * float(inv.mean()) if inv.size else float("nan")
    return {"pa_upright_mm": pa_up, "pa_inverted_mm": pa_inv, "inverted_ratio": pa_inv / pa_up if pa_up > 0 else float("nan"),
            "upright_frames": int(up.size), "inverted_frames": int(inv.size)}


def detection_delay(has_pose: np.ndarray, visible: np.ndarray) -> float:
    """First frame with a pose minus the first visible frame (NaN if never visible; the clip's
    length if never found)."""
    if not visible.any():
        return float("nan")
    first = np.flatnonzero(has_pose)
    found = first[0] if len(first) else len(has_pose)
    return float(found - np.flatnonzero(visible)[0])


def truth_view(truth: dict, person: int = 0) -> dict[str, np.ndarray]:
    """The chosen person's (``person`` k of a crowd clip) visibility and size per frame: ``visible`` (T,) bool,
    ``height_px`` (T,), ``pelvis`` (T, 2) pixels, ``angle`` (T,) trunk to up, degrees, ``limbs`` (T, 12, 3)."""
    limbs, limb_2d = (truth["limb_cam"], truth["limb_2d"]) if person == 0 else \
        (truth["people_limb_cam"][person], truth["people_limb_2d"][person])
    K = truth["K"]
    w, h = truth["image_size"]
    pel = pelvis_2d(limb_2d)
    depth = limbs[:, list(HIPS), 2].mean(1)
    visible = ((pel >= 0) & (pel < [w, h])).all(-1) & (depth > 0)
    if "people_occluded" in truth:
        visible &= truth["people_occluded"][person] < OCCLUDED_HIDDEN
    return {"visible": visible, "height_px": height_from_limbs(limbs) * K[0, 0] / depth, "pelvis": pel,
            "angle": trunk_angle_degrees(limbs, truth["world_up_cam"]), "limbs": limbs}


def score(ours3: np.ndarray, ours2: np.ndarray, truth: dict, view: dict,
          seen: np.ndarray | None = None) -> dict[str, float]:
    """The figures of one method on one clip (see the module docstring). ``ours3`` (T, 12, 3) any frame
    (PA aligns it), ``ours2`` (T, 12, 2) pixels; NaN rows: no pose on that frame. ``seen`` (T,): frames on
    which the person was found (default: those with a pose); a take's bridged frames show a pose that
    was not seen, so they count for identity and limbs but not for detection."""
    has_pose = ~np.isnan(ours2).any((1, 2))
    ours_pelvis = pelvis_2d(ours2)
    out = {"identity": identity_share(ours_pelvis, view["pelvis"], view["height_px"], view["visible"]),
           "visible_frames": int(view["visible"].sum()),
           "detection_delay": detection_delay(has_pose if seen is None else seen & has_pose, view["visible"]),
           **split_by_posture(pa_per_frame(ours3, view["limbs"]), view["angle"])}
    if "people_pelvis_2d" in truth:
        followed = nearest_person(ours_pelvis, truth["people_pelvis_2d"], truth["people_in_view"])
        out["on_other_frames"] = int(np.count_nonzero(followed > 0))
        out["id_switches"] = id_switches(followed)
    return out


def score_people(takes: list[tuple[np.ndarray, np.ndarray]], truth: dict) -> dict[str, float]:
    """Takes of every person (``--people all``: each (limbs (T, 12, 3), pixels (T, 12, 2)), NaN without a
    pose) against every person of a crowd clip. A take belongs to the person it is nearest to on most of
    its frames; ``people_found``: people with a take; ``id_switches``: changes of the person a take is
    nearest to, over all takes (``id_switches_visible``: on the frames its person is visible); per person k ``person<k>.identity`` and ``person<k>.pa_mm`` (all its
    take's frames) of its take (the first, when two takes claim one person)."""
    P = len(truth["people_pelvis_2d"])
    out: dict[str, float] = {"people": P, "takes": len(takes), "id_switches": 0, "id_switches_visible": 0}
    owner: dict[int, int] = {}
    for t, (_, ours2) in enumerate(takes):
        followed = nearest_person(pelvis_2d(ours2), truth["people_pelvis_2d"], truth["people_in_view"])
        out["id_switches"] += id_switches(followed)
        if (followed >= 0).any():
            mine = int(np.bincount(followed[followed >= 0], minlength=P).argmax())
            owner.setdefault(mine, t)
            # Only where the take's person is visible: while they are hidden behind someone, the take's
            # pose is the fit's bridge between their frames, and nearest to whoever hides them.
            out["id_switches_visible"] += id_switches(np.where(truth_view(truth, mine)["visible"], followed, -1))
    out["people_found"] = len(owner)
    for k in range(P):
        if k in owner:
            ours3, ours2 = takes[owner[k]]
            view = truth_view(truth, k)
            out[f"person{k}.identity"] = identity_share(pelvis_2d(ours2), view["pelvis"], view["height_px"],
                                                        view["visible"])
            out[f"person{k}.pa_mm"] = 1000.0 * float(np.nanmean(pa_per_frame(ours3, view["limbs"])))
    return out


def pooled(clips: list[dict[str, float]]) -> dict[str, float]:
    """Figures over several clips' frames together: identity and limb errors weighted by frames
    (``frames`` / ``upright_frames`` / ``inverted_frames`` of each clip), and the pooled ratio (issue 16's
    target compares the inverted and lying frames with the upright frames of the same clips)."""
    def mean(key: str, weight: str) -> float:
        pairs = [(c[key], c[weight]) for c in clips if c[weight] > 0 and not np.isnan(c[key])]
        return sum(v * n for v, n in pairs) / sum(n for _, n in pairs) if pairs else float("nan")

    up, inv = mean("pa_upright_mm", "upright_frames"), mean("pa_inverted_mm", "inverted_frames")
    return {"identity": mean("identity", "visible_frames"), "pa_upright_mm": up, "pa_inverted_mm": inv,
            "inverted_ratio": inv / up if up > 0 else float("nan")}


# ----------------------------------------------------------------------------
# The benchmark
# ----------------------------------------------------------------------------

def _cli(python: str, clip: groundtruth.Clip, video: Path, out: Path, preset: str, *extra: str) -> float:
    """The engine CLI on ``video`` with ``extra`` arguments; returns wall seconds."""
    import subprocess

    cmd = [python, "-m", "core", "capture", str(video), "--out", str(out), "--fov",
           f"{float(clip.truth['hfov_degrees']):.6f}", "--progress", "none", "--preset", preset, *extra]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=accuracy.ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"capture failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return time.perf_counter() - t0


def _joints(path: Path, T: int) -> tuple[np.ndarray, np.ndarray]:
    ours3, ours2, valid, _ = accuracy.take_joints(path, T)
    ours3[~valid], ours2[~valid] = np.nan, np.nan
    return ours3, ours2


def _every_person(python: str, clip: groundtruth.Clip, video: Path, T: int, tmp: Path, preset: str) -> tuple:
    """``--people all``: one take per person, ``<out>.person<N>.npz`` as issue 16 names them; each as
    (limbs (T, 12, 3), pixels (T, 12, 2)), NaN without a pose; and the capture's seconds."""
    out = tmp / f"{clip.spec.name}-people.npz"
    seconds = _cli(python, clip, video, out, preset, "--people", "all")
    paths = sorted(tmp.glob(f"{out.stem}.person*.npz"), key=lambda p: int(p.stem.rpartition("person")[2]))
    return [_joints(path, T) for path in paths], seconds


def _alone(python: str, clip: groundtruth.Clip, video: Path, T: int, tmp: Path, preset: str, truth: dict,
           k: int) -> tuple[np.ndarray, np.ndarray]:
    """Person ``k`` captured alone: ``--person`` on their pelvis in their first visible frame."""
    view = truth_view(truth, k)
    first = int(np.flatnonzero(view["visible"])[0])
    x, y = view["pelvis"][first]
    out = tmp / f"{clip.spec.name}-alone{k}.npz"
    _cli(python, clip, video, out, preset, "--person", f"{x:.0f},{y:.0f}@{first}")
    return _joints(out, T)


def alone_figures(takes: list[tuple[np.ndarray, np.ndarray]], alone: list[tuple[np.ndarray, np.ndarray]],
                  truth: dict) -> dict[str, float]:
    """Each person's limb PA-MPJPE (mm) in their ``--people all`` take (the take nearest them on most frames,
    as :func:`score_people` matches them) and captured alone (``alone[k]``), on the frames both have a pose;
    ``person<k>.pa_ratio`` = all / alone, ``pa_ratio_max`` the worst; ``person<k>.alone_identity``: the
    take alone on them (``--person`` picks them; target 1.0)."""
    P = len(truth["people_pelvis_2d"])
    out: dict[str, float] = {}
    for k in range(P):
        view = truth_view(truth, k)
        limbs = view["limbs"]
        # Whether the pick was followed at all: a take on someone else has no business in the ratio.
        out[f"person{k}.alone_identity"] = identity_share(pelvis_2d(alone[k][1]), view["pelvis"], view["height_px"],
                                                          view["visible"])
        mine = [t for t in takes if (nearest_person(pelvis_2d(t[1]), truth["people_pelvis_2d"],
                                                    truth["people_in_view"]) == k).mean() > 0.5]
        if not mine:
            continue
        ours, theirs = pa_per_frame(mine[0][0], limbs), pa_per_frame(alone[k][0], limbs)
        both = np.isfinite(ours) & np.isfinite(theirs)
        out[f"person{k}.all_pa_mm"] = 1000.0 * float(ours[both].mean())
        out[f"person{k}.alone_pa_mm"] = 1000.0 * float(theirs[both].mean())
        alone_mm = out[f"person{k}.alone_pa_mm"]
        out[f"person{k}.pa_ratio"] = out[f"person{k}.all_pa_mm"] / alone_mm if alone_mm > 1e-6 else float("nan")
    ratios = [v for key, v in out.items() if key.endswith("pa_ratio") and np.isfinite(v)]
    out["pa_ratio_max"] = max(ratios) if ratios else float("nan")
    return out


def _take(python: str, clip: groundtruth.Clip, video: Path, T: int, tmp: Path, preset: str) -> tuple:
    """The engine's take of the clip: limbs camera frame (T, 12, 3), pixels (T, 12, 2), NaN without a pose;
    seen (T,) frames it fitted from landmarks (not bridged); capture seconds."""
    from core.motion import read_motion

    out = tmp / f"{clip.spec.name}-{preset}.npz"
    seconds = accuracy.run_capture(python, video, out, float(clip.truth["hfov_degrees"]), preset)
    ours3, ours2, valid, _ = accuracy.take_joints(out, T)
    ours3[~valid], ours2[~valid] = np.nan, np.nan
    motion = read_motion(out)
    idx = np.asarray(motion.frame_indices)
    keep = (idx >= 0) & (idx < T)
    seen = np.zeros(T, bool)
    seen[idx[keep]] = ~np.asarray(motion.bridged, bool)[keep]
    return ours3, ours2, seen, seconds


def _mediapipe(clip: groundtruth.Clip, T: int) -> tuple[np.ndarray, np.ndarray]:
    world, uv, present = accuracy.mediapipe_joints(clip)
    world, uv = world[:T].copy(), uv[:T].copy()
    world[~present[:T]], uv[~present[:T]] = np.nan, np.nan
    return world, uv


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", default="ACROBATICS,CROSSING",
                        help="comma-separated clip or set names (ACROBATICS, TRAVEL, CROSSING, CLIPS, HELD_OUT)")
    parser.add_argument("--preset", default="balanced", help="the engine's preset")
    parser.add_argument("--frames", type=int, default=None, help="use only the first N frames of each clip")
    args = parser.parse_args(argv)
    try:
        specs = groundtruth.clips_named(args.clips)
    except ValueError as exc:
        parser.error(str(exc))

    python = os.environ.get("BLENDER_MOCAP_ENGINE_PYTHON") or sys.executable
    settings = groundtruth.RenderSettings()
    code = accuracy.fitting_code_id()
    every_person = "--people" in accuracy.cli_help(python)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}; fitting code HEAD {code['git_head']}, sha {code['fit_code_sha256']}")
    results: dict[str, float | str | int] = {"clips": ",".join(s.name for s in specs), "preset": args.preset, **code}
    per: dict[str, dict[str, dict[str, float]]] = {"mediapipe": {}, args.preset: {}}
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-tracking-") as tmp:
        for spec in specs:
            clip = groundtruth.prepare_clip(spec, settings, python=python, log=print)
            T = len(clip.truth["limb_cam"]) if args.frames is None else min(args.frames, len(clip.truth["limb_cam"]))
            truth = {k: (v[:T] if k in ("limb_cam", "limb_2d") else v[:, :T] if k.startswith("people_")
                         and v.ndim >= 2 else v) for k, v in clip.truth.items()}
            video = clip.video
            if T < len(clip.truth["limb_cam"]):
                video = Path(tmp) / f"{spec.name}-{T}.mp4"
                accuracy._cut(clip.video, video, T)
            view = truth_view(truth)
            per["mediapipe"][spec.name] = score(*_mediapipe(clip, T), truth, view)
            ours3, ours2, seen, seconds = _take(python, clip, video, T, Path(tmp), args.preset)
            per[args.preset][spec.name] = score(ours3, ours2, truth, view, seen)
            if "people_pelvis_2d" in truth and every_person:
                takes, people_seconds = _every_person(python, clip, video, T, Path(tmp), args.preset)
                alone = [_alone(python, clip, video, T, Path(tmp), args.preset, truth, k)
                         for k in range(len(truth["people_pelvis_2d"]))]
                figures = {**score_people(takes, truth), **alone_figures(takes, alone, truth),
                           "capture_seconds": people_seconds}
                for k, v in figures.items():
                    results[f"{spec.name}.{args.preset}.people.{k}"] = round(float(v), 4)
                _print_people(spec.name, figures)
            results[f"{spec.name}.frames"] = T
            results[f"{spec.name}.visible_frames"] = int(view["visible"].sum())
            results[f"{spec.name}.capture_seconds"] = round(seconds, 2)
            print(f"{spec.name}: {T} frames, visible {int(view['visible'].sum())}, inverted/lying "
                  f"{int((view['angle'] > INVERTED_DEGREES).sum())}, capture {seconds:.1f} s", flush=True)
    for method, clips in per.items():
        for name, figures in clips.items():
            for k, v in figures.items():
                results[f"{name}.{method}.{k}"] = round(float(v), 4)
    for method, clips in per.items():
        for k, v in pooled(list(clips.values())).items():
            results[f"all.{method}.{k}"] = round(float(v), 4)
    results["total_seconds"] = round(time.perf_counter() - t_start, 1)
    _print_table(per, [s.name for s in specs], args.preset)
    print("all clips, frames pooled: " + "; ".join(
        f"{m} identity {results[f'all.{m}.identity']:.2f}, upright {results[f'all.{m}.pa_upright_mm']:.1f} mm, "
        f"inverted/lying {results[f'all.{m}.pa_inverted_mm']:.1f} mm, ratio {results[f'all.{m}.inverted_ratio']:.2f}"
        for m in per))
    path = write_results("tracking", results)
    print(f"\nwrote {path} ({results['total_seconds']:.0f} s)")
    return 0


def _print_people(name: str, figures: dict[str, float]) -> None:
    """The multi-person row of a crowd clip: per person identity, limb error all / alone and their ratio."""
    for k in range(int(figures["people"])):
        f = {key: figures.get(f"person{k}.{key}", float("nan"))
             for key in ("identity", "all_pa_mm", "alone_pa_mm", "pa_ratio", "alone_identity")}
        print(f"{name} --people all, person {k}: identity {f['identity']:.2f}, limb PA-MPJPE {f['all_pa_mm']:.1f} mm "
              f"against {f['alone_pa_mm']:.1f} mm alone (ratio {f['pa_ratio']:.2f}, target <= 1.10; alone, picked: "
              f"identity {f['alone_identity']:.2f})", flush=True)
    print(f"{name} --people all: {int(figures['takes'])} takes for {int(figures['people'])} people, "
          f"{int(figures['people_found'])} found, ID switches {int(figures['id_switches'])} (target 0; "
          f"{int(figures['id_switches_visible'])} where the person is visible), "
          f"{figures['capture_seconds']:.0f} s", flush=True)


def _print_table(per: dict, names: list[str], preset: str) -> None:
    cols = ("identity", "pa_upright_mm", "pa_inverted_mm", "inverted_ratio", "detection_delay", "on_other_frames",
            "id_switches")
    print(f"\n{'clip':<20}{'method':<11}" + "".join(f"{c:>16}" for c in cols))
    for name in names:
        for method in ("mediapipe", preset):
            f = per[method][name]
            print(f"{name:<20}{method:<11}" + "".join(f"{f.get(c, float('nan')):16.2f}" for c in cols))
    print("targets: identity 1.00, inverted_ratio <= 1.5, detection_delay <= 3, on_other_frames 0, id_switches 0")


if __name__ == "__main__":
    sys.exit(main())
