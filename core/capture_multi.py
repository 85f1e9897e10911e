"""The multi-view capture job: several videos of one performance -> one motion file with every camera.

``python -m core capture-multi VIDEO VIDEO [...] --out take.npz``: the person is
found in each video as ``capture`` finds them, the videos are put on video 0's
clock (``--offsets``, else their sound, else the person's motion), the cameras
come from a rig file (``--calibration``) or from the person, and one whole-clip
fit sees the body from every camera (``core.fit.optimize.views``): camera 0's
2D terms and every other camera's, MediaPipe's one-view depth left out. Then
the up direction comes from the rig, cleanup runs as for one video (the root
keeps its seen depth), and the motion file (v3) lists every camera.

The take lives in camera 0's frame until cleanup moves it into its Z-up world;
the other cameras keep their places relative to camera 0.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .capture import (FOV_GUESSED, CaptureSettings, camera_fov, check_output, choose_body, frame_range, motion_from_fit,
                      pose_plan, torch_pose_settings)
from .cleanup import CleanupSettings, clean_motion, feet_seen
from .cleanup.root import IMAGE_FEET
from .errors import CancelledError, MocapError
from .gravity import Gravity
from .gravity.take import apply_gravity
from .landmarks import NUM_BODY, PoseSequence, mark_outside, repair_swaps, swap_sides
from .motion import Motion, write_motion
from .motion_cameras import MotionCameras
from .multiview import sync
from .multiview.calibration_files import read_calibration
from .multiview.epipolar import fundamental_from_rig
from .multiview.match import MATCH_FRACTION, same_person, strangers
from .multiview.rig import CameraRig, save_rig
from .multiview.sides import side_flips
from .multiview.triangulate import hang_on_parents, triangulate, view_keypoints
from .person import PersonPick
from .pose_stage import POSE_MAX_SIZE, Event, Reporter, find_person
from .rotations import matrix_to_axis_angle
from .video import DEFAULT_HFOV_DEGREES, default_intrinsics, iter_frames, open_video

MAX_VIDEOS = 8
RIG_UP_SIGMA_DEGREES = 1.0
"""How far the rig's up is trusted (its cameras' average up and the floor contacts, or a board's)."""
ONE_VIEW_WEIGHT = 0.5
"""The 3D term's weight of a limb point one camera alone saw (``_triangulated``), against 1 for a triangulated one."""
IMAGE_SPEED_ON = 0.15
"""m/s: how slow camera 0's picture must show a foot for a multi-view take's cleanup to plant it
(``ContactSettings.image_speed_on``, 0.3 for one camera; the "off" threshold scales alike). Camera 0's picture
under-reads a foot that swings along its ray, and where the picture knows a foot's speed it decides alone, so
the one-camera threshold planted swinging feet and the foot lock dragged them (and straightened the knees) to
their held place: on the rendered four-phone take (true rig, cached landmarks, balanced preset) the cleanup moved
the ankles 3-11 cm on average over the true swing frames (15-29 cm on the first ones) and made them worse there
(2 cameras 75 / 55 -> 82 / 68 mm left / right, 3 cameras 55 / 47 -> 71 / 102), against 4-12 mm better on the
true stances. Camera counts 2 / 3 / 4, world
MPJPE mm at 0.3 -> 0.2 -> 0.15 -> 0.1: 55.7 -> 54.8 -> 53.6 -> 53.3, 55.7 -> 53.0 -> 52.2 -> 49.6, 41.9 -> 41.0
(0.15); offset-free limb PA-MPJPE 32.0 -> 31.0 (0.15), 32.0 -> 30.4, 24.7 -> 23.9; true-contact skate 0.38 ->
0.50, 0.22 -> 0.42, 0.31 -> 1.95 mm (at 0.1 the 2-camera take's skate was 3.4 mm, over its 3 mm target; with no
foot lock 9.3 and 7.5). Other rigs of the same take alike: cameras 0 and 3 58.4 -> 56.8 mm (skate 0.20 -> 1.78),
cameras 0, 1 and 3 44.0 -> 42.8 (0.21 -> 1.58)."""


@dataclass(frozen=True)
class MultiCaptureSettings:
    """What a multi-view capture does.

    Attributes:
        capture: the one-video settings, applied to every video (frame range,
            stride and field of view in each video's own frames; the person pick
            in video 0's).
        offsets: seconds from video 0's first frame to each video's first frame,
            one per video (video 0's is 0; negative: that video started earlier);
            None finds them from the sound tracks, else the person's motion.
        calibration: a rig file (``core.multiview.rig``) with one camera per
            video, in the same order; None calibrates from the person.
        save_calibration: write the cameras used to this rig file.
        person_height: the person's height, metres: the calibration's scale
            (None: the fitted body's bone lengths).
    """

    capture: CaptureSettings = CaptureSettings()
    offsets: tuple[float, ...] | None = None
    calibration: str | None = None
    save_calibration: str | None = None
    person_height: float | None = None


class _ViewReporter(Reporter):
    """A reporter whose pose progress covers video ``k`` of ``count``'s share of the pose span."""

    def __init__(self, emit: Callable[[Event], None] | None, k: int, count: int) -> None:
        super().__init__(emit)
        self.k, self.count = k, count

    def progress_of(self, name: str) -> Callable[[int, int], None]:
        inner = super().progress_of(name)
        if name != "pose":
            return inner
        return lambda done, total: inner(self.k * total + done, self.count * total)


def capture_multi(
    videos: list[str | Path],
    out: str | Path,
    settings: MultiCaptureSettings = MultiCaptureSettings(),
    *,
    emit: Callable[[Event], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Motion:
    """Capture one person filmed by ``videos`` (2 to 8) into the motion file ``out``.

    Raises MocapError (or CancelledError) with a message for the user; ``out`` is
    written atomically.
    """
    from .fit.optimize import preset as fit_preset

    if not 2 <= len(videos) <= MAX_VIDEOS:
        raise MocapError(f"capture-multi takes 2 to {MAX_VIDEOS} videos of one performance, got {len(videos)}")
    if settings.capture.people == "all":
        raise MocapError("capture-multi follows one person; --people all works with one video (capture): "
                         "leave it out, or pick the performer with --person X,Y in the first video")
    report = Reporter(emit)
    out = check_output(out)
    given = _given_rig(settings, len(videos))  # before minutes of pose estimation
    one = settings.capture
    chosen = fit_preset(one.preset, device=one.device)
    body, body_warnings = choose_body(one)
    known = _known_offsets(settings, videos, report)  # before the pose stage: it chooses whom videos 2.. follow
    seqs, Ks, fps, guessed = _find_everyone(videos, settings, chosen, body, emit, should_cancel,
                                            known=known, given=given)
    offsets = known if known is not None else _motion_offsets(seqs, report)
    for warning in body_warnings:
        report.warn(warning)
    motion = multiview_motion(seqs, Ks, fps, offsets, videos, settings, given=given, chosen=chosen, body=body,
                              report=report, should_cancel=should_cancel, refine=camera_refinement(given),
                              timing_error=calibration_timing_error(known, seqs), guessed_lenses=guessed)
    report.stage("writing", f"writing {out.name}")
    write_motion(out, motion)
    if should_cancel is not None and should_cancel():
        out.unlink(missing_ok=True)
        raise CancelledError("capture cancelled; no motion file was written")
    report.send({"event": "done", "out": str(out.resolve()), "frames": motion.num_frames, "quality": motion.quality,
                 "cameras": len(videos)})
    return motion


def multiview_motion(seqs: list[PoseSequence], Ks: list[np.ndarray], fps: list[float], offsets: list[float],
                     videos: list[str | Path], settings: MultiCaptureSettings, *, given: CameraRig | None,
                     chosen: Any, body: Any, report: Reporter | None = None,
                     should_cancel: Callable[[], bool] | None = None, refine: Any = None,
                     timing_error: float = 0.0, guessed_lenses: list[bool] | None = None) -> Motion:
    """Everything after the pose stage: each video's landmarks ``seqs`` (intrinsics ``Ks`` from the field of
    view, frame rates ``fps``, start ``offsets`` in seconds after video 0) -> the cleaned take with every
    camera. ``given``: the ``--calibration`` rig (None: calibrated from the person); ``chosen`` the fitting
    preset, ``body`` the body model; ``refine``: a ``core.fit.optimize.views.CameraRefinement`` refines cameras
    1.. with the body (and the take and a saved calibration keep the refined ones); None keeps them as they are.
    ``capture_multi`` passes ``camera_refinement(given)``: refined when calibrated from the person, never a given
    rig. ``timing_error``: seconds the ``offsets`` may be off (a frame when they come from the person's motion;
    see ``core.multiview.calibrate.timing_weights``), for a calibration from the person; ``guessed_lenses``: which
    videos' intrinsics are the field-of-view default, their lens stated nowhere (``focal_refinement``)."""
    from .fit.optimize import fit_clip
    from .fit.optimize.views import CameraViews, multiview_settings

    report = report if report is not None else Reporter(None)
    one = settings.capture
    base = [copy.deepcopy(seqs[0])] + [_on_clock(s, seqs[0], fps[0], o) for s, o in zip(seqs[1:], offsets[1:])]
    rig = _rig(settings, given, videos, base, Ks, report, timing_error, guessed_lenses)
    for k in strangers(base, rig):
        report.warn(f"video {k + 1} seems to follow another person than video 1 (their keypoints do not meet on "
                    "the cameras' epipolar lines): the take may be wrong; film or cut it so the performer is "
                    "the most prominent person in every video")
    flips = side_flips(base, rig)
    for seq, flipped in zip(base, flips):
        swap_sides(seq, flipped)
    if flips.any():
        report.warn(f"left and right were the wrong way round in {int(flips.sum())} frames of "
                    f"{int(flips.any(1).sum())} videos: the cameras together corrected them")
    seen, mid_hip = _triangulated(base, rig)
    rel = rig.extrinsics() @ np.linalg.inv(rig.extrinsics()[0])        # camera k from camera 0
    report.stage("fitting", f"fitting the {body.name} body to {seqs[0].num_frames} frames seen by {len(videos)} "
                            f"cameras ({chosen.name} preset)")
    views = CameraViews(base[1:], rig.K[1:], rel[1:, :3, :3], rel[1:, :3, 3], mid_hip=mid_hip, refine=refine)
    fit = fit_clip(seen, rig.K[0], body, settings=multiview_settings(chosen.optimize, len(videos)),
                   views=views, progress=report.progress_of("fitting"), should_cancel=should_cancel)
    for warning in fit.warnings:
        report.warn(warning)
    if refine is not None:
        calibrated = rig
        rig, rel = _refined(rig, views.R, views.t)
        moved, turned = _moves(calibrated, rig)
        which, most = ("camera 2", "") if len(videos) == 2 else (f"cameras 2-{len(videos)}", "up to ")
        report.stage("fitting", f"{which} refined with the body: moved {most}{100 * moved:.1f} cm and turned "
                                f"{most}{turned:.1f} degrees from the calibration from the person")
    if settings.save_calibration is not None:
        save_rig(rig, settings.save_calibration)
    motion = motion_from_fit(base[0], fit, rig.K[0], source_video=str(Path(videos[0]).resolve()), body=body)
    gravity = Gravity(up=rig.R[0] @ rig.world_up, sigma_degrees=RIG_UP_SIGMA_DEGREES, source="camera rig")
    apply_gravity(motion, gravity)
    cameras = MotionCameras(rig.K, rel, rig.image_sizes, rig.names, tuple(str(Path(v).resolve()) for v in videos),
                            np.asarray(offsets, np.float64), np.asarray(fps, np.float64))
    if one.cleanup is not None:
        report.stage("cleanup", f"{gravity.describe()}; finding the floor, planting the feet, smoothing")
        alone = _one_camera_frames(base)
        lone = _feet_unseen_where_alone(motion, alone)
        tidy = multiview_cleanup(one.cleanup)
        cleaned = clean_motion(lone, tidy, progress=report.progress_of("cleanup"),
                               contacts=voted_contacts(lone, base[1:], tidy, one.cleanup, alone=alone))
        cleaned.motion.keypoints_2d = motion.keypoints_2d
        motion = cleaned.motion
        for warning in cleaned.warnings:
            report.warn(warning)
    motion.cameras = cameras.moved(motion.camera_extrinsics if motion.camera_extrinsics is not None else np.eye(4))
    return motion


def multiview_cleanup(cleanup: CleanupSettings) -> CleanupSettings:
    """``cleanup`` for a take whose root and feet several cameras saw: what one camera's cleanup does for
    its unseen depth is left out, as it moves what the cameras measured.

    - The root is neither anchored on camera 0's foot rays nor shifted along the floor by the foot lock
      (the legs alone plant the feet), nor moved onto a parabola in flight (``flight``: the move runs across
      camera 0's line of sight, which the cameras measured).
    - Contacts are not carried on by camera 0's picture (``contact_pass``: a stance its heel or toe
      landmark still stands near, a foot slower than 1 m/s while the other is in the air): a foot
      that swings along camera 0's ray stands still in its picture, and holding it there bent the leg. For
      the same reason camera 0's picture does not join two stances the cameras place apart
      (``same_place_pictured``).
      Rendered four-phone take, true rig (``bench multiview``): offset-free limb PA-MPJPE 53.5 -> 44.4 mm
      with 2 cameras, 26.6 -> 23.0 with 4; world MPJPE 96 -> 75 and 53 -> 41 mm; skate 0.4-0.7 mm either way.
    - A foot is planted only while camera 0's picture shows it still within ``IMAGE_SPEED_ON`` (0.15 m/s,
      not one camera's 0.3): a foot swinging along camera 0's ray is slow in its picture, and the foot lock
      dragged such a planted foot to its held place (``IMAGE_SPEED_ON`` for the figures).
    """
    carries = dataclasses.replace(cleanup.contact_pass, max_frames=0, support_frames=0, same_place_pictured=False)
    contacts = dataclasses.replace(cleanup.contacts, image_speed_on=min(cleanup.contacts.image_speed_on,
                                                                        IMAGE_SPEED_ON))
    return dataclasses.replace(cleanup, anchor_root=False, lock_root=False, contact_pass=carries, contacts=contacts,
                               flight=dataclasses.replace(cleanup.flight, enabled=False))


VOTE_SPEED_ON = 0.2
"""m/s: how slow each view's picture must show a foot for its vote (``voted_contacts``) with three cameras or more
(two cameras: ``IMAGE_SPEED_ON``, as either view plants a foot; one camera's cleanup 0.3)."""


def voted_contacts(motion: Motion, others: list[PoseSequence], cleanup: CleanupSettings,
                   one: CleanupSettings, alone: np.ndarray | None = None) -> np.ndarray | None:
    """(T, 4) the feet's contacts (``core.cleanup.floor.PROXIES``) of the fitted take ``motion`` (camera 0's
    picture its ``keypoints_2d``) as every camera's picture tells them: camera 0's and each of ``others`` (the
    further views, on camera 0's frames, their sides made consistent) finds them as the cleanup ``cleanup``
    finds them in one picture, and they vote. Two cameras: a foot is planted where either view shows it still
    (under ``IMAGE_SPEED_ON``); three or more: where more than half of the views that see it show it still
    (each under ``VOTE_SPEED_ON``, or ``one``'s own threshold if lower), so a foot two views see needs both.
    None (the cleanup finds them in camera 0's picture) unless the foot lock goes by speed ("auto"). On the
    frames ``alone`` ((T,) bool: fewer than two cameras film the person, :func:`_one_camera_frames`) no picture
    plants a foot, as camera 0's does not there (:func:`_feet_unseen_where_alone`): the one camera's depth guess
    would hold the stance (a walk filmed by camera 1 alone for 34 frames, 15 cm off in depth there: its heel
    was held 94 mm off the truth on the frames after, 2 mm with the feet unseen).

    Camera 0's picture alone misses stances: where its labels of the feet are unsure (a view from behind, the
    feet crossing) a planted foot jumps in it and reads moving; another view sees it still. On the rendered
    12 s four-phone take (true rig, ``bench multiview --take long``) the fitted feet moved 5-8 cm a frame on
    true stances camera 0 read moving (cameras 0-2, frames 196-202), and the cleanup's swap of camera 0's
    feet labels (``core.cleanup.contacts.foot_swaps``: labels the views had already settled, swapped back on
    frames 85-88) moved the 4-camera take's true-contact skate from 2.0 to 2.9 mm. Figures in the README."""
    if cleanup.foot_lock != "auto" or motion.keypoints_2d is None or not others:
        return None
    kp = np.asarray(motion.keypoints_2d)
    if kp.ndim != 3 or kp.shape[1] < NUM_BODY or any(o.num_frames != len(kp) for o in others):
        return None
    many = len(others) >= 2
    if many:
        speed = min(one.contacts.image_speed_on, VOTE_SPEED_ON)
        cleanup = dataclasses.replace(cleanup, contacts=dataclasses.replace(cleanup.contacts, image_speed_on=speed))
    cleanup = dataclasses.replace(cleanup, foot_lock="off")  # the contacts alone: found as with the lock on
    pictures = [kp]
    for view in others:
        picture = np.array(kp, copy=True)
        picture[:, :NUM_BODY] = np.nan_to_num(view.body_2d, nan=0.0)  # as motion_from_fit keeps camera 0's
        if alone is not None and len(alone) == len(picture):
            picture[np.ix_(np.asarray(alone, bool), IMAGE_FEET, [2])] = 0.0
        pictures.append(picture)
    # A foot behind the other leg (``contacts.behind_a_standing_leg``) is judged by its distance from the camera,
    # and the take holds camera 0's alone: another view's picture goes without that rule.
    elsewhere = dataclasses.replace(cleanup, contacts=dataclasses.replace(cleanup.contacts, behind_share=0.0))
    votes = np.stack([clean_motion(dataclasses.replace(motion, keypoints_2d=p), elsewhere if k else cleanup).contacts
                      for k, p in enumerate(pictures)])
    seen = np.stack([feet_seen(p, len(p)) for p in pictures])
    still = (votes & seen).sum(0)
    return 2 * still > seen.sum(0) if many else still > 0


def _one_camera_frames(base: list[PoseSequence]) -> np.ndarray:
    """(T,) bool: the frames of the views ``base`` (on camera 0's frames) fewer than two of them show the person on
    (phones started at different times: before the last one rolls and after the first one stops)."""
    shown = np.stack([s.present & np.isfinite(s.body_2d[..., :2]).all(-1).any(-1) for s in base])
    return shown.sum(0) < 2


def _feet_unseen_where_alone(motion: Motion, alone: np.ndarray) -> Motion:
    """``motion`` for the cleanup: camera 0's feet marked unseen (visibility 0) on the frames ``alone`` (T,) one
    camera films (``_one_camera_frames``), so no contact starts there and no sole sets the floor. The fit's feet
    there are camera 0's one-view guess in depth; a stance running from them into the frames every camera films
    was held at the median of both (``core.cleanup.footlock``), and on the rendered four-phone take (cameras 0
    and 1, true rig) the right foot's first stance held it 14-20 cm off on the first 15 frames both cameras film
    (fitted there, 3-5 cm). The motion is copied only where something changes; the cleanup changes no landmark,
    so the caller puts the unchanged ones back on its result."""
    kp = motion.keypoints_2d
    if kp is None or not alone.any() or kp.shape[0] != len(alone) or kp.shape[1] < NUM_BODY:
        return motion
    hidden = np.array(kp, copy=True)
    hidden[np.ix_(alone, IMAGE_FEET, [2])] = 0.0  # the cleanup's contact proxies
    return dataclasses.replace(motion, keypoints_2d=hidden)


def _find_everyone(videos: list[str | Path], settings: MultiCaptureSettings, chosen: Any, body: Any,
                   emit: Callable[[Event], None] | None, should_cancel: Callable[[], bool] | None, *,
                   known: list[float] | None = None, given: CameraRig | None = None,
                   ) -> tuple[list[PoseSequence], list[np.ndarray], list[float], list[bool]]:
    """The pose stage of every video: (landmarks, intrinsics from the field of view, the video's fps, whether
    that field of view is only the default: neither given nor in the video's metadata) each.

    Video 1 follows the ``--person`` pick, else its most prominent person; with the offsets ``known`` before
    (``--offsets`` or the sound) and following on, every further video follows the person who agrees with
    video 1's on the epipolar lines (``_same_person_pick``), not its own most prominent one."""
    one = settings.capture
    stride, mirror, torch_pose = pose_plan(one, chosen)
    seqs: list[PoseSequence] = []
    Ks, fps, guessed = [], [], []
    for k, video in enumerate(videos):
        report = _ViewReporter(emit, k, len(videos))
        report.stage("decoding", f"opening video {k + 1} of {len(videos)}, {Path(video).name}")
        info = open_video(video)
        end, expected = frame_range(one, info, stride)
        hfov, source = camera_fov(one, info.path, info.width, info.height)
        view = one if k == 0 else dataclasses.replace(one, person=None)  # a pick is a pixel of video 0
        if k > 0 and known is not None and one.pose.follow:
            F = None if given is None else fundamental_from_rig(given, 0, k)
            pick = _same_person_pick(seqs[0], fps[0], info, known[k], view, stride, end, F, should_cancel)
            if pick is not None:
                report.stage("pose", f"video {k + 1}: following the person who matches video 1's ({pick})")
                view = dataclasses.replace(view, person=str(pick))
        seq = find_person(view, info, body, report, end=end, stride=stride, expected=expected, mirror=mirror,
                           torch_pose=torch_pose, should_cancel=should_cancel)
        mark_outside(seq)
        repair_swaps(seq)
        seqs.append(seq)
        Ks.append(default_intrinsics(info.width, info.height, hfov))
        guessed.append(source == FOV_GUESSED)
        fps.append(float(info.fps))
    return seqs, Ks, fps, guessed


PICK_FRAMES = 20
"""Analysed frames, from the first one both videos film, in which a further video's people are found and
compared with video 1's person (``_same_person_pick``)."""


def _same_person_pick(first: PoseSequence, first_fps: float, info: Any, offset: float, one: CaptureSettings,
                      stride: int, end: int, F: np.ndarray | None,
                      should_cancel: Callable[[], bool] | None) -> PersonPick | None:
    """Whom the video ``info`` (starting ``offset`` seconds after video 1) should follow: a pick on the one of
    its people (everyone in its first ``PICK_FRAMES`` frames both videos film, ``core.pose_torch.people``) whose
    keypoints agree with ``first`` (video 1's person, video 1 at ``first_fps``) on the epipolar lines:
    ``F`` the rig's fundamental matrix, or None to fit one to each candidate's pairs
    (``core.multiview.match.same_person``). None: one person or none in view (its own pick is as good), or
    nobody agrees."""
    from .people import sequences_of
    from .pose_torch.people import track_people

    # the video's analysed frame showing each of video 1's frames
    there = one.start + stride * np.round(((first.frame_indices / first_fps - offset) * info.fps - one.start) / stride)
    rows = np.flatnonzero((there >= one.start) & (there < end) & first.present)
    if not len(rows):
        return None
    wanted = int(there[rows[0]])
    pose = dataclasses.replace(torch_pose_settings(one), batch_size=1, redetect=False, hands=False)
    frames = iter_frames(info, start=wanted, end=min(end, wanted + stride * PICK_FRAMES), stride=stride,
                         max_size=POSE_MAX_SIZE, should_cancel=should_cancel)
    indices, track = track_people(frames, fps=info.fps / stride, settings=pose, should_cancel=should_cancel)
    people = sequences_of(indices, track, info.fps / stride, (info.width, info.height)) if indices else []
    return pick_among(first, there, people, (info.width, info.height), F) if len(people) > 1 else None


def pick_among(first: PoseSequence, there: np.ndarray, people: list[PoseSequence], size: tuple[int, int],
               F: np.ndarray | None) -> PersonPick | None:
    """A pick (its mid-hip, on its first frame) on the one of ``people`` (another video's, frame numbers of that
    video, ``size`` its width and height) that is ``first`` (video 1's person), ``there`` (T,) being the other
    video's frame that shows each of ``first``'s frames; None when none agrees (``match.same_person`` with the
    rig's fundamental matrix ``F``, or None to fit one per candidate)."""
    q = same_person(*_side_by_side(first, there, people),
                    MATCH_FRACTION * float(max(np.hypot(*first.image_size), np.hypot(*size))), F)
    if q is None:
        return None
    j = int(np.flatnonzero(people[q].present)[0])
    hip = np.nanmean(people[q].body_2d[j, [23, 24], :2], axis=0)
    return PersonPick(float(np.round(hip[0])), float(np.round(hip[1])), int(people[q].frame_indices[j]))


def _side_by_side(first: PoseSequence, there: np.ndarray, people: list[PoseSequence],
                  ) -> tuple[np.ndarray, list[np.ndarray]]:
    """(video 1's person (W, 33, 3), each of ``people``'s (W, 33, 3), NaN where not found) on the W frames of
    video 1 where it was found, shown at frame ``there[row]`` of the other video, that the other video's
    ``people`` were looked for in."""
    rows = np.flatnonzero(first.present)
    looked = {int(f) for person in people for f in person.frame_indices}
    shown = [int(r) for r in rows if int(there[r]) in looked]
    at = {int(there[r]): i for i, r in enumerate(shown)}
    reference = np.asarray(first.body_2d[shown], np.float64)
    candidates = []
    for person in people:
        keypoints = np.full(reference.shape, np.nan)
        for j, f in enumerate(person.frame_indices):
            if int(f) in at and person.present[j]:
                keypoints[at[int(f)]] = person.body_2d[j]
        candidates.append(keypoints)
    return reference, candidates


def _known_offsets(settings: MultiCaptureSettings, videos: list[str | Path], report: Reporter) -> list[float] | None:
    """Seconds from video 0's first frame to each video's first frame, known before the pose stage
    (``--offsets``, else the sound tracks); None when neither tells (see ``MultiCaptureSettings``)."""
    if settings.offsets is not None:
        return [float(o) - float(settings.offsets[0]) for o in settings.offsets]
    found = sync.audio_offsets([str(v) for v in videos])
    if found is None:
        return None
    report.stage("pose", "videos synced by their sound")
    return [float(o) for o in found]


def _motion_offsets(seqs: list[PoseSequence], report: Reporter) -> list[float]:
    """The offsets from the person's motion, when nothing told them before the pose stage."""
    report.warn("no usable sound in the videos: synced by the person's motion (within about a frame)")
    return [float(o) for o in sync.motion_offsets(seqs)]


def _on_clock(seq: PoseSequence, base: PoseSequence, base_fps: float, offset: float) -> PoseSequence:
    """``seq`` (a video that started ``offset`` seconds after video 0) on ``base``'s frames (video 0's
    analysed frames, ``base_fps`` its video's rate), interpolated (``core.multiview.sync.resample``)."""
    first = float(base.frame_indices[0]) / base_fps if base.num_frames else 0.0
    out = sync.resample(seq, offset - first, base.fps, base.num_frames)
    return dataclasses.replace(out, frame_indices=base.frame_indices.copy())


def _triangulated(base: list[PoseSequence], rig: CameraRig) -> tuple[PoseSequence, np.ndarray]:
    """Video 0's landmarks with the triangulated body as its 3D landmarks, and the mid-hip (T, 3) in camera
    0's frame (NaN where not triangulated).

    The 3D landmarks are in camera 0's axes, relative to the mid-hip, visibility 1 where at least two views
    agree; a limb point one view alone saw is put on that view's ray, a bone from its triangulated parent
    (``triangulate.hang_on_parents``), visibility ``ONE_VIEW_WEIGHT``; any other point (or frame) the views do
    not agree on keeps MediaPipe's own with visibility 0, so the frame still counts and the 3D term ignores it."""
    from .fit.lifting import camera_from_view

    uv, confidence = view_keypoints(base)
    points, _ = triangulate(uv, confidence, rig)                            # NaN where fewer than 2 views agree
    # each view's own 3D, turned from its view of the person into its camera's axes, then into the world's
    own = np.stack([camera_from_view(s.body_world[..., :3], s.body_2d, K) @ rig.R[k]
                    for k, (s, K) in enumerate(zip(base, rig.K))])
    points, hung = hang_on_parents(points, own, uv, confidence, rig)
    cam0 = points @ rig.R[0].T + rig.t[0]                                   # (T, 33, 3)
    mid = 0.5 * (cam0[:, 23] + cam0[:, 24])
    seen = np.isfinite(cam0).all(-1) & np.isfinite(mid).all(-1)[:, None]
    weight = np.where(hung, ONE_VIEW_WEIGHT, 1.0)[..., None]
    mine = np.array(base[0].body_world, np.float64)
    world = np.where(seen[..., None], np.concatenate([cam0 - mid[:, None], weight], -1),
                     np.concatenate([mine[..., :3], np.zeros_like(mine[..., :1])], -1))
    return dataclasses.replace(base[0], body_world=world.astype(base[0].body_world.dtype)), mid


def _camera_names(videos: list[str | Path]) -> list[str]:
    """A name per camera: its video's stem, numbered when two videos share one (``cam_1/clip.mp4``, ``cam_2/clip.mp4``)."""
    stems = [Path(v).stem for v in videos]
    return stems if len(set(stems)) == len(stems) else [f"{k + 1}_{s}" for k, s in enumerate(stems)]


def _given_rig(settings: MultiCaptureSettings, count: int) -> CameraRig | None:
    """The ``--calibration`` rig (None without one), and the offsets and rig checked against ``count`` videos."""
    if settings.offsets is not None and len(settings.offsets) != count:
        raise MocapError(f"--offsets gives {len(settings.offsets)} values for {count} videos: "
                         "give one per video, the first 0")
    if settings.calibration is None:
        return None
    rig = read_calibration(settings.calibration)  # ours (.json), Pose2Sim/anipose .toml, OpenCV .yml/.xml
    if rig.num_cameras != count:
        raise MocapError(f"--calibration {settings.calibration} holds {rig.num_cameras} cameras for "
                         f"{count} videos: give a rig of these cameras, in the videos' order")
    return rig


MOTION_SYNC_TIMING_CAMERAS = 3
"""The most cameras whose calibration from the person is told a frame's timing error where the person's motion
synced the videos (``calibration_timing_error``)."""


def calibration_timing_error(known: list[float] | None, seqs: list[PoseSequence]) -> float:
    """Seconds the offsets may be off for the calibration from the person: a frame of the analysed rate where the
    person's motion synced the videos (``known`` None: neither ``--offsets`` nor the sound), for at most
    ``MOTION_SYNC_TIMING_CAMERAS`` cameras, else 0. On the rendered four-phone take synced so (README, "Offsets
    a frame off"): 2 cameras 2.1 cm / 2.7 degrees -> 1.1 / 1.4 and the take's world MPJPE 130 -> 73 mm; three of
    its cameras (calibration alone) 7.6 -> 6.2 and 11.3 -> 10.3 cm; all four 4.2 cm either way, but the take's
    world MPJPE 57 -> 62 mm and PA 0.33x -> 0.36x, so four and more keep 0."""
    if known is not None or len(seqs) > MOTION_SYNC_TIMING_CAMERAS:
        return 0.0
    return 1.0 / float(seqs[0].fps)


FOCAL_REFINEMENT_CAMERAS = 4
"""The fewest cameras whose calibration from the person refines the focal lengths the videos do not state
(``focal_refinement``): with fewer, the guess (``core.video.DEFAULT_HFOV_DEGREES``) is kept."""


FOV_ADVICE = ("--fov gives every video the same horizontal field of view (across its width, as filmed): give it "
              "when all the cameras have that lens and are held the same way up; a video whose lens is stated "
              "(its metadata) is then overridden too")
"""What the warnings about unstated lenses advise: ``--fov`` is one value for every video (``core.capture.camera_fov``:
the user's value beats the metadata), right for a rig of alike phones, wrong for a portrait phone among landscape
ones (a 26 mm lens reads 67 degrees across a landscape frame, 41 across a portrait one)."""


def focal_refinement(guessed: list[bool]) -> list[bool]:
    """Which cameras' focal lengths the calibration from the person refines: those whose lens is only guessed
    (``guessed``: no ``--fov``, nothing in the video's metadata), with ``FOCAL_REFINEMENT_CAMERAS`` or more
    cameras. Cameras that all look at the person have optical axes that nearly meet, where two views' epipolar
    geometry says nothing of their focal lengths: only the person's depth and bone lengths do. On the rendered
    four-phone take, the lenses guessed (60 degrees: the portrait phone's focal length 23% short, the widest
    phone's 21% long; December 2026, ``multiview_motion`` on the cached landmarks, true offsets, balanced preset,
    kept -> refined): 4 cameras 43.9 cm / 2.90 degrees -> 21.4 / 2.72 (the 12 s take 48.2 / 2.21 -> 37.7 /
    1.63), the take's world MPJPE 339 -> 108 mm (371 -> 92), offset-free PA-MPJPE 23.2 -> 23.3 mm (29.3 ->
    28.3). With 3 cameras (0-2) 48.2 -> 54.3 cm, world 222 -> 233 mm (12 s: 48.0 -> 41.4 cm, 265 -> 334 mm);
    with 2 (0-1) 6.8 / 8.94 -> 2.6 / 3.21, world 701 -> 196 mm (12 s: 846 -> 353), but on a 1.6 s take of two
    phones (``test_capture_multi``'s) the first phone's focal length went 15% off where the guess was right and
    the second's 26% long where it was 19% short, the body in the first one's frame 75 -> 392 mm off: so 2 and
    3 cameras keep the guess. README, "A lens the video does not state"."""
    return [bool(g) and len(guessed) >= FOCAL_REFINEMENT_CAMERAS for g in guessed]


def _rig(settings: MultiCaptureSettings, given: CameraRig | None, videos: list[str | Path], seqs: list[PoseSequence],
         Ks: list[np.ndarray], report: Reporter, timing_error: float = 0.0,
         guessed_lenses: list[bool] | None = None) -> CameraRig:
    """The cameras: the rig file's (checked against the videos), or calibrated from the person, its fast
    keypoints counting less when the offsets may be ``timing_error`` seconds off: synced by the person's
    motion (0.3-0.75 frame off on the rendered four-phone take), the 2-camera rig came out 2.1 cm / 2.7
    degrees off and its take's world MPJPE 130 mm, told a frame 1.1 cm / 1.4 and 73 mm (4 cameras: 4.2 cm /
    2.2 and 57 mm, told a frame 4.2 / 2.3 and 62 mm; README, "Offsets a frame off"); the focal lengths of the
    ``guessed_lenses`` refined with them from ``FOCAL_REFINEMENT_CAMERAS`` cameras on, else a warning says the
    guess stays (README, "A lens the video does not state")."""
    sizes = [tuple(int(v) for v in s.image_size) for s in seqs]
    if given is not None:
        rig = given
        for k, size in enumerate(sizes):
            if tuple(int(v) for v in rig.image_sizes[k]) != size:
                raise MocapError(f"--calibration: camera {k} ({rig.names[k]}) is {rig.image_sizes[k][0]}x"
                                 f"{rig.image_sizes[k][1]} but video {k + 1} is {size[0]}x{size[1]}: the rig "
                                 "lists its cameras in another order, or is of another rig")
        report.stage("pose", f"cameras from {Path(str(settings.calibration)).name}")
        kept = [k for k, lens in enumerate(rig.lenses or ()) if lens == "guessed"]
        if kept:
            report.warn(f"--calibration {Path(str(settings.calibration)).name}: camera"
                        f"{'s' * (len(kept) > 1)} {', '.join(rig.names[k] for k in kept)} kept the "
                        f"{DEFAULT_HFOV_DEGREES:g} degree guess for a lens the videos did not state when it was "
                        "calibrated: the cameras and the person's place can be tens of centimetres off where that "
                        "is wrong; calibrate again with the lenses (--fov) or with four cameras or more")
    else:
        from .multiview import calibrate  # SciPy: imported only when it calibrates

        guessed = list(guessed_lenses) if guessed_lenses is not None else [False] * len(videos)
        refine_focal = focal_refinement(guessed)
        numbers = [str(k + 1) for k, g in enumerate(guessed) if g]
        many = len(numbers) > 1
        unstated = f"video{'s' * many} {', '.join(numbers)}"
        if numbers:
            report.warn(f"{unstated} {'do' if many else 'does'} not state {'their' if many else 'its'} lens: "
                        "the calibration from the person " + (
                            "refines the guessed focal lengths, which on a rendered four-phone take still left the "
                            "cameras 20-40 cm off (5-6 cm with every lens known). " if any(refine_focal) else
                            f"assumes {DEFAULT_HFOV_DEGREES:g} degrees across the width and, with fewer than "
                            f"{FOCAL_REFINEMENT_CAMERAS} cameras, keeps it; the cameras and the person's place can "
                            "be tens of centimetres off where that is wrong. ") + FOV_ADVICE)
        report.stage("pose", f"calibrating {len(videos)} cameras from the person" + (
            f" with the focal lengths of {unstated}, whose lens is not stated" if any(refine_focal) else ""))
        rig = calibrate.calibrate_from_person(seqs, Ks, person_height=settings.person_height,
                                              names=_camera_names(videos), timing_error=timing_error,
                                              refine_focal=refine_focal)
        rig = dataclasses.replace(rig, lenses=tuple("refined" if r else "guessed" if g else "stated"
                                                     for r, g in zip(refine_focal, guessed)))
    return rig


REFINE_DEGREES = 1.0
REFINE_CENTRE_M = 0.03
"""The priors of ``camera_refinement``: how far a camera calibrated from the person may turn and move with the
body. World MPJPE on the rendered take (sound's offsets; prior 1 deg / 3 cm, 1.5 / 5, 3 / 10, 6 / 20; not
refined): cameras 0+1 57.6, 60.0, 61.3, 61.2 (68.1); all four 46.3, 47.6, 48.8, 48.1 (59.5); 0+1+3 55.0, 60.6,
64.4, 64.6 (64.1); 0+1+2 74.3, 73.2, 73.2, 73.0 (84.0); the four-video motion sync's offsets on 0+1 74.2, 78.0,
78.4, 81.3 (69.2); the 1.6 s two-phone test take 76.0, 76.2, 78.4 at 1 / 3 / 10 deg-cm pairs (89.2)."""


def camera_refinement(given: CameraRig | None) -> Any:
    """How ``capture_multi`` refines cameras 2.. inside the fit: a ``CameraRefinement`` with priors of
    ``REFINE_DEGREES`` and ``REFINE_CENTRE_M`` when they were calibrated from the person (``given`` None), None
    (kept as they are) for a ``--calibration`` rig.

    Rendered four-phone take, cameras calibrated from the person (true intrinsics, ``multiview_motion`` on the
    cached landmarks, balanced preset), world MPJPE as calibrated -> refined, the sound's / the motion sync's
    offsets: cameras 0+1 68 -> 58 / 65 -> 60 mm, 0+1+2 84 -> 74 / 120 -> 101, all four 60 -> 46 / 60 -> 47, 0+3
    62 -> 60 / 61 -> 56, 0+1+3 58-64 -> 55 / 84 -> 67, 0+2+3 79 -> 71 / 77 -> 67, 0+2 (opposite) 334 -> 238 /
    297 -> 225; worse only on 0+1 with the offsets the four videos' motion sync gives (0.4 frame off), 69 -> 74.
    Offset-free limb PA-MPJPE within a millimetre but 0+1+2 with sound (25.2 -> 27.0 mm). The refined cameras
    end further from the true ones: the body's bones hold where the person is, MediaPipe's per-view bias moves
    the cameras to fit it. A true rig refined so moved the person away from the truth (cameras 0+1 47 -> 57 mm,
    all four 39 -> 43), so a measured rig stays as measured. The 1.6 s two-phone test take: 89 -> 76 mm; with
    the field-of-view default for both cameras (no lens metadata, the calibration then 400 mm off) 399 -> 432."""
    if given is not None:
        return None
    from .fit.optimize.views import CameraRefinement

    return CameraRefinement(rotation_degrees=REFINE_DEGREES, centre_m=REFINE_CENTRE_M)


def _moves(before: CameraRig, after: CameraRig) -> tuple[float, float]:
    """How far the cameras of ``after`` are from those of ``before``: the largest centre move (metres) and turn
    (degrees)."""
    moved = np.linalg.norm(after.centres() - before.centres(), axis=-1)
    turned = np.linalg.norm(matrix_to_axis_angle(after.R @ np.transpose(before.R, (0, 2, 1))), axis=-1)
    return float(moved.max(initial=0.0)), float(np.degrees(turned).max(initial=0.0))


def _refined(rig: CameraRig, R: np.ndarray, t: np.ndarray) -> tuple[CameraRig, np.ndarray]:
    """``rig`` with cameras 1.. as the fit refined them (``R`` (C-1, 3, 3), ``t`` (C-1, 3) camera-k-from-camera-0),
    and its (C, 4, 4) camera-k-from-camera-0 extrinsics."""
    rel = np.tile(np.eye(4), (rig.num_cameras, 1, 1))
    rel[1:, :3, :3], rel[1:, :3, 3] = R, t
    world = rel @ rig.extrinsics()[0]
    return dataclasses.replace(rig, R=world[:, :3, :3], t=world[:, :3, 3]), rel
