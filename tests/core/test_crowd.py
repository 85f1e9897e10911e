"""Everyone's IDs (core.crowd): synthetic people with painted clothes crossing, leaving, coming back. No networks."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cv2")
pytest.importorskip("scipy")

from core.crowd import Candidate, Crowd  # noqa: E402
from core.person import appearance, body_size, region_of  # noqa: E402
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
    return [Candidate(region_of(pts), appearance(image, pts), body_size(pts)) for pts, _, _ in poses]


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
    # Coming out from behind A, B is taken back once clear of him (pelvises a quarter of A's region side apart):
    # a real crop on someone half hidden reads a blend of the two (test below).
    clear = 0.25 * region_of(_seen(standing(300.0, 200.0)))[2]
    overlapping = {row for row in b_of if abs(800 * row / (frames - 1) - 400) < clear}
    assert overlapping  # B was read while overlapping A
    # B's own readings (B's size, not one between the two) are B's, overlapping or not.
    assert set(a_of.values()) == {0} and set(b_of.values()) == {1}
    assert crowd.people() == [0, 1]


def test_someone_first_seen_in_front_of_a_tracked_person_gets_their_own_track() -> None:
    """A (170 px) is tracked; from frame 10, C (230 px, nearer the camera) stands just in front of A. C's reading
    overlaps A's and is larger than A: it is C, not a blend read over A (A's own reading is there too)."""
    crowd = Crowd(30.0)
    owners = [crowd.step(row, candidates([(300.0, GREEN, YELLOW, 170.0)]
                                         + ([(315.0, RED, BLUE, 230.0)] if row >= 10 else [])))
              for row in range(40)]
    assert all(o == [0] for o in owners[:10])
    assert all(o == [0, 1] for o in owners[10:]), owners[10:]


def test_a_smaller_person_beside_a_larger_one_keeps_their_readings_after_one_missed_frame() -> None:
    """A couple dance side by side, pelvises 20 px apart: S (160 px) beside L (200 px). The detector misses S on
    frame 20; from frame 21 S's own readings (S's size) are S's again, not dropped as blends over L."""
    crowd = Crowd(30.0)
    s_of = {}
    for row in range(60):
        xl = 300.0 + 10.0 * np.sin(row / 5.0)
        people = [(xl, RED, BLUE)] + ([(xl + 20.0, GREEN, YELLOW, 160.0)] if row != 20 else [])
        owners = crowd.step(row, candidates(people))
        assert owners[0] == 0
        if row != 20:
            s_of[row] = owners[1]
    assert set(s_of.values()) == {1}, {row: o for row, o in s_of.items() if o != 1}


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
    assert crowd.people() == [0, 1]  # the glimpse (under half a second) is gone


def test_a_hidden_persons_track_never_takes_a_body_read_over_whoever_hides_them() -> None:
    """The rendered two-person crossing: as the far walker goes behind the near one and as he comes out, a crop on
    him reads a body between the two, of the near walker's size, in a blend of their clothes; his take, bridged
    between two such readings, passed nearer the near walker than himself (two ID switches). Here B (150 px, far)
    walks left behind A (200 px, near) walking right: while their pelvises are within a quarter of A's region side,
    B is read as such a blend, or not at all (hidden). B's track holds only B's own readings, A's only A's, and B
    keeps his ID when he is clear again."""
    crowd = Crowd()
    side = region_of(_seen(standing(300.0, 205.0, 200.0)))[2]
    b_rows = {}
    for row in range(60):
        xa, xb = 150.0 + 5 * row, 450.0 - 3 * row
        a = standing(xa, 205.0, 200.0)
        b = standing(xb, 195.0, 150.0)
        poses = [(a, RED, BLUE)]
        if abs(xa - xb) >= 30:
            poses.insert(0, (b, GREEN, YELLOW))  # behind A: A is painted over him
        image = painted(poses)
        people = [(a, "A")]
        if abs(xa - xb) >= 0.25 * side:
            people.append((b, "B"))
        elif abs(xa - xb) >= 30:  # half hidden: read a third of the way to A, A's size, a little lower
            blend = standing(xb + (xa - xb) / 3, 201.0, 200.0)
            people.append((blend, "blend"))
        for pts, _ in people:
            pts[(pts[:, :2] == 0).all(1), 2] = 0.0
        found = [Candidate(region_of(pts), appearance(image, pts), body_size(pts)) for pts, _ in people]
        owners = crowd.step(row, found)
        for owner, (pts, who) in zip(owners, people):
            if who == "A":
                assert owner == 0, row
            elif who == "B":
                b_rows[row] = owner
            else:
                assert owner != 1, f"row {row}: B's track took a body read over A and him"
    assert set(b_rows.values()) == {1} and max(b_rows) == 59  # B's ID before and after, and found again
    assert crowd.people() == [0, 1]


def test_how_long_a_person_may_be_missing_is_counted_in_seconds_not_frames() -> None:
    """At 60 fps a person hidden for a third of a second (20 frames) is still where they were going, not lost:
    coming back there with looks that cannot be read (their clothes in shadow), they keep their ID, as at 30 fps
    after 10 frames. A person gone for over half a second is claimed by their looks alone."""
    for fps, hidden in ((30.0, 10), (60.0, 20)):
        crowd = Crowd(fps)
        for row in range(30):
            crowd.step(row, candidates([(200.0 + 2 * row, RED, BLUE)]))
        for row in range(30, 30 + hidden):
            crowd.step(row, [])
        row = 30 + hidden
        back = Candidate(candidates([(200.0 + 2 * row, RED, BLUE)])[0].region)  # no signature
        assert crowd.step(row, [back]) == [0], fps
    crowd = Crowd(60.0)
    for row in range(30):
        crowd.step(row, candidates([(200.0 + row, RED, BLUE)]))
    for row in range(30, 70):
        crowd.step(row, [])
    assert crowd.step(70, [Candidate(candidates([(240.0, RED, BLUE)])[0].region)]) == [1]  # lost: looks or nobody
    with pytest.raises(ValueError, match="frame rate"):
        Crowd(0.0)


class _Reads:
    """The landmark model, for ``core.pose_torch.people.PeopleTracker``: in an upright crop centred within 0.15 of its
    side of a person's pelvis it reads that person (the one in front where two are there), with the two auxiliary
    landmarks that place their next crop; nobody elsewhere. ``people``: this frame's (33, 3) landmarks (pixels,
    visibility), nearest the camera first; ``image_size`` (w, h)."""

    def __init__(self, image_size: tuple[int, int]) -> None:
        self.people: list[np.ndarray] = []
        self.size = np.array(image_size, np.float64)

    def landmarks(self, images, rois, mirror_average=False):
        n = len(rois)
        flags, lms, worlds = np.zeros(n), np.full((n, 39, 5), 0.0), np.zeros((n, 39, 3))
        for k, roi in enumerate(rois):
            centre, side = roi[:2] * self.size, roi[2] * self.size[0]
            for pts in self.people:
                pelvis = pts[[23, 24], :2].mean(0)
                if np.hypot(*(centre - pelvis)) < 0.15 * side and abs(roi[4]) < 0.3:
                    flags[k] = 0.95
                    lms[k, :33, :2], lms[k, :33, 3] = pts[:, :2] / self.size, pts[:, 2]
                    reach = region_of(pts)[2] / 2.5  # aux: the pelvis and a point above it, as the model places them
                    lms[k, 33, :2], lms[k, 34, :2] = pelvis / self.size, (pelvis - [0, reach]) / self.size
                    break
        return flags, lms, worlds


def test_someone_the_detector_misses_is_found_again_after_someone_passes_in_front_of_them(monkeypatch) -> None:
    """``--people all`` on the rendered three-person crossing: the far walker, hidden for ten frames behind the walker
    in front, was not seen by the detector when he came out (frames 60-92), and his take bridged 28 frames where he
    was in full view. A missing person is looked for where they were going, as one followed person is."""
    pytest.importorskip("torch")
    from core.pose_torch import people
    from core.pose_torch.settings import TorchPoseSettings

    def far(row: int) -> np.ndarray:  # walking left, 150 px tall
        return _seen(standing(400 - 3 * row, 200, 150))

    def near(row: int) -> np.ndarray:  # walking right in front of him, 200 px tall
        return _seen(standing(200 + 5 * row, 205, 200))

    model = _Reads((640, 360))
    tracker = people.PeopleTracker(TorchPoseSettings(device="cpu", batch_size=1, hands=False), model)

    def detected(models, image, score):  # both on the first frame, then nobody (the far walker's face turned away)
        if tracker.crowd.tracks:
            return []
        size = np.array([640.0, 360.0])
        return [(0.9, people.body.roi_from_points(pelvis / size, (pelvis - [0, region_of(p)[2] / 2.5]) / size, *size))
                for p in model.people for pelvis in [p[[23, 24], :2].mean(0)]]

    monkeypatch.setattr(people, "detect_everywhere", detected)
    for row in range(50):
        hidden = abs((400 - 3 * row) - (200 + 5 * row)) < 40  # behind the near walker, rows 20-29
        model.people = [near(row)] + ([] if hidden else [far(row)])
        image = painted(([] if hidden else [(far(row), GREEN, YELLOW)]) + [(near(row), RED, BLUE)])
        tracker.step(image, row)
    result = tracker.result(50)
    assert result.present.shape[0] == 2  # two people, no one else
    far_id = next(p for p in range(2) if np.nanmean(result.landmarks[p, 0, [23, 24], 0]) * 640 > 300)
    # Found again within a search of coming out clear of the near walker (pelvises a quarter of his region side
    # apart: until then a real crop on him reads a blend of the two, ``core.crowd.Track.blend``).
    clear = next(row for row in range(30, 50) if abs(8 * row - 200) >= 0.25 * region_of(near(row))[2])
    back = [row for row in range(clear, 50) if not result.present[far_id, row]]
    assert len(back) <= 2, (clear, back)
    pelvis = result.landmarks[far_id, 49, [23, 24], :2].mean(0) * [640, 360]
    assert np.hypot(*(pelvis - far(49)[[23, 24], :2].mean(0))) < 5.0


def _seen(pts: np.ndarray) -> np.ndarray:
    pts[(pts[:, :2] == 0).all(1), 2] = 0.0  # landmarks standing() does not place are not seen
    return pts
