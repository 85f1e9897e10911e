"""The One Euro filter (Casiez, Roussel and Vogel, CHI 2012): causal jitter smoothing for live values.

A first-order low-pass whose cutoff rises with the signal's speed: slow
movement is smoothed hard (no jitter), fast movement passes with little lag.
Per sample, with the time step ``dt``:

    alpha(fc) = 1 / (1 + 1 / (2 pi fc dt))
    dx_hat    = alpha(d_cutoff) * (x - x_hat_prev) / dt + (1 - alpha(d_cutoff)) * dx_hat_prev
    fc        = min_cutoff + beta * |dx_hat|
    x_hat     = alpha(fc) * x + (1 - alpha(fc)) * x_hat_prev

Values come in groups (e.g. a joint's quaternion, the root's position): the
speed ``|dx_hat|`` is the norm over the group, so one joint is filtered as one.
"""

from __future__ import annotations

import math

import numpy as np


def smoothing_cutoff(smoothing: float) -> float:
    """The filter's ``min_cutoff`` in Hz for the project's smoothing scale, 0 (off) to 1 (most).

    0 -> 10 Hz (a 30 fps stream passes nearly untouched), 0.5 -> 2.2 Hz, 1 -> 0.5 Hz;
    logarithmic between, as cutoffs are felt."""
    return 0.5 * 20.0 ** (1.0 - float(np.clip(smoothing, 0.0, 1.0)))


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    return 1.0 / (1.0 + 1.0 / (2.0 * math.pi * np.asarray(cutoff) * dt))


class OneEuro:
    """One Euro filter of (G, D) values: G groups of D channels, filtered causally.

    ``min_cutoff`` Hz, ``beta`` (s per unit of the value: how fast the cutoff
    rises with speed), ``d_cutoff`` Hz for the speed estimate.
    """

    def __init__(self, min_cutoff: float, beta: float, d_cutoff: float = 1.0) -> None:
        self.min_cutoff, self.beta, self.d_cutoff = float(min_cutoff), float(beta), float(d_cutoff)
        self.x: np.ndarray | None = None
        self.dx: np.ndarray | None = None
        self.t: float | None = None

    def reset(self) -> None:
        self.x = self.dx = None
        self.t = None

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        """Filtered ``x`` (G, D) at time ``t`` seconds (increasing); the first sample passes as it is."""
        x = np.asarray(x, np.float64)
        if self.x is None or self.dx is None or self.t is None:
            self.x, self.dx, self.t = x.copy(), np.zeros_like(x), t
            return x.copy()
        if t <= self.t:  # a repeated (or older) time carries no new step
            return self.x.copy()
        dt = t - self.t
        a_d = _alpha(self.d_cutoff, dt)
        self.dx = a_d * (x - self.x) / dt + (1.0 - a_d) * self.dx
        speed = np.linalg.norm(self.dx, axis=-1, keepdims=True)
        a = _alpha(self.min_cutoff + self.beta * speed, dt)
        self.x = a * x + (1.0 - a) * self.x
        self.t = t
        return self.x.copy()
