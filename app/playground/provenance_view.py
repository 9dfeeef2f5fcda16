"""Lay out a provenance record (docs/API.md, "Provenance") for the page: the inputs and the
output as small tables whose cells carry their colour, their source written out, and the ids
of the input cells they came from (static/provenance.js highlights those on focus).

Colours are never the only carrier: every output cell also names its source (``a[1, 2]``,
``row 0 · col 1``), the legend names each input, and an mm cell's sum is written out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from app.playground.grid import format_number

PALETTE_SIZE = 6  # .pv-src-0 ... .pv-src-5 in static/app.css; more inputs reuse them
MAX_SUM_TERMS = 8  # an mm sum longer than this is written with "…" in the middle
_OPERATOR_SIGNS = {"mul": "·", "add": "+", "sub": "−", "div": "/", "multiply": "·",
                   "subtract": "−", "divide": "/", "true_divide": "/"}


@dataclass(frozen=True)
class PCell:
    id: str
    text: str
    css: str
    source: str = ""  # where it came from, as text (output cells)
    sources: str = ""  # the ids of the input cells it came from, space-separated
    detail: str = ""  # an mm cell's sum written out


@dataclass
class PSlice:
    label: str | None
    rows: list[list[PCell]]
    columns: int


@dataclass
class PTensor:
    name: str
    css: str
    shape: list[int]
    slices: list[PSlice] = field(default_factory=list)


@dataclass
class Provenance:
    prefix: str
    op: str
    kind: str
    line: int | None
    inputs: list[PTensor]
    output: PTensor
    sums: list[tuple[str, str]] = field(default_factory=list)  # (cell label, sum) for mm


def input_label(name: str | None, k: int) -> str:
    return name or f"input{k + 1}"


def index_text(flat: int, shape: list[int]) -> str:
    """``[1, 2]`` for flat index 5 of a 2x3 tensor (row-major)."""
    position = []
    for size in reversed(shape):
        position.append(flat % size if size else 0)
        flat = flat // size if size else 0
    return "[" + ", ".join(str(p) for p in reversed(position)) + "]"


def _slices(shape: list[int], cells: list[PCell]) -> list[PSlice]:
    """0-D: one cell; 1-D: one row; 2-D: a matrix; more: 2-D slices labelled [i, j, :, :]."""
    if not shape:
        return [PSlice(None, [cells[:1]], 1)]
    if len(shape) == 1:
        return [PSlice(None, [cells], shape[0])]
    rows, columns = shape[-2], shape[-1]
    block = rows * columns
    lead = shape[:-2]
    out = []
    for b in range(math.prod(lead)):
        part = cells[b * block:(b + 1) * block]
        if not part:
            break
        label = None
        if lead:
            label = index_text(b, lead)[:-1] + ", :, :]"
        out.append(PSlice(label, [part[r * columns:(r + 1) * columns] for r in range(rows)],
                          columns))
    return out


def build_provenance(record: dict[str, Any], number: int, id_prefix: str = "pv") -> Provenance:
    prefix = f"{id_prefix}{number}"
    kind = str(record.get("kind"))
    raw_inputs: list[dict[str, Any]] = list(record.get("inputs") or [])
    names = [input_label(i.get("name"), k) for k, i in enumerate(raw_inputs)]
    inputs = []
    for k, item in enumerate(raw_inputs):
        shape = list(item.get("shape") or [])
        cells = [PCell(f"{prefix}-in{k}-{i}", format_number(v), f"pv-src-{k % PALETTE_SIZE}",
                       source=names[k] + index_text(i, shape))
                 for i, v in enumerate(item.get("values") or [])]
        inputs.append(PTensor(names[k], f"pv-src-{k % PALETTE_SIZE}", shape,
                              _slices(shape, cells)))
    shape = list(record.get("shape") or [])
    values = list(record.get("values") or [])
    sources = record.get("sources") or []
    result = Provenance(prefix, str(record.get("op")), kind, record.get("line"), inputs,
                        PTensor(str(record.get("target")), "", shape))
    if kind == "matmul":
        cells = _matmul_cells(prefix, raw_inputs, names, shape, values, result.sums)
    else:
        sign = _OPERATOR_SIGNS.get(str(record.get("op")).rsplit(".", 1)[-1].rsplit(" ", 1)[-1],
                                   ",")
        cells = []
        for c, value in enumerate(values):
            src = sources[c] if c < len(sources) else []
            if kind == "move" and len(src) == 2:
                k, i = src
                from_ids = f"{prefix}-in{k}-{i}"
                text = names[k] + index_text(i, list(raw_inputs[k].get("shape") or []))
                css = f"pv-src-{k % PALETTE_SIZE}"
            else:
                parts = [names[k] + index_text(i, list(raw_inputs[k].get("shape") or []))
                         for k, i in enumerate(src)]
                from_ids = " ".join(f"{prefix}-in{k}-{i}" for k, i in enumerate(src))
                text = f" {sign} ".join(parts)
                css = "pv-mixed"
            cells.append(PCell(f"{prefix}-out-{c}", format_number(value), css, text, from_ids))
    result.output.slices = _slices(shape, cells)
    return result


def _matmul_cells(prefix: str, inputs: list[dict[str, Any]], names: list[str],
                  shape: list[int], values: list[Any],
                  sums: list[tuple[str, str]]) -> list[PCell]:
    """Output (i, j) comes from row i of A and column j of B (a 1-D A is one row, a 1-D B
    one column)."""
    a_shape = list(inputs[0].get("shape") or [])
    b_shape = list(inputs[1].get("shape") or [])
    a_values = list(inputs[0].get("values") or [])
    b_values = list(inputs[1].get("values") or [])
    inner = a_shape[-1] if a_shape else 0
    b_columns = b_shape[1] if len(b_shape) == 2 else 1
    columns = b_columns if len(b_shape) == 2 else 1
    cells = []
    for c, value in enumerate(values):
        i = c // columns if len(a_shape) == 2 else 0
        j = c % columns if len(b_shape) == 2 else 0
        a_flat = [i * inner + t for t in range(inner)]
        b_flat = [t * b_columns + j for t in range(inner)]
        from_ids = " ".join([*(f"{prefix}-in0-{f}" for f in a_flat),
                             *(f"{prefix}-in1-{f}" for f in b_flat)])
        row = f"{names[0]}[{i}, :]" if len(a_shape) == 2 else names[0]
        column = f"{names[1]}[:, {j}]" if len(b_shape) == 2 else names[1]
        terms = [f"{_value(a_values, a)}×{_value(b_values, b)}" for a, b in zip(a_flat, b_flat,
                                                                           strict=True)]
        if len(terms) > MAX_SUM_TERMS:
            terms = [*terms[:MAX_SUM_TERMS // 2], "…", *terms[-MAX_SUM_TERMS // 2:]]
        detail = " + ".join(terms) + f" = {format_number(value)}"
        label = index_text(c, shape) if shape else ""
        sums.append((label, detail))
        cells.append(PCell(f"{prefix}-out-{c}", format_number(value), "pv-mixed",
                           f"{row} · {column}", from_ids, detail))
    return cells


def _value(values: list[Any], index: int) -> str:
    return format_number(values[index]) if index < len(values) else "?"


def provenance_for(records: list[dict[str, Any]] | None, target: str,
                   id_prefix: str = "pv") -> Provenance | None:
    """The laid-out record for ``target`` ("result" or a variable name), if there is one.
    ``id_prefix`` keeps the cell ids of several runs on one page (a lesson) apart."""
    for number, record in enumerate(records or []):
        if record.get("target") == target:
            return build_provenance(record, number, id_prefix)
    return None
