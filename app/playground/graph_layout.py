"""Server-side layout of the autograd graph as SVG geometry (no graphviz binary).

First the data (``layout_graph`` returns boxes and edge paths), then the drawing (the
``_graph.html`` macro only writes SVG elements at these coordinates). Layers follow the
longest path from the leaves, then each node sinks to just above its first use (so a
parameter sits next to the op that uses it, not in a top row whose edges would cross the
boxes between), arrows pointing the way values flow forward (gradients flow back up).
Node order inside a layer is improved by a few barycenter sweeps, enough for the small
graphs a lesson builds.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from app import i18n
from app.message import N_
from app.playground.grid import format_number

MAX_NODES = 120  # a bigger graph is unreadable as a picture; the page says how many were cut
CHAR_W = 7.4  # advance of one character of the 12px monospace font the CSS sets on SVG text
LINE_H = 16
PAD_X, PAD_Y = 12, 10
GAP_X, GAP_Y = 24, 44
MARGIN = 8
SWEEPS = 4
GRAD_VALUES = 4  # a .grad with more values is summarised by its shape
RULE_CHARS = 34  # a node's local rule is wrapped at this width: the box stays narrow


@dataclass
class NodeBox:
    id: str
    kind: str  # leaf | op | output
    title: str
    lines: list[str]
    inputs: list[str] = field(default_factory=list)  # titles of the nodes feeding this one
    has_grad: bool = False
    cut: bool = False  # made by detach() or under no_grad: no gradient reaches it
    # After backward(): the gradient that flowed in and the node's local rule, one line each
    # (the rule wrapped), and the (call, order) steps of the backward stepper that ran it.
    flow_lines: list[str] = field(default_factory=list)
    steps: str = ""
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    def text_y(self, i: int) -> float:
        """Baseline of text line ``i`` (0 is the title)."""
        return self.y + PAD_Y + LINE_H * (i + 1) - 4


@dataclass(frozen=True)
class EdgePath:
    source: str
    target: str
    d: str
    cut: bool
    mid_x: float
    mid_y: float


@dataclass
class GraphLayout:
    width: float
    height: float
    nodes: list[NodeBox]
    edges: list[EdgePath]
    omitted: int = 0  # nodes beyond MAX_NODES


def shape_text(shape: list[int]) -> str:
    """Written like torch.Size's list, so a 1-D ``[3]`` is not read as a number."""
    return "[" + ", ".join(str(n) for n in shape) + "]"


def grad_text(view: dict[str, Any] | None) -> str | None:
    """A one-line ``.grad`` for a node: its values when few, else its shape."""
    if not isinstance(view, dict):
        return None
    if view.get("kind") == "scalar":
        return format_number(view.get("value"))
    values = view.get("values")
    flat: list[object] = []
    stack = [values]
    while stack and len(flat) <= GRAD_VALUES:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            flat.append(item)
    shape = list(view.get("shape") or [])
    if not shape:
        return format_number(flat[0]) if flat else "?"
    if len(flat) <= GRAD_VALUES and not view.get("truncated"):
        return "[" + ", ".join(format_number(v) for v in flat) + "]"
    return shape_text(shape)


def flow_text(received: dict[str, Any] | None, norm: float | None) -> str:
    """What flowed into a node, compactly: its values when few, else its shape and norm."""
    if not isinstance(received, dict):
        return "?"
    shape = list(received.get("shape") or [])
    values = list(received.get("values") or [])
    if not shape:
        return format_number(values[0]) if values else "?"
    if len(values) <= GRAD_VALUES and not received.get("more"):
        return "[" + ", ".join(format_number(v) for v in values) + "]"
    text = shape_text(shape)
    return f"{text} ‖g‖={format_number(norm)}" if norm is not None else text


def rule_lines(rule: str) -> list[str]:
    """A local rule on a few short lines: one per clause (grad_a = ..., grad_b = ...), a
    clause longer than RULE_CHARS wrapped."""
    clauses = rule.split(", ")
    lines: list[str] = []
    for i, clause in enumerate(clauses):
        text = clause + ("," if i < len(clauses) - 1 else "")
        lines += textwrap.wrap(text, RULE_CHARS) or [text]
    return lines


def text_width(text: str) -> int:
    """Columns of monospace text: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _identity(text: str) -> str:
    return text



GRAD_IN = N_("grad in")  # before a node's incoming gradient: "grad in [1.0, 1.0]"


@lru_cache(maxsize=len(i18n.LOCALES))
def _gettext(locale: str) -> Callable[[str], str]:
    return i18n.translations(locale).gettext


def _node_box(node: dict[str, Any], variables: dict[str, Any],
              translate: Callable[[str], str] = _identity) -> NodeBox:
    kind = node.get("kind", "op")
    var = node.get("var")
    label = str(node.get("label", ""))
    lines: list[str] = []
    if kind == "leaf":
        title = str(var) if var else label
        if node.get("cut"):
            lines.append(label)  # "detach()" or "no_grad": how it was cut off
        view = variables.get(var) if var else None
        shape = node.get("shape")
        if shape is None and isinstance(view, dict):
            shape = view.get("shape")
        if shape is not None:
            lines.append(shape_text(list(shape)))
    else:
        title = label
        if var:
            lines.append(f"= {var}")
    grad = grad_text(node.get("grad"))
    if grad is not None:
        lines.append(f"grad {grad}")
    box = NodeBox(str(node["id"]), kind, title, lines, has_grad=grad is not None,
                  cut=bool(node.get("cut")))
    backward = node.get("backward")
    if isinstance(backward, dict):
        box.steps = " ".join(f"{c}:{o}" for c, o in backward.get("steps") or [])
        if kind != "leaf":  # a leaf already shows its .grad
            box.flow_lines.append(f"{translate(GRAD_IN)} "
                                  f"{flow_text(backward.get('received'), backward.get('norm'))}")
            if backward.get("rule"):
                box.flow_lines += rule_lines(translate(str(backward["rule"])))
    longest = max(text_width(s) for s in [title, *lines, *box.flow_lines])
    box.w = max(72.0, longest * CHAR_W + 2 * PAD_X)
    box.h = LINE_H * (1 + len(lines) + len(box.flow_lines)) + 2 * PAD_Y
    return box


def _ranks(ids: list[str], preds: dict[str, list[str]]) -> dict[str, int]:
    """Longest distance from a source; nodes on a cycle (malformed input) go last."""
    succs: dict[str, list[str]] = defaultdict(list)
    indegree = {n: 0 for n in ids}
    for n in ids:
        for p in preds[n]:
            succs[p].append(n)
            indegree[n] += 1
    rank = dict.fromkeys(ids, 0)
    ready = [n for n in ids if indegree[n] == 0]
    seen = 0
    while ready:
        n = ready.pop(0)
        seen += 1
        for s in succs[n]:
            rank[s] = max(rank[s], rank[n] + 1)
            indegree[s] -= 1
            if indegree[s] == 0:
                ready.append(s)
    if seen < len(ids):
        top = max(rank.values(), default=0) + 1
        for n in ids:
            if indegree[n] > 0:
                rank[n] = top
    return rank


def _sink_toward_uses(ids: list[str], rank: dict[str, int],
                      succs: dict[str, list[str]]) -> dict[str, int]:
    """Move each node down to just above its first use. Longest-path ranks put every leaf in
    the top row, so a layer's weights (an MLP's W2, b2) sent edges through the rows between,
    across the boxes there; one row above their use, the edge spans no other row."""
    for n in sorted(ids, key=lambda m: rank[m], reverse=True):
        below = [rank[s] for s in succs[n] if rank[s] > rank[n]]
        if below:
            rank[n] = max(rank[n], min(below) - 1)
    return rank


def _order(layers: list[list[str]], preds: dict[str, list[str]],
           succs: dict[str, list[str]]) -> None:
    """Barycenter sweeps: each node moves toward the mean position of its neighbours in the
    layer above (downward sweep) or below (upward sweep), which removes most crossings."""
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        rng = range(1, len(layers)) if down else range(len(layers) - 2, -1, -1)
        for i in rng:
            ref = layers[i - 1] if down else layers[i + 1]
            pos = {n: k for k, n in enumerate(ref)}
            neighbours = preds if down else succs

            current = {n: k for k, n in enumerate(layers[i])}

            def key(n: str, pos: dict[str, int] = pos, nb: dict = neighbours,
                    here: dict[str, int] = current) -> float:
                near = [pos[m] for m in nb[n] if m in pos]
                return sum(near) / len(near) if near else float(here[n])

            layers[i].sort(key=key)


def layout_graph(graph: dict[str, Any] | None, variables: dict[str, Any],
                 translate: Callable[[str], str] | str = _identity) -> GraphLayout | None:
    """``translate``: a gettext, or the page's locale, for the words drawn inside the boxes
    (their widths depend on the language)."""
    if not graph or not graph.get("nodes"):
        return None
    if isinstance(translate, str):
        translate = _gettext(translate)
    raw = graph["nodes"]
    boxes = {str(n["id"]): _node_box(n, variables, translate) for n in raw[:MAX_NODES]}
    ids = list(boxes)
    preds: dict[str, list[str]] = {n: [] for n in ids}
    succs: dict[str, list[str]] = {n: [] for n in ids}
    edges: list[tuple[str, str, bool]] = []
    for e in graph.get("edges", []):
        src, dst = str(e.get("from")), str(e.get("to"))
        if src in boxes and dst in boxes and src != dst:
            preds[dst].append(src)
            succs[src].append(dst)
            edges.append((src, dst, bool(e.get("cut"))))
    for n in ids:
        boxes[n].inputs = [boxes[p].title for p in preds[n]]

    rank = _sink_toward_uses(ids, _ranks(ids, preds), succs)
    layers: list[list[str]] = [[] for _ in range(max(rank.values()) + 1)]
    for n in ids:
        layers[rank[n]].append(n)
    layers = [layer for layer in layers if layer]  # a cycle can leave a rank empty
    _order(layers, preds, succs)

    widths = [sum(boxes[n].w for n in layer) + GAP_X * (len(layer) - 1) for layer in layers]
    width = max(widths) + 2 * MARGIN
    y = float(MARGIN)
    for layer, layer_w in zip(layers, widths, strict=True):
        x = (width - layer_w) / 2  # centre each layer
        for n in layer:
            boxes[n].x, boxes[n].y = x, y
            x += boxes[n].w + GAP_X
        y += max(boxes[n].h for n in layer) + GAP_Y
    height = y - GAP_Y + MARGIN

    paths = []
    for src, dst, cut in edges:
        a, b = boxes[src], boxes[dst]
        x1, y1, x2, y2 = a.cx, a.y + a.h, b.cx, b.y
        bend = max(GAP_Y / 2, (y2 - y1) / 2)
        d = (f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} "
             f"{x2:.1f},{y2 - bend:.1f} {x2:.1f},{y2:.1f}")
        paths.append(EdgePath(src, dst, d, cut, (x1 + x2) / 2, (y1 + y2) / 2))
    return GraphLayout(round(width, 1), round(height, 1), [boxes[n] for n in ids], paths,
                       omitted=max(0, len(raw) - MAX_NODES))
