"""`python -m core capture-multi` on two rendered views (bench/groundtruth/multicam.py): one take, both cameras."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.body.mannequin import forward_kinematics
from core.motion import read_motion
from core.multiview.rig import load_rig
from core.video import default_intrinsics
from core.skeleton import JOINT_INDEX, LIMB_JOINTS

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from groundtruth.multicam import MultiViewSpec, Phone, prepare_multiview  # noqa: E402

TWO_PHONES = MultiViewSpec("mv_test_two", "01_03.bvh", start_seconds=15.0, seconds=1.6, clap_seconds=0.9, phones=(
    Phone(20.0, 1.5, 60.0, 320, 240, 30.0, 0.0),
    Phone(110.0, 1.0, 50.0, 240, 320, 25.0, 0.4, 0.7),
))
"""Two phones 90 degrees apart, another size, orientation and frame rate, the second started 0.4 s later."""


def run_engine(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)


@pytest.fixture(scope="module")
def two_views(engine_python: str):
    return prepare_multiview(TWO_PHONES, python=engine_python, log=lambda *_: None)


@pytest.fixture(scope="module")
def captured(two_views, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("multi") / "take.npz"
    proc = run_engine("capture-multi", *map(str, two_views.videos), "--out", str(out), "--offsets", "0,0.4",
                      "--calibration", str(two_views.rig_path), "--no-cleanup", "--progress", "json")
    return proc, out


def test_two_views_make_one_take_with_both_cameras(two_views, captured) -> None:
    proc, out = captured
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[-1]["event"] == "done" and events[-1]["cameras"] == 2
    motion = read_motion(out)
    assert motion.num_frames == int(two_views.timing["frames"][0])  # camera 0's frames are the take's
    cams = motion.cameras
    assert cams is not None and cams.num_cameras == 2
    assert cams.videos == tuple(str(v.resolve()) for v in two_views.videos)
    np.testing.assert_allclose(cams.time_offsets, [0.0, 0.4])
    np.testing.assert_allclose(cams.fps, [30.0, 25.0])
    np.testing.assert_array_equal(cams.image_size, [[320, 240], [240, 320]])
    rig = load_rig(two_views.rig_path)
    true_rel = rig.extrinsics()[1] @ np.linalg.inv(rig.extrinsics()[0])
    np.testing.assert_allclose(cams.extrinsics[1] @ np.linalg.inv(cams.extrinsics[0]), true_rel, atol=1e-6)


def test_the_second_view_puts_the_body_at_its_true_depth(two_views, captured) -> None:
    """On camera 0's frames both phones film, in camera 0's frame: limbs within 10 cm of the truth (mean, joint
    definitions differ by a few cm), the mid-hip within 6 cm and its depth within 5 cm. Camera 0 alone
    (``capture``, true field of view) is off by 13, 11 and 8 cm on this clip."""
    proc, out = captured
    assert proc.returncode == 0, proc.stderr
    motion = read_motion(out)
    pos, _ = forward_kinematics(motion.poses.astype(np.float64), motion.rest_joints, motion.trans)
    limbs = pos[:, [JOINT_INDEX[n] for n in LIMB_JOINTS]]
    truth = two_views.views[0].truth["limb_cam"]
    both = slice(int(np.ceil(0.4 * 30)), None)
    assert float(np.linalg.norm(limbs[both] - truth[both], axis=-1).mean()) < 0.10
    hips = np.linalg.norm(limbs[both, 6:8].mean(1) - truth[both, 6:8].mean(1), axis=-1)
    assert float(hips.mean()) < 0.06
    depth = np.abs(limbs[both, :, 2].mean(1) - truth[both, :, 2].mean(1))
    assert float(depth.mean()) < 0.05


def test_cameras_calibrated_from_the_person_are_refined_with_the_body(two_views, tmp_path: Path) -> None:
    """Without a rig file the cameras come from the person, and the fit refines camera 2 with the body and says
    how far it moved (the four-phone take's figures: ``test_multiview_calibrate_take``); with one
    (``test_two_views_make_one_take_with_both_cameras``) the cameras stay exactly as given."""
    out = tmp_path / "take.npz"
    saved = tmp_path / "rig.json"
    proc = run_engine("capture-multi", *map(str, two_views.videos), "--out", str(out), "--offsets", "0,0.4",
                      "--no-cleanup", "--progress", "json", "--save-calibration", str(saved))
    assert proc.returncode == 0, proc.stderr
    events = list(map(json.loads, proc.stdout.splitlines()))
    said = [e["message"] for e in events if e["event"] == "stage"]
    assert any("calibrating 2 cameras from the person" in m for m in said), said
    assert any(m.startswith("camera 2 refined with the body: moved") for m in said), said
    cams = read_motion(out).cameras
    assert cams.num_cameras == 2
    # The rendered videos state no lens: with two cameras the guess stays (refined, the first phone's right guess
    # went 15% off and the body 39 cm; core.capture_multi.focal_refinement), and the user is told.
    assert not any("focal lengths" in m for m in said), said
    warned = [e["message"] for e in events if e["event"] == "warning"]
    assert any(m.startswith("videos 1, 2 do not state their lens") and "--fov" in m for m in warned), warned
    np.testing.assert_allclose(cams.intrinsics, [default_intrinsics(320, 240), default_intrinsics(240, 320)])
    # The saved rig says its lenses were guessed, and a later take that reuses it is told so too.
    from types import SimpleNamespace

    from core.capture_multi import MultiCaptureSettings, _rig
    from core.multiview.rig import load_rig
    from core.pose_stage import Reporter

    rig = load_rig(saved)
    assert rig.lenses == ("guessed", "guessed")
    later: list[dict] = []
    _rig(MultiCaptureSettings(calibration=str(saved)), rig, list(two_views.videos),
         [SimpleNamespace(image_size=tuple(size)) for size in rig.image_sizes], list(rig.K), Reporter(later.append))
    assert any("kept the 60 degree guess" in e["message"] for e in later if e["event"] == "warning"), later


def test_bad_multi_view_input_fails_before_the_pose_stage(two_views, tmp_path: Path) -> None:
    videos = list(map(str, two_views.videos))
    one = run_engine("capture-multi", videos[0], "--out", str(tmp_path / "a.npz"))
    assert one.returncode == 1 and "2 to 8 videos" in one.stderr
    offsets = run_engine("capture-multi", *videos, "--out", str(tmp_path / "b.npz"), "--offsets", "0,0.4,1")
    assert offsets.returncode == 1 and "3 values for 2 videos" in offsets.stderr
    rig = run_engine("capture-multi", videos[0], videos[0], videos[1], "--out", str(tmp_path / "c.npz"),
                     "--calibration", str(two_views.rig_path))
    assert rig.returncode == 1 and "holds 2 cameras for 3 videos" in rig.stderr
    # The same cameras in another tool's format (Pose2Sim/anipose TOML) are read as well, and checked the same.
    from core.multiview.calibration_files import write_calibration
    from core.multiview.rig import load_rig

    toml = write_calibration(load_rig(two_views.rig_path), tmp_path / "rig.toml")
    other = run_engine("capture-multi", videos[0], videos[0], videos[1], "--out", str(tmp_path / "d.npz"),
                       "--calibration", str(toml))
    assert other.returncode == 1 and "holds 2 cameras for 3 videos" in other.stderr
    assert "Traceback" not in one.stderr + offsets.stderr + rig.stderr + other.stderr
    assert not list(tmp_path.glob("*.npz"))


def test_everyone_is_refused_before_any_work(tmp_path: Path) -> None:
    """``--people all`` is a one-video option: capture-multi says so at once, and writes nothing."""
    from core.capture import CaptureSettings
    from core.capture_multi import MultiCaptureSettings, capture_multi
    from core.errors import MocapError

    out = tmp_path / "take.npz"
    with pytest.raises(MocapError, match="--people all works with one video"):
        capture_multi([tmp_path / "a.mp4", tmp_path / "b.mp4"], out,
                      MultiCaptureSettings(capture=CaptureSettings(people="all")))
    assert not out.exists()


def test_a_calibration_from_the_person_is_told_a_frame_of_timing_error_only_where_the_motion_synced_few_cameras() -> None:
    from core.capture_multi import MOTION_SYNC_TIMING_CAMERAS, calibration_timing_error
    from core.landmarks import PoseSequence

    seqs = [PoseSequence.empty(10, 15.0, (320, 240)) for _ in range(4)]  # analysed at 15 fps (stride 2 of 30)
    assert calibration_timing_error(None, seqs[:2]) == pytest.approx(1.0 / 15.0)
    assert calibration_timing_error([0.0, 0.4], seqs[:2]) == 0.0  # offsets given or from the sound: exact
    assert calibration_timing_error(None, seqs[:MOTION_SYNC_TIMING_CAMERAS + 1]) == 0.0  # 4 cameras: worse told (README)


def test_the_focal_lengths_the_videos_do_not_state_are_refined_from_four_cameras_on() -> None:
    """With four or more cameras the calibration from the person refines the focal lengths it only guessed (the
    rendered four-phone take without lenses: 43.9 -> 21.4 cm, its world MPJPE 339 -> 108 mm), never a stated
    one; with two or three it keeps the guess (``focal_refinement``'s figures)."""
    from core.capture_multi import FOCAL_REFINEMENT_CAMERAS, focal_refinement

    assert FOCAL_REFINEMENT_CAMERAS == 4
    assert focal_refinement([True, False, True, True]) == [True, False, True, True]
    assert focal_refinement([True] * 5) == [True] * 5
    assert focal_refinement([True, True, True]) == [False] * 3
    assert focal_refinement([True, True]) == [False, False]
