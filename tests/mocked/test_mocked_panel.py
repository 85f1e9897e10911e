"""The Mocap panel's draw code against a UILayout mock specced from fake-bpy-module."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import icon_names, import_ext, property_names

draw = import_ext("panels.draw")


def _drawn_props(layout: Any) -> list[str]:
    return [c.args[1] for c in layout.prop.call_args_list]


def test_panel_draws_every_option_with_real_property_names(layout: Any, scene_props: Any) -> None:
    draw.draw_capture_panel(layout, scene_props, engine_line="Engine ready", engine_ok=True)
    drawn = _drawn_props(layout)
    capture_props = {n for n in property_names() if not n.startswith(("batch_", "live_", "multi_"))}
    assert set(drawn) <= set(property_names())
    assert set(drawn) == capture_props, "every capture option has a widget"
    assert all(c.args[0] is scene_props for c in layout.prop.call_args_list)


def test_batch_panel_draws_its_options_and_button(layout: Any, scene_props: Any) -> None:
    draw.draw_batch_panel(layout, scene_props)
    batch_props = {n for n in property_names() if n.startswith("batch_")}
    assert set(_drawn_props(layout)) == batch_props == {"batch_input_dir", "batch_output_dir", "batch_multi_camera", "batch_outputs"}
    assert [c.args[0] for c in layout.operator.call_args_list] == ["mocap.batch"]
    icons = [c.kwargs["icon"] for c in layout.operator.call_args_list if "icon" in c.kwargs]
    assert set(icons) <= icon_names()


def test_live_panel_draws_its_options_then_record_and_stop_with_the_figures(layout: Any, scene_props: Any) -> None:
    draw.draw_live_panel(layout, scene_props, status=None)
    live_props = {n for n in property_names() if n.startswith("live_")}
    assert live_props == {"live_source", "live_realtime", "live_vmc", "live_lag"}
    assert set(_drawn_props(layout)) == live_props | {"smoothing"}
    assert [c.args[0] for c in layout.operator.call_args_list] == ["mocap.live"]
    layout.reset_mock()
    draw.draw_live_panel(layout, scene_props, status="live: 29 fps, 61 ms glass to pose")
    assert [c.args[0] for c in layout.operator.call_args_list] == ["mocap.live_record", "mocap.live_stop"]
    assert any(c.kwargs.get("text") == "live: 29 fps, 61 ms glass to pose" for c in layout.label.call_args_list)
    icons = [c.kwargs["icon"] for c in layout.operator.call_args_list if "icon" in c.kwargs]
    assert set(icons) <= icon_names()


def test_running_batch_shows_its_status_instead_of_the_button(layout: Any, scene_props: Any) -> None:
    draw.draw_batch_panel(layout, scene_props, running="[2/5] walk: pose 40%")
    assert layout.operator.call_args_list == []
    assert any(c.kwargs.get("text") == "[2/5] walk: pose 40%" for c in layout.label.call_args_list)


def test_capture_preview_and_import_buttons_call_their_operators(layout: Any, scene_props: Any) -> None:
    draw.draw_capture_panel(layout, scene_props, engine_line="Engine ready", engine_ok=True)
    assert [c.args[0] for c in layout.operator.call_args_list] == ["mocap.capture", "mocap.preview",
                                                                  "mocap.import_motion"]


def test_running_capture_replaces_the_button_with_its_status(layout: Any, scene_props: Any) -> None:
    draw.draw_capture_panel(layout, scene_props, engine_line="x", engine_ok=True, running="pose: 3/60")
    assert [c.args[0] for c in layout.operator.call_args_list] == ["mocap.preview", "mocap.import_motion"]
    assert any(c.kwargs.get("text") == "pose: 3/60" for c in layout.label.call_args_list)


@pytest.mark.parametrize("ok", [True, False])
def test_engine_status_line_and_icons_exist(layout: Any, scene_props: Any, ok: bool) -> None:
    draw.draw_capture_panel(layout, scene_props, engine_line="No engine", engine_ok=ok)
    texts = [c.kwargs.get("text") for c in layout.label.call_args_list]
    assert "No engine" in texts
    icons = [c.kwargs["icon"] for c in (*layout.label.call_args_list, *layout.operator.call_args_list)
             if "icon" in c.kwargs]
    assert icons and set(icons) <= icon_names()


def test_gender_is_greyed_out_for_the_mannequin(layout: Any, scene_props: Any) -> None:
    """The gender only picks an SMPL-X file: with the mannequin its row is inactive."""
    actives: list[bool] = []
    type(layout).active = property(lambda self: None, lambda self, v: actives.append(v))
    try:
        scene_props.body_model = 'MANNEQUIN'
        draw.draw_capture_panel(layout, scene_props, engine_line="x", engine_ok=True)
        assert False in actives
        actives.clear()
        scene_props.body_model, scene_props.use_fov = 'SMPLX', True
        scene_props.use_camera_pitch = scene_props.use_camera_roll = True
        draw.draw_capture_panel(layout, scene_props, engine_line="x", engine_ok=True)
        assert all(actives)
    finally:
        del type(layout).active


def test_quality_panel_lists_the_take_figures(layout: Any) -> None:
    quality = {"mean_reprojection_error_px": 4.25, "low_confidence_fraction": 0.125, "bridged_frames": 3.0,
               "foot_skate_mm": 0.5, "frames": 60.0}
    draw.draw_quality_panel(layout, quality, "12-18, 40")
    texts = [c.kwargs.get("text") for c in layout.label.call_args_list]
    assert "Reprojection error: 4.2 px" in texts or "Reprojection error: 4.3 px" in texts
    assert "Low-confidence frames: 12%" in texts and "Bridged frames: 3" in texts
    assert "Foot skate: 0.5 mm/frame" in texts
    assert "Low confidence: frames 12-18, 40" in texts


def test_quality_panel_says_where_the_up_direction_came_from(layout: Any) -> None:
    quality = {"up_uncertainty_degrees": 1.14, "camera_pitch_degrees": 12.0, "frames": 60.0}
    draw.draw_quality_panel(layout, quality, "", up_source="scene lines ±1.1°")
    texts = [c.kwargs.get("text") for c in layout.label.call_args_list]
    assert "Up from scene lines ±1.1°" in texts
    assert "Up direction uncertainty: 1.1 °" in texts and "Camera pitch (down): 12.0 °" in texts


def test_quality_panel_without_a_take_says_what_to_do(layout: Any) -> None:
    draw.draw_quality_panel(layout, None)
    assert "Select a captured character" in layout.label.call_args_list[0].kwargs["text"]
