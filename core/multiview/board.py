"""Calibrate a rig from a ChArUco board that the cameras see at the same moments (OpenCV's aruco module).

A ChArUco board is a chessboard whose white squares hold ArUco markers, so
each inner corner is identified even when the board is partly hidden. Each
camera's pose relative to the board follows from the corners it sees
(PnP); two cameras that see the board in the same frame are related through
it. The board is the better choice where the person calibration is weak (few
frames, little motion, small people in the picture); print it flat and
measure the squares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MocapError
from .rig import CameraRig

MIN_CORNERS = 6
"""Corners a view of the board needs before its pose counts."""


@dataclass(frozen=True)
class Board:
    """A printed ChArUco board: squares across and down, square and marker sides in metres, ArUco dictionary."""

    squares_x: int = 5
    squares_y: int = 7
    square_m: float = 0.04
    marker_m: float = 0.03
    dictionary: str = "DICT_4X4_50"

    def opencv(self):
        import cv2

        if not hasattr(cv2.aruco, self.dictionary):
            raise MocapError(f"unknown ArUco dictionary {self.dictionary!r} (e.g. DICT_4X4_50, DICT_5X5_100)")
        if not 0 < self.marker_m < self.square_m:
            raise MocapError("the board's markers must be smaller than its squares")
        words = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))
        return cv2.aruco.CharucoBoard((self.squares_x, self.squares_y), self.square_m, self.marker_m, words)


def detect_board(images: list[np.ndarray], board: Board) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """Per image (H, W[, 3]) uint8: (object points (N, 3) metres, pixels (N, 2)), or None with too few corners."""
    import cv2

    cv_board = board.opencv()
    detector = cv2.aruco.CharucoDetector(cv_board)
    found: list[tuple[np.ndarray, np.ndarray] | None] = []
    for image in images:
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        corners, ids, _, _ = detector.detectBoard(gray)
        if ids is None or len(ids) < MIN_CORNERS:
            found.append(None)
            continue
        obj, img = cv_board.matchImagePoints(corners, ids)
        found.append((obj.reshape(-1, 3).astype(np.float64), img.reshape(-1, 2).astype(np.float64)))
    return found


def _intrinsics(views: list[tuple[np.ndarray, np.ndarray] | None], size: tuple[int, int], name: str) -> np.ndarray:
    """K (3, 3) from the board views of one camera: its focal length, the centre in the middle, no distortion."""
    import cv2

    seen = [v for v in views if v is not None]
    if len(seen) < 4:
        raise MocapError(f"camera {name} sees the board in {len(seen)} frames; 4 or more (at varied angles) are "
                         "needed to find its focal length, or give its intrinsics")
    # Phone pictures have square pixels and the optical centre in the middle; a few board views cannot
    # pin the centre down as well as that assumption does (it drifts by 5-10 px and takes the poses with it).
    flags = (cv2.CALIB_FIX_K1 | cv2.CALIB_FIX_K2 | cv2.CALIB_FIX_K3 | cv2.CALIB_ZERO_TANGENT_DIST
             | cv2.CALIB_FIX_ASPECT_RATIO | cv2.CALIB_FIX_PRINCIPAL_POINT)
    guess = np.array([[max(size), 0, size[0] / 2], [0, max(size), size[1] / 2], [0, 0, 1]], np.float64)
    _, K, _, _, _ = cv2.calibrateCamera([o.astype(np.float32) for o, _ in seen],
                                        [i.astype(np.float32) for _, i in seen], size, guess, np.zeros(5),
                                        flags=flags | cv2.CALIB_USE_INTRINSIC_GUESS)
    return np.asarray(K, np.float64)


def _board_poses(views: list[tuple[np.ndarray, np.ndarray] | None], K: np.ndarray) -> list[np.ndarray | None]:
    """Per frame, the (4, 4) camera-from-board transform, or None."""
    import cv2

    poses: list[np.ndarray | None] = []
    for view in views:
        if view is None:
            poses.append(None)
            continue
        ok, rvec, tvec = cv2.solvePnP(view[0], view[1], K, None, flags=cv2.SOLVEPNP_IPPE)
        if not ok:
            poses.append(None)
            continue
        T = np.eye(4)
        T[:3, :3] = cv2.Rodrigues(rvec)[0]
        T[:3, 3] = tvec.ravel()
        poses.append(T)
    return poses


def _mean_pose(transforms: list[np.ndarray]) -> np.ndarray:
    """(4, 4) average of rigid transforms: chordal mean of the rotations, mean of the translations."""
    U, _, Vt = np.linalg.svd(sum(T[:3, :3] for T in transforms))
    out = np.eye(4)
    out[:3, :3] = U @ np.diag([1.0, 1.0, np.linalg.det(U @ Vt)]) @ Vt
    out[:3, 3] = np.mean([T[:3, 3] for T in transforms], axis=0)
    return out


def calibrate_from_board(images: list[list[np.ndarray]], board: Board, Ks: list[np.ndarray] | None = None, *,
                         names: list[str] | None = None) -> CameraRig:
    """A CameraRig from C views of a ChArUco board on one time base: ``images[c][k]`` is frame k of camera c.

    ``Ks``: known intrinsics, else each camera's focal length and centre are
    found from its views of the board. The world is camera 0's frame; every
    camera must see the board in some frame together with camera 0.
    """
    C = len(images)
    if C < 1 or (Ks is not None and len(Ks) != C):
        raise MocapError(f"board calibration needs one or more views with one intrinsics matrix each (got {C})")
    names = [f"camera_{c + 1}" for c in range(C)] if names is None else list(names)
    sizes = [(int(views[0].shape[1]), int(views[0].shape[0])) for views in images]
    detections = [detect_board(views, board) for views in images]
    K = [np.asarray(Ks[c], np.float64) if Ks is not None else _intrinsics(detections[c], sizes[c], names[c])
         for c in range(C)]
    poses = [_board_poses(detections[c], K[c]) for c in range(C)]
    R, t = np.tile(np.eye(3), (C, 1, 1)), np.zeros((C, 3))
    for c in range(1, C):
        relative = [Tc @ np.linalg.inv(T0) for T0, Tc in zip(poses[0], poses[c]) if T0 is not None and Tc is not None]
        if not relative:
            raise MocapError(f"cameras {names[0]} and {names[c]} never see the board at the same moment: hold it "
                             "where both see it")
        mean = _mean_pose(relative)
        R[c], t[c] = mean[:3, :3], mean[:3, 3]
    up = -R[:, 1, :].mean(0)
    return CameraRig(names=tuple(names), K=np.stack(K), R=R, t=t, image_sizes=np.array(sizes),
                     world_up=up if np.linalg.norm(up) > 1e-6 else [0.0, -1.0, 0.0])
