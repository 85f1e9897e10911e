"""The live session's body: the built-in mannequin, or SMPL-X when the user's model files are there.

The body is chosen as a capture chooses it (``core.capture.choose_body``: ``--body auto`` takes SMPL-X
when ``--smplx-dir`` or ``$BLENDER_MOCAP_SMPLX_DIR`` holds the gender's file). Live there is no
optimiser to fit SMPL-X's shape, so the shape comes in two closed-form steps at the warm-up: the
mannequin's shape from the landmarks' segment lengths (``core.body.shape``), then the SMPL-X betas
whose rest joints come nearest the mannequin's (SMPL-X's rest joints are linear in the betas, so
this is one small ridge least squares over the 22 body joints, pelvis-relative). The per-frame solve
then runs on the SMPL-X rest joints, so the stream's 55 local rotations are SMPL-X's and the
add-on builds the SMPL-X character from the session's rest take.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..body.mannequin import mesh as mannequin_mesh

BODY_JOINTS = 22
"""Pelvis to wrists: the joints the landmarks place (fingers and face follow the shape)."""
RIDGE = 1e-3
"""Weight of ``|betas|^2`` (SMPL-X betas are in units of their prior deviation) against squared metres of joint
misfit: a joint 1 cm off weighs as much as a tenth of a deviation; keeps the betas where the body's
proportions leave them free."""


@dataclass
class LiveBody:
    """The body a live session streams.

    Attributes:
        name: "mannequin" or "smplx" (the rest take's ``body_model``).
        model: the ``core.body.smplx_model.SMPLXBody`` for SMPL-X, None for the mannequin.
        gender: the SMPL-X file's gender ("neutral" for the mannequin).
        warnings: said to the user when the session starts (e.g. files not found: the mannequin).
    """

    name: str = "mannequin"
    model: Any = None
    gender: str = "neutral"
    warnings: list[str] = field(default_factory=list)

    def shape_from_mannequin(self, mannequin_betas: np.ndarray, mannequin_joints: np.ndarray
                             ) -> tuple[np.ndarray, np.ndarray]:
        """(betas (B,), rest joints (55, 3)) of this body for a mannequin of ``mannequin_betas`` (5,) whose rest
        joints are ``mannequin_joints`` (55, 3), metres; the mannequin's own for the mannequin."""
        if self.model is None:
            return np.asarray(mannequin_betas, np.float64), np.asarray(mannequin_joints, np.float64)
        template = self.model.j_template.double().cpu().numpy()          # (55, 3)
        dirs = self.model.j_shapedirs.double().cpu().numpy()              # (55, 3, B)
        rel = lambda a: (a[:BODY_JOINTS] - a[:1]).reshape(-1, *a.shape[2:])  # noqa: E731 - pelvis-relative rows
        A = rel(dirs)                                                     # (66, B)
        b = rel(np.asarray(mannequin_joints, np.float64)) - rel(template)  # (66,)
        betas = np.linalg.solve(A.T @ A + RIDGE * np.eye(A.shape[1]), A.T @ b)
        return betas, template + dirs @ betas

    def rest_data(self, betas: np.ndarray) -> dict[str, np.ndarray]:
        """The rest take's body data for ``betas``: rest_joints, v_template, faces, skin_weights (and for
        SMPL-X shape_dirs, expression_dirs), as ``core.body.model.BodyModel.rest_data``."""
        if self.model is not None:
            return dict(self.model.rest_data(np.asarray(betas, np.float32)))
        from ..body.mannequin import rest_joints

        v, f, w = mannequin_mesh(np.asarray(betas, np.float64))
        return {"rest_joints": rest_joints(np.asarray(betas, np.float64)), "v_template": v, "faces": f,
                "skin_weights": w}


def choose_live_body(body: str = "auto", gender: str = "neutral", smplx_dir: str | None = None) -> LiveBody:
    """The body of a live session, chosen as a capture's (``core.capture.choose_body``); MocapError with a
    message for ``body="smplx"`` without usable files, an unknown body or gender."""
    import os

    from ..capture import SMPLX_DIR_ENV, CaptureSettings, choose_body

    if body == "mannequin" or (body == "auto" and not (smplx_dir or os.environ.get(SMPLX_DIR_ENV))):
        return LiveBody()  # as choose_body would, without loading torch for the mannequin
    from ..body.model import MannequinBody

    model, warnings = choose_body(CaptureSettings(body=body, gender=gender, smplx_dir=smplx_dir))
    if isinstance(model, MannequinBody):
        return LiveBody(warnings=list(warnings))
    return LiveBody(name="smplx", model=model, gender=gender, warnings=list(warnings))
