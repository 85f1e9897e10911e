"""Run state: the engine runs in progress and what each holds.

The operators start and end runs and write them here; their ``poll`` and the
panels only read. At most one run of each kind goes at a time (one
:class:`Slot` each). No bpy import: the records hold Blender objects, but this
module never calls Blender.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from .engine import CaptureRequest, EngineJob, JobProgress
from .settings import BuildOptions

R = TypeVar("R")


class Slot(Generic[R]):
    """Where the one run of a kind is kept while it goes."""

    def __init__(self) -> None:
        self._run: R | None = None

    @property
    def current(self) -> R | None:
        """The run in progress, or None."""
        return self._run

    def running(self) -> bool:
        return self._run is not None

    def start(self, run: R) -> None:
        self._run = run

    def end(self, run: R) -> None:
        """Forget ``run`` (nothing happens when another run, or none, is kept). Safe to call twice."""
        if self._run is run:
            self._run = None


@dataclass
class CaptureRun(JobProgress):
    """One running capture: the engine job and the temporary folder it owns."""

    settings: CaptureRequest
    job: EngineJob
    temp_dir: Path
    result: Path
    options: BuildOptions = field(default_factory=BuildOptions)
    target: Any = None
    """The rig to put the take on (None = a new character), chosen when the capture started."""

    @property
    def name(self) -> str:
        return Path(self.settings.video).stem


ENGINE_PREVIEW = ("-m", "core", "preview")
"""The engine's preview entry point (``python -m core preview``)."""


@dataclass(frozen=True)
class PreviewRequest:
    """One preview run, copied from the operator's properties.

    Attributes:
        motion: the take's motion file (.npz).
        out: the MP4 to write (next to the motion file).
        video: the video to draw over; "" = the one the motion file names.
        layout: "overlay" or "side-by-side".
        resolution: longer side of each view, pixels.
        landmarks: draw the 2D landmarks on top.
        renderer: "auto", "cpu" or "pytorch3d".
    """

    motion: str
    out: str
    video: str = ""
    layout: str = "side-by-side"
    resolution: int = 960
    landmarks: bool = False
    renderer: str = "auto"

    def command(self, python: str | os.PathLike[str]) -> list[str]:
        cmd = [str(python), *ENGINE_PREVIEW, self.motion, "--out", self.out, "--progress", "json",
               "--layout", self.layout, "--resolution", str(self.resolution), "--renderer", self.renderer]
        if self.video:
            cmd += ["--video", self.video]
        if self.landmarks:
            cmd.append("--landmarks")
        return cmd


@dataclass
class PreviewRun(JobProgress):
    """One running preview render: the request, its engine job and where the clip starts."""

    request: PreviewRequest
    job: EngineJob
    first_frame: int

    def handle_events(self) -> None:
        self.apply(self.job.poll())


@dataclass
class BatchRun:
    """One running batch: its process, the last status line and the final summary."""

    job: EngineJob
    report: Path
    status: str = "Starting"
    summary: str = ""
    errors: list[str] = field(default_factory=list)


CAPTURE: Slot[CaptureRun] = Slot()
PREVIEW: Slot[PreviewRun] = Slot()
BATCH: Slot[BatchRun] = Slot()
CREATE_ENGINE: Slot[Any] = Slot()
"""The engine creation in progress (a ``CommandSequence``)."""
CHECK_ENGINE: Slot[Any] = Slot()
"""The engine check in progress (a ``BackgroundCall``)."""
