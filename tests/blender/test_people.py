"""A --people all capture in real Blender: one armature per person, named by ID, on one camera."""

from __future__ import annotations

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
