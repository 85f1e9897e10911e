"""Retarget mapping logic (plain Python: names, presets, the skeleton's shape) and the panel's draw code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from conftest import icon_names, import_ext
from testdata.rig_names import mixamo_name, plain_name

mapping = import_ext("blender_mocap.retarget.mapping")
presets = import_ext("blender_mocap.retarget.presets")
errors = import_ext("core.errors")
RestBone = mapping.RestBone
FINGERS = ("thumb", "index", "middle", "ring", "pinky")


def humanoid(name, spine: int = 3, fingers: bool = True) -> list[Any]:
    """A T-pose humanoid as RestBones (Z up, facing -Y, left = +X), named by ``name(part, side, k)``."""
    bones = []

    def add(n, parent, head, tail):
        bones.append(RestBone(n, parent, tuple(map(float, head)), tuple(map(float, tail))))

    add(name("pelvis", "", 0), None, (0, 0, 0.9), (0, 0, 1.0))
    parent, z = name("pelvis", "", 0), 1.0
    for k in range(1, spine + 1):
        add(name("spine", "", k), parent, (0, 0, z), (0, 0, z + 0.45 / spine))
        parent, z = name("spine", "", k), z + 0.45 / spine
    add(name("neck", "", 0), parent, (0, 0, z), (0, 0, z + 0.1))
    add(name("head", "", 0), name("neck", "", 0), (0, 0, z + 0.1), (0, 0, z + 0.3))
    for side, sx in (("L", 1), ("R", -1)):
        add(name("collar", side, 0), parent, (0.02 * sx, 0, z - 0.05), (0.15 * sx, 0, z - 0.03))
        add(name("upper", side, 0), name("collar", side, 0), (0.15 * sx, 0, z - 0.03), (0.43 * sx, 0, z - 0.03))
        add(name("fore", side, 0), name("upper", side, 0), (0.43 * sx, 0, z - 0.03), (0.7 * sx, 0, z - 0.03))
        add(name("hand", side, 0), name("fore", side, 0), (0.7 * sx, 0, z - 0.03), (0.78 * sx, 0, z - 0.03))
        if fingers:
            for f, y in zip(FINGERS, (-0.05, -0.025, 0.0, 0.02, 0.04)):
                prev = name("hand", side, 0)
                for k in (1, 2, 3):
                    x = (0.78 + 0.03 * k) * sx
                    add(name(f, side, k), prev, (x, y, z - 0.03), (x + 0.03 * sx, y, z - 0.03))
                    prev = name(f, side, k)
        add(name("thigh", side, 0), name("pelvis", "", 0), (0.09 * sx, 0, 0.88), (0.09 * sx, 0, 0.48))
        add(name("shin", side, 0), name("thigh", side, 0), (0.09 * sx, 0, 0.48), (0.09 * sx, 0.02, 0.08))
        add(name("foot", side, 0), name("shin", side, 0), (0.09 * sx, 0.02, 0.08), (0.09 * sx, -0.1, 0.02))
        add(name("toe", side, 0), name("foot", side, 0), (0.09 * sx, -0.1, 0.02), (0.09 * sx, -0.16, 0.02))
    return bones


@pytest.mark.parametrize("name, expected", [
    ("mixamorig:LeftForeArm", ("L", "forearm", 0)), ("DEF-upper_arm.L.001", ("L", "upperarm", 1)),
    ("calf_r", ("R", "calf", 0)), ("Thigh.l", ("L", "thigh", 0)), ("L_Hand", ("L", "hand", 0)),
    ("RightHandIndex2", ("R", "handindex2", 0)), ("spine_03", ("", "spine03", 0)), ("ArmRight", ("R", "arm", 0)),
])
def test_names_are_taken_apart_into_side_stem_and_segment(name: str, expected: tuple) -> None:
    parts = mapping.name_parts(name)
    assert (parts.side, parts.stem, parts.segment) == expected


@pytest.mark.parametrize("name, joint", [
    ("mixamorig:LeftShoulder", "left_collar"), ("mixamorig:LeftArm", "left_shoulder"),
    ("lowerarm_r", "right_elbow"), ("ball_l", "left_foot"), ("DEF-thigh.R", "right_hip"),
    ("index_02_l", "left_index2"), ("mixamorig:RightHandPinky3", "right_pinky3"), ("f_ring.01.L", "left_ring1"),
    ("thumb_01_r", "right_thumb1"), ("neck_01", "neck"), ("Hips", "pelvis"),
    ("upperarm_twist_01_l", None), ("DEF-upper_arm.L.001", None), ("mixamorig:LeftHandIndex4", None), ("root", None),
])
def test_a_bone_name_says_which_joint_it_is(name: str, joint: str | None) -> None:
    assert mapping.joint_by_name(name) == joint


def test_names_map_a_mixamo_rig() -> None:
    found = mapping.map_by_names(mapping.Skeleton(humanoid(mixamo_name)))
    assert len(found) == 52
    assert found["mixamorig:Spine1"] == "spine2" and found["mixamorig:LeftHandThumb1"] == "left_thumb1"


@pytest.mark.parametrize("spine", [1, 2, 3, 4])
def test_the_skeleton_shape_maps_bones_whose_names_say_nothing(spine: int) -> None:
    bones = humanoid(plain_name, spine=spine)
    found = mapping.map_by_topology(mapping.Skeleton(bones[::-1]))  # reordered: children before parents
    joint = {b: j for b, j in found.items()}
    assert joint[plain_name("pelvis", "", 0)] == "pelvis" and joint[plain_name("head", "", 0)] == "head"
    # Left is the body's left (+X facing -Y), whatever the order or the names.
    assert joint[plain_name("upper", "L", 0)] == "left_shoulder" and joint[plain_name("shin", "R", 0)] == "right_knee"
    assert joint[plain_name("collar", "R", 0)] == "right_collar" and joint[plain_name("toe", "L", 0)] == "left_foot"
    assert [joint[plain_name(f, "L", 1)] for f in FINGERS] == [f"left_{f}1" for f in FINGERS]
    spine_joints = sorted(j for b, j in joint.items() if j.startswith("spine"))
    # Three bones take spine1-3; another count is left to the solver, which spreads the source's spine.
    assert spine_joints == (["spine1", "spine2", "spine3"] if spine == 3 else [])


def test_auto_map_prefers_a_preset_the_rig_has_then_falls_back_to_names_and_shape() -> None:
    used, found = mapping.auto_map(humanoid(mixamo_name), presets.builtin_presets())
    assert used == "mixamo" and found["mixamorig:LeftArm"] == "left_shoulder"
    used, found = mapping.auto_map(humanoid(mixamo_name, fingers=False), presets.builtin_presets())
    assert used == "auto" and len(found) == 22  # too few of the preset's bones: names instead
    used, found = mapping.auto_map(humanoid(plain_name), presets.builtin_presets())
    assert used == "auto" and len(found) == 52


def test_a_mapping_is_checked_for_what_a_user_can_get_wrong() -> None:
    names = ["Hips", "Arm"]
    assert mapping.check_mapping({"Hips": "pelvis"}, names) == []
    problems = mapping.check_mapping({"Arm": "elbow", "Leg": "left_knee", "Hips": "left_knee"}, names)
    assert "the rig has no bone 'Leg'" in problems
    assert "'elbow' (for bone 'Arm') is not an SMPL-X joint" in problems
    assert any("mapped twice" in p for p in problems) and any("pelvis" in p for p in problems)


def test_built_in_presets_name_real_joints_and_resolve_without_namespaces() -> None:
    for name in presets.BUILTIN:
        preset = presets.builtin_preset(name)
        assert len(preset) >= 50 and "pelvis" in preset.values()
    resolved = mapping.resolve_preset(presets.builtin_preset("mixamo"), ["mixamorig7:Hips", "Spine"])
    assert resolved == {"mixamorig7:Hips": "pelvis", "Spine": "spine1"}


def test_a_preset_file_round_trips_and_bad_ones_say_why(tmp_path: Path) -> None:
    path = presets.write_preset(tmp_path / "hero.json", {"Hips": "pelvis", "Arm.L": "left_shoulder"})
    assert presets.preset_by_choice(str(path)) == {"Hips": "pelvis", "Arm.L": "left_shoulder"}
    assert presets.preset_by_choice("auto") is None
    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    with pytest.raises(errors.MocapError, match="not valid JSON"):
        presets.read_preset(bad)
    bad.write_text(json.dumps({"bones": {}}), encoding="utf-8")
    with pytest.raises(errors.MocapError, match="not a blender-mocap mapping preset"):
        presets.read_preset(bad)
    bad.write_text(json.dumps({"format": presets.PRESET_FORMAT, "bones": {"Hips": "hips"}}), encoding="utf-8")
    with pytest.raises(errors.MocapError, match="not SMPL-X joints: hips"):
        presets.read_preset(bad)
    with pytest.raises(errors.MocapError, match="unknown mapping preset 'maya'"):
        presets.preset_by_choice("maya")


def test_retarget_panel_draws_the_target_mapping_and_buttons(layout: Any) -> None:
    draw = import_ext("panels.retarget_draw")
    props = mock.Mock(spec_set=["target", "preset", "preset_file", "mapped_for", "bones", "active_bone"])
    props.target = mock.Mock(spec_set=["name"])
    props.target.name = "Hero"
    props.mapped_for, props.bones, props.preset = "Hero", [object()], "AUTO"
    draw.draw_retarget_panel(layout, props, has_take=True)
    assert [c.args[1] for c in layout.prop.call_args_list] == ["target", "preset"]
    assert [c.args[0] for c in layout.operator.call_args_list] == ["mocap.retarget_map", "mocap.retarget_save_preset",
                                                                  "mocap.retarget"]
    assert layout.template_list.call_args.args[:4] == ("MOCAP_UL_retarget_bones", "", props, "bones")
    icons = [c.kwargs["icon"] for c in (*layout.label.call_args_list, *layout.operator.call_args_list)
             if "icon" in c.kwargs]
    assert set(icons) <= icon_names()


def test_feet_hold_contacts_of_three_frames_or_more_and_leave_fast_feet_alone() -> None:
    """A foot brushing the floor for a frame in a flip is not held (the demo's landing pulled a leg 21 degrees)."""
    import numpy as np

    feet = import_ext("blender_mocap.retarget.feet")
    T = 20
    ankle = np.zeros((T, 3))
    ankle[:, 0] = np.linspace(0.0, 0.02, T)  # a slow slide
    ankle[:3, 0] = [-0.9, -0.6, -0.3]  # arriving fast
    mask = np.zeros(T, bool)
    mask[5:12] = True
    mask[16] = True  # one frame: not held
    target, weight = feet.hold_targets(ankle, mask)
    assert (weight[5:12] == 1.0).all() and np.allclose(target[5:12], ankle[5:12].mean(axis=0))
    assert weight[16] == 0.0 and 0.0 < weight[4] < 1.0
    assert weight[:3].max() == 0.0  # more than REACH from the held place: a fast foot is not pulled
    low_and_still = np.zeros((6, 3))
    low_and_still[3:, 2] = 0.3  # lifted
    assert feet.contacts(low_and_still).tolist() == [True, True, True, False, False, False]
