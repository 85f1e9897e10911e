"""Exact ground truth for the accuracy benchmark: real motion capture rendered in Blender.

Source motion: BVH files of Debian's ``assimp-testmodels`` package, fetched with
``apt-get download`` (no root install) and unpacked with ``dpkg-deb -x`` into the
cache; nothing is committed. ``01_03.bvh`` is CMU motion capture (subject 1,
120 Hz; "free for use in research and commercial projects", mocap.cs.cmu.edu,
via the cgspeed BVH conversion), ``Boxing_Toes.bvh`` is one of assimp's own test
models (100 Hz, BSD-3-Clause per the package's copyright file). DeepMimic motion
(acrobatics, travel, crowds) comes from the ``pybullet==3.2.7`` wheel on PyPI
(``pip download``; zlib licence), of which only the humanoid URDF and its motion
files are extracted, never the held-out cartwheel and dance_b.

:func:`prepare_clip` gives a rendered clip and its truth, from the cache or
made now. The modules, in the order they build on each other:

- :mod:`~groundtruth.clips`: the clips (``CLIPS``, ``HELD_OUT``, ``TILTED``,
  ``CLIP_SETS``, :func:`clips_named`, :func:`clips_selected`), the skeletons' joint roles (``Rig``),
  tilted cameras and their scenes (``Shot``) and ``RenderSettings``.
- :mod:`~groundtruth.bvh`: BVH parsing, forward kinematics in numpy,
  resampling to the video's frame rate, Blender's axes
  (``blender = scale * (x, -z, y)``, the importer's defaults).
- :mod:`~groundtruth.deepmimic`: DeepMimic motion files (JSON, quaternions) made
  into BVHs on the video's frame grid: parse, slerp, forward kinematics, the cache.
- :mod:`~groundtruth.camera`: the render camera (intrinsics, framing, projection).
- :mod:`~groundtruth.body`: the body that is rendered (capsules and ellipsoids
  on the rest skeleton, rigidly skinned).
- :mod:`~groundtruth.render`: the render process, Blender (bpy) in a process of
  its own so bpy never shares a process with MediaPipe; Workbench by default.
- :mod:`~groundtruth.truth`: one clip made (excerpt, render, FK cross-check,
  video) and its ``truth.npz`` (keys and shapes in that module's docstring).
- :mod:`~groundtruth.crowd`: a clip of several people (``CrowdSpec``) and their
  per-person truth (``people_*`` keys).
- :mod:`~groundtruth.cache`: where clips live and when they are made again
  (the cache key).
"""

from .body import MATERIALS, build_body, capsule, ellipsoid
from .bvh import Bvh, blender_from_bvh, bvh_forward_kinematics, parse_bvh, resample, write_bvh
from .cache import RENDER_VERSION, bvh_folder, cache_root, clip_folder, clip_key, prepare_clip
from .camera import aim, choose_camera, intrinsics, look_at, pitch_roll_degrees, project, transform
from .clips import (
    ACROBATICS,
    ALL_CLIPS,
    ASSIMP_BOXING_RIG,
    CLIP_SETS,
    CLIPS,
    CMU_RIG,
    CMU_SCALE,
    CROSSING,
    DEEPMIMIC_RIG,
    HELD_OUT,
    LIMB_JOINTS,
    SELECTABLE,
    TRAVEL,
    SCENES,
    TILTED,
    ClipSpec,
    CrowdSpec,
    RenderSettings,
    Rig,
    Walker,
    Shot,
    clips_named,
    clips_selected,
)
from .render import blender_bone_heads, import_bvh_blender
from .truth import CONTACT_HEIGHT, CONTACT_SPEED, Clip, foot_contacts, make_clip

__all__ = [
    "ACROBATICS", "CLIP_SETS", "CROSSING", "DEEPMIMIC_RIG", "SELECTABLE", "TRAVEL", "CrowdSpec", "Walker",
    "ALL_CLIPS", "ASSIMP_BOXING_RIG", "CLIPS", "CMU_RIG", "CMU_SCALE", "CONTACT_HEIGHT", "CONTACT_SPEED",
    "HELD_OUT", "LIMB_JOINTS", "MATERIALS", "RENDER_VERSION", "SCENES", "TILTED", "Bvh", "Clip", "ClipSpec",
    "RenderSettings", "Rig", "Shot",
    "blender_bone_heads", "blender_from_bvh", "build_body", "bvh_folder", "bvh_forward_kinematics", "cache_root",
    "capsule", "choose_camera", "clip_folder", "clip_key", "clips_named", "clips_selected", "ellipsoid", "foot_contacts",
    "aim", "import_bvh_blender", "intrinsics", "look_at", "make_clip", "parse_bvh", "pitch_roll_degrees", "prepare_clip", "project", "resample",
    "transform", "write_bvh",
]
