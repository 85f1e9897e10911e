"""A turned second look: the landmark network alone on the person's expected crop, turned four ways.

Mid-flip (the demo's frames 169-181) MediaPipe's detector finds no body, even
in a static-mode crop around him (``core.live.search``): upside down or
tucked, he is not what it was trained to find, and the stream held his pose
from before the flip. The landmark network alone reads him where its crop is
turned roughly upright, which is how the offline stand-in follows him
(``core.pose_torch.finder``). So while the person is missing (at most
``search_seconds``), :class:`TurnedSearch` puts the torch backend's landmark
network (the very network MediaPipe Pose runs) to:

1. where the last look found them, the crop that reading points to (its two
   alignment landmarks, as MediaPipe's tracking takes the next crop), turned on
   at the body's turning speed: one crop, no search;
2. else their expected region (``core.person.Identity.expected``: the last one
   moved on at its velocity, turn included) turned by 0, 90, 180 and 270
   degrees, in one batch.

Only for a turned person (``TURNED``: as MediaPipe last saw them, or where they
are expected), within ``search_seconds`` of MediaPipe's last sighting, and no
reading far from their size then (``SIDE_RANGE``): it bridges a flip, it does
not replace MediaPipe.

Each reading the network is present in is read once more in the crop it points
to (centred on its hips, turned as it is turned: the network reads a body best
upright and centred, and a crop that only half holds a body can fool it once);
the readings are offered to :meth:`LiveFollow.take_back` nearest the expected
turn first, and the first it says is the person is kept.

The readings come back in the frame's pixels and their world landmarks in the
frame's view: ``core.pose_torch.body.decode_landmarks`` turns them back by the
crop's rotation, as MediaPipe's graph turns its own and as the offline
stand-in's are. The networks load on the CPU, in a thread of their own when
:meth:`TurnedSearch.load` is called (a live session does so at its start: the
first load and trace take 2-4 s, which a look on the first missing frame would
stall the stream for); until they are ready no turned look is taken, except
on a file read frame by frame (``wait``), where waiting costs no frame.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from ..landmarks import PoseSequence
from ..person import region_of, rotation_of
from ..pose_torch.turned import TURNED_DEGREES
from .follow import LiveFollow

TURNS = 4
"""Crops of the expected region, turned by 360 / TURNS degrees from each other. The network reads a body
within about 30 degrees of upright in its crop; with the reading read again in the crop it points to, four
turns found the demo's man on the same frames as eight (a scratch replay: the same figures, 97 crops read in
all against 129)."""
MIN_PRESENCE = 0.5
"""The network's presence a reading needs (MediaPipe's default ``min_tracking_confidence``)."""
TURNED = math.radians(TURNED_DEGREES)
"""A look is taken only where the person's expected region, or the person as MediaPipe last saw them, is turned
this far from upright (the offline turned look's threshold): an upright person MediaPipe lost is the crop look's
to find, MediaPipe's detector first (a body coming out of a flip upright is the turned look's still). Replaying
the speed run's clip (every frame; a scratch count of the frames whose body taken for the man has its hips over
40 px from the offline take's), the turned look on every missing frame read the man walking on the box upright
at half his size, the misreading moved where he was expected off his body, and the woman was streamed as him on
182 frames (78 before the turned look); with this rule on 10 (the demo's figures unchanged)."""
SIDE_RANGE = (0.5, 2.0)
"""A reading's region side must lie within these shares of the person's region as MediaPipe (or the crop look)
last saw them, not as the last turned reading left it: followed from crop to crop, a misreading that shrinks a
little a frame is each frame near enough to the last one. On the speed run's clip the look so followed the man
off the picture's edge (region side 155 -> 70 -> 45 px over four frames), MediaPipe's body of him was then far
from where he was expected, so taken for a stranger, and the woman was streamed as him for 60-100 frames (a
scratch replay). In the demo's tuck his region is 0.64-0.7 of its side before the flip."""


class TurnedSearch:
    """The torch backend's landmark network where a missing person should be (see the module docstring).

    Args:
        search_seconds: how long the person may be missing and still be looked for (source clock).
        models: a ``core.pose_torch.networks.BodyModels`` (None: loaded on the CPU on the first look, or by
            :meth:`load`).
    """

    def __init__(self, search_seconds: float, *, min_presence: float = MIN_PRESENCE, models=None,
                 wait: bool = False) -> None:
        self.search_seconds = search_seconds
        self.min_presence = min_presence
        self.wait = wait
        self._models = models
        self._loading: threading.Thread | None = None
        self.error: str | None = None  # why the networks could not be loaded (then no turned look is taken)
        self._next: np.ndarray | None = None  # (5,) the crop the last kept reading points to
        self._seen: np.ndarray | None = None  # the person's region as that reading left it
        self._side = 0.0  # the person's region side when they were last seen by another look than this one
        self._since = 0.0  # when that was (seconds, source clock)
        self._turned = False  # whether they were turned then (TURNED)
        self.found = 0  # frames the person was found again on
        self.looks = 0  # frames a turned look was taken on
        self.crops = 0  # crops read by the network, in all

    def load(self) -> TurnedSearch:
        """Start loading the networks (and tracing the landmark network) in a thread of their own; until they are
        ready no look is taken, unless ``wait`` (a file read frame by frame: the first look waits for them)."""
        if self._models is None and self._loading is None:
            self._loading = threading.Thread(target=self._load, name="live-turned-load", daemon=True)
            self._loading.start()
        return self

    def _load(self) -> None:
        try:
            from ..pose_torch.networks import BodyModels, one_cpu_thread

            models = BodyModels("cpu")
            with one_cpu_thread():  # the trace is made on the first call
                models.landmarks([np.zeros((64, 64, 3), np.uint8)], np.array([[0.5, 0.5, 1.0, 1.0, 0.0]]))
            self._models = models
        except Exception as exc:  # noqa: BLE001 - the session goes on without the turned look
            self.error = f"the turned look's networks could not be loaded: {exc}"

    @property
    def ready(self) -> bool:
        """Whether a look can be taken now without waiting for the networks."""
        return self.error is None and (self._models is not None or self._loading is None or self.wait)

    def models(self):
        """The networks, waiting for their loading thread if one runs; None when they could not be loaded (``error``
        says why: the session goes on without the turned look, and says so when it ends)."""
        if self._loading is not None:
            self._loading.join()
        elif self._models is None and self.error is None:
            self._load()
        return self._models

    def close(self, timeout: float = 10.0) -> None:
        """Wait (at most ``timeout`` seconds) for a loading thread still importing or tracing, so a short session
        does not end the interpreter under it."""
        if self._loading is not None:
            self._loading.join(timeout)

    def readings(self, rgb: np.ndarray, rois: np.ndarray, rotation: float, index: int,
                 fps: float) -> list[tuple[PoseSequence, np.ndarray]]:
        """The readings of the crops ``rois`` (N, 5: normalized, as the network's) of ``rgb`` (H, W, 3) uint8 that
        the network is present in, each read again in the crop it points to, nearest the expected ``rotation``
        (radians) first: each as frame ``index`` of a one-frame sequence in the whole frame's pixels (world
        landmarks in the frame's view), with the crop it points to next."""
        from ..pose_torch import body
        from ..pose_torch.finder import pixels, read_again
        from ..pose_torch.networks import one_cpu_thread

        height, width = rgb.shape[:2]
        models = self.models()
        if models is None:
            return []
        with one_cpu_thread():
            keep, (flags, lms, worlds), again, (flags2, lms2, worlds2) = read_again(models, rgb, rois, self.min_presence)
        self.crops += len(rois) + len(again)
        out = []
        for j in np.argsort(-flags[keep], kind="stable"):  # the surest first
            k = keep[j]
            # The second reading, where the network is present in it; else the first (the body read at the
            # edge of the crop it points to, say).
            lm, world = (lms2[j], worlds2[j]) if flags2[j] >= self.min_presence else (lms[k], worlds[k])
            points = pixels(lm[:33], width, height)
            turn = rotation_of(points)
            if turn is None or region_of(points) is None:
                continue
            seq = PoseSequence.empty(1, fps, (width, height))
            seq.frame_indices[0] = index
            seq.present[0] = True
            seq.body_2d[0] = points
            seq.body_world[0] = np.concatenate([world[:33], lm[:33, 3:4]], axis=1)
            out.append((abs(math.remainder(turn - rotation, 2 * math.pi)), seq,
                        body.roi_from_points(lm[33, :2], lm[34, :2], width, height)))
        out.sort(key=lambda item: item[0])
        return [(seq, ahead) for _, seq, ahead in out]

    def __call__(self, rgb: np.ndarray, follow: LiveFollow, index: int, fps: float) -> PoseSequence | None:
        """The person's landmarks found again in ``rgb`` (the frame unmasked) where ``follow`` expects them, on a
        frame :meth:`LiveFollow.check` found them missing on; None when not looked for or not found."""
        from ..pose_torch.finder import roi_of_region

        identity = follow.identity
        region = identity.expected()
        if region is None or identity.missing == 0 or follow.missing_seconds(fps) > self.search_seconds + 1e-6 \
                or not self.ready:
            return None
        now = follow.now if follow.now is not None else index / fps
        if identity.region is not self._seen:  # seen since by MediaPipe (or the crop look): a run of looks begins
            self._side, self._since = float(identity.region[2]), now - follow.missing_seconds(fps)
            self._turned = abs(math.remainder(float(identity.region[3]), 2 * math.pi)) >= TURNED
            self._next = None
        if now - self._since > self.search_seconds + 1e-6:  # the looks bridge a gap, they do not replace MediaPipe
            return None
        if not self._turned and abs(math.remainder(float(region[3]), 2 * math.pi)) < TURNED:
            return None  # upright, and expected so: the crop look's (MediaPipe's detector first) to find
        self.looks += 1
        height, width = rgb.shape[:2]
        stages = []
        # Found by the last look, and not seen since: on from the crop that reading points to.
        if self._next is not None and identity.missing == 1:
            ahead = self._next.copy()
            ahead[4] += identity.velocity[3]
            stages.append(ahead[None])
        stages.append(np.stack([roi_of_region(region + [0.0, 0.0, 0.0, k * 2 * math.pi / TURNS], width, height)
                                for k in range(TURNS)]))
        self._next = None
        for rois in stages:
            for seq, ahead in self.readings(rgb, rois, float(region[3]), index, fps):
                side = region_of(seq.body_2d[0])
                assert side is not None  # readings have one
                hips = seq.body_2d[0, [23, 24], :2].mean(0)
                if not (SIDE_RANGE[0] * self._side <= side[2] <= SIDE_RANGE[1] * self._side
                        and 0 <= hips[0] < width and 0 <= hips[1] < height):
                    continue
                if follow.take_back(rgb, seq):
                    self.found += 1
                    self._next, self._seen = ahead, identity.region
                    return seq
        return None
