"""Video decoding: metadata, streaming, and clear errors for files that are not videos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import CancelledError
from core.video import VideoError, default_intrinsics, iter_frames, open_video
from unprivileged import error_as_nobody, needs_root, shared_folder  # noqa: F401 - a fixture


def test_real_clip_metadata(demo_video: Path) -> None:
    info = open_video(demo_video)
    assert (info.width, info.height) == (1768, 994)
    assert info.fps == pytest.approx(30.0)
    assert info.frame_count == 230


def test_streams_the_requested_frames_downscaled(short_clip: Path) -> None:
    info = open_video(short_clip)
    frames = list(iter_frames(info, start=10, end=30, stride=5, max_size=320))
    assert [i for i, _ in frames] == [10, 15, 20, 25]
    rgb = frames[0][1]
    assert rgb.dtype == np.uint8 and rgb.shape == (180, 320, 3)


def test_missing_file_says_not_found(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="video not found"):
        open_video(tmp_path / "nope.mp4")


def test_text_file_is_not_a_video(tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n" * 100)
    with pytest.raises(VideoError, match="not a video|no readable frames"):
        open_video(fake)


def test_truncated_video(tmp_path: Path, short_clip: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(short_clip.read_bytes()[:2000])
    with pytest.raises(VideoError):
        open_video(broken)


def test_range_past_the_end_is_explained(short_clip: Path) -> None:
    info = open_video(short_clip)
    with pytest.raises(VideoError, match="no frames in the range"):
        list(iter_frames(info, start=500, end=600))


def test_cancel_stops_decoding(short_clip: Path) -> None:
    info = open_video(short_clip)
    seen = []
    with pytest.raises(CancelledError):
        for index, _ in iter_frames(info, should_cancel=lambda: len(seen) >= 3):
            seen.append(index)
    assert seen == [0, 1, 2]


def test_default_intrinsics_give_the_documented_field_of_view() -> None:
    K = default_intrinsics(1000, 500, 60.0)
    half_width_angle = np.degrees(np.arctan(500 / K[0, 0]))
    assert half_width_angle == pytest.approx(30.0)
    assert (K[0, 2], K[1, 2]) == (500, 250)


def test_a_still_image_is_not_a_one_frame_video(tmp_path: Path) -> None:
    """FFmpeg opens a PNG or JPEG as a 25 fps clip of one frame; a capture of it is no capture."""
    import cv2

    for suffix in (".png", ".jpg"):
        image = tmp_path / f"photo{suffix}"
        assert cv2.imwrite(str(image), np.full((48, 64, 3), 128, np.uint8))
        with pytest.raises(VideoError, match="still image, not a video"):
            open_video(image)
        renamed = image.rename(tmp_path / f"photo{suffix}.mp4")  # the name does not fool it
        with pytest.raises(VideoError, match="still image"):
            open_video(renamed)


@needs_root
def test_an_unreadable_video_says_permission_denied_not_damaged(short_clip: Path, shared_folder: Path) -> None:
    import cv2  # noqa: F401 - imported before the child drops its rights

    video = shared_folder / "private.mp4"
    video.write_bytes(short_clip.read_bytes())
    video.chmod(0o600)
    message = error_as_nobody(lambda: open_video(video), VideoError)
    assert "Permission denied" in message and "permissions" in message, message
    assert "damaged" not in message
