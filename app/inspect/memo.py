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
"""

from __future__ import annotations

from typing import Any

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
        return self._kept.get(key)

    def put(self, key: Any, value: Any, nbytes: int) -> None:
        """Keep ``value`` for this run; ``nbytes``: roughly what key and value hold."""
        self._run[key] = (value, nbytes + _ENTRY_OVERHEAD)

    def end_run(self) -> None:
        """Keep this run's entries for the next runs, oldest first, while they fit."""
        for key, (value, nbytes) in self._run.items():
            if self._kept_bytes + nbytes > self.max_kept_bytes:
                continue
            if key not in self._kept:
                self._kept[key] = value
                self._kept_bytes += nbytes
        self._run.clear()

    @property
    def kept_bytes(self) -> int:
        return self._kept_bytes

    def __len__(self) -> int:
        return len(self._kept) + len(self._run)
