"""Where each number came from: for the operations that move, broadcast or multiply values
(stack, cat, view/reshape, transpose/permute, expand, indexing, mul with broadcasting,
mm/matmul and their kin), which input tensor and which index each output cell came from.

Computed inside the sandbox by trusted code, right after the program's own call returned:

- data movement (stack, cat, view, indexing ...): the same callable runs again with each data
  input replaced by a tensor of its *codes*, ``offset_k + flat index`` in int64 (``offset_k``
  is the size of the inputs before input k: the tensor-id channel and the index in one
  number). The output's codes say, cell by cell, input k and index i. Exact: the values the
  codes point at are compared with the real result, and a record that does not match (an
  operation that computes rather than moves) is dropped.
- elementwise with broadcasting (a * b, a + b ...): ``broadcast_to`` of each input's index
  tensor, which is the rule the operation itself applied; checked by recomputing every cell
  from the two values it names.
- mm/matmul (1-D or 2-D): output (i, j) is row i of A times column j of B; no per-cell data
  is needed, only the inputs' values (the page writes the sum out).

The program never sees any of this: the replay runs under no_grad on new tensors, only when
the other arguments are plain data (numbers, slices, shapes, index tensors), and every record
is bounded (``max_cells`` output cells and input values, ``max_records`` records).
"""

from __future__ import annotations

import math
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from app.inspect.compact import shown_values
from app.inspect.memo import ViewMemo

# Callables whose first argument is a sequence of tensors, every one of them data.
SEQUENCE_MOVES = frozenset({
    "torch.stack", "torch.cat", "torch.concat", "torch.concatenate", "torch.hstack",
    "torch.vstack", "torch.dstack", "torch.column_stack", "torch.row_stack",
})
# Methods (and torch.* functions of the same name) that move their first tensor's values.
_MOVE_NAMES = frozenset({
    "view", "reshape", "transpose", "permute", "expand", "expand_as", "flatten", "squeeze",
    "unsqueeze", "t", "T", "mT", "movedim", "moveaxis", "swapaxes", "swapdims", "narrow",
    "select", "index_select", "gather", "take", "flip", "fliplr", "flipud", "roll", "repeat",
    "tile", "contiguous", "clone", "unflatten", "view_as", "reshape_as", "ravel", "diagonal",
    "masked_select", "repeat_interleave", "broadcast_to", "rot90", "atleast_1d", "atleast_2d",
})
FIRST_ARG_MOVES = frozenset({f"torch.{n}" for n in _MOVE_NAMES} | {f"Tensor.{n}" for n in
                                                                   _MOVE_NAMES} | {"indexing"})
_ELEMENTWISE_NAMES = frozenset({"mul", "add", "sub", "div", "multiply", "subtract", "divide",
                                "true_divide"})
ELEMENTWISE = frozenset({f"operator {n}" for n in ("mul", "add", "sub", "div")}
                        | {f"torch.{n}" for n in _ELEMENTWISE_NAMES}
                        | {f"Tensor.{n}" for n in _ELEMENTWISE_NAMES})
MATMUL = frozenset({"operator matmul", "torch.mm", "torch.matmul", "Tensor.mm",
                    "Tensor.matmul", "torch.mv", "Tensor.mv", "torch.dot", "Tensor.dot"})
SUPPORTED = SEQUENCE_MOVES | FIRST_ARG_MOVES | ELEMENTWISE | MATMUL

_PLAIN_DEPTH = 3
_SCALARS = frozenset({int, float, bool, str})
_TENSOR_TYPES = frozenset({torch.Tensor, torch.nn.Parameter})


@dataclass(frozen=True)
class ProvenanceLimits:
    max_cells: int
    max_records: int


@dataclass
class _Entry:
    """One call, kept as it was made; its record is computed after the run, and only if the
    page will show it (a loop of small operations would otherwise replay every pass)."""

    label: str
    function: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    line: int | None
    tensor: weakref.ref[torch.Tensor]
    # Version counters of the result and of every tensor argument at the time of the call:
    # a later in-place change to any of them voids the record (exact or absent).
    versions: list[int]


class ProvenanceRecorder:
    """The provenance of the latest supported operations of one run, by result tensor."""

    def __init__(self, limits: ProvenanceLimits,
                 names: Callable[[], Mapping[str, Any]] | None = None,
                 memo: ViewMemo | None = None) -> None:
        self.limits = limits
        self._names = names
        self.memo = memo  # values by content, for the program's reruns
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._call_names: dict[int, str] = {}

    # ----------------------------------------------------------------- during the run
    def record(self, label: str, function: Callable[..., Any], args: tuple[Any, ...],
               kwargs: dict[str, Any], result: Any, line: int | None) -> None:
        """Called by the interpreter after a call returned ``result``: keeps the call (its
        containers copied, its tensors by reference) when it is small enough to be shown.
        Never raises: our bookkeeping must not change how the program runs."""
        if label not in SUPPORTED or type(result) not in _TENSOR_TYPES \
                or self.limits.max_records <= 0:
            return
        try:
            if result.layout != torch.strided or result.is_nested or "out" in kwargs \
                    or not 0 < result.numel() <= self.limits.max_cells:
                return
            tensors: list[torch.Tensor] = []
            # Memory: the tensors kept must be small, storage included (a view of a large
            # tensor would keep all of it alive until the run ends).
            limit = self.limits.max_cells * 16
            if not all(_plain(a, tensors) for a in args) \
                    or not all(_plain(v, tensors) for v in kwargs.values()) \
                    or any(_storage_bytes(t) > limit for t in tensors):
                return
            entry = _Entry(label, function, _copied(args), dict(_copied(tuple(kwargs.items()))),
                           line, weakref.ref(result),
                           [_version(result), *(_version(t) for t in tensors)])
        except Exception:
            return
        self._entries.pop(id(result), None)
        self._entries[id(result)] = entry
        while len(self._entries) > self.limits.max_records:
            self._entries.popitem(last=False)

    def _compute(self, label: str, function: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any], result: torch.Tensor) -> dict[str, Any] | None:
        if label in MATMUL:
            return self._matmul(args, result)
        if label in ELEMENTWISE:
            return self._elementwise(function, args, kwargs, result)
        return self._move(label, function, args, kwargs, result)

    # ---------------------------------------------------------------- data movement
    def _move(self, label: str, function: Callable[..., Any], args: tuple[Any, ...],
              kwargs: dict[str, Any], result: torch.Tensor) -> dict[str, Any] | None:
        if label in SEQUENCE_MOVES:
            if args:
                sequence, rest, key = args[0], args[1:], None
            else:
                sequence, rest, key = kwargs.get("tensors"), (), "tensors"
            if not isinstance(sequence, (list, tuple)) or not sequence \
                    or not all(isinstance(t, torch.Tensor) for t in sequence):
                return None
            inputs = list(sequence)
        else:
            if not args or not isinstance(args[0], torch.Tensor):
                return None
            inputs, rest, key = [args[0]], args[1:], None
        if not self._small(inputs):
            return None
        offsets, codes = _codes(inputs)
        replaced: Any = codes if label in SEQUENCE_MOVES else codes[0]
        with torch.no_grad():
            if key is None:
                out = function(replaced, *rest, **kwargs)
            else:
                out = function(**{**kwargs, key: replaced})
        if not isinstance(out, torch.Tensor) or out.shape != result.shape \
                or out.dtype != torch.int64:
            return None
        flat = out.reshape(-1).cpu()
        total = offsets[-1]
        if flat.numel() and (int(flat.min()) < 0 or int(flat.max()) >= total):
            return None
        # Exact or nothing: the values the codes point at are the result's values.
        pool = torch.cat([t.detach().reshape(-1).cpu().to(result.dtype) for t in inputs])
        if not _same(pool[flat], result.detach().reshape(-1).cpu()):
            return None
        bounds = torch.tensor(offsets[1:], dtype=torch.int64)
        which = torch.bucketize(flat, bounds, right=True)
        starts = torch.tensor(offsets[:-1], dtype=torch.int64)[which]
        sources = [[k, i] for k, i in zip(which.tolist(), (flat - starts).tolist(),
                                          strict=True)]
        return self._document("move", inputs, result, sources)

    # ---------------------------------------------------------------- broadcasting
    def _elementwise(self, function: Callable[..., Any], args: tuple[Any, ...],
                     kwargs: dict[str, Any], result: torch.Tensor) -> dict[str, Any] | None:
        operands = list(args[:2])
        if len(operands) < 2:
            other = kwargs.get("other")
            if other is None:
                return None
            operands.append(other)
            kwargs = {k: v for k, v in kwargs.items() if k != "other"}
        if not all(isinstance(o, torch.Tensor) or _is_number(o) for o in operands):
            return None
        inputs = [o for o in operands if isinstance(o, torch.Tensor)]
        if not inputs or not self._small(inputs):
            return None
        shape = torch.broadcast_shapes(*(t.shape for t in inputs))  # type: ignore[no-untyped-call]
        if shape != result.shape:
            return None
        indices = [torch.arange(t.numel()).reshape(t.shape).broadcast_to(result.shape)
                   .reshape(-1) for t in inputs]
        # Checked: every cell recomputed from the values its indices name.
        gathered = iter([t.detach().reshape(-1).cpu()[i] for t, i in zip(inputs, indices,
                                                                      strict=True)])
        again = [next(gathered) if isinstance(o, torch.Tensor) else o for o in operands]
        with torch.no_grad():
            recomputed = function(*again, *args[2:], **kwargs)
        if not isinstance(recomputed, torch.Tensor) or not _same(
                recomputed.reshape(-1), result.detach().reshape(-1).cpu()):
            return None
        columns = [i.tolist() for i in indices]
        sources = [list(cell) for cell in zip(*columns, strict=True)]
        return self._document("elementwise", inputs, result, sources)

    # ---------------------------------------------------------------- mm / matmul
    def _matmul(self, args: tuple[Any, ...], result: torch.Tensor) -> dict[str, Any] | None:
        if len(args) < 2 or not all(isinstance(t, torch.Tensor) for t in args[:2]):
            return None
        a, b = args[0], args[1]
        if not (1 <= a.dim() <= 2 and 1 <= b.dim() <= 2) or not self._small([a, b]):
            return None
        expected = [*a.shape[:-1], *b.shape[1:]] if b.dim() == 2 else list(a.shape[:-1])
        if list(result.shape) != expected:
            return None
        return self._document("matmul", [a, b], result, None)

    # ---------------------------------------------------------------- shared
    def _small(self, inputs: list[torch.Tensor]) -> bool:
        return sum(t.numel() for t in inputs) <= self.limits.max_cells and all(
            t.layout == torch.strided and t.numel() > 0 for t in inputs)

    def _document(self, kind: str, inputs: list[torch.Tensor], result: torch.Tensor,
                  sources: list[list[int]] | None) -> dict[str, Any]:
        names = self._input_names(inputs)
        limit = self.limits.max_cells
        values, _ = shown_values(result, limit, self.memo)
        return {
            "kind": kind, "shape": list(result.shape), "values": values,
            "inputs": [{"name": name, "shape": list(t.shape),
                        "values": shown_values(t, limit, self.memo)[0]}
                       for name, t in zip(names, inputs, strict=True)],
            "sources": sources,
        }

    def _input_names(self, inputs: list[torch.Tensor]) -> list[str | None]:
        """The program's variable that holds each input when the run ends, if one does (the
        inputs are unchanged since the call: see _replay)."""
        return [self._call_names.get(id(t)) for t in inputs]

    # ------------------------------------------------------------------ after the run
    def result(self, result: Any, has_result: bool,
               variables: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The /eval ``provenance`` list: a record for the result and for each variable
        whose tensor came from a recorded operation (docs/API.md, "Provenance")."""
        found: list[dict[str, Any]] = []
        self._call_names = {}
        if self._names is not None:
            for name, value in self._names().items():
                if isinstance(value, torch.Tensor) and not name.startswith("_"):
                    self._call_names.setdefault(id(value), name)
        targets: list[tuple[str, Any]] = [("result", result)] if has_result else []
        targets += [(name, value) for name, value in variables.items()]
        for target, value in targets:
            if len(found) >= self.limits.max_records:
                break
            if not isinstance(value, torch.Tensor):
                continue
            entry = self._entries.get(id(value))
            if entry is None or entry.tensor() is not value:
                continue
            record = self._replay(entry, value)
            if record is not None:
                found.append({"target": target, **record})
        return found

    def _replay(self, entry: _Entry, result: torch.Tensor) -> dict[str, Any] | None:
        tensors: list[torch.Tensor] = []
        for a in (*entry.args, *entry.kwargs.values()):
            _plain(a, tensors)
        if [_version(result), *(_version(t) for t in tensors)] != entry.versions:
            return None  # changed in place since the call
        try:
            record = self._compute(entry.label, entry.function, entry.args, entry.kwargs,
                                   result)
        except Exception:
            return None
        if record is not None:
            record.update({"op": entry.label, "line": entry.line})
        return record


def _version(tensor: torch.Tensor) -> int:
    try:
        return int(tensor._version)
    except (AttributeError, RuntimeError):  # an inference tensor keeps no version
        return -1


def _codes(inputs: list[torch.Tensor]) -> tuple[list[int], list[torch.Tensor]]:
    offsets = [0]
    codes = []
    for t in inputs:
        start = offsets[-1]
        codes.append(torch.arange(start, start + t.numel(), dtype=torch.int64,
                                  device=t.device).reshape(t.shape))
        offsets.append(start + t.numel())
    return offsets, codes


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype != b.dtype:
        b = b.to(a.dtype)
    equal = a == b
    if a.dtype.is_floating_point or a.dtype.is_complex:
        equal |= torch.isnan(a) & torch.isnan(b)
    return bool(equal.all())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, bool)) and not (
        isinstance(value, float) and math.isnan(value))


def _plain(value: Any, tensors: list[torch.Tensor], depth: int = 0) -> bool:
    """Arguments the replay may pass again: plain data and tensors (collected into
    ``tensors``), nothing of the program's that could run code (an object with __index__
    written in the program)."""
    kind = type(value)
    if kind in _TENSOR_TYPES:
        tensors.append(value)
        return True
    if value is None or kind in _SCALARS or value is Ellipsis:
        return True
    if isinstance(value, torch.Tensor):
        # A subclass of the program's (its own __torch_function__) would run its code again.
        return False
    if isinstance(value, (torch.Size, torch.dtype, torch.memory_format)):
        return True
    if kind is slice:
        return all(_plain(part, tensors, depth + 1)
                   for part in (value.start, value.stop, value.step))
    if (kind is list or kind is tuple) and depth < _PLAIN_DEPTH:
        return len(value) <= 64 and all(_plain(item, tensors, depth + 1) for item in value)
    return False


def _copied(value: Any) -> Any:
    """Lists and tuples copied (the program may append to its list later), tensors and plain
    values as they are."""
    if type(value) in (list, tuple):
        return type(value)(_copied(item) for item in value)
    return value


def _storage_bytes(tensor: torch.Tensor) -> int:
    try:
        return int(tensor.untyped_storage().nbytes())
    except (RuntimeError, NotImplementedError):
        return 0
