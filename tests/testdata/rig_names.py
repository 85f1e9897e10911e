"""Bone names of the retarget test characters, as Mixamo, Unreal or nothing readable names them (no bpy:
the mocked tests build skeletons from them too)."""

from __future__ import annotations

from collections.abc import Callable

Namer = Callable[[str, str, int], str]
"""namer(part, side "L"/"R"/"", number) -> bone name; parts: pelvis spine neck head collar upper fore hand
thigh shin foot toe, and the fingers."""


def mixamo_name(part: str, side: str, k: int) -> str:
    S = {"L": "Left", "R": "Right", "": ""}[side]
    base = {"pelvis": "Hips", "spine": "Spine" if k == 1 else f"Spine{k - 1}", "neck": "Neck", "head": "Head",
            "collar": f"{S}Shoulder", "upper": f"{S}Arm", "fore": f"{S}ForeArm", "hand": f"{S}Hand",
            "thigh": f"{S}UpLeg", "shin": f"{S}Leg", "foot": f"{S}Foot", "toe": f"{S}ToeBase"}
    return "mixamorig:" + base.get(part, f"{S}Hand{part.capitalize()}{k}")


def unreal_name(part: str, side: str, k: int) -> str:
    s = f"_{side.lower()}" if side else ""
    base = {"pelvis": "pelvis", "spine": f"spine_0{k}", "neck": "neck_01", "head": "head", "collar": "clavicle",
            "upper": "upperarm", "fore": "lowerarm", "hand": "hand", "thigh": "thigh", "shin": "calf",
            "foot": "foot", "toe": "ball"}
    return base.get(part, f"{part}_0{k}") + s


def plain_name(part: str, side: str, k: int) -> str:
    """Names no preset knows and the name rules do not read (``bone_007``-like): topology only."""
    return f"b_{part[:3]}{k}{side.lower()}x"
