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
from typing import Any

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
    if summarize:
        # One gather of the printed elements over all dimensions at once: index_select per
        # dimension copied everything the later dimensions still held (0.2 s, then 8 GB, for
        # torch.zeros(2, 1).expand(2, 10**9) and its 10**9 columns).
        index = []
        for dim, size in enumerate(shape):
            keep = [0, 1, 2, size - 3, size - 2, size - 1] if size > 2 * _EDGE \
                else list(range(size))
            index.append(torch.tensor(keep).reshape([-1 if d == dim else 1
                                                     for d in range(len(shape))]))
        data = data[tuple(index)]
    values = data.tolist()
    formatter = _Formatter(_flatten(values, data.dim()), t.dtype.is_floating_point)
    body = _nested(values, shape, _INDENT, summarize, formatter)

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


def _flatten(values: Any, dim: int) -> list[Any]:
    if dim == 0:
        return [values]
    flat = values
    for _ in range(dim - 1):
        flat = [item for row in flat for item in row]
    return flat


class _Formatter:
    """torch._tensor_str._Formatter over Python numbers."""

    def __init__(self, flat: list[Any], floating: bool) -> None:
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            self.max_width = max(1, *(len(f"{v}") for v in flat))
            return
        finite = [v for v in flat if v != 0 and math.isfinite(v)]
        if not finite:
            return
        magnitudes = [abs(v) for v in finite]
        smallest, largest = min(magnitudes), max(magnitudes)
        self.int_mode = all(v == math.ceil(v) for v in finite)
        self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        if self.sci_mode:
            width = max(len(f"{v:.4e}") for v in finite)
        elif self.int_mode:
            width = max(len(f"{v:.0f}") for v in finite) + 1
        else:
            width = max(len(f"{v:.4f}") for v in finite)
        self.max_width = max(self.max_width, width)

    def format(self, value: Any) -> str:
        if self.floating:
            if self.sci_mode:
                text = f"{value:{self.max_width}.4e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.4f}"
        else:
            text = f"{value}"
        return (self.max_width - len(text)) * " " + text


def _nested(values: Any, shape: tuple[int, ...], indent: int, summarize: bool,
            formatter: _Formatter) -> str:
    dim = len(shape)
    if dim == 0:
        return formatter.format(values)
    if dim == 1:
        return _vector(values, shape[0], indent, summarize, formatter)
    rows = [_nested(row, shape[1:], indent + 1, summarize, formatter) for row in values]
    if summarize and shape[0] > 2 * _EDGE:
        rows = [*rows[:_EDGE], "...", *rows[_EDGE:]]
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(rows) + "]"


def _vector(values: list[Any], size: int, indent: int, summarize: bool,
            formatter: _Formatter) -> str:
    per_line = max(1, math.floor((_DEFAULT_OPTIONS["linewidth"] - indent)
                                 / (formatter.max_width + 2)))
    items = [formatter.format(v) for v in values]
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
