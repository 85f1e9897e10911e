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
