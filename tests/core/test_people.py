"""``--people all`` end to end: a clip of two people crossing -> one motion file per person, each on them.

The clip is test_tracking's crossing (the demo's man twice, one copy in other colours, walking past each
other: their places swap and B hides A for a while), written as a video.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("scipy")
cv2 = pytest.importorskip("cv2")

from core.cli import main  # noqa: E402
from core.motion import read_motion  # noqa: E402
from core.people import person_path  # noqa: E402
from test_tracking import CANVAS, SCALE, crossing, demo_frames  # noqa: E402,F401 (fixtures)


def _write_video(frames: list[np.ndarray], path) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, CANVAS)
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()


def test_people_all_writes_one_motion_file_per_person_each_following_them(crossing, tmp_path):
    frames, truth, visible = crossing
    video = tmp_path / "crossing.mp4"
    _write_video(frames, video)
    out = tmp_path / "take.npz"
    code = main(["capture", str(video), "--out", str(out), "--people", "all", "--preset", "fast", "--stride", "1",
                 "--progress", "none"])
    assert code == 0
    assert not out.exists() and not person_path(out, 3).exists()
    motions = [read_motion(person_path(out, k)) for k in (1, 2)]
    # IDs by first appearance, then size: both are there from frame 0, the same size; person 1 is whoever the
    # tracker met first. Each file follows one person on every frame that person is seen.
    owners = []
    for motion in motions:
        pelvis = motion.keypoints_2d[:, [23, 24], :2].mean(1)
        rows = np.asarray(motion.frame_indices)
        seen = ~np.asarray(motion.bridged)
        gaps = np.linalg.norm(pelvis[:, None] - truth[rows], axis=-1)  # (T, 2 people)
        who = int(np.argmin(np.median(gaps[seen], axis=0)))
        owners.append(who)
        near = gaps[seen, who] < 0.1 * 375 * SCALE  # 10% of their height
        assert near[visible[rows[seen], who]].all(), rows[seen][~near]
        assert seen[visible[rows, who]].mean() >= 0.9  # found where they are seen, not carried by the fit
    assert sorted(owners) == [0, 1]
    # One world and one camera for both.
    np.testing.assert_allclose(motions[0].camera_extrinsics, motions[1].camera_extrinsics, atol=1e-9)
    np.testing.assert_allclose(motions[0].camera_intrinsics, motions[1].camera_intrinsics)


def test_people_all_poses_frames_decoded_ahead_in_a_thread_of_their_own(short_clip, tmp_path, monkeypatch):
    """The pose stage of ``--people all`` gets its frames from the read-ahead decoder (``core.pipeline``), as
    one person's does: each frame is decoded in another thread than the one posing it; nothing is left
    running and no file is written when the stage fails."""
    import threading

    import core.people
    import core.pose_torch.people
    from core.capture import CaptureSettings
    from core.errors import MocapError
    from core.people import capture_people

    real = core.people.iter_frames
    decoded_in: dict[int, threading.Thread] = {}
    posed_in: dict[int, threading.Thread] = {}

    def decoding(*args, **kwargs):
        for index, rgb in real(*args, **kwargs):
            decoded_in[index] = threading.current_thread()
            yield index, rgb

    def tracking(frames, **kwargs):
        for index, _ in frames:
            posed_in[index] = threading.current_thread()
        raise MocapError("stop after the frames")

    monkeypatch.setattr(core.people, "iter_frames", decoding)
    monkeypatch.setattr(core.pose_torch.people, "track_people", tracking)
    before = set(threading.enumerate())
    with pytest.raises(MocapError, match="stop after the frames"):
        capture_people(short_clip, tmp_path / "take.npz", CaptureSettings(people="all", max_frames=12, stride=1))
    assert sorted(posed_in) == sorted(decoded_in) == list(range(12))
    assert all(decoded_in[i] is not posed_in[i] for i in posed_in)
    assert set(threading.enumerate()) == before and list(tmp_path.iterdir()) == []


def _span(first: int, last: int):
    from core.landmarks import PoseSequence

    seq = PoseSequence.empty(last - first + 1, 30.0, (640, 360))
    seq.frame_indices = np.arange(first, last + 1, dtype=np.int64)
    return seq


def test_everyones_holistic_graphs_share_one_decoding_and_get_their_own_frames(short_clip, monkeypatch):
    """Each person's graph (a stand-in here) runs in a thread of its own on exactly their frames, from one
    decoding; results in ID order. A graph's error is the user's message and stops every thread."""
    import threading

    import core.people
    from core.capture import CaptureSettings
    from core.errors import MocapError
    from core.pipeline import Stages
    from core.video import open_video

    got: dict[int, list[int]] = {}
    where: dict[int, threading.Thread] = {}

    def graph(seq, settings, info, *, frames, fail_at=None, **kwargs):
        first = int(seq.frame_indices[0])
        got[first], where[first] = [], threading.current_thread()
        for index, _ in frames:
            if (first, index) == fail_at:
                raise MocapError(f"person from frame {first}: the graph broke at frame {index}")
            got[first].append(index)
        return seq

    info = open_video(short_clip)
    people = [_span(0, 40), _span(10, 59), _span(25, 30)]
    monkeypatch.setattr(core.people, "with_holistic", graph)
    before = set(threading.enumerate())
    with Stages() as stages:
        out = core.people.everyone_with_holistic(people, CaptureSettings(), info, stride=1, mirror=False,
                                                 stages=stages)
    assert out == people
    assert {k: (v[0], v[-1], len(v)) for k, v in got.items()} == {0: (0, 40, 41), 10: (10, 59, 50), 25: (25, 30, 6)}
    assert len(set(where.values())) == 3 and threading.current_thread() not in where.values()

    monkeypatch.setattr(core.people, "with_holistic", lambda seq, *a, **kw: graph(seq, *a, fail_at=(10, 12), **kw))
    with pytest.raises(MocapError, match="person from frame 10: the graph broke at frame 12"):
        with Stages() as stages:
            core.people.everyone_with_holistic(people, CaptureSettings(), info, stride=1, mirror=False,
                                               stages=stages)
    assert set(threading.enumerate()) == before
