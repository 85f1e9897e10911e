"""MediaPipe's landmark smoothing (One Euro filter, visibility low-pass), numpy, one stream at a time.

Follows mediapipe/util/filtering/one_euro_filter.cc and
landmarks_smoothing_calculator_utils.cc: every coordinate is filtered
separately in pixel units, the velocity is scaled by 1 / object size so the
same settings suit near and far people, and a frame without landmarks resets
the filter.
"""

from __future__ import annotations

import math

import numpy as np


class OneEuro:
    """One Euro filters for an array of values filtered element-wise (e.g. (K, 3) landmarks)."""

    def __init__(self, min_cutoff: float, beta: float, derivate_cutoff: float = 1.0, frequency: float = 30.0):
        self.min_cutoff, self.beta, self.derivate_cutoff = min_cutoff, beta, derivate_cutoff
        self.base_frequency = frequency
        self.reset()

    def reset(self) -> None:
        self.frequency = self.base_frequency
        self.last_time: float | None = None
        self.x: np.ndarray | None = None  # last filtered value
        self.raw: np.ndarray | None = None  # last raw value
        self.dx: np.ndarray | None = None  # last filtered derivative

    def _alpha(self, cutoff):
        te = 1.0 / self.frequency
        tau = 1.0 / (2.0 * math.pi * cutoff)
        return 1.0 / (1.0 + tau / te)

    def __call__(self, value: np.ndarray, time_s: float, value_scale: float = 1.0) -> np.ndarray:
        value = np.asarray(value, np.float64)
        if self.last_time is not None and time_s <= self.last_time:
            return value
        if self.last_time is not None:
            self.frequency = 1.0 / (time_s - self.last_time)
        self.last_time = time_s
        dvalue = np.zeros_like(value) if self.raw is None else (value - self.raw) * value_scale * self.frequency
        a_d = self._alpha(self.derivate_cutoff)
        self.dx = dvalue if self.dx is None else a_d * dvalue + (1.0 - a_d) * self.dx
        cutoff = self.min_cutoff + self.beta * np.abs(self.dx)
        a = self._alpha(cutoff)
        self.x = value if self.x is None else a * value + (1.0 - a) * self.x
        self.raw = value
        return self.x


class LowPass:
    """Exponential smoothing of visibilities (MediaPipe's VisibilitySmoothingCalculator)."""

    def __init__(self, alpha: float):
        self.alpha = alpha
        self.reset()

    def reset(self) -> None:
        self.value: np.ndarray | None = None

    def __call__(self, value: np.ndarray) -> np.ndarray:
        value = np.asarray(value, np.float64)
        self.value = value if self.value is None else self.alpha * value + (1.0 - self.alpha) * self.value
        return self.value
