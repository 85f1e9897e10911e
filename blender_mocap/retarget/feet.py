"""Planted feet: the source's foot contacts, and a two-bone IK pass that pins the target's feet during them.

Numpy only. The motion file does not store contacts (the engine's cleanup
uses them and bakes their effect into the take), so they are read back from
the source's feet as the engine defines them: a heel (ankle joint) or toe
(foot joint) low above its lowest height and slow. During a contact the
target's ankle is held at its mean place over the contact (the scaled root
motion of a longer or shorter leg slides it otherwise); the leg's thigh and
shin turn in their own bend plane to reach it (a two-bone IK), the foot keeps
its world rotation, and the hold fades in and out over ``RAMP`` frames (where the
ankle is within ``REACH`` of it). Contacts shorter than ``MIN_FRAMES`` are not held.
"""

from __future__ import annotations

import numpy as np

from ...core.rotations import rotation_between

CONTACT_HEIGHT = 0.05
"""Metres above the joint's lowest height (over the take) that still count as on the floor."""
CONTACT_STEP = 0.012
"""Metres per frame of horizontal travel below which a low joint counts as planted (0.36 m/s at 30 fps)."""
RAMP = 4
"""Frames over which a hold fades in before a contact and out after it."""
MIN_FRAMES = 3
"""Shorter contacts are not held (a foot brushing the floor in a flip)."""
REACH = 0.10
"""Metres: a ramp frame whose ankle is farther than this from the held place is left alone (a fast foot)."""


def contacts(positions: np.ndarray) -> np.ndarray:
    """(T, 3) world positions of a heel or toe -> (T,) bool: on the floor and still."""
    z = positions[:, 2]
    step = np.zeros(len(z))
    step[1:] = np.linalg.norm(np.diff(positions[:, :2], axis=0), axis=1)
    step[0] = step[1] if len(z) > 1 else 0.0
    return (z < z.min() + CONTACT_HEIGHT) & (step < CONTACT_STEP)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def hold_targets(ankle: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 3) where the ankle should be, (T,) weight 0-1 of that hold: each contact's mean place, ramped."""
    target = ankle.copy()
    weight = np.zeros(len(ankle))
    for a, b in _runs(mask):
        if b - a < MIN_FRAMES:
            continue
        place = ankle[a:b].mean(axis=0)
        lo, hi = max(a - RAMP, 0), min(b + RAMP, len(ankle))
        for t in range(lo, hi):
            w = 1.0 if a <= t < b else (1.0 - (a - t) / (RAMP + 1) if t < a else 1.0 - (t - b + 1) / (RAMP + 1))
            if not a <= t < b and np.linalg.norm(ankle[t] - place) > REACH:
                continue
            if w > weight[t]:
                weight[t] = w
                target[t] = place
    return target, weight


def two_bone_ik(Q: np.ndarray, P: np.ndarray, hip: int, knee: int, ankle: np.ndarray, want: np.ndarray,
                weight: np.ndarray) -> None:
    """Turn the thigh (bone ``hip``) and shin (``knee``) world rotations in ``Q`` (T, B, 3, 3) so the ankle
    (T, 3) moves towards ``want`` by ``weight``; ``P`` (T, B, 3) are the heads before. In place."""
    on = weight > 0
    if not on.any():
        return
    H, K, A = P[on, hip], P[on, knee], ankle[on]
    goal = A + weight[on, None] * (want[on] - A)
    l1 = np.linalg.norm(K - H, axis=1)
    l2 = np.linalg.norm(A - K, axis=1)
    d = goal - H
    D = np.clip(np.linalg.norm(d, axis=1), np.abs(l1 - l2) + 1e-4, l1 + l2 - 1e-4)
    u = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
    bend = (K - H) - u * np.sum((K - H) * u, axis=1, keepdims=True)
    bend /= np.maximum(np.linalg.norm(bend, axis=1, keepdims=True), 1e-9)
    a = (l1 ** 2 - l2 ** 2 + D ** 2) / (2 * D)
    h = np.sqrt(np.maximum(l1 ** 2 - a ** 2, 0.0))
    K_new = H + a[:, None] * u + h[:, None] * bend
    A_new = H + D[:, None] * u
    R1 = rotation_between(K - H, K_new - H)
    R2 = rotation_between(np.einsum("tab,tb->ta", R1, A - K), A_new - K_new)
    Q[on, hip] = R1 @ Q[on, hip]
    Q[on, knee] = R2 @ R1 @ Q[on, knee]
