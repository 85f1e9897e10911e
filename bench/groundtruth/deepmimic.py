"""DeepMimic motion (the clips pybullet ships) as BVH: fetch, parse, forward kinematics, resample.

Source: the ``pybullet==3.2.7`` wheel on PyPI (zlib licence), fetched with
``pip download --no-deps`` into the cache at bench set-up; only
``pybullet_data/humanoid/humanoid.urdf`` (the character: joint offsets) and the
``pybullet_data/data/motions/humanoid3d_*.txt`` motions are extracted, never
``HELD_OUT_MOTIONS`` (kept out of the repository's bench to check figures on).

A motion file is JSON: ``"Loop"`` (``"wrap"`` or ``"none"``) and ``"Frames"``,
rows of 44 numbers (pybullet's ``HumanoidPoseInterpolator.Slerp`` reads them
so): duration to the next row (s), root position (3, metres), root quaternion
(w, x, y, z), then per joint of ``JOINTS`` a quaternion (w, x, y, z) or, for
the knees and elbows, one angle (radians) about the joint's z axis. The
character frame is Y up, X forward, Z to the character's right, which is a
BVH's own convention: the BVH written here is in metres and uses the file's
axes, so :func:`groundtruth.bvh.blender_from_bvh` (scale 1) takes it to
Blender. The URDF is 4x the character's size (pybullet loads it with
``globalScaling=0.25``).

The character has no collar, head-end, toe or hand joints: :data:`DEEPMIMIC_RIG`
lets the chest carry the collars, and fixed joints (no motion, zero rotation
channels) are added for the head, the toes and the hands' ends, placed on the
URDF's own collision shapes (head sphere, foot box).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .bvh import Bvh, parse_bvh
from .clips import DEEPMIMIC_RIG  # noqa: F401  (re-exported: the rig of these BVHs)

PACKAGE = "pybullet==3.2.7"
URDF_MEMBER = "pybullet_data/humanoid/humanoid.urdf"
MOTION_PREFIX = "pybullet_data/data/motions/humanoid3d_"
HELD_OUT_MOTIONS = ("humanoid3d_cartwheel", "humanoid3d_dance_b")
"""Never extracted nor rendered by the repository's bench: held-out checks use them."""
URDF_SCALE = 0.25

# (name, parent, columns in a frame row): the row's layout after the root's 7 numbers
JOINTS = (
    ("chest", "root", 4), ("neck", "chest", 4),
    ("right_hip", "root", 4), ("right_knee", "right_hip", 1), ("right_ankle", "right_knee", 4),
    ("right_shoulder", "chest", 4), ("right_elbow", "right_shoulder", 1),
    ("left_hip", "root", 4), ("left_knee", "left_hip", 1), ("left_ankle", "left_knee", 4),
    ("left_shoulder", "chest", 4), ("left_elbow", "left_shoulder", 1),
)
ROW = 1 + 3 + 4 + sum(c for _, _, c in JOINTS)  # 44

# fixed joints the body needs, metres in the parent's frame (character axes)
FIXED = (
    ("head", "neck", (0.0, 0.075, 0.0)),          # the URDF's head sphere: centre 0.175 up, radius 0.1025
    ("right_toe", "right_ankle", (0.12, -0.045, 0.0)),  # front of the foot box (x -0.044..0.134, sole -0.05)
    ("left_toe", "left_ankle", (0.12, -0.045, 0.0)),
)
END_SITES = {"head": (0.0, 0.13, 0.0), "right_toe": (0.06, 0.0, 0.0), "left_toe": (0.06, 0.0, 0.0),
             "right_wrist": (0.0, -0.08, 0.0), "left_wrist": (0.0, -0.08, 0.0)}

SOLE_BELOW_GROUND = 0.04
"""Metres the rendered shoe reaches below the URDF's foot box (the body's shoe is
thicker): the rendered floor sits this far below the motion's ground, y = 0."""


@dataclass
class Motion:
    """One DeepMimic motion file. N rows.

    Attributes:
        times: (N,) time of each row, seconds from the first.
        root_pos: (N, 3) root position, metres, character axes (Y up).
        root_quat: (N, 4) root orientation, (w, x, y, z).
        joints: per name of ``JOINTS``: (N, 4) quaternion (w, x, y, z) or (N, 1) angle (radians, about z).
        loop: the file's ``"Loop"`` is ``"wrap"``: the motion repeats, moved by the cycle's root offset.
    """

    times: np.ndarray
    root_pos: np.ndarray
    root_quat: np.ndarray
    joints: dict[str, np.ndarray]
    loop: bool

    @property
    def duration(self) -> float:
        return float(self.times[-1])


def parse_motion(text: str) -> Motion:
    """A DeepMimic motion file (JSON); ValueError naming what is wrong."""
    data = json.loads(text)
    rows = np.asarray(data.get("Frames", []), np.float64)
    if rows.ndim != 2 or rows.shape[1] != ROW or len(rows) < 2:
        raise ValueError(f"not a DeepMimic humanoid motion: expected rows of {ROW} numbers, got shape {rows.shape}")
    times = np.concatenate([[0.0], np.cumsum(rows[:-1, 0])])
    col = 8
    joints = {}
    for name, _, width in JOINTS:
        joints[name] = rows[:, col:col + width]
        col += width
    return Motion(times, rows[:, 1:4], rows[:, 4:8], joints, data.get("Loop") == "wrap")


def parse_urdf_offsets(text: str) -> dict[str, tuple[str, np.ndarray]]:
    """Joint name -> (parent joint, offset from it in metres) of the humanoid URDF (scaled by ``URDF_SCALE``).

    The URDF names each link after the joint that moves it, so a joint's
    parent joint is its parent link's name.
    """
    text = text.replace("\x00", "")
    out: dict[str, tuple[str, np.ndarray]] = {}
    for m in re.finditer(r'<joint\s+name\s*=\s*"([^"]+)".*?</joint>', text, re.S):
        block = m.group(0)
        parent = re.search(r'<parent\s+link\s*=\s*"([^"]+)"', block)
        origin = re.search(r'<origin[^>]*xyz\s*=\s*"([^"]+)"', block)
        if parent and origin:
            out[m.group(1)] = (parent.group(1), URDF_SCALE * np.array([float(v) for v in origin.group(1).split()]))
    missing = [n for n, _, _ in JOINTS if n not in out] + [n for n in ("right_wrist", "left_wrist") if n not in out]
    if missing:
        raise ValueError(f"humanoid URDF without joint(s) {', '.join(missing)}")
    return out


# ----------------------------------------------------------------------------
# Rotations (quaternions w, x, y, z; any leading dimensions)
# ----------------------------------------------------------------------------

def quat_wxyz_to_rotmat(q: np.ndarray) -> np.ndarray:
    """(..., 4) quaternions (w, x, y, z), normalised here -> (..., 3, 3) rotation matrices."""
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def rotmat_z(angle: np.ndarray) -> np.ndarray:
    """(...,) radians -> (..., 3, 3) rotation about z (the knees' and elbows' axis)."""
    c, s = np.cos(angle), np.sin(angle)
    zero, one = np.zeros_like(c), np.ones_like(c)
    return np.stack([np.stack([c, -s, zero], -1), np.stack([s, c, zero], -1), np.stack([zero, zero, one], -1)], -2)


def slerp_wxyz(q0: np.ndarray, q1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Spherical interpolation (..., 4) from ``q0`` to ``q1`` at fractions ``w`` (...,), the short way."""
    q0 = q0 / np.linalg.norm(q0, axis=-1, keepdims=True)
    q1 = q1 / np.linalg.norm(q1, axis=-1, keepdims=True)
    dot = np.sum(q0 * q1, -1)
    q1 = np.where(dot[..., None] < 0, -q1, q1)
    dot = np.abs(dot).clip(max=1.0)
    theta = np.arccos(dot)
    small = theta < 1e-6
    s = np.where(small, 1.0, np.sin(theta))
    a = np.where(small, 1.0 - w, np.sin((1.0 - w) * theta) / s)
    b = np.where(small, w, np.sin(w * theta) / s)
    out = a[..., None] * q0 + b[..., None] * q1
    return out / np.linalg.norm(out, axis=-1, keepdims=True)


def rotmat_to_euler_zyx_degrees(R: np.ndarray) -> np.ndarray:
    """(..., 3, 3) -> (..., 3) angles (z, y, x) in degrees with ``R = Rz @ Ry @ Rx`` (BVH ``Zrotation Yrotation
    Xrotation``). At gimbal lock (|y| = 90 degrees) x is 0 and z carries the rest, still exact."""
    sy = -R[..., 2, 0].clip(-1.0, 1.0)
    y = np.arcsin(sy)
    lock = np.abs(sy) > 1.0 - 1e-9
    z = np.where(lock, np.arctan2(-R[..., 0, 1], R[..., 1, 1]), np.arctan2(R[..., 1, 0], R[..., 0, 0]))
    x = np.where(lock, 0.0, np.arctan2(R[..., 2, 1], R[..., 2, 2]))
    return np.degrees(np.stack([z, y, x], -1))


# ----------------------------------------------------------------------------
# Sampling and the BVH
# ----------------------------------------------------------------------------

@dataclass
class Pose:
    """Local rotations of every moving joint at T times: ``root_pos`` (T, 3) m, ``rot`` name -> (T, 3, 3)."""

    root_pos: np.ndarray
    rot: dict[str, np.ndarray]


def sample(motion: Motion, times: np.ndarray) -> Pose:
    """The motion at ``times`` (T,) seconds, as pybullet plays it: positions and angles linear, quaternions slerped.

    A looping motion repeats after its last row with the root moved by the
    cycle's horizontal offset (last row minus first, x and z), as pybullet's
    ``computeCycleOffset``; a motion that does not loop must cover ``times``.
    """
    times = np.asarray(times, np.float64)
    cycle = motion.duration
    if motion.loop:
        count = np.floor(times / cycle)
        local = times - count * cycle
    else:
        if times.max() > cycle + 1e-9 or times.min() < 0:
            raise ValueError(f"window {times.min():.2f}-{times.max():.2f} s is outside the motion's {cycle:.2f} s")
        count, local = np.zeros_like(times), times.clip(0, cycle)
    i = np.clip(np.searchsorted(motion.times, local, side="right") - 1, 0, len(motion.times) - 2)
    span = motion.times[i + 1] - motion.times[i]
    w = np.where(span > 0, (local - motion.times[i]) / np.where(span > 0, span, 1.0), 0.0).clip(0, 1)
    offset = motion.root_pos[-1] - motion.root_pos[0]
    offset[1] = 0.0
    root_pos = (1 - w)[:, None] * motion.root_pos[i] + w[:, None] * motion.root_pos[i + 1] + count[:, None] * offset
    rot = {"root": quat_wxyz_to_rotmat(slerp_wxyz(motion.root_quat[i], motion.root_quat[i + 1], w))}
    for name, _, width in JOINTS:
        v = motion.joints[name]
        if width == 4:
            rot[name] = quat_wxyz_to_rotmat(slerp_wxyz(v[i], v[i + 1], w))
        else:
            rot[name] = rotmat_z((1 - w) * v[i, 0] + w * v[i + 1, 0])
    return Pose(root_pos, rot)


def place(pose: Pose, heading_degrees: float, offset: tuple[float, float]) -> Pose:
    """The pose turned about the vertical by ``heading_degrees`` (counter-clockwise seen from above in
    Blender) about the origin, then moved by ``offset`` = Blender (X, Y) metres (character axes: x = X, z = -Y)."""
    a = np.radians(heading_degrees)
    Ry = np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])
    rot = dict(pose.rot)
    rot["root"] = Ry @ pose.rot["root"]
    return Pose(pose.root_pos @ Ry.T + np.array([offset[0], 0.0, -offset[1]]), rot)


def _skeleton(offsets: dict[str, tuple[str, np.ndarray]]) -> list[tuple[str, str, np.ndarray]]:
    """(joint, parent, offset) in depth-first order from the root: the URDF's moving joints, wrists and FIXED."""
    wanted = {n for n, _, _ in JOINTS} | {"right_wrist", "left_wrist"}   # not the URDF's base and root
    table = {n: (p, o) for n, (p, o) in offsets.items() if n in wanted}
    table.update({n: (p, np.array(o)) for n, p, o in FIXED})
    out: list[tuple[str, str, np.ndarray]] = []

    def visit(parent: str) -> None:
        for name in [n for n, (p, _) in table.items() if p == parent]:
            out.append((name, parent, table[name][1]))
            visit(name)

    visit("root")
    return out


def _header(skeleton: list[tuple[str, str, np.ndarray]]) -> str:
    """BVH HIERARCHY text: the root with 6 channels, every joint with 3 rotations (Z Y X), end sites."""
    children: dict[str, list[tuple[str, np.ndarray]]] = {}
    for name, parent, off in skeleton:
        children.setdefault(parent, []).append((name, off))
    lines = ["HIERARCHY", "ROOT root", "{", "  OFFSET 0.000000 0.000000 0.000000",
             "  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation"]

    def emit(name: str, depth: int) -> None:
        pad = "  " * depth
        for child, off in children.get(name, []):
            lines.extend([f"{pad}JOINT {child}", f"{pad}{{", f"{pad}  OFFSET {off[0]:.6f} {off[1]:.6f} {off[2]:.6f}",
                          f"{pad}  CHANNELS 3 Zrotation Yrotation Xrotation"])
            emit(child, depth + 1)
            lines.append(f"{pad}}}")
        if name in END_SITES:
            e = END_SITES[name]
            lines.extend([f"{pad}End Site", f"{pad}{{", f"{pad}  OFFSET {e[0]:.6f} {e[1]:.6f} {e[2]:.6f}", f"{pad}}}"])

    emit("root", 1)
    lines.extend(["}", "MOTION"])
    return "\n".join(lines)


def to_bvh(pose: Pose, offsets: dict[str, tuple[str, np.ndarray]], fps: float) -> Bvh:
    """The sampled ``pose`` as a BVH (metres, character axes, ``1 / fps`` per frame)."""
    skeleton = _skeleton(offsets)
    header = _header(skeleton)
    T = len(pose.root_pos)
    cols = [pose.root_pos, rotmat_to_euler_zyx_degrees(pose.rot["root"])]
    for name, _, _ in skeleton:
        cols.append(rotmat_to_euler_zyx_degrees(pose.rot[name]) if name in pose.rot else np.zeros((T, 3)))
    frames = np.concatenate(cols, axis=1)
    rows = "\n".join(" ".join(f"{v:.6f}" for v in row) for row in frames[:1])
    bvh = parse_bvh(f"{header}\nFrames: 1\nFrame Time: {1.0 / fps:.8f}\n{rows}\n")
    bvh.frames, bvh.frame_time = frames, 1.0 / fps
    return bvh


def forward_kinematics(pose: Pose, offsets: dict[str, tuple[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Joint name -> (T, 3) world positions, metres, character axes: straight from the rotations (no Euler
    angles), the reference the BVH is checked against."""
    pos = {"root": pose.root_pos}
    rot = {"root": pose.rot["root"]}
    for name, parent, off in _skeleton(offsets):
        pos[name] = pos[parent] + np.einsum("tij,j->ti", rot[parent], off)
        rot[name] = rot[parent] @ pose.rot[name] if name in pose.rot else rot[parent]
    return pos


# ----------------------------------------------------------------------------
# The cache
# ----------------------------------------------------------------------------

def motion_folder(root: Path, log=print) -> Path:
    """``root/pybullet/x``: the humanoid URDF and the motions, fetched once from the pybullet wheel.

    ``pip download --no-deps --only-binary`` for one fixed platform, so the
    same wheel comes whatever Python runs the bench; ``HELD_OUT_MOTIONS`` are
    not extracted.
    """
    base = root / "pybullet"
    target = base / "x"
    if (target / "humanoid.urdf").is_file():
        return target
    base.mkdir(parents=True, exist_ok=True)
    wheels = sorted(base.glob("pybullet-*.whl"))
    if not wheels:
        log(f"fetching the {PACKAGE} wheel (DeepMimic motion files)")
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary", ":all:",
                        "--platform", "manylinux2014_x86_64", "--python-version", "3.11", "--implementation", "cp",
                        PACKAGE, "-d", str(base)], check=True)
        wheels = sorted(base.glob("pybullet-*.whl"))
        if not wheels:
            raise RuntimeError(f"pip download {PACKAGE} left no wheel in {base}")
    partial = base / "x.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    with zipfile.ZipFile(wheels[-1]) as zf:
        for member in zf.namelist():
            name = member.rsplit("/", 1)[-1]
            wanted = member == URDF_MEMBER or (member.startswith(MOTION_PREFIX) and member.endswith(".txt")
                                               and name[:-4] not in HELD_OUT_MOTIONS)
            if wanted:
                (partial / name).write_bytes(zf.read(member))
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def source_bvh(folder: Path, motion: str, duration: float, fps: float, *, heading_degrees: float = 0.0,
               offset: tuple[float, float] = (0.0, 0.0)) -> Bvh:
    """``motion`` (``humanoid3d_walk``) from ``folder`` sampled at ``fps`` from 0 to ``duration`` seconds, placed,
    as a BVH on the video's frame grid (so :func:`groundtruth.bvh.resample` copies its frames verbatim)."""
    if motion in HELD_OUT_MOTIONS:
        raise ValueError(f"{motion} is held out of the repository's bench")
    offsets = parse_urdf_offsets((folder / "humanoid.urdf").read_text(errors="replace"))
    data = parse_motion((folder / f"{motion}.txt").read_text())
    times = np.arange(int(np.ceil(duration * fps - 1e-6)) + 1) / fps
    return to_bvh(place(sample(data, times), heading_degrees, offset), offsets, fps)
