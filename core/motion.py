"""The motion file: schema, write, read and validate (format v3; v1 and v2 files still read).

The motion file is the contract between the engine and the Blender side (and
other tools). It is a NumPy ``.npz`` archive readable with
``allow_pickle=False``; the README documents every key. Its SMPL-X keys follow
AMASS (``poses``, ``trans``, ``betas``, ``mocap_framerate``, ``gender`` and the
split ``root_orient`` / ``pose_body`` / ``pose_jaw`` / ``pose_eye`` /
``pose_hand`` keys), so AMASS SMPL-X files load too; they carry no rest data.

This module needs only numpy: the Blender side imports it to validate a
result before it touches the scene.

Frames and units: lengths in metres, angles as axis-angle radians. ``poses``
and ``trans`` are expressed in the motion's *world* frame, whose up direction
is ``world_up``. Files written by the engine use the OpenCV camera frame of the
video as world (x right, y down, z forward; ``world_up = (0, -1, 0)``,
``camera_extrinsics`` = identity). AMASS files are Z-up.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .archive import ArchiveError, NotAnArchiveError, read_arrays
from .errors import MocapError
from .motion_cameras import CAMERA_KEYS, MotionCameras, camera_faults, cameras_from_arrays
from .motion_ground import GROUND_KEYS, GroundLevels, ground_faults, ground_from_arrays
from .skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS, POSE_DIM, POSE_SLICES

FORMAT_NAME = "blender-mocap/motion"
FORMAT_VERSION = 3
"""v2 added ``up_source`` and ``up_sigma_degrees`` (where the world's up came from); v3 the list of cameras
(``cameras_*``, ``core.motion_cameras``) of a take filmed by several videos. Older files read without them."""

LOW_CONFIDENCE = 0.5
"""A frame whose ``confidence`` is below this is a weak one: counted in the quality figures, marked red
on the timeline, tinted in the preview."""


KNOWN_KEYS = (
    "format_name", "format_version", "poses", *POSE_SLICES, "trans", "betas", "expression",
    "mocap_framerate", "mocap_frame_rate", "frame_indices", "gender", "body_model", "confidence",
    "bridged", "reprojection_error", "world_up", "joint_names", "parents", "quality_names",
    "quality_values", "source_video", "camera_intrinsics", "camera_extrinsics", "image_size",
    "rest_joints", "v_template", "faces", "skin_weights", "shape_dirs", "expression_dirs", "keypoints_2d",
    "up_source", "up_sigma_degrees", *CAMERA_KEYS, *GROUND_KEYS,
)
"""The members a reader looks at; any other member of an archive is never decompressed."""


def frame_ranges(frames: np.ndarray, mask: np.ndarray | None = None, limit: int | None = None) -> str:
    """The rows where ``mask`` is True (all rows when None), named by ``frames``: "12-18, 40".

    Rows next to each other form one run whatever the stride between their
    frame numbers (every 2nd frame 12, 14, 16 reads "12-16"). At most ``limit``
    runs are named, then ", ...".
    """
    frames = np.asarray(frames)
    rows = np.ones(frames.shape[0], bool) if mask is None else np.asarray(mask, bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], rows.astype(np.int8), [0]])))
    runs = [(int(frames[a]), int(frames[b - 1])) for a, b in zip(edges[::2], edges[1::2])]
    shown = runs if limit is None else runs[:limit]
    text = ", ".join(f"{a}-{b}" if b != a else f"{a}" for a, b in shown)
    return text + (", ..." if len(shown) < len(runs) else "")


class MotionFileError(MocapError):
    """A motion file that cannot be read: missing, corrupt, wrong or too new."""


@dataclass
class Motion:
    """One take: per-frame SMPL-X parameters plus what is needed to show it.

    T frames, J = 55 joints, B shape coefficients, E expression coefficients.

    Attributes:
        poses: (T, 165) float32 axis-angle per joint, relative to the parent,
            AMASS SMPL-X order (see ``core.skeleton.POSE_SLICES``).
        trans: (T, 3) float32 root translation, metres, world frame.
        betas: (B,) float32 shape coefficients shared by the take (for the
            mannequin: ``betas[0]`` is log height scale, see core/body).
        expression: (T, E) float32 expression coefficients (E may be 0).
        fps: frames per second of the stored frames (``mocap_framerate``).
        frame_indices: (T,) int64 index of each stored frame in the video.
        gender: "neutral", "male" or "female".
        body_model: "mannequin" or "smplx".
        confidence: (T,) float32 in [0, 1], how much to trust each frame.
        bridged: (T,) bool, True where the frame had no usable landmarks and
            its pose was interpolated from its neighbours.
        reprojection_error: (T,) float32, mean 2D error of the fitted joints
            in pixels; NaN where nothing was observed.
        camera_intrinsics: (3, 3) float64 pinhole K, pixels, OpenCV convention.
        camera_extrinsics: (4, 4) float64 camera-from-world (OpenCV [R|t]).
        image_size: (2,) int64 (width, height) in pixels.
        world_up: (3,) float64 unit up vector of the world frame.
        joint_names: (J,) joint names, SMPL-X order.
        parents: (J,) int32 parent of each joint, -1 for the root.
        rest_joints: (J, 3) float32 rest (T-pose) joint positions of the fitted
            shape in the model frame, metres; None for files without rest data.
        v_template, faces, skin_weights: optional rest mesh of the fitted
            shape: (V, 3) float32 metres, (F, 3) int32, (V, J) float32.
        shape_dirs: optional (V, 3, B) float32 shape blend shapes (metres per
            unit beta) of the body model: the neutral-shape mesh is
            ``v_template - shape_dirs @ betas``, so a tool can rebuild the
            fitted shape as shape keys. None for the mannequin.
        expression_dirs: optional (V, 3, E) float32 expression blend shapes,
            matching ``expression``. None for the mannequin.
        keypoints_2d: optional (T, K, 3) landmarks, pixels + confidence, image
            frame (y down), as the pose estimator gave them.
        quality: name -> figure for the whole take (see README).
        source_video: path of the video the take came from ("" if unknown).
        up_source: where the capture's up direction came from ("scene lines",
            "posture", "level camera", ...; "" when unknown: v1 files, AMASS).
        up_sigma_degrees: 1-sigma uncertainty of that up direction, degrees
            (None when unknown).
        cameras: every camera of a take filmed by several videos (camera 0 is
            the one above); None for one camera (v1, v2, AMASS).
        ground: the ground levels the take stands on (``core.motion_ground``); None: one, the floor.
    """

    poses: np.ndarray
    trans: np.ndarray
    betas: np.ndarray
    fps: float
    frame_indices: np.ndarray
    confidence: np.ndarray
    bridged: np.ndarray
    reprojection_error: np.ndarray
    expression: np.ndarray
    camera_intrinsics: np.ndarray | None = None
    camera_extrinsics: np.ndarray | None = None
    image_size: np.ndarray | None = None
    world_up: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 1.0]))
    gender: str = "neutral"
    body_model: str = "smplx"
    joint_names: tuple[str, ...] = JOINT_NAMES
    parents: np.ndarray = field(default_factory=lambda: np.array(PARENTS, np.int32))
    rest_joints: np.ndarray | None = None
    v_template: np.ndarray | None = None
    faces: np.ndarray | None = None
    skin_weights: np.ndarray | None = None
    shape_dirs: np.ndarray | None = None
    expression_dirs: np.ndarray | None = None
    keypoints_2d: np.ndarray | None = None
    quality: dict[str, float] = field(default_factory=dict)
    source_video: str = ""
    up_source: str = ""
    up_sigma_degrees: float | None = None
    cameras: MotionCameras | None = None
    ground: GroundLevels | None = None

    @property
    def num_frames(self) -> int:
        return int(self.poses.shape[0])

    def joint_rotations(self) -> np.ndarray:
        """(T, J, 3) axis-angle per joint, a view of ``poses``."""
        return self.poses.reshape(self.num_frames, NUM_JOINTS, 3)


def _str(value: str) -> np.ndarray:
    return np.array(value, dtype=np.str_)


def write_motion(path: str | os.PathLike[str], motion: Motion) -> Path:
    """Validate ``motion`` and write it to ``path`` atomically.

    The archive is written under a temporary name in the same folder and
    renamed when complete, so a crash never leaves a half-written file that
    looks finished. Returns the final path.
    """
    validate_motion(motion)
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
        "format_name": _str(FORMAT_NAME),
        "format_version": np.array(FORMAT_VERSION, np.int64),
        "poses": motion.poses.astype(np.float32),
        "trans": motion.trans.astype(np.float32),
        "betas": motion.betas.astype(np.float32),
        "expression": motion.expression.astype(np.float32),
        "mocap_framerate": np.array(motion.fps, np.float64),
        "frame_indices": motion.frame_indices.astype(np.int64),
        "gender": _str(motion.gender),
        "body_model": _str(motion.body_model),
        "confidence": motion.confidence.astype(np.float32),
        "bridged": motion.bridged.astype(bool),
        "reprojection_error": motion.reprojection_error.astype(np.float32),
        "world_up": np.asarray(motion.world_up, np.float64),
        "joint_names": np.array(motion.joint_names, dtype=np.str_),
        "parents": np.asarray(motion.parents, np.int32),
        "quality_names": np.array(list(motion.quality), dtype=np.str_).reshape(-1),
        "quality_values": np.array(list(motion.quality.values()), np.float64).reshape(-1),
        "source_video": _str(motion.source_video),
    }
    for key, sl in POSE_SLICES.items():
        arrays[key] = arrays["poses"][:, sl]
    optional = {
        "camera_intrinsics": (motion.camera_intrinsics, np.float64),
        "camera_extrinsics": (motion.camera_extrinsics, np.float64),
        "image_size": (motion.image_size, np.int64),
        "rest_joints": (motion.rest_joints, np.float32),
        "v_template": (motion.v_template, np.float32),
        "faces": (motion.faces, np.int32),
        "skin_weights": (motion.skin_weights, np.float32),
        "shape_dirs": (motion.shape_dirs, np.float32),
        "expression_dirs": (motion.expression_dirs, np.float32),
        "keypoints_2d": (motion.keypoints_2d, np.float32),
    }
    for key, (value, dtype) in optional.items():
        if value is not None:
            arrays[key] = np.asarray(value, dtype)
    if motion.up_source:
        arrays["up_source"] = _str(motion.up_source)
    if motion.up_sigma_degrees is not None:
        arrays["up_sigma_degrees"] = np.array(motion.up_sigma_degrees, np.float64)
    arrays.update(motion.cameras.to_arrays() if motion.cameras is not None else {})
    arrays.update(motion.ground.to_arrays() if motion.ground is not None else {})

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise MotionFileError(
            f"cannot write the motion file in {path.parent}: {exc.strerror or exc}. "
            "Choose a folder you can write to."
        ) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        # mkstemp makes the file private (0600); give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise MotionFileError(
            f"cannot write the motion file {path}: {exc.strerror}. "
            "Check the free disk space and the folder's permissions."
        ) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_motion(path: str | os.PathLike[str]) -> Motion:
    """Read and validate a motion file (ours, v1 to v3, or an AMASS SMPL-X file).

    Raises:
        MotionFileError: the file is missing, not an npz archive, holds
            pickled objects, is from a newer format version, or its arrays have
            the wrong shapes or non-finite values. The message says which.
    """
    path = Path(path)
    if not path.is_file():
        raise MotionFileError(f"motion file not found: {path}")
    try:
        data = read_arrays(path, KNOWN_KEYS)
    except NotAnArchiveError as exc:
        raise MotionFileError(
            f"{path.name} is not a readable motion file (.npz archive expected). "
            "Pick the .npz file a capture or an SMPL-X/AMASS export wrote."
        ) from exc
    except ArchiveError as exc:  # unreadable (permissions), damaged, oversized or pickled
        raise MotionFileError(str(exc)) from exc
    complex_keys = sorted(key for key, value in data.items() if value.dtype.kind == "c")
    if complex_keys:
        raise MotionFileError(f"{path.name}: member(s) {', '.join(complex_keys)} hold complex numbers")
    try:
        motion = _motion_from_arrays(data, path.name)
    except MotionFileError:
        raise
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise MotionFileError(f"{path.name}: malformed motion file: {exc}") from exc
    validate_motion(motion, path.name)
    return motion


def _scalar_str(data: dict[str, np.ndarray], key: str, default: str) -> str:
    if key not in data:
        return default
    value = data[key]
    if value.dtype.kind not in "US" or value.size != 1:
        raise MotionFileError(f"key '{key}' must be a string")
    item = value.reshape(()).item()
    return item.decode() if isinstance(item, bytes) else str(item)


def _scalar_float(data: dict[str, np.ndarray], key: str) -> float | None:
    if key not in data:
        return None
    value = data[key]
    if value.dtype.kind not in "fiu" or value.size != 1:
        raise MotionFileError(f"key '{key}' must be a number")
    return float(value.reshape(()))


def _float_array(data: dict[str, np.ndarray], key: str, name: str) -> np.ndarray:
    value = data[key]
    if value.dtype.kind not in "fiub":
        raise MotionFileError(f"{name}: key '{key}' must hold numbers, not {value.dtype}")
    return value.astype(np.float64 if key.startswith("camera") else np.float32)


def _check_version(data: dict[str, np.ndarray], name: str) -> None:
    """Refuse a file from a newer format (or an invalid version); v1 to v3 read."""
    if "format_version" not in data:
        return
    version = int(np.asarray(data["format_version"]).reshape(()))
    if version > FORMAT_VERSION:
        raise MotionFileError(
            f"{name} was written by a newer blender-mocap (motion format "
            f"v{version}; this version reads up to v{FORMAT_VERSION}). "
            "Update the add-on to open it."
        )
    if version < 1:
        raise MotionFileError(f"{name}: invalid motion format version {version}")


def _motion_from_arrays(data: dict[str, np.ndarray], name: str) -> Motion:
    _check_version(data, name)
    if "poses" in data:
        poses = _float_array(data, "poses", name)
    elif "root_orient" in data and "pose_body" in data:
        num = data["root_orient"].shape[0]
        poses = np.zeros((num, POSE_DIM), np.float32)
        for key, sl in POSE_SLICES.items():
            if key in data:
                poses[:, sl] = _float_array(data, key, name).reshape(num, -1)
    else:
        raise MotionFileError(
            f"{name} has no 'poses' (or 'root_orient' + 'pose_body') array: "
            "it is not an SMPL-X motion file."
        )
    if poses.ndim != 2 or poses.shape[1] != POSE_DIM:
        raise MotionFileError(
            f"{name}: 'poses' must have shape (frames, {POSE_DIM}) for SMPL-X, "
            f"got {poses.shape}"
        )
    num = poses.shape[0]
    trans = _float_array(data, "trans", name) if "trans" in data else np.zeros((num, 3), np.float32)
    betas = _float_array(data, "betas", name).reshape(-1) if "betas" in data else np.zeros(0, np.float32)
    if "expression" in data:
        expression = _float_array(data, "expression", name)
    else:
        expression = np.zeros((num, 0), np.float32)
    fps_key = next((k for k in ("mocap_framerate", "mocap_frame_rate") if k in data), None)
    fps = float(np.asarray(data[fps_key]).reshape(())) if fps_key else 30.0

    def get(key: str, default: np.ndarray) -> np.ndarray:
        return data[key] if key in data else default

    quality: dict[str, float] = {}
    if "quality_names" in data:
        names = [str(n) for n in data["quality_names"].reshape(-1)]
        values = data["quality_values"].reshape(-1).astype(np.float64)
        if len(names) != len(values):
            raise MotionFileError(f"{name}: quality_names and quality_values differ in length")
        quality = dict(zip(names, values.tolist()))

    world_up_default = np.array([0.0, 0.0, 1.0])  # AMASS files are Z-up
    return Motion(
        poses=poses,
        trans=trans,
        betas=betas,
        fps=fps,
        frame_indices=get("frame_indices", np.arange(num)).astype(np.int64),
        confidence=get("confidence", np.ones(num, np.float32)).astype(np.float32),
        bridged=get("bridged", np.zeros(num, bool)).astype(bool),
        reprojection_error=get("reprojection_error", np.full(num, np.nan, np.float32)).astype(np.float32),
        expression=expression,
        camera_intrinsics=data.get("camera_intrinsics"),
        camera_extrinsics=data.get("camera_extrinsics"),
        image_size=data.get("image_size"),
        world_up=get("world_up", world_up_default).astype(np.float64),
        gender=_scalar_str(data, "gender", "neutral"),
        body_model=_scalar_str(data, "body_model", "smplx"),
        joint_names=tuple(str(n) for n in get("joint_names", np.array(JOINT_NAMES)).reshape(-1)),
        parents=get("parents", np.array(PARENTS)).astype(np.int32),
        rest_joints=data.get("rest_joints"),
        v_template=data.get("v_template"),
        faces=data.get("faces"),
        skin_weights=data.get("skin_weights"),
        shape_dirs=data.get("shape_dirs"),
        expression_dirs=data.get("expression_dirs"),
        keypoints_2d=data.get("keypoints_2d"),
        quality=quality,
        source_video=_scalar_str(data, "source_video", ""),
        up_source=_scalar_str(data, "up_source", ""),
        up_sigma_degrees=_scalar_float(data, "up_sigma_degrees"),
        cameras=cameras_from_arrays(data),
        ground=ground_from_arrays(data),
    )


def _check_shape(name: str, key: str, value: np.ndarray | None, shape: tuple[int | None, ...]) -> None:
    if value is None:
        return
    ok = value.ndim == len(shape) and all(s is None or s == v for s, v in zip(shape, value.shape))
    if not ok:
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise MotionFileError(f"{name}: '{key}' must have shape {want}, got {tuple(value.shape)}")


def _check_finite(name: str, key: str, value: np.ndarray | None) -> None:
    if value is None or value.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(value)
    if bad.any():
        first = int(np.argwhere(bad)[0][0])
        raise MotionFileError(
            f"{name}: '{key}' holds NaN or infinite values (first at index {first}). "
            "The file is damaged; capture or export it again."
        )


def validate_motion(motion: Motion, name: str = "motion") -> None:
    """Check shapes, dtypes and values; raise MotionFileError on the first fault."""
    num = motion.poses.shape[0] if motion.poses.ndim == 2 else -1
    _check_shape(name, "poses", motion.poses, (None, POSE_DIM))
    if num < 1:
        raise MotionFileError(f"{name}: the motion has no frames")
    joints = len(motion.joint_names)
    _check_shape(name, "trans", motion.trans, (num, 3))
    _check_shape(name, "betas", motion.betas, (None,))
    _check_shape(name, "expression", motion.expression, (num, None))
    _check_shape(name, "frame_indices", motion.frame_indices, (num,))
    _check_shape(name, "confidence", motion.confidence, (num,))
    _check_shape(name, "bridged", motion.bridged, (num,))
    _check_shape(name, "reprojection_error", motion.reprojection_error, (num,))
    _check_shape(name, "camera_intrinsics", motion.camera_intrinsics, (3, 3))
    _check_shape(name, "camera_extrinsics", motion.camera_extrinsics, (4, 4))
    _check_shape(name, "image_size", motion.image_size, (2,))
    _check_shape(name, "world_up", motion.world_up, (3,))
    _check_shape(name, "parents", motion.parents, (joints,))
    _check_shape(name, "rest_joints", motion.rest_joints, (joints, 3))
    _check_shape(name, "v_template", motion.v_template, (None, 3))
    _check_shape(name, "faces", motion.faces, (None, 3))
    if motion.v_template is not None:
        _check_shape(name, "skin_weights", motion.skin_weights, (motion.v_template.shape[0], joints))
    if motion.shape_dirs is not None or motion.expression_dirs is not None:
        if motion.v_template is None:
            raise MotionFileError(f"{name}: blend shapes given without 'v_template'")
        verts = motion.v_template.shape[0]
        _check_shape(name, "shape_dirs", motion.shape_dirs, (verts, 3, motion.betas.shape[0]))
        _check_shape(name, "expression_dirs", motion.expression_dirs,
                     (verts, 3, motion.expression.shape[1]))
    if motion.keypoints_2d is not None:
        _check_shape(name, "keypoints_2d", motion.keypoints_2d, (num, None, 3))
    if joints != NUM_JOINTS:
        raise MotionFileError(f"{name}: expected {NUM_JOINTS} SMPL-X joints, got {joints}")
    for key in ("poses", "trans", "betas", "expression", "confidence", "camera_intrinsics",
                "camera_extrinsics", "world_up", "rest_joints", "v_template", "skin_weights",
                "shape_dirs", "expression_dirs"):
        _check_finite(name, key, getattr(motion, key))
    if not np.isfinite(motion.fps) or motion.fps <= 0:
        raise MotionFileError(f"{name}: frame rate must be positive, got {motion.fps}")
    parents = np.asarray(motion.parents)
    if parents[0] != -1 or any(not (0 <= p < i) for i, p in enumerate(parents[1:], 1)):
        raise MotionFileError(f"{name}: 'parents' is not a valid joint tree")
    if motion.faces is not None and motion.v_template is not None and motion.faces.size:
        if motion.faces.min() < 0 or motion.faces.max() >= motion.v_template.shape[0]:
            raise MotionFileError(f"{name}: 'faces' index vertices that do not exist")
    sigma = motion.up_sigma_degrees
    if sigma is not None and not (np.isfinite(sigma) and 0.0 <= sigma <= 180.0):
        raise MotionFileError(f"{name}: 'up_sigma_degrees' must be between 0 and 180, got {sigma}")
    if np.linalg.norm(motion.world_up) < 1e-6:
        raise MotionFileError(f"{name}: 'world_up' must not be zero")
    if motion.body_model not in ("mannequin", "smplx"):
        raise MotionFileError(f"{name}: unknown body model '{motion.body_model}'")
    fault = None if motion.cameras is None else camera_faults(motion.cameras, motion.camera_intrinsics,
                                                               motion.camera_extrinsics)
    if not fault and motion.ground is not None:
        fault = ground_faults(motion.ground, num)
    if fault:
        raise MotionFileError(f"{name}: {fault}")
