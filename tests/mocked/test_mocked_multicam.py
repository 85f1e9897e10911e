"""The Multi-Camera panel's plain-Python parts: scene properties -> a checked request -> the engine's
``capture-multi`` command line; the batch's take folders; the panel's draw code on a spec'd layout."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import icon_names, import_ext, property_names

multicam = import_ext("blender_mocap.multicam_request")
settings = import_ext("blender_mocap.settings")
batch_multi = import_ext("blender_mocap.batch_multi")
cli = import_ext("core.cli")
MocapError = import_ext("core.errors").MocapError
draw = import_ext("panels.multicam_draw")

MP4_HEAD = b"\x00\x00\x00\x18ftypmp42" + bytes(16)


def _video(folder: Path, name: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(MP4_HEAD)
    return path


def _props(videos: list[str], **values: Any) -> SimpleNamespace:
    """A property group as Blender holds it: the option table's properties at ``values`` (else defaults)."""
    props = settings.prop_values(values, settings.property_options())
    return SimpleNamespace(video_path="", output_dir="", multi_videos=[SimpleNamespace(path=v) for v in videos],
                           multi_video_index=0, **props)


def test_the_request_reaches_the_engine_parser_with_every_multi_view_option(tmp_path: Path) -> None:
    blend = str(tmp_path / "shoot.blend")
    for name in ("front.mp4", "side.mp4"):
        _video(tmp_path, name)
    props = _props(["//front.mp4", "//side.mp4"], offsets="0,1.37", calibration="//rig.json",
                   save_calibration="//new.json", person_height=1.8, preset="accurate", max_frames=40)
    request = multicam.multi_request_from_props(props, blend_filepath=blend)
    assert request.videos == (str(tmp_path / "front.mp4"), str(tmp_path / "side.mp4"))
    assert request.capture.video == request.videos[0]  # camera 1's video names the take

    argv = request.command("/py", "/tmp/take.npz")
    assert argv[:4] == ["/py", "-m", "core", "capture-multi"]
    parsed = cli.build_parser().parse_args(argv[3:])
    assert [str(v) for v in parsed.videos] == list(request.videos) and str(parsed.out) == "/tmp/take.npz"
    assert (parsed.offsets, parsed.person_height, parsed.preset, parsed.max_frames) == ("0,1.37", 1.8, "accurate", 40)
    assert parsed.calibration == str(tmp_path / "rig.json")  # "//" is next to the .blend, as for the video
    assert parsed.save_calibration == str(tmp_path / "new.json") and parsed.progress == "json"


def test_default_properties_leave_sync_and_calibration_to_the_engine(tmp_path: Path) -> None:
    videos = [str(_video(tmp_path, n)) for n in ("a.mp4", "b.mp4")]
    request = multicam.multi_request_from_props(_props(videos))
    assert (request.offsets, request.calibration, request.save_calibration, request.person_height) == (None,) * 4
    assert request.cli_args() == []
    multicam.validate_multi_request(request)  # two videos, nothing else: fine


@pytest.mark.parametrize(("case", "message"), [
    ("none", "needs 2 to 8 videos.*0 are listed. Add"),
    ("one", "1 is listed. Add the other cameras"),
    ("nine", "9 are listed. Remove some"),
    ("missing", "Video not found: .*gone.mp4"),
    ("text", "Not a video file"),
    ("twice", "a.mp4 is listed twice"),
    ("empty", "Video 2 .* has no file"),
    ("offsets", "give 3 value.* for 2 videos"),
    ("offsets_text", "seconds per video separated by commas"),
    ("rig", "Rig file not found"),
    ("save", "its folder does not exist"),
    ("people", "follows one person"),
])
def test_bad_input_gets_a_message_before_the_engine_starts(tmp_path: Path, case: str, message: str) -> None:
    a, b = str(_video(tmp_path, "a.mp4")), str(_video(tmp_path, "b.mp4"))
    (tmp_path / "notes.mp4").write_text("not a video at all")
    videos = {"none": [], "one": [a], "nine": [str(_video(tmp_path, f"v{k}.mp4")) for k in range(9)],
              "missing": [a, str(tmp_path / "gone.mp4")], "text": [a, str(tmp_path / "notes.mp4")],
              "twice": [a, a], "empty": [a, ""]}.get(case, [a, b])
    values = {"offsets": {"offsets": "0,1,2"}, "offsets_text": {"offsets": "0,soon"},
              "rig": {"calibration": str(tmp_path / "rig.json")},
              "save": {"save_calibration": str(tmp_path / "no" / "rig.json")}, "people": {"people": "all"}}
    request = multicam.multi_request_from_props(_props(videos, **values.get(case, {})))
    with pytest.raises(MocapError, match=message):
        multicam.validate_multi_request(request)


def test_take_folders_are_found_in_a_shoot_folder_or_given_one_by_one(tmp_path: Path) -> None:
    shoot = tmp_path / "shoot"
    for name in ("take 2/b.mp4", "take 2/a.MOV", "take 1/cam1.mp4", "take 1/cam2.mp4", "take 1/notes.txt",
                 ".blender-mocap/x.mp4"):
        _video(shoot, name)
    (shoot / "empty").mkdir()
    takes = batch_multi.collect_takes([shoot])
    assert [t.name for t in takes] == ["empty", "take 1", "take 2"]  # hidden folders are not takes
    assert [p.name for p in takes[2].videos] == ["a.MOV", "b.mp4"]  # camera 1 first by name
    assert [p.name for p in takes[1].videos] == ["cam1.mp4", "cam2.mp4"]
    with pytest.raises(MocapError, match="holds 0 video"):
        batch_multi.check_take(takes[0])
    one = batch_multi.collect_takes([shoot / "take 1", tmp_path / "nowhere"])
    assert [t.name for t in one] == ["take 1", "nowhere"]
    batch_multi.check_take(one[0])
    with pytest.raises(MocapError, match="take folder not found"):
        batch_multi.check_take(one[1])


def test_the_batch_refuses_a_missing_rig_file_and_makes_a_given_one_absolute(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(MocapError, match="rig file not found"):
        batch_multi.check_multi({"calibration": str(tmp_path / "none.json")})
    (tmp_path / "rig.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert batch_multi.check_multi({"calibration": "rig.json", "person_height": 1.8}) == {
        "calibration": str(tmp_path / "rig.json"), "person_height": 1.8}  # the engine runs elsewhere


def test_the_panel_draws_every_multi_camera_property_and_its_operators(layout: Any) -> None:
    names = property_names()
    props = SimpleNamespace(**{n: False for n in names if n.startswith("multi_")})
    draw.draw_multicam_panel(layout, props)
    drawn = {c.args[1] for c in layout.prop.call_args_list}
    multi = {n for n in names if n.startswith("multi_")} - {"multi_videos", "multi_video_index"}
    assert drawn == multi  # the list holds the videos
    assert layout.template_list.call_args.args[:6] == (draw.VIDEO_LIST, "", props, "multi_videos", props,
                                                       "multi_video_index")
    operators = [c.args[0] for c in layout.operator.call_args_list]
    assert operators == ["mocap.multi_video_add", "mocap.multi_video_remove", "mocap.multi_video_move",
                         "mocap.multi_video_move", "mocap.capture_multi"]
    icons = {c.kwargs["icon"] for c in [*layout.operator.call_args_list, *layout.label.call_args_list]
             if "icon" in c.kwargs}
    assert icons <= icon_names()
    layout.reset_mock()
    draw.draw_multicam_panel(layout, props, running="pose: 10/48 (12%) - Esc to cancel")
    assert "mocap.capture_multi" not in [c.args[0] for c in layout.operator.call_args_list]


def test_a_video_row_shows_its_camera_number_and_file(layout: Any) -> None:
    item = SimpleNamespace(path="/shoot/take 1/side.mp4")
    draw.draw_video_row(layout, item, 1)
    assert layout.label.call_args.kwargs["text"] == "2"  # camera numbers start at 1, as in the take's names
    assert layout.prop.call_args.args == (item, "path")
    icons = {c.kwargs["icon"] for c in [*layout.prop.call_args_list, *layout.label.call_args_list]}
    draw.draw_video_row(layout, item, 0)
    icons |= {layout.label.call_args.kwargs["icon"]}
    assert icons <= icon_names() and len(icons) == 3


def test_the_batch_command_takes_capture_options_and_the_rig_from_the_line_or_a_settings_file(tmp_path: Path) -> None:
    headless = import_ext("blender_mocap.headless")
    config = tmp_path / "shoot.toml"
    config.write_text('preset = "accurate"\ncalibration = "/rigs/studio.json"\nperson_height = 1.75\n'
                      'outputs = ["blend", "fbx"]\n', encoding="utf-8")
    args = headless._parser().parse_args(["capture-multi", "shoot", "--out", "out", "--config", str(config),
                                          "--person-height", "1.8", "--stride", "2"])
    settings, multi = headless._batch_settings(args, batch_multi.BATCH_MULTI_KEYS)
    assert (settings.preset, settings.stride, settings.outputs) == ("accurate", 2, ("blend", "fbx"))
    assert multi == {"calibration": "/rigs/studio.json", "person_height": 1.8}  # the command line wins
    multi_help = headless._parser()._subparsers._group_actions[0].choices["capture-multi"].format_help()
    assert "--calibration" in multi_help and "--offsets" not in multi_help  # offsets belong to one take
    with pytest.raises(MocapError, match="unknown settings offsets"):
        config.write_text('offsets = "0,1"\n', encoding="utf-8")
        headless._batch_settings(args, batch_multi.BATCH_MULTI_KEYS)
