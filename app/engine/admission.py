"""What torch hands back to a program, admitted by one deny-by-default gate.

Every call result and every attribute a program reads passes ``Admission`` before the program
sees it, containers included: only the types a program may hold get through, tensors only on
the CPU or a CUDA device, strided and not quantized. A meta tensor (no data: a CPU kernel
given one returned whatever the heap held) or a scheduler's state_dict holding the live
interpreter never reaches a program. Device arguments are checked before a call too.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.utils import data as tud

from app.engine.errors import ForbiddenError, LimitError
from app.engine.stdlib_values import STDLIB_VALUE_TYPES
from app.message import Message

ALLOWED_DEVICE_TYPES = frozenset({"cpu", "cuda"})
_TENSOR_TYPES = (torch.Tensor, nn.Parameter)
_UNINITIALISED = (nn.parameter.UninitializedParameter, nn.parameter.UninitializedBuffer)
_MAX_ADMITTED_ITEMS = 2_000_000
_MAX_ADMITTED_DEPTH = 64


def check_tensor(tensor: torch.Tensor, label: str) -> None:
    """A tensor a program may hold: CPU or CUDA, strided, not quantized, no subclass."""
    if isinstance(tensor, _UNINITIALISED):
        # No data yet: only a lazy layer may hold one (Admission._walk), never the program.
        raise ForbiddenError(Message("{label} gave a parameter that is not initialised yet",
                                     label=label),
                             hint=Message("A Lazy layer makes its parameters at its first call: "
                                          "call the model on an input first (net(X)), then read "
                                          "them."))
    if type(tensor) not in _TENSOR_TYPES:
        raise ForbiddenError(Message("{label} gave a {type}, which the playground does not "
                                     "hand to programs",
                                     label=label, type=type(tensor).__name__))
    if not (tensor.is_cpu or tensor.is_cuda):
        raise ForbiddenError(
            Message("{label} gave a tensor on the '{type}' device; programs use 'cpu' or 'cuda' "
                    "only",
                    label=label, type=tensor.device.type),
                    hint=Message("Create tensors with device='cpu' or device='cuda'."))
    if tensor.layout is not torch.strided or tensor.is_quantized:
        raise ForbiddenError(Message("{label} gave a {layout} tensor; sparse and quantized "
                                     "tensors are not available in the playground",
                                     label=label, layout=tensor.layout),
                             hint=Message("Use ordinary (dense) tensors."))


def check_device(value: Any, label: str) -> None:
    """A device argument names the CPU or CUDA: a 'meta' tensor has no data, and CPU kernels
    given one returned uninitialised heap memory."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return
    if isinstance(value, str):
        try:
            kind = torch.device(value).type
        except (RuntimeError, ValueError):
            return  # not a device name: torch reports what is wrong with it
    elif isinstance(value, torch.device):
        kind = value.type
    else:
        return
    if kind not in ALLOWED_DEVICE_TYPES:
        raise ForbiddenError(Message("{label}: the device '{kind}' is not available in the "
                                     "playground; use 'cpu' or 'cuda'", label=label, kind=kind),
                             hint=Message("device='cpu' runs everywhere; device='cuda' uses the "
                                          "GPU when the server has one."))


_PLAIN_TYPES: frozenset[type] = frozenset({
    type(None), bool, int, float, complex, str, slice, range, type(Ellipsis), torch.Size,
    torch.dtype, torch.layout, torch.memory_format, torch.finfo, torch.iinfo,
    torch.Generator, type({}.keys()), type({}.values()), type({}.items()),
    np.finfo,  # numpy.finfo(np.float32): numbers only (its type is checked by the guard)
})
_OBJECT_TYPES: tuple[type, ...] = tuple(t for t in (
    torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler,
    torch.optim.lr_scheduler.ReduceLROnPlateau, torch.amp.GradScaler, tud.DataLoader,
    tud.Dataset, tud.Sampler, torch.autograd.graph.Node, np.generic, np.dtype,
    torch.no_grad, torch.enable_grad, torch.inference_mode, torch.set_grad_enabled,
    torch.autocast, getattr(torch.cuda, "_CudaDeviceProperties", None),
    *STDLIB_VALUE_TYPES,
) if isinstance(t, type))
# Distributions a program may hold: these exact classes (their parameters are the program's
# tensors), not any subclass (a TransformedDistribution holds arbitrary transforms).
DISTRIBUTION_TYPES: tuple[type, ...] = tuple(getattr(torch.distributions, name) for name in (
    "Normal", "Uniform", "Bernoulli", "Categorical", "Multinomial", "MultivariateNormal",
    "Exponential", "Beta"))
_TORCH_DIR = torch.__file__.rsplit("/", 1)[0]


class Admission:
    """Checks values torch hands back before the program sees them (see the module doc).

    ``own`` tells whether a value is the program's own (its classes' instances, its
    functions, its namespaces): those pass as they are."""

    def __init__(self, own: Callable[[Any], bool]) -> None:
        self.own = own

    def admit(self, value: Any, label: str) -> Any:
        kind = type(value)
        if kind in _TENSOR_TYPES:  # the common case first: one tensor
            check_tensor(value, label)
            return value
        if kind in _PLAIN_TYPES:
            return value
        self._walk(value, label)
        return value

    def _walk(self, root: Any, label: str) -> None:
        stack: list[tuple[Any, int]] = [(root, 0)]
        seen = 0
        while stack:
            value, depth = stack.pop()
            seen += 1
            if seen > _MAX_ADMITTED_ITEMS or depth > _MAX_ADMITTED_DEPTH:
                raise LimitError(Message("{label} gave a value too large or too deeply nested to "
                                         "check",
                                         label=label),
                                 hint=Message("Work with smaller containers."))
            kind = type(value)
            if kind in _TENSOR_TYPES or isinstance(value, _UNINITIALISED):
                check_tensor(value, label)
            elif kind in _PLAIN_TYPES or self.own(value):
                continue
            elif isinstance(value, (list, tuple, set, frozenset)):
                stack.extend((item, depth + 1) for item in value)
            elif isinstance(value, dict):
                stack.extend((item, depth + 1) for pair in value.items() for item in pair)
            elif isinstance(value, nn.Module):
                # Its submodules were admitted when they were built or returned.
                for tensor in (*value.parameters(recurse=False),
                               *value.buffers(recurse=False)):
                    if isinstance(value, LazyModuleMixin) and type(tensor) in _UNINITIALISED:
                        continue  # made (and checked) at the layer's first call
                    check_tensor(tensor, label)
            elif isinstance(value, np.ndarray):
                if value.dtype.kind not in "biufc":
                    raise ForbiddenError(Message("{label} gave a numpy array of {dtype}, which is "
                                                 "not available in the playground",
                                                 label=label, dtype=value.dtype))
            elif isinstance(value, _OBJECT_TYPES) or _is_torch_generator(value) \
                    or kind in DISTRIBUTION_TYPES:
                continue
            elif isinstance(value, torch.device):
                check_device(value, label)
            else:
                raise ForbiddenError(Message("{label} gave a {type}, which the playground "
                                             "does not hand to programs",
                                             label=label, type=kind.__name__))


def _is_torch_generator(value: Any) -> bool:
    # model.parameters() and friends: generators of torch's own code, whose frames no
    # program can reach (there is no attribute table for generators).
    return isinstance(value, types.GeneratorType) and \
        value.gi_code.co_filename.startswith(_TORCH_DIR)
