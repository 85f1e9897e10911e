"""Bad and awkward inputs, generated here (never committed): each gets a clear answer.

Every case runs the real engine command line, as the add-on and the batch
runner do, and checks the exit code, the message a user reads on stderr, and
that no output file appears (or the existing one is untouched).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.body.mannequin import forward_kinematics
from core.motion import read_motion
from core.skeleton import JOINT_INDEX

from video_frames import ffmpeg, read_frames

ROOT = Path(__file__).resolve().parents[2]


def engine(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "core", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=full_env)


def read_bgr(path: Path) -> list[np.ndarray]:
    """Every frame of ``path`` in OpenCV's BGR order, as ``write_clip`` writes them."""
    import cv2

    return [cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) for rgb in read_frames(path)]


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 30.0) -> Path:
    import cv2

    h, w = frames[0].shape[:2] if frames else (240, 320)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def wrist_above_head(motion_path: Path, frame: int) -> bool:
    motion = read_motion(motion_path)
    joints, _ = forward_kinematics(motion.poses, motion.rest_joints, motion.trans)
    height = joints @ np.asarray(motion.world_up)
    return bool(height[frame, JOINT_INDEX["left_wrist"]] > height[frame, JOINT_INDEX["head"]]
                and height[frame, JOINT_INDEX["right_wrist"]] > height[frame, JOINT_INDEX["head"]])


def test_zero_frame_video(tmp_path: Path) -> None:
    video = write_clip(tmp_path / "empty.mp4", [])
    proc = engine("capture", video, "--out", tmp_path / "x.npz")
    assert proc.returncode == 1
    assert "empty.mp4" in proc.stderr and ("no readable frames" in proc.stderr or "not a video" in proc.stderr)
    assert not (tmp_path / "x.npz").exists()


def test_truncated_video(tmp_path: Path, short_clip: Path) -> None:
    video = tmp_path / "cut off.mp4"
    video.write_bytes(short_clip.read_bytes()[: short_clip.stat().st_size * 2 // 5])
    proc = engine("capture", video, "--out", tmp_path / "x.npz")
    assert proc.returncode == 1 and "cut off.mp4" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x.npz").exists()


def test_video_without_a_person(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frames = [np.full((240, 320, 3), 90, np.uint8) + rng.integers(0, 20, (240, 320, 3), dtype=np.uint8)
              for _ in range(15)]
    video = write_clip(tmp_path / "empty room.mp4", frames)
    proc = engine("capture", video, "--out", tmp_path / "x.npz")
    assert proc.returncode == 1
    assert "no person was found" in proc.stderr
    assert not (tmp_path / "x.npz").exists()


def test_person_leaves_and_returns(tmp_path: Path, short_clip: Path) -> None:
    frames = read_bgr(short_clip)
    blank = [np.full_like(frames[0], 128) for _ in range(12)]
    video = write_clip(tmp_path / "away.mp4", frames[10:30] + blank + frames[30:50])
    out = tmp_path / "away.npz"
    proc = engine("capture", video, "--out", out, "--progress", "json")
    assert proc.returncode == 0, proc.stderr
    motion = read_motion(out)
    assert motion.num_frames == 52
    # The frames without him are bridged and flagged, not dropped; the others are not.
    # (MediaPipe needs a few frames to find him at the start.)
    assert motion.bridged[20:32].all() and not motion.bridged[8:18].any() and not motion.bridged[34:].any()
    assert (motion.confidence[20:32] == 0).all()
    assert "bridged" in proc.stdout  # a warning event tells the user


def test_phone_video_with_rotation_metadata(tmp_path: Path, short_clip: Path) -> None:
    """A portrait phone clip: sideways frames plus a display rotation. He must come out upright."""
    import cv2

    # Upright portrait frames: a 200 px wide crop around him. The phone stores
    # them turned a quarter clockwise, with a display rotation to undo it.
    upright = [np.ascontiguousarray(f[:, 130:330]) for f in read_bgr(short_clip)]
    raw = write_clip(tmp_path / "raw.mp4", [cv2.rotate(f, cv2.ROTATE_90_CLOCKWISE) for f in upright])
    phone = tmp_path / "phone.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(raw), "-c", "copy", str(phone))
    out = tmp_path / "phone.npz"
    proc = engine("capture", phone, "--out", out)
    assert proc.returncode == 0, proc.stderr
    motion = read_motion(out)
    assert tuple(motion.image_size) == (200, 360)  # portrait, as the phone shows it
    assert wrist_above_head(out, 30)


def test_very_large_resolution(tmp_path: Path, short_clip: Path) -> None:
    import cv2

    # Clip frames 12-35: MediaPipe needs the frames before the arms go up to track them.
    frames = [cv2.resize(f, (3840, 2160), interpolation=cv2.INTER_LINEAR) for f in read_bgr(short_clip)[12:36]]
    video = write_clip(tmp_path / "uhd.mp4", frames)
    out = tmp_path / "uhd.npz"
    proc = engine("capture", video, "--out", out)
    assert proc.returncode == 0, proc.stderr
    motion = read_motion(out)
    assert tuple(motion.image_size) == (3840, 2160)
    assert motion.camera_intrinsics[0, 2] == pytest.approx(1920.0)
    assert wrist_above_head(out, 18)


def test_paths_with_spaces_and_non_ascii(tmp_path: Path, short_clip: Path) -> None:
    folder = tmp_path / "Prise de vue été 2026" / "日本"
    folder.mkdir(parents=True)
    video = folder / "clip ünïcode.mp4"
    video.write_bytes(short_clip.read_bytes())
    out = folder / "résultat final.npz"
    proc = engine("capture", video, "--out", out, "--max-frames", "12")
    assert proc.returncode == 0, proc.stderr
    assert read_motion(out).source_video == str(video.resolve())


def test_output_folder_that_cannot_be_written(tmp_path: Path, short_clip: Path) -> None:
    blocker = tmp_path / "results"
    blocker.write_text("a file where the output folder should be")
    proc = engine("capture", short_clip, "--out", blocker / "take.npz", "--max-frames", "8")
    assert proc.returncode == 1
    assert "results" in proc.stderr and "Traceback" not in proc.stderr
    assert blocker.read_text() == "a file where the output folder should be"


def test_existing_output_survives_a_failed_run(tmp_path: Path) -> None:
    out = tmp_path / "take.npz"
    out.write_bytes(b"previous result")
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    proc = engine("capture", bad, "--out", out)
    assert proc.returncode == 1
    assert out.read_bytes() == b"previous result"


def test_capture_works_with_the_network_blocked(tmp_path: Path, short_clip: Path) -> None:
    """Offline by design: every socket connection attempt fails, the capture still succeeds."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent("""
        import socket

        def _blocked(*args, **kwargs):
            raise OSError("network access blocked by the offline test")

        socket.socket.connect = _blocked
        socket.socket.connect_ex = _blocked
        socket.create_connection = _blocked
        socket.getaddrinfo = _blocked
    """))
    out = tmp_path / "offline.npz"
    proc = engine("capture", short_clip, "--out", out, "--max-frames", "12",
                  env={"PYTHONPATH": str(site)})
    assert proc.returncode == 0, proc.stderr
    assert read_motion(out).num_frames == 12
    # The block really was in force in the engine process.
    check = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9))"],
                           env={"PYTHONPATH": str(site)}, capture_output=True, text=True)
    assert "blocked by the offline test" in check.stderr


@pytest.mark.parametrize("kind", ["damaged", "not smplx", "pickle that runs code"])
def test_wrong_smplx_model_file(tmp_path: Path, short_clip: Path, kind: str) -> None:
    import os
    import pickle

    folder = tmp_path / "models" / "smplx"
    folder.mkdir(parents=True)
    marker = tmp_path / "pwned"
    if kind == "damaged":
        (folder / "SMPLX_NEUTRAL.npz").write_bytes(b"PK\x03\x04 truncated download")
    elif kind == "not smplx":
        np.savez(folder / "SMPLX_NEUTRAL.npz", v_template=np.zeros((6890, 3)))  # an SMPL-sized file
    else:
        class RunsCode:
            def __reduce__(self):
                return (os.system, (f"touch {marker}",))

        (folder / "SMPLX_NEUTRAL.pkl").write_bytes(pickle.dumps({"v_template": RunsCode()}))
    out = tmp_path / "take.npz"
    proc = engine("capture", short_clip, "--out", out, "--body", "smplx", "--smplx-dir", tmp_path / "models",
                  "--max-frames", "8")
    assert proc.returncode == 1
    assert "SMPLX_NEUTRAL" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists() and not marker.exists()


def test_variable_frame_rate_video_is_flagged(tmp_path: Path, short_clip: Path) -> None:
    """Frames 30 on arrive at half the rate: the take would drift, and the user is told how to fix it."""
    vfr = tmp_path / "phone vfr.mp4"
    ffmpeg("-i", str(short_clip), "-vf", "setpts='if(lt(N,30),N,N*2-30)/(30*TB)'", "-fps_mode", "passthrough",
           "-c:v", "mpeg4", "-q:v", "4", str(vfr))
    out = tmp_path / "vfr.npz"
    proc = engine("capture", vfr, "--out", out, "--progress", "json")
    assert proc.returncode == 0, proc.stderr
    warnings = [e for e in map(__import__("json").loads, proc.stdout.splitlines()) if e["event"] == "warning"]
    assert any("variable frame rate" in w["message"] and "-fps_mode cfr" in w["message"] for w in warnings)
    # A constant-rate clip says nothing of the kind.
    steady = engine("capture", short_clip, "--out", tmp_path / "steady.npz", "--progress", "json",
                    "--max-frames", "12")
    assert "variable frame rate" not in steady.stdout
