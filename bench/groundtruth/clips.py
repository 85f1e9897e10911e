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
        bvh: file name inside the package's BVH folder.
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

CLIP_SETS: dict[str, tuple[ClipSpec, ...]] = {"default": CLIPS, "held_out": HELD_OUT, "tilted": TILTED}
"""Named sets for ``--set`` of the benchmarks."""


def clips_named(names: str) -> list[ClipSpec]:
    """The clips of a comma-separated list of names (benchmark or held-out), in ``ALL_CLIPS`` order.

    Raises ValueError naming the known clips when a name is unknown.
    """
    wanted = [n for n in names.split(",") if n]
    unknown = sorted(set(wanted) - {c.name for c in ALL_CLIPS})
    if unknown:
        raise ValueError(f"unknown clip(s) {', '.join(unknown)}; known: {', '.join(c.name for c in ALL_CLIPS)}")
    return [c for c in ALL_CLIPS if c.name in wanted]


def clips_selected(names: str | None = None, set_name: str | None = None) -> list[ClipSpec]:
    """The clips of a benchmark's ``--clips`` (comma-separated names) or ``--set`` (a ``CLIP_SETS`` name).

    Neither: ``CLIPS``. Raises ValueError for both at once, an unknown set or
    an unknown clip name.
    """
    if names is not None and set_name is not None:
        raise ValueError("give --clips or --set, not both")
    if set_name is not None:
        if set_name not in CLIP_SETS:
            raise ValueError(f"unknown set {set_name}; known: {', '.join(CLIP_SETS)}")
        return list(CLIP_SETS[set_name])
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
