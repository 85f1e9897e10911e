"""The live turned look (core.live.turned): the man upside down in the demo's flip is found by the landmark network
on his crop turned four ways, where MediaPipe (tracking, and static in a crop) finds nobody."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.landmarks import BODY

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
    cv2 = pytest.importorskip("cv2")
    from core.live.follow import LiveFollow
    from core.live.pose import FramePose
    from core.live.search import SEARCH_SECONDS, CropSearch
    from core.live.turned import TurnedSearch

    cap = cv2.VideoCapture(str(demo_video))
    follow, turned = LiveFollow(), TurnedSearch(SEARCH_SECONDS)
    found_2d: dict[int, np.ndarray] = {}
    found_world: dict[int, np.ndarray] = {}
    with FramePose() as pose, CropSearch() as search:
        for index in range(186):
            ok, bgr = cap.read()
            assert ok
            small = cv2.resize(bgr, (640, 360), interpolation=cv2.INTER_AREA)
            rgb = cv2.cvtColor(cv2.copyMakeBorder(small, 60, 60, 0, 0, cv2.BORDER_CONSTANT), cv2.COLOR_BGR2RGB)
            seq = pose.process(follow.frame(rgb), index, 30.0)
            if follow.check(rgb, seq, index / 30.0):
                continue
            found = turned(rgb, follow, index, 30.0) if turned_look else None
            found = found or search(rgb, follow, index, 30.0)
            if found is not None:
                found_2d[index], found_world[index] = found.body_2d[0].copy(), found.body_world[0].copy()
    cap.release()
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

