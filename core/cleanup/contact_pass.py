"""One post-pass over detected contacts: gaps bridged, stances carried by the picture, short ones dropped.

Contact detection (``contacts.detect_contacts``) decides frame by frame from
thresholds on height and speed; this pass then looks at whole stances, in one
place and by one rule set (:class:`ContactPassSettings`), in this order:

0. **Drop blips**: detections shorter than ``min_frames`` that stand alone
   (neither cut by the take's ends nor shared with the foot's other proxy)
   are no stance and are not carried (a touch at the speed threshold tipped by near-equal
   landmarks grew into an 8-frame stance under one pose backend only).

1. **Bridge gaps** between two contacts of one proxy (left heel, left toe,
   right heel, right toe):

   - any gap of at most ``max_gap`` frames: a foot does not lift, travel and
     land again in 66 ms, so the two are one stance (a one-frame drop-out
     re-locked the foot 8-11 cm away);
   - a gap of at most ``bridge_frames`` frames where the proxy stays within
     ``lift`` of its planted height and slower than ``speed_on`` in 3D (a
     landmark slip of up to 0.2 s; a walking swing takes twice as long and
     rises higher), unless the picture shows the stances on either side
     apart (:func:`not_apart`: a boxer's shuffle, which the fit keeps low);
   - a toe's gap of at most ``bridge_frames`` frames while its heel stays
     planted and the toe stays within ``lift``, at any speed
     (:func:`bridge_by_partner`: a standing foot the fit slides);
   - a gap of at most ``same_place_frames`` frames between two stances that
     stand in the same place (``same_place``, in the fit or in the picture), the
     proxy staying within ``lift`` (:func:`bridge_same_place`: a landmark glitch
     on a planted foot).

2. **Carry stances the picture still shows.** A monocular fit drags the
   feet along with the body (before a forward jump the fitted feet slid
   6-14 cm a frame while the truth's stood still), and MediaPipe's heel and
   toe landmarks glitch for a few frames while the other leg passes (20-30 px
   jumps and back, on a planted foot): detection, reading speeds, ends the
   contact early or never starts it. Each contact is carried on, frame by
   frame, while the landmark stays near where it stood over the contact's
   last ``reference_frames`` frames (and back, before its first frames, the
   same way), at most ``max_frames`` each way. "Near" is judged on the
   running median of the landmark's distance from that place over
   ``glitch_window`` centred frames, so a glitch shorter than half the window
   does not end the carry, while a foot that really leaves moves away for
   good. The tolerance is ``still_pixels``, at least ``still_share`` of the
   person's torso in pixels (about 0.5 m).

3. **Drop** contacts shorter than ``min_frames``, and frames whose landmark
   the video does not show (``seen``): what it does not show is the fit's
   invention.

numpy only. Proxies in ``floor.PROXIES`` order; landmarks ``root.IMAGE_FEET``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from .contacts import FEET, ContactSettings, drop_short, frames_at, frames_for, segments


@dataclass(frozen=True)
class ContactPassSettings:
    """The post-pass's rules (module docstring). ``lift``, ``speed_on`` and ``min_frames`` default to
    detection's own (``contacts.ContactSettings``): one stance is judged by one set of thresholds. Frame counts
    are at 30 fps; the cleanup takes them at the take's rate (:meth:`at_rate`, which scales ``min_frames`` too:
    detection's own stays 3 frames).

    Attributes:
        max_gap: gaps of at most this many frames are bridged whatever the foot does.
        bridge_frames: gaps of at most this many frames are bridged when the
            proxy stays low (``lift``) and slow (``speed_on``) through them.
        lift: metres above the lower of the two planted heights a bridged proxy may rise.
        speed_on: m/s; the fit's 3D speed a bridged proxy stays under.
        still_pixels: pixels; a landmark this near its place still stands there ...
        still_share: ... or, if more, this share of the person's torso in
            pixels (0.06 of about 0.5 m: 3 cm).
        glitch_window: frames of the centred running median of the distance
            from the place: a landmark glitch shorter than half of it is ridden out.
        min_visibility: a landmark seen less surely than this does not count
            (neither near nor away).
        max_frames: the most frames a contact is carried each way.
        reference_frames: frames at each end of a contact whose median is its place there.
        support_speed, support_frames: a frame without any contact keeps the stance
            that ended before it while that foot moves slower than this in the
            video (m/s), for at most this many frames (:func:`carry_support`).
        same_place_frames, same_place: a gap of at most this many frames between two contacts
            of one proxy whose places lie at most this far apart along the floor (metres), in the fit
            or in the picture (at the person's scale, a torso of ``TORSO_METRES``), the proxy staying
            within ``lift`` through it, is bridged (:func:`bridge_same_place`).
        same_place_pictured, same_place_reach: whether the picture may say two stances stand in one place
            (off where the 3D is measured, not guessed: several cameras), and only while the fit puts them at
            most ``same_place_reach`` times ``same_place`` apart (a step along the camera's ray hardly moves
            in the picture).
        min_frames: contacts shorter than this are dropped.
    """

    max_gap: int = 2
    bridge_frames: int = 6
    lift: float = ContactSettings.lift
    speed_on: float = ContactSettings.speed_on
    still_pixels: float = 2.0
    still_share: float = 0.06
    glitch_window: int = 5
    min_visibility: float = 0.5
    max_frames: int = 8
    reference_frames: int = 3
    support_speed: float = 1.0
    support_frames: int = 15
    min_frames: int = ContactSettings.min_frames
    same_place_frames: int = 10
    same_place: float = 0.10  # 0.15 mends val_boxing_late (84.7 -> 18.5 mm max jump) but was chosen by looking at it
    same_place_pictured: bool = True
    same_place_reach: float = 3.0

    def at_rate(self, rate: float) -> "ContactPassSettings":
        """These rules with their frame counts lasting as long at ``rate`` frames a second as at
        ``contacts.WINDOW_RATE`` (the same at 30 fps). At ``--preset fast``'s 15 fps their frames spanned twice as
        long: a held foot carried across a whole step, a gap of a walking step bridged. Scaled (the ten rendered
        clips at 15 fps, December 2026): offset-free PA-MPJPE 52.1 -> 50.9 mm mean, W-MPJPE 252 -> 222 mm (the
        tilted room walk 500 -> 294), true-contact skate 2.50 -> 2.70 mm a frame."""
        return replace(self, max_gap=frames_for(self.max_gap, rate),
                       bridge_frames=frames_for(self.bridge_frames, rate),
                       glitch_window=frames_at(self.glitch_window, rate),
                       max_frames=frames_for(self.max_frames, rate),
                       reference_frames=frames_for(self.reference_frames, rate),
                       support_frames=frames_for(self.support_frames, rate),
                       min_frames=frames_for(self.min_frames, rate),
                       same_place_frames=frames_for(self.same_place_frames, rate))


TORSO_METRES = 0.5
"""Metres; the shoulder-to-hip length taken for the person's scale in the picture (``torso_pixels``)."""


def _picture_place(uv: np.ndarray, seen: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """(2,) the median landmark ``uv`` (T, 2) pixels over those of ``frames`` where it is ``seen`` (NaN: none)."""
    frames = frames[seen[frames]]
    return np.median(uv[frames], axis=0) if frames.size else np.full(2, np.nan)


def bridge_same_place(contacts: np.ndarray, points: np.ndarray, sole_height: np.ndarray,
                      settings: ContactPassSettings = ContactPassSettings(), keypoints: np.ndarray | None = None,
                      torso_pixels: float | None = None) -> np.ndarray:
    """(T, P) contacts whose gaps of at most ``same_place_frames`` frames are bridged where the proxy's two
    stances on either side stand within ``same_place`` of each other along the floor and it stays within
    ``lift`` of them (``sole_height`` (T, P)) through the gap, however fast the fit moves it: a foot that
    lands where it stood has not stepped. Locked as two stances, a planted toe whose landmark glitched 20-70 px
    for 7 frames on a boxing take went back to the fit, 20 cm away, and returned: 82 mm in one frame.

    "Within" in the fit (the stances' median places in ``points`` (T, P, 3), Z up) or in the picture (the
    median of each stance's seen landmarks, ``keypoints`` (T, P, 3) pixels + visibility, ``torso_pixels`` the
    person's scale; None: the fit alone), at most ``same_place`` at the person's scale (``TORSO_METRES``).
    The fit's depth drifts between two stances; the picture shows where the foot stands (that boxing toe's
    stances, 17 cm apart in the fit, were 6 px apart, its torso 103 px)."""
    out = np.asarray(contacts, bool).copy()
    pictured = (settings.same_place_pictured and keypoints is not None and torso_pixels is not None
                and bool(np.isfinite(torso_pixels)))
    if pictured:
        kp = np.asarray(keypoints, np.float64)
        seen = (kp[..., 2] >= settings.min_visibility) & np.isfinite(kp[..., :2]).all(axis=-1)
        tolerance = settings.same_place * float(torso_pixels) / TORSO_METRES
    for p in range(out.shape[1]):
        runs = segments(out[:, p])
        may = _low_and_slow(out[:, p], sole_height[:, p], None, settings)
        for (s0, e0), (s1, e1) in zip(runs[:-1], runs[1:]):
            near = np.linalg.norm(np.median(points[s0:e0, p, :2], axis=0) - np.median(points[s1:e1, p, :2], axis=0))
            same = bool(near <= settings.same_place)
            if pictured and not same and near <= settings.same_place_reach * settings.same_place:
                before = _picture_place(kp[:, p, :2], seen[:, p], np.arange(s0, e0))
                after = _picture_place(kp[:, p, :2], seen[:, p], np.arange(s1, e1))
                same = bool(np.linalg.norm(before - after) <= tolerance)  # NaN (unseen): not the same
            may[e0:s1] &= same
        out[:, p] = bridge_gaps(out[:, p], settings.same_place_frames, may)
    return out


def not_apart(contacts: np.ndarray, keypoints: np.ndarray | None, torso_pixels: float | None,
              settings: ContactPassSettings = ContactPassSettings()) -> np.ndarray:
    """(T, P) bool: False on the frames of a gap between two contacts of one proxy whose stances the picture
    shows apart (their median seen landmarks, ``keypoints`` (T, P, 3) pixels + visibility, more than
    ``same_place`` apart at the person's scale, ``torso_pixels`` for ``TORSO_METRES``); True elsewhere (and
    everywhere without a picture). A foot seen standing in two places stepped between them, however low and
    slow the fit keeps it: a boxer's shuffle. The held-out val_boxing_late's right heel (its landmark 30 px on
    over frames 109-116, the truth's lift) was bridged across a 3-frame gap and held through the lift once its
    labels were right (``core.landmarks.repair_leg_swaps``): offset-free PA-MPJPE 56.5 mm, 52.0 without."""
    out = np.ones(np.shape(contacts), bool)
    if keypoints is None or torso_pixels is None or not np.isfinite(torso_pixels):
        return out
    kp = np.asarray(keypoints, np.float64)
    seen = (kp[..., 2] >= settings.min_visibility) & np.isfinite(kp[..., :2]).all(axis=-1)
    tolerance = settings.same_place * float(torso_pixels) / TORSO_METRES
    for p in range(out.shape[1]):
        runs = segments(contacts[:, p])
        for (s0, e0), (s1, e1) in zip(runs[:-1], runs[1:]):
            before = _picture_place(kp[:, p, :2], seen[:, p], np.arange(s0, e0))
            after = _picture_place(kp[:, p, :2], seen[:, p], np.arange(s1, e1))
            out[e0:s1, p] = not bool(np.linalg.norm(before - after) > tolerance)  # NaN (unseen): not apart
    return out


def bridge_gaps(flags: np.ndarray, max_gap: int, may_bridge: np.ndarray | None = None) -> np.ndarray:
    """(T,) bool with runs of False of at most ``max_gap`` frames between two True runs set True.

    ``may_bridge``: optional (T,) bool; a gap is bridged only where it is True on every frame of the gap.
    """
    out = flags.copy()
    runs = segments(flags)
    for (_, end), (start, _) in zip(runs[:-1], runs[1:]):
        if start - end <= max_gap and (may_bridge is None or may_bridge[end:start].all()):
            out[end:start] = True
    return out


def _low_and_slow(flags: np.ndarray, sole_height: np.ndarray, speed_3d: np.ndarray | None,
                  settings: ContactPassSettings) -> np.ndarray:
    """(T,) frames where one proxy stays within ``lift`` of the lower planted height of the contacts on
    either side of its gap, and slower than ``speed_on`` (``speed_3d`` None: at any speed)."""
    ok = np.zeros(len(flags), bool)
    runs = segments(flags)
    for (_, e), (s, _) in zip(runs[:-1], runs[1:]):
        planted = min(sole_height[e - 1], sole_height[s])
        ok[e:s] = sole_height[e:s] <= planted + settings.lift
        if speed_3d is not None:
            ok[e:s] &= speed_3d[e:s] < settings.speed_on
    return ok


def _running_median(x: np.ndarray, window: int) -> np.ndarray:
    """Centred running median of (T,) ``x``, NaN ignored (NaN where a window has nothing)."""
    half = window // 2
    padded = np.concatenate([np.full(half, np.nan), x, np.full(half, np.nan)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN
        return np.nanmedian(np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1), axis=-1)


def _carry_one_way(flags: np.ndarray, uv: np.ndarray, seen: np.ndarray, tolerance: float,
                   settings: ContactPassSettings) -> np.ndarray:
    """One proxy: (T,) contacts carried forwards while its landmark (T, 2) stays near its place."""
    out = flags.copy()
    T = len(flags)
    n = settings.reference_frames
    for s, e in segments(flags):
        ends = np.arange(max(s, e - n), e)
        ends = ends[seen[ends]]
        if len(ends) == 0:
            continue
        place = np.median(uv[ends], axis=0)
        away = np.where(seen, np.linalg.norm(uv - place, axis=-1), np.nan)
        near = _running_median(away, settings.glitch_window) <= tolerance
        for frame in range(e, min(T, e + settings.max_frames)):
            if flags[frame] or not seen[frame] or not near[frame]:
                break
            out[frame] = True
    return out


def carry_stances(contacts: np.ndarray, keypoints: np.ndarray, torso_pixels: float | None,
                  settings: ContactPassSettings = ContactPassSettings()) -> np.ndarray:
    """(T, P) contacts carried forwards and backwards while the picture shows each foot at its place.

    ``keypoints``: (T, P, 3) the proxies' landmarks, pixels + visibility;
    ``torso_pixels``: the person's torso length in the picture (None or NaN: ``still_pixels`` alone).
    """
    out = np.asarray(contacts, bool).copy()
    kp = np.asarray(keypoints, np.float64)
    tolerance = settings.still_pixels
    if torso_pixels is not None and np.isfinite(torso_pixels):
        tolerance = max(tolerance, settings.still_share * float(torso_pixels))
    seen = (kp[..., 2] >= settings.min_visibility) & np.isfinite(kp[..., :2]).all(axis=-1)
    for p in range(out.shape[1]):
        forwards = _carry_one_way(out[:, p], kp[:, p, :2], seen[:, p], tolerance, settings)
        backwards = _carry_one_way(out[::-1, p], kp[::-1, p, :2], seen[::-1, p], tolerance, settings)[::-1]
        out[:, p] = forwards | backwards
    return out


def _support_one_way(contacts: np.ndarray, image_speed: np.ndarray, settings: ContactPassSettings) -> np.ndarray:
    """Frames without any contact keep the stance that ended before them (see :func:`carry_support`)."""
    out = contacts.copy()
    for s, e in segments(~contacts.any(axis=1)):
        if s == 0:
            continue
        for p in np.flatnonzero(contacts[s - 1]):
            for f in range(s, min(e, s + settings.support_frames)):
                if not image_speed[f, p] < settings.support_speed:
                    break
                out[f, p] = True
    return out


def carry_support(contacts: np.ndarray, image_speed: np.ndarray, settings: ContactPassSettings) -> np.ndarray:
    """(T, P) contacts where frames without any contact keep the stance that ended before them while that
    foot moves slower than ``support_speed`` in the video (NaN: unseen, stops), at most ``support_frames``:
    a body that is not in flight stands on something, and in a walk the stance foot holds until the other
    lands. Frames still without any (the take's first ones) then take the stance that starts after them,
    the same way backwards."""
    out = _support_one_way(np.asarray(contacts, bool), image_speed, settings)
    return _support_one_way(out[::-1], image_speed[::-1], settings)[::-1]


def _drop_blips(contacts: np.ndarray, min_frames: int) -> np.ndarray:
    """(T, P) contacts without runs shorter than ``min_frames`` that stand alone: a run the take's ends
    cut, or one whose foot's other proxy (heel with toe, P = 4) is planted too, stays. Only stances are
    carried, not blips: a 2-frame heel touch that one pose backend's landmarks showed and the other's did
    not (0.15 against 0.30 m/s, at the threshold) was carried into an 8-frame stance."""
    out = drop_short(contacts, min_frames)
    P = contacts.shape[1]
    for p in range(P):
        partner = p ^ 1 if P == 4 else p
        for s, e in segments(contacts[:, p]):
            if s == 0 or e == len(contacts) or (partner != p and contacts[s:e, partner].any()):
                out[s:e, p] = True
    return out


def bridge_by_partner(contacts: np.ndarray, sole_height: np.ndarray,
                      settings: ContactPassSettings = ContactPassSettings()) -> np.ndarray:
    """(T, 4) contacts (``floor.PROXIES`` order) whose toes' gaps of at most ``bridge_frames`` frames are
    bridged where the foot's heel stays planted through the gap and the toe stays within ``lift`` of its
    planted height (``sole_height`` (T, 4) metres), however fast the fit moves it.

    A foot whose heel stands while its toe's contact drops for a few frames (a landmark glitch, a fit that
    slides the planted foot faster than ``speed_on``) is still standing: locked as two stances, the toe
    crossfaded between two places 36 cm apart in 5 frames on the demo's box, and dragged its planted heel
    10 cm a frame with it. Only that way round (as ``contacts``' flat feet): a toe planted while its heel
    touches now and then is a stance on the toes (boxing), and bridging the heel there held it down."""
    out = np.asarray(contacts, bool).copy()
    if out.shape[1] != 4:
        return out
    for heel, toe in FEET:
        may = out[:, heel] & _low_and_slow(out[:, toe], sole_height[:, toe], None, settings)
        out[:, toe] = bridge_gaps(out[:, toe], settings.bridge_frames, may)
    return out


def refine_contacts(contacts: np.ndarray, sole_height: np.ndarray | None = None, speed_3d: np.ndarray | None = None,
                    keypoints: np.ndarray | None = None, torso_pixels: float | None = None,
                    seen: np.ndarray | None = None, image_speed: np.ndarray | None = None,
                    settings: ContactPassSettings = ContactPassSettings(), points: np.ndarray | None = None) -> np.ndarray:
    """(T, P) contacts after the post-pass (module docstring): bridged, carried, short and unseen ones dropped.

    ``contacts``: (T, P) bool from detection; ``sole_height`` (T, P) metres above
    the floor and ``speed_3d`` (T, P) m/s, the fit's (None: only ``max_gap``
    bridges); ``keypoints`` (T, P, 3) the proxies' landmarks, pixels +
    visibility, and ``torso_pixels`` (None: nothing is carried); ``seen`` (T,
    P) bool whether the video shows each proxy (None: all); ``points`` (T, P, 3) the proxies, Z-up
    metres (None: no gap is bridged by place, :func:`bridge_same_place`).
    """
    out = _drop_blips(np.asarray(contacts, bool), settings.min_frames)
    if keypoints is not None:
        out = carry_stances(out, keypoints, torso_pixels, settings)
    if image_speed is not None:
        out = carry_support(out, image_speed, settings)
    stayed = not_apart(out, keypoints, torso_pixels, settings)  # a slip, not a step, if bridged by low and slow
    for p in range(out.shape[1]):
        if sole_height is not None and speed_3d is not None:
            low = _low_and_slow(out[:, p], sole_height[:, p], speed_3d[:, p], settings) & stayed[:, p]
            out[:, p] = bridge_gaps(out[:, p], settings.bridge_frames, low)
        out[:, p] = bridge_gaps(out[:, p], settings.max_gap)
    if sole_height is not None:  # without heights, only ``max_gap`` bridges (a toe's lift cannot be judged)
        out = bridge_by_partner(out, sole_height, settings)
        if points is not None:
            out = bridge_same_place(out, points, sole_height, settings, keypoints, torso_pixels)
    if seen is not None:
        out &= seen
    return drop_short(out, settings.min_frames)
