"""Per-callable guards: the checks a policy rule runs before its call, and the counting it
does after. Each guard is named by its rule in ``policy.py``, so a callable's whole story
(cost, guard, note) is in one place; the checks themselves live in ``kernels.py`` (layout
that native kernels trust) and here (memory that no meta dry run sees: optimizer state,
gradients, batches, one Python object per row).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import torch
from torch import nn
from torch.utils import data as tud

from app.config import Settings
from app.engine import lazy
from app.engine.errors import ForbiddenError, LimitError
from app.engine.kernels import check_dense, check_optimizer, check_optimizer_state_dict
from app.engine.marks import mark_builtin
from app.message import Message

if TYPE_CHECKING:
    from app.engine.budget import Budget


class GuardContext(Protocol):
    """What a guard needs from the interpreter: the budget, the settings, the current line."""

    settings: Settings
    line: int | None

    @property
    def budget(self) -> Budget: ...


# ============================================================================ sizes of calls
def check_count(count: int, label: str, settings: Settings) -> None:
    """Calls that return one tensor per item (unbind, split, chunk): each tensor object
    costs hundreds of bytes that no tensor budget sees."""
    limit = settings.max_objects_per_call
    if count > limit:
        raise LimitError(Message("{label} would make {count:,} separate objects; the limit is "
                                 "{limit:,} per call (setting max_objects_per_call)",
                                 label=label, count=count, limit=limit),
                         hint=Message("Index the part you need instead (x[0], x[:10])."),
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


Guard = Callable[[GuardContext, Any, tuple[Any, ...], dict[str, Any]], Prepared]


def both(first: Guard, second: Guard) -> Guard:
    """Two guards of one callable (a rule holds one): ``second`` sees the call as ``first``
    prepared it, and both of their ``after`` steps run on the result, in order."""
    def guard(ctx: GuardContext, function: Any, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Prepared:
        one = first(ctx, function, args, kwargs)
        two = second(ctx, function, one.args, one.kwargs)
        afters = [step for step in (one.after, two.after) if step is not None]
        if len(afters) < 2:
            return Prepared(two.args, two.kwargs, afters[0] if afters else None)

        def after(result: Any) -> None:
            for step in afters:
                step(result)
        return Prepared(two.args, two.kwargs, after)
    return guard


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


def guard_parameter(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Prepared:
    data = args[0] if args else kwargs.get("data")
    if data is not None:
        check_dense(data, "the data of nn.Parameter")
    return Prepared(args, kwargs)


def check_layer_names(module: nn.Module) -> None:
    """Security: a layer's children, parameters and buffers are attributes of the layer too
    (``Module.__getattr__``), and Python's protocols look some names up on the object itself:
    a child named ``__deepcopy__`` made copy.deepcopy call it with deepcopy's memo and return
    whatever it returned. Names are plain: not starting with '_' nor 'playground_' (the
    sandbox's marks)."""
    for table in (module._modules, module._parameters, module._buffers):
        for name in table:
            if not isinstance(name, str) or name.startswith(("_", "playground_")):
                raise ForbiddenError(
                    Message("the layer name {name!r} is not available: names starting with "
                            "'_' or 'playground_' belong to Python and to the sandbox "
                            "(copy.deepcopy calls a child named '__deepcopy__')",
                            name=str(name)[:40]),
                    hint=Message("Use a plain name such as 'fc1' or 'block2'."))


def guard_layer_names(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Prepared:
    """For the calls that name children (nn.Sequential of an OrderedDict, ModuleDict,
    ParameterDict, add_module): the names are checked once the layer holds them."""
    def after(result: Any) -> None:
        check_layer_names(result if isinstance(result, nn.Module) else function)
    return Prepared(args, kwargs, after)


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


def guard_optimizer_new(ctx: GuardContext, cls: Any, args: tuple[Any, ...],
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


def guard_optimizer_load(ctx: GuardContext, optimizer: Any, args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> Prepared:
    """optimizer.load_state_dict(saved): the saved state becomes what step()'s kernels
    trust, so it is checked before torch copies it in (kernels.py), and again after."""
    named = _bind(type(optimizer).load_state_dict, (optimizer, *args), kwargs)
    copied = check_optimizer_state_dict(optimizer, named.get("state_dict"))
    # torch deep-copies the saved dict, then casts each state tensor to its parameter's type.
    ctx.budget.check_bytes(f"{type(optimizer).__name__}.load_state_dict", 2 * copied)

    def after(result: Any) -> None:
        check_optimizer(optimizer)
        ctx.budget.live.track([t for state in optimizer.state.values()
                               if isinstance(state, dict)
                               for t in state.values() if isinstance(t, torch.Tensor)])

    return Prepared(args, kwargs, after)


def guard_optimizer_step(ctx: GuardContext, optimizer: Any, args: tuple[Any, ...],
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


def guard_scaler_optimizer(ctx: GuardContext, scaler: Any, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> Prepared:
    optimizer = args[0] if args else kwargs.get("optimizer")
    if isinstance(optimizer, torch.optim.Optimizer):
        check_optimizer(optimizer)
    return Prepared(args, kwargs)


def guard_clip_grads(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> Prepared:
    """clip_grad_norm_/clip_grad_value_ hand the gradients to foreach kernels on a GPU."""
    named = _bind(function, args, kwargs)
    params = named.get("parameters")
    listed = [params] if isinstance(params, torch.Tensor) else list(params or ())
    for param in listed:
        if param.grad is not None:
            check_dense(param.grad, "a gradient to clip")
            if param.grad.shape != param.shape:
                raise ForbiddenError(Message("a gradient to clip no longer matches its "
                                             "parameter's shape"),
                                     hint=Message("Set gradients with torch.zeros_like(p)."))
    named["parameters"] = listed  # a generator would be used up by the check
    return Prepared((), named)


def guard_vector_to_parameters(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                               kwargs: dict[str, Any]) -> Prepared:
    """The parameters become views of the vector: it must be dense like any parameter."""
    named = _bind(function, args, kwargs)
    check_dense(named.get("vec"), "the vector given to vector_to_parameters")
    named["parameters"] = list(named.get("parameters") or ())
    return Prepared((), named)


def split_guard(name: str) -> Guard:
    """unbind/split/chunk/tensor_split, as a function (tensor first) or a method."""

    def guard(ctx: GuardContext, target: Any, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Prepared:
        tensor, rest = (target, args) if isinstance(target, torch.Tensor) else (
            args[0] if args else kwargs.get("input", kwargs.get("tensor")), args[1:])
        if isinstance(tensor, torch.Tensor):
            check_count(split_count(tensor, name, rest, kwargs), name, ctx.settings)
        return Prepared(args, kwargs)

    return guard


def guard_tolist(ctx: GuardContext, target: Any, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Prepared:
    """tolist() makes one Python object per element, outside every tensor budget."""
    size = target.numel() if isinstance(target, torch.Tensor) else int(np.size(target))
    limit = ctx.settings.max_sequence_items
    if size > limit:
        raise LimitError(Message("tolist() of {size:,} elements would make that many Python "
                                 "objects; the limit is {limit:,} (setting max_sequence_items)",
                                 size=size, limit=limit),
                         hint=Message("Convert a slice (x[:10].tolist()), or keep it a tensor."),
                         predicted=True)
    return Prepared(args, kwargs)


def guard_load_state_dict(ctx: GuardContext, module: Any, args: tuple[Any, ...],
                          kwargs: dict[str, Any]) -> Prepared:
    """assign=True makes the given tensors the module's parameters as they are (any layout,
    any device); the copying form checks and copies into the existing ones."""
    if len(args) > 2 or kwargs.get("assign"):
        raise ForbiddenError(Message("load_state_dict(..., assign=True) is not available in the "
                                     "playground"),
                             hint=Message("Call load_state_dict(state_dict): it copies the values "
                                          "into the module's own parameters."))
    if not (isinstance(module, nn.Module) and lazy.has_uninitialised(module)):
        return Prepared(args, kwargs)
    # A lazy layer's load makes its parameters shaped like the loaded ones: sized first.
    state = args[0] if args else kwargs.get("state_dict")
    made = 0
    if isinstance(state, dict):
        for name, tensor in (*module.named_parameters(), *module.named_buffers()):
            loaded = state.get(name)
            if lazy.is_uninitialised(tensor) and isinstance(loaded, torch.Tensor):
                made += loaded.numel() * loaded.element_size()
    ctx.budget.check_bytes(f"{type(module).__name__}.load_state_dict", made)

    def after(result: Any) -> None:
        ctx.budget.live.track([*module.parameters(), *module.buffers()])

    return Prepared(args, kwargs, after)


_LEGACY_TYPE_NAMES = frozenset(
    f"torch.{prefix}{kind}Tensor" for prefix in ("", "cuda.")
    for kind in ("Byte", "Char", "Short", "Int", "Long", "Float", "Double", "Half", "Bool",
                 "BFloat16"))


def guard_tensor_type(ctx: GuardContext, tensor: Any, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Prepared:
    """x.type('torch.sparse.FloatTensor') converts the layout; only dense types are named."""
    wanted = args[0] if args else kwargs.get("dtype")
    if isinstance(wanted, str) and wanted not in _LEGACY_TYPE_NAMES:
        raise ForbiddenError(Message("x.type({wanted!r}) is not available in the playground",
                                     wanted=wanted),
                             hint=Message("Use a dtype: x.type(torch.float64), or x.double()."))
    return Prepared(args, kwargs)


def _graph_leaves(roots: Iterable[Any], limit: int) -> list[torch.Tensor]:
    """Leaves that a backward pass from ``roots`` would give a gradient."""
    leaves: list[torch.Tensor] = []
    pending: list[Any] = [t.grad_fn for t in roots if isinstance(t, torch.Tensor)]
    seen: set[int] = set()
    while pending:
        node = pending.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if len(seen) > limit:
            raise LimitError(Message("the autograd graph has more than {limit:,} nodes (setting "
                                     "max_steps)",
                                     limit=limit),
                             hint=Message("Call backward() on a smaller computation."),
                             predicted=True)
        variable = getattr(node, "variable", None)
        if isinstance(variable, torch.Tensor):
            leaves.append(variable)
        pending.extend(next_node for next_node, _ in node.next_functions)
    return leaves


def _track_grads(ctx: GuardContext, leaves: list[torch.Tensor]) -> Callable[[Any], None]:
    def after(result: Any) -> None:
        ctx.budget.live.track([leaf.grad for leaf in leaves if leaf.grad is not None])
    return after


def guard_backward(ctx: GuardContext, target: Any, args: tuple[Any, ...],
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
    track = _track_grads(ctx, leaves)
    finish = _capture_gradients(ctx, "backward()", roots)
    return Prepared(args, kwargs, _unhook_then(finish, track))


def guard_autograd_grad(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                        kwargs: dict[str, Any]) -> Prepared:
    """torch.autograd.grad returns one gradient per input, each as large as the input."""
    named = _bind(function, args, kwargs)
    inputs = named.get("inputs")
    listed = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs or ())
    ctx.budget.check_bytes("torch.autograd.grad", sum(
        t.numel() * t.element_size() for t in listed if isinstance(t, torch.Tensor)))
    outputs = named.get("outputs")
    roots = [outputs] if isinstance(outputs, torch.Tensor) else list(outputs or ())
    finish = _capture_gradients(ctx, "torch.autograd.grad", roots)
    return Prepared(args, kwargs, _unhook_then(finish, ctx.budget.live.track))


class GradCapture(Protocol):
    """The gradient trace of a run (app/inspect/gradtrace.py): hooks the graph for one call
    and returns the function that unhooks it."""

    def start(self, label: str, roots: Iterable[Any], line: int | None) -> Callable[[], None]:
        ...


def _capture_gradients(ctx: GuardContext, label: str, roots: list[Any]) -> Callable[[], None]:
    """Our hooks around one backward pass, when this run records a gradient trace (the timed
    repeats do not). If the call raises, the hooks stay until the next call or the end of the
    run removes them; a stale hook records nothing."""
    capture: GradCapture | None = getattr(ctx, "grad_trace", None)
    if capture is None:
        return _nothing
    return capture.start(label, roots, ctx.line)


def _nothing() -> None:
    return None


def _unhook_then(finish: Callable[[], None],
                 after: Callable[[Any], None]) -> Callable[[Any], None]:
    def both(result: Any) -> None:
        finish()
        after(result)
    return both


def _dataset_length(dataset: Any, label: str, settings: Settings) -> int:
    try:
        length = len(dataset)
    except TypeError:
        return 0  # an iterable data set: drawn item by item, each a step
    if length > settings.max_sequence_items:
        raise LimitError(Message("{label}: the data set reports {length:,} items; at most "
                                 "{max_sequence_items:,} can be sampled (setting "
                                 "max_sequence_items)",
                                 label=label, length=length,
                                 max_sequence_items=settings.max_sequence_items),
                         hint=Message("An expanded tensor reports the length it was expanded to; "
                                      "build the data set from the rows you need."),
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


def budgeted_collate(ctx: GuardContext) -> Callable[[Any], Any]:
    """torch's default_collate, with the batch it builds predicted and counted: it stacks
    the items into new tensors in torch's own Python code, which no call of the program's
    covers (a DataLoader collated a 1 GB batch past every limit)."""

    def collate(batch: Any) -> Any:
        ctx.budget.check_bytes("the DataLoader's batch", _batch_bytes(batch))
        result = tud.default_collate(batch)
        ctx.budget.live.track(result)
        return result

    return mark_builtin(collate)


def guard_dataloader(ctx: GuardContext, function: Any, args: tuple[Any, ...],
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
    raise ForbiddenError(Message("{label} takes item numbers (ints, a range, or a 1-D integer "
                                 "tensor)",
                                 label=label), hint=Message("List the item numbers: [0, 2, 5]."))


def guard_subset(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Prepared:
    named = _bind(function, args, kwargs)
    check_item_indices(named.get("indices"), "Subset")
    return Prepared(args, kwargs)


def guard_batch_sampler(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                        kwargs: dict[str, Any]) -> Prepared:
    """A BatchSampler gathers batch_size indices in one go, in torch's own loop."""
    named = _bind(function, args, kwargs)
    _check_batch_size(named.get("batch_size"), "BatchSampler", ctx.settings)
    return Prepared(args, kwargs)


def _check_batch_size(batch_size: Any, label: str, settings: Settings) -> None:
    if isinstance(batch_size, int) and batch_size > settings.max_objects_per_call:
        raise LimitError(Message("{label}: batch_size={batch_size:,} would gather that many items "
                                 "at once; the limit is {max_objects_per_call:,} (setting "
                                 "max_objects_per_call)",
                                 label=label, batch_size=batch_size,
                                 max_objects_per_call=settings.max_objects_per_call),
                         hint=Message("Use a smaller batch_size."),
                         predicted=True)


def guard_sampled_dataset(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                          kwargs: dict[str, Any]) -> Prepared:
    """RandomSampler and random_split permute len(dataset) indices in one call."""
    named = _bind(function, args, kwargs)
    source = named.get("data_source", named.get("dataset"))
    _dataset_length(source, getattr(function, "__name__", "sampler"), ctx.settings)
    samples = named.get("num_samples")
    if isinstance(samples, int) and samples > ctx.settings.max_sequence_items:
        raise LimitError(Message("num_samples={samples:,} is more than the limit of "
                                 "{max_sequence_items:,} (setting max_sequence_items)",
                                 samples=samples,
                                 max_sequence_items=ctx.settings.max_sequence_items),
                         predicted=True)
    return Prepared(args, kwargs)


_MODULE_CASTS = {"float": torch.float32, "double": torch.float64, "half": torch.float16,
                 "bfloat16": torch.bfloat16}


def module_cast_guard(name: str) -> Guard:
    """model.double() / .half() / .to(dtype) replace every floating parameter with a new
    tensor of the new size, in torch's own code: predicted before, counted after (else a
    model made in float16 and cast to float64 held 4x what the budget saw)."""

    def guard(ctx: GuardContext, module: Any, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Prepared:
        target = _MODULE_CASTS.get(name)
        if name == "to":
            target = next((a for a in (*args, *kwargs.values()) if isinstance(a, torch.dtype)),
                          None)
        if target is None or not isinstance(module, nn.Module):
            return Prepared(args, kwargs)
        # A lazy layer's uninitialised tensors have no data yet (sized at the first call).
        tensors = [t for t in (*module.parameters(), *module.buffers())
                   if not lazy.is_uninitialised(t)]
        itemsize = torch.empty((), dtype=target).element_size()
        new = sum(t.numel() * itemsize for t in tensors
                  if t.is_floating_point() and t.dtype != target)
        ctx.budget.check_bytes(f"{type(module).__name__}.{name}", new)

        def after(result: Any) -> None:
            ctx.budget.live.track([*module.parameters(), *module.buffers()])

        return Prepared(args, kwargs, after)

    return guard


# ============================================================================ torch.normal
def guard_histogram(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Prepared:
    """torch.histogram has no meta kernel: its output (counts and bin edges) is sized by
    ``bins`` (a count, or the edges as a tensor), which the input does not bound."""
    source = args[0] if args else kwargs.get("input")
    bins = args[1] if len(args) > 1 else kwargs.get("bins", 100)
    if isinstance(bins, bool) or not isinstance(bins, (int, torch.Tensor)):
        raise TypeError("torch.histogram: bins must be an integer or a 1-D tensor of bin edges")
    count = bins.numel() if isinstance(bins, torch.Tensor) else max(bins, 0)
    itemsize = source.element_size() if isinstance(source, torch.Tensor) else 8
    ctx.budget.check_bytes("torch.histogram", (2 * count + 1) * itemsize)
    return Prepared(args, kwargs)


def guard_one_hot(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> Prepared:
    """F.one_hot's width is data: num_classes=-1 (the default) is the largest index + 1,
    which a meta dry run cannot read, so the prediction fell back to the input's size.
    F.one_hot(torch.tensor([10**9])) tried to allocate 8 GB, F.one_hot(torch.arange(10**5))
    80 GB. Sized here: one int64 per index and class."""
    indices = args[0] if args else kwargs.get("tensor")
    classes = args[1] if len(args) > 1 else kwargs.get("num_classes", -1)
    if isinstance(indices, torch.Tensor) and isinstance(classes, int) \
            and not indices.is_floating_point() and not indices.is_complex() \
            and not indices.is_meta:
        if classes == -1 and indices.numel() > 0:
            classes = int(indices.max()) + 1
        ctx.budget.check_bytes("torch.nn.functional.one_hot",
                               8 * indices.numel() * max(classes, 0))
    return Prepared(args, kwargs)


def _container_items(value: Any) -> int | None:
    """How many items torch's container constructors would take from ``value``, when that
    is known without iterating it (a generator of the program's counts its own steps)."""
    if isinstance(value, (list, tuple, dict, range, np.ndarray)):
        return len(value)
    return None


def guard_container_module(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> Prepared:
    """nn.Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict (and their
    extend / update) register every item in torch's own Python loop, past the step count:
    nn.ParameterList(np.zeros(4 * 10**6)) ran 43 s, each number an attribute, and
    [nn.Identity()] * 10**6 is one cheap list. At most max_objects_per_call items."""
    limit = ctx.settings.max_objects_per_call
    # A class is being built; otherwise ``function`` is the container whose extend runs.
    label = (f"nn.{function.__name__}" if isinstance(function, type)
             else f"{type(function).__name__}.extend")
    counts = [len(args)] if function is nn.Sequential else \
        [_container_items(value) for value in (*args, *kwargs.values())]
    count = max((c for c in counts if c is not None), default=0)
    if count > limit:
        raise LimitError(Message("{label} would hold {count:,} items; the limit is {limit:,} "
                                 "(setting max_objects_per_call)",
                                 label=label, count=count, limit=limit),
                         hint=Message("Use one layer with a larger size (nn.Linear(n, m)) or "
                                      "one tensor (nn.Parameter(torch.zeros(n))) instead of "
                                      "many small ones."),
                         predicted=True)
    return Prepared(args, kwargs)


def guard_normal(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Prepared:
    """torch.normal has four overloads and only some take a device, so it is not dry-run on
    meta (the float overload would allocate for real there): its output is the broadcast of
    the tensor mean/std, or ``size`` when both are numbers."""
    mean = args[0] if args else kwargs.get("mean")
    std = args[1] if len(args) > 1 else kwargs.get("std")
    size = args[2] if len(args) > 2 else kwargs.get("size")
    tensors = [value for value in (mean, std) if isinstance(value, torch.Tensor)]
    if tensors:
        numel = max(t.numel() for t in tensors)
        try:
            numel = max(numel, math.prod(torch.broadcast_shapes(*(t.shape for t in tensors))))
        except RuntimeError:
            pass  # shapes that do not broadcast: the real call says so
    else:
        if size is None:
            raise TypeError("torch.normal(mean, std, size): with numbers for mean and std, "
                            "give the size, e.g. torch.normal(0.0, 1.0, size=(3,))")
        dims = [size] if isinstance(size, int) else list(size) \
            if isinstance(size, (list, tuple, torch.Size)) else None
        if dims is None or not all(isinstance(d, int) and not isinstance(d, bool)
                                   for d in dims):
            raise TypeError("torch.normal: size must be a tuple of integers")
        numel = math.prod(max(d, 0) for d in dims)
    dtype = kwargs.get("dtype")
    itemsize = dtype.itemsize if isinstance(dtype, torch.dtype) else 8
    ctx.budget.check_bytes("torch.normal", numel * itemsize)
    return Prepared(args, kwargs)


def guard_ndarray_dot(ctx: GuardContext, array: Any, args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> Prepared:
    """a.dot(b) can be far larger than a ((n, 1) by (1, n)) and as slow as a matmul."""
    from app.engine.numpy_rules import predict_operator

    if args:
        predicted, flops = predict_operator(array, args[0], True)
        ctx.budget.check_bytes("ndarray.dot", predicted)
        ctx.budget.check_flops("ndarray.dot", flops)
    return Prepared(args, kwargs)


# ============================================================================ distributions
# Each distribution makes a few parameter-sized tensors (normalised probabilities, stacked
# concentrations, a Cholesky factor): 4 copies of 8 bytes per element bound them.
_DISTRIBUTION_BYTES_PER_ELEMENT = 32


def _shape_numel(shapes: list[torch.Size]) -> int:
    try:
        return math.prod(torch.broadcast_shapes(*shapes))
    except RuntimeError:
        return max((math.prod(shape) for shape in shapes), default=1)


def guard_distribution_new(ctx: GuardContext, cls: Any, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> Prepared:
    """Parameters broadcast (Beta stacks them: Beta(ones(n, 1), ones(1, n)) is n*n numbers),
    MultivariateNormal factors its n x n matrix (n**3 FLOPs), Multinomial's total_count is
    how many draws each sample takes. validate_args is a bool, nothing else."""
    label = f"{cls.__name__}(...)"
    bound = _bind(cls, args, kwargs)
    bound.pop("self", None)
    validate = bound.get("validate_args")
    if validate is not None and not isinstance(validate, bool):
        raise TypeError(f"{label}: validate_args is True, False or None")
    if "total_count" in bound:
        count = bound["total_count"]
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise TypeError(f"{label}: total_count is a non-negative integer")
    tensors = [v for v in bound.values() if isinstance(v, torch.Tensor)]
    matrices = [bound[name] for name in ("covariance_matrix", "precision_matrix",
                                         "scale_tril") if isinstance(bound.get(name),
                                                                      torch.Tensor)]
    if matrices and matrices[0].dim() >= 2:
        matrix = matrices[0]
        n = matrix.shape[-1]
        loc = bound.get("loc")
        loc_batch = loc.shape[:-1] if isinstance(loc, torch.Tensor) and loc.dim() else ()
        batch = _shape_numel([torch.Size(loc_batch), matrix.shape[:-2]])
        ctx.budget.check_flops(label, batch * n ** 3)
        ctx.budget.check_bytes(label, _DISTRIBUTION_BYTES_PER_ELEMENT * batch * n * n)
    else:
        numel = _shape_numel([t.shape for t in tensors]) if tensors else 1
        ctx.budget.check_bytes(label, _DISTRIBUTION_BYTES_PER_ELEMENT * numel)
    # What it built (Beta's stacked parameters, a Cholesky factor) is memory the program
    # holds: a list of distributions must not grow past max_total_bytes.
    return Prepared(args, kwargs, lambda made: ctx.budget.live.track(_distribution_tensors(made)))


def _distribution_tensors(distribution: Any, depth: int = 0) -> list[torch.Tensor]:
    found: list[torch.Tensor] = []
    for value in vars(distribution).values():
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif isinstance(value, torch.distributions.Distribution) and depth < 3:
            found.extend(_distribution_tensors(value, depth + 1))
    return found


def _event_size(distribution: Any) -> int:
    return math.prod(distribution.batch_shape) * math.prod(distribution.event_shape)


def _matrix_side(distribution: Any) -> int:
    """n for a MultivariateNormal (n x n work per sample), 1 otherwise."""
    shape = distribution.event_shape
    return shape[-1] if isinstance(distribution, torch.distributions.MultivariateNormal) \
        and len(shape) else 1


def guard_distribution_sample(ctx: GuardContext, distribution: Any, args: tuple[Any, ...],
                              kwargs: dict[str, Any]) -> Prepared:
    """sample((10**9,)) is refused before it draws: sample shape x batch x event elements
    (Multinomial draws total_count indices per sample first)."""
    label = f"{type(distribution).__name__}.sample"
    shape = args[0] if args else kwargs.get("sample_shape", ())
    if not isinstance(shape, (tuple, list, torch.Size)) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise TypeError(f"{label}: the sample shape is a tuple of non-negative integers, "
                        "e.g. sample((5,))")
    numel = math.prod(shape) * _event_size(distribution)
    draws = 0
    if isinstance(distribution, torch.distributions.Multinomial):
        draws = distribution.total_count * math.prod(shape) * math.prod(distribution.batch_shape)
    ctx.budget.check_bytes(label, _DISTRIBUTION_BYTES_PER_ELEMENT * numel + 8 * draws)
    ctx.budget.check_flops(label, numel * _matrix_side(distribution))
    return Prepared(args, kwargs)


def distribution_values_guard(name: str) -> Guard:
    """log_prob / cdf / icdf broadcast the value against the batch and event shapes."""
    def guard(ctx: GuardContext, distribution: Any, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> Prepared:
        return _distribution_values(ctx, f"{type(distribution).__name__}.{name}", distribution,
                                    args, kwargs)
    return guard


def _distribution_values(ctx: GuardContext, label: str, distribution: Any,
                         args: tuple[Any, ...], kwargs: dict[str, Any]) -> Prepared:
    value = args[0] if args else kwargs.get("value")
    shapes = [distribution.batch_shape + distribution.event_shape]
    if isinstance(value, torch.Tensor):
        shapes.append(value.shape)
    numel = _shape_numel(shapes)
    ctx.budget.check_bytes(label, _DISTRIBUTION_BYTES_PER_ELEMENT * numel)
    ctx.budget.check_flops(label, numel * _matrix_side(distribution))
    return Prepared(args, kwargs)


# ============================================================================ random.sample
def guard_random_sample(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                        kwargs: dict[str, Any]) -> Prepared:
    """random.sample(population, k) builds a k-item list in one C call (k is bounded by the
    population, but range(10**12) is a population); counts= would repeat items."""
    if "counts" in kwargs:
        raise ForbiddenError(Message("random.sample(counts=...) is not available in the playground",
                                     ),
                             ctx.line, hint=Message("Repeat the items in the population instead."))
    count = args[1] if len(args) > 1 else kwargs.get("k")
    limit = ctx.settings.max_sequence_items
    if isinstance(count, int) and count > limit:
        raise LimitError(Message("random.sample of {count:,} items is larger than the limit of "
                                 "{limit:,} (setting max_sequence_items)",
                                 count=count, limit=limit),
                         hint=Message("Sample fewer items, or use torch.randperm for large draws."),
                         predicted=True)
    return Prepared(args, kwargs)


def guard_random_shuffle(ctx: GuardContext, function: Any, args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> Prepared:
    """random.shuffle swaps items in place as x[i], x[j] = x[j], x[i]: right for a list, but
    the rows of a tensor (and of a 2-d array) are views, so a shuffled tensor came back with
    rows repeated and others lost, and 4 million rows took 24 s in one call."""
    target = args[0] if args else kwargs.get("x")
    if not isinstance(target, list):
        raise ForbiddenError(
            Message("random.shuffle shuffles a list in place; it cannot shuffle a {kind}",
                    kind=type(target).__name__),
            ctx.line, hint=Message("For a tensor use t[torch.randperm(len(t))]."))
    return Prepared(args, kwargs)


def guard_distribution_entropy(ctx: GuardContext, distribution: Any, args: tuple[Any, ...],
                               kwargs: dict[str, Any]) -> Prepared:
    """One number per batch element, but Multinomial sums over its whole support: total_count
    + 1 values per batch and event element (Multinomial(10**9, p).entropy() is 8 GB)."""
    label = f"{type(distribution).__name__}.entropy"
    numel = _event_size(distribution)
    if isinstance(distribution, torch.distributions.Multinomial):
        numel *= distribution.total_count + 1
    ctx.budget.check_bytes(label, _DISTRIBUTION_BYTES_PER_ELEMENT * numel)
    return Prepared(args, kwargs)
