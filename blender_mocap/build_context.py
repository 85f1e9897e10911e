"""What every scene builder gets: the build context, and the record that undoes a failed build.

``scene.build_take`` makes one :class:`BuildContext` per take and hands it to
the armature, body and camera builders. Everything they create goes through
``ctx.created``; if anything fails, :meth:`Created.remove_all` removes it and
restores the changed data, so the scene is left as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import bpy
import numpy as np

from ..core.errors import CancelledError
from ..core.motion import Motion
from . import keying
from .settings import BuildOptions


class Created:
    """Every ID made while building, removed again on failure, and undo steps for changed data."""

    def __init__(self) -> None:
        self.ids: list[bpy.types.ID] = []
        self.undo: list[Callable[[], None]] = []

    def add(self, id_data):
        self.ids.append(id_data)
        return id_data

    def remove_all(self) -> None:
        for step in reversed(self.undo):
            step()
        self.undo.clear()
        collections: dict[type, Any] = {
            bpy.types.Object: bpy.data.objects,
            bpy.types.Armature: bpy.data.armatures,
            bpy.types.Mesh: bpy.data.meshes,
            bpy.types.Camera: bpy.data.cameras,
            bpy.types.Action: bpy.data.actions,
            bpy.types.MovieClip: bpy.data.movieclips,
            bpy.types.Collection: bpy.data.collections,
        }
        # Objects first: they hold users of the data-blocks behind them.
        for id_data in sorted(self.ids, key=lambda i: not isinstance(i, bpy.types.Object)):
            for kind, store in collections.items():
                if isinstance(id_data, kind):
                    try:
                        store.remove(id_data)
                    except ReferenceError:
                        pass  # already gone with its owner
                    break
        self.ids.clear()

    def keep_animation(self, id_data: Any) -> None:
        """Record ``id_data``'s action assignment so a failure restores it."""
        anim = getattr(id_data, "animation_data", None)
        if anim is None:
            self.undo.append(lambda: id_data.animation_data_clear())
            return
        action = anim.action
        slot = getattr(anim, "action_slot", None) if keying.SLOTTED else None

        def restore() -> None:
            data = id_data.animation_data
            if data is None:
                return
            data.action = action
            if slot is not None:
                data.action_slot = slot

        self.undo.append(restore)


@dataclass
class BuildContext:
    """One take being built: where it goes, what it is built from, and what it made so far.

    Attributes:
        scene: the scene the take goes into.
        view_layer: the view layer used for edit-mode work (the armature's bones).
        motion: the prepared motion (validated, completed, resampled, grounded).
        name: take name: collection, armature, action and the other data are named after it.
        options: the scene-building options.
        collection: the take's collection (in ``scene``).
        created: what was created or changed, undone on failure.
        video_path: the source video for the camera's background, or None.
        model: the SMPL-X model arrays when pose correctives are wanted and available.
        warnings: things the user should know, collected while building.
        progress: ``progress(fraction of the build done, what is being done)``, or None.
        should_cancel: polled as the build goes (after every F-curve); True stops it
            with a CancelledError, and ``build_take`` removes what was made.
    """

    scene: bpy.types.Scene
    view_layer: bpy.types.ViewLayer
    motion: Motion
    name: str
    options: BuildOptions
    collection: bpy.types.Collection
    created: Created
    video_path: str | None = None
    model: dict[str, np.ndarray] | None = None
    warnings: list[str] = field(default_factory=list)
    progress: Callable[[float, str], None] | None = None
    should_cancel: Callable[[], bool] | None = None

    def step(self, fraction: float, what: str) -> None:
        """Report ``fraction`` (0 to 1) of the build done; raise CancelledError when the caller asks to stop."""
        if self.should_cancel is not None and self.should_cancel():
            raise CancelledError(f"building '{self.name}' was cancelled; nothing of it was kept")
        if self.progress is not None:
            self.progress(fraction, what)

    def keying(self, start: float, stop: float, what: str) -> keying.Progress:
        """A keying ``progress(done, total)`` that reports as :meth:`step` from ``start`` to ``stop``."""
        return lambda done, total: self.step(start + (stop - start) * done / max(total, 1), what)
