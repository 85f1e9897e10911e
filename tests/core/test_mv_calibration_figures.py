"""The multi-view benchmark's calibration figures (bench/multiview.py) on rigs whose errors are known.

A calibration of four cameras judged whole (one similarity for the whole rig) reads worse than a pair of
them judged alone, however good each camera is; ``pair_figures`` judges a larger rig pair by pair, like for
like with the pairs calibrated alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import multiview as mv_bench  # noqa: E402

from core.multiview.compare import rig_errors  # noqa: E402
from core.multiview.rig import CameraRig  # noqa: E402
from core.rotations import axis_angle_to_matrix  # noqa: E402
from tests.testdata.multiview_scenes import look_at_rig, ring  # noqa: E402


def four_phones() -> CameraRig:
    return look_at_rig(ring(4, 270.0, heights=np.array([1.5, 0.8, 2.0, 1.2])))


def moved(rig: CameraRig, scale: float, turn: np.ndarray, shift: np.ndarray) -> CameraRig:
    """The same rig in another world: x_new = scale * Q x + shift."""
    Q = axis_angle_to_matrix(turn)
    R = rig.R @ Q.T
    t = scale * rig.t - np.einsum("cij,j->ci", R, shift)
    return CameraRig(rig.names, rig.K, R, t, rig.image_sizes, rig.world_up)


def test_pair_by_pair_a_rig_in_another_world_is_exact_and_a_turned_camera_shows_in_its_own_pairs() -> None:
    truth = four_phones()
    same = moved(truth, 0.7, np.array([0.1, -0.3, 0.2]), np.array([0.5, -1.0, 2.0]))
    exact = mv_bench.pair_figures(same, truth, (0, 1, 2, 3))
    assert sorted(exact) == ["01", "03", "12", "23"]
    assert max(max(v) for v in exact.values()) < 1e-3
    R = same.R.copy()
    R[2] = axis_angle_to_matrix(np.radians([0.0, 2.0, 0.0])) @ R[2]  # camera 2 turned 2 degrees
    turned = CameraRig(same.names, same.K, R, same.t, same.image_sizes, same.world_up)
    pairs = mv_bench.pair_figures(turned, truth, (0, 1, 2, 3))
    assert pairs["01"] == (0.0, 0.0) and pairs["03"] == (0.0, 0.0)
    assert pairs["12"][1] > 0.5 and pairs["23"][1] > 0.5
    # A triple's pairs keep the take's numbering: cameras 1, 2, 3 hold pairs 12 and 23 only.
    assert sorted(mv_bench.pair_figures(mv_bench.sub_rig(turned, [1, 2, 3]), mv_bench.sub_rig(truth, [1, 2, 3]),
                                        (1, 2, 3))) == ["12", "23"]


def test_an_opposite_pair_turned_about_its_axis_reads_worse_whole_than_pair_by_pair() -> None:
    """Cameras 0 and 2 (facing each other across the ring) and what they film turned 2 degrees about the line
    joining them, against cameras 1 and 3: the error the take's four-camera calibration from the person shows
    (its cameras 0 and 2 rolled +1.9 and -2.1 degrees about their own axes, 1 and 3 0.6-0.7 degrees off). Judged
    whole, one similarity for the four, the rolls stay in full (1.9 degrees, 2.4 cm); each neighbouring pair
    judged alone, as a pair calibrated alone is, reads 1.5 degrees and 1.2-1.3 cm."""
    truth = four_phones()
    centres = truth.centres()
    axis = centres[2] - centres[0]
    axis[2] = 0.0
    Q = axis_angle_to_matrix(np.radians(2.0) * axis / np.linalg.norm(axis))
    middle = np.array([0.0, 0.0, 1.0])
    R, t = truth.R.copy(), truth.t.copy()
    for c in (0, 2):
        R[c] = truth.R[c] @ Q.T
        t[c] = -R[c] @ (Q @ (centres[c] - middle) + middle)
    turned = CameraRig(truth.names, truth.K, R, t, truth.image_sizes, truth.world_up)
    centre, orient, _ = rig_errors(turned, truth)
    pairs = mv_bench.pair_figures(turned, truth, (0, 1, 2, 3))
    assert float(orient.max()) > 1.8 and 100 * float(centre.max()) > 2.3
    assert max(v[1] for v in pairs.values()) < 1.6 and max(v[0] for v in pairs.values()) < 1.4
