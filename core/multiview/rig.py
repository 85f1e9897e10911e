"""A rig of C calibrated cameras in one world frame, saved as JSON and reused for later takes.

Frames: each camera is a pinhole with OpenCV axes (x right, y down, z away),
``x_cam = R @ x_world + t``; world units are metres. ``world_up`` is the unit
up direction of the world frame (a calibration from the person puts the
world at camera 0 and estimates up; a board or a file may give z up).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..camera import project
from ..errors import MocapError

RIG_FORMAT = "blender-mocap camera rig"
RIG_VERSION = 1


LENSES = ("stated", "refined", "guessed")
"""Where a camera's focal length came from (``CameraRig.lenses``): given or in the video's metadata; the field-of-view
default refined from the person (``core.capture_multi.focal_refinement``); the default kept."""


@dataclass
class CameraRig:
    """C cameras: names (C,), K (C, 3, 3) pixels, R (C, 3, 3), t (C, 3) metres, image_sizes (C, 2) (w, h);
    ``lenses`` (C,) where each focal length came from (``LENSES``), None where not known (a board, a file of
    another tool, a rig saved before December 2026)."""

    names: tuple[str, ...]
    K: np.ndarray
    R: np.ndarray
    t: np.ndarray
    image_sizes: np.ndarray
    world_up: np.ndarray
    lenses: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        self.K = np.asarray(self.K, np.float64)
        self.R = np.asarray(self.R, np.float64)
        self.t = np.asarray(self.t, np.float64)
        self.image_sizes = np.asarray(self.image_sizes, np.int64)
        self.world_up = np.asarray(self.world_up, np.float64)
        self.names = tuple(str(n) for n in self.names)
        C = len(self.names)
        if self.lenses is not None:
            self.lenses = tuple(str(lens) for lens in self.lenses)
            if len(self.lenses) != C or not set(self.lenses) <= set(LENSES):
                raise MocapError(f"camera rig: lenses {self.lenses} are not one of {LENSES} per camera")
        shapes = {"K": (C, 3, 3), "R": (C, 3, 3), "t": (C, 3), "image_sizes": (C, 2), "world_up": (3,)}
        for key, shape in shapes.items():
            if getattr(self, key).shape != shape:
                raise MocapError(f"camera rig: {key} has shape {getattr(self, key).shape}, expected {shape}")
        if C < 1 or not np.all(np.isfinite(self.R)) or not np.all(np.isfinite(self.t)):
            raise MocapError("camera rig: needs at least one camera with finite rotations and translations")
        if np.abs(np.einsum("cij,ckj->cik", self.R, self.R) - np.eye(3)).max() > 1e-4:
            raise MocapError("camera rig: a camera rotation is not a rotation matrix")
        norm = float(np.linalg.norm(self.world_up))
        if not norm > 0:
            raise MocapError("camera rig: world_up must be a nonzero vector")
        self.world_up = self.world_up / norm

    @property
    def num_cameras(self) -> int:
        return len(self.names)

    def extrinsics(self) -> np.ndarray:
        """(C, 4, 4) camera-from-world matrices (OpenCV [R|t])."""
        E = np.tile(np.eye(4), (self.num_cameras, 1, 1))
        E[:, :3, :3] = self.R
        E[:, :3, 3] = self.t
        return E

    def centres(self) -> np.ndarray:
        """(C, 3) camera centres in the world frame, metres."""
        return -np.einsum("cji,cj->ci", self.R, self.t)

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) world points -> (C, ..., 3) in each camera's frame."""
        P = np.asarray(points, np.float64)
        return np.einsum("cij,...j->c...i", self.R, P) + self.t.reshape((-1,) + (1,) * (P.ndim - 1) + (3,))

    def project(self, points: np.ndarray, min_depth: float | None = 1e-3) -> np.ndarray:
        """(..., 3) world points -> (C, ..., 2) pixels in each camera."""
        cam = self.to_camera(points)
        return np.stack([project(cam[c], self.K[c], min_depth) for c in range(self.num_cameras)])

    def to_dict(self) -> dict:
        return {"format": RIG_FORMAT, "version": RIG_VERSION, "world_up": self.world_up.tolist(),
                "cameras": [{"name": n, "K": self.K[c].tolist(), "R": self.R[c].tolist(), "t": self.t[c].tolist(),
                             "image_size": self.image_sizes[c].tolist(),
                             **({} if self.lenses is None else {"lens": self.lenses[c]})}
                            for c, n in enumerate(self.names)]}

    @classmethod
    def from_dict(cls, data: dict, name: str = "camera rig") -> "CameraRig":
        if data.get("format") != RIG_FORMAT:
            raise MocapError(f"{name} is not a {RIG_FORMAT} file")
        if int(data.get("version", 0)) > RIG_VERSION:
            raise MocapError(f"{name} is version {data.get('version')}, newer than this tool reads "
                             f"({RIG_VERSION}): update blender-mocap")
        try:
            cams = data["cameras"]
            return cls(names=tuple(c["name"] for c in cams), K=[c["K"] for c in cams], R=[c["R"] for c in cams],
                       t=[c["t"] for c in cams], image_sizes=[c["image_size"] for c in cams],
                       world_up=data["world_up"],
                       lenses=tuple(c["lens"] for c in cams) if all("lens" in c for c in cams) else None)
        except (KeyError, TypeError, ValueError) as exc:
            raise MocapError(f"{name} is damaged ({exc!r}): calibrate again") from None


def save_rig(rig: CameraRig, path: str | os.PathLike[str]) -> Path:
    """Write ``rig`` as JSON to ``path`` (atomically) and return the path."""
    path = Path(path)
    scratch = path.with_name(path.name + ".partial")
    scratch.write_text(json.dumps(rig.to_dict(), indent=1), encoding="utf-8")
    os.replace(scratch, path)
    return path


def load_rig(path: str | os.PathLike[str]) -> CameraRig:
    """Read a rig written by ``save_rig``; a clear MocapError for a missing or damaged file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MocapError(f"camera rig file {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise MocapError(f"camera rig file {path} cannot be read ({exc}): calibrate again") from None
    if not isinstance(data, dict):
        raise MocapError(f"camera rig file {path} is not a {RIG_FORMAT} file")
    return CameraRig.from_dict(data, name=f"camera rig file {path}")
