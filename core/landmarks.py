"""Pose landmarks of a whole clip: the output of every pose backend.

numpy only, so the fitting code and its tests need no pose backend installed.
MediaPipe's landmark layouts are used as the common layout (33 body points,
21 per hand, 468 face points); see ``BODY`` for the body indices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# MediaPipe Pose landmark indices; left/right are the subject's.
BODY = {
    "nose": 0, "left_eye": 2, "right_eye": 5, "left_ear": 7, "right_ear": 8,
    "left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13, "right_elbow": 14,
    "left_wrist": 15, "right_wrist": 16, "left_pinky": 17, "right_pinky": 18,
    "left_index": 19, "right_index": 20, "left_thumb": 21, "right_thumb": 22,
    "left_hip": 23, "right_hip": 24, "left_knee": 25, "right_knee": 26,
    "left_ankle": 27, "right_ankle": 28, "left_heel": 29, "right_heel": 30,
    "left_foot_index": 31, "right_foot_index": 32,
}
NUM_BODY = 33
NUM_HAND = 21
NUM_FACE = 468


@dataclass
class PoseSequence:
    """Landmarks for T frames of one video. Missing data is NaN, never zero.

    Attributes:
        frame_indices: (T,) int64 index of each frame in the video.
        fps: frames per second of the video (of the stored frames when a stride
            was used: video fps / stride).
        image_size: (2,) int64 (width, height) in pixels.
        body_2d: (T, 33, 3) float32 x, y in pixels (image frame, y down) and
            visibility in [0, 1]; NaN rows where no person was found.
        body_world: (T, 33, 4) float32 metric landmarks in metres, origin at
            the mid-hip, OpenCV camera axes (x right, y down, z away from the
            camera), plus visibility; NaN where no person was found.
        left_hand, right_hand: (T, 21, 3) float32 the subject's left / right
            hand: x, y in pixels and z, depth relative to the wrist in the same
            pixel scale as x; NaN where the hand was not found.
        face: (T, 468, 3) float32 face mesh points, pixels (z like the hands);
            NaN where the face was not found.
        present: (T,) bool, a person was found in the frame.
    """

    frame_indices: np.ndarray
    fps: float
    image_size: np.ndarray
    body_2d: np.ndarray
    body_world: np.ndarray
    left_hand: np.ndarray
    right_hand: np.ndarray
    face: np.ndarray
    present: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.frame_indices.shape[0])

    @classmethod
    def empty(cls, num_frames: int, fps: float, image_size: tuple[int, int]) -> "PoseSequence":
        """All-missing landmarks for ``num_frames`` frames, to be filled in."""
        nan = np.float32(np.nan)
        return cls(
            frame_indices=np.arange(num_frames, dtype=np.int64),
            fps=float(fps),
            image_size=np.asarray(image_size, np.int64),
            body_2d=np.full((num_frames, NUM_BODY, 3), nan, np.float32),
            body_world=np.full((num_frames, NUM_BODY, 4), nan, np.float32),
            left_hand=np.full((num_frames, NUM_HAND, 3), nan, np.float32),
            right_hand=np.full((num_frames, NUM_HAND, 3), nan, np.float32),
            face=np.full((num_frames, NUM_FACE, 3), nan, np.float32),
            present=np.zeros(num_frames, bool),
        )


# Left/right pairs of the MediaPipe body layout (eyes, ears, mouth, arms, legs).
BODY_SWAP = np.arange(NUM_BODY)
for _a, _b in ((1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18),
               (19, 20), (21, 22), (23, 24), (25, 26), (27, 28), (29, 30), (31, 32)):
    BODY_SWAP[_a], BODY_SWAP[_b] = _b, _a


def unmirror_body(points):
    """Body landmarks (..., 33, D) found in a horizontally mirrored image, put back in the original's terms.

    Left and right trade places and x changes sign, so ``points`` must have an
    x that mirroring negates: metric world landmarks (origin at the mid-hip,
    x along the image's x axis, or the crop's). Works on numpy arrays and
    torch tensors alike, and returns a new array (the input is left as it is).
    """
    out = points[..., BODY_SWAP, :]
    out[..., 0] = -out[..., 0]
    return out


def trunk_vectors(points: np.ndarray, dims: int = 2) -> np.ndarray:
    """(..., dims) mid-hip to mid-shoulder of body landmarks (..., 33, >=dims), from their first ``dims`` columns
    (2: pixels, 3: metres); NaN where a hip or shoulder is."""
    p = np.asarray(points, np.float64)[..., :dims]
    shoulders = p[..., [BODY["left_shoulder"], BODY["right_shoulder"]], :].mean(-2)
    return shoulders - p[..., [BODY["left_hip"], BODY["right_hip"]], :].mean(-2)


def facing_directions(body_world: np.ndarray) -> np.ndarray:
    """(T, 33, >=3) metric landmarks -> (T, 3) unit direction the chest faces.

    The normal of the plane through the shoulders and the mid-hip, in the
    landmarks' camera axes; NaN where landmarks are missing.
    """
    pts = body_world[..., :3].astype(np.float64)
    across = pts[:, BODY["left_shoulder"]] - pts[:, BODY["right_shoulder"]]
    up = 0.5 * (pts[:, BODY["left_shoulder"]] + pts[:, BODY["right_shoulder"]]) - 0.5 * (
        pts[:, BODY["left_hip"]] + pts[:, BODY["right_hip"]]
    )
    # Camera axes have y down, so "up" along the spine is -y-ish and
    # left x up gives the forward direction of a body facing the camera as -z.
    normal = np.cross(across, up)
    return normal / np.linalg.norm(normal, axis=-1, keepdims=True)


FLIP_COSINE = -0.5
"""Facing directions of consecutive frames with a cosine below this count as a left/right swap."""
GLITCH_COSINE = 0.5
"""Facing directions of consecutive frames with a cosine between ``FLIP_COSINE`` and this (a 60-120 degree turn
in one frame): a sideways glitch, not compared with."""
GLITCH_FRAMES = 3
"""A chest held this many frames in a glitch's direction is taken as it is (it was no glitch)."""


class FacingFlips:
    """MediaPipe's left/right flips, one frame's chest direction after another (call in order; True at a flip).

    A chest that turns over 120 degrees within a frame is a flip: no body turns so fast. One that turns
    60-120 degrees is a sideways glitch, often half of a flip MediaPipe makes over two frames (the demo's
    frames 16-17: 73 then 68 degrees): it is not compared with, so the frame after it is compared with the
    frame before it; a chest held ``GLITCH_FRAMES`` frames in a glitch's direction is taken as it is."""

    def __init__(self) -> None:
        self.facing: np.ndarray | None = None  # the frame compared with, as MediaPipe labelled it
        self.glitches = 0  # frames in a row not compared with

    def __call__(self, facing: np.ndarray) -> bool:
        if self.facing is None:
            self.facing = facing
            return False
        cosine = float(facing @ self.facing)
        if FLIP_COSINE <= cosine < GLITCH_COSINE and self.glitches + 1 < GLITCH_FRAMES:
            self.glitches += 1
            return False
        self.facing, self.glitches = facing, 0
        return cosine < FLIP_COSINE


def repair_side_swaps(seq: PoseSequence, max_swap_seconds: float = 0.5) -> list[int]:
    """Undo MediaPipe's brief left/right confusions, in place; return the frames fixed.

    MediaPipe sometimes labels a person's sides the wrong way round for a few
    frames, as if they faced the other way: the chest's facing direction then
    flips by about 180 degrees between two frames, which a real body cannot
    do in 1/30 s (a real turn passes through sideways). Runs of frames between
    two such flips that are shorter than ``max_swap_seconds`` are relabelled
    (body landmarks and the two hands swapped back); long runs are kept, so a
    person who really turns around is not touched.
    """
    facing = facing_directions(seq.body_world)
    valid = np.flatnonzero(seq.present & np.isfinite(facing).all(axis=1))
    if valid.size < 2:
        return []
    # A swap turns the chest by ~180 degrees (cosine near -1; -0.8 to -1.0 on
    # real clips); a one-frame sideways glitch only by ~90-110 (cosine -0.1 to
    # -0.4) and must not start a run, or the true frames after it get flipped.
    flip = FacingFlips()
    flips = np.array([flip(facing[i]) for i in valid])[1:]
    fix = valid[swapped_runs(flips, max(1, int(round(max_swap_seconds * seq.fps))))]
    if fix.size == 0:
        return []
    swap_sides(seq, fix)
    return fix.tolist()


def swapped_runs(flips: np.ndarray, limit: int) -> np.ndarray:
    """(n,) bool: which of n frames to relabel, given where the labelling flips (``flips`` (n - 1,) bool: between
    frames k and k + 1): the runs of frames between flips whose labelling is the opposite of the longest run's,
    and that last at most ``limit`` frames (a longer one is taken for what the person did)."""
    # Runs of frames with a consistent labelling: run id per frame.
    run_id = np.concatenate([[0], np.cumsum(np.asarray(flips, bool))]).astype(np.int64)
    num_runs = int(run_id[-1]) + 1
    if num_runs == 1:
        return np.zeros(len(run_id), bool)
    lengths = np.bincount(run_id, minlength=num_runs)
    keep_longest = int(np.argmax(lengths))
    # Parity relative to the longest run: odd parity means the opposite labelling.
    parity = (run_id - keep_longest) % 2 == 1
    return parity & (lengths[run_id] <= limit)


def swap_sides(seq: PoseSequence, frames: np.ndarray) -> PoseSequence:
    """``seq`` with left and right swapped (body landmarks, both hands) on ``frames`` ((T,) bool, or frame
    indices), in place."""
    frames = np.asarray(frames)
    if frames.dtype == bool:
        frames = np.flatnonzero(frames)
    if frames.size:
        seq.body_2d[frames] = seq.body_2d[frames][:, BODY_SWAP]
        seq.body_world[frames] = seq.body_world[frames][:, BODY_SWAP]
        left = seq.left_hand[frames].copy()
        seq.left_hand[frames] = seq.right_hand[frames]
        seq.right_hand[frames] = left
    return seq


LEGS = {side: [BODY[f"{side}_{part}"] for part in ("knee", "ankle", "heel", "foot_index")] for side in ("left", "right")}
"""The landmarks of each lower leg, which MediaPipe labels the wrong way round together (:func:`leg_swaps`)."""
LEG_SWAP_COST = 0.3
"""What labelling a frame's legs the other way round from the detector costs :func:`leg_swaps`, in trunk lengths
of leg motion (knees, ankles, heels, toes summed): a swap is undone where swapping the legs back moves them, over
the take, this much less per swapped frame. On the bench clips' MediaPipe landmarks, scored against the rendered
truth, 0.3 undid 44 of 51 swapped frames (the crossing clips, a spin kick, a boxer's feet) and swapped no
frame of the walking and jumping clips; 0.1 wrongly swapped a spin kick's legs, 0.6 missed half the crossings."""

UPRIGHT_COSINE = 0.7
""":func:`leg_swaps` relabels the legs only of a body whose trunk points within 45 degrees (cosine) of up in the
picture: the legs of a person flipping, rolling or getting up move too fast and too far for their motion to tell
a swap (on the bench's acrobatics the swaps it found there moved the world knees and ankles 30-120 mm further
from the truth)."""


def upright_in_picture(keypoints: np.ndarray) -> np.ndarray:
    """(...) bool: bodies (..., 33, >=2 px) whose trunk points within ``UPRIGHT_COSINE`` of up in the picture (False
    where a hip or shoulder is NaN): the ones whose legs' labels the leg-swap repairs judge (:func:`leg_swaps`, and
    live ``core.live.sides.CausalLegSwaps``)."""
    trunk = trunk_vectors(keypoints)
    with np.errstate(invalid="ignore"):
        return -trunk[..., 1] > UPRIGHT_COSINE * np.linalg.norm(trunk, axis=-1)


LEG_SWAP = np.arange(NUM_BODY)
LEG_SWAP[LEGS["left"] + LEGS["right"]] = LEGS["right"] + LEGS["left"]
"""Body landmark order with the two lower legs' labels exchanged (:func:`swap_legs`)."""


def swap_legs(seq: PoseSequence, frames: np.ndarray) -> PoseSequence:
    """``seq`` with the two lower legs' labels exchanged (image and metric landmarks) on ``frames`` (frame
    indices), in place."""
    frames = np.asarray(frames, int)
    if frames.size:
        seq.body_2d[frames] = seq.body_2d[frames][:, LEG_SWAP]
        seq.body_world[frames] = seq.body_world[frames][:, LEG_SWAP]
    return seq


def leg_swaps(body_2d: np.ndarray, fps: float, cost: float = LEG_SWAP_COST,
              max_swap_seconds: float = 0.5) -> np.ndarray:
    """(T,) bool: the frames on which MediaPipe swapped the labels of the left and right lower leg (knee, ankle,
    heel, toe) while the rest of the body kept its sides, given (T, 33, 3) image landmarks with visibility.

    The demo's side-step along the box (frames 110-113, 118-120): read as labelled, a still foot jumps 70-110 px
    across and back, a knee with it. Each frame is labelled as given or swapped so that the legs move least over
    the whole take (a two-state shortest path: the summed image distance of each seen landmark to where its leg
    was last seen, in trunk lengths, plus ``cost`` per swapped frame), so a real crossing step, which passes the
    feet smoothly, is left alone. Runs of swapped frames longer than ``max_swap_seconds`` are kept as given
    (as :func:`repair_side_swaps`), and a body not upright in the picture (``UPRIGHT_COSINE``) keeps its labels."""
    kp = np.asarray(body_2d, np.float64)
    T = kp.shape[0]
    out = np.zeros(T, bool)
    if T < 2:
        return out
    with np.errstate(invalid="ignore"):
        trunk = np.linalg.norm(trunk_vectors(kp), axis=-1)
    scale = float(np.nanmedian(trunk)) if np.isfinite(trunk).any() else np.nan
    if not np.isfinite(scale) or scale < 5:
        return out
    seen = seen_landmarks(kp[..., 2])
    uv = np.where(seen[..., None], kp[..., :2], np.nan)
    legs = np.stack([uv[:, LEGS["left"]], uv[:, LEGS["right"]]], 1) / scale  # (T, 2 legs, 4, 2) trunk lengths
    upright = upright_in_picture(kp)
    penalty = np.where(upright, cost, np.inf)  # a body not upright keeps its labels
    labellings = np.stack([legs, legs[:, ::-1]], 1)  # (T, 2 labellings: as given, swapped, 2, 4, 2)
    total = np.array([0.0, penalty[0]])
    last = labellings[0].copy()  # where each labelling's path last saw each leg's points
    back = np.zeros((T, 2), np.int8)
    for t in range(1, T):
        here = labellings[t]
        steps = np.linalg.norm(here[:, None] - last[None], axis=-1)  # (to, from, 2, 4)
        moved = total[None] + np.nansum(steps, axis=(2, 3)) + np.array([[0.0], [penalty[t]]])
        back[t] = np.argmin(moved, axis=1)
        total = moved[[0, 1], back[t]]
        last = last[back[t]].copy()
        now = np.isfinite(here).all(-1)
        last[now] = here[now]
        if not now.any():  # no person: where the legs were before says nothing of their labels after
            last[:] = np.nan
    state = int(np.argmin(total))
    for t in range(T - 1, -1, -1):
        out[t] = state == 1
        state = int(back[t, state])
    if not out.any():
        return out
    out &= swapped_runs(out[1:] != out[:-1], max(1, int(round(max_swap_seconds * fps))))
    # A run beside frames without the legs has one side only: nothing says the labels flipped back (cross_three's
    # second person captured alone, found again after 16 frames: her first frame swapped, limb PA-MPJPE +3 mm).
    unseen = ~np.isfinite(legs).all(-1).any(axis=(1, 2))
    edges = np.flatnonzero(np.diff(np.concatenate([[0], out.astype(np.int8), [0]])))
    for s, e in zip(edges[::2], edges[1::2]):
        if (s > 0 and unseen[s - 1]) or (e < T and unseen[e]):
            out[s:e] = False
    return out


def repair_leg_swaps(seq: PoseSequence, max_swap_seconds: float = 0.5) -> list[int]:
    """Undo MediaPipe's brief swaps of the left and right lower leg (:func:`leg_swaps`), in place (image and world
    landmarks, after :func:`repair_side_swaps`, which undoes whole-body swaps); return the frames fixed.

    The capture calls it (December 2026, against the same code without it): bench tracking's upright limb
    PA-MPJPE 95.2 -> 88.9 mm (the crossing clips' people 10-13 mm nearer), the demo's side-step fitted to the right
    feet; the tilted set identical (no swaps there); the held-out set's offset-free PA-MPJPE 50.08 -> 50.17 mm,
    W-MPJPE 173.33 -> 173.50. What the held-out set loses is the cleanup's: the boxer's left heel, now labelled
    right, flips 23 px a frame on val_boxing_late's frames 102-106, reads still, and its lock pushes the held toe
    34 mm into the floor and lets it jump 36 mm at the lock's end. With the labels right, the post-pass also bridged
    his right heel's 3-frame gap across its lift (frames 109-116): that bridge is refused where the picture shows
    the two stances apart (``core.cleanup.contact_pass.not_apart``; 56.5 -> 52.0 mm on that clip)."""
    body_2d = np.where(seq.present[:, None, None], seq.body_2d, np.nan)
    fix = np.flatnonzero(leg_swaps(body_2d, seq.fps, max_swap_seconds=max_swap_seconds))
    swap_legs(seq, fix)
    return fix.tolist()


def repair_swaps(seq: PoseSequence) -> tuple[list[int], list[int]]:
    """MediaPipe's left/right confusions undone in ``seq``, in place, as every capture does after the pose stage:
    whole-body swaps (:func:`repair_side_swaps`), then swaps of the two lower legs alone (:func:`repair_leg_swaps`);
    returns the frames fixed by each."""
    return repair_side_swaps(seq), repair_leg_swaps(seq)


UNSEEN = 0.5
"""Visibility below which a landmark counts as not seen (the fit's ``min_visibility``)."""
HIDDEN = 0.3
"""Visibility below which a landmark is taken for not seen at all (cut off by the frame, see
:func:`mark_outside`, or hidden): it drives neither foot contacts, the floor nor the fit's 3D term.
Between this and ``UNSEEN`` a landmark is half seen (a leg behind the other: 0.3-0.6 on the demo)
and still counts, weighed by its visibility; the legs of a person cut off at the waist score
0.04-0.07 inside the frame (issue 16)."""
_LEGS = ((BODY["left_knee"], BODY["left_ankle"]), (BODY["right_knee"], BODY["right_ankle"]))
_ARMS = ((BODY["left_elbow"], BODY["left_wrist"]), (BODY["right_elbow"], BODY["right_wrist"]))
_LIMBS = [BODY[f"{side}_{part}"] for side in ("left", "right")
          for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")]
INVENTED_FRACTION = 0.3
"""A take with more than this share of its frames bridged (no person, or too little seen) is mostly invented."""
LEGS_UNSEEN_FRACTION = 0.5
"""A take whose legs are unseen on more than this share of the frames with a person has guessed legs."""


def mark_outside(seq: PoseSequence) -> int:
    """Give body landmarks outside the frame visibility 0, in place (image and world landmarks); return how many.

    The landmark model places every point, also those of a body cut off by
    the frame's edge, and often with a fair visibility: a point it cannot
    have seen must not count as seen (the fit's terms and the take's
    confidence weigh landmarks by visibility).
    """
    width, height = (float(v) for v in seq.image_size)
    xy = seq.body_2d[..., :2]
    with np.errstate(invalid="ignore"):
        outside = (xy[..., 0] < 0) | (xy[..., 0] > width) | (xy[..., 1] < 0) | (xy[..., 1] > height)
    seq.body_2d[..., 2][outside] = 0.0
    seq.body_world[..., 3][outside] = 0.0
    return int(outside.sum())


def seen_landmarks(visibility: np.ndarray) -> np.ndarray:
    """(...) bool: landmarks of visibility ``visibility`` (..., NaN where missing) that were seen (``HIDDEN``)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(visibility, np.float64) >= HIDDEN


def _best_limb(vis: np.ndarray, limbs: tuple[tuple[int, int], ...]) -> np.ndarray:
    """(T,) the mean visibility of the better seen of two limbs (each a pair of landmarks)."""
    return np.max([vis[:, list(pair)].mean(-1) for pair in limbs], axis=0)


def seen_confidence(body_2d: np.ndarray) -> np.ndarray:
    """(T,) how well a frame's body was seen, in [0, 1]: the mean visibility of the 12 limb landmarks,
    but no more than that of the better seen leg (knee and ankle) and of the better seen arm.

    One leg or arm hidden behind the body is normal; both legs unseen (a body
    cut off at the waist) means the legs are invented, and the frame is not
    one to trust, however well the rest is seen. 0 where no person was found.
    """
    vis = np.clip(np.nan_to_num(np.asarray(body_2d, np.float64)[..., 2]), 0.0, 1.0)
    if vis.shape[0] == 0:
        return np.zeros(0)
    mean = vis[:, _LIMBS].mean(-1)
    return np.minimum(mean, np.minimum(_best_limb(vis, _LEGS), _best_limb(vis, _ARMS)))


def invented_warnings(frame_indices: np.ndarray, present: np.ndarray, bridged: np.ndarray,
                      body_2d: np.ndarray) -> list[str]:
    """The user's warnings about a take that is mostly invented: too many frames bridged, or legs unseen.

    Args:
        present: (T,) a person was found; bridged: (T,) the fit carried the frame over from its neighbours;
        body_2d: (T, 33, 3) landmarks with visibility.
    """
    T = len(frame_indices)
    out: list[str] = []
    if T == 0:
        return out
    invented = int(np.sum(bridged))
    if invented > INVENTED_FRACTION * T:
        out.append(f"the take is mostly invented: {invented} of {T} frames ({invented / T:.0%}) show no person "
                   "the pose model could follow and were bridged from their neighbours. Check that the person "
                   "is in view and lit, and the frame range")
    vis = np.clip(np.nan_to_num(np.asarray(body_2d, np.float64)[..., 2]), 0.0, 1.0)
    seen = present & ~np.asarray(bridged, bool)
    legs_unseen = seen & (_best_limb(vis, _LEGS) < UNSEEN)
    if seen.any() and legs_unseen.sum() > LEGS_UNSEEN_FRACTION * seen.sum():
        out.append(f"the legs are out of view or hidden in {int(legs_unseen.sum())} of {int(seen.sum())} frames "
                   f"({legs_unseen.sum() / seen.sum():.0%}): their motion, and the foot contacts and floor found "
                   "from it, are guesses (those frames are marked low confidence)")
    return out
