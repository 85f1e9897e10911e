"""The tracking benchmark's figures (bench/tracking.py) on synthetic data with a known answer."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import tracking  # noqa: E402


def _standing(T: int = 10) -> np.ndarray:
    """(T, 12, 3) limb joints of a 1.6 m person standing 4 m in front of an OpenCV camera (y down)."""
    y = {"shoulder": -0.45, "elbow": -0.2, "wrist": 0.05, "hip": 0.0, "knee": 0.42, "ankle": 0.83}
    pts = []
    for name in tracking.groundtruth.LIMB_JOINTS:
        side, joint = name.split("_")
        pts.append([0.17 if side == "left" else -0.17, y[joint], 4.0])
    return np.broadcast_to(np.array(pts), (T, 12, 3)).copy()


def test_height_from_limbs_ignores_the_pose():
    limbs = _standing()
    h = tracking.height_from_limbs(limbs)
    assert h == pytest.approx(1.25 * (0.83 + 0.45))
    R = np.array([[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]])      # upside down
    assert tracking.height_from_limbs(limbs @ R.T) == pytest.approx(h)


def test_trunk_angle_upright_lying_and_inverted():
    limbs = _standing(3)
    up = np.array([0.0, -1.0, 0.0])                                 # camera y points down
    lying = limbs[:, :, [1, 0, 2]]                                  # trunk along x
    inverted = limbs * np.array([1.0, -1.0, 1.0])
    angles = [tracking.trunk_angle_degrees(x, up)[0] for x in (limbs, lying, inverted)]
    assert angles == pytest.approx([0.0, 90.0, 180.0])
    split = tracking.split_by_posture(np.array([0.05, 0.05, 0.10, np.nan]), np.array([10.0, 30.0, 170.0, 170.0]))
    assert split["pa_upright_mm"] == pytest.approx(50.0) and split["pa_inverted_mm"] == pytest.approx(100.0)
    assert split["inverted_ratio"] == pytest.approx(2.0) and split["inverted_frames"] == 1


def test_identity_counts_missing_and_wrong_person_frames_as_misses():
    T = 10
    truth = np.zeros((T, 2)) + 100.0
    ours = truth + 5.0
    ours[7:] = 400.0                                                # took a passer-by
    ours[2] = np.nan                                                # no pose
    visible = np.ones(T, bool)
    visible[9] = False
    share = tracking.identity_share(ours, truth, np.full(T, 200.0), visible)
    assert share == pytest.approx(6 / 9)


def test_a_swap_between_two_crossing_people_is_counted():
    T = 20
    x = np.linspace(100.0, 500.0, T)
    people = np.stack([np.stack([x, np.full(T, 240.0)], -1), np.stack([x[::-1], np.full(T, 250.0)], -1)])
    ours = people[0].copy()
    ours[12:] = people[1, 12:]                                      # follows the other person after they cross
    ours[3] = np.nan
    followed = tracking.nearest_person(ours, people, np.ones((2, T), bool))
    assert followed[3] == -1 and (followed[12:] == 1).all() and (followed[:3] == 0).all()
    assert tracking.id_switches(followed) == 1


def test_detection_delay_from_the_first_visible_frame():
    visible = np.zeros(10, bool)
    visible[2:] = True
    has_pose = np.zeros(10, bool)
    has_pose[6:] = True
    assert tracking.detection_delay(has_pose, visible) == 4
    assert tracking.detection_delay(np.zeros(10, bool), visible) == 8   # never found: the clip's end


def test_score_of_the_truth_itself_is_perfect():
    T = 12
    limbs = _standing(T)
    K = np.array([[600.0, 0, 320], [0, 600.0, 240], [0, 0, 1]])
    limb_2d = tracking.groundtruth.project(limbs, K)
    truth = {"limb_cam": limbs, "limb_2d": limb_2d, "K": K, "image_size": np.array([640, 480]),
             "world_up_cam": np.array([0.0, -1.0, 0.0])}
    view = tracking.truth_view(truth)
    assert view["visible"].all() and view["height_px"][0] == pytest.approx(600 * 1.6 / 4.0)
    figures = tracking.score(limbs.copy(), limb_2d.copy(), truth, view)
    assert figures["identity"] == 1.0 and figures["detection_delay"] == 0
    assert figures["pa_upright_mm"] == pytest.approx(0.0, abs=1e-6) and figures["inverted_frames"] == 0
    seen = np.ones(T, bool)
    seen[:5] = False                                                # bridged: shown, but not found yet
    figures = tracking.score(limbs.copy(), limb_2d.copy(), truth, view, seen)
    assert figures["detection_delay"] == 5 and figures["identity"] == 1.0


def _two_people(T: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(person 0's limbs, person 1's (T, 12, 3), both projected (2, T, 12, 2), a crowd clip's truth of them)."""
    K = np.array([[600.0, 0, 320], [0, 600.0, 240], [0, 0, 1]])
    a = _standing(T) + np.array([-1.0, 0.0, 0.0])
    b = _standing(T) + np.array([1.0, 0.0, 2.0])
    people = np.stack([a, b])
    people_2d = tracking.groundtruth.project(people, K)
    truth = {"limb_cam": a, "limb_2d": people_2d[0], "K": K, "image_size": np.array([640, 480]),
             "world_up_cam": np.array([0.0, -1.0, 0.0]), "people_limb_cam": people, "people_limb_2d": people_2d,
             "people_pelvis_2d": tracking.pelvis_2d(people_2d), "people_in_view": np.ones((2, T), bool),
             "people_occluded": np.zeros((2, T))}
    return a, b, people_2d, truth


def test_every_person_takes_are_matched_to_their_people():
    a, b, people_2d, truth = _two_people()
    swapped = people_2d[1].copy()
    swapped[8:] = people_2d[0, 8:]                                  # the second take jumps onto person 0
    figures = tracking.score_people([(b, swapped), (a, people_2d[0])], truth)
    assert figures["people_found"] == 2 and figures["id_switches"] == 1 == figures["id_switches_visible"]
    assert figures["person1.identity"] == pytest.approx(8 / 12) and figures["person0.identity"] == 1.0
    assert figures["person0.pa_mm"] == pytest.approx(0.0, abs=1e-6)


def test_each_persons_error_with_everyone_is_compared_with_them_captured_alone():
    a, b, people_2d, truth = _two_people()
    bent = b.copy()
    bent[:, 2] += [0.1, 0.0, 0.0]                                   # person 1's left wrist 10 cm off with everyone
    alone_a = a.copy()
    alone_a[:6] = np.nan                                            # alone, person 0 was found from frame 6 on
    alone_b = b.copy()
    alone_b[:, 2] += [0.04, 0.0, 0.0]                               # 4 cm off alone
    alone_a_2d = people_2d[0].copy()
    alone_a_2d[:6] = np.nan
    figures = tracking.alone_figures([(bent, people_2d[1]), (a, people_2d[0])],
                                     [(alone_a, alone_a_2d), (alone_b, people_2d[0])], truth)  # person 1's pick: on 0
    assert figures["person0.alone_identity"] == pytest.approx(0.5) and figures["person1.alone_identity"] == 0.0
    assert figures["person0.all_pa_mm"] == pytest.approx(0.0, abs=1e-6) == figures["person0.alone_pa_mm"]
    assert figures["person1.all_pa_mm"] > 2 * figures["person1.alone_pa_mm"] > 0
    assert figures["pa_ratio_max"] == figures["person1.pa_ratio"] > 2


def test_pooled_figures_weight_clips_by_their_frames():
    a = {"identity": 1.0, "visible_frames": 30, "pa_upright_mm": 50.0, "upright_frames": 30,
         "pa_inverted_mm": float("nan"), "inverted_frames": 0}
    b = {"identity": 0.5, "visible_frames": 10, "pa_upright_mm": 90.0, "upright_frames": 10,
         "pa_inverted_mm": 120.0, "inverted_frames": 10}
    p = tracking.pooled([a, b])
    assert p["identity"] == pytest.approx(35 / 40) and p["pa_upright_mm"] == pytest.approx(60.0)
    assert p["pa_inverted_mm"] == pytest.approx(120.0) and p["inverted_ratio"] == pytest.approx(2.0)
