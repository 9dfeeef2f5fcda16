"""Lay out a tensor view's values as tables: the data behind ``tensor_grid``.

0-D is one cell, 1-D one row, 2-D a matrix, 3-D and up a row of 2-D slices labelled with
their leading indices (``[1, 0, :, :]``). The engine may send fewer values than the shape
holds (``truncated``); the grid draws what it got and counts what is missing.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from app.playground.heatmap import Scale, cell_class, scale_for

MAX_SLICES = 24  # beyond this a row of slices stops being readable; the note counts the rest


@dataclass(frozen=True)
class Cell:
    text: str
    css: str


@dataclass
class Slice:
    label: str | None  # e.g. "[0, :, :]"; None for 1-D and 2-D tensors
    rows: list[list[Cell]]
    columns: int


@dataclass
class Grid:
    ndim: int
    slices: list[Slice] = field(default_factory=list)
    scale: Scale = field(default_factory=lambda: Scale("none", 0.0, 0.0))
    shown: int = 0  # values drawn
    total: int = 0  # values the tensor holds (product of the shape)
    legend_lo: str = ""
    legend_hi: str = ""

    @property
    def truncated(self) -> bool:
        return self.shown < self.total


def format_number(value: object) -> str:
    """Short, unambiguous cell text: ints as they are, floats with up to 4 decimals (a
    trailing ``.0`` kept so a float never reads as an int), tiny or huge ones in e-notation."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        magnitude = abs(value)
        if magnitude != 0 and (magnitude >= 1e5 or magnitude < 1e-3):
            return f"{value:.2e}"
        text = f"{value:.4f}".rstrip("0")
        text = text + "0" if text.endswith(".") else text
        return "0.0" if text == "-0.0" else text
    if isinstance(value, str):
        return value  # "nan", "inf", "-inf" or whatever text the engine sent
    return str(value)


def format_ms(ms: object) -> str:
    """A duration for people: 0.042 ms, 3.14 ms, 13.5 ms, 1204 ms."""
    value = float(ms) if isinstance(ms, int | float) else 0.0
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _flatten(values: Any) -> list[object]:
    if isinstance(values, list):
        return [leaf for item in values for leaf in _flatten(item)]
    return [values]


def _row(values: Any, scale: Scale) -> list[Cell]:
    items = values if isinstance(values, list) else [values]
    return [Cell(format_number(v), cell_class(v, scale)) for v in items]


def _matrix(values: Any, scale: Scale) -> Slice:
    rows = [_row(r, scale) for r in values] if isinstance(values, list) else []
    return Slice(None, rows, max((len(r) for r in rows), default=0))


def _leading(values: Any, depth: int) -> list[tuple[tuple[int, ...], Any]]:
    """(index tuple, 2-D block) pairs for the first ``depth`` dimensions."""
    if depth == 0:
        return [((), values)]
    if not isinstance(values, list):
        return []
    return [((i, *rest), block) for i, sub in enumerate(values)
            for rest, block in _leading(sub, depth - 1)]


def build_grid(view: dict[str, Any]) -> Grid:
    shape: list[int] = list(view.get("shape") or [])
    values = view.get("values")
    flat = _flatten(values) if values is not None else []
    scale = scale_for(flat)
    grid = Grid(ndim=len(shape), scale=scale, shown=len(flat), total=math.prod(shape))
    if scale.kind != "none":
        # An int tensor's legend reads 0 .. 5, not 0.0 .. 5.0.
        as_int = all(isinstance(v, int) for v in flat if not isinstance(v, str))
        lo, hi = (int(scale.lo), int(scale.hi)) if as_int else (scale.lo, scale.hi)
        grid.legend_lo, grid.legend_hi = format_number(lo), format_number(hi)
    if values is None:
        grid.shown = 0
    elif len(shape) == 0:
        grid.slices = [Slice(None, [_row(values, scale)], 1)]
    elif len(shape) == 1:
        row = _row(values, scale)
        grid.slices = [Slice(None, [row], len(row))]
    elif len(shape) == 2:
        grid.slices = [_matrix(values, scale)]
    else:
        blocks = _leading(values, len(shape) - 2)
        for index, block in itertools.islice(blocks, MAX_SLICES):
            part = _matrix(block, scale)
            part.label = "[" + ", ".join([*(str(i) for i in index), ":", ":"]) + "]"
            grid.slices.append(part)
        hidden = blocks[MAX_SLICES:]
        grid.shown -= sum(len(_flatten(block)) for _, block in hidden)
    return grid
