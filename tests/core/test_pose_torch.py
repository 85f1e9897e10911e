"""The torch pose backend against MediaPipe itself: raw network outputs, crops, and landmarks on the demo clip.

MediaPipe's wheel has no Python TFLite interpreter, but its graph runtime runs
InferenceCalculator: a three-node graph (ImageToTensor -> Inference ->
TensorsToFloats) gives the TFLite outputs our executor must reproduce.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
mp = pytest.importorskip("mediapipe")
cv2 = pytest.importorskip("cv2")

from core.pose_torch import TorchPoseSettings  # noqa: E402
from core.pose_torch import body  # noqa: E402
from core.pose_torch.graph import load_module, load_plan  # noqa: E402
from core.pose_torch.tracker import BodyModels, BodyTracker, model_path  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parent))
from video_frames import read_frames  # noqa: E402


def _mediapipe_tensors(image, size, lo, model=None, n_out=0, keep_aspect=False, border="BORDER_ZERO"):
    """Run MediaPipe's ImageToTensor (and optionally a TFLite model) on one image; float arrays out."""
    from google.protobuf import text_format
    from mediapipe.framework import calculator_pb2
    from mediapipe.python import packet_creator, packet_getter

    nodes = [f'''node {{ calculator: "ImageToTensorCalculator" input_stream: "IMAGE:image" output_stream: "TENSORS:x"
      options {{ [mediapipe.ImageToTensorCalculatorOptions.ext] {{ output_tensor_width: {size}
      output_tensor_height: {size} keep_aspect_ratio: {str(keep_aspect).lower()} border_mode: {border}
      output_tensor_float_range {{ min: {lo} max: 1.0 }} }} }} }}''']
    if model is None:
        names = ["x"]
        nodes.append('node { calculator: "TensorsToFloatsCalculator" input_stream: "TENSORS:x" output_stream: "FLOATS:f0" }')
    else:
        names = [f"s{i}" for i in range(n_out)]
        ranges = " ".join(f"ranges {{ begin: {i} end: {i + 1} }}" for i in range(n_out))
        nodes.append(f'''node {{ calculator: "InferenceCalculatorCpu" input_stream: "TENSORS:x" output_stream: "TENSORS:y"
          options {{ [mediapipe.InferenceCalculatorOptions.ext] {{ model_path: "{model}" }} }} }}''')
        nodes.append(f'''node {{ calculator: "SplitTensorVectorCalculator" input_stream: "y"
          {" ".join(f'output_stream: "{n}"' for n in names)}
          options {{ [mediapipe.SplitVectorCalculatorOptions.ext] {{ {ranges} }} }} }}''')
        for i, n in enumerate(names):
            nodes.append(f'node {{ calculator: "TensorsToFloatsCalculator" input_stream: "TENSORS:{n}" output_stream: "FLOATS:f{i}" }}')
    outs = "\n".join(f'output_stream: "f{i}"' for i in range(len(names)))
    config = text_format.Parse('input_stream: "image"\n' + outs + "\n" + "\n".join(nodes), calculator_pb2.CalculatorGraphConfig())
    graph = mp.CalculatorGraph(graph_config=config)
    res = {}
    for i in range(len(names)):
        graph.observe_output_stream(f"f{i}", lambda name, p: res.__setitem__(name, np.array(packet_getter.get_float_list(p))))
    graph.start_run()
    frame = packet_creator.create_image_frame(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
    graph.add_packet_to_input_stream("image", frame.at(0))
    graph.close()
    return [res[f"f{i}"] for i in range(len(names))]


@pytest.fixture(scope="module")
def clip_frames(short_clip):
    return read_frames(short_clip, 24)


@pytest.fixture(scope="module")
def models():
    return BodyModels("cpu")


@pytest.mark.parametrize("name,size,lo,n_out", [
    ("pose_detection/pose_detection.tflite", 224, -1.0, 2),
    ("pose_landmark/pose_landmark_full.tflite", 256, 0.0, 5),
    ("hand_landmark/hand_landmark_full.tflite", 224, 0.0, 4),
    ("holistic_landmark/hand_recrop.tflite", 256, 0.0, 1),  # PRELU, channel padding, strided slices
])
def test_executor_reproduces_tflite_outputs(clip_frames, name, size, lo, n_out):
    import torch

    image = np.ascontiguousarray(cv2.resize(clip_frames[20][:, 150:510], (size, size), interpolation=cv2.INTER_AREA))
    reference = _mediapipe_tensors(image, size, lo, model=str(model_path(name)), n_out=n_out)
    module = load_module(model_path(name))
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0 * (1.0 - lo) + lo
    with torch.inference_mode():
        ours = [o.numpy().ravel() for o in module(x)]
    assert len(ours) == len(reference)
    for ref, out in zip(reference, ours):
        assert out.shape == ref.shape
        # float32 through ~100 layers summed in another order: 1e-3 of the output's range (measured: <3e-4).
        np.testing.assert_allclose(out, ref, rtol=0, atol=1e-3 * max(1.0, np.abs(ref).max()))


def test_detector_input_is_mediapipes_bytes(clip_frames):
    import torch

    image = clip_frames[4]
    h, w = image.shape[:2]
    reference = _mediapipe_tensors(image, 224, -1.0, keep_aspect=True)[0].reshape(224, 224, 3)
    roi, _ = body.letterbox_roi(w, h)
    ours = body.warp(torch, torch.from_numpy(image[None]), body.crop_matrices(roi[None], w, h, 224), 224, "zero")
    ours = ours[0].permute(1, 2, 0).numpy() * (2.0 / 255.0) - 1.0
    np.testing.assert_allclose(ours, reference, atol=1e-6)


def test_cpu_crops_are_mediapipes_bytes(clip_frames, models):
    image = clip_frames[4]
    h, w = image.shape[:2]
    reference = _mediapipe_tensors(image, 224, -1.0, keep_aspect=True)[0].reshape(224, 224, 3)
    roi, _ = body.letterbox_roi(w, h)
    ours = models.crop([image], roi[None], 224, "zero")[0].permute(1, 2, 0).numpy() * (2.0 / 255.0) - 1.0
    np.testing.assert_allclose(ours, reference, atol=1e-6)


def test_traced_networks_serve_any_batch_and_skip_only_the_mask(clip_frames, models):
    import torch

    full = load_module(model_path("pose_landmark/pose_landmark_full.tflite"))
    crops = np.stack([cv2.resize(f[:, 150:510], (256, 256)) for f in clip_frames[:3]])
    x = torch.from_numpy(crops).permute(0, 3, 1, 2).float().div(255.0).contiguous(memory_format=torch.channels_last)
    models._run(models.landmarker, x[:1])  # the trace is made at batch 1 ...
    ours = models._run(models.landmarker, x)  # ... and serves batch 3
    with torch.inference_mode():
        reference = full(x)
    assert ours[2].numel() == 0  # the segmentation mask is never computed
    for i in (0, 1, 3, 4):
        assert ours[i].shape == reference[i].shape
        np.testing.assert_allclose(ours[i].numpy(), reference[i].numpy(), rtol=0,
                                   atol=1e-4 * max(1.0, float(reference[i].abs().max())))


def test_batched_tracking_follows_the_person_mediapipe_follows(demo_video, models):
    """The demo has a man on a box and people walking by; the detector often finds only the others.

    Segments start from detections (or the man's last region), are checked
    against the track and tracked again where they found someone else: the
    batched track must hold the same man on every frame the exact one does.
    """
    frames = [cv2.resize(f, (640, 360), interpolation=cv2.INTER_AREA) for f in read_frames(demo_video, 150)]
    # MediaPipe's re-detection (redetect=False): this pins the batching against MediaPipe's exact tracking.
    exact = BodyTracker(TorchPoseSettings(device="cpu", batch_size=1, redetect=False), models).run_chunk(frames)
    tracker = BodyTracker(TorchPoseSettings(device="cpu", batch_size=8, segment_frames=19, redetect=False), models)
    batched = tracker.run_chunk(frames)
    assert exact.present.sum() >= 140
    assert (batched.present == exact.present).mean() >= 0.97
    both = batched.present & exact.present
    hips = lambda t: t.landmarks[both][:, [23, 24], :2].mean(1) * [640, 360]  # noqa: E731
    gap = np.linalg.norm(hips(batched) - hips(exact), axis=1)
    assert gap.max() < 25.0  # pixels: never someone else (people here stand 170+ px apart)
    assert np.median(gap) < 2.0


def test_weights_are_cached_by_file_hash(tmp_path, monkeypatch):
    path = model_path("hand_landmark/hand_landmark_full.tflite")
    plan, consts = load_plan(path, cache=tmp_path)
    entries = list(tmp_path.glob("hand_landmark_full-*.npz"))
    assert len(entries) == 1
    again, consts2 = load_plan(path, cache=tmp_path)
    assert again == plan and consts2.keys() == consts.keys()
    # Converting code of another version (an update that forgot PLAN_VERSION) converts again, not reusing the plan,
    # and a conversion no run used for KEEP_DAYS days is deleted when a new one is written.
    import hashlib
    import os
    import time

    from core.pose_torch import graph

    old = time.time() - (graph.KEEP_DAYS + 1) * 86400.0
    os.utime(entries[0], (old, old))
    monkeypatch.setattr(graph, "converter_digest", lambda: hashlib.sha256(b"other converting code"))
    converted = []
    real = graph.convert
    monkeypatch.setattr(graph, "convert", lambda model: converted.append(1) or real(model))
    load_plan(path, cache=tmp_path)
    assert converted == [1]
    assert [p.name for p in tmp_path.glob("hand_landmark_full-*.npz")] != [entries[0].name]
    assert len(list(tmp_path.glob("hand_landmark_full-*.npz"))) == 1  # the unused one is gone


def test_import_is_light():
    code = "import sys; import core.pose_torch; assert 'torch' not in sys.modules and 'bpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def _mediapipe_pose(frames, smooth):
    lm = np.full((len(frames), 33, 4), np.nan)
    world = np.full((len(frames), 33, 3), np.nan)
    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1, smooth_landmarks=smooth) as pose:
        for i, f in enumerate(frames):
            r = pose.process(f)
            if r.pose_landmarks is not None:
                lm[i] = [(p.x, p.y, p.z, p.visibility) for p in r.pose_landmarks.landmark]
                world[i] = [(p.x, p.y, p.z) for p in r.pose_world_landmarks.landmark]
    return lm, world


@pytest.mark.parametrize("smooth", [False, True])
def test_landmarks_match_mediapipe_on_the_demo_clip(clip_frames, models, smooth):
    frames = clip_frames
    h, w = frames[0].shape[:2]
    ref, ref_world = _mediapipe_pose(frames, smooth)
    # redetect=False: MediaPipe's own choice when the person is lost (the strongest upright detection).
    track = BodyTracker(TorchPoseSettings(device="cpu", batch_size=1, smooth_landmarks=smooth, redetect=False),
                        models).run_chunk(frames)
    ref_present = np.isfinite(ref[:, 0, 0])
    assert ref_present.sum() >= 15
    np.testing.assert_array_equal(track.present, ref_present)
    both = ref_present & track.present
    err = np.hypot((ref[both, :, 0] - track.landmarks[both, :, 0]) * w, (ref[both, :, 1] - track.landmarks[both, :, 1]) * h)
    visible = ref[both, :, 3] > 0.5
    assert (err[visible] < 0.01 * max(w, h)).mean() >= 0.95
    world_err = np.linalg.norm(ref_world[both] - track.world[both, :, :3], axis=-1)
    assert np.median(world_err) < 0.01


def test_mirror_average_moves_only_the_world_landmarks_and_puts_the_mirror_back(clip_frames, models):
    plain = BodyTracker(TorchPoseSettings(device="cpu", batch_size=1), models).run_chunk(clip_frames)
    both = BodyTracker(TorchPoseSettings(device="cpu", batch_size=1, mirror_average=True), models).run_chunk(clip_frames)
    # Tracking, presence and image landmarks are the plain crop's, exactly.
    np.testing.assert_array_equal(both.present, plain.present)
    np.testing.assert_array_equal(both.rois, plain.rois)
    np.testing.assert_array_equal(both.landmarks, plain.landmarks)
    # The world landmarks move by half the network's disagreement with its mirror image: a few centimetres
    # (3 here). A mirror put back without swapping left and right, or without turning x round, pulls every
    # point towards the midline instead: 11 cm median, the shoulders by their whole half-width (16 cm).
    present = plain.present
    assert present.sum() >= 20
    gap = np.linalg.norm(both.world[present, :, :3] - plain.world[present, :, :3], axis=-1)
    assert 0.002 < np.median(gap) < 0.06
    half_width = 0.5 * np.linalg.norm(plain.world[present, 11, :3] - plain.world[present, 12, :3], axis=-1)
    assert np.median(gap[:, [11, 12]]) < 0.3 * np.median(half_width)


def test_estimate_body_fills_a_pose_sequence(clip_frames, models):
    from core.pose_torch import estimate_body

    frames = clip_frames[:12]
    h, w = frames[0].shape[:2]
    seq = estimate_body(((30 + i, f) for i, f in enumerate(frames)), num_frames=12, fps=30.0, image_size=(2 * w, 2 * h),
                        settings=TorchPoseSettings(device="cpu", batch_size=2, segment_frames=3, warmup_frames=2,
                                                   hands=False),
                        models=models)
    assert seq.body_2d.shape == (12, 33, 3) and seq.body_world.shape == (12, 33, 4)
    assert seq.frame_indices.tolist() == list(range(30, 42))
    assert np.isnan(seq.left_hand).all() and np.isnan(seq.face).all()
    alone = BodyTracker(TorchPoseSettings(device="cpu", batch_size=1), models).run_chunk(frames)
    np.testing.assert_array_equal(seq.present, alone.present)
    assert seq.present.sum() >= 8
    pts = seq.body_2d[seq.present]
    assert np.isfinite(pts).all() and (pts[..., 0] < 2 * w).all()
    assert not np.isfinite(seq.body_2d[~seq.present]).any()
