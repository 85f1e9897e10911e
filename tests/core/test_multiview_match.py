"""Person matching across views: two people are kept apart, in whatever order each view lists them."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import MocapError
from core.multiview.match import match_people
from tests.testdata.multiview_scenes import look_at_rig, observe, ring, sequence, skeleton


def test_two_people_are_matched_across_views_and_a_bystander_stays_alone():
    rig = look_at_rig(ring(3, 140.0, radius=5.0))
    times = np.arange(90) / 30.0
    alice = observe(rig, skeleton(times, seed=1, centre=(-0.8, 0.3), walk=0.3), noise_px=2.0, seed=1)
    bob = observe(rig, skeleton(times, seed=2, centre=(0.9, -0.2), walk=0.3), noise_px=2.0, seed=2)
    carol = observe(rig, skeleton(times, seed=3, centre=(0.0, 2.0), walk=0.3), noise_px=2.0, seed=3)
    per_view = [
        [sequence(alice[0], 30.0), sequence(bob[0], 30.0)],
        [bob[1][..., :2], alice[1]],  # another order, and bare arrays
        [carol[2], alice[2], bob[2]],  # carol is only seen by the third camera
    ]
    groups = match_people(per_view, rig)
    assert sorted(groups, key=str) == sorted([[0, 1, 1], [1, 0, 2], [None, None, 0]], key=str)


def test_views_on_different_time_bases_are_refused():
    rig = look_at_rig(ring(2, 90.0))
    body = observe(rig, skeleton(np.arange(30) / 30.0))
    with pytest.raises(MocapError, match="one time base"):
        match_people([[body[0]], [body[1][:20]]], rig)


def test_a_view_that_follows_someone_else_is_told_apart():
    """Three cameras; the third one's pose stage followed a bystander instead of the performer: ``strangers``
    names that view (capture-multi warns about it), and none when every view follows the performer."""
    from core.multiview.match import strangers

    rig = look_at_rig(ring(3, 140.0, radius=5.0))
    times = np.arange(90) / 30.0
    alice = observe(rig, skeleton(times, seed=1, centre=(-0.8, 0.3), walk=0.3), noise_px=2.0, seed=1)
    bob = observe(rig, skeleton(times, seed=2, centre=(0.9, -0.2), walk=0.3), noise_px=2.0, seed=2)
    assert strangers([sequence(alice[0], 30.0), alice[1], alice[2]], rig) == []
    assert strangers([sequence(alice[0], 30.0), alice[1], bob[2]], rig) == [2]


def _two_people_one_nearer_camera_1():
    """Two cameras 90 degrees apart; Alice (the performer) in the middle, Bob close to camera 1, so Bob is the
    most prominent person in camera 1's picture; 20 frames (what capture-multi looks at), 2 px of noise."""
    rig = look_at_rig(ring(2, 90.0))
    times = np.arange(20) / 30.0
    alice = observe(rig, skeleton(times, seed=1, centre=(0.0, 0.0), walk=0.3), noise_px=2.0, seed=1)
    bob = observe(rig, skeleton(times, seed=2, centre=(1.8, 0.6), walk=0.3), noise_px=2.0, seed=2)

    def height(view: np.ndarray) -> float:
        return float(np.median(np.ptp(view[..., 1], axis=1)))

    assert height(bob[1]) > 1.3 * height(alice[1]) and height(alice[0]) > 0.8 * height(bob[0])
    return rig, alice, bob


@pytest.mark.parametrize("with_rig", [True, False])
def test_a_further_view_keeps_the_person_of_view_1_not_its_most_prominent_one(with_rig):
    """capture-multi has video 2 follow the person whose keypoints agree with video 1's on the epipolar
    lines, from the rig's geometry or, calibrating from the person, from the geometry their own keypoints
    fit: Alice is chosen in camera 1 although Bob is bigger there, in whatever order it lists them."""
    from core.multiview.epipolar import fundamental_from_rig
    from core.multiview.match import MATCH_FRACTION, same_person

    rig, alice, bob = _two_people_one_nearer_camera_1()
    F = fundamental_from_rig(rig, 0, 1) if with_rig else None
    limit = MATCH_FRACTION * float(np.hypot(1280, 720))
    assert same_person(alice[0], [bob[1], alice[1]], limit, F) == 1
    assert same_person(alice[0], [alice[1], bob[1]], limit, F) == 0
    assert same_person(bob[0], [alice[1], bob[1]], limit, F) == 1


@pytest.mark.parametrize("with_rig", [True, False])
def test_nobody_is_chosen_when_no_one_agrees(with_rig):
    """Only Bob in camera 1's picture: he is not taken for Alice (capture-multi then keeps that video's own
    choice), with the rig's geometry or the one his and Alice's keypoints fit."""
    from core.multiview.epipolar import fundamental_from_rig
    from core.multiview.match import MATCH_FRACTION, agreement, same_person

    rig, alice, bob = _two_people_one_nearer_camera_1()
    F = fundamental_from_rig(rig, 0, 1) if with_rig else None
    limit = MATCH_FRACTION * float(np.hypot(1280, 720))
    assert agreement(alice[0], alice[1], F) < 4.0 < agreement(alice[0], bob[1], F)
    assert same_person(alice[0], [bob[1]], limit, F) is None


def test_the_pick_lands_on_the_same_person_in_another_videos_own_frames():
    """capture-multi's pick for a further video (``capture_multi.pick_among``): video 1 at 30 fps, video 2 at
    25 fps started 0.4 s later; in video 2, Bob (nearer its camera) is listed first and Alice, video 1's person,
    appears from its frame 3. The pick is a pixel on Alice's hips in video 2's frame 3, not on Bob."""
    from core.capture_multi import pick_among
    from core.multiview.epipolar import fundamental_from_rig

    rig = look_at_rig(ring(2, 90.0))
    first_times = np.arange(45) / 30.0
    alice_first = observe(rig, skeleton(first_times, seed=1, walk=0.3), noise_px=1.0, seed=1)[0]
    first = sequence(alice_first, 30.0)
    frames = np.arange(20)
    times = frames / 25.0 + 0.4
    alice = observe(rig, skeleton(times, seed=1, walk=0.3), noise_px=1.0, seed=3)[1]
    bob = observe(rig, skeleton(times, seed=2, centre=(1.8, 0.6), walk=0.3), noise_px=1.0, seed=4)[1]
    people = [sequence(bob, 25.0), sequence(alice[3:], 25.0, first_frame=3)]
    there = np.round((first.frame_indices / 30.0 - 0.4) * 25.0)
    for F in (fundamental_from_rig(rig, 0, 1), None):
        pick = pick_among(first, there, people, (1280, 720), F)
        assert pick is not None and pick.frame == 3
        hips = alice[3, [23, 24], :2].mean(0)
        assert np.hypot(pick.x - hips[0], pick.y - hips[1]) < 2.0
    assert pick_among(first, there, people[:1], (1280, 720), fundamental_from_rig(rig, 0, 1)) is None


def test_without_a_rig_two_people_who_agree_alike_leave_the_choice_to_the_video():
    """Calibrating from the person there is no rig yet: each candidate's own fitted geometry must agree clearly
    better than the next one's, else no one is chosen (the video keeps its own choice). Alice and her copy
    agree alike; Alice and Bob do not."""
    from core.multiview.match import MATCH_FRACTION, same_person

    rig, alice, bob = _two_people_one_nearer_camera_1()
    limit = MATCH_FRACTION * float(np.hypot(1280, 720))
    copy = alice[1] + np.random.default_rng(7).normal(0.0, 1.0, alice[1].shape) * [1.0, 1.0, 0.0]
    assert same_person(alice[0], [copy, alice[1]], limit) is None
    assert same_person(alice[0], [bob[1], alice[1]], limit) == 1
