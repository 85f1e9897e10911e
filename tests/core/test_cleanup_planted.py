"""Planted feet that never jump: the fit's own lifts of a planted foot are not kept (cleanup.footlock)."""

from __future__ import annotations

import copy

import numpy as np

from core.body.mannequin import forward_kinematics
from core.cleanup import CleanupSettings, clean_motion
from core.cleanup.contacts import segments
from core.cleanup.floor import PROXY_INDEX
from core.cleanup.footlock import HOLD_RISE, proxy_targets
from core.skeleton import JOINT_INDEX
from tests.core.test_cleanup_root import _with_landmarks
from tests.testdata.walk import synthetic_walk, to_camera


def _planted_steps(motion, contacts: np.ndarray) -> np.ndarray:
    """(T-1, 4) frame-to-frame 3D steps of the heel and toe proxies, NaN unless planted on both frames."""
    pos, _ = forward_kinematics(motion.poses.astype(np.float64), motion.rest_joints, motion.trans)
    step = np.linalg.norm(np.diff(pos[:, PROXY_INDEX], axis=0), axis=-1)
    return np.where(contacts[1:] & contacts[:-1], step, np.nan)


def test_a_heel_the_fit_lifts_30_cm_in_one_frame_stays_planted() -> None:
    """In the middle of a stance the fit bends the knee for one frame and lifts the heel 30 cm (the picture,
    MediaPipe's landmarks, still shows the foot where it stands): after cleanup no planted heel or toe moves
    more than 2 cm from one frame to the next. Before, the lock held the foot along the floor only and its
    height followed the fit: the heel went up 30 cm and came down again."""
    motion, truth = synthetic_walk(120)
    s, e = max(segments(truth[:, 0]), key=lambda run: run[1] - run[0])
    k = (s + e) // 2
    lifted = copy.deepcopy(motion)
    poses = lifted.poses.reshape(lifted.num_frames, -1, 3).copy()
    poses[k, JOINT_INDEX["left_hip"], 0] -= 1.1  # thigh forward, knee bent back: the heel goes up
    poses[k, JOINT_INDEX["left_knee"], 0] += 1.9
    lifted.poses = poses.reshape(lifted.num_frames, -1).astype(np.float32)
    ankle = JOINT_INDEX["left_ankle"]
    rise = (forward_kinematics(lifted.poses, lifted.rest_joints, lifted.trans)[0][k, ankle, 2]
            - forward_kinematics(motion.poses, motion.rest_joints, motion.trans)[0][k, ankle, 2])
    assert rise > 0.3
    seen = _with_landmarks(to_camera(motion))  # the picture: the foot stays where it stands
    seen_lifted = to_camera(lifted)
    seen_lifted.keypoints_2d = seen.keypoints_2d
    result = clean_motion(seen_lifted, CleanupSettings())
    assert result.contacts[s + 2:e - 2, 0].all()  # the stance is one contact through the lifted frame
    steps = _planted_steps(result.motion, truth)
    assert np.nanmax(steps) < 0.02


def test_a_planted_proxy_rises_at_most_hold_rise_over_its_stance() -> None:
    """The fit raises a planted toe 8 cm for three frames: the lock keeps it within ``HOLD_RISE`` of the
    stance's median height, and lets it sink no lower than the floor."""
    T = 30
    points = np.zeros((T, 4, 3))
    points[..., 2] = 0.05
    points[12:15, 1, 2] += 0.08
    points[20, 1, 2] -= 0.03
    contacts = np.zeros((T, 4), bool)
    contacts[5:25, 1] = True
    targets, _ = proxy_targets(points, contacts, np.full(4, 0.05))
    assert np.all(targets[5:25, 1, 2] <= 0.05 + HOLD_RISE + 1e-9)
    assert np.all(targets[5:25, 1, 2] >= 0.05 - 1e-9)
