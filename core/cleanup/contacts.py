"""Foot contact: when does each heel and toe rest on the floor?

Per contact proxy (left heel, left toe, right heel, right toe) and frame: the
proxy's sole height above the floor and its horizontal speed (its speed in
the video where the landmark is seen), with hysteresis (a contact starts
below the "on" thresholds and ends above the higher "off" ones, so noise
near a threshold does not flicker). Then, in :func:`detect_contacts`' order:

- the height that ends a contact is relative to where it was planted (the
  fit floats whole stances 10-45 cm off the floor when its depth drifts),
  and a contact also ends when its sole rises faster than ``climb_off``: a
  foot lifted towards the camera hardly moves in the picture, but it rises;
- a flat foot is planted as a whole: while its heel is planted, a toe at
  the heel's sole height that moves slowly in 3D is planted too
  (MediaPipe's toe landmark glitches for frames on end while the heel is
  steady, and a foot whose heel is held while its toe swings turns about
  the heel);
- unseen proxies start no contact and end theirs;
- a landmark flipping between two places (:func:`flipping`) starts none, and a foot hidden behind a
  standing leg (:func:`behind_a_standing_leg`) keeps its contact until it rises (the picture's guess of it
  and the fit's speed end none).

Bridging gaps, carrying stances the picture still shows and dropping short
contacts are the post-pass's (``contact_pass.refine_contacts``), after this.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from ..landmarks import BODY, swapped_runs

FEET = ((0, 1), (2, 3))
"""The (heel, toe) columns of each foot, left then right, in contact arrays of the four proxies
(``floor.PROXIES`` order: left heel, left toe, right heel, right toe)."""


@dataclass(frozen=True)
class ContactSettings:
    """Thresholds of contact detection.

    Attributes:
        height_on, height_off: sole height above the floor (m) below which a
            contact starts / above which it ends, or above ``lift`` over the
            height where it was planted if that is higher (a stance the fit
            floats off the floor, started by the video, see below).
        speed_on, speed_off: horizontal speed (m/s) below which a contact
            starts / above which it ends (ignored in "always" mode).
        min_frames: a foot the video shows still for fewer frames than this
            starts no contact there (the frame at a jump's top is not a stance); frames at 30 fps,
            as long in seconds at any rate by :meth:`at_rate`, as the cleanup applies it.
        speed_window: frames of the moving average applied to positions
            before speeds are taken (video noise would read as speed); frames at 30 fps, as ``min_frames``.
        image_speed_on: the "on" threshold (m/s) for feet speeds measured in
            the video instead of the 3D fit (see ``cleanup.image_speeds``):
            the video shows a planted foot still, so its threshold is tighter;
            the "off" one scales alike.
        height_on_still, image_speed_still: a foot the video shows standing
            still (slower than ``image_speed_still``) is in contact while it
            is below ``height_on_still``, whatever the height thresholds say.
            Depth errors of a monocular fit float planted feet off the one
            floor plane: by 8 cm on a rendered CMU walk, and by up to 40 cm on
            a rendered CMU sequence of forward jumps, whose root depth drifts
            as the person travels away from the camera (the floor fitted
            through the stances then tilts 7-9 degrees). The video's
            stillness is reliable; a still foot that really is raised loses
            nothing when locked, as the lock holds it along the floor only
            and its height follows the fit. 0.15 m/s (5 mm a frame at 30 fps):
            at 0.1 landing feet on the held-out CMU jumps started their
            contacts 3-6 frames late; at 0.2 a boxer's bouncing feet were
            held.
        image_window: frames of the centred median taken over the feet's
            velocities in the video (see ``cleanup.image_speeds``): landmark
            glitches shorter than half of it are ignored, while a contact
            of more than half of it (4 frames, 0.13 s at 30 fps; a running
            stance lasts about 0.2 s) still reads as still.
        lift: metres; a contact ends when its proxy rises this far above
            the lowest sole height it had in the contact (relative, so it
            holds on a floor the fit tilts or on a box).
        climb_off: m/s; a sole rising faster than this ends its contact
            and starts none (a foot lifted towards the camera); one falling
            faster starts none either (a landing's impact frame: the demo's
            man, planted there, dropped a held foot 9 cm in one frame). At 0.5 m/s
            it cut true contacts short where the fit's feet rise with the
            crouch before a jump (rendered CMU jumps).
        climb_still: m/s; a foot the video shows still counts as still
            only while its sole rises or sinks slower than this: around the
            top of a jump a foot in the air is slow in the picture too, but
            the fit has it going up, then down.
        flip_share: a landmark that goes and comes back by more than this share of the person's torso in
            the picture (0.06 of about 0.5 m: 3 cm; the same share as ``contact_pass``'s ``still_share`` on
            purpose: a move the post-pass calls still is no flip) on two frames of one ``image_window``
            flips between two places (:func:`flipping`): unsure.
        behind_share: a foot's landmark this near the other leg's shank or foot in the picture, as a share of
            the torso (0.1 of about 0.5 m: 5 cm, half a shin's width), the fit having it farther from the
            camera, is hidden behind that leg (:func:`behind_a_standing_leg`).
        flat_height: metres; a heel and a toe of one foot whose sole
            heights differ by less than this stand flat: a planted heel
            plants its toe, if that moves slower than ``speed_on`` in 3D
            (the bench truth calls a point planted within 5 cm of its rest).
    """

    height_on: float = 0.06
    height_off: float = 0.10
    speed_on: float = 0.9
    speed_off: float = 1.5
    min_frames: int = 3
    speed_window: int = 2
    image_speed_on: float = 0.3
    height_on_still: float = 0.5
    image_speed_still: float = 0.15
    image_window: int = 7
    lift: float = 0.05
    climb_off: float = 1.0
    climb_still: float = 0.3
    flat_height: float = 0.05
    flip_share: float = 0.06
    behind_share: float = 0.1

    def at_rate(self, rate: float) -> "ContactSettings":
        """These thresholds with their frame counts (``min_frames``, ``speed_window``) lasting as long at ``rate``
        frames a second as at ``WINDOW_RATE`` (the same at 30 fps; ``image_window`` is scaled where it is used,
        :func:`frames_at`). At ``--preset fast``'s 15 fps their frames spanned twice as long: a still foot had to
        stand 0.2 s to start a contact and the fit's speeds were averaged over 0.13 s. Scaled (the tilted set at
        15 fps, ``bench cleanup --preset fast``, December 2026): the room walk's contact recall 0.82 -> 0.97 and
        true-contact skate 11.1 -> 1.5 mm a frame, the room jumps' 0.69 -> 0.78 and 7.7 -> 4.0 mm."""
        return replace(self, min_frames=frames_for(self.min_frames, rate),
                       speed_window=frames_for(self.speed_window, rate))


WINDOW_RATE = 30.0
"""Frames a second the contact settings' frame counts are counted at (``ContactSettings.image_window``, the post-pass's
counts: ``contact_pass.ContactPassSettings.at_rate``)."""


def frames_at(window: int, rate: float) -> int:
    """The odd number of frames at ``rate`` frames a second spanning about as long as ``window`` centred frames
    at ``WINDOW_RATE`` (halves round up: the window hides landmark glitches shorter than half of it). At 15 fps
    (``--preset fast``) the image window's 7 frames spanned 0.47 s, as long as a jump's flight on the rendered
    studio jumps: a toe read still across it stayed held from take-off to landing, 60 cm from where it stood
    (offset-free PA-MPJPE 64.9 mm; 42.0 with 5 frames). With 3 frames (halves rounded down) a glitch of two
    frames read as a step: the held-out cmu_01_03's planted feet jumped 12 cm."""
    half = int(np.floor((window // 2) * rate / WINDOW_RATE + 0.5))
    return 2 * max(half, 0) + 1


def frames_for(count: int, rate: float) -> int:
    """The number of frames at ``rate`` frames a second lasting about as long as ``count`` frames at
    ``WINDOW_RATE`` (at least one where ``count`` is: a rule counted in frames still runs)."""
    return 0 if count <= 0 else max(1, int(np.floor(count * rate / WINDOW_RATE + 0.5)))


def moving_average(x: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average over axis 0 (edges use the frames available)."""
    if window <= 1 or x.shape[0] < 2:
        return np.asarray(x, np.float64).copy()
    kernel = np.ones(window) / window
    pad = window // 2
    padded = np.concatenate([np.repeat(x[:1], pad, 0), x, np.repeat(x[-1:], window - 1 - pad, 0)], 0)
    out = np.apply_along_axis(lambda s: np.convolve(s, kernel, mode="valid"), 0, padded)
    return out


def gaussian_smooth(x: np.ndarray, sigma: float, truncate: float = 3.0) -> np.ndarray:
    """Gaussian smoothing over axis 0 with ``sigma`` frames, the kernel cut at ``truncate`` sigmas, the edges
    repeated (numpy only: cleanup runs in Blender's Python too, which has no SciPy)."""
    x = np.asarray(x, np.float64)
    if sigma <= 0 or x.shape[0] < 2:
        return x.copy()
    radius = int(truncate * sigma + 0.5)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = np.concatenate([np.repeat(x[:1], radius, 0), x, np.repeat(x[-1:], radius, 0)], 0)
    return np.apply_along_axis(lambda s: np.convolve(s, kernel, mode="valid"), 0, padded)


def running_max(x: np.ndarray, window: int) -> np.ndarray:
    """Centred running maximum of (T,) ``x`` over ``window`` (odd) frames, the edges repeated."""
    x = np.asarray(x, np.float64)
    half = window // 2
    if half <= 0:
        return x.copy()
    padded = np.concatenate([np.repeat(x[:1], half), x, np.repeat(x[-1:], half)])
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1).max(axis=-1)


def median_filter(x: np.ndarray, window: int) -> np.ndarray:
    """Centred running median over axis 0, NaN ignored (edges use the frames available)."""
    x = np.asarray(x, np.float64)
    if window <= 1 or x.shape[0] < 2:
        return x.copy()
    half = window // 2
    pad = np.full((half,) + x.shape[1:], np.nan)  # NaN is ignored: the edges use what they have
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([pad, x, pad]), 2 * half + 1, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN
        return np.nanmedian(windows, axis=-1)


def horizontal_speed(points: np.ndarray, rate: float, window: int = 5) -> np.ndarray:
    """(T, P, 3) Z-up positions -> (T, P) horizontal speed in m/s (central differences)."""
    smooth = moving_average(points, window)
    xy = smooth[..., :2]
    vel = np.gradient(xy, axis=0) * rate if xy.shape[0] > 1 else np.zeros_like(xy)
    return np.linalg.norm(vel, axis=-1)


def detect_contacts(sole_height: np.ndarray, speed: np.ndarray, mode: str = "auto",
                    settings: ContactSettings = ContactSettings(),
                    image_speed: np.ndarray | None = None,
                    speed_3d: np.ndarray | None = None,
                    climb: np.ndarray | None = None,
                    seen: np.ndarray | None = None,
                    unsure: np.ndarray | None = None,
                    hidden: np.ndarray | None = None) -> np.ndarray:
    """(T, P) sole heights (m) and speeds (m/s) -> (T, P) bool contact flags.

    mode: "auto" (height and speed), "always" (height alone: a foot near the
    floor is planted), or "off" (no contacts). ``image_speed`` (T, P), the
    feet's speed seen in the video (NaN where unseen), is used instead of
    ``speed`` wherever it is known, against its own tighter thresholds; a
    foot it shows standing still may start a contact higher up
    (``height_on_still``). ``climb`` (T, P), how fast the fit's sole rises
    (m/s, None: unknown), ends a contact the video holds while the foot goes
    up (lifted towards the camera, it hardly moves in the picture).
    ``speed_3d`` (T, P), the fit's 3D speed (m/s, None: ``speed``), decides
    which toes join their heel's contact. P is 4
    (heel, toe per foot, in ``floor.PROXIES`` order) for the whole-foot
    rule; other P skip it. ``seen`` (T, P) bool, whether the video shows each proxy's landmark
    (``core.landmarks.seen_landmarks``; None: all): an unseen foot (cut off by the frame, hidden)
    starts no contact and ends the one it had, whatever the fit invented for it. ``unsure`` (T, P) bool
    (:func:`flipping`; None: nowhere): the picture shows neither motion nor stillness there, so no
    contact starts on those frames. ``hidden`` (T, P) bool
    (:func:`behind_a_standing_leg`; None: nowhere): the picture does not show those feet, so the motion it
    reads there is the landmark model's guess and ends no contact; nor does the fit's speed (below): only
    rising does (``climb_off``, ``lift``). A hidden foot low on the floor and slower than ``speed_on`` in
    the fit starts a contact, as one the picture shows still does. On the tilted room jumps (balanced):
    largest planted jump on the true contacts 51.2 -> 17.7 mm, 18 -> 0 over 2 cm; ending them by the fit's
    speed instead kept a 66.8 mm one and lifted the demo's man's planted toe on the box (20.7 -> 28.3 mm);
    judged by the fit alone, at 15 fps, feet the picture showed still were lost (room jumps recall 0.69 -> 0.61).

    The fit's 3D speed does not end contacts: with its depth noise a foot
    the video shows still moves 0.4-1.3 m/s in a rendered CMU walk.
    """
    T, P = sole_height.shape
    if mode == "off" or T == 0:
        return np.zeros((T, P), bool)
    speed_3d = speed if speed_3d is None else speed_3d
    start = sole_height < settings.height_on
    stop = np.zeros((T, P), bool)  # height ends a contact relative to where it was planted (_hysteresis)
    if mode == "auto":
        speed_on = np.full(speed.shape, settings.speed_on)
        speed_off = np.full(speed.shape, settings.speed_off)
        still = np.zeros((T, P), bool)
        fitted = speed
        if image_speed is not None:
            moving = np.isfinite(image_speed)
            speed = np.where(moving, image_speed, speed)
            speed_on[moving] = settings.image_speed_on
            speed_off[moving] = image_speed_off(settings)
            still = still_feet(image_speed, climb, settings, sole_height < settings.height_on_still)
        low = start.copy()  # on the floor (``height_on``)
        start |= still  # a foot still in the video starts a contact however high the fit floats it ...
        start &= speed < speed_on
        stop |= speed > speed_off
        if hidden is not None:  # a foot behind the other leg: what the picture shows of it is a guess
            start |= hidden & low & (fitted < settings.speed_on)
            stop &= ~hidden  # neither speed ends its contact (the fit's is noise); rising does (climb_off, lift)
        if climb is not None:
            stop |= climb > settings.climb_off
            start &= climb > -settings.climb_off  # ... but not while it still falls (a landing's impact frame)
        stop &= ~still  # ... and holds it while still, unless it rises (``lift``, ``climb_off``)
        if unsure is not None:  # a landmark flipping between two places does not show a foot standing
            start &= ~unsure  # ("always" goes by height alone, whatever the picture shows)
    if seen is not None:  # what the video does not show is the fit's invention
        start &= seen
        stop |= ~seen
    out = _hysteresis(sole_height, start, stop, settings.lift, settings.height_off)
    if P == 4 and mode == "auto":
        out = _flat_feet(out, sole_height, speed_3d, settings)
    if seen is not None:
        out &= seen
    return out


def image_speed_off(settings: ContactSettings = ContactSettings()) -> float:
    """m/s: the speed in the video above which a contact ends (``image_speed_on`` scaled as ``speed_off`` is
    to ``speed_on``; 0.5 by default)."""
    return settings.image_speed_on * settings.speed_off / settings.speed_on


def still_feet(image_speed: np.ndarray, climb: np.ndarray | None, settings: ContactSettings = ContactSettings(),
               where: np.ndarray | None = None) -> np.ndarray:
    """(T, P) bool: feet the video shows standing still (``image_speed`` (T, P) m/s below
    ``image_speed_still``; NaN, unseen: not still) while the fit's sole neither rises nor sinks faster
    than ``climb_still`` (``climb`` (T, P) m/s, None: unknown), for at least ``min_frames`` frames (the
    frame at a jump's top is not a stance). ``where`` (T, P) bool: only there (None: anywhere)."""
    with np.errstate(invalid="ignore"):
        still = np.isfinite(image_speed) & (image_speed < settings.image_speed_still)
    if where is not None:
        still &= where
    if climb is not None:
        still &= np.abs(climb) < settings.climb_still
        still = drop_short(still, settings.min_frames)
    return still


def flipping(points: np.ndarray, torso_pixels: float, rate: float,
             settings: ContactSettings = ContactSettings()) -> np.ndarray:
    """(T, P) bool: frames on which the picture cannot tell whether a foot moves or stands, given (T, P, 2)
    image points of the feet's landmarks (NaN: unseen) and the person's torso length in pixels.

    A landmark flips on a frame where it arrived and leaves back to within half a step of where it came from,
    both steps longer than ``flip_share`` of the torso (at least 2 px). A foot cannot do that twice within a
    third of a second (at 30 fps each flip is a reversal of about 1 m/s in 33 ms); the landmark model, torn between two
    readings of one foot, does. (Counting any turn back by more than 120 degrees as a flip also caught the
    demo's real footage, noisier, on 19-30 frames a foot: its largest planted step 20.7 -> 25.9 mm.) The image speed (a median of central
    differences) cancels such a flip and reads it still: the held-out val_boxing_late's left heel, flipping
    20-25 px a frame between two places over frames 102-106 (its truth lifted), was planted, and its lock
    pushed the planted toe into the floor (34 mm). One flip is a glitch the median rides out (a still foot the
    other leg passes); two or more in ``image_window`` frames (at ``rate``, :func:`frames_at`) are unsure."""
    uv = np.asarray(points, np.float64)
    T = uv.shape[0]
    out = np.zeros(uv.shape[:2], bool)
    if T < 3 or not np.isfinite(torso_pixels):
        return out
    tolerance = max(2.0, settings.flip_share * float(torso_pixels))
    step = np.diff(uv, axis=0)  # (T-1, P, 2)
    a, b = step[:-1], step[1:]  # arriving at / leaving frames 1..T-2
    la, lb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    with np.errstate(invalid="ignore"):
        back = np.linalg.norm(a + b, axis=-1) < 0.5 * np.minimum(la, lb)  # back within half a step of where it was
        flip = (la > tolerance) & (lb > tolerance) & back  # NaN compares False: an unseen frame flips nothing
    flips = np.zeros(uv.shape[:2])
    flips[1:-1] = flip
    half = frames_at(settings.image_window, rate) // 2
    pad = np.zeros((half,) + flips.shape[1:])
    count = np.lib.stride_tricks.sliding_window_view(np.concatenate([pad, flips, pad]), 2 * half + 1, axis=0).sum(-1)
    return count >= 2


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(...) distance of points ``p`` (..., 2) from the segments ``a``-``b`` (..., 2)."""
    ab = b - a
    with np.errstate(invalid="ignore"):
        t = np.clip(((p - a) * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-9), 0.0, 1.0)
    return np.linalg.norm(p - (a + t[..., None] * ab), axis=-1)


def behind_a_standing_leg(keypoints: np.ndarray, points: np.ndarray, camera: np.ndarray, torso_pixels: float,
                          image_speed: np.ndarray, settings: ContactSettings = ContactSettings()) -> np.ndarray:
    """(T, 4) bool: contact proxies (``floor.PROXIES`` order) hidden behind the other leg while that leg stands.

    Hidden: the proxy's landmark (``keypoints`` (T, K, 3), MediaPipe body order first) lies within
    ``behind_share`` of the torso (``torso_pixels``; 0.1 of about 0.5 m: 5 cm, half a shin's width) of the other
    leg's shank or foot in the picture (knee to ankle, ankle to heel and to toe), and the fit has this foot
    farther from the camera than the other (``points`` (T, 4, 3) the proxies, ``camera`` (3,) its centre, one
    world). The other leg stands: one of its proxies moves slower than ``image_speed_on`` in the picture
    (``image_speed`` (T, 4) m/s). The landmark model guesses a foot it cannot see, and behind a standing shin
    its guess drifts along that shin towards the knee for as long as the shin stands: on the tilted room jumps,
    the left foot, planted behind the planted right shin while the man crouched, read 20-40 px up and away over
    frames 118-133; its contact ended at 0.6-0.9 m/s in the picture and the fit carried the foot 2-5 cm a frame.
    A leg swinging past hides the foot behind for a few frames, a glitch the image speed's median rides out
    (counted behind a swinging leg too, a walker's foot whose stance started a frame later there jumped 67 mm
    into it on the tilted room walk)."""
    kp = np.asarray(keypoints, np.float64)
    out = np.zeros(points.shape[:2], bool)
    if not np.isfinite(torso_pixels):
        return out
    far = np.linalg.norm(points - camera, axis=-1)
    with np.errstate(invalid="ignore"):
        standing = image_speed < settings.image_speed_on  # NaN (unseen): not standing
    for side, other, feet, others in (("left", "right", FEET[0], FEET[1]), ("right", "left", FEET[1], FEET[0])):
        behind = (far[:, list(feet)].mean(1) > far[:, list(others)].mean(1)) & standing[:, list(others)].any(1)
        knee, ankle, heel, toe = (kp[:, BODY[f"{other}_{n}"], :2] for n in ("knee", "ankle", "heel", "foot_index"))
        for p, name in zip(feet, ("heel", "foot_index")):
            uv = kp[:, BODY[f"{side}_{name}"], :2]
            near = np.min([_segment_distance(uv, a, b) for a, b in ((knee, ankle), (ankle, heel), (ankle, toe))],
                          axis=0)
            out[:, p] = behind & (near < settings.behind_share * float(torso_pixels))
    return out


def _hysteresis(sole_height: np.ndarray, start: np.ndarray, stop: np.ndarray, lift: float,
                floor_off: float) -> np.ndarray:
    """(T, P) contact flags: a contact starts where ``start`` and lasts until ``stop``, or until its
    proxy rises above both ``floor_off`` and ``lift`` over the lowest sole height it had in the
    contact (a contact the video holds high up, ``still``, ends when that foot rises)."""
    T, P = sole_height.shape
    state = np.zeros(P, bool)
    level = np.zeros(P)
    out = np.zeros((T, P), bool)
    for t in range(T):
        level = np.where(state, np.minimum(level, sole_height[t]), sole_height[t])
        state = np.where(state, ~stop[t] & (sole_height[t] <= np.maximum(level + lift, floor_off)), start[t])
        out[t] = state
    return out


def _flat_feet(flags: np.ndarray, sole_height: np.ndarray, speed_3d: np.ndarray,
               settings: ContactSettings) -> np.ndarray:
    """A flat foot is planted whole: a toe joins its heel's contact while their sole heights differ
    by less than ``flat_height`` and it moves slower than ``speed_on`` in 3D.

    Only that way round: a planted heel with its toe down is a flat foot, but a planted toe with
    its heel near the floor is often a stance on the toes (boxing), the heel up a few centimetres
    more than a monocular fit can tell."""
    out = flags.copy()
    for heel, toe in FEET:
        flat = np.abs(sole_height[:, heel] - sole_height[:, toe]) < settings.flat_height
        out[:, toe] |= flags[:, heel] & flat & (speed_3d[:, toe] < settings.speed_on)
    return out


def segments(flags: np.ndarray) -> list[tuple[int, int]]:
    """(T,) bool -> list of (start, end exclusive) runs of True."""
    padded = np.concatenate([[False], flags.astype(bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def drop_short(flags: np.ndarray, min_frames: int) -> np.ndarray:
    out = flags.copy()
    for p in range(flags.shape[1]):
        for s, e in segments(flags[:, p]):
            if e - s < min_frames:
                out[s:e, p] = False
    return out


SWAP_RATIO = 0.3
"""How much less the feet must move with their labels swapped than as labelled for :func:`foot_swaps` to swap
them back: the demo's swaps moved them 3-7 times less (84-144 px against 410-595, summed); a boxer's feet, close
together, swapped on smaller margins (every swap taken: a held-out boxing take's PA-MPJPE 59.6 -> 63.6 mm)."""
SWAP_SECONDS = 0.5
"""The longest run of frames :func:`foot_swaps` swaps back (as ``core.landmarks.repair_side_swaps``): the demo's
swaps last 3-4 frames; a longer run of labels that look swapped is kept as the detector gave it."""


def foot_swaps(left: np.ndarray, right: np.ndarray, rate: float, ratio: float = SWAP_RATIO,
               max_seconds: float = SWAP_SECONDS) -> np.ndarray:
    """(T,) bool: the frames on which the detector swapped the labels of the left and right foot, given (T, N, 2)
    image points of each (heel, toe landmarks; NaN unseen) at ``rate`` frames a second.

    A frame's labels look swapped where swapping them moves the feet, summed, less than ``ratio`` times as far as
    the labels say from where each foot was last seen, as swapped back (a landmark counts where it and both feet's
    last places are known: a foot unseen on the first frame of a swap does not hide it). Of the runs of frames
    between changes of that look, those that label the feet the other way round from the longest run and last at
    most ``max_seconds`` are the swaps (``core.landmarks.swapped_runs``; a longer one is kept as the detector gave
    it). MediaPipe swaps a man's feet for frames at a time (the demo's side-step along the box, frames 110-113 and
    118-120): read as labelled, a still foot jumped 70-110 px back and forth, and the median of its image velocity
    read it still for 9 frames after it had left."""
    left, right = np.asarray(left, np.float64), np.asarray(right, np.float64)
    last = np.full((2,) + left.shape[1:], np.nan)  # where each foot was last seen, swapped back
    looks = np.zeros(len(left), bool)
    for t in range(len(left)):
        feet = np.stack([left[t], right[t]])
        known = np.isfinite(last).all(-1).all(0)  # (N,) landmarks both feet were seen at
        near = np.nansum(np.linalg.norm(feet - last, axis=-1)[:, known])  # each point to its own foot's last place
        far = np.nansum(np.linalg.norm(feet - last[::-1], axis=-1)[:, known])  # ... and to the other foot's
        if far < ratio * near:
            looks[t] = True
            feet = feet[::-1]
        seen = np.isfinite(feet).all(-1)
        last[seen] = feet[seen]
    return swapped_runs(looks[1:] != looks[:-1], max(1, int(round(max_seconds * rate))))

