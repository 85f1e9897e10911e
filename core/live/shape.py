"""The live body's proportions fitted over the warm-up: a few Gauss-Newton steps on all its frames at once.

MediaPipe's metric landmarks are short-legged (about 10% on the demo against the
offline fit's legs, which the 2D landmarks hold to), and the shape read from their
segment lengths (``core.body.shape.estimate_betas``) inherits that: every frame
streamed afterwards then has its ankles 10 cm off. The offline fit corrects the
shape by optimising it with the whole clip's poses against the 2D landmarks; live
has the warm-up's frames. So at the end of the warm-up the mannequin's betas
(``core.body.mannequin``: log scales of the arms, legs, shoulder and hip widths)
and the poses of those frames are refined together, on the per-frame refinement's
terms (``core.live.refine``: the 2D landmarks, the lifted metric landmarks with
their depth down-weighted, a weak pull towards each frame's closed-form pose), with
a weak prior holding the betas to MediaPipe's reading. The overall size (``betas[0]``)
is fitted too: one view cannot tell a larger body farther away from a smaller one
nearer, so the metric landmarks set it, but all of them rather than the torso alone,
whose length MediaPipe reads 0.406 / 0.439 / 0.469 m over warm-ups of 5 / 10 / 20 frames
of the demo (the offline fit's: 0.443); fitted, 20 and 30 frames agree (0.44 m).

The lifted landmarks the fit compares with were lifted with MediaPipe's own bone
lengths, which bends a leg shown at its full length into the image plane and so
argues for the short leg again; the solver therefore runs the fit in rounds, each
on landmarks lifted with the last round's lengths (``core.live.bones``,
``ShapeSettings.rounds``). On synthetic streams whose metric legs are 10% short (four
seeds, 20 frames): 0.95-0.97 of the true leg after one round, 0.97-0.99 after two,
0.97-0.99 after three (the default), 0.98-1.00 after four.

Each step linearises every frame (the Jacobian in the pose is the refinement's
analytic one, in the betas a forward difference of the rest joints) and solves the
shared betas first by the Schur complement of the per-frame blocks (5 x 5), then
each frame's 69 parameters: a bundle adjustment with the shape as the shared
"camera". The shape is then fixed for the session, so the rig built from it stays
valid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..body.mannequin import rest_joints as mannequin_rest_joints
from ..body.shape import clamp_betas
from ..rotations import axis_angle_to_matrix
from .refine import BODY_JOINTS, PARAMS, Observed, Refiner, RefineSettings, solve_spd

STEP = 1e-4
"""Forward difference of the betas, log units (0.01% of a length)."""


@dataclass(frozen=True)
class ShapeSettings:
    """The warm-up's shape fit.

    Attributes:
        steps: Gauss-Newton steps a round (0: MediaPipe's proportions as they are).
        rounds: fits, each on the metric landmarks given the last one's limb lengths (``core.live.bones``; the
            first on MediaPipe's own).
        free: the mannequin betas fitted (0-4: overall size, arm, leg, shoulder and hip); the others keep
            MediaPipe's.
        prior: weight of each fitted beta's move from MediaPipe's reading, per (log unit)^2 and per frame (the
            terms are metres^2 a frame): 0.01 lets a leg grow 10% when that moves its ankle 1 cm nearer the
            landmarks on a frame.
        world: weight of the lifted metric landmarks (the refinement's ``world``): low, as their segment lengths
            are what is wrong; they still hold the depth of each frame's limbs, which the image cannot tell.
        stay: weight of each frame's closed-form pose (the refinement's ``stay``): low, as it was solved on the
            wrong proportions.
        damping: Levenberg-Marquardt's lambda, relative to the diagonal.
    """

    steps: int = 3
    rounds: int = 3
    free: tuple[int, ...] = (0, 1, 2, 3, 4)
    prior: float = 0.01
    world: float = 0.01
    stay: float = 0.001
    damping: float = 1e-3


@dataclass
class WarmupFrame:
    """One warm-up frame: its closed-form solve (``aa`` (55, 3) local axis-angle, ``trans`` (3,) metres, camera
    frame, on the shape being fitted) and its landmarks (``uv`` (33, 2) pixels, ``world`` (33, 3) lifted metric
    landmarks in the camera's axes, ``vis`` (33,) 0-1)."""

    aa: np.ndarray
    trans: np.ndarray
    uv: np.ndarray
    world: np.ndarray
    vis: np.ndarray


def _frame_system(base: Refiner, moved: list[Refiner], R: np.ndarray, trans: np.ndarray, obs: Observed,
                  start: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    """One frame's normal equations: (A_ff (P, P), A_fb (P, B), A_bb (B, B), g_f (P,), g_b (B,))."""
    r, jac, w = base.linearise(R, trans, obs)
    cols = []
    for other in moved:  # the betas' derivative: the same pose on the rest joints of a slightly moved shape
        r_moved, _ = other.terms(other.pose(R, trans)[0], obs)
        cols.append(((r_moved * w[:, None]).ravel() - r) / STEP)
    jac_b = np.stack(cols, -1)
    pr, pw = base.priors(R, trans, start, None)
    # einsum, not @: no BLAS threads (see solve_spd), which would wait on the cores the pose thread holds
    A_ff = np.einsum("ki,kj->ij", jac, jac) + np.diag(pw)
    A_ff += base.settings.damping * np.diag(np.diag(A_ff))
    return (A_ff, np.einsum("ki,kj->ij", jac, jac_b), np.einsum("ki,kj->ij", jac_b, jac_b),
            np.einsum("ki,k->i", jac, r) + pw * pr, np.einsum("ki,k->i", jac_b, r))


def fit_shape(betas: np.ndarray, frames: list[WarmupFrame], K: np.ndarray,
              settings: ShapeSettings = ShapeSettings(), refine: RefineSettings = RefineSettings(),
              rest_joints: Callable[[np.ndarray], np.ndarray] = mannequin_rest_joints) -> np.ndarray:
    """(NUM_BETAS,) mannequin betas fitted to the warm-up ``frames``, starting from ``betas`` (MediaPipe's
    reading, ``core.body.shape.estimate_betas``); ``K`` (3, 3) intrinsics, pixels. ``rest_joints`` maps betas to
    (55, 3) rest joints, metres."""
    start_betas = np.asarray(betas, np.float64).copy()
    out = start_betas.copy()
    if settings.steps <= 0 or not frames:
        return out
    free = list(settings.free)
    refine = replace(refine, world=settings.world, stay=settings.stay, stay_trans=settings.stay)
    base = Refiner(rest_joints(out), K, refine)
    obs = [base.observations(f.uv, f.world, f.vis) for f in frames]
    poses = [(axis_angle_to_matrix(np.asarray(f.aa, np.float64)[:BODY_JOINTS]),
              np.asarray(f.trans, np.float64).copy()) for f in frames]
    starts = [(R.copy(), t.copy()) for R, t in poses]
    prior = settings.prior * len(frames)
    for step in range(settings.steps):
        if step:  # the shape moved on the last step
            base = Refiner(rest_joints(out), K, refine)
        moved = []
        for k in free:
            b = out.copy()
            b[k] += STEP
            moved.append(Refiner(rest_joints(b), K, refine))
        systems = [_frame_system(base, moved, R, t, o, s) for (R, t), o, s in zip(poses, obs, starts)]
        # Schur complement: the betas' system with every frame's own parameters eliminated.
        S = prior * np.eye(len(free))
        rhs = prior * (out[free] - start_betas[free])
        solved = []
        for A_ff, A_fb, A_bb, g_f, g_b in systems:
            inv = solve_spd(A_ff, np.concatenate([A_fb, g_f[:, None]], 1))
            S += A_bb - np.einsum("ki,kj->ij", A_fb, inv[:, :-1])
            rhs += g_b - np.einsum("ki,k->i", A_fb, inv[:, -1])
            solved.append(inv)
        S += settings.damping * np.diag(np.diag(S))
        d_b = -solve_spd(S, rhs)
        out[free] += d_b
        clamp_betas(out)  # the ranges estimate_betas holds MediaPipe's proportions to
        if step + 1 == settings.steps:  # the poses only serve the next step's linearisation
            break
        for i, inv in enumerate(solved):
            d_f = -(inv[:, -1] + inv[:, :-1] @ d_b)
            R, t = poses[i]
            poses[i] = (R @ axis_angle_to_matrix(d_f[:BODY_JOINTS * 3].reshape(BODY_JOINTS, 3)),
                        t + d_f[BODY_JOINTS * 3:PARAMS])
    return out
