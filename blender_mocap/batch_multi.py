"""Batch of multi-camera takes: folders of videos in (one folder per take), finished files out.

``headless.py capture-multi DIR... --out OUT``: each take folder holds the videos of
one performance, one per camera (2 to 8, sorted by name: the first is camera 1,
whose frames the take keeps); a folder that holds no videos but take folders
stands for those (a shoot's folder of takes). Each take runs through the engine
(``python -m core capture-multi``), is built into a fresh file with every camera
and exported as the single-camera batch does it (``batch.py``): ``<take>.<format>``
in OUT, written under a temporary name and renamed when whole, one failed take
never stops the others, and ``OUT/report.json`` says per take what happened.
A re-run skips a take whose outputs are complete and newer than every one of its
videos, with the same settings (a manifest per take in ``OUT/.blender-mocap/``).

The multi-view options (``core/options.py``, surface ``multi``) apply to every
take: a rig file (``--calibration``) for takes filmed by the same cameras, the
person's height; the offsets come from each take's sound, else its motion.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..core.errors import MocapError
from ..core.options import MULTI, option_args, options_for
from .batch import (
    BatchSettings,
    VideoReport,
    convert_one,
    folder_lock,
    run_reported,
)
from .batch_state import STATE_DIR, complete_outputs, input_signature, output_folder
from .engine import run_engine as default_run_engine
from .exports import write_text_atomic
from .multicam_request import MAX_VIDEOS, MIN_VIDEOS, capture_multi_command, check_rig_file, multi_request_from_props
from .settings import VIDEO_EXTENSIONS

BATCH_MULTI_KEYS = ("calibration", "person_height")
"""The multi-view options a batch takes (for every take); offsets and a rig to save belong to one take."""


@dataclass(frozen=True)
class Take:
    """One performance: its folder (the take's name) and its videos, camera 1 first."""

    folder: Path
    videos: tuple[Path, ...]

    @property
    def name(self) -> str:
        return self.folder.name


def _videos_in(folder: Path) -> tuple[Path, ...]:
    return tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_EXTENSIONS and not p.name.startswith(".")))


def collect_takes(items: Iterable[str | Path]) -> list[Take]:
    """The takes named by ``items``: a folder of videos is one take; a folder of take folders, each of them.

    A path that is no folder, and a take folder without videos, are kept (reported as failed takes).
    """
    takes: list[Take] = []
    for item in items:
        path = Path(item)
        if not path.is_dir():
            takes.append(Take(path, ()))
            continue
        videos = _videos_in(path)
        if videos:
            takes.append(Take(path, videos))
            continue
        subs = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
        takes += [Take(sub, _videos_in(sub)) for sub in subs] or [Take(path, ())]
    return takes


def check_take(take: Take) -> None:
    """Raise MocapError saying why ``take`` cannot be captured (before the engine starts)."""
    if not take.folder.is_dir():
        raise MocapError(f"take folder not found: {take.folder}")
    if not MIN_VIDEOS <= len(take.videos) <= MAX_VIDEOS:
        raise MocapError(f"{take.folder} holds {len(take.videos)} video(s): a multi-camera take needs "
                         f"{MIN_VIDEOS} to {MAX_VIDEOS}, one per camera")


def check_multi(values: dict[str, Any]) -> dict[str, Any]:
    """The batch's multi-view option values (``BATCH_MULTI_KEYS``; None: the engine's default), the rig file's
    path made absolute (the engine runs in the extension's folder); MocapError when it is not there."""
    multi = {name: values.get(name) for name in BATCH_MULTI_KEYS}
    if multi["calibration"] is not None:
        rig = Path(str(multi["calibration"])).expanduser()
        if not rig.is_file():
            raise MocapError(f"rig file not found: {rig} (--calibration: a file capture-multi --save-calibration "
                             "wrote for these cameras)")
        multi["calibration"] = str(rig.resolve())
    return multi


def batch_multi_args(props: Any, *, blend_filepath: str = "") -> list[str]:
    """``headless.py capture-multi`` arguments for the Multi-Camera panel's settings a batch takes for every take
    (``BATCH_MULTI_KEYS``: the rig file when Cameras from File is on, the person's height when set)."""
    request = multi_request_from_props(props, blend_filepath=blend_filepath)
    check_rig_file(request.calibration)
    values = check_multi({name: getattr(request, name) for name in BATCH_MULTI_KEYS})
    return option_args(values, tuple(o for o in options_for(MULTI) if o.name in BATCH_MULTI_KEYS), {})


def _take_manifest(take: Take, settings: BatchSettings, multi: dict[str, Any]) -> dict[str, Any]:
    return {"videos": [input_signature(v) for v in take.videos], "settings": settings.digest(), "multi": multi}


def _take_complete(take: Take, out_dir: Path, settings: BatchSettings, multi: dict[str, Any]) -> bool:
    """Outputs complete and newer than camera 1's video (``batch``'s check), and the same videos and settings."""
    try:
        recorded = json.loads((out_dir / STATE_DIR / f"{take.name}.take.json").read_text(encoding="utf-8"))
        expected = _take_manifest(take, settings, multi)
    except (OSError, ValueError):
        return False
    newest = max(s["mtime_ns"] for s in expected["videos"])
    return (recorded == expected and complete_outputs(take.videos[0], out_dir, take.name, settings) is not None
            and all((out_dir / f"{take.name}.{f}").stat().st_mtime_ns >= newest for f in settings.outputs))


def _take_engine(take: Take, multi: dict[str, Any], should_cancel: Callable[[], bool],
                 run_engine: Callable[..., Path]) -> Callable[..., Path]:
    """``batch``'s engine call for one video, made to run ``capture-multi`` on every video of ``take``."""
    def engine(python: str, video: str, out: Path, args: list[str], on_event=None) -> Path:
        command = capture_multi_command(python, (v.resolve() for v in take.videos), Path(out).resolve(),
                                        [*args, *option_args(multi, options_for(MULTI), {})])
        return run_engine(python, video, out, args, on_event=on_event, should_cancel=should_cancel, command=command)
    return engine


def _capture_take(take: Take, out_dir: Path, settings: BatchSettings, multi: dict[str, Any],
                  run_engine: Callable[..., Path], report: VideoReport, say,
                  should_cancel: Callable[[], bool]) -> None:
    """One take through ``batch.convert_one`` (camera 1's video names it), then its manifest for re-runs."""
    check_take(take)
    convert_one(take.videos[0], take.name, out_dir, settings, _take_engine(take, multi, should_cancel, run_engine),
                report, say, should_cancel)
    write_text_atomic(out_dir / STATE_DIR / f"{take.name}.take.json",
                      json.dumps(_take_manifest(take, settings, multi), indent=1))


def run_multi_batch(takes: list[Take], out_dir: str | Path, settings: BatchSettings, multi: dict[str, Any], *,
                    run_engine: Callable[..., Path] | None = None,
                    should_cancel: Callable[[], bool] | None = None) -> tuple[int, Path]:
    """Capture every take into ``out_dir``; returns (exit code: 0 all done or skipped, 1 some failed, report path).

    ``should_cancel``: as ``batch.run_batch`` (a CancelledError once report.json says so)."""
    out_dir = output_folder(out_dir)
    with folder_lock(out_dir):
        return _run_takes(takes, out_dir, settings, multi, run_engine or default_run_engine,
                          should_cancel or (lambda: False))


def _run_takes(takes: list[Take], out_dir: Path, settings: BatchSettings, multi: dict[str, Any],
               run_engine: Callable[..., Path], should_cancel: Callable[[], bool]) -> tuple[int, Path]:
    def skip(take: Take) -> dict[str, str] | None:
        if not (take.videos and _take_complete(take, out_dir, settings, multi)):
            return None
        return {f: str(out_dir / f"{take.name}.{f}") for f in settings.outputs}

    return run_reported(
        takes, out_dir, settings, noun="takes", name=lambda take: take.name,
        header={"multi_camera": True, "settings": {**asdict(settings), **multi}}, skip=skip,
        convert=lambda take, report, say: _capture_take(take, out_dir, settings, multi, run_engine, report, say,
                                                        should_cancel),
        source=lambda take: take.folder,
        entry=lambda take, report: {**asdict(report), "videos": [str(v) for v in take.videos]})
