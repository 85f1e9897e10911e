"""Scene properties -> CaptureRequest -> engine arguments, and input checks."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from conftest import import_ext

settings_mod = import_ext("blender_mocap.settings")
engine = import_ext("blender_mocap.engine")
errors = import_ext("core.errors")


def test_defaults_give_no_optional_engine_arguments(scene_props: Any, tmp_path: Path) -> None:
    blend = str(tmp_path / "shot.blend")
    s = settings_mod.settings_from_props(scene_props, blend_filepath=blend)
    assert s.video == str(tmp_path / "clip.mp4")  # "//" is next to the .blend
    assert s.output_dir == str(tmp_path / "mocap")
    assert s.cli_args() == []
    cmd = engine.capture_command("/py", s, "/tmp/out.npz")
    assert cmd == ["/py", "-m", "core", "capture", s.video, "--out", "/tmp/out.npz", "--progress", "json"]


def test_every_option_reaches_the_engine(scene_props: Any, tmp_path: Path) -> None:
    scene_props.video_path = str(tmp_path / "a.mov")
    scene_props.output_dir = str(tmp_path / "out")
    scene_props.frame_start, scene_props.frame_end = 10, 99
    scene_props.frame_stride, scene_props.max_frames = 2, 40
    scene_props.use_fov, scene_props.fov = True, math.radians(55.0)
    scene_props.foot_lock, scene_props.smoothing, scene_props.smoothing_face = 'ALWAYS', 0.8, 0.0
    s = settings_mod.settings_from_props(scene_props, blend_filepath="")
    assert s.output_dir == str(tmp_path / "out")
    assert s.cli_args() == ["--start", "10", "--end", "100", "--stride", "2", "--max-frames", "40",
                            "--fov", "55", "--foot-lock", "always", "--smoothing", "0.8",
                            "--smoothing-face", "0"]


def test_unsaved_file_writes_to_a_temp_folder(scene_props: Any) -> None:
    scene_props.video_path = "/videos/x.mp4"
    s = settings_mod.settings_from_props(scene_props, blend_filepath="")
    assert s.output_dir.endswith("blender-mocap")


def test_settings_are_frozen(scene_props: Any) -> None:
    s = settings_mod.settings_from_props(scene_props)
    with pytest.raises(AttributeError):
        s.video = "other"


def _settings(video: str, **kw: Any) -> Any:
    return engine.CaptureRequest(video=video, output_dir="/tmp", **kw)


def test_missing_video_message(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.mp4")
    with pytest.raises(errors.MocapError, match="^Video not found: .*nope.mp4$"):
        settings_mod.validate_settings(_settings(missing))


@pytest.mark.parametrize("name,content", [("notes.txt", b"hello world\n"), ("fake.mp4", b"not a video at all"),
                                          ("empty.mp4", b"")])
def test_non_video_is_refused(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(errors.MocapError, match="Not a video file"):
        settings_mod.validate_settings(_settings(str(path)))


def test_real_container_headers_pass(tmp_path: Path) -> None:
    mp4 = tmp_path / "clip.bin"
    mp4.write_bytes(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2")
    settings_mod.validate_settings(_settings(str(mp4)))


def test_empty_frame_range_is_refused(tmp_path: Path) -> None:
    mp4 = tmp_path / "clip.mp4"
    mp4.write_bytes(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00")
    with pytest.raises(errors.MocapError, match="frame range is empty"):
        settings_mod.validate_settings(_settings(str(mp4), start=50, end=10))


def test_body_model_options_reach_the_engine_with_its_flag_names(scene_props: Any, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    scene_props.body_model, scene_props.gender = 'SMPLX', 'FEMALE'
    scene_props.preset, scene_props.device, scene_props.pose_backend = 'ACCURATE', 'CPU', 'TORCH'
    s = settings_mod.settings_from_props(scene_props, blend_filepath="", smplx_dir=str(models))
    assert s.cli_args() == ["--body", "smplx", "--smplx-dir", str(models), "--gender", "female",
                            "--preset", "accurate", "--device", "cpu", "--pose-backend", "torch"]
    scene_props.body_model = 'MANNEQUIN'
    s = settings_mod.settings_from_props(scene_props, blend_filepath="", smplx_dir=str(models))
    assert "--smplx-dir" not in s.cli_args() and s.cli_args()[:2] == ["--body", "mannequin"]


def test_smplx_without_a_model_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(settings_mod.SMPLX_DIR_ENV, raising=False)
    mp4 = tmp_path / "clip.mp4"
    mp4.write_bytes(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00")
    with pytest.raises(errors.MocapError, match="SMPL-X model folder"):
        settings_mod.validate_settings(_settings(str(mp4), body="smplx"))
    with pytest.raises(errors.MocapError, match="model folder not found"):
        settings_mod.validate_settings(_settings(str(mp4), body="auto", smplx_dir=str(tmp_path / "nope")))
    settings_mod.validate_settings(_settings(str(mp4), body="mannequin"))


def test_the_model_folder_advice_fits_where_blender_runs() -> None:
    """In the UI: the preferences; without one (headless, a batch): the option and the variable."""
    ui, headless = settings_mod.smplx_folder_advice(False), settings_mod.smplx_folder_advice(True)
    assert "Preferences > Add-ons > blender-mocap" in ui
    assert "--smplx-dir" in headless and settings_mod.SMPLX_DIR_ENV in headless and "Preferences" not in headless


def test_build_options_come_from_the_scene_properties(scene_props: Any, tmp_path: Path) -> None:
    scene_props.ground, scene_props.correctives, scene_props.resample = False, 'BAKED', True
    options = settings_mod.build_options_from_props(scene_props, smplx_dir="//models",
                                                    blend_filepath=str(tmp_path / "a.blend"))
    assert options == settings_mod.BuildOptions(ground=False, correctives="BAKED", resample=True,
                                                smplx_dir=str(tmp_path / "models"))
    assert settings_mod.BuildOptions().ground and settings_mod.BuildOptions().correctives == "DRIVERS"
