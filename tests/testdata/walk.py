"""A synthetic walk with exact foot contacts, for tests and benchmarks of cleanup (test data: never shipped).

The mannequin walks forward with sinusoidal hip and knee angles; its root is
moved so that the lower foot stays exactly planted (no slide) and the lowest
sole touches the floor, which gives true contact labels. ``to_camera`` puts
the take into a camera's frame as a capture would be, and ``corrupt`` adds
the two faults video mocap is known for: feet that slide and jitter.
"""

from __future__ import annotations

import copy

import numpy as np

from core.body.mannequin import forward_kinematics, mesh, rest_joints
from core.cleanup.contacts import drop_short
from core.cleanup.floor import PROXY_INDEX, proxy_heights, reexpress
from core.motion import Motion
from core.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from core.skeleton import JOINT_INDEX


def _rx(angle: np.ndarray) -> np.ndarray:
    return np.stack([angle, np.zeros_like(angle), np.zeros_like(angle)], axis=-1)


def synthetic_walk(frames: int = 120, fps: float = 30.0, cadence_hz: float = 0.9) -> tuple[Motion, np.ndarray]:
    """A Z-up take (floor at Z = 0) of the mannequin walking, and its (T, 4) true contacts.

    ``cadence_hz``: gait cycles per second (two steps each).
    """
    rest = rest_joints()
    verts, _, _ = mesh()
    heights = proxy_heights(rest, verts)
    t = np.arange(frames) / fps
    phase = 2 * np.pi * cadence_hz * t
    poses = np.zeros((frames, 55, 3))
    poses[:, 0] = [np.pi / 2, 0.0, 0.0]  # model Y up -> world Z up, facing -Y
    for side, shift in (("left", 0.0), ("right", np.pi)):
        ph = phase + shift
        poses[:, JOINT_INDEX[f"{side}_hip"]] = _rx(-0.35 * np.sin(ph))
        # The knee bends while the thigh swings forward (cos > 0): the foot clears the floor.
        poses[:, JOINT_INDEX[f"{side}_knee"]] = _rx(1.1 * np.maximum(0.0, np.cos(ph)) ** 1.5)
        # The ankle keeps the foot parallel to the floor (hip + knee + ankle pitch = 0),
        # so heel and toes land and leave together: exact, simple contact labels.
        poses[:, JOINT_INDEX[f"{side}_ankle"]] = -(poses[:, JOINT_INDEX[f"{side}_hip"]]
                                                   + poses[:, JOINT_INDEX[f"{side}_knee"]])
        poses[:, JOINT_INDEX[f"{side}_shoulder"]] = [0.0, 0.0, (-1.2 if side == "left" else 1.2)]
        poses[:, JOINT_INDEX[f"{side}_shoulder"], 0] = 0.3 * np.sin(ph + np.pi)
    trans = np.zeros((frames, 3))
    pos, _ = forward_kinematics(poses, rest, trans)
    soles = pos[:, PROXY_INDEX, 2] - heights[None, :]
    lowest = soles.min(axis=1)
    trans[:, 2] = -lowest
    # Keep the stance foot (the lower one) exactly where it is: move the root instead.
    feet = pos[:, [JOINT_INDEX["left_foot"], JOINT_INDEX["right_foot"]]]
    stance = np.argmin(soles[:, [1, 3]], axis=1)
    for k in range(1, frames):
        step = feet[k, stance[k], :2] - feet[k - 1, stance[k], :2]
        trans[k, :2] = trans[k - 1, :2] - step
    pos, _ = forward_kinematics(poses, rest, trans)
    points = pos[:, PROXY_INDEX]
    sole = points[..., 2] - heights[None, :]
    speed = np.zeros(sole.shape)
    speed[1:] = np.linalg.norm(np.diff(points[..., :2], axis=0), axis=-1) * fps
    speed[0] = speed[1]
    contacts = (sole < 0.02) & (speed < 0.15)
    # Tidy the labels as a person would: close one-frame gaps, drop one- and two-frame touches.
    gaps = ~contacts[1:-1] & contacts[:-2] & contacts[2:]
    contacts[1:-1] |= gaps
    contacts = drop_short(contacts, 3)
    motion = Motion(
        poses=poses.reshape(frames, -1).astype(np.float32), trans=trans.astype(np.float32),
        betas=np.zeros(5, np.float32), fps=fps, frame_indices=np.arange(frames),
        confidence=np.ones(frames, np.float32), bridged=np.zeros(frames, bool),
        reprojection_error=np.zeros(frames, np.float32), expression=np.zeros((frames, 0), np.float32),
        camera_intrinsics=np.array([[800.0, 0, 320], [0, 800.0, 240], [0, 0, 1]]),
        camera_extrinsics=np.eye(4), image_size=np.array([640, 480]),
        world_up=np.array([0.0, 0.0, 1.0]), body_model="mannequin", rest_joints=rest,
        v_template=verts,
    )
    return motion, contacts


def to_camera(motion: Motion, distance: float = 4.0, height: float = 1.2, tilt_deg: float = 10.0) -> Motion:
    """The take as a capture sees it: in the frame of a camera ``distance`` m away, tilted down."""
    out = copy.deepcopy(motion)
    # Camera axes in world coordinates (x right, y down, z forward), looking along +X of the walk's side.
    tilt = np.radians(tilt_deg)
    forward = np.array([0.0, np.cos(tilt), -np.sin(tilt)])
    right = np.array([1.0, 0.0, 0.0])
    down = np.cross(forward, right)
    centre = out.trans.mean(axis=0).astype(np.float64)
    position = np.array([centre[0], centre[1] - distance, height])
    R = np.stack([right, down, forward])  # rows: camera axes -> p_cam = R (p - position)
    reexpress(out, R, position)
    out.camera_extrinsics = np.eye(4)
    out.world_up = np.array([0.0, -1.0, 0.0])  # what a capture assumes; the real up is tilted
    return out


def corrupt(motion: Motion, *, slide_mm: float = 8.0, jitter_rad: float = 0.03, trans_jitter_mm: float = 6.0,
            seed: int = 0) -> Motion:
    """Add foot slide (a wandering root drift) and jitter (noise on rotations and root)."""
    rng = np.random.default_rng(seed)
    out = copy.deepcopy(motion)
    T = out.num_frames
    # Slide happens along the floor: drift perpendicular to the world's up direction.
    up = np.asarray(out.world_up, np.float64) / np.linalg.norm(out.world_up)
    drift = np.cumsum(rng.normal(0, slide_mm / 1000.0, (T, 3)), axis=0)
    drift -= np.outer(drift @ up, up)
    drift -= drift.mean(axis=0)
    noise = rng.normal(0, trans_jitter_mm / 1000.0, (T, 3))
    out.trans = (out.trans + drift + noise).astype(np.float32)
    rot = axis_angle_to_matrix(out.joint_rotations().astype(np.float64))
    wobble = axis_angle_to_matrix(rng.normal(0, jitter_rad, rot.shape[:-1]))
    out.poses = matrix_to_axis_angle(rot @ wobble).reshape(T, -1).astype(np.float32)
    return out
