"""Flight: a body with no foot on the ground falls under gravity (issues 15 and 16).

Between a take-off and a landing (no contact for a few frames, feet in the
picture, contacts on both sides) nothing but gravity acts on the body: its
centre travels on a parabola, a constant velocity along the floor and
-9.81 m/s^2 along the take's up (a grounded take is Z-up and metric). The fit's
pelvis over a flight is not that smooth: the landmark model misreads tucked and
inverted bodies (the demo's backflip puts the mid-hip 0.107 of his height off at
its top). :func:`ballistic_root` fits the parabola to the pelvis the cleanup
placed in the picture, robustly (a misread frame does not bend it), with the
take-off's and the landing's frames as its ends, and moves the readings it
misses onto it across the line of sight; the readings it explains (within 3 cm)
are evidence and stay. Depth stays the cleanup's: the parabola's depth, even
anchored by the stances either side, put the rendered jumps' flights (tilted set)
5-13 cm further off the truth than the cleanup's, W-MPJPE +0.2 mm.

The pelvis, not a centre of mass from the fitted segments: the fit's pose of a
tucked or inverted body is what the landmark model misreads, and on the demo's
flip that centre's parabola put frame 180 0.144 of his height off (the pelvis's:
0.071; it was 0.102). A span is taken as flight only if the parabola explains it
and the pelvis falls at g (within 25%) over it: a body held up, lying or rolling
has no foot contact either, and a flip whose pelvis turns far about the body's
centre (the rendered backflip's: 10 of its 17 frames within 5 cm of the parabola)
is left as it was. numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRAVITY = 9.81
"""m/s^2 along the take's -Z (a grounded take: Z-up, metres)."""


@dataclass(frozen=True)
class FlightSettings:
    """When a span without contacts is a flight, and how its parabola is fitted.

    Attributes:
        enabled: False finds no flights (several cameras measured the root: no one camera's line of sight to
            move it across).
        min_seconds, max_seconds: a flight lasts at least this long (a running stride's float, 0.1 s, is too
            short to tell gravity from noise) and at most this long (1.2 s: a 1.7 m rise; longer spans without
            contacts are feet out of the picture or a body on the floor).
        min_frames: ... and at least this many frames, whatever the rate: at 15 fps (``--preset fast``) 0.2 s is
            3 frames, too few rows to tell a parabola from a misread top (30 fps: the same 6 frames as 0.2 s).
        min_seen: share of the span's frames the video must show a foot on (a foot out of the picture
            starts no contact either: that is no evidence of flight).
        depth_weight: weight of a reading along the line of sight against one across it (the picture).
        scale: metres; residuals across the line of sight are weighed by Tukey's biweight with this scale
            times 4.685 (a reading 9 cm or more off counts for nothing: at 4 cm the synthetic jump's top, read
            12 cm low, still bent the parabola and the fall it measures, and stayed 29 px off).
        max_rms: metres; the parabola must explain the span's inliers within this (root mean square) ...
        min_inliers: ... and this share of its frames must be inliers (within 2.5 ``scale``), or the span
            is not taken as a flight.
        gravity_tolerance: the pelvis's height must fall at g within this share over the span (a free
            quadratic fitted to it, the misread frames weighed down), or it is not taken as a flight. The
            cleanup's depth across a flight bends its path: an exact synthetic jump falls at 8.9 m/s^2 in the
            cleaned take, and with 2 cm of noise 8.3-8.9 (at 15% one draw in eight was left misread).
        trim: metres; runs of frames at a span's ends the parabola misses by more than this are cut off
            (a landing the contacts missed), once: a span that needs more is no parabola ...
        ease: ... and the move onto the parabola eases in over this many frames from such a cut.
        keep: metres; a reading within this of the parabola (across the line of sight) is evidence and stays,
            one beyond twice this moves onto it, in between part of the way.
    """

    enabled: bool = True
    min_seconds: float = 0.2
    max_seconds: float = 1.2
    min_frames: int = 6
    min_seen: float = 0.5
    depth_weight: float = 0.25
    scale: float = 0.02
    max_rms: float = 0.06
    min_inliers: float = 0.6
    gravity_tolerance: float = 0.25
    trim: float = 0.06
    ease: int = 3
    keep: float = 0.03


def _too_short(frames: int, rate: float, settings: FlightSettings) -> bool:
    """Whether ``frames`` frames at ``rate`` are too few for a flight (``settings.min_seconds``, ``min_frames``)."""
    return frames < max(settings.min_seconds * rate, settings.min_frames)


def flight_spans(contacts: np.ndarray, rate: float, seen: np.ndarray | None = None,
                 settings: FlightSettings = FlightSettings()) -> list[tuple[int, int]]:
    """[(start, end)) spans of frames with no contact (``contacts`` (T, 4)) between two frames with one, long enough
    and short enough to be a flight (``settings``), on which the video shows a foot (``seen`` (T, 4), optional)."""
    if not settings.enabled:
        return []
    airborne = ~np.asarray(contacts, bool).any(axis=1)
    spans: list[tuple[int, int]] = []
    t, T = 0, len(airborne)
    while t < T:
        if not airborne[t]:
            t += 1
            continue
        start = t
        while t < T and airborne[t]:
            t += 1
        n = t - start
        if start == 0 or t == T:  # no take-off or no landing in the take
            continue
        if _too_short(n, rate, settings) or n > settings.max_seconds * rate:
            continue
        if seen is not None and np.asarray(seen, bool)[start:t].any(axis=1).mean() < settings.min_seen:
            continue
        spans.append((start, t))
    return spans


def fit_parabola(times: np.ndarray, points: np.ndarray, sight: np.ndarray,
                 settings: FlightSettings = FlightSettings(), anchored: np.ndarray | None = None,
                 iterations: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The path p(t) = a + b t - g t^2 / 2 Z nearest ``points`` (N, 3) at ``times`` (N,) seconds, robustly.

    Residuals across the line of sight (``sight`` (N, 3) unit rays from the camera) count in full and are
    weighed by Tukey's biweight; along it they count ``settings.depth_weight`` (squared, as a weight), in full
    on ``anchored`` (N,) frames (the stances either side of a flight, whose depth the planted feet set).
    Returns (path (N, 3), residuals across the line of sight (N,) metres, inlier weights (N,))."""
    t = np.asarray(times, np.float64)
    drop = np.zeros_like(points)
    drop[:, 2] = 0.5 * GRAVITY * t ** 2
    y = np.asarray(points, np.float64) + drop  # = a + b t + noise
    d = np.asarray(sight, np.float64)
    across = np.eye(3)[None] - d[:, :, None] * d[:, None, :]  # (N, 3, 3) projector off the line of sight
    along = d[:, :, None] * d[:, None, :]
    robust = np.ones(len(t))
    depth = np.full(len(t), settings.depth_weight ** 2)
    if anchored is not None:
        depth[np.asarray(anchored, bool)] = 1.0
    c = 4.685 * settings.scale
    for _ in range(iterations):
        M = robust[:, None, None] * across + depth[:, None, None] * along  # (N, 3, 3) per-frame metric
        # Unknowns x = (a, b) (6,): the rows of a + b t are J = [I, t I], so J^T M J = [[M, t M], [t M, t^2 M]].
        moments = [np.einsum("n,nij->ij", t ** k, M) for k in range(3)]
        My = np.einsum("nij,nj->ni", M, y)
        A = np.block([[moments[0], moments[1]], [moments[1], moments[2]]])
        rhs = np.concatenate([My.sum(axis=0), (t[:, None] * My).sum(axis=0)])
        x = np.linalg.solve(A + 1e-9 * np.eye(6), rhs)
        fit = x[:3] + t[:, None] * x[3:]
        residual = np.linalg.norm(np.einsum("nij,nj->ni", across, y - fit), axis=1)
        updated = np.where(residual < c, (1.0 - (residual / c) ** 2) ** 2, 0.0)
        if updated.sum() < 3:  # too few readings agree: keep the last weights
            break
        settled = np.abs(updated - robust).max() < 1e-3
        robust = updated
        if settled:
            break
    return fit - drop, residual, robust


def _trimmed(residual: np.ndarray, limit: float) -> tuple[int, int]:
    """[first, last) of the frames left once the leading and trailing runs of ``residual`` (N,) above ``limit``
    are cut off."""
    keep = np.flatnonzero(np.asarray(residual) <= limit)
    return (int(keep[0]), int(keep[-1]) + 1) if len(keep) else (0, 0)


def ballistic_root(trans: np.ndarray, rest_joints: np.ndarray, contacts: np.ndarray, weight: np.ndarray,
                   camera: np.ndarray, rate: float, seen: np.ndarray | None = None,
                   settings: FlightSettings = FlightSettings()) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """(T, 3) root translation whose pelvis follows a parabola under gravity over each flight
    (:func:`flight_spans`) the parabola explains, and the [start, end) frames so carried.

    ``trans`` (T, 3), ``rest_joints``: the cleaned take in its grounded (Z-up, metres) world; ``weight`` (T,)
    0..1: how far each frame's root may move to the parabola (0 where a planted foot holds the root, fading in
    beyond: 1 - ``cleanup.near_contacts``); ``camera`` (3,): the camera's centre in that world.

    A run of frames at a span's start or end that the parabola misses by more than ``settings.trim`` is no
    flight (a landing the contacts missed: the body is on the ground already) and keeps its root; the
    parabola is fitted again without it and eased in over ``settings.ease`` frames from the cut."""
    trans = np.asarray(trans, np.float64)
    out = trans.copy()
    pelvis = np.asarray(rest_joints, np.float64)[0] + trans
    camera = np.asarray(camera, np.float64)
    carried = []
    for start, end in flight_spans(contacts, rate, seen, settings):
        for cut in (False, True):  # once as found, once more without the ends it misses, if any
            # The take-off's and the landing's frames join the fit with their depth in full (the planted feet set
            # it): the flight's path runs between them.
            before, after = int(contacts[start - 1].any()), int(contacts[end].any())
            fitted = np.arange(start - before, end + after)
            anchored = np.zeros(len(fitted), bool)
            anchored[:before], anchored[len(fitted) - after:] = True, True
            sight = pelvis[fitted] - camera
            sight /= np.maximum(np.linalg.norm(sight, axis=1, keepdims=True), 1e-9)
            path, residual, robust = fit_parabola((fitted - start) / rate, pelvis[fitted], sight, settings, anchored)
            inner = slice(before, len(fitted) - after)
            frames, sight = fitted[inner], sight[inner]
            path, residual, robust, points = path[inner], residual[inner], robust[inner], pelvis[frames]
            t = (frames - start) / rate
            first, last = _trimmed(residual, settings.trim) if not cut else (0, len(frames))
            if (first, last) == (0, len(frames)) or _too_short(last - first, rate, settings):
                break
            start, end = start + first, start + last
        inliers = residual < 2.5 * settings.scale
        if (_too_short(last - first, rate, settings) or inliers.mean() < settings.min_inliers
                or np.sqrt(np.mean(residual[inliers] ** 2)) > settings.max_rms):
            continue  # the parabola does not explain the span: not a flight, or too misread to tell
        # The height must fall at g: a body held up (a bar, a partner) or turning about a centre the pelvis is
        # far from (a flip's pelvis read without its tuck) does not, and the parabola would bend it.
        fall = -2.0 * np.polyfit(t, points[:, 2], 2, w=np.sqrt(robust))[0]
        if abs(fall / GRAVITY - 1.0) > settings.gravity_tolerance:
            continue
        ease = np.ones(len(frames))
        k = np.arange(len(frames), dtype=np.float64)
        if not np.asarray(contacts[start - 1]).any():  # a cut start: ease in from it
            ease = np.minimum(ease, (k + 1.0) / (settings.ease + 1.0))
        if not np.asarray(contacts[end]).any():  # a cut end
            ease = np.minimum(ease, (len(frames) - k) / (settings.ease + 1.0))
        # Across the line of sight (the picture) the readings the parabola misses move onto it; the ones within
        # ``keep`` of it are evidence and stay. Along it the depth stays the cleanup's: the parabola's, even
        # anchored by the stances either side, put the rendered jumps' flights 5-13 cm further off the truth.
        move = path - points
        across = move - np.einsum("ni,ni->n", move, sight)[:, None] * sight
        misread = np.clip((residual - settings.keep) / settings.keep, 0.0, 1.0)
        out[frames] += (np.asarray(weight, np.float64)[frames] * ease * misread)[:, None] * across
        carried.append((start, end))
    return out, carried
