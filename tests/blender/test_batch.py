"""Headless batch conversion with the real engine: a folder of videos in, finished files out."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import bpy
import numpy as np
import pytest
from unprivileged import error_as_nobody, needs_root, shared_folder  # noqa: F401 - a fixture

FORMATS = ["blend", "fbx", "bvh", "glb", "npz"]


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory, short_clip: Path, second_clip: Path) -> Path:
    """Inputs: two real clips (one with spaces and non-ASCII in its name) and a broken file."""
    folder = tmp_path_factory.mktemp("in")
    shutil.copy(short_clip, folder / "arms up.mp4")
    shutil.copy(second_clip, folder / "läuft.mp4")
    (folder / "broken.mp4").write_text("this is not a video")
    return folder


@pytest.fixture(scope="module")
def first_run(ext_module, batch_dir: Path, tmp_path_factory, engine_python: str):
    out = tmp_path_factory.mktemp("out")
    code = ext_module.blender_mocap.headless.main(
        ["capture", str(batch_dir), "--out", str(out), "--outputs", ",".join(FORMATS),
         "--max-frames", "30", "--engine-python", engine_python])
    report = json.loads((out / "report.json").read_text())
    return code, out, report


def test_good_videos_convert_and_the_broken_one_is_reported(first_run) -> None:
    code, out, report = first_run
    assert code == 1  # some failed
    status = {Path(v["input"]).name: v for v in report["videos"]}
    assert status["arms up.mp4"]["status"] == "done" and status["läuft.mp4"]["status"] == "done"
    broken = status["broken.mp4"]
    assert broken["status"] == "failed" and "broken.mp4" in broken["error"]
    assert "not a video" in broken["error"]
    for stem in ("arms up", "läuft"):
        for fmt in FORMATS:
            assert (out / f"{stem}.{fmt}").is_file(), (stem, fmt)
        entry = status[f"{stem}.mp4"]
        assert entry["frames"] == 30
        assert {"engine", "build", "export_fbx", "total"} <= set(entry["timings"])
        assert "mean_reprojection_error_px" in entry["quality"]
    assert report["summary"] == {"done": 2, "skipped": 0, "failed": 1}
    # Nothing half-written is left behind: only finished outputs, the report and the state folder.
    names = {p.name for p in out.iterdir()}
    assert names == {f"{s}.{f}" for s in ("arms up", "läuft") for f in FORMATS} | {"report.json", ".blender-mocap"}
    assert not any("partial" in p.name for p in out.rglob("*"))


def test_rerun_skips_finished_videos(ext_module, first_run, batch_dir: Path, engine_python: str) -> None:
    code, out, _ = first_run
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file() and p.name != "report.json"}
    again = ext_module.blender_mocap.headless.main(
        ["capture", str(batch_dir), "--out", str(out), "--outputs", ",".join(FORMATS),
         "--max-frames", "30", "--engine-python", engine_python])
    report = json.loads((out / "report.json").read_text())
    assert again == 1
    assert report["summary"] == {"done": 0, "skipped": 2, "failed": 1}
    after = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file() and p.name != "report.json"}
    assert after == before  # no output was rewritten


def test_bad_arguments_exit_2(ext_module, tmp_path: Path, capsys) -> None:
    headless = ext_module.blender_mocap.headless
    assert headless.main(["capture", str(tmp_path), "--out", str(tmp_path / "o")]) == 2  # no videos
    assert headless.main(["capture", "x.mp4", "--out", "o", "--outputs", "blend,mov"]) == 2
    config = tmp_path / "show.toml"
    config.write_text('outputs = ["blend"]\nstrde = 2\n')
    assert headless.main(["capture", "x.mp4", "--out", "o", "--config", str(config)]) == 2
    assert "strde" in capsys.readouterr().err


def _delta_rotations(arm, frames: list[int]) -> dict[str, np.ndarray]:
    """Per bone, (F, 3, 3) world rotation from its rest frame to its posed frame."""
    scene = bpy.context.scene
    out: dict[str, list] = {b.name: [] for b in arm.pose.bones}
    for frame in frames:
        scene.frame_set(frame)
        mw = arm.matrix_world
        for pb in arm.pose.bones:
            posed = np.array((mw @ pb.matrix).to_3x3().normalized())
            rest = np.array((mw @ pb.bone.matrix_local).to_3x3().normalized())
            out[pb.name].append(posed @ rest.T)
    return {k: np.array(v) for k, v in out.items()}


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    rel = np.einsum("...ij,...kj->...ik", a, b)
    cos = (np.trace(rel, axis1=-2, axis2=-1) - 1) / 2
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def _frame_count(arm) -> int:
    start, end = arm.animation_data.action.frame_range
    return int(round(end - start)) + 1


@pytest.mark.parametrize("fmt", ["fbx", "bvh", "glb"])
def test_exports_reimport_with_the_same_rotations(first_run, fmt: str) -> None:
    _, out, _ = first_run
    frames = [1, 10, 20, 30]
    bpy.ops.wm.open_mainfile(filepath=str(out / "arms up.blend"))
    original = bpy.data.objects["arms up"]
    truth = _delta_rotations(original, frames)
    count = _frame_count(original)
    fps = bpy.context.scene.render.fps
    bpy.ops.wm.read_homefile(use_empty=True)
    # glTF stores seconds; its importer converts them with the scene's frame rate.
    bpy.context.scene.render.fps = fps
    path = str(out / f"arms up.{fmt}")
    if fmt == "fbx":
        # Blender's FBX exporter writes frame f at time f / fps, and its importer
        # adds one frame by default (anim_offset=1); undo that for a round trip.
        bpy.ops.import_scene.fbx(filepath=path, anim_offset=0.0)
    elif fmt == "bvh":
        bpy.ops.import_anim.bvh(filepath=path, update_scene_fps=True, update_scene_duration=True)
    else:
        bpy.ops.import_scene.gltf(filepath=path)
    arms = [o for o in bpy.data.objects if o.type == "ARMATURE"]
    assert len(arms) == 1
    got = _delta_rotations(arms[0], frames)
    common = sorted(set(truth) & set(got))
    assert len(common) == 55, sorted(set(truth) - set(got))
    worst = max(float(_angle_deg(truth[n], got[n]).max()) for n in common)
    assert worst <= 0.5, f"{fmt}: worst bone rotation difference {worst:.3f} degrees"
    assert _frame_count(arms[0]) == count == 30
    assert math.isfinite(worst)


def test_settings_file_sets_the_options_and_the_command_line_wins(ext_module, tmp_path: Path) -> None:
    batch = ext_module.blender_mocap.batch
    config = tmp_path / "show.toml"
    config.write_text('outputs = ["fbx", "npz"]\nstride = 2\nfov = 55.0\npreset = "fast"\n')
    values = batch.settings_from_toml(config)
    settings = batch.BatchSettings(**{**values, "stride": 3})
    assert settings.outputs == ("fbx", "npz")
    assert settings.engine_args() == ["--stride", "3", "--fov", "55", "--preset", "fast"]


def test_json_progress_lines_for_log_collectors(ext_module, short_clip: Path, tmp_path: Path,
                                                engine_python: str, capsys) -> None:
    code = ext_module.blender_mocap.headless.main(
        ["capture", str(short_clip), "--out", str(tmp_path), "--outputs", "npz", "--max-frames", "8",
         "--progress", "json", "--engine-python", engine_python])
    assert code == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    kinds = [e["event"] for e in events]
    assert "stage" in kinds and "progress" in kinds and kinds[-2:] == ["done", "summary"]
    assert all(e["video"] == short_clip.stem for e in events if e["event"] != "summary")


def test_runs_with_python_dash_m(ext_module, short_clip: Path, tmp_path: Path, engine_python: str) -> None:
    """`python -m blender_mocap.headless` from the extension root runs the same job.

    With a glTF output: on Blender 4.2 the interpreter's exit segfaults after any glTF export (a
    Blender bug) and turned the finished batch into exit code 139 (issue 17, bug 8).
    """
    import subprocess
    import sys

    root = Path(ext_module.__path__[0])
    result = subprocess.run(
        [sys.executable, "-m", "blender_mocap.headless", "capture", str(short_clip), "--out", str(tmp_path),
         "--outputs", "blend,glb", "--max-frames", "8", "--engine-python", engine_python],
        cwd=root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / f"{short_clip.stem}.blend").is_file() and (tmp_path / f"{short_clip.stem}.glb").is_file()


def test_batch_operator_converts_a_folder_and_leaves_the_scene_alone(
        ext_module, short_clip: Path, tmp_path: Path, engine_python: str, monkeypatch) -> None:
    """The add-on's Batch panel: a separate process converts the folder; the open file is untouched."""
    registration = __import__(f"{ext_module.__name__}.registration", fromlist=["register"])
    monkeypatch.setenv("BLENDER_MOCAP_ENGINE_PYTHON", engine_python)
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(short_clip, videos / "take one.mp4")
    (videos / "broken.mp4").write_text("not a video")
    registration.register()
    try:
        bpy.ops.mesh.primitive_cube_add()
        before = {k: len(getattr(bpy.data, k)) for k in ("objects", "actions", "armatures", "cameras", "meshes")}
        props = bpy.context.scene.mocap
        props.batch_input_dir = str(videos)
        props.batch_output_dir = str(tmp_path / "out")
        props.batch_outputs = {'NPZ', 'BLEND'}
        props.max_frames = 8
        result = bpy.ops.mocap.batch()
        after = {k: len(getattr(bpy.data, k)) for k in ("objects", "actions", "armatures", "cameras", "meshes")}
    finally:
        registration.unregister()
    assert result == {'FINISHED'}
    assert after == before
    assert (tmp_path / "out" / "take one.npz").is_file() and (tmp_path / "out" / "take one.blend").is_file()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["summary"] == {"done": 1, "skipped": 0, "failed": 1}
    assert report["settings"]["max_frames"] == 8


def test_batch_operator_refuses_missing_folders(ext_module, tmp_path: Path) -> None:
    registration = __import__(f"{ext_module.__name__}.registration", fromlist=["register"])
    registration.register()
    try:
        props = bpy.context.scene.mocap
        props.batch_input_dir = str(tmp_path / "nowhere")
        props.batch_output_dir = str(tmp_path / "out")
        with pytest.raises(RuntimeError, match="folder of videos"):
            bpy.ops.mocap.batch()
    finally:
        registration.unregister()
    assert not (tmp_path / "out").exists()


def _engines_running_on(path: Path) -> list[int]:
    """PIDs of engine processes whose command line names ``path``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"core" in cmdline and str(path).encode() in cmdline:
            pids.append(int(proc.name))
    return pids


def test_sigterm_stops_the_batch_and_its_engine(ext_module, short_clip: Path, tmp_path: Path,
                                                engine_python: str) -> None:
    import signal
    import subprocess
    import sys
    import time

    video = tmp_path / "long enough.mp4"
    shutil.copy(short_clip, video)
    root = Path(ext_module.__path__[0])
    proc = subprocess.Popen(
        [sys.executable, str(root / "blender_mocap" / "headless.py"), "capture", str(video),
         "--out", str(tmp_path / "out"), "--progress", "json", "--engine-python", engine_python],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{") and json.loads(line)["event"] == "progress":
            break
    assert _engines_running_on(video)  # the engine is at work
    sent = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    assert proc.returncode == 130
    assert time.perf_counter() - sent < 3.0
    assert _engines_running_on(video) == []  # no orphaned engine
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["videos"][0]["status"] == "cancelled"
    assert not (tmp_path / "out" / "long enough.blend").exists()


def test_engine_killed_mid_capture_is_reported_and_changes_nothing(ext_module, short_clip: Path, tmp_path: Path,
                                                                   engine_python: str) -> None:
    """An engine that dies (out of memory, killed) gives a clear message; the scene stays as it was."""
    import os
    import signal
    import time

    registration = __import__(f"{ext_module.__name__}.registration", fromlist=["register"])
    registration.register()
    try:
        cap = __import__(f"{ext_module.__name__}.operators.capture", fromlist=["start_capture"])
        engine = __import__(f"{ext_module.__name__}.blender_mocap.engine", fromlist=["CaptureRequest"])
        before = {k: len(getattr(bpy.data, k)) for k in ("objects", "actions", "armatures", "cameras")}
        run = cap.start_capture(engine.CaptureRequest(video=str(short_clip), output_dir=str(tmp_path / "out")),
                                Path(engine_python))
        deadline = time.time() + 60
        while run.fraction <= 0.02 and time.time() < deadline:  # wait until pose estimation runs
            cap.handle_events(run)
            time.sleep(0.05)
        os.kill(run.job.pid, signal.SIGKILL)
        run.job.wait(timeout=10)
        level, message = cap.finish_capture(bpy.context, run)
        cap.cleanup_capture(run, cancel=False)
        after = {k: len(getattr(bpy.data, k)) for k in ("objects", "actions", "armatures", "cameras")}
    finally:
        registration.unregister()
    assert level == 'ERROR'
    assert "killed by SIGKILL" in message and "Nothing was changed" in message
    assert after == before
    assert not run.temp_dir.exists()
    assert not (tmp_path / "out").exists()


def test_symlink_loops_among_the_inputs_are_reported_not_fatal(ext_module, tmp_path: Path) -> None:
    """Issue 17, bug 4: Path.resolve() raised RuntimeError and stopped the batch; in a folder the loop vanished."""
    batch = ext_module.blender_mocap.batch
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.mp4").symlink_to(folder / "b.mp4")
    (folder / "b.mp4").symlink_to(folder / "a.mp4")
    loop = tmp_path / "loop.mp4"
    loop.symlink_to(loop)
    inputs = batch.collect_inputs([folder, loop])
    assert [p.name for p in inputs] == ["a.mp4", "b.mp4", "loop.mp4"]
    code, report_path = batch.run_batch(inputs, tmp_path / "out", batch.BatchSettings(outputs=("npz",)))
    report = json.loads(report_path.read_text())
    assert code == 1
    assert [(v["status"], "not found" in v["error"]) for v in report["videos"]] == [("failed", True)] * 3


@needs_root
def test_an_unwritable_output_folder_is_a_message_not_a_traceback(ext_module, shared_folder: Path,
                                                                 short_clip: Path) -> None:
    """Issue 17, bug 3, as the unprivileged user nobody meets it."""
    batch = ext_module.blender_mocap.batch
    locked = shared_folder / "locked"
    locked.mkdir(mode=0o555)
    message = error_as_nobody(
        lambda: batch.run_batch([short_clip], locked / "out", batch.BatchSettings(outputs=("npz",))),
        ext_module.core.errors.MocapError)
    assert "cannot create the output folder" in message and "Permission denied" in message, message


def test_a_second_batch_on_the_same_folder_says_it_is_busy(ext_module, short_clip: Path, tmp_path: Path,
                                                          capsys) -> None:
    """Issue 17, bug 6: two batches on one folder deleted each other's scratch files and misreported.

    The lock is a real OS file lock; a second open file in this same process conflicts as another
    process's would.
    """
    batch, headless = ext_module.blender_mocap.batch, ext_module.blender_mocap.headless
    out = tmp_path / "out"
    (out / ".blender-mocap").mkdir(parents=True)
    with batch.folder_lock(out):
        code = headless.main(["capture", str(short_clip), "--out", str(out), "--outputs", "npz"])
        err = capsys.readouterr().err
        assert code == 1 and "another batch is writing into" in err, err
        assert not (out / "report.json").exists()  # the first batch's report is not touched
    with batch.folder_lock(out):  # released when the holder is done
        pass


def test_ctrl_c_while_blender_builds_stops_the_batch_and_keeps_finished_outputs(
        ext_module, short_clip: Path, tmp_path: Path, engine_python: str) -> None:
    """Issue 17, bug 7 (the batch's half; the engine's is test_capture_output's cancel while writing):
    a SIGINT once the engine had finished was ignored; the batch built, wrote everything and exited 0."""
    import fcntl
    import signal
    import subprocess
    import sys

    videos = tmp_path / "in"
    videos.mkdir()
    for name in ("a first.mp4", "b second.mp4"):
        shutil.copy(short_clip, videos / name)
    out = tmp_path / "out"
    root = Path(ext_module.__path__[0])
    formats = ["blend", "fbx", "glb", "npz"]
    proc = subprocess.Popen(
        [sys.executable, str(root / "blender_mocap" / "headless.py"), "capture", str(videos), "--out", str(out),
         "--outputs", ",".join(formats), "--max-frames", "10", "--progress", "json",
         "--engine-python", engine_python],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    events = []
    for line in proc.stdout:
        if line.startswith("{"):
            events.append(json.loads(line))
            if events[-1]["index"] == 2 and events[-1].get("stage") == "building":
                proc.send_signal(signal.SIGINT)  # as Ctrl-C does, while Blender builds the second take
                break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "cancelled" in err and "b second.mp4" in err and "Traceback" not in err, err
    report = json.loads((out / "report.json").read_text())
    first, second = report["videos"]
    assert first["status"] == "done" and second["status"] == "cancelled"
    for fmt in formats:  # the first video's outputs are whole and kept
        assert (out / f"a first.{fmt}").is_file()
    for fmt in formats:  # the second's: only what was finished before the signal, as the report says
        assert (out / f"b second.{fmt}").is_file() == (fmt in second["outputs"])
    assert not [p.name for p in out.rglob("*") if "partial" in p.name or p.name.endswith(".engine.npz")]
    with open(out / ".blender-mocap" / "batch.lock", "a+b") as fh:  # no stale lock: the folder is free
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
