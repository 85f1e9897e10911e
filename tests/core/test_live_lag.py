"""The live stream's fixed lag (``--lag``, ``core.live.lag``): each pose one frame late, the mean of its neighbours."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from core.live.filters import OneEuro
from core.live.lag import FixedLag
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
        lag, filt = FixedLag[int](1), OneEuro(1.0, beta=10.0)
        out, causal = {}, {}
        for t in range(60):
            angle = steps[t] + noise * jitter[t]
            late = lag(t, solved(angle, 0.01 * t))
            q = filt(axis_angle_to_quat_wxyz(np.array([[angle, 0.0, 0.0]])), t / 30.0)
            causal[t] = quat_wxyz_to_axis_angle(q / np.linalg.norm(q))[0, 0]
            if t == 0:
                assert late is None  # the first frame waits for the next
                continue
            assert late is not None and late[0] == t - 1
            out[t - 1] = late[1]
        error = np.degrees(np.array([out[t].poses.reshape(-1, 3)[ELBOW, 0] for t in middle]) - steps[middle])
        if noise == 0.0:
            assert np.abs(error).max() < 0.01  # no lag: the steady bend comes through where it is
            assert np.degrees(np.mean([causal[t] - steps[t] for t in middle])) < -0.5  # the causal filter lags it
            assert all(out[t].trans[0] == pytest.approx(0.01 * t, abs=1e-6) for t in middle)
        else:
            assert np.abs(error).max() < 1.0 + 0.01  # 3 degrees one way, the other, the first: 1 degree left


def test_a_lag_below_one_frame_is_refused() -> None:
    with pytest.raises(ValueError, match="1 frame or more"):
        FixedLag(0)


def test_a_session_with_a_lag_sends_every_frame_one_frame_late(short_clip: Path) -> None:
    """A real session on the demo's 60 frames with ``lag=1``, into a loopback socket: every frame after the warm-up
    arrives, in order, but the source's last (its next frame never comes)."""
    from core.live.session import LiveSettings, run_live

    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(0.5)
    port = receiver.getsockname()[1]
    try:
        figures = run_live(LiveSettings(source=str(short_clip), send=f"127.0.0.1:{port}", body="mannequin", lag=1))
        frames = []
        while True:
            try:
                frames.append(unpack(receiver.recv(65536)).frame)
            except socket.timeout:
                break
    finally:
        receiver.close()
    assert frames and figures["frames_sent"] == len(frames)
    assert frames == list(range(frames[0], 59))  # 59, the last, waits for a frame that never comes
