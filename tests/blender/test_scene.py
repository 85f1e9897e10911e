"""Building a take in real Blender: what a user sees after a capture."""

from __future__ import annotations

import time

import bpy
import numpy as np
import pytest
from readback import data_counts, evaluated_vertices, project_blender, world_heads


def _fcurves(take):
    """All F-curves of the take's action for the armature's slot."""
    action = take.armature.animation_data.action
    if hasattr(action, "layers") and bpy.app.version >= (4, 4, 0):
        slot = take.armature.animation_data.action_slot
        return list(action.layers[0].strips[0].channelbag(slot).fcurves)
    return list(action.fcurves)


def test_blender_from_world_maps_up_to_z(pkg):
    convert = pkg.blender_mocap.convert
    assert np.array_equal(convert.blender_from_world(np.array([0.0, -1.0, 0.0])),
                          np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]))
    assert np.array_equal(convert.blender_from_world(np.array([0.0, 0.0, 1.0])), np.eye(3))
    up = np.array([0.3, -0.9, 0.2])
    R = convert.blender_from_world(up)
    np.testing.assert_allclose(R @ (up / np.linalg.norm(up)), [0, 0, 1], atol=1e-12)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    fps, base = convert.blender_fps_from_rate(29.97)
    assert fps == 30 and fps / base == pytest.approx(29.97)


def test_every_bone_is_keyed_on_every_frame(pkg, motion_factory):
    motion = motion_factory(7, frame_start=10)
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="jump")
    assert take.action.name == "jump" and take.collection.name == "jump"
    assert sorted(b.name for b in take.armature.data.bones) == sorted(motion.joint_names)
    curves = {(fc.data_path, fc.array_index): fc for fc in _fcurves(take)}
    expected = np.arange(11, 18, dtype=np.float64)  # video frame f -> scene frame f + 1
    for name in motion.joint_names:
        for i in range(4):
            fc = curves[(f'pose.bones["{name}"].rotation_quaternion', i)]
            frames = np.array([k.co[0] for k in fc.keyframe_points])
            np.testing.assert_array_equal(frames, expected)
            assert {k.interpolation for k in fc.keyframe_points} == {'LINEAR'}
            assert fc.group is not None and fc.group.name == name
    for i in range(3):
        assert len(curves[('pose.bones["pelvis"].location', i)].keyframe_points) == 7
    assert len(curves) == 55 * 4 + 3 + 1  # + the per-frame confidence curve
    scene = bpy.context.scene
    assert (scene.frame_start, scene.frame_end) == (11, 17) == take.frame_range
    assert scene.render.fps / scene.render.fps_base == pytest.approx(30.0)
    assert all(pb.rotation_mode == 'QUATERNION' for pb in take.armature.pose.bones)


@pytest.mark.parametrize("world_up", [(0.0, -1.0, 0.0), (0.0, 0.0, 1.0)])
def test_pose_matches_smplx_forward_kinematics(pkg, motion_factory, fk, world_up):
    motion = motion_factory(4, seed=3, scale=0.6, world_up=world_up, camera=False)
    take = pkg.blender_mocap.scene.build_take(bpy.context.scene, motion, name="fk")
    A = pkg.blender_mocap.convert.blender_from_world(motion.world_up)
    expected = fk(motion) @ A.T - [0.0, 0.0, take.ground_offset]
    for t in range(motion.num_frames):
        bpy.context.scene.frame_set(int(motion.frame_indices[t]) + 1)
        got = world_heads(take.armature, motion.joint_names)
        np.testing.assert_allclose(got, expected[t], atol=1e-4)


def test_a_take_longer_than_a_chunk_keys_the_same_pose(pkg, motion_factory, fk, monkeypatch):
    """Long takes are worked on a chunk of frames at a time; chunk seams must not show in the keys."""
    monkeypatch.setattr(pkg.blender_mocap.keying, "FRAME_CHUNK", 3)
    motion = motion_factory(8, seed=4, scale=0.6, camera=False)
    take = pkg.blender_mocap.scene.build_take(bpy.context.scene, motion, name="chunks")
    A = pkg.blender_mocap.convert.blender_from_world(motion.world_up)
    expected = fk(motion) @ A.T - [0.0, 0.0, take.ground_offset]
    for t in range(motion.num_frames):
        bpy.context.scene.frame_set(int(motion.frame_indices[t]) + 1)
        np.testing.assert_allclose(world_heads(take.armature, motion.joint_names), expected[t], atol=1e-4)
    quats: dict[str, list] = {}
    for fc in _fcurves(take):
        if fc.data_path.endswith("rotation_quaternion"):
            quats.setdefault(fc.data_path, [[]] * 4)[fc.array_index] = [k.co[1] for k in fc.keyframe_points]
    for bone, components in quats.items():  # signs continuous across the seams: no bone spins a full turn
        q = np.array(components).T  # (T, 4)
        assert np.all(np.sum(q[1:] * q[:-1], axis=1) > 0), bone


def test_building_reports_progress_and_can_be_cancelled(pkg, motion_factory):
    """Issue 17: a long take's build said nothing for a minute; it now reports as it keys, and stops when asked."""
    build = pkg.blender_mocap.scene.build_take
    seen: list[tuple[float, str]] = []
    build(bpy.context, motion_factory(40, mesh=True), name="told", progress=lambda f, what: seen.append((f, what)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert len(seen) > 100  # after every F-curve, not only at the start and the end
    assert any("keying 55 bones on 40 frames" in what for _, what in seen)

    before = data_counts()
    calls = []
    with pytest.raises(pkg.core.errors.CancelledError, match="cancelled"):
        build(bpy.context, motion_factory(40, mesh=True), name="stopped",
              should_cancel=lambda: calls.append(1) or len(calls) > 30)  # half-way through the bones
    assert data_counts() == before  # nothing of the cancelled take is left


def test_a_long_take_builds_in_bounded_memory(pkg, motion_factory):
    """Issue 17: 100,000 frames took 5.7 GB. The numpy work (finding the ground under the soles,
    bone quaternions, signs) now holds a chunk of frames at a time (the previous code held 1.1 GB at 20,000 frames)."""
    import tracemalloc

    mannequin = __import__(f"{pkg.__name__}.core.body.mannequin", fromlist=["mesh"])
    verts, faces, weights = mannequin.mesh()
    motion = motion_factory(16000, scale=0.3, camera=False)
    motion.v_template, motion.faces, motion.skin_weights = verts, faces, weights
    tracemalloc.start()
    try:
        take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="long")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert all(len(fc.keyframe_points) == 16000 for fc in _fcurves(take))
    assert peak < 200e6, f"{peak / 1e6:.0f} MB of numpy arrays at once"  # Blender's own keys are not counted


def test_upright_person_stands_upright_in_blender(pkg, motion_factory):
    motion = motion_factory(1, scale=0.0, camera=False)
    motion.poses[:, :3] = [np.pi, 0.0, 0.0]  # facing the camera, upright in the y-down camera frame (README: world_up)
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="stand")
    bpy.context.scene.frame_set(1)
    heads = world_heads(take.armature, motion.joint_names)
    names = list(motion.joint_names)
    assert heads[names.index("head"), 2] > heads[names.index("left_ankle"), 2] + 1.0
    # Facing the camera, which looks along Blender +Y: the nose side is -Y.
    assert heads[names.index("left_foot"), 1] < heads[names.index("left_ankle"), 1]


def test_rest_pose_stands_upright_facing_front(pkg, motion_factory):
    """An animator who toggles Rest Position sees a T-pose standing on its feet, facing -Y."""
    motion = motion_factory(3, scale=0.5, camera=True)
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="rest")
    take.armature.data.pose_position = 'REST'
    bpy.context.scene.frame_set(2)
    heads = world_heads(take.armature, motion.joint_names)
    names = list(motion.joint_names)
    assert heads[names.index("head"), 2] > heads[names.index("pelvis"), 2] > heads[names.index("left_ankle"), 2]
    # The body's left (+X in the model frame) is Blender +X, so it faces -Y.
    assert heads[names.index("left_shoulder"), 0] > heads[names.index("right_shoulder"), 0]
    assert heads[names.index("left_foot"), 1] < heads[names.index("left_ankle"), 1]


def test_bones_have_length_and_connect_only_at_parent_tails(pkg, motion_factory):
    motion = motion_factory(1)
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="bones")
    for bone in take.armature.data.bones:
        assert bone.length > 1e-3
        if bone.use_connect:
            assert (bone.head_local - bone.parent.tail_local).length < 1e-5
    bones = take.armature.data.bones
    assert bones["left_elbow"].use_connect and not bones["left_hip"].use_connect
    assert 0.01 <= bones["left_index3"].length <= 0.1


def test_skinned_body_follows_the_bones(pkg, motion_factory, fk):
    motion = motion_factory(3, seed=5, mesh=True, camera=False)
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="skin")
    body = take.body
    assert body is not None and body.parent == take.armature
    assert [g.name for g in body.vertex_groups] == list(motion.joint_names)
    assert body.modifiers["Armature"].object == take.armature
    A = pkg.blender_mocap.convert.blender_from_world(motion.world_up)
    expected = fk(motion) @ A.T - [0.0, 0.0, take.ground_offset]
    scene = bpy.context.scene
    scene.frame_set(3)
    world = evaluated_vertices(body)
    # Vertex 3j sits on joint j at rest and is weighted to it alone.
    np.testing.assert_allclose(world[0::3], expected[2], atol=1e-4)


@pytest.mark.parametrize("size, principal", [((1280, 720), (700.0, 300.0)),
                                             ((720, 1280), (300.0, 700.0))])
def test_camera_projects_points_onto_the_video_pixels(pkg, motion_factory, size, principal):
    motion = motion_factory(2)
    motion.image_size = np.array(size, np.int64)
    motion.camera_intrinsics = np.array([[1000.0, 0, principal[0]], [0, 1000.0, principal[1]], [0, 0, 1]])
    rng = np.random.default_rng(1)
    rot = pkg.core.rotations.axis_angle_to_matrix(np.array([0.1, -0.2, 0.05]))
    extrinsics = np.eye(4)
    extrinsics[:3, :3] = rot
    extrinsics[:3, 3] = [0.2, -0.1, 0.5]
    motion.camera_extrinsics = extrinsics
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="cam")
    scene = bpy.context.scene
    assert scene.camera == take.camera
    assert (scene.render.resolution_x, scene.render.resolution_y) == size
    A = pkg.blender_mocap.convert.blender_from_world(motion.world_up)
    for _ in range(20):
        cam_point = np.array([rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(2, 6)])
        world_point = rot.T @ (cam_point - extrinsics[:3, 3])
        uvw = motion.camera_intrinsics @ cam_point
        expected = uvw[:2] / uvw[2]
        # Feet on the ground moved the whole take, camera included.
        got = project_blender(scene, take.camera, A @ world_point - [0.0, 0.0, take.ground_offset])
        np.testing.assert_allclose(got, expected, atol=0.5)


def test_video_becomes_the_camera_background(pkg, motion_factory, tmp_path):
    image = bpy.data.images.new("frame", 64, 36)
    path = tmp_path / "frame.png"
    image.filepath_raw = str(path)
    image.file_format = 'PNG'
    image.save()
    bpy.data.images.remove(image)
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion_factory(2), name="bg",
                                              video_path=str(path))
    cam = take.camera.data
    assert cam.show_background_images
    assert cam.background_images[0].source == 'MOVIE_CLIP'
    assert cam.background_images[0].clip == take.clip
    missing = pkg.blender_mocap.scene.build_take(bpy.context, motion_factory(2), name="bg2",
                                                 video_path=str(tmp_path / "nope.mp4"))
    assert missing.clip is None and any("not found" in w for w in missing.warnings)


def test_invalid_motion_raises_and_leaves_the_file_unchanged(pkg, motion_factory):
    MocapError = pkg.core.errors.MocapError
    build = pkg.blender_mocap.scene.build_take
    before = data_counts()

    nan = motion_factory(3)
    nan.poses[1, 7] = np.nan
    with pytest.raises(MocapError, match="NaN"):
        build(bpy.context, nan, name="nan")

    bad_shape = motion_factory(3)
    bad_shape.trans = bad_shape.trans[:2]
    with pytest.raises(MocapError, match="trans"):
        build(bpy.context, bad_shape, name="shape")

    no_rest = motion_factory(3)
    no_rest.rest_joints = None
    with pytest.raises(MocapError, match="rest"):
        build(bpy.context, no_rest, name="amass")

    # Fails half-way: after the armature, collection and camera exist.
    unordered = motion_factory(3, mesh=True)
    unordered.frame_indices = np.array([0, 2, 1])
    with pytest.raises(MocapError, match="frame indices"):
        build(bpy.context, unordered, name="order")
    assert data_counts() == before


def test_unexpected_failure_is_wrapped_and_rolled_back(pkg, motion_factory, monkeypatch):
    scene_mod = pkg.blender_mocap.scene
    before = data_counts()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pkg.blender_mocap.keying, "key_bones", broken)
    with pytest.raises(pkg.core.errors.MocapError, match="could not build the scene") as info:
        scene_mod.build_take(bpy.context, motion_factory(3, mesh=True), name="broken")
    assert isinstance(info.value.__cause__, RuntimeError)
    assert data_counts() == before


def test_quaternions_are_keyed_without_sign_flips(pkg):
    q = np.array([[1.0, 0, 0, 0], [-0.99, -0.1, 0, 0], [0.98, 0.2, 0, 0], [-0.95, -0.3, 0, 0]])
    fixed = pkg.core.rotations.quat_sign_continuous(q[:, None, :])[:, 0]
    assert np.all(np.sum(fixed[1:] * fixed[:-1], axis=-1) > 0)
    np.testing.assert_allclose(np.abs(fixed), np.abs(q))


def test_long_take_keys_in_bulk(pkg, motion_factory):
    """55 bones x 1,800 frames: a sanity check that keying stays bulk (time printed, not asserted)."""
    motion = motion_factory(1800, scale=0.3, camera=False)
    start = time.perf_counter()
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="long")
    elapsed = time.perf_counter() - start
    print(f"\nbuild_take, 55 bones x 1800 frames: {elapsed:.3f} s")
    assert all(len(fc.keyframe_points) == 1800 for fc in _fcurves(take))


def test_strided_take_plays_at_the_video_rate(pkg, motion_factory):
    """Every 3rd frame of a 30 fps video, stored at 10 fps: keys on 1, 4, 7 at 30 fps."""
    motion = motion_factory(3, camera=False)
    motion.frame_indices = np.array([0, 3, 6])
    motion.fps = 10.0
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="strided")
    scene = bpy.context.scene
    assert scene.render.fps / scene.render.fps_base == pytest.approx(30.0)
    assert take.frame_range == (1, 7)
    frames = [k.co[0] for k in _fcurves(take)[0].keyframe_points]
    assert frames == [1.0, 4.0, 7.0]


def test_take_carries_its_confidence_curve_and_quality(pkg, motion_factory):
    scene_mod = pkg.blender_mocap.scene
    motion = motion_factory(6)
    motion.confidence = np.array([1.0, 0.2, 0.3, 0.9, 0.1, 1.0], np.float32)
    motion.quality = {"mean_reprojection_error_px": 3.5, "bridged_frames": 1.0}
    take = scene_mod.build_take(bpy.context, motion, name="conf")
    curve = next(fc for fc in _fcurves(take) if fc.data_path == '["mocap_confidence"]')
    values = [k.co[1] for k in curve.keyframe_points]
    np.testing.assert_allclose(values, motion.confidence, atol=1e-6)
    bpy.context.scene.frame_set(2)
    assert take.armature["mocap_confidence"] == pytest.approx(0.2)
    assert dict(take.action["mocap_quality"]) == {"mean_reprojection_error_px": 3.5, "bridged_frames": 1.0}
    assert take.action["mocap_low_confidence"] == "2-3, 5"
    # The weak frames' keys are Extreme keys: a red run along the Dope Sheet's Mocap channel.
    assert [k.type for k in curve.keyframe_points] == ["KEYFRAME", "EXTREME", "EXTREME", "KEYFRAME", "EXTREME",
                                                      "KEYFRAME"]
    bone_curve = next(fc for fc in _fcurves(take) if fc.data_path.endswith("rotation_quaternion"))
    assert {k.type for k in bone_curve.keyframe_points} == {"KEYFRAME"}


def test_the_take_is_found_from_its_rig_its_body_and_anything_under_them(pkg, motion_factory):
    take_mod = pkg.blender_mocap.take
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion_factory(3, mesh=True), name="found")
    prop = bpy.data.objects.new("prop", None)  # e.g. a hat parented to the body
    prop.parent = take.body
    # One level up (the old panel's rule) missed this: the prop's parent is the body, not the rig.
    assert prop.parent.type == 'MESH'
    for obj in (take.armature, take.body, prop):
        assert take_mod.rig_of(obj) == take.armature
    assert take_mod.rig_of(None) is None
    assert take_mod.rig_of(take.camera) is None


@pytest.mark.parametrize("cleaned", [False, True])
def test_a_tilted_camera_take_builds_a_camera_with_that_pitch_and_roll(pkg, motion_factory, tmp_path, cleaned):
    """A capture whose camera looks 25 degrees down, rolled 8: in Blender the person stands straight up
    on Z = 0 and the camera carries the tilt, whether the take is in the camera frame (world_up tilted)
    or was moved onto its floor (Z up, the tilt in the extrinsics); the file's up source reaches the take."""
    from extension_package import extension

    core = extension("core.gravity.take", "core.cleanup").core
    pitch, roll = 25.0, 8.0
    up = core.gravity.up_from_pitch_roll(pitch, roll)
    motion = motion_factory(3, scale=0.0)
    # Upright in the world (model Y along the world's up), facing the camera, 3 m in front of it.
    orient = core.rotations.rotation_between(np.array([0.0, 1.0, 0.0]), up)
    turn = core.rotations.axis_angle_to_matrix(up * np.pi)  # the model faces +Z: turn it round the up
    motion.poses[:, :3] = core.rotations.matrix_to_axis_angle(turn @ orient)
    motion.trans[:] = [0.0, 0.0, 3.0]
    core.gravity.take.apply_gravity(motion, core.gravity.Gravity(up=up, sigma_degrees=1.2, source="scene lines"))
    if cleaned:
        motion = core.cleanup.clean_motion(motion, core.cleanup.CleanupSettings(foot_lock="off")).motion
    motion = core.motion.read_motion(core.motion.write_motion(tmp_path / "tilted.npz", motion))
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="tilted")
    bpy.context.scene.frame_set(1)
    R = np.array(take.camera.matrix_world)[:3, :3]
    view, right, cam_up = R @ [0.0, 0.0, -1.0], R @ [1.0, 0.0, 0.0], R @ [0.0, 1.0, 0.0]
    assert np.degrees(np.arcsin(-view[2])) == pytest.approx(pitch, abs=0.05)  # looking down
    assert np.degrees(np.arctan2(-right[2], cam_up[2])) == pytest.approx(roll, abs=0.05)  # right side down
    names = list(motion.joint_names)

    def spine_tilt(rig) -> float:
        heads = world_heads(rig, names)
        spine = heads[names.index("neck")] - heads[names.index("pelvis")]
        return float(np.degrees(np.arccos(spine[2] / np.linalg.norm(spine))))

    tilt = spine_tilt(take.armature)
    level = motion_factory(1, scale=0.0, camera=False)
    level.poses[:, :3] = [np.pi, 0.0, 0.0]  # upright before a level camera (test_upright_person_...)
    reference = pkg.blender_mocap.scene.build_take(bpy.context, level, name="level")
    bpy.context.scene.frame_set(1)
    assert tilt == pytest.approx(spine_tilt(reference.armature), abs=0.1)  # as straight as a level camera's
    assert take.action["mocap_up_source"] == "scene lines ±1.2°"
