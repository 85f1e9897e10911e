"""One performance filmed by several phones: per-camera renders with sound, the true rig and offsets (issue 20).

A ``MultiViewSpec`` places C phones around one stretch of motion, like people
filming on tripods or in hand: heights 0.8-2 m, 60-180 degrees apart, each
with its own field of view, image size, frame rate and start time (up to 2 s
after the first). Each phone records from its start to the end of the take,
so the views overlap for ``seconds - max(start)``. Every view is rendered by
the ordinary render process (:mod:`groundtruth.render`) into ``cam_<k>/``
with its own ``truth.npz`` (the keys of :mod:`groundtruth.truth`, in that
camera's frame, on that camera's frames). One sound track for the whole take,
a clap and a thud at each foot's touch-down, is cut at each phone's start,
given the phone's own gain and noise, and muxed into its MP4 with FFmpeg
(``imageio_ffmpeg.get_ffmpeg_exe()``), so the videos can be synced by sound.

Folder ``$BLENDER_MOCAP_CACHE/bench/multiview/<name>-<key>/``:

- ``cam_<k>/clip.mp4`` (video + AAC sound), ``cam_<k>/truth.npz``;
- ``rig.json``: the true cameras (``core.multiview.rig.save_rig`` format) in
  Blender's world (Z up, metres);
- ``multiview.npz``: ``names`` (C,) str, ``start_seconds`` (C,) when each
  phone started, seconds on the take's clock; ``offsets_seconds`` (C,) = start
  - start of camera 0 (a frame at time t of video k shows the moment t +
  offsets_seconds[k] of video 0); ``fps`` (C,); ``frames`` (C,) int;
  ``clap_seconds`` () the clap on the take's clock; ``world_up`` (3,);
  ``floor_height`` ().
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import shutil
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .bvh import blender_from_bvh, bvh_forward_kinematics, resample, write_bvh
from .cache import RENDER_VERSION, cache_root, source_motion
from .camera import choose_camera
from .clips import CMU_RIG, ClipSpec, RenderSettings
from .truth import TRUTH_FILE, VIDEO_FILE, Clip, _fk_error, _render, _Scene, _truth, _write_video, foot_contacts

MULTIVIEW_VERSION = 1
"""Bump when the sound, the camera placement or the files change: it is part of the cache key."""
AUDIO_RATE = 48000


@dataclass(frozen=True)
class Phone:
    """One phone: where it stands, its lens and picture, when it starts.

    Attributes:
        azimuth_degrees: around the subject from their mean front (positive: towards their right).
        height_m: camera height above the floor.
        hfov_degrees: horizontal field of view.
        width, height: picture size in pixels (portrait when height > width).
        fps: frame rate.
        start_seconds: when it starts recording, seconds after the take's clock starts (0 to 2).
        gain: loudness of the take's sound at this phone.
    """

    azimuth_degrees: float
    height_m: float
    hfov_degrees: float
    width: int
    height: int
    fps: float
    start_seconds: float
    gain: float = 1.0


@dataclass(frozen=True)
class MultiViewSpec:
    """A take filmed by ``phones``: ``seconds`` of ``bvh`` from ``start_seconds`` of the source file."""

    name: str
    bvh: str
    start_seconds: float
    seconds: float
    phones: tuple[Phone, ...]
    clap_seconds: float = 2.3


FOUR_PHONES = MultiViewSpec(
    "mv_cmu_01_03", "01_03.bvh", start_seconds=14.0, seconds=5.0, phones=(
        Phone(20.0, 1.5, 62.0, 640, 360, 30.0, 0.0, 1.0),
        Phone(110.0, 0.8, 48.0, 360, 640, 25.0, 1.37, 0.6),
        Phone(200.0, 2.0, 58.0, 480, 360, 30.0, 0.62, 0.8),
        Phone(290.0, 1.2, 70.0, 512, 384, 30.0, 1.85, 0.45),
    ))
"""The benchmark take: CMU 01_03 (a walk over uneven ground), four phones 90 degrees apart.
Cameras 0 and 1 are the 2-camera rig (90 degrees apart), 0-2 the 3-camera one."""

LONG_FOUR_PHONES = dataclasses.replace(FOUR_PHONES, name="mv_cmu_01_03_long", seconds=12.0)
"""The same four phones on 12 s of the same walk from the same start (to 26 s of the 37.6 s file): all four
film 10.15 s together, 304 of camera 0's frames, the size of issue 20's calibration cost target
(4 cameras x 300 frames), where ``FOUR_PHONES`` gives them 94. The person loops the same 1.4 m x 1.3 m of
floor about twice over."""

TAKES = {"short": FOUR_PHONES, "long": LONG_FOUR_PHONES}
"""The benchmark takes by name (``bench multiview --take``)."""


def multiview_key(spec: MultiViewSpec) -> str:
    blob = json.dumps({"spec": dataclasses.asdict(spec), "render": RENDER_VERSION, "mv": MULTIVIEW_VERSION},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass
class MultiViewClip:
    """A rendered take: its folder, the views (``Clip`` each, camera k's truth), the rig file and the timing."""

    spec: MultiViewSpec
    folder: Path
    views: list[Clip]
    rig_path: Path
    timing: dict[str, np.ndarray]

    @property
    def videos(self) -> list[Path]:
        return [v.video for v in self.views]


def prepare_multiview(spec: MultiViewSpec = FOUR_PHONES, *, python: str | None = None, log=print) -> MultiViewClip:
    """The rendered take from the cache, or rendered now (minutes)."""
    folder = cache_root() / "multiview" / f"{spec.name}-{multiview_key(spec)}"
    if not (folder / "multiview.npz").is_file():
        work = folder.with_name(folder.name + ".partial")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        _make(spec, work.resolve(), python, log)
        shutil.rmtree(folder, ignore_errors=True)
        work.rename(folder)
    views = []
    for k in range(len(spec.phones)):
        cam = folder / f"cam_{k}"
        truth = dict(np.load(cam / TRUTH_FILE, allow_pickle=False))
        views.append(Clip(_view_spec(spec, k), cam, cam / VIDEO_FILE, truth, json.loads((cam / "meta.json").read_text())))
    timing = dict(np.load(folder / "multiview.npz", allow_pickle=False))
    return MultiViewClip(spec, folder, views, folder / "rig.json", timing)


def _view_spec(spec: MultiViewSpec, k: int) -> ClipSpec:
    phone = spec.phones[k]
    frames = int(math.floor((spec.seconds - phone.start_seconds) * phone.fps + 1e-9))
    return ClipSpec(f"{spec.name}_cam{k}", spec.bvh, CMU_RIG, start_seconds=spec.start_seconds + phone.start_seconds,
                    frames=frames, fps=phone.fps, azimuth_degrees=phone.azimuth_degrees)


def _view_settings(phone: Phone) -> RenderSettings:
    return RenderSettings(width=phone.width, height=phone.height, hfov_degrees=phone.hfov_degrees,
                          camera_height=phone.height_m, min_distance=2.5, frame_fill=0.85)


def _make(spec: MultiViewSpec, work: Path, python: str | None, log) -> None:
    """Render every view, write each one's truth, the sound, the rig and the timing into ``work``."""
    source = source_motion(_view_spec(spec, 0), log)
    whole, times = resample(source, spec.start_seconds, int(spec.seconds * 100) + 1, 100.0)
    world_all = blender_from_bvh(bvh_forward_kinematics(whole), CMU_RIG.scale)
    toe_ends = [whole.index(t + "_end") for t in CMU_RIG.toes]
    feet_idx = [whole.index(n) for n in (CMU_RIG.limbs["left_ankle"], CMU_RIG.toes[0],
                                         CMU_RIG.limbs["right_ankle"], CMU_RIG.toes[1])]
    floor = float(np.min(world_all[:, toe_ends + feet_idx, 2])) - 0.035
    contact, _ = foot_contacts(world_all[:, feet_idx, 2] - floor, world_all[:, feet_idx], 100.0)
    steps = times[1:][contact[1:, [0, 2]].any(-1) & ~contact[:-1, [0, 2]].any(-1)] - spec.start_seconds
    sound = take_sound(spec.seconds, spec.clap_seconds, steps)
    from core.multiview.rig import CameraRig, save_rig  # bench runs with the repository root on the path

    Ks, Rs, ts, sizes = [], [], [], []
    for k, phone in enumerate(spec.phones):
        view, settings = _view_spec(spec, k), _view_settings(phone)
        cam_dir = work / f"cam_{k}"
        (cam_dir / "frames").mkdir(parents=True)
        excerpt, vtimes = resample(source, view.start_seconds, view.frames, view.fps)
        (cam_dir / "excerpt.bvh").write_text(write_bvh(excerpt))
        world = blender_from_bvh(bvh_forward_kinematics(excerpt), CMU_RIG.scale)
        rest = blender_from_bvh(bvh_forward_kinematics(excerpt, np.zeros((1, excerpt.frames.shape[1])))[0],
                                CMU_RIG.scale)
        cam = choose_camera(world_all, whole, CMU_RIG, view, settings, floor)
        from .body import build_body

        np.savez(cam_dir / "body.npz", **build_body(rest, excerpt, CMU_RIG))
        scene = _Scene(excerpt, vtimes, world, [excerpt.index(whole.names[i]) for i in feet_idx], floor, cam)
        log(f"rendering {view.name}: {view.frames} frames at {view.fps:g} fps, {phone.width}x{phone.height}")
        seconds = _render(view, settings, scene, cam_dir, python)
        fk = _fk_error(view, scene, cam_dir)
        silent = cam_dir / "silent.mp4"
        _write_video(cam_dir / "frames", silent, view.fps, view.frames)
        rng = np.random.default_rng(k)
        cut = sound[int(round(phone.start_seconds * AUDIO_RATE)):] * phone.gain
        cut = cut + 0.01 * rng.standard_normal(cut.shape)
        mux_sound(silent, cut, cam_dir / VIDEO_FILE)
        silent.unlink()
        truth = _truth(view, settings, scene)
        np.savez(cam_dir / TRUTH_FILE, **truth)
        (cam_dir / "meta.json").write_text(json.dumps({"render_seconds": seconds, "fk_check_max_error_m": fk},
                                                      indent=1))
        Ks.append(truth["K"])
        Rs.append(cam[:3, :3])
        ts.append(cam[:3, 3])
        sizes.append([phone.width, phone.height])
    names = [f"cam{k}" for k in range(len(spec.phones))]
    save_rig(CameraRig(names, np.array(Ks), np.array(Rs), np.array(ts), np.array(sizes), np.array([0.0, 0, 1])),
             work / "rig.json")
    starts = np.array([p.start_seconds for p in spec.phones])
    np.savez(work / "multiview.npz", names=np.array(names), start_seconds=starts, offsets_seconds=starts - starts[0],
             fps=np.array([p.fps for p in spec.phones]),
             frames=np.array([_view_spec(spec, k).frames for k in range(len(spec.phones))]),
             clap_seconds=np.float64(spec.clap_seconds), world_up=np.array([0.0, 0.0, 1.0]),
             floor_height=np.float64(floor))


def take_sound(seconds: float, clap_seconds: float, steps_seconds: np.ndarray, rate: int = AUDIO_RATE) -> np.ndarray:
    """(N,) float mono sound of the take: a sharp clap (30 ms of decaying noise) and a dull thud
    (a decaying 90 Hz tone with a little noise) at each foot's touch-down, on a quiet hiss."""
    rng = np.random.default_rng(20)
    out = 0.003 * rng.standard_normal(int(seconds * rate) + rate)
    t = np.arange(int(0.08 * rate)) / rate
    clap = rng.standard_normal(t.size) * np.exp(-t / 0.008)
    thud = (np.sin(2 * np.pi * 90.0 * t) + 0.2 * rng.standard_normal(t.size)) * np.exp(-t / 0.025)
    for at, shape, amp in [(clap_seconds, clap, 0.7)] + [(s, thud, 0.25) for s in steps_seconds]:
        i = int(round(at * rate))
        out[i:i + t.size] += amp * shape[:max(0, out.size - i)]
    return out


def mux_sound(video: Path, sound: np.ndarray, out: Path, rate: int = AUDIO_RATE) -> None:
    """``video``'s picture with ``sound`` (mono float, -1..1) as an AAC track, into ``out``."""
    import imageio_ffmpeg

    wav = out.with_suffix(".wav")
    with wave.open(str(wav), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(rate)
        fh.writeframes((np.clip(sound, -1, 1) * 32767).astype("<i2").tobytes())
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(video), "-i", str(wav),
                    "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-b:a", "96k", "-shortest", str(out)],
                   check=True)
    wav.unlink()


if __name__ == "__main__":  # python -m groundtruth.multicam [short|long] (in bench/): render the take now
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    clip = prepare_multiview(TAKES[sys.argv[1] if len(sys.argv) > 1 else "short"])
    print(clip.folder)
