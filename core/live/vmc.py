"""VMC out: the live stream as Virtual Motion Capture protocol bone messages (OSC over UDP).

VTuber and game-engine tools (VSeeFace, VMC4UE, EVMC4U ...) listen for
``/VMC/Ext/Bone/Pos`` (name, position x y z, rotation x y z w) per Unity
humanoid bone, ``/VMC/Ext/Root/Pos``, ``/VMC/Ext/OK`` and ``/VMC/Ext/T``.
Each solved frame goes out as one OSC bundle in one datagram.

Frames: VMC speaks Unity's left-handed, Y-up axes. A bone's local rotation is
the SMPL-X joint's (both rest poses are the T-pose, facing +Z) with the X axis
mirrored (model frame left = +X, Unity's avatar left = -X): quaternion
(w, x, y, z) -> (w, x, -y, -z). The hips carry the body's world placement:
the live world (X right, Y away from the camera, Z up) as Unity's (X, Z, Y).
Bone positions are the rest offsets from the parent, mirrored the same way.
"""

from __future__ import annotations

import socket
import time

import numpy as np

from ..errors import MocapError
from ..rotations import axis_angle_to_matrix, axis_angle_to_quat_wxyz, matrix_to_quat_wxyz
from ..skeleton import JOINT_INDEX, NUM_JOINTS, PARENTS
from . import osc

_SIDES = (("Left", "left"), ("Right", "right"))
_FINGERS = (("Thumb", "thumb"), ("Index", "index"), ("Middle", "middle"), ("Ring", "ring"), ("Little", "pinky"))
_PHALANGES = ("Proximal", "Intermediate", "Distal")

UNITY_BONES: dict[str, str] = {
    "Hips": "pelvis", "Spine": "spine1", "Chest": "spine2", "UpperChest": "spine3", "Neck": "neck",
    "Head": "head", "Jaw": "jaw", "LeftEye": "left_eye_smplhf", "RightEye": "right_eye_smplhf",
    **{f"{U}{part}": f"{s}_{joint}" for U, s in _SIDES for part, joint in (
        ("UpperLeg", "hip"), ("LowerLeg", "knee"), ("Foot", "ankle"), ("Toes", "foot"), ("Shoulder", "collar"),
        ("UpperArm", "shoulder"), ("LowerArm", "elbow"), ("Hand", "wrist"))},
    **{f"{U}{F}{p}": f"{s}_{f}{k + 1}" for U, s in _SIDES for F, f in _FINGERS for k, p in enumerate(_PHALANGES)},
}
"""Unity ``HumanBodyBones`` name -> SMPL-X joint (all 55 but none left out of the humanoid: 55 bones)."""
_BONE_JOINTS = [(bone, JOINT_INDEX[joint]) for bone, joint in UNITY_BONES.items()]
"""(Unity bone, SMPL-X joint index) of each bone message, in the message order."""
_PARENT_OR_ROOT = [max(p, 0) for p in PARENTS]
"""Each joint's parent (the pelvis its own): the rest offsets' other end."""

MIRROR_X = np.diag([-1.0, 1.0, 1.0])
UNITY_FROM_WORLD = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
"""Unity world (X right, Y up, Z forward) <- the live world (X right, Y away from the camera, Z up)."""


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT`` / ``PORT`` for 127.0.0.1) -> (host, port); MocapError when malformed."""
    host, _, port = str(text).rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not 0 < number < 65536:
        raise MocapError(f"{text!r}: give an address as HOST:PORT, e.g. 127.0.0.1:39539")
    return host or "127.0.0.1", number


def bone_messages(poses: np.ndarray, trans: np.ndarray, rest_joints: np.ndarray) -> list[bytes]:
    """``/VMC/Ext/Bone/Pos`` messages of one frame: poses (165,) local axis-angle with the root in the
    live world, trans (3,) metres, rest_joints (55, 3) model frame."""
    aa = np.asarray(poses, np.float64).reshape(NUM_JOINTS, 3)
    J = np.asarray(rest_joints, np.float64)
    q = axis_angle_to_quat_wxyz(aa)
    q[:, 2:] *= -1.0  # conjugated by the X mirror
    hips_R = UNITY_FROM_WORLD @ axis_angle_to_matrix(aa[0]) @ MIRROR_X
    q[0] = matrix_to_quat_wxyz(hips_R)
    offsets = (J - J[_PARENT_OR_ROOT]) * np.array([-1.0, 1.0, 1.0])
    offsets[0] = UNITY_FROM_WORLD @ (J[0] + np.asarray(trans, np.float64))
    xyzw = q[:, [1, 2, 3, 0]].tolist()
    offsets_list = offsets.tolist()
    return [osc.message("/VMC/Ext/Bone/Pos", [bone, *offsets_list[j], *xyzw[j]]) for bone, j in _BONE_JOINTS]


class VmcSender:
    """Sends each solved frame to ``address`` (HOST:PORT) as one OSC bundle over UDP."""

    def __init__(self, address: str, rest_joints: np.ndarray) -> None:
        self.host, self.port = parse_address(address)
        self.rest_joints = np.asarray(rest_joints, np.float64)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._start = time.monotonic()
        self.sent = 0

    def send(self, poses: np.ndarray, trans: np.ndarray) -> None:
        elements = [osc.message("/VMC/Ext/OK", [1]), osc.message("/VMC/Ext/T", [time.monotonic() - self._start]),
                    osc.message("/VMC/Ext/Root/Pos", ["root", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])]
        elements += bone_messages(poses, trans, self.rest_joints)
        try:
            self._sock.sendto(osc.bundle(elements), (self.host, self.port))
        except OSError:  # nobody listening (ICMP refused) or the network is down: VMC is best-effort
            return
        self.sent += 1

    def close(self) -> None:
        self._sock.close()
