"""Left and right across views (core/multiview/sides.py): a mirrored labelling is found with a trunk point missing."""

from __future__ import annotations

import numpy as np

from core.landmarks import BODY, BODY_SWAP
from core.multiview.sides import side_flips
from tests.testdata.multiview_scenes import look_at_rig, observe, ring, sequence, skeleton


def test_every_view_mirrored_is_found_where_a_shoulder_does_not_triangulate() -> None:
    """Three cameras label the person's sides the wrong way round alike (as MediaPipe does when two of them take
    the person to face away): the views agree with one another, and only the body's facing against its face
    tells. On some frames the right shoulder is seen by one view alone, so it does not triangulate; those
    frames are found mirrored as well (they were left as they were, and the fitted body came out turned)."""
    rig = look_at_rig(ring(3, 150.0))
    obs = observe(rig, skeleton(np.arange(40) / 30.0, seed=2), noise_px=1.0)
    seqs = [sequence(o, 30.0) for o in obs]
    for seq in seqs:
        seq.body_2d[:] = seq.body_2d[:, BODY_SWAP]
    # the labelled right shoulder (the true left one) seen by camera 0 alone on frames 10-19
    for seq in seqs[1:]:
        seq.body_2d[10:20, BODY["right_shoulder"]] = np.nan
    flips = side_flips(seqs, rig)
    assert flips.all(), np.nonzero(~flips.all(0))[0]
