"""What is rendered: the benchmark clips, the skeletons' joint roles and the render settings.

Every field of ``ClipSpec`` (its ``Rig`` and ``Shot`` included) and of
``RenderSettings`` is part of a rendered clip's cache key
(:func:`groundtruth.cache.clip_key`): a change to any of them renders that clip
again. A field whose value is ``None`` is left out of the key, so a field added
with the default ``None`` keeps the key of every clip that does not set it.
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


SCENES = ("plain", "room", "studio")
"""What surrounds the subject: ``plain`` a textured ground to the horizon and a
sky (the ``CLIPS``), ``room`` that textured floor inside walls with a door frame,
a table and a cabinet (vertical edges to find gravity from), ``studio`` a
seamless curved backdrop of one colour (no edges, no floor texture)."""


@dataclass(frozen=True)
class Shot:
    """A camera set up by hand: its tilt and height, and the scene around the subject.

    The camera stands ``height_m`` above the floor, turned towards the middle
    of the clip's motion (from the clip's ``azimuth_degrees``) and tilted by
    exactly ``pitch_degrees`` and ``roll_degrees``; it moves back (or in)
    until the whole motion stays inside the frame (``RenderSettings.frame_fill``).

    Attributes:
        pitch_degrees: angle of the optical axis above the horizon (negative
            = looking down); -35 to +10 in ``TILTED``.
        roll_degrees: rotation about the optical axis; positive turns the
            camera's right side down (the scene turns anticlockwise in the image).
        height_m: camera height above the floor, metres.
        scene: one of ``SCENES``.
    """

    pitch_degrees: float
    roll_degrees: float = 0.0
    height_m: float = 1.5
    scene: str = "room"


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
        shot: a tilted camera and its scene (``TILTED``); ``None`` = the level
            camera at ``RenderSettings.camera_height`` aimed at hip height, on
            the plain ground.
    """

    name: str
    bvh: str
    rig: Rig
    start_seconds: float
    frames: int = 150
    fps: float = 30.0
    azimuth_degrees: float = 25.0
    shot: Shot | None = None


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

TILTED: tuple[ClipSpec, ...] = (
    ClipSpec("tilt_room_walk", "01_03.bvh", CMU_RIG, start_seconds=28.5, frames=130, azimuth_degrees=30.0,
             shot=Shot(pitch_degrees=-20.0, roll_degrees=0.0, height_m=2.2, scene="room")),
    ClipSpec("tilt_room_jumps_high", "01_01.bvh", CMU_RIG, start_seconds=2.0, frames=150, azimuth_degrees=50.0,
             shot=Shot(pitch_degrees=-35.0, roll_degrees=10.0, height_m=2.8, scene="room")),
    ClipSpec("tilt_room_jumps_low", "01_01.bvh", CMU_RIG, start_seconds=11.0, frames=150, azimuth_degrees=70.0,
             shot=Shot(pitch_degrees=10.0, roll_degrees=-15.0, height_m=1.0, scene="room")),
    ClipSpec("tilt_studio_jumps", "01_01.bvh", CMU_RIG, start_seconds=17.8, frames=150, azimuth_degrees=-35.0,
             shot=Shot(pitch_degrees=-15.0, roll_degrees=-6.0, height_m=2.0, scene="studio")),
    ClipSpec("tilt_studio_walk", "01_03.bvh", CMU_RIG, start_seconds=12.5, frames=130, azimuth_degrees=50.0,
             shot=Shot(pitch_degrees=-25.0, roll_degrees=5.0, height_m=2.3, scene="studio")),
)
"""Cameras that are not level, at 1-3 m, filming motion that travels (CMU 01_01's
forward jumps, 01_03's walking): three in a room with vertical edges, two in a
structure-less studio sweep. For the world-frame figures (up direction, floor,
root trajectory, foot skate on true contacts). Run with ``--set tilted``."""

ALL_CLIPS: tuple[ClipSpec, ...] = CLIPS + HELD_OUT + TILTED

def clips_named(names: str) -> list[ClipSpec]:
    """The clips of a comma-separated list of names, in ``SELECTABLE`` order (benchmark, held-out,
    tilted, acrobatics, travel, crossing). A set's name (a ``CLIP_SETS`` key such as ``ACROBATICS``
    or ``tilted``, case-insensitive) stands for all its clips.

    Raises ValueError naming the known clips when a name is unknown.
    """
    wanted: set[str] = set()
    for n in (n for n in names.split(",") if n):
        wanted |= {c.name for c in CLIP_SETS[n.lower()]} if n.lower() in CLIP_SETS else {n}
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
    "default": CLIPS, "held_out": HELD_OUT, "tilted": TILTED,
    "acrobatics": ACROBATICS, "travel": TRAVEL, "crossing": CROSSING,
}
"""Named sets (lower case) for ``--set`` of the benchmarks and as names in ``--clips`` (any case)."""
SELECTABLE: tuple[ClipSpec, ...] = ALL_CLIPS + ACROBATICS + TRAVEL + CROSSING
"""Every clip ``--clips`` can name."""


def clips_selected(names: str | None = None, set_name: str | None = None) -> list[ClipSpec]:
    """The clips of a benchmark's ``--clips`` (comma-separated names) or ``--set`` (a ``CLIP_SETS`` name).

    Neither: ``CLIPS``. Raises ValueError for both at once, an unknown set or
    an unknown clip name.
    """
    if names is not None and set_name is not None:
        raise ValueError("give --clips or --set, not both")
    if set_name is not None:
        if set_name.lower() not in CLIP_SETS:
            raise ValueError(f"unknown set {set_name}; known: {', '.join(CLIP_SETS)}")
        return list(CLIP_SETS[set_name.lower()])
    return clips_named(names) if names is not None else list(CLIPS)


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
        camera_height: camera height above the floor, metres ("chest height");
            a clip's ``Shot`` sets its own.
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
