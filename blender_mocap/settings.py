"""Scene properties <-> option values: a frozen :class:`CaptureRequest`, :class:`BuildOptions`.

No bpy here: the functions take the property group (or anything with the
same attributes) and plain strings, so they are tested without Blender. The
options and their Blender properties are declared in ``core/options.py``;
this module turns those declarations into property definitions
(:func:`property_spec`, made into ``bpy.props`` by ``properties.py``) and
converts between property values (upper-case enum identifiers, radians, the
last frame kept) and option values (the engine's).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import MocapError
from ..core.options import BUILD, ENGINE, OPTION, SCENE, Correctives, Option, Surface, options_for
from .engine import CaptureRequest

SMPLX_DIR_ENV = "BLENDER_MOCAP_SMPLX_DIR"
"""Environment variable the engine reads when no SMPL-X folder is passed."""
CORRECTIVES: tuple[str, ...] = OPTION["correctives"].choices


def smplx_folder_advice(headless: bool) -> str:
    """How to give the SMPL-X model folder, as a sentence: the command line's option and the
    environment variable when Blender runs without its UI (``bpy.app.background``), where
    no preferences window can be opened; else the add-on's preferences."""
    if headless:
        return (f"Give the SMPL-X model folder with --smplx-dir DIR (smplx_dir in a batch's TOML settings) "
                f"or the environment variable {SMPLX_DIR_ENV}.")
    return (f"Set 'SMPL-X model folder' in Preferences > Add-ons > blender-mocap (or the environment "
            f"variable {SMPLX_DIR_ENV}) to the folder you downloaded them to.")


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

    ground: bool = OPTION["ground"].default
    correctives: Correctives = OPTION["correctives"].default
    resample: bool = OPTION["resample"].default
    smplx_dir: str = ""


PROPERTY_KINDS = {bool: "BoolProperty", int: "IntProperty", float: "FloatProperty", str: "StringProperty"}


def property_options(*surfaces: Surface) -> tuple[Option, ...]:
    """The options that are Blender properties (on each of ``surfaces`` too)."""
    return tuple(o for o in options_for(SCENE, *surfaces) if o.ui is not None)


def enum_id(choice: object) -> str:
    """The Blender enum identifier of a choice: "smplx" -> "SMPLX"."""
    return str(choice).upper()


def prop_value(option: Option, value: Any) -> Any:
    """A (not None) option value as its property holds it."""
    assert option.ui is not None
    if option.choices:
        return enum_id(value)
    if option.ui.subtype == "ANGLE":
        return math.radians(value)
    if option.ui.last_frame:
        return value - 1
    return value


def property_spec(option: Option, **override: Any) -> tuple[str, dict[str, Any]]:
    """(``bpy.props`` function name, its keyword arguments) for an option's property.

    ``override`` replaces arguments, in option values (``default="new"``).
    """
    ui = option.ui
    assert ui is not None, f"{option.name} is not a Blender property"
    kwargs: dict[str, Any] = {"name": ui.label, "description": ui.description,
                              "default": override.pop("default", ui.default)}
    for key in ("default", "min", "max", "soft_max"):
        value = kwargs.get(key, getattr(ui, key, None))
        if value is not None:
            kwargs[key] = math.radians(value) if ui.subtype == "ANGLE" else value
    if option.choices:
        kwargs["default"] = enum_id(kwargs["default"])
        kwargs["items"] = [(enum_id(choice), name, text) for choice, name, text in ui.items]
    if ui.subtype:
        kwargs["subtype"] = ui.subtype
    kwargs.update(override)
    return ("EnumProperty" if option.choices else PROPERTY_KINDS[option.type]), kwargs


def scene_property_specs() -> dict[str, tuple[str, dict[str, Any]]]:
    """The option properties of ``scene.mocap`` by property name (with the toggles, e.g. ``use_fov``)."""
    specs: dict[str, tuple[str, dict[str, Any]]] = {}
    for option in property_options():
        assert option.ui is not None
        if option.ui.toggle is not None:
            prop, label, description = option.ui.toggle
            specs[prop] = ("BoolProperty", {"name": label, "description": description, "default": False})
        specs[option.prop] = property_spec(option)
    return specs


def option_values(props: Any, options: tuple[Option, ...]) -> dict[str, Any]:
    """The option values (the engine's: lower case, degrees, exclusive end) a property group holds.

    A property at its ``unset`` value, or whose toggle is off, gives None.
    """
    values: dict[str, Any] = {}
    for option in options:
        ui = option.ui
        assert ui is not None
        raw = getattr(props, option.prop)
        if (ui.toggle is not None and not getattr(props, ui.toggle[0])) or (ui.unset is not None and raw == ui.unset):
            values[option.name] = None
        elif option.choices:
            values[option.name] = {enum_id(c): c for c in option.choices}[str(raw)]
        elif ui.subtype == "ANGLE":
            values[option.name] = math.degrees(float(raw))
        elif ui.subtype == "FACTOR":
            values[option.name] = round(float(raw), 3)
        elif ui.last_frame:
            values[option.name] = int(raw) + 1
        else:
            values[option.name] = option.type(raw)
    return values


def prop_values(values: Mapping[str, Any], options: tuple[Option, ...]) -> dict[str, Any]:
    """The property values that hold option ``values`` (the inverse of :func:`option_values`)."""
    props: dict[str, Any] = {}
    for option in options:
        ui = option.ui
        assert ui is not None
        value = values.get(option.name)
        if ui.toggle is not None:
            props[ui.toggle[0]] = value is not None
        if value is None:
            props[option.prop] = ui.unset if ui.unset is not None else prop_value(option, ui.default)
        else:
            props[option.prop] = prop_value(option, value)
    return props


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


def settings_from_props(props: Any, *, blend_filepath: str = "", smplx_dir: str = "") -> CaptureRequest:
    """Copy the ``scene.mocap`` property group into a frozen capture request.

    Property values become the engine's (see :func:`option_values`).
    ``smplx_dir`` is the add-on preference (resolved like the other paths).
    """
    output = resolve_path(str(props.output_dir), blend_filepath) or default_output_dir(blend_filepath)
    return CaptureRequest(
        video=resolve_path(str(props.video_path), blend_filepath),
        output_dir=output,
        smplx_dir=resolve_path(smplx_dir, blend_filepath) or None,
        **option_values(props, property_options(ENGINE)),
    )


def build_options_from_props(props: Any, *, smplx_dir: str = "", blend_filepath: str = "") -> BuildOptions:
    """The scene-building options of a property group (``scene.mocap`` or an import operator)."""
    return BuildOptions(smplx_dir=resolve_path(smplx_dir, blend_filepath),
                        **option_values(props, property_options(BUILD)))


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


def validate_settings(settings: CaptureRequest) -> None:
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
    start = settings.start or 0
    if settings.end is not None and settings.end <= start:  # the end is exclusive; the panel shows end - 1
        raise MocapError(
            f"The frame range is empty: end frame {settings.end - 1} is before start frame {start}."
        )
    if settings.stride is not None and settings.stride < 1:
        raise MocapError("Frame stride must be 1 or more.")
    if settings.body == "smplx" and not settings.smplx_dir and not os.environ.get(SMPLX_DIR_ENV):
        raise MocapError(
            "Body model SMPL-X needs the SMPL-X model files: set 'SMPL-X model folder' in "
            "Preferences > Add-ons > blender-mocap, or choose Auto or Mannequin."
        )
    if settings.smplx_dir and settings.body != "mannequin" and not Path(settings.smplx_dir).exists():
        raise MocapError(f"SMPL-X model folder not found: {settings.smplx_dir} (see the add-on's preferences)")
