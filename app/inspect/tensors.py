"""Turn program values into views: plain JSON-ready data (no tensors leave the worker)."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import torch
from torch import nn

from app.engine.builtins import bounded_repr
from app.inspect.tensor_repr import fast_repr

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_MAX_ITEMS = 50
_MAX_DEPTH = 3


def finite_or_text(value: float) -> float | str:
    """JSON has no NaN or infinities: they travel as the strings "nan", "inf", "-inf"."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def _sanitize(values: Any) -> Any:
    if isinstance(values, list):
        return [_sanitize(v) for v in values]
    if isinstance(values, float):
        return finite_or_text(values)
    if isinstance(values, complex):
        return str(values)
    return values


def dtype_name(dtype: torch.dtype | np.dtype) -> str:
    return str(dtype).replace("torch.", "")


class StorageLabels:
    """Small per-request labels (s1, s2 ...) for storages, never raw addresses. Keeps the
    storages alive for the request so a freed address cannot be relabelled."""

    def __init__(self) -> None:
        self._labels: dict[tuple[str, int], str] = {}
        self._keep: list[Any] = []

    def key(self, tensor: torch.Tensor) -> tuple[str, int]:
        storage = tensor.untyped_storage()
        return (str(tensor.device), storage.data_ptr())

    def label(self, tensor: torch.Tensor) -> str:
        key = self.key(tensor)
        found = self._labels.get(key)
        if found is None:
            found = self._labels[key] = f"s{len(self._labels) + 1}"
            self._keep.append(tensor.untyped_storage())
        return found


class ViewBuilder:
    def __init__(self, max_values: int, max_repr: int, labels: StorageLabels) -> None:
        self.max_values = max_values
        self.max_repr = max_repr
        self.labels = labels
        # Storage key -> variable names, for "shares_with"; refreshed by the caller.
        self.owners: dict[tuple[str, int], list[str]] = {}
        # The costly parts of a tensor view (repr, values, stats), by content, for this request:
        # a program's tensors are viewed several times (their step, their variable, the result,
        # the graph's gradients), and torch's repr is most of the cost of a view.
        self._memo: dict[tuple[Any, ...], tuple[str, Any, bool, dict[str, Any] | None]] = {}

    def set_owners(self, variables: dict[str, Any]) -> None:
        owners: dict[tuple[str, int], list[str]] = {}
        for name, value in variables.items():
            if isinstance(value, torch.Tensor) and not value.is_meta:
                owners.setdefault(self.labels.key(value), []).append(name)
        self.owners = owners

    def text(self, value: str) -> str:
        value = _ADDRESS.sub("", value)
        if len(value) > self.max_repr:
            return value[: self.max_repr] + " …"
        return value

    # ------------------------------------------------------------------------------------
    def view(self, value: Any, name: str | None = None, depth: int = 0) -> dict[str, Any]:
        if isinstance(value, torch.Tensor):
            return self.tensor(value, name)
        if value is None:
            return {"kind": "none"}
        if isinstance(value, bool):
            return {"kind": "scalar", "value": value, "type": "bool"}
        if isinstance(value, int):
            if abs(value) > 2**53:
                return {"kind": "scalar", "value": str(value), "type": "int"}
            return {"kind": "scalar", "value": value, "type": "int"}
        if isinstance(value, float):
            return {"kind": "scalar", "value": finite_or_text(value), "type": "float"}
        if isinstance(value, torch.Size):
            return {"kind": "shape", "value": list(value)}
        if isinstance(value, torch.dtype):
            return {"kind": "dtype", "value": dtype_name(value)}
        if isinstance(value, torch.device):
            return {"kind": "device", "value": str(value)}
        if isinstance(value, str):
            return {"kind": "text", "value": self.text(value)}
        if isinstance(value, np.ndarray):
            return self.ndarray(value)
        if isinstance(value, np.generic):
            return self.view(value.item(), name, depth)
        if isinstance(value, nn.Module):
            return self.module(value)
        if isinstance(value, (list, tuple)) and depth < _MAX_DEPTH:
            items = [self.view(v, None, depth + 1) for v in value[:_MAX_ITEMS]]
            view = {"kind": "list" if isinstance(value, list) else "tuple", "items": items,
                    "length": len(value)}
            if len(value) > _MAX_ITEMS:
                view["truncated"] = True
            return view
        if isinstance(value, dict) and depth < _MAX_DEPTH:
            items = []
            for key, item in list(value.items())[:_MAX_ITEMS]:
                entry = self.view(item, None, depth + 1)
                if isinstance(key, str):
                    entry["key"] = self.text(key)
                elif isinstance(key, (int, float, bool)) and abs(key) <= 2**53:
                    entry["key"] = key
                else:
                    entry["key"] = self.text("tensor" if isinstance(key, torch.Tensor)
                                             else _safe_repr(key, self.max_repr))
                items.append(entry)
            view = {"kind": "dict", "items": items, "length": len(value)}
            if len(value) > _MAX_ITEMS:
                view["truncated"] = True
            return view
        if isinstance(value, complex):
            return {"kind": "scalar", "value": str(value), "type": "complex"}
        return {"kind": "text", "value": self.text(_safe_repr(value, self.max_repr)),
                "type": type(value).__name__}

    def tensor(self, t: torch.Tensor, name: str | None = None) -> dict[str, Any]:
        view: dict[str, Any] = {
            "kind": "tensor", "shape": list(t.shape), "dtype": dtype_name(t.dtype),
            "device": str(t.device), "requires_grad": t.requires_grad, "is_leaf": t.is_leaf,
            "grad_fn": type(t.grad_fn).__name__ if t.grad_fn is not None else None,
        }
        if t.is_meta:
            view.update(repr=self.text(repr(t)), values=None, truncated=False, stats=None,
                        storage=None, grad=None)
            return view
        key = _content_key(t)
        parts = self._memo.get(key) if key is not None else None
        if parts is None:
            values, truncated = self._values(t)
            printed = fast_repr(t)
            parts = (self.text(repr(t) if printed is None else printed), values, truncated,
                     _stats(t))
            if key is not None:
                self._memo[key] = parts
        view["repr"], view["values"], view["truncated"], view["stats"] = parts
        view["storage"] = self.storage(t, name)
        grad = t.grad if t.is_leaf or t.retains_grad else None
        view["grad"] = self.tensor(grad) if grad is not None else None
        return view

    def _values(self, t: torch.Tensor) -> tuple[Any, bool]:
        data = t.detach()
        truncated = False
        if data.numel() > self.max_values and data.dim() > 0:
            per_dim = max(1, int(self.max_values ** (1 / data.dim())))
            index = tuple(slice(0, per_dim) for _ in range(data.dim()))
            data = data[index]
            truncated = True
        if data.dtype in (torch.bfloat16, torch.float16) or (data.dtype.is_floating_point \
                and data.dtype not in (torch.float32, torch.float64)):
            data = data.float()
        values = data.cpu().tolist()
        if data.is_complex() or (data.is_floating_point() and not bool(
                torch.isfinite(data).all())):
            values = _sanitize(values)
        return values, truncated

    def storage(self, t: torch.Tensor, name: str | None) -> dict[str, Any]:
        key = self.labels.key(t)
        owners = [n for n in self.owners.get(key, []) if n != name]
        return {
            "id": self.labels.label(t), "offset": t.storage_offset(), "stride": list(t.stride()),
            "contiguous": t.is_contiguous(), "version": _version(t), "shares_with": owners,
            "nbytes": t.untyped_storage().nbytes(),
        }

    def ndarray(self, array: np.ndarray) -> dict[str, Any]:
        flat_ok = array.dtype.kind in "biuf"
        view: dict[str, Any] = {"kind": "ndarray", "shape": list(array.shape),
                                "dtype": str(array.dtype), "repr": self.text(repr(array))}
        if flat_ok:
            tensor = torch.from_numpy(np.ascontiguousarray(array))
            values, truncated = self._values(tensor)
            view.update(values=values, truncated=truncated, stats=_stats(tensor))
        return view

    def module(self, module: nn.Module) -> dict[str, Any]:
        parameters = [
            {"name": name, "shape": list(p.shape), "numel": p.numel(),
             "requires_grad": p.requires_grad}
            for name, p in list(module.named_parameters())[:_MAX_ITEMS]
        ]
        return {"kind": "module", "type": type(module).__name__,
                "repr": self.text(repr(module)), "parameters": parameters,
                "num_parameters": sum(p.numel() for p in module.parameters()),
                "training": module.training}


def _content_key(t: torch.Tensor) -> tuple[Any, ...] | None:
    """Everything torch's repr, the values and the stats of a plain CPU tensor depend on,
    including its bytes (so a change made through a numpy alias counts); None for tensors
    not worth or not safe to key (large, other devices or layouts, subclasses, wrappers)."""
    if type(t) not in _PLAIN_TENSOR_TYPES or t.layout != torch.strided \
            or t.device.type != "cpu" or t.numel() * t.element_size() > _MEMO_MAX_BYTES \
            or t.is_quantized or t.is_nested or t.is_conj() or t.is_neg() \
            or torch._C._functorch.is_functorch_wrapped_tensor(t) \
            or torch._is_functional_tensor(t):
        return None
    try:
        grad_fn = t.grad_fn
    except RuntimeError:  # torch's repr prints grad_fn=<Invalid> then
        grad_fn_label: str | None = "Invalid"
    else:
        grad_fn_label = None if grad_fn is None else type(grad_fn).__name__
        if grad_fn_label == "CppFunction":
            grad_fn_label = grad_fn.name()
    # contiguous(): reshape(-1) of a strided view (x[:, ::2]) can stay strided, and view()
    # as bytes needs unit stride.
    content = t.detach().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes()
    return (type(t), t.dtype, tuple(t.shape), t.requires_grad, grad_fn_label,
            torch.get_default_dtype(), torch._C._get_default_device(), content)


_PLAIN_TENSOR_TYPES = (torch.Tensor, nn.Parameter)
_MEMO_MAX_BYTES = 256 * 1024


def _stats(t: torch.Tensor) -> dict[str, Any] | None:
    if t.numel() == 0 or t.dtype == torch.bool or t.is_complex() or t.is_meta:
        return None
    data = t.detach().double()
    std = float(data.std()) if data.numel() > 1 else 0.0
    return {"min": finite_or_text(float(data.min())), "max": finite_or_text(float(data.max())),
            "mean": finite_or_text(float(data.mean())), "std": finite_or_text(std)}


def _safe_repr(value: Any, limit: int) -> str:
    # Bounded: the repr of (s,) * 10**6 with a long s would be built whole before any cut.
    try:
        return bounded_repr(value, limit)
    except Exception as err:  # a repr that fails must not lose the rest of the response
        return f"<{type(value).__name__} (repr failed: {type(err).__name__})>"


def _version(t: torch.Tensor) -> int | None:
    """The version counter, or None for tensors that keep none (made in inference_mode)."""
    if t.is_inference():
        return None
    return t._version
