"""The values the vetted standard-library namespaces make (``stdlib.py``), apart so the
admission gate can name their types without importing the namespaces."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from typing import Any


class CountedIterator(Iterator[Any]):
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


class PlaygroundNamedTuple(tuple):  # type: ignore[type-arg]
    """Marks the classes namedtuple makes here (their fields are readable attributes)."""

    __slots__ = ()


# Types of the values stdlib.py makes, for the admission gate (the dict subclasses are walked
# as dicts, the namedtuples' items as a tuple's).
STDLIB_VALUE_TYPES: tuple[type, ...] = (CountedIterator, collections.deque)
