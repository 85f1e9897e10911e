"""A clip of several people (``CrowdSpec``): one scene, one camera, each person's truth.

Person 0 is the spec's own motion and fills the single-person keys of
``truth.npz`` (:mod:`groundtruth.truth`), so every single-person benchmark
runs on a crowd clip unchanged; the ``people_*`` keys hold everyone (P people,
person 0 first; T frames; camera frame as in :mod:`groundtruth.truth`):

=======================  =============  ==============================================
key                      shape          meaning
=======================  =============  ==============================================
``people_motions``       (P,) str       DeepMimic motion of each person
``people_limb_cam``      (P, T, 12, 3)  limb joints, camera frame, metres
``people_limb_2d``       (P, T, 12, 2)  their projection, pixels
``people_joints_cam``    (P, T, J, 3)   every joint (``joint_names``), metres
``people_pelvis_2d``     (P, T, 2)      mid-hip projected, pixels
``people_pelvis_depth``  (P, T)         mid-hip depth along the camera axis, metres
``people_occluded``      (P, T)         share of the 12 limb joints hidden behind a
                                        nearer person's limbs or trunk (2D capsules
                                        of 0.12 m radius)
``people_in_view``       (P, T) bool    mid-hip inside the image
=======================  =============  ==============================================

Each person wears other colours (shirt, trousers, hair), as passers-by do.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .body import build_body
from .bvh import Bvh, blender_from_bvh, bvh_forward_kinematics, resample, write_bvh
from .camera import choose_camera, intrinsics, project, transform
from .clips import LIMB_JOINTS, CrowdSpec, RenderSettings
from .deepmimic import SOLE_BELOW_GROUND
from .truth import TRUTH_FILE, VIDEO_FILE, _fk_error, _render, _Scene, _truth, _write_video

CLOTHES: tuple[dict[str, tuple[float, float, float]], ...] = (
    {},
    {"shirt": (0.16, 0.45, 0.22), "jeans": (0.35, 0.33, 0.30), "hair": (0.55, 0.42, 0.22)},
    {"shirt": (0.85, 0.75, 0.20), "jeans": (0.08, 0.08, 0.09), "hair": (0.05, 0.04, 0.04)},
)
"""Material colours that differ from ``body.MATERIALS``, per person."""
OCCLUDER_RADIUS = 0.12
"""Metres: the half-width of a limb or trunk that hides what is behind it (a coarse silhouette)."""


def _person(k: int, spec: CrowdSpec, source: Bvh, start: float, work: Path) -> _Scene:
    """Person ``k``'s excerpt, body (in their colours) and joints in Blender's world; camera left unset."""
    rig = spec.rig
    excerpt, times = resample(source, start, spec.frames, spec.fps)
    (work / f"excerpt_{k}.bvh").write_text(write_bvh(excerpt))
    world = blender_from_bvh(bvh_forward_kinematics(excerpt), rig.scale)
    rest = blender_from_bvh(bvh_forward_kinematics(excerpt, np.zeros((1, excerpt.frames.shape[1])))[0], rig.scale)
    body = build_body(rest, excerpt, rig)
    colors = body["material_colors"].copy()
    for name, color in CLOTHES[k % len(CLOTHES)].items():
        colors[list(body["materials"]).index(name)] = color
    np.savez(work / f"body_{k}.npz", **{**body, "material_colors": colors})
    foot_idx = [excerpt.index(n) for n in (rig.limbs["left_ankle"], rig.toes[0],
                                           rig.limbs["right_ankle"], rig.toes[1])]
    return _Scene(excerpt, times, world, foot_idx, -SOLE_BELOW_GROUND, np.eye(4))


def occluded_share(limb_2d: np.ndarray, depth: np.ndarray, joints_2d: np.ndarray, joints_depth: np.ndarray,
                   bones: list[tuple[int, int]], focal: float) -> np.ndarray:
    """Share (T,) of one person's limb joints hidden by another person.

    ``limb_2d`` (T, L, 2) pixels and ``depth`` (T, L) metres: the joints that may be hidden;
    ``joints_2d`` (T, J, 2) / ``joints_depth`` (T, J): the other person's joints; ``bones``: their
    (parent, child) pairs. A joint is hidden when it lies within ``OCCLUDER_RADIUS`` (in pixels at the
    bone's depth) of a bone that is nearer the camera than the joint.
    """
    a = joints_2d[:, [b[0] for b in bones]][:, None]          # (T, 1, B, 2)
    b = joints_2d[:, [b[1] for b in bones]][:, None]
    bone_depth = 0.5 * (joints_depth[:, [x[0] for x in bones]] + joints_depth[:, [x[1] for x in bones]])
    p = limb_2d[:, :, None]                                   # (T, L, 1, 2)
    ab = b - a
    w = np.clip(np.sum((p - a) * ab, -1) / np.maximum(np.sum(ab * ab, -1), 1e-9), 0.0, 1.0)
    dist = np.linalg.norm(p - (a + w[..., None] * ab), axis=-1)     # (T, L, B)
    radius = (OCCLUDER_RADIUS * focal / np.maximum(bone_depth, 1e-3))[:, None]
    hidden = (dist < radius) & (bone_depth[:, None] < depth[:, :, None])
    return hidden.any(-1).mean(-1)


def _people_truth(spec: CrowdSpec, settings: RenderSettings, people: list[_Scene], cam: np.ndarray) -> dict:
    """The ``people_*`` arrays (see the module docstring)."""
    K = intrinsics(settings.width, settings.height, settings.hfov_degrees)
    excerpt = people[0].excerpt
    limb_idx = [excerpt.index(spec.rig.limbs[n]) for n in LIMB_JOINTS]
    joints = np.stack([transform(cam, p.world) for p in people])            # (P, T, J, 3)
    limbs = joints[:, :, limb_idx]
    hips = [LIMB_JOINTS.index("left_hip"), LIMB_JOINTS.index("right_hip")]
    pelvis = limbs[:, :, hips].mean(2)
    pelvis_2d = project(pelvis, K)
    bones = [(p, j) for j, p in enumerate(excerpt.parents) if p >= 0]
    joints_2d = project(joints, K)
    occluded = np.zeros(limbs.shape[:2])
    for i in range(len(people)):
        for j in range(len(people)):
            if i != j:
                occluded[i] = np.maximum(occluded[i], occluded_share(
                    project(limbs[i], K), limbs[i, ..., 2], joints_2d[j], joints[j, ..., 2], bones, K[0, 0]))
    in_view = ((pelvis_2d >= 0) & (pelvis_2d < [settings.width, settings.height])).all(-1) & (pelvis[..., 2] > 0)
    return {
        "people_motions": np.array([spec.bvh] + [w.motion for w in spec.others]),
        "people_limb_cam": limbs, "people_limb_2d": project(limbs, K), "people_joints_cam": joints,
        "people_pelvis_2d": pelvis_2d, "people_pelvis_depth": pelvis[..., 2], "people_occluded": occluded,
        "people_in_view": in_view,
    }


def make_crowd_clip(spec: CrowdSpec, sources: list[Bvh], settings: RenderSettings, work: Path, *,
                    python: str | None = None, log=print) -> dict:
    """Render ``spec`` (``sources``: each person's source BVH, person 0 first) into the empty folder ``work``.

    As :func:`groundtruth.truth.make_clip`, with everyone in one scene: the
    camera frames all of them from person 0's front (+azimuth), the FK
    cross-check holds for each person, and ``truth.npz`` adds the ``people_*``
    keys. Returns what ``meta.json`` adds.
    """
    work = work.resolve()
    (work / "frames").mkdir(parents=True, exist_ok=True)
    starts = [spec.start_seconds] + [w.start_seconds for w in spec.others]
    people = [_person(k, spec, src, start, work) for k, (src, start) in enumerate(zip(sources, starts))]
    everyone = np.concatenate([p.world for p in people], axis=1)   # person 0's joints first: its indices hold
    cam = choose_camera(everyone, people[0].excerpt, spec.rig, spec, settings, people[0].floor)
    people = [dataclasses.replace(p, cam_from_world=cam) for p in people]
    files = [{"bvh": str(work / f"excerpt_{k}.bvh"), "body": str(work / f"body_{k}.npz")} for k in range(len(people))]
    (work / "excerpt.bvh").write_text((work / "excerpt_0.bvh").read_text())
    log(f"rendering {spec.name}: {len(people)} people, {spec.frames} frames, {settings.width}x{settings.height}, "
        f"{settings.engine}")
    render_seconds = _render(spec, settings, people[0], work, python, people=files)
    fk_error = _fk_error(spec, people[0], work)
    check = np.load(work / "blender_joints.npz")
    names = [str(n) for n in check["names"]]
    for k, p in enumerate(people[1:], 1):
        ours = p.world[:, [p.excerpt.index(n) for n in names]]
        err = float(np.abs(check[f"heads_{k}"] - ours).max())
        if err > 1e-3:
            raise RuntimeError(f"{spec.name}: person {k}'s posed joints differ from the BVH FK by {err * 1000:.2f} mm")
        fk_error = max(fk_error, err)
    _write_video(work / "frames", work / VIDEO_FILE, spec.fps, spec.frames)
    truth = {**_truth(spec, settings, people[0]), **_people_truth(spec, settings, people, cam)}
    np.savez(work / TRUTH_FILE, **truth)
    return {"render_seconds": render_seconds, "fk_check_max_error_m": fk_error, "people": len(people),
            "camera_distance_m": float(np.linalg.norm(truth["limb_cam"].mean((0, 1))))}
