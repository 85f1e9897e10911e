"""The accuracy benchmark's ground truth and metrics (bench/groundtruth/, bench/accuracy.py).

BVH parsing and forward kinematics are checked against Blender's own BVH
importer (bpy, in a subprocess) on a synthetic file with both channel orders
and on frames of the real CMU clip; the metrics on synthetic data with a known
answer.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import accuracy  # noqa: E402
import groundtruth  # noqa: E402

# Two channel orders (CMU's ZYX and the boxing file's ZXY), an end site, a
# chain of three, root translation and a zero-offset joint, as in the real files.
SYNTHETIC_BVH = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
  JOINT LHip
  {
    OFFSET 0 0 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT LeftUpLeg
    {
      OFFSET 10 -3 1
      CHANNELS 3 Zrotation Yrotation Xrotation
      JOINT LeftLeg
      {
        OFFSET 1 -40 0
        CHANNELS 3 Zrotation Xrotation Yrotation
        End Site
        {
          OFFSET 0 -42 5
        }
      }
    }
  }
  JOINT Spine
  {
    OFFSET 0 20 -2
    CHANNELS 3 Zrotation Yrotation Xrotation
    End Site
    {
      OFFSET 0 30 0
    }
  }
}
MOTION
Frames: 4
Frame Time: 0.0083333
"""


def _synthetic_bvh_text() -> str:
    rng = np.random.default_rng(3)
    rows = []
    for f in range(4):
        row = np.concatenate([[5.0 * f, 90.0 + f, -3.0 * f], rng.uniform(-170, 170, 3 * 5)])
        rows.append(" ".join(f"{v:.6f}" for v in row))
    return SYNTHETIC_BVH + "\n".join(rows) + "\n"


def _blender_heads(engine_python: str, bvh_path: Path, scale: float, frames: list[int], tmp: Path):
    out = tmp / "heads.npz"
    code = (
        "import sys, numpy as np\n"
        f"sys.path.insert(0, {str(ROOT / 'bench')!r})\n"
        "import groundtruth as g\n"
        f"arm = g.import_bvh_blender({str(bvh_path)!r}, {scale!r})\n"
        f"names, heads = g.blender_bone_heads(arm, {frames!r})\n"
        f"np.savez({str(out)!r}, names=np.array(names), heads=heads)\n"
    )
    proc = subprocess.run([engine_python, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = np.load(out)
    return [str(n) for n in data["names"]], data["heads"]


def test_bvh_fk_matches_blenders_importer_on_both_channel_orders(engine_python, tmp_path):
    text = _synthetic_bvh_text()
    path = tmp_path / "synthetic.bvh"
    path.write_text(text)
    bvh = groundtruth.parse_bvh(text)
    assert bvh.names == ["Hips", "LHip", "LeftUpLeg", "LeftLeg", "LeftLeg_end", "Spine", "Spine_end"]
    assert bvh.parents == [-1, 0, 1, 2, 3, 0, 5]
    assert bvh.frames.shape == (4, 18)
    ours = groundtruth.blender_from_bvh(groundtruth.bvh_forward_kinematics(bvh), 0.05)
    names, heads = _blender_heads(engine_python, path, 0.05, [1, 2, 3, 4], tmp_path)
    assert set(names) == {"Hips", "LHip", "LeftUpLeg", "LeftLeg", "Spine"}
    expected = ours[:, [bvh.index(n) for n in names]]
    assert np.abs(heads - expected).max() < 1e-5  # metres
    # and the joints really move: a wrong rotation order would not pass by luck
    assert np.ptp(expected[:, names.index("LeftLeg")], axis=0).max() > 0.5


def test_real_cmu_excerpt_matches_blender_and_resamples_exactly(engine_python, tmp_path):
    source = groundtruth.parse_bvh((groundtruth.bvh_folder() / "01_03.bvh").read_text())
    assert source.frame_time == pytest.approx(1 / 120, rel=1e-3)
    excerpt, times = groundtruth.resample(source, 15.0, 6, 30.0)
    # 120 Hz -> 30 fps takes every 4th source frame exactly
    first = round(15.0 / source.frame_time)
    assert first == 1800
    picked = source.frames[first:first + 24:4]
    np.testing.assert_allclose(excerpt.frames[:, :3], picked[:, :3], atol=1e-9)
    angle_diff = (excerpt.frames[:, 3:] - picked[:, 3:] + 180.0) % 360.0 - 180.0
    np.testing.assert_allclose(angle_diff, 0.0, atol=1e-9)
    np.testing.assert_allclose(np.diff(times), 1 / 30)
    path = tmp_path / "excerpt.bvh"
    path.write_text(groundtruth.write_bvh(excerpt))
    reparsed = groundtruth.parse_bvh(path.read_text())
    np.testing.assert_allclose(reparsed.frames, excerpt.frames, atol=1e-6)
    rig = groundtruth.CMU_RIG
    ours = groundtruth.blender_from_bvh(groundtruth.bvh_forward_kinematics(reparsed), rig.scale)
    names, heads = _blender_heads(engine_python, path, rig.scale, [1, 3, 6], tmp_path)
    expected = ours[[0, 2, 5]][:, [reparsed.index(n) for n in names]]
    assert np.abs(heads - expected).max() < 1e-5
    # every limb joint of the map exists, and the subject is a person-sized person
    for joint in rig.limbs.values():
        assert joint in reparsed.names
    hips = ours[:, reparsed.index("Hips"), 2]
    assert 0.8 < hips.mean() < 1.2  # metres above the floor in this clip


def test_resample_interpolates_angles_across_the_wrap(tmp_path):
    bvh = groundtruth.parse_bvh(_synthetic_bvh_text())
    bvh.frames[:, 3] = [170.0, -170.0, -150.0, -130.0]  # 170 -> 190 -> 210 -> 230 degrees
    bvh.frame_time = 0.01
    out, _ = groundtruth.resample(bvh, 0.005, 2, 100.0)
    assert out.frames[0, 3] % 360 == pytest.approx(180.0)  # not 0, the short way round
    assert out.frames[1, 3] % 360 == pytest.approx(200.0)
    assert out.frames[0, 0] == pytest.approx(2.5)           # positions: linear


def test_limb_joints_match_the_engine():
    from core.skeleton import LIMB_JOINTS

    assert groundtruth.LIMB_JOINTS == LIMB_JOINTS
    assert set(groundtruth.CMU_RIG.limbs) == set(LIMB_JOINTS)
    assert set(groundtruth.ASSIMP_BOXING_RIG.limbs) == set(LIMB_JOINTS)


def _random_rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pa_mpjpe_undoes_rotation_scale_and_translation(dtype):
    rng = np.random.default_rng(0)
    gt = rng.normal(scale=0.4, size=(5, 12, 3))
    R = np.stack([_random_rotation(rng) for _ in range(5)])
    pred = 1.7 * np.einsum("tij,tkj->tki", R, gt) + rng.normal(size=(5, 1, 3))
    tol = 1e-4 if dtype == np.float32 else 1e-9
    assert accuracy.pa_mpjpe(pred.astype(dtype), gt.astype(dtype)) < tol
    np.testing.assert_allclose(accuracy.procrustes_align(pred, gt), gt, atol=1e-9)
    # root-aligned MPJPE does not forgive the rotation and scale
    assert accuracy.mpjpe(pred, gt) > 0.1


def test_pa_mpjpe_does_not_reflect_and_measures_residual_noise():
    rng = np.random.default_rng(1)
    gt = rng.normal(scale=0.4, size=(50, 12, 3))
    mirrored = gt * np.array([-1.0, 1.0, 1.0])
    assert accuracy.pa_mpjpe(mirrored, gt) > 0.05  # a mirror image is not a rotation
    noise = rng.normal(scale=0.01, size=gt.shape)
    err = accuracy.pa_mpjpe(gt + noise, gt)
    assert 0.5 * np.linalg.norm(noise, axis=-1).mean() < err <= 1.05 * np.linalg.norm(noise, axis=-1).mean()


def test_mpjpe_aligns_the_mid_hip():
    rng = np.random.default_rng(2)
    gt = rng.normal(size=(3, 12, 3))
    pred = gt + np.array([0.3, -2.0, 5.0])            # a pure translation vanishes
    assert accuracy.mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-12)
    pred = gt.copy()
    pred[:, 4] += np.array([0.0, 0.12, 0.0])           # one wrist 12 cm off: 1 cm over 12 joints
    assert accuracy.mpjpe(pred, gt) == pytest.approx(0.01)


def test_accel_error_is_zero_for_constant_velocity_and_exact_for_jitter():
    t = np.arange(10, dtype=float)[:, None, None]
    gt = np.zeros((10, 12, 3)) + 0.1 * t * np.arange(12)[None, :, None]
    assert accuracy.accel_error(gt + 0.05 * t, gt) == pytest.approx(0.0, abs=1e-12)
    pred = gt.copy()
    pred[5, 0, 0] += 0.01  # one joint (not a hip) jumps for one frame: |a| = 0.01, 0.02, 0.01 over 3 of 8
    expected = (0.01 + 0.02 + 0.01) / 12 / 8
    assert accuracy.accel_error(pred, gt) == pytest.approx(expected)
    valid = np.ones(10, bool)
    valid[5] = False  # the frame is dropped with every acceleration that needs it
    assert accuracy.accel_error(pred, gt, valid) == pytest.approx(0.0, abs=1e-12)


def test_reprojection_error_skips_missing_rows():
    gt = np.zeros((2, 12, 2))
    pred = gt + np.array([3.0, 4.0])
    pred[1] = np.nan
    assert accuracy.reprojection_error(pred, gt) == pytest.approx(5.0)


def test_foot_contacts_from_height_and_speed():
    fps = 30.0
    T = 60
    x = np.where(np.arange(T) < 30, 0.0, np.arange(T) * 0.05 - 1.5)  # planted, then sliding at 1.5 m/s
    z = np.where(np.arange(T) < 30, 0.0, 0.0)
    z[45:] = 0.3                                                       # then lifted
    points = np.stack([x, np.zeros(T), z], -1)[:, None]
    contact, speed = groundtruth.foot_contacts(z[:, None], points, fps)
    assert contact[:29, 0].all()
    assert not contact[31:, 0].any()
    assert speed[40, 0] == pytest.approx(1.5)


def test_camera_projection_round_trip():
    K = groundtruth.intrinsics(640, 480, 55.0)
    assert K[0, 0] == pytest.approx(320 / np.tan(np.radians(27.5)))
    M = groundtruth.look_at(np.array([0.0, -3.0, 1.3]), np.array([0.0, 0.0, 1.0]))
    centre = groundtruth.transform(M, np.array([0.0, 0.0, 1.0]))
    assert centre[:2] == pytest.approx([0.0, 0.0], abs=1e-12) and centre[2] > 0
    above = groundtruth.project(groundtruth.transform(M, np.array([0.0, 0.0, 1.5])), K)
    right = groundtruth.project(groundtruth.transform(M, np.array([0.5, 0.0, 1.0])), K)
    assert above[1] < 240 and right[0] > 320  # image y down, x right (camera looks along +Y)


def test_strided_take_is_scored_on_every_frame_between_its_keys():
    t = np.arange(20, dtype=float)
    gt = np.broadcast_to(np.random.default_rng(4).normal(scale=0.3, size=(12, 3)), (20, 12, 3)).copy()
    gt[:, 0, 0] += 0.02 * t                  # the left shoulder moves at constant speed
    keyed = np.zeros(20, bool)
    keyed[1::2] = True                       # fitted on every 2nd frame only, from frame 1
    pred = np.where(keyed[:, None, None], gt, np.nan)
    filled, valid = accuracy.fill_between_keys(pred, keyed)
    assert not valid[0] and valid[1:].all()  # nothing before the first key is invented
    np.testing.assert_allclose(filled[1:], gt[1:], atol=1e-12)
    pred[1::4, 0, 0] += 0.004                # every other key 4 mm off: jitter at the keys
    filled, valid = accuracy.fill_between_keys(pred, keyed)
    err = accuracy.all_metrics(filled, gt, np.zeros((20, 12, 2)), np.zeros((20, 12, 2)), valid)
    # error 4, 2, 0, 2, 4 ... mm: |a| = 4 mm on the 8 inner keys of the 17 scored accelerations, 0 between
    assert err["accel_error_mm"] == pytest.approx(8 * 4.0 / 17 / 12)


# ----------------------------------------------------------------------------
# DeepMimic motion (pybullet's clips, fetched into the cache at set-up)
# ----------------------------------------------------------------------------

from groundtruth import deepmimic  # noqa: E402


@pytest.fixture(scope="module")
def deepmimic_folder():
    return deepmimic.motion_folder(groundtruth.cache_root())


def _deepmimic_offsets(folder):
    return deepmimic.parse_urdf_offsets((folder / "humanoid.urdf").read_text(errors="replace"))


def test_deepmimic_humanoid_has_a_persons_bones_and_the_held_out_motions_stay_out(deepmimic_folder):
    offsets = _deepmimic_offsets(deepmimic_folder)
    length = {name: float(np.linalg.norm(off)) for name, (_, off) in offsets.items()}
    assert length["right_knee"] == pytest.approx(0.421546, abs=1e-6)      # thigh, metres (URDF / 4)
    assert length["right_ankle"] == pytest.approx(0.40987, abs=1e-6)      # shin
    assert length["left_elbow"] == pytest.approx(0.274788, abs=1e-6)      # upper arm
    assert length["left_wrist"] == pytest.approx(0.258947, abs=1e-6)      # forearm
    assert offsets["right_hip"][1][2] == pytest.approx(-offsets["left_hip"][1][2])
    assert offsets["right_hip"][1][2] > 0.08                            # +z is the character's right
    assert offsets["right_shoulder"][0] == "chest"
    names = {p.stem for p in deepmimic_folder.glob("*.txt")}
    assert {"humanoid3d_walk", "humanoid3d_backflip", "humanoid3d_getup_faceup"} <= names
    assert not names & set(deepmimic.HELD_OUT_MOTIONS)
    with pytest.raises(ValueError, match="held out"):
        deepmimic.source_bvh(deepmimic_folder, "humanoid3d_cartwheel", 1.0, 30.0)
    every = {c.bvh for c in groundtruth.clips_named("ACROBATICS,TRAVEL,CROSSING")}
    every |= {w.motion for c in groundtruth.clips.CROSSING for w in c.others}
    assert not every & set(deepmimic.HELD_OUT_MOTIONS)


def test_deepmimic_walk_stands_on_its_ground_and_the_bvh_poses_it_exactly(deepmimic_folder):
    offsets = _deepmimic_offsets(deepmimic_folder)
    motion = deepmimic.parse_motion((deepmimic_folder / "humanoid3d_walk.txt").read_text())
    assert motion.loop and motion.duration == pytest.approx(38 / 30, abs=1e-3)
    times = np.arange(0, 3.0, 1 / 30)
    pose = deepmimic.sample(motion, times)
    ref = deepmimic.forward_kinematics(pose, offsets)                   # quaternions, character axes (Y up)
    bvh = deepmimic.to_bvh(pose, offsets, 30.0)
    fk = groundtruth.bvh_forward_kinematics(bvh)
    for name, p in ref.items():                                         # the Euler channels lose nothing
        np.testing.assert_allclose(fk[:, bvh.index(name)], p, atol=1e-9)
    world = groundtruth.blender_from_bvh(fk, 1.0)                       # Blender: Z up
    first = world[0]
    z = {n: first[bvh.index(n)][2] for n in bvh.names}
    feet = min(z["left_toe"], z["right_toe"], z["left_ankle"] - 0.05, z["right_ankle"] - 0.05)
    assert -0.02 < feet < 0.04                                          # a sole on the ground (y = 0)
    assert z["head"] - z["root"] > 0.45 and z["neck"] > z["chest"] > z["root"]
    for side in ("left", "right"):
        assert z[f"{side}_hip"] > z[f"{side}_knee"] > z[f"{side}_ankle"]
    # looping: a cycle later the pose repeats, moved forward by the cycle's 1.2 m
    i, j = 0, int(round(motion.duration * 30))
    step = world[j, 0] - world[i, 0]
    assert 1.1 < step[0] < 1.35 and abs(step[2]) < 0.02
    np.testing.assert_allclose(world[j] - world[j, :1], world[i] - world[i, :1], atol=0.02)
    # the character faces +X (its left hip on +Y), walks that way, bends its knees backwards
    assert first[bvh.index("left_hip"), 1] > first[bvh.index("right_hip"), 1]
    bent = int(np.argmin(motion.joints["right_knee"][:, 0]))          # most negative angle: most flexed
    pose_bent = groundtruth.blender_from_bvh(groundtruth.bvh_forward_kinematics(
        deepmimic.to_bvh(deepmimic.sample(motion, motion.times[bent:bent + 1]), offsets, 30.0)), 1.0)[0]
    hip, knee, ankle, toe = (pose_bent[bvh.index(f"right_{n}")] for n in ("hip", "knee", "ankle", "toe"))
    thigh = (knee - hip) / np.linalg.norm(knee - hip)
    shin = ankle - knee
    assert np.degrees(np.arccos(np.dot(thigh, shin / np.linalg.norm(shin)))) > 45   # really bent
    assert (shin - np.dot(shin, thigh) * thigh)[0] < 0                 # the foot swings behind the knee
    assert toe[0] > ankle[0] - 0.02 or toe[2] < ankle[2]               # toes ahead of (or below) the ankle


def test_deepmimic_bvh_matches_blenders_importer(engine_python, deepmimic_folder, tmp_path):
    bvh = deepmimic.source_bvh(deepmimic_folder, "humanoid3d_backflip", 1.0, 10.0)
    path = tmp_path / "backflip.bvh"
    path.write_text(groundtruth.write_bvh(bvh))
    ours = groundtruth.blender_from_bvh(groundtruth.bvh_forward_kinematics(groundtruth.parse_bvh(path.read_text())), 1.0)
    names, heads = _blender_heads(engine_python, path, 1.0, [1, 5, 8], tmp_path)
    expected = ours[[0, 4, 7]][:, [bvh.index(n) for n in names]]
    assert np.abs(heads - expected).max() < 1e-4
    root = ours[:, bvh.index("root")]
    head = ours[:, bvh.index("head")]
    assert (head[:, 2] < root[:, 2]).any()                               # upside down in the air at some frame


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_euler_zyx_round_trips_including_gimbal_lock(dtype):
    rng = np.random.default_rng(5)
    q = rng.normal(size=(200, 4))
    R = deepmimic.quat_wxyz_to_rotmat(q).astype(dtype)
    half = np.sqrt(0.5)
    R = np.concatenate([R, deepmimic.quat_wxyz_to_rotmat(np.array([[half, 0, half, 0], [half, 0, -half, 0],
                                                                   [0.5, 0.5, 0.5, 0.5]])).astype(dtype)])
    zyx = deepmimic.rotmat_to_euler_zyx_degrees(R.astype(np.float64))
    back = np.stack([groundtruth.bvh._axis_rotation(a, zyx[:, k]) for k, a in enumerate("ZYX")])
    back = back[0] @ back[1] @ back[2]
    np.testing.assert_allclose(back, R, atol=1e-5 if dtype == np.float32 else 1e-9)


def test_slerp_takes_the_short_way_and_matches_the_axis_angle():
    qz90 = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])
    mid = deepmimic.slerp_wxyz(np.array([1.0, 0, 0, 0]), -qz90, np.array(0.5))   # -q is the same rotation
    np.testing.assert_allclose(deepmimic.quat_wxyz_to_rotmat(mid), deepmimic.rotmat_z(np.array(np.pi / 4)),
                               atol=1e-12)
    np.testing.assert_allclose(deepmimic.quat_wxyz_to_rotmat(qz90), deepmimic.rotmat_z(np.array(np.pi / 2)),
                               atol=1e-12)


def test_parse_motion_rejects_other_layouts():
    with pytest.raises(ValueError, match="44 numbers"):
        deepmimic.parse_motion('{"Loop": "wrap", "Frames": [[0.1, 0, 0.9, 0], [0.0, 0, 0.9, 0]]}')


def test_occluded_share_hides_only_behind_a_nearer_bone():
    from groundtruth.crowd import occluded_share

    limb_2d = np.array([[[100.0, 100.0], [300.0, 100.0]]])        # (T=1, L=2, 2)
    bones = [(0, 1)]
    other = np.array([[[100.0, 50.0], [100.0, 150.0]]])           # a vertical bone through the first joint
    near = occluded_share(limb_2d, np.array([[5.0, 5.0]]), other, np.array([[3.0, 3.0]]), bones, 600.0)
    far = occluded_share(limb_2d, np.array([[5.0, 5.0]]), other, np.array([[8.0, 8.0]]), bones, 600.0)
    assert near[0] == pytest.approx(0.5) and far[0] == 0.0


@pytest.mark.parametrize("pitch, roll", [(-35.0, 0.0), (-20.0, 10.0), (0.0, -15.0), (10.0, 15.0)])
def test_tilted_camera_sees_straight_ahead_at_the_centre_with_its_exact_tilt(pitch, roll):
    K = groundtruth.intrinsics(640, 480, 55.0)
    eye = np.array([1.0, -4.0, 2.2])
    heading = np.array([0.3, 1.0, 0.0])
    M = groundtruth.aim(eye, heading, pitch, roll)
    p = np.radians(pitch)
    ahead = eye + 5.0 * (np.cos(p) * heading / np.linalg.norm(heading) + np.sin(p) * np.array([0.0, 0.0, 1.0]))
    assert groundtruth.project(groundtruth.transform(M, ahead), K) == pytest.approx([320.0, 240.0], abs=1e-9)
    assert groundtruth.pitch_roll_degrees(M) == pytest.approx((pitch, roll), abs=1e-9)
    assert groundtruth.transform(M, eye) == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)


@pytest.mark.parametrize("pitch, roll", [(-35.0, 0.0), (-20.0, 0.0), (-12.0, 8.0), (10.0, -15.0)])
def test_vertical_lines_meet_where_the_pitch_and_roll_say(pitch, roll):
    # the vanishing point of vertical lines: f cot(pitch) from the centre, turned by the roll
    K = groundtruth.intrinsics(640, 480, 55.0)
    f = K[0, 0]
    M = groundtruth.aim(np.array([0.0, 0.0, 1.6]), np.array([0.0, 1.0, 0.0]), pitch, roll)
    lines = []
    for x, y in ((-1.5, 4.0), (2.0, 6.0)):                  # two door posts, 0 to 2 m high
        a, b = (groundtruth.project(groundtruth.transform(M, np.array([x, y, z])), K) for z in (0.0, 2.0))
        lines.append(np.cross([*a, 1.0], [*b, 1.0]))
    vp = np.cross(*lines)
    vp = vp[:2] / vp[2]
    p, r = np.radians(pitch), np.radians(roll)
    expected = np.array([320.0, 240.0]) - f / np.tan(p) * np.array([np.sin(r), np.cos(r)])
    assert vp == pytest.approx(expected, rel=1e-9)
    # and the horizon turns with the roll: up to the right when the camera's right side is down
    far = [groundtruth.project(groundtruth.transform(M, np.array([x, 1e4, 1.6])), K) for x in (-1e3, 1e3)]
    assert np.degrees(np.arctan2(-(far[1][1] - far[0][1]), far[1][0] - far[0][0])) == pytest.approx(roll, abs=1e-6)


def test_every_tilted_clip_is_framed_with_its_exact_tilt_and_height():
    settings = groundtruth.RenderSettings()
    K = groundtruth.intrinsics(settings.width, settings.height, settings.hfov_degrees)
    assert len(groundtruth.TILTED) >= 5
    assert {c.shot.scene for c in groundtruth.TILTED} == {"room", "studio"}
    sources = {}
    for spec in groundtruth.TILTED:
        if spec.bvh not in sources:
            sources[spec.bvh] = groundtruth.parse_bvh((groundtruth.bvh_folder() / spec.bvh).read_text())
        excerpt, _ = groundtruth.resample(sources[spec.bvh], spec.start_seconds, spec.frames, spec.fps)
        world = groundtruth.blender_from_bvh(groundtruth.bvh_forward_kinematics(excerpt), spec.rig.scale)
        floor = float(world[..., 2].min())
        M = groundtruth.choose_camera(world, excerpt, spec.rig, spec, settings, floor)
        assert groundtruth.pitch_roll_degrees(M) == pytest.approx((spec.shot.pitch_degrees, spec.shot.roll_degrees))
        eye = -M[:3, :3].T @ M[:3, 3]
        assert eye[2] - floor == pytest.approx(spec.shot.height_m)
        uv = groundtruth.project(groundtruth.transform(M, world.reshape(-1, 3)), K)
        margin = 0.5 * (1 - settings.frame_fill) * np.array([settings.width, settings.height])
        assert (uv >= margin - 1e-6).all() and (uv <= np.array([640, 480]) - margin + 1e-6).all(), spec.name
        # the whole motion travels: these clips are about the root and the feet in the world
        pelvis = world[:, excerpt.index(spec.rig.pelvis), :2]
        assert np.linalg.norm(pelvis - pelvis[0], axis=-1).max() > 1.0, spec.name


def test_existing_clips_keep_their_cache_keys():
    # New ClipSpec fields default to None and stay out of the key: the clips rendered before them
    # (minutes to an hour each) are not rendered again. A deliberate change updates these.
    settings = groundtruth.RenderSettings()
    keys = {c.name: groundtruth.clip_key(c, settings) for c in groundtruth.CLIPS + groundtruth.HELD_OUT}
    assert keys == {"cmu_01_03": "8a9907fc17e1", "boxing": "255b115c0b06", "val_cmu_01_01a": "68ea366e8ad1",
                    "val_cmu_01_01b": "e481bd29fb01", "val_boxing_late": "1387ec37782c"}
    tilted = {groundtruth.clip_key(c, settings) for c in groundtruth.TILTED}
    assert len(tilted) == len(groundtruth.TILTED) and not tilted & set(keys.values())


def test_room_stands_behind_the_motion_and_the_studio_has_no_vertical_edge():
    from groundtruth.room import set_pieces

    rng = np.random.default_rng(7)
    points = rng.uniform([-1.0, 2.0, 0.0], [1.0, 4.0, 1.8], size=(200, 3))   # the motion, in front of the camera
    M = groundtruth.aim(np.array([0.0, 0.0, 2.0]), np.array([0.0, 1.0, 0.0]), -25.0, 8.0)
    room = {p["name"]: np.array(p["verts"]) for p in set_pieces("room", points, M, 0.0)}
    assert {"WallBack", "WallLeft", "WallRight", "DoorPostL", "DoorPostR", "TableTop", "Cabinet"} <= set(room)
    for name, verts in room.items():
        if name not in ("WallLeft", "WallRight", "Ceiling"):
            assert verts[:, 1].min() > points[:, 1].max(), name      # behind the whole motion
        else:
            assert verts[:, 2].min() >= 2.8 - 1e-9 or np.abs(verts[:, 0]).min() > np.abs(points[:, 0]).max(), name
    posts = room["DoorPostL"]
    assert np.ptp(posts[:, 2]) > 2.0 and np.ptp(posts[:, 0]) < 0.2   # a vertical edge 2 m tall
    sweep = set_pieces("studio", points, M, 0.0)
    assert len(sweep) == 1
    verts = np.array(sweep[0]["verts"])
    for face in sweep[0]["faces"]:                                   # edges run across the view or along the
        a, b, c, d = verts[list(face)]                                # curve at the far sides (30 m out)
        assert abs(a[0]) == pytest.approx(30.0) and abs(c[0]) == pytest.approx(30.0)
    assert set_pieces("plain", points, M, 0.0) == []


def test_benchmarks_pick_clips_by_name_or_by_set():
    assert groundtruth.clips_selected() == list(groundtruth.CLIPS)
    assert groundtruth.clips_selected(set_name="tilted") == list(groundtruth.TILTED)
    assert [c.name for c in groundtruth.clips_selected("boxing,tilt_studio_walk")] == ["boxing", "tilt_studio_walk"]
    with pytest.raises(ValueError, match="not both"):
        groundtruth.clips_selected("boxing", "tilted")
    with pytest.raises(ValueError, match="unknown set"):
        groundtruth.clips_selected(set_name="sideways")
