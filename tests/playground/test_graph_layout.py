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


def _mlp_graph() -> dict:
    """The graph torch records for a 2-layer MLP's loss (nn.Linear -> relu -> nn.Linear ->
    mse_loss): each layer's weight enters through TBackward0, its bias straight into Addmm."""
    def leaf(name: str) -> dict:
        return {"id": name, "label": "AccumulateGrad", "kind": "leaf", "var": name,
                "grad": None}

    def op(id_: str, label: str, kind: str = "op") -> dict:
        return {"id": id_, "label": label, "kind": kind, "var": None, "grad": None}

    nodes = [op("loss", "MseLossBackward0", "output"), op("mm2", "AddmmBackward0"),
             leaf("b2"), op("relu", "ReluBackward0"), op("mm1", "AddmmBackward0"),
             leaf("b1"), op("t1", "TBackward0"), leaf("W1"), op("t2", "TBackward0"),
             leaf("W2")]
    pairs = [("mm2", "loss"), ("b2", "mm2"), ("relu", "mm2"), ("t2", "mm2"), ("W2", "t2"),
             ("mm1", "relu"), ("b1", "mm1"), ("t1", "mm1"), ("W1", "t1")]
    return {"nodes": nodes, "edges": [{"from": a, "to": b} for a, b in pairs]}


def _crosses(box, x1: float, y1: float, x2: float, y2: float) -> bool:
    """Whether the straight segment between an edge's ends passes through ``box``."""
    for k in range(1, 100):
        t = k / 100
        x, y = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t
        if box.x < x < box.x + box.w and box.y < y < box.y + box.h:
            return True
    return False


def test_mlp_edges_do_not_cross_other_nodes() -> None:
    layout = layout_graph(_mlp_graph(), {})
    assert layout is not None
    boxes = {n.id: n for n in layout.nodes}
    rows = sorted({n.y for n in layout.nodes})
    for edge in layout.edges:
        a, b = boxes[edge.source], boxes[edge.target]
        # each edge joins neighbouring rows: W2 sits just above its TBackward0, b2 beside it
        assert rows.index(b.y) - rows.index(a.y) == 1, (edge.source, edge.target)
        others = [n for n in layout.nodes if n.id not in (edge.source, edge.target)]
        assert not any(_crosses(n, a.cx, a.y + a.h, b.cx, b.y) for n in others), edge


def test_after_backward_each_operation_shows_what_flowed_in_and_its_rule() -> None:
    from app.playground.graph_layout import layout_graph

    small = {"shape": [2], "dtype": "float32", "values": [1.0, 1.0], "more": False}
    large = {"shape": [8, 8], "dtype": "float32", "values": [0.5] * 12, "more": True}
    graph = {"nodes": [
        {"id": "n1", "label": "SumBackward0", "kind": "output", "var": None, "grad": None,
         "backward": {"received": small, "norm": 1.4142, "rule": "grad_x = grad copied to "
                      "every element of x", "call": 1, "steps": [[1, 1], [2, 1]]}},
        {"id": "n2", "label": "MmBackward0", "kind": "op", "var": None, "grad": None,
         "backward": {"received": large, "norm": 4.0, "rule": None, "call": 1,
                      "steps": [[1, 2]]}},
    ], "edges": [{"from": "n2", "to": "n1"}]}
    g = layout_graph(graph, {}, lambda text: text.upper() if text == "grad in" else text)
    assert g is not None
    nodes = {n.id: n for n in g.nodes}
    assert nodes["n1"].flow_lines == ["GRAD IN [1.0, 1.0]", "grad_x = grad copied to every",
                                      "element of x"]
    assert nodes["n1"].steps == "1:1 2:1"
    assert nodes["n2"].flow_lines == ["GRAD IN [8, 8] ‖g‖=4.0"]  # many values: shape, norm
    # The box grows with its lines.
    assert nodes["n1"].h > nodes["n2"].h


def test_a_rule_is_drawn_a_clause_a_line() -> None:
    from app.playground.graph_layout import RULE_CHARS, rule_lines

    assert rule_lines("grad_a = grad · b, grad_b = grad · a") == [
        "grad_a = grad · b,", "grad_b = grad · a"]
    long = rule_lines("grad_bias = grad summed over rows, grad_A = grad @ Bᵀ, grad_B = Aᵀ @ grad")
    assert all(len(line) <= RULE_CHARS for line in long)
    assert " ".join(long) == "grad_bias = grad summed over rows, grad_A = grad @ Bᵀ, " \
        "grad_B = Aᵀ @ grad"
