"""blender-mocap: turn a video of a person into an animated SMPL-X character.

The extension's entry point. The repository root is the extension package:
``blender_mocap/`` (Blender side), ``operators/``, ``panels/`` and ``core/``
(the engine, run as a separate process) live beside this file.

register/unregister come from ``registration`` (beside this file); they are
imported when called so that importing this package (pytest collects it as
the root package, plain Python reaches ``<root>.core`` through it) needs no bpy.
"""


def register() -> None:
    from .registration import register as _register

    _register()


def unregister() -> None:
    from .registration import unregister as _unregister

    _unregister()
