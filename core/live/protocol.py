"""The live stream's message: one solved frame in one UDP datagram (numpy and the standard library only).

Both ends import this module: the engine (``core.live.session``) packs, the
Blender side (``blender_mocap.live``) unpacks. Layout, little-endian, version
:data:`VERSION` (the README's "The live stream" table says the same):

==========  =====  ==========================================================
field       type   meaning
==========  =====  ==========================================================
magic       4s     ``b"BMLV"``
version     u16    :data:`VERSION`; a receiver drops other versions (counted)
kind        u8     1 = a solved pose
flags       u8     bit 0 left foot planted, bit 1 right foot planted, bit 2 held
                   (no person on this frame: the last pose, repeated)
seq         u32    message number, +1 per message sent (gaps: lost on the way)
frame       i64    index of the source frame (its own counter, from 0)
frame_time  f64    seconds of that frame on the source's clock (a file: frame / fps)
captured    f64    wall clock (``time.time()``) when the frame was read: glass time
sent        f64    wall clock when the message was sent
confidence  f32    0 to 1, how far to trust the frame
camera_h    f32    metres the camera stands above the (causally estimated) floor
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
VERSION = 1
KIND_POSE = 1
FLAG_LEFT_CONTACT, FLAG_RIGHT_CONTACT, FLAG_HELD = 1, 2, 4
MAX_EXPRESSION = 400
"""More expression coefficients than any SMPL-X file has: a larger count is a malformed message."""

_HEAD = struct.Struct("<4sHBBIqdddffHH")
HEADER_BYTES = _HEAD.size


class ProtocolError(MocapError):
    """A datagram that is not a live message this version reads (the receiver drops and counts it)."""


@dataclass(frozen=True)
class LiveFrame:
    """One solved frame of the live stream.

    Attributes:
        seq: message number (+1 per message the engine sent).
        frame: source frame index; frame_time: its time on the source's clock, seconds.
        captured: wall-clock seconds (``time.time()``) when the frame was read from the source.
        sent: wall-clock seconds when the engine sent it.
        confidence: 0 to 1. camera_height: metres above the floor estimate.
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

    @property
    def held(self) -> bool:
        return bool(self.flags & FLAG_HELD)

    @property
    def contacts(self) -> tuple[bool, bool]:
        """(left, right) foot planted."""
        return bool(self.flags & FLAG_LEFT_CONTACT), bool(self.flags & FLAG_RIGHT_CONTACT)


def pack(frame: LiveFrame) -> bytes:
    """The datagram of ``frame`` (``sent`` as given)."""
    poses = np.asarray(frame.poses, "<f4").reshape(-1)
    expression = np.asarray(frame.expression, "<f4").reshape(-1)
    if poses.size != NUM_JOINTS * 3:
        raise ValueError(f"poses must hold {NUM_JOINTS * 3} values, got {poses.size}")
    head = _HEAD.pack(MAGIC, VERSION, KIND_POSE, frame.flags & 0xFF, frame.seq & 0xFFFFFFFF, frame.frame,
                      frame.frame_time, frame.captured, frame.sent, frame.confidence, frame.camera_height,
                      NUM_JOINTS, expression.size)
    return head + np.asarray(frame.trans, "<f4").reshape(3).tobytes() + poses.tobytes() + expression.tobytes()


def unpack(data: bytes) -> LiveFrame:
    """Read one datagram. ProtocolError (with what is wrong) for anything but a whole, finite v1 pose."""
    if len(data) < HEADER_BYTES:
        raise ProtocolError(f"a {len(data)}-byte datagram is shorter than the {HEADER_BYTES}-byte header")
    (magic, version, kind, flags, seq, frame, frame_time, captured, sent, confidence, camera_height,
     joints, expr) = _HEAD.unpack_from(data)
    if magic != MAGIC:
        raise ProtocolError("not a blender-mocap live message (wrong magic)")
    if version != VERSION:
        raise ProtocolError(f"live message version {version}; this add-on reads version {VERSION}")
    if kind != KIND_POSE:
        raise ProtocolError(f"unknown message kind {kind}")
    if joints != NUM_JOINTS or expr > MAX_EXPRESSION:
        raise ProtocolError(f"a message with {joints} joints and {expr} expression values")
    want = HEADER_BYTES + 4 * (3 + 3 * joints + expr)
    if len(data) != want:
        raise ProtocolError(f"a {len(data)}-byte message; its header says {want}")
    body = np.frombuffer(data, "<f4", offset=HEADER_BYTES).astype(np.float32)
    scalars = (frame_time, captured, sent, confidence, camera_height)
    if not (np.all(np.isfinite(body)) and all(math.isfinite(v) for v in scalars)):
        raise ProtocolError("a message with non-finite values")
    return LiveFrame(seq=seq, frame=frame, frame_time=frame_time, captured=captured, sent=sent,
                     confidence=float(np.clip(confidence, 0.0, 1.0)), camera_height=camera_height, flags=flags,
                     trans=body[:3], poses=body[3:3 + 3 * joints], expression=body[3 + 3 * joints:])
