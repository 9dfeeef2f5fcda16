"""Turn program values into views: plain JSON-ready data (no tensors leave the worker)."""

from __future__ import annotations

import math
import re
from itertools import islice
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter

from app.config import Settings, get_settings
from app.engine.text import without_addresses
from app.inspect.floats import FiniteView, finite_float32, finite_or_text
from app.inspect.memo import VALUE_BYTES, ViewMemo
from app.inspect.reprs import TextLimits, bounded_text, ndarray_text, tensor_text

_MAX_ITEMS = 50
_MAX_DEPTH = 3
_VIEW_COST = 16  # see ViewBuilder._cost
# What a cut can leave of an address at the end of a text: without_addresses needs 8 digits.
_PARTIAL_ADDRESS = re.compile(r"0x[0-9a-fA-F]{0,16}\Z")
# A tensor view's costly parts: repr, values, truncated, stats, stats note.
_Parts = tuple[str, Any, bool, "dict[str, Any] | None", "str | None"]


def _sanitize(values: Any) -> Any:
    if isinstance(values, list):
        return [_sanitize(v) for v in values]
    if isinstance(values, float):
        return finite_or_text(values)
    if isinstance(values, complex):
        return str(values)
    return values


def dims(sizes: tuple[int, ...], limit: int) -> list[int]:
    """A shape or stride as a list, at most ``limit`` entries: a (1,) * 10**5 tensor is legal,
    and its shape would be most of a response, in every view of it."""
    return list(sizes[:limit])


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
        return self.label_of(self.key(tensor), tensor.untyped_storage())

    def label_of(self, key: tuple[str, int], storage: Any) -> str:
        """The label of ``storage``, whose key (``key()`` of a tensor on it) is ``key``."""
        found = self._labels.get(key)
        if found is None:
            found = self._labels[key] = f"s{len(self._labels) + 1}"
            self._keep.append(storage)
        return found


class ViewBuilder:
    """Views of one request's values.

    Security: views are built after the program's deadline, so each costs a bounded amount
    whatever the program built: texts go through app/inspect/reprs.py (piece by piece, cut at
    max_repr_chars, no recursion, no addresses); values, statistics and reprs read at most
    max_view_values / max_stats_elements / max_repr_elements elements, and never copy a tensor
    in proportion to its numel (torch.zeros(1).expand(10**10) is 4 bytes of storage); nested
    containers show at most max_view_items values per view.
    """

    def __init__(self, max_values: int, max_repr: int, labels: StorageLabels,
                 settings: Settings | None = None, memo: ViewMemo | None = None) -> None:
        settings = settings or get_settings()
        self.max_values = max_values
        self.max_repr = max_repr
        self.max_stats = settings.max_stats_elements
        self.max_dims = settings.max_view_dims
        self.max_items = settings.max_view_items
        self.limits = TextLimits(max_repr, settings.max_repr_elements, settings.max_view_dims,
                                 settings.max_view_items)
        self.labels = labels
        # Storage key -> variable names, for "shares_with"; refreshed by the caller.
        self.owners: dict[tuple[str, int], list[str]] = {}
        # The costly parts of a tensor view (repr, values, stats), by content: a program's
        # tensors are viewed several times (their step, their variable, the result, the
        # graph's gradients), and its runs again (app/inspect/memo.py).
        self._memo = memo if memo is not None else ViewMemo(0)
        # Once the program has ended (settle()), no tensor can change any more: the parts are
        # also kept by tensor identity (the tensor held, so its id is not reused), and the
        # variables, the result and the graph's gradients skip the content key (a copy of
        # the bytes). While the program runs, a tensor can change without its version
        # changing (through an array from .numpy()), so steps always key by content.
        self._settled: dict[int, tuple[torch.Tensor, _Parts]] | None = None
        self._items_left = 0  # of max_items, for the view being built

    def settle(self) -> None:
        """The program has ended: from now on, views may reuse parts by tensor identity."""
        self._settled = {}

    def set_owners(self, variables: dict[str, Any]) -> None:
        owners: dict[tuple[str, int], list[str]] = {}
        for name, value in variables.items():
            if isinstance(value, torch.Tensor) and not value.is_meta:
                owners.setdefault(self.labels.key(value), []).append(name)
        self.owners = owners

    def text(self, value: str) -> str:
        """A text for a view: at most max_repr characters, without memory addresses. Only the
        head of ``value`` is read (a program's string may be 10**6 characters)."""
        read = self.max_repr + 64  # room for addresses removed from the head
        head = without_addresses(value[:read])
        if len(value) > read or len(head) > self.max_repr:
            return _PARTIAL_ADDRESS.sub("", head[:self.max_repr]) + " …"
        return head

    def repr_text(self, value: Any) -> str:
        """repr(value), bounded (see app/inspect/reprs.py)."""
        return bounded_text(value, self.limits)

    # ------------------------------------------------------------------------------------
    def view(self, value: Any, name: str | None = None, depth: int = 0) -> dict[str, Any]:
        if depth == 0:
            self._items_left = self.max_items
        if isinstance(value, torch.Tensor):
            return self.tensor(value, name)
        if value is None:
            return {"kind": "none"}
        if isinstance(value, bool):
            return {"kind": "scalar", "value": value, "type": "bool"}
        if isinstance(value, int):
            if abs(value) > 2**53:
                return {"kind": "scalar", "value": self.repr_text(value), "type": "int"}
            return {"kind": "scalar", "value": value, "type": "int"}
        if isinstance(value, float):
            return {"kind": "scalar", "value": finite_or_text(value), "type": "float"}
        if isinstance(value, torch.Size):
            view: dict[str, Any] = {"kind": "shape", "value": list(value[:self.max_items])}
            if len(value) > self.max_items:
                view.update(truncated=True, length=len(value))
            return view
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
            items = []
            for item in value[:_MAX_ITEMS]:
                if self._items_left <= 0:
                    break
                self._items_left -= self._cost(item)
                items.append(self.view(item, None, depth + 1))
            view = {"kind": "list" if isinstance(value, list) else "tuple", "items": items,
                    "length": len(value)}
            if len(items) < len(value):
                view["truncated"] = True
            return view
        if isinstance(value, dict) and depth < _MAX_DEPTH:
            items = []
            for key, item in islice(value.items(), _MAX_ITEMS):
                if self._items_left <= 0:
                    break
                self._items_left -= self._cost(item)
                entry = self.view(item, None, depth + 1)
                if isinstance(key, str):
                    entry["key"] = self.text(key)
                elif isinstance(key, (int, float, bool)) and abs(key) <= 2**53:
                    entry["key"] = key
                else:
                    entry["key"] = "tensor" if isinstance(key, torch.Tensor) \
                        else self.repr_text(key)
                items.append(entry)
            view = {"kind": "dict", "items": items, "length": len(value)}
            if len(items) < len(value):
                view["truncated"] = True
            return view
        if isinstance(value, complex):
            return {"kind": "scalar", "value": str(value), "type": "complex"}
        return {"kind": "text", "value": self.repr_text(value), "type": type(value).__name__}

    def _cost(self, item: Any) -> int:
        """What an item of a container takes from max_view_items: 1, or for a tensor, array
        or layer the values it shows, at least _VIEW_COST (a tensor view costs about as much
        as that many plain items)."""
        if isinstance(item, torch.Tensor) and not item.is_meta:
            return max(_VIEW_COST, min(item.numel(), self.max_values))
        if isinstance(item, np.ndarray):
            return max(_VIEW_COST, min(item.size, self.max_values))
        return _VIEW_COST if isinstance(item, nn.Module) else 1

    def tensor(self, t: torch.Tensor, name: str | None = None, depth: int = 0
               ) -> dict[str, Any]:
        view = FiniteView(
            kind="tensor", shape=dims(t.shape, self.max_items), dtype=dtype_name(t.dtype),
            device=str(t.device), requires_grad=t.requires_grad, is_leaf=t.is_leaf,
            grad_fn=type(t.grad_fn).__name__ if t.grad_fn is not None else None)
        if t.dim() > self.max_items:
            view["ndim"] = t.dim()  # the shape lists the first max_view_items sizes
        if t.is_meta:
            view.update(repr=self.text(tensor_text(t, self.limits)), values=None,
                        truncated=False, stats=None, storage=None, grad=None)
            return view
        settled = self._settled.get(id(t)) if self._settled is not None else None
        if settled is not None and settled[0] is t:
            parts = settled[1]
        else:
            parts = self._content_parts(t)
            if self._settled is not None:
                self._settled[id(t)] = (t, parts)
        view["repr"], view["values"], view["truncated"], view["stats"], note = parts
        if note is not None:
            view["stats_note"] = note
        view["storage"] = self.storage(t, name)
        # A grad may have a grad of its own (x.grad = y), and so on: a few levels are shown.
        grad = t.grad if (t.is_leaf or t.retains_grad) and depth < _MAX_DEPTH else None
        view["grad"] = self.tensor(grad, None, depth + 1) if grad is not None else None
        return view

    def _content_parts(self, t: torch.Tensor) -> _Parts:
        """(repr, values, truncated, stats, stats note), shared by tensors of equal content."""
        key = _content_key(t)
        parts: _Parts | None = self._memo.get(key) if key is not None else None
        if parts is None:
            values, truncated = self._values(t)
            stats, note = tensor_stats(t, self.max_stats)
            text = self.text(tensor_text(t, self.limits))
            parts = (text, values, truncated, stats, note)
            if key is not None:
                shown = min(t.numel(), self.max_values)
                self._memo.put(key, parts, len(key[-1]) + len(text) + VALUE_BYTES * shown)
        return parts

    def _values(self, t: torch.Tensor) -> tuple[Any, bool]:
        """At most max_values of the first values; a window is sliced first, so nothing
        proportional to numel is copied."""
        data = t.detach()
        if data.dim() > self.max_dims:
            return None, True
        truncated = False
        if data.numel() > self.max_values and data.dim() > 0:
            per_dim = max(1, int(self.max_values ** (1 / data.dim())))
            index = tuple(slice(0, per_dim) for _ in range(data.dim()))
            data = data[index]
            truncated = True
        if data.dtype in (torch.bfloat16, torch.float16) or (data.dtype.is_floating_point \
                and data.dtype not in (torch.float32, torch.float64)):
            data = data.float()
        data = data.cpu()
        if data.dtype == torch.float32:
            shown = finite_float32(data.numpy())
            if shown is not None:
                return shown, truncated
            return _sanitize(data.tolist()), truncated
        if data.is_complex() or (data.is_floating_point() and not bool(
                torch.isfinite(data).all())):
            return _sanitize(data.tolist()), truncated
        return data.tolist(), truncated

    def storage(self, t: torch.Tensor, name: str | None) -> dict[str, Any]:
        storage = t.untyped_storage()  # one lookup for the key, the label and the size
        key = (str(t.device), storage.data_ptr())  # = self.labels.key(t)
        owners = [n for n in self.owners.get(key, []) if n != name]
        return {
            "id": self.labels.label_of(key, storage), "offset": t.storage_offset(),
            "stride": dims(t.stride(), self.max_items),
            "contiguous": t.is_contiguous(), "version": _version(t), "shares_with": owners,
            "nbytes": storage.nbytes(),
        }

    def ndarray(self, array: np.ndarray) -> dict[str, Any]:
        view: dict[str, Any] = {"kind": "ndarray", "shape": dims(array.shape, self.max_items),
                                "dtype": str(array.dtype),
                                "repr": self.text(ndarray_text(array, self.limits))}
        if array.dtype.kind in "biuf":
            # tensor.numpy() of an expanded tensor is a stride-0 array of any size: only a
            # window of it is copied, and the stats read it without the repeated dimensions.
            window, truncated = array, False
            if array.ndim > self.max_dims:
                window, truncated = None, True
            elif array.size > self.max_values and array.ndim > 0:
                per_dim = max(1, int(self.max_values ** (1 / array.ndim)))
                window, truncated = array[tuple(slice(0, per_dim) for _ in array.shape)], True
            values = None
            if window is not None:
                values, _ = self._values(torch.from_numpy(np.ascontiguousarray(window)))
            stats, note = _array_stats(array, self.max_stats)
            view.update(values=values, truncated=truncated, stats=stats)
            if note is not None:
                view["stats_note"] = note
        return view

    def module(self, module: nn.Module) -> dict[str, Any]:
        """Its parameters as named_parameters() lists them, without recursion and visiting
        at most max_view_items modules and parameters (num_parameters counts those)."""
        parameters: list[dict[str, Any]] = []
        total = 0
        left = self.max_items
        partial = False
        seen_modules: set[int] = set()
        seen_parameters: set[int] = set()
        stack: list[tuple[str, nn.Module]] = [("", module)]
        while stack:
            prefix, current = stack.pop()
            if id(current) in seen_modules:
                continue
            if left <= 0:
                partial = True
                break
            seen_modules.add(id(current))
            left -= 1
            for name, parameter in current._parameters.items():
                if parameter is None or id(parameter) in seen_parameters:
                    continue
                if left <= 0:
                    partial = True
                    break
                seen_parameters.add(id(parameter))
                left -= 1
                # A lazy layer's parameter has no shape until its first call (0 elements).
                lazy = isinstance(parameter, (UninitializedParameter, UninitializedBuffer))
                numel = 0 if lazy else parameter.numel()
                total += numel
                if len(parameters) < _MAX_ITEMS:
                    parameters.append({"name": prefix + name,
                                       "shape": [] if lazy else dims(parameter.shape,
                                                                     self.max_items),
                                       "numel": numel,
                                       "requires_grad": parameter.requires_grad})
            children = [(f"{prefix}{key}.", child) for key, child
                        in islice(current._modules.items(), max(left, 0))
                        if child is not None]
            if len(current._modules) > max(left, 0):
                partial = True
            stack.extend(reversed(children))
        view: dict[str, Any] = {"kind": "module", "type": type(module).__name__,
                                "repr": self.repr_text(module), "parameters": parameters,
                                # From the instance's dict: a view never runs a
                                # program's code (a property named training would).
                                "num_parameters": total,
                                "training": bool(vars(module).get("training", True))}
        if partial:
            view["truncated"] = True  # num_parameters counts the modules visited
        return view


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
    data = t.detach()
    if data.dtype in _NUMPY_DTYPES and data.dim() <= 32:  # numpy: at most 32 (1.x) or 64
        # numpy writes any strided array's bytes in row-major order in one call: a third of
        # the reshape, copy and byte view below (a few us of each view's key).
        content = data.numpy().tobytes()
    else:
        # view() as bytes needs unit stride, and reshape(-1) of a strided view (x[:, ::2])
        # can stay strided. Not .contiguous(): a one-element tensor counts as contiguous
        # whatever its stride, so torch.arange(10.)[::5][:1] (stride 5) kept it and its view
        # failed, and the whole result became an InternalError.
        flat = data.reshape(-1)
        if flat.stride(0) != 1:
            flat = flat.clone(memory_format=torch.contiguous_format)
        content = flat.view(torch.uint8).numpy().tobytes()
    return (type(t), t.dtype, tuple(t.shape), t.requires_grad, grad_fn_label,
            torch.get_default_dtype(), torch._C._get_default_device(), content)


_PLAIN_TENSOR_TYPES = (torch.Tensor, nn.Parameter)
# dtypes whose .numpy() shares the tensor's memory (numpy has no bfloat16).
_NUMPY_DTYPES = frozenset({torch.float16, torch.float32, torch.float64, torch.complex64,
                           torch.complex128, torch.uint8, torch.int8, torch.int16,
                           torch.int32, torch.int64, torch.bool})
_MEMO_MAX_BYTES = 256 * 1024


def _compact(t: torch.Tensor) -> torch.Tensor:
    """``t`` without the repeats of its expanded (stride-0) dimensions: the same minimum,
    maximum, mean and (population) variance, from as many elements as its storage holds."""
    for dim in range(t.dim()):
        if t.stride(dim) == 0 and t.size(dim) > 1:
            t = t.narrow(dim, 0, 1)
    return t


def tensor_stats(t: torch.Tensor, max_elements: int
                 ) -> tuple[dict[str, Any] | None, str | None]:
    """(min/max/mean/std, None), or (None, why not). Reads at most ``max_elements`` elements,
    in float64."""
    if t.numel() == 0 or t.dtype == torch.bool or t.is_complex() or t.is_meta \
            or t.layout != torch.strided or t.is_quantized:
        return None, None
    compact = _compact(t.detach())
    if compact.numel() > max_elements:
        return None, _stats_note(t.numel(), max_elements)
    if compact.numel() <= _PYTHON_STATS_MAX and compact.device.type == "cpu":
        small = _small_stats(compact.reshape(-1).tolist(), t.numel())
        if small is not None:
            return small, None
    # Flat: torch reduces a tensor of 5,000 dimensions of size 1 in 0.1 s, a flat one at once.
    return _stats(compact.double().reshape(-1), t.numel()), None


# Up to this many elements the statistics are summed in Python: four torch reductions cost
# ~17 us of dispatch for a 2x3 tensor, the same sums in Python ~3 us. Both are float64; the
# Python mean is correctly rounded (math.fsum), so it may differ from torch's in the last bit.
_PYTHON_STATS_MAX = 64


def _small_stats(values: list[Any], count: int) -> dict[str, Any] | None:
    """min/max/mean/std of a few values standing for ``count`` elements (as ``_stats``), or
    None when one is not finite (torch's reductions then say what NaN and inf give)."""
    floats = [float(v) for v in values]
    if not all(math.isfinite(v) for v in floats):
        return None
    n = len(floats)
    try:
        mean = math.fsum(floats) / n
        squares = math.fsum((v - mean) ** 2 for v in floats)
    except OverflowError:  # values near float64's range: torch writes inf where it must
        return None
    if count == n:
        std = math.sqrt(squares / (n - 1)) if n > 1 else 0.0
    else:  # unbiased over all ``count`` elements, as in _stats
        std = math.sqrt(squares / n * count / (count - 1))
    return {"min": min(floats), "max": max(floats), "mean": mean, "std": std}


def _array_stats(array: np.ndarray, max_elements: int
                 ) -> tuple[dict[str, Any] | None, str | None]:
    if array.size == 0 or array.dtype.kind == "b":
        return None, None
    compact = array
    for axis in range(array.ndim):
        if array.strides[axis] == 0 and array.shape[axis] > 1:
            compact = compact[(slice(None),) * axis + (slice(0, 1),)]
    if compact.size > max_elements:
        return None, _stats_note(array.size, max_elements)
    return _stats(torch.from_numpy(np.ascontiguousarray(compact, dtype=np.float64).reshape(-1)),
                  array.size), None


def _stats_note(numel: int, max_elements: int) -> str:
    return (f"statistics not computed: {numel:,} elements, more than {max_elements:,} "
            "(setting max_stats_elements)")


def _stats(data: torch.Tensor, count: int) -> dict[str, Any]:
    """Statistics of float64 ``data`` standing for ``count`` elements (``count`` larger when
    expanded dimensions were dropped: each element then stands for the same number)."""
    mean = data.mean()
    if count == data.numel():
        std = float(data.std()) if count > 1 else 0.0
    else:  # unbiased, like torch.std, over all ``count`` elements
        std = math.sqrt(float(((data - mean) ** 2).mean()) * count / (count - 1))
    return {"min": finite_or_text(float(data.min())), "max": finite_or_text(float(data.max())),
            "mean": finite_or_text(float(mean)), "std": finite_or_text(std)}


def _version(t: torch.Tensor) -> int | None:
    """The version counter, or None for tensors that keep none (made in inference_mode)."""
    if t.is_inference():
        return None
    return t._version
