"""The world's up direction: scene lines, posture, fallbacks, the floor it sets, and the motion file keys."""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.body.mannequin import forward_kinematics, mesh, rest_joints
from core.cleanup import CleanupSettings, clean_motion
from core.cleanup.floor import estimate_floor, reexpress
from core.gravity import (
    FrameSampler,
    Gravity,
    angle_degrees,
    estimate_gravity,
    gravity_from_lines,
    gravity_from_pictures,
    pitch_roll_from_up,
    up_from_pitch_roll,
)
from core.gravity.figure import figure_up
from core.gravity.lines import detect_segments, interpretation_normals, vote_vertical
from core.gravity.take import apply_gravity, known_up
from core.motion import FORMAT_VERSION, Motion, read_motion, write_motion
from core.video import default_intrinsics, iter_frames, open_video
from tests.testdata.room import K_ROOM, blank_picture, camera_from_world, render_floor, render_room

ROOT = Path(__file__).resolve().parents[2]
ANNOTATION = ROOT / "tests" / "testdata" / "demo_verticals.json"
DEMO = Path(os.environ.get("BLENDER_MOCAP_CACHE", Path.home() / ".local/share/blender-mocap/cache")) / "demo.mp4"


def grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pitch_and_roll_round_trip_and_match_the_camera_they_name(dtype) -> None:
    for pitch, roll in ((0.0, 0.0), (20.0, 5.0), (-35.0, -15.0), (10.0, 14.0), (-5.0, 0.0)):
        up = up_from_pitch_roll(pitch, roll).astype(dtype)
        assert np.linalg.norm(up) == pytest.approx(1.0, abs=1e-6)
        assert pitch_roll_from_up(up) == pytest.approx((pitch, roll), abs=1e-4)
        # A camera pitched down sees the world's up (world +Z) there, in its OpenCV frame.
        np.testing.assert_allclose(camera_from_world(pitch, roll, 30.0) @ [0.0, 0.0, 1.0], up, atol=1e-6)
    assert up_from_pitch_roll(30.0, 0.0)[2] < 0  # looking down: the up leans away from the view
    assert up_from_pitch_roll(0.0, 10.0)[0] < 0  # right side down: the up leans to the picture's left


@pytest.mark.parametrize("pitch,roll", [(0.0, 0.0), (20.0, 5.0), (-10.0, -12.0), (35.0, 15.0), (-5.0, 8.0)])
def test_a_rendered_room_gives_its_cameras_up_within_half_a_degree(pitch: float, roll: float) -> None:
    frames = [(grey(render_room(pitch, roll, seed=s)), K_ROOM, None) for s in range(3)]
    gravity = gravity_from_lines(frames)
    assert gravity is not None and gravity.source == "scene lines"
    assert angle_degrees(gravity.up, up_from_pitch_roll(pitch, roll)) < 0.5
    assert gravity.sigma_degrees < 1.5
    assert not gravity.notes  # the camera stands still
    pictures = gravity_from_pictures(frames)  # what a capture measures: the floor's level edges join the verticals
    assert pictures is not None and pictures.source.startswith("scene lines")
    assert angle_degrees(pictures.up, up_from_pitch_roll(pitch, roll)) < 0.5


K_FLOOR = K_ROOM * [[0.5], [0.5], [1.0]]
"""A 640 x 360 picture's intrinsics, the room's lens."""


@pytest.mark.parametrize("pitch,roll", [(0.0, 0.0), (20.0, 5.0), (12.0, -8.0), (35.0, 15.0)])
def test_a_tiled_floor_without_verticals_gives_the_cameras_up_from_its_level_lines(pitch: float, roll: float) -> None:
    frames = [(grey(render_floor(pitch, roll, K=K_FLOOR, size=(640, 360))), K_FLOOR, None)]
    gravity = gravity_from_pictures(frames)
    # At 35 degrees down the floor's receding lines outvote any vertical: the vertical vote takes one of them
    # (90 degrees off); the ground's two families show it is level.
    assert gravity is not None and gravity.source == "ground lines"
    assert angle_degrees(gravity.up, up_from_pitch_roll(pitch, roll)) < 1.0
    assert gravity.sigma_degrees < 2.0


def test_a_floor_seen_at_a_grazing_angle_or_no_floor_gives_no_ground_lines() -> None:
    grazing = [(grey(render_floor(-10.0, -12.0, K=K_FLOOR, size=(640, 360))), K_FLOOR, None)]
    assert gravity_from_pictures(grazing) is None  # its far tiles alias into false families (9 degrees off)
    assert gravity_from_pictures([(grey(blank_picture(0)), K_ROOM, None)]) is None


def test_lines_on_the_person_are_masked_out() -> None:
    """A box over half the picture takes its segments away: fewer lines vote."""
    g = grey(render_room(10.0, 3.0))
    n_all, l_all = interpretation_normals(detect_segments(g), K_ROOM)
    masked = detect_segments(g, np.array([[0.0, 0.0, 640.0, 720.0]]))
    assert 0 < len(masked) < len(n_all)
    assert (np.minimum(masked[:, 0], masked[:, 2]) > 640.0).all()
    assert vote_vertical(n_all, l_all) is not None


def test_a_moving_camera_is_noticed() -> None:
    frames = [(grey(render_room(p, r, seed=i)), K_ROOM, None)
              for i, (p, r) in enumerate([(0, 0), (5, 0), (12, 3), (18, 6), (25, 8), (30, 10)])]
    gravity = gravity_from_lines(frames)
    assert gravity is not None
    assert any("camera moves" in note for note in gravity.notes)
    assert gravity.sigma_degrees > 3.0
    # A pan keeps the camera's pitch and roll: it is noticed, and the up stays right.
    pan = [(grey(render_room(15.0, -4.0, yaw_degrees=5.0 + 4 * i, seed=i)), K_ROOM, None) for i in range(4)]
    gravity = gravity_from_lines(pan)
    assert gravity is not None and any("camera moves" in note for note in gravity.notes)
    assert angle_degrees(gravity.up, up_from_pitch_roll(15.0, -4.0)) < 0.5


def _standing_take(pitch: float, roll: float, frames: int = 90, seed: int = 0) -> Motion:
    """The mannequin standing still (a little sway) 3.5 m in front of a pitched and rolled camera, camera frame."""
    rng = np.random.default_rng(seed)
    rest = rest_joints()
    verts, _, _ = mesh()
    poses = np.zeros((frames, 55, 3))
    poses[:, 0] = [np.pi / 2, 0.0, 0.0]  # model Y up -> world Z up, facing -Y (the camera looks along +Y)
    poses[:, 16, 2], poses[:, 17, 2] = -1.2, 1.2  # arms down
    poses[:, [1, 2], 0] += rng.normal(0, 0.01, (frames, 2))
    trans = np.zeros((frames, 3))
    pos, _ = forward_kinematics(poses, rest, trans)
    trans[:, 2] = -(pos[:, [7, 8, 10, 11], 2].min() - 0.0)
    trans[:, 1] = 3.5
    R = camera_from_world(pitch, roll, 0.0)
    motion = Motion(poses=poses.reshape(frames, -1).astype(np.float32), trans=trans.astype(np.float32),
                    betas=np.zeros(5, np.float32), fps=30.0, frame_indices=np.arange(frames),
                    confidence=np.ones(frames, np.float32), bridged=np.zeros(frames, bool),
                    reprojection_error=np.zeros(frames, np.float32), expression=np.zeros((frames, 0), np.float32),
                    camera_intrinsics=K_ROOM, camera_extrinsics=np.eye(4), image_size=np.array([1280, 720]),
                    world_up=np.array([0.0, 0.0, 1.0]), body_model="mannequin", rest_joints=rest, v_template=verts)
    reexpress(motion, R, np.array([0.0, 0.0, 1.4]))  # into the frame of a camera 1.4 m up
    motion.camera_extrinsics = np.eye(4)
    motion.world_up = np.array([0.0, -1.0, 0.0])
    return motion


def _joints(motion: Motion) -> np.ndarray:
    return forward_kinematics(motion.poses, motion.rest_joints, motion.trans)[0]


def test_without_structure_the_posture_answers_with_a_larger_sigma() -> None:
    pitch, roll = 22.0, -7.0
    take = _standing_take(pitch, roll)
    blank = [(grey(blank_picture(s)), K_ROOM, None) for s in range(4)]
    assert gravity_from_lines(blank) is None  # texture alone votes for nothing
    gravity = estimate_gravity(frames=blank, joints=_joints(take), fps=30.0)
    assert gravity.source == "posture"
    assert angle_degrees(gravity.up, up_from_pitch_roll(pitch, roll)) < 1.0
    room = estimate_gravity(frames=[(grey(render_room(pitch, roll)), K_ROOM, None)], joints=_joints(take))
    assert room.source == "scene lines and posture"
    assert gravity.sigma_degrees > 2.0 * room.sigma_degrees
    flipped = _joints(take) * [1.0, -1.0, 1.0]  # the same body fitted upside down is no evidence of the up
    assert estimate_gravity(joints=flipped).source.startswith("level camera")
    nothing = estimate_gravity(frames=blank)
    assert nothing.source.startswith("level camera") and nothing.sigma_degrees >= 10.0
    np.testing.assert_allclose(nothing.up, [0.0, -1.0, 0.0])


def test_a_standing_person_on_a_tilted_camera_stands_on_a_level_floor_within_a_degree() -> None:
    pitch, roll = 25.0, 8.0
    take = _standing_take(pitch, roll)
    apply_gravity(take, estimate_gravity(joints=_joints(take), fps=take.fps))
    assert take.up_source == "posture"
    result = clean_motion(take, CleanupSettings(smoothing_body=0.0))
    # The floor's normal in the camera frame is the true up: the camera's tilt is in the take.
    E = result.motion.camera_extrinsics
    floor_up_in_camera = E[:3, :3] @ [0.0, 0.0, 1.0]
    assert angle_degrees(floor_up_in_camera, up_from_pitch_roll(pitch, roll)) < 1.0
    assert pitch_roll_from_up(floor_up_in_camera) == pytest.approx((pitch, roll), abs=1.0)
    assert result.quality["up_uncertainty_degrees"] == pytest.approx(take.up_sigma_degrees)


def test_the_users_pitch_and_roll_and_level_camera_win() -> None:
    take = _standing_take(20.0, 0.0)
    given = estimate_gravity(joints=_joints(take), pitch_degrees=-10.0, roll_degrees=4.0)
    assert pitch_roll_from_up(given.up) == pytest.approx((-10.0, 4.0)) and given.source == "pitch and roll as given"
    level = estimate_gravity(joints=_joints(take), level_camera=True)
    np.testing.assert_allclose(level.up, [0.0, -1.0, 0.0])
    half = estimate_gravity(joints=_joints(take), roll_degrees=3.0)
    assert pitch_roll_from_up(half.up) == pytest.approx((20.0, 3.0), abs=1.0)
    assert "roll as given" in half.source and "posture" in half.source


def test_the_floor_never_ends_past_its_tilt_cap() -> None:
    """Regression: the RANSAC candidate was capped at 25 degrees, the least-squares refinement was not."""
    rng = np.random.default_rng(0)
    tilt = np.radians(30.0)
    normal = np.array([np.sin(tilt), 0.0, np.cos(tilt)])
    a, b = np.array([np.cos(tilt), 0.0, -np.sin(tilt)]), np.array([0.0, 1.0, 0.0])
    uv = rng.uniform(-1.5, 1.5, (400, 2))
    points = uv[:, :1] * a + uv[:, 1:] * b + rng.normal(0, 0.004, (400, 1)) * normal
    floor = estimate_floor(points, np.zeros(400), np.array([0.0, 0.0, 1.0]))
    assert np.degrees(np.arccos(floor.normal @ [0.0, 0.0, 1.0])) <= 25.0 + 1e-6
    # A confident up is the floor's normal: the feet give only its height.
    confident = estimate_floor(points, np.zeros(400), np.array([0.0, 0.0, 1.0]), max_tilt_deg=0.0)
    np.testing.assert_allclose(confident.normal, [0.0, 0.0, 1.0])


def test_an_uncertain_ground_says_so() -> None:
    take = _standing_take(0.0, 0.0)
    apply_gravity(take, Gravity(up=np.array([0.0, -1.0, 0.0]), sigma_degrees=15.0, source="level camera"))
    result = clean_motion(take)
    assert result.quality["up_uncertainty_degrees"] == 15.0
    assert any("ground is uncertain" in w and "--camera-pitch" in w for w in result.warnings)
    sure = _standing_take(0.0, 0.0)
    apply_gravity(sure, Gravity(up=np.array([0.0, -1.0, 0.0]), sigma_degrees=0.8, source="scene lines"))
    assert not clean_motion(sure).warnings


def test_motion_files_v2_carry_the_up_source_and_v1_files_still_read(tmp_path: Path) -> None:
    take = _standing_take(10.0, 0.0, frames=5)
    apply_gravity(take, Gravity(up=up_from_pitch_roll(10.0, 0.0), sigma_degrees=1.25, source="scene lines"))
    back = read_motion(write_motion(tmp_path / "v2.npz", take))
    assert FORMAT_VERSION >= 2  # v3 added the camera list; the up keys stay
    assert (back.up_source, back.up_sigma_degrees) == ("scene lines", 1.25)
    np.testing.assert_allclose(back.world_up, up_from_pitch_roll(10.0, 0.0))
    with np.load(tmp_path / "v2.npz") as npz:
        v1 = {k: npz[k] for k in npz.files if k not in ("up_source", "up_sigma_degrees")}
    v1["format_version"] = np.array(1)
    np.savez(tmp_path / "v1.npz", **v1)
    old = read_motion(tmp_path / "v1.npz")
    assert (old.up_source, old.up_sigma_degrees) == ("", None)
    np.testing.assert_allclose(old.poses, back.poses)


def annotated_up(K: np.ndarray) -> np.ndarray:
    """The up implied by the hand-marked vertical edges of the demo (their vanishing direction, all frames)."""
    data = json.loads(ANNOTATION.read_text(encoding="utf-8"))
    segments = np.concatenate([np.asarray(f["segments"], np.float64) for f in data["frames"]])
    n, _ = interpretation_normals(segments, K)
    v = np.linalg.eigh(n.T @ n)[1][:, 0]
    return -v if v[1] > 0 else v


def test_the_hand_annotation_is_consistent() -> None:
    data = json.loads(ANNOTATION.read_text(encoding="utf-8"))
    assert len(data["frames"]) == 3 and all(len(f["segments"]) >= 6 for f in data["frames"])
    K = default_intrinsics(1768, 994, 60.0)
    n, _ = interpretation_normals(np.asarray(data["frames"][0]["segments"], np.float64), K)
    residual = np.degrees(np.arcsin(np.abs(n @ annotated_up(K))))
    assert residual.max() < 1.0  # the marked edges agree on one vertical


@pytest.mark.skipif(not DEMO.is_file(), reason="the demo clip is fetched by dev.py into the cache")
def test_the_demo_up_is_within_three_degrees_of_the_hand_annotation() -> None:
    info = open_video(DEMO)
    sampler = FrameSampler(info.frame_count, info.width)
    for _ in sampler.tap(iter_frames(info, max_size=960)):
        pass
    K = default_intrinsics(info.width, info.height, 60.0)
    frames = [(g, np.diag([s, s, 1.0]) @ K, None) for _, g, s in sampler.frames]
    gravity = gravity_from_lines(frames)
    assert gravity is not None and gravity.source == "scene lines"
    assert angle_degrees(gravity.up, annotated_up(K)) < 3.0
    assert not gravity.notes  # the camera stands still, though people walk by
    pictures = gravity_from_pictures(frames)  # the grass and the paths give no ground lines that mislead
    assert pictures is not None and angle_degrees(pictures.up, annotated_up(K)) < 3.0


def test_person_boxes_cover_the_seen_landmarks_and_grow() -> None:
    from core.gravity import person_boxes

    kp = np.zeros((2, 4, 3))
    kp[0] = [[100, 200, 1.0], [300, 600, 1.0], [5000, 5000, 0.0], [200, 400, 0.9]]  # one unseen far away
    boxes = person_boxes(kp)
    x0, y0, x1, y1 = boxes[0]
    assert x0 < 100 and y0 < 200 and x1 > 300 and y1 > 600 and x1 < 1000
    assert np.isnan(boxes[1]).all()  # nobody in that frame


def _room_with_floorboards(pitch: float, roll: float, seed: int = 0) -> np.ndarray:
    """The rendered room with floorboards running away from the camera: many long lines, all horizontal."""
    image = render_room(pitch, roll, seed=seed)
    R = camera_from_world(pitch, roll, 10.0)
    centre = np.array([0.3, 0.0, 1.6])
    for x in np.arange(-3.8, 4.0, 0.25):
        pa, pb = R @ (np.array([x, 0.8, 0.0]) - centre), R @ (np.array([x, 7.0, 0.0]) - centre)
        ua, ub = (K_ROOM @ pa)[:2] / pa[2], (K_ROOM @ pb)[:2] / pb[2]
        cv2.line(image, tuple(int(v) for v in np.round(ua * 16)), tuple(int(v) for v in np.round(ub * 16)),
                 (30, 30, 30), 3, cv2.LINE_AA, shift=4)
    return image


def test_floorboards_running_away_from_a_camera_looking_down_are_not_taken_for_verticals() -> None:
    # Looking down 35 deg, lines running away from the camera vanish 55 deg from the picture's up, inside the
    # cone a vertical may take; they outnumber the walls' verticals (the 91 deg error on tilt_room_jumps_high).
    pitch, roll = 35.0, 10.0
    frames = [(grey(_room_with_floorboards(pitch, roll, seed=s)), K_ROOM, None) for s in range(3)]
    gravity = gravity_from_lines(frames)
    assert gravity is not None
    assert angle_degrees(gravity.up, up_from_pitch_roll(pitch, roll)) < 1.0


def _figure_walk(pitch: float, roll: float, path: np.ndarray, seed: int = 0,
                 lean_degrees: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(camera-frame joints (T, J, 3), MediaPipe-ordered landmarks (T, 33, 3) pixels) of the upright mannequin
    moved along ``path`` (T, 2) world x, y metres, seen by a camera 1.6 m up, with 1.5 px landmark noise;
    ``lean_degrees``: the body leans that far towards +y (away from the camera) about its feet."""
    rng = np.random.default_rng(seed)
    frames = len(path)
    poses = np.zeros((frames, 55, 3))
    poses[:, 0] = [np.pi / 2 + np.radians(lean_degrees), 0.0, 0.0]
    poses[:, 16, 2], poses[:, 17, 2] = -1.2, 1.2
    world, _ = forward_kinematics(poses, rest_joints(), np.zeros((frames, 3)))
    world[..., :2] += path[:, None]
    world[..., 2] -= world[:, [7, 8, 10, 11], 2].min(axis=1, keepdims=True)
    cam = (world - [0.0, 0.0, 1.6]) @ camera_from_world(pitch, roll, 0.0).T
    uv = cam @ K_ROOM.T
    uv = uv[..., :2] / uv[..., 2:]
    kp = np.zeros((frames, 33, 3))
    for mp, smplx in ((27, 7), (28, 8), (11, 16), (12, 17), (23, 1), (24, 2)):
        kp[:, mp, :2] = uv[:, smplx] + rng.normal(0.0, 1.5, (frames, 2))
        kp[:, mp, 2] = 0.95
    return cam, kp


def test_a_person_walking_in_a_studio_gives_the_up_from_their_figure_and_standing_still_does_not() -> None:
    pitch, roll = 18.0, -6.0
    t = np.linspace(0.0, 1.0, 120)  # 4 s walking a zigzag across the picture, 1.5 m/s
    path = np.stack([-2.0 + 4.0 * t, 4.0 + 1.5 * np.sin(2 * np.pi * t)], axis=1)
    cam, kp = _figure_walk(pitch, roll, path)
    blank = [(grey(blank_picture(s)), K_ROOM, None) for s in range(3)]
    gravity = estimate_gravity(frames=blank, joints=cam, fps=30.0, keypoints_2d=kp, K=K_ROOM, image_size=1280.0)
    assert gravity.source == "upright figure and posture"  # the figure leads; walking is upright posture too
    error = angle_degrees(gravity.up, up_from_pitch_roll(pitch, roll))
    assert error < 1.0
    assert error < gravity.sigma_degrees < 10.0
    # On one spot every segment lies in nearly the same plane: the pitch is not measured, so no answer.
    still, kp_still = _figure_walk(pitch, roll, np.tile([[0.3, 4.0]], (120, 1)))
    alone = estimate_gravity(joints=still, fps=30.0, keypoints_2d=kp_still, K=K_ROOM, image_size=1280.0)
    assert "upright figure" not in alone.source


def test_a_figure_walking_along_the_line_of_sight_with_a_lean_does_not_claim_a_sure_up() -> None:
    """Walking towards and away from the camera, every frame's segment lies in nearly one plane: the
    direction along the line of sight rests on tiny differences between the planes, and a lean the
    person keeps (2 degrees, forward) moves it by tens of degrees. The upright figure used to report
    that with a 3 degree uncertainty (40 degrees off on the CMU walk of the benchmark); now the shared
    lean's effect counts in the uncertainty, so the estimate is refused or honest."""
    pitch, roll = 20.0, 4.0
    t = np.linspace(0.0, 1.0, 120)
    path = np.stack([0.05 * np.sin(2 * np.pi * t), 3.0 + 3.0 * t], axis=1)  # 4 s straight away
    cam, kp = _figure_walk(pitch, roll, path, lean_degrees=2.0)
    found = figure_up(kp, K_ROOM, cam, 30.0, 1280.0)
    if found is not None:
        assert angle_degrees(found[0], up_from_pitch_roll(pitch, roll)) < found[1]


def test_a_person_walking_on_the_spot_of_a_tilted_camera_gives_the_up_from_their_posture() -> None:
    """A walk has no still frames, but its stance leg is straight and its trunk upright over the legs: the
    posture answers (the level-camera guess was 23 degrees off on the bench's studio walk)."""
    from core.gravity.posture import posture_up
    from tests.testdata.walk import synthetic_walk, to_camera

    walk, _ = synthetic_walk(frames=120)
    take = to_camera(walk, tilt_deg=25.0)
    joints, _ = forward_kinematics(take.poses, take.rest_joints, take.trans)
    found = posture_up(joints, 30.0)
    assert found is not None
    up, sigma, frames = found
    assert frames >= 30
    error = angle_degrees(up, up_from_pitch_roll(25.0, 0.0))
    assert error < 6.0 and error < 2.0 * sigma  # the stances of this walk lean 5.6 deg on average
    gravity = estimate_gravity(frames=[(grey(blank_picture(0)), K_ROOM, None)], joints=joints, fps=30.0)
    assert gravity.source == "posture"


def test_the_up_known_before_the_fit_is_the_users_or_the_lines_never_a_guess() -> None:
    """The fit reads the view's elevation from an up known before it (core.fit.lifting.tip_to_elevation):
    the user's level camera or pitch and roll, or the scene lines; without them, None (the posture needs
    the fitted body, and the level camera's guess is no knowledge)."""
    from core.gravity.take import known_up

    lines = Gravity(up=up_from_pitch_roll(25.0, 4.0), sigma_degrees=0.8, source="scene lines")
    assert known_up(None) is None
    np.testing.assert_allclose(known_up(lines), lines.up)
    np.testing.assert_allclose(known_up(None, pitch_degrees=10.0, roll_degrees=-5.0), up_from_pitch_roll(10.0, -5.0))
    np.testing.assert_allclose(known_up(lines, level_camera=True), up_from_pitch_roll(0.0, 0.0), atol=1e-12)
    assert pitch_roll_from_up(known_up(lines, roll_degrees=0.0)) == pytest.approx((25.0, 0.0), abs=1e-6)
    assert known_up(None, pitch_degrees=10.0) is None


def test_each_source_answers_on_its_own_before_they_are_fused() -> None:
    """``take_sources`` gives what ``bench gravity`` holds against the truth: every source that answers, in
    order of trust, each with its own up and sigma; fused, they are the take's up. A standing person seen by a
    camera pitched 22 degrees down and rolled -7 in a room: the lines within half a degree, the posture
    within one with the larger sigma; in a blank picture the posture alone."""
    from core.gravity import fuse
    from core.gravity.take import take_gravity, take_sources

    pitch, roll = 22.0, -7.0
    truth = up_from_pitch_roll(pitch, roll)
    take = _standing_take(pitch, roll)
    take.keypoints_2d = None  # the figure needs the landmarks: lines and posture only
    take.camera_intrinsics = K_ROOM
    lines = gravity_from_lines([(grey(render_room(pitch, roll, seed=s)), K_ROOM, None) for s in range(3)])
    sources = take_sources(take, lines)
    assert [s.source for s in sources] == ["scene lines", "posture"]
    assert angle_degrees(sources[0].up, truth) < 0.5 and angle_degrees(sources[1].up, truth) < 1.0
    assert sources[1].sigma_degrees > sources[0].sigma_degrees
    fused = take_gravity(take, lines)
    np.testing.assert_allclose(fused.up, fuse(sources).up)
    assert fused.source == "scene lines and posture"
    alone = take_sources(take, None)
    assert [s.source for s in alone] == ["posture"]
    np.testing.assert_allclose(take_gravity(take, None).up, alone[0].up)


def test_the_fit_tips_the_body_by_an_up_the_scenes_verticals_gave_not_by_the_ground_lines_alone() -> None:
    up = up_from_pitch_roll(20.0, 5.0)
    ground = Gravity(up=up, sigma_degrees=1.5, source="ground lines")
    assert known_up(ground) is None  # open ground from near level: MediaPipe's body tips far enough already
    both = Gravity(up=up, sigma_degrees=0.8, source="scene lines and ground lines")
    np.testing.assert_allclose(known_up(both), up)
    np.testing.assert_allclose(known_up(ground, pitch_degrees=20.0, roll_degrees=5.0), up, atol=1e-9)
