"""Live capture (issue 19): a 640x480 30 fps file played in real time into the loopback socket.

Run: python3 dev.py bench live [--seconds 30] [--no-quality | --quality-only | --holds] [--uncleaned-reference]
     [--lag FRAMES]   (or: <dev python> bench/live.py ...)

1. Baseline, in this process first: MediaPipe Pose alone, one frame at a time, on the same
   frames (the pose stage's own speed; the live path can never beat it).
2. Live: ``python -m core live CLIP --realtime --send 127.0.0.1:PORT`` for ``--seconds``; a
   receiver here (as the add-on's) timestamps every datagram: delivered fps, glass-to-pose latency
   (the engine's frame read -> the pose received here) median and p95, drift (latency of the last
   quarter against the first), the engine's memory (RSS, first and last quarter), load average.
3. Quality: the same clip's 230 frames, every frame solved (no ``--realtime``), against the
   reference the target is judged on: the offline balanced take of **the same 640x480 clip** (issue 19: "the
   offline balanced take of the same clip"; the same pixels, so no resolution disagreement), on its trusted
   frames (its bridged frames and ``REFERENCE_WRONG`` left out), after checking that it is on the man (its 2D
   mid-hip against the demo's hand annotation scaled into the letterbox, :func:`reference_on_him`: it followed
   the woman from frame 182 until the offline following improved): the 12 limb joints in the camera frame after
   root alignment, median mm, per joint, the flip and landing (``FLIP_FRAMES``) and the other frames apart;
   also where both takes hold the same person. Also against the offline take of the **full-resolution** demo
   (the reference from December 2026 until this one was trusted again), and the two offline takes against each
   other on the frames both trust (what a reference is good to); the jitter outside the flip (the limb joints'
   mean acceleration) of live and of the reference. Live is run three times: ``--lag 0`` (the One Euro filter, the
   default until December 2026: the unprefixed figures), ``--lag 1`` (the default: each pose 33 ms late, the line
   through the frames around it, ``core.live.lag``; prefix ``lag_1_``) and ``--lag 2`` (``lag_2_``).
   Then the per-frame refinement's steps
   (``core.live.refine``, 0-3) on the same landmarks, replayed in this process: each one's median and its
   solve's cost, paired.
4. ``--holds`` (alone): the speed run's clip replayed frame by frame (none dropped: the same every run) through
   the engine's pose, follow and second look: the frames the stream would hold the person's pose on (nobody taken
   for them), playing forwards and backwards, the longest hold, the worst 10 s.
   ``--uncleaned-reference``: also against the same clip's offline take without its cleanup (``--no-cleanup``:
   no floor, foot locking or smoothing, which live does not do), and how far the cleanup moved its joints.

The clip: the demo clip letterboxed into 640x480, played forwards then backwards as often as the
run needs (written once into the cache). Ratios are against the baseline. Writes
bench/results/live.json. GPU: the live path runs MediaPipe on the CPU; on CUDA a row says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from _results import write_results  # noqa: E402

from core.live.session import STAGES  # noqa: E402
from core.skeleton import JOINT_INDEX, LIMB_JOINTS  # noqa: E402

WIDTH, HEIGHT, FPS = 640, 480, 30.0


def demo_frames() -> list[np.ndarray]:
    """The demo clip's frames letterboxed into 640x480 BGR."""
    import cv2

    import dev

    cap = cv2.VideoCapture(str(dev.demo_clip()))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        h = round(bgr.shape[0] * WIDTH / bgr.shape[1])
        small = cv2.resize(bgr, (WIDTH, h), interpolation=cv2.INTER_AREA)
        top = (HEIGHT - h) // 2
        frames.append(cv2.copyMakeBorder(small, top, HEIGHT - h - top, 0, 0, cv2.BORDER_CONSTANT))
    cap.release()
    return frames


def clip(frames: list[np.ndarray], seconds: float, name: str, lossless: bool = False) -> Path:
    """A 30 fps video of ``frames`` played forwards and backwards until it lasts ``seconds`` (cached): MP4
    (mp4v), or with ``lossless`` FFV1 in Matroska. The quality run takes the lossless one: mp4v at OpenCV's
    quality blurs the man on the box enough to move MediaPipe's landmarks, and the live figure against the
    offline take with them (76 mm median against 60 on the frames themselves, December 2026), an error of
    the bench's re-encoding that no camera stream has."""
    import cv2

    import dev

    path = dev.CACHE / "bench" / f"{name}.{'mkv' if lossless else 'mp4'}"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    loop = frames + frames[-2:0:-1]
    count = max(len(frames), int(seconds * FPS))
    part = path.with_name(f"{path.stem}.part{path.suffix}")
    writer = cv2.VideoWriter(str(part), cv2.VideoWriter_fourcc(*("FFV1" if lossless else "mp4v")), FPS,
                             (WIDTH, HEIGHT))
    for i in range(count):
        writer.write(loop[i % len(loop)])
    writer.release()
    part.rename(path)
    return path


def pose_alone(frames: list[np.ndarray]) -> float:
    """Milliseconds per frame of MediaPipe Pose alone (tracking), median, after a warm-up frame."""
    import cv2

    from core.live.pose import FramePose

    times = []
    with FramePose() as pose:
        for i, bgr in enumerate(frames):
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            began = time.perf_counter()
            pose.process(rgb, i, FPS)
            if i:
                times.append(time.perf_counter() - began)
    return 1000.0 * float(np.median(times))


class Receiver:
    """The add-on's receiver, reduced to timestamps: (received, message) for every datagram."""

    def __init__(self, keep: bool = False) -> None:
        from core.live.protocol import unpack

        self.unpack, self.keep = unpack, keep
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.arrivals: list[tuple[float, float, int, bool]] = []  # (received, captured, frame, held)
        self.frames: list = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            now = time.time()
            frame = self.unpack(data)
            self.arrivals.append((now, frame.captured, frame.frame, frame.held))
            if self.keep:
                self.frames.append(frame)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def run_engine(source: Path, receiver: Receiver, *extra: str) -> tuple[dict, list[float]]:
    """Run ``python -m core live`` into ``receiver``; (its done event's figures, RSS samples MB once a second)."""
    cmd = [sys.executable, "-m", "core", "live", str(source), "--send", f"127.0.0.1:{receiver.port}",
           "--progress", "json", *extra]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    memory: list[float] = []
    done: dict = {}

    def sample() -> None:
        while proc.poll() is None:
            value = rss_mb(proc.pid)
            if value is not None and receiver.arrivals:  # streaming: the warm-up's models are loaded
                memory.append(value)
            time.sleep(1.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{"):
            event = json.loads(line)
            if event["event"] == "done":
                done = event["quality"]
            elif event["event"] == "error":
                raise SystemExit(f"the live engine failed: {event['message']}")
    proc.wait()
    sampler.join()
    time.sleep(0.3)  # the last datagrams
    return done, memory


def live_run(source: Path, seconds: float, lag: int = 0) -> dict[str, float]:
    receiver = Receiver()
    done, memory = run_engine(source, receiver, "--realtime", "--seconds", str(seconds), "--lag", str(lag))
    receiver.close()
    arr = np.array(receiver.arrivals)
    if len(arr) < 10:
        raise SystemExit(f"only {len(arr)} poses arrived: is the machine overloaded?")
    latency = 1000.0 * (arr[:, 0] - arr[:, 1])
    span = arr[-1, 0] - arr[0, 0]
    last = arr[:, 0] >= arr[-1, 0] - 10.0  # the poses of the last 10 s, as the engine's medians
    q = max(len(latency) // 4, 1)
    mem_q = max(len(memory) // 4, 1)
    return {
        "delivered_fps": (len(arr) - 1) / span, "seconds": span, "poses_received": len(arr),
        "frames_dropped_by_engine": done.get("frames_dropped", float("nan")),
        "frames_someone_else": done.get("frames_someone_else", float("nan")),
        "frames_found_again": done.get("frames_found_again", float("nan")),
        "frames_sent_by_engine": done.get("frames_sent", float("nan")),
        "frames_held_by_engine": done.get("frames_held", float("nan")),
        "second_looks": done.get("second_looks", float("nan")),
        "turned_looks": done.get("turned_looks", float("nan")),
        "frames_found_turned": done.get("frames_found_turned", float("nan")),
        "longest_hold_s": done.get("longest_hold_s", float("nan")),
        "held_share_last_10s": float(np.mean(arr[last, 3])),
        "latency_median_ms": float(np.median(latency)), "latency_p95_ms": float(np.percentile(latency, 95)),
        "latency_first_quarter_ms": float(np.median(latency[:q])),
        "latency_last_quarter_ms": float(np.median(latency[-q:])),
        "drift_ms": float(np.median(latency[-q:]) - np.median(latency[:q])),
        "rss_first_quarter_mb": float(np.median(memory[:mem_q])) if memory else float("nan"),
        "rss_last_quarter_mb": float(np.median(memory[-mem_q:])) if memory else float("nan"),
        # a median of 0.0 ms is a figure (the filter with --lag: off), only a missing one is NaN
        **{f"engine_{name}_ms_median": float("nan") if done.get(f"{name}_ms_median") is None
           else done[f"{name}_ms_median"] for name in STAGES},
        "warmup_shape_ms": done.get("warmup_shape_ms") or float("nan"),
    }


FLIP_FRAMES = range(160, 201)
"""The demo's flip and landing: MediaPipe loses the man mid-flip (169-181: live holds his last pose), and the
solve of his body lying on the grass (187-200) is 100-250 mm off; the figures are also given without them."""
SAME_PERSON_DEGREES = 5.0
"""The two takes' pelvises seen within this angle of each other from the camera: the same person (the demo's
man and woman are 10-40 degrees apart where one take holds the other)."""


def camera_positions(poses: np.ndarray, trans: np.ndarray, rest: np.ndarray, E: np.ndarray) -> np.ndarray:
    """(T, 55, 3) joints in the camera frame, metres; ``E`` (4, 4) or per frame (T, 4, 4) camera-from-world."""
    from core.body.mannequin import forward_kinematics

    pos, _ = forward_kinematics(poses.reshape(len(poses), -1, 3).astype(np.float64), rest, trans)
    E = np.broadcast_to(np.asarray(E, np.float64), (len(pos), 4, 4))
    return np.einsum("tij,tkj->tki", E[:, :3, :3], pos) + E[:, None, :3, 3]


def limbs_and_ray(cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 12, 3) limb joints root-aligned (pelvis at 0) and (T, 3) unit rays from the camera to the pelvis, of
    :func:`camera_positions` ``cam`` (the forward kinematics run once for both)."""
    return (cam[:, [JOINT_INDEX[n] for n in LIMB_JOINTS]] - cam[:, :1],
            cam[:, 0] / np.linalg.norm(cam[:, 0], axis=1, keepdims=True))


Take = tuple  # (poses (T, 165), trans (T, 3), rest joints (55, 3), camera-from-world (4, 4) or (T, 4, 4))


def compare(a: Take, b: Take) -> tuple[np.ndarray, np.ndarray]:
    """(limb joint errors (T, 12) mm between two takes' frames, root-aligned in the camera's axes; (T,) True where
    both hold the same person: their pelvises seen within ``SAME_PERSON_DEGREES`` of each other)."""
    (limbs_a, ray_a), (limbs_b, ray_b) = limbs_and_ray(camera_positions(*a)), limbs_and_ray(camera_positions(*b))
    err = 1000.0 * np.linalg.norm(limbs_a - limbs_b, axis=-1)
    cosine = np.sum(ray_a * ray_b, axis=1)
    return err, np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))) < SAME_PERSON_DEGREES


def offline_take(video: Path, out: Path, *extra: str) -> tuple[object, float]:
    """The offline balanced take of ``video`` (written to ``out``; ``extra`` capture arguments) and its seconds."""
    from core.motion import read_motion

    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "core", "capture", str(video), "--out", str(out), "--preset", "balanced",
                    "--progress", "none", *extra], cwd=ROOT, check=True)
    return read_motion(out), time.perf_counter() - began


def of_take(motion, rows: list[int]) -> Take:
    return (motion.poses[rows], motion.trans[rows], np.asarray(motion.rest_joints, np.float64),
            np.asarray(motion.camera_extrinsics, np.float64))


REFERENCE_WRONG: tuple[tuple[int, int], ...] = ()
"""Spans of frames of a reference (an offline balanced take of the demo) that are not the man as he is, checked by
looking (its skeleton drawn over the frames): left out of the figures, with the take's bridged frames. None since
December 2026: it was ((0, 12), (66, 74)) for the full-resolution demo's take, where it turned him to face away
(its left wrist on the image's left) while he faces the camera on the box, because MediaPipe swapped his sides
and swapped them back over two frames, which the offline repair did not count (``core.landmarks.FacingFlips``
does). Through the flip and landing (166-200) both the full-resolution take and the 640x480 clip's own take now
stay on him (:func:`reference_on_him`; the 640x480 one followed the woman from 182 until the offline following
improved)."""

ANNOTATION = ROOT / "tests" / "testdata" / "demo_person.json"
"""The demo's man, annotated by hand every 10 frames (his pelvis pixel and height, full resolution)."""
IDENTITY_FRACTION = 0.10
"""A take is on the man where its 2D mid-hip is within this share of his height of his annotated pelvis (as
``bench/tracking.py``'s ``IDENTITY_FRACTION`` and ``bench/demo_identity.py``)."""


def reference_on_him(ref, letterboxed: bool) -> tuple[int, int, list[int]]:
    """(annotated frames the offline take ``ref`` is on the man, annotated frames, the frames it is not): its
    mid-hip projected with its own camera against the hand annotation, scaled into the 640x480 letterbox as
    :func:`demo_frames` makes it when ``letterboxed``."""
    from core.skeleton import JOINT_INDEX as J

    data = json.loads(ANNOTATION.read_text())
    marks = [m for m in data["frames"] if m["visible"]]
    scale, top = 1.0, 0.0
    if letterboxed:
        width, height = data["video_size"]
        scale = WIDTH / width
        top = (HEIGHT - round(height * scale)) // 2
    cam = camera_positions(*of_take(ref, list(range(len(ref.frame_indices)))))
    hips = 0.5 * (cam[:, J["left_hip"]] + cam[:, J["right_hip"]])
    uvw = hips @ np.asarray(ref.camera_intrinsics, np.float64).T
    uv = {int(f): p[:2] / p[2] for f, p in zip(ref.frame_indices, uvw)}
    missed = []
    for m in marks:
        want = np.array(m["pelvis"], float) * scale + [0.0, top]
        got = uv.get(int(m["frame"]))
        if got is None or np.linalg.norm(got - want) > IDENTITY_FRACTION * m["height"] * scale:
            missed.append(int(m["frame"]))
    return len(marks) - len(missed), len(marks), missed


def reference_frames(ref) -> tuple[set[int], list[str]]:
    """(the reference's trusted frame numbers, notes): all but its bridged frames and ``REFERENCE_WRONG``; a note
    when a span of ``REFERENCE_WRONG`` no longer faces away (the offline take changed: look again)."""
    from core.skeleton import JOINT_INDEX as J

    cam = camera_positions(*of_take(ref, list(range(len(ref.frame_indices)))))
    across = cam[:, J["left_shoulder"]] - cam[:, J["right_shoulder"]]
    up = cam[:, J["neck"]] - cam[:, J["pelvis"]]
    facing_z = np.cross(across, up)[:, 2]  # < 0: the chest faces the camera (OpenCV camera, z away from it)
    wrong, notes = set(), []
    for first, last in REFERENCE_WRONG:
        rows = [i for i, f in enumerate(ref.frame_indices) if first <= int(f) <= last]
        wrong |= {int(ref.frame_indices[i]) for i in rows}
        if rows and np.median(facing_z[rows]) < 0:
            notes.append(f"the reference faces the camera on {first}-{last} now: look at those frames again")
    trusted = {int(f) for f, b in zip(ref.frame_indices, ref.bridged) if not b and int(f) not in wrong}
    return trusted, notes


BONES = {"upper_arm": ("shoulder", "elbow"), "forearm": ("elbow", "wrist"), "thigh": ("hip", "knee"),
         "shank": ("knee", "ankle")}


def bone_lengths(rest: np.ndarray) -> dict[str, float]:
    """The limb bones (mean of the sides) and the shoulder and hip widths of ``rest`` (55, 3) joints, metres."""
    def d(a: str, b: str) -> float:
        return float(np.linalg.norm(rest[JOINT_INDEX[a]] - rest[JOINT_INDEX[b]]))

    out = {name: 0.5 * sum(d(f"{s}_{a}", f"{s}_{b}") for s in ("left", "right")) for name, (a, b) in BONES.items()}
    return {**out, "shoulders": d("left_shoulder", "right_shoulder"), "hips": d("left_hip", "right_hip")}


def live_take(source: Path, tmp: Path, *extra: str) -> Take:
    """The live engine's stream of ``source``, every frame solved (``extra``: live arguments): (poses, trans, rest
    joints, per-frame camera) with the frame numbers as a fifth item."""
    from core.motion import read_motion

    receiver = Receiver(keep=True)
    take = tmp / "rest.npz"
    run_engine(source, receiver, "--take", str(take), *extra)
    receiver.close()
    rest = read_motion(take)
    frames = sorted({f.frame: f for f in receiver.frames}.values(), key=lambda f: f.frame)
    # Each frame in its own camera: the stream's world turns as the camera's tilt is estimated (v2).
    return (np.stack([f.poses for f in frames]), np.stack([f.trans for f in frames]),
            np.asarray(rest.rest_joints, np.float64), np.stack([f.camera_extrinsics() for f in frames]),
            [f.frame for f in frames])


def against(live: Take, ref, trusted: set[int], prefix: str = "") -> dict:
    """Figures of ``live`` (with its frame numbers) against ``ref`` on the ``trusted`` frames."""
    index = {int(f): i for i, f in enumerate(ref.frame_indices)}
    keep = [k for k, f in enumerate(live[4]) if f in trusted and f in index]
    got: Take = (live[0][keep], live[1][keep], live[2], live[3][keep])
    want = of_take(ref, [index[live[4][k]] for k in keep])
    err, same = compare(got, want)
    pose_only, _ = compare((got[0], got[1], want[2], got[3]), want)
    per_frame = np.median(err, axis=1)
    flip = np.array([live[4][k] in FLIP_FRAMES for k in keep])
    frames = np.array([live[4][k] for k in keep])
    steady = (frames[2:] - frames[:-2] == 2) & ~flip[1:-1]  # three frames in a row, the middle one outside the flip
    return {f"{prefix}quality_frames": len(keep), f"{prefix}limb_median_mm": float(np.median(err)),
            f"{prefix}limb_p90_mm": float(np.percentile(err, 90)),
            f"{prefix}frames_over_150mm": int(np.sum(per_frame > 150.0)),
            f"{prefix}limb_median_mm_on_offline_skeleton": float(np.median(pose_only)),
            f"{prefix}limb_median_mm_same_person": float(np.median(err[same])) if same.any() else float("nan"),
            f"{prefix}limb_median_mm_flip": float(np.median(err[flip])) if flip.any() else float("nan"),
            f"{prefix}limb_median_mm_not_flip": float(np.median(err[~flip])) if (~flip).any() else float("nan"),
            f"{prefix}frames_other_person": int(np.sum(~same)),
            f"{prefix}limb_accel_mm": accel(got, steady), f"{prefix}reference_limb_accel_mm": accel(want, steady),
            **{f"{prefix}{name}_median_mm": float(np.median(err[same, j])) for j, name in enumerate(LIMB_JOINTS)}}


def accel(take: Take, steady: np.ndarray) -> float:
    """The mean acceleration of ``take``'s root-aligned limb joints, mm/frame^2, at the middles of its ``steady``
    (T - 2,) triples of frames: how much it jitters (the reference's, smoothed offline, for scale)."""
    limbs, _ = limbs_and_ray(camera_positions(*take))
    second = 1000.0 * np.linalg.norm(limbs[2:] - 2.0 * limbs[1:-1] + limbs[:-2], axis=-1)
    return float(second[steady].mean()) if steady.any() else float("nan")


def replay_landmarks(frames: Iterable[np.ndarray]) -> list:
    """Each frame's landmarks (``frames``: BGR, a list or read as they come) as the live engine finds them
    (MediaPipe Pose in tracking mode, the person followed, found again by a second look where the tracker lost
    them), one-frame PoseSequences."""
    import cv2

    from core.live.follow import LiveFollow
    from core.live.pose import FramePose
    from core.live.search import SEARCH_SECONDS, CropSearch
    from core.live.turned import TurnedSearch

    follow, out, turned = LiveFollow(), [], TurnedSearch(SEARCH_SECONDS)
    with FramePose() as pose, CropSearch() as search:
        for i, bgr in enumerate(frames):
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            seq = pose.process(follow.frame(rgb), i, FPS)
            if not follow.check(rgb, seq, i / FPS):  # the engine's second looks: turned, then MediaPipe in a crop
                seq = turned(rgb, follow, i, FPS) or search(rgb, follow, i, FPS) or seq
            out.append(seq)
    return out


REFINE_STEPS = (0, 1, 2, 3)


def refinement(frames: list[np.ndarray], ref, trusted: set[int]) -> dict:
    """The live solve with 0-3 refinement steps (``core.live.refine``) on the same landmarks, solvers fed each
    frame in turn (their timings paired): each one's limb median against ``ref`` and its solve's median ms."""
    import copy

    from core.live.refine import RefineSettings
    from core.live.solver import LiveSolver
    from core.video import DEFAULT_HFOV_DEGREES, default_intrinsics

    K = default_intrinsics(WIDTH, HEIGHT, DEFAULT_HFOV_DEGREES)
    solvers = {n: LiveSolver(K, None, refine=RefineSettings(steps=n)) for n in REFINE_STEPS}
    solved: dict[int, list] = {n: [] for n in REFINE_STEPS}
    ms: dict[int, list[float]] = {n: [] for n in REFINE_STEPS}
    for i, seq in enumerate(replay_landmarks(frames)):
        for n, solver in solvers.items():
            one = copy.deepcopy(seq)
            if not solver.ready:
                solver.warm_up(one, i / FPS)
                continue
            began = time.perf_counter()
            frame = solver.solve(one, i / FPS)
            ms[n].append(1000.0 * (time.perf_counter() - began))
            if frame is not None:
                solved[n].append((i, frame, solver.camera_extrinsics(frame.camera_height)))
    out: dict = {}
    for n in REFINE_STEPS:
        take = (np.stack([f.poses for _, f, _ in solved[n]]), np.stack([f.trans for _, f, _ in solved[n]]),
                solvers[n].rest_joints, np.stack([E for _, _, E in solved[n]]), [i for i, _, _ in solved[n]])
        out[f"refine_{n}_steps_limb_median_mm"] = against(take, ref, trusted)["limb_median_mm"]
        out[f"refine_{n}_steps_solve_ms_median"] = float(np.median(ms[n]))
        out[f"refine_{n}_steps_solve_over_0_steps"] = float(np.median(np.array(ms[n]) / np.array(ms[0])))
    return out


def as_live(motion) -> Take:
    """An offline take as :func:`live_take` gives one (its camera per frame, its frame numbers)."""
    rows = list(range(len(motion.frame_indices)))
    return (motion.poses, motion.trans, np.asarray(motion.rest_joints, np.float64),
            np.broadcast_to(np.asarray(motion.camera_extrinsics, np.float64), (len(rows), 4, 4)),
            [int(f) for f in motion.frame_indices])


def quality(source: Path, frames: list[np.ndarray], tmp: Path, uncleaned: bool = False) -> dict:
    """Live (every frame solved) against the reference the target is judged on, the offline balanced take of the
    same 640x480 clip, on its trusted frames (:func:`reference_frames`), and whether that take is on the man
    (:func:`reference_on_him`); against the offline take of the full-resolution demo (prefix
    ``full_resolution_reference_``), and the two offline takes against each other on the frames both trust
    (``offline_takes_apart_``); the refinement's steps compared on the same landmarks; with ``uncleaned`` also
    against the same clip's offline take without its cleanup."""
    import dev

    ref, offline_s = offline_take(source, tmp / "offline.npz")
    trusted, notes = reference_frames(ref)
    on_him, annotated, missed = reference_on_him(ref, letterboxed=True)
    full, _ = offline_take(dev.demo_clip(), tmp / "offline_full.npz")
    full_trusted, full_notes = reference_frames(full)
    full_on_him, _, full_missed = reference_on_him(full, letterboxed=False)
    live = live_take(source, tmp, "--lag", "0")  # the One Euro filter, no lag (the figures' meaning until now)
    figures = {"offline_capture_seconds": offline_s, "reference_frames_left_out": len(ref.frame_indices) - len(trusted),
               "reference_on_him": on_him, "reference_annotated": annotated, "reference_off_him": missed,
               "full_resolution_reference_on_him": full_on_him, "full_resolution_reference_off_him": full_missed,
               **against(live, ref, trusted), "reference_notes": notes + full_notes,
               **against(live, full, full_trusted, prefix="full_resolution_reference_"),
               **against(as_live(ref), full, trusted & full_trusted, prefix="offline_takes_apart_"),
               **{f"live_{k}_m": v for k, v in bone_lengths(live[2]).items()},
               **{f"reference_{k}_m": v for k, v in bone_lengths(np.asarray(ref.rest_joints, np.float64)).items()}}
    figures.update(refinement(frames, ref, trusted))
    lagged = live_take(source, tmp, "--lag", "1")
    figures.update(against(lagged, ref, trusted, prefix="lag_1_"))
    figures.update(against(lagged, full, full_trusted, prefix="lag_1_full_resolution_reference_"))
    lagged_2 = live_take(source, tmp, "--lag", "2")
    figures.update(against(lagged_2, ref, trusted, prefix="lag_2_"))
    if uncleaned:
        raw, _ = offline_take(source, tmp / "offline_uncleaned.npz", "--no-cleanup")
        figures.update(against(live, raw, trusted, prefix="uncleaned_reference_"))
        figures.update(against(lagged, raw, trusted, prefix="lag_1_uncleaned_reference_"))
        figures.update(against(lagged_2, raw, trusted, prefix="lag_2_uncleaned_reference_"))
        figures.update(against(as_live(raw), ref, trusted, prefix="cleanup_moved_"))
    return figures


def print_quality(figures: dict) -> None:
    def split(prefix: str = "") -> str:
        return (f"frames {FLIP_FRAMES.start}-{FLIP_FRAMES.stop - 1} (the flip and landing) "
                f"{figures[f'{prefix}limb_median_mm_flip']:.0f} mm, the others {figures[f'{prefix}limb_median_mm_not_flip']:.0f} mm")

    print(f"quality: live with --lag 0 (the One Euro filter, no lag; the default until December 2026), every frame "
          f"solved, against the offline balanced take of the same 640x480 clip (on the man "
          f"on {figures['reference_on_him']}/{figures['reference_annotated']} annotated frames"
          + (f", off him on {figures['reference_off_him']}" if figures["reference_off_him"] else "")
          + f"), on its {figures['quality_frames']:.0f} trusted frames ({figures['reference_frames_left_out']} left out: "
          f"REFERENCE_WRONG and bridged): limb joints {figures['limb_median_mm']:.0f} mm median (target <= 30), p90 "
          f"{figures['limb_p90_mm']:.0f} mm, {figures['frames_over_150mm']} frames over 150 mm; "
          f"{figures['limb_median_mm_same_person']:.0f} mm where both hold the same person "
          f"({figures['frames_other_person']} frames apart); "
          f"the live rotations on the offline skeleton: {figures['limb_median_mm_on_offline_skeleton']:.0f} mm; "
          + split())
    print("  per joint (same person): " + ", ".join(f"{name} {figures[f'{name}_median_mm']:.0f}" for name in LIMB_JOINTS))
    print(f"  jitter outside the flip (limb joints' mean acceleration): live {figures['limb_accel_mm']:.1f} mm/frame^2, "
          f"the reference {figures['reference_limb_accel_mm']:.1f}")
    print(f"  with --lag 1 (the default: each pose 33 ms late, the line through the frames around it; the One Euro "
          f"filter off): "
          f"{figures['lag_1_limb_median_mm']:.1f} mm median (" + split("lag_1_") + f"), jitter "
          f"{figures['lag_1_limb_accel_mm']:.1f} mm/frame^2; against the full-resolution demo's take "
          f"{figures['lag_1_full_resolution_reference_limb_median_mm']:.1f} mm (" + split("lag_1_full_resolution_reference_")
          + "); without it, to the digit: " + f"{figures['limb_median_mm']:.1f} / "
          f"{figures['full_resolution_reference_limb_median_mm']:.1f} mm")
    print("  with --lag 1, per joint (same person): " + ", ".join(
        f"{name} {figures[f'lag_1_{name}_median_mm']:.0f}" for name in LIMB_JOINTS))
    print(f"  with --lag 2 (67 ms late): {figures['lag_2_limb_median_mm']:.1f} mm median (" + split("lag_2_")
          + f"), jitter {figures['lag_2_limb_accel_mm']:.1f} mm/frame^2; per joint (same person): " + ", ".join(
              f"{name} {figures[f'lag_2_{name}_median_mm']:.0f}" for name in LIMB_JOINTS))
    print(f"  against the offline take of the full-resolution demo (on the man on {figures['full_resolution_reference_on_him']}"
          f"/{figures['reference_annotated']} annotated frames), on its {figures['full_resolution_reference_quality_frames']:.0f}"
          f" trusted frames: {figures['full_resolution_reference_limb_median_mm']:.0f} mm median, "
          + split("full_resolution_reference_")
          + f"; the two offline takes apart on the frames both trust: {figures['offline_takes_apart_limb_median_mm']:.0f} mm "
          f"median, " + split("offline_takes_apart_") + ": what a reference is good to")
    print("  the body's bones, live (after the warm-up's shape fit) / reference, mm: " + ", ".join(
        f"{name} {1000 * figures[f'live_{name}_m']:.0f}/{1000 * figures[f'reference_{name}_m']:.0f}"
        for name in (*BONES, "shoulders", "hips")))
    for note in figures.pop("reference_notes"):
        print(f"  NOTE: {note}")
    print("  refinement steps (the same landmarks, paired): " + "; ".join(
        f"{n}: {figures[f'refine_{n}_steps_limb_median_mm']:.1f} mm, solve {figures[f'refine_{n}_steps_solve_ms_median']:.1f} ms"
        f" ({figures[f'refine_{n}_steps_solve_over_0_steps']:.2f}x)" for n in REFINE_STEPS))
    if "uncleaned_reference_limb_median_mm" in figures:
        print(f"  against the same offline take without its cleanup (no floor, foot locks, smoothing): "
              f"{figures['uncleaned_reference_limb_median_mm']:.0f} mm (" + split("uncleaned_reference_") + "; "
              + ", ".join(f"{n} {figures[f'uncleaned_reference_{n}_median_mm']:.0f}" for n in LIMB_JOINTS)
              + "); the cleanup moved the reference's joints by (median mm) "
              + ", ".join(f"{n} {figures[f'cleanup_moved_{n}_median_mm']:.0f}" for n in LIMB_JOINTS)
              + f"; with --lag 1: {figures['lag_1_uncleaned_reference_limb_median_mm']:.1f} mm ("
              + split("lag_1_uncleaned_reference_") + f"); with --lag 2: "
              f"{figures['lag_2_uncleaned_reference_limb_median_mm']:.1f} mm")


def video_frames(path: Path) -> Iterator[np.ndarray]:
    """The BGR frames of a video, read one at a time (a long clip does not fit in memory at once)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                return
            yield bgr
    finally:
        cap.release()


def holds(frames: list[np.ndarray], seconds: float) -> dict[str, float]:
    """The speed run's clip, every frame in turn (no real time, so no frame dropped: the same every run), through
    the live engine's pose, follow and second look (:func:`replay_landmarks`): the frames on which the stream
    would hold the person's last pose (nobody taken for them), the longest such run, and the largest share of any
    10 s held (the speed run's medians are over its last 10 s); split into the clip's forward and reversed plays."""
    source = clip(frames, seconds + 15.0, f"live_640x480_{int(seconds + 15)}s")
    held = np.array([not seq.present[0] for seq in replay_landmarks(video_frames(source))])
    period = 2 * len(frames) - 2  # forwards, then backwards without repeating the ends
    reversed_play = (np.arange(len(held)) % period) >= len(frames)
    runs, length = [0], 0
    for h in held:
        length = length + 1 if h else 0
        runs.append(length)
    window = int(10 * FPS)
    share = np.convolve(held, np.ones(window), "valid").max() / window if len(held) >= window else held.mean()
    figures = {"holds_frames": len(held), "holds_held": int(held.sum()), "holds_longest_s": max(runs) / FPS,
               "holds_worst_10s_share": float(share), "holds_held_forward": int(held[~reversed_play].sum()),
               "holds_held_reversed": int(held[reversed_play].sum())}
    print(f"holds ({source.name}, every frame, {len(held)} frames): held {figures['holds_held']} "
          f"({figures['holds_held_forward']} playing forwards, {figures['holds_held_reversed']} backwards), "
          f"the longest hold {figures['holds_longest_s']:.1f} s, at most {100 * share:.0f}% of any 10 s")
    return figures


def speed(frames: list[np.ndarray], seconds: float, lag: int = 0) -> dict[str, float]:
    """The live run (``lag``: its ``--lag``) against MediaPipe Pose alone, printed; its figures."""
    source = clip(frames, seconds + 15.0, f"live_640x480_{int(seconds + 15)}s")
    print(f"clip: {WIDTH}x{HEIGHT} at {FPS:g} fps, {source.name}")
    pose_ms = pose_alone(frames[:90])
    print(f"baseline: MediaPipe Pose alone {pose_ms:.1f} ms a frame ({1000 / pose_ms:.1f} fps)")
    figures: dict[str, float] = {"pose_alone_ms": pose_ms, "lag_frames": lag}
    figures.update(live_run(source, seconds, lag))
    figures["load_average_1min_after"] = os.getloadavg()[0]
    figures["delivered_over_pose_alone_fps"] = figures["delivered_fps"] / (1000.0 / pose_ms)
    figures["latency_median_over_pose_ms"] = figures["latency_median_ms"] / pose_ms
    print(f"live {figures['seconds']:.0f} s (--lag {lag}): {figures['delivered_fps']:.1f} fps delivered "
          f"({figures['delivered_over_pose_alone_fps']:.2f}x the pose alone; target >= 25), "
          f"glass to pose median {figures['latency_median_ms']:.0f} ms ({figures['latency_median_over_pose_ms']:.2f}x "
          f"the pose step; target <= 100), p95 {figures['latency_p95_ms']:.0f} ms (target <= 150)")
    print("engine per-stage median ms: " + ", ".join(f"{name} {figures[f'engine_{name}_ms_median']:.1f}"
                                                   for name in STAGES) + " (fit, filter, floor: parts of solve)")
    print(f"drift: median latency {figures['latency_first_quarter_ms']:.0f} ms in the first quarter, "
          f"{figures['latency_last_quarter_ms']:.0f} ms in the last ({figures['drift_ms']:+.0f} ms); engine memory "
          f"{figures['rss_first_quarter_mb']:.0f} MB -> {figures['rss_last_quarter_mb']:.0f} MB; "
          f"load average after {figures['load_average_1min_after']:.1f}; the warm-up's shape fit "
          f"{figures['warmup_shape_ms']:.0f} ms (core.live.shape)")
    print(f"held poses (nobody found on their frame): {figures['frames_held_by_engine']:.0f} of "
          f"{figures['frames_sent_by_engine']:.0f} sent, the longest hold {figures['longest_hold_s']:.1f} s, "
          f"{100 * figures['held_share_last_10s']:.0f}% of the last 10 s; the person taken for someone else on "
          f"{figures['frames_someone_else']:.0f} frames, found again by the second look on "
          f"{figures['frames_found_again']:.0f} ({figures['frames_found_turned']:.0f} by the turned look; "
          f"{figures['turned_looks']:.0f} turned looks, {figures['second_looks']:.0f} in a crop, "
          f"{figures['engine_look_ms_median']:.0f} ms median on the frames looked on); the engine dropped "
          f"{figures['frames_dropped_by_engine']:.0f} frames")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the live run (default 30)")
    parser.add_argument("--no-quality", action="store_true", help="skip the comparison with the offline take")
    parser.add_argument("--quality-only", action="store_true", help="only the comparison with the offline take")
    parser.add_argument("--uncleaned-reference", action="store_true",
                        help="also compare with the same clip's offline take without its cleanup (one more capture)")
    parser.add_argument("--lag", type=int, default=None, metavar="FRAMES",
                        help="the speed run's engine with --lag FRAMES (default: the engine's, 1; the quality run "
                             "measures --lag 0, 1 and 2)")
    parser.add_argument("--holds", action="store_true",
                        help="only replay the speed run's clip frame by frame (none dropped) through the pose, follow "
                             "and second look: where the stream would hold the person's pose")
    args = parser.parse_args()
    frames = demo_frames()
    if args.holds:
        print(f"wrote {write_results('live_holds', holds(frames, args.seconds))}")
        return 0
    load = os.getloadavg()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    figures: dict[str, float] = {"width": WIDTH, "height": HEIGHT, "fps": FPS, "load_average_1min_before": load[0]}
    if not args.quality_only:
        from core.options import OPTION

        figures.update(speed(frames, args.seconds, OPTION["lag"].default if args.lag is None else args.lag))
    if not args.no_quality:
        import tempfile

        quality_clip = clip(frames, len(frames) / FPS, "live_640x480_demo", lossless=True)
        with tempfile.TemporaryDirectory() as tmp:
            figures.update(quality(quality_clip, frames, Path(tmp), uncleaned=args.uncleaned_reference))
        print_quality(figures)
    try:
        import torch

        if torch.cuda.is_available():
            print(f"GPU: {torch.cuda.get_device_name(0)} present; the live path runs MediaPipe Pose on the CPU, "
                  "so there are no GPU rows")
            figures["cuda_present"] = 1.0
    except ImportError:
        pass
    print(f"wrote {write_results('live', figures)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
