from __future__ import annotations

import itertools

from app.playground.graph_layout import MAX_NODES, grad_text, layout_graph


def test_backward_graph_layers_leaves_above_ops(recorded) -> None:
    body = recorded("backward")["body"]
    layout = layout_graph(body["graph"], body["variables"])
    assert layout is not None
    nodes = {n.title: n for n in layout.nodes}
    leaves = [n for n in layout.nodes if n.kind == "leaf"]
    assert {n.title for n in leaves} == {"x", "w"}
    assert nodes["x"].lines == ["[3]", "grad [0.5, -1.0, 2.0]"]  # d(sum(w*x))/dx = w
    assert nodes["w"].lines == ["[3]", "grad [1.0, 2.0, 3.0]"]
    assert nodes["MulBackward0"].inputs and set(nodes["MulBackward0"].inputs) == {"x", "w"}
    # every edge points down the page, from the bottom of one box to the top of the next
    boxes = {n.id: n for n in layout.nodes}
    for edge in layout.edges:
        assert boxes[edge.source].y + boxes[edge.source].h < boxes[edge.target].y
    assert all(n.x >= 0 and n.x + n.w <= layout.width for n in layout.nodes)
    assert all(n.y + n.h <= layout.height for n in layout.nodes)


def test_boxes_in_a_layer_do_not_overlap() -> None:
    nodes = [{"id": f"l{i}", "label": "AccumulateGrad", "kind": "leaf", "var": f"p{i}",
              "grad": None} for i in range(5)]
    nodes.append({"id": "op", "label": "StackBackward0", "kind": "output", "var": None,
                  "grad": None})
    edges = [{"from": f"l{i}", "to": "op"} for i in range(5)]
    layout = layout_graph({"nodes": nodes, "edges": edges}, {})
    row = sorted((n for n in layout.nodes if n.kind == "leaf"), key=lambda n: n.x)
    assert all(a.x + a.w < b.x for a, b in itertools.pairwise(row))


def test_cut_edges_and_malformed_input() -> None:
    graph = {"nodes": [{"id": "a", "label": "A", "kind": "op"},
                       {"id": "b", "label": "B", "kind": "op"}],
             "edges": [{"from": "a", "to": "b", "cut": True}, {"from": "b", "to": "a"},
                       {"from": "a", "to": "missing"}]}
    layout = layout_graph(graph, {})  # a cycle and a dangling edge must not hang or crash
    assert layout is not None and len(layout.edges) == 2
    assert [e.cut for e in layout.edges] == [True, False]
    assert layout_graph(None, {}) is None and layout_graph({"nodes": []}, {}) is None


def test_huge_graphs_are_cut_and_counted() -> None:
    nodes = [{"id": str(i), "label": "AddBackward0", "kind": "op"} for i in range(MAX_NODES + 7)]
    layout = layout_graph({"nodes": nodes, "edges": []}, {})
    assert len(layout.nodes) == MAX_NODES and layout.omitted == 7


def test_grad_text() -> None:
    assert grad_text(None) is None
    assert grad_text({"kind": "tensor", "shape": [], "values": 4.0}) == "4.0"
    assert grad_text({"kind": "tensor", "shape": [2, 1], "values": [[1.0], [2.0]]}) == "[1.0, 2.0]"
    big = {"kind": "tensor", "shape": [3, 4], "values": [[0.0] * 4] * 3}
    assert grad_text(big) == "[3, 4]"  # too many values for a node: its shape instead
