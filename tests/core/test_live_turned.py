"""The live turned look (core.live.turned): the man upside down in the demo's flip is found by the landmark network
on his crop turned four ways, where MediaPipe (tracking, and static in a crop) finds nobody."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.landmarks import BODY
from tests.testdata.live_frames import letterboxed_frames

MID_FLIP = range(168, 181)
"""The demo's frames where the man is in the air, turning (MediaPipe's tracker lost him on 167)."""
HIPS = [BODY["left_hip"], BODY["right_hip"]]
SHOULDERS = [BODY["left_shoulder"], BODY["right_shoulder"]]


def _turn(points: np.ndarray) -> float:
    """Degrees the hips-to-shoulders axis of (33, >=2) points (x right, y down) is turned from up."""
    up = points[SHOULDERS, :2].mean(0) - points[HIPS, :2].mean(0)
    return math.degrees(math.atan2(up[0], -up[1]))


def _live(demo_video, turned_look: bool) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray], int]:
    """The demo letterboxed into 640x480 (as the live bench plays it), frames 0-185, through the live engine's
    pose, follow and second looks (the turned look first, as the engine, or the crop's alone): the body taken
    for the man on each frame of the flip found again by a second look (2D, world), and the turned looks' count."""
    pytest.importorskip("cv2")
    pytest.importorskip("torch")
    from core.live.follow import LiveFollow
    from core.live.pose import FramePose
    from core.live.search import SEARCH_SECONDS, CropSearch
    from core.live.turned import TurnedSearch

    follow, turned = LiveFollow(), TurnedSearch(SEARCH_SECONDS)
    found_2d: dict[int, np.ndarray] = {}
    found_world: dict[int, np.ndarray] = {}
    with FramePose() as pose, CropSearch() as search:
        for index, rgb in letterboxed_frames(demo_video, 186):
            seq = pose.process(follow.frame(rgb), index, 30.0)
            if follow.check(rgb, seq, index / 30.0):
                continue
            found = turned(rgb, follow, index, 30.0) if turned_look else None
            found = found or search(rgb, follow, index, 30.0)
            if found is not None:
                found_2d[index], found_world[index] = found.body_2d[0].copy(), found.body_world[0].copy()
    return found_2d, found_world, turned.found


def test_the_man_is_found_upside_down_mid_flip_with_his_world_landmarks_turned_as_in_the_picture(demo_video) -> None:
    found_2d, found_world, by_turned = _live(demo_video, turned_look=True)
    mid = [i for i in MID_FLIP if i in found_2d]
    assert len(mid) >= 8 and by_turned >= len(mid)  # the crop's look alone finds him on none of them (below)
    for i in mid:
        assert found_2d[i][HIPS, 0].mean() > 250.0  # the man (x 280-420 in the air), never the woman (under 130)
        # The world landmarks are in the picture's view, not the turned crop's: their trunk turns as the 2D one.
        off = (_turn(found_world[i]) - _turn(found_2d[i]) + 180.0) % 360.0 - 180.0
        assert abs(off) < 30.0, (i, off)
    assert max(abs(_turn(found_2d[i])) for i in mid) > 120.0  # upside down on some of them



class OneReading:
    """Stands in for the torch backend's networks (``BodyModels.landmarks``): every crop reads the same body,
    ``points`` (33, 3: pixels of a ``width`` x ``height`` frame, visibility), present."""

    def __init__(self, points: np.ndarray, width: int, height: int) -> None:
        self.points, self.width, self.height = points, width, height

    def landmarks(self, images: list[np.ndarray], rois: np.ndarray, mirror_average: bool = False):
        n = len(rois)
        lms = np.zeros((n, 39, 5))
        lms[:, :33, 0] = self.points[:, 0] / self.width
        lms[:, :33, 1] = self.points[:, 1] / self.height
        lms[:, :33, 3:5] = self.points[:, 2:3]
        hips, shoulders = self.points[HIPS, :2].mean(0), self.points[SHOULDERS, :2].mean(0)
        lms[:, 33, :2] = hips / (self.width, self.height)  # the alignment points: the next crop
        lms[:, 34, :2] = (2 * shoulders - hips) / (self.width, self.height)
        worlds = np.zeros((n, 39, 3))
        worlds[:, :33, :2] = (self.points[:, :2] - hips) / 500.0
        return np.ones(n), lms, worlds


def lying(cx: float, cy: float, height: float) -> np.ndarray:
    """``test_live_follow.standing`` turned 90 degrees about the pelvis: a body lying, head to the right."""
    from tests.core.test_live_follow import standing

    pts = standing(cx, cy, height)
    seen = ~((pts[:, 0] == 0) & (pts[:, 1] == 0))
    x, y = pts[seen, 0] - cx, pts[seen, 1] - cy
    pts[seen, 0], pts[seen, 1] = cx - y, cy + x
    return pts


def _followed(body, n: int = 10):
    """A LiveFollow that has seen ``body(300, 170, height=120)`` on ``n`` frames (as MediaPipe's)."""
    from core.landmarks import PoseSequence
    from core.live.follow import LiveFollow
    from tests.core.test_person import BLUE, RED, painted

    follow = LiveFollow()
    for i in range(n):
        pts = body(300, 170, height=120)
        seq = PoseSequence.empty(1, 30.0, (640, 360))
        seq.present[0], seq.body_2d[0] = True, pts
        assert follow.check(painted([(pts, RED, BLUE)]), seq, i / 30.0)
    return follow


def test_a_reading_shrinking_frame_by_frame_is_not_followed_below_half_the_person() -> None:
    """The man (120 px long, lying) is followed for 10 frames, then MediaPipe finds nobody, and the turned look reads
    a body where he should be a fifth smaller each frame: each reading is near enough the last one's size, but
    under half of his as MediaPipe last saw him it is not him. (A crop followed so off the picture's edge on the
    speed run's clip: MediaPipe's body of the man was then far from where he was expected, and the woman was
    streamed.)"""
    pytest.importorskip("cv2")
    pytest.importorskip("torch")
    from core.landmarks import PoseSequence
    from core.live.turned import TurnedSearch
    from tests.core.test_person import BLUE, RED, painted

    follow = _followed(lying)
    network = OneReading(lying(300, 170, height=120), 640, 360)
    look = TurnedSearch(1.0, models=network)
    taken = []
    for i, height in enumerate((96.0, 77.0, 61.0, 49.0, 39.0), start=10):
        network.points = lying(300, 170, height=height)
        image = painted([(network.points, RED, BLUE)])
        assert not follow.check(image, PoseSequence.empty(1, 30.0, (640, 360)), i / 30.0)
        taken.append(look(image, follow, i, 30.0) is not None)
    assert taken == [True, True, True, False, False]


@pytest.mark.parametrize("posture, taken", [("standing", False), ("lying", True)])
def test_an_upright_person_expected_upright_is_left_to_the_crop_look(posture: str, taken: bool) -> None:
    """MediaPipe misses a frame of a man standing: the turned look does not look (an upright person is the crop
    look's to find, MediaPipe's detector first); for a man lying, it does and finds him."""
    pytest.importorskip("cv2")
    pytest.importorskip("torch")
    from core.landmarks import PoseSequence
    from core.live.turned import TurnedSearch
    from tests.core.test_live_follow import standing
    from tests.core.test_person import BLUE, RED, painted

    body = standing if posture == "standing" else lying
    follow = _followed(body)
    reading = body(302, 171, height=120)
    image = painted([(reading, RED, BLUE)])
    assert not follow.check(image, PoseSequence.empty(1, 30.0, (640, 360)), 10 / 30.0)
    look = TurnedSearch(1.0, models=OneReading(reading, 640, 360))
    assert (look(image, follow, 10, 30.0) is not None) == taken and look.looks == int(taken)


def test_networks_that_cannot_be_loaded_leave_the_session_without_the_turned_look(monkeypatch) -> None:
    """A torch that fails to load (a broken install) is no crash in the pose thread: the look finds nothing, and
    ``error`` says why (the session ends with it as a warning)."""
    from core.live import turned as turned_module

    def broken(self) -> None:
        self.error = "the turned look's networks could not be loaded: no torch"

    monkeypatch.setattr(turned_module.TurnedSearch, "_load", broken)
    for wait in (False, True):
        look = turned_module.TurnedSearch(1.0, wait=wait).load()
        look.close()
        rgb = np.zeros((480, 640, 3), np.uint8)
        assert look.readings(rgb, np.array([[0.5, 0.5, 0.3, 0.3, 0.0]]), 0.0, 0, 30.0) == []
        assert look.models() is None and not look.ready and "no torch" in (look.error or "")
