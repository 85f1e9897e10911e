"""Quick-look preview: both rasterizers, the camera, the reference image, the MP4 job and its CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from preview_fixtures import make_motion, write_video  # noqa: E402
from video_frames import read_frames  # noqa: E402

from core.body.mannequin import forward_kinematics, mesh, rest_joints, skin  # noqa: E402
from core.errors import MocapError  # noqa: E402
from core.motion import write_motion  # noqa: E402
from core.preview.body import body_from_motion, pose_body  # noqa: E402
from core.preview.camera import Camera, second_view_camera  # noqa: E402
from core.preview.compose import on_background, overlay  # noqa: E402
from core.preview.job import render_preview  # noqa: E402
from core.preview.raster import CpuRasterizer  # noqa: E402
from core.preview.renderer import MeshRenderer, make_renderer  # noqa: E402
from core.preview.settings import PreviewSettings, RasterSettings, ShadingSettings  # noqa: E402
from core.preview.shading import FlatShader, face_part_colors, frame_base_colors  # noqa: E402
from core.skeleton import JOINT_INDEX  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"


def _scene(size: int, frame: int = 3, num: int = 6):
    """Posed mannequin vertices/joints of one frame, the video camera and a side camera at ``size`` px."""
    motion = make_motion(num, (size, size))
    body = body_from_motion(motion)
    verts, joints = pose_body(body, motion.poses, motion.trans)
    main = Camera(K=motion.camera_intrinsics, R=np.eye(3), t=np.zeros(3), image_size=(size, size))
    side = second_view_camera(main, joints.reshape(-1, 3), motion.world_up, "side")
    return motion, body, verts[frame], joints[frame], main, side


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_pose_body_is_mannequin_skinning() -> None:
    """The matrix-product LBS of the preview equals core.body.mannequin.skin."""
    motion = make_motion(4)
    body = body_from_motion(motion)
    verts, joints = pose_body(body, motion.poses, motion.trans)
    pos, rot = forward_kinematics(motion.poses.astype(np.float64), body.rest_joints, motion.trans)
    ref = skin(body.v_template, body.skin_weights, body.rest_joints, rot, pos)
    np.testing.assert_allclose(verts, ref, atol=2e-5)
    np.testing.assert_allclose(joints, pos, atol=1e-5)


def test_cpu_and_pytorch3d_rasterizers_agree() -> None:
    """Same frame at 256 px: silhouettes IoU >= 0.98, same faces, same depth.

    One image: PyTorch3D's CPU rasterizer is naive (every face against every
    pixel, ~5 s here); the side view's camera goes through the same code.
    """
    pytest.importorskip("pytorch3d")
    from core.preview.raster_pytorch3d import PyTorch3DRasterizer

    _, body, verts, _, main, _ = _scene(256)
    settings = RasterSettings(image_size=(256, 256))
    cpu = CpuRasterizer(settings)(verts[None], body.faces, [main])
    p3d = PyTorch3DRasterizer(settings, "cpu")(verts[None], body.faces, [main])
    a = cpu.pix_to_face[0] >= 0
    b = p3d.pix_to_face[0].numpy() >= 0
    assert a.sum() > 1500, "the body must fill a good part of the image"
    assert _iou(a, b) >= 0.98
    both = a & b
    assert (cpu.pix_to_face[0][both] == p3d.pix_to_face[0].numpy()[both]).mean() > 0.98
    np.testing.assert_allclose(cpu.zbuf[0][both], p3d.zbuf[0].numpy()[both], atol=1e-3)


def test_projected_joints_land_on_the_body() -> None:
    """A joint projected by the camera is covered by the body, just behind its surface."""
    motion, body, verts, joints, main, side = _scene(256)
    frags = CpuRasterizer(RasterSettings(image_size=(256, 256)))(verts[None], body.faces, [main])
    for name in ("pelvis", "spine3", "head", "left_knee", "right_knee", "left_elbow"):
        j = joints[JOINT_INDEX[name]]
        u, v = main.project(j)
        col, row = int(np.floor(u)), int(np.floor(v))
        assert frags.pix_to_face[0, row, col] >= 0, name
        depth = frags.zbuf[0, row, col]
        assert j[2] - 0.25 < depth < j[2], (name, depth, j[2])
    # Well away from the body is empty.
    assert (frags.pix_to_face[0, :10, :10] < 0).all()


def test_second_view_shows_depth() -> None:
    """In the side view a step away from the camera moves the body sideways in the image."""
    motion = make_motion(6, (256, 256))
    body = body_from_motion(motion)
    verts, joints = pose_body(body, motion.poses, motion.trans)
    main = Camera(K=motion.camera_intrinsics, R=np.eye(3), t=np.zeros(3), image_size=(256, 256))
    side = second_view_camera(main, joints.reshape(-1, 3), motion.world_up, "side")
    pelvis = joints[:, 0]
    u_side = side.project(pelvis)[:, 0]
    assert abs(u_side[-1] - u_side[0]) > 5  # 0.4 m of depth: several pixels across
    assert np.ptp(main.project(pelvis)[:, 0]) < 1.0  # the video camera sees no sideways motion
    # The whole clip stays in the side view.
    uv = side.project(verts.reshape(-1, 3))
    assert (uv >= 0).all() and (uv <= 256).all()


def _reference_image() -> np.ndarray:
    """Overlay + side view of a fixed mannequin pose at 128 px, CPU renderer."""
    motion, body, verts, _, main, side = _scene(128, frame=4)
    renderer = MeshRenderer(CpuRasterizer(RasterSettings(image_size=(128, 128))), FlatShader())
    base = frame_base_colors(face_part_colors(body.faces, body.skin_weights), motion.confidence[[4, 4]],
                             ShadingSettings())
    images = renderer(np.stack([verts, verts]), body.faces, [main, side], base)
    ramp = np.linspace(30, 120, 128, dtype=np.uint8)
    video = np.stack([np.tile(ramp, (128, 1)), np.tile(ramp[:, None], (1, 128)), np.full((128, 128), 60, np.uint8)], -1)
    return np.concatenate([overlay(video, images[0], 0.7), on_background(images[1], (40, 40, 46))], axis=1)


def test_image_matches_reference_png() -> None:
    """Set BLENDER_MOCAP_WRITE_ACTUAL=1 to write the actual image next to the reference for a look."""
    import cv2

    actual = _reference_image()
    if os.environ.get("BLENDER_MOCAP_WRITE_ACTUAL") == "1":
        path = DATA / "preview_actual.png"
        cv2.imwrite(str(path), cv2.cvtColor(actual, cv2.COLOR_RGB2BGR))
        print(f"actual image written to {path}")
    ref = cv2.imread(str(DATA / "preview_ref.png"))
    assert ref is not None, "tests/core/data/preview_ref.png is missing"
    ref = cv2.cvtColor(ref, cv2.COLOR_BGR2RGB)
    assert ref.shape == actual.shape
    diff = np.abs(ref.astype(np.int16) - actual.astype(np.int16)).max(axis=-1)
    # Exact in practice; a few edge pixels may flip with float rounding elsewhere.
    assert (diff > 8).mean() < 0.002, f"{(diff > 8).sum()} pixels differ from the reference"


def test_the_body_is_coloured_by_part_and_tinted_when_unsure() -> None:
    motion = make_motion(6)
    body = body_from_motion(motion)
    base = face_part_colors(body.faces, body.skin_weights)
    assert len({tuple(c) for c in np.round(base, 3)}) >= 6  # torso, head, arms, hands, legs
    colors = frame_base_colors(base, np.array([1.0, 0.1]), ShadingSettings(low_confidence=0.5))
    np.testing.assert_allclose(colors[0], base)
    assert (colors[1, :, 0] - colors[1, :, 2]).mean() > (base[:, 0] - base[:, 2]).mean() + 0.3  # redder
    conf = frame_base_colors(base, np.array([1.0, 0.0]), ShadingSettings(colors="confidence"))
    assert conf[0, 0, 1] > conf[0, 0, 0] and conf[1, 0, 0] > conf[1, 0, 1]  # green when sure, red when not


def test_automatic_renderer_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    renderer, why = make_renderer("auto")
    assert isinstance(renderer.rasterizer, CpuRasterizer) and "no CUDA" in why
    assert isinstance(make_renderer("cpu")[0].rasterizer, CpuRasterizer)
    if __import__("importlib").util.find_spec("pytorch3d") is not None:
        assert make_renderer("pytorch3d", "cpu")[0].name == "pytorch3d (cpu)"
    monkeypatch.setitem(sys.modules, "core.preview.raster_pytorch3d", None)  # as if PyTorch3D were missing
    renderer, why = make_renderer("auto")
    assert isinstance(renderer.rasterizer, CpuRasterizer) and "not installed" in why
    with pytest.raises(MocapError, match="PyTorch3D is not installed"):
        make_renderer("pytorch3d")


@pytest.fixture(scope="module")
def take(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("take")
    video = write_video(folder / "clip.mp4", 12, (320, 240))
    return write_motion(folder / "take.npz", make_motion(12, (320, 240), str(video)))


def test_mp4_has_the_frames_and_size_asked_for(take: Path) -> None:
    events: list[dict] = []
    result = render_preview(take, PreviewSettings(layout="side-by-side", stride=2, resolution=160,
                                                  start=1, landmarks=True, renderer="cpu"), emit=events.append)
    assert result.out == take.with_name("take.preview.mp4") and result.out.is_file()
    frames = read_frames(result.out)
    assert len(frames) == result.frames == 6  # video frames 1, 3, 5, 7, 9, 11
    assert frames[0].shape == (120, 320, 3)  # 160 x 120 per view, two views
    assert result.fps == 15.0
    assert events[0]["event"] == "stage" and "CPU renderer" in events[0]["message"]
    assert events[-1] == {"event": "done", "out": str(result.out), "frames": 6,
                          "renderer": result.renderer, "quality": {}}
    assert [e["done"] for e in events if e["event"] == "progress"][-1] == 6
    assert not list(take.parent.glob(".*partial*"))
    # The body is drawn over the video where the camera sees the pelvis, not in the far corner.
    video = read_frames(Path(take.parent / "clip.mp4"))
    import cv2

    src = cv2.resize(video[1], (160, 120), interpolation=cv2.INTER_AREA).astype(int)
    out = frames[0][:, :160].astype(int)
    motion = make_motion(12, (320, 240))
    _, joints = pose_body(body_from_motion(motion), motion.poses[[1]], motion.trans[[1]])
    u, v = (Camera(K=motion.camera_intrinsics, R=np.eye(3), t=np.zeros(3), image_size=(240, 320))
            .project(joints[0, 0]) / 2).astype(int)
    assert np.abs(out[v, u] - src[v, u]).sum() > 40
    assert np.abs(out[-8:, -8:] - src[-8:, -8:]).mean() < 6


def test_pytorch3d_path_writes_the_same_preview(take: Path, tmp_path: Path) -> None:
    """The whole job through PyTorch3D (its CPU path, tiny images) matches the CPU renderer."""
    pytest.importorskip("pytorch3d")
    a = render_preview(take, PreviewSettings(out=tmp_path / "a.mp4", resolution=64, end=2, renderer="cpu",
                                             frame_numbers=False))
    b = render_preview(take, PreviewSettings(out=tmp_path / "b.mp4", resolution=64, end=2,
                                             renderer="pytorch3d", device="cpu", frame_numbers=False))
    assert b.renderer == "pytorch3d (cpu)" and a.frames == b.frames == 2
    fa, fb = read_frames(a.out), read_frames(b.out)
    assert np.abs(fa[1].astype(int) - fb[1].astype(int)).mean() < 1.0


def test_zero_and_one_frame_clips_say_so(take: Path, tmp_path: Path) -> None:
    out = PreviewSettings(out=tmp_path / "x.mp4", renderer="cpu")
    empty = make_motion(3)
    for key in ("poses", "trans", "frame_indices", "confidence", "bridged", "reprojection_error", "expression"):
        setattr(empty, key, getattr(empty, key)[:0])
    with pytest.raises(MocapError, match="nothing to preview: the take has no frames"):
        render_preview(empty, out)
    with pytest.raises(MocapError, match="holds only 1 frame: a preview video needs at least 2"):
        render_preview(write_motion(tmp_path / "one.npz", make_motion(1)), out)
    with pytest.raises(MocapError, match="has only 1 frame in video frames 11..end with stride 1"):
        render_preview(take, PreviewSettings(out=tmp_path / "x.mp4", start=11))
    with pytest.raises(MocapError, match="no frames in video frames 50..end"):
        render_preview(take, PreviewSettings(out=tmp_path / "x.mp4", start=50))
    assert not (tmp_path / "x.mp4").exists()


def test_missing_video_and_missing_mesh_say_what_to_do(tmp_path: Path) -> None:
    motion = make_motion(4, video=str(tmp_path / "gone.mp4"))
    path = write_motion(tmp_path / "take.npz", motion)
    with pytest.raises(MocapError, match=r"the video of take.npz was not found: .*gone.mp4.*--video PATH"):
        render_preview(path)
    motion.v_template = motion.faces = motion.skin_weights = None
    with pytest.raises(MocapError, match="holds no body mesh"):
        render_preview(write_motion(tmp_path / "amass.npz", motion))
    assert not list(tmp_path.glob("*.mp4"))


def test_cli_json_progress_and_exit_codes(take: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli.mp4"
    cmd = [sys.executable, "-m", "core.preview.cli", str(take), "--out", str(out), "--renderer", "cpu",
           "--progress", "json", "--resolution", "96", "--layout", "side-by-side", "--colors", "confidence"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert events[-1]["event"] == "done" and events[-1]["frames"] == 12 and out.is_file()
    assert "CPU renderer" in proc.stderr  # the log names the renderer
    bad = subprocess.run(cmd[:3] + [str(tmp_path / "nope.npz"), "--progress", "json"], cwd=ROOT,
                         capture_output=True, text=True)
    assert bad.returncode == 1
    assert json.loads(bad.stdout.splitlines()[-1])["message"].startswith("motion file not found")
    assert subprocess.run(cmd[:4] + ["--layout", "sideways"], cwd=ROOT, capture_output=True).returncode == 2


def test_importing_core_preview_is_light() -> None:
    code = ("import sys, core.preview; "
            "print(sorted(m for m in ('torch', 'pytorch3d', 'cv2', 'bpy') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
