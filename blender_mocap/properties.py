"""The add-on's scene settings: one property group, ``scene.mocap``.

Enum items shared with the import operator live here as module constants.
"""

import math
from typing import Any

import bpy
from bpy.props import BoolProperty, EnumProperty, FloatProperty, IntProperty, StringProperty

BODY_MODEL_ITEMS = [
    ('AUTO', "Auto", "SMPL-X when the SMPL-X model folder (add-on preferences) holds the gender's "
     "file, else the built-in mannequin"),
    ('MANNEQUIN', "Mannequin", "The built-in license-free body (no SMPL-X files needed)"),
    ('SMPLX', "SMPL-X", "The SMPL-X body from the model folder set in the add-on preferences"),
]
GENDER_ITEMS = [
    ('NEUTRAL', "Neutral", "Gender-neutral SMPL-X model"),
    ('MALE', "Male", "Male SMPL-X model"),
    ('FEMALE', "Female", "Female SMPL-X model"),
]
PRESET_ITEMS = [
    ('FAST', "Fast", "Fewer fitting iterations: quick previews"),
    ('BALANCED', "Balanced", "Good results in reasonable time"),
    ('ACCURATE', "Accurate", "Fitting to convergence, with the mirrored frame for depth: final takes (slower)"),
]
DEVICE_ITEMS = [
    ('AUTO', "Auto", "The GPU (CUDA) when the engine finds one, else the CPU"),
    ('CPU', "CPU", "Run the engine on the CPU"),
    ('CUDA', "CUDA", "Run the engine on an NVIDIA GPU"),
]
POSE_BACKEND_ITEMS = [
    ('MEDIAPIPE', "MediaPipe", "MediaPipe Holistic on the CPU: body, hands and face"),
    ('TORCH', "PyTorch", "MediaPipe's pose models run by PyTorch on the Device, batched on a GPU: "
                         "body and hands (the face keeps its rest pose)"),
]
FOOT_LOCK_ITEMS = [
    ('AUTO', "Auto", "Plant heels and toes while they are low and slow"),
    ('ALWAYS', "Always", "Plant heels and toes whenever they are near the floor"),
    ('OFF', "Off", "Leave the feet as fitted"),
]
CORRECTIVE_ITEMS = [
    ('DRIVERS', "Driven", "Pose-corrective shape keys follow the bone rotations through drivers, "
     "also after you edit the animation"),
    ('BAKED', "Baked", "Pose-corrective shape key values keyed on every frame (for exporters "
     "that do not carry drivers; they do not follow later edits)"),
    ('NONE', "None", "No pose-corrective shape keys (lighter, slightly less accurate body)"),
]
TARGET_ITEMS = [
    ('ACTIVE', "Active Character", "Add the take as a new action to the active character when "
     "its skeleton matches; otherwise build a new character"),
    ('NEW', "New Character", "Always build a new character"),
]


def _ground_prop() -> Any:
    return BoolProperty(
        name="Feet on Ground",
        description="Move the whole take (character and camera together) so the feet stand on Z = 0",
        default=True,
    )


def _correctives_prop() -> Any:
    return EnumProperty(
        name="Pose Correctives",
        description="SMPL-X pose-corrective shape keys (needs the SMPL-X model folder)",
        items=CORRECTIVE_ITEMS,
        default='DRIVERS',
    )


def _resample_prop() -> Any:
    return BoolProperty(
        name="Resample to Scene Rate",
        description=(
            "Key the take at the scene's frame rate (interpolating the motion) instead of "
            "setting the scene's frame rate to the motion's"
        ),
        default=False,
    )


def _target_prop(default: str) -> Any:
    return EnumProperty(
        name="Character",
        description="Where the take goes",
        items=TARGET_ITEMS,
        default=default,
    )


BATCH_FORMAT_ITEMS = [
    ('BLEND', ".blend", "A Blender file with the take"),
    ('FBX', "FBX", "Armature, body and animation for other 3D tools"),
    ('BVH', "BVH", "Skeleton animation"),
    ('GLB', "glTF", "Binary glTF (.glb) with the skinned body and animation"),
    ('NPZ', "Motion", "The motion file (SMPL-X parameters)"),
]


class MOCAP_PG_settings(bpy.types.PropertyGroup):
    """Capture options stored with the scene (saved in the .blend)."""

    video_path: StringProperty(  # type: ignore[valid-type]
        name="Video",
        description="Video of one person to capture",
        subtype='FILE_PATH',
        default="",
    )
    output_dir: StringProperty(  # type: ignore[valid-type]
        name="Output Folder",
        description=(
            "Folder for the motion files. Empty: a 'mocap' folder next to the .blend file "
            "(a temporary folder while the file is unsaved)"
        ),
        subtype='DIR_PATH',
        default="",
    )
    frame_start: IntProperty(  # type: ignore[valid-type]
        name="Start",
        description="First video frame to capture (0 = the first frame of the video)",
        default=0,
        min=0,
    )
    frame_end: IntProperty(  # type: ignore[valid-type]
        name="End",
        description="Last video frame to capture (-1 = to the end of the video)",
        default=-1,
        min=-1,
    )
    frame_stride: IntProperty(  # type: ignore[valid-type]
        name="Stride",
        description="Capture every n-th frame (1 = every frame)",
        default=1,
        min=1,
        soft_max=10,
    )
    max_frames: IntProperty(  # type: ignore[valid-type]
        name="Max Frames",
        description="Stop after this many captured frames (0 = no limit)",
        default=0,
        min=0,
    )
    use_fov: BoolProperty(  # type: ignore[valid-type]
        name="Set Field of View",
        description="Use the known horizontal field of view of the camera. Unticked, the engine takes it from the "
                    "video's 35 mm-equivalent focal length when the file records one (iPhone videos do), "
                    "else assumes 60 degrees",
        default=False,
    )
    fov: FloatProperty(  # type: ignore[valid-type]
        name="Field of View",
        description="Horizontal field of view of the camera that shot the video",
        subtype='ANGLE',
        default=math.radians(60.0),
        min=math.radians(5.0),
        max=math.radians(170.0),
    )
    body_model: EnumProperty(  # type: ignore[valid-type]
        name="Body Model",
        description="Body the engine fits to the video",
        items=BODY_MODEL_ITEMS,
        default='AUTO',
    )
    gender: EnumProperty(  # type: ignore[valid-type]
        name="Gender",
        description="Which SMPL-X model file to use",
        items=GENDER_ITEMS,
        default='NEUTRAL',
    )
    preset: EnumProperty(  # type: ignore[valid-type]
        name="Quality",
        description="How hard the engine works on fitting the body",
        items=PRESET_ITEMS,
        default='BALANCED',
    )
    device: EnumProperty(  # type: ignore[valid-type]
        name="Device",
        description="Where the engine runs",
        items=DEVICE_ITEMS,
        default='AUTO',
    )
    pose_backend: EnumProperty(  # type: ignore[valid-type]
        name="Pose Backend",
        description="What finds the person's landmarks in the video",
        items=POSE_BACKEND_ITEMS,
        default='MEDIAPIPE',
    )
    foot_lock: EnumProperty(  # type: ignore[valid-type]
        name="Foot Lock",
        description="Keep feet planted on the floor while they touch it (no sliding, no sinking)",
        items=FOOT_LOCK_ITEMS,
        default='AUTO',
    )
    smoothing: FloatProperty(  # type: ignore[valid-type]
        name="Smoothing",
        description="Most jitter filtering for the body and root: 0 off, 1 strong. Each joint is "
                    "filtered only as much as its measured jitter calls for; fast moves keep their speed",
        subtype='FACTOR', min=0.0, max=1.0, default=0.5,
    )
    smoothing_hands: FloatProperty(  # type: ignore[valid-type]
        name="Hands",
        description="Jitter filter for the fingers: 0 off, 1 strong",
        subtype='FACTOR', min=0.0, max=1.0, default=0.5,
    )
    smoothing_face: FloatProperty(  # type: ignore[valid-type]
        name="Face",
        description="Jitter filter for the jaw, eyes and expression: 0 off, 1 strong",
        subtype='FACTOR', min=0.0, max=1.0, default=0.5,
    )
    ground: _ground_prop()  # type: ignore[valid-type]
    correctives: _correctives_prop()  # type: ignore[valid-type]
    resample: _resample_prop()  # type: ignore[valid-type]
    target: _target_prop('ACTIVE')  # type: ignore[valid-type]
    batch_input_dir: StringProperty(  # type: ignore[valid-type]
        name="Videos",
        description="Folder of videos to convert (its video files, not sub-folders)",
        subtype='DIR_PATH',
        default="",
    )
    batch_output_dir: StringProperty(  # type: ignore[valid-type]
        name="Output",
        description="Folder for the converted files and report.json",
        subtype='DIR_PATH',
        default="",
    )
    batch_outputs: EnumProperty(  # type: ignore[valid-type]
        name="Formats",
        description="Files to write for each video",
        items=BATCH_FORMAT_ITEMS,
        options={'ENUM_FLAG'},
        default={'BLEND', 'NPZ'},
    )
