"""Live feet and the live second look: standing feet held along the floor (core.live.footlock) and the person
found again where MediaPipe's tracker lost them (core.live.search)."""

from __future__ import annotations

import numpy as np
import pytest

from core.body.mannequin import forward_kinematics, rest_joints
from core.cleanup.floor import PROXY_INDEX
from core.cleanup.root import IMAGE_FEET
from core.landmarks import BODY, NUM_BODY
from core.live.footlock import (END_METRES, PLACE_STEP, RELEASE_STEP, SPAN, WINDOW, CausalFootLock, StillFeet,
                                leg_jump)
from tests.testdata.live_frames import letterboxed_frames

UP = np.array([0.0, -1.0, 0.0])  # a level camera: up is the image's -y


def standing_pose() -> tuple[np.ndarray, np.ndarray]:
    """(aa (55, 3), rest joints) of the mannequin standing upright before a level camera, feet apart."""
    aa = np.zeros((55, 3))
    aa[0] = [np.pi, 0.0, 0.0]  # model y up -> camera y down
    return aa, rest_joints(np.zeros(5))


def feet_along_floor(aa: np.ndarray, J: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """(4, 2) the contact proxies' place along the floor (camera x and z), metres."""
    pos, _ = forward_kinematics(aa[None], J, trans[None])
    return pos[0, PROXY_INDEX][:, [0, 2]]


def test_standing_feet_stay_put_while_the_fitted_root_jumps_in_depth_and_the_root_returns_after() -> None:
    aa, J = standing_pose()
    lock = CausalFootLock(J)
    rng = np.random.default_rng(3)
    base = np.array([0.0, 0.0, 6.4])
    raw, held = [], []
    for _ in range(60):  # the live fit's root: 3-15 cm a frame in depth on a man standing still
        trans = base + np.array([rng.normal(0, 0.01), 0.0, rng.normal(0, 0.08)])
        raw.append(feet_along_floor(aa, J, trans))
        held.append(feet_along_floor(aa, J, lock(aa, trans, UP, (True, True))))
    raw_slide = np.median(np.linalg.norm(np.diff(raw, axis=0), axis=-1))
    held_slide = np.linalg.norm(np.diff(held, axis=0), axis=-1)
    assert raw_slide > 0.05
    assert held_slide.max() <= PLACE_STEP + 1e-9  # the held place settles at most PLACE_STEP a frame
    # heights are the fit's: the shift is along the floor only
    assert abs(np.dot(lock.carry, UP)) < 1e-12
    # with no foot standing the shift fades back to the fit's root, without a jump
    carry = np.linalg.norm(lock.carry)
    steps = [np.linalg.norm(lock(aa, base, UP, (False, False)) - base) for _ in range(int(carry / RELEASE_STEP) + 2)]
    assert np.all(np.abs(np.diff([carry, *steps])) <= RELEASE_STEP + 1e-9)
    assert steps[-1] == 0.0


@pytest.mark.parametrize("fps", [15.0, 10.0])
def test_the_roots_shift_fades_as_fast_a_second_at_the_streams_slower_rates(fps: float) -> None:
    """No foot standing, the root's shift (30 cm in depth) fades back to the fit's root by as much in 0.4 s at 15 or
    10 fps as at 30 fps (12 cm; counted in frames a 15 fps stream's faded half as far, a 10 fps one's a third), and
    no further over a stall's second than in 0.2 s."""
    aa, J = standing_pose()
    base = np.array([0.0, 0.0, 6.4])

    def faded(rate: float, times: list[float]) -> float:
        lock = CausalFootLock(J)
        lock.carry = np.array([0.0, 0.0, 0.3])
        lock(aa, base, UP, (False, False), times[0])
        start = float(np.linalg.norm(lock.carry))
        for t in times[1:]:
            lock(aa, base, UP, (False, False), t)
        return start - float(np.linalg.norm(lock.carry))

    at_30 = faded(30.0, [k / 30.0 for k in range(13)])
    assert at_30 == pytest.approx(12 * RELEASE_STEP, abs=1e-9)
    assert faded(fps, [k / fps for k in range(int(0.4 * fps) + 1)]) == pytest.approx(at_30, abs=1e-9)
    assert faded(fps, [0.0, 1.0]) == pytest.approx(6 * RELEASE_STEP, abs=1e-9)  # a stall: 0.2 s worth


def test_the_roots_shift_across_the_line_of_sight_is_held_to_two_pixels() -> None:
    """A standing foot the fit slides sideways (across the camera's line of sight, where the picture places the
    body) carries the root at most ACROSS_RAY_PIXELS at the pelvis's distance, as offline: the body stays on
    the person in the picture (unheld, a 5 cm slide a frame over 20 frames carried it 1 m sideways). Along the
    line of sight, which the picture cannot place, the foot is held."""
    from core.cleanup.footlock import ACROSS_RAY_PIXELS

    aa, J = standing_pose()
    focal = 600.0
    lock = CausalFootLock(J, focal)
    base = np.array([0.0, 0.0, 5.0])
    for k in range(20):
        fitted = base + np.array([0.05 * k, 0.0, 0.0])
        shift = lock(aa, fitted, UP, (True, True)) - fitted
        pelvis = J[0] + fitted
        ray = (pelvis - np.dot(pelvis, UP) * UP) / np.linalg.norm(pelvis - np.dot(pelvis, UP) * UP)
        across = shift - np.dot(shift, ray) * ray
        assert np.linalg.norm(across) <= ACROSS_RAY_PIXELS * np.linalg.norm(pelvis) / focal + 1e-9
    assert np.linalg.norm(shift) > 0.05  # the foot is still held, along the line of sight
    depth = CausalFootLock(J, focal)
    for k in range(20):
        held = depth(aa, base + np.array([0.0, 0.0, 0.05 * k]), UP, (True, True))
    assert abs(held[2] - base[2]) < 20 * PLACE_STEP + 1e-9  # held where it stood (the place follows slowly)


def test_a_standing_legs_jump_in_the_fit_does_not_carry_the_root() -> None:
    """MediaPipe flips one leg's depth while the picture shows its foot still: the fit's foot jumps 30 cm from its
    pelvis in a frame. Held, the root carried the whole body 15 cm off (the mean of the feet's offsets) and kept
    it there: on the rendered walks 25-50 cm off in depth. The jump is held from where the foot is now; the
    root's own jitter (pelvis and feet together) is still held."""
    aa, J = standing_pose()
    lock = CausalFootLock(J)
    trans = np.array([0.0, 0.0, 5.0])
    for _ in range(5):
        lock(aa, trans, UP, (True, True))
    jumped = aa.copy()
    jumped[1] = [-0.6, 0.0, 0.0]  # the left hip swings the leg: its foot moves ~0.3 m in depth
    pos, _ = forward_kinematics(np.stack([aa, jumped]), J, np.stack([trans, trans]))
    move = pos[1, PROXY_INDEX[:2]].mean(0) - pos[0, PROXY_INDEX[:2]].mean(0)
    assert np.linalg.norm(move - np.dot(move, UP) * UP) > leg_jump(0.1)  # a jump at 10 fps too
    for _ in range(5):
        out = lock(jumped, trans, UP, (True, True))
    assert np.linalg.norm(out - trans) < 0.01


@pytest.mark.parametrize("fps", [15.0, 12.0])
def test_a_stance_lets_go_as_soon_at_the_streams_slower_rates(fps: float) -> None:
    """The stream runs at 16-20 fps under load and 5-15 while it searches: a foot that stands for a second and
    walks on at 1 m/s stops standing about as soon after it leaves as at 30 fps (the windows span the same time).
    Counted as frames at 30 fps, at 15 fps the stance ended 0.2 s late, the foot 200 mm past the place it was held
    at (the root following it), and started 0.27 s late."""
    feet = np.array([[330.0, 300.0], [345.0, 301.0], [310.0, 300.0], [295.0, 301.0]])
    metres = 0.5 / 80.0  # a pixel, at the landmarks' 80 px torso
    still, stood = StillFeet(), []
    for k in range(int(3 * fps)):
        t = k / fps
        x = t - 1.0 if t < 1.0 else (0.0 if t < 2.0 else t - 2.0)  # walks, stands 1-2 s, walks on
        walk = feet + np.array([[x / metres, 0.0]] * 2 + [[0.0, 0.0]] * 2)
        if still(landmarks(walk), np.zeros(4), t)[0]:
            stood.append(t)
    assert 1.0 < stood[0] <= 1.0 + 0.21 and 2.0 <= stood[-1] <= 2.0 + 0.07  # 30 fps: 0.13 s and 0.1 s late
    assert len(stood) == round((stood[-1] - stood[0]) * fps) + 1  # one stance


@pytest.mark.parametrize("fps", [15.0, 12.0, 10.0])
def test_a_foot_held_while_the_body_walks_over_it_stays_held_at_the_streams_slower_rates(fps: float) -> None:
    """A pelvis walking 1.3 m/s over its planted foot moves the leg from the pelvis 0.11-0.13 m a frame at
    10-12 fps: read as a jump of the fit's leg (0.1 m a frame), the foot was held anew on every frame and slid
    with the fit's depth jitter (38-42 mm a frame median, 5 at 30 fps)."""
    aa, J = standing_pose()
    lock = CausalFootLock(J, 1000.0)
    rng = np.random.default_rng(0)
    foot = np.array([[0.1, 0.9, 5.0], [0.1, 0.9, 5.15], [0.3, 0.9, 5.3], [0.3, 0.9, 5.45]])
    shown = []
    for k in range(int(0.6 * fps)):  # a 0.6 s stance of the left foot
        jitter = np.array([0.0, 0.0, rng.normal(0, 0.06)])  # the fit's root depth: body and feet together
        trans = np.array([0.0, 0.0, 4.7 + 1.3 * k / fps]) - J[0] + jitter
        out = lock.hold(foot + jitter, trans, UP, (True, False), k / fps)
        shown.append((foot[:2] + jitter + out - trans).mean(0))
    slide = np.linalg.norm(np.diff(shown, axis=0), axis=-1)
    assert np.median(slide) <= PLACE_STEP + 1e-9


def root_offsets(seq, rest: np.ndarray, trans: np.ndarray, at: int, carry: float) -> dict[int, np.ndarray]:
    """Frame -> (3,) the live solve's pelvis minus the truth's (camera frame; the fit's root is the truth's on exact
    landmarks), with the foot lock's shift set to ``carry`` m along the floor and the ray on frame ``at``, as a
    stance leaves it."""
    from core.live.solver import LiveSolver
    from tests.core.test_live import solved_frames
    from tests.testdata.clips import CAMERA_K

    solver = LiveSolver(CAMERA_K, UP, smoothing=0.0, warmup_frames=5)
    offsets = {}
    for i, solved in solved_frames(solver, seq):
        assert solved is not None and solver.foot_lock is not None
        if i == at:
            solver.foot_lock.carry = np.array([0.0, 0.0, carry])
        E = solver.camera_extrinsics(solved.camera_height)
        pelvis = E[:3, :3] @ (solved.trans + solver.rest_joints[0]) + E[:3, 3]  # camera frame
        offsets[i] = pelvis - (rest[0] + trans[i])
    return offsets


def test_the_feet_of_the_last_person_do_not_carry_someone_else_the_tracker_goes_to() -> None:
    """MediaPipe's tracker goes to someone else standing 1.5 m further away, with no frame lost between: the root's
    shift the last person's feet left (30 cm here) is not carried onto the new person (it faded at RELEASE_STEP a
    frame: the new person 1.5 m off in depth for 10 s, on two people standing 1.5 m apart), nor the last person's
    pose as the refinement's prior."""
    from tests.testdata.clips import CAMERA_K, CLIP_BETAS, IMAGE_SIZE, landmarks_from_motion, smooth_motion

    poses, trans = smooth_motion(40, np.random.default_rng(4), hands=False)
    trans[20:] += np.array([0.8, 0.0, 1.5])  # from frame 20 someone else, elsewhere
    rest = rest_joints(CLIP_BETAS)
    seq = landmarks_from_motion(poses, trans, rest, CAMERA_K, IMAGE_SIZE, world_axes="view")
    shift = {i: float(np.linalg.norm(off)) for i, off in root_offsets(seq, rest, trans, 18, 0.3).items()}
    assert shift[19] > 0.25
    assert shift[20] < 0.002  # nor their pose: the refinement's prior, the last person's, put it 28 mm off
    assert all(shift[i] < 0.002 for i in range(21, 20 + WINDOW))  # no stance yet of the new person's feet


def landmarks(feet: np.ndarray, vis: float = 0.9, torso: float = 80.0) -> np.ndarray:
    """(33, 3) body landmarks of a standing person ``torso`` px of torso tall, heels and toes at ``feet`` (4, 2) px."""
    kp = np.zeros((NUM_BODY, 3))
    kp[:, 2] = vis
    for side, x in (("left", 330.0), ("right", 310.0)):
        kp[BODY[f"{side}_shoulder"], :2] = (x, 200.0 - torso)
        kp[BODY[f"{side}_hip"], :2] = (x, 200.0)
    kp[IMAGE_FEET, :2] = feet
    return kp


def test_a_foot_stands_when_the_picture_shows_it_still_and_not_while_it_moves_or_is_high() -> None:
    rng = np.random.default_rng(0)
    feet = np.array([[330.0, 300.0], [334.0, 302.0], [310.0, 300.0], [306.0, 302.0]])
    still, moving, high = StillFeet(), StillFeet(), StillFeet()
    low, up = np.zeros(4), np.full(4, 1.0)
    got = []
    for k in range(20):
        jitter = rng.normal(0, 0.3, (4, 2))  # landmarks wobble a little on a still foot
        walk = feet + jitter + np.array([[6.0 * k, 0.0]] * 2 + [[0.0, 0.0]] * 2)  # the left foot walks 6 px a frame
        got.append((still(landmarks(feet + jitter), low), moving(landmarks(walk), low),
                    high(landmarks(feet + jitter), up)))
    assert got[WINDOW - 1] == ((False, False), (False, False), (False, False))  # no history yet
    assert all(s == (True, True) for s, _, _ in got[WINDOW:])
    assert all(m == (False, True) for _, m, _ in got[WINDOW:])
    assert all(h == (False, False) for _, _, h in got)
    # a foot that steps away from where it stood stops standing
    torso = 80.0
    away = feet + np.array([[END_METRES * 2 * torso / 0.5, 0.0]] * 2 + [[0.0, 0.0]] * 2)
    after = [still(landmarks(away), low) for _ in range(SPAN)]
    assert (False, True) in after  # the stance at the old place ended (a new one may start where it stands now)


def test_a_one_frame_glitch_of_a_foot_point_does_not_end_its_stance() -> None:
    """A heel unseen on one frame (visibility 0.05: NaN) leaves the medians of the other frames: the foot
    stands on, its held place kept (a NaN in any median ended the stance for 2 * SPAN frames)."""
    feet = np.array([[330.0, 300.0], [334.0, 302.0], [310.0, 300.0], [306.0, 302.0]])
    still = StillFeet()
    got = []
    for k in range(20):
        kp = landmarks(feet)
        if k == 10:
            kp[IMAGE_FEET[0], 2] = 0.05
        got.append(still(kp, np.zeros(4)))
    assert all(g == (True, True) for g in got[WINDOW:])


def test_a_far_persons_standing_feet_stand_through_the_landmarks_jitter() -> None:
    """The demo's man on his box, 6.4 m away: a 35 px torso (1.4 cm a pixel) and MediaPipe's landmarks wobbling
    1-2 px a frame on his still feet. The feet stand on most frames, as the offline contacts' cue (the median of the
    image velocities) reads them; compared as positions 1.5 cm apart (about a pixel) they stood on 8-28% of the
    frames (four seeds; on the demo live found standing feet on 14 and 10 of 200 frames, the offline take's contacts
    on 99 and 125), while a foot walking 1 px a frame (0.4 m/s at his size) still does not stand."""
    rng = np.random.default_rng(5)
    feet = np.array([[330.0, 300.0], [333.0, 301.0], [310.0, 300.0], [307.0, 301.0]])
    still, walking = StillFeet(), StillFeet()
    stood, walked = [], []
    jitter = np.zeros((4, 2))
    for k in range(40):
        jitter = 0.9 * jitter + np.sqrt(1 - 0.9**2) * rng.normal(0, 1.5, (4, 2))  # MediaPipe's wobble: 1.5 px, slow
        stood.append(still(landmarks(feet + jitter, torso=35.0), np.zeros(4)))
        walk = feet + jitter + np.array([[1.0 * k, 0.0]] * 2 + [[0.0, 0.0]] * 2)
        walked.append(walking(landmarks(walk, torso=35.0), np.zeros(4)))
    left = [s[0] for s in stood[WINDOW:]]
    right = [s[1] for s in stood[WINDOW:]]
    assert np.mean(left) > 0.8 and np.mean(right) > 0.8
    assert not any(w[0] for w in walked)


def test_a_lost_frame_holds_the_pose_as_sent_and_the_feet_shift_fades_after_it() -> None:
    """The stream loses the person for a frame while the root carries the feet's shift: the held frame is the
    last frame as sent (it jumped back by the whole shift, 10-45 cm on the lock's jitter test), and once
    the person is found the shift fades at RELEASE_STEP a frame (it started again from zero)."""
    from tests.testdata.clips import mannequin_clip

    poses, trans, rest, seq = mannequin_clip(40, np.random.default_rng(4), hands=False, world_axes="view")
    seq.present[25] = False
    seq.body_world[25] = np.nan
    shift = root_offsets(seq, rest, trans, 20, 0.1)
    assert np.linalg.norm(shift[24]) > 0.05
    np.testing.assert_allclose(shift[25] + trans[25], shift[24] + trans[24], atol=1e-5)  # held as sent
    assert abs(np.linalg.norm(shift[26]) - np.linalg.norm(shift[24])) <= 2 * RELEASE_STEP + 0.003


def test_after_half_a_second_lost_the_roots_shift_fades_a_frames_step_on_the_first_frame_back() -> None:
    """No foot standing, a 30 cm shift, the person lost for half a second (the solver calls ``lose`` and skips the
    lock on those frames): the first frame back fades the shift by RELEASE_STEP, a frame's, as after any stance
    (the lost time counted as a step faded it 6 cm at once), and the next by a frame's again."""
    aa, J = standing_pose()
    base = np.array([0.0, 0.0, 6.4])
    lock = CausalFootLock(J)
    lock.carry = np.array([0.0, 0.0, 0.3])
    lock(aa, base, UP, (False, False), 0.0)
    before = float(np.linalg.norm(lock.carry))
    lock.lose()
    lock(aa, base, UP, (False, False), 0.5)
    back = float(np.linalg.norm(lock.carry))
    lock(aa, base, UP, (False, False), 0.5 + 1.0 / 30.0)
    assert before - back == pytest.approx(RELEASE_STEP, abs=1e-9)
    assert back - float(np.linalg.norm(lock.carry)) == pytest.approx(RELEASE_STEP, abs=1e-9)


def test_the_second_look_finds_the_man_where_the_tracker_took_the_woman(demo_video) -> None:
    """The demo letterboxed into 640x480, as the live bench plays it, frames 0-200: from frame 167 MediaPipe's
    tracker holds the woman walking by (left of the picture) and, with her greyed out, finds nobody while the man
    lands his flip off the box; a crop where he should be finds him again on several of those frames, and never
    the woman."""
    pytest.importorskip("cv2")
    from core.live.follow import LiveFollow
    from core.live.pose import FramePose
    from core.live.search import CropSearch

    follow, again, kept = LiveFollow(), 0, []
    with FramePose() as pose, CropSearch() as search:
        for index, rgb in letterboxed_frames(demo_video, 201):
            seq = pose.process(follow.frame(rgb), index, 30.0)
            if not follow.check(rgb, seq):
                found = search(rgb, follow, index, 30.0)
                again += found is not None
                seq = found or seq
            if seq.present[0] and index >= 150:
                kept.append(0.5 * (seq.body_2d[0, BODY["left_hip"], 0] + seq.body_2d[0, BODY["right_hip"], 0]))
    assert again >= 4 and search.found == again
    assert min(kept) > 200.0  # the man is at x 280-400, the woman under 130
