"""The custom-property keys a take writes on its objects, actions and clips: one place for all.

Scene building writes them, operators and exports read them, panels show
them. Plain constants: no bpy, so anything on the Blender side may import this.
"""

ROLE = "blender_mocap"
"""Object custom property on what a take creates: its value is one of the roles below."""
ROLE_RIG = "rig"
ROLE_BODY = "body"
ROLE_CAMERA = "camera"

CONFIDENCE_PROP = "mocap_confidence"
"""Armature custom property keyed with each frame's confidence (0 to 1)."""
QUALITY_PROP = "mocap_quality"
"""Action custom property: the take's quality figures (name -> number)."""
UP_SOURCE_PROP = "mocap_up_source"
"""Action custom property: where the take's up direction came from ("scene lines ±1.1°"; motion file v2)."""
LOW_CONFIDENCE_PROP = "mocap_low_confidence"
"""Action custom property: scene frames with confidence below ``LOW_CONFIDENCE``, as text ranges."""
WARNINGS_PROP = "mocap_warnings"
"""Action custom property: the capture's warnings for the user, one per line (e.g. a mostly invented take)."""
MOTION_FILE_PROP = "mocap_motion_file"
"""Action and armature custom property: absolute path of the take's motion file."""
VIDEO_PROP = "mocap_video"
"""Optional armature custom property: the video, when it moved since the capture."""
CORRECTIVES_PROP = "mocap_correctives"
"""Body custom property: how its pose-corrective shape keys move ("DRIVERS" or "BAKED")."""
PREVIEW_PROP = "mocap_preview"
"""Movie-clip custom property: a preview the Preview operator loaded (so a re-run replaces it)."""
