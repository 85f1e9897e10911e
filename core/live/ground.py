"""The floor and the planted feet, causally: from the frames so far, never a later one.

Offline cleanup (``core.cleanup``) sees the whole take: it fits a floor plane
to the feet's lower envelope, finds contacts with hysteresis and locks planted
feet. Live there is no later frame, so this keeps it simple:

- the up direction is given (a level camera, or the pitch and roll the user
  set): the floor is a plane perpendicular to it, and only its height is
  estimated;
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


def world_from_camera(up: np.ndarray) -> np.ndarray:
    """(3, 3) rotation, Z-up world <- OpenCV camera frame, for a camera whose frame sees ``up`` (3,).

    World z is ``up``; world y the camera's viewing direction laid level; world x = y x z (the camera's
    right when level). Rows are the world axes in camera coordinates."""
    z = np.asarray(up, np.float64) / np.linalg.norm(up)
    forward = np.array([0.0, 0.0, 1.0]) - z[2] * z
    y = forward / max(np.linalg.norm(forward), 1e-9)
    return np.stack([np.cross(y, z), y, z])


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
        self._lowest: deque[tuple[float, float]] = deque()
        self._feet: np.ndarray | None = None
        self._t: float | None = None
        self.floor = float("nan")

    def update(self, proxies: np.ndarray, t: float) -> tuple[float, tuple[bool, bool]]:
        """(floor level: ``up . p`` of the floor's points, metres; (left, right) planted) after a frame.

        ``proxies``: (4, 3) posed contact joints in the camera frame, metres; ``t`` seconds."""
        soles = proxies @ self.up - self.sole_offsets  # height of the sole under each contact joint
        self._lowest.append((t, float(soles.min())))
        while self._lowest and self._lowest[0][0] < t - self.window_seconds:
            self._lowest.popleft()
        self.floor = float(np.percentile([h for _, h in self._lowest], self.percentile))
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
