"""Synthetic landmarks from a known motion: exact ground truth for tests and benches (test data: never shipped).

The body is posed by forward kinematics, landmarks are placed with
``core.body.landmark_layout`` and projected with a pinhole camera
(``core.camera``), in the layout a pose backend produces
(``core.landmarks.PoseSequence``).
"""

from __future__ import annotations

import numpy as np
import torch

from core.body.landmark_layout import landmarks_from_fk
from core.body.mannequin import forward_kinematics, rest_joints
from core.body.model import FACE_START, HANDS_START, axis_angle_to_matrix_torch
from core.camera import project
from core.landmarks import NUM_FACE, PoseSequence
from core.rotations import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_quat_wxyz,
    quat_slerp,
    quat_wxyz_to_axis_angle,
    rotation_between,
)
from core.skeleton import JOINT_INDEX as J

CAMERA_K = np.array([[1000.0, 0.0, 640.0], [0.0, 1000.0, 360.0], [0.0, 0.0, 1.0]])
"""Intrinsics of the synthetic clips' camera (1280x720, a 65 degree field of view)."""
IMAGE_SIZE = (1280, 720)
CLIP_BETAS = np.array([0.05, 0.04, -0.03, 0.06, -0.04])
"""The synthetic clips' mannequin shape: a known, non-zero one for the fits to recover."""


def landmarks_from_motion(
    poses: np.ndarray,
    trans: np.ndarray,
    rest_joints: np.ndarray,
    K: np.ndarray,
    image_size: tuple[int, int],
    fps: float = 30.0,
    world_axes: str = "camera",
) -> PoseSequence:
    """MediaPipe-layout landmarks of a body moving in front of a camera.

    Args:
        poses: (T, 165) or (T, 55, 3) axis-angle, SMPL-X order; the global
            orient maps the model frame into the OpenCV camera frame (an
            upright person facing the camera has ~180 deg about X).
        trans: (T, 3) metres, camera frame.
        rest_joints: (55, 3) rest joints of the body.
        K: (3, 3) intrinsics, pixels.
        image_size: (width, height) pixels.
        world_axes: "camera": ``body_world`` in the camera's axes; "view": as
            MediaPipe gives them, posed as seen along the ray through the
            mid-hip (the camera's axes turned by the inverse of
            ``core.fit.lifting.camera_from_view``'s rotation).

    Returns:
        A PoseSequence with every frame present and every visibility 1:
        body_world relative to the mid-hip (axes: ``world_axes``), body_2d projected
        pixels, hands as pixels plus depth relative to the wrist scaled like
        x (f / wrist depth), face NaN.
    """
    poses = np.asarray(poses, np.float64)
    T = poses.shape[0]
    pos, rot = forward_kinematics(poses, rest_joints, np.asarray(trans, np.float64))
    body, hands = landmarks_from_fk(pos, rot, rest_joints)
    seq = PoseSequence.empty(T, fps, image_size)
    mid_hip = 0.5 * (body[:, 23] + body[:, 24])
    ones = np.ones(body.shape[:2] + (1,))
    uv = project(body, K)
    rel = body - mid_hip[:, None]
    if world_axes == "view":  # the ray through the hips' image midpoint, as the fit takes it
        mid_uv = 0.5 * (uv[:, 23] + uv[:, 24])
        Kf = np.asarray(K, np.float64)
        ray = np.concatenate([(mid_uv - Kf[:2, 2]) / np.diag(Kf)[:2], np.ones((T, 1))], -1)
        view = rotation_between(np.broadcast_to(np.array([0.0, 0.0, 1.0]), ray.shape), ray)
        rel = np.einsum("tji,tkj->tki", view, rel)  # the inverse (transposed) rotation
    elif world_axes != "camera":
        raise ValueError(f"world_axes: 'camera' or 'view', not {world_axes!r}")
    seq.body_world = np.concatenate([rel, ones], -1).astype(np.float32)
    seq.body_2d = np.concatenate([uv, ones], -1).astype(np.float32)
    f = float(np.asarray(K)[0, 0])
    for h, name in enumerate(("left_hand", "right_hand")):
        pts = hands[:, h]
        depth = (pts[..., 2] - pts[:, :1, 2]) * f / pts[:, :1, 2]
        setattr(seq, name, np.concatenate([project(pts, K), depth[..., None]], -1).astype(np.float32))
    seq.face = np.full((T, NUM_FACE, 3), np.nan, np.float32)
    seq.present = np.ones(T, bool)
    return seq


def _rot(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    axis = np.asarray(axis, np.float64)
    return axis / np.linalg.norm(axis, axis=-1, keepdims=True) * np.asarray(angle)[..., None]


def random_poses(num: int, rng: np.random.Generator, *, hands: bool = True) -> np.ndarray:
    """(num, 55, 3) random but anatomically plausible poses, facing the camera.

    Global orient: 180 deg about X (upright, facing an OpenCV camera) then up
    to +-60 deg of turn and +-10 deg of lean. Spine: a twist shared equally by
    the three spine joints; neck and head turn together. Shoulders and hips:
    random rotations up to 60 / 35 deg; elbows and knees bend on their hinge
    (20-115 deg / 15-85 deg); ankles and wrists up to 20 deg; fingers curl
    about axes perpendicular to their bones (thumb: a random swing), so every
    joint is observable from the landmarks.
    """
    def rand_aa(max_angle: float, n: int = num) -> np.ndarray:
        return _rot(rng.normal(size=(n, 3)), rng.uniform(0.0, max_angle, n))

    poses = np.zeros((num, 55, 3))
    yaw = rng.uniform(-np.pi / 3, np.pi / 3, num)
    root = (axis_angle_to_matrix(np.array([np.pi, 0.0, 0.0]))
            @ axis_angle_to_matrix(_rot(np.tile([0.0, 1.0, 0.0], (num, 1)), yaw))
            @ axis_angle_to_matrix(rand_aa(np.radians(10))))
    poses[:, 0] = matrix_to_axis_angle(root)
    twist = rng.uniform(-np.radians(10), np.radians(10), num)
    for j in ("spine1", "spine2", "spine3"):
        poses[:, J[j], 1] = twist
    poses[:, J["neck"]] = poses[:, J["head"]] = rand_aa(np.radians(12))
    for side, s in (("left", 1.0), ("right", -1.0)):
        poses[:, J[f"{side}_shoulder"]] = rand_aa(np.radians(60))
        poses[:, J[f"{side}_elbow"], 1] = -s * rng.uniform(np.radians(20), np.radians(115), num)
        poses[:, J[f"{side}_hip"]] = rand_aa(np.radians(35))
        poses[:, J[f"{side}_knee"], 0] = rng.uniform(np.radians(15), np.radians(85), num)
        poses[:, J[f"{side}_ankle"]] = rand_aa(np.radians(20))
        poses[:, J[f"{side}_wrist"]] = rand_aa(np.radians(20))
        if hands:
            for finger in ("index", "middle", "ring", "pinky"):
                for k in (1, 2, 3):
                    poses[:, J[f"{side}_{finger}{k}"], 2] = -s * rng.uniform(0.0, 1.2, num)
            thumb_dir = np.array([s, -0.25, 0.9])
            for k in (1, 2, 3):
                axis = np.cross(thumb_dir, rng.normal(size=(num, 3)))
                poses[:, J[f"{side}_thumb{k}"]] = _rot(axis, rng.uniform(0.0, 0.5, num))
    return poses


def smooth_motion(num: int, rng: np.random.Generator, *, key_every: int = 30,
                  hands: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A continuous motion: (num, 55, 3) poses and (num, 3) camera-frame translation.

    Key poses from ``random_poses`` every ``key_every`` frames, eased between
    keys (smoothstep, zero velocity at the keys, like pose-to-pose animation)
    by quaternion slerp per joint; the translation wanders 3-5 m in front of
    the camera the same way. For tests and benchmarks that need real motion
    (temporal smoothing must not fight it).
    """
    keys = max(2, -(-num // key_every) + 1)
    kp = random_poses(keys, rng, hands=hands)
    kt = np.column_stack([rng.uniform(-0.3, 0.3, keys), rng.uniform(-0.2, 0.2, keys), rng.uniform(3.0, 5.0, keys)])
    q = matrix_to_quat_wxyz(axis_angle_to_matrix(kp))                       # (keys, 55, 4)
    t = np.arange(num) / key_every
    k0 = np.minimum(t.astype(int), keys - 2)
    a = np.clip(t - k0, 0.0, 1.0)
    a = a * a * (3.0 - 2.0 * a)
    poses = quat_wxyz_to_axis_angle(quat_slerp(q[k0], q[k0 + 1], a[:, None]))
    trans = (1.0 - a[:, None]) * kt[k0] + a[:, None] * kt[k0 + 1]
    return poses, trans


def landmarks_from_body(body, betas: np.ndarray, poses: np.ndarray, trans: np.ndarray, K: np.ndarray,
                        image_size: tuple[int, int], fps: float = 30.0,
                        expression: np.ndarray | None = None) -> PoseSequence:
    """Like ``landmarks_from_motion`` but placed by a ``core.body.model.BodyModel`` itself
    (torch; its own landmark points, e.g. SMPL-X vertices), face points included.

    Args:
        body: the body model; betas (B,); poses (T, 165) or (T, 55, 3);
            trans (T, 3) camera frame; expression (T, E) or None.

    Returns:
        A PoseSequence, every frame present, visibilities 1; ``face`` holds the
        body's face points at their MediaPipe face-mesh indices (NaN elsewhere).
    """
    poses = np.asarray(poses, np.float64)
    T = poses.shape[0]
    with torch.no_grad():
        local = axis_angle_to_matrix_torch(torch.as_tensor(poses.reshape(T, 55, 3)))
        expr = None if expression is None else torch.as_tensor(np.asarray(expression, np.float64))
        body64 = body.double()
        try:
            out = body64(torch.as_tensor(np.asarray(betas, np.float64)), local,
                         torch.as_tensor(np.asarray(trans, np.float64)), expr)
        finally:
            body.float()
    pts = out.points.numpy()
    seq = PoseSequence.empty(T, fps, image_size)
    bodyp = pts[:, :HANDS_START]
    mid_hip = 0.5 * (bodyp[:, 23] + bodyp[:, 24])
    ones = np.ones(bodyp.shape[:2] + (1,))
    seq.body_world = np.concatenate([bodyp - mid_hip[:, None], ones], -1).astype(np.float32)
    seq.body_2d = np.concatenate([project(bodyp, K), ones], -1).astype(np.float32)
    f = float(np.asarray(K)[0, 0])
    hands = pts[:, HANDS_START:FACE_START].reshape(T, 2, 21, 3)
    for h, name in enumerate(("left_hand", "right_hand")):
        hp = hands[:, h]
        depth = (hp[..., 2] - hp[:, :1, 2]) * f / hp[:, :1, 2]
        setattr(seq, name, np.concatenate([project(hp, K), depth[..., None]], -1).astype(np.float32))
    face = np.full((T, NUM_FACE, 3), np.nan, np.float32)
    if body.num_face:
        fp = pts[:, FACE_START:]
        face[:, body.face_mesh_ids, :2] = project(fp, K)
        face[:, body.face_mesh_ids, 2] = 0.0
    seq.face = face
    seq.present = np.ones(T, bool)
    return seq


def mannequin_clip(frames: int, rng: np.random.Generator, *, smooth: bool = True, hands: bool = True,
                   world_axes: str = "camera") -> tuple[np.ndarray, np.ndarray, np.ndarray, PoseSequence]:
    """A synthetic clip of the mannequin (shape ``CLIP_BETAS``) before ``CAMERA_K``.

    ``smooth``: a continuous motion (:func:`smooth_motion`), else independent
    random poses (:func:`random_poses`) at random places 3-5 m away.
    ``world_axes``: see :func:`landmarks_from_motion` ("view" for the whole-clip fit, as MediaPipe).
    Returns (poses (T, 55, 3), translations (T, 3), rest joints, landmarks).
    """
    if smooth:
        poses, trans = smooth_motion(frames, rng, hands=hands)
    else:
        poses = random_poses(frames, rng, hands=hands)
        trans = np.column_stack([rng.uniform(-0.3, 0.3, frames), rng.uniform(-0.2, 0.2, frames),
                                 rng.uniform(3.0, 5.0, frames)])
    rest = rest_joints(CLIP_BETAS)
    return poses, trans, rest, landmarks_from_motion(poses, trans, rest, CAMERA_K, IMAGE_SIZE, world_axes=world_axes)
