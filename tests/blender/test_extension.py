"""The extension as a user gets it: built by Blender's builder, installed, enabled, used.

Everything Blender-side runs in ONE subprocess (real bpy as a module) with
a temporary Blender user folder: the BLENDER_USER_* variables must be set
before bpy is imported, and nothing may land in the real ~/.config. The script
below installs the built zip with ``extensions.package_install_files``, checks
what got registered, runs the operators on bad input, cancels a real engine
run through the capture operator's cleanup function, runs one short capture
synchronously (background mode), imports the result, and disables the add-on.
It writes its findings to a JSON file that the tests below read.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = "bl_ext.user_default.blender_mocap"

_BPY = importlib.util.find_spec("bpy")
pytestmark = pytest.mark.skipif(_BPY is None, reason="needs bpy (Blender as a Python module)")


def blender_ext_script() -> Path:
    """Blender's own extension validator/builder, shipped inside the bpy package."""
    assert _BPY is not None and _BPY.origin is not None
    bpy_dir = Path(_BPY.origin).parent
    found = sorted(bpy_dir.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    assert found, f"blender_ext.py not found under {bpy_dir}"
    return found[-1]


IN_BLENDER = r'''
import importlib.util, json, os, sys, time, traceback
from pathlib import Path

cfg = json.loads(sys.argv[1])
user = Path(cfg["user_dir"])
for var in ("BLENDER_USER_RESOURCES", "BLENDER_USER_CONFIG", "BLENDER_USER_SCRIPTS",
            "BLENDER_USER_EXTENSIONS", "BLENDER_USER_DATAFILES"):
    os.environ[var] = str(user / var.lower())
os.environ["BLENDER_MOCAP_HOME"] = str(user / "mocap-home")  # no engine found by accident
os.environ["BLENDER_MOCAP_ENGINE_PYTHON"] = cfg["engine_python"]

import bpy  # after the environment is set

# The tests' version-aware helpers (tests/blender/conftest.py), loaded by path.
_spec = importlib.util.spec_from_file_location("blender_test_helpers", cfg["helpers"])
helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helpers)

PKG = cfg["pkg"]
out = {"user_config": bpy.utils.user_resource("CONFIG")}


def save():
    Path(cfg["result"]).write_text(json.dumps(out, indent=1, default=str))


def counts():
    return {name: len(getattr(bpy.data, name)) for name in
            ("objects", "actions", "cameras", "armatures", "meshes", "collections", "images", "movieclips")}


def call(op, **kw):
    before = counts()
    try:
        result, message = sorted(op(**kw)), ""
    except RuntimeError as exc:  # an operator that reported an ERROR
        result, message = ["ERROR"], str(exc)
    return {"result": result, "message": message, "unchanged": counts() == before,
            "before": before, "after": counts()}


try:
    res = bpy.ops.extensions.package_install_files(filepath=cfg["zip"], repo="user_default",
                                                   enable_on_install=True)
    out["install"] = sorted(res)
    out["enabled"] = PKG in bpy.context.preferences.addons
    out["ops"] = {n: hasattr(bpy.ops.mocap, n) for n in
                  ("capture", "import_motion", "create_engine", "check_engine")}
    out["idnames"] = {n: getattr(bpy.ops.mocap, n).idname() for n in out["ops"]}
    panel = getattr(bpy.types, "MOCAP_PT_capture", None)
    out["panel"] = panel is not None and {"category": panel.bl_category, "space": panel.bl_space_type,
                                          "region": panel.bl_region_type}
    prefs = bpy.context.preferences.addons[PKG].preferences
    out["prefs"] = type(prefs).__name__ if prefs is not None else None
    out["prefs_props"] = sorted(p.identifier for p in prefs.bl_rna.properties if p.identifier != "rna_type")
    out["base_line"] = sys.modules[PKG + ".blender_mocap.preferences"].STATUS.base_line()
    out["python"] = list(sys.version_info[:2])
    out["scene_props"] = sorted(p.identifier for p in bpy.context.scene.mocap.bl_rna.properties
                                if p.identifier != "rna_type")
    out["import_menu"] = any(getattr(f, "__name__", "") == "menu_func_import"
                             for f in bpy.types.TOPBAR_MT_file_import._dyn_ui_initialize())
    save()

    props = bpy.context.scene.mocap
    props.video_path = str(user / "no-such-video.mp4")
    out["missing_video"] = call(bpy.ops.mocap.capture)
    notes = user / "notes.txt"
    notes.write_text("this is not a video\n")
    props.video_path = str(notes)
    out["not_a_video"] = call(bpy.ops.mocap.capture)
    bad_npz = user / "bad.npz"
    bad_npz.write_bytes(b"not a zip")
    out["bad_motion_import"] = call(bpy.ops.mocap.import_motion, filepath=str(bad_npz))
    save()

    # Cancel a real engine run mid-way through the operator's own cleanup function.
    cap = sys.modules[PKG + ".operators.capture"]
    eng = sys.modules[PKG + ".blender_mocap.engine"]
    runs = sys.modules[PKG + ".blender_mocap.runs"]
    settings = eng.CaptureRequest(video=cfg["clip"], output_dir=str(user / "takes"))
    before = counts()
    run = cap.start_capture(settings, Path(cfg["engine_python"]))
    runs.CAPTURE.start(run)
    kinds = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120 and not run.job.finished and "progress" not in kinds:
        kinds += [e["event"] for e in run.job.poll()]
        time.sleep(0.05)
    t1 = time.monotonic()
    cap.cleanup_capture(run, cancel=True)
    out["cancel"] = {"events_before_cancel": kinds, "seconds": time.monotonic() - t1,
                     "returncode": run.job.returncode, "temp_dir_exists": run.temp_dir.exists(),
                     "still_running": runs.CAPTURE.running(), "unchanged": counts() == before,
                     "takes_dir_exists": (user / "takes").exists(),
                     "stderr": run.job.stderr_tail()[-2000:]}
    save()

    # One short capture, synchronous because bpy.app.background is True.
    props.video_path = cfg["clip"]
    props.output_dir = str(user / "takes")
    props.max_frames = 0  # the whole 60-frame clip
    t0 = time.monotonic()
    out["capture"] = call(bpy.ops.mocap.capture)
    out["capture"]["seconds"] = time.monotonic() - t0
    out["capture"]["saved"] = sorted(p.name for p in (user / "takes").glob("*.npz"))
    arms = [o for o in bpy.data.objects if o.type == "ARMATURE"]
    arm = arms[0] if arms else None
    out["capture"]["armature_action"] = bool(arm and arm.animation_data and arm.animation_data.action)
    if out["capture"]["armature_action"]:
        # Keyed frames per rotation channel, and where bones are at two moments.
        out["capture"]["keyed"] = {
            f"{fc.data_path}[{fc.array_index}]": sorted({round(k.co[0]) for k in fc.keyframe_points})
            for fc in helpers.action_fcurves(arm.animation_data)
            if fc.data_path.endswith("rotation_quaternion")}
        heads = {}
        for frame in (31, 49):  # video frames 30 and 48: arms up, arms down
            bpy.context.scene.frame_set(frame)
            mw = arm.matrix_world
            heads[frame] = {b.name: list(mw @ b.head) for b in arm.pose.bones}
        out["capture"]["heads"] = heads
        out["capture"]["frame_range"] = [bpy.context.scene.frame_start, bpy.context.scene.frame_end]
    save()
    saved = sorted((user / "takes").glob("*.npz"))
    if saved:
        out["import"] = call(bpy.ops.mocap.import_motion, filepath=str(saved[0]))
    save()
    # A live engine left running when the add-on is disabled: disabling must end it.
    live = sys.modules[PKG + ".blender_mocap.live"]
    out["live_pid"] = live.LiveSession(cfg["engine_python"], {"live_source": cfg["clip"]},
                                       output_dir=str(user / "takes")).job.pid
    save()
except Exception:
    out["exception"] = traceback.format_exc()
finally:
    try:
        bpy.ops.preferences.addon_disable(module=PKG)
        out["disabled"] = {"ops_gone": not hasattr(bpy.ops.mocap, "capture") or
                           not hasattr(bpy.types, "MOCAP_OT_capture"),
                           "scene_prop_gone": not hasattr(bpy.types.Scene, "mocap"),
                           "panel_gone": not hasattr(bpy.types, "MOCAP_PT_capture")}
        if "live_pid" in out:
            try:
                os.kill(out["live_pid"], 0)
                out["disabled"]["live_engine_gone"] = False
            except ProcessLookupError:
                out["disabled"]["live_engine_gone"] = True
    except Exception:
        out["disable_exception"] = traceback.format_exc()
    save()
'''


# What running the tests, the demo, the batch and the tools leaves in a checkout: the
# zip is built from a copy of the repository with all of these present.
USED_TREE_LEFTOVERS = (
    ".hypothesis/examples/0a1b2c/3d4e5f", ".hypothesis/constants/0a1b2c",
    ".pytest_cache/v/cache/lastfailed", "tests/.pytest_cache/README.md",
    "core/__pycache__/motion.cpython-311.pyc", "blender_mocap/__pycache__/scene.cpython-313.pyc",
    "core/motion.pyc", ".mypy_cache/3.11/core/motion.data.json", "tests/mocked/.mypy_cache/CACHEDIR.TAG",
    ".ruff_cache/0.9.0/123", ".coverage", ".venv/bin/python",
    "bench/results/accuracy.json", "tests/core/data/preview_actual.png",
    "demo-output/demo.blend", "demo-output/demo.npz", "demo-output/report.json",
    "demo-output/.blender-mocap/demo.engine.npz", ".blender-mocap/walk.engine.npz",
    "take.npz", "take.blend", "take.blend1", ".take.partial.blend", "clip.mp4", "take.npz.partial",
)
LEFTOVER_MARKS = (".hypothesis/", ".pytest_cache/", "__pycache__/", ".mypy_cache/", ".ruff_cache/",
                  ".venv/", ".blender-mocap/", "demo-output/", "results/")
LEFTOVER_SUFFIXES = (".pyc", ".coverage", ".partial", ".blend", ".blend1", ".npz", ".mp4", ".png")


def used_tree(target: Path) -> Path:
    """A copy of the repository as it looks after the tests, the demo and the tools ran."""
    shutil.copytree(ROOT, target, ignore=shutil.ignore_patterns(".git"), symlinks=True)
    for name in USED_TREE_LEFTOVERS:
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"left over\n")
    return target


@pytest.fixture(scope="module")
def built_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension zip made by Blender's own builder from a used tree, after its validator passed."""
    script = blender_ext_script()
    source = used_tree(tmp_path_factory.mktemp("used") / "blender_mocap")
    out = tmp_path_factory.mktemp("build") / "blender_mocap.zip"
    for args in (["validate", str(source)],
                 ["build", "--source-dir", str(source), "--output-filepath", str(out)]):
        proc = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"blender_ext {args[0]} failed:\n{proc.stdout}\n{proc.stderr}"
    return out


@pytest.fixture(scope="module")
def blender_run(built_zip: Path, short_clip: Path, engine_python: str,
                tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("blender-user")
    cfg = {"zip": str(built_zip), "user_dir": str(tmp), "pkg": PKG, "clip": str(short_clip),
           "engine_python": engine_python, "result": str(tmp / "result.json"),
           "helpers": str(Path(__file__).with_name("conftest.py"))}
    script = tmp / "in_blender.py"
    script.write_text(IN_BLENDER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLENDER_USER_")}
    proc = subprocess.run([sys.executable, str(script), json.dumps(cfg)], capture_output=True, text=True,
                          timeout=900, env=env, cwd=tmp)
    result_file = Path(cfg["result"])
    assert result_file.is_file(), f"the Blender script died:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    result: dict[str, Any] = json.loads(result_file.read_text())
    result["_log"] = proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "exception" not in result, result["exception"] + "\n" + result["_log"]
    return result


def test_zip_holds_the_extension_and_no_tests_or_leftovers(built_zip: Path) -> None:
    import zipfile

    names = set(zipfile.ZipFile(built_zip).namelist())
    assert {"blender_manifest.toml", "__init__.py", "registration.py",
            "operators/capture.py", "panels/capture.py", "core/motion.py"} <= names
    assert not any(n.startswith(("tests/", "bench/", ".ci/", ".git/")) or "__pycache__" in n for n in names)
    assert "dev.py" not in names
    leftovers = sorted(n for n in names if any(mark in "/" + n for mark in LEFTOVER_MARKS)
                       or n.endswith(LEFTOVER_SUFFIXES) or n.startswith("."))
    assert not leftovers, f"test caches or outputs in the zip: {leftovers}"


def test_installs_into_a_temporary_user_folder(blender_run: dict[str, Any], tmp_path_factory: Any) -> None:
    assert blender_run["install"] == ["FINISHED"]
    assert blender_run["enabled"]
    assert str(tmp_path_factory.getbasetemp()) in blender_run["user_config"]


def test_operators_panel_and_preferences_are_registered(blender_run: dict[str, Any]) -> None:
    assert all(blender_run["ops"].values()), blender_run["ops"]
    assert blender_run["idnames"] == {
        "capture": "MOCAP_OT_capture", "import_motion": "MOCAP_OT_import_motion",
        "create_engine": "MOCAP_OT_create_engine", "check_engine": "MOCAP_OT_check_engine",
    }
    assert blender_run["panel"] == {"category": "Mocap", "space": "VIEW_3D", "region": "UI"}
    assert blender_run["prefs"] == "MOCAP_AP_preferences"
    # What Create Engine builds from, never Blender's own Python where MediaPipe has no wheels (5.1+: 3.13).
    line = blender_run["base_line"]
    assert line.startswith(("Create Engine builds from Python 3.11", "Create Engine builds from Python 3.12",
                            "Create Engine needs Python 3.11 or 3.12")), line
    if blender_run["python"] not in ([3, 11], [3, 12]):
        assert "this Python" not in line, line
    assert "engine_python" in blender_run["prefs_props"]
    assert {"video_path", "output_dir", "frame_start", "frame_end", "frame_stride", "max_frames",
            "use_fov", "fov"} <= set(blender_run["scene_props"])


def test_missing_video_is_a_clear_error_and_changes_nothing(blender_run: dict[str, Any]) -> None:
    r = blender_run["missing_video"]
    assert r["result"] == ["ERROR"]
    assert "Video not found:" in r["message"] and "no-such-video.mp4" in r["message"]
    assert r["unchanged"], (r["before"], r["after"])


def test_non_video_file_is_a_clear_error_and_changes_nothing(blender_run: dict[str, Any]) -> None:
    r = blender_run["not_a_video"]
    assert r["result"] == ["ERROR"]
    assert "Not a video file" in r["message"] and "notes.txt" in r["message"]
    assert r["unchanged"], (r["before"], r["after"])


def test_broken_motion_file_import_is_a_clear_error(blender_run: dict[str, Any]) -> None:
    r = blender_run["bad_motion_import"]
    assert r["result"] == ["ERROR"]
    assert "bad.npz" in r["message"]
    assert r["unchanged"]


def test_cancelling_a_real_capture_leaves_nothing_behind(blender_run: dict[str, Any]) -> None:
    c = blender_run["cancel"]
    assert "progress" in c["events_before_cancel"], c  # the engine was really working
    assert c["returncode"] is not None, "the engine is still running"
    assert c["seconds"] < 3.0, c
    assert not c["temp_dir_exists"]
    assert not c["still_running"]
    assert c["unchanged"]
    assert not c["takes_dir_exists"], "a cancelled capture must not write results"


def test_background_capture_builds_a_take_and_saves_the_motion(blender_run: dict[str, Any]) -> None:
    r = blender_run["capture"]
    assert r["result"] == ["FINISHED"], r["message"] + "\n" + blender_run["_log"]
    assert r["after"]["armatures"] == r["before"]["armatures"] + 1
    assert r["after"]["cameras"] == r["before"]["cameras"] + 1
    assert r["armature_action"]
    assert r["saved"] and r["saved"][0].endswith(".npz")
    # Keyed on every frame of the clip: 55 bones x 4 quaternion channels, frames 1..60.
    assert len(r["keyed"]) == 55 * 4
    assert all(frames == list(range(1, 61)) for frames in r["keyed"].values())
    assert r["frame_range"] == [1, 60]


def test_captured_arms_go_up_when_his_arms_go_up(blender_run: dict[str, Any]) -> None:
    """Plausible rotations: in Blender (Z up) the hands are above the head only while he raises them."""
    heads = blender_run["capture"]["heads"]
    up, down = heads["31"], heads["49"]
    for hand in ("left_wrist", "right_wrist"):
        assert up[hand][2] > up["head"][2], (hand, up[hand], up["head"])
        assert down[hand][2] < down["head"][2], (hand, down[hand], down["head"])
    # He stands: head above pelvis above ankles.
    assert up["head"][2] > up["pelvis"][2] > up["left_ankle"][2]
    # He faces the camera, which looks along +Y: his left (image right) is +X.
    assert up["left_shoulder"][0] > up["right_shoulder"][0]


def test_saved_motion_imports_again(blender_run: dict[str, Any]) -> None:
    r = blender_run["import"]
    assert r["result"] == ["FINISHED"], r["message"]
    assert r["after"]["armatures"] == r["before"]["armatures"] + 1


def test_disabling_unregisters_everything(blender_run: dict[str, Any]) -> None:
    assert "disable_exception" not in blender_run, blender_run.get("disable_exception")
    assert all(blender_run["disabled"].values()), blender_run["disabled"]
    assert "live_engine_gone" in blender_run["disabled"]  # a live engine was running and is gone
