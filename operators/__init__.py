"""Operators: adapters from properties to settings to one engine job / one scene build.

May import bpy, blender_mocap/ and core.{motion,errors,skeleton,rotations}; never torch.
Registration (blender_mocap/registration.py) imports the classes from their modules.
"""
