"""Video decoding: metadata and frames streamed one at a time (OpenCV).

Frames are never held whole in memory: ``iter_frames`` yields them as they are
decoded. Frames come out as RGB uint8 (H, W, 3), image frame (y down), already
turned upright when the file carries rotation metadata (OpenCV applies it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import CancelledError, MocapError

DEFAULT_HFOV_DEGREES = 60.0
"""Horizontal field of view assumed when the video says nothing about its lens.

60 degrees is between a phone's main camera (about 65-70) and a typical
camcorder or webcam at a moderate zoom; errors here mostly scale the depth of
the whole body, not its pose.
"""


class VideoError(MocapError):
    """The video cannot be opened or decoded."""


@dataclass(frozen=True)
class VideoInfo:
    """What the file says about itself, after rotation is applied.

    Attributes:
        path: the video file.
        width, height: frame size in pixels of the upright frames.
        fps: frames per second (30 when the file does not say).
        frame_count: number of frames (decoded count when the header lied).
    """

    path: Path
    width: int
    height: int
    fps: float
    frame_count: int


def _cv2():
    import cv2

    return cv2


def _capture(path: Path):
    """An OpenCV capture that turns frames upright by the file's rotation metadata.

    Phones store portrait video as landscape frames plus a display rotation;
    OpenCV's FFmpeg backend ignores it unless asked, which would hand the pose
    detector a person lying on their side.
    """
    cv2 = _cv2()
    cap = cv2.VideoCapture(str(path))
    if cap.isOpened():
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    return cap


def open_video(path: str | Path) -> VideoInfo:
    """Open ``path`` and read its metadata and first frame.

    Raises:
        VideoError: the file is missing, is not a video OpenCV can decode, or
            holds no frames. The message says which and what to do.
    """
    cv2 = _cv2()
    path = Path(path)
    if not path.exists():
        raise VideoError(f"video not found: {path}")
    if not path.is_file():
        raise VideoError(f"not a file: {path}. Pick a video file, not a folder.")
    try:  # OpenCV says only "cannot open" for an unreadable file: ask the OS first
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise VideoError(f"cannot read the video {path}: {exc.strerror or exc}. "
                         "Check the file's permissions.") from exc
    if _is_still_image(head):
        raise VideoError(f"{path.name} is a still image, not a video: capture needs a video of the "
                         "person moving (MP4, MOV, MKV ...).")
    cap = _capture(path)
    try:
        if not cap.isOpened():
            raise VideoError(
                f"{path.name} is not a video that can be read (unknown or damaged format). "
                "Convert it to MP4 (H.264) and try again."
            )
        ok, frame = cap.read()
        if not ok or frame is None:
            raise VideoError(
                f"{path.name} holds no readable frames (empty or damaged video). "
                "Check that it plays in a video player, or export it again."
            )
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        if not math.isfinite(fps) or fps <= 0 or fps > 1000:
            fps = 30.0
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        height, width = frame.shape[:2]
    finally:
        cap.release()
    return VideoInfo(path=path, width=int(width), height=int(height), fps=fps, frame_count=max(count, 1))


def _is_still_image(head: bytes) -> bool:
    """PNG, JPEG, GIF, BMP, TIFF or WebP signatures: FFmpeg opens these as one-frame 25 fps videos."""
    return (
        head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM",
                         b"II*\x00", b"MM\x00*"))
        or (head.startswith(b"RIFF") and head[8:12] == b"WEBP")
    )


HFOV_RANGE = (1.0, 170.0)
"""Horizontal fields of view (degrees) a capture accepts."""


def default_intrinsics(width: int, height: int, hfov_degrees: float = DEFAULT_HFOV_DEGREES) -> np.ndarray:
    """(3, 3) pinhole K in pixels for a horizontal field of view, centred principal point."""
    if not HFOV_RANGE[0] <= hfov_degrees <= HFOV_RANGE[1]:
        raise MocapError(f"field of view must be between {HFOV_RANGE[0]:g} and {HFOV_RANGE[1]:g} degrees, "
                         f"got {hfov_degrees}")
    f = 0.5 * width / math.tan(math.radians(hfov_degrees) / 2.0)
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


FULL_FRAME_DIAGONAL_MM = math.hypot(36.0, 24.0)
"""Diagonal of the 36 x 24 mm frame of 35 mm film, 43.27 mm: a "35 mm equivalent" focal length is the focal
length that gives the picture the angle of view across its diagonal that it would have on this frame."""

FOCAL_35MM_KEY = "com.apple.quicktime.camera.focal_length.35mm_equivalent"
LENS_MODEL_KEY = "com.apple.quicktime.camera.lens_model"


def hfov_from_35mm(focal_35mm: float, width: int, height: int) -> float:
    """Horizontal field of view (degrees) of a width x height video frame from its lens's 35 mm-equivalent focal length.

    A 35 mm equivalent is measured diagonally (Apple: "expressed as a 35mm
    equivalent focal length, measured diagonally", AVCaptureDevice
    nominalFocalLengthIn35mmFilm; Exif FocalLengthIn35mmFilm likewise), and
    Apple gives the nominal value of the lens for the photo format, 4:3. So
    the 43.27 mm diagonal of a 36 x 24 mm film frame stands for the diagonal
    of a 4:3 picture, 34.61 x 25.96 mm, and the video frame is that picture
    cut to its own shape: a wider frame (16:9) keeps the full long side and
    loses height, a squarer one keeps the short side. With ``w`` the upright
    frame's width in those millimetres,

        hfov = 2 * atan(w / (2 * focal_35mm))

    (26 mm, a phone's main camera: 67.3 degrees on a landscape 16:9 frame,
    41.0 on a portrait one). Reading the value against the video frame's own
    diagonal instead would give 71.9 degrees on 16:9, wider still than the
    4:3 reading, and stabilised phone video is already cropped a little
    inside the photo format (one public self-calibration of iPhone video
    found about 61 degrees): the 4:3 reading is the nearer of the two.
    ``width`` and ``height`` are those of the upright frame.
    """
    if not (focal_35mm > 0 and width > 0 and height > 0):
        raise MocapError(f"no field of view for a {focal_35mm} mm lens on a {width}x{height} picture")
    long_mm, short_mm = 0.8 * FULL_FRAME_DIAGONAL_MM, 0.6 * FULL_FRAME_DIAGONAL_MM  # the 4:3 picture
    aspect = max(width, height) / min(width, height)
    if aspect >= 4.0 / 3.0:
        frame_long, frame_short = long_mm, long_mm / aspect
    else:
        frame_long, frame_short = short_mm * aspect, short_mm
    across = frame_long if width >= height else frame_short
    return math.degrees(2.0 * math.atan(across / (2.0 * focal_35mm)))


def lens_hfov_degrees(path: str | Path, width: int, height: int) -> tuple[float, str] | None:
    """The camera's horizontal field of view from the video's own metadata, and where it came from; else None.

    Reads the QuickTime metadata item ``com.apple.quicktime.camera.focal_length.35mm_equivalent``
    (iPhone and iPad recordings, MOV or MP4; documented by Apple as "focal
    length normalized to the 35mm film equivalent value (e.g. "50.00mm")",
    track-level metadata of the video track; stored as UTF-8 text by Apple's
    API, other numeric types accepted too) with :mod:`core.mp4meta`, and
    converts it with :func:`hfov_from_35mm` for the upright ``width`` x
    ``height`` frame (:class:`VideoInfo`'s, rotation already applied). The
    lens model (``com.apple.quicktime.camera.lens_model``), when present, is
    named in the description.

    Caveat: video stabilisation crops a little inside the photo format, so
    the true view of stabilised phone video is a few degrees narrower than
    the nominal one; an explicit field of view (``--fov``) overrides this.

    None when the file has no such item, is not an MP4/MOV, is damaged or
    unreadable, or the value is not a plausible focal length (the field of
    view would be outside 1-170 degrees).
    """
    from .mp4meta import as_number, read_mdta_items

    items = read_mdta_items(path, {FOCAL_35MM_KEY, LENS_MODEL_KEY})
    focal = as_number(items.get(FOCAL_35MM_KEY))
    if focal is None or focal <= 0 or width <= 0 or height <= 0:
        return None
    hfov = hfov_from_35mm(focal, width, height)
    if not HFOV_RANGE[0] <= hfov <= HFOV_RANGE[1]:
        return None
    lens = items.get(LENS_MODEL_KEY)
    lens_note = f", {lens.strip()}" if isinstance(lens, str) and lens.strip() else ""
    return hfov, f"from the video's metadata: {focal:g} mm lens (35 mm equivalent{lens_note})"


def iter_frames(
    info: VideoInfo,
    *,
    start: int = 0,
    end: int | None = None,
    stride: int = 1,
    max_size: int | None = None,
    should_cancel: Callable[[], bool] | None = None,
    timestamps: list[float] | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame_index, rgb)`` for frames start, start+stride, ... < end.

    Args:
        info: from :func:`open_video`.
        start, end: frame range, 0-based, end exclusive (None: to the end).
        stride: keep every ``stride``-th frame (1 keeps all).
        max_size: if set, frames larger than this on their longer side are
            downscaled (area filter) before they are yielded; landmark
            detectors work at a few hundred pixels, and smaller frames
            convert faster.
        should_cancel: polled before each frame; when it returns True the
            iteration raises CancelledError.
        timestamps: if given, the presentation time (seconds) of each
            yielded frame is appended to it (see :func:`frame_rate_report`).

    rgb is uint8 (H, W, 3). A video that stops decoding early ends the
    iteration (the frames read so far stand); one that yields nothing raises.
    """
    cv2 = _cv2()
    if stride < 1:
        raise MocapError(f"stride must be 1 or more, got {stride}")
    if start < 0 or (end is not None and end <= start):
        raise MocapError(f"empty frame range: start {start}, end {end}")
    cap = _capture(info.path)
    if not cap.isOpened():
        raise VideoError(f"{info.path.name} could not be opened again; was it moved or deleted?")
    try:
        if start > 0:
            cap.set(cv2.CAP_PROP_POS_FRAMES, start)
            pos = int(cap.get(cv2.CAP_PROP_POS_FRAMES))
            # Seeking is inexact in some codecs; fall back to decoding from 0.
            if pos != start:
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                pos = 0
        else:
            pos = 0
        yielded = 0
        while end is None or pos < end:
            if should_cancel is not None and should_cancel():
                raise CancelledError()
            if pos < start or (pos - start) % stride:
                if not cap.grab():
                    break
                pos += 1
                continue
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            if timestamps is not None:
                timestamps.append(float(cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0)
            if max_size and max(frame.shape[:2]) > max_size:
                scale = max_size / max(frame.shape[:2])
                size = (max(1, round(frame.shape[1] * scale)), max(1, round(frame.shape[0] * scale)))
                frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            yield pos, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            yielded += 1
            pos += 1
        if yielded == 0:
            raise VideoError(
                f"{info.path.name}: no frames in the range {start}..{end if end is not None else 'end'} "
                f"(the video has about {info.frame_count} frames)"
            )
    finally:
        cap.release()


def variable_frame_rate(timestamps: list[float], fps: float, frame_indices: list[int] | np.ndarray) -> str | None:
    """A warning for the user when frames are not evenly spaced in time, else None.

    A take is keyed at one frame rate; a variable-frame-rate video (phones
    record them) then drifts from its own picture. The timestamps of decoded
    frames are compared with ``frame_index / fps``: a drift of more than
    1.5 frame periods anywhere means the rate varies.
    """
    t = np.asarray(timestamps, np.float64)
    idx = np.asarray(frame_indices, np.float64)[: len(t)]
    if len(t) < 3 or fps <= 0 or not np.isfinite(t).all():
        return None
    drift = (t - t[0]) - (idx - idx[0]) / fps
    if np.abs(drift).max() <= 1.5 / fps:
        return None
    steps = np.diff(t) / np.maximum(np.diff(idx), 1)
    steps = steps[steps > 0]
    lo, hi = (1.0 / steps.max(), 1.0 / steps.min()) if len(steps) else (fps, fps)
    return (
        f"the video has a variable frame rate ({lo:.0f} to {hi:.0f} fps; keyed at {fps:.2f} fps), so the "
        f"take drifts from the picture by up to {np.abs(drift).max():.1f} s. Convert it to a constant "
        "frame rate first, e.g. ffmpeg -i in.mp4 -fps_mode cfr -r 30 out.mp4"
    )
