"""The character a take builds, checked against the body models' own maths (real bpy, numpy references).

Mesh deformation is compared with ``core.body.mannequin.skin`` (mannequin) and
with a numpy SMPL-X forward pass (shape, expression and pose blend shapes +
LBS from the model arrays) for a generated SMPL-X-format file; no torch.
"""

from __future__ import annotations

from pathlib import Path

import bpy
import numpy as np
import pytest
from readback import data_counts, evaluated_vertices, project_blender, world_heads


def _motion(pkg, poses, trans, **kwargs):
    T = poses.shape[0]
    defaults = dict(
        betas=np.zeros(5, np.float32), fps=30.0, frame_indices=np.arange(T, dtype=np.int64),
        confidence=np.ones(T, np.float32), bridged=np.zeros(T, bool),
        reprojection_error=np.zeros(T, np.float32), expression=np.zeros((T, 0), np.float32),
        world_up=np.array([0.0, -1.0, 0.0]), body_model="mannequin",
        camera_intrinsics=np.array([[900.0, 0, 640.0], [0, 900.0, 360.0], [0, 0, 1]]),
        camera_extrinsics=np.eye(4), image_size=np.array([1280, 720], np.int64),
    )
    defaults.update(kwargs)
    return pkg.core.motion.Motion(poses=poses.astype(np.float32), trans=trans.astype(np.float32), **defaults)


def _random_poses(T: int, seed: int, scale: float = 0.35) -> np.ndarray:
    rng = np.random.default_rng(seed)
    poses = rng.normal(size=(T, 165)) * scale
    poses[:, :3] = np.array([np.pi, 0.0, 0.0]) + rng.normal(size=(T, 3)) * 0.1  # upright, facing the camera
    return poses


def _mannequin_motion(pkg, T=3, seed=0):
    body = pkg.core.body.mannequin
    betas = np.array([0.05, -0.03, 0.04, 0.02, -0.02], np.float32)
    verts, faces, weights = body.mesh(betas)
    rng = np.random.default_rng(seed)
    trans = np.array([0.1, 0.3, 3.5]) + rng.normal(size=(T, 3)) * 0.05
    return _motion(pkg, _random_poses(T, seed), trans, betas=betas, rest_joints=body.rest_joints(betas),
                   v_template=verts, faces=faces, skin_weights=weights)


def test_mannequin_mesh_deforms_as_the_body_model_says(pkg):
    body = pkg.core.body.mannequin
    motion = _mannequin_motion(pkg, T=3, seed=2)
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="mannequin")
    A = pkg.blender_mocap.convert.blender_from_world(motion.world_up)
    positions, rotations = body.forward_kinematics(motion.poses, motion.rest_joints, motion.trans)
    expected = body.skin(motion.v_template, motion.skin_weights, motion.rest_joints, rotations, positions)
    expected = expected.astype(np.float64) @ A.T - [0.0, 0.0, take.ground_offset]
    assert take.body.data.shape_keys is None  # the mannequin's mesh is already the fitted shape
    for t in range(motion.num_frames):
        bpy.context.scene.frame_set(t + 1)
        got = evaluated_vertices(take.body)
        assert np.abs(got - expected[t]).max() < 1e-3  # 1 mm


# --- SMPL-X (a generated file in the real format) ---------------------------------------------

@pytest.fixture(scope="module")
def smplx_folder(tmp_path_factory) -> Path:
    """A model folder whose SMPLX_NEUTRAL.npz has dense, visible pose correctives (all 486)."""
    from blender_mocap_ext.core.body import smplx_file  # loaded by the pkg fixture's ext()
    from tests.testdata.smplx_model import write_synthetic_model

    folder = tmp_path_factory.mktemp("smplx-models")
    path = write_synthetic_model(folder / "smplx" / "SMPLX_NEUTRAL.npz", pickled_extras=False)
    arrays = smplx_file.load_model_arrays(path)
    # Correctives large enough (centimetres) that a wrong sign or index fails the 1 mm check.
    arrays["posedirs"] = np.random.default_rng(7).normal(size=arrays["posedirs"].shape) * 0.01
    np.savez(path, **arrays)
    return folder


def _smplx_reference(pkg, arrays, motion, ground_offset):
    """(T, V, 3) Blender world vertices: SMPL-X blend shapes + LBS in numpy (smplx's lbs)."""
    body = pkg.core.body.mannequin
    rest = pkg.blender_mocap.smplx_rest
    shape_dirs, expr_dirs = rest.shape_space(arrays)
    betas = motion.betas.astype(np.float64)
    v_shaped = arrays["v_template"] + shape_dirs[..., :betas.size] @ betas
    joints = arrays["J_regressor"] @ v_shaped
    R = pkg.core.rotations.axis_angle_to_matrix(motion.joint_rotations().astype(np.float64))
    feature = rest.pose_feature(R)
    positions, rotations = body.forward_kinematics(motion.poses.astype(np.float64), joints, motion.trans)
    A = pkg.blender_mocap.convert.blender_from_world(motion.world_up)
    out = []
    for t in range(motion.num_frames):
        E = motion.expression.shape[1]
        v = v_shaped + expr_dirs[..., :E] @ motion.expression[t] + arrays["posedirs"] @ feature[t]
        posed = body.skin(v, arrays["weights"], joints, rotations[t:t + 1], positions[t:t + 1])[0]
        out.append(posed @ A.T - [0.0, 0.0, ground_offset])
    return np.array(out), v_shaped


def _smplx_motion(pkg, arrays, T=3, seed=4):
    rng = np.random.default_rng(seed)
    betas = (rng.normal(size=10) * 1.5).astype(np.float32)
    expression = (rng.normal(size=(T, 10))).astype(np.float32)
    rest = pkg.blender_mocap.smplx_rest.rest_from_model(arrays, betas, 10)
    trans = np.array([0.0, 0.2, 3.0]) + rng.normal(size=(T, 3)) * 0.05
    # As the engine writes SMPL-X takes: fitted v_template + the blend shapes.
    return _motion(pkg, _random_poses(T, seed, 0.3), trans, betas=betas, expression=expression,
                   body_model="smplx", rest_joints=rest.rest_joints, v_template=rest.v_template,
                   faces=rest.faces, skin_weights=rest.skin_weights, shape_dirs=rest.shape_dirs,
                   expression_dirs=rest.expression_dirs)


@pytest.mark.parametrize("correctives", ["DRIVERS", "BAKED"])
def test_smplx_mesh_deforms_as_the_body_model_says(pkg, smplx_folder, correctives):
    scene_mod = pkg.blender_mocap.scene
    arrays = pkg.core.body.smplx_file.load_model_arrays(smplx_folder / "smplx" / "SMPLX_NEUTRAL.npz")
    motion = _smplx_motion(pkg, arrays)
    options = pkg.blender_mocap.settings.BuildOptions(correctives=correctives, smplx_dir=str(smplx_folder))
    take = scene_mod.build_take(bpy.context, motion, name="smplx", options=options)
    assert not take.warnings, take.warnings
    expected, v_shaped = _smplx_reference(pkg, arrays, motion, take.ground_offset)

    key = take.body.data.shape_keys
    blocks = key.key_blocks
    # A TA's setup: Basis = the neutral body, betas at their fitted values, expressions, 486 correctives.
    basis = np.empty(len(blocks["Basis"].data) * 3, np.float32)
    blocks["Basis"].data.foreach_get("co", basis)
    np.testing.assert_allclose(basis.reshape(-1, 3), arrays["v_template"], atol=1e-5)
    np.testing.assert_allclose([blocks[f"beta_{k:02d}"].value for k in range(10)], motion.betas, atol=1e-6)
    assert sum(b.name.startswith("expression_") for b in blocks) == 10
    assert sum(b.name.startswith("pose_") for b in blocks) == 486
    if correctives == "DRIVERS":
        drivers = key.animation_data.drivers
        assert len(drivers) == 486
        assert all(fc.driver.is_simple_expression for fc in drivers)  # no Python: runs with scripts off

    for t in range(motion.num_frames):
        bpy.context.scene.frame_set(t + 1)
        got = evaluated_vertices(take.body)
        assert np.abs(got - expected[t]).max() < 1e-3  # 1 mm
    # The test can fail: without the correctives the body is centimetres off.
    without, _ = _smplx_reference(pkg, {**arrays, "posedirs": np.zeros_like(arrays["posedirs"])},
                                  motion, take.ground_offset)
    assert np.abs(without - expected).max() > 5e-3

    # A second take onto the same character keys its own expressions in its own action.
    second = _smplx_motion(pkg, arrays, T=2, seed=4)
    again = scene_mod.build_take(bpy.context, second, name="smplx2", options=options, target=take.armature)
    assert again.reused and again.body == take.body and again.shape_action is not None
    assert key.animation_data.action == again.shape_action
    bpy.context.scene.frame_set(2)
    expected2, _ = _smplx_reference(pkg, arrays, second, again.ground_offset)
    assert np.abs(evaluated_vertices(take.body) - expected2[1]).max() < 1e-3


def _write_amass(path: Path, T: int, *, split: bool = False, seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    poses = rng.normal(size=(T, 165)) * 0.3
    poses[:, :3] = [np.pi / 2, 0.0, 0.0]  # AMASS: Z-up world, the body's Y-up model frame stood up
    data = {
        "trans": np.column_stack([np.linspace(0, 1, T), np.zeros(T), np.full(T, 0.9)]),
        "betas": np.concatenate([rng.normal(size=10) * 0.5, np.zeros(6)]),  # AMASS SMPL-X: 16 betas
        "gender": np.array("neutral"),
        "mocap_frame_rate": np.array(120.0),
        "surface_model_type": np.array("smplx"),
    }
    if split:
        slices = {"root_orient": (0, 3), "pose_body": (3, 66), "pose_jaw": (66, 69), "pose_eye": (69, 75),
                  "pose_hand": (75, 165)}
        data.update({k: poses[:, a:b] for k, (a, b) in slices.items()})
    else:
        data["poses"] = poses
    np.savez(path, **data)
    return {"poses": poses, **data}


@pytest.mark.parametrize("split", [False, True])
def test_amass_file_round_trips(pkg, smplx_folder, tmp_path, split):
    scene_mod = pkg.blender_mocap.scene
    path = tmp_path / "walk_stageii.npz"
    data = _write_amass(path, 12, split=split)
    motion = pkg.core.motion.read_motion(path)
    options = pkg.blender_mocap.settings.BuildOptions(smplx_dir=str(smplx_folder), ground=False,
                                                      correctives="NONE")
    take = scene_mod.build_take(bpy.context, motion, name=path.stem, options=options)
    scene = bpy.context.scene
    assert take.action.name == "walk_stageii"
    assert (scene.frame_start, scene.frame_end) == (1, 12)
    assert scene.render.fps / scene.render.fps_base == pytest.approx(120.0)
    assert take.body is not None and len(take.body.data.vertices) == 10475

    arrays = pkg.core.body.smplx_file.load_model_arrays(smplx_folder / "smplx" / "SMPLX_NEUTRAL.npz")
    shape_dirs, _ = pkg.blender_mocap.smplx_rest.shape_space(arrays)
    joints = arrays["J_regressor"] @ (arrays["v_template"] + shape_dirs @ data["betas"][:10])
    positions, rotations = pkg.core.body.mannequin.forward_kinematics(data["poses"], joints, data["trans"])
    names = list(take.armature.data.bones.keys())
    order = [list(pkg.core.skeleton.JOINT_NAMES).index(n) for n in names]
    C = pkg.blender_mocap.convert.armature_from_world(np.array([0.0, 0.0, 1.0]))  # AMASS is Z-up
    for t in (0, 5, 11):
        scene.frame_set(t + 1)
        # Positions in Blender world: AMASS's Z-up world is Blender's.
        np.testing.assert_allclose(world_heads(take.armature, names), positions[t][order], atol=1e-4)
        # Rotations: each bone's pose matrix (armature space) is the joint's global rotation times its rest.
        for name, j in zip(names, order):
            bone = take.armature.pose.bones[name]
            got = np.array(bone.matrix)[:3, :3]
            rest = np.array(bone.bone.matrix_local)[:3, :3]
            np.testing.assert_allclose(got, C @ rotations[t, j] @ rest, atol=1e-4)


def test_amass_resampled_to_the_scene_rate(pkg, smplx_folder, tmp_path):
    path = tmp_path / "run.npz"
    data = _write_amass(path, 13)  # 120 Hz, 0.1 s
    motion = pkg.core.motion.read_motion(path)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    options = pkg.blender_mocap.settings.BuildOptions(smplx_dir=str(smplx_folder), resample=True,
                                                      ground=False, correctives="NONE")
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="run", options=options)
    assert scene.render.fps == 30 and take.frame_range == (1, 4)  # 120 Hz frames 0, 4, 8, 12
    joints = pkg.blender_mocap.smplx_rest.rest_from_model(
        pkg.core.body.smplx_file.load_model_arrays(smplx_folder / "smplx" / "SMPLX_NEUTRAL.npz"),
        data["betas"], 0).rest_joints
    positions, _ = pkg.core.body.mannequin.forward_kinematics(data["poses"], joints, data["trans"])
    names = list(pkg.core.skeleton.JOINT_NAMES)
    for frame, source in ((1, 0), (3, 8), (4, 12)):
        scene.frame_set(frame)
        np.testing.assert_allclose(world_heads(take.armature, names), positions[source], atol=1e-4)


def test_amass_without_a_model_folder_is_a_clear_error(pkg, tmp_path, monkeypatch, smplx_folder):
    monkeypatch.delenv(pkg.blender_mocap.settings.SMPLX_DIR_ENV, raising=False)
    path = tmp_path / "no_models.npz"
    _write_amass(path, 4)
    motion = pkg.core.motion.read_motion(path)
    before = data_counts()
    with pytest.raises(pkg.core.errors.MocapError, match="SMPL-X model folder"):
        pkg.blender_mocap.scene.build_take(bpy.context, motion, name="x")
    assert data_counts() == before
    # Headless runs and farms may set the folder in the environment, as for the engine.
    monkeypatch.setenv(pkg.blender_mocap.settings.SMPLX_DIR_ENV, str(smplx_folder))
    options = pkg.blender_mocap.settings.BuildOptions(correctives="NONE")
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="x", options=options)
    assert len(take.body.data.vertices) == 10475


# --- ground, camera, re-capture -------------------------------------------------------------

def test_feet_stand_on_the_ground_and_a_glitch_does_not_move_it(pkg):
    body = pkg.core.body.mannequin
    T = 40
    poses = np.zeros((T, 165))
    poses[:, :3] = [np.pi, 0.0, 0.0]  # standing, facing the camera
    trans = np.column_stack([np.linspace(-0.5, 0.5, T), np.full(T, 0.4), np.full(T, 4.0)])
    trans[17, 1] += 0.2  # one frame pushed 20 cm through the floor (image y is down)
    trans[30, 1] -= 0.3  # and a jump
    verts, faces, weights = body.mesh()
    motion = _motion(pkg, poses, trans, rest_joints=body.rest_joints(), v_template=verts, faces=faces,
                     skin_weights=weights)
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="ground")
    for frame in (1, 10, 40):
        bpy.context.scene.frame_set(frame)
        assert abs(evaluated_vertices(take.body)[:, 2].min()) < 1e-3
    bpy.context.scene.frame_set(31)
    assert evaluated_vertices(take.body)[:, 2].min() == pytest.approx(0.3, abs=1e-3)

    off = pkg.blender_mocap.scene.build_take(
        bpy.context, motion, name="as_is", options=pkg.blender_mocap.settings.BuildOptions(ground=False))
    assert off.ground_offset == 0.0
    bpy.context.scene.frame_set(1)
    sole = -0.4 + verts[:, 1].min()  # pelvis 0.4 m above the camera's axis, image y down
    assert evaluated_vertices(off.body)[:, 2].min() == pytest.approx(sole, abs=1e-3)


def test_camera_projects_joints_onto_the_engines_pixels(pkg):
    motion = _mannequin_motion(pkg, T=4, seed=9)
    take = pkg.blender_mocap.scene.build_take(bpy.context, motion, name="overlay")
    assert take.ground_offset != 0.0  # the take moved, the camera with it
    scene = bpy.context.scene
    positions, _ = pkg.core.body.mannequin.forward_kinematics(motion.poses, motion.rest_joints, motion.trans)
    names = list(motion.joint_names)
    for t in range(motion.num_frames):
        scene.frame_set(t + 1)
        heads = world_heads(take.armature, names)
        uvw = positions[t] @ motion.camera_intrinsics.T  # the engine's pixels (camera = world frame)
        engine_px = uvw[:, :2] / uvw[:, 2:]
        for j in range(0, 55, 6):
            got = project_blender(scene, take.camera, heads[j])
            assert np.abs(got - engine_px[j]).max() < 2.0


def test_recapture_reuses_the_rig_and_keeps_both_takes(pkg, motion_factory):
    scene_mod = pkg.blender_mocap.scene
    first = scene_mod.build_take(bpy.context, motion_factory(5, mesh=True, seed=1), name="take1")
    before = data_counts()
    second = scene_mod.build_take(bpy.context, motion_factory(8, mesh=True, seed=2), name="take2",
                                  target=first.armature)
    assert second.reused and second.armature == first.armature and second.body == first.body
    after = data_counts()
    assert after["armatures"] == before["armatures"] and after["meshes"] == before["meshes"]
    assert after["actions"] == before["actions"] + 1
    assert first.armature.animation_data.action == second.action
    assert first.action.use_fake_user and second.action.use_fake_user  # takes side by side, none lost
    assert bpy.context.scene.camera == second.camera and (bpy.context.scene.frame_end == 8)

    other = motion_factory(3, mesh=True)
    other.rest_joints = other.rest_joints * 1.1  # a taller person: not this rig
    third = scene_mod.build_take(bpy.context, other, name="take3", target=first.armature)
    assert not third.reused and third.armature != first.armature
    assert any("cannot take this motion" in w for w in third.warnings)


def test_failed_recapture_leaves_the_character_as_it_was(pkg, motion_factory, monkeypatch):
    scene_mod = pkg.blender_mocap.scene
    first = scene_mod.build_take(bpy.context, motion_factory(5, mesh=True), name="take1")
    before = data_counts()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(scene_mod, "build_camera", broken)  # fails after the new keys are written
    with pytest.raises(pkg.core.errors.MocapError, match="could not build the scene"):
        scene_mod.build_take(bpy.context, motion_factory(6, mesh=True), name="take2", target=first.armature)
    assert data_counts() == before
    assert first.armature.animation_data.action == first.action
    assert bpy.context.scene.frame_end == 5
