"""The batched body tracker: streams of frames tracked in lock-step (see body.py for the maths)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CancelledError, MocapError
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


class BodyModels:
    """The detector and landmark networks on one device, with the precision to run them in."""

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
        self.landmarker = load_module(model_path("pose_landmark/pose_landmark_full.tflite")).to(self.device)
        # Mobile networks (depthwise convolutions) run several times faster channels-last on CPU.
        self.detector = self.detector.to(memory_format=torch.channels_last)
        self.landmarker = self.landmarker.to(memory_format=torch.channels_last)
        self.anchors = body.ssd_anchors()

    def autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = self.torch.float16 if self.precision == "fp16" else self.torch.bfloat16
        return self.torch.autocast(self.device.type, dtype=dtype)

    def detect(self, frames, min_score: float) -> list:
        """frames (N, H, W, 3) uint8 on device -> N detections (or None)."""
        n, h, w, _ = frames.shape
        roi, padding = body.letterbox_roi(w, h)
        mats = body.crop_matrices(np.repeat(roi[None], n, 0), w, h, body.DETECTOR_SIZE)
        x = body.warp(self.torch, frames, mats, body.DETECTOR_SIZE, "zero") * (2.0 / 255.0) - 1.0
        x = x.contiguous(memory_format=self.torch.channels_last)
        with self.torch.inference_mode(), self.autocast():
            boxes, scores = self.detector(x)
        boxes = boxes.float().cpu().numpy()
        scores = scores.float().cpu().numpy()[..., 0]
        return [body.decode_detection(boxes[i], scores[i], self.anchors, padding, min_score) for i in range(n)]

    def landmarks(self, frames, rois: np.ndarray):
        """frames (N, H, W, 3) uint8 on device, rois (N, 5) -> body.decode_landmarks(...) arrays."""
        _, h, w, _ = frames.shape
        mats = body.crop_matrices(rois, w, h, body.LANDMARK_SIZE)
        x = body.warp(self.torch, frames, mats, body.LANDMARK_SIZE, "replicate") * (1.0 / 255.0)
        x = x.contiguous(memory_format=self.torch.channels_last)
        with self.torch.inference_mode(), self.autocast():
            outputs = self.landmarker(x)
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


class BodyTracker:
    """Tracks one person's body through a sequence of frames, in batches."""

    def __init__(self, settings: TorchPoseSettings = TorchPoseSettings(), models: BodyModels | None = None):
        self.settings = settings
        self.models = models or BodyModels(settings.device, settings.precision)
        self._carry: _Stream | None = None

    def reset(self) -> None:
        self._carry = None

    def _upload(self, images: list[np.ndarray]):
        torch = self.models.torch
        return torch.from_numpy(np.stack(images)).to(self.models.device, non_blocking=True)

    def run_chunk(self, images: list[np.ndarray]) -> BodyTrack:
        """Track through ``images`` (RGB uint8 (H, W, 3), consecutive frames of one video).

        The first segment continues from the previous call's last frame.
        """
        s = self.settings
        n = len(images)
        t_lm = np.full((n, 33, 5), np.nan)
        t_world = np.full((n, 33, 4), np.nan)
        t_present = np.zeros(n, bool)
        t_rois = np.full((n, 5), np.nan)
        t_det = np.zeros(n, bool)
        if n == 0:
            return BodyTrack(t_lm, t_world, t_present, t_rois, t_det)
        h, w = images[0].shape[:2]
        segments = [seg for seg in np.array_split(np.arange(n), min(s.batch_size, n))]
        streams = [self._carry or _Stream(s)] + [_Stream(s) for _ in segments[1:]]
        for step in range(max(len(seg) for seg in segments)):
            active = [(st, int(seg[step])) for st, seg in zip(streams, segments) if step < len(seg)]
            frames = self._upload([images[i] for _, i in active])
            for st, _ in active:
                st.ticks += 1
            need = [k for k, (st, _) in enumerate(active) if st.roi is None]
            if need:
                dets = self.models.detect(frames[need], s.min_detection_confidence)
                for k, det in zip(need, dets):
                    st, i = active[k]
                    if det is None:
                        st.lose()
                        continue
                    st.roi = body.roi_from_points(det.keypoints[0].astype(np.float64),
                                                  det.keypoints[1].astype(np.float64), w, h)
                    t_det[i] = True
            go = [k for k, (st, _) in enumerate(active) if st.roi is not None]
            if go:
                rois = np.stack([active[k][0].roi for k in go])
                flags, lms, worlds = self.models.landmarks(frames[go], rois)
                for j, k in enumerate(go):
                    st, i = active[k]
                    t_rois[i] = rois[j]
                    if flags[j] < s.min_tracking_confidence:
                        st.lose()
                        continue
                    self._accept(st, i, lms[j], worlds[j], w, h, t_lm, t_world)
                    t_present[i] = True
        self._carry = streams[-1]
        return BodyTrack(t_lm, t_world, t_present, t_rois, t_det)

    def _accept(self, st: _Stream, i: int, lm: np.ndarray, world: np.ndarray, w: int, h: int,
                t_lm: np.ndarray, t_world: np.ndarray) -> None:
        """Store frame i's landmarks (smoothed if asked) and set the stream's next ROI."""
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
        t_lm[i] = pts
        t_world[i, :, :3] = wpts
        t_world[i, :, 3] = wvis
