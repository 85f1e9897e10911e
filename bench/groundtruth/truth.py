"""Making one clip: excerpt, scene, the render process, the FK cross-check, the video and the truth.

:func:`make_clip` fills a work folder; :func:`groundtruth.cache.prepare_clip`
decides where that folder lives and when a clip is made again.

1. The excerpt (a window of the source BVH resampled to the clip's fps,
   :func:`groundtruth.bvh.resample`) is written as a BVH file of its own; both
   the renderer and the truth use it, so the frames match one to one.
2. Forward kinematics in numpy gives every joint per frame in Blender's world
   (:func:`groundtruth.bvh.blender_from_bvh`); the floor goes under the lowest
   toe, the camera frames the whole clip (:func:`groundtruth.camera.choose_camera`)
   and the body is built on the rest skeleton (:func:`groundtruth.body.build_body`).
3. The render process (:mod:`groundtruth.render`) renders the frames and reads
   back Blender's own posed bone heads; the clip fails if they differ from the
   numpy FK by more than 1 mm, so the truth is the motion that was rendered.
4. The PNG frames become an MP4 (OpenCV, ``mp4v``).

Ground-truth file ``truth.npz`` (T frames, all float64 unless stated; "camera
frame" = OpenCV camera frame of the rendered camera: x right, y down, z
forward, metres):

=====================  ==========  ==================================================
key                    shape       meaning
=====================  ==========  ==================================================
``limb_names``         (12,) str   ``core.skeleton.LIMB_JOINTS`` order
``limb_cam``           (T, 12, 3)  limb joints in the camera frame, metres
``limb_2d``            (T, 12, 2)  their projection with ``K``, pixels (y down)
``joint_names``        (J,) str    every BVH joint, end sites as ``<parent>_end``
``joints_cam``         (T, J, 3)   every BVH joint in the camera frame, metres
``K``                  (3, 3)      pinhole intrinsics, pixels (principal point
                                   at the image centre, square pixels)
``cam_from_world``     (4, 4)      OpenCV camera-from-Blender-world [R|t]
``hfov_degrees``       ()          horizontal field of view of the camera
``image_size``         (2,) i64    width, height
``fps``                ()          frame rate of the video (30)
``source_times``       (T,)        time of each frame in the source BVH, seconds
``world_up_cam``       (3,)        the world's up direction in the camera frame
``floor_height``       ()          height of the ground plane, metres (Blender Z)
``foot_names``         (4,) str    ``left_heel, left_toe, right_heel, right_toe``
                                   (heel = ankle joint, toe = toe-base joint)
``foot_height``        (T, 4)      their height above the ground plane, metres
``foot_speed``         (T, 4)      their speed, m/s (central differences)
``contact``            (T, 4) bool foot point in contact: height below
                                   ``CONTACT_HEIGHT`` above its own resting height
                                   and speed below ``CONTACT_SPEED``
``contact_left``,      (T,) bool   heel or toe of that foot in contact
``contact_right``
=====================  ==========  ==================================================


``clip.mp4`` (the video), ``frames/`` (the PNGs) and ``meta.json`` (settings,
render time, FK cross-check) sit next to it.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .body import build_body
from .bvh import Bvh, blender_from_bvh, bvh_forward_kinematics, resample, write_bvh
from .camera import choose_camera, intrinsics, pitch_roll_degrees, project, transform
from .clips import DEEPMIMIC_RIG, LIMB_JOINTS, ClipSpec, RenderSettings
from .deepmimic import SOLE_BELOW_GROUND
from .room import set_pieces

CONTACT_HEIGHT = 0.05
"""Metres above a foot point's resting height (its 5th percentile over the clip)."""
CONTACT_SPEED = 0.25
"""m/s: a foot point slower than this and low enough is planted."""

TRUTH_FILE = "truth.npz"
VIDEO_FILE = "clip.mp4"
BENCH = Path(__file__).resolve().parents[1]
"""bench/: the render process runs there (``python -m groundtruth _render JOB.json``)."""


@dataclass
class Clip:
    """A rendered clip: paths and its ground truth (see the module docstring for the keys)."""

    spec: ClipSpec
    folder: Path
    video: Path
    truth: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)


def foot_contacts(heights: np.ndarray, points: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Contact labels from foot-point heights (T, P) and positions (T, P, 3), metres.

    A point is in contact when it is within ``CONTACT_HEIGHT`` of its own
    resting height (5th percentile over the clip; a heel rests higher than a
    toe) and moves slower than ``CONTACT_SPEED``. Returns (contact (T, P) bool,
    speed (T, P) m/s).
    """
    speed = np.linalg.norm(np.gradient(points, axis=0), axis=-1) * fps
    rest = np.percentile(heights, 5, axis=0)
    contact = (heights < rest + CONTACT_HEIGHT) & (speed < CONTACT_SPEED)
    return contact, speed


@dataclass
class _Scene:
    """What the render and the truth share: the excerpt and its joints in Blender's world (metres)."""

    excerpt: Bvh
    times: np.ndarray        # (T,) source time of each frame, seconds
    world: np.ndarray        # (T, J, 3) every joint
    foot_idx: list[int]      # left ankle, left toe, right ankle, right toe
    floor: float             # ground plane height
    cam_from_world: np.ndarray


def _scene(spec: ClipSpec, source: Bvh, settings: RenderSettings, work: Path) -> _Scene:
    """Write the excerpt and the body arrays into ``work``; the floor and the camera."""
    excerpt, times = resample(source, spec.start_seconds, spec.frames, spec.fps)
    (work / "excerpt.bvh").write_text(write_bvh(excerpt))
    rig = spec.rig
    world = blender_from_bvh(bvh_forward_kinematics(excerpt), rig.scale)          # (T, J, 3)
    rest = blender_from_bvh(bvh_forward_kinematics(excerpt, np.zeros((1, excerpt.frames.shape[1])))[0], rig.scale)
    foot_idx = [excerpt.index(n) for n in (rig.limbs["left_ankle"], rig.toes[0],
                                           rig.limbs["right_ankle"], rig.toes[1])]
    # the ground: under the lowest toe-end of the clip, less the shoe sole under that point; DeepMimic
    # motion has its own ground (y = 0) that lying bodies rest on too
    toe_ends = [excerpt.index(t + "_end") for t in rig.toes]
    floor = float(np.min(world[:, toe_ends + foot_idx, 2])) - 0.035
    if rig == DEEPMIMIC_RIG:
        floor = -SOLE_BELOW_GROUND
    cam_from_world = choose_camera(world, excerpt, rig, spec, settings, floor)
    np.savez(work / "body.npz", **build_body(rest, excerpt, rig))
    return _Scene(excerpt, times, world, foot_idx, floor, cam_from_world)


def _render(spec: ClipSpec, settings: RenderSettings, scene: _Scene, work: Path, python: str | None,
            people: list[dict] | None = None) -> float:
    """Run the render process on ``work``; the seconds it took. ``people``: for a clip of several
    people, each one's ``{"bvh", "body"}`` files (person 0 first), else the one person of ``scene``."""
    scene_name = "plain" if spec.shot is None else spec.shot.scene
    job = {"people": people or [{"bvh": str(work / "excerpt.bvh"), "body": str(work / "body.npz")}],
        "scene": scene_name, "set": set_pieces(scene_name, scene.world, scene.cam_from_world, scene.floor),
        "bvh": str(work / "excerpt.bvh"), "body": str(work / "body.npz"), "frames_dir": str(work / "frames"),
        "scale": spec.rig.scale, "fps": spec.fps, "count": spec.frames, "floor": scene.floor,
        "cam_from_world": scene.cam_from_world.tolist(), "settings": dataclasses.asdict(settings),
        "joint_names": scene.excerpt.names, "check": str(work / "blender_joints.npz"),
    }
    (work / "job.json").write_text(json.dumps(job))
    t0 = time.perf_counter()
    subprocess.run([python or sys.executable, "-m", "groundtruth", "_render", str(work / "job.json")],
                   cwd=BENCH, check=True)
    return time.perf_counter() - t0


def _fk_error(spec: ClipSpec, scene: _Scene, work: Path) -> float:
    """Metres between Blender's own posed joints and the numpy FK: the truth must be what was rendered."""
    check = np.load(work / "blender_joints.npz")
    names = [str(n) for n in check["names"]]
    ours = scene.world[:, [scene.excerpt.index(n) for n in names]]
    fk_error = float(np.abs(check["heads"] - ours).max())
    if fk_error > 1e-3:
        raise RuntimeError(f"{spec.name}: Blender's posed joints differ from the BVH FK by {fk_error * 1000:.2f} mm")
    return fk_error


def _truth(spec: ClipSpec, settings: RenderSettings, scene: _Scene) -> dict[str, np.ndarray]:
    """The arrays of ``truth.npz`` (see the module docstring)."""
    rig, cam_from_world, floor = spec.rig, scene.cam_from_world, scene.floor
    K = intrinsics(settings.width, settings.height, settings.hfov_degrees)
    joints_cam = transform(cam_from_world, scene.world)
    limb_idx = [scene.excerpt.index(rig.limbs[n]) for n in LIMB_JOINTS]
    feet = scene.world[:, scene.foot_idx]
    heights = feet[..., 2] - floor
    contact, speed = foot_contacts(heights, feet, spec.fps)
    return {
        "limb_names": np.array(LIMB_JOINTS), "limb_cam": joints_cam[:, limb_idx],
        "limb_2d": project(joints_cam[:, limb_idx], K),
        "joint_names": np.array(scene.excerpt.names), "joints_cam": joints_cam,
        "K": K, "cam_from_world": cam_from_world, "hfov_degrees": np.float64(settings.hfov_degrees),
        "image_size": np.array([settings.width, settings.height], np.int64), "fps": np.float64(spec.fps),
        "source_times": scene.times, "world_up_cam": cam_from_world[:3, :3] @ np.array([0.0, 0.0, 1.0]),
        "floor_height": np.float64(floor),
        "foot_names": np.array(["left_heel", "left_toe", "right_heel", "right_toe"]),
        "foot_height": heights, "foot_speed": speed, "contact": contact,
        "contact_left": contact[:, 0] | contact[:, 1], "contact_right": contact[:, 2] | contact[:, 3],
    }


def make_clip(spec: ClipSpec, source: Bvh, settings: RenderSettings, work: Path, *, python: str | None = None,
              log=print) -> dict:
    """Render ``spec`` from the parsed ``source`` into the empty folder ``work`` (minutes).

    Writes the excerpt, the body, the job, ``frames/``, ``clip.mp4`` and
    ``truth.npz``. Returns what ``meta.json`` adds to the clip's settings:
    render seconds, the FK cross-check's largest error and the camera distance.
    ``python``: the interpreter of the render process (it needs bpy), default
    this one.
    """
    work = work.resolve()  # the render process runs in bench/
    (work / "frames").mkdir(parents=True, exist_ok=True)
    scene = _scene(spec, source, settings, work)
    log(f"rendering {spec.name}: {spec.frames} frames, {settings.width}x{settings.height}, {settings.engine}")
    render_seconds = _render(spec, settings, scene, work, python)
    fk_error = _fk_error(spec, scene, work)
    _write_video(work / "frames", work / VIDEO_FILE, spec.fps, spec.frames)
    truth = _truth(spec, settings, scene)
    np.savez(work / TRUTH_FILE, **truth)
    pitch, roll = pitch_roll_degrees(scene.cam_from_world)
    eye = -scene.cam_from_world[:3, :3].T @ scene.cam_from_world[:3, 3]
    return {"render_seconds": render_seconds, "fk_check_max_error_m": fk_error,
            "camera_distance_m": float(np.linalg.norm(truth["limb_cam"].mean((0, 1)))),
            "camera_pitch_degrees": pitch, "camera_roll_degrees": roll,
            "camera_height_m": float(eye[2] - scene.floor)}


def _write_video(frames_dir: Path, out: Path, fps: float, count: int) -> None:
    import cv2

    writer = None
    for k in range(count):
        img = cv2.imread(str(frames_dir / f"{k:04d}.png"))
        if img is None:
            raise RuntimeError(f"missing rendered frame {frames_dir / f'{k:04d}.png'}")
        if writer is None:
            writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (img.shape[1], img.shape[0]))
        writer.write(img)
    assert writer is not None
    writer.release()

