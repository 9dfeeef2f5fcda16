"""Randomized inputs of a teacher's exercise, so neighbours cannot copy each other's answers.

The declaration is a few lines of a small fixed grammar, one input each, read with regular
expressions (nothing in it is ever evaluated)::

    n: int 2..6                 # a whole number from 2 to 6
    scale: float 0.5..2.0       # a number in the range, with the bounds' decimals (1 here)
    size: shape (2, 3) | (4,)   # one of the shapes
    s: seed                     # a number for torch.manual_seed({{s}})

``{{n}}`` in the task text, the starter and the reference is replaced by the student's
value. A value is always a literal number or a tuple of whole numbers made here from the
validated declaration, never text the teacher or anyone else typed, so it cannot add code to
a program. Each student's values come from a generator seeded by (seat, exercise): the same
on every reload and device, different between neighbours.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from app.classroom.service import ClassroomError
from app.message import N_

# Bounds of the grammar: a value is small enough to read on a dashboard and to stay far from
# overflowing a float32 or an int64 in the program it lands in.
MAX_ABS_NUMBER = 1_000_000
MAX_DECIMALS = 6
MAX_SHAPE_DIMS = 6
MAX_DIM = 4096
MAX_SHAPE_CHOICES = 12
# Five digits: 100,000 seeds tell neighbours apart, and a dashboard cell stays readable.
MAX_SEED = 99_999

NAME = r"[A-Za-z_][A-Za-z0-9_]{0,30}"
_LINE = re.compile(rf"^({NAME})\s*:\s*(int|float|shape|seed)\b\s*(.*)$")
_INT_RANGE = re.compile(r"^(-?\d{1,7})\s*\.\.\s*(-?\d{1,7})$")
_FLOAT_RANGE = re.compile(r"^(-?\d{1,7}(?:\.(\d{1,6}))?)\s*\.\.\s*(-?\d{1,7}(?:\.(\d{1,6}))?)$")
# One size of a shape. A shape is split at its commas rather than matched as a whole: the
# pattern ^\(\s*(\d{1,4}(?:\s*,\s*\d{1,4})*)\s*,?\s*\)$ backtracked quadratically on
# "(1" and spaces, and 250 kB of them (a form body) held the event loop for minutes.
_DIM = re.compile(r"\d{1,4}")
PLACEHOLDER = re.compile(r"\{\{\s*(" + NAME + r")\s*\}\}")

Kind = Literal["int", "float", "shape", "seed"]
Value = int | float | tuple[int, ...]


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    low: float = 0
    high: float = 0
    decimals: int = 0  # floats: digits after the point
    choices: tuple[tuple[int, ...], ...] = ()  # shapes


def parse(text: str, max_params: int) -> list[Param]:
    """The inputs a declaration names, or ClassroomError naming the line and the fix."""
    params: list[Param] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        found = _LINE.match(line)
        if found is None:
            raise ClassroomError(N_("Randomized inputs, line {line}: write name: int 2..6, "
                                    "name: float 0.5..2.0, name: shape (2, 3) | (3, 4) or "
                                    "name: seed."), line=number)
        name, kind, rest = found.group(1), found.group(2), found.group(3).strip()
        if any(p.name == name for p in params):
            raise ClassroomError(N_("Randomized inputs, line {line}: {name} is declared "
                                    "twice; give each input its own name."),
                                 line=number, name=name)
        params.append(_param(number, name, kind, rest))
        if len(params) > max_params:
            raise ClassroomError(N_("At most {n} randomized inputs: remove some."),
                                 n=max_params)
    return params


def _param(line: int, name: str, kind: str, rest: str) -> Param:
    if kind == "seed":
        if rest:
            raise ClassroomError(N_("Randomized inputs, line {line}: a seed takes no range; "
                                    "write {name}: seed."), line=line, name=name)
        return Param(name, "seed", 0, MAX_SEED)
    if kind == "shape":
        choices = tuple(_shape(line, part.strip()) for part in rest.split("|"))
        if len(choices) > MAX_SHAPE_CHOICES:
            raise ClassroomError(N_("Randomized inputs, line {line}: at most {n} shapes to "
                                    "choose from."), line=line, n=MAX_SHAPE_CHOICES)
        return Param(name, "shape", choices=choices)
    if kind == "int":
        found = _INT_RANGE.match(rest)
        if found is None:
            raise ClassroomError(N_("Randomized inputs, line {line}: an int needs a range of "
                                    "whole numbers, such as {name}: int 2..6."),
                                 line=line, name=name)
        low, high = int(found.group(1)), int(found.group(2))
        return Param(name, "int", *_range(line, low, high))
    found = _FLOAT_RANGE.match(rest)
    if found is None:
        raise ClassroomError(N_("Randomized inputs, line {line}: a float needs a range, such "
                                "as {name}: float 0.5..2.0."), line=line, name=name)
    decimals = max(1, len(found.group(2) or ""), len(found.group(4) or ""))
    low_f, high_f = _range(line, float(found.group(1)), float(found.group(3)))
    return Param(name, "float", low_f, high_f, min(decimals, MAX_DECIMALS))


def _range(line: int, low: float, high: float) -> tuple[float, float]:
    if low > high:
        raise ClassroomError(N_("Randomized inputs, line {line}: the range goes from the "
                                "smaller number to the larger one."), line=line)
    if max(abs(low), abs(high)) > MAX_ABS_NUMBER:
        raise ClassroomError(N_("Randomized inputs, line {line}: numbers between -{n} and "
                                "{n} only."), line=line, n=MAX_ABS_NUMBER)
    return low, high


def _shape(line: int, text: str) -> tuple[int, ...]:
    sizes = text[1:-1].split(",") if len(text) >= 2 and text[0] + text[-1] == "()" else []
    if len(sizes) > 1 and not sizes[-1].strip():
        sizes.pop()  # (4,)
    if not sizes or not all(_DIM.fullmatch(size.strip()) for size in sizes):
        raise ClassroomError(N_("Randomized inputs, line {line}: a shape is written like "
                                "(2, 3) or (4,), shapes separated by |."), line=line)
    dims = tuple(int(size) for size in sizes)
    if len(dims) > MAX_SHAPE_DIMS or not all(1 <= d <= MAX_DIM for d in dims):
        raise ClassroomError(N_("Randomized inputs, line {line}: a shape has 1 to {dims} "
                                "sizes, each from 1 to {size}."),
                             line=line, dims=MAX_SHAPE_DIMS, size=MAX_DIM)
    return dims


# --- values ---

def seed_of(seat_id: int, exercise_id: int) -> int:
    """The generator seed of one student's variant of one exercise (stable: a hash)."""
    digest = hashlib.sha256(f"variant:{exercise_id}:{seat_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def draw(params: Iterable[Param], seed: int) -> dict[str, Value]:
    """One variant: a value per input, drawn in the declaration's order."""
    rng = random.Random(seed)
    values: dict[str, Value] = {}
    for p in params:
        if p.kind == "int":
            values[p.name] = rng.randint(int(p.low), int(p.high))
        elif p.kind == "float":
            values[p.name] = round(rng.uniform(p.low, p.high), p.decimals)
        elif p.kind == "shape":
            values[p.name] = rng.choice(p.choices)
        else:
            values[p.name] = rng.randint(0, MAX_SEED)
    return values


def extreme(params: Iterable[Param], end: Literal["low", "high"]) -> dict[str, Value]:
    """Every input at its lowest (first shape) or highest (last shape) value: where a
    reference that depends on the values breaks first."""
    values: dict[str, Value] = {}
    for p in params:
        if p.kind == "shape":
            values[p.name] = p.choices[0] if end == "low" else p.choices[-1]
        elif p.kind == "float":
            values[p.name] = round(p.low if end == "low" else p.high, p.decimals)
        else:
            values[p.name] = int(p.low if end == "low" else p.high)
    return values


def literal(value: Value, kind: Kind, decimals: int = 0) -> str:
    """A value as Python writes it: 3, 0.25, (2, 3), (4,)."""
    if isinstance(value, tuple):
        return f"({value[0]},)" if len(value) == 1 else "(" + ", ".join(map(str, value)) + ")"
    if kind == "float":
        return f"{float(value):.{decimals}f}"
    return str(int(value))


def rendered(params: Iterable[Param], values: dict[str, Value]) -> dict[str, str]:
    return {p.name: literal(values[p.name], p.kind, p.decimals) for p in params
            if p.name in values}


def unknown_placeholders(texts: Iterable[str], params: Iterable[Param]) -> list[str]:
    declared = {p.name for p in params}
    found: list[str] = []
    for text in texts:
        for name in PLACEHOLDER.findall(text):
            if name not in declared and name not in found:
                found.append(name)
    return found


def substitute(text: str, literals: dict[str, str], *, code: bool) -> str:
    """``text`` with each {{name}} replaced. In a program a negative number is bracketed,
    so ``x -{{n}}`` stays the subtraction it reads as."""
    def one(match: re.Match[str]) -> str:
        value = literals.get(match.group(1))
        if value is None:
            return match.group(0)
        return f"({value})" if code and value.startswith("-") else value
    return PLACEHOLDER.sub(one, text)


def describe(literals: dict[str, str]) -> str:
    """What the dashboard shows of a variant: "n=4, size=(2, 3)"."""
    return ", ".join(f"{name}={value}" for name, value in literals.items())
