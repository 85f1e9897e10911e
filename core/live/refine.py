"""The live solve refined in a bounded number of steps: FrankMocap's 1-3 iterations, as damped Gauss-Newton.

The closed-form solve (``core.fit.closed_form``) turns landmark *directions* into
rotations one bone at a time; nothing in it asks where the posed body lands in the
image, and a joint's error passes down the chain to its children. The offline fit
fixes that by optimising the whole clip; live has a few milliseconds. So each
frame takes ``steps`` Levenberg-Marquardt steps from its closed-form solve, with the
shape fixed, on the offline objective's per-frame terms (``core.fit.optimize``'s
``ObjectiveWeights``), all in metres:

- image: each body landmark's projection against MediaPipe's 2D landmark, in metres
  at the landmark's depth (pixels / focal length x depth), weighted by visibility;
- world: the landmarks relative to the mid-hip against the lifted metric landmarks
  (``core.fit.lifting``), the component along the camera's axis down-weighted
  (``world_depth``: MediaPipe's depth is its weak part);
- the previous frame: the last refined pose as a weak prior (the warm start: a joint the
  landmarks say little about stays where it was instead of jumping to the closed
  form's guess);
- the closed form: a prior towards the frame's own closed-form solve (``stay``): a twist
  no landmark sees stays where the directions put it.

Robust as offline: each step re-weights the landmarks by Geman-McClure (``SIGMA``),
so one landmark MediaPipe put on the wrong limb does not drag the body.

Parameters: a small rotation of each of the 22 body joints (pelvis to wrists: R_local <-
R_local exp(delta)) and the translation; fingers, jaw and eyes keep the closed form's.
The Jacobian is analytic (a joint's turn moves each landmark below it by
``delta x (p - joint)``), so a step is one forward kinematics and a 69 x 69 solve
(:func:`solve_spd`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..body.landmark_layout import BODY_JOINT, body_landmark_offsets
from ..body.mannequin import chain
from ..landmarks import BODY
from ..rotations import axis_angle_to_matrix, matrix_to_axis_angle, skew
from ..skeleton import PARENTS

BODY_JOINTS = 22
"""Pelvis to wrists: the joints refined (parents come first, so they are a whole tree)."""
LANDMARKS = np.flatnonzero(BODY_JOINT < BODY_JOINTS)
"""Body landmarks on those joints: all but the eyes' centres (on SMPL-X's eye joints) and the fingers'
(on the hands'); nose, ears, mouth and eye corners ride the head."""
PARAMS = BODY_JOINTS * 3 + 3
"""A small rotation of each of the 22 joints, then the translation."""
SIGMA = 0.05
"""Geman-McClure scale, metres: a landmark 5 cm off weighs a quarter, 15 cm off a hundredth."""
_HIPS = [int(np.flatnonzero(LANDMARKS == BODY[n])[0]) for n in ("left_hip", "right_hip")]
_LANDMARK_JOINT = BODY_JOINT[LANDMARKS]  # (L,) the joint each landmark rides


def _below() -> np.ndarray:
    """(L, 22) True where joint j is the landmark's joint or one of its ancestors (its turn moves the landmark)."""
    out = np.zeros((len(LANDMARKS), BODY_JOINTS), bool)
    for row, joint in enumerate(BODY_JOINT[LANDMARKS]):
        j = int(joint)
        while j >= 0:
            out[row, j] = True
            j = PARENTS[j]
    return out


BELOW = _below()


def solve_spd(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with A x = b for a symmetric positive definite ``A`` (n, n) and ``b`` (n,) or (n, m): Cholesky in numpy
    loops and ``einsum``.

    Not ``np.linalg.solve``: for a 69 x 69 system OpenBLAS starts its threads, which then wait on cores that
    MediaPipe's pose thread holds (the live session's normal state): 1-10 ms a solve on this 2-core machine
    under load, against a steady 2 ms here (0.07 ms with one BLAS thread, which numpy cannot be told
    after it is loaded)."""
    n = len(b)
    L = np.zeros_like(A)
    for j in range(n):
        row = L[j, :j]
        L[j, j] = np.sqrt(max(A[j, j] - np.einsum("i,i->", row, row), 1e-300))
        L[j + 1:, j] = (A[j + 1:, j] - np.einsum("ki,i->k", L[j + 1:, :j], row)) / L[j, j]
    y = np.empty(np.shape(b))
    for j in range(n):
        y[j] = (b[j] - np.einsum("i,i...->...", L[j, :j], y[:j])) / L[j, j]
    x = np.empty(np.shape(b))
    for j in range(n - 1, -1, -1):
        x[j] = (y[j] - np.einsum("i,i...->...", L[j + 1:, j], x[j + 1:])) / L[j, j]
    return x


@dataclass(frozen=True)
class RefineSettings:
    """The per-frame refinement (weights as ``core.fit.optimize.ObjectiveWeights``', metres^2).

    Attributes:
        steps: Levenberg-Marquardt steps a frame (0: the closed form as it is).
        image: weight of the 2D term (``reprojection``).
        world: weight of the world-landmark term (``world_3d``).
        world_depth: weight, within ``world``, of the component along the camera's axis (``world_depth``).
        previous: weight of the previous frame's pose per radian^2 of each joint's turn and per metre^2.
        stay: weight of the frame's closed-form pose, per radian^2.
        stay_trans: weight of its translation, per metre^2: the closed form's comes from the 2D landmarks
            already, and a shift along the camera's ray is what one view sees least.
        damping: Levenberg-Marquardt's lambda, relative to the diagonal.
        min_visibility: landmarks seen less than this count for nothing.
        hold_seconds: a previous frame older than this is no prior (the person was gone).
    """

    steps: int = 1
    image: float = 1.0
    world: float = 0.1
    world_depth: float = 0.2
    previous: float = 0.02
    stay: float = 0.1
    stay_trans: float = 1.0
    damping: float = 1e-2
    min_visibility: float = 0.3
    hold_seconds: float = 0.2


@dataclass
class Observed:
    """One frame's observations, over ``LANDMARKS``: uv (L, 2) normalised image coordinates ((px - c) / f), world
    (L, 3) metres relative to the mid-hip, camera axes; weight (L,) visibility (0: unused)."""

    uv: np.ndarray
    world: np.ndarray
    weight: np.ndarray


class Refiner:
    """Refines each frame's closed-form solve in ``settings.steps`` steps; keeps the last result as the next
    frame's prior.

    Args:
        rest_joints: (55, 3) the body's rest joints, metres, model frame.
        K: (3, 3) intrinsics, pixels.
    """

    def __init__(self, rest_joints: np.ndarray, K: np.ndarray, settings: RefineSettings = RefineSettings()) -> None:
        self.J = np.asarray(rest_joints, np.float64)
        self.K = np.asarray(K, np.float64)
        self.settings = settings
        self._offsets = body_landmark_offsets(self.J)[LANDMARKS]  # (L, 3) model frame
        self._last: tuple[np.ndarray, np.ndarray, float] | None = None  # (local rotations (22, 3, 3), trans, t)

    def forget(self) -> None:
        """The last frame is someone else's (the tracker went to another person): no prior from it."""
        self._last = None

    def pose(self, R: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(landmarks (L, 3), joints (22, 3), global rotations (22, 3, 3)), camera frame, of the local rotations
        ``R`` (22, 3, 3) and ``trans`` (3,)."""
        posed, rotated = chain(R[None], self.J, trans[None])
        pos, rot = posed[0], rotated[0]
        return pos[_LANDMARK_JOINT] + np.einsum("lab,lb->la", rot[_LANDMARK_JOINT], self._offsets), pos, rot

    def terms(self, points: np.ndarray, obs: Observed, dpos: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray | None]:
        """(residuals (L, 5) metres, their derivatives (L, 5, P) given the landmarks' ``dpos`` (L, 3, P)): image
        ``x - u z`` (the 2D error in metres at the landmark's depth), then world (relative to the mid-hip, its depth
        scaled)."""
        s = self.settings
        image = points[:, :2] - obs.uv * points[:, 2:]
        scale = np.array([1.0, 1.0, np.sqrt(s.world_depth)])
        world = (points - points[_HIPS].mean(0) - obs.world) * scale
        r = np.concatenate([np.sqrt(s.image) * image, np.sqrt(s.world) * world], -1)
        if dpos is None:
            return r, None
        d_image = dpos[:, :2] - obs.uv[:, :, None] * dpos[:, 2:]
        d_world = (dpos - dpos[_HIPS].mean(0)) * scale[:, None]
        return r, np.concatenate([np.sqrt(s.image) * d_image, np.sqrt(s.world) * d_world], 1)

    def observations(self, uv: np.ndarray, world: np.ndarray, vis: np.ndarray) -> Observed:
        f, c = self.K[[0, 1], [0, 1]], self.K[:2, 2]
        uv_l = (np.asarray(uv, np.float64)[LANDMARKS, :2] - c) / f
        world = np.asarray(world, np.float64)[:, :3]
        world_l = world[LANDMARKS] - 0.5 * (world[BODY["left_hip"]] + world[BODY["right_hip"]])
        v = np.clip(np.nan_to_num(np.asarray(vis, np.float64)[LANDMARKS]), 0.0, 1.0)
        ok = np.isfinite(uv_l).all(1) & np.isfinite(world_l).all(1) & (v >= self.settings.min_visibility)
        return Observed(np.nan_to_num(uv_l), np.nan_to_num(world_l), np.where(ok, v, 0.0))

    def priors(self, R: np.ndarray, trans: np.ndarray, start: tuple[np.ndarray, np.ndarray],
                prior: tuple[np.ndarray, np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
        """(residuals (P,), weights (P,)) of the closed form's and the previous frame's pose, in each joint's
        tangent (the derivative by the step taken as the identity: the turns are small)."""
        s = self.settings
        pairs = [(start, s.stay, s.stay_trans)]
        if prior is not None and s.previous > 0:
            pairs.append((prior, s.previous, s.previous))
        res, wts = [], []
        for (R0, t0), weight, weight_trans in pairs:
            turn = matrix_to_axis_angle(np.swapaxes(R0, -1, -2) @ R).ravel()
            res.append(np.concatenate([turn, trans - t0]))
            wts.append(np.concatenate([np.full(BODY_JOINTS * 3, weight), np.full(3, weight_trans)]))
        return np.concatenate(res), np.concatenate(wts)

    def linearise(self, R: np.ndarray, trans: np.ndarray, obs: Observed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(weighted residuals (L * 5,), their Jacobian (L * 5, PARAMS), the landmarks' weights (L,): visibility
        times the square root of Geman-McClure's, as iteratively re-weighted least squares takes them) of the
        pose ``R`` (22, 3, 3) local, ``trans`` (3,) against ``obs``."""
        points, joints, rot = self.pose(R, trans)
        # A joint's turn delta (its own axes) moves a landmark below it by (rot_j delta) x (p - joint_j).
        d_turn = -skew(points[:, None] - joints[None]) @ rot[None]  # (L, 22, 3, 3)
        d_turn = np.where(BELOW[..., None, None], d_turn, 0.0)
        dpos = np.concatenate([d_turn.transpose(0, 2, 1, 3).reshape(len(points), 3, BODY_JOINTS * 3),
                               np.broadcast_to(np.eye(3), (len(points), 3, 3))], -1)  # (L, 3, PARAMS)
        r, jac = self.terms(points, obs, dpos)
        assert jac is not None
        w = np.sqrt(obs.weight * (SIGMA ** 2 / (SIGMA ** 2 + np.sum(r ** 2, -1))) ** 2)  # Geman-McClure, IRLS
        return (r * w[:, None]).ravel(), (jac * w[:, None, None]).reshape(-1, PARAMS), w

    def _step(self, R: np.ndarray, trans: np.ndarray, obs: Observed, start: tuple[np.ndarray, np.ndarray],
              prior: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """One Levenberg-Marquardt step (PARAMS,): the joints' turns, then the translation's move."""
        r, jac, _ = self.linearise(R, trans, obs)
        pr, pw = self.priors(R, trans, start, prior)
        n = len(pw) // PARAMS
        A = np.einsum("ki,kj->ij", jac, jac) + np.diag(pw.reshape(n, PARAMS).sum(0))  # no BLAS threads: solve_spd
        g = np.einsum("ki,k->i", jac, r) + (pw * pr).reshape(n, PARAMS).sum(0)
        A += self.settings.damping * np.diag(np.diag(A))
        return -solve_spd(A, g)

    def __call__(self, aa: np.ndarray, trans: np.ndarray, uv: np.ndarray, world: np.ndarray, vis: np.ndarray,
                 t: float) -> tuple[np.ndarray, np.ndarray]:
        """Refined (local axis-angle (55, 3), trans (3,)) of a frame whose closed-form solve is ``aa``, ``trans``
        (camera frame, metres), seen as ``uv`` (33, 2) pixels and ``world`` (33, 3) metres (the lifted metric
        landmarks, camera axes), ``vis`` (33,) 0-1, at time ``t`` s."""
        s = self.settings
        if s.steps <= 0:
            return aa, trans
        obs = self.observations(uv, world, vis)
        R = axis_angle_to_matrix(np.asarray(aa, np.float64)[:BODY_JOINTS])
        tr = np.asarray(trans, np.float64).copy()
        start = (R.copy(), tr.copy())
        last = self._last
        prior = (last[0], last[1]) if last is not None and 0 < t - last[2] <= s.hold_seconds else None
        for _ in range(s.steps):
            step = self._step(R, tr, obs, start, prior)
            R = R @ axis_angle_to_matrix(step[:BODY_JOINTS * 3].reshape(BODY_JOINTS, 3))
            tr = tr + step[BODY_JOINTS * 3:]
        self._last = (R, tr, t)
        out = np.asarray(aa, np.float64).copy()
        out[:BODY_JOINTS] = matrix_to_axis_angle(R)
        return out, tr
