"""MediaPipe's left/right confusions undone as they come: ``core.landmarks.repair_side_swaps``, causally.

The cue is MediaPipe's own labelling from one frame to the next: its chest turning
the other way within a frame (a turn no body makes in 1/30 s) starts a *run* with
the other labelling. Offline, runs are counted against the longest run of the clip;
live the longest is not known yet, so runs are counted against the labelling
*established* so far: the last run that lasted longer than ``max_swap_seconds``, or,
before any did, the longest run seen (the current one included). A run of the other labelling is relabelled
while it is short, and taken as it is once it lasts (the person turned, or it was
right).

On the demo clip the first frame solved after the warm-up was one of MediaPipe's
one-frame swaps: anchored on it, the old repair relabelled the 17 true frames after
it (limb joints 400-600 mm off). So the warm-up's frames go through the repair too,
and no single frame decides the labelling.

A chest that turns by 60-120 degrees within a frame is no body's turn either, and
no clean swap: MediaPipe's sideways glitch, passing between two labellings
(frame 67 of the demo). It does not become the frame compared with, or the swap
after it (66 -> 68) would be missed; if the chest stays there ``GLITCH_FRAMES``
frames, it is taken (``core.landmarks.FacingFlips``, shared with the offline repair).
"""

from __future__ import annotations

import numpy as np

from ..landmarks import BODY, FacingFlips, PoseSequence, facing_directions, swap_sides


class CausalSideSwaps:
    """Relabel each one-frame sequence whose sides MediaPipe exchanged; call on every frame, in order.

    A person lost for longer than ``max_swap_seconds``, or found more than a torso's length from where the
    last frame had them (the tracker went to someone else), starts afresh: their labelling as given."""

    def __init__(self, max_swap_seconds: float = 0.5) -> None:
        self.max_swap_seconds = max_swap_seconds
        self._reset()

    def _reset(self) -> None:
        self._flips = FacingFlips()
        self._seen = -np.inf  # time of the last frame with a person
        self._hip: np.ndarray | None = None  # the last frame's mid-hip in the image, pixels
        self._parity = 0  # the current run's labelling against the first run's (0 or 1), by MediaPipe's flips
        self._run_start = 0.0  # when the current run began, seconds
        self._established: int | None = None  # the parity of the last run that lasted over max_swap_seconds
        self._longest = (-1.0, 0)  # (seconds, parity) of the longest finished run

    def _reference(self, t: float) -> int:
        """The labelling taken for the person's: the established one, else the longest run's (the current run
        winning a tie, so a swap on the very first frame costs a frame or two, not half a second)."""
        if self._established is not None:
            return self._established
        return self._longest[1] if self._longest[0] > t - self._run_start else self._parity

    def _flip(self, t: float) -> None:
        lasted = t - self._run_start
        if lasted > self._longest[0]:
            self._longest = (lasted, self._parity)
        self._parity ^= 1
        self._run_start = t

    def __call__(self, seq: PoseSequence, t: float) -> bool:
        """Relabel the one-frame ``seq`` in place when its sides are exchanged; True if it was."""
        facing = facing_directions(np.asarray(seq.body_world))[0]
        if not (seq.present[0] and np.all(np.isfinite(facing))):
            return False
        uv = np.asarray(seq.body_2d[0, :, :2], np.float64)
        hip = 0.5 * (uv[BODY["left_hip"]] + uv[BODY["right_hip"]])
        torso = float(np.linalg.norm(0.5 * (uv[BODY["left_shoulder"]] + uv[BODY["right_shoulder"]]) - hip))
        moved = self._hip is not None and float(np.linalg.norm(hip - self._hip)) > max(torso, 1.0)
        if self._flips.facing is None or t - self._seen > self.max_swap_seconds or moved:
            self._reset()  # nothing to compare with: the labelling as given
            self._flips(facing)
            self._run_start = t
        elif self._flips(facing):
            self._flip(t)
        self._seen, self._hip = t, hip
        if t - self._run_start > self.max_swap_seconds:
            self._established = self._parity  # lasted: this labelling is the person's
        swapped = self._parity != self._reference(t)
        if swapped:
            swap_sides(seq, np.array([0]))
        return swapped
