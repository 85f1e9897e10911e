"""The networks of the body tracker on one device: the pose detector and the landmark model."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..errors import MocapError
from . import body


@contextlib.contextmanager
def one_cpu_thread(device=None) -> Iterator[None]:
    """Run torch's CPU ops on one thread inside the block (restored after; no effect on a CUDA
    ``device``, a ``torch.device``; None: the CPU).

    The fit's tensors and the person search's batch-1 crops are small, so an op split over
    threads gains little, and when another process (or Holistic's own threads) holds a core every
    parallel op waits for the descheduled thread: on the 2-core bench machine under load the
    balanced fit took 32 s on torch's default 2 threads against 3.8 s on one, and the demo's
    capture with the person search 100.7 s CPU against 30.6 s. One thread also makes a take
    independent of the machine's core count (threads change the reductions' rounding)."""
    if device is not None and device.type != "cpu":
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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


TRACE_VERSION = 1
"""Version of the traces kept on disk (:class:`Network`); a change of what a trace is bumps it."""


def _trace(net, x):
    """``net`` traced on the first item of ``x`` (a trace serves every batch size; made at batch 1, its run costs
    least)."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings about Python ints taken from shapes
        return torch.jit.trace(net, x[:1], check_trace=False)


class Network:
    """One of MediaPipe's networks (``name``, a file of the wheel; ``outputs`` as ``graph.load_module``'s) on
    ``device``, channels-last: its torch module, built when first needed, and its TorchScript traces per input
    shape.

    On the CPU the traces are kept on disk beside the converted models (``graph.cache_dir``), keyed by the
    model file, the code that builds its module and the torch version: a capture that follows its person loads
    them (0.02 s of CPU) instead of reading the converted model and tracing it (0.5-0.7 s of CPU on the bench
    machine, paid by every capture that needs the person searched for, issue 16). Same outputs to the bit.
    """

    def __init__(self, name: str, outputs: list[int] | None, device) -> None:
        self.name = name
        self.path = model_path(name)  # a wheel without it says so now, not at the first frame searched
        self.outputs = outputs
        self.device = device
        self._module = None
        self._traces: dict[tuple, object] = {}

    @property
    def module(self):
        """The network as a torch module (float32, eager), built on first use."""
        if self._module is None:
            import torch

            from .graph import load_module

            module = load_module(self.path, outputs=self.outputs).to(self.device)
            # Mobile networks (depthwise convolutions) run several times faster channels-last on CPU.
            self._module = module.to(memory_format=torch.channels_last)
        return self._module

    def __call__(self, x):
        return self.module(x)

    def traced(self, x):
        """The trace that runs ``x``'s shape (N, C, H, W), from memory, from disk (CPU) or made now."""
        shape = tuple(x.shape[1:])
        fn = self._traces.get(shape)
        if fn is None:
            fn = self._traces[shape] = self._load_or_trace(x)
        return fn

    def _entry(self, shape: tuple) -> Path | None:
        """The trace's file on disk for input ``shape`` (C, H, W) without its content's digest (the file is
        ``<this stem>-<digest>.pt``, :func:`_content_digest`), or None (off the CPU)."""
        if self.device.type != "cpu":
            return None
        import torch

        from . import graph

        digest = graph.converter_digest()  # the code that builds the module ...
        digest.update(Path(__file__).read_bytes())  # ... and runs it
        digest.update(self.path.read_bytes())
        digest.update(repr((self.outputs, shape, torch.__version__, graph.PLAN_VERSION)).encode())
        return graph.cache_dir() / f"{Path(self.name).stem}-trace-{digest.hexdigest()[:24]}-v{TRACE_VERSION}"

    def _load_or_trace(self, x):
        import io
        import threading
        import warnings

        import torch

        from . import graph

        entry = self._entry(tuple(x.shape[1:]))
        if entry is not None:
            for path in sorted(entry.parent.glob(entry.name + "-*.pt")) if entry.parent.is_dir() else ():
                try:
                    data = path.read_bytes()
                    if path.stem.rsplit("-", 1)[1] != _content_digest(data):
                        continue  # damaged on disk (a flipped byte still loads, and reads wrong): made again below
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit's, as the traces made here
                        fn = torch.jit.load(io.BytesIO(data), map_location=self.device)
                    graph.touch(path)  # in use: not forgotten (``graph.forget_unused``)
                    return fn
                except (OSError, RuntimeError, ValueError):
                    continue  # unreadable: made again below
        fn = _trace(self.module, x)
        if entry is not None:
            tmp = entry.with_name(entry.name + f".{os.getpid()}-{threading.get_ident()}.tmp")
            try:
                buffer = io.BytesIO()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    torch.jit.save(fn, buffer)
                data = buffer.getvalue()
                entry.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_bytes(data)
                tmp.replace(entry.with_name(f"{entry.name}-{_content_digest(data)}.pt"))
                graph.forget_unused(entry.parent, ("*-trace-*.pt", "*-trace-*.tmp"))
            except (OSError, RuntimeError):
                tmp.unlink(missing_ok=True)  # a read-only or full disk only costs the tracing on the next run
        return fn


def _content_digest(data: bytes) -> str:
    """The first 16 hex digits of ``data``'s SHA-256: a kept trace's name carries it, checked before it is loaded."""
    return hashlib.sha256(data).hexdigest()[:16]


class BodyModels:
    """The detector and landmark networks on one device, with the precision to run them in.

    Crops are cut on the CPU by OpenCV's ``warpPerspective`` (what MediaPipe's
    CPU graph calls, so the bytes agree) and on a GPU by :func:`body.warp`,
    its integer emulation. In float32 each network runs as a TorchScript trace
    per input shape, any batch size (made on first use; on the CPU kept on disk, :class:`Network`): the graph
    executor's per-node Python costs as much as the convolutions at batch 1 on a CPU.
    """

    def __init__(self, device: str = "auto", precision: str = "fp32"):
        import torch

        self.torch = torch
        self.device = torch.device(resolve_device(device))
        if precision not in ("fp32", "fp16", "bf16"):
            raise MocapError(f"precision must be fp32, fp16 or bf16, not {precision!r}")
        if precision == "fp16" and self.device.type == "cpu":
            raise MocapError("fp16 needs a CUDA device; on the CPU use fp32 or bf16")
        self.precision = precision
        self.detector = Network("pose_detection/pose_detection.tflite", None, self.device)
        # Outputs: landmarks, presence, segmentation mask (unused, not computed), heatmap, world landmarks.
        self.landmarker = Network("pose_landmark/pose_landmark_full.tflite", [0, 1, 3, 4], self.device)
        self.anchors = body.ssd_anchors()

    def autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = self.torch.float16 if self.precision == "fp16" else self.torch.bfloat16
        return self.torch.autocast(self.device.type, dtype=dtype)

    def _run(self, net: Network, x):
        """``net(x)``: traced per input shape in float32 (:meth:`Network.traced`), eager under autocast."""
        torch = self.torch
        with torch.inference_mode():
            if self.precision != "fp32":
                with self.autocast():
                    return net(x)
            fn = net.traced(x)  # a trace serves every batch size (checked in the tests)
            # Unoptimized: the graph executor's profiling and optimizing passes on a trace's first two calls cost
            # 2-6 times a call (75 and 94 ms against 14 for the landmark model at batch 1 and 4), which a person
            # search on a handful of frames pays in full, and they gain nothing here (the same outputs bit for
            # bit, the same speed after). The flag is per thread.
            with torch.jit.optimized_execution(False):
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
