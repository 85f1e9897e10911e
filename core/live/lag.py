"""A fixed lag (opt-in, ``--lag FRAMES``): each pose sent ``FRAMES`` frames late, the mean of it and its neighbours.

The One Euro filter (``core.live.filters``) is causal: it smooths a frame with the
frames before it only, so it must choose between lag and jitter. Waiting for the
next frame instead lets each pose be the mean of the frames around it, which
follows a move without lag (the window is centred) and averages the per-frame
solve's jitter out. On the demo (the bench's replay of the live landmarks,
December 2026) one frame of lag, the filter off, against the offline take of the
same clip: limb joints 40.0 -> 35.6 mm median, and the limb joints' mean
acceleration 44.8 -> 28.7 mm/frame^2 on the frames outside the flip (the
reference's 14.2): nearer and steadier both. Its cost is the lag itself: the pose
goes out when the next frame is solved, one source frame (33 ms at 30 fps) later,
more when the engine, under load, solves fewer frames than the source gives.

The rotations (the root's too, in the live world) are averaged as quaternions (the
sign nearest the centre frame's, then normalised; within a few frames they are
close, where that mean is the rotation mean's first order), the root's translation
as points. Everything else (flags, confidence, the camera's height and tilt) is the
centre frame's. At the start the window has fewer frames before the centre; the
last ``FRAMES`` frames of a source that ends are not sent.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Generic, TypeVar

import numpy as np

from ..rotations import axis_angle_to_quat_wxyz, quat_wxyz_to_axis_angle
from .solver import Solved

Item = TypeVar("Item")


class FixedLag(Generic[Item]):
    """Solved frames in, each one back ``frames`` frames later as the mean of its window (``2 frames + 1``).

    The mean is weighed by the frames' times on the source's clock: a straight line fitted through the window,
    taken at the centre frame's time (equal weights where the frames are evenly spaced). Under load the engine
    solves fewer frames than the source gives (16-20 of 30 a second), and an equal mean of unevenly spaced frames
    put an elbow bending 10 degrees a frame 3.3 degrees off its own frame, one way then the other; frames more
    than ``frames`` + 1 source intervals from the centre are left out (after a stall the frames on either side
    of the gap were 45 degrees off).

    Args:
        frames: the lag, frames (1 or more).
        interval: seconds between the source's frames (None: the frames' times are not weighed, all kept).
    """

    def __init__(self, frames: int, interval: float | None = None) -> None:
        if frames < 1:
            raise ValueError(f"the lag must be 1 frame or more, not {frames}")
        self.frames = frames
        self.reach = (frames + 1) * interval if interval else None
        self._window: deque[tuple[Item, Solved, np.ndarray, float]] = deque(maxlen=2 * frames + 1)
        self._count = 0

    def __call__(self, item: Item, solved: Solved, time: float | None = None) -> tuple[Item, Solved] | None:
        """Take the newest ``solved`` frame (``item``: what goes with it, e.g. its source frame; ``time``: its
        time on the source's clock, seconds, None: one frame after the last); return the frame ``frames`` back
        with its item, averaged over its window, or None while the window fills."""
        quats = axis_angle_to_quat_wxyz(np.asarray(solved.poses, np.float64).reshape(-1, 3))
        self._window.append((item, solved, quats, float(self._count if time is None else time)))
        self._count += 1
        centre = len(self._window) - 1 - self.frames
        if centre < 0:
            return None
        item_c, solved_c, q_c, t_c = self._window[centre]
        near = [w for w in self._window if self.reach is None or abs(w[3] - t_c) <= self.reach]
        weights = line_weights(np.array([w[3] for w in near]), t_c)
        q = np.stack([w[2] for w in near])  # (n, 55, 4)
        q = np.where(np.sum(q * q_c, axis=-1, keepdims=True) < 0, -q, q)
        mean = np.tensordot(weights, q, axes=1)
        mean /= np.linalg.norm(mean, axis=-1, keepdims=True)
        trans = weights @ np.array([np.asarray(w[1].trans, np.float64) for w in near])
        poses = quat_wxyz_to_axis_angle(mean).reshape(-1).astype(np.float32)
        return item_c, replace(solved_c, poses=poses, trans=trans.astype(np.float32))


def line_weights(times: np.ndarray, at: float) -> np.ndarray:
    """(n,) weights summing to 1 that take a straight line fitted (least squares) through values at ``times``
    at the time ``at``: each value's 1/n, shifted by how far its time and ``at`` lie from the times' mean."""
    spread = times - times.mean()
    scale = float(spread @ spread)
    if scale <= 1e-12:
        return np.full(len(times), 1.0 / len(times))
    return 1.0 / len(times) + spread * (at - times.mean()) / scale
