"""Copy-as-Python and Jupyter notebook export of a playground program.

The playground pre-binds ``torch``, ``nn``, ``F`` ... and shows the value of the last
expression; a plain Python file does neither, so the export adds the imports the program
uses, the seed and the default device, and prints each section's last expression. The
notebook is nbformat 4.5 JSON written by hand (cells need ids from 4.5 on); Jupyter
already shows a cell's last expression, so there a program stays as typed.

A program comes in sections: one for the scratchpad; two for compare mode (inputs + left,
inputs + right), each run from fresh inputs so an in-place op on one side cannot leak
into the other, as in the playground.
"""

from __future__ import annotations

import ast
import json
from typing import Any

# (name a program may use without importing it, the import that binds it in plain Python)
PRELUDE = (
    ("nn", "import torch.nn as nn"),
    ("F", "import torch.nn.functional as F"),
    ("optim", "import torch.optim as optim"),
    ("np", "import numpy as np"),
    ("Dataset", "from torch.utils.data import Dataset"),
    ("DataLoader", "from torch.utils.data import DataLoader"),
)
DEVICE_LINES = {
    "cpu": None,  # torch's default already
    "cuda": 'torch.set_default_device("cuda")',
    "auto": 'torch.set_default_device("cuda" if torch.cuda.is_available() else "cpu")',
}

Section = tuple[str | None, str]  # (heading, code)


def _parse(code: str) -> ast.Module | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # exported as typed; the playground shows the syntax error


def _names(code: str) -> set[str]:
    tree = _parse(code)
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} if tree else set()


def setup_lines(codes: list[str], seed: int, device: str) -> list[str]:
    used = set().union(*(_names(c) for c in codes)) if codes else set()
    lines = ["import torch"]
    lines += [line for name, line in PRELUDE if name in used]
    lines.append(f"torch.manual_seed({int(seed)})")
    if DEVICE_LINES.get(device):
        lines.append(DEVICE_LINES[device])
    return lines


def print_last_expression(code: str) -> str:
    """``code`` with its last statement wrapped in print() when it is a bare expression."""
    tree = _parse(code)
    if tree is None or not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return code
    last = tree.body[-1]
    call = last.value
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print":
        return code
    lines = code.splitlines()
    start, end = last.lineno - 1, (last.end_lineno or last.lineno) - 1
    segment = ast.get_source_segment(code, last)
    if last.col_offset != 0 or segment is None:
        return code  # e.g. "x = 1; x" on one line: leave it rather than mangle it
    tail = lines[end][last.end_col_offset or 0:] if last.end_col_offset is not None else ""
    return "\n".join([*lines[:start], f"print({segment}){tail}", *lines[end + 1:]])


def _reseeded(sections: list[Section], seed: int) -> list[Section]:
    """Each of several sections starts from the same seed, as each side does when run."""
    if len(sections) < 2:
        return sections
    return [(heading, f"torch.manual_seed({int(seed)})\n{code}") for heading, code in sections]


def to_python(sections: list[Section], seed: int, device: str) -> str:
    sections = _reseeded(sections, seed)
    out = ["# Exported from Torch Playground; runs with plain Python and PyTorch.",
           *setup_lines([code for _, code in sections], seed, device)]
    for heading, code in sections:
        out.append("")
        if heading:
            out.append(f"# --- {heading} ---")
        out.append(print_last_expression(code).rstrip("\n"))
    return "\n".join(out) + "\n"


def _source(text: str) -> list[str]:
    """nbformat stores a cell's source as lines that keep their newline (not the last)."""
    return text.splitlines(keepends=True) or [""]


def _code_cell(cell_id: str, code: str) -> dict[str, Any]:
    return {"cell_type": "code", "id": cell_id, "metadata": {}, "execution_count": None,
            "outputs": [], "source": _source(code.rstrip("\n"))}


def _markdown_cell(cell_id: str, text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": _source(text)}


def to_notebook(title: str, sections: list[Section], seed: int, device: str) -> dict[str, Any]:
    sections = _reseeded(sections, seed)
    cells = [_markdown_cell("title", f"# {title}"),
             _code_cell("setup", "\n".join(setup_lines([c for _, c in sections], seed, device)))]
    for i, (heading, code) in enumerate(sections, start=1):
        if heading:
            cells.append(_markdown_cell(f"heading-{i}", f"## {heading}"))
        cells.append(_code_cell(f"program-{i}", code))
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": cells,
    }


def notebook_bytes(title: str, sections: list[Section], seed: int, device: str) -> bytes:
    notebook = to_notebook(title, sections, seed, device)
    return (json.dumps(notebook, indent=1, ensure_ascii=False) + "\n").encode()
