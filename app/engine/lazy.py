"""Lazy layers (nn.LazyLinear, nn.LazyConv2d ...): their parameters are made at the first call.

Until then they are ``UninitializedParameter``/``UninitializedBuffer`` objects without data;
torch's own forward pre-hook materialises them from the first input's shape. That allocation
is the program's memory like any other, so it is sized first: the module is copied onto the
meta device (its existing tensors as meta tensors, its uninitialised ones as uninitialised
meta ones) and the copy is called on meta inputs; the copy's materialised tensors and its
output are what the real call will allocate. ``LazyLinear(10**6)`` on a 10**6-feature input is
refused before any memory is taken.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter

UNINITIALISED_TYPES: tuple[type, ...] = (UninitializedParameter, UninitializedBuffer)
NOT_YET_HINT = ("A Lazy layer makes its parameters at its first call: call the model on an "
                "input first (net(X)), then read them.")


def is_uninitialised(value: Any) -> bool:
    return isinstance(value, UNINITIALISED_TYPES)


def is_lazy(module: Any) -> bool:
    return isinstance(module, LazyModuleMixin)


def has_uninitialised(module: nn.Module) -> bool:
    """True when a call of ``module`` may materialise tensors (anywhere in its tree)."""
    return any(is_uninitialised(t) for t in (*module.parameters(), *module.buffers()))


def _meta_stand_in(tensor: torch.Tensor) -> torch.Tensor:
    from app.engine.budget import to_meta  # budget -> policy -> guards -> this module

    if isinstance(tensor, UninitializedParameter):
        return UninitializedParameter(  # type: ignore[call-arg]
            tensor.requires_grad, device="meta", dtype=tensor.dtype)  # type: ignore[arg-type]
    if isinstance(tensor, UninitializedBuffer):
        return UninitializedBuffer(  # type: ignore[call-arg]
            False, device="meta", dtype=tensor.dtype)  # type: ignore[arg-type]
    meta = to_meta(tensor)
    return nn.Parameter(meta, requires_grad=False) if isinstance(tensor, nn.Parameter) else meta


def forward_on_meta(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
                    ) -> tuple[Any, list[torch.Tensor]]:
    """The output of ``module(*args, **kwargs)`` and the tensors its lazy layers would
    materialise, all on the meta device (no data). The real module is not touched."""
    memo: dict[int, Any] = {}
    stand_ins: list[torch.Tensor] = []
    for tensor in (*module.parameters(), *module.buffers()):
        if id(tensor) in memo:
            continue
        stand_in = _meta_stand_in(tensor)
        memo[id(tensor)] = stand_in
        if is_uninitialised(tensor):
            stand_ins.append(stand_in)
    from app.engine.budget import to_meta

    twin = copy.deepcopy(module, memo)  # the layers' settings; tensors are the stand-ins
    with torch.no_grad():
        output = twin(*to_meta(args), **to_meta(kwargs))
    # materialize() turns each stand-in into a meta Parameter/buffer of its real shape.
    return output, [t for t in stand_ins if not is_uninitialised(t)]
