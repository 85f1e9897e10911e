"""The floor and the planted feet, causally: from the frames so far, never a later one.

Offline cleanup (``core.cleanup``) sees the whole take: it fits a floor plane
to the feet's lower envelope, finds contacts with hysteresis and locks planted
feet. Live there is no later frame, so this keeps it simple:

- the up direction is given (the pitch and roll the user set, or the running
  estimate of ``core.live.upright``): the floor is a plane perpendicular to it,
  and only its height is estimated; when the up changes, the window's feet are
  measured along the new one;
- the floor height is a low percentile (10th) of each frame's lowest sole
  over the last few seconds (soles are the contact joints' heights less their
  rest height above the sole, ``core.cleanup.floor.proxy_heights``): a jump
  or a lifted foot does not raise it, a single noisy low frame does not sink it;
- a foot is planted when its sole is within ``contact_height`` of the floor
  and moves slower than ``contact_speed`` across it;
- feet are not locked (no foot-skate correction): locking needs to know when
  the contact ends, which live only learns frames later.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class CausalGround:
    """Floor height along ``up`` (camera frame) and planted feet, updated one frame at a time.

    ``sole_offsets``: (4,) rest height above the sole of the contact joints
    (left ankle, left foot, right ankle, right foot), metres.
    """

    def __init__(self, up: np.ndarray, sole_offsets: np.ndarray, *, window_seconds: float = 4.0,
                 percentile: float = 10.0, contact_height: float = 0.05, contact_speed: float = 0.4) -> None:
        self.up = np.asarray(up, np.float64) / np.linalg.norm(up)
        self.sole_offsets = np.asarray(sole_offsets, np.float64)
        self.window_seconds, self.percentile = window_seconds, percentile
        self.contact_height, self.contact_speed = contact_height, contact_speed
        self._window: deque[tuple[float, np.ndarray]] = deque()  # (t, the frame's (4, 3) proxies)
        self._feet: np.ndarray | None = None
        self._t: float | None = None
        self.floor = float("nan")
        self.soles = np.full(4, np.nan)  # the last frame's soles along up (floor not taken off), metres

    def update(self, proxies: np.ndarray, t: float, up: np.ndarray | None = None) -> tuple[float, tuple[bool, bool]]:
        """(floor level: ``up . p`` of the floor's points, metres; (left, right) planted) after a frame.

        ``proxies``: (4, 3) posed contact joints in the camera frame, metres; ``t`` seconds;
        ``up``: (3,) a new up direction (camera frame) from this frame on, None: the same."""
        if up is not None:
            self.up = np.asarray(up, np.float64) / np.linalg.norm(up)
        soles = self.soles = proxies @ self.up - self.sole_offsets  # height of the sole under each contact joint
        self._window.append((t, np.asarray(proxies, np.float64)))
        while self._window and self._window[0][0] < t - self.window_seconds:
            self._window.popleft()
        lowest = (np.stack([p for _, p in self._window]) @ self.up - self.sole_offsets).min(axis=1)
        self.floor = float(np.percentile(lowest, self.percentile))
        feet = np.stack([proxies[:2].mean(0), proxies[2:].mean(0)])
        speed = np.zeros(2)
        if self._feet is not None and self._t is not None and t > self._t:
            step = feet - self._feet
            step -= np.outer(step @ self.up, self.up)  # across the floor only
            speed = np.linalg.norm(step, axis=-1) / (t - self._t)
        self._feet, self._t = feet, t
        low = np.array([soles[:2].min(), soles[2:].min()]) - self.floor < self.contact_height
        planted = low & (speed < self.contact_speed)
        return self.floor, (bool(planted[0]), bool(planted[1]))
