"""The capture job: video -> landmarks -> fitted body -> motion file.

One function, :func:`capture`, with progress and cancellation as parameters,
used by the CLI, the Blender add-on (through the CLI, in a subprocess) and the
batch runner. Events are dicts in the JSON-lines protocol the README documents.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .cleanup import CleanupSettings, clean_motion
from .errors import CancelledError, MocapError
from .gravity import FrameSampler
from .gravity.take import apply_gravity, known_up, take_gravity
from .landmarks import PoseSequence, invented_warnings, mark_outside, repair_swaps
from .motion import LOW_CONFIDENCE, Motion, write_motion
from . import pose_stage
from .pipeline import Stages, WarmUp, overlap_for, scene_lines_of
from .pose import PoseSettings
from .pose_stage import Event, Reporter
from .skeleton import JOINT_NAMES, PARENTS
from .video import (
    DEFAULT_HFOV_DEGREES,
    VideoInfo,
    default_intrinsics,
    lens_hfov_degrees,
    open_video,
)

if TYPE_CHECKING:  # torch stays out of the import of this module
    from .body.model import BodyModel

@dataclass(frozen=True)
class CaptureSettings:
    """What a capture does. Every field has a CLI flag; the add-on sets the ones an animator picks.

    Attributes:
        start, end: frame range of the video, 0-based, end exclusive (None: to
            the end of the video).
        stride: analyse every ``stride``-th frame (None: the preset's stride).
        max_frames: stop after this many analysed frames (None: no limit).
        hfov_degrees: horizontal field of view of the camera; None takes it
            from the video's metadata when the file has a 35 mm-equivalent
            focal length (``core.video.lens_hfov_degrees``), else the default
            (``core.video.DEFAULT_HFOV_DEGREES``). See :func:`camera_fov`.
        pose: MediaPipe settings.
        pose_backend: "mediapipe" (MediaPipe Holistic on the CPU: body, hands
            and face) or "torch" (MediaPipe's pose models run by our PyTorch
            code, batched, on ``device``: body and hands, no face yet).
        pose_batch: frames per network call of the torch backend (None: the
            preset's for the device: 1 on a CPU, where it is exactly
            MediaPipe's tracking and fastest; 32-64 on a GPU).
        mirror_average: average the pose model's metric world landmarks with
            those it finds in the mirrored image, either backend (None: the
            preset's: on in "accurate"). See ``core.pose.PoseSettings``.
        body: "auto" (SMPL-X when ``smplx_dir`` holds the gender's file, else
            the mannequin), "mannequin" or "smplx".
        smplx_dir: the SMPL-X model folder (smplx layout) or file; None reads
            the environment variable BLENDER_MOCAP_SMPLX_DIR.
        gender: "neutral", "male" or "female" (which SMPL-X file).
        preset: "fast", "balanced" or "accurate" (``core.fit.optimize.PRESETS``).
        device: "auto", "cpu" or "cuda" for the fitting (and the torch pose backend).
        cleanup: floor, foot contacts, foot locking and smoothing
            (``core.cleanup``); None skips the stage and keeps the fit as it is,
            in the camera frame.
        camera_pitch, camera_roll: the camera's known tilt in degrees (pitch
            positive looking down, roll positive turned clockwise seen from
            behind); None estimates it (``core.gravity``).
        level_camera: assume a level camera instead of estimating the up direction.
        person: who to follow, ``"X,Y"`` or ``"X,Y@FRAME"``: a pixel of the
            video on them (in a 0-based video frame; default the first one
            captured), searched for and kept through crowds and flips; None
            follows the most prominent person of the first frames (``pose.follow``
            False: MediaPipe's own tracking). See ``core.person``.
        people: "one" (the person above) or "all": everyone, one motion file each (``core.people``).
    """

    start: int = 0
    end: int | None = None
    stride: int | None = None
    max_frames: int | None = None
    hfov_degrees: float | None = None
    pose: PoseSettings = PoseSettings()
    pose_backend: str = "mediapipe"
    pose_batch: int | None = None
    mirror_average: bool | None = None
    body: str = "auto"
    smplx_dir: str | None = None
    gender: str = "neutral"
    preset: str = "balanced"
    device: str = "auto"
    cleanup: CleanupSettings | None = CleanupSettings()
    camera_pitch: float | None = None
    camera_roll: float | None = None
    level_camera: bool = False
    person: str | None = None
    people: str = "one"


POSE_BACKENDS = ("mediapipe", "torch")


def torch_pose_settings(settings: CaptureSettings, mirror_average: bool = False):
    """The torch pose backend's settings for a capture: the preset's input size, precision and batch.

    See ``core.pose_torch.settings.PRESETS``; ``pose_batch`` overrides the
    batch size. (The frame stride and the mirrored frame are the fitting preset's.)
    Both backends follow one person (re-detection, identity: ``core.person``): the
    ``--person`` pick, else the most prominent person of the first frames; with
    ``pose.follow`` off the torch backend tracks exactly as MediaPipe does.
    """
    from .pose_torch import settings_for_preset
    from .pose_torch.tracker import resolve_device

    if settings.pose_batch is not None and settings.pose_batch < 1:
        raise MocapError(f"the pose batch must be 1 or more, got {settings.pose_batch}")
    device = resolve_device(settings.device)
    chosen = settings_for_preset(settings.preset, device=device, cuda=device == "cuda")
    batch = chosen.batch_size if settings.pose_batch is None else settings.pose_batch
    return replace(chosen, batch_size=batch, mirror_average=mirror_average, redetect=settings.pose.follow)


def pose_plan(settings: CaptureSettings, chosen: Any) -> tuple[int, bool, Any]:
    """(stride, mirror averaging, torch backend settings or None) of a capture with fitting preset ``chosen``."""
    stride = settings.stride if settings.stride is not None else chosen.stride
    if stride < 1:
        raise MocapError(f"stride must be 1 or more, got {stride}")
    if settings.pose_backend not in POSE_BACKENDS:
        raise MocapError(f"unknown pose backend '{settings.pose_backend}': use {' or '.join(POSE_BACKENDS)}")
    mirror = chosen.mirror_average if settings.mirror_average is None else settings.mirror_average
    return stride, mirror, torch_pose_settings(settings, mirror) if settings.pose_backend == "torch" else None


SMPLX_DIR_ENV = "BLENDER_MOCAP_SMPLX_DIR"
"""Environment variable naming the SMPL-X model folder when none is given."""


def choose_body(settings: CaptureSettings) -> tuple[BodyModel, list[str]]:
    """The body model a capture fits, and warnings about the choice.

    "auto" picks SMPL-X when a model folder is given (or in
    BLENDER_MOCAP_SMPLX_DIR) and holds the gender's file, else the mannequin
    (with a warning when a folder was given but held no file for the gender).
    "smplx" without a usable folder is an error with a message.
    """
    import os

    from .body.model import MannequinBody
    from .body.smplx_file import GENDERS, ModelFileError, find_model_file

    if settings.body not in ("auto", "mannequin", "smplx"):
        raise MocapError(f"unknown body '{settings.body}': use auto, mannequin or smplx")
    if settings.gender not in GENDERS:
        raise MocapError(f"unknown gender '{settings.gender}': use one of {', '.join(GENDERS)}")
    folder = settings.smplx_dir or os.environ.get(SMPLX_DIR_ENV) or None
    if settings.body == "mannequin":
        return MannequinBody(), []
    if folder is None:
        if settings.body == "smplx":
            raise MocapError(
                "the SMPL-X body needs its model files: pass --smplx-dir FOLDER (or set "
                f"{SMPLX_DIR_ENV}) to the folder you downloaded from the SMPL-X website")
        return MannequinBody(), []
    if settings.body == "auto":
        try:
            find_model_file(folder, settings.gender)
        except ModelFileError as exc:
            return MannequinBody(), [f"using the built-in mannequin: {exc}"]
    from .body.smplx_model import SMPLXBody

    return SMPLXBody(folder, settings.gender), []


FOV_GUESSED = "the default: the video does not say its focal length"
""":func:`camera_fov`'s source when the field of view is only the default: neither given nor in the video."""


def camera_fov(settings: CaptureSettings, video: str | Path, width: int, height: int) -> tuple[float, str]:
    """(horizontal field of view in degrees, where it came from) for a capture of an upright width x height video.

    The user's value wins; else the video's own metadata
    (:func:`core.video.lens_hfov_degrees`); else ``DEFAULT_HFOV_DEGREES`` (source ``FOV_GUESSED``).
    """
    if settings.hfov_degrees is not None:
        return settings.hfov_degrees, "as given"
    lens = lens_hfov_degrees(video, width, height)
    if lens is not None:
        return lens
    return DEFAULT_HFOV_DEGREES, FOV_GUESSED


def check_output(out: str | Path) -> Path:
    """``out`` as a motion file the capture can write, checked before minutes of work.

    Raises MocapError when it names a folder, has another suffix than .npz (a
    ``take.blend`` would silently hold an npz), or its folder cannot be written.
    """
    out = Path(out)
    if out.is_dir():
        raise MocapError(f"--out {out} is a folder: give the motion file to write, e.g. {out / 'take.npz'}")
    if out.suffix.lower() != ".npz":
        raise MocapError(f"--out {out.name}: the engine writes a motion file (.npz). For a .blend, FBX or glTF "
                         "use `blender_mocap/headless.py capture` (or `build` on the motion file).")
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the motion writer creates the missing folders below this one
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise MocapError(f"cannot write the motion file {out}: {folder} is not a folder you can write to. "
                         "Choose another output folder.")
    return out


def frame_range(settings: CaptureSettings, info: VideoInfo, stride: int) -> tuple[int, int]:
    """(end frame, exclusive; number of frames analysed) of a capture of ``info``."""
    end = settings.end if settings.end is not None else info.frame_count
    end = min(end, info.frame_count) if info.frame_count > 1 else end
    if settings.max_frames is not None:
        if settings.max_frames < 1:
            raise MocapError(f"max frames must be 1 or more, got {settings.max_frames}")
        end = min(end, settings.start + settings.max_frames * stride)
    if settings.start >= end:
        raise MocapError(
            f"frame range starts at {settings.start} but the video has {info.frame_count} frames"
        )
    return end, len(range(settings.start, end, stride))


def capture(
    video: str | Path,
    out: str | Path,
    settings: CaptureSettings = CaptureSettings(),
    *,
    emit: Callable[[Event], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    overlap: bool | None = None,
    find_person: Callable[..., PoseSequence] | None = None,
) -> Motion:
    """Capture the person in ``video`` and write the motion file ``out``.

    Raises MocapError (or its CancelledError) with a message for the user;
    ``out`` is written atomically, so a failed run leaves no file behind and
    an existing file untouched. ``overlap``: decode ahead and run side work in
    threads beside the pose model and the fit (``core.pipeline``; the same take
    as False, which runs each stage after the other; None: beside the pose
    model only where that pays, ``core.pipeline.overlap_for``); every thread has ended
    when this returns or raises. One person, whatever ``settings.people``
    (everyone: ``core.people.capture_people``, which runs this per person);
    ``find_person`` stands in for the pose stage (``core.pose_stage.find_person``'s arguments).
    """
    beside_pose = overlap_for(settings) if overlap is None else overlap  # None: where it pays (core.pipeline)
    with Stages(should_cancel, overlap=overlap is not False, beside_pose=beside_pose) as stages:
        return _capture(video, out, settings, emit, stages, find_person)


def _capture(video: str | Path, out: str | Path, settings: CaptureSettings, emit: Callable[[Event], None] | None,
             stages: Stages, find_person: Callable[..., PoseSequence] | None = None) -> Motion:
    """:func:`capture`, its threads started through ``stages``."""
    from .fit.optimize import fit_clip
    from .fit.optimize import preset as fit_preset

    report = Reporter(emit)
    out = check_output(out)
    chosen = fit_preset(settings.preset, device=settings.device)
    stride, mirror, torch_pose = pose_plan(settings, chosen)
    body, body_warnings = choose_body(settings)

    report.stage("decoding", f"opening {Path(video).name}")
    info = open_video(video)
    end, expected = frame_range(settings, info, stride)
    hfov, hfov_source = camera_fov(settings, info.path, info.width, info.height)
    K = default_intrinsics(info.width, info.height, hfov)

    sampler = FrameSampler(expected, info.width)  # a few frames kept for the scene's vertical lines
    should_cancel = stages.should_cancel
    warm = WarmUp(stages)  # what the later stages import, while the frames are posed
    report.watch("pose", warm.pose_progress)  # torch's compiler from half-way through them
    seq = (find_person or pose_stage.find_person)(settings, info, body, report, end=end, stride=stride, expected=expected,
                                        mirror=mirror, torch_pose=torch_pose, should_cancel=should_cancel,
                                        sampler=sampler, stages=stages)
    mark_outside(seq)  # what the frame does not show was not seen, whatever the model says
    swapped, legs = repair_swaps(seq)
    if swapped:
        report.warn(f"the pose detector mixed up left and right in {len(swapped)} frames "
                    f"(first: video frame {int(seq.frame_indices[swapped[0]])}); corrected")
    if legs:
        report.warn(f"the pose detector mixed up the left and right leg in {len(legs)} frames "
                    f"(first: video frame {int(seq.frame_indices[legs[0]])}); corrected")

    for warning in body_warnings:
        report.warn(warning)
    report.stage("fitting", f"fitting the {body.name} body to {seq.num_frames} frames ({chosen.name} preset; "
                            f"camera field of view {hfov:.1f} degrees, {hfov_source})")
    lines = stages.background(scene_lines_of(sampler, seq, K), "scene lines")  # pose data only; the fit waits for it
    warm.finish()  # its imports done before the fit's own (two threads importing one package could deadlock)
    up = known_up(lines.result(), pitch_degrees=settings.camera_pitch, roll_degrees=settings.camera_roll,
                  level_camera=settings.level_camera)  # the lines take ~0.3 s: the fit reads the view's elevation
    optimize = chosen.optimize if up is None else replace(chosen.optimize, lift=replace(chosen.optimize.lift, up=tuple(up)))
    fit = fit_clip(seq, K, body, settings=optimize, progress=report.progress_of("fitting"),
                   should_cancel=should_cancel)
    for warning in fit.warnings:
        report.warn(warning)
    for warning in invented_warnings(seq.frame_indices, seq.present, fit.bridged, seq.body_2d):
        report.warn(warning)

    motion = motion_from_fit(seq, fit, K, source_video=str(Path(video).resolve()), body=body)
    gravity = take_gravity(motion, lines.result(), pitch_degrees=settings.camera_pitch,
                           roll_degrees=settings.camera_roll, level_camera=settings.level_camera)
    apply_gravity(motion, gravity)
    for note in gravity.notes:
        report.warn(note)
    if settings.cleanup is not None:
        report.stage("cleanup", f"{gravity.describe()}; finding the floor, planting the feet, smoothing")
        cleaned = clean_motion(motion, settings.cleanup, progress=report.progress_of("cleanup"))
        motion = cleaned.motion
        for warning in cleaned.warnings:
            report.warn(warning)

    report.stage("writing", f"writing {out.name}" + ("" if settings.cleanup is not None else f" ({gravity.describe()})"))
    write_motion(out, motion)
    if should_cancel is not None and should_cancel():  # cancelled while writing: keep the promise, no output
        out.unlink(missing_ok=True)
        raise CancelledError("capture cancelled; no motion file was written")
    report.send({"event": "done", "out": str(out.resolve()), "frames": motion.num_frames,
                 "quality": motion.quality})
    return motion


def motion_from_fit(seq, fit, K: np.ndarray, *, source_video: str = "", body: BodyModel | None = None) -> Motion:
    """Assemble the motion file contents from landmarks and a fit result.

    ``body``: the ``core.body.model.BodyModel`` the fit used (its rest data of
    the fitted shape goes into the file: mesh, skin weights and, for SMPL-X,
    the shape and expression blend shapes); None means the mannequin.
    """
    if body is not None:
        rest = body.rest_data(fit.betas)
    else:
        from .body import mannequin

        v, f, w = mannequin.mesh(fit.betas)
        rest = {"rest_joints": fit.rest_joints, "v_template": v, "faces": f, "skin_weights": w}
    err = fit.reprojection_error
    T = len(err)
    observed = np.isfinite(err)
    keypoints = np.concatenate([seq.body_2d, seq.left_hand, seq.right_hand], axis=1)
    keypoints = np.nan_to_num(keypoints, nan=0.0)
    quality = {
        "mean_reprojection_error_px": float(np.mean(err[observed])) if observed.any() else float("nan"),
        "low_confidence_fraction": float(np.mean(fit.confidence < LOW_CONFIDENCE)),
        "bridged_frames": float(np.sum(fit.bridged)),
        "frames": float(T),
    }
    expression = fit.expression if fit.expression is not None else np.zeros((T, 0), np.float32)
    shape_dirs = rest.get("shape_dirs")
    expression_dirs = rest.get("expression_dirs")
    if expression_dirs is not None and expression.shape[1] != expression_dirs.shape[2]:
        expression = np.zeros((T, expression_dirs.shape[2]), np.float32)
    return Motion(
        poses=fit.poses,
        trans=fit.trans,
        betas=fit.betas,
        fps=seq.fps,
        frame_indices=seq.frame_indices,
        confidence=fit.confidence,
        bridged=fit.bridged,
        reprojection_error=err,
        expression=np.asarray(expression, np.float32),
        camera_intrinsics=K,
        camera_extrinsics=np.eye(4),
        image_size=np.asarray(seq.image_size),
        world_up=np.array([0.0, -1.0, 0.0]),
        gender=fit.gender,
        body_model=fit.body_model,
        joint_names=JOINT_NAMES,
        parents=np.array(PARENTS, np.int32),
        rest_joints=np.asarray(rest["rest_joints"], np.float32),
        v_template=rest["v_template"],
        faces=rest["faces"],
        skin_weights=rest["skin_weights"],
        shape_dirs=shape_dirs,
        expression_dirs=expression_dirs,
        keypoints_2d=keypoints,
        quality=quality,
        source_video=source_video,
    )
