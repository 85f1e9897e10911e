"""What is rendered: the benchmark clips, the skeletons' joint roles and the render settings.

Every field of ``ClipSpec`` (its ``Rig`` included) and of ``RenderSettings`` is
part of a rendered clip's cache key (:func:`groundtruth.cache.clip_key`): a
change to any of them renders that clip again.
"""

from __future__ import annotations

from dataclasses import dataclass

CMU_SCALE = 0.0254 / 0.45
"""Metres per CMU BVH unit: the ASF files use ``length 0.45`` (1 unit = 1/0.45 inch)."""

LIMB_JOINTS = (
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # == core.skeleton.LIMB_JOINTS (checked by the tests); repeated so the render process needs no core


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


def sided_limbs(**bvh_names: str) -> dict[str, str]:
    """``LIMB_JOINTS`` -> BVH joint for a file that names them ``Left<Name>`` / ``Right<Name>``.

    ``bvh_names``: for each limb joint without its side (``shoulder`` ...
    ``ankle``), the BVH name without ``Left`` / ``Right``.
    """
    return {joint: ("Left" if joint.startswith("left") else "Right") + bvh_names[joint.split("_", 1)[1]]
            for joint in LIMB_JOINTS}


CMU_RIG = Rig(
    limbs=sided_limbs(shoulder="Arm", elbow="ForeArm", wrist="Hand", hip="UpLeg", knee="Leg", ankle="Foot"),
    pelvis="Hips", spine=("Hips", "Spine", "Spine1", "Neck"), neck="Neck1", head="Head",
    collars=("LeftShoulder", "RightShoulder"), toes=("LeftToeBase", "RightToeBase"),
    scale=CMU_SCALE,
)

ASSIMP_BOXING_RIG = Rig(
    limbs=sided_limbs(shoulder="Shoulder", elbow="Elbow", wrist="Wrist", hip="Hip", knee="Knee", ankle="Ankle"),
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
