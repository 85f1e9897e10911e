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
the box to the grass is over the grass), and never over a level more than
``LevelSettings.reach`` above its sole at its lowest between those contacts (a
foot left free after its last stance on the box falls to the grass). Root anchoring, the foot lock and the
penetration figures use that level instead of Z = 0.

Contacts, though, are found by sole height, and the floor is found first, under
the lowest resting soles: a take that stands on a box a long time and then
jumps down gets its floor on the lower ground, and its stance on the box, 2 m
up, is too high for any contact (the demo's man, whose feet slid 25 mm a frame where the video shows them still (35 over all frames)
there). So before contacts are detected, :func:`raised_levels` takes the
levels the video reveals on its own: heights where feet it shows standing still
(``contacts.still_feet``) hold, further above the floor than the still rule of
contact detection reaches (``ContactSettings.height_on_still``), clustered as
the contacts above and held as long; detection then measures each sole from
the highest such level it is not more than ``LevelSettings.reach`` below
(:func:`level_under`), so a stance up there starts contacts as one on the
floor does, and :func:`find_levels` finds its level from them.

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
            A raised level found from still feet (:func:`raised_levels`) needs as many
            frames of them.
        reach: metres; before contacts are found, a sole is measured from the highest
            raised level at most this far above it (the spread of one stance's fitted
            soles about its level: the demo's box stance, 26 cm below to 19 above (5-95 %: 10 below, 12 above);
            the root anchor's ``support_tolerance`` alike), else from the floor.
    """

    separation: float = 0.15
    min_frames: int = 10
    reach: float = 0.3


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


BEARING = 0.5
"""A still foot stands on what it rests on (``raised_levels``) only while the pelvis is at least this share of
the leg's length above its sole: a foot resting on a barre, a stool's rung or a raised knee's thigh is still
and high, but the body does not stand on it."""

LEVEL_SPAN_SECONDS = 1.0
"""Seconds before the first and after the last still frame of a raised level during which soles are measured
from it (``level_under``); elsewhere in the take the level is not there to stand on."""


def raised_levels(sole_height: np.ndarray, still: np.ndarray, above: float,
                  settings: LevelSettings = LevelSettings(), *, pelvis_height: np.ndarray | None = None,
                  leg_length: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The levels, at least ``above`` over Z = 0, that feet the video shows standing still reveal before
    any contact is found (module docstring): (N,) ascending heights (metres) and (N, 2) each one's first and
    last frame of still feet on it.

    ``sole_height`` (T, P) metres above Z = 0; ``still`` (T, P) bool (``contacts.still_feet``);
    ``above``: how high contact detection's own still rule reaches. ``pelvis_height`` (T,) metres above Z = 0
    and ``leg_length`` (metres): a still sole counts only under a pelvis ``BEARING`` of a leg above it (the
    body stands on it); None: every still sole counts. Still soles that high are sorted and split where
    neighbours differ by more than ``separation``; a cluster on at least ``min_frames`` distinct frames is a
    level at its median. Empty when there is none.
    """
    still = np.asarray(still, bool) & (sole_height >= above)
    if pelvis_height is not None:
        still &= (np.asarray(pelvis_height, np.float64)[:, None] - sole_height) >= BEARING * leg_length
    frames, proxies = np.nonzero(still)
    if frames.size == 0:
        return np.zeros(0), np.zeros((0, 2), np.int64)
    soles = sole_height[frames, proxies]
    labels = _clusters(soles, settings.separation)
    found = sorted((float(np.median(soles[labels == label])), int(frames[labels == label].min()),
                    int(frames[labels == label].max()))
                   for label in np.unique(labels) if np.unique(frames[labels == label]).size >= settings.min_frames)
    return (np.array([f[0] for f in found], np.float64),
            np.array([f[1:] for f in found], np.int64).reshape(-1, 2))


def level_under(sole_height: np.ndarray, raised: np.ndarray, reach: float, spans: np.ndarray | None = None,
                margin: int = 0) -> np.ndarray:
    """(T, P) height (metres) each sole of ``sole_height`` (T, P) is measured from: the highest of the
    ``raised`` levels (N,) at most ``reach`` above it, else the floor (0). A foot well below a raised
    level (in flight from it, or on the floor beside it) is over the floor. ``spans`` (N, 2): each level's
    first and last frame of still feet; a level is there only from ``margin`` frames before the first to
    ``margin`` after the last (None: throughout)."""
    under = np.zeros(np.shape(sole_height))
    frames = np.arange(len(under))[:, None]
    order = np.argsort(np.asarray(raised, np.float64))
    for k in order:
        height = float(raised[k])
        there = np.ones_like(frames, bool) if spans is None else \
            (frames >= spans[k, 0] - margin) & (frames <= spans[k, 1] + margin)
        under = np.where((sole_height >= height - reach) & there, height, under)
    return under


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
    index = _between_contacts(planted, int(np.argmin(np.abs(levels))))
    # A free foot is over the lowest level it comes down to before its next contact (after its last stance on
    # the box, the demo's man falls to the grass with a foot no contact holds there): the highest level at
    # most ``reach`` above its sole, or the lowest, at its lowest in that free stretch.
    below = np.clip(np.searchsorted(levels, sole_height + settings.reach, side="right") - 1, 0, None)
    for p in range(P):
        for s, e in segments(planted[:, p] < 0):
            index[s:e, p] = np.minimum(index[s:e, p], below[s:e, p].min())
    return GroundLevels(levels, index.astype(np.int8))


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
