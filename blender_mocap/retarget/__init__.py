"""Retarget a take onto the user's own character (Rigify, Mixamo, Unreal or any humanoid armature).

``mapping`` (which bone takes which SMPL-X joint), ``presets`` (JSON presets),
``source`` and ``solve`` (the transfer, numpy only), ``feet`` (planted feet),
``rig`` (reading a target armature) and ``apply`` (keys on the target's own
action) and ``job`` (motion file or take -> character, for headless and batch).
"""
