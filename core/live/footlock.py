"""Planted feet held along the floor, causally: the root's part of the offline foot lock.

The offline cleanup (``core.cleanup.footlock.lock_feet``) holds each planted heel
and toe at the median of where the fit put it over the whole contact: first by
shifting the root along the floor by the held points' mean offset (a monocular
fit's whole body drifts in depth, so moving the root plants the feet without
bending a joint), then by a two-bone IK of each leg for what is left. Live, the
fit's root moves 3-15 cm a frame in depth on the demo's man standing on his box
(6.4 m away), and a foot standing still slid 70 mm a frame in the stream.

Here, causally: which feet stand is what the picture shows (:class:`StillFeet`, the
offline contacts' steadiest cue); a standing foot is held where the stream showed it
on the stance's first frame, its place then following the fit's foot at most
``PLACE_STEP`` a frame (the fit's jitter is not followed, a slow true slide is); the root is shifted along the
floor by the held feet's mean offset, across the camera's line of sight at most as far as
the offline lock moves it (:func:`across_limited`), and not by a leg the fit moved from its
pelvis faster than ``LEG_SPEED`` (at most ``LEG_JUMP`` in a frame); with no foot standing the shift fades back
to the fit's root at most ``RELEASE_STEP`` a frame. The stances' windows span the same time at any
frame rate (the stream runs at 16-20 fps under load, 5-15 while it searches), as offline. On the demo (the
bench's replay of the live landmarks, December 2026): a standing foot's slide along the floor 65 -> 13 mm
a frame (median; p90 136 -> 53) on its own stances as first read (positions 1.5 cm apart, before
:class:`StillFeet`: not measured since); on the offline take's contact frames
60 mm a frame with no lock, 54 with the stances read as positions 1.5 cm apart, 45 with
:class:`StillFeet`'s velocities (and 11-26 mm a frame on the true contacts of six rendered
clips, 14-32 before: README "Standing feet, causally"). The legs are not bent: the offline lock's IK on the
live stances (held place, heights capped as offline) held the feet to 5 mm a frame
but put the knees and ankles further from the offline take (left ankle 123 -> 139 mm
median; with the stances read now, the flip 93 -> 113 mm), as the offline take's own leg moves come from its
whole-take medians, which a causal hold does not reach (they are not a bias either: against the uncleaned take the
cleaned one's knees and ankles move 4-38 mm median along each camera axis, -9 to +4 mm signed). A root shift moves
no joint relative to the pelvis, so the root-aligned limb figures are unchanged.

Frames: the camera frame (OpenCV), metres; the floor is perpendicular to ``up``.
"""

from __future__ import annotations

import warnings
from collections import deque

import numpy as np

from ..body.mannequin import forward_kinematics
from ..cleanup import torso_pixels
from ..cleanup.contact_pass import TORSO_METRES
from ..cleanup.contacts import WINDOW_RATE, ContactSettings, frames_at, image_speed_off
from ..cleanup.floor import PROXY_INDEX
from ..cleanup.footlock import along_ray
from ..cleanup.root import IMAGE_FEET
from ..landmarks import seen_landmarks
from ..rotations import rotation_between

RELEASE_STEP = 0.01
"""Metres: the most the root's shift fades in a 30 fps frame once no foot stands (the offline lock's ``HOLD_SPEED``; a
slower stream's frame as many as it spans, :data:`RELEASE_SECONDS`):
the stream's root goes back to the fit's, which the picture holds, without a jump."""
PLACE_STEP = 0.005
"""Metres: the most a held place moves in a frame towards the fit's foot (the fit's feet, with the root's depth,
move 3-15 cm a frame on the demo's man standing still)."""
RELEASE_SECONDS = 0.2
"""``RELEASE_STEP`` is a 30 fps frame's (``WINDOW_RATE``): a slower stream's frame fades the shift as many steps as
it spans, up to this long (a stall's gap is not a step). Counted in frames, a 15 fps stream's root came back half as
fast: on the six rendered clips' live landmarks every second frame (a scratch replay) the pelvis 255 -> 226 mm from
the truth (median, mean over the clips; 10 fps: 202 -> 200), the slide on true contacts 29.1 -> 29.2 mm a frame.
``PLACE_STEP`` stays a frame's: it bounds how far a held place follows the fit's foot, whose jitter comes a frame at
a time (scaled too, 10 mm a 15 fps frame, the held feet slid 29.2 -> 30.3 mm a frame, more on every clip, for the
pelvis 226 -> 215 mm)."""
LEG_SPEED = 3.0
"""m/s: a standing foot the fit moves faster than this along the floor from its pelvis (0.1 m a frame at 30 fps) is
held from where it is now: the fit's leg jumped (MediaPipe's depth of one leg flips while the picture shows the foot
still), which the root must not carry (held, it carried the body of the rendered walks 25-50 cm off in depth).
The root's own jitter (3-15 cm a frame in depth on the demo's man) moves the pelvis and feet together and is held.
A speed, not a distance a frame: at 10-12 fps a pelvis walking 1.3 m/s over its planted foot moved the leg 0.11-0.13 m
a frame, which read 0.1 m a frame as a jump on every frame (a scratch replay: the held foot slid 38-42 mm a frame,
5 at 30 fps)."""
LEG_JUMP = 0.25
"""Metres: ... and one that moves farther than this in a frame, at any rate (a flipped leg's 30 cm at 10 fps)."""
LEG_JOINTS = max(PROXY_INDEX) + 1
"""Forward kinematics of the first joints reaches both feet (parents come first)."""


START_SPEED = ContactSettings().image_speed_still
"""m/s at the person's size (the torso's length in pixels taken as 0.5 m): a foot starts standing when the median of
its heel's and toe's image velocities over the last :data:`WINDOW` frames is slower than this (the offline contacts'
``image_speed_still``, on the median of a centred window there)."""
GO_SPEED = image_speed_off()
"""m/s: ... and stops standing when either is faster than this (the offline contacts' ``image_speed`` off) over the
last :data:`SPAN` frames' velocities (the window's median lags a take-off by 3-4 frames, over which the held root
carried a jumper's body 10 cm a frame: on a rendered CMU jump its pelvis went 160 -> 281 mm off in depth) ..."""
END_METRES = 0.08
"""... or the median of its last ``SPAN`` positions leaves the place it stood at (the mean over the stance) by
more than this."""
WINDOW = 7
"""Frames at 30 fps (``WINDOW_RATE``) of image velocities whose median is a foot's speed (the offline
``ContactSettings.image_window``): a landmark's glitch of fewer than half of them does not show. At the stream's
rate, read from the frames' times, as many frames as span as long (``core.cleanup.frames_at``: 5 at 15-20 fps, 3
at 10-12): counted as frames, a stance at 10 fps started 0.4 s late and ended 0.3 s late (the foot 300 mm past
its place). The window's median lags: a stance starts 4 frames after the foot stops (0.13 s at 30 fps; 0.2 s at
10-15), and one that starts as the feet leave again holds the root for those frames (on the solver's synthetic
clip, frames 34-37, the root 12-31 mm off the exact fit, ``tests/core/test_live.py``): the cost of reading a far
person's still feet through their landmarks' jitter."""
SPAN = 3
"""Frames at 30 fps of the median position a standing foot is compared with its place by, and of the velocities it
stops on (at the stream's rate as :data:`WINDOW`, at least 2)."""
MOST_RATE = 120.0
"""Frames a second the kept history covers :data:`WINDOW` at (a faster stream's window is this one's)."""


def window_frames(rate: float) -> tuple[int, int]:
    """(:data:`WINDOW`, :data:`SPAN`) in frames at ``rate`` frames a second, spanning as long as at 30 fps."""
    rate = min(rate, MOST_RATE)
    return frames_at(WINDOW, rate), max(2, frames_at(SPAN, rate))


def leg_jump(dt: float) -> float:
    """Metres along the floor a standing foot's place from its pelvis may move in ``dt`` s before it reads as
    the fit's leg jumping (:data:`LEG_SPEED`, :data:`LEG_JUMP`)."""
    return min(LEG_SPEED * dt, LEG_JUMP)


def _median(x: np.ndarray) -> np.ndarray:
    """The median over the first axis, NaN (unseen) left out; NaN where all are (numpy's nanmedian is slow on
    small arrays: 1 ms a frame here)."""
    if np.isfinite(x).all():
        return np.median(x, axis=0)
    with warnings.catch_warnings():  # a point unseen on every frame: NaN, not standing
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(x, axis=0)


class StillFeet:
    """Which feet the picture shows standing, causally: the offline contacts' steadiest cue (the video shows a
    planted foot still, ``core.cleanup.image_speeds``) on the frames so far.

    The fit's 3D speeds cannot tell: live, the root's depth moves 3-15 cm a frame on the demo's man standing on
    his box (6.4 m away), and frame-to-frame landmark speeds are MediaPipe's 2-5 px jitter on a 35 px torso. So,
    as offline, a foot's speed is the median of its heel's and toe's image velocities over :data:`WINDOW` frames
    (the last ones here, not a centred window), in metres a second at the person's size: a stance starts below
    :data:`START_SPEED`, lasts while they stay below :data:`GO_SPEED` and within :data:`END_METRES` of where it
    stood (their running mean over the stance), and needs the sole within ``height`` of the floor
    (``ContactSettings.height_on_still``: the fit's soles swing 10-20 cm with its depth).
    """

    def __init__(self, height: float = ContactSettings().height_on_still, fps: float = 30.0) -> None:
        self.height = height
        self.fps = fps  # the frames' rate when no times are given
        # (t, (4, 2) pixels, NaN unseen): the window's frames at up to MOST_RATE
        self._uv: deque[tuple[float, np.ndarray]] = deque(maxlen=window_frames(MOST_RATE)[0] + 1)
        self._place: list[np.ndarray | None] = [None, None]  # per foot: (2, 2) where it stands, pixels
        self._count = [0, 0]
        self._frames = 0

    def reset(self) -> None:
        self._uv.clear()
        self._place, self._count = [None, None], [0, 0]

    def __call__(self, keypoints: np.ndarray, sole_heights: np.ndarray, t: float | None = None) -> tuple[bool, bool]:
        """(left, right) standing, after the frame's ``keypoints`` (33, 3) MediaPipe body landmarks, pixels and
        visibility; ``sole_heights`` (4,) the proxies' soles above the floor, metres; ``t`` its time, seconds
        (None: ``fps`` frames a second)."""
        kp = np.asarray(keypoints, np.float64)
        t = self._frames / self.fps if t is None else float(t)
        self._frames += 1
        self._uv.append((t, np.where(seen_landmarks(kp[IMAGE_FEET, 2])[:, None], kp[IMAGE_FEET, :2], np.nan)))
        torso = torso_pixels(kp[None])
        low = np.asarray(sole_heights) < self.height
        times = np.array([w[0] for w in self._uv])
        gaps = np.diff(times[-(WINDOW + 1):])  # the stream's rate now: its last frames' (the search's are slower)
        window, span = window_frames(1.0 / max(float(np.median(gaps)), 1e-6)) if len(gaps) else (WINDOW, SPAN)
        if len(self._uv) < window + 1 or not np.isfinite(torso) or torso < 5:
            return False, False
        scale = TORSO_METRES / torso  # metres a pixel
        times = times[-(window + 1):]
        uv = np.stack([w[1] for w in list(self._uv)[-(window + 1):]])
        velocity = np.diff(uv, axis=0) / np.maximum(np.diff(times), 1e-6)[:, None, None]
        speed = np.linalg.norm(_median(velocity), axis=-1) * scale  # (4,) m/s
        recent = np.linalg.norm(_median(velocity[-span:]), axis=-1) * scale  # quick to let go
        now = _median(uv[-span:])
        out = []
        for foot in range(2):
            points = slice(2 * foot, 2 * foot + 2)
            place = self._place[foot]
            if place is None:
                still = bool(np.all(speed[points] < START_SPEED))
            else:  # still slow, and still near where it stood
                still = (bool(np.all(np.nan_to_num(recent[points], nan=np.inf) < GO_SPEED))
                         and bool(np.all(np.linalg.norm(now[points] - place, axis=-1) * scale < END_METRES)))
            standing = still and bool(low[points].all())
            if standing:
                n = self._count[foot]
                self._place[foot] = now[points] if place is None else (place * n + now[points]) / (n + 1)
                self._count[foot] = n + 1
            else:
                self._place[foot], self._count[foot] = None, 0
            out.append(standing)
        return out[0], out[1]


def across_limited(shift: np.ndarray, pelvis: np.ndarray, up: np.ndarray, focal: float | None) -> np.ndarray:
    """(3,) the root's ``shift`` (along the floor, camera frame) with its part across the camera's line of sight
    to the ``pelvis`` (3,) held to ``ACROSS_RAY_LIMIT`` and, with the ``focal`` length (pixels), to
    ``ACROSS_RAY_PIXELS`` at the pelvis's distance: ``core.cleanup.footlock.along_ray`` on one frame, turned so
    that ``up`` is its z, the camera at its origin."""
    R = rotation_between(up, np.array([0.0, 0.0, 1.0]))  # camera frame -> a z-up floor frame
    flat, pelvis_flat = R @ shift, R @ pelvis
    flat[:2] = along_ray(flat[None, :2], pelvis_flat[None], np.zeros(3), focal=focal)[0]
    return R.T @ flat


class CausalFootLock:
    """Planted feet held along the floor by the root, one frame at a time.

    Args:
        rest_joints: (55, 3) the body's rest joints, metres, model frame.
        focal: the camera's focal length, pixels: the root's shift across the line of sight is held to
            ``ACROSS_RAY_PIXELS`` at the pelvis's distance (and ``ACROSS_RAY_LIMIT``), as offline; None: to
            ``ACROSS_RAY_LIMIT`` alone.
    """

    def __init__(self, rest_joints: np.ndarray, focal: float | None = None) -> None:
        self.J = np.asarray(rest_joints, np.float64)
        self.focal = focal
        self.carry = np.zeros(3)  # the root's shift, camera frame, metres (along the floor)
        self._t: float | None = None  # the last held frame's time, seconds
        self._place: list[np.ndarray | None] = [None, None]  # per foot: (2, 3) held heel and toe, camera frame
        self._leg: list[np.ndarray | None] = [None, None]  # per standing foot: its fitted place from the pelvis

    def lose(self) -> None:
        """The person was lost: forget every stance and the last frame's time, keep the root's shift (the held
        pose carries it, and it fades back at ``RELEASE_STEP`` a frame from the first frame the person is found
        again on, as after any stance: the time lost is not a step; counted as one, half a second lost faded it 6
        cm at once)."""
        self._place, self._leg = [None, None], [None, None]
        self._t = None

    def restart(self) -> None:
        """Someone else is followed (``core.live.sides.CausalSideSwaps.restarted``): forget every stance and the
        root's shift too (the last person's: kept, it put the new one 1.5 m off in depth for 10 s on a switch
        between two people standing 1.5 m apart)."""
        self.lose()
        self.carry = np.zeros(3)

    def _held(self, foot: int, points: np.ndarray) -> np.ndarray:
        """(2, 3) where the standing foot ``foot`` is held, given its fitted heel and toe ``points`` (2, 3)."""
        place = self._place[foot]
        if place is None:  # where the stream shows it now: the root's shift carries on unchanged
            place = points + self.carry
        step = points - place  # towards the fit's foot, at most PLACE_STEP a frame
        size = np.linalg.norm(step, axis=-1, keepdims=True)
        place = place + step * np.minimum(1.0, PLACE_STEP / np.maximum(size, 1e-9))
        self._place[foot] = place
        return place

    def __call__(self, aa: np.ndarray, trans: np.ndarray, up: np.ndarray, standing: tuple[bool, bool],
                 t: float | None = None) -> np.ndarray:
        """(3,) the root's translation (camera frame, metres) of the pose ``aa`` (55, 3) local axis-angle,
        ``trans`` (3,) with the ``standing`` (left, right) feet held; ``up`` (3,) the world's up, camera frame;
        ``t`` the frame's time, seconds (None: 1/30 s after the last frame)."""
        trans = np.asarray(trans, np.float64)
        pos, _ = forward_kinematics(np.asarray(aa, np.float64)[None], self.J, trans[None], joints=LEG_JOINTS)
        return self.hold(pos[0, PROXY_INDEX], trans, up, standing, t)

    def hold(self, points: np.ndarray, trans: np.ndarray, up: np.ndarray, standing: tuple[bool, bool],
             t: float | None = None) -> np.ndarray:
        """As calling the lock, given the pose's contact proxies ``points`` (4, 3) (camera frame, metres: the
        solver has them posed already)."""
        dt = 1.0 / WINDOW_RATE if t is None or self._t is None else max(float(t) - self._t, 0.0)
        self._t = None if t is None else float(t)
        jump = leg_jump(dt)
        frames = min(dt, RELEASE_SECONDS) * WINDOW_RATE  # RELEASE_STEP is a 30 fps frame's: as fast at any rate
        up = np.asarray(up, np.float64) / np.linalg.norm(up)
        trans = np.asarray(trans, np.float64)
        points = np.asarray(points, np.float64)
        pelvis = self.J[0] + trans
        offsets = []
        for foot in range(2):
            if standing[foot]:
                feet = points[2 * foot:2 * foot + 2]
                leg = feet.mean(0) - pelvis
                last = self._leg[foot]
                if last is not None and np.linalg.norm((leg - last) - np.dot(leg - last, up) * up) > jump:
                    self._place[foot] = None  # the fit's leg jumped, not its root: held from where it is now
                self._leg[foot] = leg
                offsets.append((self._held(foot, feet) - feet).mean(0))
            else:
                self._place[foot] = self._leg[foot] = None
        if offsets:
            carry = np.mean(offsets, axis=0)
        else:  # no foot held: the shift fades back to the fit's root, at most RELEASE_STEP a frame
            size = float(np.linalg.norm(self.carry))
            carry = self.carry * max(0.0, 1.0 - RELEASE_STEP * frames / size) if size > 0 else self.carry
        carry = carry - np.dot(carry, up) * up  # along the floor only: heights stay the fit's
        self.carry = across_limited(carry, pelvis, up, self.focal)
        return trans + self.carry
