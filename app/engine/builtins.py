"""The Python built-ins a program can call: a short list, each guarded against sizes that one
C call could never return from (``max(range(10**18))``, ``list(range(10**12))``)."""

from __future__ import annotations

import ast
import builtins as py
import itertools
import types
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.utils import data as tud

from app.config import get_settings
from app.engine.errors import ForbiddenError, LimitError
from app.engine.exceptions import EXCEPTION_CLASSES
from app.engine.formatting import format_value, value_text
from app.engine.marks import mark_builtin
from app.engine.members import ClassMethod, Property, StaticMethod, TypeRef, Uncopyable
from app.engine.reflection import make_reflection_builtins, type_identity
from app.engine.text import without_addresses
from app.inspect.reprs import TextLimits, bounded_text
from app.message import Message

if TYPE_CHECKING:
    from app.engine.interpreter import Interpreter

# Types a program may pass to isinstance(): the ones it can name anyway.
_ISINSTANCE_TYPES: tuple[type, ...] = (
    int, float, bool, str, list, tuple, dict, set, torch.Tensor, nn.Module, nn.Parameter,
    torch.Size, torch.dtype, torch.device, np.ndarray, tud.Dataset, tud.DataLoader,
)


class _CountedIterator(Iterator[Any], Uncopyable):
    """Iterates for the program, counting each item as a step of the budget."""

    playground_iterator = True

    def __init__(self, interp: Interpreter, inner: Iterator[Any]) -> None:
        self.interp = interp
        self.inner = inner

    def __next__(self) -> Any:
        self.interp.budget.step()
        return next(self.inner)

    def __repr__(self) -> str:
        return f"<{type(self.inner).__name__} object>"  # as Python's, not this module's path


def make_builtins(interp: Interpreter) -> dict[str, Callable[..., Any]]:
    settings = interp.settings

    def counted(iterable: Any) -> Iterator[Any]:
        if isinstance(iterable, range) and len(iterable) > settings.max_sequence_items:
            raise LimitError(Message("a range of {length:,} items is larger than the limit of "
                                     "{max_sequence_items:,} for one built-in call (setting "
                                     "max_sequence_items)",
                                     length=len(iterable),
                                     max_sequence_items=settings.max_sequence_items),
                             hint=Message("Use torch.arange for large ranges."))
        return _CountedIterator(interp, interp.iterate(iterable))

    def sized(items: Iterable[Any]) -> list[Any]:
        result = list(itertools.islice(items, settings.max_sequence_items + 1))
        if len(result) > settings.max_sequence_items:
            raise LimitError(Message("more than {max_sequence_items:,} items (setting "
                                     "max_sequence_items)",
                                     max_sequence_items=settings.max_sequence_items))
        return result

    def print_(*args: Any, sep: str | None = " ", end: str | None = "\n", flush: bool = False,
               **others: Any) -> None:
        if "file" in others:
            raise ForbiddenError(Message("print(file=...) is not available: print writes to the "
                                         "output below the program, files and streams are not "
                                         "reachable"), interp.line,
                                 hint=Message("Leave out file=."))
        if others:
            raise TypeError(f"print() got an unexpected keyword argument '{next(iter(others))}'")
        for name, given in (("sep", sep), ("end", end)):
            if given is not None and type(given) is not str:
                raise TypeError(f"{name} must be None or a string, not {type(given).__name__}")
        sep = " " if sep is None else sep
        end = "\n" if end is None else end
        # Security: str() of a container repeats shared items, so print([s] * 10**6) with a
        # 1M-character s built 10**12 characters in one C call. Text past max_stdout_chars is
        # dropped anyway: build it piece by piece and stop there.
        room = max(settings.max_stdout_chars - interp.stdout_chars, 0) + 1
        pieces: list[str] = []
        size = 0
        for piece in _print_pieces(args, sep, end):
            pieces.append(piece[:room - size])
            size += len(pieces[-1])
            if size >= room:
                break
        interp.write_stdout("".join(pieces))

    def len_(value: Any) -> int:
        return py.len(value)

    def range_(*args: int) -> range:
        return py.range(*args)

    def list_(iterable: Any = ()) -> list[Any]:
        return sized(counted(iterable))

    def tuple_(iterable: Any = ()) -> tuple[Any, ...]:
        return tuple(sized(counted(iterable)))

    def set_(iterable: Any = ()) -> set[Any]:
        return set(sized(counted(iterable)))

    def dict_(*args: Any, **kwargs: Any) -> dict[Any, Any]:
        if args and isinstance(args[0], dict):  # a copy of a mapping, as in Python
            return py.dict(sized(counted(args[0].items())), **kwargs)
        if args:
            return py.dict(sized(counted(args[0])), **kwargs)
        return py.dict(**kwargs)

    def enumerate_(iterable: Any, start: int = 0) -> Iterator[tuple[int, Any]]:
        return _CountedIterator(interp, py.enumerate(interp.iterate(iterable), start))

    def zip_(*iterables: Any, strict: bool = False) -> Iterator[tuple[Any, ...]]:
        inner = py.zip(*(interp.iterate(i) for i in iterables), strict=strict)
        return _CountedIterator(interp, inner)

    def reversed_(sequence: Any) -> Iterator[Any]:
        if not isinstance(sequence, (list, tuple, range, str)):
            raise TypeError("reversed() works on lists, tuples, ranges and strings here")
        return _CountedIterator(interp, py.reversed(sequence))

    def aggregate(function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if "key" in kwargs and kwargs["key"] is not None:
                key = kwargs["key"]
                if not callable(key) or isinstance(key, type):
                    raise TypeError("key must be a function")
                # Security: the key is called from C; a torch function or layer as the key
                # (key=torch.ones) would skip the budget, so it is called as the program would.
                kwargs = {**kwargs, "key": interp.callback(key)}
            if args and (len(args) == 1 or function is py.sum) \
                    and not isinstance(args[0], (int, float)):
                # Security: every item is a step, also for sum(iterable, start) (sum(range(10**18),
                # 0) never returned) and for tensors (one C loop over all their items).
                items = sized(counted(args[0]))
                if function is py.sum:
                    start = args[1] if len(args) > 1 else kwargs.get("start", 0)
                    return _guarded_sum(interp, items, start)
                return function(items, **kwargs)
            return function(*args, **kwargs)
        return call

    def isinstance_(value: Any, kinds: Any) -> bool:
        given = kinds if isinstance(kinds, tuple) else (kinds,)
        # int() and str() here are functions standing for their classes; type(x) a TypeRef.
        candidates = tuple(type_identity(kind) for kind in given)
        for kind, written in zip(candidates, given, strict=True):
            if not (kind in _ISINSTANCE_TYPES or kind in interp.user_classes
                    or kind in EXCEPTION_CLASSES.values() or isinstance(written, TypeRef)
                    or (isinstance(kind, type) and id(kind) in interp.vetted)):
                raise ForbiddenError(Message("isinstance() accepts built-in, torch and your own "
                                             "classes only"), interp.line)
        return py.isinstance(value, candidates)

    def iter_(value: Any) -> Iterator[Any]:
        return _CountedIterator(interp, interp.iterate(value))

    def next_(iterator: Any, *default: Any) -> Any:
        if not isinstance(iterator, Iterator):
            raise TypeError(f"'{type(iterator).__name__}' object is not an iterator")
        item = py.next(iterator, *default)
        if isinstance(iterator, types.GeneratorType):
            # next(model.parameters()): torch's generator, its item passes the gate as in a
            # for loop (a lazy layer's uninitialised parameter does not).
            interp.admission.admit(item, "next()")
        return item

    def abs_(value: Any) -> Any:
        # abs(tensor) and abs(array) allocate like -x: the interpreter's unary path sizes them.
        return interp.unary("abs", py.abs, value)

    def round_(number: Any, ndigits: int | None = None) -> Any:
        # Security: round(1, -10**8) computes 10**(10**8) in one C call. Once 10**-ndigits is
        # more than twice the int, the result is 0 (Python's answer, without the power).
        if isinstance(number, int) and isinstance(ndigits, int) and ndigits < 0 \
                and -ndigits > number.bit_length() + 1:
            return 0
        return py.round(number, ndigits)

    def int_(value: Any = 0, base: int | None = None) -> int:
        if isinstance(value, str) and len(value) > 100:
            raise LimitError(Message("int() of a string longer than 100 characters"))
        return py.int(value) if base is None else py.int(value, base)

    def str_(value: Any = "") -> str:
        # The text print() writes, bounded: never an object's own (program-reachable) __str__.
        if isinstance(value, TypeRef):
            return repr(value)
        if isinstance(value, BaseException):
            return exception_text(value)
        return value_text(value, True, settings)

    def repr_(value: Any) -> str:
        return value_text(value, False, settings)

    def format_(value: Any, spec: str = "") -> str:
        if type(spec) is not str:
            raise TypeError(f"format() argument 2 must be str, not {type(spec).__name__}")
        return format_value(value, spec, settings)

    functions: dict[str, Callable[..., Any]] = {
        "print": print_, "len": len_, "range": range_, "list": list_, "tuple": tuple_,
        "set": set_, "dict": dict_, "enumerate": enumerate_, "zip": zip_,
        "reversed": reversed_, "sum": aggregate(py.sum), "min": aggregate(py.min),
        "max": aggregate(py.max), "sorted": aggregate(py.sorted), "any": aggregate(py.any),
        "all": aggregate(py.all), "abs": abs_, "round": round_, "int": int_,
        "float": py.float, "bool": py.bool, "str": str_, "isinstance": isinstance_,
        "iter": iter_, "next": next_, "divmod": py.divmod, "pow": _pow(interp),
        "repr": repr_, "format": format_,
        **make_reflection_builtins(interp),
    }
    for name, function in functions.items():
        if isinstance(function, types.FunctionType):
            mark_builtin(function)
            # print(print) and len()'s TypeError name the built-in, not this module's
            # closures (make_builtins.<locals>.len_).
            function.__name__ = function.__qualname__ = name
        else:  # C built-ins (abs, float ...) take no attributes
            interp.vetted[id(function)] = (function.__name__, _SCALAR_RULE)
    for function, cls in ((int_, int), (str_, str), (list_, list), (tuple_, tuple),
                          (set_, set), (dict_, dict)):
        function.playground_type = cls  # type: ignore[union-attr]  # type(3) is int
    values: dict[str, Any] = {"True": True, "False": False, "None": None, **EXCEPTION_CLASSES,
                              "staticmethod": StaticMethod, "classmethod": ClassMethod,
                              "property": Property}
    return {**values, **functions}


def _guarded_sum(interp: Interpreter, items: list[Any], start: Any) -> Any:
    """sum(items, start); a list/tuple start concatenates, each step guarded
    (sum([[0] * 10**6] * 10**6, []) was 10**12 items in one C call)."""
    if any(isinstance(v, (torch.Tensor, np.ndarray)) for v in (start, *items)):
        # Security: each + of tensors or arrays allocates; summed in C they were never
        # predicted (sum([x.expand(8, 6 * 10**7)] * 2) asked for 1.9 GB at once).
        total = start
        for item in items:
            interp.budget.step()
            total = interp.binop(ast.Add, total, item)
        return total
    if not isinstance(start, (list, tuple)):
        total = py.sum(items, start)
        if isinstance(total, int) and total.bit_length() > interp.settings.max_int_bits:
            raise LimitError(Message("the sum has more than {max_int_bits:,} bits (setting "
                                     "max_int_bits)", max_int_bits=interp.settings.max_int_bits))
        return total
    from app.engine.safety import guard_binop

    total = start
    for item in items:
        interp.budget.step()
        guard_binop(ast.Add, total, item, interp.settings)
        total = total + item
    return total


def bounded_repr(value: Any, limit: int) -> str:
    """repr(value), cut after ``limit`` characters without building the rest: the repr of
    (s,) * 10**6 with a 1M-character s is 10**12 characters."""
    pieces: list[str] = []
    size = 0
    for piece in _text_pieces(value, False, set()):
        pieces.append(piece[:limit + 1 - size])
        size += len(pieces[-1])
        if size > limit:
            return "".join(pieces)[:limit] + " …"
    return "".join(pieces)


def _print_pieces(args: tuple[Any, ...], sep: str, end: str) -> Iterator[str]:
    """What print(*args, sep=sep, end=end) writes, in pieces (str of lists, tuples, sets and
    dicts as Python writes it; other values by their own str/repr)."""
    for index, arg in enumerate(args):
        if index:
            yield sep
        yield from _text_pieces(arg, True, set())
    yield end


# Containers nested deeper than this print as "…": the text of a 3,000-deep tuple (a dict
# key in a KeyError, a printed value) hit Python's recursion limit in our own code.
_MAX_TEXT_DEPTH = 100


def _object_text(value: Any, top: bool) -> str:
    """str/repr of one non-container value: bounded in size and work (a tensor expanded to
    6**12 elements, a layer built with a 10**5-item tuple, an optimizer's groups), never
    with a memory address in it."""
    if type(value) in (int, float, bool, complex, type(None)):
        return py.str(value) if top else py.repr(value)
    settings = get_settings()
    limits = TextLimits(settings.max_stdout_chars, settings.max_repr_elements,
                        settings.max_view_dims, settings.max_view_items)
    try:
        text = bounded_text(value, limits, as_str=top)
    except RecursionError:  # a module nested thousands deep repr()s itself recursively
        return f"<{type(value).__name__}: too deeply nested to show>"
    return without_addresses(text)


def exception_text(error: BaseException) -> str:
    """str(error), bounded in size and work."""
    arguments = error.args
    if len(arguments) == 1 and type(arguments[0]) is str and not isinstance(error, KeyError):
        return arguments[0]  # NameError and AttributeError have a str() of their own
    return _object_text(error, True)


def _text_pieces(value: Any, top: bool, active: set[int], depth: int = 0) -> Iterator[str]:
    kind = type(value)
    if kind is str:
        yield value if top else py.repr(value)
        return
    if kind not in (list, tuple, set, dict):
        yield _object_text(value, top)
        return
    if depth >= _MAX_TEXT_DEPTH:
        yield "…"
        return
    if id(value) in active:  # a list that holds itself, written as Python writes it
        yield "[...]" if kind is list else "{...}"
        return
    if kind is set and not value:
        yield "set()"
        return
    active.add(id(value))
    opening, closing = {list: "[]", tuple: "()", set: "{}", dict: "{}"}[kind]
    yield opening
    for index, item in enumerate(value.items() if kind is dict else value):
        if index:
            yield ", "
        if kind is dict:
            yield from _text_pieces(item[0], False, active, depth + 1)
            yield ": "
            yield from _text_pieces(item[1], False, active, depth + 1)
        else:
            yield from _text_pieces(item, False, active, depth + 1)
    if kind is tuple and len(value) == 1:
        yield ","
    yield closing
    active.discard(id(value))


def _pow(interp: Interpreter) -> Callable[..., Any]:
    def pow_(base: Any, exponent: Any, modulo: int | None = None) -> Any:
        if modulo is not None:
            return py.pow(base, exponent, modulo)
        # base ** exponent as the operator computes it: sized for ints, tensors and arrays
        # (pow(x.expand(8, 6 * 10**7), 2) allocated 1.9 GB unpredicted).
        return interp.binop(ast.Pow, base, exponent)
    return pow_


def _scalar_rule() -> Any:
    from app.engine.policy import Cost, Rule
    return Rule(Cost.SCALAR)


_SCALAR_RULE = _scalar_rule()
