"""The preview job: motion file (+ its video) -> MP4 of the fitted body over the video.

One function, :func:`render_preview`, with progress (``emit``) and
cancellation (``should_cancel``) as parameters, used by ``python -m core
preview`` and, through it, by the Blender add-on. Video frames are streamed
and frames are rendered in chunks of ``settings.chunk_size``: memory stays
flat for any clip length.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MocapError
from ..motion import Motion, read_motion
from ..video import VideoInfo, iter_frames, open_video
from .body import Body, body_from_motion, pose_body
from .camera import Camera, second_view_camera
from .compose import draw_label, draw_landmarks, on_background, overlay
from .renderer import MeshRenderer, make_renderer
from .settings import LAYOUTS, SECOND_VIEWS, PreviewSettings, RasterSettings
from .shading import face_part_colors, frame_base_colors

log = logging.getLogger("core.preview")

Event = dict
"""{"event": "stage" | "progress" | "warning" | "done", ...}: the engine's JSON-lines protocol."""

FOURCC = "mp4v"
"""MPEG-4 Part 2: the encoder every OpenCV wheel carries (H.264 needs a GPL
FFmpeg build) and that Blender's movie clips and common players read."""


@dataclass
class PreviewResult:
    """What a preview run wrote.

    Attributes:
        out: the MP4.
        frames: frames written.
        size: (width, height) of the MP4's frames, pixels.
        fps: frame rate of the MP4.
        renderer: the renderer's name (as logged).
        seconds: wall time of the run.
        warnings: messages for the user.
    """

    out: Path
    frames: int
    size: tuple[int, int]
    fps: float
    renderer: str
    seconds: float
    warnings: list[str] = field(default_factory=list)


def default_output(motion_path: str | os.PathLike[str]) -> Path:
    """``take.npz`` -> ``take.preview.mp4`` in the same folder."""
    path = Path(motion_path)
    return path.with_name(path.stem + ".preview.mp4")


def select_rows(motion: Motion, start: int = 0, end: int | None = None, stride: int = 1,
                name: str = "the take") -> np.ndarray:
    """Motion rows to draw: video frames in [start, end), every ``stride``-th stored frame.

    Raises MocapError when fewer than 2 frames remain: a preview video of 0 or
    1 frame shows nothing to judge (and some players refuse it).
    """
    if stride < 1:
        raise MocapError(f"stride must be 1 or more, got {stride}")
    total = int(motion.poses.shape[0]) if motion.poses.ndim == 2 else 0
    if total == 0:
        raise MocapError(f"nothing to preview: {name} has no frames")
    fi = np.asarray(motion.frame_indices, np.int64)
    keep = fi >= start
    if end is not None:
        keep &= fi < end
    rows = np.flatnonzero(keep)[::stride]
    span = f"video frames {start}..{'end' if end is None else end - 1}"
    if rows.size == 0:
        raise MocapError(
            f"nothing to preview: {name} has no frames in {span} "
            f"(it holds video frames {fi.min()}..{fi.max()})"
        )
    if rows.size == 1:
        where = "holds only 1 frame" if total == 1 else f"has only 1 frame in {span} with stride {stride}"
        raise MocapError(
            f"{name} {where}: a preview video needs at least 2. "
            + ("Capture a longer range of the video." if total == 1 else "Widen the range or lower the stride.")
        )
    return rows


def _even(n: float) -> int:
    return max(2, int(round(n / 2.0)) * 2)


def render_preview(
    motion: Motion | str | os.PathLike[str],
    settings: PreviewSettings = PreviewSettings(),
    *,
    emit: Callable[[Event], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> PreviewResult:
    """Render the take over its video into an MP4.

    Args:
        motion: a motion file path, or a :class:`Motion` (then
            ``settings.out`` is required).
        settings: see :class:`PreviewSettings`.
        emit: receives stage / progress / warning / done events.
        should_cancel: polled between frames; True stops with CancelledError.

    Returns the :class:`PreviewResult`. The MP4 is written under a temporary
    name and renamed when complete, so a failed or cancelled run leaves no
    half-written file.

    Raises:
        MocapError: unreadable motion file, no mesh or camera in it, 0 or 1
            frame to draw, the video missing or unreadable, the MP4 not writable.
    """
    t_start = time.perf_counter()
    warnings: list[str] = []

    def send(event: Event) -> None:
        if event["event"] == "warning":
            warnings.append(event["message"])
        if emit is not None:
            emit(event)

    _check_settings(settings)
    motion, name, out = _load(motion, settings)
    rows = select_rows(motion, settings.start, settings.end, settings.stride, name)
    body = body_from_motion(motion, name)
    if motion.camera_intrinsics is None:
        raise MocapError(f"{name} has no camera (camera_intrinsics), so the body cannot be drawn over the video")
    info = _source_video(motion, settings, name)
    cameras = _cameras(motion, body, info, rows, settings, name, send)
    w, h = cameras[0].image_size[1], cameras[0].image_size[0]

    renderer, why = make_renderer(settings.renderer, settings.device,
                                  RasterSettings(image_size=(h, w)), settings.shading)
    message = f"Rendering {rows.size} frames at {w}x{h} with {why}"
    log.info(message)
    send({"event": "stage", "stage": "rendering", "message": message})

    fps = motion.fps / settings.stride
    out_w = w * len(cameras)
    base = face_part_colors(body.faces, body.skin_weights)

    def draw(chunk: list[tuple[int, int, np.ndarray]], writer) -> int:
        return _render_chunk(chunk, motion, body, base, renderer, cameras, settings, writer, (w, h))

    written = _write_video(out, fps, (out_w, h), info, motion, rows, name, draw, settings, send, should_cancel)
    result = PreviewResult(out=out, frames=written, size=(out_w, h), fps=fps, renderer=renderer.name,
                           seconds=time.perf_counter() - t_start, warnings=warnings)
    log.info("Wrote %s: %d frames in %.1f s (%.1f frames/s)", out, written, result.seconds,
             written / max(result.seconds, 1e-9))
    send({"event": "done", "out": str(out), "frames": written, "renderer": renderer.name,
          "quality": {}})
    return result


def _check_settings(settings: PreviewSettings) -> None:
    if settings.layout not in LAYOUTS:
        raise MocapError(f"unknown layout '{settings.layout}': use {' or '.join(LAYOUTS)}")
    if settings.second_view not in SECOND_VIEWS:
        raise MocapError(f"unknown second view '{settings.second_view}': use {' or '.join(SECOND_VIEWS)}")
    if settings.chunk_size < 1:
        raise MocapError(f"chunk size must be 1 or more, got {settings.chunk_size}")


def _load(motion: Motion | str | os.PathLike[str], settings: PreviewSettings) -> tuple[Motion, str, Path]:
    """(the motion, its name for messages, the MP4 to write)."""
    if isinstance(motion, Motion):
        if settings.out is None:
            raise MocapError("no output file given for the preview")
        return motion, "the take", Path(settings.out)
    path = Path(motion)
    return read_motion(path), path.name, Path(settings.out) if settings.out else default_output(path)


def _source_video(motion: Motion, settings: PreviewSettings, name: str) -> VideoInfo:
    """The take's video (``settings.video`` wins over the file's ``source_video``), opened."""
    video_path = settings.video or (Path(motion.source_video) if motion.source_video else None)
    if video_path is None:
        raise MocapError(f"{name} does not say which video it came from: give the video (--video PATH)")
    video_path = Path(video_path)
    if not video_path.is_file():
        raise MocapError(
            f"the video of {name} was not found: {video_path}. "
            "Give its new location (--video PATH), or restore the file."
        )
    return open_video(video_path)


def _cameras(motion: Motion, body: Body, info: VideoInfo, rows: np.ndarray, settings: PreviewSettings,
             name: str, send: Callable[[Event], None]) -> list[Camera]:
    """The take's camera at the output size, and for side by side a still second view framing the whole clip."""
    # Output size: the video's, scaled so its longer side is settings.resolution.
    scale = 1.0 if not settings.resolution else settings.resolution / max(info.width, info.height)
    w, h = _even(info.width * scale), _even(info.height * scale)
    img_w, img_h = (int(v) for v in (motion.image_size if motion.image_size is not None
                                      else (info.width, info.height)))
    if abs(img_w / img_h - info.width / info.height) > 0.01:
        send({"event": "warning", "message": (
            f"the video is {info.width}x{info.height} but {name} was captured at {img_w}x{img_h}: "
            "is it the same video?")})
    K = np.diag([w / img_w, h / img_h, 1.0]) @ np.asarray(motion.camera_intrinsics, np.float64)
    E = np.asarray(motion.camera_extrinsics if motion.camera_extrinsics is not None else np.eye(4), np.float64)
    main = Camera(K=K, R=E[:3, :3], t=E[:3, 3], image_size=(h, w))
    if settings.layout != "side-by-side":
        return [main]
    # One still camera for the whole clip, framing every posed joint (plus a
    # body's girth: joints are inside the mesh).
    _, joints = pose_body(body, motion.poses[rows], motion.trans[rows])
    extent = np.concatenate([joints.reshape(-1, 3), _girth(joints)])
    return [main, second_view_camera(main, extent, motion.world_up, settings.second_view)]


def _write_video(out: Path, fps: float, size: tuple[int, int], info: VideoInfo, motion: Motion, rows: np.ndarray,
                 name: str, draw: Callable[[list, object], int], settings: PreviewSettings,
                 send: Callable[[Event], None],
                 should_cancel: Callable[[], bool] | None) -> int:
    """Stream the video's frames of ``rows`` through ``draw`` into ``out``, atomically; returns frames written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix or '.mp4'}")
    writer = _open_writer(tmp, fps, size)
    written = 0
    try:
        wanted = motion.frame_indices[rows]
        step = int(np.gcd.reduce(np.diff(wanted))) if rows.size > 1 else 1
        frames = iter_frames(info, start=int(wanted[0]), end=int(wanted[-1]) + 1, stride=max(step, 1),
                             should_cancel=should_cancel)
        lookup = {int(f): int(r) for f, r in zip(wanted, rows)}
        chunk: list[tuple[int, int, np.ndarray]] = []
        for index, rgb in frames:
            row = lookup.get(index)
            if row is None:
                continue
            chunk.append((index, row, rgb))
            if len(chunk) == settings.chunk_size:
                written += draw(chunk, writer)
                chunk = []
                _progress(send, written, rows.size)
        if chunk:
            written += draw(chunk, writer)
            _progress(send, written, rows.size)
        writer.release()
        if written == 0:
            raise MocapError(f"{info.path.name} has none of the frames of {name}: is it the right video?")
        if written < rows.size:
            send({"event": "warning", "message": (
                f"the video ended early: {written} of {rows.size} frames drawn")})
        os.replace(tmp, out)
    except BaseException:
        writer.release()
        tmp.unlink(missing_ok=True)
        raise
    return written


def _girth(joints: np.ndarray, radius: float = 0.15) -> np.ndarray:
    """Points ``radius`` around the pelvis and head of every frame, so the frame holds the flesh too."""
    offsets = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]]) * radius
    centres = joints[:, [0, 15]].reshape(-1, 1, 3)
    return (centres + offsets).reshape(-1, 3)


def _progress(send: Callable[[Event], None], done: int, total: int) -> None:
    send({"event": "progress", "stage": "rendering", "done": done, "total": int(total),
          "fraction": round(done / max(total, 1), 4)})


def _open_writer(path: Path, fps: float, size: tuple[int, int]):
    import cv2

    if not (math.isfinite(fps) and fps > 0):
        fps = 30.0
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*FOURCC), float(fps), size)
    if not writer.isOpened():
        path.unlink(missing_ok=True)
        raise MocapError(
            f"cannot write the preview video {path.with_name(path.name.lstrip('.').replace('.partial', ''))}: "
            "check that the folder exists and you can write to it"
        )
    return writer


def _render_chunk(chunk: list[tuple[int, int, np.ndarray]], motion: Motion, body: Body, base: np.ndarray,
                  renderer: MeshRenderer, cameras: list[Camera], settings: PreviewSettings, writer,
                  size: tuple[int, int]) -> int:
    """Render, compose and write one chunk of frames; returns how many were written."""
    import cv2

    rows = np.array([r for _, r, _ in chunk])
    n, views = rows.size, len(cameras)
    expression = motion.expression[rows] if body.expression_dirs is not None else None
    verts, _ = pose_body(body, motion.poses[rows], motion.trans[rows], expression)
    colors = frame_base_colors(base, motion.confidence[rows], settings.shading)
    # One batch holds every view of every frame: view-major, n frames each.
    images = renderer(np.concatenate([verts] * views), body.faces,
                      [cam for cam in cameras for _ in range(n)],
                      np.concatenate([colors] * views))
    note = renderer.end_chunk()
    if note:
        log.info(note)
    w, h = size
    img_w, img_h = (float(v) for v in (motion.image_size if motion.image_size is not None else (w, h)))
    for k, (index, row, rgb) in enumerate(chunk):
        if rgb.shape[1] != w or rgb.shape[0] != h:
            rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
        panels = [overlay(rgb, images[k], settings.opacity)]
        if settings.landmarks and motion.keypoints_2d is not None:
            draw_landmarks(panels[0], motion.keypoints_2d[row], (w / img_w, h / img_h))
        for v in range(1, views):
            panels.append(on_background(images[v * n + k], settings.shading.background))
            if settings.frame_numbers:
                draw_label(panels[-1], f"{settings.second_view} view", right=True)
        if settings.frame_numbers:
            conf = float(motion.confidence[row])
            draw_label(panels[0], f"video frame {index}  conf {conf:.2f}" + ("  bridged" if motion.bridged[row] else ""))
        frame = panels[0] if views == 1 else np.concatenate(panels, axis=1)
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return n
