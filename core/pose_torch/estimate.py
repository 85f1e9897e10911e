"""The torch pose backend's entry point: frames in, a PoseSequence out (same as core.pose)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ..errors import CancelledError, MocapError
from ..landmarks import PoseSequence
from ..person import PersonPick
from .hands import HandModels, HandTracker
from .settings import TorchPoseSettings
from .tracker import BodyModels, BodyTracker


def shrink(rgb: np.ndarray, max_side: int | None) -> np.ndarray:
    """``rgb`` (H, W, 3) downscaled (area filter) so its longer side is at most ``max_side`` pixels (the
    settings' ``max_side``: the pose networks see 224-256 px crops); as it is when already small enough or
    ``max_side`` is None."""
    h, w = rgb.shape[:2]
    if max_side is None or max(h, w) <= max_side:
        return rgb
    import cv2

    f = max_side / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def _follow_pick(tracker: BodyTracker, pick: PersonPick | None, pick_image: np.ndarray | None,
                 width: int) -> np.ndarray | None:
    """The pick (2,) in pixels of a frame ``width`` wide, divided by that width (None without a pick);
    learns the picked person's looks from ``pick_image`` when given. MocapError if nobody is there."""
    if pick is None or not tracker.settings.redetect:
        return None
    pick_at = np.array([pick.x, pick.y], np.float64) / width
    if pick_image is not None:
        ahead = shrink(pick_image, tracker.settings.max_side)
        if not tracker.follow(ahead, pick_at * ahead.shape[1]):
            raise MocapError(f"--person {pick}: nobody was found at that pixel in frame {pick.frame}")
    return pick_at


def estimate_body(
    frames: Iterable[tuple[int, np.ndarray]],
    *,
    num_frames: int,
    fps: float,
    image_size: tuple[int, int],
    settings: TorchPoseSettings = TorchPoseSettings(),
    models: BodyModels | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    pick: PersonPick | None = None,
    pick_image: np.ndarray | None = None,
) -> PoseSequence:
    """Body and hand landmarks of streamed frames with MediaPipe's models run by torch, in batches.

    Same contract as :func:`core.pose.estimate_holistic` (the face stays NaN,
    and the hands too when ``settings.hands`` is False): ``frames`` yields
    ``(frame_index, rgb uint8 (H, W, 3))`` in order, possibly downscaled;
    landmarks come back in pixels of ``image_size`` (width, height), the
    original video (hand z in the same pixel scale as x, as core.pose gives
    it). Memory holds one chunk of ``batch_size * segment_frames`` frames at
    a time.

    ``pick``: the person to follow, a pixel of ``image_size`` in a frame (None:
    the first frame given); ``pick_image`` is that frame (RGB, as ``frames``
    gives them) when it is not the first, so the person's looks pick them out
    from the start. Without a pick the most prominent person is followed.
    """
    tracker = BodyTracker(settings, models)
    pick_at = _follow_pick(tracker, pick, pick_image, image_size[0])
    hand_tracker = (HandTracker(HandModels.of(tracker.models), settings.batch_size, settings.warmup_frames)
                    if settings.hands else None)
    width, height = image_size
    hand_scale = np.array([width, height, width])  # z is scaled like x (core.pose does the same)
    indices: list[int] = []
    body_2d: list[np.ndarray] = []
    body_world: list[np.ndarray] = []
    present: list[np.ndarray] = []
    hands: list[np.ndarray] = []
    chunk: list[np.ndarray] = []
    chunk_picks: dict[int, np.ndarray] = {}
    chunk_len = settings.batch_size * settings.segment_frames
    done = 0

    def flush() -> None:
        nonlocal done
        track = tracker.run_chunk(chunk, chunk_picks)
        chunk_picks.clear()
        xy = track.landmarks[..., :2] * np.array([width, height])
        body_2d.append(np.concatenate([xy, track.landmarks[..., 3:4]], axis=-1).astype(np.float32))
        body_world.append(track.world.astype(np.float32))
        present.append(track.present)
        if hand_tracker is not None:
            hands.append((hand_tracker.run_chunk(chunk, track.landmarks).landmarks * hand_scale).astype(np.float32))
        done += len(chunk)
        chunk.clear()
        if progress is not None:
            progress(done, max(num_frames, done))
        if should_cancel is not None and should_cancel():
            raise CancelledError()

    for index, rgb in frames:
        small = np.ascontiguousarray(shrink(rgb, settings.max_side))
        if pick_at is not None and (index == pick.frame or (pick.frame is None and not indices)):
            chunk_picks[len(chunk)] = pick_at * small.shape[1]
        indices.append(index)
        chunk.append(small)
        if len(chunk) >= chunk_len:
            flush()
    if chunk:
        flush()
    return _sequence(indices, fps, image_size, body_2d, body_world, present, hands)


def _sequence(indices: list[int], fps: float, image_size: tuple[int, int], body_2d: list[np.ndarray],
              body_world: list[np.ndarray], present: list[np.ndarray], hands: list[np.ndarray]) -> PoseSequence:
    """The pose sequence of the chunks' results (hands empty: the hands stay NaN)."""
    if not indices:
        raise MocapError("the video yielded no frames to analyse")
    seq = PoseSequence.empty(len(indices), fps, image_size)
    seq.frame_indices = np.asarray(indices, np.int64)
    seq.body_2d = np.concatenate(body_2d)
    seq.body_world = np.concatenate(body_world)
    seq.present = np.concatenate(present)
    if hands:
        both = np.concatenate(hands)
        seq.left_hand, seq.right_hand = both[:, 0], both[:, 1]
    return seq
