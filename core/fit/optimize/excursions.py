"""Limb landmarks that MediaPipe flips away and back while the body lies: found and bridged before the fit.

On a lying body MediaPipe's pose model sometimes reads a hidden leg or arm on the
wrong side of its hip or shoulder for a few frames and then back (rendered
``dm_getup_facedown``, frames 35-43 and 47-53: the left knee 85 px across the
hip, the ankle 150 px from the truth, image and world landmarks alike, at the
same visibility as the frames around). The fit cannot tell: the start is the
per-frame closed-form fit of those landmarks, and only the smoothness terms
argue against them. A flip shows in time, though: the point jumps (relative to
its limb's root) by a good part of the trunk's length in one frame, stays, and
jumps back to about where it left. :func:`find_excursions` finds such runs on
lying frames only (trunk far from up: where the model misreads; an upright
kick or punch is a real fast movement and stays as it is), and
:func:`bridge_excursions` replaces their points (the limb's middle and end,
the hand or foot points riding on the end) by the interpolation of the frames
around, in the image and world landmarks both.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ...landmarks import PoseSequence, trunk_vectors
from ...rotations import angle_between_degrees

CHAINS = ((23, 25, 27, (29, 31)), (24, 26, 28, (30, 32)), (11, 13, 15, (17, 19, 21)), (12, 14, 16, (18, 20, 22)))
"""MediaPipe body landmarks of each limb: root (hip, shoulder), middle (knee, elbow), end (ankle, wrist),
and the points riding on the end (heel and toe; pinky, index and thumb)."""


@dataclass(frozen=True)
class ExcursionSettings:
    """Which limb-point runs count as a flip and out (:func:`find_excursions`).

    Attributes:
        enabled: False fits the landmarks as they are.
        jump: a step of the point relative to its limb's root, in trunk lengths (the clip's median image
            distance from mid-hip to mid-shoulder), from one analysed frame to the next, that starts or
            ends an excursion.
        back: the point ends within this many trunk lengths of where it left.
        min_frames, max_frames: the run's length, analysed frames: shorter runs are left alone (1-3
            frame runs on upright clips are as often real as not), longer ones are taken as real.
        lying_degrees: every frame of the run has the trunk (mid-hip to mid-shoulder of the world
            landmarks) turned from up by more than this.
    """

    enabled: bool = True
    jump: float = 0.5
    back: float = 0.35
    min_frames: int = 4
    max_frames: int = 12
    lying_degrees: float = 60.0


def trunk_angle(world: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(T,) degrees between the trunk of ``world`` (T, 33, >=3; mid-hip to mid-shoulder) and ``up`` (3,),
    camera axes; NaN where the trunk is not finite."""
    with np.errstate(invalid="ignore"):
        return angle_between_degrees(trunk_vectors(world, 3), np.asarray(up, np.float64))


def find_excursions(uv: np.ndarray, world: np.ndarray, up: np.ndarray,
                    settings: ExcursionSettings = ExcursionSettings()) -> np.ndarray:
    """(T, 33) bool: the body landmarks of ``uv`` (T, 33, >=2 pixels) on frames of a flip and back (see the
    module docstring); ``world`` (T, 33, >=3) and ``up`` (3,, camera axes) tell which frames lie."""
    uv = np.asarray(uv, np.float64)
    T = len(uv)
    out = np.zeros((T, uv.shape[1]), bool)
    if T < settings.min_frames + 2:
        return out
    trunk = np.linalg.norm(trunk_vectors(uv), axis=-1)
    if not np.isfinite(trunk).any():
        return out
    scale = max(float(np.nanmedian(trunk)), 1e-6)
    lying = np.nan_to_num(trunk_angle(world, up), nan=0.0) > settings.lying_degrees
    for root, middle, end, riders in CHAINS:
        for point in (middle, end):
            rel = (uv[:, point, :2] - uv[:, root, :2]) / scale
            step = np.nan_to_num(np.linalg.norm(np.diff(rel, axis=0), axis=-1), nan=0.0)
            t = 0
            while t < T - 1:
                back = _back_at(rel, step, lying, t, settings) if step[t] > settings.jump else None
                if back is not None:
                    out[t + 1:back + 1, [point, *([end] if point == middle else []), *riders]] = True
                    t = back
                t += 1
    return out


def _back_at(rel: np.ndarray, step: np.ndarray, lying: np.ndarray, t: int, settings: ExcursionSettings) -> int | None:
    """The frame ``s`` a point that jumped away after frame ``t`` jumps back from (to within ``back`` of where it
    left, lying all the while, ``min_frames`` to ``max_frames`` later), or None: ``rel`` (T, 2) its place relative
    to its limb's root and ``step`` (T - 1,) its frame-to-frame moves, in trunk lengths."""
    for s in range(t + settings.min_frames, min(len(rel) - 1, t + settings.max_frames + 1)):
        if (step[s] > 0.6 * settings.jump and np.linalg.norm(rel[s + 1] - rel[t]) < settings.back
                and lying[t + 1:s + 1].all()):
            return s
    return None


def bridge_excursions(seq: PoseSequence, up: np.ndarray | None,
                      settings: ExcursionSettings = ExcursionSettings()) -> tuple[PoseSequence, np.ndarray]:
    """``seq`` with the points of :func:`find_excursions` (``up`` None: a level camera's) replaced, image and
    world landmarks, by the linear interpolation of that point over the other frames (its visibility too);
    and the (T, 33) mask of them. ``seq`` itself when there are none or ``settings.enabled`` is False."""
    uv = np.asarray(seq.body_2d)
    world = np.asarray(seq.body_world)
    mask = np.zeros(uv.shape[:2], bool)
    if not settings.enabled or seq.num_frames == 0:
        return seq, mask
    mask = find_excursions(uv, world, np.asarray((0.0, -1.0, 0.0) if up is None else up), settings)
    if not mask.any():
        return seq, mask
    uv, world = np.array(uv, copy=True), np.array(world, copy=True)
    frames = np.arange(seq.num_frames)
    for p in np.flatnonzero(mask.any(0)):
        bad = mask[:, p]
        keep = ~bad & np.isfinite(uv[:, p, :2]).all(-1) & np.isfinite(world[:, p, :3]).all(-1)
        if not keep.any():
            continue
        for arr, channels in ((uv, 3), (world, 3)):
            for c in range(channels):
                arr[bad, p, c] = np.interp(frames[bad], frames[keep], arr[keep, p, c])
    return dataclasses.replace(seq, body_2d=uv, body_world=world), mask
