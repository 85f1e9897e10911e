"""BVH motion capture in numpy: parse, write, forward kinematics, resample, to Blender's axes.

Forward kinematics follows Blender's BVH importer (checked against it by
``tests/core/test_groundtruth.py``), so the truth computed here is the motion
Blender renders.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np


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
