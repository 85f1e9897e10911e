"""The motion file: round trip, AMASS compatibility, and a clear error for every bad file."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from core.motion import FORMAT_VERSION, Motion, MotionFileError, read_motion, write_motion
from core.skeleton import NUM_JOINTS, PARENTS, POSE_SLICES


def make_motion(frames: int = 5, seed: int = 0) -> Motion:
    rng = np.random.default_rng(seed)
    rest = np.zeros((NUM_JOINTS, 3), np.float32)
    for j, p in enumerate(PARENTS[1:], 1):
        rest[j] = rest[p] + rng.normal(0, 0.1, 3)
    return Motion(
        poses=rng.normal(0, 0.3, (frames, 165)).astype(np.float32),
        trans=rng.normal(0, 1, (frames, 3)).astype(np.float32),
        betas=np.array([0.1, 0.0, -0.05], np.float32),
        fps=30.0,
        frame_indices=np.arange(frames) * 2,
        confidence=np.linspace(0, 1, frames).astype(np.float32),
        bridged=np.arange(frames) % 2 == 0,
        reprojection_error=np.r_[np.nan, np.ones(frames - 1)].astype(np.float32),
        expression=np.zeros((frames, 0), np.float32),
        camera_intrinsics=np.array([[500.0, 0, 320], [0, 500, 180], [0, 0, 1]]),
        camera_extrinsics=np.eye(4),
        image_size=np.array([640, 360]),
        world_up=np.array([0.0, -1.0, 0.0]),
        body_model="mannequin",
        rest_joints=rest,
        quality={"mean_reprojection_error_px": 1.5},
        source_video="clip.mp4",
    )


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    motion = make_motion()
    path = write_motion(tmp_path / "take.npz", motion)
    back = read_motion(path)
    np.testing.assert_array_equal(back.poses, motion.poses)
    np.testing.assert_array_equal(back.trans, motion.trans)
    np.testing.assert_array_equal(back.frame_indices, motion.frame_indices)
    np.testing.assert_array_equal(back.bridged, motion.bridged)
    np.testing.assert_array_equal(back.rest_joints, motion.rest_joints)
    np.testing.assert_allclose(back.camera_intrinsics, motion.camera_intrinsics)
    assert back.fps == 30.0 and back.body_model == "mannequin" and back.source_video == "clip.mp4"
    assert back.quality == {"mean_reprojection_error_px": 1.5}
    assert np.isnan(back.reprojection_error[0])
    # The AMASS split keys are written too, so other tools find them.
    with np.load(path) as npz:
        for key, sl in POSE_SLICES.items():
            np.testing.assert_array_equal(npz[key], motion.poses[:, sl])
        assert float(npz["mocap_framerate"]) == 30.0
        assert int(npz["format_version"]) == FORMAT_VERSION


def test_amass_style_file_reads_with_defaults(tmp_path: Path) -> None:
    frames = 4
    path = tmp_path / "amass.npz"
    np.savez(path, poses=np.zeros((frames, 165)), trans=np.zeros((frames, 3)),
             betas=np.zeros(16), mocap_frame_rate=np.array(120.0), gender=np.array("female"))
    motion = read_motion(path)
    assert motion.num_frames == frames and motion.fps == 120.0 and motion.gender == "female"
    np.testing.assert_array_equal(motion.world_up, [0, 0, 1])  # AMASS is Z-up
    assert motion.rest_joints is None


def test_split_keys_alone_are_enough(tmp_path: Path) -> None:
    path = tmp_path / "split.npz"
    body = np.full((3, 63), 0.1)
    np.savez(path, root_orient=np.zeros((3, 3)), pose_body=body, trans=np.zeros((3, 3)))
    motion = read_motion(path)
    np.testing.assert_allclose(motion.poses[:, POSE_SLICES["pose_body"]], body)


def _tamper(tmp_path: Path, **changes) -> Path:
    path = write_motion(tmp_path / "ok.npz", make_motion())
    with np.load(path) as npz:
        data = {k: npz[k] for k in npz.files}
    data.update(changes)
    bad = tmp_path / "bad.npz"
    np.savez(bad, **data)
    return bad


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format_version": np.array(FORMAT_VERSION + 1)}, "newer blender-mocap"),
        ({"poses": np.full((5, 165), np.nan, np.float32)}, "NaN"),
        ({"poses": np.zeros((5, 100), np.float32)}, "shape"),
        ({"trans": np.zeros((4, 3), np.float32)}, "'trans' must have shape (5, 3)"),
        ({"parents": np.arange(-1, NUM_JOINTS - 1)[::-1].astype(np.int32)}, "joint tree"),
        ({"mocap_framerate": np.array(0.0)}, "frame rate"),
        ({"poses": np.zeros((0, 165), np.float32)}, "no frames"),
    ],
)
def test_bad_contents_get_a_clear_error(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(MotionFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_motion(_tamper(tmp_path, **changes))


def test_pickled_objects_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, poses=np.array([object()], dtype=object))
    with pytest.raises(MotionFileError, match="pickled"):
        read_motion(path)


@pytest.mark.parametrize("contents", [b"", b"not a zip at all", pickle.dumps({"poses": 1})])
def test_non_npz_files_are_refused(tmp_path: Path, contents: bytes) -> None:
    path = tmp_path / "junk.npz"
    path.write_bytes(contents)
    with pytest.raises(MotionFileError, match="not a readable motion file"):
        read_motion(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MotionFileError, match="not found"):
        read_motion(tmp_path / "nope.npz")


def test_truncated_archive_is_refused(tmp_path: Path) -> None:
    path = write_motion(tmp_path / "take.npz", make_motion(50))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MotionFileError):
        read_motion(path)


def test_failed_write_leaves_the_existing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_motion(tmp_path / "take.npz", make_motion(seed=1))
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", disk_full)
    with pytest.raises(MotionFileError, match="free disk space"):
        write_motion(path, make_motion(seed=2))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["take.npz"]  # no partial file left


def test_read_only_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulated: the tests run as root in CI, where chmod cannot forbid writing.
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("core.motion.tempfile.mkstemp", denied)
    with pytest.raises(MotionFileError, match="cannot write the motion file in .*Permission denied"):
        write_motion(tmp_path / "take.npz", make_motion())
    assert not (tmp_path / "take.npz").exists()


def test_invalid_motion_is_not_written(tmp_path: Path) -> None:
    motion = make_motion()
    motion.trans = motion.trans[:2]
    with pytest.raises(MotionFileError):
        write_motion(tmp_path / "take.npz", motion)
    assert not (tmp_path / "take.npz").exists()


def test_frame_ranges_names_runs_of_rows_by_their_frames() -> None:
    from core.motion import frame_ranges

    frames = np.array([10, 12, 14, 16, 18, 20, 22])  # a capture of every 2nd frame
    assert frame_ranges(frames, np.array([1, 1, 1, 0, 1, 0, 1], bool)) == "10-14, 18, 22"
    assert frame_ranges(frames) == "10-22"
    assert frame_ranges(frames, np.zeros(7, bool)) == ""
    assert frame_ranges(np.arange(20), np.arange(20) % 2 == 0, limit=3) == "0, 2, 4, ..."
    assert frame_ranges(np.arange(5), np.ones(5, bool), limit=1) == "0-4"
