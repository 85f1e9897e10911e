"""Body models in the SMPL-X joint tree: rest joints, rest mesh, forward kinematics, skinning.

``core.body.mannequin`` is our own license-free body (numpy only). The user's
SMPL-X files get their own module later; both share the joint tree of
``core.skeleton`` and the FK convention of ``forward_kinematics``.
"""

from .mannequin import (
    BETA_NAMES,
    NUM_BETAS,
    STATURE,
    Mannequin,
    forward_kinematics,
    mesh,
    rest_joints,
    skin,
)

__all__ = [
    "BETA_NAMES", "NUM_BETAS", "STATURE", "Mannequin",
    "forward_kinematics", "mesh", "rest_joints", "skin",
]
