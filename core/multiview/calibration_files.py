"""Calibration files of other multi-camera tools, read into (and written from) a ``CameraRig``.

Formats, by suffix:

- ``.json``: ours (``rig.save_rig`` / ``rig.load_rig``), the only one that keeps ``world_up``.
- ``.toml``: the layout of anipose and Pose2Sim, one table per camera::

      [cam_1]
      name = "cam_1"
      size = [1920.0, 1080.0]
      matrix = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]
      distortions = [k1, k2, p1, p2]
      rotation = [rx, ry, rz]      # Rodrigues vector, world -> camera
      translation = [tx, ty, tz]   # x_cam = R x_world + t

- ``.yml`` / ``.yaml`` / ``.xml``: OpenCV FileStorage as EasyMocap writes it
  (``names``; per camera ``K_<name>``, ``dist_<name>``, and ``Rot_<name>``
  (3x3) or ``R_<name>`` (Rodrigues), ``T_<name>``, often split into
  ``intri.yml`` and ``extri.yml`` side by side: either may be given), or a
  single camera from OpenCV's calibration sample (``camera_matrix``,
  ``distortion_coefficients``, ``image_width``, ``image_height``).

A rig has no lens distortion: a file whose distortion moves an image corner
by more than ``max_distortion_px`` is refused unless ``ignore_distortion``.
Files without an up direction get the cameras' average up (their -y axes).
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import numpy as np

from ..errors import MocapError
from ..rotations import axis_angle_to_matrix, matrix_to_axis_angle
from .rig import CameraRig, load_rig, save_rig

MAX_DISTORTION_PX = 2.0


def _corner_shift(K: np.ndarray, size: np.ndarray, dist: np.ndarray) -> float:
    """Pixels the distortion ``dist`` (OpenCV order k1 k2 p1 p2 k3 ...) moves the farthest image corner."""
    d = np.zeros(5)
    d[: min(5, len(dist))] = np.asarray(dist, np.float64).ravel()[:5]
    corners = np.array([[0.0, 0.0], [size[0], 0.0], [0.0, size[1]], [size[0], size[1]]])
    x = (corners[:, 0] - K[0, 2]) / K[0, 0]
    y = (corners[:, 1] - K[1, 2]) / K[1, 1]
    r2 = x * x + y * y
    radial = d[0] * r2 + d[1] * r2**2 + d[4] * r2**3
    dx = x * radial + 2 * d[2] * x * y + d[3] * (r2 + 2 * x * x)
    dy = y * radial + d[2] * (r2 + 2 * y * y) + 2 * d[3] * x * y
    return float(np.max(np.hypot(dx * K[0, 0], dy * K[1, 1])))


def _finish(path: Path, names: list[str], Ks: list, Rs: list, ts: list, sizes: list, dists: list,
            ignore_distortion: bool, max_distortion_px: float) -> CameraRig:
    if not names:
        raise MocapError(f"calibration file {path} holds no cameras")
    try:
        K = np.asarray(Ks, np.float64).reshape(-1, 3, 3)
        R = np.asarray(Rs, np.float64).reshape(-1, 3, 3)
        t = np.asarray(ts, np.float64).reshape(-1, 3)
        size = np.rint(np.asarray(sizes, np.float64)).reshape(-1, 2).astype(np.int64)
    except ValueError as exc:
        raise MocapError(f"calibration file {path} has a matrix of the wrong size ({exc})") from None
    for c, name in enumerate(names):
        shift = _corner_shift(K[c], size[c], dists[c]) if len(dists[c]) else 0.0
        if shift > max_distortion_px and not ignore_distortion:
            raise MocapError(f"calibration file {path}: camera {name}'s lens distortion moves the image corners by "
                             f"{shift:.0f} px, which the rig does not model: undistort the videos first, or "
                             "accept the error with ignore_distortion")
    up = -R[:, 1, :].mean(0)
    return CameraRig(names=tuple(names), K=K, R=R, t=t, image_sizes=size,
                     world_up=up if np.linalg.norm(up) > 1e-6 else [0.0, -1.0, 0.0])


def _read_toml(path: Path, ignore_distortion: bool, max_distortion_px: float,
               translation_unit: float | None) -> CameraRig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise MocapError(f"calibration file {path} cannot be read as TOML ({exc})") from None
    names, Ks, Rs, ts, sizes, dists = [], [], [], [], [], []
    for key, cam in data.items():
        if not isinstance(cam, dict) or "matrix" not in cam:
            continue  # [metadata] and the like
        try:
            if cam.get("fisheye", False):
                raise MocapError(f"calibration file {path}: camera {key} is a fisheye lens, which the rig does "
                                 "not model")
            names.append(str(cam.get("name", key)))
            Ks.append(cam["matrix"])
            Rs.append(axis_angle_to_matrix(np.asarray(cam["rotation"], np.float64).reshape(3)))
            ts.append(cam["translation"])
            sizes.append(cam["size"])
            dists.append(np.asarray(cam.get("distortions", []), np.float64).ravel())
        except (KeyError, TypeError, ValueError) as exc:
            raise MocapError(f"calibration file {path}: camera {key} lacks or garbles {exc}") from None
    rig = _finish(path, names, Ks, Rs, ts, sizes, dists, ignore_distortion, max_distortion_px)
    if translation_unit is None:
        # anipose writes the board's units (often millimetres), Pose2Sim metres; cameras metres apart in a
        # room are thousands of millimetres apart.
        spread = np.linalg.norm(rig.centres() - rig.centres().mean(0), axis=1).max()
        translation_unit = 0.001 if spread > 100.0 else 1.0
    rig.t = rig.t * translation_unit
    return rig


def _node_matrix(fs, key: str) -> np.ndarray | None:
    node = fs.getNode(key)
    if node.empty():
        return None
    mat = node.mat()
    return None if mat is None else np.asarray(mat, np.float64)


def _read_opencv(path: Path, ignore_distortion: bool, max_distortion_px: float) -> CameraRig:
    import cv2

    sources = [path]
    for a, b in (("intri", "extri"), ("extri", "intri")):
        if a in path.name and path.with_name(path.name.replace(a, b)).is_file():
            sources.append(path.with_name(path.name.replace(a, b)))
    stores = []
    for source in sources:
        try:
            fs = cv2.FileStorage(str(source), cv2.FILE_STORAGE_READ)
        except cv2.error as exc:
            raise MocapError(f"calibration file {source} cannot be read by OpenCV ({exc})") from None
        if not fs.isOpened():
            raise MocapError(f"calibration file {source} cannot be read by OpenCV")
        stores.append(fs)

    def find(key: str) -> np.ndarray | None:
        for fs in stores:
            found = _node_matrix(fs, key)
            if found is not None:
                return found
        return None

    node = stores[0].getNode("names")
    if node.empty() and find("camera_matrix") is not None:  # OpenCV's calibration sample: one camera
        K = find("camera_matrix")
        size = [stores[0].getNode("image_width").real(), stores[0].getNode("image_height").real()]
        dist = find("distortion_coefficients")
        return _finish(path, ["camera_1"], [K], [np.eye(3)], [np.zeros(3)], [size],
                       [np.zeros(0) if dist is None else dist.ravel()], ignore_distortion, max_distortion_px)
    names = [node.at(i).string() or str(int(node.at(i).real())) for i in range(node.size())]
    Ks, Rs, ts, sizes, dists = [], [], [], [], []
    for name in names:
        K, T = find(f"K_{name}"), find(f"T_{name}")
        R = find(f"Rot_{name}")
        rvec = find(f"R_{name}") if R is None else None
        if rvec is not None:
            R = axis_angle_to_matrix(rvec.reshape(3))
        if K is None or R is None or T is None:
            raise MocapError(f"calibration file {path}: camera {name} lacks K_{name}, R_{name}/Rot_{name} or "
                             f"T_{name} (for EasyMocap files give intri.yml with extri.yml beside it)")
        w, h = find(f"W_{name}"), find(f"H_{name}")
        size = [float(w.ravel()[0]), float(h.ravel()[0])] if w is not None and h is not None \
            else [2 * K[0, 2], 2 * K[1, 2]]  # no size stored: assume a centred principal point
        dist = find(f"dist_{name}")
        Ks.append(K)
        Rs.append(R)
        ts.append(T.ravel())
        sizes.append(size)
        dists.append(np.zeros(0) if dist is None else dist.ravel())
    return _finish(path, names, Ks, Rs, ts, sizes, dists, ignore_distortion, max_distortion_px)


def read_calibration(path: str | os.PathLike[str], *, ignore_distortion: bool = False,
                     max_distortion_px: float = MAX_DISTORTION_PX,
                     translation_unit: float | None = None) -> CameraRig:
    """A CameraRig from a calibration file, the format chosen by its suffix (see the module docstring).

    ``translation_unit``: metres per unit of a TOML file's translations (None:
    millimetres when the cameras are over 100 units from their centre, else
    metres).
    """
    path = Path(path)
    if not path.is_file():
        raise MocapError(f"calibration file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return load_rig(path)
    if suffix == ".toml":
        return _read_toml(path, ignore_distortion, max_distortion_px, translation_unit)
    if suffix in (".yml", ".yaml", ".xml"):
        return _read_opencv(path, ignore_distortion, max_distortion_px)
    raise MocapError(f"calibration file {path}: unknown format {suffix!r} (use .json, .toml, .yml/.yaml or .xml)")


def write_calibration(rig: CameraRig, path: str | os.PathLike[str]) -> Path:
    """Write ``rig`` as the suffix asks: ours (.json), Pose2Sim/anipose TOML (metres), or OpenCV YAML (EasyMocap)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return save_rig(rig, path)
    if suffix == ".toml":
        blocks = []
        for c, name in enumerate(rig.names):
            blocks.append("\n".join([
                f"[cam_{c + 1}]", f"name = {json.dumps(name)}",
                f"size = {[float(v) for v in rig.image_sizes[c]]}", f"matrix = {rig.K[c].tolist()}",
                "distortions = [0.0, 0.0, 0.0, 0.0]", f"rotation = {matrix_to_axis_angle(rig.R[c]).tolist()}",
                f"translation = {rig.t[c].tolist()}", "fisheye = false"]))
        path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        return path
    if suffix in (".yml", ".yaml", ".xml"):
        import cv2

        fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE)
        fs.startWriteStruct("names", cv2.FileNode_SEQ)
        for name in rig.names:
            fs.write("", name)
        fs.endWriteStruct()
        for c, name in enumerate(rig.names):
            for key, value in (("K", rig.K[c]), ("dist", np.zeros((1, 5))), ("Rot", rig.R[c]),
                               ("R", matrix_to_axis_angle(rig.R[c]).reshape(3, 1)), ("T", rig.t[c].reshape(3, 1)),
                               ("W", np.array([[float(rig.image_sizes[c][0])]])),
                               ("H", np.array([[float(rig.image_sizes[c][1])]]))):
                fs.write(f"{key}_{name}", np.asarray(value, np.float64))
        fs.release()
        return path
    raise MocapError(f"calibration file {path}: unknown format {suffix!r} (use .json, .toml, .yml/.yaml or .xml)")
