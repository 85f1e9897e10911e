"""Everyone's IDs (core.crowd): synthetic people with painted clothes crossing, leaving, coming back. No networks."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cv2")
pytest.importorskip("scipy")

from core.crowd import Candidate, Crowd  # noqa: E402
from core.person import appearance, region_of  # noqa: E402
from test_person import painted, standing  # noqa: E402

RED, BLUE = (200, 40, 40), (40, 40, 190)
GREEN, YELLOW = (40, 170, 60), (220, 200, 40)


def candidates(people: list[tuple]) -> list[Candidate]:
    """One frame's candidates: each person (x, shirt, trousers[, height]) standing at x (pixels) in a shirt
    and trousers colour, 200 px tall unless given."""
    poses = [(standing(x, 200.0, *p[3:]), shirt, trousers) for p in people for x, shirt, trousers in [p[:3]]]
    for pts, _, _ in poses:
        pts[(pts[:, :2] == 0).all(1), 2] = 0.0  # landmarks standing() does not place are not seen
    image = painted(poses)
    return [Candidate(region_of(pts), appearance(image, pts)) for pts, _, _ in poses]


def test_ids_hold_when_two_people_cross_and_swap_places() -> None:
    """A walks right, B walks left; they meet mid-frame (B hidden for a few frames) and end where the
    other began. Their places swap, their looks differ: each keeps their ID throughout."""
    crowd = Crowd()
    frames = 60
    a_of, b_of = {}, {}
    for row in range(frames):
        xa, xb = 120 + 400 * row / (frames - 1), 520 - 400 * row / (frames - 1)
        people = [(xa, RED, BLUE)]
        hidden = abs(xa - xb) < 40  # B walks behind A
        if not hidden:
            people.append((xb, GREEN, YELLOW, 170.0))  # further off
        owners = crowd.step(row, candidates(people))
        a_of[row] = owners[0]
        if not hidden:
            b_of[row] = owners[1]
    assert len(b_of) < frames  # B was hidden on some frames
    assert set(a_of.values()) == {0} and set(b_of.values()) == {1}
    assert crowd.people(fps=30.0) == [0, 1]


def test_a_person_who_leaves_and_comes_back_keeps_their_id_and_a_stranger_gets_a_new_one() -> None:
    crowd = Crowd()
    for row in range(20):
        crowd.step(row, candidates([(200.0, RED, BLUE)]))
    for row in range(20, 60):  # gone for over a second
        crowd.step(row, [])
    back = crowd.step(60, candidates([(480.0, RED, BLUE), (150.0, GREEN, YELLOW)]))
    assert back == [0, 1]  # A again, elsewhere in the frame, by their looks; the stranger is someone new


def test_short_tracks_are_dropped_and_ids_follow_first_appearance_then_size() -> None:
    crowd = Crowd()
    for row in range(30):
        people = [(450.0, RED, BLUE)]
        if row >= 5:
            people.append((150.0, GREEN, YELLOW))
        if 10 <= row < 14:  # a glimpse of someone: 4 frames at 30 fps
            people.append((320.0, YELLOW, GREEN))
        crowd.step(row, candidates(people))
    assert len(crowd.tracks) == 3
    assert crowd.people(fps=30.0) == [0, 1]  # the glimpse (under half a second) is gone
