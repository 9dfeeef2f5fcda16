"""The marks by which the interpreter knows its own callables and iterators.

The sandbox's own functions (the built-ins, ``functools.partial``'s result, the callbacks it
hands torch) are called directly, unchecked: they check their own arguments. They carry the
attribute ``playground_builtin`` (``playground_type`` for ``int``, ``str`` ... standing for
their class), and the counted iterators the class attribute ``playground_iterator``.

Security: the marks are read from a plain function's own ``__dict__`` and from an iterator's
class only, never with ``getattr`` on the value: ``getattr`` runs ``__getattr__``, and an
``nn.Module`` answers every name of a child module, parameter or buffer, so an
``nn.Sequential`` with a child named ``playground_builtin`` was called as a sandbox
built-in, past the budget (a 320 MB output over the 256 MB per-call limit). A program cannot
name, set or define ``playground_*`` attributes anywhere (interpreter._refuse_marker).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, TypeVar

_Function = TypeVar("_Function", bound=Callable[..., Any])


def mark_builtin(function: _Function) -> _Function:
    """``function`` (a plain Python function of the sandbox) as one the interpreter calls
    directly."""
    assert isinstance(function, types.FunctionType), function
    function.playground_builtin = True  # type: ignore[attr-defined]
    return function


def is_builtin(value: Any) -> bool:
    return isinstance(value, types.FunctionType) \
        and value.__dict__.get("playground_builtin") is True


def builtin_type(value: Any) -> Any:
    """The class a built-in such as ``int`` stands for (``type(3) is int``), else None."""
    if isinstance(value, types.FunctionType):
        return value.__dict__.get("playground_type")
    return None


def is_counted_iterator(value: Any) -> bool:
    return getattr(type(value), "playground_iterator", False) is True
