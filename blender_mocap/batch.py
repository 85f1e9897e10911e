"""Batch conversion: many videos in, finished files out, robust like a build tool.

For each video: run the engine (a subprocess, as in the add-on), build the
take into a fresh empty file, export the chosen formats with Blender's own
bundled exporters, and record what happened in ``report.json``.

- One bad video never stops the others; its error lands in the report.
- Every output is written under a temporary name and renamed when whole, so
  a file that exists is complete. A small manifest per video
  (``.blender-mocap/<stem>.json`` in the output folder) records the input's
  size and time and the settings; a re-run skips a video whose manifest
  matches and whose outputs all exist and are newer than the input.
- Progress goes to stdout as text lines (``[i/n] stem: ...``) or, with
  ``progress="json"``, one JSON object per line for log collectors.

Needs bpy (run inside Blender or with the bpy module); the engine runs in its
own Python (``engine_python``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..core.errors import CancelledError, MocapError
from ..core.options import Correctives, batch_defaults, engine_args
from .batch_state import STATE_DIR, complete_outputs, manifest, manifest_path, output_folder, stopper
from .engine import run_engine as default_run_engine
from .engine_env import ENGINE_PYTHON_ENV
from .exports import build_progress, copy_atomic, export_take, write_text_atomic
from .people import export_people, person_files
from .settings import CORRECTIVES, VIDEO_EXTENSIONS, BuildOptions

FORMATS = ("blend", "fbx", "bvh", "glb", "npz")
"""Output formats, by file extension."""

REPORT_VERSION = 1
_DEFAULT = batch_defaults()


@dataclass(frozen=True)
class BatchSettings:
    """Everything a batch does; the same options as the add-on's capture panel.

    Its fields are the keys of a settings file: the options with the
    ``batch`` surface in ``core/options.py`` (None leaves one to the engine)
    and the batch's own (outputs, engine_python, progress).

    Attributes:
        outputs: formats to write per video, from ``FORMATS``.
        start, end: video frame range (0-based, end exclusive, as on the engine's
            command line and in ``CaptureRequest``; None = whole video).
        stride: analyse every ``stride``-th frame.
        max_frames: analyse at most this many frames (None = no limit).
        fov: horizontal field of view in degrees (None = the engine's choice: the
            video's metadata when it records a focal length, else 60).
        body, smplx_dir, gender, preset, device, pose_backend, person, people: body model,
            fitting and pose options, passed to the engine as ``--body`` etc. when set.
        foot_lock, smoothing, smoothing_hands, smoothing_face: cleanup
            options, passed as ``--foot-lock`` etc. when set.
        camera_pitch, camera_roll, level_camera: the camera's known tilt in
            degrees, or a level camera (None: the engine estimates the up direction).
        ground: stand the take on Z = 0 (camera moved with it).
        correctives: SMPL-X pose correctives, "BAKED" (default here: FBX and
            glTF carry keyed shape keys but not drivers), "DRIVERS" or "NONE".
        retarget_target, retarget_preset: the take also goes on this character (``retarget.job``).
        engine_python: the Python that runs ``-m core`` (None: the
            ``BLENDER_MOCAP_ENGINE_PYTHON`` variable, else this Python).
        progress: "text" or "json" progress lines on stdout.
    """

    outputs: tuple[str, ...] = ("blend", "npz")
    start: int | None = None
    end: int | None = None
    stride: int | None = None
    max_frames: int | None = None
    fov: float | None = None
    body: str | None = None
    smplx_dir: str | None = None
    gender: str | None = None
    preset: str | None = None
    device: str | None = None
    pose_backend: str | None = None
    person: str | None = None
    people: str | None = None
    foot_lock: str | None = None
    smoothing: float | None = None
    smoothing_hands: float | None = None
    smoothing_face: float | None = None
    camera_pitch: float | None = None
    camera_roll: float | None = None
    level_camera: bool | None = None
    ground: bool = _DEFAULT["ground"]
    correctives: Correctives = _DEFAULT["correctives"]
    retarget_target: str | None = None
    retarget_preset: str = _DEFAULT["retarget_preset"]
    engine_python: str | None = None
    progress: str = "text"

    def engine_args(self) -> list[str]:
        """The engine's optional command-line arguments for these settings."""
        return engine_args(asdict(self))

    def python(self) -> str:
        """The Python that runs the engine: ``engine_python``, else ``$BLENDER_MOCAP_ENGINE_PYTHON``, else this one."""
        return self.engine_python or os.environ.get(ENGINE_PYTHON_ENV) or sys.executable

    def digest(self) -> str:
        """Hash of what determines the outputs (not where the engine lives or how progress looks)."""
        key = {k: v for k, v in asdict(self).items() if k not in ("engine_python", "progress")}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def settings_from_toml(path: str | Path, extra: tuple[str, ...] = ()) -> dict[str, Any]:  # extra: other known keys
    """Read batch settings from a TOML file (flat keys named like the options).

    Example::

        outputs = ["blend", "fbx", "bvh", "glb", "npz"]
        stride = 2
        preset = "accurate"

    Raises MocapError for unreadable files and unknown keys.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MocapError(f"cannot read the settings file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MocapError(f"{path.name} is not valid TOML: {exc}") from exc
    known = {f.name for f in fields(BatchSettings)} | set(extra)
    unknown = sorted(set(data) - known)
    if unknown:
        raise MocapError(f"{path.name}: unknown settings {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(known))})")
    if "outputs" in data:
        data["outputs"] = tuple(data["outputs"])
    return data


def check_settings(settings: BatchSettings) -> None:
    """Raise MocapError when the settings cannot work (bad arguments: exit code 2)."""
    bad = [f for f in settings.outputs if f not in FORMATS]
    if bad or not settings.outputs:
        raise MocapError(f"unknown output format(s) {', '.join(bad) or '(none)'}: choose from {', '.join(FORMATS)}")
    if settings.correctives not in CORRECTIVES:
        raise MocapError(f"correctives must be one of {', '.join(CORRECTIVES)}, not '{settings.correctives}'")
    if settings.progress not in ("text", "json"):
        raise MocapError(f"progress must be 'text' or 'json', not '{settings.progress}'")


def collect_inputs(items: Iterable[str | Path]) -> list[Path]:
    """Videos named by files, folders (their video files, sorted) and list files (``.txt``, one path a line).

    Paths in a list file are relative to the list file; ``#`` starts a comment.
    Anything that does not exist or cannot be resolved (a broken link, a link
    loop) is kept, so it is reported as a failure instead of vanishing silently
    or stopping the others.
    """
    found: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            # A video-named entry that is no file (a broken link, a link loop) is kept, to be reported.
            found += sorted(p for p in path.iterdir()
                            if p.suffix.lower() in VIDEO_EXTENSIONS and (p.is_file() or p.is_symlink()))
        elif path.suffix.lower() == ".txt" and path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                line = line.split("#", 1)[0].strip()
                if line:
                    entry = Path(line)
                    found.append(entry if entry.is_absolute() else path.parent / entry)
        else:
            found.append(path)
    unique: list[Path] = []
    seen: set[Path] = set()
    for p in found:
        try:
            key = p.resolve()
        except (OSError, RuntimeError):  # a symlink loop: Python 3.11 raises RuntimeError
            key = p.absolute()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def output_stems(videos: list[Path]) -> list[str]:
    """One output name per video: the stem, made unique with the parent folder's name."""
    stems = [v.stem for v in videos]
    out = []
    for video, stem in zip(videos, stems):
        out.append(f"{video.parent.name}_{stem}" if stems.count(stem) > 1 else stem)
    if len(set(out)) != len(out):  # still ambiguous: number them
        out = [f"{s}_{i + 1}" for i, s in enumerate(out)]
    return out


@dataclass
class VideoReport:
    """What happened to one video (one entry of report.json)."""

    input: str
    status: str = "pending"  # "done" | "skipped" | "failed" | "cancelled"
    outputs: dict[str, str] = field(default_factory=dict)
    frames: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
    quality: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


class Progress:
    """``progress(index, stem, kind, message)``: one line of a batch's progress, text or JSON (``settings.progress``)."""

    def __init__(self, mode: str, total: int) -> None:
        self.mode = mode
        self.total = total

    def __call__(self, index: int, stem: str, kind: str, message: str, **extra: Any) -> None:
        if self.mode == "json":
            event = {"event": kind, "index": index, "total": self.total, "video": stem,
                     "message": message, **extra}
            print(json.dumps(event), flush=True)
        else:
            stream = sys.stderr if kind == "error" else sys.stdout
            prefix = {"warning": "warning: ", "error": "error: "}.get(kind, "")
            print(f"[{index}/{self.total}] {stem}: {prefix}{message}", file=stream, flush=True)


def run_batch(inputs: list[Path], out_dir: str | Path, settings: BatchSettings,
              *, run_engine: Callable[..., Path] | None = None,
              should_cancel: Callable[[], bool] | None = None) -> tuple[int, Path]:
    """Convert ``inputs`` into ``out_dir``; returns (exit code, path of report.json).

    Exit code 0 when every video is done or skipped, 1 when some failed.
    ``should_cancel`` is polled between steps and while building (pass the same
    to ``run_engine`` to stop the engine too): True stops the batch with a
    CancelledError once report.json says so; finished outputs are kept.
    """
    out_dir = output_folder(out_dir)
    with folder_lock(out_dir):
        return _run_videos(inputs, out_dir, settings, run_engine or default_run_engine,
                           should_cancel or (lambda: False))


@contextlib.contextmanager
def folder_lock(out_dir: Path) -> Iterator[None]:
    """Hold the output folder for one batch: a second batch there would delete the first's files.

    An OS file lock (``flock``; ``msvcrt.locking`` on Windows) on
    ``.blender-mocap/batch.lock``: the system releases it when the process
    ends, however it ends, so a crashed batch never leaves the folder locked.
    """
    fh = open(out_dir / STATE_DIR / "batch.lock", "a+b")
    try:
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise MocapError(f"another batch is writing into {out_dir}: wait for it to finish, "
                             "or choose another output folder") from exc
        yield
    finally:
        fh.close()


def _run_videos(inputs: list[Path], out_dir: Path, settings: BatchSettings,
                engine: Callable[..., Path], should_cancel: Callable[[], bool]) -> tuple[int, Path]:
    stems = dict(zip(inputs, output_stems(inputs)))
    return run_reported(
        inputs, out_dir, settings, noun="videos", name=stems.__getitem__, header={"settings": asdict(settings)},
        skip=lambda video: complete_outputs(video, out_dir, stems[video], settings) if video.is_file() else None,
        convert=lambda video, report, say: convert_one(video, stems[video], out_dir, settings, engine, report, say,
                                                       should_cancel))


def run_reported(items: list[Any], out_dir: Path, settings: BatchSettings, *, noun: str,
                 name: Callable[[Any], str], header: dict[str, Any],
                 skip: Callable[[Any], dict[str, str] | None],
                 convert: Callable[[Any, VideoReport, Callable[..., None]], None],
                 source: Callable[[Any], Path] = Path,
                 entry: Callable[[Any, VideoReport], dict[str, Any]] | None = None) -> tuple[int, Path]:
    """The loop of every batch: per item (a video path, a multi-camera take: each has a ``.name``), skip it
    when ``skip`` gives its complete outputs, else ``convert`` it (``source(item)``: the report's ``input``, the video
    or the take's folder); ``OUT/report.json`` (``header`` and, under ``noun``, one
    ``entry`` per item) is rewritten after each, so a batch stopped anywhere says how far it got.
    Returns (1 if any item failed else 0, the report's path); a CancelledError says what was kept."""
    progress = Progress(settings.progress, len(items))
    report_path = out_dir / "report.json"
    started = time.time()
    reports: list[tuple[Any, VideoReport]] = []

    def counts() -> dict[str, int]:
        return {s: sum(r.status == s for _, r in reports) for s in ("done", "skipped", "failed")}

    def save_report() -> None:
        entries = [entry(item, r) if entry else asdict(r) for item, r in reports]
        data = {"version": REPORT_VERSION, "started": started, "finished": time.time(), **header,
                "summary": counts(), noun: entries}
        write_text_atomic(report_path, json.dumps(data, indent=1, default=str))

    for index, item in enumerate(items, start=1):
        report = VideoReport(input=str(source(item)))
        reports.append((item, report))
        say = functools.partial(progress, index, name(item))
        if (done := skip(item)) is not None:
            report.status, report.outputs = "skipped", done
            say("skipped", "outputs are complete and newer than the input")
            save_report()
            continue
        try:
            convert_reported(report, say, functools.partial(convert, item, report, say))
        except CancelledError as exc:
            save_report()
            kept = sum(len(r.outputs) for _, r in reports if r.status != "skipped")
            raise CancelledError(f"batch cancelled at {item.name}: {exc}. {kept} finished output(s) were "
                                 f"kept and nothing half-written was left; see {report_path}") from exc
        save_report()
    save_report()
    n = counts()
    summary = (f"{len(reports)} {noun}: {n['done']} done, {n['skipped']} skipped, {n['failed']} failed; "
               f"report: {report_path}")
    print(json.dumps({"event": "summary", "message": summary, "report": str(report_path)})
          if settings.progress == "json" else summary, flush=True)
    return (1 if n["failed"] else 0), report_path


def convert_reported(report: VideoReport, say, convert: Callable[[], None]) -> None:
    """Run ``convert()`` for one item of a batch: ``report`` says done or failed (a MocapError, or anything
    unexpected: one broken item must not stop the batch) and the time taken, ``say`` tells the user.

    A CancelledError marks ``report`` cancelled and goes on to the caller, which stops the batch."""
    t0 = time.perf_counter()
    try:
        convert()
    except CancelledError as exc:
        report.status, report.error = "cancelled", str(exc)
        raise
    except MocapError as exc:
        report.status, report.error = "failed", str(exc)
        say("error", str(exc))
    except Exception as exc:  # noqa: BLE001 - one broken item must not stop the batch
        report.status, report.error = "failed", f"unexpected error: {exc!r}"
        say("error", report.error)
    else:
        report.status = "done"
        say("done", f"done in {time.perf_counter() - t0:.1f} s", outputs=report.outputs)
    report.timings["total"] = round(time.perf_counter() - t0, 3)


def convert_one(video: Path, stem: str, out_dir: Path, settings: BatchSettings, engine,
                report: VideoReport, say, should_cancel: Callable[[], bool]) -> None:
    """``video`` through ``engine`` into ``out_dir``'s files named ``stem``; fills ``report``, says progress."""
    if not video.is_file():
        raise MocapError(f"video not found: {video}")
    stopper(should_cancel)(f"starting {video.name}")
    scratch = out_dir / STATE_DIR / f"{stem}.{os.getpid()}.engine.npz"
    stage_started: dict[str, float] = {}
    last_percent = [-10]

    def on_event(event: dict) -> None:
        if event.get("event") == "stage":
            stage_started[str(event.get("stage"))] = time.perf_counter()
            say("stage", str(event.get("message", event.get("stage"))), stage=event.get("stage"))
        elif event.get("event") == "warning":
            report.warnings.append(str(event.get("message")))
            say("warning", str(event.get("message")))
        elif event.get("event") == "progress":
            percent = int(100 * float(event.get("fraction") or 0.0))
            if settings.progress == "json" or percent >= last_percent[0] + 10:
                last_percent[0] = percent - percent % 10
                say("progress", f"{percent}% {event.get('stage')} {event.get('done')}/{event.get('total')}",
                    fraction=event.get("fraction"))

    t0 = time.perf_counter()
    try:
        engine(settings.python(), str(video), scratch, settings.engine_args(), on_event=on_event)
        engine_end = time.perf_counter()
        order = sorted(stage_started.items(), key=lambda kv: kv[1])
        for (name, start), nxt in zip(order, [s for _, s in order[1:]] + [engine_end]):
            report.timings[f"engine_{name}"] = round(nxt - start, 3)
        report.timings["engine"] = round(engine_end - t0, 3)
        if settings.people == "all":  # everyone: blender_mocap.people (it removes the engine's files)
            return export_people(video, stem, out_dir, settings, person_files(scratch), report, say,
                                 build_progress(say, 10), should_cancel)
        _build_and_export(video, stem, out_dir, settings, scratch, report, say, should_cancel)
    finally:
        scratch.unlink(missing_ok=True)


def _build_and_export(video: Path, stem: str, out_dir: Path, settings: BatchSettings, scratch: Path,
                      report: VideoReport, say, should_cancel: Callable[[], bool]) -> None:
    """The engine's motion file ``scratch`` built into a fresh file and written in every format.

    A cancel (Ctrl-C, SIGTERM) is honoured between any two steps, during the build,
    and before an export's file is renamed into place: outputs finished before it stay."""
    import bpy

    from ..core.motion import read_motion
    from .retarget.job import retarget_take
    from .scene import build_take
    from .take import record_motion_file

    stop = stopper(should_cancel)
    stop(f"reading {video.name}'s motion")
    motion = read_motion(scratch)
    report.frames = motion.num_frames
    report.quality = {k: float(v) for k, v in motion.quality.items()}
    t = time.perf_counter()
    bpy.ops.wm.read_homefile(use_empty=True)
    options = BuildOptions(ground=settings.ground, correctives=settings.correctives,
                           smplx_dir=settings.smplx_dir or "")
    say("stage", f"building the take ({motion.num_frames} frames)", stage="building")
    take = build_take(bpy.context, motion, name=stem, video_path=str(video.resolve()), options=options,
                      progress=build_progress(say, 1 if settings.progress == "json" else 10),
                      should_cancel=should_cancel)
    report.warnings += take.warnings
    report.timings["build"] = round(time.perf_counter() - t, 3)
    if "npz" in settings.outputs:
        record_motion_file(take, out_dir / f"{stem}.npz")
    if settings.retarget_target:  # exports then hold the character
        take = retarget_take(take, settings.retarget_target, settings.retarget_preset, report.warnings)
    for fmt in settings.outputs:
        t = time.perf_counter()
        final = out_dir / f"{stem}.{fmt}"
        stop(f"writing {final.name}")
        if fmt == "npz":
            copy_atomic(scratch, final)
        else:
            export_take(fmt, take, final, should_cancel=should_cancel)
        report.outputs[fmt] = str(final)
        report.timings[f"export_{fmt}"] = round(time.perf_counter() - t, 3)
        say("output", f"wrote {final}", format=fmt, path=str(final))
    write_text_atomic(manifest_path(out_dir, stem), manifest(video, settings, report.outputs))


def build_file(motion_path: str | os.PathLike[str], out: str | os.PathLike[str], *,
               video_path: str | None = None, name: str | None = None,
               options: BuildOptions | None = None, progress: Callable[[float, str], None] | None = None,
               should_cancel: Callable[[], bool] | None = None) -> Path:
    """Read a motion file, build its take into a fresh empty file and save it as ``out``.

    The .blend is saved under a temporary name next to ``out`` and renamed, so
    an interrupted run never leaves a half-written file. ``progress`` and
    ``should_cancel``: see ``scene.build_take`` (a cancel during the save drops
    the file too). Returns ``out``.
    """
    import bpy

    from ..core.motion import read_motion
    from .scene import build_take
    from .take import record_motion_file

    motion_path = Path(motion_path)
    out = Path(out)
    motion = read_motion(motion_path)
    if video_path is None and motion.source_video and os.path.isfile(motion.source_video):
        video_path = motion.source_video
    if name is None:
        name = Path(motion.source_video).stem if motion.source_video else motion_path.stem
    bpy.ops.wm.read_homefile(use_empty=True)
    take = build_take(bpy.context, motion, name=name,
                      video_path=str(Path(video_path).resolve()) if video_path else None, options=options,
                      progress=progress, should_cancel=should_cancel)
    record_motion_file(take, motion_path)
    for warning in take.warnings:
        print(f"{name}: warning: {warning}", flush=True)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MocapError(f"cannot create the folder {out.parent}: {exc.strerror}") from exc
    export_take("blend", take, out, should_cancel=should_cancel)
    return out
