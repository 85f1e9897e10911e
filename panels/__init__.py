"""Panels: thin draw code. May import bpy and blender_mocap/; never the engine's heavy modules.

``draw.py`` holds the draw code as free functions and imports no bpy at run
time, so it is tested with a stub-specced layout; ``capture.py`` holds the
panel class. Run state (a capture or batch in progress) is read from
``blender_mocap.runs``, never from the operators. Registration imports the
classes from their modules.
"""
