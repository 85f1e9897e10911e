"""Every capture, cleanup and scene-building option, declared once.

Each :class:`Option` says what the option is (name, type, default, choices,
help) and which surfaces carry it:

- ``engine``: ``python -m core capture`` (argparse options and the argument
  list the Blender side and the batch build for it);
- ``batch``: ``blender_mocap/headless.py capture`` options and the keys of
  its TOML settings file;
- ``scene``: the Blender side's capture (``CaptureRequest``); with a
  :class:`Ui` record also a property of the scene's ``mocap`` group;
- ``build``: scene building (``BuildOptions``; ``headless.py build``);
- ``live``: ``python -m core live SOURCE`` (the live session, ``core.live``);
- ``multi``: ``python -m core capture-multi`` only (several videos of one
  performance; it takes the ``engine`` options too).

Values everywhere are the engine's: lower-case choices, degrees, and a frame
range of a 0-based ``start`` and an exclusive ``end`` (None = the engine's
default). Only the Blender properties differ (upper-case enum identifiers,
radians, the last frame kept with -1 for "to the end"); the conversion is
declared here (:class:`Ui`) and done in ``blender_mocap/settings.py``.

Standard library only: both sides import it (the Blender side as
``..core.options``), so no torch, no bpy.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from .option_values import (
    PERSON_FORMAT,
    angle_within,
    offsets_list,
    person_pick,
    positive_int,
    positive_metres,
    unit_interval,
)

Surface = Literal["engine", "batch", "scene", "build", "live", "multi"]
ENGINE: Surface = "engine"
BATCH: Surface = "batch"
SCENE: Surface = "scene"
BUILD: Surface = "build"
LIVE: Surface = "live"
MULTI: Surface = "multi"

Body = Literal["auto", "mannequin", "smplx"]
Gender = Literal["neutral", "male", "female"]
Preset = Literal["fast", "balanced", "accurate"]
Device = Literal["auto", "cpu", "cuda"]
PoseBackend = Literal["mediapipe", "torch"]
People = Literal["one", "all"]
ModelComplexity = Literal[0, 1]
FootLock = Literal["auto", "always", "off"]
Correctives = Literal["DRIVERS", "BAKED", "NONE"]
Target = Literal["active", "new"]


@dataclass(frozen=True)
class Ui:
    """How an option appears in Blender: a property of ``scene.mocap`` (and of operators).

    Attributes:
        label, description: the property's name and tooltip.
        default, min, max, soft_max: in the option's units (degrees for
            ``subtype="ANGLE"``, whose property holds radians).
        prop: the property's name when it differs from the option's.
        subtype: Blender property subtype ("ANGLE", "FACTOR", "" = none).
        items: enum items (choice, name, description); the property's
            identifiers are the choices upper-cased.
        unset: the property value that means "not set" (the option's None).
        toggle: (property, label, description) of a checkbox that must be on
            for the value to count; off means None.
        last_frame: the property holds the last frame kept (the option: the
            exclusive end, one more).
    """

    label: str
    description: str
    default: Any
    prop: str = ""
    min: float | None = None
    max: float | None = None
    soft_max: float | None = None
    subtype: str = ""
    items: tuple[tuple[str, str, str], ...] = ()
    unset: Any = None
    toggle: tuple[str, str, str] | None = None
    last_frame: bool = False


@dataclass(frozen=True)
class Option:
    """One option.

    Attributes:
        name: identifier: the settings field, the TOML key and (dashes for
            underscores) the command-line flag; bool options that default
            to True are switched off by ``--no-<name>``.
        type: int, float, bool or str (the type of a value).
        help: command-line help.
        surfaces: where the option is available (see the module docstring).
        default: the engine's default (argparse's); None = the engine decides.
        choices: the allowed values, from a ``Literal``.
        parse: argparse type when it is not ``type`` (range checks).
        metavar: argparse metavar.
        group: the argparse group on the engine: "capture" or "cleanup".
        batch_default: the default in a batch (TOML, ``headless.py``); None
            leaves the option to the engine.
        unless: (other option, value): left out of the engine's arguments
            when the other option has that value.
        ui: the Blender property (None: not a property of the scene).
        cli: the command-line flag when it is not the name's (``--target`` for ``retarget_target``).
    """

    name: str
    type: type
    help: str
    surfaces: frozenset[Surface]
    default: Any = None
    choices: tuple[Any, ...] = ()
    parse: Callable[[str], Any] | None = None
    metavar: str | None = None
    group: str = "capture"
    batch_default: Any = None
    unless: tuple[str, Any] | None = None
    ui: Ui | None = None
    cli: str = ""

    def __post_init__(self) -> None:
        if self.ui is not None and self.ui.items:
            assert tuple(i[0] for i in self.ui.items) == self.choices, f"{self.name}: items differ from choices"

    @property
    def flag(self) -> str:
        """The command-line flag: ``cli`` when set, else ``--`` and the name with dashes."""
        return self.cli or "--" + self.name.replace("_", "-")

    @property
    def prop(self) -> str:
        """The Blender property's name."""
        return (self.ui.prop if self.ui is not None else "") or self.name


def _smoothing(name: str, what: str, label: str, description: str) -> Option:
    return Option(
        name, float, f"most jitter filtering for the {what}, 0 (off) to 1 (default 0.5); "
        "joints are filtered only as much as their measured jitter calls for",
        frozenset({ENGINE, BATCH, SCENE}), default=0.5, parse=unit_interval, metavar="S", group="cleanup",
        ui=Ui(label, description, 0.5, subtype="FACTOR", min=0.0, max=1.0),
    )


_CAPTURE = frozenset({ENGINE, BATCH, SCENE})
_ENGINE_ONLY = frozenset({ENGINE})
_SCENE_BUILD = frozenset({SCENE, BUILD, BATCH})
_MULTI = frozenset({MULTI, SCENE})

OPTIONS: tuple[Option, ...] = (
    Option("start", int, "first frame, 0-based (default 0)", _CAPTURE, default=0,
           ui=Ui("Start", "First video frame to capture (0 = the first frame of the video)", 0,
                 prop="frame_start", min=0)),
    Option("end", int, "end frame, exclusive (default: last)", _CAPTURE,
           ui=Ui("End", "Last video frame to capture (-1 = to the end of the video)", -1,
                 prop="frame_end", min=-1, unset=-1, last_frame=True)),
    Option("stride", int, "analyse every N-th frame (default: the preset's, 1 or 2 for fast)", _CAPTURE,
           parse=positive_int,
           ui=Ui("Stride", "Capture every n-th frame (1 = every frame)", 1, prop="frame_stride",
                 min=1, soft_max=10, unset=1)),
    Option("max_frames", int, "analyse at most N frames", _CAPTURE, parse=positive_int,
           ui=Ui("Max Frames", "Stop after this many captured frames (0 = no limit)", 0, min=0, unset=0)),
    Option("fov", float,
           "horizontal field of view of the camera in degrees (default: from the video's 35 mm-equivalent "
           "focal length when its metadata has one, as iPhone videos do; else 60)", _CAPTURE,
           ui=Ui("Field of View", "Horizontal field of view of the camera that shot the video", 60.0,
                 subtype="ANGLE", min=5.0, max=170.0,
                 toggle=("use_fov", "Set Field of View",
                         "Use the known horizontal field of view of the camera. Unticked, the engine takes it "
                         "from the video's 35 mm-equivalent focal length when the file records one (iPhone "
                         "videos do), else assumes 60 degrees"))),
    Option("model_complexity", int, "MediaPipe pose model: 0 lite, 1 full (default)", _ENGINE_ONLY,
           default=1, choices=get_args(ModelComplexity)),
    Option("pose_batch", int, "frames per network call of the torch pose backend (default: 1 on a CPU, "
           "32-64 on a GPU)", _ENGINE_ONLY, parse=positive_int, metavar="N"),
    Option("mirror_average", bool, "average the pose model's 3D landmarks with those of the mirrored frame: "
           "better depth, one more pose pass per frame (default: on with --preset accurate, off otherwise)",
           _ENGINE_ONLY),
    Option("body", str, "body model: smplx (your SMPL-X files), mannequin (built in), or auto "
           "(smplx when --smplx-dir holds the gender's file; the default)", _CAPTURE,
           default="auto", choices=get_args(Body),
           ui=Ui("Body Model", "Body the engine fits to the video", "auto", prop="body_model", items=(
               ("auto", "Auto", "SMPL-X when the SMPL-X model folder (add-on preferences) holds the gender's "
                "file, else the built-in mannequin"),
               ("mannequin", "Mannequin", "The built-in license-free body (no SMPL-X files needed)"),
               ("smplx", "SMPL-X", "The SMPL-X body from the model folder set in the add-on preferences")))),
    # In Blender the SMPL-X folder is an add-on preference, not a scene property (no ui).
    Option("smplx_dir", str, "SMPL-X model folder (default: $BLENDER_MOCAP_SMPLX_DIR)",
           _CAPTURE | {BUILD}, metavar="DIR", unless=("body", "mannequin")),
    Option("gender", str, "which SMPL-X model file to use (default neutral)", _CAPTURE,
           default="neutral", choices=get_args(Gender),
           ui=Ui("Gender", "Which SMPL-X model file to use", "neutral", items=(
               ("neutral", "Neutral", "Gender-neutral SMPL-X model"),
               ("male", "Male", "Male SMPL-X model"),
               ("female", "Female", "Female SMPL-X model")))),
    Option("preset", str, "speed/quality of the fit (default balanced)", _CAPTURE,
           default="balanced", choices=get_args(Preset),
           ui=Ui("Quality", "How hard the engine works on fitting the body", "balanced", items=(
               ("fast", "Fast", "Fewer fitting iterations: quick previews"),
               ("balanced", "Balanced", "Good results in reasonable time"),
               ("accurate", "Accurate",
                "Fitting to convergence, with the mirrored frame for depth: final takes (slower)")))),
    Option("device", str, "where the fit runs (default auto: CUDA when available)", _CAPTURE,
           default="auto", choices=get_args(Device),
           ui=Ui("Device", "Where the engine runs", "auto", items=(
               ("auto", "Auto", "The GPU (CUDA) when the engine finds one, else the CPU"),
               ("cpu", "CPU", "Run the engine on the CPU"),
               ("cuda", "CUDA", "Run the engine on an NVIDIA GPU")))),
    Option("pose_backend", str, "mediapipe: MediaPipe Holistic on the CPU, body, hands and face (default); "
           "torch: MediaPipe's pose and hand models run by PyTorch, batched, on --device (no face)", _CAPTURE,
           default="mediapipe", choices=get_args(PoseBackend),
           ui=Ui("Pose Backend", "What finds the person's landmarks in the video", "mediapipe", items=(
               ("mediapipe", "MediaPipe", "MediaPipe Holistic on the CPU: body, hands and face"),
               ("torch", "PyTorch", "MediaPipe's pose models run by PyTorch on the Device, batched on a GPU: "
                "body and hands (the face keeps its rest pose)")))),
    Option("person", str, f"who to follow: a pixel of the video on them, {PERSON_FORMAT} (a 0-based frame; "
           "kept through crowds, flips and occlusions; default: the most prominent person of the first frames)",
           _CAPTURE, parse=person_pick, metavar="X,Y[@F]",
           ui=Ui("Person", f"Who to follow when several people are in view: a pixel of the video on them, "
                 f"{PERSON_FORMAT} (pixels from the top left of the video, a 0-based video frame; empty: "
                 "the most prominent person of the first frames)", "", unset="")),
    Option("follow", bool, "keep to one person through crowds, flips and occlusions: the one --person picks (capture), "
           "else the most prominent of the first frames (--no-follow: MediaPipe's own tracking, which may switch to someone else)",
           _ENGINE_ONLY, default=True),
    Option("people", str, "who is captured: one person (the default; see --person) or all: everyone in view, "
           "each with a stable ID, one motion file each (OUT.person1.npz, OUT.person2.npz, ...)", _CAPTURE,
           default="one", choices=get_args(People),
           ui=Ui("People", "Capture one person or everyone in view", "one", items=(
               ("one", "One Person", "The person picked in the Person field (else the most prominent one)"),
               ("all", "Everyone", "Every person in view, each on an armature of their own named by ID "
                "(Person 1, Person 2, ... by first appearance), all sharing the video's camera")))),
    # The world's up direction (core/gravity): estimated from the picture and the person unless the user knows.
    Option("camera_pitch", float, "the camera's pitch in degrees, positive looking down (default: estimated "
           "from the scene's vertical lines or the person's posture)", _CAPTURE, parse=angle_within(89.0),
           metavar="DEG",
           ui=Ui("Pitch", "The camera's angle below the horizon (positive looking down)", 0.0, subtype="ANGLE",
                 min=-89.0, max=89.0,
                 toggle=("use_camera_pitch", "Set Camera Pitch",
                         "Use the camera's known pitch. Unticked, the engine estimates the world's up direction "
                         "from the video's vertical lines or the person's standing posture"))),
    Option("camera_roll", float, "the camera's roll in degrees, positive turned clockwise as seen from behind "
           "(its right side down) (default: estimated)", _CAPTURE, parse=angle_within(90.0), metavar="DEG",
           ui=Ui("Roll", "The camera's turn about its viewing direction (positive clockwise seen from behind it: "
                 "its right side down)", 0.0, subtype="ANGLE", min=-90.0, max=90.0,
                 toggle=("use_camera_roll", "Set Camera Roll",
                         "Use the camera's known roll. Unticked, the engine estimates it"))),
    Option("level_camera", bool, "assume a level camera (no pitch, no roll) instead of estimating the world's up",
           _CAPTURE, default=False,
           ui=Ui("Level Camera", "Assume the camera was level (no pitch, no roll) instead of estimating the world's "
                 "up direction from the video", False)),
    Option("no_cleanup", bool, "keep the fit as it is: no floor, no foot locking, no smoothing", _ENGINE_ONLY,
           default=False, group="cleanup"),
    Option("no_floor", bool, "stay in the camera frame instead of a Z-up world on the estimated floor",
           _ENGINE_ONLY, default=False, group="cleanup"),
    Option("no_root_anchor", bool, "keep the fit's root depth instead of moving it so planted feet stand where "
           "their image rays meet the floor", _ENGINE_ONLY, default=False, group="cleanup"),
    Option("foot_lock", str, "plant heels and toes: auto (low and slow), always (low), off (default auto)",
           _CAPTURE, default="auto", choices=get_args(FootLock), group="cleanup",
           ui=Ui("Foot Lock", "Keep feet planted on the floor while they touch it (no sliding, no sinking)",
                 "auto", items=(
                     ("auto", "Auto", "Plant heels and toes while they are low and slow"),
                     ("always", "Always", "Plant heels and toes whenever they are near the floor"),
                     ("off", "Off", "Leave the feet as fitted")))),
    _smoothing("smoothing", "body and root", "Smoothing",
               "Most jitter filtering for the body and root: 0 off, 1 strong. Each joint is filtered only as "
               "much as its measured jitter calls for; fast moves keep their speed"),
    _smoothing("smoothing_hands", "fingers", "Hands", "Jitter filter for the fingers: 0 off, 1 strong"),
    _smoothing("smoothing_face", "jaw, eyes and expression", "Face",
               "Jitter filter for the jaw, eyes and expression: 0 off, 1 strong"),
    Option("ground", bool, "stand the take on Z = 0, the camera moved with it (--no-ground: keep the motion's "
           "own frame)", _SCENE_BUILD,
           default=True, batch_default=True,
           ui=Ui("Feet on Ground",
                 "Move the whole take (character and camera together) so the feet stand on Z = 0", True)),
    Option("correctives", str, "SMPL-X pose correctives: DRIVERS (follow edits), BAKED (keyed values, kept by "
           "exporters) or NONE", _SCENE_BUILD, default="DRIVERS", choices=get_args(Correctives),
           parse=str.upper, batch_default="BAKED",
           ui=Ui("Pose Correctives", "SMPL-X pose-corrective shape keys (needs the SMPL-X model folder)",
                 "DRIVERS", items=(
                     ("DRIVERS", "Driven", "Pose-corrective shape keys follow the bone rotations through "
                      "drivers, also after you edit the animation"),
                     ("BAKED", "Baked", "Pose-corrective shape key values keyed on every frame (for "
                      "exporters that do not carry drivers; they do not follow later edits)"),
                     ("NONE", "None", "No pose-corrective shape keys (lighter, slightly less accurate body)")))),
    Option("resample", bool, "key the take at the scene's frame rate", frozenset({SCENE, BUILD}), default=False,
           ui=Ui("Resample to Scene Rate", "Key the take at the scene's frame rate (interpolating the motion) "
                 "instead of setting the scene's frame rate to the motion's", False)),
    # Retargeting (blender_mocap/retarget): the batch also puts each take on the user's own character.
    Option("retarget_target", str, "also put each take on this character: a .blend file, and its armature when it "
           "has several (FBX, glTF and BVH outputs then hold the character)", frozenset({BATCH}),
           metavar="CHARACTER.blend[:ARMATURE]", cli="--target"),
    Option("retarget_preset", str, "bone mapping for --target: auto (a built-in preset the rig matches, else bone "
           "names and the skeleton's shape), rigify, mixamo, unreal or a preset .json file", frozenset({BATCH}),
           default="auto", batch_default="auto", metavar="auto|rigify|mixamo|unreal|FILE.json"),
    Option("target", str, "where the take goes", frozenset({SCENE}), default="active", choices=get_args(Target),
           ui=Ui("Character", "Where the take goes", "active", items=(
               ("active", "Active Character", "Add the take as a new action to the active character when its "
                "skeleton matches; otherwise build a new character"),
               ("new", "New Character", "Always build a new character")))),
    # Several videos of one performance (issue 20): python -m core capture-multi.
    Option("offsets", str, "seconds from the first video's start to each video's start, one per video, "
           "comma-separated (default: found from the sound tracks, else from the person's motion)", _MULTI,
           parse=offsets_list, metavar="S,S,...", ui=Ui("Offsets", "Seconds from video 1's start to each video's",
           "", prop="multi_offsets", toggle=("multi_set_offsets", "Set Offsets", "Off: from the sound, else motion"))),
    Option("calibration", str, "a camera rig file for these videos, in their order: ours (.json, as "
           "--save-calibration writes), Pose2Sim/anipose .toml or OpenCV/EasyMocap .yml/.xml (default: calibrate "
           "from the person)", _MULTI, metavar="FILE", ui=Ui("Rig File", "A rig file of "
           "these cameras", "", prop="multi_calibration", subtype="FILE_PATH", toggle=("multi_from_file",
           "Cameras from File", "Off: the cameras are calibrated from the person"))),
    Option("save_calibration", str, "write the cameras found to this rig file, for later takes of the same rig",
           _MULTI, metavar="FILE", ui=Ui("Save Rig", "Write the cameras to this rig file (empty: not saved)", "",
                                         prop="multi_save_calibration", subtype="FILE_PATH", unset="")),
    Option("person_height", float, "the person's height in metres, for the calibration's scale (default: "
           "from the fitted body's bone lengths)", _MULTI, parse=positive_metres, metavar="M", ui=Ui("Height", "The "
           "person's height (m)", 1.7, prop="multi_person_height", min=0.5, max=2.5, toggle=("multi_set_height",
           "Set Person Height", "Off: the scale comes from the fitted body's bone lengths"))),
)

OPTIONS += (
    # The live session (issue 19): the source is the `live` command's argument, the others its options.
    Option("live_source", str, "camera index, device path, stream URL or video file of a live session",
           frozenset({SCENE}), default="0",
           ui=Ui("Source", "Camera index (0 = the first camera), a device path, a stream URL (udp://, rtsp://, "
                 "http://) or a video file", "0")),
    Option("realtime", bool, "play a video file at its own frame rate, dropping frames the pose cannot keep up "
           "with, as a camera would (default: every frame, as fast as the pose goes)", frozenset({SCENE, LIVE}),
           default=False, ui=Ui("Real Time", "Play a video file source at its own frame rate, as a camera would "
                                "(off: every frame, as fast as the pose goes)", False, prop="live_realtime")),
    Option("vmc", str, "also send VMC/OSC bone messages over UDP to HOST:PORT (VSeeFace and other VMC "
           "receivers listen on 39539)", frozenset({SCENE, LIVE}), metavar="HOST:PORT",
           ui=Ui("VMC Out", "Also send the pose as VMC/OSC bone messages to HOST:PORT (empty: off; VMC receivers "
                 "usually listen on 127.0.0.1:39539)", "", prop="live_vmc", unset="")),
    Option("lag", int, "send each pose FRAMES thirtieths of a second late (1: 33 ms, at any frame rate), the line "
           "through the frames around it: nearer the offline take and steadier; 0: no lag, the --smoothing filter "
           "smooths instead (default 1)", frozenset({SCENE, LIVE}), default=1, metavar="FRAMES",
           ui=Ui("Lag", "Thirtieths of a second each pose arrives late, as the line through the frames around it: "
                 "nearer the offline take and steadier (1: 33 ms at any frame rate). 0: no lag, the Smoothing "
                 "filter smooths instead", 1,
                 prop="live_lag", min=0, max=3)),
)
LIVE_SHARED = ("fov", "camera_pitch", "camera_roll", "smoothing", "body", "smplx_dir", "gender", "follow")
"""Capture options the live command takes too (with the capture's flags and defaults)."""

OPTION = {option.name: option for option in OPTIONS}
"""The options by name."""


def options_for(surface: Surface, *also: Surface) -> tuple[Option, ...]:
    """The options on ``surface`` (and on each of ``also``), in table order."""
    return tuple(o for o in OPTIONS if surface in o.surfaces and all(s in o.surfaces for s in also))


def batch_defaults() -> dict[str, Any]:
    """Defaults of the batch's options (None: left to the engine)."""
    return {o.name: o.batch_default for o in options_for(BATCH)}


# -- argparse -------------------------------------------------------------------
def add_argument(parser: Any, option: Option, *, default: Any, shown_default: Any = None) -> None:
    """Add ``option`` to an argparse parser or group with ``default``.

    Bool options: ``--x/--no-x`` when the option's default is None, ``--x``
    when it is False, ``--no-x`` (storing False) when it is True.
    ``shown_default`` is added to the help text of other options when given.
    """
    shown = shown_default is not None and option.type is not bool
    text = f"{option.help} (default {shown_default})" if shown else option.help
    if option.type is bool:
        if option.default is True:
            parser.add_argument(f"--no-{option.flag[2:]}", dest=option.name, action="store_false",
                                default=default, help=text)
        elif option.default is None:
            parser.add_argument(option.flag, action=argparse.BooleanOptionalAction, default=default, help=text)
        else:
            parser.add_argument(option.flag, action="store_true", default=default, help=text)
        return
    parser.add_argument(option.flag, dest=option.name, type=option.parse or option.type,
                        choices=option.choices or None, default=default, metavar=option.metavar, help=text)


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """The engine's capture options (``python -m core capture``), with the engine's defaults."""
    cleanup = parser.add_argument_group("cleanup (floor, feet, smoothing)")
    for option in options_for(ENGINE):
        add_argument(cleanup if option.group == "cleanup" else parser, option, default=option.default)


def engine_values(args: argparse.Namespace | Mapping[str, Any]) -> dict[str, Any]:
    """The engine options' values in parsed arguments (or a mapping)."""
    values = vars(args) if isinstance(args, argparse.Namespace) else args
    return {o.name: values[o.name] for o in options_for(ENGINE) if o.name in values}


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def option_args(values: Mapping[str, Any], options: tuple[Option, ...], defaults: Mapping[str, Any]) -> list[str]:
    """Command-line arguments for option values, in table order.

    Values that are missing, None or equal to ``defaults`` are left out (the
    command then does the same by itself), as is an option whose ``unless``
    holds (the SMPL-X folder with the mannequin body).
    """
    args: list[str] = []
    for option in options:
        value = values.get(option.name)
        if value is None or value == defaults.get(option.name):
            continue
        if option.unless is not None and values.get(option.unless[0]) == option.unless[1]:
            continue
        if option.type is bool:
            args.append(option.flag if value else f"--no-{option.flag[2:]}")
        else:
            args += [option.flag, _text(value)]
    return args


def engine_args(values: Mapping[str, Any]) -> list[str]:
    """The engine's optional arguments (``python -m core capture``) for option values."""
    return option_args(values, options_for(ENGINE), {o.name: o.default for o in OPTIONS})


def batch_args(values: Mapping[str, Any]) -> list[str]:
    """``headless.py capture`` arguments for the values of its scene-building options
    (its engine options are spelled as the engine's: :func:`engine_args`)."""
    return option_args(values, tuple(o for o in options_for(BATCH) if ENGINE not in o.surfaces), batch_defaults())
