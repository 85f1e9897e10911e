"""Whole-clip fitting: all frames of a clip in one batch, one optimiser, torch.

The closed-form per-frame fit (``core.fit.ik``) gives the start: it is exact on
clean landmarks and never far off, so a short optimisation suffices. This
module then optimises, for every frame at once (float32, CUDA when available,
else CPU):

- shared shape ``betas`` (B,) for the clip;
- per-frame joint rotations of the whole tree (global orient, 21 body joints,
  15 + 15 finger joints with full articulation, the jaw on SMPL-X when the face
  was seen; eyes stay at rest, nothing observes them);
- per-frame translation, metres, OpenCV camera frame;
- per-frame ``expression`` (SMPL-X with face landmarks).

Rotations are optimised in the 6D form (two matrix columns, Zhou et al. 2019):
continuous, no wrap-around at 180 deg where an upright subject facing the
camera sits, and cheap to turn into matrices. Only joints and a few landmark
points are posed per iteration, never the whole mesh.

Objective (every term a weight in ``ObjectiveWeights``) in metres squared so
that terms compare: 2D residuals are converted to metres at the point's depth
(pixel error / focal length x depth).

Modules: ``settings`` (weights, settings, presets, device), ``setup`` (frames,
observations, start, parameters), ``limits`` and ``objective`` (the terms and
their weighted sum), ``solver`` (L-BFGS) and ``precondition`` (its
per-parameter step scales), ``result`` (parameters -> FitResult), ``windows`` (long clips), ``clip`` (``fit_window``, ``fit_clip``). The names
below are the public face: ``from core.fit.optimize import fit_clip, preset``.
"""

from .clip import fit_clip, fit_window
from .settings import (
    ACCURATE_WEIGHTS,
    DEFAULT_PRESET,
    PRESETS,
    ObjectiveWeights,
    OptimizeSettings,
    Preset,
    preset,
    resolve_device,
)

__all__ = ["ACCURATE_WEIGHTS", "DEFAULT_PRESET", "PRESETS", "ObjectiveWeights", "OptimizeSettings", "Preset",
           "fit_clip", "fit_window", "preset", "resolve_device"]
