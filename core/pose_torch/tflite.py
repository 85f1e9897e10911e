"""A minimal reader of TFLite flatbuffers: tensors, buffers and operators of subgraph 0.

Only what our executor needs, read straight from the flatbuffer with the
``flatbuffers`` runtime and the field numbers of TensorFlow's ``schema.fbs``
(a vtable slot is ``4 + 2 * field_id``), so no generated schema package is
required. numpy only; no torch here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import MocapError

# TensorType enum of schema.fbs -> numpy dtype.
_TENSOR_TYPES = {
    0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_, 7: np.int16, 9: np.int8,
}

# BuiltinOperator codes of schema.fbs that the MediaPipe pose and hand models use.
BUILTIN_NAMES = {
    0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
    6: "DEQUANTIZE", 9: "FULLY_CONNECTED", 14: "LOGISTIC", 17: "MAX_POOL_2D", 18: "MUL", 19: "RELU",
    21: "RELU6", 22: "RESHAPE", 23: "RESIZE_BILINEAR", 28: "TANH", 34: "PAD", 39: "TRANSPOSE",
    40: "MEAN", 41: "SUB", 49: "SPLIT", 54: "PRELU", 60: "PADV2", 67: "TRANSPOSE_CONV", 97: "RESIZE_NEAREST_NEIGHBOR",
    98: "LEAKY_RELU", 117: "HARD_SWISH", 102: "SPLIT_V", 83: "PACK", 88: "UNPACK", 5: "DEPTH_TO_SPACE",
    124: "DENSIFY", 45: "STRIDED_SLICE",
}

# Option tables (builtin_options) we read: field name -> (field id, kind, default).
_OPTIONS = {
    "CONV_2D": {"padding": (0, "i8", 0), "stride_w": (1, "i32", 1), "stride_h": (2, "i32", 1),
                "activation": (3, "i8", 0), "dilation_w": (4, "i32", 1), "dilation_h": (5, "i32", 1)},
    "DEPTHWISE_CONV_2D": {"padding": (0, "i8", 0), "stride_w": (1, "i32", 1), "stride_h": (2, "i32", 1),
                          "depth_multiplier": (3, "i32", 1), "activation": (4, "i8", 0),
                          "dilation_w": (5, "i32", 1), "dilation_h": (6, "i32", 1)},
    "MAX_POOL_2D": {"padding": (0, "i8", 0), "stride_w": (1, "i32", 1), "stride_h": (2, "i32", 1),
                    "filter_w": (3, "i32", 1), "filter_h": (4, "i32", 1), "activation": (5, "i8", 0)},
    "AVERAGE_POOL_2D": {"padding": (0, "i8", 0), "stride_w": (1, "i32", 1), "stride_h": (2, "i32", 1),
                        "filter_w": (3, "i32", 1), "filter_h": (4, "i32", 1), "activation": (5, "i8", 0)},
    "ADD": {"activation": (0, "i8", 0)},
    "SUB": {"activation": (0, "i8", 0)},
    "MUL": {"activation": (0, "i8", 0)},
    "CONCATENATION": {"axis": (0, "i32", 0), "activation": (1, "i8", 0)},
    "FULLY_CONNECTED": {"activation": (0, "i8", 0), "keep_num_dims": (2, "bool", False)},
    "RESIZE_BILINEAR": {"align_corners": (2, "bool", False), "half_pixel_centers": (3, "bool", False)},
    "RESIZE_NEAREST_NEIGHBOR": {"align_corners": (0, "bool", False), "half_pixel_centers": (1, "bool", False)},
    "TRANSPOSE_CONV": {"padding": (0, "i8", 0), "stride_w": (1, "i32", 1), "stride_h": (2, "i32", 1),
                       "activation": (3, "i8", 0)},
    "MEAN": {"keep_dims": (0, "bool", False)},
    "LEAKY_RELU": {"alpha": (0, "f32", 0.0)},
    "SPLIT": {"num_splits": (0, "i32", 0)},
    "DEPTH_TO_SPACE": {"block_size": (0, "i32", 1)},
    "STRIDED_SLICE": {"begin_mask": (0, "i32", 0), "end_mask": (1, "i32", 0), "ellipsis_mask": (2, "i32", 0),
                      "new_axis_mask": (3, "i32", 0), "shrink_axis_mask": (4, "i32", 0), "offset": (5, "bool", False)},
}


@dataclass
class Tensor:
    """One tensor of the graph: shape (NHWC for images), dtype, name, constant data if any."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: type
    data: np.ndarray | None


@dataclass
class Operator:
    """One node: op name, input / output tensor indices (-1 = absent), options dict."""

    op: str
    inputs: list[int]
    outputs: list[int]
    options: dict = field(default_factory=dict)


@dataclass
class Graph:
    """Subgraph 0 of a TFLite model, in execution order."""

    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]


class _Table:
    """Field access on one flatbuffer table (vtable-based, like the generated code)."""

    def __init__(self, buf: bytes, pos: int):
        import flatbuffers

        self._t = flatbuffers.table.Table(buf, pos)
        self._n = flatbuffers.number_types

    def _off(self, field_id: int) -> int:
        return self._t.Offset(4 + 2 * field_id)

    def scalar(self, field_id: int, kind: str, default):
        off = self._off(field_id)
        if not off:
            return default
        flags = {"i8": self._n.Int8Flags, "u8": self._n.Uint8Flags, "i32": self._n.Int32Flags,
                 "u32": self._n.Uint32Flags, "u64": self._n.Uint64Flags, "f32": self._n.Float32Flags,
                 "bool": self._n.BoolFlags}[kind]
        return self._t.Get(flags, off + self._t.Pos)

    def string(self, field_id: int) -> str:
        off = self._off(field_id)
        return self._t.String(off + self._t.Pos).decode("utf-8") if off else ""

    def table(self, field_id: int) -> "_Table | None":
        off = self._off(field_id)
        if not off:
            return None
        return _Table(self._t.Bytes, self._t.Indirect(off + self._t.Pos))

    def tables(self, field_id: int) -> list["_Table"]:
        off = self._off(field_id)
        if not off:
            return []
        start, n = self._t.Vector(off), self._t.VectorLen(off)
        return [_Table(self._t.Bytes, self._t.Indirect(start + 4 * i)) for i in range(n)]

    def numbers(self, field_id: int, dtype) -> np.ndarray:
        off = self._off(field_id)
        if not off:
            return np.zeros(0, dtype)
        start, n = self._t.Vector(off), self._t.VectorLen(off)
        item = np.dtype(dtype).itemsize
        return np.frombuffer(self._t.Bytes, dtype=np.dtype(dtype).newbyteorder("<"), count=n, offset=start) \
            if n else np.zeros(0, dtype) if item else np.zeros(0, dtype)


def _index_vector(dim: _Table, type_field: int, value_field: int) -> np.ndarray:
    # SparseIndexVector union: 1 Int32Vector, 2 Uint16Vector, 3 Uint8Vector; each a table whose field 0 is values.
    kind = int(dim.scalar(type_field, "u8", 0))
    table = dim.table(value_field)
    if table is None or kind not in (1, 2, 3):
        raise MocapError("unsupported sparse index vector in a TFLite model")
    return table.numbers(0, {1: np.int32, 2: np.uint16, 3: np.uint8}[kind]).astype(np.int64)


def _densify(values: np.ndarray, shape: tuple[int, ...], sparsity: _Table, path) -> np.ndarray:
    """Undo TFLite's sparse weight storage: dense leading dims, one CSR last dim, natural order."""
    order = [int(v) for v in sparsity.numbers(0, np.int32)]
    dims = sparsity.tables(2)
    if sparsity.numbers(1, np.int32).size or order != list(range(len(shape))) or len(dims) != len(shape):
        raise MocapError(f"{path}: block-sparse or reordered sparse tensors are not supported")
    formats = [int(d.scalar(0, "i8", 0)) for d in dims]
    if any(formats[:-1]) or formats[-1] != 1:
        raise MocapError(f"{path}: only a compressed last dimension is supported in sparse tensors")
    segments = _index_vector(dims[-1], 2, 3)
    indices = _index_vector(dims[-1], 4, 5)
    rows = int(np.prod(shape[:-1]))
    if segments.size != rows + 1 or indices.size != values.size:
        raise MocapError(f"{path}: inconsistent sparse tensor")
    dense = np.zeros((rows, shape[-1]), values.dtype)
    row_of = np.repeat(np.arange(rows), np.diff(segments))
    dense[row_of, indices] = values
    return dense.reshape(shape)


def read_model(path: str | Path) -> Graph:
    """Parse ``path`` (a .tflite file) into a :class:`Graph` (subgraph 0 only)."""
    buf = Path(path).read_bytes()
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise MocapError(f"{path} is not a TFLite model file")
    import flatbuffers

    model = _Table(buf, flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0))
    # Model: operator_codes=1, subgraphs=2, buffers=4.
    codes = []
    for oc in model.tables(1):
        code = max(int(oc.scalar(0, "i8", 0)), int(oc.scalar(3, "i32", 0)))
        codes.append(BUILTIN_NAMES.get(code, f"BUILTIN_{code}") if code != 32 else "CUSTOM:" + oc.string(1))
    buffers = []
    for b in model.tables(4):
        buffers.append(b.numbers(0, np.uint8))
    subgraphs = model.tables(2)
    if not subgraphs:
        raise MocapError(f"{path} holds no graph")
    sg = subgraphs[0]
    tensors = []
    for i, t in enumerate(sg.tables(0)):
        shape = tuple(int(s) for s in t.numbers(0, np.int32))
        type_code = int(t.scalar(1, "i8", 0))
        if type_code not in _TENSOR_TYPES:
            raise MocapError(f"{path}: tensor type {type_code} is not supported")
        dtype = _TENSOR_TYPES[type_code]
        raw = buffers[int(t.scalar(2, "u32", 0))]
        data = None
        sparsity = t.table(6)
        if raw.size and sparsity is not None:
            values = np.frombuffer(raw.tobytes(), dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
            data = _densify(values, shape, sparsity, path)
        elif raw.size:
            data = np.frombuffer(raw.tobytes(), dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)
            data = data.reshape(shape) if shape else data.reshape(())
        quant = t.table(4)
        if quant is not None and quant.numbers(1, np.float32).size and dtype in (np.int8, np.uint8):
            raise MocapError(f"{path}: quantized (integer) tensors are not supported")
        tensors.append(Tensor(i, t.string(3), shape, dtype, data))
    operators = []
    for o in sg.tables(3):
        name = codes[int(o.scalar(0, "u32", 0))]
        options = {}
        spec = _OPTIONS.get(name)
        opt = o.table(4)
        if spec:
            for key, (fid, kind, default) in spec.items():
                options[key] = opt.scalar(fid, kind, default) if opt is not None else default
        if name == "RESHAPE" and opt is not None:
            options["new_shape"] = [int(v) for v in opt.numbers(0, np.int32)]
        operators.append(Operator(name, [int(v) for v in o.numbers(1, np.int32)],
                                  [int(v) for v in o.numbers(2, np.int32)], options))
    return Graph(tensors, operators, [int(v) for v in sg.numbers(1, np.int32)],
                 [int(v) for v in sg.numbers(2, np.int32)])
