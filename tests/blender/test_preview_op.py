"""The Preview operator in real Blender: engine subprocess -> MP4 -> movie clip on screen."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import bpy
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from preview_fixtures import make_motion, write_video  # noqa: E402


@pytest.fixture
def preview_op(pkg, monkeypatch):
    module = importlib.import_module(f"{pkg.__name__}.operators.preview")
    monkeypatch.setenv("BLENDER_MOCAP_ENGINE_PYTHON", sys.executable)
    bpy.utils.register_class(module.MOCAP_OT_preview)
    yield module
    bpy.utils.unregister_class(module.MOCAP_OT_preview)


def _take(pkg, tmp_path: Path, module) -> tuple[bpy.types.Object, Path]:
    video = write_video(tmp_path / "clip.mp4", 8, (160, 120))
    motion_path = pkg.core.motion.write_motion(tmp_path / "take.npz", make_motion(8, (160, 120), str(video)))
    rig = bpy.data.objects.new("take", bpy.data.armatures.new("take"))
    bpy.context.scene.collection.objects.link(rig)
    rig[pkg.blender_mocap.take_keys.MOTION_FILE_PROP] = str(motion_path)
    bpy.context.view_layer.objects.active = rig
    return rig, motion_path


def test_preview_of_the_active_take_is_loaded_as_a_clip(pkg, preview_op, tmp_path):
    _, motion_path = _take(pkg, tmp_path, preview_op)
    cam = bpy.data.objects.new("cam", bpy.data.cameras.new("cam"))
    bpy.context.scene.collection.objects.link(cam)
    bpy.context.scene.camera = cam
    result = bpy.ops.mocap.preview('EXEC_DEFAULT', resolution=80, renderer='cpu')
    assert result == {'FINISHED'}
    out = motion_path.with_name("take.preview.mp4")
    assert out.is_file()
    clips = [c for c in bpy.data.movieclips if c.get(pkg.blender_mocap.take_keys.PREVIEW_PROP)]
    assert len(clips) == 1
    assert tuple(clips[0].size) == (160, 60)  # side-by-side: two 80 x 60 views
    assert clips[0].frame_duration == 8
    assert [bg.clip for bg in cam.data.background_images] == clips
    # Running it again replaces the clip instead of stacking copies.
    assert bpy.ops.mocap.preview('EXEC_DEFAULT', resolution=80, renderer='cpu', layout='overlay') == {'FINISHED'}
    clips = [c for c in bpy.data.movieclips if c.get(pkg.blender_mocap.take_keys.PREVIEW_PROP)]
    assert len(clips) == 1 and tuple(clips[0].size) == (80, 60)
    assert len(cam.data.background_images) == 1


def test_without_a_take_or_with_a_broken_one_it_says_why(pkg, preview_op, tmp_path):
    with pytest.raises(RuntimeError, match="Select a take"):
        bpy.ops.mocap.preview('EXEC_DEFAULT')
    rig, motion_path = _take(pkg, tmp_path, preview_op)
    (tmp_path / "clip.mp4").unlink()
    with pytest.raises(RuntimeError, match="Preview failed: .*video of take.npz was not found"):
        bpy.ops.mocap.preview('EXEC_DEFAULT', renderer='cpu')
    assert not list(bpy.data.movieclips)
