"""The one domain error of blender-mocap.

Every failure a user can cause or fix (a bad video, a missing model file, a
motion file from a newer version) is raised as :class:`MocapError` with a
message written for that user: what happened and what to do. Entry points (the
CLI, the Blender operators, the batch runner) catch it in one place and show
the message; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class MocapError(Exception):
    """A failure with a message meant for the user."""


class CancelledError(MocapError):
    """The user (or the caller's ``should_cancel``) stopped the run."""

    def __init__(self, message: str = "cancelled by the user") -> None:
        super().__init__(message)
