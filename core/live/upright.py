"""The live camera's tilt, causally: the world's up from the person's upright posture so far.

A capture estimates the up once for the whole take (``core.gravity``: scene
lines, the figure, the posture). Live there is no later frame and no time for
line detection on the pose thread, so the posture cue (``core.gravity.posture``:
the mid-ankle -> mid-shoulder line of frames where the person stands or walks
upright) runs over a sliding window of the solved joints, once a second. Until
it has enough standing frames (``MIN_STANDING_SECONDS``) the camera is taken as
level, as before; an estimate that leans further than the capture would accept
is refused there too. Each new estimate replaces the last: it is already a
robust mean over the window, so it moves by a fraction of a degree a second on
a steady camera.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..gravity import pitch_roll_from_up
from ..gravity.lines import LEVEL_UP
from ..gravity.posture import posture_up

POSTURE_JOINTS = 18
"""Forward kinematics of the first 18 SMPL-X joints reaches the shoulders (parents come first)."""


class CausalUp:
    """The world's up in the camera frame, re-estimated from the last ``window_seconds`` of joints.

    ``fixed``: (3,) an up the user gave (pitch and roll): kept, nothing is estimated.
    Attributes: ``up`` (3,) unit, OpenCV camera frame; ``source`` where it came from.
    """

    def __init__(self, fixed: np.ndarray | None = None, *, window_seconds: float = 10.0,
                 every_seconds: float = 1.0) -> None:
        self.estimating = fixed is None
        self.up = np.asarray(LEVEL_UP if fixed is None else fixed, np.float64)
        self.up = self.up / np.linalg.norm(self.up)
        self.source = "level camera (live, until the person stands)" if fixed is None else "pitch and roll as given"
        self.window_seconds, self.every_seconds = window_seconds, every_seconds
        self._frames: deque[tuple[float, np.ndarray]] = deque()
        self._last = -np.inf

    def update(self, joints: np.ndarray, t: float) -> np.ndarray | None:
        """Add a solved frame's joints (>= 18, 3) camera frame, metres, at ``t`` s; the new up (3,) when it
        changed, else None."""
        if not self.estimating:
            return None
        self._frames.append((t, np.asarray(joints[:POSTURE_JOINTS], np.float64)))
        while self._frames and self._frames[0][0] < t - self.window_seconds:
            self._frames.popleft()
        if t - self._last < self.every_seconds or len(self._frames) < 3:
            return None
        self._last = t
        times = np.array([ti for ti, _ in self._frames])
        fps = (len(times) - 1) / max(times[-1] - times[0], 1e-6)
        found = posture_up(np.stack([j for _, j in self._frames]), fps)
        if found is None:
            return None
        self.up, self.source = found[0], "posture (live, the last seconds)"
        return self.up

    @property
    def pitch_roll(self) -> tuple[float, float]:
        """(pitch, roll) degrees of the current up (``core.gravity`` signs)."""
        return pitch_roll_from_up(self.up)
