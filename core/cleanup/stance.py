"""Stances the picture still shows: contacts carried to where the foot's landmark really leaves its place.

Contact detection (``contacts``) reads speeds over a 7-frame window and the
fit's 3D feet, which a monocular fit drags along with the body: before a
forward jump the fitted feet slid 6-14 cm a frame with the pelvis while the
rendered truth's feet stood still for two more frames, so the contact ended
early and the released foot jumped 8-9 cm in one frame onto the fit. The
video is steadier: MediaPipe's heel and toe landmarks stayed within a pixel
of their place over those frames. :func:`extend_stances` therefore

- carries each contact on, frame by frame, while its landmark stays within
  ``StanceSettings.still_pixels`` of where it stood over the contact's last
  frames (and back, before its first frames, the same way), at most
  ``max_frames`` each way;
- bridges a gap of at most ``max_gap`` frames between two contacts of one
  proxy: a foot does not lift, travel and land again in 66 ms, so the two
  are one stance (a one-frame drop-out re-locked the foot 8-11 cm away).

numpy only. Proxies in ``floor.PROXIES`` order (left heel, left toe, right
heel, right toe); landmarks ``root.IMAGE_FEET``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .contacts import segments


@dataclass(frozen=True)
class StanceSettings:
    """How far the picture may carry a contact.

    Attributes:
        still_pixels: a landmark within this many pixels of its place (the
            median of the contact's ``reference_frames`` frames at that end)
            still stands there; at least, since a far person's feet are
            small, ``still_share`` of the person's torso in pixels (about
            0.5 m: 0.03 is 1.5 cm).
        still_share: see ``still_pixels``.
        min_visibility: a landmark seen less surely than this ends the carry.
        max_frames: the most frames a contact is carried each way.
        max_gap: gaps of at most this many frames between two contacts are bridged.
        reference_frames: frames at each end of a contact whose median is its place there.
    """

    still_pixels: float = 2.0
    still_share: float = 0.03
    min_visibility: float = 0.5
    max_frames: int = 3
    max_gap: int = 2
    reference_frames: int = 3


def bridge_gaps(flags: np.ndarray, max_gap: int) -> np.ndarray:
    """(T,) bool with runs of False of at most ``max_gap`` frames between two True runs set True."""
    out = flags.copy()
    runs = segments(flags)
    for (_, end), (start, _) in zip(runs[:-1], runs[1:]):
        if start - end <= max_gap:
            out[end:start] = True
    return out


def _carry(flags: np.ndarray, uv: np.ndarray, seen: np.ndarray, tolerance: float,
           settings: StanceSettings) -> np.ndarray:
    """One proxy: (T,) contacts carried forwards and backwards while its landmark (T, 2) stays put."""
    out = flags.copy()
    T = len(flags)
    n = settings.reference_frames
    for s, e in segments(flags):
        ends = np.arange(max(s, e - n), e)
        ends = ends[seen[ends]]
        if len(ends) == 0:
            continue
        place = np.median(uv[ends], axis=0)
        for frame in range(e, min(T, e + settings.max_frames)):
            if flags[frame] or not seen[frame] or np.linalg.norm(uv[frame] - place) > tolerance:
                break
            out[frame] = True
    return out


def extend_stances(contacts: np.ndarray, keypoints: np.ndarray | None, torso_pixels: float | None,
                   settings: StanceSettings = StanceSettings()) -> np.ndarray:
    """(T, 4) contacts carried on while the picture shows each foot still, short gaps bridged.

    ``contacts``: (T, 4) bool; ``keypoints``: (T, 4, 3) the proxies'
    landmarks, pixels + visibility (None: only the gaps are bridged);
    ``torso_pixels``: the person's torso length in the picture (None or NaN: ``still_pixels`` alone).
    """
    out = np.asarray(contacts, bool).copy()
    for p in range(out.shape[1]):
        out[:, p] = bridge_gaps(out[:, p], settings.max_gap)
    if keypoints is None:
        return out
    kp = np.asarray(keypoints, np.float64)
    tolerance = settings.still_pixels
    if torso_pixels is not None and np.isfinite(torso_pixels):
        tolerance = max(tolerance, settings.still_share * float(torso_pixels))
    seen = (kp[..., 2] >= settings.min_visibility) & np.isfinite(kp[..., :2]).all(axis=-1)
    for p in range(out.shape[1]):
        out[:, p] = _carry(out[:, p], kp[:, p, :2], seen[:, p], tolerance, settings)
    return out
