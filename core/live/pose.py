"""Pose of one live frame: MediaPipe in tracking mode (its VIDEO mode), one frame at a time.

Body only (MediaPipe Pose) by default: on this project's 2-core test machine
Pose takes about 40 ms a frame and Holistic (body, hands, face) about 120 ms,
so only the body keeps up with a 25-30 fps camera. ``hands=True`` runs
Holistic for fingers at the lower rate. Landmarks come back as a one-frame
:class:`core.landmarks.PoseSequence` in pixels of the frame given.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..landmarks import NUM_BODY, NUM_HAND, PoseSequence
from ..pose import landmark_array, world_landmark_array  # the offline backend's landmark conversions


class FramePose:
    """A MediaPipe tracker fed one RGB frame at a time; use as a context manager. ``static``: every frame read
    on its own, detector first (MediaPipe's static image mode: the live second look, ``core.live.search``)."""

    def __init__(self, *, hands: bool = False, min_detection: float = 0.5, min_tracking: float = 0.5,
                 model_complexity: int = 1, static: bool = False) -> None:
        import mediapipe as mp

        self.hands = hands
        kind = mp.solutions.holistic.Holistic if hands else mp.solutions.pose.Pose
        self._stack = contextlib.ExitStack()
        self._model = self._stack.enter_context(kind(
            static_image_mode=static, model_complexity=model_complexity, smooth_landmarks=not static,
            min_detection_confidence=min_detection, min_tracking_confidence=min_tracking))

    def __enter__(self) -> FramePose:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def process(self, rgb: np.ndarray, index: int, fps: float) -> PoseSequence:
        """Landmarks of ``rgb`` (H, W, 3) uint8 as frame ``index`` of a one-frame sequence."""
        height, width = rgb.shape[:2]
        seq = PoseSequence.empty(1, fps, (width, height))
        seq.frame_indices[0] = index
        rgb.flags.writeable = False
        res = self._model.process(rgb)
        if res.pose_landmarks is not None and res.pose_world_landmarks is not None:
            seq.present[0] = True
            seq.body_2d[0] = landmark_array(res.pose_landmarks, NUM_BODY, width, height, True)
            seq.body_world[0] = world_landmark_array(res.pose_world_landmarks)
        if self.hands:
            for target, lm in ((seq.left_hand, res.left_hand_landmarks), (seq.right_hand, res.right_hand_landmarks)):
                if lm is not None:
                    target[0] = landmark_array(lm, NUM_HAND, width, height, False)
        return seq
