"""Live capture's engine side: the stream message, the One Euro filter, the causal floor, VMC out, and the
`live` command's ending (cancel, the receiver gone, bad input)."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.live import protocol
from core.live.filters import OneEuro
from core.live.ground import CausalGround
from core.live.protocol import world_from_camera
from core.live.vmc import UNITY_BONES, UNITY_FROM_WORLD, VmcSender
from core.rotations import axis_angle_to_matrix, matrix_to_axis_angle, matrix_to_quat_wxyz
from core.skeleton import JOINT_INDEX, NUM_JOINTS

ROOT = Path(__file__).resolve().parents[2]


def frame(seq: int = 0, **kw) -> protocol.LiveFrame:
    rng = np.random.default_rng(seq)
    values = dict(seq=seq, frame=seq * 2, frame_time=seq / 30, captured=1000.0 + seq, sent=1000.5 + seq,
                  confidence=0.8, camera_height=1.4, flags=protocol.FLAG_LEFT_CONTACT,
                  trans=rng.normal(size=3).astype(np.float32),
                  poses=rng.normal(size=NUM_JOINTS * 3).astype(np.float32), expression=np.zeros(0, np.float32))
    values.update(kw)
    return protocol.LiveFrame(**values)


# -- the message --------------------------------------------------------------------------------
def test_a_message_round_trips_exactly() -> None:
    sent = frame(7, expression=np.arange(10, dtype=np.float32))
    got = protocol.unpack(protocol.pack(sent))
    for name in ("seq", "frame", "frame_time", "captured", "sent", "flags"):  # integers and float64: exact
        assert getattr(got, name) == getattr(sent, name)
    assert got.camera_height == np.float32(sent.camera_height)
    np.testing.assert_array_equal(got.poses, sent.poses)
    np.testing.assert_array_equal(got.trans, sent.trans)
    np.testing.assert_array_equal(got.expression, sent.expression)
    assert got.contacts == (True, False) and not got.held
    assert len(protocol.pack(frame())) == protocol.HEADER_BYTES + 4 * (3 + 165)


@pytest.mark.parametrize("damage, words", [
    (lambda b: b[:20], "shorter than"),
    (lambda b: b"XXXX" + b[4:], "magic"),
    (lambda b: b[:4] + struct.pack("<H", 9) + b[6:], "version 9"),
    (lambda b: b[:-4], "header says"),
    (lambda b: b + b"\0\0\0\0", "header says"),
    (lambda b: b[:-4] + struct.pack("<f", float("nan")), "non-finite"),
])
def test_a_damaged_message_is_refused_with_what_is_wrong(damage, words: str) -> None:
    with pytest.raises(protocol.ProtocolError, match=words):
        protocol.unpack(damage(protocol.pack(frame())))


def test_a_version_1_message_is_still_read_without_a_camera_tilt() -> None:
    """Version 2 added the camera's pitch and roll after ``camera_height``; an engine of the last release
    sends version 1 (the layout written out here from the README's table), and the add-on still reads it."""
    rng = np.random.default_rng(5)
    poses, trans = rng.normal(size=NUM_JOINTS * 3).astype("<f4"), rng.normal(size=3).astype("<f4")
    v1 = struct.pack("<4sHBBIqdddffHH", b"BMLV", 1, 1, protocol.FLAG_HELD, 9, 18, 0.6, 1000.0, 1000.02, 0.7, 1.25,
                     NUM_JOINTS, 0) + trans.tobytes() + poses.tobytes()
    assert len(v1) == 728
    got = protocol.unpack(v1)
    assert (got.seq, got.frame, got.held, got.camera_height) == (9, 18, True, 1.25)
    np.testing.assert_array_equal(got.poses, poses)
    assert got.camera_pitch is None and got.camera_extrinsics() is None
    v2 = protocol.pack(frame(camera_pitch=12.0, camera_roll=-3.0))
    assert len(v2) == 736 and struct.unpack_from("<H", v2, 4)[0] == 2
    assert (protocol.unpack(v2).camera_pitch, protocol.unpack(v2).camera_roll) == (12.0, -3.0)
    with pytest.raises(protocol.ProtocolError, match="version 3"):
        protocol.unpack(v2[:4] + struct.pack("<H", 3) + v2[6:])


# -- One Euro ---------------------------------------------------------------------------------
def test_one_euro_removes_jitter_at_rest_and_follows_fast_moves() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(300) / 30.0
    still = 0.01 * rng.normal(size=(300, 1, 1))
    f = OneEuro(1.0, beta=0.0)
    out = np.array([f(x, ti) for x, ti in zip(still, t)])
    # White noise through a first-order low-pass keeps sqrt(alpha / (2 - alpha)) of its spread.
    alpha = 1.0 / (1.0 + 30.0 / (2 * np.pi))
    assert out[30:].std() / still[30:].std() == pytest.approx(np.sqrt(alpha / (2 - alpha)), rel=0.2)
    assert out[30:].std() < 0.4 * still[30:].std()
    # A fast ramp (1 unit/s): with beta the cutoff rises and the lag shrinks.
    ramp = t[:, None, None] * 1.0
    lags = []
    for beta in (0.0, 2.0):
        f = OneEuro(1.0, beta=beta)
        out = np.array([f(x, ti) for x, ti in zip(ramp, t)])
        lags.append(float(np.mean(ramp[60:] - out[60:])))
    assert lags[1] < 0.5 * lags[0]
    assert lags[0] == pytest.approx(1.0 / (2 * np.pi * 1.0), rel=0.1)  # a first-order filter lags 1/(2 pi fc) s


# -- the causal floor ---------------------------------------------------------------------------
def test_the_floor_comes_from_the_feet_so_far_and_a_jump_does_not_lift_it() -> None:
    up = np.array([0.0, -1.0, 0.0])  # a level camera; the floor 1.5 m below it is y = +1.5
    ground = CausalGround(up, np.zeros(4))
    feet = np.array([[0.1, 1.5, 3.0], [0.1, 1.5, 3.1], [-0.1, 1.5, 3.0], [-0.1, 1.5, 3.1]])
    rng = np.random.default_rng(1)
    for i in range(60):  # standing: 2 s
        floor, planted = ground.update(feet + rng.normal(scale=0.005, size=(4, 3)), i / 30)
    assert floor == pytest.approx(-1.5, abs=0.02) and planted == (True, True)
    for i in range(60, 75):  # a 0.5 s jump, 40 cm up
        floor, planted = ground.update(feet - [0.0, 0.4, 0.0], i / 30)
    assert floor == pytest.approx(-1.5, abs=0.02) and planted == (False, False)
    floor, planted = ground.update(feet + [0.0, 0.0, 0.5], 76 / 30)  # back down, but sliding fast
    assert planted == (False, False)
    R = world_from_camera(up)
    np.testing.assert_allclose(R, [[1, 0, 0], [0, 0, 1], [0, -1, 0]], atol=1e-12)  # x right, y forward, z up


def test_a_brief_left_right_relabelling_is_undone_and_a_lasting_one_kept() -> None:
    from core.landmarks import BODY_SWAP, PoseSequence
    from core.live.sides import CausalSideSwaps

    rng = np.random.default_rng(3)
    world = rng.normal(scale=0.2, size=(33, 4))
    world[[11, 12, 23, 24], :3] = [[0.2, -0.5, 0.0], [-0.2, -0.5, 0.0], [0.1, 0.0, 0.0], [-0.1, 0.0, 0.0]]
    world = world.astype(np.float32)
    uv = np.stack([world[:, 0] * 500 + 320, world[:, 1] * 500 + 240, np.ones(33)], -1).astype(np.float32)

    def one(swapped: bool) -> PoseSequence:
        seq = PoseSequence.empty(1, 30.0, (640, 480))
        seq.present[0] = True
        order = BODY_SWAP if swapped else np.arange(33)
        seq.body_world[0], seq.body_2d[0] = world[order], uv[order]
        return seq

    fix = CausalSideSwaps(max_swap_seconds=0.5)
    labels = [False] * 5 + [True] * 5 + [False] * 5 + [True] * 30  # a 5-frame glitch, then a lasting change
    relabelled = []
    for i, swapped in enumerate(labels):
        seq = one(swapped)
        relabelled.append(fix(seq, i / 30.0))
        if i < 15:
            np.testing.assert_array_equal(seq.body_world[0], world)  # every frame of the glitch put back
    assert relabelled[5:10] == [True] * 5 and not any(relabelled[10:15])
    assert not any(relabelled[15 + 16:])  # held over 0.5 s: the new labelling stands


def test_a_one_frame_relabelling_costs_that_frame_only_and_someone_elsewhere_starts_afresh() -> None:
    """As on the demo clip's frame 22: MediaPipe swaps the sides on one frame (the 3D landmarks, and the
    arms' image landmarks but not the legs') while the person steps aside. Comparing each frame with the
    last one *as relabelled* missed that frame and then took the true frames after it for swapped, for
    half a second (limb joints 300-600 mm off against the offline take)."""
    from core.landmarks import BODY_SWAP, PoseSequence
    from core.live.sides import CausalSideSwaps

    world = np.zeros((33, 4), np.float32)
    world[:, 3] = 1.0
    world[[11, 12, 23, 24], :3] = [[0.2, -0.5, 0.0], [-0.2, -0.5, 0.0], [0.1, 0.0, 0.0], [-0.1, 0.0, 0.0]]
    world[[13, 14, 15, 16], :3] = [[0.3, -0.3, 0.0], [-0.3, -0.3, 0.0], [0.3, -0.1, 0.0], [-0.3, -0.1, 0.0]]
    world[[25, 26, 27, 28], :3] = [[0.1, 0.45, 0.0], [-0.1, 0.45, 0.0], [0.1, 0.9, 0.0], [-0.1, 0.9, 0.0]]
    uv = np.stack([world[:, 0] * 300 + 320, world[:, 1] * 300 + 240, np.ones(33)], -1).astype(np.float32)
    arms = np.arange(11, 17)

    def one(glitch: bool, shift: float) -> PoseSequence:
        seq = PoseSequence.empty(1, 30.0, (640, 480))
        seq.present[0] = True
        seq.body_world[0] = world[BODY_SWAP] if glitch else world
        seq.body_2d[0] = uv
        if glitch:
            seq.body_2d[0, arms] = uv[BODY_SWAP[arms]]
        seq.body_2d[0, :, 0] += shift
        return seq

    fix = CausalSideSwaps(max_swap_seconds=0.5)
    got = [fix(one(i == 5, 20.0 if i >= 5 else 0.0), i / 30.0) for i in range(20)]
    assert got == [i == 5 for i in range(20)]
    # Someone else, found far from where the last frame had the person, facing the other way: taken as given.
    assert not fix(one(True, shift=250.0), 20 / 30.0)
    assert not fix(one(True, shift=250.0), 21 / 30.0)


# -- the per-frame solve ------------------------------------------------------------------------
def solved_frames(solver, seq):
    """(frame, Solved) of a synthetic clip fed to ``solver`` one frame at a time, as the session does (the
    warm-up's frames first, then every frame solved at 30 fps)."""
    from core.landmarks import PoseSequence

    for i in range(seq.num_frames):
        one = PoseSequence(**{k: (v[i:i + 1] if isinstance(v, np.ndarray) and v.ndim and k != "image_size" else v)
                              for k, v in vars(seq).items()})
        if not solver.ready:
            solver.warm_up(one)
            continue
        yield i, solver.solve(one, i / 30.0)


def test_the_live_solve_finds_a_synthetic_body_and_holds_it_where_nobody_is_seen() -> None:
    from core.body.mannequin import forward_kinematics
    from core.live.solver import LiveSolver
    from tests.testdata.clips import CAMERA_K, mannequin_clip

    poses, trans, rest, seq = mannequin_clip(40, np.random.default_rng(4), hands=False, world_axes="view")
    seq.present[25] = False
    seq.body_world[25] = np.nan
    # The foot lock moves the root off the fit where the picture shows feet still: the solve is checked without
    # it, and with it the body relative to its pelvis (the lock moves the root only) and the root on its own.
    for lock in (False, True):
        solver = LiveSolver(CAMERA_K, np.array([0.0, -1.0, 0.0]), smoothing=0.0, warmup_frames=5, lock_feet=lock)
        assert solver.refine.steps >= 1  # the refinement's steps must keep an exact stream exact too
        errors, held, root = [], [], {}
        for i, solved in solved_frames(solver, seq):
            assert solved is not None
            held.append(bool(solved.flags & protocol.FLAG_HELD))
            E = solver.camera_extrinsics(solved.camera_height)
            got, _ = forward_kinematics(solved.poses.reshape(1, 55, 3).astype(np.float64), solver.rest_joints,
                                        solved.trans[None].astype(np.float64))
            got = got[0] @ E[:3, :3].T + E[:3, 3]  # back into the camera frame
            want, _ = forward_kinematics(poses[i:i + 1], rest, trans[i:i + 1])
            if not held[-1]:
                root[i] = float(np.linalg.norm(got[0] - want[0, 0]))
            if lock:
                got, want = got - got[:1], want - want[:, :1]
            if not held[-1]:
                errors.append(np.linalg.norm(got[:22] - want[0, :22], axis=-1))
        assert held == [i == 25 for i in range(5, 40)]
        # Exact landmarks: the body joints come back exactly (the world's floor and turn undone by the extrinsics).
        assert np.median(errors) < 0.002 and np.percentile(errors, 95) < 0.01
        off = [i for i, e in root.items() if e > 0.002]
        if not lock:
            assert not off
        else:  # the lock's known cost (core.live.footlock.WINDOW): the synthetic body slows on frames 33-35 and
            # moves its feet in depth, which the picture hardly shows; a stance starts on the window's lag as they
            # leave and holds the root 12-31 mm off for frames 34-37, which fades back within a few frames
            assert len(off) <= 5 and off == list(range(off[0], off[0] + len(off))) and off[-1] < 39
            assert max(root.values()) < 0.035


def test_the_camera_height_and_tilt_come_from_a_standing_person_as_the_stream_goes() -> None:
    """A person standing 3.5 m away and swaying his arms, seen by a camera 1.6 m above his floor, pitched
    15 degrees down and rolled 4 degrees: level and at an unknown height at first, the stream's camera
    settles on the truth within seconds (the posture over the last seconds, the floor under the feet)."""
    from core.body.mannequin import forward_kinematics, rest_joints
    from core.cleanup.floor import PROXY_INDEX, proxy_heights
    from core.gravity import up_from_pitch_roll
    from core.live.solver import LiveSolver
    from tests.testdata.clips import CAMERA_K, CLIP_BETAS, IMAGE_SIZE, landmarks_from_motion

    T, height, pitch, roll = 150, 1.6, 15.0, 4.0
    R_wc = protocol.world_from_camera(up_from_pitch_roll(pitch, roll))
    R_wm = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # model Y up -> world Z, facing -Y
    rest = rest_joints(CLIP_BETAS)
    poses = np.zeros((T, NUM_JOINTS, 3))
    poses[:, 0] = [matrix_to_axis_angle(R_wc.T @ R_wm)] * T
    sway = 0.6 * np.sin(np.arange(T) / 30.0 * 2.0)
    poses[:, JOINT_INDEX["left_shoulder"], 2] = -1.0 + sway
    poses[:, JOINT_INDEX["right_shoulder"], 2] = 1.0 - sway
    # Stand him on the floor: his lowest sole at world z = 0, 3.5 m before the camera (at 0, 0, height).
    world, _ = forward_kinematics(poses[:1], rest, np.zeros((1, 3)))
    soles = (world[0, PROXY_INDEX] @ R_wc.T)[:, 2] - proxy_heights(rest, None)
    pelvis_world = np.array([0.0, 3.5, (R_wc @ rest[0])[2] - soles.min()])
    trans_cam = R_wc.T @ (pelvis_world - [0.0, 0.0, height]) - rest[0]
    seq = landmarks_from_motion(poses, np.tile(trans_cam, (T, 1)), rest, CAMERA_K, IMAGE_SIZE, world_axes="view")
    solver = LiveSolver(CAMERA_K, None, smoothing=0.0, warmup_frames=5)
    got = []
    for i, solved in solved_frames(solver, seq):
        assert solved is not None
        got.append((i, solved.camera_height, solved.camera_pitch, solved.camera_roll))
    first = got[0]
    assert first[2] == 0.0 and first[3] == 0.0  # level until he has stood long enough
    last = got[-1]
    assert last[2] == pytest.approx(pitch, abs=1.5) and last[3] == pytest.approx(roll, abs=1.5)
    assert last[1] == pytest.approx(height, abs=0.05)
    # The stream's camera: where a receiver puts it, the world's up and the camera centre.
    message = protocol.unpack(protocol.pack(frame(camera_height=last[1], camera_pitch=last[2], camera_roll=last[3])))
    E = message.camera_extrinsics()
    np.testing.assert_allclose(-E[:3, :3].T @ E[:3, 3], [0.0, 0.0, last[1]], atol=1e-5)
    np.testing.assert_allclose(E[:3, :3] @ [0.0, 0.0, 1.0], up_from_pitch_roll(last[2], last[3]), atol=1e-5)


def test_with_smplx_files_the_live_solve_streams_smplx_rotations_of_a_fitted_smplx_shape(tmp_path: Path) -> None:
    """SMPL-X files installed (here a synthetic file in SMPL-X's format: the licensed ones never enter the
    repository; with ``$BLENDER_MOCAP_SMPLX_DIR`` set the real ones are tried too): the session's body is
    SMPL-X, its shape fitted to the warm-up, its rest take an SMPL-X body, and the rotations it streams
    pose that body's joints where the person is."""
    pytest.importorskip("smplx")
    from core.body.mannequin import forward_kinematics
    from core.live.body import choose_live_body
    from core.live.session import LiveSettings, rest_take
    from core.live.solver import LiveSolver
    from tests.testdata.clips import CAMERA_K, IMAGE_SIZE, mannequin_clip
    from tests.testdata.smplx_model import write_synthetic_model

    write_synthetic_model(tmp_path / "smplx" / "SMPLX_NEUTRAL.npz")
    folders = [str(tmp_path)] + ([os.environ["BLENDER_MOCAP_SMPLX_DIR"]] if os.environ.get("BLENDER_MOCAP_SMPLX_DIR")
                                 else [])
    poses, trans, rest, seq = mannequin_clip(30, np.random.default_rng(6), hands=False, world_axes="view")
    for folder in folders:
        body = choose_live_body("auto", "neutral", folder)
        assert body.name == "smplx" and not body.warnings
        solver = LiveSolver(CAMERA_K, np.array([0.0, -1.0, 0.0]), smoothing=0.0, warmup_frames=5, body=body)
        errors = []
        for i, solved in solved_frames(solver, seq):
            E = solver.camera_extrinsics(solved.camera_height)
            got, _ = forward_kinematics(solved.poses.reshape(1, 55, 3).astype(np.float64), solver.rest_joints,
                                        solved.trans[None].astype(np.float64))
            want, _ = forward_kinematics(poses[i:i + 1], rest, trans[i:i + 1])
            errors.append(np.linalg.norm((got[0] @ E[:3, :3].T + E[:3, 3])[:22] - want[0, :22], axis=-1))
        # The SMPL-X rest joints are the model's for the fitted betas, and near the mannequin's it was fitted to.
        template = body.model.j_template.double().numpy()
        np.testing.assert_allclose(solver.rest_joints, template + body.model.j_shapedirs.double().numpy()
                                   @ solver.betas, atol=1e-9)
        assert solver.betas.shape == (body.model.num_betas,)
        assert np.median(errors) < 0.03
        take = rest_take(solver, LiveSettings(source="clip.mp4"), CAMERA_K, IMAGE_SIZE, 30.0)
        assert take.body_model == "smplx" and take.v_template.shape == (10475, 3)
        assert take.shape_dirs is not None and take.expression.shape == (1, take.expression_dirs.shape[2])
    # Without files, "auto" is the mannequin (no torch needed), and "smplx" says what is missing.
    env = {k: v for k, v in os.environ.items() if k != "BLENDER_MOCAP_SMPLX_DIR"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "environ", env)
        assert choose_live_body("auto").name == "mannequin"
        with pytest.raises(Exception, match="SMPL-X body needs its model files"):
            choose_live_body("smplx")


# -- VMC out ---------------------------------------------------------------------------------
def read_osc_string(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\0", at)
    return data[at:end].decode(), (end // 4 + 1) * 4


def read_osc(data: bytes) -> list[tuple[str, list]]:
    """A small OSC 1.0 reader written from the spec, independent of core.live.osc: bundles and messages."""
    if data.startswith(b"#bundle\0"):
        out, at = [], 16
        while at < len(data):
            (size,) = struct.unpack(">i", data[at:at + 4])
            out += read_osc(data[at + 4:at + 4 + size])
            at += 4 + size
        return out
    address, at = read_osc_string(data, 0)
    tags, at = read_osc_string(data, at)
    args: list = []
    for tag in tags[1:]:
        if tag == "s":
            text, at = read_osc_string(data, at)
            args.append(text)
        else:
            args.append(struct.unpack(">f" if tag == "f" else ">i", data[at:at + 4])[0])
            at += 4
    return [(address, args)]


def test_vmc_sends_every_humanoid_bone_to_a_loopback_listener() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(5.0)
    rest = np.random.default_rng(2).normal(size=(NUM_JOINTS, 3))
    poses = np.zeros(NUM_JOINTS * 3)
    poses[3 * JOINT_INDEX["left_elbow"] + 1] = 1.2  # elbow bent 1.2 rad about the model's Y
    poses[:3] = [0.0, 0.0, 0.3]
    trans = np.array([0.5, 3.0, 0.1])
    sender = VmcSender(f"127.0.0.1:{listener.getsockname()[1]}", rest)
    try:
        sender.send(poses, trans)
        messages = read_osc(listener.recv(65536))
    finally:
        sender.close()
        listener.close()
    addresses = [a for a, _ in messages]
    assert addresses[:3] == ["/VMC/Ext/OK", "/VMC/Ext/T", "/VMC/Ext/Root/Pos"]
    bones = {args[0]: np.array(args[1:], np.float64) for a, args in messages if a == "/VMC/Ext/Bone/Pos"}
    assert set(bones) == set(UNITY_BONES) and len(bones) == 55
    for values in bones.values():
        assert np.linalg.norm(values[3:]) == pytest.approx(1.0, abs=1e-5)  # x, y, z, w: unit quaternions
    # Unity's X is the model's mirrored: a turn about Y keeps its angle and flips its direction.
    elbow = bones["LeftLowerArm"]
    assert elbow[3:] == pytest.approx([0.0, -np.sin(0.6), 0.0, np.cos(0.6)], abs=1e-6)
    # The hips carry the world placement: position in Unity axes (Y up), rotation M R X.
    pelvis = rest[0] + trans
    np.testing.assert_allclose(bones["Hips"][:3], UNITY_FROM_WORLD @ pelvis, atol=1e-5)
    R = UNITY_FROM_WORLD @ axis_angle_to_matrix(np.array([0.0, 0.0, 0.3])) @ np.diag([-1.0, 1.0, 1.0])
    q = matrix_to_quat_wxyz(R)
    assert abs(np.dot(q[[1, 2, 3, 0]], bones["Hips"][3:])) == pytest.approx(1.0, abs=1e-6)


# -- the command ---------------------------------------------------------------------------------
def live_process(*args: str) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if k != "BLENDER_MOCAP_SMPLX_DIR"}
    return subprocess.Popen([sys.executable, "-m", "core", "live", *args, "--progress", "json"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean)


def wait_for(proc: subprocess.Popen[str], kind: str, timeout: float = 120.0) -> dict:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        event = json.loads(line) if line.startswith("{") else {}
        if event.get("event") == kind:
            return event
        assert time.monotonic() < deadline, f"no {kind} event"
    raise AssertionError(f"the engine ended without a {kind} event: {proc.stderr.read() if proc.stderr else ''}")


def test_sigterm_ends_a_live_session_at_once_with_its_figures(demo_video: Path, tmp_path: Path) -> None:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    take = tmp_path / "rest.npz"
    proc = live_process(str(demo_video), "--send", f"127.0.0.1:{receiver.getsockname()[1]}",
                        "--take", str(take))
    try:
        ready = wait_for(proc, "ready")
        assert ready["take"] == str(take) and take.is_file()
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        done = wait_for(proc, "done", timeout=10.0)
        assert proc.wait(timeout=10.0) == 0
        assert time.monotonic() - began < 5.0
    finally:
        proc.kill()
        receiver.close()
    assert done["frames"] == done["quality"]["frames_sent"]


def test_a_session_whose_receiver_is_gone_ends_by_itself(demo_video: Path) -> None:
    """Blender closed or crashed: the port refuses the datagrams, and the engine must not run on."""
    free = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nobody listens there now
    proc = live_process(str(demo_video), "--send", f"127.0.0.1:{port}")
    try:
        wait_for(proc, "ready")
        began = time.monotonic()
        out, err = proc.communicate(timeout=30.0)
    finally:
        proc.kill()
    assert proc.returncode == 0 and time.monotonic() - began < 1.9 + 3.0
    assert "is gone" in out


def test_a_source_that_stalls_ends_the_session_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """A camera unplugged or a stream that stops sending: the decode thread gets no frame (it may hang in
    the driver), and the engine must not linger: it ends, saying so."""
    from core.live import session
    from core.live.source import Newest, SourceFrame

    class StalledSource:
        """A source that delivers one frame and then nothing, as a stream whose sender stopped."""

        kind, fps, lossless, dropped, ended, error = "stream", 30.0, False, 0, False, None

        def __init__(self, source: str, **kw) -> None:
            self.frames = Newest()
            self.frames.put(SourceFrame(0, 0.0, time.time(), np.zeros((48, 64, 3), np.uint8)))
            self.decoded, self.last_frame_at = 1, time.monotonic()

        def start(self) -> "StalledSource":
            return self

        def take(self, timeout: float = 0.5):
            self.ended = time.monotonic() - self.last_frame_at > 8.0  # without the stall check: fail, not hang
            return self.frames.take(timeout)

        def close(self) -> None:
            self.frames.close()

    monkeypatch.setattr(session, "LiveSource", StalledSource)
    monkeypatch.setattr(session, "STALL_SECONDS", 1.0)
    events: list[dict] = []
    began = time.monotonic()
    session.run_live(session.LiveSettings(source="rtsp://camera.local/stream"), emit=events.append)
    assert time.monotonic() - began < 6.0
    warnings = [e["message"] for e in events if e["event"] == "warning"]
    assert any("no frame from rtsp://camera.local/stream for 1 s: the stream stalled" in w for w in warnings), warnings
    assert events[-1]["event"] == "done"


@pytest.mark.parametrize("args, words", [
    (["no_such_clip.mp4"], "live source not found"),
    (["CLIP", "--vmc", "localhost"], "HOST:PORT"),
    (["CLIP", "--lag", "-1"], "--lag must be 0"),
])
def test_bad_input_is_a_message_and_exit_1(short_clip: Path, args: list[str], words: str) -> None:
    proc = live_process(*[str(short_clip) if a == "CLIP" else a for a in args])
    out, err = proc.communicate(timeout=60.0)
    assert proc.returncode == 1
    assert words in err and "Traceback" not in err


def test_a_session_counts_the_poses_it_held_and_its_longest_hold(demo_video: Path, tmp_path: Path) -> None:
    """The man on the box for 50 frames, then 30 empty frames (nobody in view): the stream holds his last pose on
    those, and the figures say how many poses were held and for how long at most (the bench's speed run reads them:
    a run that held the person's pose through most of its last seconds shows as such, not as a fit median of 0.1 ms)."""
    cv2 = pytest.importorskip("cv2")
    from core.live.session import LiveSettings, run_live

    clip = tmp_path / "then_nobody.mkv"
    cap = cv2.VideoCapture(str(demo_video))
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"FFV1"), 30.0, (640, 360))
    for _ in range(50):
        ok, bgr = cap.read()
        assert ok
        writer.write(cv2.resize(bgr, (640, 360), interpolation=cv2.INTER_AREA))
    for _ in range(30):
        writer.write(np.full((360, 640, 3), 90, np.uint8))
    writer.release()
    cap.release()
    # no lag: with one, the source's last frame (a held one) is never sent
    figures = run_live(LiveSettings(source=str(clip), body="mannequin", lag=0))
    assert 30 <= figures["frames_held"] < figures["frames_sent"]
    assert figures["longest_hold_s"] == pytest.approx(1.0, abs=0.1)
