"""Board calibration: three cameras that see a rendered ChArUco board are recovered, focal lengths included."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import MocapError
from core.multiview.board import Board, calibrate_from_board
from core.multiview.compare import rig_errors
from core.rotations import axis_angle_to_matrix
from tests.testdata.multiview_scenes import look_at_rig

BOARD = Board(squares_x=5, squares_y=7, square_m=0.08, marker_m=0.06)
PIXELS_PER_SQUARE = 60
MARGIN = 30


def _board_image() -> np.ndarray:
    size = (BOARD.squares_x * PIXELS_PER_SQUARE + 2 * MARGIN, BOARD.squares_y * PIXELS_PER_SQUARE + 2 * MARGIN)
    return BOARD.opencv().generateImage(size, marginSize=MARGIN, borderBits=1)


def _render(rig, board_from_world_R, board_origin, image: np.ndarray) -> list[np.ndarray]:
    """Each camera's picture of the board image placed in the world (board x, y in metres = pixels * scale)."""
    import cv2

    s = BOARD.square_m / PIXELS_PER_SQUARE
    to_board = np.array([[s, 0, -MARGIN * s], [0, s, -MARGIN * s], [0, 0, 1]])  # image pixel -> board metres
    out = []
    for c in range(rig.num_cameras):
        Rcb = rig.R[c] @ board_from_world_R
        tcb = rig.R[c] @ board_origin + rig.t[c]
        H = rig.K[c] @ np.column_stack([Rcb[:, 0], Rcb[:, 1], tcb]) @ to_board
        w, h = rig.image_sizes[c]
        out.append(cv2.warpPerspective(image, H, (int(w), int(h)), flags=cv2.INTER_AREA, borderValue=200))
    return out


def test_three_cameras_and_their_focal_lengths_from_a_board():
    angles = np.radians([-30.0, 0.0, 25.0])
    centres = np.stack([2.5 * np.sin(angles), -2.5 * np.cos(angles), [1.1, 1.4, 1.7]], -1)
    rig = look_at_rig(centres, target=(0.0, 0.0, 1.2), focals=[800.0, 950.0, 700.0], sizes=[[960, 540]] * 3)
    rng = np.random.default_rng(0)
    image = _board_image()
    facing = np.column_stack([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # board x right, y down, z away
    centre_on_board = np.array([BOARD.squares_x, BOARD.squares_y, 0.0]) * BOARD.square_m / 2
    frames: list[list[np.ndarray]] = [[], [], []]
    for _ in range(12):
        tilt = axis_angle_to_matrix(rng.uniform(-0.35, 0.35, 3))
        R_board = tilt @ facing
        origin = np.array([0.0, 0.0, 1.2]) + rng.uniform(-0.2, 0.2, 3) - R_board @ centre_on_board
        for c, picture in enumerate(_render(rig, R_board, origin, image)):
            frames[c].append(picture)
    known = calibrate_from_board(frames, BOARD, list(rig.K))
    centre_err, angle_err, scale = rig_errors(known, rig)
    assert abs(scale - 1) < 0.005  # the board's printed size gives metres
    assert centre_err.max() < 0.005 and angle_err.max() < 0.2, (centre_err, angle_err)
    # Focal lengths from 12 board views come within 1-2 %, which moves each camera along its axis a little.
    estimate = calibrate_from_board(frames, BOARD)
    centre_err, angle_err, scale = rig_errors(estimate, rig)
    np.testing.assert_allclose(estimate.K[:, 0, 0], rig.K[:, 0, 0], rtol=0.02)
    assert centre_err.max() < 0.04 and angle_err.max() < 0.2, (centre_err, angle_err)
    with pytest.raises(MocapError, match="never see the board at the same moment"):
        calibrate_from_board([frames[0][:6] + [frames[0][0] * 0] * 6, [frames[1][0] * 0] * 6 + frames[1][6:]],
                             BOARD, list(rig.K[:2]))
