"""The step-through trace: after each top-level statement (and after each pass of a top-level
loop, up to a bound per loop) a frame with the program's variables at that moment, what
changed since the previous frame, and which variables share storage.

Frames are taken while the program runs, so each is bounded: at most ``max_variables``
variables, ``max_values`` values per tensor and ``max_chars`` characters per other value.
No value is kept between frames (only a weak reference, its version and the small picture
shown), so tracing holds no memory of the program alive.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from app.inspect.compact import compact_tensor, compact_text
from app.inspect.floats import FiniteView
from app.inspect.memo import ViewMemo


@dataclass(frozen=True)
class StepperLimits:
    max_frames: int
    max_iterations: int
    max_variables: int
    max_values: int
    max_chars: int


@dataclass(frozen=True)
class _Seen:
    # A weak reference, not id(): a tensor freed since the last frame can leave its address
    # (so its id) to a new one, which then looked like the same tensor changed.
    tensor: weakref.ref[torch.Tensor] | None
    version: int
    picture: Any


class StepTracer:
    def __init__(self, limits: StepperLimits, memo: ViewMemo | None = None) -> None:
        self.limits = limits
        self.memo = memo  # pictures by content, for every frame and the program's reruns
        self.frames: list[dict[str, Any]] = []
        self.truncated = False
        self.skipped_iterations = 0
        self._iterations: dict[int, int] = {}  # id(loop statement) -> passes seen
        self._previous: dict[str, _Seen] = {}

    def statement(self, line: int, source: str, variables: dict[str, Any]) -> None:
        self._frame(line, source, None, variables)

    def iteration(self, loop: object, line: int, source: str,
                  variables: dict[str, Any]) -> None:
        count = self._iterations[id(loop)] = self._iterations.get(id(loop), 0) + 1
        if count > self.limits.max_iterations:
            self.skipped_iterations += 1
            return
        self._frame(line, source, count, variables)

    def result(self) -> dict[str, Any]:
        return {"frames": self.frames, "truncated": self.truncated,
                "skipped_iterations": self.skipped_iterations}

    # ------------------------------------------------------------------------------------
    def _frame(self, line: int, source: str, iteration: int | None,
               variables: dict[str, Any]) -> None:
        if len(self.frames) >= self.limits.max_frames:
            self.truncated = True
            return
        entries: list[dict[str, Any]] = []
        seen: dict[str, _Seen] = {}
        storages: dict[tuple[str, int], str] = {}
        owners: dict[str, list[str]] = {}
        for name, value in list(variables.items())[:self.limits.max_variables]:
            try:
                entry, state = self._entry(name, value)
            except Exception:
                # The trace runs between the program's statements: a value it cannot
                # describe (an exotic tensor) must never change how the program ends.
                entry = {"name": name, "kind": "value", "type": type(value).__name__,
                         "text": f"<{type(value).__name__}>"}
                state = _Seen(None, -1, entry["text"])
            if isinstance(value, torch.Tensor) and entry["kind"] == "tensor" \
                    and value.numel() > 0 and value.layout == torch.strided \
                    and value.device.type != "meta":
                key = (str(value.device), value.untyped_storage().data_ptr())
                label = storages.setdefault(key, f"S{len(storages) + 1}")
                entry["storage"] = label
                owners.setdefault(label, []).append(name)
            entry["change"] = self._change(self._previous.get(name), state)
            entries.append(entry)
            seen[name] = state
        removed = [name for name in self._previous if name not in seen
                   and name not in variables]
        self._previous = seen
        self.frames.append({
            "index": len(self.frames) + 1, "line": line, "source": source,
            "iteration": iteration, "variables": entries, "removed": removed,
            "shared": [{"storage": label, "names": names}
                       for label, names in owners.items() if len(names) > 1],
        })

    def _entry(self, name: str, value: Any) -> tuple[dict[str, Any], _Seen]:
        if isinstance(value, torch.Tensor):
            picture = compact_tensor(value, self.limits.max_values, self.memo)
            version = _version(value)
            entry: dict[str, Any] = FiniteView(
                name=name, kind="tensor", type="Tensor", **picture, version=version,
                requires_grad=bool(value.requires_grad),
                grad_fn=value.grad_fn.name() if value.grad_fn is not None else None)
            return entry, _Seen(weakref.ref(value), version,
                                (picture["shape"], picture["values"]))
        if isinstance(value, nn.Module):
            text = type(value).__name__
        else:
            text = compact_text(value, self.limits.max_chars)
        entry = {"name": name, "kind": "value", "type": type(value).__name__, "text": text}
        return entry, _Seen(None, -1, text)

    @staticmethod
    def _change(before: _Seen | None, now: _Seen) -> str | None:
        """new; for a tensor inplace (same tensor, its version went up), rebound (another
        tensor) or changed (same tensor, other values); for other values changed (other
        text); None when nothing changed."""
        if before is None:
            return "new"
        if now.version < 0 or before.version < 0:  # not a tensor: only its text tells
            return "changed" if before.picture != now.picture else None
        same_tensor = (before.tensor is not None and now.tensor is not None
                       and before.tensor() is now.tensor())
        if same_tensor:
            if now.version > before.version:
                return "inplace"
            return "changed" if before.picture != now.picture else None
        return "rebound"


def _version(tensor: torch.Tensor) -> int:
    """The tensor's version counter (each in-place change adds one); inference tensors have
    none."""
    try:
        return int(tensor._version)
    except RuntimeError:
        return 0
