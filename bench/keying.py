"""Keying benchmark: 55 bones x 1,800 frames written in bulk vs a keyframe_insert loop.

    ~/.local/share/blender-mocap/dev-env/bin/python bench/keying.py [--frames N] [--baseline-frames N]
    python3 dev.py bench keying

Both write the same keys (4 quaternion channels per bone + the root's
location, LINEAR) into a fresh action on the same armature, in one process.
The bulk path is ``keying.key_bones`` (``keyframe_points.add`` +
``foreach_set`` through the action slot's channelbag on Blender 4.4+/5.x);
the baseline sets the pose and calls ``pose_bone.keyframe_insert`` per bone
and frame, as naive add-ons do. ``--baseline-frames`` times the baseline on
fewer frames and scales it linearly (it is linear: one call per key set); by
default it runs on all frames (about a minute here). Prints the ratio and
writes a flat JSON to bench/results/keying.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _results import write_results  # noqa: E402
from extension_package import extension  # noqa: E402


def _rig(pkg, bpy):
    """A 55-bone SMPL-X armature (one-frame take, ground and camera off)."""
    core = pkg.core
    rest = np.zeros((55, 3))
    for j, p in enumerate(core.skeleton.PARENTS):
        rest[j] = (rest[p] if p >= 0 else 0.0) + np.array([0.03 * ((j % 3) - 1), 0.08, 0.01 * (j % 2)])
    motion = core.motion.Motion(
        poses=np.zeros((1, 165), np.float32), trans=np.zeros((1, 3), np.float32), betas=np.zeros(0, np.float32),
        fps=30.0, frame_indices=np.zeros(1, np.int64), confidence=np.ones(1, np.float32),
        bridged=np.zeros(1, bool), reprojection_error=np.zeros(1, np.float32),
        expression=np.zeros((1, 0), np.float32), body_model="mannequin", rest_joints=rest.astype(np.float32))
    options = pkg.blender_mocap.settings.BuildOptions(ground=False)
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="bench", options=options)
    return take.armature


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1800)
    parser.add_argument("--baseline-frames", type=int, default=0, help="0 = all frames")
    args = parser.parse_args(argv)
    import bpy

    pkg = extension("core.motion", "core.skeleton", "blender_mocap.keying", "blender_mocap.scene")
    keying = pkg.blender_mocap.keying
    bpy.ops.wm.read_factory_settings(use_empty=True)
    arm = _rig(pkg, bpy)
    names = [b.name for b in arm.data.bones]
    J, T = len(names), args.frames
    rng = np.random.default_rng(0)
    quats = rng.normal(size=(T, J, 4))
    quats /= np.linalg.norm(quats, axis=-1, keepdims=True)
    root = rng.normal(size=(T, 3)) * 0.1
    frames = np.arange(1, T + 1, dtype=np.float64)

    start = time.perf_counter()
    bulk_action = keying.key_bones(arm, "bulk", frames, quats, names, root_locations=root,
                                   root_bone_name=names[0])
    bulk = time.perf_counter() - start
    keys = sum(len(fc.keyframe_points) for fc in
               (bulk_action.layers[0].strips[0].channelbag(arm.animation_data.action_slot).fcurves
                if keying.SLOTTED else getattr(bulk_action, "fcurves")))

    base_frames = min(T, args.baseline_frames) if args.baseline_frames > 0 else T
    arm.animation_data.action = bpy.data.actions.new("insert")
    quats = pkg.core.rotations.quat_sign_continuous(quats)
    bones = [arm.pose.bones[n] for n in names]
    start = time.perf_counter()
    for t in range(base_frames):
        frame = float(frames[t])
        for j, pose_bone in enumerate(bones):
            pose_bone.rotation_quaternion = quats[t, j]
            pose_bone.keyframe_insert("rotation_quaternion", frame=frame)
        bones[0].location = root[t]
        bones[0].keyframe_insert("location", frame=frame)
    measured = time.perf_counter() - start
    baseline = measured * T / base_frames

    ratio = baseline / bulk
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, Blender {bpy.app.version_string}")
    print(f"sizes: {J} bones x {T} frames = {keys} keys in {J * 4 + 3} F-curves")
    print(f"bulk (keyframe_points.add + foreach_set): {bulk:.3f} s  (target < 1 s)")
    extrap = "" if base_frames == T else f" (measured on {base_frames} frames, scaled)"
    print(f"keyframe_insert loop: {baseline:.2f} s{extrap}")
    print(f"ratio: {ratio:.0f}x faster  (target >= 100x)")
    out = write_results("keying", {
        "bones": J, "frames": T, "keys": keys, "fcurves": J * 4 + 3,
        "bulk_seconds": bulk, "keyframe_insert_seconds": baseline,
        "keyframe_insert_measured_frames": base_frames, "ratio": ratio,
        "cpu_count": os.cpu_count() or 0,
    })
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
