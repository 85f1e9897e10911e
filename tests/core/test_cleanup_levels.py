"""Ground levels (core.cleanup.levels): a take on a box and the floor stands on both."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from core.body.mannequin import forward_kinematics
from core.cleanup import CleanupSettings, clean_motion
from core.cleanup.floor import PROXY_INDEX, proxy_heights
from core.cleanup.levels import LevelSettings, find_levels
from tests.core.test_cleanup_root import _with_landmarks
from tests.testdata.walk import synthetic_walk, to_camera

BOX = 0.40


def _soles(motion) -> np.ndarray:
    pos, _ = forward_kinematics(motion.poses, motion.rest_joints, motion.trans)
    return pos[:, PROXY_INDEX, 2] - proxy_heights(motion.rest_joints, motion.v_template)[None, :]


def test_levels_are_clusters_of_planted_soles_held_long_enough() -> None:
    """Stances at 0 and 40 cm are two levels; a drift of stances from 0 to 30 cm in 8 cm steps is one
    floor (no gap of 15 cm); a 40 cm cluster held 6 frames is no level."""
    T = 120
    contacts = np.zeros((T, 4), bool)
    contacts[5:25] = contacts[35:55] = contacts[65:85] = contacts[95:115] = True
    height = np.zeros((T, 4))
    height[:60] = BOX + np.random.default_rng(0).normal(0, 0.01, (60, 4))
    ground = find_levels(height, contacts)
    np.testing.assert_allclose(ground.heights, [0.0, BOX], atol=0.01)
    assert (ground.index[5:25] == 1).all() and (ground.index[65:] == 0).all()
    assert (ground.index[55:65] == 0).all()  # between the box and the floor: over the lower one
    drift = np.repeat(np.linspace(0.0, 0.3, 4), 30)[:, None] * np.ones((1, 4))
    assert find_levels(drift, contacts).num_levels == 1
    short = np.zeros((T, 4))
    short[5:11] = BOX
    brief = contacts.copy()
    brief[11:25] = False
    assert find_levels(short, brief, LevelSettings(min_frames=10)).num_levels == 1


def test_a_foot_free_after_its_last_stance_on_a_box_is_over_the_level_it_falls_to() -> None:
    """The demo's man jumps off his box and lands on the grass with one foot that no contact holds there:
    that foot was over the box (1.8 m up) from its last stance on it to the take's end, and the figures read
    its standing on the grass as 1.8 m in the box. A free foot is over the lowest level it comes down to."""
    T, high = 100, 1.8
    height = np.where(np.arange(T)[:, None] < 50, high, 0.0) * np.ones((1, 4))
    contacts = np.zeros((T, 4), bool)
    contacts[5:45] = True
    contacts[60:95, :2] = True  # the left foot lands planted, the right foot's landing is missed
    ground = find_levels(height, contacts)
    np.testing.assert_allclose(ground.heights, [0.0, high])
    assert (ground.index[5:45] == 1).all() and (ground.index[60:95, :2] == 0).all()
    assert (ground.index[50:, 2:] == 0).all() and (ground.index[45:50, 2:] == 0).all()  # falling, then down


def _step_down(frames: int = 150, at: int = 70, box: float = BOX) -> tuple:
    """The synthetic walk on a ``box`` (40 cm) high box, then down to the floor over frames ``at`` to
    ``at + 4`` (as fast as a fall from that height: the walk's stance foot comes down with the body)."""
    motion, truth = synthetic_walk(frames)
    drop = box * (1.0 - np.clip((np.arange(frames) - at) / 4.0, 0.0, 1.0))
    motion.trans[:, 2] += drop.astype(np.float32)
    truth = truth.copy()
    truth[at - 2:at + 10] = False  # the step itself
    return motion, truth, drop


def test_a_person_stepping_down_from_a_box_stands_on_both_levels() -> None:
    motion, truth, drop = _step_down()
    seen = _with_landmarks(to_camera(motion))
    result = clean_motion(seen, CleanupSettings(smoothing_body=0.0))
    ground = result.motion.ground
    assert ground is not None and ground.num_levels == 2
    assert np.ptp(ground.heights) == pytest.approx(BOX, abs=0.02)
    soles = _soles(result.motion)
    planted = result.contacts & truth
    on_box, on_floor = planted & (drop > 0)[:, None], planted & (drop == 0)[:, None]
    assert on_box.sum() > 60 and on_floor.sum() > 60
    # Each planted foot stands on its own level (the walk's truth plants soles up to 2 cm up), and nothing
    # sinks into the level under it.
    assert np.abs(soles[on_box] - ground.heights[1]).max() < 0.03
    assert np.abs(soles[on_floor] - ground.heights[0]).max() < 0.03
    assert (ground.index[on_box] == 1).all() and (ground.index[on_floor] == 0).all()
    assert result.quality["ground_levels"] == 2
    assert result.quality["ground_penetration_max_mm"] < 10.0
    # The feet locked on each level: no planted foot moves more than 2 cm in a frame.
    pos, _ = forward_kinematics(result.motion.poses, result.motion.rest_joints, result.motion.trans)
    feet = pos[:, PROXY_INDEX]
    both = truth[1:] & truth[:-1]
    assert np.linalg.norm(np.diff(feet, axis=0), axis=-1)[both].max() < 0.02


def test_a_stance_far_above_the_floor_found_gets_contacts_and_a_level_of_its_own() -> None:
    """The demo's man stands on a box 1.8-2 m above the grass he lands on, where the floor is found (the
    lower envelope of resting soles): no contact rule reached that high, so his feet on the box slid freely
    (25 mm a frame where the video showed them still). Walking on a 1.8 m box, then on the floor: the video shows the box's stance feet still,
    so they are planted there, on a level of their own, and do not slide."""
    high = 1.8
    motion, truth, drop = _step_down(box=high)
    result = clean_motion(_with_landmarks(to_camera(motion)), CleanupSettings(smoothing_body=0.0))
    ground = result.motion.ground
    assert ground is not None and ground.num_levels == 2
    assert np.ptp(ground.heights) == pytest.approx(high, abs=0.03)
    on_box = truth & (drop > 0)[:, None]
    assert (result.contacts & on_box).sum() > 0.8 * on_box.sum()  # the box's stances are planted ...
    assert (ground.index[result.contacts & on_box] == 1).all()  # ... on the box
    pos, _ = forward_kinematics(result.motion.poses, result.motion.rest_joints, result.motion.trans)
    both = on_box[1:] & on_box[:-1]
    slide = np.linalg.norm(np.diff(pos[:, PROXY_INDEX, :2], axis=0), axis=-1)[both]
    assert slide.max() < 0.02  # a standing foot on the box stays put along it
    # Nor does a foot stand in the box: 22 mm at most, where the root's anchoring on a level above the
    # camera (its rays meet it from below) sank a stance of the 1.8 m box (40 cm: under 1 mm).
    assert result.quality["ground_penetration_max_mm"] < 30.0
    always = clean_motion(_with_landmarks(to_camera(motion)), CleanupSettings(smoothing_body=0.0, foot_lock="always"))
    assert always.motion.ground.num_levels == 2 and (always.contacts & on_box).sum() > 0.8 * on_box.sum()


def test_levels_survive_the_motion_file_and_older_files_read_without_them(tmp_path) -> None:
    from core.motion import MotionFileError, read_motion, write_motion

    motion, _, _ = _step_down(60, at=30)
    cleaned = clean_motion(_with_landmarks(to_camera(motion)), CleanupSettings()).motion
    back = read_motion(write_motion(tmp_path / "take.npz", cleaned))
    np.testing.assert_allclose(back.ground.heights, cleaned.ground.heights)
    np.testing.assert_array_equal(back.ground.index, cleaned.ground.index)
    old = copy.deepcopy(cleaned)
    old.ground = None
    assert read_motion(write_motion(tmp_path / "old.npz", old)).ground is None
    broken = copy.deepcopy(cleaned)
    broken.ground.index = broken.ground.index + 5
    with pytest.raises(MotionFileError, match="ground_level_index"):
        write_motion(tmp_path / "bad.npz", broken)


def test_a_take_whose_feet_are_never_seen_says_its_ground_is_uncertain() -> None:
    """A walk cut off at the knees (foot landmarks at visibility 0.05): no foot is planted and the floor
    is the fit's guess, so the take warns and its figures say so; the same walk seen whole does not."""
    from core.landmarks import BODY

    motion, _ = synthetic_walk(90)
    seen = _with_landmarks(to_camera(motion))
    whole = clean_motion(seen, CleanupSettings())
    assert whole.quality["ground_uncertain"] == 0.0 and not whole.warnings
    cut = copy.deepcopy(seen)
    feet = [BODY[f"{s}_{p}"] for s in ("left", "right") for p in ("ankle", "heel", "foot_index")]
    cut.keypoints_2d[:, feet, 2] = 0.05
    result = clean_motion(cut, CleanupSettings())
    assert not result.contacts.any()
    assert result.quality["ground_uncertain"] == 1.0
    assert any("ground is uncertain" in w and "feet" in w for w in result.warnings)


def test_levels_follow_a_move_that_keeps_up_and_are_dropped_after_a_turn() -> None:
    """``floor.reexpress`` (also how ``--people all`` puts everyone in person 1's world) carries the levels
    along a move that keeps Z up, and drops them after a turn that tilts it (they are heights along Z)."""
    from core.cleanup.floor import reexpress
    from core.rotations import axis_angle_to_matrix

    motion, _, _ = _step_down(60, at=30)
    cleaned = clean_motion(_with_landmarks(to_camera(motion)), CleanupSettings()).motion
    moved = copy.deepcopy(cleaned)
    turn = axis_angle_to_matrix(np.array([0.0, 0.0, 0.7]))  # about Z
    reexpress(moved, turn, np.array([0.3, -0.2, 0.5]))
    np.testing.assert_allclose(moved.ground.heights, cleaned.ground.heights - 0.5)
    tilted = copy.deepcopy(cleaned)
    reexpress(tilted, axis_angle_to_matrix(np.array([0.3, 0.0, 0.0])), np.zeros(3))
    assert tilted.ground is None


def test_a_still_foot_the_body_does_not_stand_on_makes_no_level_and_a_level_stays_where_it_was_seen() -> None:
    """A foot held still on a barre 0.9 m up, the pelvis 1 m up beside it, is not stood on: no raised level.
    A box stood on (pelvis a leg above the still soles) is a level only around the frames it was stood on:
    later in the take, a foot swinging 30 cm under its height is over the floor, not measured from the box."""
    from core.cleanup.levels import LevelSettings, level_under, raised_levels

    T, leg = 120, 0.85
    sole = np.zeros((T, 2))
    still = np.zeros((T, 2), bool)
    sole[:40, 0], still[:40, 0] = 0.9, True  # a foot on the barre for 40 frames
    barre, _ = raised_levels(sole, still, 0.5, LevelSettings(), pelvis_height=np.full(T, 1.0), leg_length=leg)
    assert barre.size == 0
    pelvis = np.full(T, 1.0)
    pelvis[:40] = 0.9 + leg  # standing on a 0.9 m box for 40 frames
    box, spans = raised_levels(sole, still, 0.5, LevelSettings(), pelvis_height=pelvis, leg_length=leg)
    np.testing.assert_allclose(box, [0.9])
    np.testing.assert_array_equal(spans, [[0, 39]])
    swing = np.full((T, 2), 0.65)  # a sole 25 cm under the box's height on every frame
    under = level_under(swing, box, 0.3, spans, margin=30)
    assert (under[:70] == 0.9).all() and (under[70:] == 0.0).all()
