"""A body in flight stays where the picture has it through the cleanup (core.cleanup.in_the_picture)."""

from __future__ import annotations

import numpy as np

from core.body.mannequin import forward_kinematics
from core.cleanup import CleanupSettings, clean_motion
from core.motion import Motion
from tests.core.test_cleanup_root import _with_landmarks
from tests.testdata.walk import synthetic_walk, to_camera


def _pelvis_pixels(motion: Motion) -> np.ndarray:
    """(T, 2) the take's pelvis projected with its own camera."""
    pos, _ = forward_kinematics(motion.poses.astype(np.float64), motion.rest_joints, motion.trans)
    E = np.eye(4) if motion.camera_extrinsics is None else np.asarray(motion.camera_extrinsics, np.float64)
    cam = pos[:, 0] @ E[:3, :3].T + E[:3, 3]
    uv = cam @ np.asarray(motion.camera_intrinsics, np.float64).T
    return uv[:, :2] / uv[:, 2:]


def test_a_jump_across_the_view_stays_on_its_place_in_the_picture() -> None:
    """Standing, a 40 cm high jump 60 cm across the camera's view, standing. The root's moves that plant the two
    stances (the anchors along the feet's rays, the foot lock's shift) used to be carried across the flight and
    moved the flying body 4-4.5 px off where the fit (and the picture) had it; the flip of the rendered backflip
    left the 10% identity bound on three more frames that way, the demo's at frame 170 went from 0.03 to 0.07
    of his height. In the flight's middle the pelvis now keeps its pixel; the stances are as they were."""
    frames = 90
    motion, _ = synthetic_walk(frames)
    poses = np.repeat(motion.poses[:1], frames, 0)  # stand in the first frame's pose
    trans = np.repeat(motion.trans[:1].astype(np.float64), frames, 0)
    t = np.arange(frames) - 40
    flight = (t >= 0) & (t < 17)  # 17 frames at 30 fps: 0.57 s in the air, about 40 cm high
    trans[flight, 2] += 0.5 * 9.81 * (t[flight] / 30.0) * ((16 - t[flight]) / 30.0)
    trans[:, 0] += 0.6 * np.clip(t / 16.0, 0.0, 1.0)
    motion.poses, motion.trans = poses, trans.astype(np.float32)
    seen = _with_landmarks(to_camera(motion))
    out = clean_motion(seen, CleanupSettings(smoothing_body=0.0))
    moved = np.linalg.norm(_pelvis_pixels(out.motion) - _pelvis_pixels(seen), axis=1)
    assert not out.contacts[44:53].any()  # the flight's middle: no foot planted
    assert moved[44:53].max() < 1.0, moved[44:53]
    held = out.contacts.any(axis=1)
    assert moved[held].max() < 5.0  # the stances keep what the lock does there


def test_a_brief_touch_down_keeps_the_locks_root_on_its_frames() -> None:
    """A contact of one or two frames (a touch between two hops) is planted by the foot lock: the flight's return
    to the picture leaves its frames and one either side as the lock made them (with a Gaussian fade alone it moved
    the root 25-75% of the way back there, after the legs were solved: a planted foot moved)."""
    from core.cleanup import in_the_picture

    motion, _ = synthetic_walk(40)
    seen = to_camera(motion)
    fitted = forward_kinematics(seen.poses.astype(np.float64), seen.rest_joints, seen.trans)[0][:, 0]
    locked = seen.trans.astype(np.float64).copy()
    locked[:, 0] += 0.05  # the lock moved the root 5 cm off the fit's ray everywhere
    seen.trans = locked.astype(np.float32)
    for touch in ([20], [20, 21]):
        contacts = np.zeros((40, 4), bool)
        contacts[touch, 0] = True
        out = in_the_picture(seen, fitted, contacts)
        kept = np.arange(touch[0] - 1, touch[-1] + 2)
        np.testing.assert_allclose(out[kept], locked[kept], atol=1e-6)
        assert np.abs(out[:10] - locked[:10]).max() > 0.02  # far from the touch the root goes back to the ray
