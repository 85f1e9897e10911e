"""Scene properties -> a frozen :class:`CaptureSettings`, and input checks.

No bpy here: the functions take the property group (or anything with the
same attributes) and plain strings, so they are tested without Blender.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import MocapError
from .engine import CaptureSettings

SMPLX_DIR_ENV = "BLENDER_MOCAP_SMPLX_DIR"
"""Environment variable the engine reads when no SMPL-X folder is passed."""
CORRECTIVES = ("DRIVERS", "BAKED", "NONE")


@dataclass(frozen=True)
class BuildOptions:
    """How a motion becomes a take in the scene (copied from the UI).

    Attributes:
        ground: move the take (root and camera together) along the world's
            up axis so the feet stand on Z = 0 (see ``prepare``).
        correctives: SMPL-X pose-corrective shape keys: "DRIVERS" (driven by
            the bone rotations, so they follow any later edit of the pose),
            "BAKED" (keyed per frame: plain values for exporters) or "NONE".
        resample: key at the scene's frame rate (rotations slerped) instead
            of switching the scene to the motion's rate.
        smplx_dir: the user's SMPL-X model folder ("" = none): rest data for
            AMASS files, pose correctives for SMPL-X takes.
    """

    ground: bool = True
    correctives: str = "DRIVERS"
    resample: bool = False
    smplx_dir: str = ""

VIDEO_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".mts", ".m2ts", ".ts",
    ".wmv", ".flv", ".ogv", ".3gp", ".dv", ".mxf",
})

def resolve_path(path: str, blend_filepath: str) -> str:
    """Absolute path for a property value; ``//`` means next to the .blend file."""
    if path.startswith("//"):
        base = Path(blend_filepath).parent if blend_filepath else Path.cwd()
        path = str(base / path[2:])
    return os.path.abspath(os.path.expanduser(path)) if path else ""


def default_output_dir(blend_filepath: str) -> str:
    """A ``mocap`` folder next to the saved .blend, else one in the temp folder."""
    if blend_filepath:
        return str(Path(blend_filepath).resolve().parent / "mocap")
    return str(Path(tempfile.gettempdir()) / "blender-mocap")


def settings_from_props(props: Any, *, blend_filepath: str = "", smplx_dir: str = "") -> CaptureSettings:
    """Copy the ``scene.mocap`` property group into frozen settings.

    ``props.fov`` is in radians (an ANGLE property); the settings hold degrees.
    Enum identifiers (``'SMPLX'``) become the engine's values (``smplx``).
    ``smplx_dir`` is the add-on preference (resolved like the other paths).
    """
    output = resolve_path(str(props.output_dir), blend_filepath) or default_output_dir(blend_filepath)
    return CaptureSettings(
        video=resolve_path(str(props.video_path), blend_filepath),
        output_dir=output,
        start=int(props.frame_start),
        end=int(props.frame_end),
        stride=int(props.frame_stride),
        max_frames=int(props.max_frames),
        fov=math.degrees(float(props.fov)) if props.use_fov else 0.0,
        body=str(props.body_model).lower(),
        smplx_dir=resolve_path(smplx_dir, blend_filepath),
        gender=str(props.gender).lower(),
        preset=str(props.preset).lower(),
        device=str(props.device).lower(),
        pose_backend=str(props.pose_backend).lower(),
        foot_lock=str(props.foot_lock).lower(),
        smoothing=round(float(props.smoothing), 3),
        smoothing_hands=round(float(props.smoothing_hands), 3),
        smoothing_face=round(float(props.smoothing_face), 3),
    )


def build_options_from_props(props: Any, *, smplx_dir: str = "", blend_filepath: str = "") -> BuildOptions:
    """The scene-building options of a property group (``scene.mocap`` or an import operator)."""
    return BuildOptions(
        ground=bool(props.ground),
        correctives=str(props.correctives),
        resample=bool(props.resample),
        smplx_dir=resolve_path(smplx_dir, blend_filepath),
    )


def _looks_like_video(head: bytes) -> bool:
    """Container signatures of common video files (first 16 bytes)."""
    return (
        head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")  # MP4 / QuickTime
        or head.startswith(b"\x1a\x45\xdf\xa3")  # Matroska / WebM
        or (head.startswith(b"RIFF") and head[8:12] == b"AVI ")
        or head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3"))  # MPEG program / video stream
        or head.startswith(b"\x47")  # MPEG transport stream sync byte
        or head.startswith((b"OggS", b"FLV", b"\x30\x26\xb2\x75"))  # Ogg, Flash, ASF/WMV
    )


def validate_settings(settings: CaptureSettings) -> None:
    """Raise MocapError with a user message when the capture cannot start."""
    video = Path(settings.video) if settings.video else None
    if video is None:
        raise MocapError("No video chosen: pick a video file in the Mocap panel.")
    if not video.is_file():
        raise MocapError(f"Video not found: {settings.video}")
    try:
        with open(video, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise MocapError(f"Cannot read the video {settings.video}: {exc.strerror}") from exc
    if not head:
        raise MocapError(f"Not a video file (it is empty): {settings.video}")
    is_text = all(32 <= b < 127 or b in (9, 10, 13) for b in head)
    if is_text or (video.suffix.lower() not in VIDEO_EXTENSIONS and not _looks_like_video(head)):
        raise MocapError(
            f"Not a video file: {settings.video}. Choose a video such as .mp4, .mov, .mkv or .avi."
        )
    if settings.end >= 0 and settings.end < settings.start:
        raise MocapError(
            f"The frame range is empty: end frame {settings.end} is before start frame {settings.start}."
        )
    if settings.stride < 1:
        raise MocapError("Frame stride must be 1 or more.")
    if settings.body == "smplx" and not settings.smplx_dir and not os.environ.get(SMPLX_DIR_ENV):
        raise MocapError(
            "Body model SMPL-X needs the SMPL-X model files: set 'SMPL-X model folder' in "
            "Preferences > Add-ons > blender-mocap, or choose Auto or Mannequin."
        )
    if settings.smplx_dir and settings.body != "mannequin" and not Path(settings.smplx_dir).exists():
        raise MocapError(f"SMPL-X model folder not found: {settings.smplx_dir} (see the add-on's preferences)")
