"""The capture's pose stage and its reporter, shared by ``capture``, ``capture-multi`` and ``--people all``.

:func:`find_person` streams a video's frames (decoded a few frames ahead when given the
capture's ``core.pipeline.Stages``) into the chosen pose backend and returns the person's
landmarks; :class:`Reporter` sends a capture job's events (the JSON-lines protocol the
README documents) with one overall progress fraction over :data:`STAGE_SPANS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from .errors import MocapError
from .gravity import FrameSampler
from .landmarks import PoseSequence
from .person import PersonPick
from .pipeline import Stages, frames_ahead
from .video import VideoInfo, iter_frames, variable_frame_rate

Event = dict
"""One progress event: {"event": "stage" | "progress" | "warning" | "done", ...}."""

# Share of the whole run each stage takes, for one overall progress fraction.
# Decoding and pose estimation run interleaved (frames are streamed), so they
# share the "pose" span.
STAGE_SPANS = {"decoding": (0.0, 0.01), "pose": (0.01, 0.9), "fitting": (0.9, 0.96), "cleanup": (0.96, 0.98),
                "writing": (0.98, 1.0)}

POSE_MAX_SIZE = 960
"""Frames are downscaled to this longer side before pose estimation: MediaPipe
works at 256 px internally, and decoding to a smaller image costs less."""


class Reporter:
    """Sends a capture's events: stage changes, throttled progress (one overall fraction) and warnings."""

    def __init__(self, emit: Callable[[Event], None] | None) -> None:
        self.emit = emit
        self.watchers: dict[str, list[Callable[[int, int], None]]] = {}

    def watch(self, name: str, watcher: Callable[[int, int], None]) -> None:
        """Call ``watcher(done, total)`` on every progress of stage ``name`` (not throttled; in the
        thread that reports it)."""
        self.watchers.setdefault(name, []).append(watcher)

    def send(self, event: Event) -> None:
        if self.emit is not None:
            self.emit(event)

    def stage(self, name: str, message: str) -> None:
        self.send({"event": "stage", "stage": name, "message": message})

    def warn(self, message: str) -> None:
        self.send({"event": "warning", "message": message})

    def progress_of(self, name: str) -> Callable[[int, int], None]:
        lo, hi = STAGE_SPANS[name]
        last = [0.0]
        watchers = self.watchers.get(name, [])

        def report(done: int, total: int) -> None:
            for watcher in watchers:
                watcher(done, total)
            now = time.perf_counter()
            if done < total and now - last[0] < 0.1:
                return  # at most ten events a second
            last[0] = now
            frac = lo + (hi - lo) * (done / max(total, 1))
            self.send({"event": "progress", "stage": name, "done": done, "total": total,
                       "fraction": round(frac, 4)})

        return report


def find_person(settings: Any, info: VideoInfo, body: Any, report: Reporter, *,
                end: int, stride: int, expected: int, mirror: bool, torch_pose: Any,
                should_cancel: Callable[[], bool] | None, sampler: FrameSampler | None = None,
                stages: Stages | None = None) -> PoseSequence:
    """The pose stage: the person's landmarks in frames ``settings.start`` to ``end`` (exclusive), every
    ``stride``-th, streamed from the video into the chosen backend; warns about a variable frame rate.

    ``settings``: the ``core.capture.CaptureSettings`` (its pose options and ``person`` pick); ``body``: the
    ``core.body.model.BodyModel`` to be fitted (a face to animate makes the torch backend warn); ``expected``:
    the number of frames, for progress; ``mirror``: average with the mirrored frame; ``torch_pose``: the
    torch backend's settings (``core.capture.torch_pose_settings``), None for MediaPipe Holistic;
    ``sampler``: keeps a few frames for the scene's vertical lines; ``stages``: the capture's threads (the
    frames are then decoded in a thread of their own, a few ahead). Returns the image landmarks in pixels of
    the full-size video (``PoseSequence``).
    """
    from .pose import estimate_holistic

    mirror_note = ", and each frame mirrored for depth" if mirror else ""
    pick, pick_image = person_pick(settings, info, end, stride)
    timestamps: list[float] = []
    frames = iter_frames(
        info, start=settings.start, end=end, stride=stride, timestamps=timestamps,
        max_size=POSE_MAX_SIZE, should_cancel=should_cancel,
    )
    if sampler is not None:
        frames = sampler.tap(frames)
    if stages is not None:  # decoded in a thread of its own, a chunk of the torch backend and a few frames ahead
        chunk = 1 if torch_pose is None else torch_pose.batch_size * torch_pose.segment_frames
        frames = stages.read_ahead(frames, frames_ahead(chunk))
    if torch_pose is not None:  # the torch backend's settings (torch_pose_settings)
        from .pose_torch import estimate_body
        from .pose_torch.tracker import BodyModels

        models = BodyModels(torch_pose.device, torch_pose.precision)
        report.stage("pose", f"finding the person in {expected} frames (MediaPipe's pose models in PyTorch on "
                             f"{models.device.type}, batch {torch_pose.batch_size}{mirror_note})")
        if body.num_expression:  # a body with a face to animate (not the mannequin)
            report.warn("the torch pose backend finds the body and hands, not the face: jaw and expression "
                        "keep their rest pose (use the mediapipe backend for them)")
        seq = estimate_body(
            frames, num_frames=expected, fps=info.fps / stride, image_size=(info.width, info.height),
            settings=torch_pose, models=models, progress=report.progress_of("pose"), should_cancel=should_cancel,
            pick=pick, pick_image=pick_image,
        )
    else:
        report.stage("pose", f"finding the person in {expected} frames (MediaPipe Holistic{mirror_note})")
        seq = estimate_holistic(
            frames, num_frames=expected, fps=info.fps / stride,
            image_size=(info.width, info.height),
            settings=replace(settings.pose, mirror_average=mirror, follow=settings.pose.follow),
            progress=report.progress_of("pose"), should_cancel=should_cancel, pick=pick, pick_image=pick_image,
        )
    vfr = variable_frame_rate(timestamps, info.fps, seq.frame_indices)
    if vfr:
        report.warn(vfr)
    return seq


def person_pick(settings: Any, info: VideoInfo, end: int, stride: int) -> tuple[PersonPick | None, np.ndarray | None]:
    """(the user's pick of the person to follow, or None; the picked frame, decoded ahead, when it is
    not the first captured one). MocapError when the pick lies outside the video or the frames captured."""
    from .person import parse_pick

    if not settings.person:
        return None, None
    pick = parse_pick(settings.person)
    if pick.x >= info.width or pick.y >= info.height:
        raise MocapError(f"--person {pick}: the pixel lies outside the {info.width}x{info.height} video")
    if pick.frame is None or pick.frame == settings.start:
        return pick, None
    if pick.frame not in range(settings.start, end, stride):
        raise MocapError(f"--person {pick}: frame {pick.frame} is not one the capture analyses "
                         f"(frames {settings.start} to {end - 1}, every {stride})")
    image = next((rgb for _, rgb in iter_frames(info, start=pick.frame, end=pick.frame + 1,
                                                 max_size=POSE_MAX_SIZE)), None)
    if image is None:
        raise MocapError(f"--person {pick}: frame {pick.frame} could not be decoded")
    return pick, image


__all__ = ["POSE_MAX_SIZE", "STAGE_SPANS", "Event", "Reporter", "find_person", "person_pick"]
