"""What native kernels and the program may assume about the values that cross between them.

Two gates, both deny by default:

- ``Admission`` checks every value torch hands back to a program (call results, attributes
  it reads), containers included: only the types a program may hold get through, tensors only
  on the CPU or a CUDA device, dense (strided) and not quantized. A meta tensor (no data, so a
  CPU kernel given one returned whatever the heap held) or a scheduler's state_dict holding
  the interpreter never reaches a program.
- The *kernel preconditions* make true what a native kernel assumes before it runs. The
  optimizer kernels (fused, foreach, GradScaler's unscale) walk ``numel`` elements from a data
  pointer and trust that parameters, gradients and optimizer state are dense and equally
  shaped: a stride-0 parameter or a swapped state entry made them read and write past their
  buffers. ``check_optimizer`` runs before every step; ``.grad`` and ``nn.Parameter`` accept
  dense tensors only.

This module knows torch and the program's budget; it never imports the interpreter.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn
from torch.utils import data as tud

from app.config import Settings
from app.engine.errors import ForbiddenError, LimitError

ALLOWED_DEVICE_TYPES = frozenset({"cpu", "cuda"})
_TENSOR_TYPES = (torch.Tensor, nn.Parameter)
# Optimizer options that pick a native kernel or keep autograd state through step(): a
# program may not turn them on (at construction, or later through param_groups).
KERNEL_OPTIONS = ("fused", "foreach", "capturable", "differentiable")
# Optimizers whose state tensors are shaped like their parameter (LBFGS keeps flat vectors).
_STATE_SHAPED_LIKE_PARAM_EXEMPT = (torch.optim.LBFGS,)
DENSE_HINT = ("Make it dense first: .contiguous() (for a transposed or sliced tensor) or "
              ".clone() (for an expanded one).")
_MAX_ADMITTED_ITEMS = 2_000_000
_MAX_ADMITTED_DEPTH = 64


class GuardContext(Protocol):
    """What a guard needs from the interpreter: the budget, the settings, the current line."""

    settings: Settings
    line: int | None

    @property
    def budget(self) -> Any: ...


# ============================================================================== layout facts
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


def check_tensor(tensor: torch.Tensor, label: str) -> None:
    """A tensor a program may hold: CPU or CUDA, strided, not quantized, no subclass."""
    if type(tensor) not in _TENSOR_TYPES:
        raise ForbiddenError(f"{label} gave a {type(tensor).__name__}, which the playground "
                             "does not hand to programs")
    if not (tensor.is_cpu or tensor.is_cuda):
        raise ForbiddenError(
            f"{label} gave a tensor on the '{tensor.device.type}' device; programs use 'cpu' "
            "or 'cuda' only", hint="Create tensors with device='cpu' or device='cuda'.")
    if tensor.layout is not torch.strided or tensor.is_quantized:
        raise ForbiddenError(f"{label} gave a {tensor.layout} tensor; sparse and quantized "
                             "tensors are not available in the playground",
                             hint="Use ordinary (dense) tensors.")


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
        raise ForbiddenError(f"{label}: the device '{kind}' is not available in the "
                             "playground; use 'cpu' or 'cuda'",
                             hint="device='cpu' runs everywhere; device='cuda' uses the GPU "
                             "when the server has one.")


def check_inplace_target(tensor: torch.Tensor, label: str) -> None:
    if overlaps_itself(tensor):
        raise ForbiddenError(
            f"{label} writes in place to a tensor whose elements share memory (made by expand "
            "or unfold), so one write would change several elements",
            hint="Write to a copy: y = x.clone(), then change y.")


def check_dense(tensor: Any, what: str) -> None:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{what} must be a tensor, not {type(tensor).__name__}")
    check_tensor(tensor, what)
    if not is_dense(tensor):
        raise ForbiddenError(f"{what} must be a dense tensor (no expanded, overlapping or "
                             "gapped layout), because the optimizer's native kernels walk its "
                             "memory element by element", hint=DENSE_HINT)


# ============================================================================ kernel checks
def check_grad_assignment(tensor: torch.Tensor, value: Any) -> None:
    """``x.grad = value``: torch's setter checks the shape only; a stride-0 gradient then sent
    the optimizer kernels past the end of its one-element buffer."""
    if value is None:
        return
    check_dense(value, "a tensor assigned to .grad")
    if value.shape != tensor.shape or value.dtype != tensor.dtype \
            or value.device != tensor.device:
        raise ForbiddenError(
            f"a gradient must match its tensor: shape {list(tensor.shape)}, dtype "
            f"{str(tensor.dtype).replace('torch.', '')}, device {tensor.device}; got shape "
            f"{list(value.shape)}, dtype {str(value.dtype).replace('torch.', '')}, device "
            f"{value.device}", hint="Build it with torch.zeros_like(x).")


def check_parameters(params: Iterable[Any], what: str) -> None:
    for param in params:
        check_dense(param, what)
        grad = param.grad
        if grad is not None:
            check_dense(grad, f"the .grad of {what}")
            if grad.shape != param.shape or grad.dtype != param.dtype \
                    or grad.device != param.device:
                raise ForbiddenError(f"the .grad of {what} no longer matches it (shape "
                                     f"{list(grad.shape)} for {list(param.shape)})",
                                     hint="Set gradients with torch.zeros_like(p).")


def check_optimizer(optimizer: torch.optim.Optimizer) -> None:
    """Everything the optimizer's kernels will trust, checked right before they run."""
    name = type(optimizer).__name__
    for index, group in enumerate(optimizer.param_groups):
        for option in KERNEL_OPTIONS:
            if group.get(option) not in (None, False):
                raise ForbiddenError(
                    f"{name}: param_groups[{index}]['{option}'] = {group[option]!r} is not "
                    "available in the playground (it selects a native kernel that trusts "
                    "memory layout)", hint=f"Leave '{option}' unset: the default update "
                    "gives the same numbers.")
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
                raise ForbiddenError(f"{name}'s state '{key}' has shape {list(value.shape)} "
                                     f"but its parameter has {list(param.shape)}",
                                     hint="Leave the optimizer's state to the optimizer.")


def read_only_state(optimizer: torch.optim.Optimizer) -> dict[Any, dict[str, Any]]:
    """``optimizer.state`` as a program sees it: a copy. Replacing an entry of the real one
    (``opt.state[p]['exp_avg'] = torch.zeros(1)``) fed a one-element buffer to a kernel that
    walks the parameter's size."""
    return {param: dict(state) for param, state in optimizer.state.items()}


# ================================================================================ admission
_PLAIN_TYPES: frozenset[type] = frozenset({
    type(None), bool, int, float, complex, str, slice, range, type(Ellipsis), torch.Size,
    torch.dtype, torch.layout, torch.memory_format, torch.finfo, torch.iinfo,
    torch.Generator, type({}.keys()), type({}.values()), type({}.items()),
})
_OBJECT_TYPES: tuple[type, ...] = tuple(t for t in (
    torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler,
    torch.optim.lr_scheduler.ReduceLROnPlateau, torch.amp.GradScaler, tud.DataLoader,
    tud.Dataset, tud.Sampler, torch.autograd.graph.Node, np.generic, np.dtype,
    torch.no_grad, torch.enable_grad, torch.inference_mode, torch.set_grad_enabled,
    torch.autocast, getattr(torch.cuda, "_CudaDeviceProperties", None),
) if isinstance(t, type))
_TORCH_DIR = torch.__file__.rsplit("/", 1)[0]


class Admission:
    """Checks values torch hands back before the program sees them (see the module doc).

    ``own`` tells whether a value is the program's own (its classes' instances, its
    functions, its namespaces): those pass as they are."""

    def __init__(self, own: Any) -> None:
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
                raise LimitError(f"{label} gave a value too large or too deeply nested to "
                                 "check", hint="Work with smaller containers.")
            kind = type(value)
            if kind in _TENSOR_TYPES:
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
                    check_tensor(tensor, label)
            elif isinstance(value, np.ndarray):
                if value.dtype.kind not in "biufc":
                    raise ForbiddenError(f"{label} gave a numpy array of {value.dtype}, which "
                                         "is not available in the playground")
            elif isinstance(value, _OBJECT_TYPES) or _is_torch_generator(value):
                continue
            elif isinstance(value, torch.device):
                check_device(value, label)
            else:
                raise ForbiddenError(f"{label} gave a {kind.__name__}, which the playground "
                                     "does not hand to programs")


def _is_torch_generator(value: Any) -> bool:
    # model.parameters() and friends: generators of torch's own code, whose frames no
    # program can reach (there is no attribute table for generators).
    return isinstance(value, types.GeneratorType) and \
        value.gi_code.co_filename.startswith(_TORCH_DIR)


# ============================================================================ sizes of calls
def check_count(count: int, label: str, settings: Settings) -> None:
    """Calls that return one tensor per item (unbind, split, chunk): each tensor object
    costs hundreds of bytes that no tensor budget sees."""
    limit = settings.max_objects_per_call
    if count > limit:
        raise LimitError(f"{label} would make {count:,} separate objects; the limit is "
                         f"{limit:,} per call (setting max_objects_per_call)",
                         hint="Index the part you need instead (x[0], x[:10]).",
                         predicted=True)


def split_count(tensor: torch.Tensor, name: str, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> int:
    """How many tensors unbind/split/chunk/tensor_split would return (an upper bound)."""
    dim = kwargs.get("dim", args[1] if len(args) > 1 and name != "unbind" else 0)
    if name == "unbind":
        dim = kwargs.get("dim", args[0] if args else 0)
    try:
        length = tensor.shape[dim]
    except (IndexError, TypeError):
        return 0  # torch reports the bad dim
    first = kwargs.get("split_size_or_sections", kwargs.get("chunks", kwargs.get(
        "sections", kwargs.get("indices", args[0] if args and name != "unbind" else None))))
    if name == "unbind":
        return length
    if isinstance(first, (list, tuple)):
        return len(first) + (1 if name == "tensor_split" else 0)
    if isinstance(first, int) and not isinstance(first, bool) and first > 0:
        if name == "split":
            return -(-length // first)
        return first
    return length


# ================================================================= per-callable guards (policy)
@dataclass
class Prepared:
    """A call as it will run: its (possibly normalised) arguments, and what to do with the
    result afterwards (count new memory, for instance)."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    after: Callable[[Any], None] | None = None


Guard = Callable[[Any, Any, tuple[Any, ...], dict[str, Any]], Prepared]


def _bind(function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Every argument by name, so a guard reads positional and keyword forms alike
    (``DataLoader(ds, 4, True, None, None, 4)`` names num_workers positionally)."""
    try:
        bound = inspect.signature(function).bind(*args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{getattr(function, '__name__', 'this call')}(): {error}") from None
    except ValueError:  # no signature (a builtin): nothing to normalise
        return {}
    return dict(bound.arguments)


def guard_parameter(ctx: Any, function: Any, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Prepared:
    data = args[0] if args else kwargs.get("data")
    if data is not None:
        check_dense(data, "the data of nn.Parameter")
    return Prepared(args, kwargs)


# Tensors of state an optimizer keeps per parameter, each as large as the parameter (0-d
# step counters aside), as torch 2.x makes them on the first step.
_STATE_COPIES = {"Adagrad": 1, "Adadelta": 2, "Adamax": 2, "NAdam": 2, "RAdam": 2, "ASGD": 1,
                 "Rprop": 2}


def _state_copies(optimizer: torch.optim.Optimizer, group: dict[str, Any]) -> int:
    name = type(optimizer).__name__
    if isinstance(optimizer, torch.optim.LBFGS):  # history_size pairs of flat vectors
        return 2 * int(group.get("history_size", 100)) + 4
    if name == "SGD":
        return 1 if group.get("momentum") else 0
    if name in ("Adam", "AdamW"):
        return 3 if group.get("amsgrad") else 2
    if name == "RMSprop":
        return 1 + bool(group.get("momentum")) + bool(group.get("centered"))
    return _STATE_COPIES.get(name, 3)


def _listed(params: Any) -> Any:
    if params is None or isinstance(params, torch.Tensor):
        return params
    return list(params)


def guard_optimizer_new(ctx: Any, cls: Any, args: tuple[Any, ...],
                        kwargs: dict[str, Any]) -> Prepared:
    """Adagrad makes its state (one tensor per parameter) when it is built."""
    named = _bind(cls, args, kwargs)
    params = named.get("params")
    listed = [params] if isinstance(params, torch.Tensor) else list(params or ())
    # Groups' parameters read once (model.parameters() is a generator), for torch as well.
    listed = [{**item, "params": _listed(item.get("params"))} if isinstance(item, dict)
              else item for item in listed]
    named["params"] = listed
    tensors = [t for item in listed
               for t in (item["params"] if isinstance(item, dict) else (item,))
               if isinstance(t, torch.Tensor)]
    if cls is torch.optim.Adagrad:
        ctx.budget.check_bytes("Adagrad (its state)",
                               sum(t.numel() * t.element_size() for t in tensors))

    def after(optimizer: Any) -> None:
        ctx.budget.live.track([t for state in optimizer.state.values()
                               for t in state.values() if isinstance(t, torch.Tensor)])

    return Prepared((), named, after)


def guard_optimizer_step(ctx: Any, optimizer: Any, args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> Prepared:
    """Checks what the kernels will trust; predicts the state the first step makes (Adam
    keeps two tensors as large as each parameter, made in torch's own code) and counts it."""
    check_optimizer(optimizer)
    fresh: list[torch.Tensor] = []
    new = 0
    for group in optimizer.param_groups:
        if isinstance(optimizer, torch.optim.LBFGS):
            # Gradients come from the closure inside step(); one state for all parameters
            # (kept under the first), made by the first step.
            params = [] if optimizer.state else [p for p in group["params"]
                                                 if isinstance(p, torch.Tensor)]
        else:
            params = [p for p in group["params"] if isinstance(p, torch.Tensor)
                      and p.grad is not None and not optimizer.state.get(p)]
        fresh.extend(params)
        new += _state_copies(optimizer, group) * sum(p.numel() * p.element_size()
                                                     for p in params)
    if not fresh:
        return Prepared(args, kwargs)
    ctx.budget.check_bytes(f"{type(optimizer).__name__}.step (its state)", new)

    def after(result: Any) -> None:
        ctx.budget.live.track([t for p in fresh for t in optimizer.state.get(p, {}).values()
                               if isinstance(t, torch.Tensor)])

    return Prepared(args, kwargs, after)


def guard_scaler_optimizer(ctx: Any, scaler: Any, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> Prepared:
    optimizer = args[0] if args else kwargs.get("optimizer")
    if isinstance(optimizer, torch.optim.Optimizer):
        check_optimizer(optimizer)
    return Prepared(args, kwargs)


def guard_clip_grads(ctx: Any, function: Any, args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> Prepared:
    """clip_grad_norm_/clip_grad_value_ hand the gradients to foreach kernels on a GPU."""
    named = _bind(function, args, kwargs)
    params = named.get("parameters")
    listed = [params] if isinstance(params, torch.Tensor) else list(params or ())
    for param in listed:
        if param.grad is not None:
            check_dense(param.grad, "a gradient to clip")
            if param.grad.shape != param.shape:
                raise ForbiddenError("a gradient to clip no longer matches its parameter's "
                                     "shape", hint="Set gradients with torch.zeros_like(p).")
    named["parameters"] = listed  # a generator would be used up by the check
    return Prepared((), named)


def guard_vector_to_parameters(ctx: Any, function: Any, args: tuple[Any, ...],
                               kwargs: dict[str, Any]) -> Prepared:
    """The parameters become views of the vector: it must be dense like any parameter."""
    named = _bind(function, args, kwargs)
    check_dense(named.get("vec"), "the vector given to vector_to_parameters")
    named["parameters"] = list(named.get("parameters") or ())
    return Prepared((), named)


def split_guard(name: str) -> Guard:
    """unbind/split/chunk/tensor_split, as a function (tensor first) or a method."""

    def guard(ctx: Any, target: Any, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Prepared:
        tensor, rest = (target, args) if isinstance(target, torch.Tensor) else (
            args[0] if args else kwargs.get("input", kwargs.get("tensor")), args[1:])
        if isinstance(tensor, torch.Tensor):
            check_count(split_count(tensor, name, rest, kwargs), name, ctx.settings)
        return Prepared(args, kwargs)

    return guard


def guard_tolist(ctx: Any, target: Any, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Prepared:
    """tolist() makes one Python object per element, outside every tensor budget."""
    size = target.numel() if isinstance(target, torch.Tensor) else int(np.size(target))
    limit = ctx.settings.max_sequence_items
    if size > limit:
        raise LimitError(f"tolist() of {size:,} elements would make that many Python "
                         f"objects; the limit is {limit:,} (setting max_sequence_items)",
                         hint="Convert a slice (x[:10].tolist()), or keep it a tensor.",
                         predicted=True)
    return Prepared(args, kwargs)


def guard_load_state_dict(ctx: Any, module: Any, args: tuple[Any, ...],
                          kwargs: dict[str, Any]) -> Prepared:
    """assign=True makes the given tensors the module's parameters as they are (any layout,
    any device); the copying form checks and copies into the existing ones."""
    if len(args) > 2 or kwargs.get("assign"):
        raise ForbiddenError("load_state_dict(..., assign=True) is not available in the "
                             "playground", hint="Call load_state_dict(state_dict): it copies "
                             "the values into the module's own parameters.")
    return Prepared(args, kwargs)


_LEGACY_TYPE_NAMES = frozenset(
    f"torch.{prefix}{kind}Tensor" for prefix in ("", "cuda.")
    for kind in ("Byte", "Char", "Short", "Int", "Long", "Float", "Double", "Half", "Bool",
                 "BFloat16"))


def guard_tensor_type(ctx: Any, tensor: Any, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Prepared:
    """x.type('torch.sparse.FloatTensor') converts the layout; only dense types are named."""
    wanted = args[0] if args else kwargs.get("dtype")
    if isinstance(wanted, str) and wanted not in _LEGACY_TYPE_NAMES:
        raise ForbiddenError(f"x.type({wanted!r}) is not available in the playground",
                             hint="Use a dtype: x.type(torch.float64), or x.double().")
    return Prepared(args, kwargs)


def _graph_leaves(roots: Iterable[Any], limit: int) -> list[torch.Tensor]:
    """Leaves that a backward pass from ``roots`` would give a gradient."""
    leaves: list[torch.Tensor] = []
    pending = [t.grad_fn for t in roots if isinstance(t, torch.Tensor) and t.grad_fn]
    seen: set[int] = set()
    while pending:
        node = pending.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if len(seen) > limit:
            raise LimitError(f"the autograd graph has more than {limit:,} nodes (setting "
                             "max_steps)", hint="Call backward() on a smaller computation.",
                             predicted=True)
        variable = getattr(node, "variable", None)
        if isinstance(variable, torch.Tensor):
            leaves.append(variable)
        pending.extend(next_node for next_node, _ in node.next_functions)
    return leaves


def _track_grads(ctx: Any, leaves: list[torch.Tensor]) -> Callable[[Any], None]:
    def after(result: Any) -> None:
        ctx.budget.live.track([leaf.grad for leaf in leaves if leaf.grad is not None])
    return after


def guard_backward(ctx: Any, target: Any, args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Prepared:
    """backward() gives every leaf of the graph a .grad as large as the leaf: memory no
    other call asked for. Predicted (and refused) before, counted after."""
    if isinstance(target, torch.Tensor):
        roots: list[Any] = [target]
    else:
        named = _bind(target, args, kwargs)
        tensors = named.get("tensors")
        roots = [tensors] if isinstance(tensors, torch.Tensor) else list(tensors or ())
    leaves = [leaf for leaf in _graph_leaves(roots, ctx.settings.max_steps)
              if leaf.grad is None]
    new = sum(leaf.numel() * leaf.element_size() for leaf in leaves)
    ctx.budget.check_bytes("backward()", new)
    return Prepared(args, kwargs, _track_grads(ctx, leaves))


def guard_autograd_grad(ctx: Any, function: Any, args: tuple[Any, ...],
                        kwargs: dict[str, Any]) -> Prepared:
    """torch.autograd.grad returns one gradient per input, each as large as the input."""
    named = _bind(function, args, kwargs)
    inputs = named.get("inputs")
    listed = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs or ())
    ctx.budget.check_bytes("torch.autograd.grad", sum(
        t.numel() * t.element_size() for t in listed if isinstance(t, torch.Tensor)))
    return Prepared(args, kwargs, lambda result: ctx.budget.live.track(result))


def _dataset_length(dataset: Any, label: str, settings: Settings) -> int:
    try:
        length = len(dataset)
    except TypeError:
        return 0  # an iterable data set: drawn item by item, each a step
    if length > settings.max_sequence_items:
        raise LimitError(f"{label}: the data set reports {length:,} items; at most "
                         f"{settings.max_sequence_items:,} can be sampled (setting "
                         "max_sequence_items)", hint="An expanded tensor reports the length "
                         "it was expanded to; build the data set from the rows you need.",
                         predicted=True)
    return length


def _batch_bytes(batch: Any, depth: int = 0) -> int:
    if isinstance(batch, torch.Tensor):
        return batch.numel() * batch.element_size()
    if isinstance(batch, np.ndarray):
        return int(batch.nbytes)
    if depth < 4 and isinstance(batch, (list, tuple)):
        return sum(_batch_bytes(item, depth + 1) for item in batch)
    if depth < 4 and isinstance(batch, dict):
        return sum(_batch_bytes(item, depth + 1) for item in batch.values())
    return 0


def budgeted_collate(ctx: Any) -> Callable[[Any], Any]:
    """torch's default_collate, with the batch it builds predicted and counted: it stacks
    the items into new tensors in torch's own Python code, which no call of the program's
    covers (a DataLoader collated a 1 GB batch past every limit)."""

    def collate(batch: Any) -> Any:
        ctx.budget.check_bytes("the DataLoader's batch", _batch_bytes(batch))
        result = tud.default_collate(batch)
        ctx.budget.live.track(result)
        return result

    collate.playground_builtin = True  # type: ignore[attr-defined]
    return collate


def guard_dataloader(ctx: Any, function: Any, args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> Prepared:
    named = _bind(function, args, kwargs)
    settings: Settings = ctx.settings
    dataset = named.get("dataset")
    if named.get("shuffle") or named.get("sampler") is None:
        _dataset_length(dataset, "DataLoader", settings)
    batch_size = named.get("batch_size", 1)
    _check_batch_size(batch_size, "DataLoader", settings)
    sampler = named.get("sampler")
    if isinstance(sampler, (list, tuple)):  # indices given as a list
        check_item_indices(sampler, "DataLoader's sampler")
    batches = named.get("batch_sampler")
    if isinstance(batches, (list, tuple)):  # batches given as lists of indices
        for batch in batches:
            if not isinstance(batch, (list, tuple)):
                raise TypeError("each batch of a batch_sampler list is a list of indices")
            check_item_indices(batch, "DataLoader's batch_sampler")
            _check_batch_size(len(batch), "DataLoader's batch_sampler", settings)
    auto_collation = batch_size is not None or named.get("batch_sampler") is not None
    if named.get("collate_fn") is None and auto_collation:
        named["collate_fn"] = budgeted_collate(ctx)
    return Prepared((), named)


def _is_item_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, torch.Tensor) and value.dim() == 0 and \
        not value.is_floating_point() and not value.is_complex()


def check_item_indices(indices: Any, label: str) -> None:
    """Indices a built-in data set will look up in torch's own code: item numbers only. A
    tensor of ten million indices given as one "index" gathered 40 GB past the budget."""
    if isinstance(indices, range):
        return
    if isinstance(indices, torch.Tensor):
        if indices.dim() <= 1 and not indices.is_floating_point() and \
                not indices.is_complex():
            return
    elif isinstance(indices, (list, tuple)) and all(_is_item_number(i) for i in indices):
        return
    raise ForbiddenError(f"{label} takes item numbers (ints, a range, or a 1-D integer "
                         "tensor)", hint="List the item numbers: [0, 2, 5].")


def guard_subset(ctx: Any, function: Any, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Prepared:
    named = _bind(function, args, kwargs)
    check_item_indices(named.get("indices"), "Subset")
    return Prepared(args, kwargs)


def guard_batch_sampler(ctx: Any, function: Any, args: tuple[Any, ...],
                        kwargs: dict[str, Any]) -> Prepared:
    """A BatchSampler gathers batch_size indices in one go, in torch's own loop."""
    named = _bind(function, args, kwargs)
    _check_batch_size(named.get("batch_size"), "BatchSampler", ctx.settings)
    return Prepared(args, kwargs)


def _check_batch_size(batch_size: Any, label: str, settings: Settings) -> None:
    if isinstance(batch_size, int) and batch_size > settings.max_objects_per_call:
        raise LimitError(f"{label}: batch_size={batch_size:,} would gather that many items "
                         f"at once; the limit is {settings.max_objects_per_call:,} (setting "
                         "max_objects_per_call)", hint="Use a smaller batch_size.",
                         predicted=True)


def guard_sampled_dataset(ctx: Any, function: Any, args: tuple[Any, ...],
                          kwargs: dict[str, Any]) -> Prepared:
    """RandomSampler and random_split permute len(dataset) indices in one call."""
    named = _bind(function, args, kwargs)
    source = named.get("data_source", named.get("dataset"))
    _dataset_length(source, getattr(function, "__name__", "sampler"), ctx.settings)
    samples = named.get("num_samples")
    if isinstance(samples, int) and samples > ctx.settings.max_sequence_items:
        raise LimitError(f"num_samples={samples:,} is more than the limit of "
                         f"{ctx.settings.max_sequence_items:,} (setting max_sequence_items)",
                         predicted=True)
    return Prepared(args, kwargs)


_MODULE_CASTS = {"float": torch.float32, "double": torch.float64, "half": torch.float16,
                 "bfloat16": torch.bfloat16}


def module_cast_guard(name: str) -> Guard:
    """model.double() / .half() / .to(dtype) replace every floating parameter with a new
    tensor of the new size, in torch's own code: predicted before, counted after (else a
    model made in float16 and cast to float64 held 4x what the budget saw)."""

    def guard(ctx: Any, module: Any, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Prepared:
        target = _MODULE_CASTS.get(name)
        if name == "to":
            target = next((a for a in (*args, *kwargs.values()) if isinstance(a, torch.dtype)),
                          None)
        if target is None or not isinstance(module, nn.Module):
            return Prepared(args, kwargs)
        tensors = [*module.parameters(), *module.buffers()]
        itemsize = torch.empty((), dtype=target).element_size()
        new = sum(t.numel() * itemsize for t in tensors
                  if t.is_floating_point() and t.dtype != target)
        ctx.budget.check_bytes(f"{type(module).__name__}.{name}", new)

        def after(result: Any) -> None:
            ctx.budget.live.track([*module.parameters(), *module.buffers()])

        return Prepared(args, kwargs, after)

    return guard
