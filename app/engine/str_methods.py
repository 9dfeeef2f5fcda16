"""The ``str`` methods a program may call (policy.STR_METHODS), each bounded.

Security: a str method is one C call, and some make far more text than they are given:
``'x'.ljust(10**9)``, ``s.replace('', 'x' * 1000)``, ``','.join(huge)``,
``'\\t'.expandtabs(10**9)``. Those are predicted here and refused before they build anything
past max_sequence_items. Sizes are read with operator.index() first, so a tensor or numpy
integer given as a width is one number, checked like any other. The methods that make at
most a few times their input (upper: 'ß' becomes 'SS') are checked after the call. The rest
return parts of the string, numbers or booleans.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.engine.formatting import format_string, text_too_long

if TYPE_CHECKING:
    from app.engine.interpreter import Interpreter

# One character becomes at most 3 in Python's case mappings ('ﬃ'.upper() == 'FFI').
_CASE_MAPPINGS = frozenset({"upper", "lower", "title", "capitalize", "swapcase", "casefold"})


def call_str_method(interp: Interpreter, text: str, name: str, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
    bounded = _BOUNDED.get(name)
    if bounded is not None:
        return bounded(interp, text)(*args, **kwargs)
    result = getattr(text, name)(*args, **kwargs)
    if name in _CASE_MAPPINGS and len(result) > interp.settings.max_sequence_items:
        raise text_too_long(len(result), interp.settings.max_sequence_items)
    return result


def _check_length(interp: Interpreter, length: int) -> None:
    if length > interp.settings.max_sequence_items:
        raise text_too_long(length, interp.settings.max_sequence_items)


def _join(interp: Interpreter, text: str) -> Callable[..., str]:
    def join(iterable: Any, /) -> str:
        items: list[str] = []
        size = 0
        for index, item in enumerate(interp.iterate(iterable)):
            if type(item) is not str:
                raise TypeError(f"sequence item {index}: expected str instance, "
                                f"{type(item).__name__} found")
            size += len(item) + (len(text) if index else 0)
            _check_length(interp, max(size, index))
            items.append(item)
        return text.join(items)
    return join


def _replace(interp: Interpreter, text: str) -> Callable[..., str]:
    def replace(old: str, new: str, count: Any = -1, /) -> str:
        for number, argument in ((1, old), (2, new)):
            if type(argument) is not str:
                raise TypeError(f"replace() argument {number} must be str, not "
                                f"{type(argument).__name__}")
        count = operator.index(count)
        found = text.count(old)  # '' is found len(text) + 1 times, as replace() does
        if count >= 0:
            found = min(found, count)
        _check_length(interp, len(text) + found * (len(new) - len(old)))
        return text.replace(old, new, count)
    return replace


def _padding(name: str) -> Callable[[Interpreter, str], Callable[..., str]]:
    def bind(interp: Interpreter, text: str) -> Callable[..., str]:
        def pad(width: Any, *fill: Any) -> str:
            width = operator.index(width)
            _check_length(interp, width)
            method: Callable[..., str] = getattr(text, name)
            return method(width, *fill)
        return pad
    return bind


def _expandtabs(interp: Interpreter, text: str) -> Callable[..., str]:
    def expandtabs(tabsize: Any = 8) -> str:
        tabsize = operator.index(tabsize)
        # Each tab becomes at most tabsize spaces.
        _check_length(interp, len(text) + text.count("\t") * max(tabsize - 1, 0))
        return text.expandtabs(tabsize)
    return expandtabs


def _format(interp: Interpreter, text: str) -> Callable[..., str]:
    def format_(*args: Any, **kwargs: Any) -> str:
        return format_string(text, args, kwargs, interp.settings)
    return format_


def _format_map(interp: Interpreter, text: str) -> Callable[..., str]:
    def format_map(mapping: Any, /) -> str:
        # A dict's own item lookup, never a program class's __getitem__ or __missing__.
        if type(mapping) is not dict:
            raise TypeError("format_map() takes a dict here; build one with dict(...)")
        return format_string(text, (), mapping, interp.settings, positional_allowed=False)
    return format_map


_BOUNDED: dict[str, Callable[[Interpreter, str], Callable[..., Any]]] = {
    "join": _join, "replace": _replace, "expandtabs": _expandtabs, "format": _format,
    "format_map": _format_map, "ljust": _padding("ljust"), "rjust": _padding("rjust"),
    "center": _padding("center"), "zfill": _padding("zfill"),
}
