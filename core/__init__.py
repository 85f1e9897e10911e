"""blender-mocap engine: video -> pose landmarks -> body-model fit -> motion file.

Importing this package is cheap and pulls in numpy only; the heavy modules
(``core.pose``, ``core.fit`` ...) import torch, mediapipe or OpenCV when they
are themselves imported. The Blender side imports ``core.motion`` and
``core.errors`` from here, nothing else.
"""

__version__ = "0.1.0"
