"""Budgets of one program: steps, deadline, and tensor memory/FLOPs predicted before a call.

Prediction runs the same call on meta tensors (shapes and dtypes, no data): a few microseconds
for most ops, and exact, including the cases a naive shape check misses (``expand`` then
materialise, broadcasting, ``repeat``, ``kron``, ``cartesian_prod``, padding, interpolation).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import numpy as np
import torch
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter
from torch.utils.flop_counter import FlopCounterMode

from app.config import Settings
from app.engine.errors import DeadlineError, LimitError
from app.engine.policy import Cost, Rule
from app.engine.predictions import Prediction, PredictionCache, call_key
from app.engine.resident import ResidentMemory
from app.message import Message

# Matmul-like functions whose contracted dimension is the last one of this positional tensor.
# cdist: every output distance reads a row of x1 against one of x2, over their last
# dimension, like a matmul (its own kernel, which FlopCounterMode does not count: a
# 10,000 x 300 cdist ran 2 s unchecked).
_CONTRACTION_ARG = {"mm": 0, "matmul": 0, "bmm": 0, "mv": 0, "dot": 0, "inner": 0,
                    "addmm": 1, "addmv": 1, "baddbmm": 1, "cdist": 0}


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PB"


# Security: to_meta copies nested lists item by item, and torch.tensor / np.array convert them
# item by item, in calls that never return to the interpreter: [[0] * 10**6] * 10**6 is 10**12
# items behind a million references (the copy alone never finished). Call arguments may hold
# at most this many Python values, counting every reference (same bound as
# max_sequence_items' default).
MAX_DATA_ITEMS = 1_000_000


def count_data_items(value: Any, limit: int = MAX_DATA_ITEMS) -> int:
    """Python values inside the nested lists/tuples/dicts of ``value`` (every reference
    counts); raises LimitError as soon as there are more than ``limit``."""
    seen = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) in (list, tuple):
            children: Any = item
        elif type(item) is dict:
            children = list(item.values())
        elif type(item) is range:  # lazy, but converted item by item all the same
            children = ()
            try:
                seen += len(item)
            except OverflowError:  # too long for len()
                seen += limit + 1
        else:
            continue
        seen += len(children)
        if seen > limit:
            raise LimitError(Message("the arguments of this call hold more than {limit:,} "
                                     "Python values (nested lists count every item)",
                                     limit=limit),
                             hint=Message("Build large tensors with torch.zeros, torch.arange "
                                          "or torch.rand instead of Python lists."),
                             predicted=True)
        stack.extend(children)
    return seen


def to_meta(value: Any) -> Any:
    """The same structure with every tensor replaced by a meta tensor of equal layout."""
    if type(value) in (list, tuple, dict, range):
        count_data_items(value)
    return _to_meta(value)


def _to_meta(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        if value.is_meta:
            return value
        if value.layout != torch.strided:
            return value.to("meta")
        meta = torch.empty_strided(value.size(), value.stride(), dtype=value.dtype,
                                   device="meta")
        # No requires_grad: shapes do not depend on it, and autograd on meta tensors made
        # each prediction ~1 ms instead of a few microseconds.
        meta._playground_input = True  # type: ignore[attr-defined]  # see new_bytes
        return meta
    if type(value) in (list, tuple):
        return type(value)(_to_meta(item) for item in value)
    if type(value) is dict:
        return {key: _to_meta(item) for key, item in value.items()}
    return value


def iter_tensors(value: Any, depth: int = 0) -> Iterable[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)) and depth < 3:
        for item in value:
            yield from iter_tensors(item, depth + 1)
    elif isinstance(value, dict) and depth < 3:
        for item in value.values():
            yield from iter_tensors(item, depth + 1)


def new_bytes(value: Any) -> int:
    """Bytes a (meta) result would newly allocate: views of inputs (the meta copies that
    _to_meta marks) cost nothing. A new tensor costs its storage, which strides can make far
    larger than its elements: torch.empty_strided((10**5,), (10**5,)) is 100,000 floats
    over a 40 GB storage (it was predicted at 400 kB and allocated for real). Never less than
    its elements: a stride-0 result is refused at its full size, as before."""
    total = 0
    counted_bases: set[int] = set()
    for t in iter_tensors(value):
        base = t._base if t._is_view() else None
        if base is None:
            total += max(t.numel() * t.element_size(), _storage_bytes(t))
        elif not getattr(base, "_playground_input", False) and id(base) not in counted_bases:
            # A view of a tensor the call made, not of an input: tensordot(a, b, dims=0)
            # returns a view of its mm's output (400 MB for two 10,000-element vectors,
            # counted as 0 before).
            counted_bases.add(id(base))
            total += max(base.numel() * base.element_size(), _storage_bytes(base))
    return total


def _storage_bytes(tensor: torch.Tensor) -> int:
    try:
        return int(tensor.untyped_storage().nbytes())
    except (RuntimeError, NotImplementedError):  # no storage (a wrapper subclass)
        return 0


def input_bytes(args: Iterable[Any]) -> int:
    return sum(t.numel() * t.element_size() for a in args for t in iter_tensors(a))


class LiveTensors:
    """Bytes of tensor storage the program holds right now (storages the program's calls
    produced and that are still referenced)."""

    def __init__(self) -> None:
        self.bytes = 0
        self._counts: dict[int, list[int]] = {}

    def track(self, value: Any) -> None:
        for tensor in iter_tensors(value):
            if tensor.is_meta or isinstance(tensor, (UninitializedParameter,
                                                                UninitializedBuffer)):
                continue  # no data (an uninitialised one is counted when it is made)
            storage = tensor.untyped_storage()
            key = storage.data_ptr()
            if key == 0:
                continue
            entry = self._counts.get(key)
            if entry is None:
                entry = self._counts[key] = [0, storage.nbytes()]
                self.bytes += entry[1]
            entry[0] += 1
            weakref.finalize(tensor, self._release, key)
        # Security: numpy arrays hold memory too. Untracked, np.zeros(3 * 10**7) in a loop grew
        # past max_total_bytes until RLIMIT_AS stopped it (a CUDA worker has no RLIMIT_AS).
        # An array that owns its memory counts once (negative keys: never a data pointer).
        if isinstance(value, np.ndarray) and value.base is None and value.nbytes \
                and -id(value) not in self._counts:
            self._counts[-id(value)] = [1, value.nbytes]
            self.bytes += value.nbytes
            weakref.finalize(value, self._release, -id(value))

    def _release(self, key: int) -> None:
        entry = self._counts.get(key)
        if entry is None:
            return
        entry[0] -= 1
        if entry[0] <= 0:
            self.bytes -= entry[1]
            del self._counts[key]


class Budget:
    def __init__(self, settings: Settings, deadline: float,
                 predictions: PredictionCache | None = None,
                 resident: ResidentMemory | None = None) -> None:
        self.settings = settings
        self.deadline = deadline
        self.resident = resident
        self._resident_start = resident.bytes() if resident is not None else None
        self._next_resident_check = 0.0
        self.predictions = predictions if predictions is not None else PredictionCache(
            settings.prediction_cache_entries)
        self.steps = 0
        self.live = LiveTensors()
        # Once a limit fired it fires again at every step, so C code that swallows one
        # exception (a len() probe, a hasattr) cannot make the program carry on.
        self.exhausted: Exception | None = None

    # --- steps and time -----------------------------------------------------------------
    def step(self) -> None:
        if self.exhausted is not None:
            raise self.exhausted
        self.steps += 1
        if self.steps > self.settings.max_steps:
            self.exhausted = LimitError(
                Message("the program executed more than {limit:,} steps (statements and loop "
                        "iterations; setting max_steps)", limit=self.settings.max_steps),
                hint=Message("Check the loop conditions: a while-loop that never ends, or a "
                             "range that is much larger than you meant."))
            raise self.exhausted
        now = time.monotonic()
        if now >= self._next_resident_check and self._resident_start is not None:
            self._next_resident_check = now + self.settings.resident_check_interval_s
            self._check_resident()
        if now > self.deadline:
            self.exhausted = DeadlineError(
                Message("the program ran longer than {limit:g} s (setting deadline_s)",
                        limit=self.settings.deadline_s),
                hint=Message("Use smaller tensors or fewer iterations."))
            raise self.exhausted

    def _check_resident(self) -> None:
        assert self.resident is not None and self._resident_start is not None
        now = self.resident.bytes()
        limit = self.settings.max_resident_growth_bytes
        if now is not None and now - self._resident_start > limit:
            self.exhausted = LimitError(
                Message("the program holds more than {limit} of memory (tensors and Python "
                        "values together; setting max_resident_growth_bytes)",
                        limit=human_bytes(limit)),
                hint=Message("Keep fewer large lists or strings: a tensor holds numbers in "
                             "a fraction of the memory a list takes."))
            raise self.exhausted

    # --- memory and FLOPs ---------------------------------------------------------------
    def check_bytes(self, label: str, predicted: int, shape_note: str = "") -> None:
        limit = self.settings.max_call_bytes
        if predicted > limit:
            raise LimitError(Message(
                "{label} would allocate {size}{shape}; the limit per call is {limit} (setting "
                "max_call_bytes)", label=label, size=human_bytes(predicted), shape=shape_note,
                limit=human_bytes(limit)),
                hint=Message("Use smaller shapes: a few elements show the same behaviour."),
                predicted=True)
        total = self.settings.max_total_bytes
        if predicted + self.live.bytes > total:
            raise LimitError(Message(
                "{label} would allocate {size} while the program already holds {held}; the "
                "limit is {limit} in all (setting max_total_bytes)", label=label,
                size=human_bytes(predicted), held=human_bytes(self.live.bytes),
                limit=human_bytes(total)),
                hint=Message("Drop references to tensors you no longer need (reassign or del)."),
                predicted=True)

    def check_flops(self, label: str, flops: int) -> None:
        limit = self.settings.max_call_flops
        if flops > limit:
            raise LimitError(Message(
                "{label} needs about {flops:.2e} floating point operations; the limit per call "
                "is {limit:.1e} (setting max_call_flops)", label=label, flops=flops,
                limit=limit),
                hint=Message("Use smaller matrices."), predicted=True)

    def predict(self, label: str, rule: Rule, call_on_meta: Callable[[], Any],
                args: tuple[Any, ...], kwargs: dict[str, Any], op_name: str = "",
                key: Hashable | None = None) -> None:
        """Raise LimitError before a call whose output would exceed the budget.

        ``key`` names the callable for the prediction cache (None: no caching); the cache
        key adds everything the dry run reads (predictions.call_key)."""
        if rule.cost in (Cost.VIEW, Cost.INPLACE, Cost.SCALAR, Cost.FREE):
            return
        if rule.cost is Cost.SAME:
            tensors = [t for a in (*args, *kwargs.values()) for t in iter_tensors(a)]
            if len(tensors) <= 1:
                self.check_bytes(label, max((t.numel() * t.element_size() for t in tensors),
                                            default=0))
                return
        if rule.cost is Cost.BOUNDED:
            # Data-dependent output (nonzero, unique): bounded by the inputs times index width.
            self.check_bytes(label, 8 * input_bytes((*args, *kwargs.values())))
            return
        cache_key = None
        if key is not None:
            cache_key = call_key((key, rule.cost, rule.matmul, op_name), args, kwargs)
        prediction = self.predictions.get(cache_key) if cache_key is not None else None
        if prediction is None:
            prediction = self._dry_run(label, rule, call_on_meta, args, kwargs, op_name)
            if prediction is None:
                return  # no meta kernel: bounded by the inputs (checked), never cached
            if cache_key is not None:
                self.predictions.put(cache_key, prediction)
        if prediction.counted_flops is not None:
            self.check_flops(label, prediction.counted_flops)
        self.check_bytes(label, prediction.new_bytes, prediction.shape_note)
        if prediction.contraction_flops is not None:
            self.check_flops(label, prediction.contraction_flops)

    def _dry_run(self, label: str, rule: Rule, call_on_meta: Callable[[], Any],
                 args: tuple[Any, ...], kwargs: dict[str, Any], op_name: str
                 ) -> Prediction | None:
        """The call on meta tensors; None when it failed and was bounded by its inputs."""
        counted = None
        try:
            if rule.matmul and op_name not in _CONTRACTION_ARG:
                with FlopCounterMode(display=False) as counter:
                    result = call_on_meta()
                counted = counter.get_total_flops()
            else:
                result = call_on_meta()
        except LimitError:
            raise
        except Exception as failed:
            # Meta kernels are missing for a few ops, and a call that is wrong fails on meta
            # as it will for real. With tensor inputs the output is bounded by them; without
            # any (a factory) there is no bound, so the prediction fails closed: the program
            # gets the error the dry run raised, never a count of 0 bytes.
            given = input_bytes((*args, *kwargs.values()))
            if given == 0:
                if isinstance(failed, (TypeError, ValueError, IndexError, RuntimeError)) \
                        and "meta" not in str(failed):
                    raise failed from None
                raise LimitError(Message("{label}: the memory this call needs could not be "
                                         "predicted", label=label),
                                 hint=Message("Pass sizes as plain integers and data as "
                                              "tensors."),
                                 predicted=True) from None
            self.check_bytes(label, 8 * given)
            return None
        predicted = new_bytes(result)
        shape_note = ""
        if isinstance(result, torch.Tensor) and predicted:
            shape = "x".join(str(d) for d in result.shape)
            shape_note = f" ({shape} {str(result.dtype).replace('torch.', '')})"
        contraction = None
        if rule.matmul and op_name in _CONTRACTION_ARG:
            tensors = [a for a in args if isinstance(a, torch.Tensor)]
            position = _CONTRACTION_ARG[op_name]
            if len(tensors) > position and tensors[position].dim() > 0:
                contracted = tensors[position].shape[-1]
                outputs = sum(t.numel() for t in iter_tensors(result)) or 1
                contraction = 2 * outputs * contracted
        return Prediction(predicted, shape_note, counted, contraction)
