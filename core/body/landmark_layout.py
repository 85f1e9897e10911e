"""Where MediaPipe's landmarks sit on an SMPL-X-tree body: the body's landmark layout, the one definition.

Each landmark is attached to one joint: at the joint itself, or at a fixed
offset from it in the rest (T-pose) model frame that turns with the joint's
global rotation. The bodies (``core.body.model``) build their landmark points
from here, the fit reads rest directions from here and the test data places
landmarks with it, so all agree.

Offsets without a joint (face points, heels, toe tips) are given in units of
stature for the default mannequin and scaled per body by its torso length
(pelvis to neck), which works for the mannequin and, approximately, SMPL-X.
"""

from __future__ import annotations

import numpy as np

from ..landmarks import BODY, NUM_BODY, NUM_HAND
from ..skeleton import JOINT_INDEX, NUM_JOINTS

TORSO_FRACTION = 0.265
"""Torso length (pelvis -> neck) of the mannequin in units of stature; see
core/body/mannequin.py (_UPPER["neck"])."""
_TORSO_FRACTION = TORSO_FRACTION

# landmark -> (joint, offset in units of stature, model frame). Offset None =
# at the joint itself. Right-side offsets are the left ones mirrored in x.
_BODY_LEFT = {
    "nose": ("head", (0.0, 0.030, 0.065)),
    "left_eye_inner": ("head", (0.009, 0.051, 0.057)),
    "left_eye": ("left_eye_smplhf", None),
    "left_eye_outer": ("head", (0.030, 0.051, 0.050)),
    "left_ear": ("head", (0.045, 0.040, 0.0)),
    "mouth_left": ("head", (0.013, 0.008, 0.058)),
    "left_shoulder": ("left_shoulder", None),
    "left_elbow": ("left_elbow", None),
    "left_wrist": ("left_wrist", None),
    "left_pinky": ("left_pinky1", None),
    "left_index": ("left_index1", None),
    "left_thumb": ("left_thumb2", None),
    "left_hip": ("left_hip", None),
    "left_knee": ("left_knee", None),
    "left_ankle": ("left_ankle", None),
    "left_heel": ("left_ankle", (0.0, -0.033, -0.030)),
    "left_foot_index": ("left_ankle", (0.0, -0.033, 0.115)),
}
_EXTRA_INDEX = {"left_eye_inner": 1, "left_eye_outer": 3, "right_eye_inner": 4, "right_eye_outer": 6,
                "mouth_left": 9, "mouth_right": 10}


def _body_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    joint = np.zeros(NUM_BODY, np.int64)
    offset = np.zeros((NUM_BODY, 3))
    has_offset = np.zeros(NUM_BODY, bool)
    index = {**BODY, **_EXTRA_INDEX}
    for name, (jname, off) in _BODY_LEFT.items():
        for side_name, side_joint, sign in ((name, jname, 1.0),
                                            (name.replace("left", "right"), jname.replace("left", "right"), -1.0)):
            k = index[side_name]
            joint[k] = JOINT_INDEX[side_joint]
            if off is not None:
                offset[k] = (sign * off[0], off[1], off[2])
                has_offset[k] = True
    return joint, offset, has_offset


BODY_JOINT, _BODY_OFFSET_H, _BODY_HAS_OFFSET = _body_table()
"""BODY_JOINT: (33,) joint each MediaPipe body landmark is attached to."""

BODY_DIRECT = np.flatnonzero(~_BODY_HAS_OFFSET)
"""Body landmarks placed exactly at a joint (used for the reprojection error)."""

LIMB_LANDMARKS = np.array([BODY[n] for n in (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")])
"""The 12 limb landmarks (confidence is their mean visibility)."""

# Hand landmarks (MediaPipe order) -> joint; tips (4, 8, 12, 16, 20) sit past
# the last joint of their finger (see ``hand_landmark_offsets``).
FINGERS = ("thumb", "index", "middle", "ring", "pinky")
"""MediaPipe finger order: landmarks 1-4 thumb, 5-8 index, 9-12 middle, 13-16 ring, 17-20 pinky."""


def hand_joints(side: str) -> np.ndarray:
    """(21,) joint index of each hand landmark for ``side`` ("left"/"right"); tips use the 3rd joint."""
    out = [JOINT_INDEX[f"{side}_wrist"]]
    for finger in FINGERS:
        out += [JOINT_INDEX[f"{side}_{finger}{k}"] for k in (1, 2, 3, 3)]
    return np.array(out)


HAND_JOINT = np.stack([hand_joints("left"), hand_joints("right")])
"""(2, 21) joint of each hand landmark, [left, right]."""

DISTAL_RATIO = 0.8
"""Fingertip = 3rd finger joint + DISTAL_RATIO * (3rd - 2nd joint), rest pose."""


def body_scale(rest_joints: np.ndarray) -> float:
    """Stature-equivalent scale (metres) of a body, from its pelvis-to-neck length."""
    J = np.asarray(rest_joints, np.float64)
    return float(np.linalg.norm(J[JOINT_INDEX["neck"]] - J[0]) / _TORSO_FRACTION)


def body_landmark_offsets(rest_joints: np.ndarray) -> np.ndarray:
    """(33, 3) offset of each body landmark from its joint, metres, rest model frame."""
    return _BODY_OFFSET_H * body_scale(rest_joints)


def hand_landmark_offsets(rest_joints: np.ndarray) -> np.ndarray:
    """(2, 21, 3) offset of each hand landmark from its joint, metres, rest model frame."""
    J = np.asarray(rest_joints, np.float64)
    out = np.zeros((2, NUM_HAND, 3))
    for h, side in enumerate(("left", "right")):
        for f, finger in enumerate(FINGERS):
            j2, j3 = JOINT_INDEX[f"{side}_{finger}2"], JOINT_INDEX[f"{side}_{finger}3"]
            out[h, 4 + 4 * f] = DISTAL_RATIO * (J[j3] - J[j2])
    return out


def rest_body_landmarks(rest_joints: np.ndarray) -> np.ndarray:
    """(33, 3) body landmarks of the rest pose, metres, model frame."""
    J = np.asarray(rest_joints, np.float64)
    return J[BODY_JOINT] + body_landmark_offsets(J)


def rest_hand_landmarks(rest_joints: np.ndarray) -> np.ndarray:
    """(2, 21, 3) hand landmarks of the rest pose, metres, model frame, [left, right]."""
    J = np.asarray(rest_joints, np.float64)
    return J[HAND_JOINT] + hand_landmark_offsets(J)


def landmarks_from_fk(
    positions: np.ndarray, rotations: np.ndarray, rest_joints: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks of posed bodies.

    Args:
        positions: (T, 55, 3) posed joints; rotations: (T, 55, 3, 3) global
            joint rotations (``forward_kinematics`` output, any frame).
        rest_joints: (55, 3) the body's rest joints.

    Returns:
        body (T, 33, 3) and hands (T, 2, 21, 3) [left, right] in the frame of
        ``positions``, float64.
    """
    P = np.asarray(positions, np.float64)
    R = np.asarray(rotations, np.float64)
    body = P[:, BODY_JOINT] + np.einsum("tkab,kb->tka", R[:, BODY_JOINT], body_landmark_offsets(rest_joints))
    hands = P[:, HAND_JOINT] + np.einsum("thkab,hkb->thka", R[:, HAND_JOINT], hand_landmark_offsets(rest_joints))
    return body, hands


# ----------------------------------------------------------------------------
# SMPL-X: landmarks on mesh vertices
# ----------------------------------------------------------------------------

SMPLX_BODY_VERTICES = {
    "nose": 9120, "left_eye": 9448, "right_eye": 9929, "left_ear": 6, "right_ear": 616,
    "left_heel": 8846, "right_heel": 8635, "left_foot_index": 5770, "right_foot_index": 8463,
}
"""MediaPipe body landmark -> SMPL-X vertex index (the smplx library's ``vertex_ids['smplx']``:
nose, leye/reye, lear/rear, LHeel/RHeel, LBigToe/RBigToe). Other body landmarks
use the joint + offset table above."""

SMPLX_FINGERTIP_VERTICES = {
    "left": (5361, 4933, 5058, 5169, 5286), "right": (8079, 7669, 7794, 7905, 8022),
}
"""Finger-tip vertices (thumb, index, middle, ring, pinky), smplx ``vertex_ids['smplx']``:
MediaPipe hand landmarks 4, 8, 12, 16, 20."""

MEDIAPIPE_FACE_FOR_IBUG51 = np.array([
    71, 63, 105, 66, 107,              # brow, subject's right (iBUG 17-21)
    336, 296, 334, 293, 301,           # brow, subject's left (22-26)
    168, 197, 5, 4,                    # nose bridge (27-30)
    75, 97, 2, 326, 305,               # nose base (31-35)
    33, 160, 158, 133, 153, 144,       # right eye (36-41)
    362, 385, 387, 263, 373, 380,      # left eye (42-47)
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,  # outer lips (48-59)
    78, 82, 13, 312, 308, 317, 14, 87,  # inner lips (60-67)
])
"""MediaPipe face-mesh index of each of SMPL-X's 51 static face landmarks (the
iBUG-68 points 17-67 in order, the model file's ``lmk_faces_idx`` /
``lmk_bary_coords``). The face contour (iBUG 0-16) slides over the mesh as
the head turns and is left out."""


class SMPLXPointSpec:
    """Where the fitter's landmark points sit on an SMPL-X mesh.

    Skinning points = ``rigid_joints`` (each joint + ``rigid_offsets_h`` x
    stature, rest frame) followed by ``vertex_ids``; ``matrix`` (P, S) turns
    them into the P = 33 + 42 + F landmark points; ``face_mesh_ids`` (F,).
    """

    def __init__(self, rigid_joints, rigid_offsets_h, vertex_ids, matrix, face_mesh_ids) -> None:
        self.rigid_joints = rigid_joints
        self.rigid_offsets_h = rigid_offsets_h
        self.vertex_ids = vertex_ids
        self.matrix = matrix
        self.face_mesh_ids = face_mesh_ids


def smplx_points(faces: np.ndarray, lmk_faces_idx: np.ndarray | None,
                 lmk_bary_coords: np.ndarray | None) -> SMPLXPointSpec:
    """The landmark layout on SMPL-X (see ``SMPLXPointSpec``); face points only
    when the model file carries its landmark faces and barycentric coordinates."""
    index = {**BODY, **_EXTRA_INDEX}
    name_of = {k: n for n, k in index.items()}
    rigid_j: list[int] = []
    rigid_off: list[np.ndarray] = []
    verts: list[int] = []
    rows: list[list[tuple[str, int, float]]] = []  # per landmark: (kind, index, weight)

    def rigid(j: int, off: np.ndarray) -> list[tuple[str, int, float]]:
        rigid_j.append(int(j))
        rigid_off.append(np.asarray(off, np.float64))
        return [("r", len(rigid_j) - 1, 1.0)]

    def vertex(v: int, w: float = 1.0) -> tuple[str, int, float]:
        if v not in verts:
            verts.append(int(v))
        return ("v", verts.index(v), w)

    for k in range(NUM_BODY):
        name = name_of.get(k)
        if name in SMPLX_BODY_VERTICES:
            rows.append([vertex(SMPLX_BODY_VERTICES[name])])
        else:
            rows.append(rigid(BODY_JOINT[k], _BODY_OFFSET_H[k]))
    for h, side in enumerate(("left", "right")):
        for k in range(NUM_HAND):
            if k in (4, 8, 12, 16, 20):
                rows.append([vertex(SMPLX_FINGERTIP_VERTICES[side][k // 4 - 1])])
            else:
                rows.append(rigid(HAND_JOINT[h, k], np.zeros(3)))
    face_ids = np.zeros(0, np.int64)
    if lmk_faces_idx is not None and lmk_bary_coords is not None and len(lmk_faces_idx) == 51:
        for f, bary in zip(lmk_faces_idx, lmk_bary_coords):
            rows.append([vertex(int(v), float(b)) for v, b in zip(faces[f], bary)])
        face_ids = MEDIAPIPE_FACE_FOR_IBUG51.copy()
    n_r = len(rigid_j)
    matrix = np.zeros((len(rows), n_r + len(verts)), np.float32)
    for p, entries in enumerate(rows):
        for kind, i, w in entries:
            matrix[p, i if kind == "r" else n_r + i] += w
    return SMPLXPointSpec(np.array(rigid_j, np.int64), np.array(rigid_off, np.float64).reshape(-1, 3),
                          np.array(verts, np.int64), matrix, face_ids)


assert BODY_JOINT.shape == (NUM_BODY,) and NUM_JOINTS == 55
assert len(MEDIAPIPE_FACE_FOR_IBUG51) == 51
