"""Fitting a clip: one window of frames as one batch (``fit_window``: set up, solve, read the
result), or a long clip in overlapping windows with one shared shape (``fit_clip``)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np
import torch

from ...body.model import BodyModel, MannequinBody
from ...errors import CancelledError, MocapError
from ...landmarks import PoseSequence
from ..result import NO_PERSON, FitResult
from .excursions import bridge_excursions
from .objective import ClipProblem
from ..ik import observed_frames
from .result import bridging_warnings, read_result
from .settings import OptimizeSettings, resolve_device
from .setup import Params, free_joints, initial_values, lifted, observations, usable_frames
from .solver import minimise, one_cpu_thread
from .views import CameraViews, start_at_mid_hip, view_observations
from .windows import frames_of, spread_frames, stitch, window_starts


def fit_clip(
    seq: PoseSequence,
    K: np.ndarray,
    body: BodyModel | None = None,
    *,
    settings: OptimizeSettings = OptimizeSettings(),
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    views: CameraViews | None = None,
) -> FitResult:
    """Fit ``body`` (default: the mannequin) to a clip's landmarks, all frames as one batch
    (see :func:`fit_window`), or in overlapping windows of ``settings.window_frames``
    with one shared shape when the clip is longer (memory stays bounded).
    ``views``: further cameras of a multi-view take (their landmarks on the same frames).
    """
    T = seq.num_frames
    window, overlap = int(settings.window_frames), int(settings.window_overlap)
    if T <= window or window <= 2 * overlap:
        return fit_window(seq, K, body, settings=settings, progress=progress, should_cancel=should_cancel,
                          views=views)
    body = body if body is not None else MannequinBody()
    starts = window_starts(T, window, overlap)
    total = len(starts) + 1
    step = [0]

    def part_progress(done: int, count: int) -> None:
        if progress is not None:
            progress(step[0] * count + done, total * count)

    if views is None:  # flips looked for on the whole clip once (the spread frames below are not consecutive),
        seq, _ = bridge_excursions(seq, settings.lift.up, settings.excursions)  # not again in each window
        settings = dataclasses.replace(settings, excursions=dataclasses.replace(settings.excursions, enabled=False))
    # The shape: one fit on frames spread over the whole clip (one window's worth).
    spread = spread_frames(T, window)
    spread_fps = seq.fps * len(spread) / T
    spread_views = None if views is None else views.frames(spread, spread_fps)
    shape_fit = fit_window(frames_of(seq, spread, fps=spread_fps), K, body, settings=settings,
                           progress=part_progress, should_cancel=should_cancel, views=spread_views)
    if views is not None and spread_views is not None:  # cameras refined on the spread frames; windows keep them
        views.R, views.t, views = spread_views.R, spread_views.t, dataclasses.replace(views, refine=None)
    betas = shape_fit.betas
    parts: list[tuple[int, FitResult | None]] = []
    for start in starts:
        step[0] += 1
        stop = min(start + window, T)
        try:
            span = np.arange(start, stop)
            part = fit_window(frames_of(seq, span), K, body, settings=settings, betas=betas, progress=part_progress,
                              should_cancel=should_cancel, views=None if views is None else views.frames(span))
        except CancelledError:
            raise
        except MocapError:
            part = None  # nobody in this stretch: bridged from its neighbours below
        parts.append((start, part))
    if all(p is None for _, p in parts):
        raise MocapError(NO_PERSON)
    fit = stitch(parts, T, overlap, shape_fit)
    # One warning of each kind for the whole take, counted on the stitched flags: the windows'
    # own would repeat per window and count the overlaps twice.
    fit.warnings = bridging_warnings(seq.frame_indices, fit.bridged, observed_frames(seq))
    return fit


def fit_window(
    seq: PoseSequence,
    K: np.ndarray,
    body: BodyModel | None = None,
    *,
    settings: OptimizeSettings = OptimizeSettings(),
    betas: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    views: CameraViews | None = None,
) -> FitResult:
    """Fit ``body`` (default: the mannequin) to a clip's landmarks, all frames as one batch.

    Args:
        seq: the clip's landmarks (``core.landmarks.PoseSequence``), T frames.
        K: (3, 3) camera intrinsics, pixels (OpenCV).
        body: a ``core.body.model.BodyModel`` (``MannequinBody`` or ``SMPLXBody``).
        settings: see ``OptimizeSettings`` (``PRESETS`` holds the presets).
        betas: (B,) a fixed shape (another window's); None fits the shape
            when ``settings.fit_shape``.
        progress: progress(done, total), counted in objective evaluations
            after the initialiser.
        should_cancel: polled before each evaluation; True raises CancelledError.
        views: further cameras (``core.fit.optimize.views.CameraViews``): their 2D
            landmarks add a reprojection term each; the fit stays in camera 0's frame.

    Returns:
        ``FitResult`` with poses (T, 165), trans (T, 3) in the camera frame,
        betas (B,), expression (T, E), rest_joints of the fitted shape,
        per-frame confidence, bridged flags and reprojection error (pixels).

    Frames without a person, or whose limb landmarks are nearly all unseen
    (mean visibility below ``settings.min_frame_confidence``), take no data
    term: the temporal terms carry the motion through them, and they are
    flagged ``bridged`` with a warning.

    Raises:
        MocapError: no usable frame; unknown device.
        CancelledError: ``should_cancel`` returned True.
    """
    device = resolve_device(settings.device)
    with one_cpu_thread(device):
        return _fit_window(seq, K, body, device, settings, betas, progress, should_cancel, views)


def _fit_window(seq: PoseSequence, K: np.ndarray, body: BodyModel | None, device: torch.device,
                settings: OptimizeSettings, betas: np.ndarray | None,
                progress: Callable[[int, int], None] | None,
                should_cancel: Callable[[], bool] | None, views: CameraViews | None = None) -> FitResult:
    """``fit_window`` on ``device``."""
    started = time.perf_counter()
    body = (body if body is not None else MannequinBody()).to(device)
    K = np.asarray(K, np.float64)
    frames = usable_frames(seq, settings)
    if seq.num_frames == 0 or not frames.good.any():
        raise MocapError(NO_PERSON)
    if views is None:  # one camera: MediaPipe's one-view guess, whose hidden limbs flip on a lying body
        seq, _ = bridge_excursions(seq, settings.lift.up, settings.excursions)
    seq = lifted(seq, K, frames.good, settings)
    start = initial_values(seq, K, body, frames.good, settings, betas)
    if views is not None:
        start = start_at_mid_hip(start, body, views.mid_hip)
    fit_face = bool(body.num_face) and bool(np.isfinite(np.asarray(seq.face)[frames.good]).any())
    seen = None if views is None else view_observations(views, body, settings, device)
    problem = ClipProblem(body, observations(seq, body, frames.good, device), K, seq.fps, settings, fit_face, seen)
    expr0 = np.zeros((seq.num_frames, body.num_expression), np.float32)
    params = Params(start.local, start.trans, start.betas, expr0, free_joints(fit_face), device, start.fit_shape)
    evaluations = minimise(problem, params, settings, device, progress=progress, should_cancel=should_cancel)
    if views is not None and seen is not None and views.refine is not None:
        views.R, views.t = seen.refined()
    result = read_result(seq, K, body, params, fit_face, frames, settings)
    result.timings = {"fit_seconds": time.perf_counter() - started,
                      "iterations": float(max(0, int(settings.iterations))), "evaluations": float(evaluations)}
    return result
