"""The batched body tracker: streams of frames tracked in lock-step (see body.py for the maths)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CancelledError, MocapError
from ..landmarks import NUM_BODY
from . import body
from .filters import LowPass, OneEuro
from .settings import TorchPoseSettings


def model_path(name: str) -> Path:
    """A model file bundled in the mediapipe wheel, e.g. ``pose_landmark/pose_landmark_full.tflite``."""
    import importlib.util

    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        raise MocapError("the torch pose backend reads MediaPipe's models: install mediapipe==0.10.21")
    path = Path(list(spec.submodule_search_locations)[0]) / "modules" / name
    if not path.is_file():
        raise MocapError(f"MediaPipe's model {name} is missing from the installed wheel ({path})")
    return path


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise MocapError("CUDA was asked for but no CUDA device is available; use --device cpu or auto")
    return device


# Warm-up landmarks of a segment and the track's on the same frames differ by less than this
# fraction of the ROI side (median over the 33 landmarks) when both follow the same person.
# Measured on the demo clip after 5-8 warm-up frames: 0.01-0.11 for the same person (filter
# state and crop still settling during a fast arm swing); another person is a body away.
SAME_PERSON_FRACTION = 0.25
# A detection whose hip centre lies within this many region sides of the person's last known
# one is taken for them when a segment starts.
NEAR_SEED = 0.3


class BodyModels:
    """The detector and landmark networks on one device, with the precision to run them in.

    Crops are cut on the CPU by OpenCV's ``warpPerspective`` (what MediaPipe's
    CPU graph calls, so the bytes agree) and on a GPU by :func:`body.warp`,
    its integer emulation. In float32 each network runs as a TorchScript trace
    per input shape, any batch size (made on first use, in memory): the graph executor's
    per-node Python costs as much as the convolutions at batch 1 on a CPU.
    """

    def __init__(self, device: str = "auto", precision: str = "fp32"):
        import torch

        from .graph import load_module

        self.torch = torch
        self.device = torch.device(resolve_device(device))
        if precision not in ("fp32", "fp16", "bf16"):
            raise MocapError(f"precision must be fp32, fp16 or bf16, not {precision!r}")
        if precision == "fp16" and self.device.type == "cpu":
            raise MocapError("fp16 needs a CUDA device; on the CPU use fp32 or bf16")
        self.precision = precision
        self.detector = load_module(model_path("pose_detection/pose_detection.tflite")).to(self.device)
        # Outputs: landmarks, presence, segmentation mask (unused, not computed), heatmap, world landmarks.
        self.landmarker = load_module(model_path("pose_landmark/pose_landmark_full.tflite"),
                                      outputs=[0, 1, 3, 4]).to(self.device)
        # Mobile networks (depthwise convolutions) run several times faster channels-last on CPU.
        self.detector = self.detector.to(memory_format=torch.channels_last)
        self.landmarker = self.landmarker.to(memory_format=torch.channels_last)
        self.anchors = body.ssd_anchors()
        self._traces: dict[tuple, object] = {}

    def autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = self.torch.float16 if self.precision == "fp16" else self.torch.bfloat16
        return self.torch.autocast(self.device.type, dtype=dtype)

    def _run(self, net, x):
        """``net(x)``: traced per input shape in float32, eager under autocast."""
        torch = self.torch
        with torch.inference_mode():
            if self.precision != "fp32":
                with self.autocast():
                    return net(x)
            # Keyed by the network itself (modules hash by identity, and the cache keeps them alive);
            # a trace serves every batch size (checked in the tests).
            key = (net, tuple(x.shape[1:]))
            fn = self._traces.get(key)
            if fn is None:
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # TracerWarnings about Python ints taken from shapes
                    fn = torch.jit.trace(net, x, check_trace=False)
                self._traces[key] = fn
            return fn(x)

    def crop(self, images: list[np.ndarray], rois: np.ndarray, size: int, border: str):
        """(N, 3, size, size) float32 crops in [0, 255] of ``rois`` (N, 5) from RGB uint8 images, on the device."""
        torch = self.torch
        h, w = images[0].shape[:2]
        mats = body.crop_matrices(rois, w, h, size)
        if self.device.type != "cpu":
            frames = torch.from_numpy(np.stack(images)).to(self.device, non_blocking=True)
            return body.warp(torch, frames, mats, size, border)
        import cv2

        mode = cv2.BORDER_REPLICATE if border == "replicate" else cv2.BORDER_CONSTANT
        out = np.empty((len(images), size, size, 3), np.uint8)
        for i, (image, m) in enumerate(zip(images, mats)):
            out[i] = cv2.warpPerspective(image, np.vstack([m, [0.0, 0.0, 1.0]]), (size, size),
                                         flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=mode, borderValue=0)
        return torch.from_numpy(out).permute(0, 3, 1, 2).float()

    def detect(self, images: list[np.ndarray], min_score: float, limit: int | None = 1) -> list[list]:
        """RGB uint8 frames -> per frame its detections, strongest first (at most ``limit``)."""
        h, w = images[0].shape[:2]
        roi, padding = body.letterbox_roi(w, h)
        x = self.crop(images, np.repeat(roi[None], len(images), 0), body.DETECTOR_SIZE, "zero") * (2.0 / 255.0) - 1.0
        boxes, scores = self._run(self.detector, x.contiguous(memory_format=self.torch.channels_last))
        boxes = boxes.float().cpu().numpy()
        scores = scores.float().cpu().numpy()[..., 0]
        return [body.decode_detections(boxes[i], scores[i], self.anchors, padding, min_score, limit=limit)
                for i in range(len(images))]

    def landmarks(self, images: list[np.ndarray], rois: np.ndarray, mirror_average: bool = False):
        """RGB uint8 frames and their rois (N, 5) -> body.decode_landmarks(...) arrays.

        ``mirror_average``: the network also sees each crop mirrored and the world
        landmarks are the mean of both (``body.average_mirrored_world``). The
        mirrors go through a call of their own: a batch twice the size would
        round differently (oneDNN picks kernels by batch), and the plain
        outputs, which steer the tracking, stay bit for bit MediaPipe's.
        """
        x = self.crop(images, rois, body.LANDMARK_SIZE, "replicate") * (1.0 / 255.0)
        outputs = self._run(self.landmarker, x.contiguous(memory_format=self.torch.channels_last))
        if mirror_average:
            mirrored = self._run(self.landmarker, x.flip(-1).contiguous(memory_format=self.torch.channels_last))
            outputs = body.average_mirrored_world(outputs, mirrored)
        with self.torch.inference_mode():
            return body.decode_landmarks(self.torch, outputs, rois)


@dataclass
class _Stream:
    """Tracking state of one segment: ROI for its next frame, filters, its own clock."""

    settings: TorchPoseSettings
    roi: np.ndarray | None = None
    ticks: int = 0
    aux: OneEuro = field(default_factory=lambda: OneEuro(0.01, 10.0))
    main: OneEuro = field(default_factory=lambda: OneEuro(0.05, 80.0))
    main_vis: LowPass = field(default_factory=lambda: LowPass(0.1))
    world: OneEuro = field(default_factory=lambda: OneEuro(0.1, 40.0))
    world_vis: LowPass = field(default_factory=lambda: LowPass(0.1))

    def lose(self) -> None:
        self.roi = None
        for f in (self.aux, self.main, self.main_vis, self.world, self.world_vis):
            f.reset()


@dataclass
class BodyTrack:
    """Raw per-frame results of :class:`BodyTracker`, frame order.

    Attributes:
        landmarks: (T, 33, 5) normalized x, y, z (z in units of frame width),
            visibility, presence; NaN where no person.
        world: (T, 33, 4) metres (MediaPipe world landmarks) + visibility; NaN where no person.
        present: (T,) bool.
        rois: (T, 5) the ROI the landmark model saw (NaN when none).
        detected: (T,) bool, the ROI came from the detector (else from tracking).
    """

    landmarks: np.ndarray
    world: np.ndarray
    present: np.ndarray
    rois: np.ndarray
    detected: np.ndarray


@dataclass
class _Segment:
    """Frames one stream tracks in a chunk: ``warm`` frames before ``start`` only warm it up."""

    stream: _Stream
    start: int
    stop: int
    warm: int = 0
    warm_lm: np.ndarray = field(default_factory=lambda: np.zeros((0, NUM_BODY, 5)))
    warm_world: np.ndarray = field(default_factory=lambda: np.zeros((0, NUM_BODY, 4)))

    @property
    def frames(self) -> range:
        return range(self.start - self.warm, self.stop)


class BodyTracker:
    """Tracks one person's body through a sequence of frames, in batches.

    ``batch_size`` 1 is MediaPipe's tracking exactly. With more, a chunk is
    cut into that many contiguous segments tracked in lock-step (one network
    call per step for all of them). Segment 0 continues the previous chunk;
    every other segment starts ``warmup_frames`` early from a detection, so its
    region of interest and filters have settled by its first frame, and its
    warm-up landmarks are checked against what the previous segment found on
    those same frames. Where they disagree (the detector picked someone else,
    or missed the person), the segment is tracked again from the previous
    segment's final state (all such segments in lock-step again), so one
    person is followed through the clip as MediaPipe follows them.
    """

    def __init__(self, settings: TorchPoseSettings = TorchPoseSettings(), models: BodyModels | None = None):
        self.settings = settings
        self.models = models or BodyModels(settings.device, settings.precision)
        self._carry: _Stream | None = None
        self.retracked_segments = 0  # segments whose warm start disagreed and were tracked again

    def run_chunk(self, images: list[np.ndarray]) -> BodyTrack:
        """Track through ``images`` (RGB uint8 (H, W, 3), consecutive frames of one video).

        The first segment continues from the previous call's last frame.
        """
        s = self.settings
        n = len(images)
        out = BodyTrack(np.full((n, NUM_BODY, 5), np.nan), np.full((n, NUM_BODY, 4), np.nan), np.zeros(n, bool),
                        np.full((n, 5), np.nan), np.zeros(n, bool))
        if n == 0:
            return out
        segments = [_Segment((self._carry or _Stream(s)) if k == 0 else _Stream(s), start, stop, start - first)
                     for k, (first, start, stop) in enumerate(body.split_segments(n, s.batch_size, s.warmup_frames))]
        self._seed(images, segments)
        self._track(images, segments, out)
        h, w = images[0].shape[:2]
        done = [True] + [False] * (len(segments) - 1)
        while not all(done):
            redo = []
            for k in range(1, len(segments)):
                if done[k] or not done[k - 1]:
                    continue
                if self._agrees(segments[k], out, w, h):
                    self._blend(segments[k], out)
                    done[k] = True
                else:
                    redo.append(k)
            # Each segment to redo continues exactly from its (final) predecessor; they run in lock-step.
            again = {k: _Segment(segments[k - 1].stream, segments[k].start, segments[k].stop) for k in redo}
            if again:
                self._track(images, list(again.values()), out)
            for k, seg in again.items():
                segments[k] = seg
                done[k] = True
            self.retracked_segments += len(again)
        self._carry = segments[-1].stream
        return out

    def _seed(self, images: list[np.ndarray], segments: list[_Segment]) -> None:
        """Start each extra segment on the detection nearest the person the previous segment starts on.

        One detector call covers every segment's first frame. Segment 0 follows
        its carried region, or MediaPipe's choice (the strongest detection);
        then, segment by segment (about a second apart), the candidate whose
        hip centre is nearest the previous choice, within ``NEAR_SEED`` of its
        region's size, is the same person (people rarely swap places within a
        second); with no such candidate the segment starts on the previous
        choice's region. :meth:`_agrees` checks each start.
        """
        if len(segments) < 2:
            return
        h, w = images[0].shape[:2]
        found = self.models.detect([images[seg.frames[0]] for seg in segments], self.settings.min_detection_confidence,
                                   limit=None)
        ref = segments[0].stream.roi
        if ref is None and found[0]:
            ref = self._roi(found[0][0], w, h)
        for seg, candidates in zip(segments[1:], found[1:]):
            rois = [self._roi(d, w, h) for d in candidates]
            if ref is None:
                if rois:
                    ref = seg.stream.roi = rois[0]
                continue
            size = max(ref[2] * w, ref[3] * h)
            gaps = [np.hypot((r[0] - ref[0]) * w, (r[1] - ref[1]) * h) / size for r in rois]
            if gaps and min(gaps) < NEAR_SEED:
                ref = rois[int(np.argmin(gaps))]
            # else the detector missed them (small, turned, occluded: tracking still holds them):
            # start from where they were; the landmark model recentres within a few frames.
            seg.stream.roi = ref.copy()

    @staticmethod
    def _roi(det, w: int, h: int) -> np.ndarray:
        return body.roi_from_points(det.keypoints[0].astype(np.float64), det.keypoints[1].astype(np.float64), w, h)

    def _agrees(self, seg: _Segment, out: BodyTrack, w: int, h: int) -> bool:
        """Whether a warm-started segment found, on its last warm-up frames, the person the track holds there."""
        last = min(3, seg.warm)
        if last == 0:
            return True
        frames = np.arange(seg.start - last, seg.start)
        ours = seg.warm_lm[-last:]
        theirs = out.landmarks[frames]
        have_ours, have_theirs = np.isfinite(ours[:, 0, 0]), np.isfinite(theirs[:, 0, 0])
        if not np.array_equal(have_ours, have_theirs):
            return False
        if not have_ours.any():
            return True
        px = np.array([w, h])
        gap = np.linalg.norm((ours[have_ours, :, :2] - theirs[have_ours, :, :2]) * px, axis=-1)
        rois = out.rois[frames[have_ours]]
        size = np.maximum(rois[:, 2] * w, rois[:, 3] * h)  # the ROI's side in pixels, about 2.5 torso lengths
        return bool((np.median(gap, axis=1) < SAME_PERSON_FRACTION * size).all())

    @staticmethod
    def _blend(seg: _Segment, out: BodyTrack) -> None:
        """Cross-fade from the track into the segment over its warm-up frames, so the hand-over has no jump."""
        frames = np.arange(seg.start - seg.warm, seg.start)
        both = np.isfinite(seg.warm_lm[:, 0, 0]) & out.present[frames]
        ramp = (np.arange(1, seg.warm + 1) / (seg.warm + 1))[both, None, None]
        f = frames[both]
        out.landmarks[f] = (1 - ramp) * out.landmarks[f] + ramp * seg.warm_lm[both]
        out.world[f] = (1 - ramp) * out.world[f] + ramp * seg.warm_world[both]

    def _track(self, images: list[np.ndarray], segments: list[_Segment], out: BodyTrack) -> None:
        """Track ``segments`` in lock-step, writing their frames (not their warm-up) into ``out``."""
        s = self.settings
        h, w = images[0].shape[:2]
        for seg in segments:
            seg.warm_lm = np.full((seg.warm, NUM_BODY, 5), np.nan)
            seg.warm_world = np.full((seg.warm, NUM_BODY, 4), np.nan)
        for step in range(max(len(seg.frames) for seg in segments)):
            active = [(seg, seg.frames[step]) for seg in segments if step < len(seg.frames)]
            for seg, _ in active:
                seg.stream.ticks += 1
            need = [(seg, i) for seg, i in active if seg.stream.roi is None]
            if need:
                dets = self.models.detect([images[i] for _, i in need], s.min_detection_confidence)
                for (seg, i), found in zip(need, dets):
                    if not found:
                        seg.stream.lose()
                        continue
                    seg.stream.roi = self._roi(found[0], w, h)
                    if i >= seg.start:
                        out.detected[i] = True
            go = [(seg, i) for seg, i in active if seg.stream.roi is not None]
            if not go:
                continue
            rois = np.stack([seg.stream.roi for seg, _ in go])
            flags, lms, worlds = self.models.landmarks([images[i] for _, i in go], rois, s.mirror_average)
            for j, (seg, i) in enumerate(go):
                if i >= seg.start:
                    out.rois[i] = rois[j]
                if flags[j] < s.min_tracking_confidence:
                    seg.stream.lose()
                    continue
                pts, world = self._accept(seg.stream, lms[j], worlds[j], w, h)
                if i < seg.start:
                    seg.warm_lm[i - seg.start + seg.warm] = pts
                    seg.warm_world[i - seg.start + seg.warm] = world
                    continue
                out.landmarks[i] = pts
                out.world[i] = world
                out.present[i] = True

    def _accept(self, st: _Stream, lm: np.ndarray, world: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
        """One frame's landmarks (33, 5) and world landmarks (33, 4), smoothed if asked; sets the next ROI."""
        time_s = st.ticks * body.FRAME_SECONDS
        scale_px = np.array([w, h, w], np.float64)
        aux = lm[33:35]
        obj = body.object_scale(aux[0, :2], aux[1, :2], w, h)
        value_scale = 1.0 / obj if obj > 0 else 1.0
        aux_f = st.aux(aux[:, :3] * scale_px, time_s, value_scale) / scale_px
        st.roi = body.roi_from_points(aux_f[0, :2], aux_f[1, :2], w, h)
        pts = lm[:33].copy()
        wpts = world[:33]
        vis = pts[:, 3]
        if self.settings.smooth_landmarks:
            vis = st.main_vis(vis)
            pts[:, :3] = st.main(pts[:, :3] * scale_px, time_s, value_scale) / scale_px
            pts[:, 3] = vis
            wvis = st.world_vis(lm[:33, 3])
            wpts = st.world(wpts, time_s, 1.0)
        else:
            wvis = vis
        return pts, np.concatenate([wpts, wvis[:, None]], axis=1)
