"""Preview renderer speed: the CPU renderer vs PyTorch3D, 20k-face SMPL-X-format body over 512x512 frames.

    python3 dev.py bench preview [--frames N] [--pytorch3d-frames N]

Body: the synthetic SMPL-X-format model (``tests/testdata/smplx_model.py`` ``write_synthetic_model``:
10,475 vertices, 20,908 faces, of which the mannequin's 12,008 have area; the
rest are SMPL-X padding, degenerate) posed by LBS, and the mannequin
subdivided once (48,032 faces, all with area) to show how cost grows with
real faces. Frames: a 512x512 synthetic image per frame (no decoding: that
is the video's cost, not the renderer's), body about 85% of the image height.

Figures per body: CPU renderer fps for rendering + overlay (the renderer's
work per frame), fps including LBS posing, side-by-side fps; PyTorch3D's
rasterizer on the CPU for one or two frames (seconds each), and the ratio.
On CUDA also PyTorch3D fps at 512/1024/2048 px for chunk sizes 1/8/32.
Flat JSON: bench/results/preview.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.body.smplx_file import load_model_arrays  # noqa: E402
from core.preview.body import Body, pose_body  # noqa: E402
from core.preview.camera import Camera, second_view_camera  # noqa: E402
from core.preview.compose import on_background, overlay  # noqa: E402
from core.preview.raster import CpuRasterizer  # noqa: E402
from core.preview.renderer import MeshRenderer  # noqa: E402
from core.preview.settings import RasterSettings, ShadingSettings  # noqa: E402
from core.preview.shading import FlatShader, face_part_colors, frame_base_colors  # noqa: E402
from core.skeleton import JOINT_INDEX, NUM_JOINTS  # noqa: E402
from tests.testdata.smplx_model import write_synthetic_model  # noqa: E402


from _results import write_results  # noqa: E402


def smplx_body() -> Body:
    with tempfile.TemporaryDirectory() as tmp:
        arrays = load_model_arrays(write_synthetic_model(Path(tmp) / "SMPLX_NEUTRAL.npz"))
    v = arrays["v_template"].astype(np.float32)
    return Body(v_template=v, faces=arrays["f"].astype(np.int64),
                skin_weights=arrays["weights"].astype(np.float32),
                rest_joints=(arrays["J_regressor"] @ v).astype(np.float32))


def subdivided_mannequin() -> Body:
    """The mannequin with every triangle split in four (edge midpoints)."""
    from core.body.mannequin import mesh, rest_joints

    v, f, w = mesh()
    edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    unique, inverse = np.unique(edges, axis=0, return_inverse=True)
    mid = len(v) + inverse.reshape(3, -1).T  # (F, 3): midpoint of edges 01, 12, 20
    v2 = np.concatenate([v, 0.5 * (v[unique[:, 0]] + v[unique[:, 1]])])
    w2 = np.concatenate([w, 0.5 * (w[unique[:, 0]] + w[unique[:, 1]])])
    a, b, c = f[:, 0], f[:, 1], f[:, 2]
    m01, m12, m20 = mid[:, 0], mid[:, 1], mid[:, 2]
    f2 = np.concatenate([np.stack(t, 1) for t in ((a, m01, m20), (m01, b, m12), (m20, m12, c), (m01, m12, m20))])
    return Body(v_template=v2.astype(np.float32), faces=f2.astype(np.int64), skin_weights=w2.astype(np.float32),
                rest_joints=rest_joints())


def mannequin_with_faces(count: int = 20908) -> Body:
    """A body with ``count`` faces that all have area (SMPL-X has 20,908).

    The mannequin (12,008 faces) with as many of its triangles split in four
    as that takes; the synthetic SMPL-X file pads its mesh with degenerate
    faces, which cost the rasteriser almost nothing, so this is the fair
    stand-in for the real body's cost.
    """
    from core.body.mannequin import mesh

    _, f, _ = mesh()
    fine = subdivided_mannequin()
    F = len(f)
    split = (count - F) // 3
    children = np.concatenate([fine.faces[k * F:k * F + split] for k in range(4)])
    faces = np.concatenate([children, f[split:]])
    return Body(v_template=fine.v_template, faces=faces, skin_weights=fine.skin_weights,
                rest_joints=fine.rest_joints)


def motion(num: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    poses = np.zeros((num, NUM_JOINTS, 3))
    poses[:, 0] = (np.pi, 0.0, 0.0)
    t = np.linspace(0, 2 * np.pi, num)
    poses[:, 0, 1] = 0.6 * np.sin(t)  # turning left and right
    poses[:, JOINT_INDEX["left_shoulder"], 2] = -0.3 - 0.8 * (1 + np.sin(2 * t)) / 2
    poses[:, JOINT_INDEX["right_shoulder"], 2] = 0.3 + 0.8 * (1 + np.cos(2 * t)) / 2
    poses[:, JOINT_INDEX["left_elbow"], 1] = -0.8
    poses[:, JOINT_INDEX["left_knee"], 0] = 0.5 * (1 + np.sin(t))
    trans = np.tile([0.0, 0.1, 2.6], (num, 1))
    return poses.reshape(num, -1).astype(np.float32), trans.astype(np.float32), np.linspace(1, 0.2, num)


def bench_body(label: str, body: Body, frames: int, p3d_frames: int, size: int, out: dict) -> None:
    poses, trans, conf = motion(frames)
    f = 0.5 * size / np.tan(np.radians(25.0))
    main = Camera(K=np.array([[f, 0, size / 2], [0, f, size / 2], [0, 0, 1.0]]), R=np.eye(3), t=np.zeros(3),
                  image_size=(size, size))
    _, joints = pose_body(body, poses, trans)
    side = second_view_camera(main, joints.reshape(-1, 3), np.array([0.0, -1.0, 0.0]))
    raster = RasterSettings(image_size=(size, size))
    cpu = MeshRenderer(CpuRasterizer(raster), FlatShader())
    base = face_part_colors(body.faces, body.skin_weights)
    colors = frame_base_colors(base, conf, ShadingSettings())
    video = np.tile(np.linspace(20, 120, size, dtype=np.uint8)[None, :, None], (size, 1, 3))
    chunk = 8

    # Posing (LBS) alone.
    t0 = time.perf_counter()
    verts = np.concatenate([pose_body(body, poses[i:i + chunk], trans[i:i + chunk])[0]
                            for i in range(0, frames, chunk)])
    t_pose = time.perf_counter() - t0
    cpu(verts[:2], body.faces, [main, main], colors[:2])  # warm-up

    def run(views: list[Camera]) -> float:
        t0 = time.perf_counter()
        for i in range(0, frames, chunk):
            n = min(chunk, frames - i)
            images = cpu(np.concatenate([verts[i:i + n]] * len(views)), body.faces,
                         [c for c in views for _ in range(n)], np.concatenate([colors[i:i + n]] * len(views)))
            for k in range(n):
                composed = overlay(video, images[k], 0.6)
                if len(views) > 1:
                    composed = np.concatenate([composed, on_background(images[n + k], (40, 40, 46))], axis=1)
        return time.perf_counter() - t0

    t_overlay = run([main])
    t_sbs = run([main, side])
    visible = int((np.abs(np.cross(body.v_template[body.faces[:, 1]] - body.v_template[body.faces[:, 0]],
                                   body.v_template[body.faces[:, 2]] - body.v_template[body.faces[:, 0]]))
                   .sum(axis=1) > 0).sum())
    cover = (cpu.rasterizer(verts[:1], body.faces, [main]).pix_to_face >= 0).mean()
    fps = frames / t_overlay
    out.update({
        f"{label}_faces": int(len(body.faces)), f"{label}_faces_with_area": visible,
        f"{label}_vertices": int(len(body.v_template)), f"{label}_body_pixel_fraction": round(float(cover), 3),
        f"{label}_cpu_render_overlay_fps": round(fps, 1),
        f"{label}_cpu_with_lbs_fps": round(frames / (t_overlay + t_pose), 1),
        f"{label}_cpu_side_by_side_fps": round(frames / t_sbs, 1),
        f"{label}_lbs_ms_per_frame": round(1000 * t_pose / frames, 2),
    })
    print(f"[{label}] {len(body.faces)} faces ({visible} with area), {len(body.v_template)} vertices, "
          f"{size}x{size}, body covers {cover:.0%} of the image, {frames} frames")
    print(f"  CPU renderer: {fps:.1f} fps render+overlay ({1000 / fps:.1f} ms/frame); "
          f"{frames / (t_overlay + t_pose):.1f} fps with LBS posing ({1000 * t_pose / frames:.1f} ms/frame); "
          f"{frames / t_sbs:.1f} fps side-by-side")

    try:
        import torch

        from core.preview.raster_pytorch3d import PyTorch3DRasterizer
    except ImportError as exc:
        print(f"  PyTorch3D not available ({exc})")
        return
    p3d_cpu = MeshRenderer(PyTorch3DRasterizer(raster, "cpu"), FlatShader())
    t0 = time.perf_counter()
    for i in range(p3d_frames):
        images = p3d_cpu(verts[i:i + 1], body.faces, [main], colors[i:i + 1])
        overlay(video, images[0], 0.6)
    t_p3d = (time.perf_counter() - t0) / p3d_frames
    last = slice(p3d_frames - 1, p3d_frames)  # the frame PyTorch3D drew last
    got = images[0][..., 3] > 0
    ref = cpu(verts[last], body.faces, [main], colors[last])[0][..., 3] > 0
    iou = float((ref & got).sum() / max((ref | got).sum(), 1))
    out.update({f"{label}_pytorch3d_cpu_s_per_frame": round(t_p3d, 2),
                f"{label}_cpu_vs_pytorch3d_cpu_speedup": round(t_p3d * fps, 1),
                f"{label}_silhouette_iou_cpu_vs_pytorch3d": round(iou, 4)})
    print(f"  PyTorch3D on the CPU: {t_p3d:.2f} s/frame ({p3d_frames} frame(s)); "
          f"CPU renderer is {t_p3d * fps:.0f}x faster; silhouette IoU {iou:.4f}")

    if torch.cuda.is_available():
        for px in (512, 1024, 2048):
            s = px / size
            cam = main.scaled(s, (px, px))
            gpu = MeshRenderer(PyTorch3DRasterizer(RasterSettings(image_size=(px, px)), "cuda"), FlatShader())
            for ch in (1, 8, 32):
                gpu(verts[:ch], body.faces, [cam] * ch, colors[:ch])  # warm-up
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                done = 0
                while done < max(frames, 64):
                    n = ch
                    idx = np.arange(done, done + n) % frames
                    gpu(verts[idx], body.faces, [cam] * n, colors[idx])
                    done += n
                    gpu.end_chunk()
                torch.cuda.synchronize()
                rate = done / (time.perf_counter() - t0)
                out[f"{label}_pytorch3d_cuda_{px}px_chunk{ch}_fps"] = round(rate, 1)
                print(f"  PyTorch3D CUDA {px}px chunk {ch}: {rate:.1f} fps")
    else:
        print("  no CUDA device: PyTorch3D GPU figures skipped")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--pytorch3d-frames", type=int, default=1)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    out: dict = {"size_px": args.size, "frames": args.frames, "cpu_count": os.cpu_count() or 0,
                 "machine": platform.processor() or platform.machine()}
    print(f"preview bench: {platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}")
    bench_body("body21k", mannequin_with_faces(), args.frames, args.pytorch3d_frames, args.size, out)
    bench_body("smplx20k", smplx_body(), args.frames, args.pytorch3d_frames, args.size, out)
    bench_body("mannequin48k", subdivided_mannequin(), args.frames, args.pytorch3d_frames, args.size, out)
    print(f"wrote {write_results('preview', out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
