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

    Args:
        frames: the lag, frames (1 or more).
    """

    def __init__(self, frames: int) -> None:
        if frames < 1:
            raise ValueError(f"the lag must be 1 frame or more, not {frames}")
        self.frames = frames
        self._window: deque[tuple[Item, Solved, np.ndarray]] = deque(maxlen=2 * frames + 1)

    def __call__(self, item: Item, solved: Solved) -> tuple[Item, Solved] | None:
        """Take the newest ``solved`` frame (``item``: what goes with it, e.g. its source frame); return the frame
        ``frames`` back with its item, averaged over its window, or None while the window fills."""
        quats = axis_angle_to_quat_wxyz(np.asarray(solved.poses, np.float64).reshape(-1, 3))
        self._window.append((item, solved, quats))
        centre = len(self._window) - 1 - self.frames
        if centre < 0:
            return None
        item_c, solved_c, q_c = self._window[centre]
        q = np.stack([w[2] for w in self._window])  # (n, 55, 4)
        q = np.where(np.sum(q * q_c, axis=-1, keepdims=True) < 0, -q, q)
        mean = q.mean(axis=0)
        mean /= np.linalg.norm(mean, axis=-1, keepdims=True)
        trans = np.mean([np.asarray(w[1].trans, np.float64) for w in self._window], axis=0)
        poses = quat_wxyz_to_axis_angle(mean).reshape(-1).astype(np.float32)
        return item_c, replace(solved_c, poses=poses, trans=trans.astype(np.float32))
