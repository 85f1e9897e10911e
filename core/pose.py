"""Pose estimation backends. First backend: MediaPipe Holistic (CPU, bundled models).

MediaPipe 0.10.21 is the last release whose wheel carries its models; nothing
is downloaded at run time. ``model_complexity`` 0 or 1 only: 2 ("heavy")
fetches its model from the network on first use, which an offline install
cannot do.

Landmarks are returned in a :class:`core.landmarks.PoseSequence`, in pixels of
the *original* video frame even when frames were downscaled for speed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from .errors import CancelledError, MocapError
from .landmarks import BODY_SWAP, NUM_BODY, NUM_FACE, NUM_HAND, PoseSequence, unmirror_body
from .person import PersonPick


@dataclass(frozen=True)
class PoseSettings:
    """Settings of the MediaPipe Holistic backend.

    Attributes:
        model_complexity: 0 (lite) or 1 (full) pose landmark model.
        min_detection_confidence: person detector threshold.
        min_tracking_confidence: below it, tracking falls back to detection.
        smooth_landmarks: MediaPipe's own temporal filter (tracking mode).
        refine_face_landmarks: iris / lip refinement of the face mesh.
        mirror_average: also track the mirrored video with MediaPipe Pose and
            average the metric world landmarks of the two (the mirror's put
            back: left and right swapped, x negated) on the frames both find
            the person. The network's depth errs differently on a pose and its
            mirror image, and the mean is the better depth; image landmarks,
            hands and face stay the plain video's. Costs a second pose pass.
    """

    model_complexity: int = 1
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    smooth_landmarks: bool = True
    refine_face_landmarks: bool = False
    mirror_average: bool = False
    follow: bool = True

    def __post_init__(self) -> None:
        if self.model_complexity not in (0, 1):
            raise MocapError(
                "model complexity must be 0 or 1: the heavy model (2) is not bundled "
                "with MediaPipe and would need a download"
            )


def landmark_array(landmarks, count: int, width: int, height: int, with_visibility: bool) -> np.ndarray:
    """(count, 3) MediaPipe normalized landmarks in pixels of a ``width`` x ``height`` image: x, y, and the
    visibility (``with_visibility``) or the depth scaled as x (hands, face). Also read by the live stream."""
    pts = landmarks.landmark
    if len(pts) < count:
        raise MocapError(f"MediaPipe returned {len(pts)} landmarks, expected {count}")
    out = np.empty((count, 3), np.float32)
    for i in range(count):
        p = pts[i]
        third = p.visibility if with_visibility else p.z * width
        out[i] = (p.x * width, p.y * height, third)
    return out


def world_landmark_array(landmarks) -> np.ndarray:
    """(33, 4) metric world landmarks: x, y, z, visibility."""
    return np.array([(p.x, p.y, p.z, p.visibility) for p in landmarks.landmark[:NUM_BODY]], np.float32)


_TRUNK = (11, 12, 23, 24)  # shoulders and hips


def _same_person(body_2d: np.ndarray, mirrored, width: int, height: int) -> bool:
    """Whether the mirrored video's pose (its image landmarks) is the plain video's person.

    Its shoulders and hips, put back (x -> width - x, left and right
    swapped), must lie within a quarter of the torso's length of the plain
    ones (median): with several people in view the two trackers may follow
    different ones, and then nothing is averaged.
    """
    back = landmark_array(mirrored, NUM_BODY, width, height, True)[:, :2]
    back[:, 0] = width - back[:, 0]
    back = back[BODY_SWAP]
    plain = body_2d[:, :2]
    torso = np.linalg.norm(plain[[11, 12]].mean(0) - plain[[23, 24]].mean(0))
    gap = np.median(np.linalg.norm(back[list(_TRUNK)] - plain[list(_TRUNK)], axis=-1))
    return bool(gap < 0.25 * torso)


def _grow(seq: PoseSequence, extra: int) -> None:
    """Append ``extra`` all-missing frames to ``seq``'s arrays."""
    more = PoseSequence.empty(extra, seq.fps, tuple(seq.image_size))
    for key in ("frame_indices", "body_2d", "body_world", "left_hand", "right_hand", "face", "present"):
        setattr(seq, key, np.concatenate([getattr(seq, key), getattr(more, key)]))


def _store_holistic(seq: PoseSequence, count: int, res, mirrored, rgb: np.ndarray) -> None:
    """Holistic's result ``res`` for ``rgb`` as frame ``count`` of ``seq`` (its world landmarks averaged
    with the mirrored Pose tracker's when that one holds the same person)."""
    width, height = (int(v) for v in seq.image_size)
    if res.pose_landmarks is not None and res.pose_world_landmarks is not None:
        seq.present[count] = True
        seq.body_2d[count] = landmark_array(res.pose_landmarks, NUM_BODY, width, height, True)
        seq.body_world[count] = world_landmark_array(res.pose_world_landmarks)
    if mirrored is not None:
        flipped = np.ascontiguousarray(rgb[:, ::-1])
        flipped.flags.writeable = False
        other = mirrored.process(flipped)
        if (seq.present[count] and other.pose_world_landmarks is not None and other.pose_landmarks is not None
                and _same_person(seq.body_2d[count], other.pose_landmarks, width, height)):
            back = unmirror_body(world_landmark_array(other.pose_world_landmarks)[:, :3])
            seq.body_world[count, :, :3] = 0.5 * (seq.body_world[count, :, :3] + back)
    for target, lm in ((seq.left_hand, res.left_hand_landmarks), (seq.right_hand, res.right_hand_landmarks)):
        if lm is not None:
            target[count] = landmark_array(lm, NUM_HAND, width, height, False)
    if res.face_landmarks is not None:
        seq.face[count] = landmark_array(res.face_landmarks, NUM_FACE, width, height, False)


class _Frames:
    """The sequence being filled, one frame after another (in the follower's thread when following):
    Holistic's result for each frame, or where it is not the followed person the stand-in's body."""

    def __init__(self, seq: PoseSequence, follower, mirrored) -> None:
        self.seq, self.follower, self.mirrored = seq, follower, mirrored
        self.count = 0

    def __call__(self, item: tuple[int, np.ndarray, object]) -> None:
        index, rgb, res = item
        seq, count = self.seq, self.count
        if count == seq.num_frames:  # more frames than the header promised
            _grow(seq, max(16, count // 2))
        seq.frame_indices[count] = index
        if self.follower is None or _follow(self.follower, seq, count, index, res, rgb):
            _store_holistic(seq, count, res, self.mirrored, rgb)
        if self.follower is not None:
            _look_again(self.follower.turned, seq, count, rgb, self.follower.mirror_average)
        self.count += 1


def _follow(follower, seq: PoseSequence, count: int, index: int, res, rgb: np.ndarray) -> bool:
    """Whether Holistic's result is the followed person; if not, the stand-in's body (if it finds
    them) becomes frame ``count`` of ``seq``."""
    pick = follower.pick_here(index, count == 0, rgb)
    body = None
    if res.pose_landmarks is not None and res.pose_world_landmarks is not None:
        body = np.array([(p.x, p.y, p.visibility) for p in res.pose_landmarks.landmark[:NUM_BODY]], np.float64)
    if follower.holds(rgb, body, pick):
        return True
    found = follower.stand_in(rgb, pick)
    if found is not None:
        seq.present[count] = True
        seq.body_2d[count] = found[0] * [*seq.image_size, 1]
        seq.body_world[count] = found[1]
    return False


def _look_again(turned, seq: PoseSequence, count: int, rgb: np.ndarray, mirror_average: bool) -> None:
    """Frame ``count`` of ``seq`` read a second time in a crop turned as the body turns, where its body is
    turned (``core.pose_torch.turned.TurnedLook``); the better reading's body replaces it (hands and face
    stay Holistic's)."""
    if not seq.present[count]:
        turned.forget()
        return
    size = np.array(seq.image_size, np.float64)
    scale = rgb.shape[1] / size[0]  # frames may be downscaled; seq holds original pixels
    points = seq.body_2d[count].astype(np.float64) * [scale, scale, 1.0]
    better = turned.read(rgb, points, mirror_average)
    if better is not None:
        seq.body_2d[count] = np.concatenate([better.landmarks[:, :2] * size, better.landmarks[:, 3:4]], axis=1)
        seq.body_world[count] = better.world


def estimate_holistic(
    frames: Iterable[tuple[int, np.ndarray]],
    *,
    num_frames: int,
    fps: float,
    image_size: tuple[int, int],
    settings: PoseSettings = PoseSettings(),
    progress: Callable[[int, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    pick: PersonPick | None = None,
    pick_image: np.ndarray | None = None,
) -> PoseSequence:
    """Run MediaPipe Holistic over streamed frames in tracking mode, kept on the chosen person.

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
        pick: the person to follow, a pixel of ``image_size`` in a frame
            (None: the first frame given); without it, the most prominent
            person of the first frames. Needs ``settings.follow``.
        pick_image: the picked frame (RGB, as ``frames`` gives them) when it
            is not the first: the person's looks pick them out from the start.
    """
    import mediapipe as mp

    from . import pose_follow

    width, height = image_size
    # Landmarks go straight into preallocated arrays (NaN = not found): for a
    # long clip the face mesh alone is ~100 MB, so no per-frame lists and no
    # second stacked copy.
    seq = PoseSequence.empty(max(num_frames, 1), fps, (width, height))
    tracking = dict(
        static_image_mode=False,
        model_complexity=settings.model_complexity,
        smooth_landmarks=settings.smooth_landmarks,
        min_detection_confidence=settings.min_detection_confidence,
        min_tracking_confidence=settings.min_tracking_confidence,
    )
    follower = pose_follow.Follower(
        min_detection=settings.min_detection_confidence, min_tracking=settings.min_tracking_confidence,
        mirror_average=settings.mirror_average, pick=pick, image_size=image_size) if settings.follow else None
    if follower is not None and pick is not None and pick_image is not None and not follower.follow_ahead(pick_image):
        raise MocapError(f"--person {pick}: nobody was found at that pixel in frame {pick.frame}")
    with contextlib.ExitStack() as stack:
        holistic = stack.enter_context(mp.solutions.holistic.Holistic(
            refine_face_landmarks=settings.refine_face_landmarks, **tracking))
        mirrored = stack.enter_context(mp.solutions.pose.Pose(**tracking)) if settings.mirror_average else None
        store = _Frames(seq, follower, mirrored)
        # Following, frames are stored by a thread of their own behind Holistic (see core.pose_follow.Behind).
        behind = stack.enter_context(pose_follow.Behind(store, pose_follow.FOLLOW_BEHIND if follower else 0))
        for done, (index, rgb) in enumerate(frames, start=1):
            rgb.flags.writeable = False
            res = holistic.process(rgb)
            behind.put((index, rgb, res))
            if progress is not None:
                progress(done, max(num_frames, done))
            if should_cancel is not None and should_cancel():
                raise CancelledError()
        behind.finish()
        count = store.count
    if count == 0:
        raise MocapError("the video yielded no frames to analyse")
    if count < seq.num_frames:  # fewer frames than the header promised
        for key in ("frame_indices", "body_2d", "body_world", "left_hand", "right_hand", "face", "present"):
            setattr(seq, key, getattr(seq, key)[:count].copy())
    return seq
