"""Who a capture follows (core.person) and what counts as seen (core.landmarks): no networks, fast."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from core.errors import MocapError  # noqa: E402
from core.landmarks import (  # noqa: E402
    BODY,
    PoseSequence,
    invented_warnings,
    mark_outside,
    seen_confidence,
)
from core.option_values import person_pick  # noqa: E402
from core.person import (  # noqa: E402
    LOST_FRAMES,
    SEARCH_EVERY,
    SETTLE_LOOKS,
    Identity,
    PersonPick,
    appearance,
    appearance_distance,
    body_size,
    parse_pick,
    pick_distance,
    region_of,
)


def standing(cx: float, cy: float, height: float = 200.0, vis: float = 0.95) -> np.ndarray:
    """(33, 3) a person standing upright, pelvis at (cx, cy), pixels + visibility."""
    pts = np.zeros((33, 3))
    pts[:, 2] = vis
    u = height / 4
    for name, (dx, dy) in {
        "nose": (0, -1.7), "left_eye": (0.1, -1.8), "right_eye": (-0.1, -1.8), "left_ear": (0.2, -1.75),
        "right_ear": (-0.2, -1.75), "left_shoulder": (0.5, -1.2), "right_shoulder": (-0.5, -1.2),
        "left_elbow": (0.6, -0.6), "right_elbow": (-0.6, -0.6), "left_wrist": (0.6, 0.0), "right_wrist": (-0.6, 0.0),
        "left_hip": (0.3, 0.0), "right_hip": (-0.3, 0.0), "left_knee": (0.3, 0.9), "right_knee": (-0.3, 0.9),
        "left_ankle": (0.3, 1.8), "right_ankle": (-0.3, 1.8), "left_heel": (0.3, 1.85),
        "right_heel": (-0.3, 1.85), "left_foot_index": (0.4, 1.95), "right_foot_index": (-0.4, 1.95),
    }.items():
        pts[BODY[name], :2] = (cx + dx * u, cy + dy * u)
    return pts


def painted(people: list[tuple[np.ndarray, tuple[int, int, int], tuple[int, int, int]]]) -> np.ndarray:
    """A grey RGB image with each person's torso and legs painted in a shirt and a trousers colour."""
    image = np.full((360, 640, 3), 128, np.uint8)
    for pts, shirt, trousers in people:
        torso = pts[[11, 12, 24, 23], :2].astype(np.int32)
        cv2.fillConvexPoly(image, torso, shirt)
        for a, b in ((23, 25), (24, 26), (25, 27), (26, 28)):
            cv2.line(image, tuple(int(v) for v in pts[a, :2]), tuple(int(v) for v in pts[b, :2]), trousers, 14)
    return image


RED, BLUE, DARK, SAND = (200, 30, 30), (30, 60, 200), (40, 40, 40), (200, 180, 120)


def test_pick_parses_a_pixel_and_an_optional_frame() -> None:
    assert parse_pick("640,360") == PersonPick(640.0, 360.0, None)
    assert parse_pick(" 12.5 , 7 @ 120 ") == PersonPick(12.5, 7.0, 120)
    assert str(parse_pick("640,360@12")) == "640,360@12"
    assert person_pick("640.0, 360 @12") == "640,360@12"  # the option's argparse type writes it back plainly
    for bad in ("640", "a,b", "640,360@x", "-1,5", "1,2,3", ""):
        with pytest.raises(MocapError, match="--person"):
            parse_pick(bad)
        with pytest.raises(argparse.ArgumentTypeError):
            person_pick(bad)


def test_region_is_upright_for_a_standing_body_and_turned_for_an_inverted_one() -> None:
    up = region_of(standing(300, 200))
    assert up is not None and abs(up[3]) < 1e-6 and np.allclose(up[:2], (300, 200))
    inverted = standing(300, 200)
    inverted[:, :2] = 2 * np.array([300, 200]) - inverted[:, :2]  # turned 180 degrees about the pelvis
    down = region_of(inverted)
    assert down is not None and abs(abs(down[3]) - np.pi) < 1e-6 and np.isclose(down[2], up[2])


def test_looks_tell_two_people_apart_and_the_same_one_in_another_place() -> None:
    a, b = standing(200, 180), standing(450, 180)
    image = painted([(a, RED, DARK), (b, BLUE, SAND)])
    sig_a, sig_b = appearance(image, a), appearance(image, b)
    moved = standing(420, 200)
    again = appearance(painted([(moved, RED, DARK)]), moved)
    assert appearance_distance(sig_a, again) < 0.2
    assert appearance_distance(sig_a, sig_b) > 0.8
    legs_only = a.copy()
    legs_only[[11, 12], 2] = 0.1  # shoulders unseen: the torso is left out, the legs still compare
    assert np.isnan(appearance(image, legs_only)[0]).all()
    assert appearance_distance(appearance(image, legs_only), sig_a) < 0.05


def test_identity_takes_who_is_near_and_after_a_long_loss_who_looks_like_them() -> None:
    a = standing(200, 180)
    image = painted([(a, RED, DARK)])
    person = Identity()
    person.see(region_of(a), appearance(image, a))
    for step in range(1, 4):  # walking right 10 px a frame
        person.see(region_of(standing(200 + 10 * step, 180)))
    assert person.gap(region_of(standing(240, 180))) < 0.05  # where the velocity says
    stranger = standing(520, 180)
    assert person.accepts(region_of(standing(245, 182)))
    assert not person.accepts(region_of(stranger))  # far away: not them, however they look
    other_looks = appearance(painted([(stranger, BLUE, SAND)]), stranger)
    same_looks = appearance(painted([(stranger, RED, DARK)]), stranger)
    for _ in range(LOST_FRAMES):
        person.miss()
    assert not person.accepts(region_of(stranger), other_looks)
    assert person.accepts(region_of(stranger), same_looks)


def test_a_first_misreading_does_not_become_the_persons_looks() -> None:
    """The first readings of a person can be wrong (the demo's man read lying on his side, colours cut
    out along that reading): the next looks replace them, and only then do looks judge anyone. Before,
    the first look stayed, every right reading after it was a doubt, and a misreading a 'rival'."""
    a = standing(200, 180)
    wrong = appearance(painted([(a, BLUE, SAND)]), a)
    right = appearance(painted([(a, RED, DARK)]), a)
    person = Identity()
    person.see(region_of(a), wrong)
    assert not person.settled
    for _ in range(SETTLE_LOOKS - 1):
        person.see(region_of(a), right)
    assert person.settled
    assert person.looks_like(right) is True and person.looks_like(wrong) is False
    assert person.stranger().settled  # the same person, looked for elsewhere in the clip


def test_pick_distance_is_zero_on_the_person_and_grows_away_from_them() -> None:
    a = standing(200, 180)
    assert pick_distance(np.array([200.0, 150.0]), a) == 0.0
    assert pick_distance(np.array([400.0, 180.0]), a) > 150


def _sequence(body_2d: np.ndarray, size=(640, 360)) -> PoseSequence:
    seq = PoseSequence.empty(len(body_2d), 30.0, size)
    seq.body_2d = body_2d.astype(np.float32)
    seq.body_world[..., 3] = body_2d[..., 2]
    seq.body_world[..., :3] = 0.0
    seq.present[:] = True
    return seq


def test_landmarks_outside_the_frame_are_unseen_and_the_frame_low_confidence() -> None:
    # A person cut off at the waist: the model places the legs below the frame, often fairly "visible".
    body = np.stack([standing(320, 330, height=300, vis=0.9)] * 4)
    seq = _sequence(body)
    assert (seen_confidence(seq.body_2d) > 0.8).all()
    changed = mark_outside(seq)
    legs = [BODY[n] for n in ("left_knee", "right_knee", "left_ankle", "right_ankle")]
    assert changed >= 4 * 4 and (seq.body_2d[:, legs, 2] == 0).all() and (seq.body_world[:, legs, 3] == 0).all()
    assert (seq.body_2d[:, BODY["left_shoulder"], 2] == np.float32(0.9)).all()
    assert (seen_confidence(seq.body_2d) < 0.5).all()  # the motion file's red (low-confidence) keys


def test_one_hidden_leg_is_normal_but_two_are_not() -> None:
    body = np.stack([standing(320, 180, vis=0.95)] * 2)
    body[0, [BODY["left_knee"], BODY["left_ankle"]], 2] = 0.05
    body[1, [BODY[n] for n in ("left_knee", "left_ankle", "right_knee", "right_ankle")], 2] = 0.05
    conf = seen_confidence(body)
    assert conf[0] > 0.7 and conf[1] < 0.1


def test_a_mostly_invented_take_says_so() -> None:
    T = 20
    body = np.stack([standing(320, 180)] * T)
    present = np.ones(T, bool)
    bridged = np.zeros(T, bool)
    assert invented_warnings(np.arange(T), present, bridged, body) == []
    bridged[:7] = True  # 35 %
    (warning,) = invented_warnings(np.arange(T), present, bridged, body)
    assert "mostly invented" in warning and "7 of 20" in warning
    bridged[:] = False
    body[:12, [BODY[n] for n in ("left_knee", "left_ankle", "right_knee", "right_ankle")], 2] = 0.02
    (warning,) = invented_warnings(np.arange(T), present, bridged, body)
    assert "legs are out of view" in warning and "12 of 20" in warning


def test_a_missing_person_is_searched_for_on_the_next_frames_then_every_few() -> None:
    """Lost, the person is searched for on the first two missing frames (a flip often loses them for one),
    then every SEARCH_EVERY frames: one who left costs a third of the searches, and one who comes back
    is found within SEARCH_EVERY frames."""
    who = Identity()
    assert who.search_due()  # nobody known yet: search until someone is found
    who.see(region_of(standing(300, 200)))
    searched = []
    for frame in range(20):
        if who.search_due():
            searched.append(frame)
        who.miss()
    assert searched[:2] == [0, 1]
    assert np.diff(searched[1:]).tolist() == [SEARCH_EVERY] * (len(searched) - 2)
    who.see(region_of(standing(300, 200)))
    assert who.search_due()



def _placed(cx: float, cy: float, height: float = 200.0) -> np.ndarray:
    """``standing``, the landmarks it does not place (left at 0, 0) unseen."""
    pts = standing(cx, cy, height)
    pts[(pts[:, :2] == 0).all(1), 2] = 0.0
    return pts


def test_after_a_loss_someone_beyond_the_persons_first_reach_must_look_like_them() -> None:
    """The rendered three-person crossing: the far walker, hidden ten frames behind the walker in front, was
    taken to be the jumper found 0.53 region sides from where he was going (within a reach grown by the
    missing frames) who did not look like him (0.68), and followed for the rest of the clip."""
    a = _placed(200, 180)
    person = Identity()
    for _ in range(SETTLE_LOOKS):
        person.see(region_of(a), appearance(painted([(a, RED, DARK)]), a), body_size(a))
    for _ in range(10):
        person.miss()
    side = person.region[2]
    there = _placed(200 + 0.55 * side, 180)
    assert person.near(region_of(there))  # the place alone would take anyone there
    someone = appearance(painted([(there, BLUE, SAND)]), there)
    assert not person.accepts(region_of(there), someone, body_size(there))
    assert person.accepts(region_of(there), appearance(painted([(there, RED, DARK)]), there), body_size(there))
    close = _placed(200 + 0.2 * side, 180)  # within the first reach, the place decides (looks change: a flip)
    assert person.accepts(region_of(close), appearance(painted([(close, BLUE, SAND)]), close), body_size(close))


def test_someone_who_hid_the_person_does_not_take_their_place_while_they_are_hidden() -> None:
    """The rendered three-person crossing: the far walker's crop slid onto the jumper passing in front of him
    (larger, unlike him: refused), then a search on that frame took a reading of a part of the jumper (smaller,
    where the walker should be) for him, and the jumper was followed for the rest of the clip. The body refused
    is now known to hide him: while it does, nobody unlike him takes the track; he does, when he looks like himself."""
    person = Identity()
    for step in range(SETTLE_LOOKS + 2):  # walking left 3 px a frame, seen and looked at
        a = _placed(300 - 3 * step, 180)
        person.see(region_of(a), appearance(painted([(a, RED, DARK)]), a), body_size(a))
    assert person.settled
    front = _placed(290, 175, 260.0)  # the jumper in front, over the walker's place
    front_looks = appearance(painted([(front, BLUE, SAND)]), front)
    checked = person.check(region_of(front), body_size(front), lambda: front_looks, due=True, doubt=False)
    assert not checked.accepted  # larger and unlike him: refused already before
    person.slid(region_of(front), checked, doubt=False)
    part = _placed(284, 170, 150.0)  # a crop's reading of a part of the jumper: smaller, where he should be
    part_looks = appearance(painted([(part, BLUE, SAND)]), part)
    assert not person.accepts(region_of(part), part_looks, body_size(part))
    person.miss()
    assert not person.accepts(region_of(part), part_looks, body_size(part))
    back = _placed(280, 180)  # the walker coming out from behind, looking like himself
    back_looks = appearance(painted([(back, RED, DARK)]), back)
    assert person.accepts(region_of(back), back_looks, body_size(back))
    person.see(region_of(back), back_looks, body_size(back))
    assert person.occluder is None  # seen again: the next body in front is judged afresh
