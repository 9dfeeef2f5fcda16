"""What the native kernels behind a few calls assume, made true before they run.

The optimizer kernels (fused, foreach, GradScaler's unscale) walk ``numel`` elements from a
data pointer and trust that parameters, gradients and optimizer state are dense and equally
shaped: a stride-0 parameter, a stride-0 ``.grad`` or a replaced state entry made them read an
earlier request's freed memory and write past their buffers. ``check_optimizer`` runs before
every step; ``.grad`` and ``nn.Parameter`` accept dense tensors only; in-place writes to
tensors whose elements overlap are refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from app.engine.admission import check_tensor
from app.engine.errors import ForbiddenError
from app.message import Message

# Optimizer options that pick a native kernel or keep autograd state through step(): a
# program may not turn them on (at construction, or later through param_groups).
KERNEL_OPTIONS = ("fused", "foreach", "capturable", "differentiable")
# Optimizers whose state tensors are shaped like their parameter (LBFGS keeps flat vectors).
_STATE_SHAPED_LIKE_PARAM_EXEMPT = (torch.optim.LBFGS,)
DENSE_HINT = Message("Make it dense first: .contiguous() (for a transposed or sliced tensor) "
                     "or .clone() (for an expanded one).")


def is_dense(tensor: torch.Tensor) -> bool:
    """True when the elements fill one block of memory without gaps or overlaps (a
    contiguous tensor, or a permutation of one): what a kernel that walks ``numel`` elements
    from the data pointer needs."""
    if tensor.numel() <= 1:
        return True
    expected = 1
    for stride, size in sorted((s, n) for n, s in zip(tensor.shape, tensor.stride(),
                                                      strict=True) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def overlaps_itself(tensor: torch.Tensor) -> bool:
    """True when two elements may share one memory location (expand, unfold): writing to
    such a tensor in place has no single meaning. Conservative: a layout this cannot prove
    free of overlap counts as overlapping."""
    extent = 0
    for stride, size in sorted((s, n) for n, s in zip(tensor.shape, tensor.stride(),
                                                      strict=True) if n > 1):
        if stride <= extent:
            return True
        extent += (size - 1) * stride
    return False


def check_inplace_target(tensor: torch.Tensor, label: str) -> None:
    if overlaps_itself(tensor):
        raise ForbiddenError(
            Message("{label} writes in place to a tensor whose elements share memory (made by "
                    "expand or unfold), so one write would change several elements", label=label),
            hint=Message("Write to a copy: y = x.clone(), then change y."))


def check_dense(tensor: Any, what: str) -> None:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{what} must be a tensor, not {type(tensor).__name__}")
    check_tensor(tensor, what)
    if not is_dense(tensor):
        raise ForbiddenError(Message("{what} must be a dense tensor (no expanded, overlapping or "
                                     "gapped layout), because the optimizer's native kernels walk "
                                     "its memory element by element", what=what), hint=DENSE_HINT)


def check_grad_assignment(tensor: torch.Tensor, value: Any) -> None:
    """``x.grad = value``: torch's setter checks the shape only; a stride-0 gradient then sent
    the optimizer kernels past the end of its one-element buffer."""
    if value is None:
        return
    check_dense(value, "a tensor assigned to .grad")
    if value.shape != tensor.shape or value.dtype != tensor.dtype \
            or value.device != tensor.device:
        raise ForbiddenError(
            Message("a gradient must match its tensor: shape {shape}, dtype {dtype}, device "
                    "{device}; got shape {got_shape}, dtype {got_dtype}, device {got_device}",
                    shape=list(tensor.shape), dtype=str(tensor.dtype).replace('torch.', ''),
                    device=tensor.device, got_shape=list(value.shape),
                    got_dtype=str(value.dtype).replace('torch.', ''), got_device=value.device),
            hint=Message("Build it with torch.zeros_like(x)."))


def check_data_assignment(tensor: torch.Tensor, value: Any) -> None:
    """``x.data = value``: torch lets it change the shape, dtype and layout under the tensor
    (and under an optimizer's state shaped like it, the native-overflow class of
    docs/SECURITY.md); here it may only swap in dense data of the same kind."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"a tensor's .data must be a tensor, not {type(value).__name__}")
    check_dense(value, "a tensor assigned to .data")
    if value.shape != tensor.shape or value.dtype != tensor.dtype \
            or value.device != tensor.device:
        raise ForbiddenError(
            Message("x.data = y keeps x's shape {shape}, dtype {dtype} and device {device}; got "
                    "shape {got_shape}, dtype {got_dtype}, device {got_device}",
                    shape=list(tensor.shape), dtype=str(tensor.dtype).replace('torch.', ''),
                    device=tensor.device, got_shape=list(value.shape),
                    got_dtype=str(value.dtype).replace('torch.', ''), got_device=value.device),
            hint=Message("Change the values in place instead (x.data.copy_(y), or x.data += y), "
                         "or make a new tensor."))


def check_parameters(params: Iterable[Any], what: str) -> None:
    for param in params:
        check_dense(param, what)
        grad = param.grad
        if grad is not None:
            check_dense(grad, f"the .grad of {what}")
            if grad.shape != param.shape or grad.dtype != param.dtype \
                    or grad.device != param.device:
                raise ForbiddenError(Message("the .grad of {what} no longer matches it (shape "
                                             "{shape} for {expected})",
                                             what=what, shape=list(grad.shape),
                                             expected=list(param.shape)),
                                     hint=Message("Set gradients with torch.zeros_like(p)."))


def check_optimizer(optimizer: torch.optim.Optimizer) -> None:
    """Everything the optimizer's kernels will trust, checked right before they run."""
    name = type(optimizer).__name__
    for index, group in enumerate(optimizer.param_groups):
        for option in KERNEL_OPTIONS:
            if group.get(option) not in (None, False):
                raise ForbiddenError(
                    Message("{name}: param_groups[{index}]['{option}'] = {value!r} is not "
                            "available in the playground (it selects a native kernel that trusts "
                            "memory layout)",
                            name=name, index=index, option=option, value=group[option]),
                    hint=Message("Leave '{option}' unset: the default update gives the same "
                                 "numbers.", option=option))
        check_parameters(group["params"], f"a parameter of {name}")
    shaped = not isinstance(optimizer, _STATE_SHAPED_LIKE_PARAM_EXEMPT)
    for param, state in optimizer.state.items():
        if not isinstance(state, dict):
            continue
        for key, value in state.items():
            if not isinstance(value, torch.Tensor):
                continue
            check_dense(value, f"{name}'s state '{key}'")
            if shaped and value.dim() > 0 and isinstance(param, torch.Tensor) \
                    and value.shape != param.shape:
                raise ForbiddenError(Message("{name}'s state '{key}' has shape {shape} but its "
                                             "parameter has {expected}",
                                             name=name, key=key, shape=list(value.shape),
                                             expected=list(param.shape)),
                                     hint=Message("Leave the optimizer's state to the optimizer."))


def read_only_state(optimizer: torch.optim.Optimizer) -> dict[Any, dict[str, Any]]:
    """``optimizer.state`` as a program sees it: a copy. Replacing an entry of the real one
    (``opt.state[p]['exp_avg'] = torch.zeros(1)``) fed a one-element buffer to a kernel that
    walks the parameter's size."""
    return {param: dict(state) for param, state in optimizer.state.items()}


# What an optimizer's saved state may hold: torch deep-copies it on load, so no program
# object (a function, a class instance) may ride along, only data.
_STATE_VALUE_TYPES = (bool, int, float, str, type(None))
_MAX_STATE_ITEMS = 1_000_000


def check_optimizer_state_dict(optimizer: torch.optim.Optimizer, saved: Any) -> int:
    """``optimizer.load_state_dict(saved)``: what step() will trust, checked before torch
    copies it in (each saved state tensor becomes the state of the parameter at the same
    position). Returns the bytes the load copies (torch deep-copies, then casts)."""
    name = type(optimizer).__name__
    if not isinstance(saved, dict) or not isinstance(saved.get("state"), dict) \
            or not isinstance(saved.get("param_groups"), list):
        raise TypeError(f"{name}.load_state_dict takes what {name}.state_dict() returned (a "
                        "dict with 'state' and 'param_groups')")
    copied = _check_plain_data(saved, f"{name}.load_state_dict")
    saved_groups = saved["param_groups"]
    if not all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in saved_groups):
        raise TypeError(f"{name}.load_state_dict: each of 'param_groups' needs a 'params' list")
    for index, group in enumerate(saved_groups):
        for option in KERNEL_OPTIONS:
            if group.get(option) not in (None, False):
                raise ForbiddenError(
                    Message("{name}.load_state_dict: param_groups[{index}]['{option}'] = "
                            "{value!r} is not available in the playground (it selects a native "
                            "kernel that trusts memory layout)",
                            name=name, index=index, option=option, value=group[option]),
                    hint=Message("Save the state of an optimizer built without '{option}'.",
                                 option=option))
    current = [g["params"] for g in optimizer.param_groups]
    if len(current) != len(saved_groups) or any(
            len(a) != len(b["params"]) for a, b in zip(current, saved_groups, strict=True)):
        return copied  # torch refuses it before changing anything
    by_id = dict(zip((i for g in saved_groups for i in g["params"]),
                     (p for g in current for p in g), strict=True))
    shaped = not isinstance(optimizer, _STATE_SHAPED_LIKE_PARAM_EXEMPT)
    for key, state in saved["state"].items():
        param = by_id.get(key)
        if not isinstance(state, dict) or param is None:
            continue  # torch keeps it under its own key, where step() never looks
        for entry, value in state.items():
            if not isinstance(value, torch.Tensor):
                continue
            check_dense(value, f"{name}'s saved state '{entry}'")
            if shaped and value.dim() > 0 and value.shape != param.shape:
                raise ForbiddenError(
                    Message("{name}.load_state_dict: the saved state '{entry}' has shape {shape} "
                            "but its parameter has {expected}",
                            name=name, entry=entry, shape=list(value.shape),
                            expected=list(param.shape)),
                    hint=Message("Load a state_dict() saved from an optimizer over the same "
                                 "parameters, in the same order."))
    return copied


def _check_plain_data(root: Any, label: str) -> int:
    """Numbers, text, tensors and containers of them only; the bytes of the tensors."""
    stack = [root]
    seen = 0
    total = 0
    while stack:
        value = stack.pop()
        seen += 1
        if seen > _MAX_STATE_ITEMS:
            raise ForbiddenError(Message("{label}: the state holds more than {limit:,} "
                                         "items",
                                         label=label, limit=_MAX_STATE_ITEMS),
                                 hint=Message("Load what state_dict() returned."))
        if isinstance(value, torch.Tensor):
            check_tensor(value, label)
            total += value.numel() * value.element_size()
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif type(value) in (list, tuple):
            stack.extend(value)
        elif type(value) not in _STATE_VALUE_TYPES:
            raise ForbiddenError(Message("{label}: a saved state may hold numbers, text, tensors "
                                         "and lists or dicts of them, not {type}",
                                         label=label, type=type(value).__name__),
                                 hint=Message("Load what state_dict() returned."))
    return total
