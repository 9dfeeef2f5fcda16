"""The autograd graph reachable from a program's tensors, as nodes and edges.

Edges point the way the forward computation flowed: from an input node to the node that
consumed it (leaf -> op -> ... -> output). ``backward()`` walks them in reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from app.config import get_settings
from app.engine.text import without_addresses
from app.inspect.tensors import dims

MAX_NODES = 200


def build_graph(roots: list[tuple[str | None, torch.Tensor]],
                variables: dict[str, Any],
                tensor_view: Callable[[torch.Tensor], dict[str, Any]],
                cuts: dict[str, tuple[torch.Tensor, str]] | None = None,
                flowed: Callable[[Any], dict[str, Any] | None] | None = None,
                ) -> dict[str, Any] | None:
    """``roots``: (name, tensor) pairs to start from (the result first, then variables).
    ``cuts``: variable name -> (the tensor it was cut from, "detach" | "no_grad"); each
    becomes a node joined to its source by an edge marked ``cut``. ``flowed``: what a node
    received during the recorded backward passes (GradTraceRecorder.flowed), added to the
    node as ``backward``."""
    limit = get_settings().max_view_items
    grad_fn_owner: dict[int, str] = {}
    leaf_owner: dict[int, str] = {}
    for name, value in variables.items():
        if isinstance(value, torch.Tensor):
            if value.grad_fn is not None:
                grad_fn_owner.setdefault(id(value.grad_fn), name)
            elif value.requires_grad:
                leaf_owner.setdefault(id(value), name)

    nodes: dict[int, dict[str, Any]] = {}
    edges: list[dict[str, str]] = []
    seen_edges: set[tuple[str, str]] = set()
    output_fns = {id(t.grad_fn) for _, t in roots[:1] if t.grad_fn is not None}

    def node_for(fn: Any) -> dict[str, Any]:
        key = id(fn)
        node = nodes.get(key)
        if node is not None:
            return node
        node_id = f"n{len(nodes) + 1}"
        leaf = getattr(fn, "variable", None) if type(fn).__name__ == "AccumulateGrad" else None
        if isinstance(leaf, torch.Tensor):
            node = {"id": node_id, "label": "AccumulateGrad", "kind": "leaf",
                    "var": leaf_owner.get(id(leaf)), "shape": dims(leaf.shape, limit),
                    "grad": tensor_view(leaf.grad) if leaf.grad is not None else None}
        else:
            node = {"id": node_id, "label": without_addresses(type(fn).__name__),
                    "kind": "output" if key in output_fns else "op",
                    "var": grad_fn_owner.get(key), "grad": None}
        backward = flowed(fn) if flowed is not None else None
        if backward is not None:
            node["backward"] = backward
        nodes[key] = node
        return node

    stack = [t.grad_fn for _, t in roots if t.grad_fn is not None]
    # Leaves that require grad but were never used still appear, so the student sees them.
    lone_leaves = [(n, t) for n, t in roots if t.grad_fn is None and t.requires_grad]
    while stack and len(nodes) < MAX_NODES:
        fn = stack.pop()
        consumer = node_for(fn)
        for parent, _ in getattr(fn, "next_functions", ()):
            # torch.cat of 10**5 tensors is one node with 10**5 inputs: the cap holds here too.
            if len(nodes) >= MAX_NODES:
                break
            if parent is None:
                continue
            fresh = id(parent) not in nodes
            producer = node_for(parent)
            edge = (producer["id"], consumer["id"])
            if edge not in seen_edges:
                seen_edges.add(edge)
                edges.append({"from": producer["id"], "to": consumer["id"]})
            if fresh:
                stack.append(parent)
    for name, tensor in lone_leaves:
        if not any(n.get("var") == name for n in nodes.values()) and len(nodes) < MAX_NODES:
            key = id(tensor)
            nodes[key] = {"id": f"n{len(nodes) + 1}", "label": "leaf", "kind": "leaf",
                          "var": name, "shape": dims(tensor.shape, limit),
                          "grad": tensor_view(tensor.grad) if tensor.grad is not None else None}
    for name, (source, reason) in (cuts or {}).items():
        if len(nodes) >= MAX_NODES:
            break
        source_node = _node_of(source, nodes, leaf_owner)
        if source_node is None:
            continue
        cut_id = f"n{len(nodes) + 1}"
        nodes[id(variables[name])] = {
            "id": cut_id, "label": "detach()" if reason == "detach" else "no_grad",
            "kind": "leaf", "var": name, "shape": dims(variables[name].shape, limit), "grad": None,
            "cut": reason}
        edges.append({"from": source_node["id"], "to": cut_id, "cut": True})
    if not nodes:
        return None
    graph: dict[str, Any] = {"nodes": list(nodes.values()), "edges": edges}
    if len(nodes) >= MAX_NODES:
        graph["truncated"] = True
    return graph


def _node_of(tensor: torch.Tensor, nodes: dict[int, dict[str, Any]],
             leaf_owner: dict[int, str]) -> dict[str, Any] | None:
    if tensor.grad_fn is not None:
        return nodes.get(id(tensor.grad_fn))
    name = leaf_owner.get(id(tensor))
    return next((n for n in nodes.values() if n.get("var") == name and n["kind"] == "leaf"),
                None) if name else None
