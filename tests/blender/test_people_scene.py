"""A --people all capture in real Blender: one armature per person, named by ID, on one camera."""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np
import pytest
from readback import project_blender, world_heads


def _two_people(motion_factory):
    first = motion_factory(6, seed=1)
    second = motion_factory(9, seed=2, frame_start=3)
    second.trans = (second.trans + np.array([1.2, 0.1, 1.5], np.float32)).astype(np.float32)  # further right, behind
    return first, second


def test_a_two_person_take_builds_two_armatures_on_one_camera(pkg, motion_factory, fk):
    people = pkg.blender_mocap.people
    first, second = _two_people(motion_factory)
    takes = people.build_people(bpy.context, [first, second])
    scene = bpy.context.scene
    armatures = sorted(o.name for o in scene.objects if o.type == 'ARMATURE')
    assert armatures == ["Person 1", "Person 2"] == [t.armature.name for t in takes]
    cameras = [o for o in scene.objects if o.type == 'CAMERA']
    assert cameras == [takes[0].camera] and scene.camera == takes[0].camera and takes[1].camera is None
    assert (scene.frame_start, scene.frame_end) == (1, 12)  # both people's frames
    # Each person's joints, seen through the one camera, land on the pixels their own file projects them to.
    A = pkg.blender_mocap.convert.blender_from_world(first.world_up)
    for motion, take in zip((first, second), takes):
        joints = fk(motion)
        K = motion.camera_intrinsics
        for t in (0, motion.num_frames - 1):
            scene.frame_set(int(motion.frame_indices[t]) + 1)
            heads = world_heads(take.armature, motion.joint_names)
            for j in (0, 7, 8):  # pelvis, ankles
                uvw = K @ joints[t, j]
                expected = uvw[:2] / uvw[2]
                np.testing.assert_allclose(project_blender(scene, takes[0].camera, heads[j]), expected, atol=0.5)
                np.testing.assert_allclose(heads[j], A @ joints[t, j] - [0, 0, takes[0].ground_offset], atol=1e-4)


def test_a_person_that_cannot_be_built_leaves_the_scene_as_it_was(pkg, motion_factory):
    first, second = _two_people(motion_factory)
    second.poses[2, 5] = np.nan
    before = {kind: len(getattr(bpy.data, kind)) for kind in ("objects", "armatures", "actions", "collections",
                                                              "cameras", "meshes")}
    with pytest.raises(pkg.core.errors.MocapError):
        pkg.blender_mocap.people.build_people(bpy.context, [first, second])
    after = {kind: len(getattr(bpy.data, kind)) for kind in before}
    assert after == before


def test_person_files_are_found_by_id(pkg, tmp_path):
    for name in ("take.person10.npz", "take.person2.npz", "take.person1.npz", "other.person1.npz", "take.npz"):
        (tmp_path / name).write_bytes(b"")
    found = pkg.blender_mocap.people.person_files(tmp_path / "take.npz")
    assert [p.name for p in found] == ["take.person1.npz", "take.person2.npz", "take.person10.npz"]


def test_the_batch_writes_everyone_into_one_blend_and_each_person_into_their_own_files(pkg, motion_factory, tmp_path):
    """A ``people = "all"`` batch: the engine's person files (a stand-in engine writes them) become one .blend
    with ``Person 1`` and ``Person 2`` on one camera, and ``<stem>.person<N>.npz`` each; report.json says so."""
    import json

    batch, write_motion = pkg.blender_mocap.batch, pkg.core.motion.write_motion
    video = tmp_path / "street.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    people = _two_people(motion_factory)

    def engine(python, video_path, out, args, on_event=None):
        assert args[args.index("--people") + 1] == "all"
        for k, motion in enumerate(people):
            write_motion(out.with_name(f"{out.stem}.person{k + 1}.npz"), motion)
        return out

    settings = batch.BatchSettings(outputs=("blend", "npz"), people="all", progress="json")
    code, report_path = batch.run_batch([video], tmp_path / "out", settings, run_engine=engine)
    assert code == 0
    report = json.loads(report_path.read_text())["videos"][0]
    assert report["status"] == "done", report
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [
        "report.json", "street.blend", "street.person1.npz", "street.person2.npz"]
    assert not list((out / ".blender-mocap").glob("*.npz"))  # the engine's files are gone
    assert set(report["outputs"]) == {"blend", "person1.npz", "person2.npz"}
    bpy.ops.wm.open_mainfile(filepath=str(out / "street.blend"))
    assert sorted(o.name for o in bpy.data.objects if o.type == 'ARMATURE') == ["Person 1", "Person 2"]
    assert len([o for o in bpy.data.objects if o.type == 'CAMERA']) == 1


def test_a_batch_rerun_skips_a_people_all_video_whose_files_are_all_there(pkg, motion_factory, tmp_path):
    """The second run of the same ``people = "all"`` batch captures nothing again: its outputs are
    ``<stem>.person<N>.npz``, not ``<stem>.npz``; with one of them gone, it captures again."""
    import json

    batch, write_motion = pkg.blender_mocap.batch, pkg.core.motion.write_motion
    video = tmp_path / "street.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    people = _two_people(motion_factory)
    runs: list[str] = []

    def engine(python, video_path, out, args, on_event=None):
        runs.append(video_path)
        for k, motion in enumerate(people):
            write_motion(out.with_name(f"{out.stem}.person{k + 1}.npz"), motion)
        return out

    settings = batch.BatchSettings(outputs=("blend", "npz"), people="all", progress="json")
    out = tmp_path / "out"
    assert batch.run_batch([video], out, settings, run_engine=engine)[0] == 0
    code, report_path = batch.run_batch([video], out, settings, run_engine=engine)
    assert code == 0 and len(runs) == 1
    report = json.loads(report_path.read_text())["videos"][0]
    assert report["status"] == "skipped"
    assert {k: Path(v).name for k, v in report["outputs"].items()} == {
        "blend": "street.blend", "person1.npz": "street.person1.npz", "person2.npz": "street.person2.npz"}
    (out / "street.person2.npz").unlink()
    assert batch.run_batch([video], out, settings, run_engine=engine)[0] == 0
    assert len(runs) == 2 and (out / "street.person2.npz").is_file()
