"""Iterating a tensor row by row, bounded, wherever the iteration happens.

torch's ``Tensor.__iter__`` is ``iter(self.unbind(0))``: every row becomes a tensor object in
one C call before the first row is used, each a few hundred bytes that no tensor budget sees.
``for x in torch.zeros(4 * 10**6): break`` made 4 million of them (2.4 GB, past the deadline),
and library code that iterates what it is given did the same inside one vetted call:
``nn.utils.parameters_to_vector(torch.zeros(4 * 10**6))`` ran 32 s and took 3.8 GB,
``np.stack(t)`` and ``nn.utils.rnn.pad_sequence(t)`` alike. On a CUDA server there is no
RLIMIT_AS behind the budget.

Two places, one rule (at most max_objects_per_call rows made at once, the limit unbind()
itself has as a vetted call):
- the interpreter's own loops take rows through ``TensorRows``, a chunk at a time, each row a
  counted step;
- a vetted call whose arguments hold a tensor with more rows than that runs under
  ``RowLimit``, a torch function mode that refuses unbind() past the limit, which is where
  torch's (and numpy's) iteration of a tensor ends up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch.nn.parameter import UninitializedTensorMixin
from torch.overrides import TorchFunctionMode

from app.engine.errors import LimitError
from app.message import Message

_UNBIND = frozenset({torch.Tensor.unbind, torch.unbind})
# Containers walked to find the tensors among a call's arguments (count_data_items has
# bounded their size before the call); past this many values the walk stops and the call
# runs under the mode all the same (fail closed).
_MAX_WALKED = 10_000


class TensorRows(Iterator[torch.Tensor]):
    """The rows of a tensor as ``for row in tensor`` gives them in torch (the views of
    ``unbind(0)``, with its grad_fn), made ROWS_PER_CHUNK at a time."""

    ROWS_PER_CHUNK = 1024

    __slots__ = ("_next_start", "_rows", "_tensor")

    def __init__(self, tensor: torch.Tensor) -> None:
        self._tensor = tensor
        self._next_start = 0
        self._rows: Iterator[torch.Tensor] = iter(())

    def __next__(self) -> torch.Tensor:
        row = next(self._rows, None)
        if row is not None:
            return row
        length = self._tensor.shape[0]
        start = self._next_start
        if start >= length:
            raise StopIteration
        # A tensor of one chunk is unbound whole, so its rows carry torch's usual history.
        chunk = (self._tensor if length <= self.ROWS_PER_CHUNK else
                 self._tensor[start:start + self.ROWS_PER_CHUNK])
        self._next_start = start + self.ROWS_PER_CHUNK
        self._rows = iter(chunk.unbind(0))
        return next(self._rows)


def too_many_rows(label: str, rows: int, limit: int, array: bool = False) -> LimitError:
    said = (Message("{label} goes through an array row by row, which would make {count:,} "
                    "separate arrays; the limit is {limit:,} per call (setting "
                    "max_objects_per_call)", label=label, count=rows, limit=limit)
            if array else
            Message("{label} goes through a tensor row by row, which would make {count:,} "
                    "separate tensors; the limit is {limit:,} per call (setting "
                    "max_objects_per_call)", label=label, count=rows, limit=limit))
    return LimitError(said,
                      hint=Message("Pass a list of tensors, or index the part you need "
                                   "(x[:10]); a loop over a tensor takes its rows one at a "
                                   "time."),
                      predicted=True)


class RowLimit(TorchFunctionMode):
    """Refuses unbind() of more than ``limit`` rows while a vetted call runs."""

    def __init__(self, label: str, limit: int) -> None:
        super().__init__()
        self.label = label
        self.limit = limit

    def __torch_function__(self, func: Callable[..., Any], types: Any,
                           args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
                           ) -> Any:
        kwargs = kwargs or {}
        if func in _UNBIND and args and isinstance(args[0], torch.Tensor):
            dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
            try:
                rows = args[0].shape[dim]
            except (IndexError, TypeError):
                rows = 0  # torch reports the bad dim
            if rows > self.limit:
                raise too_many_rows(self.label, rows, self.limit)
        return func(*args, **kwargs)


def _holds_many_rows(values: Iterable[Any], limit: int) -> bool:
    """Whether a tensor with more than ``limit`` rows is among ``values`` (through lists,
    tuples and dicts); True as well when there are too many values to look at. Runs before
    every vetted call, so the common case (a few tensors and numbers) allocates nothing."""
    pending: list[Any] | None = None
    walked = 0
    for item in values:
        while True:
            walked += 1
            if walked > _MAX_WALKED:
                return True
            kind = type(item)
            if kind in _CONTAINERS:
                pending = pending if pending is not None else []
                pending.extend(item.values() if kind is dict else item)
            # A lazy layer's parameter has no shape yet (torch refuses to read it).
            elif isinstance(item, torch.Tensor) \
                    and not isinstance(item, UninitializedTensorMixin) \
                    and item.dim() > 0 and item.shape[0] > limit:
                return True
            if not pending:
                break
            item = pending.pop()
    return False


_CONTAINERS = frozenset({list, tuple, dict})
_NO_LIMIT = nullcontext()


def row_limit(label: str, args: tuple[Any, ...], kwargs: dict[str, Any],
              limit: int) -> AbstractContextManager[Any]:
    """The context a vetted call (its dry run included) runs in: the mode only when its
    arguments hold a tensor that could be iterated past the limit, so ordinary calls pay
    nothing for it."""
    if _holds_many_rows(args, limit) or _holds_many_rows(kwargs.values(), limit):
        return RowLimit(label, limit)
    return _NO_LIMIT
