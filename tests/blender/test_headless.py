"""The batch entry point: .blend files a pipeline TD gets without Blender's UI."""

from __future__ import annotations

import os
import stat
import sys
import textwrap

import bpy


def _action_keys(obj) -> int:
    action = obj.animation_data.action
    if bpy.app.version >= (4, 4, 0):
        bag = action.layers[0].strips[0].channelbag(obj.animation_data.action_slot)
        return len(bag.fcurves[0].keyframe_points)
    return len(action.fcurves[0].keyframe_points)


def test_build_writes_a_blend_that_reopens_with_the_take(pkg, motion_factory, tmp_path, capsys):
    motion_path = pkg.core.motion.write_motion(tmp_path / "walk.npz", motion_factory(6, mesh=True))
    out = tmp_path / "out" / "walk.blend"
    code = pkg.blender_mocap.headless.main(["build", str(motion_path), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert str(out) in capsys.readouterr().out
    assert out.is_file()
    assert [p.name for p in out.parent.iterdir()] == ["walk.blend"]  # no temp file left
    bpy.ops.wm.open_mainfile(filepath=str(out))
    armature = bpy.data.objects["walk"]
    assert armature.type == 'ARMATURE'
    assert armature.animation_data.action.name == "walk"
    assert _action_keys(armature) == 6
    assert bpy.context.scene.camera is not None


def test_bad_arguments_exit_2(pkg, capsys):
    headless = pkg.blender_mocap.headless
    assert headless.main([]) == 2
    assert headless.main(["build", "x.npz"]) == 2  # --out missing
    assert headless.main(["capture", "--out", "d"]) == 2  # no video
    assert "error" in capsys.readouterr().err


def test_build_of_a_missing_file_exits_1_with_a_message(pkg, tmp_path, capsys):
    code = pkg.blender_mocap.headless.main(["build", str(tmp_path / "gone.npz"),
                                            "--out", str(tmp_path / "gone.blend")])
    assert code == 1
    assert "motion file not found" in capsys.readouterr().err
    assert not (tmp_path / "gone.blend").exists()


def _fake_engine(tmp_path, body: str):
    """An executable standing in for the engine's Python (argv as `python -m core capture ...`)."""
    script = tmp_path / "fake_engine.py"
    script.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_capture_relays_progress_and_builds_the_blend(pkg, motion_factory, tmp_path, capsys):
    prepared = pkg.core.motion.write_motion(tmp_path / "prepared.npz", motion_factory(4))
    engine = _fake_engine(tmp_path, f"""
        import json, shutil, sys
        args = sys.argv[1:]
        assert args[:3] == ["-m", "core", "capture"], args
        assert "--stride" in args and args[args.index("--stride") + 1] == "2", args
        out = args[args.index("--out") + 1]
        print("not an event")
        for event in ({{"event": "stage", "stage": "pose", "message": "finding the person"}},
                      {{"event": "progress", "stage": "pose", "done": 5, "total": 10, "fraction": 0.5}},
                      {{"event": "warning", "message": "frame 3: no person found"}}):
            print(json.dumps(event), flush=True)
        shutil.copy({str(prepared)!r}, out)
        print(json.dumps({{"event": "done", "out": out, "frames": 4, "quality": {{}}}}))
    """)
    video = tmp_path / "dance.mp4"
    video.write_bytes(b"")
    out_dir = tmp_path / "takes"
    code = pkg.blender_mocap.headless.main(["capture", str(video), "--out", str(out_dir),
                                            "--engine-python", engine, "--stride", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "finding the person" in captured.out and "50%" in captured.out
    assert "no person found" in captured.out and "not an event" not in captured.out
    assert (out_dir / "dance.blend").is_file() and (out_dir / "dance.npz").is_file()


def test_capture_reports_the_engine_error_and_exits_1(pkg, tmp_path, capsys, monkeypatch):
    engine = _fake_engine(tmp_path, """
        import json, sys
        print(json.dumps({"event": "error", "message": "cannot decode clip.mp4: unsupported codec"}))
        sys.stderr.write("Traceback noise\\n")
        sys.exit(1)
    """)
    monkeypatch.setenv("BLENDER_MOCAP_ENGINE_PYTHON", engine)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    code = pkg.blender_mocap.headless.main(["capture", str(video), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1
    assert "unsupported codec" in err
    assert not (tmp_path / "o" / "clip.blend").exists()


def test_script_argv_takes_arguments_after_double_dash(pkg):
    script_argv = pkg.blender_mocap.headless._script_argv
    assert script_argv(["blender", "-b", "--python", "h.py", "--", "build", "m.npz"]) == ["build", "m.npz"]
    assert script_argv(["h.py", "build", "m.npz"]) == ["build", "m.npz"]


def test_runs_as_a_plain_script(pkg, motion_factory, tmp_path):
    """`python blender_mocap/headless.py build ...` bootstraps the package by itself."""
    import subprocess

    motion_path = pkg.core.motion.write_motion(tmp_path / "run.npz", motion_factory(3))
    out = tmp_path / "run.blend"
    script = os.path.join(os.path.dirname(pkg.__file__), "blender_mocap", "headless.py")
    result = subprocess.run([sys.executable, script, "build", str(motion_path), "--out", str(out)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert out.is_file()
    bad = subprocess.run([sys.executable, script, "build"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert bad.returncode == 2
