"""The live stream's fixed lag (``--lag``, ``core.live.lag``): each pose 33 ms late, a line through its frames."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from core.live.filters import OneEuro
from core.live.lag import LAG_FRAME, FixedLag
from core.live.protocol import unpack
from core.live.solver import Solved
from core.rotations import axis_angle_to_quat_wxyz, quat_wxyz_to_axis_angle
from core.skeleton import JOINT_INDEX, NUM_JOINTS

ELBOW = JOINT_INDEX["left_elbow"]


def solved(angle: float, x: float) -> Solved:
    poses = np.zeros((NUM_JOINTS, 3), np.float32)
    poses[ELBOW, 0] = angle
    return Solved(poses=poses.reshape(-1), trans=np.array([x, 0.0, 1.0], np.float32), confidence=1.0,
                  camera_height=1.5, flags=0)


def test_a_lagged_pose_follows_a_steady_bend_exactly_and_averages_the_solves_jitter_out() -> None:
    """An elbow bending at a steady 2 degrees a frame, the root walking at 1 cm a frame: one frame late, each pose
    is its own frame's bend and the root where it was (the causal One Euro filter lags the bend); with 3 degrees
    of frame-to-frame jitter on the bend (the per-frame solve's, one way then the other), a lagged pose is within 1
    degree of its frame's bend."""
    steps = np.radians(2.0) * np.arange(60)
    jitter = np.radians(3.0) * (-1.0) ** np.arange(60)
    middle = list(range(5, 55))
    for noise in (0.0, 1.0):
        lag, filt = FixedLag[int](LAG_FRAME), OneEuro(1.0, beta=10.0)
        out, causal = {}, {}
        for t in range(60):
            angle = steps[t] + noise * jitter[t]
            late = lag(t, solved(angle, 0.01 * t), t / 30.0)
            q = filt(axis_angle_to_quat_wxyz(np.array([[angle, 0.0, 0.0]])), t / 30.0)
            causal[t] = quat_wxyz_to_axis_angle(q / np.linalg.norm(q))[0, 0]
            if t == 0:
                assert late is None  # the first frame waits for the next
                continue
            assert late is not None and late[0] == t - 1 and late[2] == pytest.approx((t - 1) / 30.0)
            out[t - 1] = late[1]
        error = np.degrees(np.array([out[t].poses.reshape(-1, 3)[ELBOW, 0] for t in middle]) - steps[middle])
        if noise == 0.0:
            assert np.abs(error).max() < 0.01  # no lag: the steady bend comes through where it is
            assert np.degrees(np.mean([causal[t] - steps[t] for t in middle])) < -0.5  # the causal filter lags it
            assert all(out[t].trans[0] == pytest.approx(0.01 * t, abs=1e-6) for t in middle)
        else:
            assert np.abs(error).max() < 1.0 + 0.01  # 3 degrees one way, the other, the first: 1 degree left


@pytest.mark.parametrize("rate", [15.0, 10.0, 20.0])
def test_a_slower_stream_is_as_late_as_a_30_fps_one_and_its_poses_are_where_the_bend_was_then(rate: float) -> None:
    """A 15, 10 or 20 fps stream, an elbow bending a steady 30 degrees a second: each pose shows the moment 33 ms
    before its newest frame (counted in frames, a 15 fps webcam's poses came 67 ms late, a 10 fps one's 100 ms),
    at that moment's bend, and the root where it was then."""
    lag = FixedLag[int](LAG_FRAME)
    sent = []
    for k in range(40):
        t = k / rate
        late = lag(k, solved(np.radians(30.0) * t, 0.5 * t), t)
        if late is not None:
            sent.append((t, *late))
    assert len(sent) == 39  # all but the first
    for newest, frame, pose, at in sent:
        assert newest - at == pytest.approx(1.0 / 30.0)  # 33 ms late, not a frame of this stream
        assert abs(frame / rate - at) <= 0.5 / rate + 1e-9  # the frame nearest the moment goes with it
        assert np.degrees(pose.poses.reshape(-1, 3)[ELBOW, 0]) == pytest.approx(30.0 * at, abs=0.01)
        assert pose.trans[0] == pytest.approx(0.5 * at, abs=1e-5)


def test_a_lagged_pose_is_its_moments_where_the_engine_solves_fewer_frames_than_the_source_gives() -> None:
    """Under load the engine solves 2 of every 3 source frames, then stalls for half a second: an elbow bending a
    steady degree a frame still comes through at its moment's bend, each pose 33 ms before the newest frame (an
    equal mean of the uneven window was a third of a degree off, one way then the other, and 4.5 degrees off
    beside the stall); after the stall, the newest frame as it is (no line drawn past the frames)."""
    solved_at = [t for t in range(60) if t % 3 != 2] + list(range(75, 90))
    lag = FixedLag[int](LAG_FRAME)
    error = []
    for t in solved_at:
        late = lag(t, solved(np.radians(1.0) * t, 0.01 * t), t / 30.0)
        if late is None:
            continue
        frame, pose, at = late
        assert t / 30.0 - at == pytest.approx(1.0 / 30.0)
        if t == 75:  # nothing within GAP before the moment: the newest frame as it is
            assert frame == 75 and np.degrees(pose.poses.reshape(-1, 3)[ELBOW, 0]) == pytest.approx(75.0, abs=0.01)
            continue
        error.append(np.degrees(pose.poses.reshape(-1, 3)[ELBOW, 0]) - 30.0 * at)
        assert pose.trans[0] == pytest.approx(0.3 * at, abs=1e-5)
    assert len(error) == len(solved_at) - 2
    assert np.abs(error).max() < 0.01, np.round(error, 2)


@pytest.mark.parametrize("rate, keep", [(30.0, 0.6), (30.0, 0.5), (60.0, 0.33), (15.0, 0.7), (30.0, 1.0)])
def test_uneven_solving_sends_increasing_frame_indices_each_the_frame_at_its_moment(rate: float, keep: float) -> None:
    """The engine under load solves 60%, half or a third of the source's frames, unevenly: each lagged pose goes as
    the source frame at its moment (halfway between two of a 15 fps stream's: the earlier), one frame index greater
    than the last at least (as the nearest solved frame's, solved 0, 3, 4, 7, 8 sent 3, 3, 7, 7 and Blender could
    not build the recording), never past the newest frame solved."""
    from core.live.session import moment_index
    from core.live.source import SourceFrame

    rgb = np.zeros((1, 1, 3), np.uint8)
    rng = np.random.default_rng(0)
    pattern = [0, 3, 4, 7, 8, 11, 12]
    solved_at = pattern if keep == 1.0 else [k for k in range(600) if k == 0 or rng.random() < keep]
    lag = FixedLag[SourceFrame](LAG_FRAME)
    sent: list[int] = []
    for k in solved_at:
        frame = SourceFrame(k, k / rate, 0.0, rgb)
        late = lag(frame, solved(0.0, 0.0), frame.time)
        if late is None:
            continue
        index = moment_index(late[0], late[2], rate, k, sent[-1] if sent else None)
        assert index <= k
        assert index == int(np.floor(late[2] * rate + 0.5 - 1e-6))  # the frame at the moment shown
        sent.append(index)
    assert len(sent) == len(solved_at) - 1 and np.all(np.diff(sent) > 0)
    if keep == 1.0:
        assert sent == [2, 3, 6, 7, 10, 11]


def test_a_clock_stepped_back_starts_the_window_again_and_mixes_no_old_pose_in() -> None:
    """The source's clock steps back 2 s (a wall clock set by NTP) between a root standing at 0 and one at 1 m: the
    poses after it are the new frames', also when their times pass the old frames' (these were kept, the window
    grew for as long, and then they were averaged in: 0.65 m)."""
    lag = FixedLag[int](LAG_FRAME)
    t = 100.0
    for k in range(60):
        lag(k, solved(0.0, 0.0), t)
        t += 1.0 / 30.0
    t -= 2.0
    for k in range(60, 200):
        late = lag(k, solved(0.0, 1.0), t)
        t += 1.0 / 30.0
        assert late is not None and late[1].trans[0] == pytest.approx(1.0), (k, late and late[1].trans[0])


def test_a_cameras_frame_times_go_on_when_the_wall_clock_steps_back(short_clip: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A real source read as a camera's (its times its own clock's, not the file's), the wall clock set back a minute
    after its fifth reading (NTP): the frames' times still increase (they came from the wall clock and went back a
    minute, and the lag's window then kept every frame for that minute); ``captured`` stays the wall clock, which
    the receiver's latency figure compares with its own."""
    import time as real_time
    import types

    from core.live import source as source_module

    calls = []

    def wall() -> float:
        calls.append(1)
        return real_time.time() - (60.0 if len(calls) > 5 else 0.0)

    clock = types.SimpleNamespace(time=wall, monotonic=real_time.monotonic, perf_counter=real_time.perf_counter)
    monkeypatch.setattr(source_module, "time", clock)
    monkeypatch.setattr(source_module, "describe", lambda source: "stream")
    live = source_module.LiveSource(str(short_clip)).start()
    frames = []
    try:
        while True:
            frame = live.take(0.5)
            if frame is not None:
                frames.append(frame)
            elif live.ended:
                break
    finally:
        live.close()
    assert len(frames) >= 10 and len(calls) > 5
    assert np.all(np.diff([f.time for f in frames]) > 0), [round(f.time, 3) for f in frames]
    assert abs(frames[-1].captured - (real_time.time() - 60.0)) < 30.0  # the wall clock, set back


def test_a_lag_of_no_time_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 0 s"):
        FixedLag(0.0)


def test_a_15_fps_sessions_poses_come_33_ms_late_not_a_frame(short_clip: Path, tmp_path: Path) -> None:
    """A real session (the default lag) on the demo's 60 frames as a 15 fps file, into a loopback socket: each pose
    shows the moment 33 ms before the frame just solved, halfway between two of its frames (counted in frames, each
    pose was the frame before's, 67 ms late), every frame after the warm-up arrives, in order, but the source's last
    (its next frame never comes), and the session's glass-to-send figure is the messages' own (``sent - captured``;
    it counted from the nearest frame's read, the messages from the newest's less the lag)."""
    import cv2

    from core.live.session import LiveSettings, run_live

    slow = tmp_path / "demo_15fps.mp4"
    cap = cv2.VideoCapture(str(short_clip))
    writer = None
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if writer is None:
            writer = cv2.VideoWriter(str(slow), cv2.VideoWriter_fourcc(*"mp4v"), 15.0, (bgr.shape[1], bgr.shape[0]))
        writer.write(bgr)
    cap.release()
    assert writer is not None
    writer.release()
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(0.5)
    port = receiver.getsockname()[1]
    try:
        settings = LiveSettings(source=str(slow), send=f"127.0.0.1:{port}", body="mannequin")
        assert settings.lag == 1  # the default
        figures = run_live(settings)
        messages = []
        while True:
            try:
                messages.append(unpack(receiver.recv(65536)))
            except socket.timeout:
                break
    finally:
        receiver.close()
    assert messages and figures["frames_sent"] == len(messages)
    assert [m.frame for m in messages] == list(range(messages[0].frame, 59))
    for m in messages:  # the moment shown: half a 15 fps frame after the frame it goes with
        assert m.frame_time == pytest.approx(m.frame / 15.0 + 1.0 / 30.0, abs=1e-6)
    ages = [1000.0 * (m.sent - m.captured) for m in messages]
    assert figures["glass_to_send_ms_median"] == pytest.approx(np.median(ages), abs=0.051)
