"""Several phones against one: sync, calibration from the person and the multi-view fit, with exact truth (issue 20).

    python3 dev.py bench multiview [--take short|long] [--only-calibration] [--cameras 2,3,4] [--preset balanced]
                                   [--calibration truth|person]

The take (``groundtruth.multicam.FOUR_PHONES``, rendered once and cached): CMU
01_03 filmed by four phones 90 degrees apart (heights 0.8-2 m, fields of view
48-70 degrees, 640x360, 360x640 portrait, 480x360, 512x384; one at 25 fps,
the others at 30; starts 0, 1.37, 0.62 and 1.85 s), each MP4 with the same
clap and footsteps on its sound track. Cameras 0-1 are the 2-camera rig (90
degrees apart), 0-2 the 3-camera one, 0-3 all four. All four film together
only 3.15 s of its 5 (94 of camera 0's frames). ``--take long``
(``LONG_FOUR_PHONES``: the same phones on 12 s of the same walk, rendered
once, about 30 minutes) gives them 10.15 s, 304 frames: the size of issue 20's
calibration cost target (4 cameras x 300 frames); its figures go to
``results/multiview_long.json``. ``--only-calibration``: the sync and
calibration figures alone (minutes), without the captures and fits.

Figures (baselines measured in the same run):

- ``sync_sound_max_frames`` / ``sync_motion_max_frames``: the largest error of
  ``core.multiview.sync.audio_offsets`` / ``motion_offsets`` over the views, in
  that view's own frames (targets 0.5 and 1).
- ``calib_<C>cam_centre_cm`` / ``_orient_deg``: ``calibrate_from_person`` on
  cameras 0..C-1 (2 and 4; the true intrinsics given, as ``bench accuracy``
  gives the true field of view), the largest camera error after the
  similarity that lays the cameras' centres and orientations together, each
  by its tolerance (``compare.rig_errors``; the target's alignment);
  ``calib_<C>cam_orientalign_*`` the same aligned by the orientations alone
  (as up to December 2026); ``_points_mm`` MediaPipe's keypoints triangulated
  by the calibration and put on the true rig by either similarity, against
  their triangulation by the true rig; ``_relative_deg_mean`` / ``_max`` the
  camera pairs' relative rotation errors (no alignment); ``_scale`` truth
  units per calibrated unit (the mannequin is about 1.62 m tall, the default
  height 1.70 m); ``_pitch_mean_deg`` / ``_pitch_max_deg`` the cameras' turns
  about their own x axes (signed mean, largest), ``_lift_mm`` the keypoints'
  mean offset along the true up (a shared pitch lifts the person) and
  ``_up_deg`` the calibrated up's error (``shared_tilt``);
  ``calib_<C>cam_cam<k>_*`` each camera's share (``camera_breakdown``: its centre and orientation errors,
  the centre's along the true up, its pitch, roll and yaw, its focal length's error, its keypoints'
  reprojection against the true rig's); ``calib_<C>cam_seconds`` its time (target
  20 s for 4 cameras x 300 frames: the time is also scaled to 300 frames;
  ``_cpu_seconds`` the process's CPU time, which a loaded machine inflates less);
  ``calib_<C>cam_defaultfov_*`` / ``_defaultfov_refined_*`` the same with the
  field-of-view default's intrinsics instead of the true ones (a video without
  lens metadata), the focal lengths kept or refined (``default_fov_figures``);
  ``calib_<C>cam_lagged_*`` / ``_lagged_timing_*`` the same with views 1.. a
  frame off their true offsets (``LAG_FRAMES``), the timing error not given
  or given (``lagged_figures``); ``calib_<C>cam_motion_*`` (same suffixes)
  with the offsets the person's motion gives (``motion_sync_figures``:
  capture-multi without sound); ``calib_<C>cam_sound_*`` with those the sound
  gives (``sync.audio_offsets``: capture-multi's default).
- ``calib_subset_<ids>_centre_cm`` / ``_orient_deg``: the same calibration (true offsets and intrinsics;
  ``calib_subset_sound_*`` / ``calib_subsets_sound_*`` at the sound's offsets) on every other rig the take
  holds (``SUBSETS``: the four pairs of neighbouring phones, 90 degrees apart, the four triples and all four;
  each on its first camera's clock), the worst camera after the joint similarity, and each camera's
  (``calib_subset_<ids>_cam<k>_*``, k the take's camera); a rig of three or four judged pair by pair
  (``calib_subset_<ids>_pair<ab>_*``, ``_pairs_mean_*``: each neighbouring pair in it alone, after its own
  similarity, like for like with ``calib_subsets_pairs_mean_*``, the four pairs calibrated alone);
  ``calib_subsets_mean_*`` / ``_worst_*`` over them. A change to the calibration is judged by these, not by
  cameras 0-1 and all four alone: on the take a weighting that helps those two rigs often costs the others as
  much.
- ``calib_<C>cam_person_*`` / ``calib_<C>cam_refined_*`` (C = 2, 4): what
  ``capture-multi --calibration person`` does after its pose stage
  (``core.capture_multi.multiview_motion``, in this process on the cached
  landmarks and true intrinsics), with the cameras as calibrated or also
  refined inside the fit (``core.fit.optimize.views.CameraRefinement`` with
  ``capture_multi.camera_refinement``'s priors, what ``capture-multi`` does): the take's
  cameras against the truth (``_centre_cm``, ``_orient_deg``), its offset-free
  PA-MPJPE over camera 0 alone's, its ``world_mpjpe_mm``, ``_w_mpjpe_mm``
  (W-MPJPE100), ``_skate_world_mm`` and ``_after_pose_seconds``; with the true
  offsets (the sound's) and, ``calib_<C>cam_motion_person_*`` /
  ``_motion_refined_*``, with the offsets the person's motion gives
  (capture-multi without sound, told a frame's timing error); ``calib_<C>cam_nolens_person_*`` /
  ``_nolens_refined_*`` (and ``_focal_error_max_pct``) with the field-of-view default's intrinsics, as for
  videos that state no lens, their focal lengths refined as capture-multi refines them (from 4 cameras on:
  ``capture_multi.focal_refinement``): what a phone video without metadata gets.
- per camera count C: ``python -m core capture-multi`` on cameras 0..C-1 (true
  offsets; the true rig, or the person's calibration with ``--calibration
  person``) against ``python -m core capture`` of camera 0 alone, both scored on
  camera 0's frames that every one of the C cameras films: offset-free limb
  PA-MPJPE and its ratio (targets 0.5 with 2 cameras, 0.4 with 4);
  ``world_mpjpe_mm`` (target 40 mm): the limb joints' error in camera 0's frame
  with no alignment to the body (a calibrated take's world is camera 0's, in
  metres; a take calibrated from the person is moved onto the true rig by the
  similarity of the two rigs' cameras, ``world_mpjpe_mm``, or by the
  orientations alone, ``world_mpjpe_orientalign_mm``); beside it, never instead,
  ``world_mpjpe_offset_free_mm``: the same once each joint's constant offset in
  the truth's body frame is taken off (``without_joint_offsets``: where a
  landmark sits against the rendered skeleton's joint, e.g. its hips); W-MPJPE100 and
  WA-MPJPE100 as GVHMR/WHAM define them (a similarity fitted per 100-frame
  window on its first two frames, or on the whole window: on a calibrated take
  the two-frame fit turns the frames' pose error into a tilt of the whole
  window, a 4.8-degree one over the 1.2 m the person walks with 4 cameras, so
  W-MPJPE100 reads 137 mm where the take is 48 mm off unaligned); true-contact
  foot skate in the take's world (target 3 mm);
  ``cost_ratio``: capture-multi's wall time over its own pose stage (the
  single-view pose stages of its videos, one after the other, timed in the same
  run from its JSON progress: paired, whatever the load; target 1.3);
  ``cost_ratio_cached_pose`` the same over the cached landmarks' pose seconds
  (another run, another load). The metrics are ``bench/accuracy.py``'s.
  Beside the world MPJPE, where it comes from (``world_breakdown``):
  ``world_offsets_<group>_mm``, how much each joint group's constant offsets in the
  body's frame (definitions: where a landmark sits against the rendered
  skeleton's joint) add to it (shoulders, elbows_wrists, hips, knees, ankles);
  ``world_root_mm``, how far each frame's mean joint is from the truth's;
  ``world_scale``, the body's size against the truth's; ``world_bones_<bone>_mm``,
  each bone's mean length less the truth's. And the fit against its own input
  (``triangulated_figures``): ``world_triangulated_mm``, MediaPipe's limb
  landmarks triangulated by the true rig against the truth, and
  ``world_fit_where_triangulated_mm``, the take's joints on the same joints and
  frames (``_offset_free_`` forms: each joint's own constant offset off).
"""

from __future__ import annotations

import argparse
import json
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
from groundtruth.multicam import TAKES, prepare_multiview  # noqa: E402
from groundtruth.truth import Clip  # noqa: E402


def run_engine_timed(python: str, args: list[str]) -> tuple[float, float]:
    """``python -m core ARGS`` with JSON progress: (wall seconds, seconds until its pose stage ended), both
    of one run, so their ratio is paired whatever the machine's load. The pose stage ends at the pose
    progress event that reaches its total (the last video's last frame), else at the fitting stage."""
    cmd = [python, "-m", "core", *args, "--progress", "json"]
    pose_end = float("nan")
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        with subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, text=True) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                done = (event.get("event") == "progress" and event.get("stage") == "pose"
                        and event.get("done", 0) >= event.get("total", 1)) or event.get("stage") == "fitting"
                if done and np.isnan(pose_end):
                    pose_end = time.perf_counter() - t0
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.read()[-3000:]}")
    return wall, pose_end


def true_rig(clip, cameras: int):
    """The true cameras 0..cameras-1 (``core.multiview.rig.CameraRig``)."""
    from core.multiview.rig import load_rig

    return sub_rig(load_rig(clip.rig_path), range(cameras))


def pose_sequences(clip) -> tuple[list, list[float]]:
    """Each view's landmarks (MediaPipe Holistic, the engine's defaults; cached beside the take) and pose seconds,
    with the left/right repairs every capture makes (``core.landmarks.repair_swaps``; the cache holds them after
    the whole-body one, which finds nothing more the second time)."""
    import mediapipe

    from core.capture import CaptureSettings, frame_range
    from core.pose_stage import Reporter, find_person
    from core.body.model import MannequinBody
    from core.landmarks import PoseSequence, mark_outside, repair_side_swaps, repair_swaps
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
        seq = PoseSequence(**{**fields, "fps": float(fields["fps"])})
        repair_swaps(seq)
        seqs.append(seq)
    return seqs, seconds


def _sound_offsets(clip) -> np.ndarray | None:
    """``sync.audio_offsets`` of every view (None when it gives no clear answer)."""
    from core.errors import MocapError
    from core.multiview import sync

    try:
        return np.asarray(sync.audio_offsets(list(clip.videos)), np.float64)
    except MocapError:
        return None


def _motion_offsets(seqs) -> np.ndarray | None:
    """``sync.motion_offsets`` of every view (None when it gives no clear answer)."""
    from core.errors import MocapError
    from core.multiview import sync

    try:
        return np.asarray(sync.motion_offsets(seqs), np.float64)
    except MocapError:
        return None


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


SUBSETS = ((0, 1), (1, 2), (2, 3), (0, 3), (0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3), (0, 1, 2, 3))
"""The take's rigs ``subset_figures`` calibrates: neighbouring phones (90 degrees apart), every triple, all four."""


def sub_rig(rig, cameras):
    """The rig of ``cameras`` (indices into ``rig``) alone, in the same world."""
    from core.multiview.rig import CameraRig

    pick = list(cameras)
    return CameraRig([rig.names[c] for c in pick], rig.K[pick], rig.R[pick], rig.t[pick], rig.image_sizes[pick],
                     rig.world_up)


PAIRS = tuple(s for s in SUBSETS if len(s) == 2)
"""The take's neighbouring pairs (90 degrees apart): ``pair_figures`` judges a larger rig's cameras by them."""


def pair_figures(estimate, reference, cameras) -> dict[str, tuple[float, float]]:
    """{``ab``: (centre cm, orientation degrees)}: a calibration of ``cameras`` (the take's numbering) judged
    as each neighbouring pair of ``PAIRS`` in it would be on its own: those two cameras alone, the worst after
    their own joint similarity (``compare.rig_errors``). Like for like with the pair calibrated alone: judged
    whole, a larger rig's figure grows with the cameras a single similarity must lay together (a pair's seven
    degrees of freedom absorb much of its two cameras' error), however good each camera is."""
    from core.multiview.compare import rig_errors

    out = {}
    for pair in PAIRS:
        if set(pair) <= set(cameras):
            where = [list(cameras).index(c) for c in pair]
            centre, orient, _ = rig_errors(sub_rig(estimate, where), sub_rig(reference, where), True)
            out["".join(map(str, pair))] = (round(100 * float(centre.max()), 2), round(float(orient.max()), 3))
    return out


def subset_figures(clip, seqs, offsets: np.ndarray | None = None, source: str = "") -> dict[str, float]:
    """``calibrate_from_person`` (true offsets, true intrinsics) on every rig of ``SUBSETS``, each on its first
    camera's clock: the worst camera's centre (cm) and orientation (degrees) error after the joint similarity,
    per rig and their mean and worst over the rigs; each camera's (``_cam<k>_*``); a rig of three or four
    judged pair by pair (``pair_figures``: ``_pair<ab>_*``, ``_pairs_mean_*``) beside the pairs calibrated
    alone (``calib_subsets_pairs_mean_*``). ``offsets`` (C,) seconds: the views synced so instead of at
    the true offsets, keys ``calib_subset_<source>_*`` / ``calib_subsets_<source>_*``."""
    from core.multiview import sync
    from core.multiview.calibrate import calibrate_from_person
    from core.multiview.compare import rig_errors

    full = true_rig(clip, len(clip.views))
    offsets = clip.timing["offsets_seconds"] if offsets is None else offsets
    tag = f"{source}_" if source else ""
    out: dict[str, float] = {}
    rows = []
    for subset in SUBSETS:
        first, rest = seqs[subset[0]], subset[1:]
        views = [first] + [sync.resample(seqs[c], float(offsets[c] - offsets[subset[0]]), first.fps, first.num_frames)
                           for c in rest]
        truth = sub_rig(full, subset)
        estimate = calibrate_from_person(views, list(truth.K))
        centre, orient, _ = rig_errors(estimate, truth, True)
        key = f"calib_subset_{tag}" + "".join(map(str, subset))
        if len(subset) > 2:
            pairs = pair_figures(estimate, truth, subset)
            for name, (centre_p, orient_p) in pairs.items():
                out[f"{key}_pair{name}_centre_cm"], out[f"{key}_pair{name}_orient_deg"] = centre_p, orient_p
            out[f"{key}_pairs_mean_centre_cm"] = round(float(np.mean([v[0] for v in pairs.values()])), 2)
            out[f"{key}_pairs_mean_orient_deg"] = round(float(np.mean([v[1] for v in pairs.values()])), 3)
        out[f"{key}_centre_cm"] = round(100 * float(centre.max()), 2)
        out[f"{key}_orient_deg"] = round(float(orient.max()), 3)
        for c, centre_c, orient_c in zip(subset, centre, orient):  # each camera's own (the take's numbering)
            out[f"{key}_cam{c}_centre_cm"] = round(100 * float(centre_c), 2)
            out[f"{key}_cam{c}_orient_deg"] = round(float(orient_c), 3)
        rows.append((out[f"{key}_centre_cm"], out[f"{key}_orient_deg"]))
    table = np.array(rows)
    alone = np.array([row for s, row in zip(SUBSETS, rows) if len(s) == 2])
    out.update({f"calib_subsets_{tag}pairs_mean_centre_cm": round(float(alone[:, 0].mean()), 2),
                f"calib_subsets_{tag}pairs_mean_orient_deg": round(float(alone[:, 1].mean()), 3)})
    out.update({f"calib_subsets_{tag}mean_centre_cm": round(float(table[:, 0].mean()), 2),
                f"calib_subsets_{tag}mean_orient_deg": round(float(table[:, 1].mean()), 3),
                f"calib_subsets_{tag}worst_centre_cm": round(float(table[:, 0].max()), 2),
                f"calib_subsets_{tag}worst_orient_deg": round(float(table[:, 1].max()), 3)})
    print(f"  calibration from the person on every rig of the take{f' (offsets from the {source})' * bool(source)} "
          "(worst camera, cm / degrees): "
          + ", ".join(f"{''.join(map(str, s))} {c:.1f} / {o:.2f}" for s, (c, o) in zip(SUBSETS, rows))
          + f"; mean {out[f'calib_subsets_{tag}mean_centre_cm']:.2f} / "
          f"{out[f'calib_subsets_{tag}mean_orient_deg']:.2f}")
    whole = "".join(map(str, SUBSETS[-1]))
    print(f"    judged pair by pair (each pair alone after its own similarity): all four "
          + ", ".join(f"{p} {out[f'calib_subset_{tag}{whole}_pair{p}_centre_cm']:.1f} / "
                      f"{out[f'calib_subset_{tag}{whole}_pair{p}_orient_deg']:.2f}"
                      for p in ("".join(map(str, q)) for q in PAIRS))
          + f" (mean {out[f'calib_subset_{tag}{whole}_pairs_mean_centre_cm']:.2f} / "
          f"{out[f'calib_subset_{tag}{whole}_pairs_mean_orient_deg']:.2f}); the pairs calibrated alone "
          f"mean {out[f'calib_subsets_{tag}pairs_mean_centre_cm']:.2f} / "
          f"{out[f'calib_subsets_{tag}pairs_mean_orient_deg']:.2f}")
    return out


def relative_rotation_errors(estimate, reference) -> np.ndarray:
    """Degrees, per camera pair: the error of camera b's rotation relative to camera a's (no alignment)."""
    from core.rotations import matrix_to_axis_angle

    C = estimate.num_cameras
    pairs = [(a, b) for a in range(C) for b in range(a + 1, C)]
    rel = [(estimate.R[b] @ estimate.R[a].T) @ (reference.R[b] @ reference.R[a].T).T for a, b in pairs]
    return np.degrees(np.linalg.norm(matrix_to_axis_angle(np.stack(rel)), axis=-1))


def keypoint_offsets(views, estimate, reference, joint: bool) -> np.ndarray:
    """(N, 3) metres, ``reference``'s world: MediaPipe's keypoints triangulated by ``estimate`` and put on
    ``reference``'s world by the rigs' similarity (``compare.rig_similarity``, ``joint`` or by the orientations
    alone), less the same keypoints triangulated by ``reference``: where the calibrated rig puts the person."""
    from core.multiview.compare import rig_similarity
    from core.multiview.triangulate import triangulate, view_keypoints

    uv, conf = view_keypoints(views)
    usable = np.where(np.nan_to_num(conf) >= 0.5, conf, 0.0)
    mine, _ = triangulate(uv, usable, estimate)
    true, _ = triangulate(uv, usable, reference)
    ok = np.isfinite(mine).all(-1) & np.isfinite(true).all(-1)
    s, Q, d = rig_similarity(estimate, reference, joint)
    return s * mine[ok] @ Q.T + d - true[ok]


def keypoint_offsets_mm(views, estimate, reference, joint: bool) -> float:
    """Mean distance (mm) of ``keypoint_offsets``."""
    return 1000.0 * float(np.linalg.norm(keypoint_offsets(views, estimate, reference, joint), axis=-1).mean())


def shared_tilt(views, estimate, reference) -> dict[str, float]:
    """How the calibrated rig is tilted against the true one after the joint similarity: ``pitch_deg`` each
    camera's turn about its own x axis (degrees, signed), ``pitch_mean_deg`` their mean (near the largest when
    every camera pitches the same way), ``lift_mm`` the keypoints' mean offset along the true up (a shared
    pitch lifts or sinks the person: turning every camera of a ring and raising what they film changes the
    pictures little) and ``up_deg`` the calibrated up's angle from the truth."""
    from core.multiview.compare import rig_similarity
    from core.rotations import matrix_to_axis_angle

    _, Q, _ = rig_similarity(estimate, reference)
    turn = np.einsum("cij,kj->cik", estimate.R, Q) @ np.transpose(reference.R, (0, 2, 1))  # camera frame
    pitch = np.degrees(matrix_to_axis_angle(turn))[:, 0]
    up = reference.world_up / np.linalg.norm(reference.world_up)
    lift = float(keypoint_offsets(views, estimate, reference, True).mean(0) @ up)
    cos = float(np.clip((Q @ estimate.world_up) @ up, -1.0, 1.0))
    return {"pitch_mean_deg": round(float(pitch.mean()), 3), "pitch_max_deg": round(float(np.abs(pitch).max()), 3),
            "lift_mm": round(1000.0 * lift, 1), "up_deg": round(float(np.degrees(np.arccos(cos))), 2)}


def camera_breakdown(views, estimate, reference) -> dict[str, float]:
    """Each camera's share of a calibration's error, after the joint similarity (``compare.rig_similarity``):
    ``cam<k>_centre_cm`` and ``_orient_deg`` (what ``rig_errors`` gives per camera), ``_up_cm`` its centre's
    error along the true up, ``_pitch_deg`` / ``_roll_deg`` its turn about its own x (sideways) and z (viewing)
    axes and ``_yaw_deg`` about the true up (signed), ``_focal_pct`` its focal length against the truth's (%,
    signed; 0 when the lens is given), ``_reprojection_px`` / ``_reprojection_true_px`` the median pixel
    error of its keypoints triangulated by the calibration / by the true rig and projected back
    (``compare.reprojection_errors``): a camera the keypoints fit better than the true one is pulled by their
    errors, not by a lack of them."""
    from core.multiview.compare import reprojection_errors, rig_errors, rig_similarity
    from core.multiview.triangulate import view_keypoints
    from core.rotations import matrix_to_axis_angle

    centre, orient, _ = rig_errors(estimate, reference, True)
    scale, Q, d = rig_similarity(estimate, reference)
    up = reference.world_up / np.linalg.norm(reference.world_up)
    shift = scale * estimate.centres() @ Q.T + d - reference.centres()
    turn = np.degrees(matrix_to_axis_angle(np.einsum("cij,kj->cik", estimate.R, Q)
                                           @ np.transpose(reference.R, (0, 2, 1))))  # about each camera's axes
    yaw = np.einsum("cji,cj->ci", reference.R, turn) @ up
    uv, conf = view_keypoints(views)
    mine, true = reprojection_errors(estimate, uv, conf), reprojection_errors(reference, uv, conf)
    focal = 100.0 * (estimate.K[:, 0, 0] / reference.K[:, 0, 0] - 1.0)
    out: dict[str, float] = {}
    for k in range(reference.num_cameras):
        out.update({f"cam{k}_centre_cm": round(100 * float(centre[k]), 2), f"cam{k}_orient_deg": round(float(orient[k]), 3),
                    f"cam{k}_up_cm": round(100 * float(shift[k] @ up), 2),
                    f"cam{k}_pitch_deg": round(float(turn[k, 0]), 3), f"cam{k}_roll_deg": round(float(turn[k, 2]), 3),
                    f"cam{k}_yaw_deg": round(float(yaw[k]), 3), f"cam{k}_focal_pct": round(float(focal[k]), 1),
                    f"cam{k}_reprojection_px": round(float(mine[k]), 2),
                    f"cam{k}_reprojection_true_px": round(float(true[k]), 2)})
        print(f"    camera {k}: centre {100 * centre[k]:.1f} cm ({100 * shift[k] @ up:+.1f} along up), orientation "
              f"{orient[k]:.2f} deg (pitch {turn[k, 0]:+.2f}, roll {turn[k, 2]:+.2f}, yaw {yaw[k]:+.2f}), focal "
              f"{focal[k]:+.1f}%, keypoints reprojected {mine[k]:.1f} px (true rig {true[k]:.1f})")
    return out


def calibration_figures(clip, seqs, cameras: int, motion_offsets: np.ndarray | None = None,
                        sound_offsets: np.ndarray | None = None) -> dict[str, float]:
    from core.multiview.calibrate import calibrate_from_person
    from core.multiview.compare import rig_errors

    sub = true_rig(clip, cameras)
    views = on_clock(clip, seqs, cameras)
    t0, cpu0 = time.perf_counter(), time.process_time()
    rig = calibrate_from_person(views, list(sub.K))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    key = f"calib_{cameras}cam"
    out: dict[str, float] = {}
    for joint, name in ((True, ""), (False, "_orientalign")):
        centre, orient, scale = rig_errors(rig, sub, joint)
        out.update({f"{key}{name}_centre_cm": round(100 * float(centre.max()), 2),
                    f"{key}{name}_orient_deg": round(float(orient.max()), 3),
                    f"{key}{name}_points_mm": round(keypoint_offsets_mm(views, rig, sub, joint), 1)})
        if joint:
            out[f"{key}_scale"] = round(scale, 4)
        print(f"  calibration from the person, {cameras} cameras, aligned by "
              f"{'centres and orientations' if joint else 'orientations alone'}: centres {np.round(100 * centre, 1)} "
              f"cm, orientations {np.round(orient, 2)} deg; keypoints {out[f'{key}{name}_points_mm']:.0f} mm "
              "from the true rig's")
    out.update({f"{key}_{name}": value for name, value in camera_breakdown(views, rig, sub).items()})
    tilt = shared_tilt(views, rig, sub)
    out.update({f"{key}_{name}": value for name, value in tilt.items()})
    print(f"  cameras' pitch about their own x axes mean {tilt['pitch_mean_deg']:+.2f} deg (largest "
          f"{tilt['pitch_max_deg']:.2f}), keypoints {tilt['lift_mm']:+.0f} mm along the true up; the rig's up "
          f"{tilt['up_deg']:.1f} deg off")
    relative = relative_rotation_errors(rig, sub)
    out.update({f"{key}_relative_deg_mean": round(float(relative.mean()), 3),
                f"{key}_relative_deg_max": round(float(relative.max()), 3),
                f"{key}_seconds": round(seconds, 2),
                f"{key}_seconds_per_300_frames": round(seconds * 300 / len(views[0].frame_indices), 2),
                f"{key}_cpu_seconds": round(cpu, 2)})
    print(f"  pairs' relative rotations {np.round(relative, 2)} deg; scale {out[f'{key}_scale']:.3f} (truth per "
          f"calibrated unit; the mannequin is about 1.62 m, the default 1.70); {seconds:.1f} s")
    out.update(default_fov_figures(views, sub, key))
    out.update(lagged_figures(clip, seqs, sub, key))
    if motion_offsets is not None:
        out.update(motion_sync_figures(clip, seqs, sub, key, motion_offsets))
    if sound_offsets is not None:
        out.update(motion_sync_figures(clip, seqs, sub, key, sound_offsets, "sound"))
    return out


LAG_FRAMES = (1.0, -1.0, 0.7)
"""Frames (each view's own) by which views 1.. are put off their true offsets in ``lagged_figures``: what the
motion sync can leave (within a frame on the take)."""


def lagged_figures(clip, seqs, truth, key: str) -> dict[str, float]:
    """The calibration with views 1.. resampled at offsets ``LAG_FRAMES`` off the truth (``_offset_figures``:
    ``_lagged``, ``_lagged_timing``)."""
    from core.multiview import sync

    base, fps = seqs[0], clip.timing["fps"]
    C = truth.num_cameras
    views = [base] + [sync.resample(s, float(o) + lag / f, base.fps, base.num_frames)
                      for s, o, lag, f in zip(seqs[1:C], clip.timing["offsets_seconds"][1:C], LAG_FRAMES, fps[1:C])]
    return _offset_figures(views, truth, key, "_lagged", f"offsets {LAG_FRAMES[:C - 1]} frames off",
                           np.r_[0.0, -np.asarray(LAG_FRAMES[:C - 1]) / fps[1:C]])


def motion_sync_figures(clip, seqs, truth, key: str, offsets: np.ndarray, source: str = "motion") -> dict[str, float]:
    """``lagged_figures`` with the offsets ``sync.motion_offsets`` found for the four videos (``_motion``,
    ``_motion_timing``): what ``capture-multi`` calibrates on without sound; ``source="sound"`` with those of
    ``sync.audio_offsets`` (``_sound``, ``_sound_timing``): what it calibrates on by default."""
    from core.multiview import sync

    base, C = seqs[0], truth.num_cameras
    views = [base] + [sync.resample(s, float(o), base.fps, base.num_frames) for s, o in zip(seqs[1:C], offsets[1:C])]
    what = "the offsets from the person's motion" if source == "motion" else "the offsets from the sound"
    return _offset_figures(views, truth, key, f"_{source}", what,
                           np.asarray(clip.timing["offsets_seconds"][:C]) - offsets[:C])


def _offset_figures(views, truth, key: str, name: str, what: str, missing: np.ndarray) -> dict[str, float]:
    """The calibration on ``views`` whose offsets are ``missing`` (C,) seconds short of the truth: as it is
    (``name``) and told a frame's timing error (``name + "_timing"``: fast keypoints count less): the largest
    camera error after the joint similarity."""
    from core.multiview.calibrate import calibrate_from_person
    from core.multiview.compare import rig_errors

    fps = float(views[0].fps)
    out: dict[str, float] = {}
    for timing_error, label, says in ((0.0, "", "as it is"), (1.0 / fps, "_timing", "timing error a frame")):
        centre, orient, _ = rig_errors(calibrate_from_person(views, list(truth.K), timing_error=timing_error),
                                       truth, True)
        out.update({f"{key}{name}{label}_centre_cm": round(100 * float(centre.max()), 2),
                    f"{key}{name}{label}_orient_deg": round(float(orient.max()), 3)})
        print(f"  calibration from the person with {what} ({np.round(missing * fps, 2)} frames short), {says}: "
              f"centres {np.round(100 * centre, 1)} cm, orientations {np.round(orient, 2)} deg")
    return out


def default_fov_figures(views, truth, key: str) -> dict[str, float]:
    """The calibration a video without lens metadata gets: every camera's intrinsics from the field-of-view
    default (``core.video.default_intrinsics``, 60 degrees across the width: on the take's portrait phone 23%
    short of its true focal length, on the widest 21% long), the focal lengths kept (``_defaultfov``, as
    ``capture-multi`` calibrates) or refined in the adjustment (``_defaultfov_refined``): the largest camera
    error after the joint similarity and each camera's focal length error (signed, %); per camera
    ``_cam<k>_centre_cm`` / ``_orient_deg`` / ``_focal_pct``."""
    from core.multiview.calibrate import calibrate_from_person
    from core.multiview.compare import rig_errors
    from core.video import default_intrinsics

    Ks = [default_intrinsics(int(w), int(h)) for w, h in truth.image_sizes]
    out: dict[str, float] = {}
    for refine, name in ((False, "_defaultfov"), (True, "_defaultfov_refined")):
        rig = calibrate_from_person(views, Ks, refine_focal=refine)
        centre, orient, _ = rig_errors(rig, truth, True)
        focal = 100.0 * (rig.K[:, 0, 0] / truth.K[:, 0, 0] - 1.0)
        out.update({f"{key}{name}_cam{k}_{what}": round(float(value[k]), digits)
                    for k in range(truth.num_cameras)
                    for what, value, digits in (("centre_cm", 100 * centre, 2), ("orient_deg", orient, 3),
                                                ("focal_pct", focal, 1))})
        out.update({f"{key}{name}_centre_cm": round(100 * float(centre.max()), 2),
                    f"{key}{name}_orient_deg": round(float(orient.max()), 3),
                    f"{key}{name}_focal_error_max_pct": round(float(np.abs(focal).max()), 1)})
        print(f"  calibration from the person with the field-of-view default, focal lengths "
              f"{'refined' if refine else 'kept'}: centres {np.round(100 * centre, 1)} cm, orientations "
              f"{np.round(orient, 2)} deg; focal lengths {np.round(focal, 1)}% off")
    return out


def camera0_rig(extrinsics: np.ndarray, K: np.ndarray, sizes: np.ndarray):
    """A rig (``CameraRig``) of cameras ``extrinsics`` (C, 4, 4) camera-from-world, moved so camera 0 is the world."""
    from core.multiview.rig import CameraRig

    rel = np.asarray(extrinsics, np.float64) @ np.linalg.inv(np.asarray(extrinsics, np.float64)[0])
    return CameraRig([f"cam{k}" for k in range(len(rel))], K, rel[:, :3, :3], rel[:, :3, 3], sizes, [0.0, -1.0, 0.0])


def joint_offsets(pred: np.ndarray, truth: np.ndarray, seen: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(the truth's body axes (T, 3, 3), ``world_metrics.body_axes``; each joint's mean error (J, 3) in them) of
    (T, J, 3) ``pred`` against ``truth``: the joints' constant offsets in the body frame, definitions and all;
    ``seen`` (T, J): the only frames each joint's mean is taken over (``pred`` may be NaN elsewhere)."""
    import world_metrics as wm

    B = wm.body_axes(truth)
    if seen is None:
        return B, np.einsum("tki,tji->tjk", B, pred - truth).mean(0)
    local = np.einsum("tki,tji->tjk", B, np.where(seen[..., None], pred - truth, 0.0))
    return B, local.sum(0) / np.maximum(seen.sum(0), 1)[:, None]


def without_joint_offsets(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(T, J, 3) ``pred`` less each joint's mean error in the truth's body frame (``world_metrics.body_axes``:
    left, up, forward), turned back into the frame of both: what is left of a world error once each joint's
    constant definition offset (a landmark's place against the rendered skeleton's joint, the same in every
    frame as the body turns) is taken off. Only the offsets' pattern goes, not their mean over the joints: a
    shift of the whole body stays an error even on a take whose body never turns (there a constant shift in the
    world is constant in the body frame too). Nothing is aligned: the body's place, drift, depth and every
    frame-to-frame error stay."""
    B, offsets = joint_offsets(pred, truth)
    offsets -= offsets.mean(0)
    return pred - np.einsum("tki,jk->tji", B, offsets)


JOINT_GROUPS = {"shoulders": (0, 1), "elbows_wrists": (2, 3, 4, 5), "hips": (6, 7), "knees": (8, 9), "ankles": (10, 11)}
"""The 12 limb joints (``core.skeleton.LIMB_JOINTS``' order: left, right) by the groups ``world_breakdown`` reports."""


def world_breakdown(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Where a world error comes from: (T, 12, 3) ``pred`` against ``truth`` (both metres, one frame, already aligned
    as ``world_mpjpe_mm`` aligns them).

    - ``offsets_<group>_mm``: how much the world MPJPE drops when that group's constant offsets in the truth's
      body frame (``world_metrics.body_axes``; a landmark's definition against the rendered skeleton's joint, the
      same in every frame as the body turns) are taken off, mean and all: the share of each group's definitions;
    - ``root_mm``: the body's place, the mean distance of each frame's mean joint from the truth's;
    - ``scale``: the size of the body against the truth's (least squares, each frame about its mean joint);
    - ``bones_<bone>_mm``: each bone's mean length (both sides) less the truth's.
    """
    pred, truth = np.asarray(pred, np.float64), np.asarray(truth, np.float64)
    B, offsets = joint_offsets(pred, truth)                                           # (12, 3) in the body frame
    world = float(np.linalg.norm(pred - truth, axis=-1).mean())
    out: dict[str, float] = {}
    for name, joints in JOINT_GROUPS.items():
        only = np.zeros_like(offsets)
        only[list(joints)] = offsets[list(joints)]
        rest = pred - np.einsum("tki,jk->tji", B, only)
        out[f"offsets_{name}_mm"] = 1000.0 * (world - float(np.linalg.norm(rest - truth, axis=-1).mean()))
    out["root_mm"] = 1000.0 * float(np.linalg.norm((pred - truth).mean(1), axis=-1).mean())
    p, q = pred - pred.mean(1, keepdims=True), truth - truth.mean(1, keepdims=True)
    out["scale"] = float((p * q).sum() / (q * q).sum())  # the body's size against the truth's (least squares)
    for bone, pairs in (("upper_arm", ((0, 2), (1, 3))), ("forearm", ((2, 4), (3, 5))), ("thigh", ((6, 8), (7, 9))),
                        ("shin", ((8, 10), (9, 11))), ("shoulder_width", ((0, 1),)), ("hip_width", ((6, 7),)),
                        ("trunk_side", ((0, 6), (1, 7)))):
        def length(x: np.ndarray) -> float:
            return float(np.mean([np.linalg.norm(x[:, a] - x[:, b], axis=-1).mean() for a, b in pairs]))
        out[f"bones_{bone}_mm"] = 1000.0 * (length(pred) - length(truth))
    return out


MEDIAPIPE_LIMBS = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
"""MediaPipe's body landmarks of the 12 limb joints (``core.skeleton.LIMB_JOINTS``' order)."""


def triangulated_limbs(clip, seqs, cameras: int) -> np.ndarray:
    """(T, 12, 3) MediaPipe's own limb landmarks of cameras 0..cameras-1 (true offsets, left and right settled by
    the cameras as ``capture-multi`` settles them) triangulated by the true rig (``core.multiview.triangulate``),
    camera 0's frame, metres, on camera 0's T video frames; NaN where fewer than two views agree."""
    import copy

    from core.landmarks import swap_sides
    from core.multiview.sides import side_flips
    from core.multiview.triangulate import triangulate, view_keypoints

    rig = true_rig(clip, cameras)
    base = [copy.deepcopy(s) for s in on_clock(clip, seqs, cameras)]
    for seq, flipped in zip(base, side_flips(base, rig)):
        swap_sides(seq, flipped)
    points, _ = triangulate(*view_keypoints(base), rig)
    out = np.full((len(clip.views[0].truth["limb_cam"]), 12, 3), np.nan)
    out[np.asarray(seqs[0].frame_indices)] = points[:, MEDIAPIPE_LIMBS] @ rig.R[0].T + rig.t[0]
    return out


def triangulated_figures(limbs: np.ndarray, fitted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """The fit against its own input: ``world_triangulated_mm``, the mean error (mm, nothing aligned) of MediaPipe's
    limb landmarks triangulated by the true rig (``limbs`` (T, 12, 3), ``triangulated_limbs``) against ``truth``
    over the joints and frames they triangulate, and ``world_fit_where_triangulated_mm`` the take's joints
    (``fitted``) on the same ones; ``_offset_free_`` both once each joint's own constant offset in the truth's body
    frame is taken off (mean and all: definitions, where a landmark or a fitted joint sits against the rendered
    skeleton's)."""
    seen = np.isfinite(limbs).all(-1)
    out: dict[str, float] = {}
    for name, pred in (("triangulated", limbs), ("fit_where_triangulated", fitted)):
        B, mean = joint_offsets(pred, truth, seen)
        error = np.where(seen[..., None], pred - truth, 0.0)
        free = error - np.einsum("tki,jk->tji", B, mean)
        out[f"world_{name}_mm"] = 1000.0 * float(np.linalg.norm(error, axis=-1)[seen].mean())
        out[f"world_{name}_offset_free_mm"] = 1000.0 * float(np.linalg.norm(free, axis=-1)[seen].mean())
    return out


def world_aligned(cams, limbs: np.ndarray, reference, joint: bool = True) -> np.ndarray:
    """(T, J, 3) ``limbs`` in the true rig's camera 0 frame, as ``world_mpjpe_mm`` judges them."""
    from core.multiview.compare import rig_similarity

    pred = np.asarray(limbs, np.float64)
    if cams is not None:
        C = cams.num_cameras
        est = camera0_rig(cams.extrinsics, cams.intrinsics, cams.image_size)
        ref = camera0_rig(reference.extrinsics()[:C], reference.K[:C], reference.image_sizes[:C])
        s, Q, d = rig_similarity(est, ref, joint)
        pred = s * pred @ Q.T + d
    return pred


def world_mpjpe_mm(cams, limbs: np.ndarray, truth: np.ndarray, reference, joint: bool = True,
                   offset_free: bool = False) -> float:
    """Mean error (mm) of (T, J, 3) joints ``limbs`` against ``truth``, both in camera 0's frame, metres.

    ``cams``: the take's cameras (``core.motion_cameras.MotionCameras``), put onto the true ones
    (``reference``, a ``CameraRig``) by the similarity of the two rigs (``core.multiview.compare.rig_similarity``,
    ``joint`` or by the orientations alone: from the cameras only, never the body), so a take fitted with the true rig is not aligned at all and one
    calibrated from the person is judged in the world its cameras imply. None (a one-camera take): not aligned,
    its depth is its own guess. ``offset_free``: each joint's constant offset in the truth's body frame taken off
    after that (``without_joint_offsets``), the figure beside the raw one, never instead of it.
    """
    pred = world_aligned(cams, limbs, reference, joint)
    if offset_free:
        pred = without_joint_offsets(pred, np.asarray(truth, np.float64))
    return 1000.0 * float(np.linalg.norm(pred - truth, axis=-1).mean())


def score(path: Path, clip0: Clip, first: int, reference=None) -> dict[str, float]:
    """accuracy.py's figures of the take at ``path`` on camera 0's frames from ``first``, and ``world_mpjpe_mm``
    against the true rig ``reference``."""
    truth = clip0.truth
    T = len(truth["limb_cam"])
    cut = {k: (v[first:] if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == T else v) for k, v in truth.items()}
    take = acc.read_take(path, T)
    for name in ("limbs", "limbs_2d", "feet", "valid"):
        setattr(take, name, getattr(take, name)[first:])
    view = Clip(clip0.spec, clip0.folder, clip0.video, cut, clip0.meta)
    from core.motion import read_motion

    ok = take.valid
    world = {}
    if reference is not None:
        cams, limbs, truth_limbs = read_motion(path).cameras, take.limbs[ok], cut["limb_cam"][ok]
        world = {f"world_mpjpe{name}_mm": world_mpjpe_mm(cams, limbs, truth_limbs, reference, joint, free)
                 for joint, free, name in ((True, False, ""), (False, False, "_orientalign"),
                                           (True, True, "_offset_free"))}
        aligned = world_aligned(cams, limbs, reference)
        world.update({f"world_{k}": v for k, v in world_breakdown(aligned, truth_limbs).items()})
    return {**acc.all_metrics(take.limbs, cut["limb_cam"], take.limbs_2d, cut["limb_2d"], take.valid),
            **acc.world_figures(take.limbs, take.valid, cut["limb_cam"], acc.truth_world(view, T - first), take),
            **world}


def person_fit_figures(clip, seqs, cameras: int, single: Path, tmp: Path,
                       motion_offsets: np.ndarray | None = None, lens_stated: bool = True) -> dict[str, float]:
    """What ``capture-multi --calibration person`` does after its pose stage (``multiview_motion``), in this
    process on the cached landmarks (true intrinsics; the true offsets, or ``motion_offsets`` from the person's
    motion told a frame's timing error as ``capture_multi`` tells it: keys ``calib_<C>cam_motion_*``), with the
    cameras as calibrated and refined in the fit (``core.capture_multi.camera_refinement``, what
    ``capture-multi`` does): the take's cameras against the truth, its offset-free PA-MPJPE over camera 0
    alone's, its world MPJPE, W-MPJPE100 and true-contact skate, and the seconds after the pose stage.
    ``lens_stated=False`` (keys ``calib_<C>cam_nolens_*``): the videos state no lens, as the rendered ones (and
    most phones' but Apple's): the field-of-view default's intrinsics, the focal lengths refined as
    ``capture-multi`` refines them (``capture_multi.focal_refinement``: from 4 cameras on)."""
    from core.capture import CaptureSettings, choose_body
    from core.capture_multi import MultiCaptureSettings, calibration_timing_error, camera_refinement, multiview_motion
    from core.fit.optimize import preset as fit_preset
    from core.motion import write_motion
    from core.multiview.compare import rig_errors
    from core.video import default_intrinsics

    timing, truth = clip.timing, true_rig(clip, cameras)
    first = int(np.ceil((timing["start_seconds"][:cameras].max() - timing["start_seconds"][0]) * timing["fps"][0] - 1e-9))
    body, _ = choose_body(CaptureSettings())
    one = score(single, clip.views[0], first, truth)["offset_free_pa_mpjpe_mm"]
    out: dict[str, float] = {}
    fps = [float(f) for f in timing["fps"][:cameras]]
    synced = motion_offsets is not None
    offsets = list(motion_offsets[:cameras] if synced else timing["offsets_seconds"][:cameras])
    Ks = list(truth.K) if lens_stated else [default_intrinsics(int(w), int(h)) for w, h in truth.image_sizes]
    for name, refine in (("person", None), ("refined", camera_refinement(None))):
        t0 = time.perf_counter()
        motion = multiview_motion(seqs[:cameras], Ks, fps, [float(o) for o in offsets],
                                  clip.videos[:cameras], MultiCaptureSettings(), given=None,
                                  chosen=fit_preset("balanced", device="cpu"), body=body, refine=refine,
                                  timing_error=calibration_timing_error(None if synced else offsets,
                                                                        seqs[:cameras]),
                                  guessed_lenses=[not lens_stated] * cameras)
        seconds = time.perf_counter() - t0
        path = tmp / f"{name}{cameras}{'motion' * synced}.npz"
        write_motion(path, motion)
        figures = score(path, clip.views[0], first, truth)
        cams = motion.cameras
        centre, orient, _ = rig_errors(camera0_rig(cams.extrinsics, cams.intrinsics, cams.image_size),
                                       camera0_rig(truth.extrinsics(), truth.K, truth.image_sizes))
        key = f"calib_{cameras}cam_{'motion_' * synced}{'nolens_' * (not lens_stated)}{name}"
        out.update({f"{key}_centre_cm": round(100 * float(centre.max()), 2),
                    f"{key}_orient_deg": round(float(orient.max()), 3),
                    f"{key}_offset_free_pa_ratio": round(figures["offset_free_pa_mpjpe_mm"] / one, 3),
                    f"{key}_world_mpjpe_mm": round(figures["world_mpjpe_mm"], 1),
                    f"{key}_world_mpjpe_orientalign_mm": round(figures["world_mpjpe_orientalign_mm"], 1),
                    f"{key}_world_mpjpe_offset_free_mm": round(figures["world_mpjpe_offset_free_mm"], 1),
                    f"{key}_w_mpjpe_mm": round(figures["w_mpjpe_mm"], 1),
                    f"{key}_skate_world_mm": round(figures["skate_world_mm"], 2),
                    f"{key}_after_pose_seconds": round(seconds, 1)})
        if not lens_stated:
            focal = 100.0 * (np.asarray(cams.intrinsics)[:, 0, 0] / truth.K[:, 0, 0] - 1.0)
            out[f"{key}_focal_error_max_pct"] = round(float(np.abs(focal).max()), 1)
        print(f"  {cameras} cameras calibrated from the person{' (offsets from the motion)' * synced}"
              f"{' (no lens stated: the default field of view)' * (not lens_stated)}, "
              f"{'refined in the fit' if refine else 'as calibrated'}:"
              f" centres {np.round(100 * centre, 1)} cm, orientations {np.round(orient, 2)} deg; offset-free PA "
              f"{figures['offset_free_pa_mpjpe_mm']:.1f} mm ({out[f'{key}_offset_free_pa_ratio']:.2f}x camera 0 "
              f"alone), world MPJPE {figures['world_mpjpe_mm']:.0f} mm ({figures['world_mpjpe_orientalign_mm']:.0f} "
              f"aligned by the orientations alone); {seconds:.0f} s after the pose stage")
    return out


def main(argv: list[str] | None = None) -> int:
    from core.multiview.rig import save_rig

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cameras", default="2,3,4", help="camera counts to fit (comma-separated, 2 to 4)")
    parser.add_argument("--preset", default="balanced", choices=("fast", "balanced", "accurate"))
    parser.add_argument("--calibration", default="truth", choices=("truth", "person"),
                        help="the fit's cameras: the true rig, or calibrated from the person by capture-multi")
    parser.add_argument("--take", default="short", choices=tuple(TAKES),
                        help="short: 5 s, all four phones together for 94 frames; long: 12 s, 304 frames (the "
                             "calibration cost target's size; rendered once, about 30 minutes)")
    parser.add_argument("--only-calibration", action="store_true",
                        help="the sync and calibration figures alone, without the captures and fits")
    args = parser.parse_args(argv)
    name = "multiview" if args.take == "short" else f"multiview_{args.take}"
    python = os.environ.get("BLENDER_MOCAP_ENGINE_PYTHON") or sys.executable
    counts = [int(c) for c in args.cameras.split(",")]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}")
    clip = prepare_multiview(TAKES[args.take], python=python)
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
    motion_offsets = _motion_offsets(seqs)
    sound_offsets = _sound_offsets(clip)
    for cameras in (2, 4):
        results.update(calibration_figures(clip, seqs, cameras, motion_offsets, sound_offsets))
    results.update(subset_figures(clip, seqs))
    if sound_offsets is not None:
        results.update(subset_figures(clip, seqs, sound_offsets, "sound"))
    if args.only_calibration:
        print(f"wrote {write_results(name, results)}")
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-multiview-") as tmp:
        single = Path(tmp) / "single.npz"
        hfov = float(clip.views[0].truth["hfov_degrees"])
        wall = acc.run_capture(python, clip.videos[0], single, hfov, args.preset)
        results["single_capture_seconds"] = round(wall, 1)
        for cameras in (2, 4):
            results.update(person_fit_figures(clip, seqs, cameras, single, Path(tmp)))
            if motion_offsets is not None:
                results.update(person_fit_figures(clip, seqs, cameras, single, Path(tmp), motion_offsets))
            results.update(person_fit_figures(clip, seqs, cameras, single, Path(tmp), lens_stated=False))
            write_results(name, results)
        for cameras in counts:
            first = int(np.ceil((starts[:cameras].max() - starts[0]) * fps[0] - 1e-9))
            out = Path(tmp) / f"multi{cameras}.npz"
            offsets = ",".join(f"{o:.6f}" for o in timing["offsets_seconds"][:cameras])
            extra = ["--calibration", str(save_rig(true_rig(clip, cameras), Path(tmp) / f"rig{cameras}.json"))] if args.calibration == "truth" else []
            wall, pose = run_engine_timed(python, ["capture-multi", *map(str, clip.videos[:cameras]), "--out",
                                                   str(out), "--offsets", offsets, "--preset", args.preset, *extra])
            reference = true_rig(clip, cameras)
            one, many = score(single, clip.views[0], first, reference), score(out, clip.views[0], first, reference)
            key = f"{cameras}cam"
            ratio = many["offset_free_pa_mpjpe_mm"] / one["offset_free_pa_mpjpe_mm"]
            results.update({
                f"{key}.scored_frames": int(len(clip.views[0].truth["limb_cam"]) - first),
                f"{key}.offset_free_pa_mpjpe_mm": round(many["offset_free_pa_mpjpe_mm"], 1),
                f"{key}.single_offset_free_pa_mpjpe_mm": round(one["offset_free_pa_mpjpe_mm"], 1),
                f"{key}.offset_free_pa_ratio": round(ratio, 3),
                f"{key}.pa_mpjpe_mm": round(many["pa_mpjpe_mm"], 1), f"{key}.single_pa_mpjpe_mm": round(one["pa_mpjpe_mm"], 1),
                f"{key}.w_mpjpe_mm": round(many["w_mpjpe_mm"], 1), f"{key}.single_w_mpjpe_mm": round(one["w_mpjpe_mm"], 1),
                f"{key}.wa_mpjpe_mm": round(many["wa_mpjpe_mm"], 1), f"{key}.single_wa_mpjpe_mm": round(one["wa_mpjpe_mm"], 1),
                f"{key}.world_mpjpe_mm": round(many["world_mpjpe_mm"], 1),
                f"{key}.world_mpjpe_orientalign_mm": round(many["world_mpjpe_orientalign_mm"], 1),
                f"{key}.world_mpjpe_offset_free_mm": round(many["world_mpjpe_offset_free_mm"], 1),
                f"{key}.single_world_mpjpe_mm": round(one["world_mpjpe_mm"], 1),
                f"{key}.skate_world_mm": round(many["skate_world_mm"], 2),
                f"{key}.single_skate_world_mm": round(one["skate_world_mm"], 2),
                f"{key}.capture_seconds": round(wall, 1), f"{key}.pose_stage_seconds": round(pose, 1),
                f"{key}.cost_ratio": round(wall / pose, 3),
                f"{key}.cost_ratio_cached_pose": round(wall / sum(pose_seconds[:cameras]), 3)})
            results.update({f"{key}.{k}": round(v, 4 if k == "world_scale" else 1) for k, v in many.items()
                            if k.startswith(("world_offsets_", "world_bones_")) or k in ("world_root_mm", "world_scale")})
            T = len(clip.views[0].truth["limb_cam"])
            take = acc.read_take(out, T)
            ok = take.valid & (np.arange(T) >= first)
            triangulated = triangulated_figures(triangulated_limbs(clip, seqs, cameras)[ok], take.limbs[ok],
                                                clip.views[0].truth["limb_cam"][ok])
            results.update({f"{key}.{k}": round(v, 1) for k, v in triangulated.items()})
            print(f"  {cameras} cameras ({results[f'{key}.scored_frames']} frames every camera films): offset-free "
                  f"PA-MPJPE {many['offset_free_pa_mpjpe_mm']:.1f} mm vs one camera {one['offset_free_pa_mpjpe_mm']:.1f}"
                  f" ({ratio:.2f}x), world MPJPE {many['world_mpjpe_mm']:.0f} vs {one['world_mpjpe_mm']:.0f} mm (each joint's "
                  f"constant offset taken off {many['world_mpjpe_offset_free_mm']:.0f}; W-MPJPE100 "
                  f"{many['w_mpjpe_mm']:.0f} vs {one['w_mpjpe_mm']:.0f}, WA {many['wa_mpjpe_mm']:.0f} vs "
                  f"{one['wa_mpjpe_mm']:.0f}), skate "
                  f"{many['skate_world_mm']:.1f} vs {one['skate_world_mm']:.1f} mm, {wall:.0f} s = "
                  f"{results[f'{key}.cost_ratio']:.2f}x its own pose stage ({pose:.0f} s)")
            print(f"    where its world MPJPE comes from: each joint group's constant offsets (definitions) "
                  + ", ".join(f"{g} {many[f'world_offsets_{g}_mm']:.1f}" for g in JOINT_GROUPS)
                  + f" mm; the body's place {many['world_root_mm']:.0f} mm, its scale {many['world_scale']:.3f}; "
                  f"bones against the truth's " + ", ".join(
                      f"{b} {many[f'world_bones_{b}_mm']:+.0f}" for b in ("upper_arm", "forearm", "thigh", "shin",
                                                                         "shoulder_width", "hip_width", "trunk_side"))
                  + " mm")
            print(f"    against its own input: MediaPipe's limb landmarks triangulated by the true rig "
                  f"{triangulated['world_triangulated_mm']:.1f} mm off, the fit "
                  f"{triangulated['world_fit_where_triangulated_mm']:.1f} on the same joints and frames (each joint's "
                  f"constant offset off: {triangulated['world_triangulated_offset_free_mm']:.1f} and "
                  f"{triangulated['world_fit_where_triangulated_offset_free_mm']:.1f})")
            write_results(name, results)
    path = write_results(name, results)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
