"""Standard-library modules as the program sees them: small vetted namespaces, not the modules.

``time`` reads clocks and sleeps inside the program's deadline; ``os`` and ``sys`` exist so an
unused ``import os`` costs nothing, and refuse every use with what to do instead;
``collections``, ``itertools``, ``functools`` and ``copy`` are re-implemented over the
interpreter where the originals would loop or call back in C: every item they produce is a
step of the budget, every eager result is sized before it is built, and every function they
call goes through the interpreter's vetted call path (``functools.partial(torch.zeros, 10**6,
10**6)`` is refused when called, exactly like ``torch.zeros(10**6, 10**6)``).

Each function here takes the interpreter (``ctx``) first: the rule's guard (``_in_context``)
hands it over, so the namespaces stay shared by every program a worker runs.
"""

from __future__ import annotations

import ast
import collections
import copy as pycopy
import itertools
import keyword
import math
import pprint as pypprint
import time as pytime
import types
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from app.engine.errors import DeadlineError, ForbiddenError, LimitError
from app.engine.guards import Prepared
from app.engine.marks import mark_builtin
from app.engine.policy import Cost, Namespace, Rule
from app.engine.stdlib_values import (
    AnnotationName,
    CountedIterator,
    PlaygroundDeque,
    PlaygroundNamedTuple,
    UncountedIterator,
    namedtuple_repr,
)
from app.engine.text import without_addresses
from app.message import Message


class _Call:
    """The program's arguments, handed over untouched: the vetted call path wraps callable
    arguments for C callers (a layer in deque([layer]) became a function), and these
    functions call what they are given through the interpreter themselves."""

    __slots__ = ("args", "kwargs")

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.args = args
        self.kwargs = kwargs


def _in_context(ctx: Any, function: Any, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Prepared:
    """The guard of every function here: the call receives the interpreter first."""
    return Prepared((ctx, _Call(args, kwargs)), {})


def _entry(implementation: Callable[..., Any]) -> Callable[..., Any]:
    def entry(ctx: Any, call: _Call) -> Any:
        return implementation(ctx, *call.args, **call.kwargs)

    entry.__name__ = entry.__qualname__ = implementation.__name__
    return entry


def _rule(note: str, cost: Cost = Cost.FREE) -> Rule:
    return Rule(cost, guard=_in_context, note=note)


def _items(ctx: Any, iterable: Any) -> list[Any]:
    """The items of ``iterable`` as the program's own list() makes them: each a step, at most
    max_sequence_items."""
    return ctx.builtins["list"](iterable)  # type: ignore[no-any-return]


def _lazy(ctx: Any, iterable: Any) -> Iterator[Any]:
    return ctx.iterate(iterable)  # type: ignore[no-any-return]


def _too_many(label: str, count: int | None, limit: int) -> LimitError:
    said = (Message("{label} would produce {count:,} items; the limit is {limit:,} (setting "
                    "max_sequence_items)", label=label, count=count, limit=limit)
            if count is not None else
            Message("{label} would produce more than {limit:,} items; the limit is {limit:,} "
                    "(setting max_sequence_items)", label=label, limit=limit))
    return LimitError(said,
                      hint=Message("Use fewer or shorter inputs: a few items show the same "
                                   "pattern."),
                      predicted=True)


def _capped_product(factors: Iterable[int], cap: int) -> int | None:
    """The product of ``factors``, or None once it passes ``cap`` (no huge integers)."""
    total = 1
    for factor in factors:
        total *= factor
        if total > cap:
            return None
    return total


def _count(value: Any, label: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{label} must be an integer, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{label} must be non-negative")
    return value


# ============================================================================ time
def sleep(ctx: Any, seconds: Any) -> None:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"time.sleep() takes a number of seconds, not {type(seconds).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"time.sleep() takes a finite, non-negative number of seconds, not "
                         f"{seconds!r}")
    left = ctx.budget.deadline - pytime.monotonic()
    if seconds > left:
        raise DeadlineError(Message("time.sleep({seconds:g}) would run past the program's "
                                    "deadline: {left:.2f} s of {deadline_s:g} s are left "
                                    "(setting deadline_s)",
                                    seconds=seconds, left=max(left, 0),
                                    deadline_s=ctx.settings.deadline_s), ctx.line,
                            hint=Message("Sleep less (or not at all: the program's output is the "
                                         "same)."))
    pytime.sleep(seconds)


TIME_MEMBERS: dict[str, Rule] = {
    **{name: Rule(Cost.SCALAR, note="reads a clock: a number") for name in
       ("time", "perf_counter", "monotonic")},
    "sleep": _rule("waits inside the program's own deadline; longer sleeps are a "
                   "TimeoutError before they start"),
}

# ============================================================================ os, sys
_NO_FILES = Message("the playground has no files; make the tensors directly (torch.randn, "
                    "torch.tensor, TensorDataset)")
OS_REFUSALS: dict[str, tuple[Message, Message]] = {
    "*": (Message("a program has no operating system to talk to (no files, environment or "
                  "processes)"),
          Message("Remove the os call; make data with torch.randn or torch.tensor.")),
    "path": (_NO_FILES, Message("Remove the path handling; build the tensors in the program.")),
    "environ": (Message("a program has no environment variables"),
                Message("Write the value into the program.")),
    "getenv": (Message("a program has no environment variables"),
               Message("Write the value into the program.")),
    "system": (Message("a program cannot start processes"), Message("Remove the call.")),
    "listdir": (_NO_FILES, Message("Remove the call; build the tensors in the program.")),
    "makedirs": (_NO_FILES, Message("Remove the call; results show on the page.")),
    "mkdir": (_NO_FILES, Message("Remove the call; results show on the page.")),
    "getcwd": (_NO_FILES, Message("Remove the call.")),
    "cpu_count": (Message("each program runs on one CPU thread"),
                  Message("Use 0 (the default) for DataLoader's num_workers.")),
}
_RECURSION_LIMIT = Message("the recursion limit is the server's (setting max_call_depth)")
_SHALLOWER = Message("Make the recursion shallower, or use a loop.")
OS_PATH_REFUSALS: dict[str, tuple[Message, Message]] = {
    "*": OS_REFUSALS["path"],
}
SYS_REFUSALS: dict[str, tuple[Message, Message]] = {
    "*": (Message("the interpreter's internals are not part of a program"),
          Message("Remove the sys call.")),
    "exit": (Message("a program cannot stop its worker"),
             Message("End the program instead: put the rest under an if, or return from your "
                     "function.")),
    "modules": (Message("it would reach every loaded module"),
                Message("Import what you need by name.")),
    "setrecursionlimit": (_RECURSION_LIMIT, _SHALLOWER),
    "getrecursionlimit": (_RECURSION_LIMIT, _SHALLOWER),
    "argv": (Message("a program has no command line"),
             Message("Write the values into the program.")),
    "path": (_NO_FILES,
             Message("Remove the sys.path change; import torch, numpy or math directly.")),
    "stdout": (Message("print() is the way to write output"), Message("Use print().")),
    "stderr": (Message("print() is the way to write output"), Message("Use print().")),
    # Security: the build string names the exact interpreter and compiler, which helps pick
    # a known exploit and teaches nothing about PyTorch.
    "version": (Message("the server's Python build is not part of a program"),
                Message("print(torch.__version__) shows the PyTorch version.")),
    "version_info": (Message("the server's Python build is not part of a program"),
                     Message("print(torch.__version__) shows the PyTorch version.")),
}


# ============================================================================ collections
_FACTORY_BUILTINS = ("list", "int", "float", "dict", "set", "str", "tuple")


def _guard_defaultdict(ctx: Any, function: Any, args: tuple[Any, ...],
                       kwargs: dict[str, Any]) -> Prepared:
    """defaultdict calls its factory from C on every missing key: only a factory the program
    could call itself, through the interpreter (defaultdict(torch.ones) would pass the
    budget by C, and a class other than a container builds objects no program may hold)."""
    factory = args[0] if args else kwargs.get("default_factory")
    from app.engine.interpreter import BoundUserMethod, UserFunction

    allowed = factory is None or isinstance(factory, (UserFunction, BoundUserMethod)) or any(
        factory is ctx.builtins.get(name) for name in _FACTORY_BUILTINS)
    if not allowed:
        raise ForbiddenError(Message("line {line}: defaultdict's factory must be list, int, "
                                     "float, dict, set, str, tuple or a function of your own",
                                     line=ctx.line), ctx.line,
                             hint=Message("defaultdict(list) or defaultdict(lambda: 0)."))
    return _in_context(ctx, function, args, kwargs)


def defaultdict(ctx: Any, default_factory: Any = None, *args: Any,
                **kwargs: Any) -> collections.defaultdict[Any, Any]:
    # C calls the factory on a missing key: through the interpreter's call path.
    factory = None if default_factory is None else ctx.callback(default_factory)
    return collections.defaultdict(factory, ordered_dict(ctx, *args, **kwargs))


def ordered_dict(ctx: Any, *args: Any, **kwargs: Any) -> collections.OrderedDict[Any, Any]:
    if len(args) > 1:
        raise TypeError(f"expected at most 1 argument, got {len(args)}")
    pairs = _items(ctx, args[0].items() if args and isinstance(args[0], dict) else
                   (args[0] if args else ()))
    return collections.OrderedDict(pairs, **kwargs)


def counter(ctx: Any, iterable: Any = None, **kwargs: Any) -> collections.Counter[Any]:
    if iterable is None:
        return collections.Counter(**kwargs)
    if isinstance(iterable, dict):  # counts given as a mapping
        return collections.Counter(dict(_items(ctx, iterable.items())), **kwargs)
    return collections.Counter(_items(ctx, iterable), **kwargs)


def deque(ctx: Any, iterable: Any = (), maxlen: Any = None) -> PlaygroundDeque:
    if maxlen is not None:
        maxlen = _count(maxlen, "deque's maxlen")
    return PlaygroundDeque(_items(ctx, iterable), maxlen)


_NAMEDTUPLES: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


def _field_names(value: Any) -> list[str]:
    names = value.replace(",", " ").split() if isinstance(value, str) else _field_list(value)
    for name in names:
        if not isinstance(name, str):
            raise TypeError("namedtuple field names must be strings")
    return names


def _field_list(value: Any) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise TypeError("namedtuple field names are a string ('x y') or a list of strings")
    return list(value)


def _check_name(name: str, what: str, ctx: Any) -> None:
    # Security: CPython's namedtuple builds its __new__ as source code from these names and
    # eval()s it: only plain ASCII identifiers that are not keywords and do not start with
    # '_' (no dunders such as __class__, no code) reach it.
    if not (name.isascii() and name.isidentifier()) or keyword.iskeyword(name) \
            or name.startswith("_") or len(name) > 64:
        raise ForbiddenError(Message("line {line}: {what} {name!r} is not allowed; use a plain "
                                     "name (letters, digits, '_', not starting with '_')",
                                     line=ctx.line, what=what, name=name[:40]),
                             ctx.line, hint=Message("namedtuple('Point', ['x', 'y'])"))


def namedtuple(ctx: Any, typename: Any, field_names: Any) -> Callable[..., Any]:
    if not isinstance(typename, str):
        raise TypeError("namedtuple's type name must be a string")
    _check_name(typename, "the type name", ctx)
    names = _field_names(field_names)
    limit = ctx.settings.max_namedtuple_fields
    if len(names) > limit:
        raise LimitError(Message("namedtuple with {length:,} fields; the limit is {limit} "
                                 "(setting max_namedtuple_fields)",
                                 length=len(names), limit=limit),
                         hint=Message("Use a dict for many fields."),
                         predicted=True)
    for name in names:
        _check_name(name, "the field name", ctx)
    made = _NAMEDTUPLES.get(ctx, 0)
    if made >= ctx.settings.max_namedtuple_types:
        raise LimitError(Message("the program made more than {max_namedtuple_types} namedtuple "
                                 "types (setting max_namedtuple_types)",
                                 max_namedtuple_types=ctx.settings.max_namedtuple_types),
                         hint=Message("Make the type once, outside the loop."), predicted=True)
    _NAMEDTUPLES[ctx] = made + 1
    base = collections.namedtuple(typename, names)  # type: ignore[misc]
    cls = type(typename, (base, PlaygroundNamedTuple),
               {"__slots__": (), "__repr__": namedtuple_repr})

    def make(*args: Any, **kwargs: Any) -> Any:
        return cls(*args, **kwargs)

    mark_builtin(make)
    make.__name__ = typename
    return make


COLLECTIONS_MEMBERS: dict[str, Rule] = {
    "OrderedDict": _rule("a dict in insertion order; its items are taken as the program's "
                         "own list() takes them (counted, bounded)"),
    "defaultdict": Rule(Cost.FREE, guard=_guard_defaultdict,
                        note="its factory is a container built-in or the program's own "
                        "function, called through the interpreter"),
    "Counter": _rule("counts items taken as list() takes them (counted, bounded); no "
                     "elements() (it would repeat each item by its count)"),
    "deque": _rule("its items are taken as list() takes them; grows one step at a time, "
                   "as a list; no extend (one C loop over any iterable)"),
    "namedtuple": _rule("field and type names checked to be plain identifiers before "
                        "CPython builds the class from them as source; types per program "
                        "bounded"),
}
# Attributes and methods of what collections makes (the dict subclasses also have the dict's).
DICT_LIKE_EXTRA: dict[type, frozenset[str]] = {
    collections.Counter: frozenset({"most_common", "total"}),
    collections.defaultdict: frozenset()}
DEQUE_METHODS = frozenset({"append", "appendleft", "pop", "popleft", "clear", "rotate",
                           "count", "index", "copy", "remove", "reverse"})


# ============================================================================ itertools
def count(ctx: Any, start: Any = 0, step: Any = 1) -> CountedIterator:
    for value in (start, step):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError("itertools.count() takes numbers")
    return CountedIterator(ctx, itertools.count(start, step))


def repeat(ctx: Any, value: Any, times: Any = None) -> CountedIterator:
    inner = itertools.repeat(value) if times is None else \
        itertools.repeat(value, _count(times, "repeat's times"))
    return CountedIterator(ctx, inner)


def cycle(ctx: Any, iterable: Any) -> CountedIterator:
    return CountedIterator(ctx, itertools.cycle(_items(ctx, iterable)))


def chain(ctx: Any, *iterables: Any) -> CountedIterator:
    return CountedIterator(ctx, itertools.chain.from_iterable(
        _lazy(ctx, iterable) for iterable in iterables))


def chain_from_iterable(ctx: Any, iterables: Any) -> CountedIterator:
    # The outer iterator is counted too: empty inner iterables yield nothing while C walks on.
    outer = _lazy(ctx, iterables)
    if not isinstance(outer, CountedIterator):
        outer = CountedIterator(ctx, outer)
    return CountedIterator(ctx, itertools.chain.from_iterable(
        _lazy(ctx, iterable) for iterable in outer))


def islice(ctx: Any, iterable: Any, *bounds: Any) -> CountedIterator:
    # Security: islice skips the items before start (and between steps) in one C loop:
    # islice(range(10**15), 10**14, None) never returned. Each item it takes is a step too.
    source = _lazy(ctx, iterable)
    if not isinstance(source, CountedIterator):
        source = CountedIterator(ctx, source)
    return UncountedIterator(ctx, itertools.islice(source, *bounds))


def zip_longest(ctx: Any, *iterables: Any, fillvalue: Any = None) -> CountedIterator:
    return CountedIterator(ctx, itertools.zip_longest(
        *(_lazy(ctx, iterable) for iterable in iterables), fillvalue=fillvalue))


def pairwise(ctx: Any, iterable: Any) -> CountedIterator:
    return CountedIterator(ctx, itertools.pairwise(_lazy(ctx, iterable)))


def accumulate(ctx: Any, iterable: Any, func: Any = None, *,
               initial: Any = None) -> CountedIterator:
    # Python's own loop: the default + goes through the interpreter's operator (sized like
    # a + b in the program), a given func through its call path.
    def combine(total: Any, item: Any) -> Any:
        if func is None:
            return ctx.binop(ast.Add, total, item)
        return ctx.call(func, (total, item), {})

    def run() -> Iterator[Any]:
        items = _lazy(ctx, iterable)
        total = initial
        if total is None:
            try:
                total = next(items)
            except StopIteration:
                return
        yield total
        for item in items:
            total = combine(total, item)
            yield total

    return CountedIterator(ctx, run())


def _combinatoric(ctx: Any, label: str, width: int, count: Callable[[int], int | None]) -> None:
    """Refuse before iterating when the tuples would hold more than max_sequence_items
    items in all (CPython also builds a width-long index list up front)."""
    limit = ctx.settings.max_sequence_items
    if width > limit:
        raise _too_many(label, None, limit)
    total = count(limit)
    if total is None or total * max(width, 1) > limit:
        raise _too_many(label, total, limit)


def _power(base: int, times: int, cap: int) -> int | None:
    if base <= 1 or times == 0:
        return 1 if times == 0 else base
    return _capped_product(itertools.repeat(base, times), cap)  # stops past cap: few rounds


def product(ctx: Any, *iterables: Any, repeat: Any = 1) -> CountedIterator:
    times = _count(repeat, "product's repeat")
    limit = ctx.settings.max_sequence_items
    # CPython builds the list pools * repeat up front: product(range(2), repeat=10**9).
    width = len(iterables) * times if times <= limit else limit + 1

    def check(lengths: list[int]) -> None:
        def total(cap: int) -> int | None:
            base = _capped_product(lengths, cap)
            return None if base is None else _power(base, times, cap)
        _combinatoric(ctx, "itertools.product", width, total)

    sized = [_known_length(iterable) for iterable in iterables]
    if all(length is not None for length in sized):  # refused before taking any item
        check([length for length in sized if length is not None])
    pools = [_items(ctx, iterable) for iterable in iterables]
    check([len(pool) for pool in pools])
    return CountedIterator(ctx, itertools.product(*pools, repeat=times))


def _known_length(value: Any) -> int | None:
    if not isinstance(value, (list, tuple, range, str, dict, set)):
        return None
    try:
        return len(value)
    except OverflowError:  # range(10**20)
        return 2**63


def _falling(n: int, r: int, cap: int) -> int | None:
    return _capped_product(range(n, n - r, -1), cap) if r <= n else 0


def _binomial(n: int, r: int, cap: int) -> int | None:
    if r > n:
        return 0
    r = min(r, n - r)
    total = 1
    for i in range(r):
        total = total * (n - i) // (i + 1)
        if total > cap:
            return None
    return total


def permutations(ctx: Any, iterable: Any, r: Any = None) -> CountedIterator:
    pool = _items(ctx, iterable)
    size = len(pool) if r is None else _count(r, "permutations' r")
    _combinatoric(ctx, "itertools.permutations", size,
                  lambda cap: _falling(len(pool), size, cap))
    return CountedIterator(ctx, itertools.permutations(pool, size))


def combinations(ctx: Any, iterable: Any, r: Any) -> CountedIterator:
    pool = _items(ctx, iterable)
    size = _count(r, "combinations' r")
    _combinatoric(ctx, "itertools.combinations", size,
                  lambda cap: _binomial(len(pool), size, cap))
    return CountedIterator(ctx, itertools.combinations(pool, size))


def combinations_with_replacement(ctx: Any, iterable: Any, r: Any) -> CountedIterator:
    pool = _items(ctx, iterable)
    size = _count(r, "combinations_with_replacement's r")
    _combinatoric(ctx, "itertools.combinations_with_replacement", size,
                  lambda cap: _binomial(len(pool) + size - 1, size, cap) if pool else
                  (1 if size == 0 else 0))
    return CountedIterator(ctx, itertools.combinations_with_replacement(pool, size))


_LAZY = "lazy: each item it yields is a step of the budget"
_COMBINATORIC = ("its inputs are taken as list() takes them, and the number of items it "
                 "would yield is computed (capped) and refused past max_sequence_items before "
                 "it starts; each item is a step")
ITERTOOLS_MEMBERS: dict[str, Rule] = {
    "count": _rule("endless but lazy: each number is a step, so a loop over it stops at "
                   "max_steps"),
    "repeat": _rule("lazy whatever times says: each item is a step"),
    "cycle": _rule("its input is taken as list() takes it; endless but each item is a step"),
    "chain": _rule(_LAZY), "islice": _rule(_LAZY), "zip_longest": _rule(_LAZY),
    "pairwise": _rule(_LAZY),
    "accumulate": _rule(_LAZY + "; + is the interpreter's (sized), func is called through "
                        "the interpreter"),
    "product": _rule(_COMBINATORIC), "permutations": _rule(_COMBINATORIC),
    "combinations": _rule(_COMBINATORIC), "combinations_with_replacement": _rule(_COMBINATORIC),
}


# ============================================================================ functools
def partial(ctx: Any, func: Any, *args: Any, **kwargs: Any) -> Callable[..., Any]:
    """A function that calls ``func`` through the interpreter's call path, so it can do
    exactly what calling ``func`` directly can (the budget and the policy apply per call)."""
    def call(*more: Any, **more_kwargs: Any) -> Any:
        return ctx.call(func, (*args, *more), {**kwargs, **more_kwargs})

    call.__name__ = call.__qualname__ = "partial"
    return mark_builtin(call)


_NO_INITIAL = object()


def reduce(ctx: Any, function: Any, iterable: Any, initial: Any = _NO_INITIAL) -> Any:
    items = _lazy(ctx, iterable)
    total = initial
    if total is _NO_INITIAL:
        try:
            total = next(items)
        except StopIteration:
            raise TypeError("reduce() of empty iterable with no initial value") from None
    for item in items:
        ctx.budget.step()
        total = ctx.call(function, (total, item), {})
    return total


FUNCTOOLS_MEMBERS: dict[str, Rule] = {
    "partial": _rule("the function it makes calls the given one through the interpreter's "
                     "vetted call path: no more than calling it directly"),
    "reduce": _rule("a loop in the interpreter: each item is a step and each call goes "
                    "through the vetted call path"),
}


# ============================================================================ copy
# Shared, not copied, by deepcopy (plain functions too: torch's own and the playground's; a
# program's own function is an object holding the interpreter and is refused; an RNN's weak
# references to its weights).
_ATOMS = (type(None), bool, int, float, complex, str, range, slice, torch.dtype, torch.device,
          torch.Size, torch.layout, np.dtype, np.generic, type(Ellipsis), types.FunctionType,
          types.BuiltinFunctionType, weakref.ReferenceType)


def predict_copy_bytes(ctx: Any, value: Any, label: str) -> int:
    """What copy.deepcopy(value) would allocate: tensor and array storages (each once, as
    deepcopy's memo does, with their gradients), and 64 bytes per Python object. Refuses
    anything it cannot size: functions (a program's function holds the interpreter), torch
    objects other than tensors and modules, optimizers."""
    from app.engine.interpreter import BoundUserMethod, UserFunction

    limit = ctx.settings.max_sequence_items
    seen: set[int] = set()
    storages: set[int] = set()  # data pointers, apart from object ids
    total = 0
    objects = 0
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        objects += 1
        if objects > limit:
            raise LimitError(Message("{label}: the value holds more than {limit:,} Python objects "
                                     "(setting max_sequence_items)",
                                     label=label, limit=limit),
                             hint=Message("Copy a smaller part."),
                             predicted=True)
        if isinstance(item, _ATOMS):
            total += len(item) if type(item) is str else 0
            continue
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += 64
        if isinstance(item, torch.Tensor):
            storage = item.untyped_storage()
            if storage.data_ptr() not in storages:
                storages.add(storage.data_ptr())
                total += storage.nbytes()
            if item.grad is not None:
                stack.append(item.grad)
        elif isinstance(item, np.ndarray):
            total += item.nbytes
        elif type(item) in (list, tuple, set, frozenset, PlaygroundDeque) \
                or isinstance(item, PlaygroundNamedTuple):
            stack.extend(item)
        elif isinstance(item, dict):  # dict, OrderedDict, defaultdict, Counter
            stack.extend(item.keys())
            stack.extend(item.values())
            if isinstance(item, collections.defaultdict) and item.default_factory is not None:
                raise _uncopyable(label, "a defaultdict (its factory is a function)")
        elif isinstance(item, nn.Module) or type(item) in ctx.user_classes:
            if type(item) not in ctx.user_classes and not _is_torch_module(type(item)):
                raise _uncopyable(label, f"a {type(item).__name__}")
            stack.extend(vars(item).values())
            if isinstance(item, BaseException):
                # Security: deepcopy copies an exception's args too (BaseException.__reduce__):
                # unsized, copy.deepcopy(E(f)) copied f's live interpreter, globals and all.
                stack.extend(item.args)
        elif isinstance(item, (UserFunction, BoundUserMethod)) or callable(item):
            raise _uncopyable(label, "a function (functions are shared, not copied: keep "
                              "them out of what you copy)")
        else:
            raise _uncopyable(label, f"a {type(item).__name__}")
    return total


def _is_torch_module(cls: type) -> bool:
    return cls.__module__.startswith("torch.nn.")


def _uncopyable(label: str, what: str) -> ForbiddenError:
    return ForbiddenError(Message("{label} cannot copy {what} in the playground",
                                  label=label, what=what),
                          hint=Message("Copy tensors (x.clone()), lists, dicts and modules; build "
                                       "an optimizer again over the copied model's parameters."))


def deepcopy(ctx: Any, value: Any) -> Any:
    ctx.budget.check_bytes("copy.deepcopy", predict_copy_bytes(ctx, value, "copy.deepcopy"))
    result = pycopy.deepcopy(value)
    _track_copied(ctx, result)
    return result


def copy(ctx: Any, value: Any) -> Any:
    """A shallow copy of a container (each item shared), each item a step as in list(x);
    tensors, arrays and modules are copied as deepcopy copies them (Python's copy.copy of a
    tensor pickles it)."""
    if type(value) in (list, dict, set, collections.OrderedDict, collections.Counter,
                       collections.defaultdict, PlaygroundDeque):
        _items(ctx, value)
        return pycopy.copy(value)
    if isinstance(value, _ATOMS) or type(value) is tuple:
        return value
    return deepcopy(ctx, value)


def _track_copied(ctx: Any, value: Any) -> None:
    """The copy's tensors count toward max_total_bytes like any the program made."""
    found: list[Any] = []
    stack = [value]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if isinstance(item, _ATOMS) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, (torch.Tensor, np.ndarray)):
            found.append(item)
        elif isinstance(item, (list, tuple, set, frozenset, collections.deque)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif hasattr(item, "__dict__"):
            stack.extend(vars(item).values())
            if isinstance(item, BaseException):  # copied with its args (see above)
                stack.extend(item.args)
    for item in found:
        ctx.budget.live.track(item)


COPY_MEMBERS: dict[str, Rule] = {
    "deepcopy": _rule("sized before copying (storages, gradients, Python objects); refuses "
                      "what it cannot size (functions, optimizers, other objects); the copy "
                      "is counted as live memory"),
    "copy": _rule("shallow copies of containers (bounded); anything else is a deepcopy"),
}


# ============================================================================ pprint
# What pprint lays out itself (the rest it writes with repr): the containers, and atoms whose
# repr is the playground's own (bounded: tensors print summarised past 1,000 elements).
_PPRINT_CONTAINERS = (list, tuple, dict, set, frozenset, collections.OrderedDict)
_PPRINT_ATOMS = frozenset({type(None), bool, int, float, complex, str, torch.dtype,
                           torch.device, torch.Size})
_PPRINT_ARRAYS = (torch.Tensor, np.ndarray, np.number, np.bool_)
_PPRINT_MAX_DEPTH = 50


def _pprint_checked(ctx: Any, value: Any) -> None:
    """Security: pprint walks containers recursively in C-speed Python and calls repr() on
    everything else. Only containers and known atoms are accepted (a program object's
    __repr__ would run outside the interpreter), nesting is shallow, the item count is
    bounded, and a container that holds itself (pprint writes its id, a memory address) is
    refused."""
    limit = ctx.settings.max_pprint_items
    seen = 0
    stack: list[tuple[Any, int, frozenset[int]]] = [(value, 0, frozenset())]
    while stack:
        item, depth, above = stack.pop()
        if type(item) in _PPRINT_CONTAINERS:
            if id(item) in above:
                raise ValueError("pprint: this container holds itself; print it instead")
            if depth >= _PPRINT_MAX_DEPTH:
                raise LimitError(Message("pprint: containers nested more than {limit} "
                                         "deep",
                                         limit=_PPRINT_MAX_DEPTH),
                                 hint=Message("Print the inner part instead."))
            children = [x for pair in item.items() for x in pair] \
                if isinstance(item, dict) else list(item)
            seen += len(children)
            if seen > limit:
                raise LimitError(Message("pprint would lay out more than {limit:,} items (setting "
                                         "max_pprint_items)",
                                         limit=limit),
                                 hint=Message("Print a part of it, or use print()."),
                                 predicted=True)
            inner = above | {id(item)}
            stack.extend((child, depth + 1, inner) for child in children)
        elif type(item) not in _PPRINT_ATOMS and not isinstance(item, _PPRINT_ARRAYS):
            raise TypeError(f"pprint lays out lists, tuples, dicts, sets, numbers, strings, "
                            f"tensors and arrays, not {type(item).__name__}; use print() for "
                            "it")
        elif type(item) is int and item.bit_length() > 10_000:
            raise LimitError(Message("pprint: an integer of more than 10,000 bits"),
                             hint=Message("Print a smaller number."))


def _pprint_options(ctx: Any, indent: Any, width: Any, depth: Any, compact: Any,
                    sort_dicts: Any) -> dict[str, Any]:
    widest = ctx.settings.max_pprint_width
    for name, number, low, high in (("indent", indent, 0, 16), ("width", width, 1, widest)):
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            raise ValueError(f"pprint: {name}= takes a whole number from {low} to {high}"
                             + (" (setting max_pprint_width)" if name == "width" else ""))
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int)
                              or depth < 1):
        raise ValueError("pprint: depth= takes a whole number of 1 or more, or None")
    for name, flag in (("compact", compact), ("sort_dicts", sort_dicts)):
        if not isinstance(flag, bool):
            raise TypeError(f"pprint: {name}= takes True or False")
    return {"indent": indent, "width": width, "depth": depth, "compact": compact,
            "sort_dicts": sort_dicts}


def pformat(ctx: Any, value: Any, indent: Any = 1, width: Any = 80, depth: Any = None, *,
            compact: Any = False, sort_dicts: Any = True) -> str:
    options = _pprint_options(ctx, indent, width, depth, compact, sort_dicts)
    _pprint_checked(ctx, value)
    text = pypprint.pformat(value, **options)
    return without_addresses(text)


def pprint_(ctx: Any, value: Any, stream: Any = None, indent: Any = 1, width: Any = 80,
            depth: Any = None, *, compact: Any = False, sort_dicts: Any = True) -> None:
    if stream is not None:
        raise ForbiddenError(Message("pprint(stream=...) is not available: pprint writes to the "
                                     "output below the program"), ctx.line,
                             hint=Message("Leave out stream=."))
    ctx.builtins["print"](pformat(ctx, value, indent, width, depth, compact=compact,
                                  sort_dicts=sort_dicts))


PPRINT_MEMBERS: dict[str, Rule] = {
    "pprint": _rule("lists, tuples, dicts, sets, numbers, strings and tensors only (nesting "
                    "and items bounded); writes through print's bounded output"),
    "pformat": _rule("as pprint, returning the text"),
    "pp": _rule("pprint with sort_dicts=False"),
}


def pp(ctx: Any, value: Any, *args: Any, sort_dicts: Any = False, **kwargs: Any) -> None:
    pprint_(ctx, value, *args, sort_dicts=sort_dicts, **kwargs)


# ============================================================================ timeit, typing
TIMEIT_MEMBERS: dict[str, Rule] = {
    "default_timer": Rule(Cost.SCALAR, note="time.perf_counter: reads a clock"),
}
# Annotation-only names: a program writes them in signatures (which the interpreter does not
# evaluate) and in aliases such as Vector = List[float].
TYPING_NAMES_SHOWN = ("List", "Dict", "Tuple", "Optional", "Union", "Any", "Callable",
                      "Iterable", "Sequence")
TYPING_REFUSALS: dict[str, tuple[Message, Message]] = {
    "*": (Message("the playground offers typing's annotation names only ({names})",
                  names=", ".join(TYPING_NAMES_SHOWN)),
          Message("Leave the annotation out; it does not change what the program does.")),
}
TYPING_NAMES = TYPING_NAMES_SHOWN


# ============================================================================ namespaces
def _namespace(name: str, functions: dict[str, Any], rules: dict[str, Rule]) -> Namespace:
    assert functions.keys() == rules.keys(), name
    members = {member: _entry(function) if rules[member].guard is not None else function
               for member, function in functions.items()}
    return Namespace(name, members, rules)


# Methods of the functions here, as tables of their own (itertools.chain.from_iterable).
FUNCTION_METHODS: dict[str, dict[str, Rule]] = {
    "chain": {"from_iterable": _rule("lazy: each item, and each inner iterable it opens, is "
                                     "a step")},
}
_FUNCTION_METHOD_IMPLEMENTATIONS: dict[str, dict[str, Callable[..., Any]]] = {
    "chain": {"from_iterable": chain_from_iterable},
}


def _with_methods(namespace: Namespace) -> Namespace:
    for member, methods in _FUNCTION_METHOD_IMPLEMENTATIONS.items():
        function = namespace.members.get(member)
        if function is None:
            continue
        function.playground_methods = FUNCTION_METHODS[member]
        function.playground_label = f"{namespace.name}.{member}"
        for name, implementation in methods.items():
            setattr(function, name, _entry(implementation))
    return namespace


def build_stdlib_namespaces() -> dict[str, Namespace]:
    os_path = Namespace("os.path", {}, {}, OS_PATH_REFUSALS)
    return {
        "time": _namespace("time", {"time": pytime.time, "perf_counter": pytime.perf_counter,
                                    "monotonic": pytime.monotonic, "sleep": sleep},
                           TIME_MEMBERS),
        "os": Namespace("os", {}, {}, OS_REFUSALS),
        "os.path": os_path,
        "sys": Namespace("sys", {}, {}, SYS_REFUSALS),
        "collections": _namespace("collections", {
            "OrderedDict": ordered_dict, "defaultdict": defaultdict, "Counter": counter,
            "deque": deque, "namedtuple": namedtuple}, COLLECTIONS_MEMBERS),
        "itertools": _with_methods(_namespace("itertools", {
            "count": count, "repeat": repeat, "cycle": cycle, "chain": chain,
            "islice": islice, "zip_longest": zip_longest, "pairwise": pairwise,
            "accumulate": accumulate, "product": product, "permutations": permutations,
            "combinations": combinations,
            "combinations_with_replacement": combinations_with_replacement},
            ITERTOOLS_MEMBERS)),
        "functools": _namespace("functools", {"partial": partial, "reduce": reduce},
                                FUNCTOOLS_MEMBERS),
        "copy": _namespace("copy", {"deepcopy": deepcopy, "copy": copy}, COPY_MEMBERS),
        "pprint": _namespace("pprint", {"pprint": pprint_, "pformat": pformat, "pp": pp},
                             PPRINT_MEMBERS),
        "timeit": _namespace("timeit", {"default_timer": pytime.perf_counter}, TIMEIT_MEMBERS),
        "typing": Namespace("typing", {name: AnnotationName(name) for name in TYPING_NAMES},
                            {}, TYPING_REFUSALS),
    }


def attribute_table(obj: Any) -> tuple[frozenset[str], dict[str, Rule], str] | None:
    """Attributes and methods of the values collections makes (None for anything else)."""
    if isinstance(obj, PlaygroundNamedTuple):
        fields = frozenset(getattr(obj, "_fields", ()))  # a field may be named count
        return fields, _free(frozenset({"count", "index"}) - fields), type(obj).__name__
    if type(obj) is PlaygroundDeque:
        return frozenset({"maxlen"}), _free(DEQUE_METHODS), "deque"
    if isinstance(obj, types.FunctionType) and hasattr(obj, "playground_methods"):
        return frozenset(), obj.playground_methods, getattr(obj, "playground_label", "function")
    if isinstance(obj, np.finfo):
        return _FINFO_ATTRIBUTES, {}, "numpy.finfo"
    if isinstance(obj, np.number | np.bool_):  # np.finfo(np.float32).eps.item()
        return frozenset({"dtype"}), _NUMPY_SCALAR_METHODS, type(obj).__name__
    extra = DICT_LIKE_EXTRA.get(type(obj))
    if extra is not None:
        from app.engine.policy import DICT_METHODS
        return frozenset(), _free(DICT_METHODS | extra), type(obj).__name__
    return None


_NUMPY_SCALAR_METHODS: dict[str, Rule] = {
    "item": Rule(Cost.FREE, note="the Python number of a numpy scalar")}
_FINFO_ATTRIBUTES = frozenset({"bits", "eps", "max", "min", "tiny", "resolution", "dtype",
                               "smallest_normal", "precision"})


def _free(names: frozenset[str]) -> dict[str, Rule]:
    return {name: Rule(Cost.FREE, note="a container method") for name in names}
