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

from collections import deque

import numpy as np

from ..landmarks import (BODY, LEG_SWAP_COST, LEGS, FacingFlips, PoseSequence, facing_directions, seen_landmarks,
                         swap_legs, swap_sides, trunk_vectors, upright_in_picture)


class CausalSideSwaps:
    """Relabel each one-frame sequence whose sides MediaPipe exchanged; call on every frame, in order.

    A person lost for longer than ``max_swap_seconds``, or found more than a torso's length from where the
    last frame had them (the tracker went to someone else), starts afresh: their labelling as given."""

    def __init__(self, max_swap_seconds: float = 0.5) -> None:
        self.max_swap_seconds = max_swap_seconds
        self._reset()

    def _reset(self) -> None:
        self.restarted = True  # this frame took the labelling as given: nothing before it says anything of it
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
        self.restarted = False
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


LEGS_TOGETHER = 1.0
"""Trunk lengths: legs whose knees, ankles, heels and toes lie this close to the other leg's in the picture (summed)
keep MediaPipe's labels (:class:`CausalLegSwaps`): where the legs overlap, which is which says nothing, and the
last frame's labels would carry a wrong swap on (the demo's frames 139-144, after the one-frame swap at 138)."""
SCALE_SECONDS = 10.0
"""Seconds of trunk lengths whose median scales the legs' motion for :class:`CausalLegSwaps` (offline,
:func:`core.landmarks.leg_swaps` takes the whole take's); counted on the stream's clock, as an engine under load
solves fewer frames than the source gives."""


class CausalLegSwaps:
    """MediaPipe's brief swaps of the two lower legs (knee, ankle, heel, toe) undone as they come: the offline
    :func:`core.landmarks.leg_swaps`, causally. Call on every frame, in order, after :class:`CausalSideSwaps`
    (and :meth:`restart` where that starts afresh: the person lost, or found far from where they were).

    Each frame's legs are labelled as given or swapped, whichever moves them least from where the last frame
    had them (each seen point's image distance to its leg's last seen place, in trunk lengths, plus ``cost``
    for the swapped labelling): a still foot that jumps across to where the other one was, and its knee with
    it, is put back the frame it jumps (the demo's side-step along the box, frames 111-120); a real crossing
    step, which passes the feet smoothly, costs no less swapped and is left as it is. As offline, a body not
    upright in the picture keeps its labels (``core.landmarks.UPRIGHT_COSINE``), and a swap that lasts
    ``max_swap_seconds`` is taken as it is from then on (the person's legs are labelled so). Legs together in
    the picture (``LEGS_TOGETHER``) keep MediaPipe's labels.

    Only the labelling chosen goes on to the next frame, not the offline repair's two paths: run forwards, the
    path that went the other way stays cheaper for as long as one leg moves steadily and keeps a wrong swap
    going. Scored on the bench clips' cached MediaPipe landmarks (``mediapipe-*-own.npz``: 17 clips, the
    tilted and held-out sets, the crossings, the acrobatics; December 2026), frames whose knees and ankles are
    labelled the other way round from the rendered truth's: 89 after the whole-body repair alone, 28 with this
    (37 without ``LEGS_TOGETHER``, 68 with the two paths; offline: 66 -> 18). Compared with where each leg was
    going at its last speed instead, 137 (44 at a third of that speed): MediaPipe's legs jitter too much from frame
    to frame for their speed to say where they go. A limit, found by a review on synthetic legs with no MediaPipe
    error: legs that swing far past each other between two frames (a run filmed side-on, feet 0.6 trunk lengths
    either side at 1.4 strides a second: 40 of 300 frames at 30 fps; a walk at 7.5 frames a second) lie nearer the
    other leg's last place as they pass and are read swapped until they meet again; the offline two-path repair
    does the same on the run at 15 fps (``--preset fast`` on a 30 fps clip)."""

    def __init__(self, cost: float = LEG_SWAP_COST, max_swap_seconds: float = 0.5,
                 together: float = LEGS_TOGETHER) -> None:
        self.cost, self.max_swap_seconds, self.together = cost, max_swap_seconds, together
        self._trunks: deque[tuple[float, float]] = deque()  # (time, trunk length in pixels) of the last SCALE_SECONDS
        self.restart()

    def restart(self) -> None:
        """Take the labelling as given from here: nothing before says anything of it."""
        self._last = np.full((2, len(LEGS["left"]), 2), np.nan)  # each leg's points where last seen, pixels
        self._run_start: float | None = None  # when the current run of swapped frames began, seconds

    def _scale(self, t: float, trunk: float) -> float:
        if np.isfinite(trunk):
            self._trunks.append((t, trunk))
        while self._trunks and self._trunks[0][0] < t - SCALE_SECONDS:
            self._trunks.popleft()
        return float(np.median([length for _, length in self._trunks])) if self._trunks else np.nan

    def __call__(self, seq: PoseSequence, t: float) -> bool:
        """Swap the one-frame ``seq``'s lower legs at time ``t`` s in place (image and metric landmarks) when
        MediaPipe swapped their labels; True if it did."""
        if not seq.present[0]:
            self.restart()
            return False
        kp = np.asarray(seq.body_2d[0], np.float64)
        scale = self._scale(t, float(np.linalg.norm(trunk_vectors(kp))))
        uv = np.where(seen_landmarks(kp[:, 2])[:, None], kp[:, :2], np.nan)
        legs = np.stack([uv[LEGS["left"]], uv[LEGS["right"]]])  # (2 legs, 4, 2) pixels
        if not (np.isfinite(scale) and scale >= 5 and np.isfinite(legs).all(-1).any()):
            self.restart()  # no legs: where they were before says nothing of their labels after
            return False
        labellings = np.stack([legs, legs[::-1]])  # as given, swapped
        moved = np.nansum(np.linalg.norm(labellings - self._last, axis=-1), axis=(1, 2)) / scale
        upright = bool(upright_in_picture(kp))
        apart = np.nansum(np.linalg.norm(legs[0] - legs[1], axis=-1)) / scale
        swapped = bool(upright and apart >= self.together and moved[1] + self.cost < moved[0])
        if not swapped:
            self._run_start = None
        elif self._run_start is None:
            self._run_start = t
        elif t - self._run_start > self.max_swap_seconds:  # lasted: the legs are labelled so
            self._run_start, swapped = None, False
        chosen = labellings[int(swapped)]
        seen = np.isfinite(chosen).all(-1)
        self._last[seen] = chosen[seen]
        if swapped:
            swap_legs(seq, np.array([0]))
        return swapped
