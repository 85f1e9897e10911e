"""One live frame from landmarks to a posed body: closed-form fit, One Euro filter, causal floor.

The fit is the offline closed-form solve (``core.fit.closed_form.fit_frames``)
on one frame, after the offline fit's lifting of the limb points onto their
camera rays (``core.fit.lifting``; with one frame, the bone lengths are that
frame's): joint rotations from landmark directions, the translation from the
2D landmarks; then a bounded refinement of it against the 2D and metric
landmarks (``core.live.refine``: one step by default, the previous frame's pose
as a weak prior), and the One Euro filter. The body's shape (the mannequin's betas, or SMPL-X's from them: ``core.live.body``) is estimated
once from the first ``warmup_frames`` frames with a person and then kept, so
the rig built from it stays valid for the session.

Feet the picture shows standing are held along the floor by shifting the root
(``core.live.footlock``, the root's part of the offline foot lock; ``lock_feet``).

Frames: landmarks and the fit are in the OpenCV camera frame; the solved
frame is put into a Z-up world whose floor is at Z = 0 (``core.live.ground``),
the world a cleaned offline take has.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..body.mannequin import forward_kinematics
from ..body.mannequin import rest_joints as mannequin_rest_joints
from ..body.shape import estimate_betas
from ..cleanup.floor import PROXY_INDEX, proxy_heights
from ..fit.closed_form import RestFrames, assign_hands, fit_frames
from ..fit.ik import FitSettings, observed_frames
from ..fit.lifting import camera_from_view, lift_to_rays
from ..landmarks import PoseSequence, seen_confidence
from ..rotations import axis_angle_to_matrix, axis_angle_to_quat_wxyz, matrix_to_axis_angle, quat_wxyz_to_axis_angle
from ..skeleton import NUM_JOINTS
from .filters import OneEuro, smoothing_cutoff
from .body import LiveBody
from .footlock import CausalFootLock, StillFeet
from .ground import CausalGround
from .sides import CausalLegSwaps, CausalSideSwaps
from .refine import Refiner, RefineSettings
from .bones import limb_lengths, with_limb_lengths
from .shape import ShapeSettings, WarmupFrame, fit_shape
from .protocol import FLAG_HELD, FLAG_LEFT_CONTACT, FLAG_RIGHT_CONTACT, camera_from_world, world_from_camera
from .upright import POSTURE_JOINTS, CausalUp


FILTER_BETA = 10.0
"""The One Euro filter's ``beta`` for the rotations (per quaternion unit a second) and the root (per m/s)."""


@dataclass(frozen=True)
class Solved:
    """One solved frame in the live world (Z up, floor at Z = 0).

    poses (165,) float32 local axis-angle; trans (3,) float32 metres; confidence 0 to 1;
    camera_height metres; flags: ``core.live.protocol`` FLAG_* bits; camera_pitch, camera_roll
    degrees (``core.gravity``'s signs): the camera's tilt the world was set up with."""

    poses: np.ndarray
    trans: np.ndarray
    confidence: float
    camera_height: float
    flags: int
    camera_pitch: float = 0.0
    camera_roll: float = 0.0


class LiveSolver:
    """Landmarks of one frame at a time -> :class:`Solved`.

    Args:
        K: (3, 3) intrinsics of the frames given, pixels.
        up: (3,) the world's up in the camera frame (``core.gravity.up_from_pitch_roll``), kept as given;
            None: estimated as the session goes, from the person's upright posture (``core.live.upright``).
        smoothing: 0 (off) to 1, the One Euro filter's ``min_cutoff`` (``smoothing_cutoff``).
        warmup_frames: frames with a person the shape is estimated from.
        lift: put the metric landmarks' limb points on the image landmarks' camera rays first
            (``core.fit.lifting``, as the offline fit does): MediaPipe's depth is its weak part.
        body: the body streamed (``core.live.body``): its shape from the warm-up and its rest joints the
            rotations are solved on (None: the mannequin).
        refine: the bounded per-frame refinement of the closed-form solve (``core.live.refine``; steps 0: off).
        shape: the fit of the body's proportions over the warm-up's frames (``core.live.shape``; steps 0: off,
            MediaPipe's segment lengths as they are).
        lock_feet: hold the feet the picture shows standing along the floor by the root (``core.live.footlock``).
        repair_legs: undo MediaPipe's brief swaps of the lower legs as they come (``core.live.sides.CausalLegSwaps``,
            after the whole body's), as the offline capture does.
    """

    def __init__(self, K: np.ndarray, up: np.ndarray | None, *, smoothing: float = 0.5, warmup_frames: int = 20,
                 fit: FitSettings = FitSettings(), lift: bool = True, body: LiveBody | None = None,
                 refine: RefineSettings = RefineSettings(), shape: ShapeSettings = ShapeSettings(),
                 lock_feet: bool = True, repair_legs: bool = True) -> None:
        self.K = np.asarray(K, np.float64)
        self.upright = CausalUp(None if up is None else np.asarray(up, np.float64))
        self.R_wc = world_from_camera(self.upright.up)
        self.fit = fit
        self.warmup_frames = warmup_frames
        self.lift = lift
        self.body = body or LiveBody()
        self.refine = refine
        self.shape = shape
        self.refiner: Refiner | None = None
        self._warmup_seen: list[PoseSequence] = []  # the warm-up's frames with a person
        self.shape_ms = 0.0  # the warm-up's shape fit, milliseconds (core.live.shape)
        self.betas: np.ndarray | None = None
        self.rest: RestFrames | None = None
        self.ground: CausalGround | None = None
        self.lock_feet = lock_feet
        self.foot_lock: CausalFootLock | None = None
        self.still_feet = StillFeet()  # which feet the picture shows standing, for the foot lock
        cutoff = smoothing_cutoff(smoothing)
        # FILTER_BETA for both (was 1 for the rotations, 2 for the root): what its lag cost, README "Live figures".
        self._rot_filter = OneEuro(cutoff, beta=FILTER_BETA) if smoothing > 0 else None
        self._trans_filter = OneEuro(cutoff, beta=FILTER_BETA) if smoothing > 0 else None
        self._quats: np.ndarray | None = None
        self.side_swaps = CausalSideSwaps()
        self.leg_swaps = CausalLegSwaps() if repair_legs else None
        self.stage_ms = {"fit": 0.0, "filter": 0.0, "floor": 0.0}  # the last solve's parts, milliseconds
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # the last solved (local aa (55, 3), trans_cam (3,))

    def _repair(self, seq: PoseSequence, t: float) -> None:
        """MediaPipe's left/right confusions undone in the one-frame ``seq``, causally: the whole body's
        (``core.live.sides.CausalSideSwaps``), then the lower legs' (``CausalLegSwaps``), as offline."""
        self.side_swaps(seq, t)
        if self.leg_swaps is not None:
            if self.side_swaps.restarted:  # the person lost, or someone found elsewhere: legs as given too
                self.leg_swaps.restart()
            self.leg_swaps(seq, t)

    @property
    def ready(self) -> bool:
        """The shape is known (after the warm-up): frames can be solved."""
        return self.rest is not None

    def warm_up(self, seq: PoseSequence, t: float | None = None) -> bool:
        """Collect a frame for the shape; True once the shape is fixed (``betas``, ``rest_joints``). With its time
        ``t`` s, the frame also tells the left/right repair which labelling MediaPipe holds (``core.live.sides``)."""
        if t is not None:
            self._repair(seq, t)
        if observed_frames(seq)[0]:
            self._warmup_seen.append(seq)
        if len(self._warmup_seen) >= self.warmup_frames:
            world = np.stack([np.asarray(seen.body_world[0], np.float64) for seen in self._warmup_seen])
            mannequin = estimate_betas(world, self.fit.min_visibility) if self.fit.estimate_shape else np.zeros(5)
            if self.fit.estimate_shape and self.shape.steps > 0:  # steps 0: MediaPipe's proportions, no rounds
                began = time.perf_counter()
                mannequin = self._fit_shape(mannequin)
                self.shape_ms = 1000.0 * (time.perf_counter() - began)
            self.betas, joints = self.body.shape_from_mannequin(mannequin, mannequin_rest_joints(mannequin))
            self.rest = RestFrames(joints)
            self.refiner = Refiner(joints, self.K, self.refine)
            self.ground = CausalGround(self.upright.up, proxy_heights(joints, None))
            self.foot_lock = CausalFootLock(joints, float(self.K[0, 0])) if self.lock_feet else None
            self._warmup_seen.clear()  # the shape is fixed for the session: its frames are not needed again
        return self.ready

    @property
    def rest_joints(self) -> np.ndarray:
        assert self.rest is not None, "warm up first"
        return self.rest.joints

    def _observe(self, seq: PoseSequence, lengths: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """(uv (1, 33, 3) pixels and visibility, world (1, 33, 3+) metres in the camera's axes, vis (1, 33), hands
        (1, 2, 21, 3)) of a one-frame ``seq`` with a person, as the closed form reads them; with ``lengths`` (8,)
        the metric limbs given those bones first (``core.live.bones``)."""
        uv = np.asarray(seq.body_2d, np.float64)
        world = np.asarray(seq.body_world, np.float64)
        if lengths is not None:
            world = with_limb_lengths(world, lengths)
        world = camera_from_view(world, uv, self.K)  # as the whole-clip fit reads them: in the camera's axes
        if self.lift:
            world = lift_to_rays(world, uv, self.K)
        left, right = assign_hands(uv[..., :2], np.asarray(seq.left_hand, np.float64),
                                   np.asarray(seq.right_hand, np.float64))
        return uv, world, np.clip(np.nan_to_num(uv[..., 2]), 0.0, 1.0), np.stack([left, right], 1)

    def _closed_form(self, seen: tuple[np.ndarray, ...], rest: RestFrames) -> tuple[np.ndarray, np.ndarray]:
        """(local axis-angle (T, 55, 3), trans (T, 3) camera frame) of :meth:`_observe`'s ``seen`` on ``rest``."""
        uv, world, vis, hands = seen
        aa, trans, _ = fit_frames(world[..., :3], uv[..., :2], vis, hands, self.K, rest,
                                  straight_limb_blend=self.fit.straight_limb_blend, fit_hands=self.fit.fit_hands,
                                  min_visibility=self.fit.min_visibility)
        return aa, trans

    def _fit_shape(self, mannequin: np.ndarray) -> np.ndarray:
        """The mannequin betas ``mannequin`` (5,) (MediaPipe's segment lengths) fitted over the warm-up's frames
        (``core.live.shape``)."""
        lengths = None  # the first round on MediaPipe's own bones, each next one on the last round's
        for _ in range(self.shape.rounds):
            rest = RestFrames(mannequin_rest_joints(mannequin))
            uv, world, vis, hands = (np.concatenate(parts) for parts in
                                     zip(*(self._observe(seq, lengths) for seq in self._warmup_seen)))
            aa, trans = self._closed_form((uv, world, vis, hands), rest)  # all frames in one call: the same solve
            frames = [WarmupFrame(aa[i], trans[i], uv[i, :, :2], world[i, :, :3], vis[i]) for i in range(len(aa))]
            mannequin = fit_shape(mannequin, frames, self.K, self.shape, self.refine)
            lengths = limb_lengths(mannequin_rest_joints(mannequin))
        return mannequin

    def _fit(self, seq: PoseSequence, t: float) -> tuple[np.ndarray, np.ndarray] | None:
        """(local axis-angle (55, 3), trans (3,) camera frame) of the frame, or None without a person."""
        assert self.rest is not None
        if not observed_frames(seq)[0]:
            return None
        # MediaPipe's own bones: given the body's, the demo's elbows read worse (median 50 -> 52 mm, a scratch replay)
        seen = self._observe(seq)
        uv, world, vis, _ = seen
        aa, trans = self._closed_form(seen, self.rest)
        assert self.refiner is not None  # set with the rest joints; steps 0 returns the closed form
        return self.refiner(aa[0], trans[0], uv[0, :, :2], world[0, :, :3], vis[0], t)

    def _filter(self, aa: np.ndarray, trans: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        q = axis_angle_to_quat_wxyz(aa)
        if self._quats is not None:  # the nearer of q and -q to the last frame's: the filter must not cross
            q = np.where(np.sum(q * self._quats, -1, keepdims=True) < 0, -q, q)
        if self._rot_filter is not None and self._trans_filter is not None:
            q = self._rot_filter(q, t)
            q /= np.linalg.norm(q, axis=-1, keepdims=True)
            trans = self._trans_filter(trans[None], t)[0]
        self._quats = q
        return quat_wxyz_to_axis_angle(q), trans

    def solve(self, seq: PoseSequence, t: float) -> Solved | None:
        """The one-frame ``seq`` solved at time ``t`` s; a frame without a person holds the last pose
        (flag FLAG_HELD, confidence 0); None before any frame was solved. Needs :attr:`ready`."""
        assert self.rest is not None and self.ground is not None, "warm up first"
        began = time.perf_counter()
        self._repair(seq, t)
        if self.side_swaps.restarted:  # someone else (or long lost): not their feet, nor their pose
            if self.foot_lock is not None:
                self.still_feet.reset()
                self.foot_lock.restart()
            if self.refiner is not None:
                self.refiner.forget()
        found = self._fit(seq, t)
        fitted = time.perf_counter()
        flags = 0
        if found is None:
            if self.foot_lock is not None:
                self.still_feet.reset()  # the feet's history ends with the person's
                self.foot_lock.lose()
            if self._last is None:
                return None
            aa, trans_cam = self._last
            flags |= FLAG_HELD
            confidence = 0.0
        else:
            aa, trans_cam = self._filter(found[0], found[1], t)
            confidence = float(np.clip(seen_confidence(seq.body_2d)[0], 0.0, 1.0))
        filtered = time.perf_counter()
        J = self.rest.joints
        pos, _ = forward_kinematics(aa[None], J, trans_cam[None], joints=POSTURE_JOINTS)
        up = self.upright.update(pos[0], t) if found is not None else None
        if up is not None:  # the world turns with the new up: the root's rotation and the floor follow
            self.R_wc = world_from_camera(up)
        floor, (left, right) = self.ground.update(pos[0, PROXY_INDEX], t, up)
        if found is not None:
            flags |= (FLAG_LEFT_CONTACT if left else 0) | (FLAG_RIGHT_CONTACT if right else 0)
            if self.foot_lock is not None:
                still = self.still_feet(np.asarray(seq.body_2d, np.float64)[0], self.ground.soles - floor, t)
                trans_cam = self.foot_lock.hold(pos[0, PROXY_INDEX], trans_cam, self.ground.up, still, t)
            self._last = (aa, trans_cam)  # held as sent: a lost frame keeps the feet's shift, no jump
        world = aa.copy()
        world[0] = matrix_to_axis_angle(self.R_wc @ axis_angle_to_matrix(aa[0]))
        pelvis = self.R_wc @ (J[0] + trans_cam) - np.array([0.0, 0.0, floor])
        pitch, roll = self.upright.pitch_roll
        self.stage_ms = {"fit": 1000.0 * (fitted - began), "filter": 1000.0 * (filtered - fitted),
                         "floor": 1000.0 * (time.perf_counter() - filtered)}
        return Solved(poses=world.reshape(NUM_JOINTS * 3).astype(np.float32),
                      trans=(pelvis - J[0]).astype(np.float32), confidence=confidence,
                      camera_height=-floor, flags=flags, camera_pitch=pitch, camera_roll=roll)

    def camera_extrinsics(self, camera_height: float) -> np.ndarray:
        """(4, 4) camera-from-world of the live world with the camera ``camera_height`` m above the floor."""
        return camera_from_world(self.R_wc, camera_height)
