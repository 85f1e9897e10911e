"""Ground levels: a take may stand on a box, a step or a stage as well as the floor.

The floor cleanup finds (``floor``) is one plane, Z = 0 of the take's world.
The demo's man walks on a box 1.8 m above the grass he lands on; with one
plane, every foot on the grass was 1.8 m "in the floor", the foot lock lifted
it (pointing the legs up from the pelvis), and the take's penetration figures
read 2 m. Here the levels come from the planted soles:

- each contact (one proxy's run of planted frames) stands at its median sole
  height;
- contacts are sorted by that height and split where two neighbours differ
  by more than ``LevelSettings.separation`` (a monocular fit's depth drift
  spreads the stances of one floor over tens of centimetres, but as a
  continuum: a gap that size between clusters is a step, not drift);
- a cluster is a level when its contacts hold at least ``min_frames`` frames
  (else its contacts join the nearest level); its height is the median of its
  planted soles, and the level nearest Z = 0 is the floor, exactly 0.

Each proxy then stands on its contact's level while planted, and between
contacts over the lower of the levels before and after (a foot in flight from
the box to the grass is over the grass). Root anchoring, the foot lock and the
penetration figures use that level instead of Z = 0.

numpy only; the Z-up world on the floor (``floor.reexpress``), metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..motion_ground import GroundLevels
from .contacts import segments


@dataclass(frozen=True)
class LevelSettings:
    """How levels are told apart.

    Attributes:
        separation: metres; contacts whose median heights differ by more than
            this (with no contact between) stand on different levels.
        min_frames: a level needs contacts holding at least this many frames
            (distinct frames, any proxy): 10 frames, a third of a second at 30 fps.
    """

    separation: float = 0.15
    min_frames: int = 10


def _runs(contacts: np.ndarray, sole_height: np.ndarray) -> list[tuple[int, int, int, float]]:
    """Every contact as (proxy, start, end exclusive, median sole height)."""
    return [(p, s, e, float(np.median(sole_height[s:e, p])))
            for p in range(contacts.shape[1]) for s, e in segments(contacts[:, p])]


def _clusters(heights: np.ndarray, separation: float) -> np.ndarray:
    """(N,) cluster label of each height: sorted, split where neighbours differ by more than ``separation``."""
    order = np.argsort(heights)
    labels = np.empty(len(heights), np.int64)
    labels[order] = np.concatenate([[0], np.cumsum(np.diff(heights[order]) > separation)])
    return labels


def find_levels(sole_height: np.ndarray, contacts: np.ndarray,
                settings: LevelSettings = LevelSettings()) -> GroundLevels:
    """The ground levels of a take and each proxy's level per frame (module docstring).

    ``sole_height`` (T, P) metres above Z = 0 of each contact proxy's sole
    (the proxy lowered by its rest height); ``contacts`` (T, P) bool. Without
    contacts: one level, the floor.
    """
    T, P = contacts.shape
    runs = _runs(contacts, sole_height)
    if not runs:
        return GroundLevels(np.zeros(1), np.zeros((T, P), np.int8))
    run_heights = np.array([r[3] for r in runs])
    labels = _clusters(run_heights, settings.separation)
    heights, kept = [], []
    for label in np.unique(labels):
        members = [r for r, lab in zip(runs, labels) if lab == label]
        held = np.zeros(T, bool)
        for _, s, e, _ in members:
            held[s:e] = True
        if held.sum() >= settings.min_frames:
            soles = np.concatenate([sole_height[s:e, p] for p, s, e, _ in members])
            heights.append(float(np.median(soles)))
            kept.append(label)
    if not heights:  # no cluster held long enough: the floor alone
        return GroundLevels(np.zeros(1), np.zeros((T, P), np.int8))
    levels = np.array(heights)
    levels[np.argmin(np.abs(levels))] = 0.0  # the floor cleanup found is the level nearest it
    order = np.argsort(levels)
    levels = levels[order]
    # Each contact stands on the nearest level (its own cluster's, or the nearest kept one).
    planted = np.full((T, P), -1, np.int64)
    for p, s, e, h in runs:
        planted[s:e, p] = int(np.argmin(np.abs(levels - h)))
    return GroundLevels(levels, _between_contacts(planted, int(np.argmin(np.abs(levels)))).astype(np.int8))


def _between_contacts(planted: np.ndarray, floor: int) -> np.ndarray:
    """(T, P) level index per frame: a contact's own, between contacts the lower of the levels before and
    after (levels are ascending: the smaller index), before the first / after the last contact that one's,
    and ``floor`` for a proxy never planted."""
    T, P = planted.shape
    out = planted.copy()
    frames = np.arange(T)
    for p in range(P):
        known = planted[:, p] >= 0
        if not known.any():
            out[:, p] = floor
            continue
        idx = np.flatnonzero(known)
        before = idx[np.clip(np.searchsorted(idx, frames, side="right") - 1, 0, len(idx) - 1)]
        after = idx[np.clip(np.searchsorted(idx, frames, side="left"), 0, len(idx) - 1)]
        out[~known, p] = np.minimum(planted[before, p], planted[after, p])[~known]
    return out
