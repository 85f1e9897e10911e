"""The scene's properties, as Blender registers them, are the option table's (core/options.py)."""

from __future__ import annotations

import importlib
import math
from types import SimpleNamespace

import bpy
import pytest


def _modules(pkg):
    return (importlib.import_module(f"{pkg.__name__}.blender_mocap.properties"),
            importlib.import_module(f"{pkg.__name__}.blender_mocap.settings"))


@pytest.fixture
def group(pkg):
    properties, _ = _modules(pkg)
    cls = properties.MOCAP_PG_settings
    bpy.utils.register_class(properties.MOCAP_PG_video)  # the type of its multi-camera video list
    bpy.utils.register_class(cls)
    bpy.types.Scene.mocap_options_test = bpy.props.PointerProperty(type=cls)
    try:
        yield bpy.context.scene.mocap_options_test
    finally:
        del bpy.types.Scene.mocap_options_test
        bpy.utils.unregister_class(cls)
        bpy.utils.unregister_class(properties.MOCAP_PG_video)


def test_registered_properties_match_the_option_table(pkg, group) -> None:
    _, settings = _modules(pkg)
    rna = group.bl_rna.properties
    for name, (kind, kwargs) in settings.scene_property_specs().items():
        prop = rna[name]
        assert (prop.name, prop.description) == (kwargs["name"], kwargs["description"]), name
        assert prop.subtype == kwargs.get("subtype", "NONE"), name
        if kind == "EnumProperty":
            assert prop.default == kwargs["default"], name
            assert [(i.identifier, i.name, i.description) for i in prop.enum_items] == list(kwargs["items"]), name
        else:
            assert prop.default == pytest.approx(kwargs["default"]), name
        for key, attr in (("min", "hard_min"), ("max", "hard_max"), ("soft_max", "soft_max")):
            if key in kwargs:
                assert getattr(prop, attr) == pytest.approx(kwargs[key]), f"{name}.{key}"
    assert rna["fov"].subtype == 'ANGLE' and rna["fov"].default == pytest.approx(math.radians(60.0))


def test_option_values_round_trip_through_real_properties(pkg, group) -> None:
    _, settings = _modules(pkg)
    options = settings.property_options()
    values = {"start": 10, "end": 100, "stride": 3, "max_frames": 40, "fov": 55.0, "body": "smplx",
              "gender": "female", "preset": "accurate", "device": "cpu", "pose_backend": "torch",
              "foot_lock": "always", "smoothing": 0.8, "smoothing_hands": 0.25, "smoothing_face": 0.0,
              "ground": False, "correctives": "NONE", "resample": True, "target": "new",
              "camera_pitch": 20.0, "camera_roll": -5.0, "level_camera": True,
              "person": "640,360@12", "live_source": "rtsp://cam.local/stream", "realtime": True,
              "vmc": "127.0.0.1:39539", "lag": 2, "people": "all", "offsets": "0,1.37,-0.4",
              "calibration": "/rigs/studio.json", "save_calibration": "/rigs/new.json", "person_height": 1.8}
    assert {o.name for o in options} == set(values)
    for name, value in settings.prop_values(values, options).items():
        setattr(group, name, value)
    got = settings.option_values(group, options)
    angles = {"fov": 55.0, "camera_pitch": 20.0, "camera_roll": -5.0, "person_height": 1.8}
    for name, degrees in angles.items():
        assert got[name] == pytest.approx(degrees, abs=1e-4)  # Blender keeps radians (and metres) in float32
    assert {**got, **angles} == values
    request = settings.settings_from_props(SimpleNamespace(
        video_path="/v.mp4", output_dir="/o", **{n: getattr(group, n) for n in settings.scene_property_specs()}))
    assert request.cli_args() == ["--start", "10", "--end", "100", "--stride", "3", "--max-frames", "40",
                                  "--fov", "55", "--body", "smplx", "--gender", "female", "--preset", "accurate",
                                  "--device", "cpu", "--pose-backend", "torch", "--person", "640,360@12", "--people", "all", "--camera-pitch", "20",
                                  "--camera-roll", "-5", "--level-camera", "--foot-lock", "always",
                                  "--smoothing", "0.8", "--smoothing-hands", "0.25", "--smoothing-face", "0"]
