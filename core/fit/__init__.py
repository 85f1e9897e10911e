"""Fitting the body to landmarks: the whole-clip optimiser (``optimize``, torch: import
it directly, ``from core.fit.optimize import fit_clip``), the per-frame closed-form fit
that starts it (``ik``), the landmark mapping shared by fit and tests (``mapping``), and
synthetic landmarks for ground truth (``synthetic``). This package module stays numpy-only."""

from .ik import FitResult, FitSettings, estimate_betas, fit_sequence, solve_translation
from .synthetic import landmarks_from_motion, project

__all__ = ["FitResult", "FitSettings", "estimate_betas", "fit_sequence", "landmarks_from_motion",
           "project", "solve_translation"]
