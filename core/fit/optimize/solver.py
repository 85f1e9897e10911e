"""The solver: L-BFGS over all frames' parameters at once, with progress and cancellation."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ...errors import CancelledError
from ...pose_torch.networks import one_cpu_thread  # noqa: F401 (the fit runs in it: clip.py)
from ...body.model import rot6d_to_matrix
from .objective import ClipProblem
from .precondition import Scaled
from .settings import OptimizeSettings
from .setup import Params


def minimise(problem: ClipProblem, params: Params, settings: OptimizeSettings, device: torch.device, *,
             progress: Callable[[int, int], None] | None = None,
             should_cancel: Callable[[], bool] | None = None) -> int:
    """Run L-BFGS on ``params`` (in place) for ``settings.iterations`` steps; returns the number
    of objective evaluations. progress(done, total) counts evaluations; ``should_cancel`` is
    polled before each and raises CancelledError."""
    fit_face = problem.fit_face
    scaled = Scaled(problem.body, params.rot6d, params.betas, params.trans.shape[0],
                    enabled=settings.precondition)
    trainable = [scaled.rot6d, params.trans]
    if params.betas.requires_grad:
        trainable.append(scaled.betas)
    if fit_face:
        trainable.append(params.expression)
    if problem.views is not None:  # further cameras refined with the body (``views.CameraRefinement``)
        trainable += problem.views.parameters()
    autocast = settings.mixed_precision and device.type == "cuda"
    n_iter = max(0, int(settings.iterations))
    max_eval = int(n_iter * 1.25) + 1
    evaluations = [0]

    def closure() -> Tensor:
        if should_cancel is not None and should_cancel():
            raise CancelledError("fitting cancelled by the user")
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=autocast):
            loss = problem.objective(scaled.true_betas(), rot6d_to_matrix(scaled.true_rot6d()), params.trans,
                                     params.expression if fit_face else None, level_order=True)
        loss = loss * problem.loss_scale
        loss.backward()
        assert scaled.rot6d.grad is not None
        scaled.rot6d.grad[:, params.fixed] = 0.0  # unobserved joints stay where they started
        evaluations[0] += 1
        if progress is not None:
            progress(min(evaluations[0], max_eval), max_eval)
        return loss

    # L-BFGS with a strong-Wolfe line search (as SMPLify and EasyMocap use):
    # from the closed-form start the problem is nearly quadratic and converges
    # in a few dozen steps, and unlike Adam it takes no step where the
    # gradient vanishes, so an exact start stays exact.
    optimizer = torch.optim.LBFGS(trainable, lr=1.0, max_iter=n_iter, max_eval=max_eval,
                                  history_size=settings.history, line_search_fn="strong_wolfe",
                                  tolerance_grad=1e-9, tolerance_change=1e-12)
    if n_iter:
        optimizer.step(closure)
    with torch.no_grad():
        params.rot6d.copy_(scaled.true_rot6d())
        params.betas.copy_(scaled.true_betas())
    if progress is not None and evaluations[0] < max_eval:
        progress(max_eval, max_eval)
    return evaluations[0]
