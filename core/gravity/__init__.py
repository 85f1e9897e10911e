"""The world's up direction in the camera frame, from the picture and the person.

    gravity = estimate_gravity(K, frames=sampler.frames, boxes=sampler.boxes(seq), joints=joints, fps=fps)
    gravity.up               # (3,) unit, OpenCV camera frame (x right, y down, z forward)
    gravity.sigma_degrees    # 1-sigma uncertainty
    gravity.pitch_degrees    # camera pitch: positive = looking down
    gravity.roll_degrees     # camera roll: positive = turned clockwise (its right side down)
    gravity.source           # "scene lines", "scene lines and ground lines", "posture", "level camera", ...

Sources, in order of trust (the first that answers leads, later ones that
agree with it within their uncertainties are fused by inverse variance):

1. scene lines: near-vertical line segments on frames sampled over the take
   (the person masked out), voted into a vertical vanishing direction
   (``lines``); refused when too few lines agree;
2. the ground's level lines: two families of line segments at nearly a right
   angle (a tiled floor, boards, a court's markings, a room's level edges),
   each meeting in a level vanishing direction; the horizon through them gives
   the up (``ground``); refused when two such families are not both
   significant, and for a camera that moves;
3. the person as a vertical figure in the picture: ankle-to-shoulder
   segments of upright frames, seen at many places, meet in the vertical
   vanishing direction (``figure``); refused when the person stays on one spot;
4. the person's standing posture in the fitted 3D body (``posture``);
5. a level camera, ``(0, -1, 0)``, with a large uncertainty.

The user's own pitch/roll (or "level camera") override the estimate. A
horizon seen as an edge (the sea, a plain) is not used: the edge of a floor
or a field is below the true horizon by its distance's angle. A camera that
moves is detected (its pictures share few line segments) and said in
``Gravity.notes``; the vertical lines are then the take's average.

Sign conventions (the option table and README repeat them): pitch is the
camera's angle below the horizon (positive looking down); roll is its turn
about the viewing direction, positive clockwise as seen from behind the
camera (its right side down, so the horizon in the picture rises to the right).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..rotations import angle_between_degrees
from .figure import figure_up
from .ground import ground_up, midpoint_rays
from .lines import LEVEL_UP, detect_segments, interpretation_normals, near_vertical, shared_fraction, vote_vertical
from .posture import posture_up

LEVEL_SIGMA_DEGREES = 15.0
"""Uncertainty of the level-camera guess: hand-held and tripod cameras are mostly within this of level."""
GIVEN_SIGMA_DEGREES = 1.0
"""Uncertainty of a pitch and roll the user gave."""
SAMPLE_FRAMES = 12
"""Frames sampled over the take for the scene lines."""
SAMPLE_MAX_SIZE = 720
"""Longer side of a sampled frame, pixels: lines are found on a downscaled picture."""
STATIC_SHARED = 0.25
"""A static camera's consecutive samples share at least this share of their line segments (0.4-0.6 on the demo
clip with people walking; a 2 degree pan shares none)."""
PERSON_MARGIN = 0.15
"""The person's box is grown by this share of its size on every side before its lines are dropped."""


@dataclass(frozen=True)
class Gravity:
    """The world's up direction as the camera sees it.

    Attributes:
        up: (3,) unit vector, OpenCV camera frame (x right, y down, z forward).
        sigma_degrees: 1-sigma angular uncertainty of ``up``.
        source: where it came from: "scene lines", "ground lines", "upright
            figure", "posture", those it fused joined by " and " ("scene lines
            and posture"), "level camera", "as given", or a mix when the user
            gave only one of pitch and roll.
        notes: things the user should know (a moving camera, sources that disagree).
    """

    up: np.ndarray
    sigma_degrees: float
    source: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def pitch_degrees(self) -> float:
        """Camera pitch below the horizon, degrees (positive = looking down)."""
        return pitch_roll_from_up(self.up)[0]

    @property
    def roll_degrees(self) -> float:
        """Camera roll, degrees (positive = turned clockwise seen from behind: right side down)."""
        return pitch_roll_from_up(self.up)[1]

    def draws_on(self, source: str) -> bool:
        """Whether ``source`` (e.g. "scene lines") is one of the sources this estimate fused."""
        return source in self.source.split(" and ")

    def describe(self) -> str:
        """One line for the user: 'up from scene lines ±1.1° (camera pitch 12.0° down, roll 1.5°)'."""
        pitch = self.pitch_degrees
        way = "down" if pitch >= 0 else "up"
        return (f"up from {self.source} ±{self.sigma_degrees:.1f}° (camera pitch {abs(pitch):.1f}° {way}, "
                f"roll {self.roll_degrees:.1f}°)")


def up_from_pitch_roll(pitch_degrees: float, roll_degrees: float) -> np.ndarray:
    """(3,) unit up in the OpenCV camera frame of a camera pitched and rolled as the module docstring says.

    Level: (0, -1, 0). Pitch p alone: (0, -cos p, -sin p) (looking down, the
    up leans away from the viewing direction). Roll r turns it about z.
    """
    p, r = np.radians(pitch_degrees), np.radians(roll_degrees)
    return np.array([-np.sin(r) * np.cos(p), -np.cos(r) * np.cos(p), -np.sin(p)])


def pitch_roll_from_up(up: np.ndarray) -> tuple[float, float]:
    """(pitch, roll) in degrees of a camera whose frame sees the world's ``up`` (3,); inverse of :func:`up_from_pitch_roll`."""
    u = np.asarray(up, np.float64)
    u = u / np.linalg.norm(u)
    pitch = float(np.degrees(np.arcsin(np.clip(-u[2], -1.0, 1.0))))
    roll = float(np.degrees(np.arctan2(-u[0], -u[1])))
    return pitch, roll


def angle_degrees(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two (3,) directions, degrees."""
    return float(angle_between_degrees(a, b))


def fuse(estimates: Sequence[Gravity]) -> Gravity:
    """One estimate from several, the first (most trusted) leading.

    Later estimates that agree with the first within three combined sigmas
    are averaged in by inverse variance; the others are dropped with a note.
    """
    lead = estimates[0]
    ups, weights, names, notes = [lead.up], [lead.sigma_degrees ** -2], [lead.source], list(lead.notes)
    for other in estimates[1:]:
        apart = angle_degrees(lead.up, other.up)
        if apart <= 3.0 * np.hypot(lead.sigma_degrees, other.sigma_degrees):
            ups.append(other.up)
            weights.append(other.sigma_degrees ** -2)
            names.append(other.source)
        else:
            notes.append(f"the {other.source} disagree with the {lead.source} by {apart:.0f}°; "
                         f"the {lead.source} were used")
    w = np.asarray(weights)
    up = (np.asarray(ups) * w[:, None]).sum(axis=0)
    return Gravity(up=up / np.linalg.norm(up), sigma_degrees=float(w.sum() ** -0.5), source=" and ".join(names),
                   notes=tuple(notes))


class FrameSampler:
    """Keeps up to ``count`` frames spread evenly over a stream, grey and downscaled, for the scene lines.

    Wrap the capture's frame iterator with :meth:`tap`; the frames pass on unchanged.
    ``frames`` then holds (video frame index, grey (H, W) uint8, scale from
    the video's pixels to the grey frame's).
    """

    def __init__(self, expected: int, image_width: int, count: int = SAMPLE_FRAMES) -> None:
        step = max(1, expected // max(count, 1))
        self.rows = set(range(step // 2, max(expected, 1), step)[:count])
        self.image_width = image_width
        self.frames: list[tuple[int, np.ndarray, float]] = []

    def tap(self, frames: Iterator[tuple[int, np.ndarray]]) -> Iterator[tuple[int, np.ndarray]]:
        import cv2

        for row, (index, rgb) in enumerate(frames):
            if row in self.rows:
                gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
                scale = SAMPLE_MAX_SIZE / max(gray.shape)
                if scale < 1.0:
                    gray = cv2.resize(gray, (round(gray.shape[1] * scale), round(gray.shape[0] * scale)),
                                      interpolation=cv2.INTER_AREA)
                self.frames.append((int(index), gray, gray.shape[1] / self.image_width))
            yield index, rgb


def person_boxes(keypoints: np.ndarray, margin: float = PERSON_MARGIN) -> np.ndarray:
    """(T, 4) x0, y0, x1, y1 pixel box of each frame's landmarks (K, 3 pixels + confidence), grown by ``margin``.

    Frames without a landmark get an empty box (NaN).
    """
    kp = np.asarray(keypoints, np.float64)
    seen = (kp[..., 2] > 0.2) & np.isfinite(kp[..., :2]).all(axis=-1)
    lo = np.where(seen[..., None], kp[..., :2], np.inf).min(axis=1)
    hi = np.where(seen[..., None], kp[..., :2], -np.inf).max(axis=1)
    size = hi - lo
    grow = margin * size + 0.05 * size.max(axis=1, keepdims=True)
    boxes = np.concatenate([lo - grow, hi + grow], axis=1)
    boxes[~seen.any(axis=1)] = np.nan
    return boxes


def gravity_from_lines(frames: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray | None]]) -> Gravity | None:
    """Scene-lines gravity from pictures: each (grey (H, W) uint8, K (3, 3) of its pixels, person boxes (B, 4) or None).

    None when the lines refuse (too few agree). A camera that moves is one
    whose pictures share few of their lines (``STATIC_SHARED``): it is
    noted, and the spread of the per-picture vertical directions joins the
    uncertainty (the estimate is then the take's average).
    """
    segments = [detect_segments(gray, boxes) for gray, _, boxes in frames]
    return _vertical_lines(segments, [interpretation_normals(seg, K) for seg, (_, K, _) in zip(segments, frames)])


def gravity_from_pictures(frames: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray | None]]) -> Gravity | None:
    """The up the pictures give (arguments as :func:`gravity_from_lines`): :func:`picture_sources` fused, the
    vertical lines leading; None when neither answers."""
    found = picture_sources(frames)
    return fuse(found) if found else None


def picture_sources(frames: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray | None]]) -> list[Gravity]:
    """Each picture source that answers, on its own, in order of trust: the scene's vertical lines and the
    ground's level lines (``ground``; only from a camera that stands still: a moving one's families move).
    Each picture's segments are found once."""
    if not frames:
        return []
    segments = [detect_segments(gray, boxes, max_lean_degrees=90.0) for gray, _, boxes in frames]
    planes = [interpretation_normals(seg, K) for seg, (_, K, _) in zip(segments, frames)]
    upright = [near_vertical(seg) for seg in segments]
    lines = _vertical_lines([seg[m] for seg, m in zip(segments, upright)],
                            [(n[m], length[m]) for (n, length), m in zip(planes, upright)])
    ground = None
    if _still(segments):
        vote = ground_up(np.concatenate([n for n, _ in planes]), np.concatenate([length for _, length in planes]),
                         np.concatenate([midpoint_rays(seg, K) for seg, (_, K, _) in zip(segments, frames)]),
                         frames=len(frames))
        if vote is not None:
            ground = Gravity(up=vote.up, sigma_degrees=vote.sigma_degrees, source="ground lines")
    if lines is not None and ground is not None and _on_horizon(lines, ground):
        # Looking steeply down at a tiled floor, its receding lines vanish where a vertical might and outnumber
        # the few verticals in view; a "vertical" on the horizon of two level families is a third level one.
        lines = None
    return [g for g in (lines, ground) if g is not None]


def _on_horizon(lines: Gravity, ground: Gravity) -> bool:
    """Whether the vertical lines' direction is level by the ground's up (at right angles to it, within three
    combined sigmas): one of the ground's level families, not the vertical."""
    tolerance = 3.0 * float(np.hypot(lines.sigma_degrees, ground.sigma_degrees))
    return abs(90.0 - angle_degrees(lines.up, ground.up)) <= tolerance


def _still(segments: Sequence[np.ndarray]) -> bool:
    """Whether consecutive pictures share their segments (``STATIC_SHARED``): a camera that stands still."""
    shared = [shared_fraction(a, b) for a, b in zip(segments[:-1], segments[1:]) if len(a) and len(b)]
    return not shared or float(np.median(shared)) >= STATIC_SHARED


def _vertical_lines(segments: Sequence[np.ndarray], rays: Sequence[tuple[np.ndarray, np.ndarray]]) -> Gravity | None:
    """:func:`gravity_from_lines` on each picture's near-vertical ``segments`` (N, 4 pixels) and their
    interpretation normals and lengths (``rays``), found already."""
    if not segments:
        return None
    # Pooled as normals (camera frame), so pictures of any size vote together.
    vote = vote_vertical(np.concatenate([n for n, _ in rays]), np.concatenate([length for _, length in rays]),
                         frames=len(segments))
    if vote is None:
        return None
    if _still(segments):
        return Gravity(up=vote.up, sigma_degrees=vote.sigma_degrees, source="scene lines")
    singles = [v for v in (vote_vertical(n, length) for n, length in rays) if v is not None]
    apart = np.array([angle_degrees(v.up, vote.up) for v in singles]) if singles else np.zeros(1)
    sigma = float(np.hypot(vote.sigma_degrees, np.sqrt(np.mean(apart**2))))
    note = ("the camera moves (the scene's lines shift between frames; their vertical direction varies by up to "
            f"{apart.max():.0f}°), so the up direction is the take's average")
    return Gravity(up=vote.up, sigma_degrees=sigma, source="scene lines", notes=(note,))


def gravity_sources(lines: Gravity | None, *, joints: np.ndarray | None = None, fps: float = 30.0,
                    weights: np.ndarray | None = None, keypoints_2d: np.ndarray | None = None,
                    K: np.ndarray | None = None, image_size: float = 0.0) -> list[Gravity]:
    """Every source that answers, each on its own, in order of trust: the scene lines (``lines``, already
    measured), the upright figure, the posture (arguments as :func:`estimate_gravity`). :func:`fuse` makes one of them."""
    found = [] if lines is None else [lines]
    if joints is not None and len(joints) and keypoints_2d is not None and K is not None:
        figure = figure_up(keypoints_2d, K, joints, fps, image_size)
        if figure is not None:
            found.append(Gravity(up=figure[0], sigma_degrees=figure[1], source="upright figure"))
    if joints is not None and len(joints):
        posture = posture_up(joints, fps, weights)
        if posture is not None:
            found.append(Gravity(up=posture[0], sigma_degrees=posture[1], source="posture"))
    return found


def estimate_gravity(*, frames: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = (),
                     lines: Gravity | None = None, joints: np.ndarray | None = None, fps: float = 30.0, weights: np.ndarray | None = None,
                     keypoints_2d: np.ndarray | None = None, K: np.ndarray | None = None, image_size: float = 0.0,
                     pitch_degrees: float | None = None, roll_degrees: float | None = None,
                     level_camera: bool = False) -> Gravity:
    """The take's up direction in the camera frame (see the module docstring).

    Args:
        frames: pictures for the scene's vertical lines and the ground's lines: (grey (H, W) uint8, K (3, 3)
            of its pixels, person boxes (B, 4) pixels or None).
        lines: the pictures' estimate when measured already (``gravity_from_pictures``), instead of ``frames``.
        joints: (T, J, 3) fitted SMPL-X joints, OpenCV camera frame, metres,
            for the posture (None: not used); ``fps`` their rate, ``weights``
            optional (T,) frame confidences.
        keypoints_2d, K, image_size: the person's (T, K, 3) landmarks
            (pixels + confidence, rows as ``joints``), the (3, 3) intrinsics of
            those pixels and the picture's longer side, for the figure (None: not used).
        pitch_degrees, roll_degrees: the user's values (None: estimated);
            one given alone replaces that angle of the estimate.
        level_camera: assume a level camera (today's behaviour), no estimate.
    """
    if level_camera:
        return Gravity(up=LEVEL_UP.copy(), sigma_degrees=LEVEL_SIGMA_DEGREES, source="level camera (as told)")
    if pitch_degrees is not None and roll_degrees is not None:
        return Gravity(up=up_from_pitch_roll(pitch_degrees, roll_degrees), sigma_degrees=GIVEN_SIGMA_DEGREES,
                       source="pitch and roll as given")
    if lines is None and len(frames):
        lines = gravity_from_pictures(frames)
    found = gravity_sources(lines, joints=joints, fps=fps, weights=weights, keypoints_2d=keypoints_2d, K=K,
                            image_size=image_size)
    if found:
        estimate = fuse(found)
    else:
        estimate = Gravity(up=LEVEL_UP.copy(), sigma_degrees=LEVEL_SIGMA_DEGREES,
                           source="level camera (nothing better in the picture)")
    if pitch_degrees is None and roll_degrees is None:
        return estimate
    pitch, roll = pitch_roll_from_up(estimate.up)
    given = "pitch" if pitch_degrees is not None else "roll"
    pitch = pitch if pitch_degrees is None else pitch_degrees
    roll = roll if roll_degrees is None else roll_degrees
    return Gravity(up=up_from_pitch_roll(pitch, roll), sigma_degrees=estimate.sigma_degrees,
                   source=f"{given} as given, the rest from {estimate.source}", notes=estimate.notes)
