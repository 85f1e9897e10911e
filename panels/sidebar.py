"""Where the Mocap panels sit: plain mixins (never registered) holding the lines every panel repeats.

A panel class lists the mixin before ``bpy.types.Panel``. For the type check the mixin
derives from ``Panel``, so its values are checked against the stubs' enums; at run time
it is a plain class, as Blender's own mixins are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bpy.types import Panel as _PanelBase
else:
    _PanelBase = object


class MocapSidebar(_PanelBase):
    """A panel of the Mocap tab in the 3D View's sidebar."""

    bl_space_type = 'VIEW_3D'
    bl_region_type = 'UI'
    bl_category = "Mocap"


class MocapSubPanel(MocapSidebar):
    """A sub-panel of Motion Capture, closed until opened."""

    bl_parent_id = "MOCAP_PT_capture"
    bl_options = {'DEFAULT_CLOSED'}
