"""Planted feet: lock heels and toes during contact, with a two-bone IK on each leg.

During a contact the proxy (ankle for the heel, foot joint for the toes) is
held at one place along the floor: the median of where the fit put it over
the contact, so it does not slide. Its height follows the fit, never below its
resting height (unless the leg could reach it only by bending its knee far beyond
the fit's: below) and at most ``HOLD_RISE`` over the contact's median height: a
planted foot still rolls a little (the heel rises before the toes leave), while
the fit's own lifts of a planted foot (a toe raised 8 cm in one frame) are not
kept, and it moves at most ``HOLD_SPEED`` (the fit also sinks planted feet);
pinning the height exactly bent the legs away from the fit for nothing the
eye would call skating. Around each lock the correction
that holds the proxy (its offset from the fit at the lock's first or last
frame) fades in and out over a few frames (cosine ramps), more where the
offset is large (at most ``RAMP_STEP`` a frame): the foot moves as fitted
plus a smoothly fading offset, so a foot leaving the floor fast does not
jerk and a foot settling onto its held place does not jump. Near the lock the
legs' targets also ease onto the held place itself (``EASE_POWER``, ``EASE_REACH``):
a foot the fit still swings into its stance lands instead of arriving at speed. Outside contacts, too, a proxy that dips below the
ground level it stands over (``levels``: the box, the grass 1.8 m below it the demo's man lands on, the floor)
is lifted onto it, unless it sits far below: then it stands on lower ground no stance revealed and keeps its
fitted height (:func:`lifted_height`; with the levels the demo's landing no longer needs this). The legs then reach the targets with an analytic two-bone IK (hip and knee, the knee kept in its plane) and
the ankle turns the foot towards the toe target; the pelvis and the upper
body are left as fitted. A held heel the leg could reach only by bending its knee more than
``KNEE_SLACK_DEGREES`` beyond the fit's sinks (straight down, its foot with it) to where it can
(:func:`within_knee_reach`): where the fit holds the pelvis lower than over the rest of the stance, the
stance's held height bent the demo's straight legs to 77-98 degrees. Within a lock the sunk heel still moves at most
``HOLD_SPEED`` (:func:`paced_below`), sinking further rather than rising with the fit's knee. The paces are speeds
(m/s), turned into metres a frame at the take's rate: a 15 fps take (``--preset fast``) moves as far a second.
"""

from __future__ import annotations

import numpy as np

from ..body.mannequin import forward_kinematics
from ..rotations import matrix_to_axis_angle, rotation_between
from ..skeleton import JOINT_INDEX
from .contacts import FEET, gaussian_smooth, segments

LEGS = {
    side: tuple(JOINT_INDEX[f"{side}_{j}"] for j in ("hip", "knee", "ankle", "foot"))
    for side in ("left", "right")
}


RAMP_STEP = 0.01
"""Metres; the most a ramp into or out of a lock moves its proxy per frame (beyond the fit's own
movement). A ramp of ``blend_frames`` that would move it more is made longer: a correction of 5 cm
over the default 4 frames stepped 2.4 cm in one frame, which reads as a planted foot jumping."""


LIFT_FULL = 0.15
"""Metres; a proxy this far below its resting height above the floor, or less, is lifted onto the floor ..."""
LIFT_NONE = 0.3
"""... and one this far below, or more, stands on lower ground and keeps its height (in between the lift fades).
The root's anchoring draws the same line (``root.AnchorSettings.support_tolerance``). Lifting a foot that
landed 1.8 m below the floor found on a box pointed the legs straight up from the pelvis (issue 16)."""


HOLD_RISE = 0.01
"""Metres; the most a planted proxy rises over its contact's median height. The fit's own rises inside a
stance (on a rendered walk it lifted a planted toe 8 cm a frame) are its errors; holding the height
exactly bent the legs more than it helped (offset-free PA-MPJPE 2-4 mm worse on the jumps)."""


def lifted_height(z: np.ndarray, rest_height: np.ndarray | float, ground: np.ndarray | float = 0.0) -> np.ndarray:
    """Heights ``z`` of proxies whose resting height above the ground is ``rest_height``, lifted out of the
    ground they stand over (``ground``: metres, scalar or per frame, ``levels``; 0: the floor):
    fully for a dip up to ``LIFT_FULL``, not at all from ``LIFT_NONE`` on, continuously in between."""
    z = np.asarray(z, np.float64)
    dip = np.asarray(ground, np.float64) + np.asarray(rest_height, np.float64) - z
    fade = np.clip((LIFT_NONE - dip) / (LIFT_NONE - LIFT_FULL), 0.0, 1.0)
    return z + np.where(dip <= LIFT_FULL, np.maximum(dip, 0.0), LIFT_FULL * fade)


def ramp_frames(offset: float, blend_frames: int, step: float = RAMP_STEP) -> int:
    """Frames of a cosine ramp carrying ``offset`` metres: at least ``blend_frames``, and enough that
    its steepest frame (pi / 2 * offset / (frames + 1)) moves at most ``step``."""
    return max(blend_frames, int(np.ceil(0.5 * np.pi * offset / step)) - 1)


def _cos_ramp(k: np.ndarray, blend: int) -> np.ndarray:
    """Weight k frames away from a lock: 1 at 0, falling smoothly to 0 at blend + 1."""
    return 0.5 * (1.0 + np.cos(np.pi * np.clip(k / (blend + 1.0), 0.0, 1.0)))


EASE_POWER = 4
"""How the ramps ease a foot towards its held place: a ramp frame of weight w moves the proxy w ** EASE_POWER
of the way from carrying the lock's edge correction to the held place itself (at most ``EASE_REACH`` more)."""
EASE_REACH = 0.08
"""Metres; the most easing moves a ramp frame beyond the edge correction. A foot the fit still swings
45 mm a frame into its stance (the truth already planted) jumped there by that much; easing it onto its
place lands it in steps of under 20 mm, and the reach keeps a fast swing from bending the leg."""


HOLD_SPEED = 0.3
"""Metres a second (10 mm a frame at 30 fps); the most a planted proxy's height moves. Below ``HOLD_RISE`` its height follows
the fit (a planted foot rolls), but the fit also sank a planted foot on the demo's box 4 cm a frame."""


def steady_heights(z: np.ndarray, step: float) -> np.ndarray:
    """(n,) heights ``z`` of one lock, moving at most ``step`` a frame: the mean of the paths that follow
    ``z`` at that pace forwards and backwards (so neither end lags), each starting on ``z``."""
    z = np.asarray(z, np.float64)
    paths = []
    for seq in (z, z[::-1]):
        out = seq.copy()
        for k in range(1, len(out)):
            out[k] = np.clip(seq[k], out[k - 1] - step, out[k - 1] + step)
        paths.append(out)
    return 0.5 * (paths[0] + paths[1][::-1])


def paced_below(z: np.ndarray, step: float) -> np.ndarray:
    """(n,) the highest heights at or below ``z`` (n,) that move at most ``step`` a frame: a held heel that
    must sink at least to ``z`` (:func:`within_knee_reach`) without jumping."""
    out = np.asarray(z, np.float64).copy()
    for k in range(1, len(out)):
        out[k] = min(out[k], out[k - 1] + step)
    for k in range(len(out) - 2, -1, -1):
        out[k] = min(out[k], out[k + 1] + step)
    return out


def paced_above(need: np.ndarray, z: np.ndarray, step: float, ahead: np.ndarray | None = None,
                within: np.ndarray | None = None, beyond: float = np.inf) -> np.ndarray:
    """(n,) the lowest heights at or above ``need`` (n,) that move in each frame at most as far as heights ``z`` (n,)
    do, or ``step`` where that is more: a held foot that must rise at least to ``need`` (:func:`within_leg_reach`)
    without jumping, and that moves as the lock has it wherever it need not. ``ahead`` (n,, at most ``need``;
    None: ``need``): the heights later frames make earlier ones rise towards (a take-off's whole need would lift
    the stance before it for many frames). Earlier frames carry ``need`` whole on to later ones within the runs of
    ``within`` (n,) bool (None: everywhere), and at most ``beyond`` metres over ``z`` outside them: a foot that
    took off 30 cm above its place does not settle for 40 frames in the air."""
    need = np.asarray(need, np.float64)
    z = np.asarray(z, np.float64)
    allowed = np.maximum(np.abs(np.diff(z)), step)
    carry = np.ones(len(need), bool) if within is None else np.asarray(within, bool)
    after = need.copy()  # what earlier frames carry on
    for k in range(1, len(after)):
        carried = after[k - 1] - allowed[k - 1]
        after[k] = max(after[k], carried if carry[k] else min(carried, z[k] + beyond))
    before = (need if ahead is None else np.asarray(ahead, np.float64)).copy()  # what later frames make rise
    for k in range(len(before) - 2, -1, -1):
        before[k] = max(before[k], before[k + 1] - allowed[k])
    return np.maximum(after, before)


def _to_place(place: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(n, 3) the way from fitted proxy ``points`` (n, 3) to their held ``place`` (3,): along the floor all
    of it; in height it rises at most ``HOLD_RISE`` over the place (the fit lifted a planted toe 8 cm in
    one frame; sinking is :func:`lifted_height`'s)."""
    held = place - points
    held[:, 2] = np.minimum(0.0, held[:, 2] + HOLD_RISE)
    return held


def _eased(offset: np.ndarray, to_place: np.ndarray, w: np.ndarray, ramp: np.ndarray) -> np.ndarray:
    """(n, 3) ramp offsets eased towards the held place: ``offset`` the lock's edge correction carried,
    ``to_place`` the way from the fitted proxy to its held place (:func:`_to_place`), ``w`` (n,) the ramp's
    weights, ``ramp`` (n,) which frames are ramp frames (the lock's own keep ``offset``)."""
    extra = to_place - offset
    size = np.linalg.norm(extra, axis=1, keepdims=True)
    extra *= np.minimum(1.0, EASE_REACH / np.maximum(size, 1e-9)) * (w[:, None] ** EASE_POWER)
    return np.where(ramp[:, None], offset + extra, offset)


def proxy_targets(points: np.ndarray, contacts: np.ndarray, rest_height: np.ndarray,
                  blend_frames: int = 4, support: np.ndarray | None = None, ease: bool = False,
                  rate: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """Where each proxy should be: (T, P, 3) targets for (T, P, 3) Z-up proxy positions,
    and (T, P) how strongly each is held (1 in contact, ramps around it, 0 free).

    ``rest_height`` (P,): each proxy's height above the sole when it stands on
    the floor (Z = 0); ``support`` (T, P): the height of the ground each proxy
    stands over (``levels``; None: the floor, 0). ``ease``: the ramps ease each proxy onto its held place
    (:func:`_eased`) instead of carrying the lock's edge correction alone. ``rate``: the take's frames a second
    (held heights move at most ``HOLD_SPEED``).
    """
    T, P, _ = points.shape
    weights = np.zeros((T, P))
    targets = points.astype(np.float64).copy()
    for p in range(P):
        total = np.zeros(T)
        applied = np.zeros((T, 3))
        runs = segments(contacts[:, p])
        for k, (s, e) in enumerate(runs):
            place = np.median(points[s:e, p], axis=0)  # held at its median place (:func:`_to_place`)
            held = _to_place(place, points[s:e, p])
            held[:, 2] = steady_heights(points[s:e, p, 2] + held[:, 2], HOLD_SPEED / rate) - points[s:e, p, 2]
            # The lock itself, then ramps carrying its first / last correction, each long enough for it,
            # but ending before the proxy's neighbouring locks: a ramp reaching into another lock pulled
            # it off its place, and taking over from that lock's ramp moved a foot 40 cm in one frame.
            gap_before = s - runs[k - 1][1] if k > 0 else T
            gap_after = runs[k + 1][0] - e if k + 1 < len(runs) else T
            before = min(ramp_frames(float(np.linalg.norm(held[0])), blend_frames), gap_before)
            after = min(ramp_frames(float(np.linalg.norm(held[-1])), blend_frames), gap_after)
            frames = np.arange(max(0, s - before), min(T, e + after))
            distance = np.where(frames < s, s - frames, np.where(frames >= e, frames - e + 1, 0))
            offset = held[np.clip(frames - s, 0, e - s - 1)]
            w = np.where(frames < s, _cos_ramp(distance.astype(np.float64), before),
                         _cos_ramp(distance.astype(np.float64), after))
            if ease:
                offset = _eased(offset, _to_place(place, points[frames, p]), w, (frames < s) | (frames >= e))
            total[frames] += w
            applied[frames] += w[:, None] * offset
        # Where the ramps out of one lock and into the next overlap they are blended: their weighted
        # mean, at full strength once the weights add up to 1, so the held place crossfades smoothly.
        weight = np.minimum(total, 1.0)
        targets[:, p] += applied / np.maximum(total, 1.0)[:, None]
        ground = 0.0 if support is None else support[:, p]
        targets[:, p, 2] = lifted_height(targets[:, p, 2], rest_height[p], ground)  # not below its ground
        weights[:, p] = weight
    return targets, weights


ACROSS_RAY_LIMIT = 0.08
"""Metres; the most the root's shift moves the body across the camera's line of sight (along the floor,
square to the horizontal ray from the camera to the pelvis). Across that line the picture places the pelvis;
what a held foot needs beyond this is the legs' (the IK), not the whole body's. On cross_two (a walker
crossing behind another) a foot the fit slid sideways carried him 20-54 cm off himself in the picture
(frames 74-80, 112-119); at 8 cm he stays on himself, and the tilted set's figures are unchanged within
0.2 mm (3 cm: offset-free PA-MPJPE 46.2 -> 46.4 mm, the legs reaching what the root no longer carries)."""
ACROSS_RAY_PIXELS = 2.0
"""The same limit in the picture: the shift across the line of sight moves the pelvis at most this many pixels
(``focal`` given), about the hip landmarks' own jitter. 8 cm is 19 px at the demo's 6.4 m (focal 1531 px): the
man on the box was carried that far off himself while his feet were held, his hips and legs 10-20 px off their
landmarks on frames 95-135 where the fit had them within 4-7 px."""


def along_ray(shift: np.ndarray, pelvis: np.ndarray, camera: np.ndarray, limit: float = ACROSS_RAY_LIMIT,
              focal: float | None = None) -> np.ndarray:
    """(T, 2) ``shift`` (T, 2, along the floor) with its part across the camera's line of sight clamped to
    ``limit`` metres, and, with the camera's ``focal`` length in pixels, to ``ACROSS_RAY_PIXELS`` at the
    pelvis's distance: the horizontal ray runs from ``camera`` (3,) to each frame's ``pelvis`` (T, 3)."""
    ray = pelvis[:, :2] - camera[None, :2]
    norm = np.linalg.norm(ray, axis=1, keepdims=True)
    ray = np.where(norm > 1e-6, ray / np.maximum(norm, 1e-6), 0.0)
    along = (shift * ray).sum(axis=1, keepdims=True) * ray
    across = shift - along
    size = np.linalg.norm(across, axis=1, keepdims=True)
    if focal is not None:
        distance = np.linalg.norm(pelvis - camera[None], axis=1, keepdims=True)
        limit = np.minimum(limit, ACROSS_RAY_PIXELS * distance / focal)
    return along + across * np.minimum(1.0, limit / np.maximum(size, 1e-9))


def root_shift(points: np.ndarray, targets: np.ndarray, weights: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """(T, 2) horizontal root correction that carries held feet to their targets.

    In video mocap a planted foot slides mostly because the whole body
    drifts (depth is the least certain direction of a monocular fit), not
    because the legs are wrong: moving the root by the weighted mean offset of
    the held proxies plants them without bending any joint. Frames with no
    contact take the correction interpolated from their neighbours; a light
    Gaussian (``sigma`` frames) keeps switches of stance from jerking.
    """
    T = points.shape[0]
    total = weights.sum(axis=1)
    offset = (weights[..., None] * (targets[..., :2] - points[..., :2])).sum(axis=1)
    held = total > 1e-6
    if not held.any():
        return np.zeros((T, 2))
    offset[held] /= total[held, None]
    frames = np.arange(T)
    shift = np.stack([np.interp(frames, frames[held], offset[held, k]) for k in range(2)], axis=1)
    if sigma > 0 and T > 2:
        shift = gaussian_smooth(shift, sigma)
    return shift


KNEE_FORWARD_BIAS = 0.02
"""Metres of the pelvis's forward axis added to the knee's bend direction.

A nearly straight leg has no bend plane of its own; switching to the forward
axis below a threshold made the knee jump. Added as a small bias, the
fitted bend rules a bent knee and the forward axis a straight one, smoothly."""


def solve_legs(poses: np.ndarray, rest_joints: np.ndarray, trans: np.ndarray,
               heel_targets: dict[str, np.ndarray], toe_targets: dict[str, np.ndarray]) -> np.ndarray:
    """Return poses (T, 165) with hip, knee and ankle rotations changed so each
    ankle reaches its heel target and each foot points at its toe target.

    Targets are (T, 3) positions in the motion's world frame; frames where a
    leg's targets equal its current positions are left exactly as they were.
    """
    poses = np.asarray(poses, np.float64).reshape(len(poses), -1, 3).copy()
    pos, rot = forward_kinematics(poses, rest_joints, trans)
    rest = np.asarray(rest_joints, np.float64)
    for side, (hip, knee, ankle, foot) in LEGS.items():
        H, K, A, F = pos[:, hip], pos[:, knee], pos[:, ankle], pos[:, foot]
        A_star = heel_targets[side]
        T_star = toe_targets[side]
        move = (np.linalg.norm(A_star - A, axis=1) > 1e-6) | (np.linalg.norm((T_star - A_star) - (F - A), axis=1) > 1e-6)
        if not move.any():
            continue
        idx = np.flatnonzero(move)
        H, K, A, F, A_star, T_star = (x[idx] for x in (H, K, A, F, A_star, T_star))
        l1 = np.linalg.norm(rest[knee] - rest[hip])
        l2 = np.linalg.norm(rest[ankle] - rest[knee])
        to = A_star - H
        d = np.clip(np.linalg.norm(to, axis=1), abs(l1 - l2) + 1e-4, l1 + l2 - 1e-4)
        u = to / np.maximum(np.linalg.norm(to, axis=1, keepdims=True), 1e-9)
        pole = (K - H) - np.sum((K - H) * u, axis=1, keepdims=True) * u
        # A straight leg has no bend plane: the pelvis's forward axis decides (KNEE_FORWARD_BIAS).
        forward = rot[idx, 0][:, :, 2]
        forward = forward - np.sum(forward * u, axis=1, keepdims=True) * u
        forward /= np.maximum(np.linalg.norm(forward, axis=1, keepdims=True), 1e-9)
        pole = pole + KNEE_FORWARD_BIAS * forward
        pole /= np.maximum(np.linalg.norm(pole, axis=1, keepdims=True), 1e-9)
        a = (l1**2 - l2**2 + d**2) / (2 * d)
        h = np.sqrt(np.maximum(l1**2 - a**2, 0.0))
        K_star = H + a[:, None] * u + h[:, None] * pole
        reach = H + d[:, None] * u
        G_pelvis = rot[idx, 0]
        Q1 = rotation_between(K - H, K_star - H)
        G_hip = Q1 @ rot[idx, hip]
        Q2 = rotation_between(np.einsum("nij,nj->ni", Q1, A - K), reach - K_star)
        G_knee = Q2 @ Q1 @ rot[idx, knee]
        Q3 = rotation_between(F - A, T_star - A_star)
        G_ankle = Q3 @ rot[idx, ankle]
        local_hip = np.swapaxes(G_pelvis, 1, 2) @ G_hip
        local_knee = np.swapaxes(G_hip, 1, 2) @ G_knee
        local_ankle = np.swapaxes(G_knee, 1, 2) @ G_ankle
        poses[idx, hip] = matrix_to_axis_angle(local_hip)
        poses[idx, knee] = matrix_to_axis_angle(local_knee)
        poses[idx, ankle] = matrix_to_axis_angle(local_ankle)
    return poses.reshape(len(poses), -1)


def toe_pivots(toe: np.ndarray, heel_locked: np.ndarray, toe_locked: np.ndarray) -> np.ndarray:
    """(T, 3) the point a foot's heel turns about: its toe's target ``toe`` (T, 3), except while the heel
    stays locked (``heel_locked`` (T,) bool) after a toe lock (``toe_locked``) ended under it, or before
    one starts under it: there the place that lock holds the toe. Turned about a toe its ramp carries
    off, a locked heel followed it out of the toe's lock (38 mm a frame on a rendered walk, 10 cm on the
    demo's box); turned about a toe its ramp brings in, it followed the fit's swinging toe into the lock
    (44-54 mm a frame on the rendered walk, a heel the truth had planted)."""
    pivot = np.asarray(toe, np.float64).copy()
    # Runs of the heel locked without its toe: those just after a toe lock or just before one pivot on its place.
    alone = segments(np.asarray(heel_locked, bool) & ~np.asarray(toe_locked, bool))
    starting, ending = dict(alone), {e: s for s, e in alone}
    for s, e in segments(toe_locked):
        if heel_locked[e - 1] and e in starting:
            pivot[e:starting[e]] = pivot[e - 1]
        if heel_locked[s] and s in ending:
            pivot[ending[s]:s] = pivot[s]
    return pivot


TOE_OFF_FRAMES = 15
"""Frames; the most a toe's contact may end before its heel's and still be locked on to the heel's end."""


def toe_off_last(contacts: np.ndarray, max_frames: int = TOE_OFF_FRAMES) -> np.ndarray:
    """(T, 4) contacts (``floor.PROXIES`` order) whose toes stay planted until their heel leaves: a toe
    contact that ends at most ``max_frames`` frames before the end of the heel's contact it lies in is
    carried on to that end. A foot leaves the ground toes last (toe-off, in a walk and a take-off alike);
    a fit that turns the standing foot ended the toe's contact 10 frames early on a rendered walk, and
    the free toe, turned about the locked heel and then carried off by its ramp, stepped 45 mm in one
    frame on a foot the truth had planted. Only the legs' lock uses this: the root's anchors and its
    shift stand on the contacts as found (following these toes too, the rendered walk's root error
    rose 208 -> 244 mm, its W-MPJPE 220 -> 242)."""
    out = np.asarray(contacts, bool).copy()
    if out.shape[1] != 4:
        return out
    for heel, toe in FEET:
        for s, e in segments(out[:, heel]):
            planted = np.flatnonzero(out[s:e, toe])
            if planted.size and e - (s + planted[-1] + 1) <= max_frames:
                out[s + planted[-1]:e, toe] = True
    return out


PEEL_STEP = 0.0175
"""Metres; the most a free heel moves in one frame while its toe stays locked (beyond the fit's own
movement once the toe leaves, :func:`peel_limited`). A foot peels off the ground about its toes, a
heel rising at about 0.5 m/s (at 30 frames/s) until the toes leave; the fit lifted a heel the truth had
planted 65-75 mm a frame on a rendered walk (its landmark glitched 24 px; 51 mm on a held-out boxing take).
The limit bends the leg away from the fit where a heel does lift that fast: 0.2 mm of offset-free
PA-MPJPE on the tilted clips, 3.5 mm of W-MPJPE on the boxing take (20 mm a frame left a 20.0 mm jump)."""


REPLANT_FADE = 0.5
"""The slowest share of ``PEEL_STEP`` a frame at which the lag a peel left fades out where the heel stands again
before its toe leaves (its next lock starts where the peel ends; :func:`peel_limited`). The fade there slides a
planted heel, and the lock turns that heel about its toe's held place onto the foot's length: a held place nearer
the toe than that moves it length / distance times as far, so the fade is that much slower (at least this share).
On val_cmu_01_01b a heel turned about its toe stood again 8 cm from the toe's place (a 14 cm foot) and slid 21 mm
a frame into its new stance. Making the lag up on the free frames instead gained on the balanced held-out clips,
but at 15 fps (``--preset fast``) val_boxing_late's heel stood two frames longer than its contact said and stepped
29 mm a frame (12 before); halving every such fade cost boxing 0.4 mm of offset-free PA-MPJPE."""


def peeling(heel_locked: np.ndarray, toe_locked: np.ndarray) -> np.ndarray:
    """(T,) bool the frames a heel peels off its toe: free (``heel_locked`` (T,) False) while the toe stays
    locked (``toe_locked``), from the end of the heel's own lock on. A heel that was not planted before
    (a boxer on his toes) is not peeling off: it bobs as the fit has it."""
    frames = toe_locked & ~heel_locked
    out = np.zeros_like(frames)
    for s, e in segments(frames):
        if s > 0 and heel_locked[s - 1]:
            out[s:e] = True
    return out


def peel_limited(heel: np.ndarray, peeling: np.ndarray, blend_frames: int, step: float = PEEL_STEP,
                 replanted: np.ndarray | None = None, pace_after: np.ndarray | None = None) -> np.ndarray:
    """(T, 3) heel targets ``heel`` (T, 3) moving at most ``step`` a frame on the frames of ``peeling``
    (T,) bool (the toe locked, the heel free); where such a run ends, the lag it left fades out
    over a cosine ramp long enough that it moves at most ``step`` a frame (:func:`ramp_frames`).
    Where the heel stands again as the run ends (``replanted`` (T,) bool, the heel's locks; None: nowhere), the
    lag fades out over its new stance at most ``pace_after[e] * step`` a frame (``pace_after`` (T,) shares of
    ``step``, those of the stance's first frame; None: ``REPLANT_FADE``)."""
    out = np.asarray(heel, np.float64).copy()
    T = len(out)
    for s, e in segments(peeling):
        for t in range(max(s, 1), e):
            move = out[t] - out[t - 1]
            size = float(np.linalg.norm(move))
            if size > step:
                out[t] = out[t - 1] + move * (step / size)
        lag = out[e - 1] - heel[e - 1]
        stands = replanted is not None and e < T and bool(replanted[e])  # the heel's next lock starts here
        pace = (REPLANT_FADE if pace_after is None else float(pace_after[e])) if stands else 1.0
        n = ramp_frames(float(np.linalg.norm(lag)), blend_frames, step * pace)
        frames = np.arange(e, min(T, e + n))
        out[frames] += _cos_ramp((frames - e + 1).astype(np.float64), n)[:, None] * lag
    return out


def _about_pivot(heel: np.ndarray, pivot: np.ndarray, length: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(n, 3) heel targets moved, by weight ``w`` (n, 1), onto the sphere of radius ``length`` (n, 1) about
    the toe's ``pivot`` (n, 3), along their direction from it."""
    reach = heel - pivot
    reach *= length / np.maximum(np.linalg.norm(reach, axis=1, keepdims=True), 1e-9)
    return (1.0 - w) * heel + w * (pivot + reach)


KNEE_SLACK_DEGREES = 15.0
"""Degrees; the most the lock bends a knee beyond the fit's own bend (or beyond ``KNEE_CAP_DEGREES``
where the fit's leg is straighter) to reach a held heel; a heel it cannot reach so sinks instead
(:func:`within_knee_reach`). The demo's man, standing on his box (the fit's knees 100-137
degrees, his own straighter), was bent to 77-98 degrees on his first frames to reach heels held at his stance's median height,
taken from frames where the fit holds his pelvis higher. On the tilted clips (offset-free PA-MPJPE mean,
W-MPJPE mean, largest planted jump per clip; without the limit 46.4, 197.2, 17.1 / 48.6 / 7.9 / 10.0 /
17.8 mm): 15 degrees 46.2, 196.9, 17.1 / 41.7 / 9.1 / 13.4 / 17.8; 10 degrees 46.0, 196.7 but the studio
jumps' planted jump 20.5 mm (the sink follows the fit's knee frame by frame); 0 degrees, a rendered walk's
W-MPJPE 7 mm worse."""

KNEE_CAP_DEGREES = 150.0
"""Degrees; a fitted knee straighter than this counts as bent this far for ``KNEE_SLACK_DEGREES``: near a
straight leg a degree is well under a millimetre of reach, and a slack measured from the fit's own angle
there sank planted heels by the fit's frame-to-frame noise (a test's synthetic walk: planted steps of 38 mm)."""


def within_knee_reach(heel: np.ndarray, hip: np.ndarray, ankle: np.ndarray, thigh: float, shin: float,
                      slack_degrees: float | None = None) -> np.ndarray:
    """(T,) how far (metres, >= 0) each heel target ``heel`` (T, 3) must sink for the leg from ``hip`` (T, 3)
    to reach it with its knee bent at most ``slack_degrees`` (None: ``KNEE_SLACK_DEGREES``) more than the
    fit's (its ankle at ``ankle`` (T, 3); at most ``KNEE_CAP_DEGREES`` counted); ``thigh``, ``shin``: the
    leg's bone lengths. Straight down only, so the heel keeps its place along the floor (no skate); a target
    above the hip, or one already within reach, does not move."""
    over = heel[:, 2] - knee_ceiling(hip, ankle, heel, thigh, shin, slack_degrees)
    return np.where(hip[:, 2] >= heel[:, 2], np.maximum(over, 0.0), 0.0)


REACH_SPEED = 0.24
"""Metres a second (8 mm a frame at 30 fps); the most a planted foot the leg cannot reach rises or settles beyond the lock's own
moves (:func:`within_leg_reach`). The demo's man landed on his box with his held feet 9-12 cm below what his
legs reached: they hung from his straight legs and dropped 25-46 mm a frame as his pelvis came down, and his
right toe rose 48 mm in one frame at the flip's take-off (the largest planted step 51.6 mm; 19.9 mm with this).
At 6 mm a frame the rendered walk's feet settled slower than they do (PA-MPJPE +1 mm); at 12 mm planted steps of 13 mm
where the lock's own were 9."""
REACH_KNEE_DEGREES = 25.0
"""Degrees; the most a foot rising ahead of a need (``REACH_AHEAD``) bends the knee beyond the fit's (counted as
``KNEE_SLACK_DEGREES``, which it exceeds by 10: at 15 the rise stopped short and the rendered studio jumps stepped
26 mm where a planted foot took off, 10 mm without a limit)."""
REACH_AHEAD = 0.05
"""Metres; the most a foot rises ahead of a frame that needs it (towards a take-off). A take-off a stance ends
late needs 27-30 cm on the rendered studio jumps: rising ahead of it all lifted the stance for 40 frames
(PA-MPJPE 73.8 -> 87 mm). Behind a landing the whole rise settles (the demo's 12 cm)."""


def within_leg_reach(heel: np.ndarray, hip: np.ndarray, leg: float, margin: float = 0.002) -> np.ndarray:
    """(T,) the lowest height each heel target ``heel`` (T, 3) may have for the leg from ``hip`` (T, 3), ``leg``
    metres long (thigh and shin), to reach it at its place along the floor (``margin`` short of straight).
    A target below it the IK cannot reach: the straight leg leaves the foot hanging from the hip and moving
    with it (the demo: held feet arriving 11 cm above their place, then dropping 4 cm a frame as the pelvis
    came down; lifted 4.8 cm in one frame at the flip's take-off as it went up)."""
    along = np.linalg.norm((heel - hip)[:, :2], axis=1)
    lowest = hip[:, 2] - np.sqrt(np.maximum((leg - margin) ** 2 - along**2, 0.0))
    return np.where(along < leg - margin, lowest, -np.inf)  # out of reach along the floor: rising does not help


def knee_ceiling(hip: np.ndarray, ankle: np.ndarray, heel: np.ndarray, thigh: float, shin: float,
                 slack_degrees: float | None = None) -> np.ndarray:
    """(T,) the highest each heel target ``heel`` (T, 3) may stand at its place along the floor for the leg from
    ``hip`` (T, 3) to reach it with its knee bent at most ``slack_degrees`` (None: ``KNEE_SLACK_DEGREES``) beyond the
    fit's (its ankle at ``ankle`` (T, 3); at most ``KNEE_CAP_DEGREES`` counted); +inf where no height bends it that
    far. :func:`within_knee_reach` sinks heels below it; a foot rising out of the leg's reach stays below it."""
    slack = np.radians(KNEE_SLACK_DEGREES if slack_degrees is None else slack_degrees)
    fitted = np.linalg.norm(ankle - hip, axis=1)
    fitted_angle = np.arccos(np.clip((thigh**2 + shin**2 - fitted**2) / (2 * thigh * shin), -1.0, 1.0))
    least = np.maximum(np.minimum(fitted_angle, np.radians(KNEE_CAP_DEGREES)) - slack, 0.0)  # the knee's least angle
    shortest = np.sqrt(thigh**2 + shin**2 - 2 * thigh * shin * np.cos(least))  # the least hip-to-heel distance
    along = np.linalg.norm((heel - hip)[:, :2], axis=1)
    depth = np.sqrt(np.maximum(shortest**2 - along**2, 0.0))  # how far below the hip it reaches that distance
    return np.where(along < shortest, hip[:, 2] - depth, np.inf)


def leg_bones(rest_joints: np.ndarray, side: str) -> tuple[float, float]:
    """(thigh, shin) lengths in metres of the ``side`` ("left" / "right") leg of ``rest_joints`` (55, 3)."""
    rest = np.asarray(rest_joints, np.float64)
    hip, knee, ankle, _ = LEGS[side]
    return float(np.linalg.norm(rest[knee] - rest[hip])), float(np.linalg.norm(rest[ankle] - rest[knee]))


def lock_feet(poses: np.ndarray, rest_joints: np.ndarray, trans: np.ndarray, contacts: np.ndarray,
              rest_height: np.ndarray, blend_frames: int = 4, support: np.ndarray | None = None,
              move_root: bool = True, camera: np.ndarray | None = None,
              focal: float | None = None, rate: float = 30.0,
              hold: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(poses (T, 165), trans (T, 3)) with feet planted during ``contacts`` (T, 4) (the legs hold a toe
    until its heel leaves, :func:`toe_off_last`), out of the ground each stands over (``support`` (T, 4) metres,
    ``levels``; None: the floor, Z = 0).

    First the root is shifted along the floor so held feet stay put
    (:func:`root_shift`), then the legs reach what is left with the two-bone
    IK; free feet move with the shifted body (their legs keep the fitted pose). ``move_root`` False leaves the
    root where the fit put it (several cameras measured it) and the legs alone plant the feet. ``camera`` (its
    centre) and ``focal`` (pixels) limit the root's shift across the camera's line of sight (:func:`along_ray`).
    ``rate``: the take's frames a second (the paces ``HOLD_SPEED`` and ``REACH_SPEED`` are speeds).
    ``hold`` (T,) 0..1: how much of their corrections the legs take on each frame (None: all of it, everywhere);
    on the rest they keep the fitted pose (carried by the root's shift), out of the ground they stand over
    (:func:`legs_held`).
    Proxies are ordered left heel, left toe, right heel, right toe (see
    ``floor.PROXIES``); the world must be Z-up with the floor at Z = 0.
    """
    from .floor import PROXY_INDEX

    pos, _ = forward_kinematics(poses, rest_joints, trans)
    points = pos[:, PROXY_INDEX]
    trans = np.asarray(trans, np.float64).copy()
    shift = (root_shift(points, *proxy_targets(points, contacts, rest_height, blend_frames, support, rate=rate))
             if move_root
             else np.zeros((len(points), 2)))
    if camera is not None:
        shift = along_ray(shift, pos[:, 0], np.asarray(camera, np.float64), focal=focal)
    # The legs ease into and out of each lock (the root's shift above carries whole offsets only), and hold
    # toes until their heels leave (:func:`toe_off_last`; the root's shift does not follow those toes).
    contacts = toe_off_last(contacts)
    targets, weights = proxy_targets(points, contacts, rest_height, blend_frames, support, ease=True, rate=rate)
    hold_step, reach_step = HOLD_SPEED / rate, REACH_SPEED / rate  # metres a frame
    trans[:, :2] += shift
    points = points.copy()
    points[..., :2] += shift[:, None, :]
    # Held proxies keep their place on the floor; free ones move with the shifted body
    # (``targets`` is this function's own array from proxy_targets).
    targets[..., :2] += (1.0 - weights[..., None]) * shift[:, None, :]
    heel, toe = {}, {}
    for side, (h, t) in zip(("left", "right"), FEET):
        A, F = points[:, h], points[:, t]
        A_star = targets[:, h].copy()
        # A toe that is held while the heel is free drags the whole foot with it; one held while the
        # heel is held too (or eases in or out of its lock) keeps its place: the heel's target turns
        # about it (:func:`toe_pivots`) to the foot's length from it (else turning the foot towards the
        # toe misses it). Both blend with the weights, so nothing jumps where a lock starts or ends.
        held_toe = weights[:, t] > 0
        if held_toe.any():
            pivot = toe_pivots(targets[:, t], contacts[:, h], contacts[:, t])
            length = np.linalg.norm(F - A, axis=1, keepdims=True)
            w = weights[:, t][:, None]
            A_star[held_toe] += (1.0 - weights[held_toe, h])[:, None] * (targets[held_toe, t] - F[held_toe])
            A_star[held_toe] = _about_pivot(A_star[held_toe], pivot[held_toe], length[held_toe], w[held_toe])
            # Heels peel off slowly; kept at the foot's length from the toe (else the toe dips into the floor).
            peel = peeling(contacts[:, h], contacts[:, t])
            # Turned about the toe's place, a heel target nearer to it than the foot's length moves length / distance
            # times as far: the lag fades that much slower into the heel's next lock.
            near = np.linalg.norm(targets[:, h] - pivot, axis=1) / np.maximum(length[:, 0], 1e-9)
            limited = peel_limited(A_star, peel, blend_frames, replanted=contacts[:, h],
                                   pace_after=np.clip(near, REPLANT_FADE, 1.0))
            moved = held_toe & (np.linalg.norm(limited - A_star, axis=1) > 0)  # the peel's frames and its lag's fade
            A_star = limited
            A_star[moved] = _about_pivot(A_star[moved], pivot[moved], length[moved], w[moved])
        A_star[:, 2] = lifted_height(A_star[:, 2], rest_height[h], 0.0 if support is None else support[:, h])
        heel[side] = A_star
        # A free toe rides along with the ankle; a held one stays where it is held
        # (the ankle turns the foot towards it: the leg is not bent for the toes).
        toe_free = weights[:, t] == 0
        toe[side] = targets[:, t] + np.where(toe_free[:, None], A_star - A, 0.0)
    # A held foot sinks where reaching it would bend the knee far beyond the fit's (:func:`within_knee_reach`).
    for side, (h, t) in zip(("left", "right"), FEET):
        hip = pos[:, LEGS[side][0]] + np.pad(shift, ((0, 0), (0, 1)))  # where the root's shift took it
        bones = leg_bones(rest_joints, side)
        sink = within_knee_reach(heel[side], hip, points[:, h], *bones)
        heel[side][:, 2] -= sink
        # A free toe rides down with its heel; a held one keeps its place (sinking it by the heel's frame-varying
        # sink would move a planted toe up and down).
        toe[side][:, 2] -= np.where(weights[:, t] == 0, sink, 0.0)
        # The sink follows the fit's knee frame by frame; within a lock the held heel still moves at most
        # ``HOLD_SPEED``, sinking further rather than rising with the knee (:func:`paced_below`): on the
        # demo's box, frames 3-5, a held heel rose 4 cm a frame out of the sink as the fit straightened the leg.
        for s, e in segments(contacts[:, h]):
            paced = paced_below(heel[side][s:e, 2], hold_step)
            toe[side][s:e, 2] += np.where(weights[s:e, t] == 0, paced - heel[side][s:e, 2], 0.0)
            heel[side][s:e, 2] = paced
        # A planted foot the leg cannot reach hangs from the straight leg and moves with the hip. Over its heel's
        # and toe's contacts the foot rises as far as the leg needs (:func:`within_leg_reach`), moving at most as
        # the lock moves it or ``REACH_SPEED`` (:func:`paced_above`): it settles onto its place after a
        # landing and lifts off it towards a take-off (by at most ``REACH_AHEAD`` ahead) instead of jumping.
        z = heel[side][:, 2]
        planted = contacts[:, h] | contacts[:, t]
        lowest = within_leg_reach(heel[side], hip, sum(bones))
        need = np.where(planted, np.maximum(lowest - z, 0.0), 0.0)
        rise = paced_above(z + need, z, reach_step, z + np.minimum(need, REACH_AHEAD), planted, REACH_AHEAD) - z
        # Rising ahead of a need bends the knee at most ``REACH_KNEE_DEGREES`` beyond the fit's (where the fit holds
        # the pelvis low just before, feet rising ahead bent the knees 30 degrees more); settling may bend it more.
        settle = paced_above(z + need, z, reach_step, z, planted, REACH_AHEAD) - z
        ceiling = knee_ceiling(hip, points[:, h], heel[side], *bones, REACH_KNEE_DEGREES)
        rise = np.maximum(settle, np.minimum(rise, np.maximum(ceiling - z, 0.0)))
        toe[side][:, 2] = paced_above(toe[side][:, 2] + rise, toe[side][:, 2], reach_step, None, planted, REACH_AHEAD)
        heel[side][:, 2] = z + rise
    if hold is not None:
        for side, (h, t) in zip(("left", "right"), FEET):
            ground = (0.0, 0.0) if support is None else (support[:, h], support[:, t])
            heel[side] = legs_held(heel[side], points[:, h], hold, rest_height[h], ground[0])
            toe[side] = legs_held(toe[side], points[:, t], hold, rest_height[t], ground[1])
    return solve_legs(poses, rest_joints, trans, heel, toe), trans


def legs_held(targets: np.ndarray, points: np.ndarray, hold: np.ndarray, rest_height: float,
              ground: np.ndarray | float = 0.0) -> np.ndarray:
    """(T, 3) a proxy's ``targets`` moved back towards its fitted ``points`` (T, 3, the root's shift included)
    where ``hold`` (T,) 0..1 is under 1 (0: all the way), then lifted out of the ground it stands over
    (:func:`lifted_height`).

    Away from planted feet (a jump's flight, a gap between detected stances) the legs are what the picture
    shows: the lock's corrections carried there by its ramps bent them off it (on the tilted set's jumps,
    flight frames' limb joints 9-14 mm further from the truth, per joint, than the fit's).
    """
    w = np.clip(np.asarray(hold, np.float64), 0.0, 1.0)
    out = points + w[:, None] * (np.asarray(targets, np.float64) - points)
    # Only where the legs return: a held heel the knee's reach sank (:func:`within_knee_reach`) stays sunk.
    out[:, 2] = np.where(w < 1.0, lifted_height(out[:, 2], rest_height, ground), out[:, 2])
    return out
