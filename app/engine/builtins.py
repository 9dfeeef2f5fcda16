"""The Python built-ins a program can call: a short list, each guarded against sizes that one
C call could never return from (``max(range(10**18))``, ``list(range(10**12))``)."""

from __future__ import annotations

import builtins as py
import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.utils import data as tud

from app.engine.errors import ForbiddenError, LimitError

if TYPE_CHECKING:
    from app.engine.interpreter import Interpreter

# Types a program may pass to isinstance(): the ones it can name anyway.
_ISINSTANCE_TYPES: tuple[type, ...] = (
    int, float, bool, str, list, tuple, dict, set, torch.Tensor, nn.Module, nn.Parameter,
    torch.Size, torch.dtype, torch.device, np.ndarray, tud.Dataset, tud.DataLoader,
)


class _CountedIterator(Iterator[Any]):
    """Iterates for the program, counting each item as a step of the budget."""

    playground_iterator = True

    def __init__(self, interp: Interpreter, inner: Iterator[Any]) -> None:
        self.interp = interp
        self.inner = inner

    def __next__(self) -> Any:
        self.interp.budget.step()
        return next(self.inner)


def make_builtins(interp: Interpreter) -> dict[str, Callable[..., Any]]:
    settings = interp.settings

    def counted(iterable: Any) -> Iterator[Any]:
        if isinstance(iterable, range) and len(iterable) > settings.max_sequence_items:
            raise LimitError(f"a range of {len(iterable):,} items is larger than the limit of "
                             f"{settings.max_sequence_items:,} for one built-in call (setting "
                             "max_sequence_items)", hint="Use torch.arange for large ranges.")
        return _CountedIterator(interp, interp.iterate(iterable))

    def sized(items: Iterable[Any]) -> list[Any]:
        result = list(itertools.islice(items, settings.max_sequence_items + 1))
        if len(result) > settings.max_sequence_items:
            raise LimitError(f"more than {settings.max_sequence_items:,} items (setting "
                             "max_sequence_items)")
        return result

    def print_(*args: Any, sep: str = " ", end: str = "\n") -> None:
        if not isinstance(sep, str) or not isinstance(end, str):
            raise TypeError("sep and end must be strings")
        interp.write_stdout(sep.join(py.str(a) for a in args) + end)

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
            if len(args) == 1 and not isinstance(args[0], (int, float, torch.Tensor)):
                return function(sized(counted(args[0])), **kwargs)
            return function(*args, **kwargs)
        return call

    def isinstance_(value: Any, kinds: Any) -> bool:
        candidates = kinds if isinstance(kinds, tuple) else (kinds,)
        for kind in candidates:
            if not (kind in _ISINSTANCE_TYPES or kind in interp.user_classes):
                raise ForbiddenError("isinstance() accepts built-in, torch and your own "
                                     "classes only", interp.line)
        return py.isinstance(value, kinds)

    def iter_(value: Any) -> Iterator[Any]:
        return _CountedIterator(interp, interp.iterate(value))

    def next_(iterator: Any, *default: Any) -> Any:
        if not isinstance(iterator, Iterator):
            raise TypeError(f"'{type(iterator).__name__}' object is not an iterator")
        return py.next(iterator, *default)

    def round_(number: Any, ndigits: int | None = None) -> Any:
        return py.round(number, ndigits)

    def int_(value: Any = 0, base: int | None = None) -> int:
        if isinstance(value, str) and len(value) > 100:
            raise LimitError("int() of a string longer than 100 characters")
        return py.int(value) if base is None else py.int(value, base)

    def str_(value: Any = "") -> str:
        # str() of plain numbers and strings only: other objects' __str__ may be user code.
        if isinstance(value, (int, float, bool, str, type(None), torch.dtype, torch.device,
                              torch.Size)):
            return py.str(value)
        raise ForbiddenError("str() works on numbers here; print the object itself",
                             interp.line)

    functions: dict[str, Callable[..., Any]] = {
        "print": print_, "len": len_, "range": range_, "list": list_, "tuple": tuple_,
        "set": set_, "dict": dict_, "enumerate": enumerate_, "zip": zip_,
        "reversed": reversed_, "sum": aggregate(py.sum), "min": aggregate(py.min),
        "max": aggregate(py.max), "sorted": aggregate(py.sorted), "any": aggregate(py.any),
        "all": aggregate(py.all), "abs": py.abs, "round": round_, "int": int_,
        "float": py.float, "bool": py.bool, "str": str_, "isinstance": isinstance_,
        "iter": iter_, "next": next_, "divmod": py.divmod, "pow": _pow(interp),
    }
    for function in functions.values():
        try:
            function.playground_builtin = True  # type: ignore[attr-defined]
        except (AttributeError, TypeError):  # C built-ins (abs, float ...) take none
            interp.vetted[id(function)] = (function.__name__, _SCALAR_RULE)
    values: dict[str, Any] = {"True": True, "False": False, "None": None}
    return {**values, **functions}


def _pow(interp: Interpreter) -> Callable[..., Any]:
    import ast

    from app.engine.safety import guard_binop

    def pow_(base: Any, exponent: Any, modulo: int | None = None) -> Any:
        if modulo is not None:
            return py.pow(base, exponent, modulo)
        guard_binop(ast.Pow, base, exponent, interp.settings)
        return base ** exponent
    return pow_


def _scalar_rule() -> Any:
    from app.engine.policy import Cost, Rule
    return Rule(Cost.SCALAR)


_SCALAR_RULE = _scalar_rule()
