"""A live session keeps to the first person found (core.live.follow): synthetic frames, a stand-in tracker."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("cv2")

from core.landmarks import PoseSequence  # noqa: E402
from core.live.follow import FORGET_FRAMES, FORGET_SECONDS, MASK_GREY, LiveFollow  # noqa: E402
from core.person import LOST_FRAMES  # noqa: E402
from tests.core.test_person import BLUE, RED, SAND, painted  # noqa: E402
from tests.core.test_person import standing as standing_all  # noqa: E402

GREEN = (40, 170, 60)


def standing(cx: float, cy: float, height: float) -> np.ndarray:
    """``test_person.standing`` with the landmarks it does not place (hands, mouth) unseen, as MediaPipe's
    would be at this size."""
    pts = standing_all(cx, cy, height)
    pts[(pts[:, 0] == 0) & (pts[:, 1] == 0), 2] = 0.0
    return pts


class TrackerLikeMediaPipe:
    """MediaPipe Pose's behaviour reduced to what following needs: it keeps the person it holds while their
    torso is still in the picture it is given, else its detector takes the biggest person visible there."""

    def __init__(self) -> None:
        self.held: int | None = None

    def process(self, image: np.ndarray, people: list[np.ndarray], shown: list[bool]) -> PoseSequence:
        visible = [k for k, pts in enumerate(people) if shown[k] and self._visible(image, pts)]
        if self.held not in visible:
            self.held = max(visible, key=lambda k: np.ptp(people[k][:, 1])) if visible else None
        seq = PoseSequence.empty(1, 30.0, (image.shape[1], image.shape[0]))
        if self.held is not None:
            seq.present[0] = True
            seq.body_2d[0] = people[self.held]
        return seq

    @staticmethod
    def _visible(image: np.ndarray, pts: np.ndarray) -> bool:
        x, y = pts[[11, 12, 23, 24], :2].mean(0).astype(int)
        return bool((image[y, x] != MASK_GREY).any())


def run(frames: list[tuple[list[np.ndarray], list[bool]]], follow: LiveFollow | None) -> list[int | None]:
    """Who the live session took, frame by frame (0: the red man, 1: the green passer-by; None: nobody)."""
    tracker = TrackerLikeMediaPipe()
    colours = [(RED, BLUE), (GREEN, SAND)]
    taken: list[int | None] = []
    for people, shown in frames:
        image = painted([(pts, *colours[k]) for k, pts in enumerate(people) if shown[k]])
        seq = tracker.process(follow.frame(image) if follow is not None else image, people, shown)
        if follow is not None:
            follow.check(image, seq)
        taken.append(tracker.held if seq.present[0] else None)
    return taken


def clip() -> list[tuple[list[np.ndarray], list[bool]]]:
    """The man stands at x 150 (frames 0-29), is out of sight (30-44: behind a tree, in the air), and comes
    back further right (45-): by then a bigger, nearer passer-by has walked in on the right (from frame 30)."""
    frames = []
    for i in range(70):
        man = standing(150 + (4 * (i - 44) if i >= 45 else 0), 170, height=120)
        woman = standing(560 - 3 * max(i - 30, 0), 160, height=170)
        frames.append(([man, woman], [i < 30 or i >= 45, i >= 30]))
    return frames


def test_a_nearer_passer_by_does_not_take_the_stream_and_the_person_is_found_again() -> None:
    follow = LiveFollow()
    taken = run(clip(), follow)
    assert taken[:30] == [0] * 30
    assert set(taken[30:45]) == {None}  # the passer-by was found, and streamed as nobody: the last pose held
    assert follow.rejected >= 1 and follow.masked >= 10
    assert taken[46:] == [0] * 24  # the man is back in the stream, the passer-by still in view
    # Without following, the stream goes to the passer-by and stays with her.
    assert run(clip(), None)[30:] == [1] * 40


def test_the_stranger_is_greyed_out_only_while_the_person_is_missing() -> None:
    follow = LiveFollow()
    frames = clip()
    tracker = TrackerLikeMediaPipe()
    colours = [(RED, BLUE), (GREEN, SAND)]
    for i, (people, shown) in enumerate(frames[:36]):
        image = painted([(pts, *colours[k]) for k, pts in enumerate(people) if shown[k]])
        seen = follow.frame(image)
        if i <= 30:
            assert seen is image  # the person seen, or nobody known to grey out yet
        else:
            woman = people[1][[23, 24], :2].mean(0).astype(int)
            assert (seen[woman[1], woman[0]] == MASK_GREY).all() and (image[woman[1], woman[0]] != MASK_GREY).any()
        follow.check(image, tracker.process(seen, people, shown))


def test_someone_near_where_the_person_was_is_taken_back_and_anyone_but_the_stranger_once_lost() -> None:
    follow = LiveFollow()

    def check(pts: np.ndarray | None, colours: tuple = (RED, BLUE)) -> bool:
        """The follower's verdict on a frame where MediaPipe found ``pts`` (painted in ``colours``)."""
        seq = PoseSequence.empty(1, 30.0, (640, 360))
        image = painted([] if pts is None else [(pts, *colours)])
        if pts is not None:
            seq.present[0] = True
            seq.body_2d[0] = pts
        return follow.check(image, seq)

    for _ in range(10):
        assert check(standing(150, 170, height=120))
    assert not check(standing(500, 170, height=160), (GREEN, SAND))  # far away: someone else
    assert follow.stranger is not None
    assert check(standing(160, 172, height=120))  # where he was: him
    for _ in range(LOST_FRAMES):
        check(None)
    assert not check(standing(505, 170, height=160), (GREEN, SAND))  # lost: still not the stranger
    assert check(standing(320, 200, height=100))  # lost: anyone else is him
    for _ in range(FORGET_FRAMES):
        check(None)
    assert check(standing(505, 170, height=160), (GREEN, SAND))  # he has left: whoever comes next is followed


def test_a_frame_the_second_look_gives_back_is_not_counted_as_lost_to_someone_else() -> None:
    """The tracker takes the passer-by on one frame; the second look (``core.live.search``) finds the man on
    it: that frame streams him, so ``frames_someone_else`` (``rejected``) does not count it, only
    ``frames_found_again`` does."""
    follow = LiveFollow()
    frames = clip()
    taken = run(frames[:30], follow)
    assert taken == [0] * 30
    (man, woman), _ = frames[30]
    image = painted([(man, RED, BLUE), (woman, GREEN, SAND)])
    theirs = PoseSequence.empty(1, 30.0, (image.shape[1], image.shape[0]))
    theirs.present[0], theirs.body_2d[0] = True, woman
    assert not follow.check(image, theirs) and follow.rejected == 1
    found = PoseSequence.empty(1, 30.0, (image.shape[1], image.shape[0]))
    found.present[0], found.body_2d[0] = True, man
    assert follow.take_back(image, found)
    assert follow.rejected == 0 and follow.identity.missing == 0


def test_an_engine_that_poses_few_frames_a_second_forgets_the_person_after_3_s_not_90_frames() -> None:
    """Under load the engine poses only the newest frame, 5 a second here: the man is gone (the clip's frames
    30-) and MediaPipe holds the passer-by, the stranger. Once he has been missing ``FORGET_SECONDS`` on the
    source's clock she is followed, not after 90 of the frames the engine got to (18 s of a held pose at 5 fps)."""
    follow = LiveFollow()
    frames = clip()
    tracker = TrackerLikeMediaPipe()
    colours = [(RED, BLUE), (GREEN, SAND)]
    taken: list[bool] = []
    for i, (people, shown) in enumerate(frames[:30] + [frames[30]] * 40):  # he does not come back
        image = painted([(pts, *colours[k]) for k, pts in enumerate(people) if shown[k]])
        taken.append(follow.check(image, tracker.process(follow.frame(image), people, shown), i / 5.0))
    assert all(taken[:30]) and not any(taken[30:44])
    # 3 s after the man was last seen (frame 29), 15 frames at 5 a second, he is forgotten; the frame he is
    # forgotten on was posed with her greyed out, the next one takes her
    assert all(taken[46:])
    assert 14 / 5.0 < FORGET_SECONDS <= 16 / 5.0 < FORGET_FRAMES / 5.0


def test_the_second_look_stops_1_s_after_the_person_was_last_seen_however_few_frames_the_engine_poses() -> None:
    """At 5 frames a second (an engine under load) the man is gone from frame 10: the second look
    (``core.live.search``, a static pose on a crop each) reads the frames of his first second missing, 5, not every
    frame until he is forgotten (14 here; it counted 30 frames: 6 s of frames costing two pose steps each at this
    rate, and frames dropped behind them)."""
    from core.live.search import SEARCH_SECONDS, CropSearch

    follow = LiveFollow()
    with CropSearch() as search:
        for i in range(40):
            pts = standing(150, 170, height=120) if i < 10 else None
            seq = PoseSequence.empty(1, 5.0, (640, 360))
            image = painted([] if pts is None else [(pts, RED, BLUE)])
            if pts is not None:
                seq.present[0], seq.body_2d[0] = True, pts
            if not follow.check(image, seq, i / 5.0):
                search(image, follow, i, 5.0)
    assert search.looks == round(SEARCH_SECONDS * 5.0) and search.found == 0
