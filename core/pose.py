"""Pose estimation backends. First backend: MediaPipe Holistic (CPU, bundled models).

MediaPipe 0.10.21 is the last release whose wheel carries its models; nothing
is downloaded at run time. ``model_complexity`` 0 or 1 only: 2 ("heavy")
fetches its model from the network on first use, which an offline install
cannot do.

Landmarks are returned in a :class:`core.landmarks.PoseSequence`, in pixels of
the *original* video frame even when frames were downscaled for speed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .errors import CancelledError, MocapError
from .landmarks import NUM_BODY, NUM_FACE, NUM_HAND, PoseSequence


@dataclass(frozen=True)
class PoseSettings:
    """Settings of the MediaPipe Holistic backend.

    Attributes:
        model_complexity: 0 (lite) or 1 (full) pose landmark model.
        min_detection_confidence: person detector threshold.
        min_tracking_confidence: below it, tracking falls back to detection.
        smooth_landmarks: MediaPipe's own temporal filter (tracking mode).
        refine_face_landmarks: iris / lip refinement of the face mesh.
    """

    model_complexity: int = 1
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    smooth_landmarks: bool = True
    refine_face_landmarks: bool = False

    def __post_init__(self) -> None:
        if self.model_complexity not in (0, 1):
            raise MocapError(
                "model complexity must be 0 or 1: the heavy model (2) is not bundled "
                "with MediaPipe and would need a download"
            )


def _to_array(landmarks, count: int, width: int, height: int, with_visibility: bool) -> np.ndarray:
    pts = landmarks.landmark
    if len(pts) < count:
        raise MocapError(f"MediaPipe returned {len(pts)} landmarks, expected {count}")
    out = np.empty((count, 3), np.float32)
    for i in range(count):
        p = pts[i]
        third = p.visibility if with_visibility else p.z * width
        out[i] = (p.x * width, p.y * height, third)
    return out


def estimate_holistic(
    frames: Iterable[tuple[int, np.ndarray]],
    *,
    num_frames: int,
    fps: float,
    image_size: tuple[int, int],
    settings: PoseSettings = PoseSettings(),
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> PoseSequence:
    """Run MediaPipe Holistic over streamed frames in tracking mode.

    Args:
        frames: ``(frame_index, rgb uint8 (H, W, 3))`` pairs in order, e.g.
            from :func:`core.video.iter_frames`; frames may be downscaled.
        num_frames: how many frames to expect (for progress; more or fewer
            are handled).
        fps: frame rate of the frames given (video fps / stride).
        image_size: (width, height) of the original video, the pixel frame of
            the returned landmarks.
        progress: called as ``progress(done, num_frames)`` after each frame.
        should_cancel: polled after each frame; True raises CancelledError.
    """
    import mediapipe as mp

    width, height = image_size
    seq = PoseSequence.empty(num_frames, fps, (width, height))
    indices: list[int] = []
    rows: dict[str, list[np.ndarray]] = {k: [] for k in ("body_2d", "body_world", "left_hand", "right_hand", "face")}
    present: list[bool] = []
    nan_body = np.full((NUM_BODY, 3), np.nan, np.float32)
    nan_world = np.full((NUM_BODY, 4), np.nan, np.float32)
    nan_hand = np.full((NUM_HAND, 3), np.nan, np.float32)
    nan_face = np.full((NUM_FACE, 3), np.nan, np.float32)
    with mp.solutions.holistic.Holistic(
        static_image_mode=False,
        model_complexity=settings.model_complexity,
        smooth_landmarks=settings.smooth_landmarks,
        refine_face_landmarks=settings.refine_face_landmarks,
        min_detection_confidence=settings.min_detection_confidence,
        min_tracking_confidence=settings.min_tracking_confidence,
    ) as holistic:
        for done, (index, rgb) in enumerate(frames, start=1):
            rgb.flags.writeable = False
            res = holistic.process(rgb)
            indices.append(index)
            if res.pose_landmarks is not None and res.pose_world_landmarks is not None:
                present.append(True)
                rows["body_2d"].append(_to_array(res.pose_landmarks, NUM_BODY, width, height, True))
                world = np.empty((NUM_BODY, 4), np.float32)
                for i, p in enumerate(res.pose_world_landmarks.landmark[:NUM_BODY]):
                    world[i] = (p.x, p.y, p.z, p.visibility)
                rows["body_world"].append(world)
            else:
                present.append(False)
                rows["body_2d"].append(nan_body)
                rows["body_world"].append(nan_world)
            for key, lm in (("left_hand", res.left_hand_landmarks), ("right_hand", res.right_hand_landmarks)):
                rows[key].append(nan_hand if lm is None else _to_array(lm, NUM_HAND, width, height, False))
            face = res.face_landmarks
            rows["face"].append(nan_face if face is None else _to_array(face, NUM_FACE, width, height, False))
            if progress is not None:
                progress(done, max(num_frames, done))
            if should_cancel is not None and should_cancel():
                raise CancelledError()
    if not indices:
        raise MocapError("the video yielded no frames to analyse")
    seq.frame_indices = np.asarray(indices, np.int64)
    for key, values in rows.items():
        setattr(seq, key, np.stack(values).astype(np.float32))
    seq.present = np.asarray(present, bool)
    return seq
