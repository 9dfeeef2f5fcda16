"""Helpers the templates call on view objects (registered as Jinja globals by app/web.py).

They compute; the macros only format what they return."""

from __future__ import annotations

from typing import Any

from app.playground.compare import locate_line
from app.playground.graph_layout import layout_graph, shape_text
from app.playground.grid import build_grid, format_ms, format_number
from app.playground.provenance_view import provenance_for
from app.playground.storage import storage_groups

REPR_LINES = 8  # a trace cell shows this many lines of a repr; the tensor card shows all


def is_array(view: Any) -> bool:
    return isinstance(view, dict) and view.get("kind") in ("tensor", "ndarray")


def brief(view: dict[str, Any] | None, max_lines: int = REPR_LINES) -> str:
    """What a value looks like in one trace cell: the repr torch prints, cut to a few lines."""
    if view is None:
        return ""
    kind = view.get("kind")
    if kind in ("tensor", "ndarray", "module"):
        text = str(view.get("repr", ""))
    elif kind == "scalar":
        text = format_number(view.get("value"))
    elif kind == "shape":
        text = f"torch.Size({list(view.get('value') or [])})"
    elif kind == "dtype":
        text = f"torch.{view.get('value')}"
    elif kind == "device":
        text = f"device(type='{view.get('value')}')"
    elif kind == "none":
        text = "None"
    elif kind in ("list", "tuple", "dict"):
        items = view.get("items") or []
        parts = [(f"{i.get('key')}: " if kind == "dict" else "") + brief(i, 1) for i in items[:6]]
        more = ", …" if len(items) > 6 else ""
        left, right = {"list": "[]", "tuple": "()", "dict": "{}"}[kind]
        text = left + ", ".join(parts) + more + right
    else:
        text = str(view.get("value", view.get("repr", "")))
    lines = text.splitlines() or [""]
    return "\n".join(lines[:max_lines]) + ("\n…" if len(lines) > max_lines else "")


def stat_text(view: dict[str, Any], key: str) -> str:
    """One of a tensor's stats; min and max of an integer tensor read as integers."""
    value = (view.get("stats") or {}).get(key)
    dtype = str(view.get("dtype", ""))
    if (key in ("min", "max") and dtype.startswith(("int", "uint"))
            and isinstance(value, float) and value.is_integer()):
        value = int(value)
    return format_number(value)


def source_line(code: str, line: int | None) -> str | None:
    """The text of ``line`` (1-based) in ``code``, for the error card."""
    if not line or line < 1:
        return None
    lines = code.splitlines()
    return lines[line - 1] if line <= len(lines) else None


def leaf_gradients(graph: dict[str, Any] | None) -> list[tuple[str, dict[str, Any]]]:
    """(leaf name, .grad view) for every leaf that has a gradient, in graph order."""
    if not graph:
        return []
    return [(str(n.get("var") or n.get("label")), n["grad"]) for n in graph.get("nodes", [])
            if n.get("kind") == "leaf" and isinstance(n.get("grad"), dict)]


TEMPLATE_HELPERS: dict[str, Any] = {
    "build_grid": build_grid,
    "storage_groups": storage_groups,
    "layout_graph": layout_graph,
    "shape_text": shape_text,
    "format_number": format_number,
    "format_ms": format_ms,
    "is_array": is_array,
    "brief": brief,
    "source_line": source_line,
    "locate_line": locate_line,
    "stat_text": stat_text,
    "leaf_gradients": leaf_gradients,
    "provenance_for": provenance_for,
}
