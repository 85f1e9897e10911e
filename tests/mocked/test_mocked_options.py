"""The option table (core/options.py) and every surface derived from it.

Each option round-trips, with a value other than its default: headless command
line -> TOML settings file -> Blender properties -> engine arguments -> parsed
by the engine's command line. And each option reaches every surface it is
declared for, so an option forgotten on one surface fails here.

The Blender side's option code is plain Python (no bpy, no mocks needed);
tests/blender/test_options.py checks the properties Blender itself registers.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, fields
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from conftest import ROOT, import_ext as ext

cli, opts = ext("core.cli"), ext("core.options")
build_parser = cli.build_parser
BATCH, BUILD, ENGINE, SCENE = opts.BATCH, opts.BUILD, opts.ENGINE, opts.SCENE
OPTION, OPTIONS, options_for = opts.OPTION, opts.OPTIONS, opts.options_for
batch_args, engine_args, engine_values = opts.batch_args, opts.engine_args, opts.engine_values

# A value other than the default for every option (and other than the batch's default).
SAMPLE: dict[str, Any] = {
    "start": 10, "end": 100, "stride": 3, "max_frames": 40, "fov": 55.0, "model_complexity": 0,
    "pose_batch": 8, "mirror_average": True, "body": "smplx", "smplx_dir": "/models/smplx",
    "gender": "female", "preset": "accurate", "device": "cpu", "pose_backend": "torch",
    "no_cleanup": True, "no_floor": True, "no_root_anchor": True, "foot_lock": "always", "smoothing": 0.8,
    "smoothing_hands": 0.25, "smoothing_face": 0.0, "ground": False, "correctives": "NONE",
    "resample": True, "target": "new", "camera_pitch": 20.0, "camera_roll": -5.0, "level_camera": True,
    "person": "640,360@12", "follow": False, "people": "all", "live_source": "rtsp://cam.local/stream", "realtime": True, "vmc": "127.0.0.1:39539", "lag": 2,
    "retarget_target": "hero.blend:Armature", "retarget_preset": "mixamo",
    "offsets": "0,1.37,-0.4", "calibration": "/rigs/studio.json", "save_calibration": "/rigs/new.json",
    "person_height": 1.8,
}
BATCH_OWN = {"outputs", "engine_python", "progress"}
"""BatchSettings fields that are the batch's own, not options."""


def pick(values: dict[str, Any], options: tuple) -> dict[str, Any]:
    return {o.name: values[o.name] for o in options}


def test_every_option_has_a_sample_value_other_than_its_defaults() -> None:
    assert set(SAMPLE) == set(OPTION)
    for option in OPTIONS:
        assert SAMPLE[option.name] not in (option.default, option.batch_default), option.name
        if option.ui is not None:
            assert SAMPLE[option.name] != option.ui.default, option.name
        if option.choices:
            assert SAMPLE[option.name] in option.choices


def parse_engine(args: list[str]) -> dict[str, Any]:
    return engine_values(build_parser().parse_args(["capture", "v.mp4", "--out", "o.npz", *args]))


def test_engine_arguments_round_trip_through_the_engine_parser() -> None:
    values = pick(SAMPLE, options_for(ENGINE))
    assert parse_engine(engine_args(values)) == values
    defaults = parse_engine([])
    assert defaults == {o.name: o.default for o in options_for(ENGINE)}
    assert engine_args(defaults) == []


def test_multi_view_options_round_trip_through_capture_multi() -> None:
    multi = options_for(opts.MULTI)
    assert {o.name for o in multi} == {"offsets", "calibration", "save_calibration", "person_height"}
    values = pick(SAMPLE, multi)
    argv = ["capture-multi", "a.mp4", "b.mp4", "--out", "o.npz", *opts.option_args(values, multi, {})]
    parsed = vars(build_parser().parse_args(argv))
    assert pick(parsed, multi) == values and [str(v) for v in parsed["videos"]] == ["a.mp4", "b.mp4"]
    # capture-multi takes every capture option too, applied to each video
    engine = pick(SAMPLE, options_for(ENGINE))
    both = build_parser().parse_args([*argv, *engine_args(engine)])
    assert engine_values(both) == engine
    settings = ext("core.cli_multi").multi_settings(both, capture=None)
    assert settings.offsets == (0.0, 1.37, -0.4) and settings.person_height == 1.8


def toml_text(values: dict[str, Any]) -> str:
    def literal(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (tuple, list)):
            return "[" + ", ".join(literal(v) for v in value) + "]"
        return f'"{value}"' if isinstance(value, str) else repr(value)

    return "".join(f"{key} = {literal(value)}\n" for key, value in values.items())


def test_every_option_round_trips_cli_toml_properties_engine(tmp_path: Path) -> None:
    headless, batch, settings = ext("blender_mocap.headless"), ext("blender_mocap.batch"), ext("blender_mocap.settings")
    batch_values = pick(SAMPLE, options_for(BATCH))

    # headless command line -> batch values
    argv = ["capture", "v.mp4", "--out", str(tmp_path), *engine_args(batch_values), *batch_args(batch_values)]
    parsed = vars(headless._parser().parse_args(argv))
    assert pick(parsed, options_for(BATCH)) == batch_values

    # -> a TOML settings file -> BatchSettings
    config = tmp_path / "show.toml"
    config.write_text(toml_text(batch_values), encoding="utf-8")
    from_toml = asdict(batch.BatchSettings(**batch.settings_from_toml(config)))
    assert pick(from_toml, options_for(BATCH)) == batch_values

    # -> the scene's Blender properties (as a property group holds them) -> request and build options
    props = SimpleNamespace(video_path="/v.mp4", output_dir="/out",
                            **settings.prop_values(from_toml, settings.property_options()))
    request = settings.settings_from_props(props, smplx_dir=from_toml["smplx_dir"])
    build = settings.build_options_from_props(props, smplx_dir=from_toml["smplx_dir"])
    for option in options_for(SCENE):
        if option.ui is None or option.name in from_toml:
            continue  # scene-only options (resample, target) are not batch options: left at their defaults
        assert getattr(props, option.prop) == settings.prop_value(option, option.ui.default)

    # -> engine arguments -> parsed by the engine, and the batch operator's command line -> parsed by headless
    engine_side = pick(batch_values, options_for(ENGINE, SCENE))
    assert pick(parse_engine(request.cli_args()), options_for(ENGINE, SCENE)) == engine_side
    assert {k: v for k, v in asdict(build).items() if k in batch_values} == pick(batch_values, options_for(BUILD, BATCH))
    operator_argv = ["capture", "v.mp4", "--out", str(tmp_path), *request.cli_args(), *batch_args(asdict(build))]
    # Batch-only options (the retarget character and its mapping) are not on the Batch panel.
    carried = tuple(o for o in options_for(BATCH) if o.surfaces != {BATCH})
    assert pick(vars(headless._parser().parse_args(operator_argv)), carried) == pick(batch_values, carried)


def test_scene_only_options_round_trip_through_properties() -> None:
    settings = ext("blender_mocap.settings")
    options = settings.property_options()
    props = SimpleNamespace(**settings.prop_values(SAMPLE, options))
    assert settings.option_values(props, options) == pick(SAMPLE, options)
    build = settings.build_options_from_props(props)
    assert (build.ground, build.correctives, build.resample) == (False, "NONE", True)


def test_every_option_reaches_every_surface_it_is_declared_for() -> None:
    engine, batch, settings = ext("blender_mocap.engine"), ext("blender_mocap.batch"), ext("blender_mocap.settings")
    headless = ext("blender_mocap.headless")
    capture = next(a for a in build_parser()._subparsers._group_actions[0].choices.items() if a[0] == "capture")[1]
    engine_flags = {s for a in capture._actions for s in a.option_strings}
    live_cmd = build_parser()._subparsers._group_actions[0].choices["live"]
    live_flags = {s for a in live_cmd._actions for s in a.option_strings}
    sub = headless._parser()._subparsers._group_actions[0].choices
    batch_flags = {s for a in sub["capture"]._actions for s in a.option_strings}
    build_flags = {s for a in sub["build"]._actions for s in a.option_strings}
    cli_source = (ROOT / "core" / "cli.py").read_text(encoding="utf-8")
    specs = settings.scene_property_specs()

    def flags(option: Any) -> set[str]:
        return {option.flag, f"--no-{option.flag[2:]}"}

    for option in OPTIONS:
        if ENGINE in option.surfaces:
            assert flags(option) & engine_flags, option.name
            assert f"args.{option.name}" in cli_source, f"core/cli.py does not pass {option.name} on"
        if BATCH in option.surfaces:
            assert flags(option) & batch_flags, option.name
        if opts.LIVE in option.surfaces:
            assert flags(option) & live_flags, option.name
        if BATCH in option.surfaces and BUILD in option.surfaces:
            assert flags(option) & build_flags, option.name
        if option.ui is not None:
            assert SCENE in option.surfaces and option.prop in specs, option.name
    assert {f.name for f in fields(batch.BatchSettings)} == {o.name for o in options_for(BATCH)} | BATCH_OWN
    assert {f.name for f in fields(engine.CaptureRequest)} == {o.name for o in options_for(ENGINE, SCENE)} | {
        "video", "output_dir"}
    assert {f.name for f in fields(settings.BuildOptions)} == {o.name for o in options_for(BUILD)}
    # and no scene property of an option is missed by the conversion to values
    for option in options_for(SCENE, ENGINE):
        assert option.ui is not None or option.name == "smplx_dir", option.name  # the folder is a preference


def test_blender_properties_keep_their_names_units_and_identifiers() -> None:
    specs = ext("blender_mocap.settings").scene_property_specs()
    kind, fov = specs["fov"]
    assert kind == "FloatProperty" and fov["subtype"] == "ANGLE"
    assert (fov["default"], fov["min"], fov["max"]) == (math.radians(60.0), math.radians(5.0), math.radians(170.0))
    assert specs["use_fov"][0] == "BoolProperty" and specs["use_fov"][1]["name"] == "Set Field of View"
    assert specs["use_fov"][1]["default"] is False
    assert specs["frame_end"] == ("IntProperty", {"name": "End", "default": -1, "min": -1,
                                                  "description": "Last video frame to capture (-1 = to the end of "
                                                                 "the video)"})
    assert specs["frame_stride"][1] | {"description": ""} == {"name": "Stride", "default": 1, "min": 1,
                                                              "soft_max": 10, "description": ""}
    kind, body = specs["body_model"]
    assert kind == "EnumProperty" and body["default"] == "AUTO" and body["name"] == "Body Model"
    assert [i[0] for i in body["items"]] == ["AUTO", "MANNEQUIN", "SMPLX"]
    assert [i[0] for i in specs["correctives"][1]["items"]] == ["DRIVERS", "BAKED", "NONE"]
    assert specs["smoothing"][1]["subtype"] == "FACTOR"
    for name, (kind, kwargs) in specs.items():
        assert re.fullmatch(r"[a-z_]+", name) and kwargs["name"], name
