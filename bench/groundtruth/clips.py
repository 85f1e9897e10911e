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
        bvh: file name inside the package's BVH folder; for a ``DEEPMIMIC_RIG``
            clip, the DeepMimic motion's name (``humanoid3d_walk``, looped
            when the file loops: :mod:`groundtruth.deepmimic`).
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
    """The clips of a comma-separated list of names, in ``SELECTABLE`` order (benchmark, held-out,
    acrobatics, travel, crossing). A set's name (``ACROBATICS``, ``TRAVEL``, ``CROSSING``,
    case-insensitive) stands for all its clips.

    Raises ValueError naming the known clips when a name is unknown.
    """
    wanted: set[str] = set()
    for n in (n for n in names.split(",") if n):
        wanted |= {c.name for c in CLIP_SETS[n.upper()]} if n.upper() in CLIP_SETS else {n}
    unknown = sorted(wanted - {c.name for c in SELECTABLE})
    if unknown:
        raise ValueError(f"unknown clip(s) {', '.join(unknown)}; known: {', '.join(c.name for c in SELECTABLE)}, "
                         f"or a set: {', '.join(CLIP_SETS)}")
    return [c for c in SELECTABLE if c.name in wanted]


# ----------------------------------------------------------------------------
# DeepMimic motion (issues 15 and 16): acrobatics, people who travel, people who cross
# ----------------------------------------------------------------------------

DEEPMIMIC_RIG = Rig(
    limbs={n: n for n in LIMB_JOINTS}, pelvis="root", spine=("root", "chest", "neck"), neck="neck", head="head",
    collars=("chest", "chest"), toes=("left_toe", "right_toe"), scale=1.0,
)
"""The DeepMimic humanoid (:mod:`groundtruth.deepmimic` writes its BVH): no collars, so the chest
carries them; ``head`` and the toes are fixed joints added on the character's head sphere and foot box."""


def deepmimic(name: str, motion: str, frames: int, azimuth_degrees: float = 25.0) -> ClipSpec:
    """A clip of the DeepMimic motion ``humanoid3d_<motion>`` from its start (looped when the file loops)."""
    return ClipSpec(name, f"humanoid3d_{motion}", DEEPMIMIC_RIG, start_seconds=0.0, frames=frames,
                    azimuth_degrees=azimuth_degrees)


ACROBATICS: tuple[ClipSpec, ...] = (
    deepmimic("dm_backflip", "backflip", 105, azimuth_degrees=70.0),
    deepmimic("dm_spinkick", "spinkick", 77, azimuth_degrees=40.0),
    deepmimic("dm_roll", "roll", 60, azimuth_degrees=80.0),
    deepmimic("dm_getup_facedown", "getup_facedown", 90, azimuth_degrees=60.0),
    deepmimic("dm_getup_faceup", "getup_faceup", 110, azimuth_degrees=-50.0),
)
"""Inverted and lying bodies (issue 16): two backflips, a spin kick, a forward roll, getting up from the
floor face down and face up. DeepMimic's cartwheel and dance_b are held out of the repository's bench."""

TRAVEL: tuple[ClipSpec, ...] = (
    deepmimic("dm_walk", "walk", 120, azimuth_degrees=60.0),
    deepmimic("dm_run", "run", 45, azimuth_degrees=20.0),
    deepmimic("dm_jump", "jump", 105, azimuth_degrees=50.0),
    deepmimic("dm_crawl", "crawl", 88, azimuth_degrees=45.0),
)
"""People who travel (issue 15): a walk (looped) across the view, a run towards the camera (8 m to 3 m
away in 1.5 s), forward jumps, a crawl."""


@dataclass(frozen=True)
class Walker:
    """One more person of a ``CrowdSpec``: a DeepMimic motion placed in the scene.

    Attributes:
        motion: DeepMimic motion name (``humanoid3d_walk``).
        start_seconds: where in the (looped) motion the clip starts.
        heading_degrees: turn about the vertical, counter-clockwise seen from above (0: faces +X).
        offset: (X, Y) metres in Blender's world where the motion's origin goes.
    """

    motion: str
    start_seconds: float
    heading_degrees: float
    offset: tuple[float, float]


@dataclass(frozen=True)
class CrowdSpec(ClipSpec):
    """A clip of several people: ``ClipSpec``'s own DeepMimic motion is person 0 (the one the single-person
    truth keys describe, and the camera's subject); ``others`` are persons 1.. . The camera frames everyone."""

    others: tuple[Walker, ...] = ()


CROSSING: tuple[CrowdSpec, ...] = (
    CrowdSpec("cross_two", "humanoid3d_walk", DEEPMIMIC_RIG, start_seconds=0.0, frames=120, azimuth_degrees=90.0,
              others=(Walker("humanoid3d_walk", 0.4, 180.0, (4.6, 1.6)),)),
    CrowdSpec("cross_three", "humanoid3d_walk", DEEPMIMIC_RIG, start_seconds=0.0, frames=120,
              azimuth_degrees=90.0, others=(Walker("humanoid3d_walk", 0.7, 180.0, (4.4, 2.2)),
                                            Walker("humanoid3d_jump", 0.0, 0.0, (-0.4, 1.0)))),
)
"""Two and three people crossing in front of the camera (issue 16): person 0 walks left to right
nearest the camera, another walks the other way behind, and (three) one jumps forward between them,
so each hides the others in turn."""

CLIP_SETS: dict[str, tuple[ClipSpec, ...]] = {
    "CLIPS": CLIPS, "HELD_OUT": HELD_OUT, "ACROBATICS": ACROBATICS, "TRAVEL": TRAVEL, "CROSSING": CROSSING,
}
SELECTABLE: tuple[ClipSpec, ...] = ALL_CLIPS + ACROBATICS + TRAVEL + CROSSING
"""Every clip ``--clips`` can name."""


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
