"""Blender-side tests: real bpy (Blender as a module), an empty file per test.

The repository root is the extension package, and blender_mocap/ imports core
with ``..core``; so the root is loaded as a package named ``blender_mocap_ext``
without running its ``__init__.py`` (which registers the add-on): see
tests/extension_package.py.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extension_package import extension  # noqa: E402

bpy = pytest.importorskip("bpy")

SUBMODULES = ("core.motion", "core.skeleton", "core.rotations", "core.errors",
              "blender_mocap.convert", "blender_mocap.keying", "blender_mocap.scene",
              "blender_mocap.headless", "blender_mocap.batch", "blender_mocap.take",
              "blender_mocap.exports", "blender_mocap.runs")
"""What the tests use, imported up front."""


EXIT_CRASH_AFTER_GLTF = bpy.app.version[:2] == (4, 2)
"""Blender 4.2 (seen on 4.2.23) segfaults at interpreter exit after any glTF export.

A Blender bug (the default cube suffices); test_batch exports glTF in this
process, so pytest's own exit would turn a green run into exit code 139.
"""

_exit_status: list[int] = []


def pytest_sessionfinish(session, exitstatus) -> None:
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config) -> None:
    """On Blender 4.2, leave with pytest's own exit status before the interpreter's crashing exit.

    The same workaround as the product's (issue 17, bug 8): flush, then
    ``os._exit(code)``, once everything else (report, temp folders) is done.
    """
    if EXIT_CRASH_AFTER_GLTF and _exit_status:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])


def action_fcurves(animation_data) -> list:
    """The F-curves that animate ``animation_data``'s owner, on every supported Blender.

    Blender 4.4+ (slotted actions; 5.x removed ``Action.fcurves``): the channelbag
    of the assigned slot on the first keyframe strip. Blender 4.2/4.3: the legacy
    ``Action.fcurves`` (blender_mocap/keying.py writes keys the same way).
    Standalone (bpy only) so that scripts run in a Blender subprocess can use it too.
    """
    import bpy

    action = animation_data.action
    if bpy.app.version >= (4, 4, 0):
        return list(action.layers[0].strips[0].channelbag(animation_data.action_slot).fcurves)
    return list(action.fcurves)


def ext() -> types.ModuleType:
    """The repository root as the package ``blender_mocap_ext`` (created once), ``SUBMODULES`` imported."""
    return extension(*SUBMODULES)


@pytest.fixture(autouse=True)
def empty_file():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield


@pytest.fixture
def pkg():
    return ext()


@pytest.fixture(scope="session")
def ext_module():
    """``pkg`` for module- and session-scoped fixtures."""
    return ext()


def _offset(name: str) -> np.ndarray:
    """A made-up rest offset from the parent (model frame: Y up, +Z front, left = +X)."""
    side = 1.0 if name.startswith("left") else -1.0
    body = {
        "pelvis": (0.0, 0.95, 0.0), "hip": (0.09 * side, -0.08, -0.01),
        "knee": (0.01 * side, -0.40, 0.01), "ankle": (0.0, -0.42, -0.03),
        "foot": (0.0, -0.05, 0.12), "spine1": (0.0, 0.11, -0.02),
        "spine2": (0.0, 0.13, 0.01), "spine3": (0.0, 0.06, 0.01),
        "neck": (0.0, 0.22, -0.03), "collar": (0.07 * side, 0.12, -0.01),
        "shoulder": (0.11 * side, 0.03, -0.01), "elbow": (0.26 * side, -0.01, -0.02),
        "wrist": (0.25 * side, 0.01, 0.0), "head": (0.0, 0.09, 0.05),
        "jaw": (0.0, -0.02, 0.02), "eye_smplhf": (0.03 * side, 0.07, 0.08),
    }
    for key, value in body.items():
        if name == key or name.endswith("_" + key):
            return np.array(value)
    finger_z = {"thumb": 0.035, "index": 0.02, "middle": 0.0, "ring": -0.015, "pinky": -0.03}
    for finger, z in finger_z.items():
        if finger in name:
            segment = int(name[-1])
            if segment == 1:
                return np.array([0.09 * side, -0.005, z])
            return np.array([0.03 * side, -0.002 * segment, 0.003 * (finger == "thumb")])
    raise KeyError(name)


def synthetic_rest_joints() -> np.ndarray:
    """(55, 3) float32 rest joints of a plausible T-pose from made-up offsets."""
    core = ext().core
    joints = np.zeros((55, 3))
    for j, name in enumerate(core.skeleton.JOINT_NAMES):
        p = core.skeleton.PARENTS[j]
        joints[j] = _offset(name) + (joints[p] if p >= 0 else 0.0)
    return joints.astype(np.float32)


def make_motion(num_frames: int = 5, *, seed: int = 0, scale: float = 0.5, camera: bool = True,
                world_up=(0.0, -1.0, 0.0), mesh: bool = False, frame_start: int = 0):
    """A random-pose Motion with rest data and (optionally) a camera and a small mesh."""
    core = ext().core
    rng = np.random.default_rng(seed)
    poses = (rng.normal(size=(num_frames, 165)) * scale).astype(np.float32)
    poses[:, :3] = np.array([np.pi, 0.0, 0.0]) + rng.normal(size=(num_frames, 3)) * 0.2
    trans = (np.array([0.1, 0.2, 3.0]) + rng.normal(size=(num_frames, 3)) * 0.1).astype(np.float32)
    kwargs = {}
    if camera:
        kwargs.update(
            camera_intrinsics=np.array([[1100.0, 0, 700.0], [0, 1100.0, 420.0], [0, 0, 1]]),
            camera_extrinsics=np.eye(4),
            image_size=np.array([1280, 720], np.int64),
        )
    rest = synthetic_rest_joints()
    if mesh:
        # One small triangle per joint, each rigidly weighted to its joint.
        verts, faces, weights = [], [], np.zeros((55 * 3, 55), np.float32)
        for j in range(55):
            base = rest[j]
            verts += [base, base + [0.01, 0, 0], base + [0, 0.01, 0]]
            faces.append([3 * j, 3 * j + 1, 3 * j + 2])
            weights[3 * j:3 * j + 3, j] = 1.0
        kwargs.update(v_template=np.array(verts, np.float32), faces=np.array(faces, np.int32),
                      skin_weights=weights)
    return core.motion.Motion(
        poses=poses, trans=trans, betas=np.zeros(10, np.float32), fps=30.0,
        frame_indices=np.arange(frame_start, frame_start + num_frames, dtype=np.int64),
        confidence=np.ones(num_frames, np.float32), bridged=np.zeros(num_frames, bool),
        reprojection_error=np.zeros(num_frames, np.float32),
        expression=np.zeros((num_frames, 0), np.float32),
        world_up=np.asarray(world_up, np.float64), body_model="mannequin",
        rest_joints=rest, **kwargs,
    )


def forward_kinematics(motion) -> np.ndarray:
    """(T, 55, 3) posed joints in the motion world frame, README's motion-file convention (naive loop)."""
    core = ext().core
    R = core.rotations.axis_angle_to_matrix(motion.joint_rotations().astype(np.float64))
    J = np.asarray(motion.rest_joints, np.float64)
    parents = np.asarray(motion.parents)
    out = np.zeros((motion.num_frames, 55, 3))
    for t in range(motion.num_frames):
        G = [None] * 55
        for j in range(55):
            local = np.eye(4)
            local[:3, :3] = R[t, j]
            if parents[j] < 0:
                local[:3, 3] = J[j] + motion.trans[t]
                G[j] = local
            else:
                local[:3, 3] = J[j] - J[parents[j]]
                G[j] = G[parents[j]] @ local
            out[t, j] = G[j][:3, 3]
    return out


@pytest.fixture
def motion_factory():
    """make_motion(...) as a fixture (tests/ has no packages to import helpers from)."""
    return make_motion


@pytest.fixture
def fk():
    return forward_kinematics
