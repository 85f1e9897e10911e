"""The Multi-Camera panel's operator and the batch of multi-camera takes, with the real engine on two rendered
views (bench/groundtruth/multicam.py: 1.6 s of CMU 01_03 from two phones 90 degrees apart, 320x240 at 30 fps
and 240x320 at 25 fps started 0.4 s later, a clap on both sound tracks; cached, the render tests/core's
test_capture_multi.py uses)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import bpy
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from groundtruth.multicam import MultiViewSpec, Phone, prepare_multiview  # noqa: E402

TWO_PHONES = MultiViewSpec("mv_test_two", "01_03.bvh", start_seconds=15.0, seconds=1.6, clap_seconds=0.9, phones=(
    Phone(20.0, 1.5, 60.0, 320, 240, 30.0, 0.0),
    Phone(110.0, 1.0, 50.0, 240, 320, 25.0, 0.4, 0.7),
))
"""tests/core/test_capture_multi.py's two phones (the same spec: the same cached render)."""
COUNTED = ("objects", "actions", "armatures", "cameras", "meshes", "movieclips")


@pytest.fixture(scope="module")
def two_views(engine_python: str):
    return prepare_multiview(TWO_PHONES, python=engine_python, log=lambda *_: None)


@pytest.fixture
def registered(pkg, engine_python: str, monkeypatch):
    """The add-on registered, the engine found through the environment."""
    monkeypatch.setenv("BLENDER_MOCAP_ENGINE_PYTHON", engine_python)
    registration = __import__(f"{pkg.__name__}.registration", fromlist=["register"])
    registration.register()
    try:
        yield bpy.context.scene.mocap
    finally:
        registration.unregister()


def _add(video: Path) -> None:
    bpy.ops.mocap.multi_video_add(directory=str(video.parent), files=[{"name": video.name}])


def _counts() -> dict[str, int]:
    return {k: len(getattr(bpy.data, k)) for k in COUNTED}


def _backgrounds() -> dict[str, list[str]]:
    return {o.name: [b.clip.filepath for b in o.data.background_images if b.clip is not None]
            for o in bpy.data.objects if o.type == 'CAMERA'}


def test_the_operator_builds_the_take_with_a_background_per_camera(pkg, registered, two_views, tmp_path) -> None:
    props = registered
    for video in two_views.videos:
        _add(video)
    assert [item.path for item in props.multi_videos] == [str(v) for v in two_views.videos]
    props.multi_set_offsets, props.multi_offsets = True, "0,0.4"
    props.multi_from_file, props.multi_calibration = True, str(two_views.rig_path)
    props.preset, props.output_dir = 'FAST', str(tmp_path / "motion")

    assert bpy.ops.mocap.capture_multi() == {'FINISHED'}

    cameras = {name: clips for name, clips in _backgrounds().items() if clips}
    assert sorted(cameras) == ["clip_camera", "clip_camera_2_cam1"]  # both videos are clip.mp4: numbered names
    assert cameras["clip_camera"] == [str(two_views.videos[0])] and cameras["clip_camera_2_cam1"] == [
        str(two_views.videos[1])]  # each camera its own video
    side = bpy.data.objects["clip_camera_2_cam1"]
    assert side.data.background_images[0].clip.frame_start == 1 + 12  # 0.4 s later, at the take's 30 fps
    assert tuple(side["mocap_image_size"]) == (240, 320)
    saved = sorted((tmp_path / "motion").glob("*.npz"))
    assert len(saved) == 1
    motion = pkg.core.motion.read_motion(saved[0])
    assert motion.cameras is not None and motion.cameras.num_cameras == 2
    assert not pkg.blender_mocap.runs.CAPTURE.running()


def _rig_of_three(rig: Path, tmp_path: Path) -> Path:
    data = json.loads(rig.read_text())
    data["cameras"].append(dict(data["cameras"][0], name="extra"))
    out = tmp_path / "three.json"
    out.write_text(json.dumps(data))
    return out


def test_bad_input_is_refused_with_a_message_and_the_scene_is_left_as_it_was(registered, two_views, tmp_path) -> None:
    props = registered
    bpy.ops.mesh.primitive_cube_add()
    before = _counts()
    _add(two_views.videos[0])
    with pytest.raises(RuntimeError, match="needs 2 to 8 videos.*1 is listed"):
        bpy.ops.mocap.capture_multi()
    props.multi_videos.add().path = str(tmp_path / "gone.mp4")
    with pytest.raises(RuntimeError, match="Video not found: .*gone.mp4"):
        bpy.ops.mocap.capture_multi()
    props.multi_videos[1].path = str(two_views.videos[1])
    for _ in range(7):
        props.multi_videos.add().path = str(two_views.videos[1])
    with pytest.raises(RuntimeError, match="9 are listed. Remove some"):
        bpy.ops.mocap.capture_multi()
    while len(props.multi_videos) > 2:
        props.multi_videos.remove(2)
    props.multi_set_offsets, props.multi_offsets = True, "0"
    with pytest.raises(RuntimeError, match="1 value.* for 2 videos"):
        bpy.ops.mocap.capture_multi()
    props.multi_set_offsets = False
    props.multi_from_file, props.multi_calibration = True, str(tmp_path / "none.json")
    with pytest.raises(RuntimeError, match="Rig file not found"):
        bpy.ops.mocap.capture_multi()
    # a rig file of other cameras: the engine refuses it (before any pose work) and says why
    props.multi_calibration = str(_rig_of_three(two_views.rig_path, tmp_path))
    with pytest.raises(RuntimeError, match="holds 3 cameras for 2 videos"):
        bpy.ops.mocap.capture_multi()
    assert _counts() == before


def test_the_list_operators_order_the_cameras(registered, two_views) -> None:
    props = registered
    for video in two_views.videos:
        _add(video)
    _add(two_views.videos[0])  # already listed: not added twice
    assert len(props.multi_videos) == 2 and props.multi_video_index == 1
    bpy.ops.mocap.multi_video_move(direction='UP')
    assert [Path(i.path).parent.name for i in props.multi_videos] == ["cam_1", "cam_0"]
    assert props.multi_video_index == 0
    bpy.ops.mocap.multi_video_remove()
    assert [Path(i.path).parent.name for i in props.multi_videos] == ["cam_0"]


def test_the_batch_captures_a_folder_of_takes_and_skips_it_when_done(pkg, two_views, tmp_path, engine_python) -> None:
    shoot = tmp_path / "shoot"
    (shoot / "take 1").mkdir(parents=True)
    (shoot / "lonely").mkdir()
    for name, video in zip(("a front.mp4", "b side.mp4"), two_views.videos):
        shutil.copy(video, shoot / "take 1" / name)
    shutil.copy(two_views.videos[0], shoot / "lonely" / "one.mp4")
    out = tmp_path / "out"
    argv = ["capture-multi", str(shoot), "--out", str(out), "--calibration", str(two_views.rig_path),
            "--preset", "fast", "--engine-python", engine_python]

    assert pkg.blender_mocap.headless.main(argv) == 1  # the lonely take failed; the other was done

    report = json.loads((out / "report.json").read_text())
    takes = {Path(t["input"]).name: t for t in report["takes"]}
    assert report["summary"] == {"done": 1, "skipped": 0, "failed": 1}
    assert takes["lonely"]["status"] == "failed" and "1 video(s)" in takes["lonely"]["error"]
    done = takes["take 1"]
    assert done["status"] == "done" and set(done["outputs"]) == {"blend", "npz"} and done["frames"] > 0
    assert [Path(v).name for v in done["videos"]] == ["a front.mp4", "b side.mp4"]
    assert "mean_reprojection_error_px" in done["quality"] and "engine" in done["timings"]
    motion = pkg.core.motion.read_motion(out / "take 1.npz")
    assert motion.cameras is not None and motion.cameras.num_cameras == 2
    # the sound synced the videos (no offsets given): the second started about 0.4 s later
    assert abs(float(motion.cameras.time_offsets[1]) - 0.4) < 0.02

    bpy.ops.wm.open_mainfile(filepath=str(out / "take 1.blend"))
    clips = sorted(Path(c).name for clips in _backgrounds().values() for c in clips)
    assert clips == ["a front.mp4", "b side.mp4"]  # one camera per video, each with its own background

    assert pkg.blender_mocap.headless.main(argv) == 1  # again: the take is skipped, the lonely one fails again
    again = {Path(t["input"]).name: t["status"] for t in json.loads((out / "report.json").read_text())["takes"]}
    assert again == {"take 1": "skipped", "lonely": "failed"}


def test_the_batch_panel_converts_multi_camera_takes_with_the_panels_rig(pkg, registered, two_views, tmp_path) -> None:
    """Batch panel, Multi-Camera Takes on: a folder of take folders, the Multi-Camera panel's rig file for each."""
    props = registered
    take = tmp_path / "shoot" / "take 1"
    take.mkdir(parents=True)
    for name, video in zip(("a front.mp4", "b side.mp4"), two_views.videos):
        shutil.copy(video, take / name)
    out = tmp_path / "out"
    props.batch_input_dir, props.batch_output_dir = str(take.parent), str(out)
    props.batch_outputs = {'NPZ'}
    props.batch_multi_camera = True
    props.preset = "FAST"
    props.multi_from_file = True
    props.multi_calibration = str(tmp_path / "gone.json")
    with pytest.raises(RuntimeError, match="Rig file not found"):
        bpy.ops.mocap.batch()
    assert not out.exists()

    props.multi_calibration = str(two_views.rig_path)
    before = _counts()
    assert bpy.ops.mocap.batch() == {'FINISHED'}
    assert _counts() == before  # the open scene is left alone
    report = json.loads((out / "report.json").read_text())
    assert report["summary"] == {"done": 1, "skipped": 0, "failed": 0}
    assert [Path(v).name for v in report["takes"][0]["videos"]] == ["a front.mp4", "b side.mp4"]
    cameras = pkg.core.motion.read_motion(out / "take 1.npz").cameras
    assert cameras is not None and cameras.num_cameras == 2
    manifest = json.loads((out / pkg.blender_mocap.batch_state.STATE_DIR / "take 1.take.json").read_text())
    assert manifest["multi"]["calibration"] == str(two_views.rig_path.resolve())  # the panel's rig, not calibrated


def test_the_single_camera_capture_still_works_beside_it(registered, tmp_path) -> None:
    """Both capture operators registered: neither loses its class (Blender does when one subclasses the other)."""
    assert bpy.ops.mocap.capture.poll() and bpy.ops.mocap.capture_multi.poll()
    registered.video_path = str(tmp_path / "gone.mp4")
    with pytest.raises(RuntimeError, match="Video not found"):
        bpy.ops.mocap.capture()


def test_cancelling_a_multi_camera_run_stops_the_engine_and_leaves_nothing(pkg, registered, two_views, tmp_path,
                                                                          engine_python) -> None:
    """What Esc does (the operator's release with cancel): the engine is stopped mid-way, its temp folder goes."""
    import importlib
    import time

    capture = importlib.import_module(f"{pkg.__name__}.operators.capture")
    multicam = importlib.import_module(f"{pkg.__name__}.blender_mocap.multicam_request")
    props = registered
    for video in two_views.videos:
        _add(video)
    props.output_dir = str(tmp_path / "motion")
    before = _counts()
    request = multicam.multi_request_from_props(props)
    run = capture.start_capture(request.capture, Path(engine_python), request.command)
    pkg.blender_mocap.runs.CAPTURE.start(run)
    kinds: list[str] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120 and not run.job.finished and "progress" not in kinds:
        kinds += [e["event"] for e in run.job.poll()]
        time.sleep(0.05)
    capture.cleanup_capture(run, cancel=True)
    assert "progress" in kinds, run.job.stderr_tail()  # the engine was at work on the videos
    assert run.job.returncode is not None and not run.temp_dir.exists()
    assert not pkg.blender_mocap.runs.CAPTURE.running()
    assert _counts() == before and not (tmp_path / "motion").exists()
