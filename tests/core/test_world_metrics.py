"""The accuracy benchmark's like-for-like and world-frame figures (bench/world_metrics.py, bench/accuracy.py).

Each on synthetic data whose answer is known exactly.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import accuracy  # noqa: E402
import world_metrics as wm  # noqa: E402


def _random_rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _bodies(T: int, seed: int = 0) -> np.ndarray:
    """(T, 12, 3) limb joints of a person-like figure, turning and travelling, metres (camera frame)."""
    rng = np.random.default_rng(seed)
    rest = np.array([[0.18, -0.5, 0], [-0.18, -0.5, 0], [0.25, -0.25, 0], [-0.25, -0.25, 0], [0.3, 0.0, 0],
                     [-0.3, 0.0, 0], [0.1, 0.0, 0], [-0.1, 0.0, 0], [0.1, 0.45, 0], [-0.1, 0.45, 0],
                     [0.1, 0.85, 0], [-0.1, 0.85, 0]])
    poses = rest + rng.normal(scale=0.04, size=(T, 12, 3))
    R = np.stack([_random_rotation(rng) for _ in range(T)])
    return np.einsum("tij,tkj->tki", R, poses) + np.array([0.0, 0.0, 3.0]) + 0.01 * np.arange(T)[:, None, None]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_umeyama_recovers_a_similarity(dtype):
    rng = np.random.default_rng(1)
    src = rng.normal(size=(4, 12, 3))
    R = np.stack([_random_rotation(rng) for _ in range(4)])
    scale, t = rng.uniform(0.5, 2.0, 4), rng.normal(size=(4, 3))
    dst = wm.apply_similarity(scale, R, t, src)
    s_fit, R_fit, t_fit = wm.umeyama(src.astype(dtype), dst.astype(dtype))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(s_fit, scale, atol=tol)
    np.testing.assert_allclose(R_fit, R, atol=tol)
    np.testing.assert_allclose(t_fit, t, atol=10 * tol)


def test_constant_offset_per_joint_in_the_body_frame_gives_offset_free_pa_mpjpe_zero():
    rng = np.random.default_rng(2)
    gt = _bodies(150)
    offsets = rng.normal(scale=0.04, size=(12, 3))           # left, up, forward of the body: a joint definition
    B = wm.body_axes(gt)
    # (less any part that only makes the body larger: the alignment's scale takes that, not the offsets)
    shape = np.einsum("tki,tji->tjk", B, gt - gt.mean(1, keepdims=True)).mean(0)
    offsets -= (offsets * shape).sum() / (shape * shape).sum() * shape
    pred = gt + np.einsum("tki,jk->tji", B, offsets)
    # seen from anywhere: a per-frame similarity on top (MediaPipe's world frame is not the camera's)
    R = np.stack([_random_rotation(rng) for _ in range(150)])
    pred = 1.2 * np.einsum("tij,tkj->tki", R, pred) + rng.normal(size=(150, 1, 3))
    assert accuracy.pa_mpjpe(pred, gt) > 0.02                 # the plain figure counts the offsets
    error, _ = wm.offset_free_pa_mpjpe(pred, gt)
    assert error < 1e-6                                       # metres: a micrometre against centimetres


def test_offset_free_pa_mpjpe_keeps_errors_that_vary():
    rng = np.random.default_rng(3)
    gt = _bodies(150, seed=3)
    noise = rng.normal(scale=0.02, size=gt.shape)             # zero-mean: nothing constant to take away
    plain = accuracy.pa_mpjpe(gt + noise, gt)
    error, offsets = wm.offset_free_pa_mpjpe(gt + noise, gt)
    assert 0.98 * plain < error <= plain
    assert np.abs(offsets).max() < 0.01
    # and a joint that swings back and forth (a pose error) is not an offset
    swing = gt.copy()
    swing[:, 4, 0] += 0.1 * np.sign(np.sin(np.arange(150) / 5.0))
    assert wm.offset_free_pa_mpjpe(swing, gt)[0] > 0.5 * accuracy.pa_mpjpe(swing, gt)


def test_window_starts():
    assert wm.window_starts(80, 100) == [0]
    assert wm.window_starts(130, 100) == [0]
    assert wm.window_starts(150, 100) == [0, 50]
    assert wm.window_starts(200, 100) == [0, 100]
    assert wm.window_starts(260, 100) == [0, 100, 160]


def test_w_mpjpe_of_a_known_drift():
    gt = _bodies(100, seed=4)
    drift = np.array([0.003, 0.0, 0.004])                    # 5 mm a frame, from frame 1 on
    t = np.arange(100)
    pred = gt + np.maximum(t - 1, 0)[:, None, None] * drift
    figures = wm.windowed_world_errors(pred, gt)
    expected = 0.005 * np.maximum(t - 1, 0).mean()           # the first two frames agree: no alignment moves it
    assert figures["w_mpjpe"] == pytest.approx(expected, rel=1e-9)
    assert figures["root_error"] == pytest.approx(expected, rel=1e-9)
    assert figures["wa_mpjpe"] < 0.5 * expected               # the whole-window alignment takes some away
    # two windows: each starts again from its own first two frames
    pred2 = np.concatenate([pred, pred + 0.3])                # a jump between windows is not counted
    figures2 = wm.windowed_world_errors(pred2, np.concatenate([gt, gt]))
    assert figures2["w_mpjpe"] == pytest.approx(expected, rel=1e-9)


def test_w_mpjpe_forgives_one_similarity_for_the_whole_clip():
    rng = np.random.default_rng(5)
    gt = _bodies(160, seed=5)
    pred = wm.apply_similarity(np.array(0.8), _random_rotation(rng), np.array([1.0, -2.0, 0.5]), gt)
    figures = wm.windowed_world_errors(pred, gt)
    assert max(figures.values()) < 1e-9



def test_a_body_turned_in_the_two_alignment_frames_reads_its_turn_and_its_w_mpjpe_grows_with_travel():
    """The path is right, only frames 0 and 1 turn the body 10 degrees about the vertical: W-MPJPE's
    alignment turns the whole window with them (its error grows with the 3 m travelled), the whole-window
    alignment does not, and the turn figure reads the 10 degrees, the same on a path without travel."""
    T = 100
    gt = _bodies(T, seed=7)
    gt[..., 0] += np.linspace(0.0, 3.0, T)[:, None]             # walks 3 m across the picture
    a = np.radians(10.0)
    turn = np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])  # about y (up)
    pred = gt.copy()
    centre = gt[:2].reshape(-1, 3).mean(0)
    pred[:2] = (gt[:2] - centre) @ turn.T + centre
    figures = wm.windowed_world_errors(pred, gt)
    assert figures["align_turn_deg"] == pytest.approx(10.0, abs=0.3)
    assert wm.windowed_world_errors(gt, gt)["align_turn_deg"] == pytest.approx(0.0, abs=1e-6)
    assert figures["w_mpjpe"] > 0.2 and figures["wa_mpjpe"] < 0.02   # 10 deg over 1.5 m on average
    still = gt - np.linspace(0.0, 3.0, T)[:, None, None] * np.array([1.0, 0.0, 0.0])
    still_pred = still.copy()
    still_pred[:2] = (still[:2] - centre) @ turn.T + centre
    still_figures = wm.windowed_world_errors(still_pred, still)
    assert still_figures["align_turn_deg"] == pytest.approx(10.0, abs=0.3)
    assert still_figures["w_mpjpe"] < 0.5 * figures["w_mpjpe"]

def test_contact_skate_on_true_contacts_in_camera_and_world():
    T = 10
    up = np.array([0.0, -np.cos(0.3), np.sin(0.3)])          # a camera pitched 0.3 rad
    along = np.cross(up, [1.0, 0.0, 0.0])
    feet = np.zeros((T, 4, 3))
    feet[:, 0] = np.arange(T)[:, None] * (0.002 * along + 0.001 * up)   # slides 2 mm, lifts 1 mm a frame
    feet[:, 1] = np.arange(T)[:, None] * 0.05 * along                   # moving fast: not planted
    feet[6:, 2, 0] += 0.03                                               # a planted heel jumps 3 cm once
    contact = np.zeros((T, 4), bool)
    contact[:, 0] = True
    contact[:, 2] = True
    skate = wm.contact_skate(feet, contact, up)
    steps = [np.sqrt(0.002 ** 2 + 0.001 ** 2)] * 9 + [0.0] * 8 + [0.03]
    assert skate["skate_cam"] == pytest.approx(np.mean(steps))
    assert skate["skate_world"] == pytest.approx((9 * 0.002 + 0.03) / 18)  # the lift is not travel along the floor
    assert skate["max_jump"] == pytest.approx(0.03)
    assert np.isnan(wm.contact_skate(feet, np.zeros((T, 4), bool), up)["skate_cam"])


def test_penetration_below_a_tilted_floor():
    up = np.array([0.0, -1.0, 0.0])
    floor_point = np.array([0.0, 1.5, 3.0])                  # the floor 1.5 m below a level camera
    feet = np.zeros((3, 2, 3)) + floor_point
    feet[:, 0, 1] -= 0.08                                    # heel joint 8 cm up: its sole on the floor
    feet[:, 1, 1] -= 0.01                                    # toe joint 1 cm up, its sole 2 cm below: 2 cm deep
    mean, deepest = wm.penetration(feet, np.array([0.08, 0.03]), up, floor_point)
    assert mean == pytest.approx(0.01) and deepest == pytest.approx(0.02)
    np.testing.assert_allclose(wm.sole_heights(feet + 0.1 * up, np.array([0.08, 0.03]), up, floor_point),
                               [[0.1, 0.08]] * 3)        # lifted 10 cm: floating 10 and 8 cm


def test_up_direction_angles_and_pelvis_acceleration_ratio():
    pitch = np.radians(20.0)
    up_cam = np.array([0.0, -np.cos(pitch), -np.sin(pitch)])  # looking down 20 degrees: up leans back
    assert wm.tilt_from_level_degrees(up_cam) == pytest.approx(20.0)
    assert wm.angle_degrees(up_cam, np.array([0.0, -1.0, 0.0])) == pytest.approx(20.0)
    t = np.arange(20, dtype=float)
    gt = np.stack([0.01 * t ** 2, np.zeros(20), 3 + np.zeros(20)], -1)
    assert wm.accel_ratio(gt, gt) == pytest.approx(1.0)
    assert wm.accel_ratio(2 * gt, gt) == pytest.approx(2.0)


def test_world_figures_of_a_perfect_take_are_zero():
    gt = _bodies(120, seed=6)
    T = len(gt)
    up = np.array([0.0, -1.0, 0.0])                          # a level camera: up is image up (y down)
    floor_point = np.array([0.0, 1.5, 3.0])                  # the floor 1.5 m below it
    feet = gt[:, [10, 10, 11, 11]].copy()
    feet[..., 1] = 1.5 - 0.05                                # feet flat on the floor, joints 5 cm above their soles
    world = {"feet": feet, "contact": np.ones((T, 4), bool), "up_cam": up, "floor_point_cam": floor_point}
    take = accuracy.Take(limbs=gt, limbs_2d=np.zeros((T, 12, 2)), feet=feet, valid=np.ones(T, bool), up_cam=up,
                         floor_point_cam=floor_point, foot_rest_height=np.full(4, 0.05),
                         info={"floor_tilt_degrees": 0.0})
    figures = accuracy.world_figures(gt, take.valid, gt, world, take)
    assert set(figures) == set(accuracy.WORLD_METRICS)
    for name in ("offset_free_pa_mpjpe_mm", "w_mpjpe_mm", "wa_mpjpe_mm", "w_align_turn_deg", "root_error_mm",
                 "pen_own_mm", "pen_true_mm", "contact_height_true_mm", "up_error_deg", "floor_tilt_error_deg"):
        assert figures[name] == pytest.approx(0.0, abs=1e-6), name
    assert figures["pelvis_accel_ratio"] == pytest.approx(1.0)
    assert figures["depth_ratio"] == pytest.approx(1.0)
    assert figures["lean_to_camera_error_deg"] == pytest.approx(0.0, abs=1e-6)
    # MediaPipe has no feet in the world and no floor: those figures are not made up
    baseline = accuracy.world_figures(gt, take.valid, gt, world)
    assert np.isnan(baseline["skate_world_mm"]) and np.isnan(baseline["up_error_deg"])


def test_a_body_squarer_to_the_ray_and_farther_away_reads_its_tip_and_its_depth_exactly():
    """The depth bias of issue 15: a body that tips its top toward the camera less than the person does
    (as MediaPipe's under-read view elevation makes it) fits the image farther away. Both figures are exact."""
    rest = np.zeros((12, 3))
    rest[list(wm.SHOULDERS)] = [[0.2, -0.4, 0.0], [-0.2, -0.4, 0.0]]
    rest[list(wm.HIPS)] = [[0.1, 0.0, 0.0], [-0.1, 0.0, 0.0]]
    rest[[10, 11]] = [[0.1, 1.0, 0.0], [-0.1, 1.0, 0.0]]
    def tipped(deg: float) -> np.ndarray:  # the top toward the camera (-z) by deg, about the pelvis
        a = np.radians(deg)
        R = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(a), -np.sin(a)], [0.0, np.sin(a), np.cos(a)]])
        return rest @ R.T
    at = np.array([0.0, 0.0, 4.0])
    truth = np.stack([tipped(25.0) + at] * 5)                 # seen from 25 degrees above
    ours = np.stack([tipped(15.0) + 1.07 * at] * 5)           # 10 degrees squarer, 7 % farther
    assert wm.lean_to_camera_degrees(truth, wm.pelvis(truth)) == pytest.approx(np.full(5, 25.0))
    assert wm.lean_to_camera_error(ours, truth) == pytest.approx(-10.0)
    assert wm.depth_ratio(ours, truth) == pytest.approx(1.07)
