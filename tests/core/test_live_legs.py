"""Live capture undoes MediaPipe's brief swaps of the two lower legs as they come (issue 19: the demo's side-step
along the box, frames 111-120, where MediaPipe gave the left foot and knee the right one's place and the stream's
ankles were 250-330 mm off the offline take's): ``core.live.sides.CausalLegSwaps``, in the live solve."""

from __future__ import annotations

import numpy as np

from core.landmarks import LEGS, PoseSequence
from core.live.sides import CausalLegSwaps
from tests.core.test_landmarks_leg_swaps import _swap_legs, _walk

LEFT, RIGHT = LEGS["left"], LEGS["right"]


def _frames(seq: PoseSequence):
    """The one-frame sequences of ``seq``, as the live engine hands them over."""
    for i in range(seq.num_frames):
        yield i, PoseSequence(**{k: (v[i:i + 1].copy() if isinstance(v, np.ndarray) and v.ndim and k != "image_size"
                                     else v) for k, v in vars(seq).items()})


def _repaired(seq: PoseSequence, fix: CausalLegSwaps) -> tuple[list[int], np.ndarray]:
    """(frames swapped back, the image landmarks after the repair) of ``seq`` fed to ``fix`` one frame at a time."""
    swapped, out = [], []
    for i, one in _frames(seq):
        if fix(one, i / seq.fps):
            swapped.append(i)
        out.append(one.body_2d[0])
    return swapped, np.stack(out)


def test_legs_swapped_for_three_frames_are_put_back_as_they_come_and_no_other_frame_touched() -> None:
    truth = _walk()
    swapped, body = _repaired(_swap_legs(truth, slice(20, 23)), CausalLegSwaps())
    assert swapped == [20, 21, 22]
    np.testing.assert_array_equal(body, truth.body_2d)


def test_a_crossing_step_is_kept_and_a_swap_on_it_undone() -> None:
    """The left foot steps past the right one (340 -> 460 px over frames 12-24): no swap; the labels swapped on
    frames 13-15 of it are put back, the step kept."""
    truth = _walk(cross=True)
    assert _repaired(truth, CausalLegSwaps())[0] == []
    swapped, body = _repaired(_swap_legs(truth, slice(13, 16)), CausalLegSwaps())
    assert swapped == [13, 14, 15]
    np.testing.assert_array_equal(body, truth.body_2d)


def test_a_swap_that_lasts_is_taken_as_the_legs_labels() -> None:
    """Labels swapped from frame 10 on: put back for half a second, then taken as they are (the person's)."""
    truth = _walk(60)
    swapped, _ = _repaired(_swap_legs(truth, slice(10, 60)), CausalLegSwaps(max_swap_seconds=0.5))
    assert swapped == list(range(10, 26))


def test_the_live_solve_gives_the_legs_their_own_places_where_mediapipe_swapped_them() -> None:
    """A synthetic person walking before the camera, exact landmarks, the lower legs' labels swapped on frames
    20-22: the live stream's knees and ankles there are where the person's are (without the repair, each one is
    on the other leg's place)."""
    from core.body.mannequin import forward_kinematics
    from core.live.solver import LiveSolver
    from core.skeleton import JOINT_INDEX
    from tests.core.test_live import solved_frames
    from tests.testdata.clips import CAMERA_K, mannequin_clip

    poses, trans, rest, truth = mannequin_clip(30, np.random.default_rng(4), hands=False, world_axes="view")
    legs = [JOINT_INDEX[f"{side}_{part}"] for side in ("left", "right") for part in ("knee", "ankle")]
    errors = {}
    for repair in (True, False):
        solver = LiveSolver(CAMERA_K, np.array([0.0, -1.0, 0.0]), smoothing=0.0, warmup_frames=5, repair_legs=repair)
        errors[repair] = []
        for i, solved in solved_frames(solver, _swap_legs(truth, slice(20, 23))):  # repaired in place: a copy each
            if i not in (20, 21, 22):
                continue
            E = solver.camera_extrinsics(solved.camera_height)
            got, _ = forward_kinematics(solved.poses.reshape(1, 55, 3).astype(np.float64), solver.rest_joints,
                                        solved.trans[None].astype(np.float64))
            got = got[0] @ E[:3, :3].T + E[:3, 3]  # back into the camera frame
            want, _ = forward_kinematics(poses[i:i + 1], rest, trans[i:i + 1])
            errors[repair].append(np.linalg.norm(got[legs] - want[0, legs], axis=-1))
    assert np.max(errors[True]) < 0.01
    assert np.median(errors[False]) > 0.05


def test_someone_found_elsewhere_keeps_the_legs_mediapipe_gives_them() -> None:
    """The tracker goes to someone standing 150 px higher in the picture (further back) whose legs lie the other
    way round from the last person's: the whole-body repair starts afresh there (their labelling as given), and so does the legs' (before,
    their legs were swapped to match the last person's places on every frame until the swap outlasted 0.5 s)."""
    from core.live.solver import LiveSolver
    from tests.testdata.clips import CAMERA_K, mannequin_clip

    _, _, _, first = mannequin_clip(40, np.random.default_rng(4), hands=False, world_axes="view")
    other = _swap_legs(first, slice(0, 40))  # their own labels: what MediaPipe gives must be kept
    other.body_2d[..., 1] -= 150.0
    solver = LiveSolver(CAMERA_K, np.array([0.0, -1.0, 0.0]), smoothing=0.0, warmup_frames=5)
    changed = []
    for i in range(40):
        seq, j = (first, i) if i < 20 else (other, i)
        one = PoseSequence(**{k: (v[j:j + 1].copy() if isinstance(v, np.ndarray) and v.ndim and k != "image_size"
                                  else v) for k, v in vars(seq).items()})
        given = one.body_2d[0].copy()
        if solver.ready:
            solver.solve(one, i / 30.0)
        else:
            solver.warm_up(one, i / 30.0)
        if not np.array_equal(one.body_2d[0], given):
            changed.append(i)
    assert changed == []


def test_legs_together_in_the_picture_keep_the_labels_mediapipe_gives() -> None:
    """Legs 10 px apart (the feet side by side, seen from the front): which is which says nothing, so the live
    repair keeps MediaPipe's labels there, even where swapping them would move the legs less (``LEGS_TOGETHER``:
    on the demo the last frame's labels carried a wrong swap on over frames 139-144)."""
    truth = _walk()
    for point in LEFT:
        truth.body_2d[:, point, 0] = truth.body_2d[:, RIGHT[LEFT.index(point)], 0] - 10.0
    assert _repaired(_swap_legs(truth, slice(20, 23)), CausalLegSwaps())[0] == []


def test_a_body_not_upright_in_the_picture_keeps_the_labels_mediapipe_gives() -> None:
    """The walker turned a quarter round in the picture (lying, or on his hands in a cartwheel): his legs' labels
    are MediaPipe's, as offline (``core.landmarks.UPRIGHT_COSINE``), though upright the same swap is undone."""
    lying = _walk()
    lying.body_2d[..., :2] = lying.body_2d[..., [1, 0]]  # x <-> y: the trunk runs across the picture
    assert _repaired(_swap_legs(lying, slice(20, 23)), CausalLegSwaps())[0] == []
