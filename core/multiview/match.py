"""Which detected person in one view is which in another: epipolar consistency of their keypoints over time.

For calibrated cameras, the same person's keypoints in two views lie on each
other's epipolar lines in every frame; another person's do not (except by
chance in a frame or two, hence the median over the whole clip). Views are
added one by one; each is assigned to the groups built so far by the
Hungarian method on the mean Sampson distance to a group's members.
"""

from __future__ import annotations

import numpy as np

from ..errors import MocapError
from ..landmarks import PoseSequence
from .epipolar import fundamental_from_points, fundamental_from_rig, sampson_distance
from .rig import CameraRig

MATCH_FRACTION = 0.015
"""Median Sampson distance up to which two detections match (fraction of the larger image diagonal: 33 px at 1080p)."""
MIN_CONFIDENCE = 0.5
MIN_PAIRS = 10


def _keypoints(person: PoseSequence | np.ndarray) -> np.ndarray:
    """(T, J, 3) pixels + confidence of one person in one view (an array (T, J, 2) gets confidence 1)."""
    body = person.body_2d if isinstance(person, PoseSequence) else np.asarray(person, np.float64)
    if body.ndim != 3 or body.shape[-1] not in (2, 3):
        raise MocapError(f"person matching: keypoints of shape {body.shape}, expected (T, J, 2) or (T, J, 3)")
    if body.shape[-1] == 2:
        body = np.concatenate([body, np.ones(body.shape[:-1] + (1,))], -1)
    return np.asarray(body, np.float64)


def _pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x1, x2) (N, 2) pixels: the keypoints both people (T, J, 3) show confidently, paired."""
    if a.shape != b.shape:
        raise MocapError(f"person matching: keypoints {a.shape} and {b.shape} differ: put the views on one time "
                         "base first")
    both = (np.nan_to_num(a[..., 2]) >= MIN_CONFIDENCE) & (np.nan_to_num(b[..., 2]) >= MIN_CONFIDENCE)
    both &= np.isfinite(a[..., :2]).all(-1) & np.isfinite(b[..., :2]).all(-1)
    return a[..., :2][both], b[..., :2][both]


def _median_distance(distances: np.ndarray) -> float:
    """The median of Sampson distances, inf where it is not a number (degenerate pairs): no agreement to judge
    by is never a match."""
    median = float(np.median(distances))
    return median if np.isfinite(median) else np.inf


def _distance(F: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Median Sampson distance (pixels) of two people's confident keypoints; inf when they share too few."""
    x1, x2 = _pairs(a, b)
    return _median_distance(sampson_distance(F, x1, x2)) if len(x1) >= MIN_PAIRS else np.inf


def match_people(per_view: list[list[PoseSequence | np.ndarray]], rig: CameraRig, *,
                 match_fraction: float = MATCH_FRACTION) -> list[list[int | None]]:
    """Groups of detections showing the same person: each group lists, per view, a person index or None.

    ``per_view[c]`` holds the people found in view c (PoseSequences, or
    (T, J, 2|3) keypoint arrays on the common time base). Every detection
    lands in exactly one group; a person seen by one view only is a group of
    one.
    """
    # Imported here: capture_multi imports this module where SciPy is absent (the Blender-side option checks).
    from scipy.optimize import linear_sum_assignment

    C = rig.num_cameras
    if len(per_view) != C:
        raise MocapError(f"person matching: {len(per_view)} views of people for a rig of {C} cameras")
    people = [[_keypoints(p) for p in view] for view in per_view]
    diagonals = np.linalg.norm(rig.image_sizes.astype(np.float64), axis=1)
    groups: list[list[int | None]] = []
    for v in range(C):
        cost = np.full((len(groups), len(people[v])), np.inf)
        for g, group in enumerate(groups):
            for q, person in enumerate(people[v]):
                found = [_distance(fundamental_from_rig(rig, u, v), people[u][p], person)
                         for u, p in enumerate(group) if p is not None]
                finite = [d for d in found if np.isfinite(d)]
                cost[g, q] = np.mean(finite) if finite else np.inf
        limit = match_fraction * max(diagonals[v], diagonals.max())
        taken: set[int] = set()
        if cost.size:
            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e12))
            for g, q in zip(rows, cols):
                if cost[g, q] <= limit:
                    groups[g][v] = int(q)
                    taken.add(int(q))
        for q in range(len(people[v])):
            if q not in taken:
                groups.append([None] * C)
                groups[-1][v] = q
    return groups


def strangers(views: list[PoseSequence | np.ndarray], rig: CameraRig, *,
              match_fraction: float = MATCH_FRACTION) -> list[int]:
    """The views (indices 1..) whose one person is not view 0's: their keypoints stay off the epipolar lines of
    view 0's person (``match_people`` with one person per view). Each view's pose stage follows its own person
    (its most prominent one, where several are in view); a view that followed someone else would pull the
    fit and the triangulation towards another body."""
    groups = match_people([[view] for view in views], rig, match_fraction=match_fraction)
    first = next(group for group in groups if group[0] is not None)
    return [v for v in range(1, len(views)) if first[v] is None]


FIT_MIN_PAIRS = 40
"""Fewest confident keypoint pairs over which ``agreement`` fits the two views' geometry itself (no rig yet)."""
FIT_LIMIT_SHARE = 0.4
"""Share of ``same_person``'s limit a person must stay within under a geometry fitted to their own pairs."""
FIT_MARGIN = 0.5
"""Under geometries fitted to each candidate's own pairs, the best must agree within this share of the next
best's distance. Over 20 frames two people who move alike fit nearly as well: on the four-phone take's camera 1
with a bystander pasted in (the performer 40 frames later, 1.3-1.5x larger; scratch), 1.5-2.0 px for the bystander
against 1.6-2.4 for the performer (under the true rig: 36-58 px against 1.7). Then the video keeps its own choice."""


def agreement(reference: PoseSequence | np.ndarray, candidate: PoseSequence | np.ndarray,
              F: np.ndarray | None = None) -> float:
    """Median Sampson distance (pixels) of two views' people over the frames both show (both (T, J, 2|3)
    on one time base): under ``F`` (the rig's, ``x_candidate^T F x_reference = 0``), or, with no rig yet, under
    the fundamental matrix fitted robustly to their own keypoint pairs: one person's keypoints over moving
    frames fit one two-view geometry, another person's, moving otherwise, do not. inf when they share too
    few confident keypoints."""
    a, b = _keypoints(reference), _keypoints(candidate)
    if F is not None:
        return _distance(F, a, b)
    x1, x2 = _pairs(a, b)
    if len(x1) < FIT_MIN_PAIRS:
        return np.inf
    return _median_distance(sampson_distance(fundamental_from_points(x1, x2), x1, x2))


def same_person(reference: PoseSequence | np.ndarray, candidates: list[PoseSequence | np.ndarray], limit: float,
                F: np.ndarray | None = None) -> int | None:
    """The index of the one of ``candidates`` (the people another view finds) that is ``reference`` (the
    person one view follows): the best ``agreement`` within ``limit`` pixels, whichever is the most prominent
    in its view; None when none agrees. Without ``F`` the limit is ``FIT_LIMIT_SHARE`` of ``limit``: a geometry
    fitted to the pairs themselves comes closer to them than a rig's, also to another person's (on the tests'
    two synthetic people 90 degrees apart, 20 frames: 1.3 px for the same person, 15-21 px for the other,
    against 1.3 and 60-99 px under the rig's), and the best must also come within ``FIT_MARGIN`` of the
    next best."""
    costs = [agreement(reference, candidate, F) for candidate in candidates]
    if not costs:
        return None
    best = int(np.argmin(costs))
    if costs[best] > limit * (1.0 if F is not None else FIT_LIMIT_SHARE):
        return None
    others = [c for q, c in enumerate(costs) if q != best]
    return best if F is not None or not others or costs[best] <= FIT_MARGIN * min(others) else None
