"""The demo's man lands on his feet: after his flip off the box, the take stands upright on the grass.

A capture of the demo's frames 140-214, the man picked on the first: he walks
along the box (its top is the floor cleanup finds), flips off it (frames
~160-185) and lands on the grass 1.8 m below, crouches and runs off. The
foot lock used to lift every foot below the floor onto it, so on the grass
the legs reached 1.8 m up and pointed straight up from the pelvis: the body
looked upside down on every frame after the landing (issue 16).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("mediapipe")

from core.body.mannequin import forward_kinematics  # noqa: E402
from core.capture import CaptureSettings, capture  # noqa: E402
from core.skeleton import JOINT_INDEX as J  # noqa: E402

START, END = 140, 215
PICK = "765,258@140"
"""His pelvis in frame 140 (tests/testdata/demo_person.json)."""
STANDS = [*range(START, 158), *range(188, END)]
"""Frames where he stands, walks, crouches or runs on his feet (not taking off, in the air or touching down)."""


def _up(pos: np.ndarray, a: str, b: str) -> np.ndarray:
    """(T,) the world's up (Z) component of the unit direction from joint a to joint b."""
    d = pos[:, J[b]] - pos[:, J[a]]
    return d[:, 2] / np.linalg.norm(d, axis=1)


@pytest.mark.parametrize("backend", ["mediapipe", "torch"])
def test_the_man_stands_upright_on_the_grass_after_his_flip(demo_video, tmp_path, backend):
    motion = capture(demo_video, tmp_path / "landing.npz",
                     CaptureSettings(start=START, end=END, person=PICK, pose_backend=backend, body="mannequin"))
    np.testing.assert_allclose(motion.world_up, [0, 0, 1])
    pos, _ = forward_kinematics(motion.poses, motion.rest_joints, motion.trans)
    frames = np.asarray(motion.frame_indices)
    stands = np.isin(frames, STANDS)
    assert stands.sum() == len(STANDS)
    # Upright: each foot below its hip, the head above the pelvis (bent forward in his crouch, not below it).
    feet_down = np.minimum(-_up(pos, "left_hip", "left_ankle"), -_up(pos, "right_hip", "right_ankle"))
    head_up = _up(pos, "pelvis", "head")
    wrong = frames[stands & ((feet_down < 0.3) | (head_up < -0.1))]
    assert wrong.size == 0, f"not upright at frames {wrong.tolist()}"
    # He landed 1.7-1.9 m below the box top: one level is the take's floor (the box top or the grass,
    # whichever cleanup finds), and his feet on the other keep their fitted height, not pulled onto it.
    grass = np.isin(frames, range(195, END))
    box = np.isin(frames, range(START, 150))
    feet = pos[:, [J["left_ankle"], J["right_ankle"]], 2]
    drop = np.median(feet[box]) - np.median(feet[grass])
    assert drop > 1.0, (np.median(feet[box]), np.median(feet[grass]))
