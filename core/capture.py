"""The capture job: video -> landmarks -> fitted body -> motion file.

One function, :func:`capture`, with progress and cancellation as parameters,
used by the CLI, the Blender add-on (through the CLI, in a subprocess) and the
batch runner. Events are dicts in the JSON-lines protocol the README documents.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import MocapError
from .landmarks import repair_side_swaps
from .motion import Motion, write_motion
from .pose import PoseSettings
from .skeleton import JOINT_NAMES, PARENTS
from .video import DEFAULT_HFOV_DEGREES, default_intrinsics, iter_frames, open_video

Event = dict
"""One progress event: {"event": "stage" | "progress" | "warning" | "done", ...}."""

# Share of the whole run each stage takes, for one overall progress fraction.
# Decoding and pose estimation run interleaved (frames are streamed), so they
# share the "pose" span.
_STAGE_SPANS = {"decoding": (0.0, 0.01), "pose": (0.01, 0.9), "fitting": (0.9, 0.97), "writing": (0.97, 1.0)}

POSE_MAX_SIZE = 960
"""Frames are downscaled to this longer side before pose estimation: MediaPipe
works at 256 px internally, and decoding to a smaller image costs less."""


@dataclass(frozen=True)
class CaptureSettings:
    """What a capture does. Every field has a CLI flag and an add-on property.

    Attributes:
        start, end: frame range of the video, 0-based, end exclusive (None: to
            the end of the video).
        stride: analyse every ``stride``-th frame.
        max_frames: stop after this many analysed frames (None: no limit).
        hfov_degrees: horizontal field of view of the camera; None uses the
            default (``core.video.DEFAULT_HFOV_DEGREES``).
        pose: MediaPipe settings.
    """

    start: int = 0
    end: int | None = None
    stride: int = 1
    max_frames: int | None = None
    hfov_degrees: float | None = None
    pose: PoseSettings = PoseSettings()


def capture(
    video: str | Path,
    out: str | Path,
    settings: CaptureSettings = CaptureSettings(),
    *,
    emit: Callable[[Event], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Motion:
    """Capture the person in ``video`` and write the motion file ``out``.

    Raises MocapError (or its CancelledError) with a message for the user;
    ``out`` is written atomically, so a failed run leaves no file behind and
    an existing file untouched.
    """
    from .fit import fit_sequence
    from .pose import estimate_holistic

    timings: dict[str, float] = {}

    def send(event: Event) -> None:
        if emit is not None:
            emit(event)

    def stage(name: str, message: str) -> None:
        timings[name] = time.perf_counter()
        send({"event": "stage", "stage": name, "message": message})

    def progress_of(name: str) -> Callable[[int, int], None]:
        lo, hi = _STAGE_SPANS[name]
        last = [0.0]

        def report(done: int, total: int) -> None:
            now = time.perf_counter()
            if done < total and now - last[0] < 0.1:
                return  # at most ten events a second
            last[0] = now
            frac = lo + (hi - lo) * (done / max(total, 1))
            send({"event": "progress", "stage": name, "done": done, "total": total, "fraction": round(frac, 4)})

        return report

    stage("decoding", f"opening {Path(video).name}")
    info = open_video(video)
    end = settings.end if settings.end is not None else info.frame_count
    end = min(end, info.frame_count) if info.frame_count > 1 else end
    if settings.max_frames is not None:
        if settings.max_frames < 1:
            raise MocapError(f"max frames must be 1 or more, got {settings.max_frames}")
        end = min(end, settings.start + settings.max_frames * settings.stride)
    if settings.start >= end:
        raise MocapError(
            f"frame range starts at {settings.start} but the video has {info.frame_count} frames"
        )
    expected = len(range(settings.start, end, settings.stride))
    hfov = settings.hfov_degrees if settings.hfov_degrees is not None else DEFAULT_HFOV_DEGREES
    K = default_intrinsics(info.width, info.height, hfov)

    stage("pose", f"finding the person in {expected} frames (MediaPipe Holistic)")
    frames = iter_frames(
        info, start=settings.start, end=end, stride=settings.stride,
        max_size=POSE_MAX_SIZE, should_cancel=should_cancel,
    )
    seq = estimate_holistic(
        frames, num_frames=expected, fps=info.fps / settings.stride,
        image_size=(info.width, info.height), settings=settings.pose,
        progress=progress_of("pose"), should_cancel=should_cancel,
    )

    swapped = repair_side_swaps(seq)
    if swapped:
        send({"event": "warning", "message": (
            f"the pose detector mixed up left and right in {len(swapped)} frames "
            f"(first: video frame {int(seq.frame_indices[swapped[0]])}); corrected")})

    stage("fitting", f"fitting the body to {seq.num_frames} frames")
    fit = fit_sequence(seq, K, progress=progress_of("fitting"), should_cancel=should_cancel)
    for warning in fit.warnings:
        send({"event": "warning", "message": warning})

    stage("writing", f"writing {Path(out).name}")
    motion = motion_from_fit(seq, fit, K, source_video=str(Path(video).resolve()))
    write_motion(out, motion)
    timings["end"] = time.perf_counter()
    send({"event": "done", "out": str(Path(out).resolve()), "frames": motion.num_frames,
          "quality": motion.quality})
    return motion


def motion_from_fit(seq, fit, K: np.ndarray, *, source_video: str = "") -> Motion:
    """Assemble the motion file contents from landmarks and a fit result."""
    from .body import mannequin

    v_template, faces, weights = mannequin.mesh(fit.betas)
    err = fit.reprojection_error
    observed = np.isfinite(err)
    keypoints = np.concatenate([seq.body_2d, seq.left_hand, seq.right_hand], axis=1)
    keypoints = np.nan_to_num(keypoints, nan=0.0)
    quality = {
        "mean_reprojection_error_px": float(np.mean(err[observed])) if observed.any() else float("nan"),
        "low_confidence_fraction": float(np.mean(fit.confidence < 0.5)),
        "bridged_frames": float(np.sum(fit.bridged)),
        "frames": float(len(err)),
    }
    return Motion(
        poses=fit.poses,
        trans=fit.trans,
        betas=fit.betas,
        fps=seq.fps,
        frame_indices=seq.frame_indices,
        confidence=fit.confidence,
        bridged=fit.bridged,
        reprojection_error=err,
        expression=np.zeros((len(err), 0), np.float32),
        camera_intrinsics=K,
        camera_extrinsics=np.eye(4),
        image_size=np.asarray(seq.image_size),
        world_up=np.array([0.0, -1.0, 0.0]),
        gender="neutral",
        body_model="mannequin",
        joint_names=JOINT_NAMES,
        parents=np.array(PARENTS, np.int32),
        rest_joints=fit.rest_joints,
        v_template=v_template,
        faces=faces,
        skin_weights=weights,
        keypoints_2d=keypoints,
        quality=quality,
        source_video=source_video,
    )
