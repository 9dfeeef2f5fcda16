"""The values the vetted standard-library namespaces make (``stdlib.py``), apart so the
admission gate can name their types without importing the namespaces."""

from __future__ import annotations

import collections
import reprlib
from collections.abc import Iterable, Iterator
from typing import Any

from app.engine.members import Uncopyable


class CountedIterator(Iterator[Any], Uncopyable):
    """A lazy iterator made by itertools here: each item is one step of the budget, so
    ``for i in itertools.count()`` or ``list(itertools.repeat(0, 10**12))`` stops at
    max_steps, and C code that drains it (``[*it]``) is counted too."""

    playground_iterator = True
    __slots__ = ("ctx", "inner")

    def __init__(self, ctx: Any, inner: Iterator[Any]) -> None:
        self.ctx = ctx
        self.inner = inner

    def __next__(self) -> Any:
        self.ctx.budget.step()
        return next(self.inner)

    def __repr__(self) -> str:
        return "<itertools iterator>"


class UncountedIterator(CountedIterator):
    """An iterator over a counted one (itertools.islice): its items were counted there."""

    __slots__ = ()

    def __next__(self) -> Any:
        return next(self.inner)


def _bounded_text(opening: str, items: Iterable[tuple[str, Any]], closing: str) -> str:
    """``opening`` + each prefix and repr of item + ``closing``, cut at max_repr_chars.

    Security: the printers and views stream lists, tuples and dicts piece by piece, but
    write any other value with its own repr, and the repr of a deque or a namedtuple is one
    C call over every item: a deque of 10**6 references to a 10**6-character string is
    10**12 characters."""
    from app.config import get_settings
    from app.engine.builtins import bounded_repr

    limit = get_settings().max_repr_chars
    pieces = [opening]
    size = len(opening)
    for prefix, item in items:
        if size > limit:
            pieces.append(" …")
            break
        pieces.append(prefix + bounded_repr(item, max(limit - size, 1)))
        size += len(pieces[-1])
    pieces.append(closing)
    return "".join(pieces)


class PlaygroundDeque(collections.deque):  # type: ignore[type-arg]
    """The deque collections.deque makes here: a bounded repr (see _bounded_text)."""

    @reprlib.recursive_repr("[...]")
    def __repr__(self) -> str:
        closing = "])" if self.maxlen is None else f"], maxlen={self.maxlen})"
        return _bounded_text("deque([", ((", " if index else "", item)
                                         for index, item in enumerate(self)), closing)


# Shown to programs as what they made (views, messages).
PlaygroundDeque.__name__ = PlaygroundDeque.__qualname__ = "deque"


class PlaygroundNamedTuple(tuple):  # type: ignore[type-arg]
    """Marks the classes namedtuple makes here (their fields are readable attributes)."""

    __slots__ = ()


@reprlib.recursive_repr("(...)")
def namedtuple_repr(self: Any) -> str:
    """The repr of the namedtuples made here, bounded (see _bounded_text)."""
    fields = getattr(self, "_fields", ())
    return _bounded_text(f"{type(self).__name__}(", (
        (f"{', ' if index else ''}{name}=", item)
        for index, (name, item) in enumerate(zip(fields, self, strict=False))), ")")


class AnnotationName:
    """A name of ``typing`` (List, Optional ...) as a program sees it: it writes annotations
    and aliases with it (``Vector = List[float]``) and nothing else. Subscripting makes
    another annotation written as Python writes it; there is no typing machinery behind it
    (no get_type_hints, no runtime checks), so there is nothing to reach through it."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def item(self, index: Any) -> AnnotationName:
        parts = index if isinstance(index, tuple) else (index,)
        return AnnotationName(f"{self.text}[{', '.join(_annotation_text(p) for p in parts)}]")

    def __repr__(self) -> str:
        return f"typing.{self.text}"


_BUILTIN_TYPE_NAMES = frozenset({"int", "float", "bool", "str", "complex", "list", "dict",
                                 "tuple", "set", "object"})


def _annotation_text(value: Any) -> str:
    if isinstance(value, AnnotationName):
        return repr(value)
    if value is None:
        return "None"
    if isinstance(value, list):  # Callable[[int, str], float]
        return "[" + ", ".join(_annotation_text(v) for v in value) + "]"
    if isinstance(value, type):
        return value.__qualname__ if value.__module__ == "builtins" \
            else f"{value.__module__}.{value.__qualname__}"
    if value is Ellipsis:
        return "..."
    # The program's int, float, list ... are the playground's own functions of those names.
    name = getattr(value, "__name__", None) if callable(value) else None
    if isinstance(name, str) and name.rstrip("_") in _BUILTIN_TYPE_NAMES:
        return name.rstrip("_")
    raise TypeError(f"a typing annotation takes types, such as List[int] or Dict[str, "
                    f"float], not {type(value).__name__}")


# Types of the values stdlib.py makes, for the admission gate (the dict subclasses are walked
# as dicts, the namedtuples' items as a tuple's).
STDLIB_VALUE_TYPES: tuple[type, ...] = (CountedIterator, PlaygroundDeque, AnnotationName)
