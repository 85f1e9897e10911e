"""Add-on preferences: where the engine's Python is, and whether it works.

The engine status shown in the UI is cached here (:data:`STATUS`) and only
refreshed by explicit actions (register, editing the path, Check/Create
engine): ``draw`` and ``poll`` never start a process.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bpy
from bpy.props import StringProperty

from . import ADDON_PACKAGE
from .engine_env import ENGINE_PYTHON_VERSIONS, base_python_candidates, find_engine_python


@dataclass
class EngineStatus:
    """What the UI knows about the engine (cheap to read)."""

    python: str = ""
    """The engine Python that will be used, "" when none was found."""
    checked: bool = False
    """True once Check Engine ran on ``python``."""
    ok: bool = False
    """The last check passed (only meaningful when ``checked``)."""
    message: str = "Engine not checked yet"
    busy: str = ""
    """Non-empty while a Check/Create runs: what it is doing."""
    base: str = ""
    """The Python Create Engine builds from ("Python 3.11 (/usr/bin/python3.11, from PATH)"), "" when none."""

    @property
    def usable(self) -> bool:
        return bool(self.python) and (self.ok or not self.checked)

    def base_line(self) -> str:
        if self.base:
            return f"Create Engine builds from {self.base}"
        need = " or ".join(f"{a}.{b}" for a, b in ENGINE_PYTHON_VERSIONS)
        return f"Create Engine needs Python {need}: none found (click it for what to install)"

    def line(self) -> str:
        if self.busy:
            return self.busy
        if not self.python:
            return "No engine: create one in the add-on preferences"
        if self.checked:
            return self.message
        return f"Engine found (not checked): {self.python}"


STATUS = EngineStatus()


def get_preferences(context: bpy.types.Context) -> "MOCAP_AP_preferences | None":
    """This add-on's preferences, or None when it is not enabled as an add-on."""
    if context.preferences is None:
        return None
    addon = context.preferences.addons.get(ADDON_PACKAGE)
    if addon is None:
        return None
    prefs = addon.preferences
    return prefs if isinstance(prefs, MOCAP_AP_preferences) else None


def configured_python(context: bpy.types.Context) -> str:
    prefs = get_preferences(context)
    return str(prefs.engine_python) if prefs is not None else ""


def refresh_status(configured: str) -> EngineStatus:
    """Re-locate the engine Python (file checks only, no process)."""
    found = find_engine_python(bpy.path.abspath(configured) if configured else "")
    python = str(found) if found else ""
    candidates = base_python_candidates()  # by name only; Create Engine runs them before it chooses
    STATUS.base = candidates[0].describe() if candidates else ""
    if python != STATUS.python:
        STATUS.python = python
        STATUS.checked = False
        STATUS.ok = False
        STATUS.message = "Engine not checked yet"
    return STATUS


def _engine_python_update(self: Any, context: bpy.types.Context) -> None:
    refresh_status(str(self.engine_python))


def draw_engine_status(layout: bpy.types.UILayout, status: EngineStatus) -> None:
    """One status line with an icon that says whether the engine can be used."""
    text = status.line()
    if status.busy:
        layout.label(text=text, icon='SORTTIME')
    elif not status.python or (status.checked and not status.ok):
        layout.label(text=text, icon='ERROR')
    elif status.checked:
        layout.label(text=text, icon='CHECKMARK')
    else:
        layout.label(text=text, icon='QUESTION')


class MOCAP_AP_preferences(bpy.types.AddonPreferences):
    """Engine location and set-up."""

    bl_idname = ADDON_PACKAGE

    engine_python: StringProperty(  # type: ignore[valid-type]
        name="Engine Python",
        description=(
            "Python executable of the engine environment (torch, MediaPipe ...). "
            "Empty: use the environment made by Create Engine"
        ),
        subtype='FILE_PATH',
        default="",
        update=_engine_python_update,
    )

    smplx_dir: StringProperty(  # type: ignore[valid-type]
        name="SMPL-X Model Folder",
        description=(
            "Folder with the SMPL-X model files you downloaded (SMPLX_NEUTRAL.npz ..., also "
            "under smplx/). Needed for SMPL-X bodies and to import AMASS files; never shipped"
        ),
        subtype='DIR_PATH',
        default="",
    )

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        if layout is None:
            return
        layout.prop(self, "engine_python")
        layout.prop(self, "smplx_dir")
        box = layout.box()
        draw_engine_status(box, STATUS)
        box.label(text=STATUS.base_line(), icon='INFO' if STATUS.base else 'ERROR')
        row = layout.row()
        row.operator("mocap.create_engine", icon='CONSOLE')
        row.operator("mocap.check_engine", icon='CHECKMARK')


def smplx_dir(context: bpy.types.Context) -> str:
    """The SMPL-X model folder from the preferences ("" when unset or not enabled as an add-on)."""
    prefs = get_preferences(context)
    return bpy.path.abspath(str(prefs.smplx_dir)) if prefs is not None and prefs.smplx_dir else ""


def engine_python_path(context: bpy.types.Context) -> Path | None:
    """The engine Python to run, or None (file checks only)."""
    return find_engine_python(bpy.path.abspath(configured_python(context)) if configured_python(context) else "")
