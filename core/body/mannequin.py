"""The built-in mannequin: a license-free body in the SMPL-X joint tree.

Everything here is generated procedurally from a handful of anthropometric
fractions; no third-party body data is used. numpy only.

Frame and units: the SMPL-X model frame, metres. Y up, the body faces +Z, its
left is +X. Rest pose is the T-pose with palms down (fingers along the arm,
thumbs pointing forward, +Z). Rest joint orientations are identity, so a pose
vector means the same on the mannequin as on SMPL-X (``core.skeleton``).

Origin: the pelvis joint is at (0, 0, 0); the soles of the feet are at
``y = -pelvis_height`` (0.575 x stature for the default shape). SMPL-X itself
puts its origin elsewhere; only the pelvis position relative to the other
joints matters for FK, and ``trans`` absorbs the rest.

Proportions: segment lengths as fractions of stature H from Drillis & Contini
(R. Drillis, R. Contini, "Body Segment Parameters", Technical Report 1166-03,
New York University, 1966; the figure reproduced in D. A. Winter,
"Biomechanics and Motor Control of Human Movement", 4th ed., 2009, fig. 4.1):
shoulder height 0.818 H, hip (greater trochanter) 0.530 H, knee 0.285 H,
ankle 0.039 H, upper arm 0.186 H, forearm 0.146 H, hand 0.108 H, thigh 0.245 H,
shank 0.246 H, foot length 0.152 H, foot breadth 0.055 H, shoulder breadth
0.259 H, hip breadth 0.191 H, chin 0.870 H, eye level 0.936 H. Joint centres
inside those landmarks (spine, hip-joint spacing, finger joints, radii) are our
estimates. Default stature 1.70 m.

Shape parameters ``betas`` (NUM_BETAS = 5, all logarithms of scale factors, 0
is the default body; missing trailing entries count as 0):

    betas[0] log overall scale (stature = 1.70 m * exp(betas[0])); every
             length and radius scales with it.
    betas[1] log arm-length scale: upper arm, forearm and hand lengths.
    betas[2] log leg-length scale: thigh and shank lengths (the pelvis rises
             with it; soles stay at -pelvis_height).
    betas[3] log shoulder-width scale: collar and shoulder joint spacing.
    betas[4] log hip-width scale: hip-joint spacing and pelvis breadth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..rotations import axis_angle_to_matrix
from ..skeleton import JOINT_INDEX, NUM_JOINTS, PARENTS

STATURE = 1.70
"""Default stature in metres (betas = 0)."""

NUM_BETAS = 5
BETA_NAMES: tuple[str, ...] = (
    "log_scale", "log_arm_length", "log_leg_length", "log_shoulder_width", "log_hip_width",
)

# --- anthropometric fractions of stature H (Drillis & Contini, see above) ---
ANKLE_HEIGHT = 0.039
SHANK = 0.246
THIGH = 0.245
PELVIS_ABOVE_HIP = 0.045     # our estimate: SMPL-style pelvis joint above the hip-joint line
UPPER_ARM = 0.186
FOREARM = 0.146
HAND = 0.108
HIP_HALF_SPACING = 0.045     # hip-joint centres, inside the 0.191 H hip breadth
SHOULDER_HALF_SPACING = 0.100  # shoulder-joint centres, inside the 0.259 H biacromial breadth
COLLAR_HALF_SPACING = 0.045
PELVIS_HEIGHT_DEFAULT = ANKLE_HEIGHT + SHANK + THIGH + PELVIS_ABOVE_HIP  # 0.575 H

# Upper-body joints relative to the pelvis joint, in units of H. z = 0 along
# the spine so a twist about the spine keeps it on the Y axis.
_UPPER = {
    "spine1": (0.0, 0.050, 0.0),
    "spine2": (0.0, 0.115, 0.0),
    "spine3": (0.0, 0.160, 0.0),
    "neck": (0.0, 0.265, 0.0),       # 0.840 H, between shoulders (0.818) and chin (0.870)
    "head": (0.0, 0.310, 0.0),       # 0.885 H, skull base
    "jaw": (0.0, 0.295, 0.030),
    "left_eye_smplhf": (0.0185, 0.361, 0.052),  # eye level 0.936 H, pupils 0.063 m apart
    "left_collar": (COLLAR_HALF_SPACING, 0.230, 0.0),
    "left_shoulder": (SHOULDER_HALF_SPACING, 0.243, 0.0),  # 0.818 H
}

# Hand layout (left hand, arm along +X, palm down), in units of hand length
# L = HAND * H: (x along the arm from the wrist, z across, +z = thumb side).
_FINGER_BASE = {  # MCP joint: (x, z)
    "index": (0.40, 0.16), "middle": (0.42, 0.04), "ring": (0.40, -0.08), "pinky": (0.36, -0.19),
}
_FINGER_PHALANGES = {  # proximal, middle lengths (distal = DISTAL_RATIO * middle)
    "index": (0.24, 0.14), "middle": (0.27, 0.17), "ring": (0.25, 0.16), "pinky": (0.19, 0.12),
}
DISTAL_RATIO = 0.8
"""Distal phalanx length / middle phalanx length (also used for fingertip landmarks)."""
_THUMB_BASE = (0.10, -0.03, 0.14)          # CMC from the wrist, (x, y, z) in L
_THUMB_DIR = (1.0, -0.25, 0.9)             # thumb points along the arm and forward
_THUMB_PHALANGES = (0.20, 0.16)            # CMC->MCP, MCP->IP


def _betas(betas: np.ndarray | None) -> np.ndarray:
    b = np.zeros(NUM_BETAS)
    if betas is not None:
        given = np.asarray(betas, np.float64).reshape(-1)[:NUM_BETAS]
        b[: given.size] = given
    return b


def stature(betas: np.ndarray | None = None) -> float:
    """Stature in metres for ``betas`` (soles to top of head)."""
    b = _betas(betas)
    return STATURE * float(np.exp(b[0]))


def pelvis_height(betas: np.ndarray | None = None) -> float:
    """Height of the pelvis joint above the soles, metres."""
    b = _betas(betas)
    H = stature(b)
    return H * (ANKLE_HEIGHT + (SHANK + THIGH) * np.exp(b[2]) + PELVIS_ABOVE_HIP)


def rest_joints(betas: np.ndarray | None = None) -> np.ndarray:
    """(55, 3) float32 rest T-pose joint positions, metres, model frame, pelvis at 0.

    ``betas``: (B,) shape parameters, see the module docstring (None = default).
    """
    b = _betas(betas)
    H = stature(b)
    arm, leg, shoulder, hip = np.exp(b[1:5])
    J = np.zeros((NUM_JOINTS, 3))
    idx = JOINT_INDEX

    for side, s in (("left", 1.0), ("right", -1.0)):
        J[idx[f"{side}_hip"]] = (s * HIP_HALF_SPACING * hip * H, -PELVIS_ABOVE_HIP * H, 0.0)
        J[idx[f"{side}_knee"]] = J[idx[f"{side}_hip"]] - (0.0, THIGH * leg * H, 0.0)
        J[idx[f"{side}_ankle"]] = J[idx[f"{side}_knee"]] - (0.0, SHANK * leg * H, 0.0)
        J[idx[f"{side}_foot"]] = J[idx[f"{side}_ankle"]] + np.array([0.0, -0.027, 0.080]) * H

    for name, (x, y, z) in _UPPER.items():
        if name.startswith("left_"):
            width = shoulder if ("collar" in name or "shoulder" in name) else 1.0
            J[idx[name]] = (x * width * H, y * H, z * H)
            J[idx["right_" + name[5:]]] = (-x * width * H, y * H, z * H)
        else:
            J[idx[name]] = (x * H, y * H, z * H)

    L = HAND * arm * H
    for side, s in (("left", 1.0), ("right", -1.0)):
        elbow = J[idx[f"{side}_shoulder"]] + (s * UPPER_ARM * arm * H, 0.0, 0.0)
        wrist = elbow + (s * FOREARM * arm * H, 0.0, 0.0)
        J[idx[f"{side}_elbow"]] = elbow
        J[idx[f"{side}_wrist"]] = wrist
        for finger, (fx, fz) in _FINGER_BASE.items():
            p1 = wrist + (s * fx * L, 0.0, fz * L)
            prox, mid = _FINGER_PHALANGES[finger]
            J[idx[f"{side}_{finger}1"]] = p1
            J[idx[f"{side}_{finger}2"]] = p1 + (s * prox * L, 0.0, 0.0)
            J[idx[f"{side}_{finger}3"]] = p1 + (s * (prox + mid) * L, 0.0, 0.0)
        d = np.array(_THUMB_DIR) * (s, 1.0, 1.0)
        d /= np.linalg.norm(d)
        t1 = wrist + np.array(_THUMB_BASE) * (s, 1.0, 1.0) * L
        J[idx[f"{side}_thumb1"]] = t1
        J[idx[f"{side}_thumb2"]] = t1 + _THUMB_PHALANGES[0] * L * d
        J[idx[f"{side}_thumb3"]] = t1 + sum(_THUMB_PHALANGES) * L * d
    return J.astype(np.float32)


# ----------------------------------------------------------------------------
# Forward kinematics and skinning
# ----------------------------------------------------------------------------

def forward_kinematics(
    poses: np.ndarray, rest_joints: np.ndarray, trans: np.ndarray | None = None, joints: int = NUM_JOINTS
) -> tuple[np.ndarray, np.ndarray]:
    """Posed joint positions and global rotations (smplx ``batch_rigid_transform``).

    G_0 = [R_0 | J_0 + trans], G_j = G_parent @ [R_j | J_j - J_parent].

    Args:
        poses: (T, 55, 3) or (T, 165) axis-angle per joint, relative to the
            parent, model axes (SMPL-X order).
        rest_joints: (55, 3) rest joint positions, metres, model frame.
        trans: (T, 3) root translation, metres, or None for zeros.
        joints: pose only the first N joints (N = ``joints``; parents come
            before their children in SMPL-X order, so they are a whole tree:
            12 reach the feet).

    Returns:
        positions (T, N, 3) posed joints, metres, in the frame ``poses[:, 0]``
        and ``trans`` map into; rotations (T, N, 3, 3) global rotation of
        each joint (parent chain included). dtype follows ``poses``
        (float32 or float64).
    """
    poses = np.asarray(poses)
    dtype = poses.dtype if poses.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    T = poses.shape[0]
    N = int(joints)
    local = axis_angle_to_matrix(poses.reshape(T, NUM_JOINTS, 3)[:, :N].astype(np.float64))
    pos, rot = chain(local, rest_joints, trans)
    return pos.astype(dtype), rot.astype(dtype)


def chain(local: np.ndarray, rest_joints: np.ndarray, trans: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`forward_kinematics` on local rotation matrices ``local`` (T, N, 3, 3) of the first N joints:
    (positions (T, N, 3), global rotations (T, N, 3, 3)), float64."""
    T, N = local.shape[:2]
    J = np.asarray(rest_joints, np.float64)
    offsets = J[:N] - J[[max(p, 0) for p in PARENTS[:N]]]
    rot = np.empty((T, N, 3, 3))
    pos = np.empty((T, N, 3))
    rot[:, 0] = local[:, 0]
    pos[:, 0] = J[0] if trans is None else J[0] + np.asarray(trans, np.float64)
    for j in range(1, N):
        p = PARENTS[j]
        rot[:, j] = rot[:, p] @ local[:, j]
        pos[:, j] = pos[:, p] + rot[:, p] @ offsets[j]
    return pos, rot


def skin(
    v_template: np.ndarray,
    skin_weights: np.ndarray,
    rest_joints: np.ndarray,
    rotations: np.ndarray,
    positions: np.ndarray,
) -> np.ndarray:
    """Linear blend skinning: (T, V, 3) posed vertices.

    Args:
        v_template: (V, 3) rest vertices, metres, model frame.
        skin_weights: (V, 55) weights, rows summing to 1.
        rest_joints: (55, 3) rest joint positions.
        rotations: (T, 55, 3, 3) global joint rotations from ``forward_kinematics``.
        positions: (T, 55, 3) posed joint positions from ``forward_kinematics``.

    Each joint moves a vertex by v -> R_j (v - J_j) + p_j; the blend of these
    affine maps by ``skin_weights`` is applied per vertex.
    """
    R = np.asarray(rotations, np.float64)
    t = np.asarray(positions, np.float64) - np.einsum("tjab,jb->tja", R, np.asarray(rest_joints, np.float64))
    A = np.concatenate([R, t[..., None]], axis=-1)  # (T, 55, 3, 4)
    W = np.asarray(skin_weights, np.float64)
    v = np.asarray(v_template, np.float64)
    out = np.empty((R.shape[0], v.shape[0], 3))
    for k in range(R.shape[0]):  # one frame at a time bounds memory to (V, 3, 4)
        M = np.einsum("vj,jab->vab", W, A[k])
        out[k] = np.einsum("vab,vb->va", M[..., :3], v) + M[..., 3]
    return out.astype(np.asarray(positions).dtype if np.asarray(positions).dtype == np.float32 else np.float64)


# ----------------------------------------------------------------------------
# Procedural mesh
# ----------------------------------------------------------------------------

@dataclass
class _Part:
    """One tapered elliptic capsule from p0 to p1, skinned to ``owner``.

    Cross-section half-axes: ``width`` along ``width_dir`` (orthogonalised
    against the axis) and ``depth`` perpendicular to both; linear from the p0
    to the p1 end. Caps extend ``cap`` x min(width, depth) beyond each end.
    Near p0 the weights blend towards ``prev`` (50/50 at p0), near p1 towards
    ``nxt`` (50/50 at p1), over ``blend`` x the local radius.
    """

    p0: np.ndarray
    p1: np.ndarray
    width: tuple[float, float]
    depth: tuple[float, float]
    width_dir: tuple[float, float, float]
    owner: int
    prev: int = -1
    nxt: int = -1
    around: int = 16
    along: int = 6
    cap_rings: int = 4
    cap: float = 1.0
    blend: float = 1.0
    extra: dict = field(default_factory=dict)


def _capsule(part: _Part) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertices (N, 3), faces (M, 3) local indices, weights (N, 55) for one part."""
    p0, p1 = np.asarray(part.p0, float), np.asarray(part.p1, float)
    axis = p1 - p0
    length = float(np.linalg.norm(axis))
    e1 = axis / length
    e2 = np.asarray(part.width_dir, float) - np.dot(part.width_dir, e1) * e1
    e2 /= np.linalg.norm(e2)
    e3 = np.cross(e1, e2)
    (w0, w1), (d0, d1) = part.width, part.depth
    c0, c1 = part.cap * min(w0, d0), part.cap * min(w1, d1)

    rings = []  # (axial, width, depth)
    for k in range(1, part.cap_rings):
        phi = -0.5 * np.pi + 0.5 * np.pi * k / part.cap_rings
        rings.append((c0 * np.sin(phi), w0 * np.cos(phi), d0 * np.cos(phi)))
    for k in range(part.along + 1):
        t = k / part.along
        rings.append((t * length, w0 + (w1 - w0) * t, d0 + (d1 - d0) * t))
    for k in range(1, part.cap_rings):
        phi = 0.5 * np.pi * k / part.cap_rings
        rings.append((length + c1 * np.sin(phi), w1 * np.cos(phi), d1 * np.cos(phi)))
    rings_arr = np.array(rings)
    n, r = part.around, len(rings)
    theta = 2.0 * np.pi * np.arange(n) / n
    ax, wd, dp = rings_arr[:, 0:1], rings_arr[:, 1:2], rings_arr[:, 2:3]
    ring_pts = (p0 + ax[..., None] * e1
                + (wd * np.cos(theta))[..., None] * e2
                + (dp * np.sin(theta))[..., None] * e3).reshape(-1, 3)
    verts = np.concatenate([ring_pts, [p0 - c0 * e1], [p1 + c1 * e1]])
    axial = np.concatenate([np.repeat(ax[:, 0], n), [-c0], [length + c1]])

    i = np.arange(r - 1)[:, None] * n
    m = np.arange(n)[None, :]
    a, b = i + m, i + (m + 1) % n
    c, d = b + n, a + n
    quads = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
    start, end = r * n, r * n + 1
    fan0 = np.stack([np.full(n, start), (m[0] + 1) % n, m[0]], -1)
    last = (r - 1) * n
    fan1 = np.stack([np.full(n, end), last + m[0], last + (m[0] + 1) % n], -1)
    faces = np.concatenate([quads, fan0, fan1])

    weights = np.zeros((verts.shape[0], NUM_JOINTS))
    w_prev = np.zeros_like(axial)
    w_next = np.zeros_like(axial)
    if part.prev >= 0:
        span = min(part.blend * max(w0, d0), 0.45 * length)
        w_prev = np.clip(0.5 - axial / (2.0 * span), 0.0, 1.0)
    if part.nxt >= 0:
        span = min(part.blend * max(w1, d1), 0.45 * length)
        w_next = np.clip(0.5 + (axial - length) / (2.0 * span), 0.0, 1.0)
    w_self = np.clip(1.0 - w_prev - w_next, 0.0, 1.0)
    weights[:, part.owner] += w_self
    if part.prev >= 0:
        weights[:, part.prev] += w_prev
    if part.nxt >= 0:
        weights[:, part.nxt] += w_next
    weights /= weights.sum(axis=1, keepdims=True)
    return verts, faces, weights


def _parts(betas: np.ndarray | None) -> list[_Part]:
    b = _betas(betas)
    H = stature(b)
    J = rest_joints(b).astype(np.float64)
    i = JOINT_INDEX
    hip_w = float(np.exp(b[4]))
    X, Y, Z = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
    up = np.array(Y)
    parts = [
        _Part(J[i["left_hip"]] * (0, 1, 0) - 0.01 * H * up, J[i["spine1"]], (0.095 * H * hip_w, 0.085 * H * hip_w),
              (0.060 * H, 0.058 * H), X, i["pelvis"], nxt=i["spine1"], around=24, cap=0.8),
        _Part(J[i["spine1"]], J[i["spine2"]], (0.085 * H, 0.088 * H), (0.058 * H, 0.062 * H), X,
              i["spine1"], prev=i["pelvis"], nxt=i["spine2"], around=24, along=3, cap=0.3, cap_rings=2),
        _Part(J[i["spine2"]], J[i["spine3"]], (0.088 * H, 0.095 * H), (0.062 * H, 0.068 * H), X,
              i["spine2"], prev=i["spine1"], nxt=i["spine3"], around=24, along=3, cap=0.3, cap_rings=2),
        _Part(J[i["spine3"]], J[i["neck"]] - 0.015 * H * up, (0.095 * H, 0.080 * H), (0.068 * H, 0.050 * H), X,
              i["spine3"], prev=i["spine2"], around=24, along=4, cap=0.6),
        _Part(J[i["neck"]] - 0.015 * H * up, J[i["head"]], (0.030 * H, 0.028 * H), (0.030 * H, 0.028 * H), X,
              i["neck"], prev=i["spine3"], nxt=i["head"], along=3, cap=0.5, blend=0.5),
        _Part(J[i["head"]] + np.array([0.0, 0.020, 0.008]) * H, J[i["head"]] + np.array([0.0, 0.070, 0.008]) * H,
              (0.046 * H, 0.046 * H), (0.056 * H, 0.054 * H), X, i["head"], prev=i["neck"], around=20, blend=0.3),
        _Part(J[i["jaw"]], J[i["jaw"]] + np.array([0.0, -0.010, 0.030]) * H, (0.030 * H, 0.018 * H),
              (0.020 * H, 0.015 * H), X, i["jaw"], prev=i["head"], along=2, blend=0.5),
        _Part(J[i["head"]] + np.array([0.0, 0.045, 0.058]) * H, J[i["head"]] + np.array([0.0, 0.028, 0.068]) * H,
              (0.006 * H, 0.009 * H), (0.006 * H, 0.009 * H), X, i["head"], around=8, along=2, cap_rings=2),
    ]
    for side, s in (("left", 1.0), ("right", -1.0)):
        j = lambda name: i[f"{side}_{name}"]  # noqa: E731
        eye = J[j("eye_smplhf")]
        parts.append(_Part(eye, eye + np.array([0.0, 0.0, 0.008]) * H, (0.009 * H,) * 2, (0.009 * H,) * 2, X,
                           j("eye_smplhf"), around=10, along=1, cap_rings=3))
        parts += [
            _Part(J[j("collar")], J[j("shoulder")], (0.035 * H, 0.032 * H), (0.035 * H, 0.032 * H), Y,
                  j("collar"), prev=i["spine3"], nxt=j("shoulder"), along=3, blend=0.6),
            _Part(J[j("shoulder")], J[j("elbow")], (0.030 * H, 0.022 * H), (0.030 * H, 0.022 * H), Y,
                  j("shoulder"), prev=j("collar"), nxt=j("elbow")),
            _Part(J[j("elbow")], J[j("wrist")], (0.022 * H, 0.016 * H), (0.020 * H, 0.013 * H), Z,
                  j("elbow"), prev=j("shoulder"), nxt=j("wrist")),
            _Part(J[j("wrist")], (J[j("middle1")] + J[j("index1")]) / 2 * (1, 1, 0) + (0, 0, -0.002 * H),
                  (0.019 * H, 0.023 * H), (0.009 * H, 0.008 * H), Z, j("wrist"), prev=j("elbow"),
                  along=3, cap=0.6, blend=0.6),
        ]
        for finger in ("index", "middle", "ring", "pinky", "thumb"):
            radius = (0.0075 if finger == "thumb" else 0.0058 if finger != "pinky" else 0.005) * H
            chain = [J[j(f"{finger}{k}")] for k in (1, 2, 3)]
            chain.append(chain[2] + DISTAL_RATIO * (chain[2] - chain[1]))
            for k in range(3):
                taper = (1.0 - 0.08 * k, 1.0 - 0.08 * (k + 1))
                parts.append(_Part(
                    chain[k], chain[k + 1], (radius * taper[0], radius * taper[1]),
                    (radius * taper[0] * 0.9, radius * taper[1] * 0.9), Y, j(f"{finger}{k + 1}"),
                    prev=j("wrist") if k == 0 else j(f"{finger}{k}"),
                    nxt=j(f"{finger}{k + 2}") if k < 2 else -1,
                    around=8, along=2, cap_rings=2, blend=1.0))
        ankle = J[j("ankle")]
        heel = ankle + np.array([0.0, -0.020, -0.028]) * H
        ball = J[j("foot")]
        toe = ankle + np.array([0.0, -0.030, 0.110]) * H
        parts += [
            _Part(J[j("hip")], J[j("knee")], (0.050 * H, 0.032 * H), (0.050 * H, 0.032 * H), X,
                  j("hip"), prev=i["pelvis"], nxt=j("knee"), around=20, blend=0.8),
            _Part(J[j("knee")], ankle, (0.032 * H, 0.019 * H), (0.032 * H, 0.019 * H), X,
                  j("knee"), prev=j("hip"), nxt=j("ankle"), around=20),
            _Part(heel, ball, (0.024 * H, 0.028 * H), (0.019 * H, 0.014 * H), X, j("ankle"), nxt=j("foot"),
                  cap=0.9, blend=0.5),
            _Part(ball, toe, (0.028 * H, 0.024 * H), (0.013 * H, 0.009 * H), X, j("foot"), prev=j("ankle"),
                  along=2, cap=0.9, blend=0.5),
        ]
    return parts


def mesh(betas: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rest mesh for ``betas``: a low-poly body of tapered capsules.

    Returns:
        v_template (V, 3) float32 rest vertices, metres, model frame (same
        frame as ``rest_joints``); faces (F, 3) int32, counter-clockwise
        seen from outside; skin_weights (V, 55) float32, rows sum to 1,
        blended between neighbouring joints near each joint so bends are smooth.

    The parts overlap instead of being welded (a mannequin, not a scan): each
    part is a closed surface.
    """
    verts, faces, weights = [], [], []
    base = 0
    for part in _parts(betas):
        v, f, w = _capsule(part)
        verts.append(v)
        faces.append(f + base)
        weights.append(w)
        base += v.shape[0]
    return (np.concatenate(verts).astype(np.float32), np.concatenate(faces).astype(np.int32),
            np.concatenate(weights).astype(np.float32))


class Mannequin:
    """Thin holder: the mannequin for one shape.

    Attributes:
        betas: (NUM_BETAS,) float32 shape parameters (see module docstring).
        rest_joints: (55, 3) float32 rest joints, metres, model frame.
    """

    def __init__(self, betas: np.ndarray | None = None) -> None:
        self.betas = _betas(betas).astype(np.float32)
        self.rest_joints = rest_joints(self.betas)

    @property
    def stature(self) -> float:
        return stature(self.betas)

    def mesh(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(v_template (V, 3), faces (F, 3), skin_weights (V, 55)), see ``mesh``."""
        return mesh(self.betas)

    def forward_kinematics(self, poses: np.ndarray, trans: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(positions (T, 55, 3), rotations (T, 55, 3, 3)), see ``forward_kinematics``."""
        return forward_kinematics(poses, self.rest_joints, trans)
