"""Fitting the body to landmarks: the whole-clip optimiser (``optimize``, torch: import
it directly, ``from core.fit.optimize import fit_clip``), the per-frame closed-form fit
that starts it (``ik`` driving ``closed_form``), what both return (``result``) and the
lifting of MediaPipe's world landmarks onto the camera rays (``lifting``). This package
module stays numpy-only. Landmark layout: ``core.body.landmark_layout``; camera:
``core.camera``; test data: ``tests/testdata``."""

from .ik import FitSettings, fit_sequence
from .result import FitResult

__all__ = ["FitResult", "FitSettings", "fit_sequence"]
