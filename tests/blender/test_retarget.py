"""Retargeting onto other characters, in real Blender: Rigify, Mixamo- and Unreal-named skeletons, any humanoid.

The targets are built once per module by code (``tests/testdata/rigs.py``: A-pose,
other proportions, random rolls, a centimetre Y-up object like a Mixamo FBX, and
Rigify's human generated from its meta-rig) and saved to a scratch .blend; each
test appends the ones it needs into an empty file. What is checked is what an
animator sees: the target's evaluated bones point where the source's do.
"""

from __future__ import annotations

import sys
from pathlib import Path

import bpy
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extension_package import extension  # noqa: E402
from testdata import rigs  # noqa: E402

extension("blender_mocap.retarget.apply", "blender_mocap.retarget.feet", "blender_mocap.retarget.job")

TARGETS = {
    "mixamo": dict(namer=rigs.mixamo_name, legs=1.15, arms=0.9, cm=True),
    "unreal": dict(namer=rigs.unreal_name, spine=3, legs=0.9, torso=1.1, twist=True),
    "unreal_2spine": dict(namer=rigs.unreal_name, spine=2, legs=1.05),
    "unreal_4spine": dict(namer=rigs.unreal_name, spine=4, torso=0.9),
    "renamed": dict(namer=rigs.plain_name, shuffle=True, legs=1.1),
    "no_fingers": dict(namer=rigs.mixamo_name, fingers=False, a_pose=False),
}


@pytest.fixture(scope="module")
def rig_file(tmp_path_factory, ext_module) -> Path:
    """One .blend with every target (Rigify generated once: about 10 s)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    for seed, (name, spec) in enumerate(TARGETS.items()):
        spec = dict(spec)
        cm = spec.pop("cm", False)
        namer = spec.pop("namer")
        rigs.build_rig(name, rigs.humanoid(namer, **spec), seed=seed, centimetres_y_up=cm)
    rigify = rigs.rigify_human()
    rigify.name = "rigify"
    path = tmp_path_factory.mktemp("rigs") / "rigs.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(path), copy=True)
    return path


def _append(path: Path, name: str):
    with bpy.data.libraries.load(str(path)) as (src, dst):
        dst.objects = [name]
    obj = dst.objects[0]
    bpy.context.scene.collection.objects.link(obj)
    return obj


def _take(pkg, motion_factory, frames: int = 24, seed: int = 3):
    motion = motion_factory(frames, seed=seed, scale=0.25, camera=False)
    return pkg.blender_mocap.scene.build_take(bpy.context.scene, motion, name="take")


def _retarget(pkg, take, target, **settings):
    apply = pkg.blender_mocap.retarget.apply
    source = apply.source_from_rig(take.armature, {j: j for j in pkg.core.skeleton.JOINT_NAMES})
    return apply.retarget_onto(target, source, "take", apply.RetargetSettings(**settings))


@pytest.mark.parametrize("preset", ["mixamo", "unreal", "rigify"])
def test_each_preset_puts_the_take_on_its_rig_within_2_degrees(pkg, motion_factory, rig_file, preset):
    take = _take(pkg, motion_factory)
    target = _append(rig_file, preset)
    result = _retarget(pkg, take, target, preset=preset)
    assert result.mapped_by == preset
    measure = rigs.RIGIFY_MEASURE if preset == "rigify" else rigs.measured_bones(result.mapping)
    errors = rigs.direction_errors(take, target, measure)
    assert errors.mean() < 2.0 and errors.max() < 5.0, errors.max(axis=0)
    assert target.animation_data.action is result.action
    assert result.action.name == "take on " + target.name
    if preset == "unreal":  # its twist bones take a share of the forearm's and upper arm's twist
        assert {"lowerarm_twist_01_l", "upperarm_twist_01_l"} <= set(result.solved.bones)
        turns = []
        for frame in range(1, 25):
            bpy.context.scene.frame_set(frame)
            axis, angle = _own_turn(target, "lowerarm_twist_01_l")
            forearm = target.pose.bones["lowerarm_l"]
            along = np.array(forearm.tail) - np.array(forearm.head)
            if angle > 0.05:  # about the forearm only
                assert min(rigs.angle(axis, along), rigs.angle(-axis, along)) < 0.5
            assert angle <= _own_turn(target, "hand_l")[1] + 1e-3  # a share of the hand's turn
            turns.append(angle)
        assert max(turns) > 2.0


def _own_turn(obj, bone: str) -> tuple[np.ndarray, float]:
    """(axis in armature space, degrees) of how ``bone`` turned beyond riding on its parent, at the current frame."""
    pb = obj.pose.bones[bone]
    parent = pb.parent
    rest_rel = np.array(parent.bone.matrix_local)[:3, :3].T @ np.array(pb.bone.matrix_local)[:3, :3]
    ride = np.array(parent.matrix)[:3, :3] @ rest_rel
    turn = np.array(pb.matrix)[:3, :3] @ ride.T
    angle = np.degrees(np.arccos(np.clip((np.trace(turn) - 1) / 2, -1, 1)))
    axis = np.array([turn[2, 1] - turn[1, 2], turn[0, 2] - turn[2, 0], turn[1, 0] - turn[0, 1]])
    return axis, float(angle)


@pytest.mark.parametrize("name, preset", [("mixamo", "mixamo"), ("unreal", "unreal"), ("rigify", "rigify"),
                                          ("renamed", "auto"), ("no_fingers", "auto")])
def test_auto_mapping_finds_the_preset_or_the_joints(pkg, rig_file, name, preset):
    target = _append(rig_file, name)
    used, mapping = pkg.blender_mocap.retarget.apply.choose_mapping(
        target, pkg.blender_mocap.retarget.apply.RetargetSettings())
    assert used == preset
    body = {"pelvis", "neck", "head", "left_hip", "right_knee", "left_ankle", "right_foot", "left_collar",
            "right_shoulder", "left_elbow", "right_wrist"}
    assert body <= set(mapping.values())
    fingers = {j for j in mapping.values() if j[-1].isdigit() and not j.startswith("spine")}
    assert len(fingers) == (0 if name == "no_fingers" else 30)


def test_renamed_and_reordered_bones_are_mapped_by_the_skeleton_shape(pkg, motion_factory, rig_file):
    take = _take(pkg, motion_factory)
    target = _append(rig_file, "renamed")
    result = _retarget(pkg, take, target)
    # Left is the body's left (+X for a character facing -Y): the left arm's hand ends on +X.
    wrist = next(b for b, j in result.mapping.items() if j == "left_wrist")
    assert (np.array(target.matrix_world) @ np.append(target.data.bones[wrist].head_local, 1))[0] > 0.3
    errors = rigs.direction_errors(take, target, rigs.measured_bones(result.mapping))
    assert errors.mean() < 2.0 and errors.max() < 5.0, errors.max(axis=0)


@pytest.mark.parametrize("name", ["unreal_2spine", "unreal_4spine"])
def test_a_spine_of_two_or_four_bones_leans_as_the_source(pkg, motion_factory, rig_file, name):
    take = _take(pkg, motion_factory, seed=5)
    target = _append(rig_file, name)
    result = _retarget(pkg, take, target)
    spine = [b for b in result.solved.bones if b.startswith("spine_")]
    assert len(spine) == int(name[7])  # every spine bone is keyed: the source's bend is spread over them
    errors = rigs.direction_errors(take, target, rigs.measured_bones(result.mapping, one_to_one=False))
    assert errors[:, -1].mean() < 2.0 and errors[:, -1].max() < 5.0  # mid-hip to neck
    assert errors.max() < 5.0


def test_a_rig_without_fingers_takes_the_body(pkg, motion_factory, rig_file):
    take = _take(pkg, motion_factory)
    target = _append(rig_file, "no_fingers")
    result = _retarget(pkg, take, target)
    assert not any("Hand" in b and b[-1].isdigit() for b in result.solved.bones)
    errors = rigs.direction_errors(take, target, rigs.measured_bones(result.mapping))
    assert errors.mean() < 2.0 and errors.max() < 5.0


def test_retargeting_again_replaces_the_action(pkg, motion_factory, rig_file):
    take = _take(pkg, motion_factory)
    target = _append(rig_file, "unreal")
    first = _retarget(pkg, take, target).action.name
    second = _retarget(pkg, take, target)
    assert second.action.name == first
    assert [a.name for a in bpy.data.actions if a.name.startswith("take on")] == [first]
    assert target.animation_data.action is second.action


def test_a_wrong_mapping_is_refused_with_a_message_and_the_rig_is_untouched(pkg, motion_factory, rig_file):
    take = _take(pkg, motion_factory)
    target = _append(rig_file, "mixamo")
    with pytest.raises(pkg.core.errors.MocapError, match="no bone 'nope'"):
        _retarget(pkg, take, target, mapping={"nope": "pelvis"})
    with pytest.raises(pkg.core.errors.MocapError, match="unknown mapping preset"):
        _retarget(pkg, take, target, preset="maya")
    assert target.animation_data is None or target.animation_data.action is None


def test_round_trip_through_an_a_pose_rig_returns_the_joint_rotations(pkg, motion_factory, rig_file):
    take = _take(pkg, motion_factory)
    target = _append(rig_file, "mixamo")
    _retarget(pkg, take, target, plant_feet=False)
    back = take.armature.copy()
    back.data = take.armature.data.copy()
    back.animation_data_clear()
    bpy.context.scene.collection.objects.link(back)
    apply = pkg.blender_mocap.retarget.apply
    mapping = apply.choose_mapping(target, apply.RetargetSettings(preset="mixamo"))[1]
    result = apply.retarget_onto(back, apply.source_from_rig(target, mapping), "back",
                                 apply.RetargetSettings(plant_feet=False))
    assert result.mapped_by == "smplx"
    joints = sorted(set(mapping.values()))
    scene = bpy.context.scene
    worst = 0.0
    for frame in range(scene.frame_start, scene.frame_end + 1):
        scene.frame_set(frame)
        for j in joints:
            a = np.array(take.armature.pose.bones[j].matrix)[:3, :3]
            b = np.array(back.pose.bones[j].matrix)[:3, :3]
            worst = max(worst, np.degrees(np.arccos(np.clip((np.trace(a.T @ b) - 1) / 2, -1, 1))))
    assert worst < 1.0


def test_planted_feet_do_not_skate_on_longer_legs(pkg, rig_file):
    from testdata.walk import synthetic_walk

    motion, _ = synthetic_walk(frames=60)
    take = pkg.blender_mocap.scene.build_take(bpy.context.scene, motion, name="take")
    target = _append(rig_file, "mixamo")  # legs 15% longer than ours
    result = _retarget(pkg, take, target)
    assert min(result.solved.planted) > 10
    src, tgt = rigs.ankle_tracks(take.armature, target, result.mapping)
    skate_src, skate_tgt = rigs.skate(src, tgt, pkg.blender_mocap.retarget.feet.contacts)
    assert skate_tgt <= 1.2 * skate_src + 1e-4  # the source's feet are exactly planted: 0.1 mm a frame at most
    _retarget(pkg, take, target, plant_feet=False)  # without the feet pass the longer legs slide
    assert rigs.skate(*rigs.ankle_tracks(take.armature, target, result.mapping),
                      pkg.blender_mocap.retarget.feet.contacts)[1] > 1.2 * skate_src + 1e-4
    ground = result.solved.scale * src[..., 2].min()
    assert tgt[..., 2].min() >= ground - 0.01  # no ground penetration added


def test_headless_retarget_writes_the_character_with_the_take(pkg, motion_factory, rig_file, tmp_path, capsys):
    motion_path = pkg.core.motion.write_motion(tmp_path / "jump.npz", motion_factory(12, camera=False, scale=0.2))
    _append(rig_file, "unreal")
    _append(rig_file, "mixamo")
    character = tmp_path / "character.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(character), copy=True)
    out = tmp_path / "out.blend"
    headless = pkg.blender_mocap.headless
    code = headless.main(["retarget", str(motion_path), "--target", f"{character}:mixamo", "--out", str(out),
                          "--preset", "mixamo"])
    assert code == 0, capsys.readouterr().err
    assert "wrote" in capsys.readouterr().out
    bpy.ops.wm.open_mainfile(filepath=str(out))
    rig = bpy.data.objects["mixamo"]
    assert rig.animation_data.action.name == "jump on mixamo"
    assert (bpy.context.scene.frame_start, bpy.context.scene.frame_end) == (1, 12)
    fbx = tmp_path / "out.fbx"
    assert headless.main(["retarget", str(motion_path), "--target", f"{character}:unreal", "--out", str(fbx)]) == 0
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.fbx(filepath=str(fbx))
    assert "upperarm_l" in next(o for o in bpy.data.objects if o.type == 'ARMATURE').data.bones
    assert headless.main(["retarget", str(motion_path), "--target", str(character), "--out", str(out)]) == 1
    assert "has 2 armatures" in capsys.readouterr().err
    assert headless.main(["retarget", str(motion_path), "--target", str(tmp_path / "gone.blend"),
                          "--out", str(out)]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_batch_with_a_target_exports_the_character(pkg, motion_factory, rig_file, tmp_path):
    """``headless.py capture ... --target character.blend``: the take also goes on the character, and the
    FBX holds the character (the engine is stood in for by a writer of a ready motion file)."""
    batch = pkg.blender_mocap.batch
    _append(rig_file, "unreal")
    character = tmp_path / "hero.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(character), copy=True)
    video = tmp_path / "in" / "clip.mp4"
    video.parent.mkdir()
    video.write_bytes(b"not decoded: the engine is a stand-in")

    def engine(python, video_path, out, args, on_event=None, should_cancel=None):
        pkg.core.motion.write_motion(out, motion_factory(8, camera=False, scale=0.2))
        return out

    settings = batch.BatchSettings(outputs=("blend", "fbx"), retarget_target=str(character))
    code, report = batch.run_batch([video], tmp_path / "out", settings, run_engine=engine)
    assert code == 0, report.read_text()
    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "out" / "clip.blend"))
    assert bpy.data.objects["unreal"].animation_data.action.name == "clip on unreal"
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.fbx(filepath=str(tmp_path / "out" / "clip.fbx"))
    armature = next(o for o in bpy.data.objects if o.type == 'ARMATURE')
    assert "upperarm_l" in armature.data.bones and "left_elbow" not in armature.data.bones


@pytest.fixture
def retarget_ui():
    """The retarget property groups and operators registered (as registration.py does), then removed."""
    props, ops = extension("blender_mocap.retarget.props").blender_mocap.retarget.props, extension(
        "operators.retarget").operators.retarget
    classes = (props.MOCAP_PG_retarget_bone, props.MOCAP_PG_retarget, ops.MOCAP_OT_retarget,
               ops.MOCAP_OT_retarget_map, ops.MOCAP_OT_retarget_save_preset)
    for cls in classes:
        bpy.utils.register_class(cls)
    bpy.types.Scene.mocap_retarget = bpy.props.PointerProperty(type=props.MOCAP_PG_retarget)
    yield props
    del bpy.types.Scene.mocap_retarget
    for cls in reversed(classes):
        bpy.utils.unregister_class(cls)


def test_operators_map_edit_save_and_retarget_from_a_script(pkg, motion_factory, rig_file, retarget_ui, tmp_path):
    take = _take(pkg, motion_factory)
    target = _append(rig_file, "unreal")
    bpy.context.view_layer.objects.active = take.armature
    assert bpy.ops.mocap.retarget(target="unreal", preset="unreal") == {'FINISHED'}
    assert target.animation_data.action.name == "take on unreal"
    settings = bpy.context.scene.mocap_retarget
    settings.target = target
    assert bpy.ops.mocap.retarget_map() == {'FINISHED'}
    rows = {row.bone: row for row in settings.bones}
    assert rows["upperarm_l"].joint == "left_shoulder" and rows["upperarm_twist_01_l"].joint == "NONE"
    rows["ball_l"].joint = "NONE"  # the user unmaps a bone: the retarget leaves it riding on its foot
    preset = tmp_path / "mine.json"
    assert bpy.ops.mocap.retarget_save_preset(filepath=str(preset)) == {'FINISHED'}
    assert "ball_l" not in pkg.blender_mocap.retarget.presets.read_preset(preset)
    assert bpy.ops.mocap.retarget() == {'FINISHED'}
    keyed = {fc.data_path for fc in _fcurves_of(target)}
    assert 'pose.bones["upperarm_l"].rotation_quaternion' in keyed
    assert 'pose.bones["ball_l"].rotation_quaternion' not in keyed


def _fcurves_of(obj) -> list:
    from conftest import action_fcurves

    return action_fcurves(obj.animation_data)
