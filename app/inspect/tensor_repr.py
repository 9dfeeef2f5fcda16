"""``repr(tensor)`` for plain CPU tensors, as torch prints it, without torch's per-element cost.

torch's printer (torch/_tensor_str.py) formats through 0-d tensors: a dozen tensor ops per
element (``ceil``, ``__format__`` -> ``item``), ~0.3 ms for a 2x3 tensor, and most of the time
of a tensor view. This module follows the same algorithm over Python numbers (one
``tolist()``), for the tensors a lesson shows: CPU, strided, real dtypes, default print
options. Anything else returns None and the caller uses ``repr``.

It must print exactly what torch prints. ``fast_repr`` checks itself against torch on a corpus
of tensors that takes every branch, once per process, and switches itself off (for good) on
any difference, for example after a torch upgrade changed the printer.
tests/inspect/test_tensor_repr.py compares it with torch on many more tensors.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import islice
from typing import Any

import numpy as np
import torch
from torch._tensor_str import PRINT_OPTS

_DEFAULT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                    "sci_mode": None}
_DTYPES = frozenset({torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.uint8,
                     torch.int8, torch.int16, torch.int32, torch.int64, torch.bool})
_TYPES = (torch.Tensor, torch.nn.Parameter)
_PREFIX = "tensor("
_INDENT = len(_PREFIX)
_EDGE = 3


def fast_repr(t: torch.Tensor) -> str | None:
    """What ``repr(t)`` returns, or None where this module does not apply."""
    if _enabled is None:
        _self_check()
    if not _enabled or not _applies(t):
        return None
    if type(t) is torch.nn.Parameter:
        return "Parameter containing:\n" + _repr(t)
    return _repr(t)


def _applies(t: torch.Tensor) -> bool:
    return (type(t) in _TYPES and t.dtype in _DTYPES and t.layout == torch.strided
            and t.device.type == "cpu" and torch._C._get_default_device() == "cpu"
            and t.numel() > 0 and not t.is_quantized and not t.is_nested and not t.is_neg()
            and not torch._C._functorch.is_functorch_wrapped_tensor(t)
            and not torch._is_functional_tensor(t)
            and getattr(torch.autograd.forward_ad, "_current_level", 0) < 0
            and vars(PRINT_OPTS) == _DEFAULT_OPTIONS)


def _repr(t: torch.Tensor) -> str:
    data = t.detach()
    summarize = data.numel() > _DEFAULT_OPTIONS["threshold"]
    shape = tuple(data.shape)
    values = (_summarized(data, shape) if summarize else data).tolist()
    texts, width = _texts(_flatten(values, data.dim()), t.dtype.is_floating_point)
    body = _nested(values, shape, _INDENT, summarize, iter(texts), width)

    suffixes = []
    default_complex = torch.cdouble if torch.get_default_dtype() == torch.double \
        else torch.cfloat
    if t.dtype not in (torch.get_default_dtype(), default_complex, torch.int64, torch.bool):
        suffixes.append(f"dtype={t.dtype}")
    grad_fn_name = None
    try:
        grad_fn = t.grad_fn
    except RuntimeError:
        grad_fn_name = "Invalid"
    else:
        if grad_fn is not None:
            grad_fn_name = type(grad_fn).__name__
            if grad_fn_name == "CppFunction":
                grad_fn_name = grad_fn.name().rsplit("::", 1)[-1]
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(_PREFIX + body, suffixes)


def _summarized(data: torch.Tensor, shape: tuple[int, ...]) -> Any:
    """The elements torch prints of a summarized tensor (the first and last ``_EDGE`` of each
    longer dimension), gathered over all dimensions at once: index_select per dimension
    copied everything the later dimensions still held (0.2 s, then 8 GB, for
    torch.zeros(2, 1).expand(2, 10**9) and its 10**9 columns)."""
    keep = [[0, 1, 2, size - 3, size - 2, size - 1] if size > 2 * _EDGE else list(range(size))
            for size in shape]
    if data.dtype in _NUMPY_DTYPES:
        # numpy's fancy indexing: a third of torch's dispatch for the same gather; .numpy()
        # is a view (strides kept, so an expanded tensor is not copied).
        return data.numpy()[np.ix_(*keep)]
    index = [torch.tensor(k).reshape([-1 if d == dim else 1 for d in range(len(shape))])
             for dim, k in enumerate(keep)]
    return data[tuple(index)]


# dtypes whose .numpy() is a view with the same values as torch's tolist() (numpy has no
# bfloat16); _applies has already ruled out conjugate and negative views.
_NUMPY_DTYPES = frozenset({torch.float16, torch.float32, torch.float64, torch.uint8, torch.int8,
                           torch.int16, torch.int32, torch.int64, torch.bool})


def _flatten(values: Any, dim: int) -> list[Any]:
    if dim == 0:
        return [values]
    flat = values
    for _ in range(dim - 1):
        flat = [item for row in flat for item in row]
    return flat


def _texts(flat: list[Any], floating: bool) -> tuple[list[str], int]:
    """Each value as torch._tensor_str._Formatter writes it, padded to the common width, in
    order; and that width. Each value is formatted once: its text also gives the width."""
    if not floating:
        texts = [f"{v}" for v in flat]
        width = max(1, *map(len, texts))
        return [text.rjust(width) for text in texts], width
    # The mode and the width come from the nonzero finite values only, as in torch.
    finite = [v for v in flat if v != 0 and math.isfinite(v)]
    int_mode, sci_mode = True, False
    if finite:
        magnitudes = [abs(v) for v in finite]
        smallest, largest = min(magnitudes), max(magnitudes)
        int_mode = all(v == math.ceil(v) for v in finite)
        sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
    if sci_mode:
        width = max(1, *(len(f"{v:.4e}") for v in finite))
        return [f"{v:{width}.4e}" for v in flat], width
    spec = ".0f" if int_mode else ".4f"
    texts = [format(v, spec) for v in flat]
    widths = [len(text) for text, v in zip(texts, flat, strict=True)
              if v != 0 and math.isfinite(v)]
    width = max(1, *widths, 0) + (1 if int_mode and widths else 0)
    if int_mode:  # "3." for 3.0; inf and nan keep their text
        texts = [text + "." if math.isfinite(v) else text
                 for text, v in zip(texts, flat, strict=True)]
    return [text.rjust(width) for text in texts], width


def _nested(values: Any, shape: tuple[int, ...], indent: int, summarize: bool,
            texts: Iterator[str], width: int) -> str:
    """The printed body, taking the values' texts in row-major order from ``texts``."""
    dim = len(shape)
    if dim == 0:
        return next(texts)
    if dim == 1:
        return _vector(len(values), shape[0], indent, summarize, texts, width)
    rows = [_nested(row, shape[1:], indent + 1, summarize, texts, width) for row in values]
    if summarize and shape[0] > 2 * _EDGE:
        rows = [*rows[:_EDGE], "...", *rows[_EDGE:]]
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(rows) + "]"


def _vector(count: int, size: int, indent: int, summarize: bool, texts: Iterator[str],
            width: int) -> str:
    per_line = max(1, math.floor((_DEFAULT_OPTIONS["linewidth"] - indent) / (width + 2)))
    items = list(islice(texts, count))
    if summarize and size > 2 * _EDGE:
        items = [*items[:_EDGE], " ...", *items[_EDGE:]]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _add_suffixes(text: str, suffixes: list[str]) -> str:
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > _DEFAULT_OPTIONS["linewidth"]:
            parts.append(",\n" + " " * _INDENT + suffix)
            last_line = _INDENT + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


# ------------------------------------------------------------------------------ self-check
_enabled: bool | None = None


def self_check_corpus() -> list[torch.Tensor]:
    """Tensors that take every branch of the printer (also used by the tests)."""
    generator = torch.Generator().manual_seed(0)
    leaf = torch.randn(3, 2, generator=generator, requires_grad=True)
    nan_inf = torch.tensor([1.0, float("nan"), float("inf"), -float("inf"), 0.0, -0.0])
    return [
        torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
        torch.tensor([[1, 2, 3], [4, 5, 6]]),
        torch.tensor(3.5), torch.tensor(7), torch.tensor(True), torch.tensor(-0.0),
        torch.tensor([True, False, True]),
        torch.arange(-5, 20, dtype=torch.int8), torch.arange(300, dtype=torch.int16),
        torch.arange(10, dtype=torch.uint8), torch.arange(12, dtype=torch.int32).reshape(3, 4),
        torch.randn(2, 3, 4, generator=generator),
        torch.randn(64, 64, generator=generator),
        torch.randn(5, 300, generator=generator) * 1e5,
        torch.randn(2, 20, 40, generator=generator).double(),
        torch.tensor([1e-5, 1.0, 2.0]), torch.tensor([1e9, 1.0]), torch.tensor([1.0, 2000.0]),
        torch.tensor([123456789.0, 2.0]), torch.tensor([0.1, 0.25, -3.5]),
        nan_inf, torch.zeros(4), torch.full((2, 2), float("nan")),
        torch.linspace(-1, 1, 30).reshape(5, 6).half(), torch.randn(7, generator=generator)
        .bfloat16(), torch.arange(2000.0), torch.arange(1001).reshape(7, 11, 13)[:3],
        torch.randn(4, 3, generator=generator).t(),
        leaf, leaf * 2, (leaf * leaf).sum(), leaf.detach(),
        torch.ones(3, dtype=torch.float64), torch.ones(1, 1, 1, 1, 90),
        torch.nn.Parameter(torch.randn(2, 2, generator=generator)),
    ]


def _self_check() -> None:
    global _enabled
    _enabled = True
    try:
        agree = all(not _applies(t) or fast_repr(t) == repr(t) for t in self_check_corpus())
    except Exception:
        agree = False
    _enabled = agree
