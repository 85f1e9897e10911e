"""Retarget benchmark (issue 18): pose fidelity per rig, planted feet, a round trip, and speed onto Rigify.

    ~/.local/share/blender-mocap/dev-env/bin/python bench/retarget.py [--frames 1800] [--baseline-frames 120]
    python3 dev.py bench retarget

All in one Blender process, on targets built by code (``tests/testdata/rigs.py``):
Rigify's human generated from its meta-rig, a Mixamo-named A-pose skeleton in
centimetres on a Y-up object, Unreal-named ones with 3, 2 and 4 spine bones
(twist bones, other proportions, random rolls).

- Fidelity: a 240-frame take (every body joint swinging, the root turning a
  full somersault, as the demo's flip) retargeted onto each rig; the angle
  between the source's and the target's evaluated joint directions
  (shoulder-elbow, elbow-wrist, hip-knee, knee-ankle, neck-head and the spine:
  segment by segment where it maps bone for joint, else mid-hip to neck), mean and max.
- Feet: the synthetic walk with sliding feet (``tests/testdata/walk.py``
  ``corrupt``) onto the Mixamo rig (legs 15% longer): the ankles' horizontal
  travel per frame during the source's contacts, target over source; and how
  much deeper under the floor (Z = 0) the target's ankle and toe bones go than the source's (mm).
- Round trip: the take onto the A-pose Mixamo rig and back onto a copy of our
  armature: the largest joint rotation difference (degrees).
- Speed: ``--frames`` frames onto Rigify (``retarget_onto``: probing the
  rig's effective parents, the solve and bulk keys; timed twice), against the per-frame baseline people use: Copy Rotation/Location
  constraints to the source and ``bpy.ops.nla.bake`` with visual keying,
  timed on ``--baseline-frames`` frames and scaled linearly to ``--frames``.

Prints ratios and writes bench/results/retarget.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from _results import write_results  # noqa: E402
from extension_package import extension  # noqa: E402

import bpy  # noqa: E402

from testdata import rigs  # noqa: E402

RIGS = {
    "mixamo": dict(namer=rigs.mixamo_name, legs=1.15, arms=0.9, cm=True),
    "unreal": dict(namer=rigs.unreal_name, spine=3, legs=0.9, torso=1.1, twist=True),
    "unreal_2spine": dict(namer=rigs.unreal_name, spine=2, legs=1.05),
    "unreal_4spine": dict(namer=rigs.unreal_name, spine=4, torso=0.9),
}


def smooth_motion(pkg, frames: int, seed: int = 0, fps: float = 30.0):
    """Every body and finger joint swinging smoothly (about 0.35 rad), the root turning a full somersault."""
    core = pkg.core
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / fps
    phase = rng.uniform(0, 2 * np.pi, (2, 55, 3))
    freq = rng.uniform(0.3, 1.2, (2, 55, 3))
    poses = 0.25 * (np.sin(2 * np.pi * freq[0] * t[:, None, None] + phase[0])
                    + np.sin(2 * np.pi * freq[1] * t[:, None, None] + phase[1]))
    flip = 2 * np.pi * t / t[-1]
    rot = core.rotations.axis_angle_to_matrix(np.stack([np.pi / 2 + flip, 0 * flip, 0 * flip], axis=1))
    poses[:, 0] = core.rotations.matrix_to_axis_angle(rot)
    trans = np.stack([0.3 * np.sin(t), 0.5 * t, 0.2 + 0.3 * np.abs(np.sin(np.pi * t / t[-1]))], axis=1)
    rest = core.body.mannequin.rest_joints()
    return core.motion.Motion(
        poses=poses.reshape(frames, -1).astype(np.float32), trans=trans.astype(np.float32),
        betas=np.zeros(5, np.float32), fps=fps, frame_indices=np.arange(frames),
        confidence=np.ones(frames, np.float32), bridged=np.zeros(frames, bool),
        reprojection_error=np.zeros(frames, np.float32), expression=np.zeros((frames, 0), np.float32),
        world_up=np.array([0.0, 0.0, 1.0]), body_model="mannequin", rest_joints=rest)


def _take(pkg, motion, name: str):
    options = pkg.blender_mocap.settings.BuildOptions(ground=False)
    return pkg.blender_mocap.scene.build_take(bpy.context.scene, motion, name=name, options=options)


def fidelity(pkg, apply, targets: dict, frames: int) -> dict[str, float]:
    take = _take(pkg, smooth_motion(pkg, frames), "flip")
    source = apply.source_from_rig(take.armature, {j: j for j in pkg.core.skeleton.JOINT_NAMES})
    out = {}
    for name, obj in targets.items():
        result = apply.retarget_onto(obj, source, "flip", apply.RetargetSettings(preset="auto"))
        one_to_one = name in ("mixamo", "unreal")
        measure = rigs.RIGIFY_MEASURE if name == "rigify" else rigs.measured_bones(result.mapping, one_to_one)
        errors = rigs.direction_errors(take, obj, measure)
        out[f"fidelity_{name}_mean_deg"] = round(float(errors.mean()), 4)
        out[f"fidelity_{name}_max_deg"] = round(float(errors.max()), 4)
        print(f"  {name:14s} joint directions: mean {errors.mean():.3f} deg, max {errors.max():.3f} deg "
              f"({result.mapped_by}, {len(result.solved.bones)} bones keyed)")
    return out


def feet(pkg, apply, target) -> dict[str, float]:
    from testdata.walk import corrupt, synthetic_walk

    motion, _ = synthetic_walk(frames=150)
    take = _take(pkg, corrupt(motion, slide_mm=4.0, jitter_rad=0.0, trans_jitter_mm=0.0), "walk")
    source = apply.source_from_rig(take.armature, {j: j for j in pkg.core.skeleton.JOINT_NAMES})
    result = apply.retarget_onto(target, source, "walk")
    src_a, tgt_a = rigs.ankle_tracks(take.armature, target, result.mapping)
    skate_src, skate_tgt = rigs.skate(src_a, tgt_a, pkg.blender_mocap.retarget.feet.contacts)
    low_src, low_tgt = _lowest_feet(take.armature, target, result.mapping)
    added = max(0.0, -low_tgt) - max(0.0, -low_src)
    print(f"  feet: skate during contacts {skate_tgt * 1000:.2f} mm/frame on the target vs {skate_src * 1000:.2f} "
          f"on the source: ratio {skate_tgt / skate_src:.3f} (legs {result.solved.scale:.2f}x the source's); "
          f"lowest foot point {low_tgt * 1000:.1f} mm above the floor (source {low_src * 1000:.1f} mm): "
          f"ground penetration added {added * 1000:.1f} mm")
    return {"feet_skate_source_mm_per_frame": round(skate_src * 1000, 3),
            "feet_skate_target_mm_per_frame": round(skate_tgt * 1000, 3),
            "feet_skate_ratio": round(skate_tgt / skate_src, 4), "feet_penetration_added_mm": round(added * 1000, 2),
            "feet_lowest_target_mm": round(low_tgt * 1000, 2), "feet_lowest_source_mm": round(low_src * 1000, 2),
            "feet_frames_held": int(sum(result.solved.planted)), "feet_frames": len(src_a)}


def _lowest_feet(source_rig, target, mapping: dict[str, str]) -> tuple[float, float]:
    """Lowest world height (metres) of the ankle and toe bones (heads and tails) over the scene's frames:
    (source, target); below 0 is under the floor."""
    feet = ("left_ankle", "right_ankle", "left_foot", "right_foot")
    bones = {j: b for b, j in mapping.items() if j in feet}
    scene = bpy.context.scene
    low = [np.inf, np.inf]
    for frame in range(scene.frame_start, scene.frame_end + 1):
        scene.frame_set(frame)
        for k, (obj, names) in enumerate(((source_rig, feet), (target, tuple(bones.values())))):
            M = np.array(obj.matrix_world)
            for n in names:
                pb = obj.pose.bones[n]
                for p in (pb.head, pb.tail):
                    low[k] = min(low[k], float((M @ np.append(np.array(p), 1.0))[2]))
    return low[0], low[1]


def round_trip(pkg, apply, target, frames: int) -> dict[str, float]:
    take = _take(pkg, smooth_motion(pkg, frames, seed=4), "trip")
    source = apply.source_from_rig(take.armature, {j: j for j in pkg.core.skeleton.JOINT_NAMES})
    apply.retarget_onto(target, source, "trip", apply.RetargetSettings(plant_feet=False))
    back = take.armature.copy()
    back.data = take.armature.data.copy()
    back.animation_data_clear()
    bpy.context.scene.collection.objects.link(back)
    mapping = apply.choose_mapping(target, apply.RetargetSettings(preset="mixamo"))[1]
    apply.retarget_onto(back, apply.source_from_rig(target, mapping), "back", apply.RetargetSettings(plant_feet=False))
    scene = bpy.context.scene
    worst = []
    for frame in range(scene.frame_start, scene.frame_end + 1):
        scene.frame_set(frame)
        for j in sorted(set(mapping.values())):
            a = np.array(take.armature.pose.bones[j].matrix)[:3, :3]
            b = np.array(back.pose.bones[j].matrix)[:3, :3]
            worst.append(np.degrees(np.arccos(np.clip((np.trace(a.T @ b) - 1) / 2, -1, 1))))
    print(f"  round trip through the A-pose rig: joint rotations within {max(worst):.4f} deg "
          f"(mean {np.mean(worst):.4f}) on {len(set(mapping.values()))} joints")
    return {"round_trip_max_deg": round(float(max(worst)), 5), "round_trip_mean_deg": round(float(np.mean(worst)), 5)}


def _bake_baseline(pkg, apply, take, target, frames: int) -> float:
    """Seconds for the per-frame way: constraints to the source's bones, then nla.bake with visual keying."""
    mapping = apply.choose_mapping(target, apply.RetargetSettings(preset="rigify"))[1]
    for bone, joint in mapping.items():
        pb = target.pose.bones[bone]
        rot = pb.constraints.new('COPY_ROTATION')
        rot.target, rot.subtarget = take.armature, joint
        if joint == "pelvis":
            loc = pb.constraints.new('COPY_LOCATION')
            loc.target, loc.subtarget = take.armature, joint
    for obj in bpy.context.view_layer.objects:
        obj.select_set(obj == target)
    bpy.context.view_layer.objects.active = target
    bpy.ops.object.mode_set(mode='POSE')
    for pb in target.pose.bones:  # selection is the pose bone's from Blender 5.0, the bone's before
        holder = pb if hasattr(pb, "select") else pb.bone
        holder.select = pb.name in mapping
    start = time.perf_counter()
    bpy.ops.nla.bake(frame_start=1, frame_end=frames, only_selected=True, visual_keying=True,
                     clear_constraints=True, bake_types={'POSE'})
    seconds = time.perf_counter() - start
    bpy.ops.object.mode_set(mode='OBJECT')
    return seconds


def speed(pkg, apply, rigify, frames: int, baseline_frames: int) -> dict[str, float]:
    take = _take(pkg, smooth_motion(pkg, frames, seed=2), "long")
    source = apply.source_from_rig(take.armature, {j: j for j in pkg.core.skeleton.JOINT_NAMES})
    start = time.perf_counter()
    result = apply.retarget_onto(rigify, source, "long", apply.RetargetSettings(preset="rigify"))
    cold = time.perf_counter() - start
    start = time.perf_counter()
    apply.retarget_onto(rigify, source, "long", apply.RetargetSettings(preset="rigify"))
    warm = time.perf_counter() - start
    rigify.animation_data.action = None
    baseline = _bake_baseline(pkg, apply, take, rigify, baseline_frames) * frames / baseline_frames
    bones = len(result.solved.bones)
    print(f"  speed: {bones} bones x {frames} frames onto Rigify: {cold:.2f} s, "
          f"{warm:.2f} s again; per-frame nla.bake {baseline:.1f} s (timed on {baseline_frames} frames, scaled): "
          f"{baseline / cold:.0f}x / {baseline / warm:.0f}x")
    return {"speed_bones": bones, "speed_frames": frames, "speed_first_s": round(cold, 3),
            "speed_again_s": round(warm, 3), "speed_baseline_bake_s": round(baseline, 2),
            "speed_baseline_frames_timed": baseline_frames, "speed_ratio_first": round(baseline / cold, 1),
            "speed_ratio_again": round(baseline / warm, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=1800, help="frames of the speed run (default 1800)")
    parser.add_argument("--baseline-frames", type=int, default=120,
                        help="frames the nla.bake baseline is timed on, scaled to --frames (default 120)")
    parser.add_argument("--fidelity-frames", type=int, default=240)
    args = parser.parse_args(argv)
    pkg = extension("core.motion", "core.body.mannequin", "blender_mocap.scene", "blender_mocap.settings",
                    "blender_mocap.retarget.apply", "blender_mocap.retarget.feet")
    apply = pkg.blender_mocap.retarget.apply
    print(f"retarget bench: Blender {bpy.app.version_string}, {platform.machine()}, {os.cpu_count()} cores")
    bpy.ops.wm.read_factory_settings(use_empty=True)
    targets = {}
    for seed, (name, spec) in enumerate(RIGS.items()):
        spec = dict(spec)
        cm = spec.pop("cm", False)
        targets[name] = rigs.build_rig(name, rigs.humanoid(spec.pop("namer"), **spec), seed=seed,
                                       centimetres_y_up=cm)
    targets["rigify"] = rigs.rigify_human()
    figures: dict[str, float] = {"fidelity_frames": args.fidelity_frames}
    figures.update(fidelity(pkg, apply, targets, args.fidelity_frames))
    figures.update(feet(pkg, apply, targets["mixamo"]))
    figures.update(round_trip(pkg, apply, targets["mixamo"], 120))
    figures.update(speed(pkg, apply, targets["rigify"], args.frames, args.baseline_frames))
    path = write_results("retarget", figures)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
