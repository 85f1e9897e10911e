"""Exact ground truth for the accuracy benchmark: real motion capture rendered in Blender.

Source motion: BVH files of Debian's ``assimp-testmodels`` package, fetched with
``apt-get download`` (no root install) and unpacked with ``dpkg-deb -x`` into the
cache; nothing is committed. ``01_03.bvh`` is CMU motion capture (subject 1,
120 Hz; "free for use in research and commercial projects", mocap.cs.cmu.edu,
via the cgspeed BVH conversion), ``Boxing_Toes.bvh`` is one of assimp's own test
models (100 Hz, BSD-3-Clause per the package's copyright file).

Pipeline (``prepare_clip``):

1. Parse the BVH (:func:`parse_bvh`), cut a window and resample it to 30 fps
   (linear in the Euler channels, angles unwrapped first), and write the excerpt
   as a BVH file of its own. Both the renderer and the ground truth use that
   excerpt, so the frames match one to one.
2. Forward kinematics in numpy (:func:`bvh_forward_kinematics`) gives every
   joint per frame. Blender world = BVH world with Blender's importer defaults
   (``axis_forward='-Z', axis_up='Y'``): ``blender = scale * (x, -z, y)``.
3. A body is built on the rest skeleton (tapered capsules and ellipsoids: skin,
   T-shirt, jeans, shoes, hair, eyes, nose, mouth; every part rigidly skinned to
   the bone it rides on), the excerpt is imported with
   ``bpy.ops.import_anim.bvh`` and the mesh is driven by that armature through an
   Armature modifier. A textured ground plane, a sun and a sky-coloured world,
   and a camera framing the whole clip from the front-ish side (chosen from the
   ground truth) complete the scene; Workbench by default (see
   ``RenderSettings.engine``). Rendering runs in a separate process of
   the dev environment (``python bench/groundtruth.py _render JOB.json``) so bpy
   never shares a process with MediaPipe. The render process also reads back
   Blender's own posed bone heads and the run fails if they differ from the
   numpy FK by more than 1 mm, so the truth is the motion that was rendered.
4. The PNG frames become an MP4 (OpenCV, ``mp4v``).

Cache: ``$BLENDER_MOCAP_CACHE/bench/`` (default
``~/.local/share/blender-mocap/cache/bench/``): ``deb/`` holds the package,
``clips/<name>-<hash>/`` one rendered clip, keyed by a hash of everything that
changes the pixels or the truth (clip window, render settings, body, camera,
this file's version constant ``RENDER_VERSION``).

Ground-truth file ``truth.npz`` in a clip folder (T frames, all float64 unless
stated; "camera frame" = OpenCV camera frame of the rendered camera: x right,
y down, z forward, metres):

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
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RENDER_VERSION = 4
"""Bump when the body, scene or truth computation changes: it is part of the cache key."""

PACKAGE = "assimp-testmodels"
BVH_DIR = "usr/share/assimp/models/BVH"
CMU_SCALE = 0.0254 / 0.45
"""Metres per CMU BVH unit: the ASF files use ``length 0.45`` (1 unit = 1/0.45 inch)."""

CONTACT_HEIGHT = 0.05
"""Metres above a foot point's resting height (its 5th percentile over the clip)."""
CONTACT_SPEED = 0.25
"""m/s: a foot point slower than this and low enough is planted."""

LIMB_JOINTS = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # == core.skeleton.LIMB_JOINTS (checked by the tests); repeated so the render process needs no core


# ----------------------------------------------------------------------------
# Clips
# ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Rig:
    """How a BVH skeleton's joints map onto body roles (names in the file)."""

    limbs: dict[str, str]              # LIMB_JOINTS name -> BVH joint
    pelvis: str
    spine: tuple[str, ...]             # pelvis -> neck base, in order (torso capsules between them)
    neck: str
    head: str
    collars: tuple[str, str]           # left, right (bone that carries the shoulder)
    toes: tuple[str, str]              # left, right toe-base joints
    scale: float                       # metres per BVH unit


CMU_RIG = Rig(
    limbs={
        "left_shoulder": "LeftArm", "right_shoulder": "RightArm",
        "left_elbow": "LeftForeArm", "right_elbow": "RightForeArm",
        "left_wrist": "LeftHand", "right_wrist": "RightHand",
        "left_hip": "LeftUpLeg", "right_hip": "RightUpLeg",
        "left_knee": "LeftLeg", "right_knee": "RightLeg",
        "left_ankle": "LeftFoot", "right_ankle": "RightFoot",
    },
    pelvis="Hips", spine=("Hips", "Spine", "Spine1", "Neck"), neck="Neck1", head="Head",
    collars=("LeftShoulder", "RightShoulder"), toes=("LeftToeBase", "RightToeBase"),
    scale=CMU_SCALE,
)

ASSIMP_BOXING_RIG = Rig(
    limbs={
        "left_shoulder": "LeftShoulder", "right_shoulder": "RightShoulder",
        "left_elbow": "LeftElbow", "right_elbow": "RightElbow",
        "left_wrist": "LeftWrist", "right_wrist": "RightWrist",
        "left_hip": "LeftHip", "right_hip": "RightHip",
        "left_knee": "LeftKnee", "right_knee": "RightKnee",
        "left_ankle": "LeftAnkle", "right_ankle": "RightAnkle",
    },
    pelvis="Hips", spine=("Hips", "Ab", "Chest", "Neck"), neck="Neck", head="Head",
    collars=("LeftCollar", "RightCollar"), toes=("LeftToes", "RightToes"),
    scale=0.01,
)


@dataclass(frozen=True)
class ClipSpec:
    """One benchmark clip: a window of a BVH file and how to film it.

    Attributes:
        name: short name (cache folder, table rows).
        bvh: file name inside the package's BVH folder.
        rig: joint roles of that file's skeleton.
        start_seconds: start of the window in the source file.
        frames: frames to render at ``fps``.
        fps: frame rate of the rendered video.
        azimuth_degrees: camera position around the subject, 0 = straight in
            front of the clip's mean facing direction, positive = towards the
            subject's right.
    """

    name: str
    bvh: str
    rig: Rig
    start_seconds: float
    frames: int = 150
    fps: float = 30.0
    azimuth_degrees: float = 25.0


CLIPS: tuple[ClipSpec, ...] = (
    ClipSpec("cmu_01_03", "01_03.bvh", CMU_RIG, start_seconds=15.0),
    ClipSpec("boxing", "Boxing_Toes.bvh", ASSIMP_BOXING_RIG, start_seconds=5.0, azimuth_degrees=-30.0),
)
"""The benchmark clips (the default of ``bench accuracy`` and ``bench cleanup``)."""

HELD_OUT: tuple[ClipSpec, ...] = (
    ClipSpec("val_cmu_01_01a", "01_01.bvh", CMU_RIG, start_seconds=3.0, azimuth_degrees=40.0),
    ClipSpec("val_cmu_01_01b", "01_01.bvh", CMU_RIG, start_seconds=12.0, azimuth_degrees=-20.0),
    ClipSpec("val_boxing_late", "Boxing_Toes.bvh", ASSIMP_BOXING_RIG, start_seconds=14.0, azimuth_degrees=20.0),
)
"""Clips no setting was tuned on, to check that a change chosen on ``CLIPS``
carries over: other CMU motion (01_01, same package) and a later stretch of the
boxing take, from other camera angles. Run them by name (``--clips``)."""

ALL_CLIPS: tuple[ClipSpec, ...] = CLIPS + HELD_OUT


def clips_named(names: str) -> list[ClipSpec]:
    """The clips of a comma-separated list of names (benchmark or held-out), in ``ALL_CLIPS`` order.

    Raises ValueError naming the known clips when a name is unknown.
    """
    wanted = [n for n in names.split(",") if n]
    unknown = sorted(set(wanted) - {c.name for c in ALL_CLIPS})
    if unknown:
        raise ValueError(f"unknown clip(s) {', '.join(unknown)}; known: {', '.join(c.name for c in ALL_CLIPS)}")
    return [c for c in ALL_CLIPS if c.name in wanted]


@dataclass(frozen=True)
class RenderSettings:
    """How clips are rendered; every field is part of the cache key.

    Attributes:
        width, height: image size in pixels.
        hfov_degrees: horizontal field of view of the camera.
        engine: Blender render engine. All three run headless with the bpy
            module here (EEVEE and Workbench on software OpenGL through EGL).
            Measured on this 2-core machine, 640x480: Workbench about 0.9 s a
            frame, Cycles CPU at 8 samples + denoise 4-10 s a frame (more under
            load), EEVEE 25 s for its first frame (shader compilation).
            Workbench is the default: studio lighting, shadows, the materials'
            colours and the ground texture, and MediaPipe finds the person in
            every frame of both clips; ``CYCLES`` is there for a realistic look
            when time allows (``--engine CYCLES``).
        samples: Cycles / EEVEE samples per pixel (Workbench ignores it).
        denoise: Cycles denoiser (OpenImageDenoise) on or off.
        camera_height: camera height above the floor, metres ("chest height").
        min_distance: closest camera distance; it moves back until the whole
            clip stays inside ``frame_fill`` of the image.
        frame_fill: fraction of the image (centred) the subject must stay in.
    """

    width: int = 640
    height: int = 480
    hfov_degrees: float = 55.0
    engine: str = "BLENDER_WORKBENCH"
    samples: int = 8
    denoise: bool = True
    camera_height: float = 1.3
    min_distance: float = 3.0
    frame_fill: float = 0.9


# ----------------------------------------------------------------------------
# Fetching
# ----------------------------------------------------------------------------

def cache_root() -> Path:
    """``$BLENDER_MOCAP_CACHE/bench`` (default ``~/.local/share/blender-mocap/cache/bench``)."""
    base = os.environ.get("BLENDER_MOCAP_CACHE")
    root = Path(base) if base else Path.home() / ".local" / "share" / "blender-mocap" / "cache"
    path = root / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def bvh_folder(log=print) -> Path:
    """The unpacked ``assimp-testmodels`` BVH folder, fetched once with apt-get download."""
    deb_dir = cache_root() / "deb"
    target = deb_dir / "x" / BVH_DIR
    if (target / "01_03.bvh").is_file():
        return target
    deb_dir.mkdir(parents=True, exist_ok=True)
    debs = sorted(deb_dir.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        log(f"fetching the {PACKAGE} Debian package (CMU BVH motion capture)")
        cmd = ["apt-get", "download", PACKAGE]
        if subprocess.run(cmd, cwd=deb_dir).returncode != 0:
            subprocess.run(["apt-get", "update"], check=False)
            subprocess.run(cmd, cwd=deb_dir, check=True)
        debs = sorted(deb_dir.glob(f"{PACKAGE}_*.deb"))
        if not debs:
            raise RuntimeError(f"apt-get download {PACKAGE} left no .deb in {deb_dir}")
    partial = deb_dir / "x.partial"
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(partial)], check=True)
    shutil.rmtree(deb_dir / "x", ignore_errors=True)
    partial.rename(deb_dir / "x")
    return target


# ----------------------------------------------------------------------------
# BVH parsing and forward kinematics
# ----------------------------------------------------------------------------

@dataclass
class Bvh:
    """A parsed BVH file. J joints including end sites (named ``<parent>_end``).

    Attributes:
        names: (J,) joint names in file order.
        parents: (J,) parent index, -1 for the root.
        offsets: (J, 3) offset from the parent, file units and axes.
        channels: per joint, its channel names in file order (empty for end sites).
        frames: (F, C) float64 channel values (degrees for rotations).
        frame_time: seconds per frame.
        header: the text from ``HIERARCHY`` up to and including ``MOTION``.
    """

    names: list[str]
    parents: list[int]
    offsets: np.ndarray
    channels: list[list[str]]
    frames: np.ndarray
    frame_time: float
    header: str

    def index(self, name: str) -> int:
        return self.names.index(name)

    def channel_slices(self) -> list[slice]:
        out, start = [], 0
        for ch in self.channels:
            out.append(slice(start, start + len(ch)))
            start += len(ch)
        return out


def parse_bvh(text: str) -> Bvh:
    """Parse BVH text: hierarchy (with end sites as joints) and motion."""
    head, sep, motion = text.partition("MOTION")
    if not sep:
        raise ValueError("not a BVH file: no MOTION section")
    tokens = head.split()
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []
    stack: list[int] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in ("ROOT", "JOINT"):
            names.append(tokens[i + 1])
            parents.append(stack[-1] if stack else -1)
            offsets.append([0.0, 0.0, 0.0])
            channels.append([])
            i += 2
        elif tok == "End":  # "End Site"
            names.append(f"{names[stack[-1]]}_end")
            parents.append(stack[-1])
            offsets.append([0.0, 0.0, 0.0])
            channels.append([])
            i += 2
        elif tok == "{":
            stack.append(len(names) - 1)
            i += 1
        elif tok == "}":
            stack.pop()
            i += 1
        elif tok == "OFFSET":
            offsets[stack[-1]] = [float(v) for v in tokens[i + 1:i + 4]]
            i += 4
        elif tok == "CHANNELS":
            n = int(tokens[i + 1])
            channels[stack[-1]] = tokens[i + 2:i + 2 + n]
            i += 2 + n
        else:
            i += 1
    m = re.search(r"Frames:\s*(\d+)\s*Frame Time:\s*([0-9.eE+-]+)", motion)
    if m is None:
        raise ValueError("BVH motion section without Frames / Frame Time")
    count, frame_time = int(m.group(1)), float(m.group(2))
    values = np.array(motion[m.end():].split(), np.float64)
    width = sum(len(c) for c in channels)
    if values.size < count * width:
        raise ValueError(f"BVH motion holds {values.size} values, expected {count} x {width}")
    return Bvh(names, parents, np.array(offsets), channels, values[: count * width].reshape(count, width),
               frame_time, head + sep)


def write_bvh(bvh: Bvh) -> str:
    """BVH text of ``bvh`` (its header verbatim, its frames and frame time)."""
    rows = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in bvh.frames)
    return f"{bvh.header}\nFrames: {len(bvh.frames)}\nFrame Time: {bvh.frame_time:.8f}\n{rows}\n"


def _axis_rotation(axis: str, degrees: np.ndarray) -> np.ndarray:
    """(F, 3, 3) rotation about a principal axis (column vectors, right-handed)."""
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    R = np.zeros(a.shape + (3, 3))
    i = "XYZ".index(axis)
    j, k = (i + 1) % 3, (i + 2) % 3
    R[..., i, i] = 1.0
    R[..., j, j] = c
    R[..., k, k] = c
    R[..., j, k] = -s
    R[..., k, j] = s
    return R


def bvh_forward_kinematics(bvh: Bvh, frames: np.ndarray | None = None) -> np.ndarray:
    """(F, J, 3) world positions of every joint (end sites included), file units and axes.

    Each joint's local transform is translate(offset + position channels) then
    the rotation channels in file order, as intrinsic rotations:
    ``R = R_c1 @ R_c2 @ R_c3`` for ``CHANNELS ... c1 c2 c3``.
    ``frames``: (F, C) channel values, default ``bvh.frames``.
    """
    frames = bvh.frames if frames is None else np.asarray(frames, np.float64)
    F = len(frames)
    J = len(bvh.names)
    pos = np.zeros((F, J, 3))
    rot = np.zeros((F, J, 3, 3))
    for j, (ch, sl) in enumerate(zip(bvh.channels, bvh.channel_slices())):
        local_t = np.broadcast_to(bvh.offsets[j], (F, 3)).copy()
        local_r = np.broadcast_to(np.eye(3), (F, 3, 3)).copy()
        for name, col in zip(ch, range(sl.start, sl.stop)):
            if name.endswith("position"):
                local_t[:, "XYZ".index(name[0])] += frames[:, col]
            else:
                local_r = local_r @ _axis_rotation(name[0], frames[:, col])
        p = bvh.parents[j]
        if p < 0:
            pos[:, j], rot[:, j] = local_t, local_r
        else:
            pos[:, j] = pos[:, p] + np.einsum("fij,fj->fi", rot[:, p], local_t)
            rot[:, j] = rot[:, p] @ local_r
    return pos


def blender_from_bvh(points: np.ndarray, scale: float) -> np.ndarray:
    """BVH (Y up, file units) -> Blender world (Z up, metres), the importer's default axes."""
    p = np.asarray(points, np.float64)
    return scale * np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1)


def resample(bvh: Bvh, start_seconds: float, count: int, fps: float) -> tuple[Bvh, np.ndarray]:
    """An excerpt of ``count`` frames at ``fps`` from ``start_seconds``; also the source times.

    Frames on the source grid are copied exactly; in between, channels are
    interpolated linearly after unwrapping rotation angles (no 360-degree jumps).
    """
    times = start_seconds + np.arange(count) / fps
    rate = 1.0 / bvh.frame_time
    if abs(rate - round(rate)) < 1e-3 * rate:
        rate = float(round(rate))  # "Frame Time: .0083333" is 120 Hz: stay on the source grid
    src = times * rate
    on_grid = np.abs(src - np.round(src)) < 1e-6
    src[on_grid] = np.round(src[on_grid])
    if src[-1] > len(bvh.frames) - 1:
        raise ValueError(f"window ends at {times[-1]:.2f} s, past the file's {len(bvh.frames) * bvh.frame_time:.2f} s")
    values = bvh.frames.copy()
    col = 0
    for ch in bvh.channels:
        for name in ch:
            if name.endswith("rotation"):
                values[:, col] = np.degrees(np.unwrap(np.radians(values[:, col])))
            col += 1
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, len(values) - 1)
    w = np.clip(src - lo, 0.0, 1.0)[:, None]
    out = (1.0 - w) * values[lo] + w * values[hi]
    col = 0
    for ch in bvh.channels:  # back to (-180, 180]: frames on the grid are then copied verbatim
        for name in ch:
            if name.endswith("rotation"):
                out[:, col] = -((-out[:, col] + 180.0) % 360.0 - 180.0)
            col += 1
    return dataclasses.replace(bvh, frames=out, frame_time=1.0 / fps), times


# ----------------------------------------------------------------------------
# Camera
# ----------------------------------------------------------------------------

def look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(4, 4) OpenCV camera-from-world for a camera at ``eye`` looking at ``target`` (Blender world, Z up)."""
    z = target - eye
    z = z / np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)  # image down
    R = np.stack([x, y, z])
    M = np.eye(4)
    M[:3, :3] = R
    M[:3, 3] = -R @ eye
    return M


def intrinsics(width: int, height: int, hfov_degrees: float) -> np.ndarray:
    """Pinhole K of a Blender camera with horizontal sensor fit, principal point at the centre."""
    f = 0.5 * width / math.tan(math.radians(hfov_degrees) / 2.0)
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def project(points_cam: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(..., 3) camera-frame points -> (..., 2) pixels."""
    uvw = points_cam @ K.T
    return uvw[..., :2] / uvw[..., 2:3]


def transform(M: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ M[:3, :3].T + M[:3, 3]


def choose_camera(world: np.ndarray, bvh: Bvh, rig: Rig, spec: ClipSpec, settings: RenderSettings,
                  floor: float) -> np.ndarray:
    """Camera-from-world framing every joint of the clip, from the subject's mean front (+azimuth)."""
    idx = bvh.index
    left = world[:, idx(rig.limbs["left_hip"])] - world[:, idx(rig.limbs["right_hip"])]
    left[:, 2] = 0.0
    forward = np.cross(left.mean(0), [0.0, 0.0, 1.0])
    forward /= np.linalg.norm(forward)
    a = math.radians(spec.azimuth_degrees)
    side = np.cross(forward, [0.0, 0.0, 1.0])  # the subject's right (forward = left x up)
    direction = math.cos(a) * forward + math.sin(a) * side
    centre = 0.5 * (world.reshape(-1, 3).min(0) + world.reshape(-1, 3).max(0))
    target = np.array([centre[0], centre[1], floor + 0.95])
    K = intrinsics(settings.width, settings.height, settings.hfov_degrees)
    pts = world.reshape(-1, 3)
    lo = 0.5 * (1 - settings.frame_fill) * np.array([settings.width, settings.height])
    hi = np.array([settings.width, settings.height]) - lo
    distance = settings.min_distance
    while True:
        eye = target + distance * direction
        eye[2] = floor + settings.camera_height
        M = look_at(eye, target)
        uv = project(transform(M, pts), K)
        if (uv >= lo).all() and (uv <= hi).all():
            return M
        distance += 0.1
        if distance > 30:
            raise RuntimeError(f"{spec.name}: cannot frame the clip within 30 m")


# ----------------------------------------------------------------------------
# Body (numpy geometry, handed to the render process)
# ----------------------------------------------------------------------------

SKIN = (0.80, 0.58, 0.46)
SHIRT = (0.70, 0.16, 0.14)
JEANS = (0.16, 0.22, 0.40)
SHOES = (0.10, 0.09, 0.08)
HAIR = (0.16, 0.10, 0.06)
EYE_WHITE = (0.92, 0.92, 0.90)
PUPIL = (0.05, 0.04, 0.04)
LIPS = (0.62, 0.30, 0.30)
MATERIALS = {"skin": SKIN, "shirt": SHIRT, "jeans": JEANS, "shoes": SHOES, "hair": HAIR,
             "eye": EYE_WHITE, "pupil": PUPIL, "lips": LIPS}


def _frame_axes(axis: np.ndarray, hint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors perpendicular to ``axis``; the first as close to ``hint`` as possible."""
    u = hint - axis * np.dot(hint, axis)
    if np.linalg.norm(u) < 1e-6:
        u = np.cross(axis, [1.0, 0.0, 0.0] if abs(axis[0]) < 0.9 else [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    return u, np.cross(axis, u)


def capsule(p0, p1, r0, r1, *, hint=(0.0, -1.0, 0.0), squash: float = 1.0, rings: int = 6,
            segments: int = 16) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """A tapered capsule from ``p0`` (radius ``r0``) to ``p1`` (``r1``), closed, quads + pole fans.

    ``squash`` scales the cross-section along the axis-perpendicular direction
    closest to ``hint`` (e.g. the body's front-back depth of the torso).
    """
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    axis = p1 - p0
    length = np.linalg.norm(axis)
    axis = axis / length if length > 1e-9 else np.array([0.0, 0.0, 1.0])
    u, v = _frame_axes(axis, np.asarray(hint, float))
    theta = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    ring_dir = np.cos(theta)[:, None] * u * squash + np.sin(theta)[:, None] * v
    verts = [p0 - axis * r0]
    for k in range(1, rings + 1):  # start cap, pole excluded, equator included
        phi = -np.pi / 2 + k * (np.pi / 2) / rings
        verts.extend(p0 + axis * r0 * np.sin(phi) + r0 * np.cos(phi) * ring_dir)
    for k in range(0, rings):  # end cap, equator included
        phi = k * (np.pi / 2) / rings
        verts.extend(p1 + axis * r1 * np.sin(phi) + r1 * np.cos(phi) * ring_dir)
    verts.append(p1 + axis * r1)
    n_rings = 2 * rings
    faces: list[tuple[int, ...]] = []
    for s in range(segments):
        faces.append((0, 1 + (s + 1) % segments, 1 + s))
    for r in range(n_rings - 1):
        a, b = 1 + r * segments, 1 + (r + 1) * segments
        for s in range(segments):
            s1 = (s + 1) % segments
            faces.append((a + s, a + s1, b + s1, b + s))
    top = len(verts) - 1
    last = 1 + (n_rings - 1) * segments
    for s in range(segments):
        faces.append((last + s, last + (s + 1) % segments, top))
    return np.array(verts), faces


def ellipsoid(centre, radii, axes, **kw) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """An ellipsoid: radii along the three unit ``axes`` (rows)."""
    verts, faces = capsule(np.zeros(3), np.zeros(3) + 1e-9 * np.array([0, 0, 1.0]), 1.0, 1.0,
                           hint=(1.0, 0.0, 0.0), **kw)
    axes = np.asarray(axes, float)
    # unit sphere around the origin, local frame: x = axes[0], y = axes[1], z = axes[2]
    return np.asarray(centre) + (verts * radii) @ axes, faces


def build_body(rest: np.ndarray, bvh: Bvh, rig: Rig) -> dict:
    """The body mesh on the rest skeleton (Blender world, metres).

    Returns arrays for the render process: ``verts`` (V, 3), ``faces`` (N, 4)
    int with -1 padding for triangles, ``face_material`` (N,) index into
    ``materials``, ``vert_bone`` (V,) index into ``bones``, ``bones`` names,
    ``materials`` names.
    """
    idx = bvh.index
    J = lambda name: rest[idx(name)]  # noqa: E731
    up = np.array([0.0, 0.0, 1.0])
    left = J(rig.limbs["left_hip"]) - J(rig.limbs["right_hip"])
    left[2] = 0
    left /= np.linalg.norm(left)
    forward = np.cross(left, up)
    depth = -forward  # capsule squash hint: front-back
    parts: list[tuple[np.ndarray, list, str, str]] = []  # verts, faces, material, bone

    def add(geom, material, bone):
        parts.append((geom[0], geom[1], material, bone))

    def child_of(name: str) -> str:
        kids = [n for n, p in zip(bvh.names, bvh.parents) if p == idx(name)]
        return kids[0]

    # torso: capsules along the spine, wide and flattened front-back
    spine = [J(n) for n in rig.spine]
    pelvis = J(rig.pelvis)
    hip_l, hip_r = J(rig.limbs["left_hip"]), J(rig.limbs["right_hip"])
    sh_l, sh_r = J(rig.limbs["left_shoulder"]), J(rig.limbs["right_shoulder"])
    chest_top = 0.5 * (sh_l + sh_r) - 0.05 * up
    torso_pts = [0.5 * (hip_l + hip_r) + 0.02 * up] + spine[1:-1] + [chest_top]
    torso_bones = list(rig.spine[:-1]) + [rig.spine[-2]]
    radii = np.linspace(0.15, 0.17, len(torso_pts))
    for k in range(len(torso_pts) - 1):
        material = "jeans" if k == 0 else "shirt"
        add(capsule(torso_pts[k], torso_pts[k + 1], radii[k], radii[k + 1], hint=depth, squash=0.62),
            material, torso_bones[k])
    # hips / trousers top
    add(capsule(hip_l, hip_r, 0.11, 0.11, hint=depth, squash=0.9), "jeans", rig.pelvis)
    # shoulders, neck, head
    neck_base = J(rig.spine[-1])
    for side, collar in zip(("left", "right"), rig.collars):
        sh = J(rig.limbs[f"{side}_shoulder"])
        add(capsule(neck_base - 0.03 * up + 0.3 * (sh - neck_base), sh, 0.075, 0.065, hint=depth, squash=0.8),
            "shirt", collar)
    head_j = J(rig.head)
    add(capsule(neck_base, head_j + 0.02 * up, 0.055, 0.05), "skin", rig.neck)
    centre = head_j + 0.10 * up + 0.01 * forward
    axes = np.stack([left, forward, up])
    add(ellipsoid(centre, (0.078, 0.095, 0.115), axes), "skin", rig.head)
    add(ellipsoid(centre + 0.025 * up - 0.018 * forward, (0.085, 0.09, 0.10), axes), "hair", rig.head)
    for s in (1.0, -1.0):
        eye = centre + 0.03 * s * left + 0.08 * forward + 0.018 * up
        add(ellipsoid(eye, (0.014, 0.008, 0.010), axes), "eye", rig.head)
        add(ellipsoid(eye + 0.007 * forward, (0.006, 0.004, 0.006), axes), "pupil", rig.head)
        brow = eye + 0.022 * up + 0.002 * forward
        add(ellipsoid(brow, (0.018, 0.005, 0.004), axes), "hair", rig.head)
        add(ellipsoid(centre + 0.078 * s * left + 0.005 * up, (0.012, 0.022, 0.03), axes), "skin", rig.head)
    add(ellipsoid(centre + 0.095 * forward - 0.01 * up, (0.011, 0.02, 0.025), axes), "skin", rig.head)
    add(ellipsoid(centre + 0.083 * forward - 0.05 * up, (0.022, 0.008, 0.007), axes), "lips", rig.head)
    # arms
    for side in ("left", "right"):
        sh, el, wr = (J(rig.limbs[f"{side}_{n}"]) for n in ("shoulder", "elbow", "wrist"))
        add(capsule(sh, el, 0.058, 0.045), "shirt", rig.limbs[f"{side}_shoulder"])
        add(capsule(el, wr, 0.042, 0.032), "skin", rig.limbs[f"{side}_elbow"])
        d = (wr - el) / np.linalg.norm(wr - el)
        palm_side = np.cross(d, forward)
        palm_side = palm_side / np.linalg.norm(palm_side) if np.linalg.norm(palm_side) > 1e-6 else up
        hand_axes = np.stack([d, np.cross(palm_side, d), palm_side])
        add(ellipsoid(wr + 0.085 * d, (0.095, 0.045, 0.022), hand_axes), "skin", rig.limbs[f"{side}_wrist"])
        thumb = wr + 0.04 * d + 0.04 * np.cross(palm_side, d)
        add(capsule(thumb, thumb + 0.05 * d + 0.02 * np.cross(palm_side, d), 0.014, 0.011), "skin",
            rig.limbs[f"{side}_wrist"])
    # legs and shoes
    for k, side in enumerate(("left", "right")):
        hp, kn, an = (J(rig.limbs[f"{side}_{n}"]) for n in ("hip", "knee", "ankle"))
        add(capsule(hp, kn, 0.085, 0.058), "jeans", rig.limbs[f"{side}_hip"])
        add(capsule(kn, an, 0.055, 0.042), "jeans", rig.limbs[f"{side}_knee"])
        toe = J(rig.toes[k])
        toe_end = J(child_of(rig.toes[k]))
        heel = an - 0.05 * forward - 0.04 * up
        add(capsule(heel, toe, 0.045, 0.045, hint=up, squash=0.8), "shoes", rig.limbs[f"{side}_ankle"])
        add(capsule(toe, toe + 0.6 * (toe_end - toe), 0.042, 0.035, hint=up, squash=0.7), "shoes", rig.toes[k])
    materials = list(MATERIALS)
    bones = sorted({p[3] for p in parts})
    verts, faces, face_mat, vert_bone = [], [], [], []
    offset = 0
    for v, f, material, bone in parts:
        verts.append(v)
        faces.extend(tuple(i + offset for i in face) + (-1,) * (4 - len(face)) for face in f)
        face_mat.extend([materials.index(material)] * len(f))
        vert_bone.extend([bones.index(bone)] * len(v))
        offset += len(v)
    return {
        "verts": np.concatenate(verts), "faces": np.array(faces, np.int64),
        "face_material": np.array(face_mat, np.int64), "vert_bone": np.array(vert_bone, np.int64),
        "bones": np.array(bones), "materials": np.array(materials),
        "material_colors": np.array([MATERIALS[m] for m in materials]),
    }


# ----------------------------------------------------------------------------
# Ground truth and the cache
# ----------------------------------------------------------------------------

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


def _key(spec: ClipSpec, settings: RenderSettings) -> str:
    blob = json.dumps({"spec": dataclasses.asdict(spec), "render": dataclasses.asdict(settings),
                       "version": RENDER_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def prepare_clip(spec: ClipSpec, settings: RenderSettings = RenderSettings(), *, python: str | None = None,
                 log=print) -> Clip:
    """The rendered clip and its ground truth, from the cache or made now (minutes)."""
    folder = cache_root() / "clips" / f"{spec.name}-{_key(spec, settings)}"
    video = folder / "clip.mp4"
    if (folder / "truth.npz").is_file() and video.is_file():
        truth = dict(np.load(folder / "truth.npz", allow_pickle=False))
        return Clip(spec, folder, video, truth, json.loads((folder / "meta.json").read_text()))

    work = folder.with_name(folder.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    (work / "frames").mkdir(parents=True)
    source = parse_bvh((bvh_folder(log) / spec.bvh).read_text())
    excerpt, times = resample(source, spec.start_seconds, spec.frames, spec.fps)
    (work / "excerpt.bvh").write_text(write_bvh(excerpt))
    rig = spec.rig
    world = blender_from_bvh(bvh_forward_kinematics(excerpt), rig.scale)          # (T, J, 3)
    rest = blender_from_bvh(bvh_forward_kinematics(excerpt, np.zeros((1, excerpt.frames.shape[1])))[0], rig.scale)
    foot_idx = [excerpt.index(n) for n in (rig.limbs["left_ankle"], rig.toes[0],
                                           rig.limbs["right_ankle"], rig.toes[1])]
    # the ground: under the lowest toe-end of the clip, less the shoe sole under that point
    toe_ends = [excerpt.index(t + "_end") for t in rig.toes]
    floor = float(np.min(world[:, toe_ends + foot_idx, 2])) - 0.035
    cam_from_world = choose_camera(world, excerpt, rig, spec, settings, floor)
    body = build_body(rest, excerpt, rig)
    np.savez(work / "body.npz", **body)
    job = {
        "bvh": str(work / "excerpt.bvh"), "body": str(work / "body.npz"), "frames_dir": str(work / "frames"),
        "scale": rig.scale, "fps": spec.fps, "count": spec.frames, "floor": floor,
        "cam_from_world": cam_from_world.tolist(), "settings": dataclasses.asdict(settings),
        "joint_names": excerpt.names, "check": str(work / "blender_joints.npz"),
    }
    (work / "job.json").write_text(json.dumps(job))
    log(f"rendering {spec.name}: {spec.frames} frames, {settings.width}x{settings.height}, {settings.engine}")
    t0 = time.perf_counter()
    subprocess.run([python or sys.executable, str(Path(__file__).resolve()), "_render", str(work / "job.json")],
                   check=True)
    render_seconds = time.perf_counter() - t0

    # Blender's own posed joints must be the numpy FK: the truth is what was rendered
    check = np.load(work / "blender_joints.npz")
    names = [str(n) for n in check["names"]]
    ours = world[:, [excerpt.index(n) for n in names]]
    fk_error = float(np.abs(check["heads"] - ours).max())
    if fk_error > 1e-3:
        raise RuntimeError(f"{spec.name}: Blender's posed joints differ from the BVH FK by {fk_error * 1000:.2f} mm")

    _write_video(work / "frames", work / "clip.mp4", spec.fps, spec.frames)
    K = intrinsics(settings.width, settings.height, settings.hfov_degrees)
    joints_cam = transform(cam_from_world, world)
    limb_idx = [excerpt.index(rig.limbs[n]) for n in LIMB_JOINTS]
    feet = world[:, foot_idx]
    heights = feet[..., 2] - floor
    contact, speed = foot_contacts(heights, feet, spec.fps)
    truth = {
        "limb_names": np.array(LIMB_JOINTS), "limb_cam": joints_cam[:, limb_idx],
        "limb_2d": project(joints_cam[:, limb_idx], K),
        "joint_names": np.array(excerpt.names), "joints_cam": joints_cam,
        "K": K, "cam_from_world": cam_from_world, "hfov_degrees": np.float64(settings.hfov_degrees),
        "image_size": np.array([settings.width, settings.height], np.int64), "fps": np.float64(spec.fps),
        "source_times": times, "world_up_cam": cam_from_world[:3, :3] @ np.array([0.0, 0.0, 1.0]),
        "floor_height": np.float64(floor),
        "foot_names": np.array(["left_heel", "left_toe", "right_heel", "right_toe"]),
        "foot_height": heights, "foot_speed": speed, "contact": contact,
        "contact_left": contact[:, 0] | contact[:, 1], "contact_right": contact[:, 2] | contact[:, 3],
    }
    np.savez(work / "truth.npz", **truth)
    meta = {"spec": dataclasses.asdict(spec), "render": dataclasses.asdict(settings), "version": RENDER_VERSION,
            "render_seconds": render_seconds, "fk_check_max_error_m": fk_error,
            "camera_distance_m": float(np.linalg.norm(joints_cam[:, limb_idx].mean((0, 1))))}
    (work / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
    shutil.rmtree(folder, ignore_errors=True)
    work.rename(folder)
    return prepare_clip(spec, settings, python=python, log=log)


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


# ----------------------------------------------------------------------------
# The render process (bpy)
# ----------------------------------------------------------------------------

def import_bvh_blender(path: str, scale: float):
    """Import a BVH with Blender's bundled importer, one key per BVH frame from frame 1; returns the armature."""
    import bpy

    bpy.ops.import_anim.bvh(filepath=path, global_scale=scale, frame_start=1, use_fps_scale=False,
                            update_scene_fps=False, update_scene_duration=True, rotate_mode="NATIVE",
                            axis_forward="-Z", axis_up="Y")
    return bpy.context.active_object


def blender_bone_heads(arm, frames: list[int]) -> tuple[list[str], np.ndarray]:
    """World positions of every pose bone's head on the given scene frames: names, (F, B, 3)."""
    import bpy

    scene = bpy.context.scene
    names = [b.name for b in arm.pose.bones]
    out = np.zeros((len(frames), len(names), 3))
    for i, f in enumerate(frames):
        scene.frame_set(f)
        mw = np.array(arm.matrix_world)
        for j, b in enumerate(arm.pose.bones):
            out[i, j] = mw[:3, :3] @ np.array(b.head) + mw[:3, 3]
    return names, out


def _render(job_path: str) -> None:
    import bpy

    job = json.loads(Path(job_path).read_text())
    s = job["settings"]
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    arm = import_bvh_blender(job["bvh"], job["scale"])

    # body mesh, rigidly skinned
    body = np.load(job["body"])
    mesh = bpy.data.meshes.new("Body")
    faces = [tuple(int(i) for i in f if i >= 0) for f in body["faces"]]
    mesh.from_pydata(body["verts"].tolist(), [], faces)
    mesh.polygons.foreach_set("material_index", body["face_material"].astype(np.int32))
    mesh.polygons.foreach_set("use_smooth", np.ones(len(faces), bool))
    for name, color in zip(body["materials"], body["material_colors"]):
        mesh.materials.append(_material(str(name), tuple(color)))
    mesh.update()
    obj = bpy.data.objects.new("Body", mesh)
    scene.collection.objects.link(obj)
    for b, bone in enumerate(body["bones"]):
        group = obj.vertex_groups.new(name=str(bone))
        group.add([int(i) for i in np.flatnonzero(body["vert_bone"] == b)], 1.0, "REPLACE")
    mod = obj.modifiers.new("Armature", "ARMATURE")
    mod.object = arm
    arm.hide_render = True

    _ground(scene, job["floor"])
    _lights(scene)
    cam_data = bpy.data.cameras.new("Camera")
    cam_data.sensor_fit = "HORIZONTAL"
    cam_data.sensor_width = 36.0
    cam_data.lens = 18.0 / math.tan(math.radians(s["hfov_degrees"]) / 2.0)
    cam = bpy.data.objects.new("Camera", cam_data)
    scene.collection.objects.link(cam)
    cv = np.array(job["cam_from_world"])
    R = cv[:3, :3]
    eye = -R.T @ cv[:3, 3]
    world_from_cam_blender = np.eye(4)  # Blender camera: x right, y up, looks down -z
    world_from_cam_blender[:3, :3] = R.T @ np.diag([1.0, -1.0, -1.0])
    world_from_cam_blender[:3, 3] = eye
    from mathutils import Matrix

    cam.matrix_world = Matrix(world_from_cam_blender.tolist())
    scene.camera = cam

    r = scene.render
    r.resolution_x, r.resolution_y, r.resolution_percentage = s["width"], s["height"], 100
    r.engine = s["engine"]
    r.image_settings.file_format = "PNG"
    r.film_transparent = False
    if s["engine"] == "CYCLES":
        scene.cycles.device = "CPU"
        scene.cycles.samples = s["samples"]
        scene.cycles.use_adaptive_sampling = True
        scene.cycles.use_denoising = s["denoise"]
        scene.cycles.max_bounces = 4
        r.threads_mode = "AUTO"
    elif s["engine"] == "BLENDER_EEVEE":
        scene.eevee.taa_render_samples = s["samples"]
    else:
        shading = scene.display.shading
        shading.light = "STUDIO"
        shading.color_type = "TEXTURE"  # material colours, and the ground image
        shading.show_shadows = True
    scene.view_settings.view_transform = "Standard" if s["engine"] == "BLENDER_WORKBENCH" else "AgX"

    frames = [1 + k for k in range(job["count"])]
    names, heads = blender_bone_heads(arm, frames)
    np.savez(job["check"], names=np.array(names), heads=heads)
    for k, f in enumerate(frames):
        scene.frame_set(f)
        r.filepath = str(Path(job["frames_dir"]) / f"{k:04d}.png")
        bpy.ops.render.render(write_still=True)


def _material(name: str, color: tuple[float, float, float]):
    import bpy

    mat = bpy.data.materials.new(name)
    mat.diffuse_color = (*color, 1.0)
    mat.use_nodes = True
    bsdf = mat.node_tree.nodes.get("Principled BSDF")
    bsdf.inputs["Base Color"].default_value = (*color, 1.0)
    bsdf.inputs["Roughness"].default_value = 0.45 if name in ("skin", "lips") else (0.25 if name in ("eye", "pupil") else 0.8)
    if name == "skin":
        bsdf.inputs["Subsurface Weight"].default_value = 0.08
    return mat


def _ground(scene, floor: float) -> None:
    """A 30 m floor with a procedural checker (Cycles/EEVEE) and a matching image (Workbench)."""
    import bpy

    mesh = bpy.data.meshes.new("Ground")
    h = 15.0
    mesh.from_pydata([(-h, -h, floor), (h, -h, floor), (h, h, floor), (-h, h, floor)], [], [(0, 1, 2, 3)])
    mesh.uv_layers.new(name="UVMap")
    uv = np.array([(0, 0), (1, 0), (1, 1), (0, 1)], np.float32) * 30.0
    mesh.uv_layers[0].data.foreach_set("uv", uv.ravel())
    obj = bpy.data.objects.new("Ground", mesh)
    scene.collection.objects.link(obj)
    mat = bpy.data.materials.new("Ground")
    mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    bsdf = nodes["Principled BSDF"]
    bsdf.inputs["Roughness"].default_value = 0.9
    size = 64
    yy, xx = np.mgrid[:size, :size]
    tile = (((xx // 32) + (yy // 32)) % 2).astype(np.float32)
    rgb = np.where(tile[..., None] > 0, (0.55, 0.53, 0.48), (0.38, 0.40, 0.36))
    pixels = np.concatenate([rgb, np.ones((size, size, 1))], axis=-1).astype(np.float32)
    img = bpy.data.images.new("GroundTiles", size, size)
    img.pixels.foreach_set(pixels.ravel())
    img.pack()
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = img
    tex.interpolation = "Closest"
    links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    mesh.materials.append(mat)


def _lights(scene) -> None:
    import bpy

    sun = bpy.data.objects.new("Sun", bpy.data.lights.new("Sun", "SUN"))
    sun.data.energy = 3.5
    sun.data.angle = math.radians(3.0)
    sun.rotation_euler = (math.radians(40), 0.0, math.radians(30))
    scene.collection.objects.link(sun)
    world = bpy.data.worlds.new("Sky")
    world.use_nodes = True
    bg = world.node_tree.nodes["Background"]
    bg.inputs["Color"].default_value = (0.55, 0.70, 0.95, 1.0)
    bg.inputs["Strength"].default_value = 0.9
    world.color = (0.55, 0.70, 0.95)
    scene.world = world


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "_render":
        _render(sys.argv[2])
    else:
        print("usage: python bench/groundtruth.py _render JOB.json  (run by prepare_clip)")
        sys.exit(2)
