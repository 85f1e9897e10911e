"""Helpers for the mocked-bpy tests (small venv: fake-bpy-module, no real bpy).

fake-bpy-module ships type stubs only (``bpy-stubs/**.pyi``), nothing
importable, so mocks get their spec from classes rebuilt out of those stubs:
every attribute and method of e.g. ``bpy.types.UILayout`` (inherited ones
included) with its real parameter names. ``create_autospec(..., spec_set=True)``
on such a class makes a misspelt attribute, an unknown keyword argument or a
missing positional argument fail the test.

The extension's packages are imported under a synthetic root package
(``blender_mocap_ext``, tests/extension_package.py) without running the root
``__init__`` (which imports bpy).
"""

from __future__ import annotations

import ast
import re
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# import_ext: the tests import it from here
from extension_package import ROOT  # noqa: E402
from extension_package import extension_module as import_ext  # noqa: E402,F401

try:
    metadata.distribution("fake-bpy-module-5-0")
except metadata.PackageNotFoundError:  # the big venv (real bpy): these tests belong to the small one
    collect_ignore_glob = ["test_*.py"]


@lru_cache(maxsize=None)
def _stub_source(module: str) -> str:
    """Source of the stub for a bpy module, e.g. "bpy.types"."""
    head, *rest = module.split(".")
    rel = Path(f"{head}-stubs", *rest, "__init__.pyi")
    path = Path(str(metadata.distribution("fake-bpy-module-5-0").locate_file(rel)))
    return path.read_text(encoding="utf-8")


_TYPE_PARAMS = re.compile(r"^(\s*(?:def|class) \w+)\[[^\]()]*\]", re.M)


def _class_node(module: str, name: str) -> ast.ClassDef:
    source = _stub_source(module)
    match = re.search(rf"^class {name}\b.*?:\n", source, re.M)
    if match is None:
        raise LookupError(f"{module}.{name} is not in fake-bpy-module")
    end = re.search(r"^\S", source[match.end():], re.M)
    chunk = source[match.start(): match.end() + (end.start() if end else len(source))]
    # PEP 695 type parameters do not parse on Python 3.11: drop them.
    node = ast.parse(_TYPE_PARAMS.sub(r"\1", chunk)).body[0]
    assert isinstance(node, ast.ClassDef)
    return node


def _plain_function(fn: ast.FunctionDef) -> ast.FunctionDef:
    """Same parameters, no annotations, defaults None, body ``...``."""
    args = fn.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
        if arg is not None:
            arg.annotation = None
    args.defaults = [ast.Constant(None) for _ in args.defaults]
    args.kw_defaults = [None if d is None else ast.Constant(None) for d in args.kw_defaults]
    decorators = [d for d in fn.decorator_list if isinstance(d, ast.Name) and d.id in ("classmethod", "staticmethod")]
    fn.decorator_list = decorators
    fn.returns = None
    fn.body = [ast.Expr(ast.Constant(...))]
    return fn


@lru_cache(maxsize=None)
def stub_class(module: str, name: str) -> type:
    """A runtime class with the attributes and method signatures of ``module.name``'s stub."""
    node = _class_node(module, name)
    bases = []
    for base in node.bases:
        base_name = ast.unparse(base).split("[")[0].split(".")[-1]
        try:
            bases.append(stub_class(module, base_name))
        except LookupError:
            pass  # typing.Generic and friends
    namespace: dict[str, Any] = {}
    functions = []
    seen: set[str] = set()
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            namespace[item.target.id] = None
        elif isinstance(item, ast.FunctionDef) and item.name not in seen:
            seen.add(item.name)  # first overload wins
            functions.append(_plain_function(item))
    code = ast.unparse(ast.fix_missing_locations(ast.Module(body=functions, type_ignores=[])))
    exec(compile(code, f"<stub {module}.{name}>", "exec"), {}, namespace)
    return type(name, tuple(bases) or (object,), namespace)


def stub_mock(module: str, name: str) -> Any:
    """``create_autospec`` of a stub class instance, with ``spec_set`` (unknown names fail)."""
    return mock.create_autospec(stub_class(module, name), instance=True, spec_set=True)


def property_names() -> list[str]:
    """Names of the properties of MOCAP_PG_settings: those in its source and those made from the option table."""
    tree = ast.parse((ROOT / "blender_mocap" / "properties.py").read_text(encoding="utf-8"))
    options = list(import_ext("blender_mocap.settings").scene_property_specs())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "MOCAP_PG_settings":
            return [n.target.id for n in node.body
                    if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)] + options
    raise AssertionError("MOCAP_PG_settings not found")


@pytest.fixture
def layout() -> Any:
    """A UILayout mock whose sub-layouts (row, column, box ...) are itself."""
    lay = stub_mock("bpy.types", "UILayout")
    for method in ("row", "column", "box", "split", "grid_flow", "column_flow"):
        getattr(lay, method).return_value = lay
    return lay


@pytest.fixture
def scene_props() -> Any:
    """The scene's ``mocap`` group: only its real property names exist."""
    props = mock.Mock(spec_set=property_names())
    props.video_path = "//clip.mp4"
    props.output_dir = ""
    props.frame_start = 0
    props.frame_end = -1
    props.frame_stride = 1
    props.max_frames = 0
    props.use_fov = False
    props.fov = 1.0471975511965976
    props.use_camera_pitch = props.use_camera_roll = props.level_camera = False
    props.camera_pitch = props.camera_roll = 0.0
    props.body_model = 'AUTO'
    props.gender = 'NEUTRAL'
    props.preset = 'BALANCED'
    props.device = 'AUTO'
    props.pose_backend = 'MEDIAPIPE'
    props.person = ""
    props.people = 'ONE'
    props.ground = True
    props.correctives = 'DRIVERS'
    props.resample = False
    props.target = 'ACTIVE'
    props.foot_lock = 'AUTO'
    props.smoothing = props.smoothing_hands = props.smoothing_face = 0.5
    props.batch_input_dir = props.batch_output_dir = ""
    props.batch_outputs = {'BLEND', 'NPZ'}
    return props


@lru_cache(maxsize=None)
def icon_names() -> frozenset[str]:
    """Every icon name Blender 5.0 accepts (``IconItems`` in the stubs)."""
    source = _stub_source("bpy.stub_internal.rna_enums")
    match = re.search(r"^type IconItems = typing\.Literal\[(.*?)\]", source, re.M | re.S)
    assert match is not None
    return frozenset(re.findall(r"'([A-Z0-9_]+)'|\"([A-Z0-9_]+)\"", match.group(1)) and
                     [a or b for a, b in re.findall(r"'([A-Z0-9_]+)'|\"([A-Z0-9_]+)\"", match.group(1))])
