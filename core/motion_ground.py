"""The ground levels a take stands on (the motion file's ``ground_*`` keys): what they are, their keys, their checks.

A take may stand on more than one level: a box, a step or a stage, and the
floor (the demo's man walks on a box, flips off it and lands on the grass
1.8 m lower). Cleanup finds the levels from the planted soles
(``core.cleanup.levels``) and says, per frame and contact proxy, which level
that proxy stands over. Frame: the take's Z-up world on the floor (``world_up``
``(0, 0, 1)``), heights in metres along Z; the floor cleanup found is Z = 0
and is one of the levels.

Needs only numpy (the Blender side reads it). ``motion`` builds on this module,
never the other way round, so faults come back as messages for it to raise.
Keys are optional and additive: files without them read as one level, the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .motion_cameras import has_members

GROUND_KEYS = ("ground_levels", "ground_level_index")
"""The motion file's members for the ground levels."""

PROXY_NAMES = ("left heel", "left toe", "right heel", "right toe")
"""The contact proxies of ``GroundLevels.index``' columns (``core.cleanup.floor.PROXIES``)."""


@dataclass
class GroundLevels:
    """L ground levels of one take and which one each contact proxy stands over, frame by frame.

    Attributes:
        heights: (L,) float64 metres along the world's up (Z), ascending; the floor (Z = 0) is one of them.
        index: (T, 4) int8 index into ``heights`` of the level each proxy (left heel, left toe, right
            heel, right toe) stands on or over on each frame (during a contact: the one it is planted on;
            between contacts: the lower of the levels before and after).
    """

    heights: np.ndarray
    index: np.ndarray

    @property
    def num_levels(self) -> int:
        return int(np.asarray(self.heights).shape[0])

    def support(self) -> np.ndarray:
        """(T, 4) height in metres of the level each proxy stands over."""
        return np.asarray(self.heights, np.float64)[np.asarray(self.index, np.int64)]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The motion file's ``ground_*`` members."""
        return {"ground_levels": np.asarray(self.heights, np.float64),
                "ground_level_index": np.asarray(self.index, np.int8)}

    def shifted(self, dz: float) -> "GroundLevels":
        """The same levels when the world moves by ``dz`` metres along Z."""
        return GroundLevels(np.asarray(self.heights, np.float64) + dz, self.index)


def ground_from_arrays(data: dict[str, np.ndarray]) -> GroundLevels | None:
    """The ground levels of a motion file's members, or None when it has none (older files, AMASS).

    Raises ValueError (with what is wrong) for a partial set of members."""
    if not has_members(data, GROUND_KEYS, "the ground levels"):
        return None
    heights = np.asarray(data["ground_levels"])
    index = np.asarray(data["ground_level_index"])
    if heights.dtype.kind != "f" or index.dtype.kind not in "iu":
        raise ValueError("ground_levels must be floats and ground_level_index integers")
    return GroundLevels(heights.astype(np.float64).reshape(-1), index.astype(np.int8))


def ground_faults(ground: GroundLevels, frames: int) -> str | None:
    """What is wrong with ``ground`` for a take of ``frames`` frames (None: nothing)."""
    heights = np.asarray(ground.heights)
    index = np.asarray(ground.index)
    if heights.ndim != 1 or heights.size == 0:
        return f"'ground_levels' must have shape (L,) with L >= 1, got {tuple(heights.shape)}"
    if not np.isfinite(heights).all():
        return "'ground_levels' holds NaN or infinite values"
    if index.shape != (frames, len(PROXY_NAMES)):
        return f"'ground_level_index' must have shape ({frames}, {len(PROXY_NAMES)}), got {tuple(index.shape)}"
    if index.size and (index.min() < 0 or index.max() >= heights.size):
        return f"'ground_level_index' must index the {heights.size} ground levels"
    return None
