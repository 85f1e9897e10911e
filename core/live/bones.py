"""MediaPipe's metric limbs given the live body's bone lengths before they are lifted onto the camera rays.

``core.fit.lifting.lift_to_rays`` places each limb point on its ray at the bone's
length from its parent, the length read from the landmarks themselves. MediaPipe's
metric legs are about 10% short (the demo, December 2026), so a leg the image shows
at its full length is read as lying in the image plane, and a leg pointing at the
camera as less tilted than it is: the rotations solved from those directions, and
the shape fitted to them (``core.live.shape``), carry the short legs back in. Once
the live body's shape is known, its own lengths go in instead: each bone keeps
MediaPipe's direction and takes the body's length, walking outwards from the trunk
(the hand and foot points ride along with the wrist and ankle).
"""

from __future__ import annotations

import numpy as np

from ..body.landmark_layout import rest_body_landmarks
from ..fit.lifting import LIMB_CHAIN



def limb_lengths(rest_joints: np.ndarray) -> np.ndarray:
    """(8,) lengths of the limb bones (``core.fit.lifting.LIMB_CHAIN``, the table the lifting walks), metres, on
    the body of ``rest_joints`` (55, 3)."""
    P = rest_body_landmarks(rest_joints)
    return np.array([np.linalg.norm(P[c] - P[p]) for p, c, _ in LIMB_CHAIN])


def with_limb_lengths(world: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A copy of metric landmarks ``world`` (..., 33, >=3) whose limb bones (``LIMB_CHAIN``) keep their directions and
    take ``lengths`` (8,) metres; trunk and head points stay. A bone of no length (or not finite) keeps its own."""
    out = np.array(world, np.float64, copy=True)
    P = np.asarray(world, np.float64)[..., :3]
    for (parent, child, riders), length in zip(LIMB_CHAIN, lengths):
        bone = P[..., child, :] - P[..., parent, :]
        norm = np.linalg.norm(bone, axis=-1, keepdims=True)
        scaled = np.where(norm > 1e-9, bone * (length / np.maximum(norm, 1e-9)), bone)
        moved = out[..., parent, :3] + scaled - out[..., child, :3]
        moved = np.where(np.isfinite(moved), moved, 0.0)
        for k in (child, *riders):
            out[..., k, :3] += moved
    return out
