"""Fitting the body to landmarks: per-frame closed-form fit (``ik``), the landmark-to-joint
mapping shared by fit and tests (``mapping``), and synthetic landmarks for ground truth
(``synthetic``). numpy only for now."""

from .ik import FitResult, FitSettings, estimate_betas, fit_sequence, solve_translation
from .synthetic import landmarks_from_motion, project

__all__ = ["FitResult", "FitSettings", "estimate_betas", "fit_sequence", "landmarks_from_motion",
           "project", "solve_translation"]
