"""A multi-view take's cleanup (``core.capture_multi.multiview_cleanup``) keeps what the cameras measured."""

from __future__ import annotations

import numpy as np

import copy
import dataclasses

from core.capture_multi import multiview_cleanup
from core.cleanup import CleanupSettings, clean_motion
from core.cleanup.contacts import ContactSettings, segments
from core.cleanup.floor import proxy_heights
from core.cleanup.footlock import lock_feet
from tests.core.test_cleanup_root import _with_landmarks
from tests.testdata.walk import synthetic_walk, to_camera


def test_a_stance_is_not_carried_past_what_the_fitted_feet_show() -> None:
    """One camera's cleanup carries a stance on while camera 0's picture shows the foot near its place, and a
    foot under 1 m/s on while no foot is planted: right for one camera, whose fit cannot see a foot leave along
    its ray. With several cameras the fit saw it leave, and holding it bent the leg back (on the rendered
    four-phone take the carried stances put the ankles 4 cm further off): the multi-view cleanup keeps to
    the fitted feet. The synthetic walk seen by camera 0, exact: contact frames that are not true contacts."""
    motion, truth = synthetic_walk(150)
    seen = _with_landmarks(to_camera(motion))
    one = clean_motion(seen, CleanupSettings(anchor_root=False)).contacts
    many = clean_motion(seen, multiview_cleanup(CleanupSettings())).contacts

    def false_share(found: np.ndarray) -> float:
        return float((found & ~truth).sum() / max(found.sum(), 1))

    assert false_share(one) > 0.1, false_share(one)       # the one-camera carries hold part of the swing (0.12)
    assert false_share(many) < 0.08, false_share(many)    # 0.06
    held = [many[s:e, p].mean() for p in range(4) for s, e in segments(truth[:, p])]
    # and every true stance is still found: most for 94-100 % of their frames; one heel's for 13 of its 17, as
    # the picture's 0.15 m/s threshold (``IMAGE_SPEED_ON``) lets it go 4 frames sooner than one camera's 0.3
    assert min(held) > 0.75, held
    assert np.median(held) > 0.9, held


def test_the_multi_view_foot_lock_plants_the_feet_with_the_legs_and_leaves_the_root() -> None:
    """A body whose fitted root drifts 30 cm: one camera's foot lock moves the root back to keep the planted foot
    still; with the root seen by the cameras (``lock_root`` off) the root stays and the legs plant the foot."""
    motion, truth = synthetic_walk(90)
    drift = np.zeros_like(motion.trans)
    drift[:, 1] = np.linspace(0.0, 0.3, motion.num_frames)
    contacts = np.zeros_like(truth)
    contacts[:, :2] = truth[:, :2]
    heights = proxy_heights(motion.rest_joints, motion.v_template)
    moved = motion.trans + drift
    _, shifted = lock_feet(motion.poses, motion.rest_joints, moved, contacts, heights)
    assert np.abs(shifted - moved).max() > 0.02
    poses, kept = lock_feet(motion.poses, motion.rest_joints, moved, contacts, heights, move_root=False)
    np.testing.assert_array_equal(kept, moved)
    from core.body.mannequin import forward_kinematics
    from core.cleanup.floor import PROXY_INDEX

    pos, _ = forward_kinematics(poses, motion.rest_joints, kept)
    heel = pos[:, PROXY_INDEX[0], :2]
    for s, e in segments(contacts[:, 0]):
        assert np.linalg.norm(heel[s:e] - np.median(heel[s:e], axis=0), axis=-1).max() < 0.01
    settings = multiview_cleanup(CleanupSettings())
    assert not settings.lock_root and not settings.anchor_root


def test_a_foot_swinging_along_camera_0s_ray_is_not_planted() -> None:
    """A foot that swings mostly along camera 0's ray moves little in its picture (here a third of its way), and
    one camera's threshold on the picture's speed (0.3 m/s) planted it for part of each swing: the foot lock then
    dragged it to the stance's place (on the rendered four-phone take the ankles 3-11 cm over the swing frames).
    The fit of several cameras saw the foot move; the multi-view cleanup asks a stiller picture (0.15 m/s) and
    still finds the stances."""
    motion, truth = synthetic_walk(150)
    seen = _with_landmarks(to_camera(motion))
    kp = seen.keypoints_2d.astype(np.float64)
    for s, e in segments(~truth[:, 0]):                       # the left foot's swings, a third as fast in the picture
        for j in (29, 31):                                    # its heel and toe landmarks
            kp[s:e, j, :2] = kp[s, j, :2] + 0.35 * (kp[s:e, j, :2] - kp[s, j, :2])
    seen = copy.deepcopy(seen)
    seen.keypoints_2d = kp.astype(np.float32)
    settings = multiview_cleanup(CleanupSettings())
    many = clean_motion(seen, settings).contacts
    one = clean_motion(seen, dataclasses.replace(settings, contacts=ContactSettings())).contacts
    swing = ~truth[:, 0]
    assert (one[:, 0] & swing).sum() >= 20, (one[:, 0] & swing).sum()    # one camera's threshold: 23 frames
    assert (many[:, 0] & swing).sum() <= 10, (many[:, 0] & swing).sum()  # 9
    assert many[~swing, 0].mean() > 0.9                                  # the stances are still found (0.94)


def test_a_stance_that_starts_where_camera_0_films_alone_is_held_where_the_cameras_see_it() -> None:
    """Camera 0 films the first 34 frames alone (the other phone started later): there the fit's depth is its
    one-view guess, here 15 cm off, coming back to the truth as the second view rolls. A stance running across
    that was held at the median of both parts, 9 cm off on the frames both cameras film (on the rendered
    four-phone take the right foot's first stance 14-20 cm). Camera 0's feet marked unseen where it films alone
    (``_feet_unseen_where_alone``), no contact starts there and the stance stays where the cameras put it."""
    from core.body.mannequin import forward_kinematics
    from core.capture_multi import _feet_unseen_where_alone
    from core.cleanup.floor import PROXY_INDEX

    motion, truth = synthetic_walk(150)
    seen = _with_landmarks(to_camera(motion))
    assert truth[22:39, 2].all()                              # a right heel stance across frame 34
    fitted = copy.deepcopy(seen)                              # the picture stays right, the depth does not
    frames = np.arange(fitted.num_frames)
    fitted.trans = fitted.trans.copy()
    fitted.trans[:, 0] += 0.15 * np.clip((34 - frames) / 4.0, 0.0, 1.0)
    alone = frames < 34

    def heel_error(cleaned) -> np.ndarray:
        """mm, the right heel on frames 34-38 (both cameras film) against the truth, in camera 0's frame."""
        out = []
        for m in (cleaned, seen):
            pos, _ = forward_kinematics(m.poses, m.rest_joints, m.trans)
            E = np.asarray(m.camera_extrinsics, np.float64)
            out.append(pos[34:39, PROXY_INDEX[2]] @ E[:3, :3].T + E[:3, 3])
        return 1000.0 * np.linalg.norm(out[0] - out[1], axis=-1)

    settings = multiview_cleanup(CleanupSettings())
    assert heel_error(clean_motion(fitted, settings).motion).min() > 50.0            # 93 mm
    kept = clean_motion(_feet_unseen_where_alone(fitted, alone), settings).motion
    assert heel_error(kept).max() < 10.0                                            # 1 mm
    assert fitted.keypoints_2d[:, 31, 2].min() > 0.5                                # the take's own are not touched


def test_a_jumps_root_is_not_moved_onto_a_parabola() -> None:
    """One camera's cleanup moves a flight's pelvis onto a thrown body's parabola across its line of sight, where
    the landmark model misread it (``core.cleanup.flight``). Several cameras triangulated it: the multi-view
    cleanup leaves the root in the air where they put it, as a cleanup without flights does. Before, it was
    moved 20 px or more in camera 0's picture at the jump's top."""
    from core.cleanup.flight import FlightSettings
    from tests.core.test_cleanup_ballistic import _jump, _misread, _pelvis_pixels

    motion, flight = _jump()
    fitted = _misread(_with_landmarks(to_camera(motion)), flight)
    settings = multiview_cleanup(CleanupSettings(smoothing_body=0.0))
    many = clean_motion(fitted, settings).motion
    still = clean_motion(fitted, dataclasses.replace(settings, flight=FlightSettings(min_seconds=99.0))).motion
    moved = np.linalg.norm(_pelvis_pixels(many) - _pelvis_pixels(still), axis=1)
    assert moved.max() < 1e-3, moved.max()
    one = dataclasses.replace(settings, flight=FlightSettings())  # one camera's flights, for comparison
    assert np.linalg.norm(_pelvis_pixels(clean_motion(fitted, one).motion) - _pelvis_pixels(still), axis=1).max() > 5


def _view(picture: np.ndarray, fps: float):
    """Another camera's landmarks (``PoseSequence``, on camera 0's frames) whose picture is ``picture`` (T, 33+, 3)."""
    from core.landmarks import NUM_BODY, PoseSequence

    view = PoseSequence.empty(len(picture), fps, (640, 480))
    view.body_2d[:] = picture[:, :NUM_BODY]
    view.present[:] = True
    return view


def _wandering(picture: np.ndarray, frames: np.ndarray, joints: tuple[int, ...], step: float = 6.0) -> np.ndarray:
    """``picture`` with the landmarks ``joints`` sliding ``step`` pixels a frame over each run of ``frames``: a view
    unsure where a still foot is (a foot behind the other, the feet crossing) reads it moving."""
    out = np.array(picture, np.float64, copy=True)
    for s, e in segments(frames):
        out[s:e, list(joints), 0] += step * np.arange(e - s)[:, None]
    return out.astype(np.float32)


def test_a_stance_camera_0_reads_moving_is_planted_where_another_view_sees_it_still() -> None:
    """Camera 0's labels of a planted foot slide (a foot behind the other; on the rendered 12 s four-phone
    take the fitted feet then moved 5-8 cm a frame on true stances camera 0 read moving): its picture alone
    lets the stance go. With two cameras either view's picture plants a foot (``voted_contacts``): the other
    view, which sees the foot still, keeps the stance. The fitted feet are right; only the pictures differ."""
    from core.capture_multi import voted_contacts

    motion, truth = synthetic_walk(150)
    seen = _with_landmarks(to_camera(motion))
    clean = seen.keypoints_2d
    stance = truth[:, 0] & truth[:, 1]                                      # the left foot flat on the floor
    jumpy = copy.deepcopy(seen)
    jumpy.keypoints_2d = _wandering(clean, stance, (29, 31))                    # left heel and toe landmarks
    settings = multiview_cleanup(CleanupSettings())
    alone = clean_motion(jumpy, settings).contacts
    voted = voted_contacts(jumpy, [_view(clean, jumpy.fps)], settings, CleanupSettings())
    assert voted is not None
    assert alone[stance, 0].mean() < 0.3, alone[stance, 0].mean()          # camera 0 alone: the stance lost
    assert voted[stance, 0].mean() > 0.85, voted[stance, 0].mean()         # the other view keeps it
    # the voted contacts are what the cleanup plants
    held = clean_motion(jumpy, settings, contacts=voted).contacts
    np.testing.assert_array_equal(held, voted)


def test_with_three_cameras_one_view_alone_neither_plants_nor_lets_go_a_foot() -> None:
    """Three cameras: a foot is planted where more than half of the views that see it show it still. One view
    that reads a swinging foot still (it swings along that view's ray) plants nothing, and one view whose labels
    of a planted foot slide lets no stance go."""
    from core.capture_multi import voted_contacts

    motion, truth = synthetic_walk(150)
    seen = _with_landmarks(to_camera(motion))
    clean = seen.keypoints_2d.astype(np.float64)
    swing = ~truth[:, 0]
    along = clean.copy()                                                    # the left foot's swings barely move
    for s, e in segments(swing):
        for j in (29, 31):
            along[s:e, j, :2] = along[s, j, :2] + 0.1 * (along[s:e, j, :2] - along[s, j, :2])
    stance = truth[:, 0] & truth[:, 1]
    settings = multiview_cleanup(CleanupSettings())
    fooled = copy.deepcopy(seen)
    fooled.keypoints_2d = along.astype(np.float32)
    alone = clean_motion(fooled, settings).contacts
    voted = voted_contacts(fooled, [_view(clean, seen.fps), _view(clean, seen.fps)], settings, CleanupSettings())
    assert (alone[:, 0] & swing).sum() >= 15, (alone[:, 0] & swing).sum()   # camera 0 alone plants the swings
    assert (voted[:, 0] & swing).sum() <= 8, (voted[:, 0] & swing).sum()    # outvoted
    jumpy = copy.deepcopy(seen)
    jumpy.keypoints_2d = _wandering(clean, stance, (29, 31))
    voted = voted_contacts(jumpy, [_view(clean, seen.fps), _view(clean, seen.fps)], settings, CleanupSettings())
    assert voted[stance, 0].mean() > 0.85, voted[stance, 0].mean()
