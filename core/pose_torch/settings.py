"""Settings and speed presets of the torch pose backend (no torch import here)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MocapError


@dataclass(frozen=True)
class TorchPoseSettings:
    """How the torch backend runs MediaPipe's pose models.

    Attributes:
        device: "auto" (CUDA when available, else CPU), "cpu" or "cuda".
        precision: "fp32"; "fp16" (CUDA only) or "bf16" run the networks under
            autocast (mixed precision); decoding stays float32/float64.
        batch_size: segments tracked in lock-step, i.e. crops per network call.
            1 reproduces MediaPipe's tracking exactly; larger batches start
            each extra segment with a detection.
        segment_frames: frames per segment in one chunk; a chunk holds
            ``batch_size * segment_frames`` decoded frames in memory.
        warmup_frames: frames each extra segment tracks before its first
            frame (from a detection) so its region and filters have settled;
            they also serve to check it follows the same person.
        max_side: frames larger than this (longer side, pixels) are downscaled
            before pose estimation; None keeps them as given.
        min_detection_confidence: detector score threshold (MediaPipe's).
        min_tracking_confidence: below this landmark-model presence the
            person is lost and the next frame runs the detector (MediaPipe's).
        smooth_landmarks: MediaPipe's One Euro smoothing of the output landmarks.
        hands: also track both hands from the body as MediaPipe Holistic does
            (hand re-crop and hand landmark models, see hands.py); False
            leaves the hands NaN.
        mirror_average: the landmark model also sees every crop mirrored, in
            a call of its own, and the metric world landmarks are the mean of
            the two (the image landmarks and the tracking stay the plain
            crop's, bit for bit): better depth for one more landmark pass per frame.
        redetect: when tracking is weak or lost, search for the followed person
            (``finder.Finder``: the frame turned four ways, their last place
            eight, a small detector threshold near it) and keep only candidates
            that are them (``core.person.Identity``). False is MediaPipe's
            tracking exactly: the strongest upright detection, whoever it is.
    """

    device: str = "auto"
    precision: str = "fp32"
    batch_size: int = 8
    segment_frames: int = 32
    warmup_frames: int = 8
    max_side: int | None = None
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    smooth_landmarks: bool = True
    hands: bool = True
    mirror_average: bool = False
    redetect: bool = True

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise MocapError(f"device must be auto, cpu or cuda, not {self.device!r}")
        if self.precision not in ("fp32", "fp16", "bf16"):
            raise MocapError(f"precision must be fp32, fp16 or bf16, not {self.precision!r}")
        if self.batch_size < 1 or self.segment_frames < 1 or self.warmup_frames < 0:
            raise MocapError("batch size and segment length must be at least 1")
        if self.max_side is not None and self.max_side < 64:
            raise MocapError("the pose input resolution must be at least 64 pixels")


@dataclass(frozen=True)
class PosePreset:
    """A speed preset of the pose stage (the frame stride is the fitting preset's)."""

    max_side: int | None
    precision_cuda: str
    batch_size_cuda: int


CPU_BATCH = 1
"""Batch size on a CPU in every preset: one stream is MediaPipe's tracking exactly, and
batching buys little there (bench/pose.py: 108 fps at batch 1, 100 at 8 on 2 cores),
while each extra segment costs its warm-up frames. A GPU wants many crops per call."""

PRESETS = {
    # Small frames, half precision on a GPU: a quick look.
    "fast": PosePreset(max_side=640, precision_cuda="fp16", batch_size_cuda=64),
    "balanced": PosePreset(max_side=960, precision_cuda="fp16", batch_size_cuda=64),
    # Full frames, full precision.
    "accurate": PosePreset(max_side=None, precision_cuda="fp32", batch_size_cuda=32),
}


def settings_for_preset(name: str, device: str = "auto", cuda: bool = False) -> TorchPoseSettings:
    """The settings of a preset; ``cuda`` says whether the resolved device is a GPU."""
    if name not in PRESETS:
        raise MocapError(f"unknown pose preset {name!r}; choose one of {', '.join(PRESETS)}")
    p = PRESETS[name]
    return TorchPoseSettings(
        device=device,
        precision=p.precision_cuda if cuda else "fp32",
        batch_size=p.batch_size_cuda if cuda else CPU_BATCH,
        max_side=p.max_side,
    )
