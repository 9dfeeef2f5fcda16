"""Compare mode: two programs on the same named inputs, and their differences spelled out.

Each side runs ``inputs + program`` in its own sandbox run (same seed, so random inputs are
the same numbers on both sides). The diff is data (``Fact`` rows); the template words it.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field
from typing import Any

from app.playground.grid import format_ms

REPEAT = 20  # runs per side for timing: enough for a stable median, well inside the deadline
MIN_SPEEDUP = 1.2  # smaller ratios are within what scheduling noise does to a median
REL_TOL = 1e-6  # float32 results of the same maths through different kernels may differ a bit


def join_program(inputs: str, body: str) -> str:
    inputs = inputs.rstrip("\n")
    return f"{inputs}\n{body}" if inputs else body


def input_line_count(inputs: str) -> int:
    """How many lines ``join_program`` puts before the program's first line."""
    inputs = inputs.rstrip("\n")
    return inputs.count("\n") + 1 if inputs else 0


def locate_line(inputs: str, body: str, line: int | None
                ) -> tuple[str, int | None, str]:
    """A line of the joined program as the student wrote it: ("inputs" or "program", its
    line in that box, that box's text). The sandbox only sees the joined program, so its
    line numbers count the inputs too."""
    before = input_line_count(inputs)
    if line is not None and 0 < line <= before:
        return "inputs", line, inputs
    return "program", (line - before if line is not None and line > before else line), body


def input_names(inputs: str) -> list[str]:
    """Names the inputs program assigns at top level, in order."""
    try:
        tree = ast.parse(inputs)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    names: list[str] = []
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else (
            [stmt.target] if isinstance(stmt, ast.AnnAssign | ast.AugAssign) else [])
        for target in targets:
            for node in ast.walk(target):
                if isinstance(node, ast.Name) and node.id not in names:
                    names.append(node.id)
    return names


@dataclass
class Side:
    code: str  # inputs + program, as run
    status: int
    data: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.data.get("ok"))

    @property
    def error(self) -> dict[str, Any] | None:
        return self.data.get("error") if not self.ok else None

    @property
    def result(self) -> dict[str, Any] | None:
        return self.data.get("result") if self.ok else None

    @property
    def timing(self) -> dict[str, Any] | None:
        timing = self.data.get("timing")
        return timing if isinstance(timing, dict) and "median_ms" in timing else None


@dataclass(frozen=True)
class Fact:
    """One compared aspect. ``same`` is None when it cannot be compared (an error, a
    truncated tensor). ``left``/``right`` are short display texts; ``topic`` picks the
    translated row heading."""

    topic: str  # status | shape | dtype | values | storage | input | time
    same: bool | None
    left: str
    right: str
    subject: str = ""  # the input variable an "input" row is about


@dataclass
class Comparison:
    left: Side
    right: Side
    facts: list[Fact] = field(default_factory=list)
    faster: str | None = None  # "left" | "right" when one is clearly faster
    speedup: float | None = None  # slower median / faster median
    timed: bool = False  # both sides have timings (else no time verdict at all)


def _flat(values: Any) -> list[Any]:
    if isinstance(values, list):
        return [leaf for item in values for leaf in _flat(item)]
    return [values]


def values_equal(a: Any, b: Any) -> bool:
    xs, ys = _flat(a), _flat(b)
    if len(xs) != len(ys):
        return False
    for x, y in zip(xs, ys, strict=True):
        if isinstance(x, int | float) and isinstance(y, int | float):
            if not math.isclose(x, y, rel_tol=REL_TOL, abs_tol=1e-9):
                return False
        elif x != y:
            return False
    return True


def _value_of(view: dict[str, Any] | None) -> tuple[Any, bool]:
    """(comparable payload, complete?) of a view."""
    if view is None:
        return None, False
    if view.get("kind") in ("tensor", "ndarray"):
        return view.get("values"), not view.get("truncated")
    if "value" in view:
        return view["value"], True
    return view.get("repr", view.get("items")), True


def _shape(view: dict[str, Any] | None) -> str:
    if view is None:
        return "—"
    if view.get("kind") in ("tensor", "ndarray"):
        return "[" + ", ".join(str(n) for n in view.get("shape", [])) + "]"
    return view.get("kind", "?")


def _storage_text(view: dict[str, Any] | None, inputs: list[str]) -> tuple[str, list[str]]:
    storage = (view or {}).get("storage") or {}
    shared = [n for n in storage.get("shares_with", []) if n in inputs]
    return (", ".join(shared), shared) if shared else ("", [])


def _fact(topic: str, left: str, right: str, same: bool | None) -> Fact:
    return Fact(topic, same, left, right)


def compare(left: Side, right: Side, inputs: str) -> Comparison:
    out = Comparison(left, right)
    facts = out.facts
    if not (left.ok and right.ok):
        left_end = "ok" if left.ok else (left.error or {}).get("type", "error")
        right_end = "ok" if right.ok else (right.error or {}).get("type", "error")
        # One side finished and the other did not: that is a difference, the first one.
        facts.append(_fact("status", left_end, right_end, left_end == right_end))
    lv, rv = left.result, right.result
    if lv is not None or rv is not None:
        ls, rs = _shape(lv), _shape(rv)
        both = lv is not None and rv is not None
        facts.append(_fact("shape", ls, rs, ls == rs if both else None))
        ld, rd = (lv or {}).get("dtype"), (rv or {}).get("dtype")
        if ld or rd:
            facts.append(_fact("dtype", ld or "—", rd or "—", ld == rd if both else None))
        (lval, lcomplete), (rval, rcomplete) = _value_of(lv), _value_of(rv)
        same: bool | None = None
        if both and ls == rs and lcomplete and rcomplete:
            same = values_equal(lval, rval)
        elif both and ls != rs:
            same = False
        facts.append(_fact("values", "", "", same))
        names = input_names(inputs)
        ltext, lshared = _storage_text(lv, names)
        rtext, rshared = _storage_text(rv, names)
        facts.append(_fact("storage", ltext, rtext, lshared == rshared if both else None))
    for name in input_names(inputs):
        a = (left.data.get("variables") or {}).get(name)
        b = (right.data.get("variables") or {}).get(name)
        if not (isinstance(a, dict) and isinstance(b, dict) and a.get("kind") == "tensor"):
            continue
        va = int((a.get("storage") or {}).get("version") or 0)
        vb = int((b.get("storage") or {}).get("version") or 0)
        same_input = va == vb and values_equal(a.get("values"), b.get("values"))
        facts.append(Fact("input", same_input, f"v{va}", f"v{vb}", subject=name))
    lt, rt = left.timing, right.timing
    if lt and rt:
        facts.append(_fact("time", _time_text(lt), _time_text(rt), None))
        out.timed = True
        lm, rm = float(lt["median_ms"]), float(rt["median_ms"])
        noise = max(float(lt.get("spread_ms", 0.0)), float(rt.get("spread_ms", 0.0)))
        # Call a winner only when the medians differ by more than the run-to-run spread
        # and by at least MIN_SPEEDUP; tiny programs mostly time the interpreter.
        if lm > 0 and rm > 0 and abs(lm - rm) > noise:
            speedup = max(lm, rm) / min(lm, rm)
            if speedup >= MIN_SPEEDUP:
                out.faster = "left" if lm < rm else "right"
                out.speedup = round(speedup, 1)
    return out


def _time_text(timing: dict[str, Any]) -> str:
    return f"{format_ms(timing['median_ms'])} ms ± {format_ms(timing.get('spread_ms', 0.0))}"
