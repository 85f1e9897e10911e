"""The cameras of a take filmed by several videos (motion file v3): what they are, their keys, their checks.

Camera 0 is the one the single-camera keys (``camera_intrinsics``,
``camera_extrinsics``, ``image_size``, ``source_video``) describe, so readers
that know one camera keep working. Frames: each camera is an OpenCV pinhole
(x right, y down, z forward), ``extrinsics`` camera-from-world in the take's
world (the same world as ``poses`` and ``trans``), metres.

Needs only numpy (the Blender side reads it). ``motion`` builds on this module,
never the other way round, so faults come back as messages for it to raise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CAMERA_KEYS = ("cameras_intrinsics", "cameras_extrinsics", "cameras_image_size", "cameras_names",
               "cameras_videos", "cameras_time_offsets", "cameras_fps")
"""The motion file's members for the list of cameras (v3)."""


@dataclass
class MotionCameras:
    """C cameras of one take.

    Attributes:
        intrinsics: (C, 3, 3) float64 pinhole K per camera, pixels.
        extrinsics: (C, 4, 4) float64 camera-from-world [R|t], metres, the take's world.
        image_size: (C, 2) int64 width, height per video, pixels.
        names: (C,) names of the cameras.
        videos: (C,) path of each camera's video.
        time_offsets: (C,) float64 seconds from video 0's first frame to video k's
            first frame (0 for camera 0; negative when video k started earlier).
        fps: (C,) float64 each video's own frame rate.
    """

    intrinsics: np.ndarray
    extrinsics: np.ndarray
    image_size: np.ndarray
    names: tuple[str, ...]
    videos: tuple[str, ...]
    time_offsets: np.ndarray
    fps: np.ndarray

    @property
    def num_cameras(self) -> int:
        return int(self.intrinsics.shape[0])

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The motion file's ``cameras_*`` members."""
        return {
            "cameras_intrinsics": np.asarray(self.intrinsics, np.float64),
            "cameras_extrinsics": np.asarray(self.extrinsics, np.float64),
            "cameras_image_size": np.asarray(self.image_size, np.int64),
            "cameras_names": np.array(list(self.names), dtype=np.str_).reshape(-1),
            "cameras_videos": np.array(list(self.videos), dtype=np.str_).reshape(-1),
            "cameras_time_offsets": np.asarray(self.time_offsets, np.float64),
            "cameras_fps": np.asarray(self.fps, np.float64),
        }

    def moved(self, camera0_from_world: np.ndarray) -> "MotionCameras":
        """The same rig when the world moves so that camera 0 becomes ``camera0_from_world`` (4, 4):
        every camera keeps its place relative to camera 0."""
        rel = self.extrinsics @ np.linalg.inv(self.extrinsics[0])
        return MotionCameras(self.intrinsics, rel @ np.asarray(camera0_from_world, np.float64), self.image_size,
                             self.names, self.videos, self.time_offsets, self.fps)


def has_members(data: dict[str, np.ndarray], keys: tuple[str, ...], what: str) -> bool:
    """Whether a motion file's members hold the optional group ``keys``: all of them (True) or none (False).

    Raises ValueError naming the missing ones when only part of the group is there (``what`` names it)."""
    missing = [k for k in keys if k not in data]
    if len(missing) == len(keys):
        return False
    if missing:
        raise ValueError(f"{what} lacks {', '.join(missing)}")
    return True


def cameras_from_arrays(data: dict[str, np.ndarray]) -> MotionCameras | None:
    """The cameras of a motion file's members, or None when it has none (v1, v2, one-camera v3, AMASS).

    Raises ValueError (with what is wrong) for a partial or mistyped set of members."""
    if not has_members(data, CAMERA_KEYS, "the camera list"):
        return None
    for key in ("cameras_intrinsics", "cameras_extrinsics", "cameras_image_size", "cameras_time_offsets",
                "cameras_fps"):
        if data[key].dtype.kind not in "fiu":
            raise ValueError(f"'{key}' must hold numbers, not {data[key].dtype}")
    for key in ("cameras_names", "cameras_videos"):
        if data[key].dtype.kind not in "US":
            raise ValueError(f"'{key}' must hold strings")
    return MotionCameras(
        intrinsics=data["cameras_intrinsics"].astype(np.float64),
        extrinsics=data["cameras_extrinsics"].astype(np.float64),
        image_size=data["cameras_image_size"].astype(np.int64),
        names=tuple(str(n) for n in data["cameras_names"].reshape(-1)),
        videos=tuple(str(n) for n in data["cameras_videos"].reshape(-1)),
        time_offsets=data["cameras_time_offsets"].astype(np.float64).reshape(-1),
        fps=data["cameras_fps"].astype(np.float64).reshape(-1),
    )


def camera_faults(cams: MotionCameras, intrinsics0: np.ndarray | None, extrinsics0: np.ndarray | None) -> str | None:
    """What is wrong with ``cams`` (shapes, values, camera 0 against the single-camera keys), or None."""
    C = cams.intrinsics.shape[0] if cams.intrinsics.ndim == 3 else -1
    shapes = {"cameras_intrinsics": (cams.intrinsics, (C, 3, 3)), "cameras_extrinsics": (cams.extrinsics, (C, 4, 4)),
              "cameras_image_size": (cams.image_size, (C, 2)), "cameras_time_offsets": (cams.time_offsets, (C,)),
              "cameras_fps": (cams.fps, (C,))}
    if C < 1:
        return f"'cameras_intrinsics' must have shape (C, 3, 3), got {tuple(cams.intrinsics.shape)}"
    for key, (value, shape) in shapes.items():
        if value.shape != shape:
            return f"'{key}' must have shape {shape} for {C} cameras, got {tuple(value.shape)}"
    if len(cams.names) != C or len(cams.videos) != C:
        return f"'cameras_names' and 'cameras_videos' must name {C} cameras"
    for key, (value, _) in shapes.items():
        if not np.all(np.isfinite(value)):
            return f"'{key}' holds NaN or infinite values"
    R = cams.extrinsics[:, :3, :3]
    if np.abs(R @ np.swapaxes(R, 1, 2) - np.eye(3)).max() > 1e-4 or np.any(np.linalg.det(R) < 0):
        return "'cameras_extrinsics' holds a rotation that is not one"
    if np.any(cams.fps <= 0) or np.any(cams.image_size <= 0):
        return "'cameras_fps' and 'cameras_image_size' must be positive"
    single = {"camera_intrinsics": (intrinsics0, cams.intrinsics[0]),
              "camera_extrinsics": (extrinsics0, cams.extrinsics[0])}
    for key, (given, own) in single.items():
        if given is not None and np.abs(np.asarray(given) - own).max() > 1e-5 * max(1.0, float(np.abs(own).max())):
            return f"camera 0 of the camera list differs from '{key}'"
    return None
