"""The camera's field of view from the video's own metadata (QuickTime 'mdta' keys), and what a capture does with it.

Videos with the iPhone key are made from the short clip by FFmpeg (the binary in the
imageio-ffmpeg wheel) with ``-movflags use_metadata_tags``, which writes moov/udta/meta
(handler 'mdta', 'keys', 'ilst', UTF-8 values). Other layouts and value types are built
box by box.
"""

from __future__ import annotations

import math
import shutil
import struct
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.capture import CaptureSettings, camera_fov
from core.motion import read_motion
from core.mp4meta import read_mdta_items
from core.video import (
    DEFAULT_HFOV_DEGREES,
    FOCAL_35MM_KEY,
    LENS_MODEL_KEY,
    hfov_from_35mm,
    lens_hfov_degrees,
    open_video,
)

from test_cli import events_of, run_engine, stage_message
from video_frames import ffmpeg

LENS = "iPhone 15 back camera 6.1mm f/1.78"


@pytest.fixture(scope="module")
def iphone_clips(short_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The short clip (640x360) re-wrapped with the iPhone's 26 mm key: MOV with the lens model, MP4, portrait MOV."""
    folder = tmp_path_factory.mktemp("lens")
    tags = ["-movflags", "use_metadata_tags", "-metadata", f"{FOCAL_35MM_KEY}=26"]
    clips = {"mov": folder / "lens.mov", "mp4": folder / "lens.mp4", "portrait": folder / "portrait.mov",
             "plain": folder / "plain.mov"}
    ffmpeg("-i", str(short_clip), "-c", "copy", *tags, "-metadata", f"{LENS_MODEL_KEY}={LENS}", str(clips["mov"]))
    ffmpeg("-i", str(short_clip), "-c", "copy", *tags, str(clips["mp4"]))
    # Shot in portrait: landscape frames plus a display rotation.
    ffmpeg("-display_rotation", "90", "-i", str(short_clip), "-c", "copy", *tags, str(clips["portrait"]))
    # Other QuickTime metadata, no focal length.
    ffmpeg("-i", str(short_clip), "-c", "copy", "-movflags", "use_metadata_tags", "-metadata",
           f"{LENS_MODEL_KEY}={LENS}", "-metadata", "com.apple.quicktime.make=Apple", str(clips["plain"]))
    return clips


def test_iphone_focal_length_gives_the_field_of_view(iphone_clips: dict[str, Path]) -> None:
    for kind in ("mov", "mp4"):
        assert read_mdta_items(iphone_clips[kind], {FOCAL_35MM_KEY})[FOCAL_35MM_KEY] == "26"
        info = open_video(iphone_clips[kind])
        found = lens_hfov_degrees(info.path, info.width, info.height)
        assert found is not None, kind
        hfov, source = found
        # The nominal 4:3 picture (43.27 mm diagonal: 34.61 x 25.96 mm) cut to 16:9 keeps its 34.61 mm width.
        assert hfov == pytest.approx(math.degrees(2 * math.atan(34.6133 / 52.0)), abs=1e-3)
        assert hfov == pytest.approx(67.30, abs=0.01)
        assert "metadata" in source and "26 mm" in source
    assert LENS in lens_hfov_degrees(iphone_clips["mov"], 640, 360)[1]  # type: ignore[index]


def test_35mm_equivalence_is_by_the_diagonal_of_the_4_3_picture() -> None:
    # A 4:3 frame's diagonal is the film frame's, 43.27 mm: 34.61 mm across.
    diagonal_4_3 = math.degrees(2 * math.atan(0.8 * math.hypot(36.0, 24.0) / 52.0))
    assert hfov_from_35mm(26.0, 1440, 1080) == pytest.approx(diagonal_4_3)
    assert diagonal_4_3 == pytest.approx(67.30, abs=0.01)
    # Wider frames are cut from it (same width, less height); squarer ones keep its height (25.96 mm).
    assert hfov_from_35mm(26.0, 1920, 1080) == pytest.approx(diagonal_4_3)
    assert hfov_from_35mm(26.0, 1000, 1000) == pytest.approx(math.degrees(2 * math.atan(25.9600 / 52.0)), abs=1e-3)
    assert hfov_from_35mm(26.0, 1000, 1000) < hfov_from_35mm(26.0, 1920, 1080)
    assert hfov_from_35mm(13.0, 1920, 1080) > hfov_from_35mm(26.0, 1920, 1080)


def test_portrait_video_uses_the_upright_frame(iphone_clips: dict[str, Path]) -> None:
    info = open_video(iphone_clips["portrait"])
    assert (info.width, info.height) == (360, 640)
    hfov, _ = lens_hfov_degrees(info.path, info.width, info.height)  # type: ignore[misc]
    # The 4:3 picture's 34.61 mm long side is now the height: 34.61 * 9 / 16 = 19.47 mm across, 41.1 degrees,
    # not the landscape 67.3.
    assert hfov == pytest.approx(math.degrees(2 * math.atan(19.4700 / 52.0)), abs=1e-3)
    assert hfov == pytest.approx(41.05, abs=0.01)


def test_video_without_the_key_gives_none(iphone_clips: dict[str, Path], short_clip: Path, demo_video: Path) -> None:
    assert lens_hfov_degrees(short_clip, 640, 360) is None
    assert lens_hfov_degrees(demo_video, 1768, 994) is None
    assert read_mdta_items(iphone_clips["plain"], {FOCAL_35MM_KEY, LENS_MODEL_KEY}) == {LENS_MODEL_KEY: LENS}
    assert lens_hfov_degrees(iphone_clips["plain"], 640, 360) is None
    hfov, source = camera_fov(CaptureSettings(), iphone_clips["plain"], 640, 360)
    assert hfov == DEFAULT_HFOV_DEGREES and "default" in source


# --- box by box -------------------------------------------------------------------------------------------


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", len(payload) + 8, kind) + payload


def mdta_meta(items: dict[str, tuple[int, bytes]], *, full_box: bool = False, handler: bytes = b"mdta") -> bytes:
    """A 'meta' box: QuickTime form (hdlr first) or ISO full box (version/flags first)."""
    hdlr = box(b"hdlr", bytes(8) + handler + bytes(12) + b"\x00")
    entries = b"".join(struct.pack(">I4s", len(k) + 8, b"mdta") + k.encode() for k in items)
    keys = box(b"keys", bytes(4) + struct.pack(">I", len(items)) + entries)
    ilst = box(b"ilst", b"".join(
        box(struct.pack(">I", i), box(b"data", struct.pack(">II", code, 0) + value))
        for i, (code, value) in enumerate(items.values(), start=1)))
    return box(b"meta", (bytes(4) if full_box else b"") + hdlr + keys + ilst)


def movie(moov_children: bytes) -> bytes:
    return box(b"ftyp", b"qt  " + bytes(4) + b"qt  ") + box(b"mdat", bytes(64)) + box(b"moov", moov_children)


@pytest.mark.parametrize("code, value, expected", [
    (1, b"50.00mm", 50.0),  # Apple's documented example of the UTF-8 value
    (1, b"26", 26.0),
    (21, b"\x1a", 26.0),  # big-endian signed integer, 1-4 bytes
    (22, b"\x00\x1a", 26.0),
    (23, struct.pack(">f", 26.5), 26.5),  # float32
    (24, struct.pack(">d", 13.0), 13.0),  # float64
    (67, struct.pack(">i", 77), 77.0),  # fixed-width int32
])
def test_value_types(tmp_path: Path, code: int, value: bytes, expected: float) -> None:
    path = tmp_path / "v.mov"
    path.write_bytes(movie(box(b"mvhd", bytes(100)) + mdta_meta({FOCAL_35MM_KEY: (code, value)})))
    hfov, source = lens_hfov_degrees(path, 1920, 1080)  # type: ignore[misc]
    assert hfov == pytest.approx(hfov_from_35mm(expected, 1920, 1080))
    assert f"{expected:g} mm" in source


def test_track_level_full_box_meta_and_sizes_0_and_1(tmp_path: Path) -> None:
    # Apple documents the camera keys as track metadata; an ISO full-box 'meta' in trak/udta,
    # a 64-bit box size, and a last box of size 0 ("to the end of the file").
    meta = mdta_meta({LENS_MODEL_KEY: (1, b"wide"), FOCAL_35MM_KEY: (23, struct.pack(">f", 24.0))}, full_box=True)
    trak = box(b"trak", box(b"tkhd", bytes(84)) + box(b"udta", meta))
    moov_payload = box(b"mvhd", bytes(100)) + trak
    large_mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + 32) + bytes(32)
    data = box(b"ftyp", b"isom" + bytes(4)) + large_mdat + struct.pack(">I4s", 0, b"moov") + moov_payload
    path = tmp_path / "t.mp4"
    path.write_bytes(data)
    assert read_mdta_items(path, {FOCAL_35MM_KEY, LENS_MODEL_KEY}) == {FOCAL_35MM_KEY: 24.0, LENS_MODEL_KEY: "wide"}


def test_other_handlers_and_implausible_values_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "m.mp4"
    path.write_bytes(movie(mdta_meta({FOCAL_35MM_KEY: (1, b"26")}, handler=b"mdir")))  # not QuickTime keys
    assert lens_hfov_degrees(path, 640, 360) is None
    for value in (b"0", b"-26", b"nan", b"0.001", b"mm"):  # unknown, negative, not a number, a 179.9 degree view
        path.write_bytes(movie(mdta_meta({FOCAL_35MM_KEY: (1, value)})))
        assert lens_hfov_degrees(path, 640, 360) is None, value
    path.write_bytes(movie(mdta_meta({FOCAL_35MM_KEY: (21, bytes(5))})))  # a 5-byte "integer"
    assert lens_hfov_degrees(path, 640, 360) is None


def test_large_file_is_not_read_whole(tmp_path: Path) -> None:
    """A 6 GB file (sparse: no disk used) with the movie box after the media data, as phones write it."""
    path = tmp_path / "big.mov"
    gap = 6 << 30
    with open(path, "wb") as f:
        f.write(box(b"ftyp", b"qt  " + bytes(4)) + struct.pack(">I4sQ", 1, b"mdat", 16 + gap))
        f.seek(gap, 1)
        f.write(box(b"moov", mdta_meta({FOCAL_35MM_KEY: (1, b"26")})))
    start = time.perf_counter()
    found = lens_hfov_degrees(path, 1920, 1080)
    assert time.perf_counter() - start < 0.5
    assert found is not None and found[0] == pytest.approx(67.30, abs=0.01)


# --- damaged files ----------------------------------------------------------------------------------------


def test_truncated_and_garbage_files_give_none(iphone_clips: dict[str, Path], tmp_path: Path) -> None:
    whole = iphone_clips["mov"].read_bytes()
    moov = whole.rfind(b"moov") - 4  # FFmpeg writes the movie box last
    assert moov > 0
    path = tmp_path / "cut.mov"
    for end in [0, 4, 8, 20, moov, moov + 8, *range(moov + 16, len(whole) - 1, 97), len(whole) - 1]:
        path.write_bytes(whole[:end])
        assert lens_hfov_degrees(path, 640, 360) is None, end  # the movie box overruns the file
    rng = np.random.default_rng(0)
    path.write_bytes(rng.integers(0, 256, 100_000, dtype=np.uint8).tobytes())
    assert lens_hfov_degrees(path, 640, 360) is None
    path.write_text("not a video")
    assert lens_hfov_degrees(path, 640, 360) is None
    assert lens_hfov_degrees(tmp_path / "missing.mov", 640, 360) is None
    assert lens_hfov_degrees(tmp_path, 640, 360) is None  # a folder


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_movie_box_never_raises(iphone_clips: dict[str, Path], tmp_path: Path, data) -> None:
    whole = bytearray(iphone_clips["mov"].read_bytes())
    udta = whole.rfind(b"udta") - 4  # the metadata: udta/meta/{hdlr, keys, ilst}, at the end of the file
    assert udta > 0
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(udta, len(whole) - 1))
        whole[at] = data.draw(st.integers(0, 255))
    path = tmp_path / "bad.mov"
    path.write_bytes(bytes(whole))
    found = lens_hfov_degrees(path, 640, 360)
    assert found is None or 1.0 <= found[0] <= 170.0


# --- a capture ------------------------------------------------------------------------------------------


def engine_take(video: Path, out: Path, *extra: str) -> tuple[list[dict], np.ndarray]:
    proc = run_engine("capture", str(video), "--out", str(out), "--progress", "json", "--max-frames", "8",
                      "--preset", "fast", "--no-cleanup", *extra)
    assert proc.returncode == 0, proc.stderr
    return events_of(proc), read_motion(out).camera_intrinsics


def test_capture_uses_the_metadata_field_of_view(iphone_clips: dict[str, Path], tmp_path: Path) -> None:
    events, K = engine_take(iphone_clips["mov"], tmp_path / "meta.npz")
    focal = 320.0 / math.tan(math.radians(hfov_from_35mm(26.0, 640, 360)) / 2)
    assert K[0, 0] == pytest.approx(focal) and focal == pytest.approx(480.74, abs=0.01)  # the 60-degree default: 554.3
    message = stage_message(events, "fitting")
    assert "67.3 degrees" in message and "video's metadata" in message and LENS in message
    assert [e["stage"] for e in events if e["event"] == "stage"] == ["decoding", "pose", "fitting", "writing"]


def test_fov_flag_overrides_the_metadata(iphone_clips: dict[str, Path], tmp_path: Path) -> None:
    events, K = engine_take(iphone_clips["mov"], tmp_path / "flag.npz", "--fov", "50")
    assert K[0, 0] == pytest.approx(320.0 / math.tan(math.radians(25.0)))
    assert "50.0 degrees, as given" in stage_message(events, "fitting")


def test_capture_without_metadata_says_it_assumed_the_default(short_clip: Path, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    shutil.copy(short_clip, clip)
    hfov, source = camera_fov(CaptureSettings(), clip, 640, 360)
    assert hfov == 60.0 and source.startswith("the default")
    assert camera_fov(CaptureSettings(hfov_degrees=45.0), clip, 640, 360) == (45.0, "as given")
