"""Operators: adapters from properties to settings to one engine job / one scene build.

May import bpy, blender_mocap/ and core.{motion,errors,skeleton,rotations}; never panels/ or torch.
Run records live in blender_mocap/runs.py (operators write them, panels read them); every
operator that waits on a task uses the one loop in modal.py. Registration (the root's
registration.py) imports the classes from their modules.
"""
