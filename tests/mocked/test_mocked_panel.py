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
    assert set(drawn) <= set(property_names())
    assert set(drawn) == set(property_names()), "every scene option has a widget"
    assert all(c.args[0] is scene_props for c in layout.prop.call_args_list)


def test_capture_button_calls_the_capture_operator(layout: Any, scene_props: Any) -> None:
    draw.draw_capture_panel(layout, scene_props, engine_line="Engine ready", engine_ok=True)
    assert [c.args[0] for c in layout.operator.call_args_list] == ["mocap.capture"]


def test_running_capture_replaces_the_button_with_its_status(layout: Any, scene_props: Any) -> None:
    draw.draw_capture_panel(layout, scene_props, engine_line="x", engine_ok=True, running="pose: 3/60")
    layout.operator.assert_not_called()
    assert any(c.kwargs.get("text") == "pose: 3/60" for c in layout.label.call_args_list)


@pytest.mark.parametrize("ok", [True, False])
def test_engine_status_line_and_icons_exist(layout: Any, scene_props: Any, ok: bool) -> None:
    draw.draw_capture_panel(layout, scene_props, engine_line="No engine", engine_ok=ok)
    texts = [c.kwargs.get("text") for c in layout.label.call_args_list]
    assert "No engine" in texts
    icons = [c.kwargs["icon"] for c in (*layout.label.call_args_list, *layout.operator.call_args_list)
             if "icon" in c.kwargs]
    assert icons and set(icons) <= icon_names()
