"""The multi-view benchmark's world figures (bench/multiview.py, bench/world_metrics.py) on a known trajectory.

A calibrated multi-camera take lives in camera 0's metric frame, as the truth
does, so its world error needs no alignment to the body. W-MPJPE100 (GVHMR and
WHAM: a similarity fitted on each window's first two frames) turns the pose
error of those two frames into a tilt of the whole window; these tests pin
both behaviours down on a walk whose answer is known.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import multiview as mv_bench  # noqa: E402
import world_metrics as wm  # noqa: E402

from core.motion_cameras import MotionCameras  # noqa: E402
from core.rotations import axis_angle_to_matrix  # noqa: E402
from tests.testdata.multiview_scenes import look_at_rig, ring  # noqa: E402

REST = np.array([[0.18, -0.5, 0], [-0.18, -0.5, 0], [0.25, -0.25, 0], [-0.25, -0.25, 0], [0.3, 0.0, 0],
                 [-0.3, 0.0, 0], [0.1, 0.0, 0], [-0.1, 0.0, 0], [0.1, 0.45, 0], [-0.1, 0.45, 0],
                 [0.1, 0.85, 0], [-0.1, 0.85, 0]])
"""(12, 3) limb joints of a standing person, metres, camera axes (y down)."""


def walk(T: int = 100, metres: float = 1.2) -> np.ndarray:
    """(T, 12, 3) a person walking ``metres`` across camera 0's view, 4 m away."""
    path = np.linspace(-metres / 2, metres / 2, T)
    return REST[None] + np.stack([path, np.zeros(T), np.full(T, 4.0)], -1)[:, None]


def leaning(truth: np.ndarray, rng) -> np.ndarray:
    """``truth`` with a fitted body's kind of error: each frame leans about 3 degrees off about its mid-hip, in
    a random direction, and every joint is off by about a centimetre more."""
    pelvis = wm.pelvis(truth)[:, None]
    R = axis_angle_to_matrix(rng.normal(scale=np.radians(3.0), size=(len(truth), 3)))
    return np.einsum("tij,tkj->tki", R, truth - pelvis) + pelvis + rng.normal(scale=0.01, size=truth.shape)


def test_w_mpjpe100_tilts_a_window_on_its_first_two_frames_pose_error() -> None:
    truth, far_truth = walk(), walk(metres=4.0)
    pred, far_pred = leaning(truth, np.random.default_rng(2)), leaning(far_truth, np.random.default_rng(2))
    unaligned = float(np.linalg.norm(pred - truth, axis=-1).mean())
    seen = wm.windowed_world_errors(pred, truth)
    assert seen["wa_mpjpe"] <= unaligned                          # a fit on the whole window only helps
    assert seen["w_mpjpe"] > 1.3 * unaligned, (seen, unaligned)   # two frames' lean tilts the other 98
    # the further the person walks, the more the two-frame tilt costs; the whole-window fit does not care
    far = wm.windowed_world_errors(far_pred, far_truth)
    assert far["w_mpjpe"] > 1.5 * seen["w_mpjpe"], (far, seen)
    assert abs(far["wa_mpjpe"] - seen["wa_mpjpe"]) < 0.1 * seen["wa_mpjpe"]
    # and a prediction that is the truth in another frame costs nothing once aligned
    R = axis_angle_to_matrix(np.array([0.1, -0.3, 0.2]))
    moved = wm.windowed_world_errors(1.3 * truth @ R.T + np.array([0.5, -0.2, 1.0]), truth)
    assert moved["w_mpjpe"] < 1e-9 and moved["wa_mpjpe"] < 1e-9


def _cameras(rig) -> MotionCameras:
    C = rig.num_cameras
    return MotionCameras(rig.K, rig.extrinsics(), rig.image_sizes, rig.names, ("",) * C, np.zeros(C), np.full(C, 30.0))


def test_world_mpjpe_judges_a_take_in_the_world_its_cameras_imply() -> None:
    rng = np.random.default_rng(1)
    true = look_at_rig(ring(3, 120.0))
    truth = walk() @ true.R[0].T + true.t[0]                       # camera 0's frame, metres
    noise = rng.normal(scale=0.02, size=truth.shape)
    expected = 1000 * float(np.linalg.norm(noise, axis=-1).mean())
    # fitted with the true rig: no alignment at all, so the error is the joints' own
    assert abs(mv_bench.world_mpjpe_mm(_cameras(true), truth + noise, truth, true) - expected) < 1e-6
    # a take 5 cm off everywhere is 50 mm off: nothing aligns it to the body
    assert abs(mv_bench.world_mpjpe_mm(_cameras(true), truth + [0.05, 0, 0], truth, true) - 50.0) < 1e-6
    # calibrated from the person: the rig is right but for its scale (0.8 of a metre per unit here), and the
    # take lives at that scale; the rigs' similarity gives back the same error
    E = true.extrinsics() @ np.linalg.inv(true.extrinsics()[0])
    E[:, :3, 3] *= 0.8
    small = MotionCameras(true.K, E, true.image_sizes, true.names, ("",) * 3, np.zeros(3), np.full(3, 30.0))
    assert abs(mv_bench.world_mpjpe_mm(small, 0.8 * (truth + noise), truth, true) - expected) < 1e-6
    # a camera placed wrongly moves the world the take is judged in
    E[1, :3, 3] += [0.0, 0.2, 0.0]
    off = MotionCameras(true.K, E, true.image_sizes, true.names, ("",) * 3, np.zeros(3), np.full(3, 30.0))
    assert mv_bench.world_mpjpe_mm(off, 0.8 * (truth + noise), truth, true) > expected + 20


def test_the_offset_free_world_error_takes_off_definition_offsets_but_not_a_shifted_body() -> None:
    """Each joint sitting a constant few centimetres from the rendered skeleton's (in the body's own frame, so
    it turns with the body) is a definition, not an error: ``offset_free`` takes it off. The whole body a few
    centimetres off in the world is an error, and stays one."""
    rng = np.random.default_rng(3)
    true = look_at_rig(ring(3, 120.0))
    truth = walk() @ true.R[0].T + true.t[0]
    noise = rng.normal(scale=0.01, size=truth.shape)
    expected = 1000 * float(np.linalg.norm(noise, axis=-1).mean())
    pattern = rng.normal(scale=0.04, size=(truth.shape[1], 3))
    pattern -= pattern.mean(0)
    defined = truth + noise + np.einsum("tki,jk->tji", wm.body_axes(truth), pattern)
    raw = mv_bench.world_mpjpe_mm(_cameras(true), defined, truth, true)
    free = mv_bench.world_mpjpe_mm(_cameras(true), defined, truth, true, offset_free=True)
    assert raw > expected + 20 and abs(free - expected) < 2.0, (raw, free, expected)
    shifted = truth + noise + [0.0, 0.05, 0.0]
    assert mv_bench.world_mpjpe_mm(_cameras(true), shifted, truth, true, offset_free=True) > 45.0


def test_the_world_breakdown_names_the_joints_whose_definitions_cost_and_the_bones_they_bend() -> None:
    """Shoulders marked 4 cm above the skeleton's in every frame (a landmark's definition, the kind MediaPipe's
    shoulders show on the rendered take): the breakdown puts that share of the world error on the shoulders,
    none on the other joints, reads the trunk's sides 4 cm long and the body's size and place as they are."""
    rng = np.random.default_rng(4)
    truth = walk()
    noise = rng.normal(scale=0.005, size=truth.shape)
    lifted = truth + noise
    lifted[:, :2] += 0.04 * wm.body_axes(truth)[:, 1][:, None]      # body_axes' rows: left, up, forward
    world = 1000 * float(np.linalg.norm(lifted - truth, axis=-1).mean())
    seen = mv_bench.world_breakdown(lifted, truth)
    assert seen["offsets_shoulders_mm"] > 0.8 * (world - 1000 * np.linalg.norm(noise, axis=-1).mean()), seen
    for group in ("elbows_wrists", "hips", "knees", "ankles"):
        assert abs(seen[f"offsets_{group}_mm"]) < 0.5, (group, seen)
    assert abs(seen["bones_trunk_side_mm"] - 40.0) < 3.0 and abs(seen["bones_shoulder_width_mm"]) < 3.0, seen
    assert abs(seen["root_mm"] - 1000 * 0.04 * 2 / 12) < 2.0, seen
    assert abs(seen["scale"] - 1.0) < 0.05, seen


def test_the_fit_is_judged_against_its_triangulated_input_on_the_same_joints_and_frames() -> None:
    """``triangulated_figures``: MediaPipe's triangulated landmarks and the fit, each over the joints and frames the
    landmarks triangulate (a joint two views did not agree on counts for neither), raw and with each joint's own
    constant offset in the body frame off (a landmark 3 cm off its joint in every frame is a definition)."""
    rng = np.random.default_rng(3)
    truth = walk(60)
    landmarks = truth + np.array([0.0, -0.03, 0.0]) + rng.normal(0.0, 0.005, truth.shape)  # 3 cm up, 5 mm noise
    landmarks[10:20, 4] = np.nan                                                           # a wrist not triangulated
    fitted = truth.copy()
    fitted[10:20, 4] += 1.0                                                                # far off only there
    figures = mv_bench.triangulated_figures(landmarks, fitted, truth)
    assert 29.0 < figures["world_triangulated_mm"] < 32.0, figures
    assert figures["world_triangulated_offset_free_mm"] < 10.0, figures
    assert figures["world_fit_where_triangulated_mm"] < 1e-6, figures                    # the wrist's frames left out
    assert figures["world_fit_where_triangulated_offset_free_mm"] < 1e-6, figures
