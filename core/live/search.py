"""A second look where the person should be, on frames where MediaPipe's tracker has lost them.

MediaPipe Pose in tracking mode follows one body; once it loses it, its detector
searches the whole frame and finds whoever it finds. On the demo the man's flip
does this: from frame 167 the tracker holds the woman walking by, and with her
greyed out (``core.live.follow``) it finds nobody, so the stream held his pose
from before the flip for 13 frames, 250-650 mm off the offline take on every
limb. The man is still in the picture, small (a 35-45 px torso at 640x480) and in
a pose the detector rarely sees on a whole frame; in a crop around him it finds
him on most of those frames (MediaPipe in static mode, detector and landmarks).

So while the person followed is missing (at most ``SEARCH_SECONDS``), the frame
is read a second time by a static-mode MediaPipe Pose in a square crop around
where they should be (``core.person.Identity.expected``: their last region moved
on at its velocity), ``CROP_SCALE`` times their region's side; a body found there
is mapped back to the frame's pixels and given to :meth:`LiveFollow.take_back`,
which keeps it only if it is them. The crop is a translation and a scale, so
MediaPipe's metric landmarks (relative to the mid-hip, in the view of the person)
stay as they are. Costs a detector and a landmark pass (about the pose step again)
on those frames only.
"""

from __future__ import annotations

import numpy as np

from ..landmarks import PoseSequence
from .follow import LiveFollow
from .pose import FramePose

SEARCH_SECONDS = 1.0
"""Seconds (on the source's clock) the person may be missing and still be searched for where they were: after
that they have left, and a frame's cost stays the pose step's alone. Not frames: an engine under load poses
5-15 frames a second, and 30 frames of second looks (each about a pose step) took it 2-6 s, dropping frames."""
CROP_SCALE = 2.0
"""The crop's side over the person's last region's side: room for the expected place being off."""
MIN_CROP = 128
"""Pixels: the smallest crop (MediaPipe's detector reads 224 x 224)."""


class CropSearch:
    """MediaPipe Pose in static mode (:class:`FramePose`), run on a crop of a frame; use as a context manager."""

    def __init__(self, *, min_detection: float = 0.5, model_complexity: int = 1) -> None:
        self._pose = FramePose(static=True, min_detection=min_detection, model_complexity=model_complexity)
        self.found = 0  # frames whose body found again was the person's
        self.looks = 0  # frames a crop was read on (a static pose each)

    def __enter__(self) -> CropSearch:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pose.__exit__(*exc)

    def read(self, rgb: np.ndarray, centre: np.ndarray, side: float, index: int, fps: float) -> PoseSequence:
        """Landmarks of the body MediaPipe finds in the square crop of ``rgb`` (H, W, 3) uint8 of ``side`` px
        about ``centre`` (2,) px (padded with black where it leaves the frame), in pixels of the whole frame, as
        frame ``index`` of a one-frame sequence (``present`` False: nobody there)."""
        height, width = rgb.shape[:2]
        seq = PoseSequence.empty(1, fps, (width, height))
        seq.frame_indices[0] = index
        n = int(max(round(side), MIN_CROP))
        x0, y0 = int(round(centre[0] - n / 2)), int(round(centre[1] - n / 2))
        crop = np.zeros((n, n, 3), np.uint8)
        sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + n, width), min(y0 + n, height)
        if sx1 <= sx0 or sy1 <= sy0:
            return seq
        crop[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
        found = self._pose.process(crop, index, fps)
        if found.present[0]:
            seq.present[0] = True
            seq.body_2d[0] = found.body_2d[0]
            seq.body_2d[0, :, :2] += (x0, y0)  # the crop is a translation: back into the frame's pixels
            seq.body_world[0] = found.body_world[0]
        return seq

    def __call__(self, rgb: np.ndarray, follow: LiveFollow, index: int, fps: float) -> PoseSequence | None:
        """The person's landmarks found again in ``rgb`` (the frame unmasked) where ``follow`` expects them, on a
        frame :meth:`LiveFollow.check` found them missing on; None when not searched or not found."""
        identity = follow.identity
        # The check has already counted this frame missing, so this is one velocity step past the frame's own
        # expected place (4-6 px on the demo's landing). Centred on the frame's own place instead, the demo's
        # second look found him on 2 frames, not 17 (review, scratch replay): the crop's placement is left as
        # measured, and is worth measuring on more clips than the demo.
        region = identity.expected()
        if region is None or identity.missing == 0 or follow.missing_seconds(fps) > SEARCH_SECONDS + 1e-6:
            return None
        self.looks += 1
        seq = self.read(rgb, region[:2], CROP_SCALE * float(region[2]), index, fps)
        if not seq.present[0] or not follow.take_back(rgb, seq):
            return None
        self.found += 1
        return seq
