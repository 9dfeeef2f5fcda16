"""Run a lesson's program with torch directly, the reference the sandbox's answer is
checked against, and compare the sandbox's view of a value with the value itself.

Running our own catalog's programs with exec here is deliberate and limited to tests: the
app never execs anything (it interprets programs in the sandbox).
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import random
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn, optim
from torch.nn import functional
from torch.overrides import TorchFunctionMode
from torch.utils.data import DataLoader, Dataset, TensorDataset

from app.inspect.floats import Float32Values


def _is_cuda(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower().startswith("cuda")
    return isinstance(value, torch.device) and value.type == "cuda"


class CpuForCuda(TorchFunctionMode):
    """What the sandbox does with device='cuda' on a server without a GPU (run on the CPU,
    with a notice), so a lesson written for GPUs can be compared on a CPU-only machine."""

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = dict(kwargs or {})
        if _is_cuda(kwargs.get("device")):
            kwargs["device"] = "cpu"
        if func is torch.Tensor.cuda:
            return args[0].cpu()
        if func is torch.Tensor.to:
            args = tuple("cpu" if _is_cuda(a) else a for a in args)
        return func(*args, **kwargs)


@dataclass
class Direct:
    """The outcome of a program run by torch itself."""

    error: str | None  # the exception's class name, or None
    result: Any = None
    has_result: bool = False
    stdout: str = ""


def prelude() -> dict[str, Any]:
    """The names the sandbox binds before a program's first line."""
    return {"torch": torch, "nn": nn, "F": functional, "optim": optim, "np": np,
            "math": math, "Dataset": Dataset, "DataLoader": DataLoader,
            "TensorDataset": TensorDataset}


def run_direct(code: str, seed: int) -> Direct:
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.set_default_dtype(torch.float32)
    tree = ast.parse(code)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = ast.Module(body=tree.body[:-1] if last else tree.body, type_ignores=[])
    names = prelude()
    out = io.StringIO()
    mode = contextlib.nullcontext() if torch.cuda.is_available() else CpuForCuda()
    try:
        # Warnings a lesson provokes on purpose go to stderr in torch, not to the output.
        with contextlib.redirect_stdout(out), mode, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(body, "<lesson>", "exec"), names)
            result = (eval(compile(ast.Expression(last.value), "<lesson>", "eval"), names)
                      if last else None)
    except Exception as raised:  # the lesson may raise on purpose
        return Direct(type(raised).__name__, stdout=out.getvalue())
    return Direct(None, result, last is not None, out.getvalue())


def _same_number(view_value: Any, value: Any) -> bool:
    if isinstance(view_value, str):  # "nan", "inf", "-inf"
        return str(float(value)) == view_value
    if isinstance(value, bool) or isinstance(view_value, bool):
        return bool(value) == bool(view_value)
    return math.isclose(float(view_value), float(value), rel_tol=1e-6, abs_tol=1e-9)


def _same_values(view_values: Any, values: Any) -> bool:
    if type(view_values) is Float32Values:  # float32 values as the sandbox keeps them
        view_values = view_values.items
    if isinstance(values, list):
        return (isinstance(view_values, list) and len(view_values) == len(values)
                and all(_same_values(v, w) for v, w in zip(view_values, values, strict=True)))
    if isinstance(values, complex):
        return str(values) == view_values
    return _same_number(view_values, values)


def mismatch(view: dict[str, Any] | None, value: Any, shapes_only: bool) -> str | None:
    """Why the sandbox's view of a value differs from the value torch computed, or None."""
    kind = (view or {}).get("kind")
    if isinstance(value, torch.Tensor | np.ndarray):
        if kind not in ("tensor", "ndarray"):
            return f"kind {kind} for an array"
        assert view is not None
        if list(view["shape"]) != list(value.shape):
            return f"shape {view['shape']} vs {list(value.shape)}"
        if view["dtype"] != str(value.dtype).replace("torch.", ""):
            return f"dtype {view['dtype']} vs {value.dtype}"
        if shapes_only or view.get("truncated") or view.get("values") is None:
            return None
        data = value.detach().cpu() if isinstance(value, torch.Tensor) else value
        if isinstance(data, torch.Tensor) and data.dtype in (torch.float16, torch.bfloat16):
            data = data.float()
        return None if _same_values(view["values"], data.tolist()) else "values differ"
    if isinstance(value, torch.Size):
        return None if kind == "shape" and view["value"] == list(value) else f"size {view}"
    if isinstance(value, torch.dtype):
        return None if view == {"kind": "dtype", "value": str(value)[6:]} else f"{view}"
    if isinstance(value, torch.device):
        return None if shapes_only or (kind == "device" and view["value"] == str(value)) \
            else f"device {view}"
    if value is None:
        return None if kind == "none" else f"{view} for None"
    if isinstance(value, bool | int | float):
        if kind != "scalar":
            return f"{view} for {value!r}"
        return None if shapes_only or _same_number(view["value"], value) else \
            f"{view['value']} vs {value}"
    if isinstance(value, str):
        return None if kind == "text" and view["value"] == value else f"{view} vs {value!r}"
    if isinstance(value, list | tuple):
        items = (view or {}).get("items") or []
        if kind != type(value).__name__ or len(items) != min(len(value), 50):
            return f"{kind} of {len(items)} for {type(value).__name__} of {len(value)}"
        for i, (item, v) in enumerate(zip(items, value, strict=False)):
            found = mismatch(item, v, shapes_only)
            if found:
                return f"[{i}]: {found}"
        return None
    if isinstance(value, dict):
        items = {str(item.get("key")): item for item in (view or {}).get("items") or []}
        if kind != "dict" or set(items) != {str(k) for k in value}:
            return f"dict keys {sorted(items)} vs {sorted(map(str, value))}"
        for key, v in value.items():
            found = mismatch(items[str(key)], v, shapes_only)
            if found:
                return f"[{key!r}]: {found}"
        return None
    if isinstance(value, nn.Module):
        return None if kind == "module" else f"{kind} for a module"
    return None  # other objects (optimizers, loaders) are shown as text; nothing to compare
