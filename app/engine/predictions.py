"""A cache of the budget's predictions, so a loop pays for each distinct call's dry run once.

A prediction (Budget.predict) runs the call on meta tensors and reads only the layout of the
tensors it is given (size, stride, dtype), the other arguments' values, the callable, and the
default dtype. ``call_key`` turns exactly that into a hashable key, or None when the call holds
anything else (numpy arrays, user objects, callables, long lists): such calls are predicted
afresh every time. The default device is not part of a key: the bytes a call allocates do
not depend on it, and a call that fails on its device fails for real as well.

The cache stores the prediction (bytes, FLOPs), never a verdict: the checks against the limits
and against the memory the program holds right now run at every call, so a hit can never admit
what a fresh prediction would refuse.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

# A key holds at most this many leaves (numbers, strings, tensors, module and parameter
# names...): building a key for a long list costs about what the dry run does, and a key
# holds no bulk data. Security: the cache outlives a program, so an entry's size is bounded
# whatever the program passes (64 leaves of at most 8 dimensions or 64 characters: a few
# kB at worst, ~1 kB for a typical call); a longer name or a deeper tensor is never cached.
_MAX_LEAVES = 64
_MAX_TEXT = 64
_MAX_DIMS = 8
_MAX_INT = 2**63
_PLAIN_TYPES = (bool, str, type(None), type(Ellipsis), torch.dtype, torch.device,
                torch.layout, torch.memory_format)
# Module attributes that are hook tables: a module with any hook is never cached (a hook
# could change what the module returns).
_HOOK_TABLES = frozenset({
    "_backward_pre_hooks", "_backward_hooks", "_forward_hooks", "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
    "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
    "_load_state_dict_post_hooks",
})


class _Uncacheable(Exception):
    pass


@dataclass(frozen=True)
class Prediction:
    """What a dry run found: the bytes the result newly allocates (with its shape for the
    message) and the FLOPs, when the rule counts them."""

    new_bytes: int
    shape_note: str
    counted_flops: int | None  # FlopCounterMode's count
    contraction_flops: int | None  # 2 * outputs * contracted dimension


class PredictionCache:
    """Bounded LRU of predictions by call key, shared by the programs of one worker (keys hold
    layouts and small plain values only: never a tensor's data, nor a reference to a
    program's object)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Prediction] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Prediction | None:
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return found

    def put(self, key: Hashable, prediction: Prediction) -> None:
        if self.max_entries <= 0:
            return
        self._entries[key] = prediction
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def call_key(callee: Hashable, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable | None:
    """Everything a dry run of ``callee(*args, **kwargs)`` reads, or None if that cannot be
    captured cheaply and exactly."""
    leaves = [0]
    try:
        return (callee, torch.get_default_dtype(), _value_key(args, leaves),
                _value_key(kwargs, leaves))
    except _Uncacheable:
        return None


def module_key(module: nn.Module) -> Hashable | None:
    """A module's structure as its forward pass on meta tensors reads it: every submodule's
    type, flags, settings and parameter/buffer layouts. None if it holds anything else."""
    leaves = [0]
    parts: list[Any] = []
    try:
        for name, sub in module.named_modules(remove_duplicate=False):
            parts.append((_value_key(name, leaves), type(sub)))
            for attribute, value in vars(sub).items():
                if attribute in _HOOK_TABLES:
                    if value:
                        raise _Uncacheable
                elif attribute in ("_parameters", "_buffers"):
                    parts.append((attribute, tuple((_value_key(n, leaves),
                                                    _value_key(t, leaves))
                                                   for n, t in value.items())))
                elif attribute == "_modules":
                    if len(value) > _MAX_LEAVES:
                        raise _Uncacheable
                    parts.append((attribute, tuple((n, type(m)) for n, m in value.items())))
                elif attribute == "_non_persistent_buffers_set":
                    continue  # which buffers a state_dict leaves out: not read by forward
                else:
                    parts.append((attribute, _value_key(value, leaves)))
    except _Uncacheable:
        return None
    return ("module", torch.get_default_dtype(), tuple(parts))


def _value_key(value: Any, leaves: list[int]) -> Hashable:
    leaves[0] += 1
    if leaves[0] > _MAX_LEAVES:
        raise _Uncacheable
    kind = type(value)
    if isinstance(value, torch.Tensor):
        # What to_meta copies to the meta tensor; anything else is refused.
        if value.layout != torch.strided or value.is_meta or value.is_nested \
                or value.dim() > _MAX_DIMS:
            raise _Uncacheable
        return ("tensor", tuple(value.shape), value.stride(), value.dtype)
    if kind is int:
        if not -_MAX_INT < value < _MAX_INT:
            raise _Uncacheable
        return (int, value)
    if kind is float:
        if value != value:  # NaN is never equal to itself: no hit, no entry
            raise _Uncacheable
        # -0.0 == 0.0 with the same hash; its sign is kept apart all the same.
        return (float, value, str(value) if value == 0.0 else None)
    if kind is str:
        if len(value) > _MAX_TEXT:
            raise _Uncacheable
        return (str, value)
    if kind in _PLAIN_TYPES:
        return (kind, value)
    if kind in (list, tuple, torch.Size):
        return (kind, tuple(_value_key(item, leaves) for item in value))
    if kind is dict:
        return (dict, tuple((_value_key(k, leaves), _value_key(v, leaves))
                            for k, v in value.items()))
    if kind is slice:
        return (slice, _value_key(value.start, leaves), _value_key(value.stop, leaves),
                _value_key(value.step, leaves))
    raise _Uncacheable
