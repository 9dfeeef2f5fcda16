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
from app.inspect.floats import shortest_float32


def tensor_values(tensor: torch.Tensor, max_values: int) -> tuple[list[Any], bool]:
    """The first ``max_values`` elements in row-major order, and whether more exist."""
    count = min(max_values, tensor.numel())
    if tensor.device.type == "meta" or tensor.layout != torch.strided or count == 0:
        return [], tensor.numel() > 0
    with torch.no_grad():
        data = tensor.detach()
        if data.is_contiguous():
            head = data.reshape(-1)[:count]
        else:
            # Element by element up to the bound: reshaping a broadcast view
            # (zeros(1).expand(10**10)) would copy every element.
            head = torch.stack([data[_unravel(i, data.shape)] for i in range(count)])
        head = head.cpu()
    if head.dtype.is_complex:
        values: list[Any] = [str(v) for v in head.tolist()]
    elif head.dtype in (torch.float16, torch.bfloat16):
        values = head.float().tolist()
    else:
        values = head.tolist()
    if head.dtype == torch.float32:
        finite = torch.isfinite(head)
        short = shortest_float32(head[finite].numpy().astype(np.float32))
        for position, value in zip(finite.nonzero().reshape(-1).tolist(), short, strict=True):
            values[position] = value
    return values, tensor.numel() > max_values


def _unravel(index: int, shape: torch.Size) -> tuple[int, ...]:
    position: list[int] = []
    for size in reversed(shape):
        position.append(index % size)
        index //= size
    return tuple(reversed(position))


def compact_tensor(tensor: torch.Tensor, max_values: int) -> dict[str, Any]:
    values, more = tensor_values(tensor, max_values)
    return {"shape": list(tensor.shape), "dtype": str(tensor.dtype).removeprefix("torch."),
            "values": [_finite(v) for v in values], "more": more}


def _finite(value: Any) -> Any:
    # JSON has no NaN or infinity: the text form, as the other views write it.
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return value


def compact_text(value: Any, max_chars: int) -> str:
    try:
        return without_addresses(bounded_repr(value, max_chars))
    except (RecursionError, MemoryError):
        return f"<{type(value).__name__}>"
