"""The batch entry point: .blend files a pipeline TD gets without Blender's UI."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import bpy
import numpy as np
import pytest


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
    said = capsys.readouterr().out
    assert str(out) in said and "walk: 50% building: keying 55 bones on 6 frames" in said
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


def test_ctrl_c_while_building_exits_130_and_leaves_the_old_file(pkg, motion_factory, tmp_path):
    """Issue 17: a long build said nothing and ignored Ctrl-C. It prints progress; a real SIGINT stops it."""
    import signal

    motion_path = pkg.core.motion.write_motion(tmp_path / "long.npz", motion_factory(6000, mesh=True))
    out = tmp_path / "long.blend"
    out.write_bytes(b"the previous build")
    script = os.path.join(os.path.dirname(pkg.__file__), "blender_mocap", "headless.py")
    proc = subprocess.Popen([sys.executable, script, "build", str(motion_path), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert proc.stdout is not None
    for line in proc.stdout:
        if "% building: keying" in line:
            proc.send_signal(signal.SIGINT)  # as Ctrl-C does, half-way through the keys
            break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "cancelled" in err and "left as it was" in err and "Traceback" not in err, err
    assert out.read_bytes() == b"the previous build"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.blend", "long.npz"]  # no partial file


def _lowest_foot_z(path) -> float:
    bpy.ops.wm.open_mainfile(filepath=str(path))
    arm = next(o for o in bpy.data.objects if o.type == 'ARMATURE')
    scene = bpy.context.scene
    lowest = []
    for frame in range(scene.frame_start, scene.frame_end + 1):
        scene.frame_set(frame)
        mw = arm.matrix_world
        lowest.append(min((mw @ arm.pose.bones[n].head).z for n in ("left_foot", "right_foot")))
    return min(lowest)


def test_build_stands_the_take_on_the_floor_unless_told_not_to(pkg, motion_factory, tmp_path):
    motion_path = pkg.core.motion.write_motion(tmp_path / "m.npz", motion_factory(4, scale=0.0, mesh=True))
    grounded, floating = tmp_path / "grounded.blend", tmp_path / "floating.blend"
    assert pkg.blender_mocap.headless.main(["build", str(motion_path), "--out", str(grounded)]) == 0
    assert pkg.blender_mocap.headless.main(["build", str(motion_path), "--out", str(floating), "--no-ground"]) == 0
    assert abs(_lowest_foot_z(grounded)) < 0.1
    assert abs(_lowest_foot_z(floating) - _lowest_foot_z(grounded)) > 0.2


def test_motion_file_from_a_newer_version_is_refused(pkg, motion_factory, tmp_path, capsys):
    path = pkg.core.motion.write_motion(tmp_path / "m.npz", motion_factory(3))
    with np.load(path) as npz:
        data = {k: npz[k] for k in npz.files}
    data["format_version"] = np.array(99)
    newer = tmp_path / "newer.npz"
    np.savez(newer, **data)
    before = len(bpy.data.objects)
    code = pkg.blender_mocap.headless.main(["build", str(newer), "--out", str(tmp_path / "n.blend")])
    assert code == 1
    assert "newer blender-mocap" in capsys.readouterr().err
    assert not (tmp_path / "n.blend").exists() and len(bpy.data.objects) == before


def test_an_amass_file_without_models_names_the_headless_ways_to_give_them(pkg, tmp_path, capsys, monkeypatch):
    """Issue 17: without a UI there are no preferences to open; the message names the option and the variable."""
    monkeypatch.delenv("BLENDER_MOCAP_SMPLX_DIR", raising=False)
    rng = np.random.default_rng(0)
    amass = tmp_path / "amass.npz"
    np.savez(amass, poses=rng.normal(size=(4, 165)) * 0.3, trans=np.zeros((4, 3)), betas=np.zeros(16),
             gender=np.array("neutral"), mocap_frame_rate=np.array(120.0))
    code = pkg.blender_mocap.headless.main(["build", str(amass), "--out", str(tmp_path / "a.blend")])
    err = capsys.readouterr().err
    assert code == 1 and "--smplx-dir" in err and "BLENDER_MOCAP_SMPLX_DIR" in err, err
    assert "Preferences" not in err and "Traceback" not in err, err
    assert not (tmp_path / "a.blend").exists()


@contextlib.contextmanager
def small_disk(tmp_path: Path, size_kb: int):
    """A real size-limited tmpfs (root only): writes past its size fail with ENOSPC, as on a full disk."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path, leave: int) -> None:
    """Fill ``folder``'s disk until about ``leave`` bytes are free."""
    free = shutil.disk_usage(folder).free
    if free > leave:
        (folder / "filler").write_bytes(bytes(free - leave))


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a size-limited tmpfs needs root")
def test_a_full_disk_never_replaces_a_good_blend_with_a_broken_one(pkg, motion_factory, tmp_path, capsys):
    """Issue 17, bug 1: Blender's saver reports FINISHED after a short write; the rename then broke the good file."""
    motion_path = pkg.core.motion.write_motion(tmp_path / "walk.npz", motion_factory(6, mesh=True))
    with small_disk(tmp_path, 4096) as disk:
        good = disk / "good.blend"
        assert pkg.blender_mocap.headless.main(["build", str(motion_path), "--out", str(good)]) == 0
        before = good.read_bytes()
        for leave in (200 << 10, 8 << 10):  # room for a part of the file; then no room at all
            fill(disk, leave)
            code = pkg.blender_mocap.headless.main(["build", str(motion_path), "--out", str(good)])
            err = capsys.readouterr().err
            assert code == 1 and "disk" in err and "Traceback" not in err, err
            assert good.read_bytes() == before  # the good file is untouched
            assert sorted(p.name for p in disk.iterdir()) == ["filler", "good.blend"]  # no partial file left
            (disk / "filler").unlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a size-limited tmpfs needs root")
def test_a_full_disk_under_the_batch_report_is_a_message(pkg, tmp_path, capsys):
    """Issue 17, bug 2: report.json on a full disk was a traceback."""
    with small_disk(tmp_path, 256) as disk:
        (disk / "out" / ".blender-mocap").mkdir(parents=True)
        fill(disk, 0)
        code = pkg.blender_mocap.headless.main(["capture", str(tmp_path / "gone.mp4"), "--out", str(disk / "out"),
                                                "--outputs", "npz"])
        err = capsys.readouterr().err
        assert code == 1 and "report.json" in err and "No space left" in err and "Traceback" not in err, err
