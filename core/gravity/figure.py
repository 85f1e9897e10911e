"""Gravity from the person as a vertical line in the picture: ankles below shoulders, seen from many places.

A person standing or walking upright is a vertical object: on those frames
the image segment from the mid-ankle to the mid-shoulder landmark lies in a
plane through the camera centre that holds the world's up, exactly like a
wall's edge (``lines``). As the person travels over the picture these planes
turn and meet in the vertical vanishing direction, pitch included, which the
3D posture (``posture``) gets only from a monocular fit's poorly known depth.

One segment per frame, each frame counted as an independent measurement:
on the tilted bench clips that uncertainty is 1.8 times the actual error
(counting only one frame per 0.5 s, as ``posture`` does, made it 5 times). A person who stays on one spot gives planes that all
hold the same viewing ray: the direction along it is then unconstrained and
the uncertainty says so (large), so the caller falls back on other cues.
"""

from __future__ import annotations

import numpy as np

from ..landmarks import BODY
from ..rotations import angle_between_degrees
from .lines import LEVEL_UP, MAX_TILT_DEGREES, interpretation_normals, sphere_lstsq, up_sign
from .posture import upright_frames

BENT_KNEE_DEGREES = 130.0
"""Legs bent more than this (hip-knee-ankle angle below it) are a crouch, not an upright figure. Walking and a
monocular fit's soft knees stay above it (median knee 131-139 deg on the tilted bench clips)."""
UPRIGHT_TRUNK_DEGREES = 15.0
"""The trunk (mid-hip -> mid-shoulder) may bend this much from the legs' line (mid-ankle -> mid-hip)."""
MIN_CONFIDENCE = 0.5
"""Landmark confidence below which a frame's segment is not used."""
MIN_SEGMENT_FRACTION = 0.08
"""Shortest ankle-to-shoulder segment used, as a share of the picture's longer side (a far person is too noisy)."""
MIN_SECONDS = 1.0
"""Fewest seconds of upright frames for an estimate."""
LEAN_FLOOR_DEGREES = 2.0
"""People lean (forward when walking); added in quadrature to the measured uncertainty."""
INLIER_DEGREES = 3.0
"""A frame's plane holds a direction when within this angle of it (a frame that is not upright is farther)."""
MAX_SIGMA_DEGREES = 10.0
"""Refuse an estimate less certain than this (a person who stays on one spot): the level camera's guess is 15."""
SHARED_LEAN_DEGREES = 1.0
"""A lean every frame shares (a posture, a fit's bias), degrees: it does not average out over frames, and where
the frames' planes nearly coincide (a person walking along the line of sight) it moves the estimate by many
times itself. Without this term the figure claimed 3 degrees and was 40 off on the benchmark's CMU walk."""


def figure_segments(keypoints_2d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 4) mid-ankle -> mid-shoulder segments x1, y1, x2, y2 in pixels and (T,) bool: landmarks sure enough.

    ``keypoints_2d``: (T, K, 3) landmarks (MediaPipe body order first), pixels + confidence.
    """
    kp = np.asarray(keypoints_2d, np.float64)
    names = ("left_ankle", "right_ankle", "left_shoulder", "right_shoulder")
    picked = kp[:, [BODY[n] for n in names]]
    sure = (picked[..., 2] >= MIN_CONFIDENCE).all(axis=1) & np.isfinite(picked[..., :2]).all(axis=(1, 2))
    ankle = 0.5 * (picked[:, 0, :2] + picked[:, 1, :2])
    shoulder = 0.5 * (picked[:, 2, :2] + picked[:, 3, :2])
    return np.concatenate([ankle, shoulder], axis=1), sure


def figure_up(keypoints_2d: np.ndarray, K: np.ndarray, joints: np.ndarray, fps: float,
              image_size: float) -> tuple[np.ndarray, float, int] | None:
    """(up (3,) unit camera frame, 1-sigma degrees, frames used) from the upright person's segments; None if unsure.

    ``keypoints_2d``: (T, K, 3) pixels + confidence; ``K``: (3, 3) intrinsics
    of those pixels; ``joints``: (T, J, 3) fitted joints (camera frame) that
    pick the upright frames (no crouch, trunk over the legs; walking counts);
    ``image_size``: the picture's longer side, pixels.
    """
    seg, sure = figure_segments(keypoints_2d)
    upright = upright_frames(joints, BENT_KNEE_DEGREES, UPRIGHT_TRUNK_DEGREES) & sure
    upright &= np.linalg.norm(seg[:, 2:] - seg[:, :2], axis=1) >= MIN_SEGMENT_FRACTION * image_size
    if upright.sum() < max(6, MIN_SECONDS * fps):
        return None
    n, _ = interpretation_normals(seg[upright], K)
    up = _consensus(n)
    if up is None:
        return None
    for _ in range(4):  # refit on the frames whose plane holds it within 2.5 robust spreads (at least INLIER)
        off = np.abs(n @ up)
        keep = off <= max(2.5 * 1.4826 * float(np.median(off)), np.sin(np.radians(INLIER_DEGREES)))
        if keep.sum() < 6:
            return None
        up, _ = sphere_lstsq(n[keep], np.ones(int(keep.sum())))
        up = up_sign(up)
    keep = np.abs(n @ up) <= max(2.5 * 1.4826 * float(np.median(np.abs(n @ up))), np.sin(np.radians(INLIER_DEGREES)))
    if angle_between_degrees(up, LEVEL_UP) > MAX_TILT_DEGREES:
        return None
    sigma = _sigma_degrees(n[keep], up)
    if not sigma <= MAX_SIGMA_DEGREES:
        return None
    return up, sigma, int(keep.sum())


def _consensus(n: np.ndarray, iterations: int = 400, seed: int = 0) -> np.ndarray | None:
    """The direction inside the tilt cone that most frames' planes (normals ``n`` (N, 3)) hold; None if none.

    Pairs of frames propose ``n_i x n_j``, as the scene lines do: frames that
    are not upright (a bend, a turn the fit missed) do not drag it.
    """
    rng = np.random.default_rng(seed)
    pairs = rng.integers(0, len(n), size=(iterations, 2))
    v = np.cross(n[pairs[:, 0]], n[pairs[:, 1]])
    norm = np.linalg.norm(v, axis=1)
    v = v[norm > 1e-6] / norm[norm > 1e-6, None]
    v = np.where(v[:, 1:2] > 0, -v, v)
    v = v[v @ LEVEL_UP >= np.cos(np.radians(MAX_TILT_DEGREES))]
    if len(v) == 0:
        return None
    scores = (np.abs(n @ v.T) < np.sin(np.radians(INLIER_DEGREES))).sum(axis=0)
    return v[int(np.argmax(scores))]


def _sigma_degrees(n: np.ndarray, up: np.ndarray) -> float:
    """1-sigma (degrees, weakest direction) of ``up`` fitted to the normals ``n`` (N, 3) of the frames.

    As :func:`lines.direction_sigma_degrees`: residual variance over the
    information along the weakest tangent direction (each frame one
    measurement; the residuals hold the person's lean), with the lean floor added,
    and the effect of a lean all frames share (``SHARED_LEAN_DEGREES``): an
    error of e in every frame's plane moves the estimate along the weakest
    direction by e * sqrt(N / information) (1 with planes spread all round,
    8 on the jumps the figure gets right, 12-23 where it was 7-66 degrees off).
    """
    r = n @ up
    s2 = float(np.mean(r**2)) * len(r) / max(len(r) - 2, 1)
    info = max(float(np.linalg.eigvalsh(n.T @ n)[1]), 1e-12)
    shared = SHARED_LEAN_DEGREES * np.sqrt(len(r) / info)
    return float(np.linalg.norm([np.degrees(np.sqrt(s2 / info)), LEAN_FLOOR_DEGREES, shared]))
