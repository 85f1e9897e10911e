"""A fixed lag (``--lag FRAMES``, thirtieths of a second): each pose sent that long late, a line through its frames.

The One Euro filter (``core.live.filters``) is causal: it smooths a frame with the
frames before it only, so it must choose between lag and jitter. Waiting for the
next frame instead lets each pose be the mean of the frames around it, which
follows a move without lag (a straight line is taken where it is) and averages the
per-frame solve's jitter out. On the demo (``bench live --quality-only``, December
2026) 33 ms of lag, the filter off, against the offline take of the same clip: limb
joints 40.7 -> 35.9 mm median, and the limb joints' mean acceleration 46.4 -> 26.9
mm/frame^2 on the frames outside the flip (the reference's 13.4): nearer and
steadier both.

The lag is a time, not a count of frames: each pose shows the moment ``seconds``
before the newest frame solved, a straight line fitted through the frames from
``REACH_BEFORE`` lags before that moment to ``REACH`` after it, taken there. At 30 fps
with every frame solved that moment is the frame before the newest, the fit's frames
it, the newest and the two before it; at 15 fps (a slower webcam) or when the engine,
under load, solves 16-20 of a 30 fps source's frames, the moment falls between two
frames and the pose is the line between them: the stream is still one lag late, not
one (slower) frame late. Counted in frames, a 15 fps webcam's poses came 67 ms late
and a loaded engine's 50-60 ms. On the six rendered clips' live landmarks every
second frame (15 fps, a scratch replay against their truth), 33 ms of lag: MPJPE
100.2 -> 99.2 mm, acceleration error 37.2 -> 31.4 mm/frame^2 against the filter
(a frame's lag, 67 ms: 98.5 and 25.3).

The rotations (the root's too, in the live world) are averaged as quaternions (the
sign nearest the nearest frame's, then normalised; within a few frames they are
close, where that mean is the rotation mean's first order), the root's translation
as points. Everything else (flags, confidence, the camera's height and tilt) is the
nearest frame's. The last lag of a source that ends is not sent. A time earlier than the last frame's (a clock
stepped back) starts the window again from that frame: the frames before it are not the stream's past.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Generic, TypeVar

import numpy as np

from ..cleanup.contacts import WINDOW_RATE
from ..rotations import axis_angle_to_quat_wxyz, quat_wxyz_to_axis_angle
from .solver import Solved

Item = TypeVar("Item")

LAG_FRAME = 1.0 / WINDOW_RATE
"""Seconds of one frame of ``--lag FRAMES``: a 30 fps frame, whatever the stream's rate (the frame the live foot
lock's steps are counted in too, ``core.live.footlock``)."""
REACH = 1.25
"""The fit takes the frames up to this many lags after the moment shown (the lag, and a quarter for a camera's
uneven frame times) ..."""
REACH_BEFORE = 2.25
"""... and up to this many before it: at 30 fps, lag 1, the frame, the one after and the two before (the past is
there already; with one before, the demo's limb joints 36.5 mm median, jitter 28.8 mm/frame^2, with two 35.9 mm
and 26.9; on the six rendered clips MPJPE 104.3 -> 104.1 mm, acceleration error 15.6 -> 15.0 mm/frame^2);
a slower stream's frame before the moment is always taken (10 fps: the two frames either side of it)."""
GAP = 0.25
"""Seconds: the frame before the moment shown is not taken past this (a stall: the newest frame is sent as it is).
Not tuned: over twice the widest gap of a stream that keeps up at all (a 10 fps webcam's 0.1 s, an engine solving 16
of 30 fps 2-3 frames, 0.1 s), while a quarter second is already a step a limb moves far in (a hand at 2 m/s: 50 cm),
which a straight line would cut across."""


class FixedLag(Generic[Item]):
    """Solved frames in, each one's moment ``seconds`` earlier back out: the line through the frames around it.

    Args:
        seconds: the lag (more than 0).
    """

    def __init__(self, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError(f"the lag must be more than 0 s, not {seconds}")
        self.seconds = float(seconds)
        self.reach, self.reach_before = REACH * self.seconds, REACH_BEFORE * self.seconds
        self._window: deque[tuple[Item, Solved, np.ndarray, float]] = deque()
        self._count = 0
        self._started = False

    def __call__(self, item: Item, solved: Solved, time: float | None = None) -> tuple[Item, Solved, float] | None:
        """Take the newest ``solved`` frame (``item``: what goes with it, e.g. its source frame; ``time``: its
        time on the source's clock, seconds, None: ``LAG_FRAME`` after the last); return (the item of the frame
        nearest the moment ``seconds`` before it, the pose fitted at that moment, the moment's time), or None
        before the first frame that old."""
        time = self._count * LAG_FRAME if time is None else float(time)
        self._count += 1
        if self._window and time < self._window[-1][3]:  # the clock stepped back: start the window again
            self._window.clear()
        quats = axis_angle_to_quat_wxyz(np.asarray(solved.poses, np.float64).reshape(-1, 3))
        self._window.append((item, solved, quats, time))
        at = time - self.seconds
        while self._window[0][3] < at - max(self.reach_before, GAP):
            self._window.popleft()
        if not self._started:
            if self._window[0][3] > at + 1e-6:  # nothing that old yet: the start
                return None
            self._started = True
        near = [w for w in self._window if -self.reach_before <= w[3] - at <= self.reach]  # the newest at least
        before = [w for w in self._window if w[3] <= at + 1e-6]
        if before and not any(w is before[-1] for w in near):  # a slow stream: the frame before, within GAP
            near.insert(0, before[-1])
        t_near = np.array([w[3] for w in near])
        nearest = near[int(np.argmin(np.abs(t_near - at) - 1e-6 * (t_near <= at)))]  # a tie: the earlier
        if t_near.min() <= at + 1e-6:  # frames both sides (the newest is after): the line through them
            weights = line_weights(t_near, at)
        else:  # a stall left the newest alone: it as it is, no line drawn past the frames
            near, weights = [nearest], np.ones(1)
        item_c, solved_c, q_c, _ = nearest
        q = np.stack([w[2] for w in near])  # (n, 55, 4)
        q = np.where(np.sum(q * q_c, axis=-1, keepdims=True) < 0, -q, q)
        mean = np.tensordot(weights, q, axes=1)
        mean /= np.linalg.norm(mean, axis=-1, keepdims=True)
        trans = weights @ np.array([np.asarray(w[1].trans, np.float64) for w in near])
        poses = quat_wxyz_to_axis_angle(mean).reshape(-1).astype(np.float32)
        return item_c, replace(solved_c, poses=poses, trans=trans.astype(np.float32)), at


def line_weights(times: np.ndarray, at: float) -> np.ndarray:
    """(n,) weights summing to 1 that take a straight line fitted (least squares) through values at ``times``
    at the time ``at``: each value's 1/n, shifted by how far its time and ``at`` lie from the times' mean."""
    spread = times - times.mean()
    scale = float(spread @ spread)
    if scale <= 1e-12:
        return np.full(len(times), 1.0 / len(times))
    return 1.0 / len(times) + spread * (at - times.mean()) / scale
