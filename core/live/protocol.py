"""The live stream's message: one solved frame in one UDP datagram (numpy and the standard library only).

Both ends import this module: the engine (``core.live.session``) packs, the
Blender side (``blender_mocap.live``) unpacks. Layout, little-endian, version
:data:`VERSION` (the README's "The live stream" table says the same); version 1
(the same without ``camera_pitch`` and ``camera_roll``) is still read:

==========  =====  ==========================================================
field       type   meaning
==========  =====  ==========================================================
magic       4s     ``b"BMLV"``
version     u16    :data:`VERSION` (2); 1 is read too, other versions dropped (counted)
kind        u8     1 = a solved pose
flags       u8     bit 0 left foot planted, bit 1 right foot planted, bit 2 held
                   (no person on this frame: the last pose, repeated)
seq         u32    message number, +1 per message sent (gaps: lost on the way)
frame       i64    index of the source frame (its own counter, from 0); with a lag, the frame at the
                   moment shown; greater in each message than in the one before
frame_time  f64    seconds on the source's clock (a file: frame / fps) of the moment the pose shows: the
                   frame's, with a lag a moment between frames
captured    f64    wall clock (``time.time()``) when the frame was read: glass time (with a lag, the
                   newest frame's less the lag)
sent        f64    wall clock when the message was sent
confidence  f32    0 to 1, how far to trust the frame
camera_h    f32    metres the camera stands above the (causally estimated) floor
camera_p    f32    the camera's pitch, degrees below the horizon (v2; as ``core.gravity``)
camera_r    f32    the camera's roll, degrees, clockwise seen from behind it (v2)
joints      u16    J = 55
expr        u16    E, expression coefficients that follow (0 for the mannequin)
trans       3 f32  root translation, metres, world frame (Z up, floor at Z = 0)
rotations   J*3    local axis-angle radians, the motion file's ``poses`` layout
expression  E f32  face expression
==========  =====  ==========================================================
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

from ..errors import MocapError
from ..skeleton import NUM_JOINTS

MAGIC = b"BMLV"
VERSION = 2
READS = (1, 2)
"""Versions :func:`unpack` reads."""
KIND_POSE = 1
FLAG_LEFT_CONTACT, FLAG_RIGHT_CONTACT, FLAG_HELD = 1, 2, 4
MAX_EXPRESSION = 400
"""More expression coefficients than any SMPL-X file has: a larger count is a malformed message."""

_HEAD = struct.Struct("<4sHBBIqdddffffHH")
_HEAD_V1 = struct.Struct("<4sHBBIqdddffHH")
_VERSION = struct.Struct("<4sH")
HEADER_BYTES = _HEAD.size


class ProtocolError(MocapError):
    """A datagram that is not a live message this version reads (the receiver drops and counts it)."""


@dataclass(frozen=True)
class LiveFrame:
    """One solved frame of the live stream.

    Attributes:
        seq: message number (+1 per message the engine sent).
        frame: source frame index (with a lag, the frame at the moment shown), greater than the last message's;
            frame_time: the time of the moment the pose shows on the source's clock, seconds (the frame's, with a
            lag a moment between frames).
        captured: wall-clock seconds (``time.time()``) when the frame was read from the source (with a lag, the
            newest frame solved's less the lag).
        sent: wall-clock seconds when the engine sent it.
        confidence: 0 to 1. camera_height: metres above the floor estimate.
        camera_pitch, camera_roll: the camera's tilt in degrees (``core.gravity``'s signs), None in a
            version 1 message (the rest take's camera then holds).
        flags: FLAG_* bits (planted feet, held pose).
        trans: (3,) float32 root translation, metres, world frame (Z up, floor Z = 0).
        poses: (J * 3,) float32 local axis-angle, the motion file's ``poses`` row.
        expression: (E,) float32.
    """

    seq: int
    frame: int
    frame_time: float
    captured: float
    sent: float
    confidence: float
    camera_height: float
    flags: int
    trans: np.ndarray
    poses: np.ndarray
    expression: np.ndarray
    camera_pitch: float | None = None
    camera_roll: float | None = None

    @property
    def held(self) -> bool:
        return bool(self.flags & FLAG_HELD)

    @property
    def contacts(self) -> tuple[bool, bool]:
        """(left, right) foot planted."""
        return bool(self.flags & FLAG_LEFT_CONTACT), bool(self.flags & FLAG_RIGHT_CONTACT)

    def camera_extrinsics(self) -> np.ndarray | None:
        """(4, 4) camera-from-world (OpenCV camera, the stream's Z-up world) of this frame's camera:
        ``camera_height`` above the floor at the world's origin, tilted by ``camera_pitch`` and
        ``camera_roll``; None for a version 1 message."""
        if self.camera_pitch is None or self.camera_roll is None:
            return None
        p, r = math.radians(self.camera_pitch), math.radians(self.camera_roll)
        up = np.array([-math.sin(r) * math.cos(p), -math.cos(r) * math.cos(p), -math.sin(p)])  # core.gravity's
        return camera_from_world(world_from_camera(up), self.camera_height)


def world_from_camera(up: np.ndarray) -> np.ndarray:
    """(3, 3) rotation, the stream's Z-up world <- OpenCV camera frame, for a camera whose frame sees ``up`` (3,).

    World z is ``up``; world y the camera's viewing direction laid level; world x = y x z (the camera's
    right when level). Rows are the world axes in camera coordinates."""
    z = np.asarray(up, np.float64) / np.linalg.norm(up)
    forward = np.array([0.0, 0.0, 1.0]) - z[2] * z
    y = forward / max(np.linalg.norm(forward), 1e-9)
    return np.stack([np.cross(y, z), y, z])


def camera_from_world(R_wc: np.ndarray, camera_height: float) -> np.ndarray:
    """(4, 4) camera-from-world of the stream's world (``R_wc`` (3, 3): world <- camera, see
    :func:`world_from_camera`) with the camera ``camera_height`` m above the floor at the world's origin."""
    E = np.eye(4)
    E[:3, :3] = R_wc.T
    E[:3, 3] = -R_wc.T @ np.array([0.0, 0.0, camera_height])
    return E


def pack(frame: LiveFrame) -> bytes:
    """The datagram of ``frame`` (``sent`` as given)."""
    poses = np.asarray(frame.poses, "<f4").reshape(-1)
    expression = np.asarray(frame.expression, "<f4").reshape(-1)
    if poses.size != NUM_JOINTS * 3:
        raise ValueError(f"poses must hold {NUM_JOINTS * 3} values, got {poses.size}")
    head = _HEAD.pack(MAGIC, VERSION, KIND_POSE, frame.flags & 0xFF, frame.seq & 0xFFFFFFFF, frame.frame,
                      frame.frame_time, frame.captured, frame.sent, frame.confidence, frame.camera_height,
                      frame.camera_pitch or 0.0, frame.camera_roll or 0.0, NUM_JOINTS, expression.size)
    return head + np.asarray(frame.trans, "<f4").reshape(3).tobytes() + poses.tobytes() + expression.tobytes()


def unpack(data: bytes) -> LiveFrame:
    """Read one datagram. ProtocolError (with what is wrong) for anything but a whole, finite v1 or v2 pose."""
    if len(data) < _VERSION.size:
        raise ProtocolError(f"a {len(data)}-byte datagram is shorter than the {HEADER_BYTES}-byte header")
    magic, version = _VERSION.unpack_from(data)
    if magic != MAGIC:
        raise ProtocolError("not a blender-mocap live message (wrong magic)")
    if version not in READS:
        raise ProtocolError(f"live message version {version}; this add-on reads versions {READS[0]} to {READS[-1]}")
    head = _HEAD if version == 2 else _HEAD_V1
    if len(data) < head.size:
        raise ProtocolError(f"a {len(data)}-byte datagram is shorter than the {head.size}-byte header")
    if version == 2:
        (_, _, kind, flags, seq, frame, frame_time, captured, sent, confidence, camera_height, pitch, roll,
         joints, expr) = head.unpack_from(data)
        tilt: tuple[float | None, float | None] = (pitch, roll)
    else:
        (_, _, kind, flags, seq, frame, frame_time, captured, sent, confidence, camera_height,
         joints, expr) = head.unpack_from(data)
        pitch = roll = 0.0
        tilt = (None, None)
    if kind != KIND_POSE:
        raise ProtocolError(f"unknown message kind {kind}")
    if joints != NUM_JOINTS or expr > MAX_EXPRESSION:
        raise ProtocolError(f"a message with {joints} joints and {expr} expression values")
    want = head.size + 4 * (3 + 3 * joints + expr)
    if len(data) != want:
        raise ProtocolError(f"a {len(data)}-byte message; its header says {want}")
    body = np.frombuffer(data, "<f4", offset=head.size).astype(np.float32)
    scalars = (frame_time, captured, sent, confidence, camera_height, pitch, roll)
    if not (np.all(np.isfinite(body)) and all(math.isfinite(v) for v in scalars)):
        raise ProtocolError("a message with non-finite values")
    return LiveFrame(seq=seq, frame=frame, frame_time=frame_time, captured=captured, sent=sent,
                     confidence=float(np.clip(confidence, 0.0, 1.0)), camera_height=camera_height, flags=flags,
                     trans=body[:3], poses=body[3:3 + 3 * joints], expression=body[3 + 3 * joints:],
                     camera_pitch=tilt[0], camera_roll=tilt[1])
