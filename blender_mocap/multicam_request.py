"""A multi-camera capture the add-on asks the engine for: ``python -m core capture-multi VIDEO VIDEO ...``.

No bpy: the scene's ``mocap`` group (or anything with its attributes) becomes a
frozen :class:`MultiCaptureRequest`, checked before the engine starts so that bad
input (one video, more than eight, a missing file, a rig file that is not there)
is a message and the scene is left as it was. The multi-view options (offsets,
rig file, person height) are the option table's (``core/options.py``, surface
``multi``); every capture option of the single-camera panel applies to each video.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import MocapError
from ..core.options import MULTI, option_args, options_for
from .engine import CaptureRequest
from .settings import option_values, property_options, resolve_path, settings_from_props, validate_settings

MIN_VIDEOS, MAX_VIDEOS = 2, 8
"""How many videos (cameras) one take takes; the engine's limits (``core.capture_multi``)."""
PATH_OPTIONS = ("calibration", "save_calibration")


@dataclass(frozen=True, kw_only=True)
class MultiCaptureRequest:
    """One multi-camera capture, copied from the scene's properties.

    Attributes:
        capture: the capture options for every video (``capture.video`` is the
            first video: camera 1, whose frames are the take's).
        videos: absolute paths of the videos, one per camera, camera 1 first.
        offsets: seconds from the first video's start to each video's start,
            comma-separated, one per video; None: found from the sound tracks,
            else from the person's motion.
        calibration: a rig file of these cameras (as ``save_calibration`` wrote
            it), in the videos' order; None: calibrated from the person.
        save_calibration: write the cameras found to this rig file (None: not saved).
        person_height: the person's height in metres, the calibration's scale
            (None: the fitted body's bone lengths).
    """

    capture: CaptureRequest
    videos: tuple[str, ...]
    offsets: str | None = None
    calibration: str | None = None
    save_calibration: str | None = None
    person_height: float | None = None

    def cli_args(self) -> list[str]:
        """The engine's optional arguments: the capture options, then the multi-view ones (defaults left out)."""
        values = {o.name: getattr(self, o.name) for o in options_for(MULTI)}
        return self.capture.cli_args() + option_args(values, options_for(MULTI), {})

    def command(self, python: str | os.PathLike[str], out: str | os.PathLike[str]) -> list[str]:
        """The engine command line with JSON progress on stdout, writing the motion file ``out``."""
        return capture_multi_command(python, self.videos, out, self.cli_args())


def capture_multi_command(python: str | os.PathLike[str], videos: Iterable[str | os.PathLike[str]],
                          out: str | os.PathLike[str], args: Iterable[str] = ()) -> list[str]:
    """The engine command line for one multi-camera capture of ``videos`` (camera 1 first) with JSON progress
    on stdout (``engine.engine_command``'s, for ``capture-multi``)."""
    return [str(python), "-m", "core", "capture-multi", *(str(v) for v in videos), "--out", str(out),
            "--progress", "json", *args]


def multi_request_from_props(props: Any, *, blend_filepath: str = "", smplx_dir: str = "") -> MultiCaptureRequest:
    """The scene's ``mocap`` group (its ``multi_videos`` list and ``multi_*`` options) as a request.

    Paths are resolved as the single-camera capture resolves them (``//`` is next to the .blend).
    """
    videos = tuple(resolve_path(str(item.path), blend_filepath) for item in props.multi_videos)
    values = option_values(props, property_options(MULTI))
    for name in PATH_OPTIONS:
        if values.get(name):
            values[name] = resolve_path(str(values[name]), blend_filepath)
    if values.get("person_height") is not None:  # Blender keeps it in float32
        values["person_height"] = round(float(values["person_height"]), 3)
    capture = settings_from_props(props, blend_filepath=blend_filepath, smplx_dir=smplx_dir)
    capture = dataclasses.replace(capture, video=videos[0] if videos else "")
    return MultiCaptureRequest(capture=capture, videos=videos, **values)


def validate_multi_request(request: MultiCaptureRequest) -> None:
    """Raise MocapError with a message for the user when the capture cannot start."""
    count = len(request.videos)
    if not MIN_VIDEOS <= count <= MAX_VIDEOS:
        raise MocapError(f"A multi-camera take needs {MIN_VIDEOS} to {MAX_VIDEOS} videos of the same performance, "
                         f"one per camera; {count} {'is' if count == 1 else 'are'} listed. "
                         + ("Add the other cameras' videos." if count < MIN_VIDEOS else "Remove some."))
    seen: set[str] = set()
    for k, video in enumerate(request.videos):
        if not video:
            raise MocapError(f"Video {k + 1} of the multi-camera take has no file: choose one or remove it.")
        if video in seen:
            raise MocapError(f"{Path(video).name} is listed twice: each camera needs its own video.")
        seen.add(video)
        validate_settings(dataclasses.replace(request.capture, video=video))
    if request.capture.people == "all":
        raise MocapError("A multi-camera take follows one person: set People to One (pick the performer with "
                         "Person, a pixel of the first video).")
    if request.offsets is not None:
        check_offsets(request.offsets, count)
    check_rig_file(request.calibration)
    if request.save_calibration and not Path(request.save_calibration).parent.is_dir():
        raise MocapError(f"Cannot save the rig as {request.save_calibration}: its folder does not exist.")


def check_rig_file(path: str | None) -> None:
    """Raise MocapError unless the Multi-Camera panel's rig file (None: Cameras from File off) exists."""
    if path is not None and not Path(path).is_file():
        raise MocapError(f"Rig file not found: {path or '(none chosen)'}. Choose the file an earlier take of these "
                         "cameras saved, or turn off Cameras from File to calibrate from the person.")


def check_offsets(text: str, count: int) -> None:
    """Raise MocapError unless ``text`` is ``count`` comma-separated numbers of seconds."""
    parts = [p.strip() for p in text.split(",")] if text.strip() else []
    try:
        [float(p) for p in parts]
    except ValueError:
        raise MocapError(f"Offsets {text!r}: give seconds per video separated by commas, e.g. 0,1.37") from None
    if len(parts) != count:
        raise MocapError(f"Offsets {text!r} give {len(parts)} value(s) for {count} videos: one per video, "
                         "the first 0 (seconds from the first video's start to each video's start).")
