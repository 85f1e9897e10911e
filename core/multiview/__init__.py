"""Several cameras of one performance: the rig (cameras in one world), sync, calibration, triangulation.

The rig (``rig.CameraRig``) is the data every step shares: C pinhole cameras
with OpenCV axes, each ``x_cam = R @ x_world + t`` in metres. See README.md
in this folder for the frames and the steps.
"""
