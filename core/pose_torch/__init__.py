"""MediaPipe's pose models (bundled TFLite files) run by our own PyTorch code, batched.

Importing this package is light: torch is imported only when models are built.
Entry point: :func:`estimate_body` (same output as ``core.pose.estimate_holistic``:
body and hands, no face); lower level: ``tracker.BodyTracker``,
``hands.HandTracker``, ``graph.load_module``.
"""

from __future__ import annotations

from .settings import TorchPoseSettings, settings_for_preset

__all__ = ["TorchPoseSettings", "estimate_body", "settings_for_preset"]


def estimate_body(*args, **kwargs):
    """See :func:`core.pose_torch.estimate.estimate_body`."""
    from .estimate import estimate_body as run

    return run(*args, **kwargs)
