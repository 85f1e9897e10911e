"""Where the source motion and the rendered clips live, and when a clip is rendered again.

Cache: ``$BLENDER_MOCAP_CACHE/bench/`` (default
``~/.local/share/blender-mocap/cache/bench/``): ``deb/`` holds the
``assimp-testmodels`` package (fetched with ``apt-get download``, no root
install, unpacked with ``dpkg-deb -x``), ``pybullet/`` the DeepMimic motions
(:func:`groundtruth.deepmimic.motion_folder`), ``clips/<name>-<key>/`` one rendered
clip (:mod:`groundtruth.truth` for its files). The key (:func:`clip_key`) is a
hash of everything that changes the pixels or the truth: the ``ClipSpec``
(window, rig, camera azimuth, shot), the ``RenderSettings`` and
``RENDER_VERSION``; fields set to ``None`` are left out, so a field added with
the default ``None`` does not render the existing clips again. It does not hash
any source file: bump ``RENDER_VERSION`` when the body, the scene or the truth
computation changes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from .bvh import Bvh, parse_bvh
from .clips import DEEPMIMIC_RIG, ClipSpec, CrowdSpec, RenderSettings
from .crowd import make_crowd_clip
from .deepmimic import motion_folder, source_bvh
from .truth import TRUTH_FILE, VIDEO_FILE, Clip, make_clip

RENDER_VERSION = 4
"""Bump when the body, scene or truth computation changes: it is part of the cache key."""

PACKAGE = "assimp-testmodels"
BVH_DIR = "usr/share/assimp/models/BVH"


def cache_root() -> Path:
    """``$BLENDER_MOCAP_CACHE/bench`` (default ``~/.local/share/blender-mocap/cache/bench``)."""
    base = os.environ.get("BLENDER_MOCAP_CACHE")
    root = Path(base) if base else Path.home() / ".local" / "share" / "blender-mocap" / "cache"
    path = root / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def bvh_folder(log=print) -> Path:
    """The unpacked ``assimp-testmodels`` BVH folder, fetched once with apt-get download."""
    deb_dir = cache_root() / "deb"
    target = deb_dir / "x" / BVH_DIR
    if (target / "01_03.bvh").is_file():
        return target
    deb_dir.mkdir(parents=True, exist_ok=True)
    debs = sorted(deb_dir.glob(f"{PACKAGE}_*.deb"))
    if not debs:
        log(f"fetching the {PACKAGE} Debian package (CMU BVH motion capture)")
        cmd = ["apt-get", "download", PACKAGE]
        if subprocess.run(cmd, cwd=deb_dir).returncode != 0:
            subprocess.run(["apt-get", "update"], check=False)
            subprocess.run(cmd, cwd=deb_dir, check=True)
        debs = sorted(deb_dir.glob(f"{PACKAGE}_*.deb"))
        if not debs:
            raise RuntimeError(f"apt-get download {PACKAGE} left no .deb in {deb_dir}")
    partial = deb_dir / "x.partial"
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(partial)], check=True)
    shutil.rmtree(deb_dir / "x", ignore_errors=True)
    partial.rename(deb_dir / "x")
    return target


def clip_key(spec: ClipSpec, settings: RenderSettings) -> str:
    """12 hex digits naming a rendered clip's folder (see the module docstring)."""
    blob = json.dumps({"spec": _set_fields(spec), "render": _set_fields(settings), "version": RENDER_VERSION},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _set_fields(obj) -> dict:
    """``dataclasses.asdict(obj)`` without its top-level fields that are ``None``."""
    return {k: v for k, v in dataclasses.asdict(obj).items() if v is not None}


def clip_folder(spec: ClipSpec, settings: RenderSettings) -> Path:
    """``clips/<name>-<key>`` in the cache: the clip's folder, whether it is rendered yet or not."""
    return cache_root() / "clips" / f"{spec.name}-{clip_key(spec, settings)}"


def _span(spec: ClipSpec) -> float:
    """Seconds from a clip's first frame to its last."""
    return (spec.frames - 1) / spec.fps


def source_motion(spec: ClipSpec, log=print) -> Bvh:
    """The source BVH of ``spec``'s (first) person: a file of the assimp package, or DeepMimic motion made
    into a BVH on the video's frame grid up to the clip's end (:mod:`groundtruth.deepmimic`)."""
    if spec.rig == DEEPMIMIC_RIG:
        return source_bvh(motion_folder(cache_root(), log), spec.bvh, spec.start_seconds + _span(spec), spec.fps)
    return parse_bvh((bvh_folder(log) / spec.bvh).read_text())


def prepare_clip(spec: ClipSpec, settings: RenderSettings = RenderSettings(), *, python: str | None = None,
                 log=print) -> Clip:
    """The rendered clip and its ground truth, from the cache or made now (minutes)."""
    folder = clip_folder(spec, settings)
    video = folder / VIDEO_FILE
    if (folder / TRUTH_FILE).is_file() and video.is_file():
        truth = dict(np.load(folder / TRUTH_FILE, allow_pickle=False))
        return Clip(spec, folder, video, truth, json.loads((folder / "meta.json").read_text()))

    work = folder.with_name(folder.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    source = source_motion(spec, log)
    if isinstance(spec, CrowdSpec):
        sources = [source] + [source_bvh(motion_folder(cache_root(), log), w.motion, w.start_seconds + _span(spec),
                                         spec.fps, heading_degrees=w.heading_degrees, offset=w.offset)
                              for w in spec.others]
        made = make_crowd_clip(spec, sources, settings, work, python=python, log=log)
    else:
        made = make_clip(spec, source, settings, work, python=python, log=log)
    meta = {"spec": dataclasses.asdict(spec), "render": dataclasses.asdict(settings), "version": RENDER_VERSION,
            **made}
    (work / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
    shutil.rmtree(folder, ignore_errors=True)
    work.rename(folder)
    return prepare_clip(spec, settings, python=python, log=log)
