"""The costly parts of views, by content, for one program's runs.

A view's repr, values and statistics (and a trace's small picture of a tensor) depend only on
the tensor's content, dtype, shape and a few flags, which the key holds in full (its bytes
included: a change made through a numpy alias does not bump a tensor's version). Within a run
the same tensor is viewed several times (its step, its variable, the result, the graph's
gradients). Across runs, a class sends the same program again and again (a lesson's example,
a Run pressed twice), and a fixed seed gives the same tensors: those runs find the parts made
by the first one.

Security: the memo belongs to one program text (app/engine/program.py keeps it beside the
checked tree of that text, and drops both together), so what it holds was computed from a
program the worker already keeps, and an entry is found only by a run that made a tensor of
the same bytes itself: it learns nothing it did not compute. Entries a run adds stay for the
next runs only up to ``max_kept_bytes``; the rest are dropped when the run ends.

The entries kept for the next runs hold their value lists as JSON text: as lists, every
cyclic collection walked them (the worker collects after every answer), and sixteen programs'
views made each collection 0.5 ms longer. A float32 list is a Float32Values around the same
text again, read by nobody on the way to the response; another list is read back once per
run on a hit. And no list object is shared between two runs' responses.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.inspect.floats import Float32Values

# What one value shown in a view holds: a float object, its list slot and its text.
VALUE_BYTES = 48
# What an entry costs beyond its key's bytes and its texts: the tuples, dicts and list
# headers around them (a conservative round figure, used only to bound the memo).
_ENTRY_OVERHEAD = 512


class ViewMemo:
    def __init__(self, max_kept_bytes: int) -> None:
        self.max_kept_bytes = max_kept_bytes
        self._kept: dict[Any, Any] = {}
        self._kept_bytes = 0
        self._run: dict[Any, tuple[Any, int]] = {}  # added by the current run, with sizes

    def get(self, key: Any) -> Any | None:
        found = self._run.get(key)
        if found is not None:
            return found[0]
        kept = self._kept.get(key)
        if kept is None:
            return None
        value = _unpacked(kept)
        self._run[key] = (value, 0)  # read back once per run; already kept
        return value

    def put(self, key: Any, value: Any, nbytes: int) -> None:
        """Keep ``value`` for this run; ``nbytes``: roughly what key and value hold."""
        self._run[key] = (value, nbytes + _ENTRY_OVERHEAD)

    def end_run(self) -> None:
        """Keep this run's entries for the next runs, oldest first, while they fit."""
        for key, (value, nbytes) in self._run.items():
            if key in self._kept or self._kept_bytes + nbytes > self.max_kept_bytes:
                continue
            packed = _packed(value)
            if packed is not None:
                self._kept[key] = packed
                self._kept_bytes += nbytes
        self._run.clear()

    @property
    def kept_bytes(self) -> int:
        return self._kept_bytes

    def __len__(self) -> int:
        return len(self._kept) + len(self._run)


# A value list kept as JSON text: (_PACKED, text, count), a plain tuple of atoms, which the
# collector stops tracking (it untracks exact tuples only: a NamedTuple stays tracked).
# count: the number of values of a Float32Values, which is rebuilt around the same text
# (nothing read); None for another list, read back with orjson.
_PACKED = object()


def _packed(value: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """``value`` (a tuple) with each list in it as JSON text; None if one cannot be written
    (then the entry is not kept)."""
    items = []
    for item in value:
        if type(item) is Float32Values:
            item = (_PACKED, item.text, item.count)
        elif isinstance(item, list):
            try:
                item = (_PACKED, orjson.dumps(item), None)
            except orjson.JSONEncodeError:
                return None
        items.append(item)
    return tuple(items)


def _unpacked(value: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(_read(item) if type(item) is tuple and item and item[0] is _PACKED
                 else item
                 for item in value)


def _read(packed: tuple[Any, ...]) -> Any:
    _, text, count = packed
    return orjson.loads(text) if count is None else Float32Values(text, count)
