"""TFLite graph -> a plan of torch ops, and the module that runs it batched.

Conversion (numpy only, cacheable): constant DEQUANTIZE / DENSIFY nodes are
folded into float32 constants, convolution weights are turned from TFLite's
OHWI into torch's OIHW, TensorFlow's SAME padding is made explicit (it may be
asymmetric), and every node becomes a small JSON-able dict. The executor holds
4-D activations as NCHW (torch's native layout) and converts axes wherever an
op depends on TFLite's NHWC layout (reshape, concatenation, mean), so outputs
come back exactly in TFLite's layouts, with any batch size.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..errors import MocapError
from .tflite import Graph, read_model

PLAN_VERSION = 1
_NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def _same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow SAME padding (before, after) of one spatial axis; the extra pixel goes after."""
    k = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


class _Converting:
    """What the node converters share: the graph, the constants found so far and every tensor's NHWC shape."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.consts = {f"t{t.index}": t.data for t in graph.tensors if t.data is not None}
        self.shape = {f"t{t.index}": list(t.shape) for t in graph.tensors}

    def const(self, i: int) -> np.ndarray:
        key = f"t{i}"
        if key not in self.consts:
            raise MocapError(f"TFLite graph: tensor {self.graph.tensors[i].name} should be constant")
        return self.consts[key]

    def input_shape(self, op) -> list[int]:
        return self.shape[f"t{op.inputs[0]}"]

    def weights(self, node: dict, op, weight: np.ndarray) -> None:
        """Store a node's weight and its optional bias (input 2) as constants named after its output."""
        self.consts[node["out"] + ".w"] = weight
        node["weight"] = node["out"] + ".w"
        if len(op.inputs) > 2 and op.inputs[2] >= 0:
            self.consts[node["out"] + ".b"] = self.const(op.inputs[2]).astype(np.float32)
            node["bias"] = node["out"] + ".b"


def _conv_node(c: _Converting, node: dict, op) -> None:
    o = op.options
    w = c.const(op.inputs[1]).astype(np.float32)
    _, h_in, w_in, c_in = c.input_shape(op)
    if op.op == "CONV_2D":
        weight = np.ascontiguousarray(w.transpose(0, 3, 1, 2))  # OHWI -> OIHW
        groups = 1
        if weight.shape[1] != c_in:
            raise MocapError("TFLite graph: grouped CONV_2D is not supported")
    else:
        weight = np.ascontiguousarray(w.transpose(3, 0, 1, 2))  # 1HW(C*M) -> (C*M)1HW
        groups = c_in
    kh, kw = weight.shape[2:]
    if o["padding"] == 0:
        pt, pb = _same_padding(h_in, kh, o["stride_h"], o["dilation_h"])
        pl, pr = _same_padding(w_in, kw, o["stride_w"], o["dilation_w"])
    else:
        pt = pb = pl = pr = 0
    c.weights(node, op, weight)
    node.update(stride=[o["stride_h"], o["stride_w"]], dilation=[o["dilation_h"], o["dilation_w"]],
                pad=[pl, pr, pt, pb], groups=groups)


def _fully_connected_node(c: _Converting, node: dict, op) -> None:
    c.weights(node, op, c.const(op.inputs[1]).astype(np.float32))


def _inputs_node(c: _Converting, node: dict, op) -> None:
    node["in"] = [f"t{i}" for i in op.inputs]


def _concatenation_node(c: _Converting, node: dict, op) -> None:
    node["in"] = [f"t{i}" for i in op.inputs]
    rank = len(c.input_shape(op))
    axis = op.options["axis"] % rank
    node["axis"] = _NHWC_TO_NCHW_AXIS[axis] if rank == 4 else axis


def _pad_node(c: _Converting, node: dict, op) -> None:
    p = c.const(op.inputs[1]).astype(int)
    if p[0].any():
        raise MocapError("TFLite graph: PAD of the batch axis is not supported")
    node["pad"] = [int(p[2, 0]), int(p[2, 1]), int(p[1, 0]), int(p[1, 1])]
    if p[3].any():  # zero channels appended (hand_recrop's "channel_padding" shortcuts)
        node["pad"] += [int(p[3, 0]), int(p[3, 1])]


def _prelu_node(c: _Converting, node: dict, op) -> None:
    alpha = c.const(op.inputs[1]).astype(np.float32)
    src = c.input_shape(op)
    if alpha.size != src[-1] or len(src) != 4:
        raise MocapError("TFLite graph: only per-channel PRELU of a feature map is supported")
    c.consts[node["out"] + ".a"] = alpha.reshape(1, src[-1], 1, 1)
    node["alpha"] = node["out"] + ".a"


def _strided_slice_node(c: _Converting, node: dict, op) -> None:
    o = op.options
    begin, end, strides = (c.const(i).astype(int) for i in op.inputs[1:4])
    src = c.input_shape(op)
    if (len(src) != 4 or (strides != 1).any() or o["ellipsis_mask"] or o["new_axis_mask"]
            or o["shrink_axis_mask"] or o["offset"] or begin[0] != 0):
        raise MocapError("TFLite graph: only unit-stride slices of a feature map's H, W, C are supported")
    lo = [0 if o["begin_mask"] >> a & 1 else int(begin[a]) + (src[a] if begin[a] < 0 else 0) for a in range(4)]
    hi = [src[a] if o["end_mask"] >> a & 1 else int(end[a]) + (src[a] if end[a] < 0 else 0) for a in range(4)]
    node["slice"] = [[lo[3], hi[3]], [lo[1], hi[1]], [lo[2], hi[2]]]  # NCHW order: C, H, W


def _reshape_node(c: _Converting, node: dict, op) -> None:
    node["shape"] = [int(v) for v in c.shape[node["out"]]]


def _resize_bilinear_node(c: _Converting, node: dict, op) -> None:
    if op.options["align_corners"] or not op.options["half_pixel_centers"]:
        raise MocapError("TFLite graph: only half-pixel-centre bilinear resizing is supported")
    node["size"] = [int(v) for v in c.const(op.inputs[1])]


def _max_pool_node(c: _Converting, node: dict, op) -> None:
    o = op.options
    _, h_in, w_in, _ = c.input_shape(op)
    if o["padding"] == 0:
        pt, pb = _same_padding(h_in, o["filter_h"], o["stride_h"])
        pl, pr = _same_padding(w_in, o["filter_w"], o["stride_w"])
    else:
        pt = pb = pl = pr = 0
    node.update(kernel=[o["filter_h"], o["filter_w"]], stride=[o["stride_h"], o["stride_w"]], pad=[pl, pr, pt, pb])


def _depth_to_space_node(c: _Converting, node: dict, op) -> None:
    node["block"] = int(op.options["block_size"])


def _mean_node(c: _Converting, node: dict, op) -> None:
    rank = len(c.input_shape(op))
    axes = [int(a) % rank for a in np.atleast_1d(c.const(op.inputs[1]))]
    node["axes"] = [_NHWC_TO_NCHW_AXIS[a] for a in axes] if rank == 4 else axes
    node["keep_dims"] = bool(op.options["keep_dims"])


def _plain_node(c: _Converting, node: dict, op) -> None:
    """An op with no parameters of its own (activations)."""


_CONVERTERS = {
    "CONV_2D": _conv_node, "DEPTHWISE_CONV_2D": _conv_node, "FULLY_CONNECTED": _fully_connected_node,
    "ADD": _inputs_node, "MUL": _inputs_node, "SUB": _inputs_node, "CONCATENATION": _concatenation_node,
    "PAD": _pad_node, "PRELU": _prelu_node, "STRIDED_SLICE": _strided_slice_node, "RESHAPE": _reshape_node,
    "RESIZE_BILINEAR": _resize_bilinear_node, "MAX_POOL_2D": _max_pool_node,
    "DEPTH_TO_SPACE": _depth_to_space_node, "MEAN": _mean_node,
    "LOGISTIC": _plain_node, "RELU": _plain_node, "RELU6": _plain_node, "TANH": _plain_node,
}
"""TFLite op -> the function that fills in its node's parameters (the executor's ops in ``_RUN``)."""


def convert(graph: Graph) -> tuple[dict, dict[str, np.ndarray]]:
    """Turn a parsed TFLite graph into (plan, constants).

    plan: {"version", "inputs": [name], "outputs": [name], "shapes": {name: NHWC shape},
           "nodes": [{"op", "in": [name], "out": name, ...}]}; constants: name -> float32/int array.
    """
    c = _Converting(graph)
    nodes: list[dict] = []
    for op in graph.operators:
        ins, out = op.inputs, f"t{op.outputs[0]}"
        if op.op in ("DEQUANTIZE", "DENSIFY"):
            if f"t{ins[0]}" not in c.consts:
                raise MocapError(f"TFLite graph: {op.op} of a non-constant tensor is not supported")
            c.consts[out] = c.consts[f"t{ins[0]}"].astype(np.float32)
            continue
        converter = _CONVERTERS.get(op.op)
        if converter is None:
            raise MocapError(f"TFLite graph: operator {op.op} is not supported")
        node: dict = {"op": op.op, "in": [f"t{ins[0]}"], "out": out, "act": int(op.options.get("activation", 0))}
        converter(c, node, op)
        nodes.append(node)
    plan = {
        "version": PLAN_VERSION,
        "inputs": [f"t{i}" for i in graph.inputs],
        "outputs": [f"t{i}" for i in graph.outputs],
        "output_names": [graph.tensors[i].name for i in graph.outputs],
        "shapes": c.shape,
        "nodes": nodes,
    }
    used = _constants_read(nodes)
    return plan, {k: v for k, v in c.consts.items() if k in used}


def _constants_read(nodes: list[dict]) -> set[str]:
    """Names of the tensors ``nodes`` read: their inputs and weights (constants among them)."""
    return {n.get(k) for n in nodes for k in ("weight", "bias", "alpha")} | {i for n in nodes for i in n["in"]}


def cache_dir() -> Path:
    """Where converted models are kept: $BLENDER_MOCAP_HOME/cache or ~/.local/share/blender-mocap/cache."""
    home = os.environ.get("BLENDER_MOCAP_HOME")
    base = Path(home) if home else Path.home() / ".local" / "share" / "blender-mocap"
    return base / "cache" / "pose_torch"


def converter_digest() -> "hashlib._Hash":
    """A SHA-256 fed with the code that reads and converts a model (this module and ``tflite``): a converted plan
    or a trace made by other code (an update of the extension that forgot ``PLAN_VERSION``) is never reused. A copy
    the caller may feed on: the code is read once a process (every network's lookup asks)."""
    return _converter_digest().copy()


@functools.cache
def _converter_digest() -> "hashlib._Hash":
    from . import tflite

    digest = hashlib.sha256()
    for source in (__file__, tflite.__file__):
        digest.update(Path(source).read_bytes())
    return digest


KEEP_DAYS = 30
"""Days a cached conversion or trace that no run loaded or wrote lives on: every change of the converting code (or,
for traces, of torch) writes new ones (10-25 MB each), and several installs (worktrees, extension versions) may
share the cache, so only the long-unused go."""


def touch(path: Path) -> None:
    """Mark the cached ``path`` as in use (:func:`forget_unused`); a read-only cache is still read."""
    try:
        os.utime(path)
    except OSError:
        pass


def forget_unused(folder: Path, patterns: tuple[str, ...]) -> None:
    """Delete the files of ``folder`` matching ``patterns`` that no run loaded or wrote for ``KEEP_DAYS`` days."""
    import time

    cutoff = time.time() - KEEP_DAYS * 86400.0
    for pattern in patterns:
        for path in folder.glob(pattern):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass  # another process removed it, or it is not ours to remove


def load_plan(path: str | Path, cache: Path | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """The converted plan of the .tflite file ``path``, from the cache when it holds one.

    The cache key is the SHA-256 of the file and of the converting code (:func:`converter_digest`; and the plan
    version), so neither an updated wheel nor updated code reuses a stale conversion. Files are written under a
    temporary name and renamed, so a crash never leaves a half-written entry; entries unused for ``KEEP_DAYS``
    days are deleted when a new one is written.
    """
    data = Path(path).read_bytes()
    digest = converter_digest()
    digest.update(data)
    key = digest.hexdigest()[:24]
    folder = cache_dir() if cache is None else cache
    entry = folder / f"{Path(path).stem}-{key}-v{PLAN_VERSION}.npz"
    if entry.is_file():
        try:
            with np.load(entry, allow_pickle=False) as z:
                plan = json.loads(str(z["__plan__"]))
                consts = {k: z[k] for k in z.files if k != "__plan__"}
            touch(entry)
            return plan, consts
        except (OSError, ValueError, KeyError):
            pass  # a damaged entry is rebuilt below
    plan, consts = convert(read_model(path))
    tmp = entry.with_name(entry.stem + f".{os.getpid()}.tmp.npz")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(tmp, __plan__=np.asarray(json.dumps(plan)), **consts)
        tmp.replace(entry)
        forget_unused(folder, ("*-v*.npz",))
    except OSError:
        tmp.unlink(missing_ok=True)  # a read-only or full disk only costs the conversion time on the next run
    return plan, consts


def _fold_pads(nodes: list[dict]) -> list[dict]:
    """Nodes with each zero PAD that feeds only an unpadded convolution merged into that convolution.

    A separate PAD allocates, fills and copies a whole feature map (the
    largest maps of the landmark model); the convolution pads as it reads.
    """
    readers: dict[str, int] = {}
    for n in nodes:
        for name in n["in"]:
            readers[name] = readers.get(name, 0) + 1
    pads = {n["out"]: n for n in nodes
            if n["op"] == "PAD" and len(n["pad"]) == 4 and readers.get(n["out"]) == 1 and n["act"] == 0}
    folded, out = set(), []
    for n in nodes:
        src = pads.get(n["in"][0])
        if n["op"] in ("CONV_2D", "DEPTHWISE_CONV_2D") and src is not None and not any(n["pad"]):
            n = dict(n, pad=list(src["pad"]), **{"in": [src["in"][0]] + n["in"][1:]})
            folded.add(src["out"])
        out.append(n)
    return [n for n in out if n["out"] not in folded]


def _even_pads(nodes: list[dict], consts: dict[str, np.ndarray]) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Depthwise convolutions padded one pixel more after than before, made symmetric.

    TensorFlow's SAME padding of a stride-2 convolution is (p, p + 1); torch
    pads symmetrically, so such a convolution needed a padded copy of its
    input (a whole feature map allocated, zeroed and copied). A kernel with a
    zero row and column put in front, padded (p + 1, p + 1), computes the same
    sums: out[i] = sum_k w[k] x[s i + k - p]. It costs a few more
    multiply-adds, which a depthwise convolution can afford.
    """
    consts = dict(consts)
    out = []
    for n in nodes:
        if n["op"] == "DEPTHWISE_CONV_2D" and n["dilation"] == [1, 1]:
            pl, pr, pt, pb = n["pad"]
            if pr == pl + 1 and pb == pt + 1:
                key = n["weight"] + ".even"
                consts[key] = np.pad(consts[n["weight"]], ((0, 0), (0, 0), (1, 0), (1, 0)))
                n = dict(n, weight=key, pad=[pl + 1, pl + 1, pt + 1, pt + 1])
        out.append(n)
    return out, consts


def _needed(nodes: list[dict], outputs: list[str]) -> list[dict]:
    """The nodes ``outputs`` depend on, in order (a pruned output's branch is never computed)."""
    want = set(outputs)
    keep = []
    for n in reversed(nodes):
        if n["out"] in want:
            keep.append(n)
            want.update(n["in"])
    return keep[::-1]


def _op_table(torch, F) -> dict:
    """Plan op -> ``run(module, node, a, env, x)``: ``a`` the node's first input, ``env`` the tensors so far.

    Activations are NCHW; the ops whose meaning depends on TFLite's NHWC layout
    (reshape, fully connected) permute first.
    """

    def operand(m, name, env, x):
        return env[name] if name in env else m.const(name).to(x.dtype)

    def conv(m, n, a, env, x):
        w = m.const(n["weight"]).to(x.dtype)
        b = m.const(n["bias"]).to(x.dtype) if "bias" in n else None
        pl, pr, pt, pb = n["pad"]
        if pl == pr and pt == pb:
            return F.conv2d(a, w, b, n["stride"], (pt, pl), n["dilation"], n["groups"])
        return F.conv2d(F.pad(a, (pl, pr, pt, pb)), w, b, n["stride"], 0, n["dilation"], n["groups"])

    def arithmetic(m, n, a, env, x):
        b = operand(m, n["in"][1], env, x)
        return a + b if n["op"] == "ADD" else a * b if n["op"] == "MUL" else a - b

    def strided_slice(m, n, a, env, x):
        (c0, c1), (h0, h1), (w0, w1) = n["slice"]
        return a[:, c0:c1, h0:h1, w0:w1]

    def max_pool(m, n, a, env, x):
        if any(n["pad"]):
            a = F.pad(a, n["pad"], value=float("-inf"))
        return F.max_pool2d(a, n["kernel"], n["stride"])

    def reshape(m, n, a, env, x):
        return (a.permute(0, 2, 3, 1) if a.dim() == 4 else a).reshape([x.shape[0]] + n["shape"][1:])

    def depth_to_space(m, n, a, env, x):
        s = n["block"]
        bsz, c, h, w = a.shape
        y = a.reshape(bsz, s, s, c // (s * s), h, w).permute(0, 3, 4, 1, 5, 2)
        return y.reshape(bsz, c // (s * s), h * s, w * s)

    def fully_connected(m, n, a, env, x):
        a = (a.permute(0, 2, 3, 1) if a.dim() == 4 else a).reshape(x.shape[0], -1)
        return F.linear(a, m.const(n["weight"]).to(x.dtype), m.const(n["bias"]).to(x.dtype) if "bias" in n else None)

    return {
        "CONV_2D": conv, "DEPTHWISE_CONV_2D": conv, "ADD": arithmetic, "MUL": arithmetic, "SUB": arithmetic,
        "PAD": lambda m, n, a, env, x: F.pad(a, n["pad"]),
        "PRELU": lambda m, n, a, env, x: torch.where(a >= 0, a, a * m.const(n["alpha"]).to(x.dtype)),
        "STRIDED_SLICE": strided_slice,
        "RESIZE_BILINEAR": lambda m, n, a, env, x: F.interpolate(a, size=n["size"], mode="bilinear",
                                                                  align_corners=False),
        "MAX_POOL_2D": max_pool, "RESHAPE": reshape,
        "CONCATENATION": lambda m, n, a, env, x: torch.cat([env[i] for i in n["in"]], dim=n["axis"]),
        "DEPTH_TO_SPACE": depth_to_space, "FULLY_CONNECTED": fully_connected,
        "MEAN": lambda m, n, a, env, x: a.mean(dim=n["axes"], keepdim=n["keep_dims"]),
        "LOGISTIC": lambda m, n, a, env, x: torch.sigmoid(a),
        "RELU": lambda m, n, a, env, x: F.relu(a),
        "RELU6": lambda m, n, a, env, x: F.relu6(a),
        "TANH": lambda m, n, a, env, x: torch.tanh(a),
    }


def _fused_activation(torch, F, x, act: int):
    """TFLite's fused activation codes: 0 none, 1 ReLU, 2 ReLU-N1-to-1, 3 ReLU6 (in place), 4 tanh."""
    if act == 0:
        return x
    if act == 1:
        return F.relu(x)
    if act == 3:
        return x.clamp_(0.0, 6.0)
    if act == 2:
        return x.clamp(-1.0, 1.0)
    if act == 4:
        return torch.tanh(x)
    raise MocapError(f"TFLite graph: fused activation {act} is not supported")


def build_module(plan: dict, consts: dict[str, np.ndarray], outputs: list[int] | None = None):
    """A torch.nn.Module running ``plan``; call it with NCHW float input (B, C, H, W).

    ``outputs``: indices of the graph outputs to compute (default all); the
    others come back as empty tensors and their branches cost nothing.
    """
    import torch
    import torch.nn.functional as F

    run = _op_table(torch, F)

    class GraphModule(torch.nn.Module):
        """Executes a converted TFLite plan. forward(x (B,C,H,W)) -> outputs in TFLite layouts."""

        def __init__(self):
            super().__init__()
            wanted = [plan["outputs"][i] for i in (range(len(plan["outputs"])) if outputs is None else outputs)]
            nodes, weights = _even_pads(_needed(_fold_pads(plan["nodes"]), wanted), consts)
            unsupported = sorted({n["op"] for n in nodes} - set(run))
            if unsupported:
                raise MocapError(f"TFLite graph: operator {unsupported[0]} is not supported")
            self.plan = dict(plan, nodes=nodes)
            self.wanted = set(wanted)
            self._names = {}
            # Only what the remaining nodes read: a pruned branch's and a replaced kernel's
            # constants would otherwise sit on the device for nothing.
            read = _constants_read(nodes)
            for i, (k, v) in enumerate(sorted((k, v) for k, v in weights.items() if k in read)):
                name = f"c{i}"
                self._names[k] = name
                self.register_buffer(name, torch.from_numpy(np.ascontiguousarray(v)))
            self.output_names = plan["output_names"]

        def const(self, key: str):
            return getattr(self, self._names[key])

        def forward(self, x):
            env = {self.plan["inputs"][0]: x}
            for n in self.plan["nodes"]:
                a = env[n["in"][0]] if n["in"][0] in env else self.const(n["in"][0]).to(x.dtype)
                env[n["out"]] = _fused_activation(torch, F, run[n["op"]](self, n, a, env, x), n.get("act", 0))
            outs = []
            for name in self.plan["outputs"]:
                if name not in self.wanted:
                    outs.append(x.new_zeros(0))
                    continue
                y = env[name]
                outs.append(y.permute(0, 2, 3, 1) if y.dim() == 4 else y)
            return outs

    return GraphModule().eval()


def load_module(path: str | Path, cache: Path | None = None, outputs: list[int] | None = None):
    """The TFLite model at ``path`` as a torch module (float32, CPU; move it with ``.to``).

    ``outputs``: which graph outputs to compute (see :func:`build_module`).
    """
    plan, consts = load_plan(path, cache)
    return build_module(plan, consts, outputs)
