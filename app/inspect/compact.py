"""Small, bounded pictures of values for the step-through trace and the gradient trace: a
tensor's shape, dtype and its first few values (never a copy in proportion to its numel), any
other value as a bounded repr. These are shown many times per run (once per step, once per
backward node), so each costs at most ``max_values`` elements and ``max_chars`` characters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from app.engine.builtins import bounded_repr
from app.engine.text import without_addresses
from app.inspect.floats import FiniteView, Float32Values, finite_or_text, float32_values
from app.inspect.memo import VALUE_BYTES, ViewMemo


def tensor_values(tensor: torch.Tensor, max_values: int
                  ) -> tuple[list[Any] | Float32Values, bool]:
    """The first ``max_values`` elements in row-major order, and whether more exist. Runs
    once per variable per step, so it keeps to a few torch calls."""
    numel = tensor.numel()
    count = min(max_values, numel)
    if count == 0 or tensor.layout != torch.strided or tensor.device.type == "meta":
        return [], numel > 0
    data = tensor.detach()
    if _numpy_readable(data):
        # A view of the first values through numpy: a third of torch's slicing dispatch,
        # which each variable of each step paid.
        array = data.numpy().reshape(-1)[:count]
        shown = float32_values(array) if array.dtype == np.float32 else None
        if shown is not None:
            return shown, numel > max_values
        head = torch.from_numpy(array)
    elif data.is_contiguous():
        head = data.reshape(-1)[:count]
    else:
        # Element by element up to the bound: reshaping a broadcast view
        # (zeros(1).expand(10**10)) would copy every element.
        head = torch.stack([data[_unravel(i, data.shape)] for i in range(count)])
    dtype = head.dtype
    if dtype.is_complex:
        return [str(v) for v in head.tolist()], numel > max_values
    if dtype in (torch.float16, torch.bfloat16):
        head = head.float()
    if dtype == torch.float32:
        # Each float32 as its shortest decimal that reads back the same (0.1, not
        # 0.10000000149011612), as the other views write it: orjson's writer (1.6 us for a
        # dozen values) where all are finite, numpy's text (5.5 us) where "nan" must be said.
        array = head.cpu().numpy()
        shown = float32_values(array)
        if shown is not None:
            return shown, numel > max_values
        return [finite_or_text(float(text)) for text in array.astype(str)], \
            numel > max_values
    values = head.tolist()
    if dtype.is_floating_point:
        values = [finite_or_text(v) for v in values]
    return values, numel > max_values


# Plain dense CPU tensors whose .numpy() is a view of the same memory.
_NUMPY_DTYPES = frozenset({torch.float32, torch.float64, torch.int64, torch.int32,
                           torch.int16, torch.int8, torch.uint8, torch.bool})


def _numpy_readable(data: torch.Tensor) -> bool:
    return (type(data) is torch.Tensor and data.device.type == "cpu"
            and data.dtype in _NUMPY_DTYPES and data.is_contiguous()
            and not data.is_conj() and not data.is_neg())


def _unravel(index: int, shape: torch.Size) -> tuple[int, ...]:
    position: list[int] = []
    for size in reversed(shape):
        position.append(index % size)
        index //= size
    return tuple(reversed(position))


def compact_tensor(tensor: torch.Tensor, max_values: int, memo: ViewMemo | None = None
                   ) -> dict[str, Any]:
    values, more = shown_values(tensor, max_values, memo)
    return FiniteView(shape=list(tensor.shape), dtype=str(tensor.dtype).removeprefix("torch."),
                      values=values, more=more)


def shown_values(tensor: torch.Tensor, max_values: int, memo: ViewMemo | None = None
                 ) -> tuple[list[Any] | Float32Values, bool]:
    """``tensor_values``, found in ``memo`` by the bytes of those values where it can be: a
    frame repeats every variable, and a rerun makes the same tensors. The list is shared:
    read only."""
    key = _values_key(tensor, max_values) if memo is not None else None
    if key is None or memo is None:
        return tensor_values(tensor, max_values)
    found: tuple[list[Any] | Float32Values, bool] | None = memo.get(key)
    if found is None:
        found = tensor_values(tensor, max_values)
        memo.put(key, found, len(key[2]) + VALUE_BYTES * len(found[0]))
    return found


def _values_key(tensor: torch.Tensor, max_values: int) -> tuple[Any, ...] | None:
    """All ``tensor_values`` depends on, the values' bytes included (a change through a numpy
    alias keeps the version); None where reading them is not a plain numpy view."""
    data = tensor.detach()
    if not _numpy_readable(data):
        return None
    head = data.numpy().reshape(-1)[:max_values].tobytes()
    return ("values", data.dtype, head, data.numel() > max_values)


def compact_text(value: Any, max_chars: int) -> str:
    try:
        return without_addresses(bounded_repr(value, max_chars))
    except (RecursionError, MemoryError):
        return f"<{type(value).__name__}>"
