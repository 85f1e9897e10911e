"""blender-mocap's Blender side: properties, engine runner, run state, scene building.

This package's ``__init__`` stays light and never imports bpy: plain Python
(``dev.py``, the engine set-up, tests) imports ``blender_mocap.engine_env`` and
``blender_mocap.engine`` without Blender. Modules that need bpy import it
themselves. Inside the extension this package is ``<extension>.blender_mocap``;
the extension's root package (``__package__`` of the root ``__init__``) is
the add-on id that preferences are keyed by.
"""

ADDON_PACKAGE: str = (__package__ or "").rpartition(".")[0] or (__package__ or "blender_mocap")
"""The extension's root package name, e.g. ``bl_ext.user_default.blender_mocap``."""
