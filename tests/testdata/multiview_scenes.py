"""Synthetic multi-view scenes for the multiview tests and bench: a moving adult skeleton and cameras around it.

The skeleton has MediaPipe's 33 body points with the adult proportions of
``core.multiview.calibrate.ADULT_BONES`` (a 1.70 m person), z up, metres;
its arms and legs swing by forward kinematics (bone lengths stay exact), the
whole body walks and turns with its lowest foot on the floor (z = 0.02), as a continuous function of time so views at
any frame rate sample the same motion.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

from core.landmarks import BODY, NUM_BODY, PoseSequence
from core.multiview.rig import CameraRig
from core.rotations import axis_angle_to_matrix

_TEMPLATE = {  # subject's left at +x, facing -y, z up; metres
    "nose": (0.0, -0.09, 1.60), "left_eye": (0.03, -0.08, 1.64), "right_eye": (-0.03, -0.08, 1.64),
    "left_ear": (0.07, -0.01, 1.62), "right_ear": (-0.07, -0.01, 1.62),
    "left_shoulder": (0.18, 0.0, 1.42), "right_shoulder": (-0.18, 0.0, 1.42),
    "left_elbow": (0.18, 0.0, 1.14), "right_elbow": (-0.18, 0.0, 1.14),
    "left_wrist": (0.18, 0.0, 0.89), "right_wrist": (-0.18, 0.0, 0.89),
    "left_index": (0.18, -0.02, 0.79), "right_index": (-0.18, -0.02, 0.79),
    "left_hip": (0.11, 0.0, 0.92), "right_hip": (-0.11, 0.0, 0.92),
    "left_knee": (0.11, 0.0, 0.50), "right_knee": (-0.11, 0.0, 0.50),
    "left_ankle": (0.11, 0.0, 0.09), "right_ankle": (-0.11, 0.0, 0.09),
    "left_heel": (0.11, 0.05, 0.03), "right_heel": (-0.11, 0.05, 0.03),
    "left_foot_index": (0.11, -0.14, 0.02), "right_foot_index": (-0.11, -0.14, 0.02),
}
# (root joint, the joints it carries); a second entry is the chain's middle joint.
_CHAINS = [(side + "_shoulder", side + "_elbow", (side + "_wrist", side + "_index")) for side in ("left", "right")] + \
          [(side + "_hip", side + "_knee", (side + "_ankle", side + "_heel", side + "_foot_index"))
           for side in ("left", "right")]


def _smooth(t: np.ndarray, rng: np.random.Generator, amplitude: float, count: int = 4) -> np.ndarray:
    """(T,) a non-periodic smooth signal: a few sinusoids of incommensurate frequencies (0.2-1.5 Hz)."""
    freqs = rng.uniform(0.2, 1.5, count)
    phases = rng.uniform(0, 2 * np.pi, count)
    return amplitude * np.sin(2 * np.pi * freqs[:, None] * t[None] + phases[:, None]).sum(0) / np.sqrt(count)


def skeleton(times: np.ndarray, seed: int = 0, centre=(0.0, 0.0), walk: float = 0.6) -> np.ndarray:
    """(T, 33, 3) world points (z up, metres) of the moving person at ``times`` seconds; unused points copy the nose."""
    rng = np.random.default_rng(seed)
    t = np.asarray(times, np.float64)
    base = np.zeros((NUM_BODY, 3))
    base[:] = _TEMPLATE["nose"]
    for name, p in _TEMPLATE.items():
        base[BODY[name]] = p
    for i in (1, 3, 4, 6, 9, 10):  # inner/outer eye corners and mouth: near the eyes and nose
        base[i] = base[BODY["nose"]] + [0.02 * (1 if i in (1, 3, 9) else -1), 0.0, 0.03 if i < 9 else -0.05]
    for i, src in ((17, "left_index"), (18, "right_index"), (21, "left_index"), (22, "right_index")):
        base[i] = _TEMPLATE[src] + np.array([0.02 if i % 2 else -0.02, 0.02, 0.03])
    pts = np.repeat(base[None], len(t), 0)
    for root, mid, ends in _CHAINS:
        r, m = BODY[root], BODY[mid]
        extras = {"left_shoulder": [17, 21], "right_shoulder": [18, 22]}.get(root, [])  # pinky, thumb
        lower = [BODY[e] for e in ends] + extras
        carried = [m] + lower
        knee = mid.endswith("knee")
        bend = np.abs(_smooth(t, rng, 1.0)) * (-1.0 if knee else 1.0)
        R_mid = axis_angle_to_matrix(np.stack([bend, np.zeros_like(t), np.zeros_like(t)], -1))
        pts[:, lower] = np.einsum("tij,tkj->tki", R_mid, pts[:, lower] - pts[:, m:m + 1]) + pts[:, m:m + 1]
        swing = np.stack([_smooth(t, rng, 0.9), _smooth(t, rng, 0.3), _smooth(t, rng, 0.5 if root.endswith(
            "shoulder") else 0.2)], -1)
        R_root = axis_angle_to_matrix(swing)
        pts[:, carried] = np.einsum("tij,tkj->tki", R_root, pts[:, carried] - pts[:, r:r + 1]) + pts[:, r:r + 1]
    yaw = _smooth(t, rng, 1.2) + 0.4 * t
    R_body = axis_angle_to_matrix(np.stack([np.zeros_like(t), np.zeros_like(t), yaw], -1))
    hips = 0.5 * (base[BODY["left_hip"]] + base[BODY["right_hip"]])
    move = np.stack([centre[0] + _smooth(t, rng, walk), centre[1] + _smooth(t, rng, walk), np.zeros_like(t)], -1)
    out = np.einsum("tij,tkj->tki", R_body, pts - hips) + hips + move[:, None]
    # Always a foot on the floor: the lowest foot point of each frame at 2 cm (a sole's thickness).
    feet = [BODY[n] for n in ("left_heel", "right_heel", "left_foot_index", "right_foot_index")]
    out[..., 2] -= out[:, feet, 2].min(axis=1, keepdims=True) - 0.02
    return out


def look_at_rig(centres: np.ndarray, target=(0.0, 0.0, 1.0), focals=None, sizes=None,
                roll_degrees=None) -> CameraRig:
    """Cameras at ``centres`` (C, 3) (z-up world) looking at ``target``, OpenCV axes, image up = world up."""
    centres = np.asarray(centres, np.float64)
    C = len(centres)
    sizes = np.array([[1280, 720]] * C if sizes is None else sizes)
    focals = np.full(C, 1000.0) if focals is None else np.asarray(focals, np.float64)
    R = np.zeros((C, 3, 3))
    for c in range(C):
        z = np.asarray(target) - centres[c]
        z /= np.linalg.norm(z)
        x = np.cross(z, [0.0, 0.0, 1.0])
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        R[c] = np.stack([x, y, z])
        if roll_degrees is not None:
            R[c] = axis_angle_to_matrix(np.array([0.0, 0.0, np.radians(roll_degrees[c])])) @ R[c]
    K = np.zeros((C, 3, 3))
    K[:, 0, 0] = K[:, 1, 1] = focals
    K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = sizes[:, 0] / 2, sizes[:, 1] / 2, 1.0
    return CameraRig(names=tuple(f"cam{c}" for c in range(C)), K=K, R=R, t=-np.einsum("cij,cj->ci", R, centres),
                     image_sizes=sizes, world_up=[0.0, 0.0, 1.0])


def ring(count: int, span_degrees: float, radius: float = 3.5, heights=None) -> np.ndarray:
    """(count, 3) camera centres on a circle round the origin, ``span_degrees`` from first to last."""
    angles = np.radians(np.linspace(0.0, span_degrees, count)) - np.pi / 2
    heights = np.linspace(1.0, 1.8, count) if heights is None else np.asarray(heights)
    return np.stack([radius * np.cos(angles), radius * np.sin(angles), heights], -1)


def observe(rig: CameraRig, points: np.ndarray, noise_px: float = 0.0, seed: int = 0) -> np.ndarray:
    """(C, T, 33, 3) pixels + visibility 1 of world points (T, 33, 3), with Gaussian pixel noise."""
    rng = np.random.default_rng(seed)
    uv = rig.project(points)
    uv = uv + rng.normal(0.0, noise_px, uv.shape) if noise_px else uv
    return np.concatenate([uv, np.ones(uv.shape[:-1] + (1,))], -1)


def sequence(body_2d: np.ndarray, fps: float, image_size=(1280, 720), first_frame: int = 0) -> PoseSequence:
    """A PoseSequence holding ``body_2d`` (T, 33, 3) at ``fps``, its frames numbered from ``first_frame``."""
    seq = PoseSequence.empty(len(body_2d), fps, image_size)
    seq.frame_indices = np.arange(len(body_2d), dtype=np.int64) + first_frame
    seq.body_2d = np.asarray(body_2d, np.float32)
    seq.present[:] = np.isfinite(body_2d[:, 0, 0])
    return seq


# ---------------------------------------------------------------------------- sound


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True, timeout=60)


AUDIO_RATE = 48000


def scene_audio(duration: float, seed: int) -> np.ndarray:
    """(N,) the sound of the scene: quiet hiss, a clap at 1.3 s and footsteps at irregular times."""
    rng = np.random.default_rng(seed)
    sound = rng.normal(0.0, 0.002, int(duration * AUDIO_RATE))
    for when, loudness in ((1.3, 0.8), (2.45, 0.2), (3.1, 0.25), (3.62, 0.2), (4.5, 0.3)):
        start = int(when * AUDIO_RATE)
        length = int(0.03 * AUDIO_RATE)  # a 30 ms burst of noise decaying over 6 ms
        burst = rng.normal(0.0, loudness, length) * np.exp(-np.arange(length) / (0.006 * AUDIO_RATE))
        sound[start:start + len(burst)] += burst
    return sound


def write_wav(path, samples: np.ndarray) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(AUDIO_RATE)
        out.writeframes((np.clip(samples, -1, 1) * 32000).astype("<i2").tobytes())


def phone_recording(tmp_path, name: str, scene: np.ndarray, start: float, gain: float, fps: int,
                    seed: int) -> Path:
    """An MP4 (tiny video + AAC sound) that started recording ``start`` seconds into the scene."""
    rng = np.random.default_rng(seed)
    part = scene[int(start * AUDIO_RATE):] * gain + rng.normal(0.0, 0.003, len(scene) - int(start * AUDIO_RATE))
    wav = tmp_path / f"{name}.wav"
    write_wav(wav, part)
    out = tmp_path / f"{name}.mp4"
    _ffmpeg("-f", "lavfi", "-i", f"color=c=gray:s=64x48:r={fps}", "-i", str(wav), "-shortest",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", str(out))
    return out


def silent_video(path: Path) -> Path:
    """A 2 s MP4 without a sound track."""
    _ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=64x48:r=25", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
            str(path))
    return path
