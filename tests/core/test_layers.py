"""Imports go only downwards, and no two modules import each other (directly or round a loop).

The layer order below is the one written in the README's layout table: a
module may import modules of its own layer or of a lower one, never a higher
one. Every import counts, also one inside a function (a lazy import upwards
is still an upward dependency); a module this table does not place fails
the test, so a new module is placed on purpose.

Pure AST: nothing is imported, so this runs in any Python.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROOT_PACKAGE = "<extension root>"
"""The repository root's ``__init__.py``: the extension's entry point (registration)."""

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # The engine (core/): never imports the Blender side.
    ("foundations", ("core", "core.errors", "core.rotations", "core.skeleton", "core.options", "core.option_values", "core.camera",
                     "core.archive")),
    ("data", ("core.landmarks", "core.motion", "core.motion_cameras", "core.motion_ground", "core.video", "core.mp4meta", "core.person",
              "core.live.protocol", "core.live.osc", "core.crowd")),
    ("models", ("core.body", "core.pose", "core.pose_follow", "core.pose_torch")),
    ("solvers", ("core.fit", "core.cleanup", "core.gravity", "core.multiview")),
    ("jobs", ("core.pipeline", "core.capture", "core.capture_multi", "core.preview", "core.live", "core.people",
              "core.pose_stage")),
    ("engine commands", ("core.cli", "core.cli_common", "core.cli_multi", "core.__main__", "core.preview.cli",
                         "core.live.cli")),
    # The Blender side (it may use the engine's numpy-only foundations and data).
    ("settings and conversions", ("blender_mocap", "blender_mocap.convert", "blender_mocap.keying",
                                  "blender_mocap.prepare", "blender_mocap.smplx_rest", "blender_mocap.engine_env",
                                  "blender_mocap.engine", "blender_mocap.settings", "blender_mocap.properties",
                                  "blender_mocap.preferences", "blender_mocap.take_keys",
                                  "blender_mocap.live_stream", "blender_mocap.multicam_request")),
    ("scene building and jobs", ("blender_mocap.build_context", "blender_mocap.armature", "blender_mocap.body_mesh",
                                 "blender_mocap.camera", "blender_mocap.multicam", "blender_mocap.take",
                                 "blender_mocap.scene", "blender_mocap.exports", "blender_mocap.batch", "blender_mocap.runs",
                                 "blender_mocap.live", "blender_mocap.retarget",
                                 "blender_mocap.people", "blender_mocap.batch_multi", "blender_mocap.batch_state")),
    ("headless commands", ("blender_mocap.headless",)),
    ("operators", ("operators",)),
    ("panels", ("panels",)),
    ("registration", (ROOT_PACKAGE, "registration")),
)
PACKAGES = ("core", "blender_mocap", "operators", "panels")


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the four packages and the root."""
    mods = {ROOT_PACKAGE: ROOT / "__init__.py", "registration": ROOT / "registration.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            mods[name] = path
    return mods


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports (anywhere in the file), resolved to known names."""
    is_package = path.name == "__init__.py"
    here = [] if name == ROOT_PACKAGE else name.split(".")
    package = here if is_package else here[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            if node.level and node.level - 1 > len(package):
                continue  # above the extension root: not ours
            stem = ".".join(base + ([node.module] if node.module else []))
            targets = [f"{stem}.{alias.name}" if stem else alias.name for alias in node.names] + [stem]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `from pkg import name` names a submodule or an attribute
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def layer_of(name: str) -> int:
    best, best_len = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def graph() -> dict[str, set[str]]:
    mods = module_files()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def related(a: str, b: str) -> bool:
    """A package and its own module: ``core.fit`` re-exporting ``core.fit.ik`` is not a loop."""
    return a.startswith(b + ".") or b.startswith(a + ".")


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Import loops among modules (edges between a package and its own modules left out)."""
    state: dict[str, int] = {}
    found: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(g[node]):
            if related(node, nxt):
                continue
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(g):
        if node not in state:
            visit(node, [])
    return found


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(name for name in module_files() if layer_of(name) < 0)
    assert not unplaced, f"modules missing from LAYERS (place them on purpose): {unplaced}"


def test_imports_only_go_downwards() -> None:
    g = graph()
    upward = [
        f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for name, targets in sorted(g.items()) for target in sorted(targets)
        if layer_of(target) > layer_of(name) and not related(name, target)
    ]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_cycles() -> None:
    loops = cycles(graph())
    assert not loops, "import cycles:\n" + "\n".join(" -> ".join(loop) for loop in loops)


def test_the_checker_sees_a_cycle_and_an_upward_import(tmp_path: Path) -> None:
    """The walk itself: a relative loop and a lazy upward import are found."""
    (tmp_path / "a.py").write_text("from .b import x\n")
    (tmp_path / "b.py").write_text("def f():\n    from . import a\n")
    known = {"pkg.a", "pkg.b"}
    g = {"pkg.a": imports_of("pkg.a", tmp_path / "a.py", known),
         "pkg.b": imports_of("pkg.b", tmp_path / "b.py", known)}
    assert g == {"pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}}
    assert cycles(g) == [["pkg.a", "pkg.b", "pkg.a"]]
    assert layer_of("core.fit.optimize") > layer_of("core.body.model") > layer_of("core.motion")
    assert layer_of("core.preview.cli") > layer_of("core.preview.job")


def test_readme_layer_table_matches() -> None:
    """The README's layer list names the same layers in the same order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Layers", 1)[1].split("\n#", 1)[0]
    listed = re.findall(r"^\d+\. \*\*(.+?)\*\*", section, flags=re.M)
    assert listed == [name for name, _ in LAYERS]
