"""The results page draws where each number came from (templates/components/_provenance.html):
through the real worker pool, /eval carries the documented record and /run writes each output
cell with its colour, its source in words and the ids of the input cells it came from."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.schemas import EvalResponse

STACK = ("a = torch.tensor([1, 2, 3])\nb = torch.tensor([4, 5, 6])\n"
         "torch.stack([a, b])\n")
MM = ("A = torch.tensor([[1, 2, 3], [4, 5, 6]])\nB = torch.tensor([[1, 4], [2, 5], [3, 6]])\n"
      "A @ B\n")


def page(client: TestClient, code: str) -> str:
    response = client.post("/run", data={"code": code, "seed": "0", "device": "auto"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.text


def output_cells(html: str) -> list[tuple[str, str, str]]:
    """(class, data-pv-from, visible label) of each output cell, in order."""
    return re.findall(r'<td id="pv0-out-\d+" class="([^"]+)" data-pv-from="([^"]*)" '
                      r'data-pv-source="[^"]*"[^>]*><span class="pv-value">[^<]*</span>'
                      r'<span class="pv-label">([^<]*)</span>', html)


def test_eval_carries_the_documented_record(client: TestClient) -> None:
    body = client.post("/eval", json={"code": STACK}).json()
    EvalResponse.model_validate(body)
    [record] = body["provenance"]
    assert record["target"] == "result" and record["op"] == "torch.stack"


def test_stack_cells_are_coloured_and_labelled_by_their_input(client: TestClient) -> None:
    html = page(client, STACK)
    found = output_cells(html)
    assert [c[0] for c in found] == ["pv-src-0"] * 3 + ["pv-src-1"] * 3
    assert [c[2] for c in found] == ["a[0]", "a[1]", "a[2]", "b[0]", "b[1]", "b[2]"]
    assert [c[1] for c in found] == [f"pv0-in{k}-{i}" for k in range(2) for i in range(3)]
    for _, source, _ in found:  # every source id is a cell of an input table
        assert f'id="{source}"' in html
    assert 'class="pv-legend"' in html and "<code>a</code>" in html
    assert '<script src="/static/provenance.js" defer></script>' in client.get("/").text


def test_mm_cells_name_a_row_and_a_column_and_write_the_sum(client: TestClient) -> None:
    html = page(client, MM)
    found = output_cells(html)
    assert [c[2] for c in found] == ["A[0, :] · B[:, 0]", "A[0, :] · B[:, 1]",
                                     "A[1, :] · B[:, 0]", "A[1, :] · B[:, 1]"]
    # Output (1, 0): row 1 of A is flat 3, 4, 5; column 0 of B is flat 0, 2, 4.
    assert found[2][1].split() == ["pv0-in0-3", "pv0-in0-4", "pv0-in0-5",
                                   "pv0-in1-0", "pv0-in1-2", "pv0-in1-4"]
    assert 'data-pv-detail="4×1 + 5×2 + 6×3 = 32"' in html
    assert "<code>result[1, 0] = 4×1 + 5×2 + 6×3 = 32</code>" in html


def test_no_panel_for_an_operation_that_computes(client: TestClient) -> None:
    assert "data-provenance" not in page(client, "torch.tensor([1., 2.]).exp()\n")


def test_the_drawn_graph_shows_gradients_after_backward(client: TestClient) -> None:
    code = ("x = torch.tensor([1., 2.], requires_grad=True)\nh = x * x\ny = h.sum()\n"
            "y.backward()\n")
    body = client.post("/eval", json={"code": code}).json()
    EvalResponse.model_validate(body)
    html = page(client, code)
    svg = html[html.index('<svg class="autograd"'):html.index("</svg>")]
    # MulBackward0 received dy/dh = [1, 1]; its rule is drawn under it, a clause a line.
    assert '<text x="' in svg and ">grad in [1.0, 1.0]</text>" in svg
    assert ">grad_a = grad · b,</text>" in svg and ">grad_b = grad · a</text>" in svg
    assert re.search(r'data-node="n\d+" data-grad-steps="1:2"', svg)
    assert 'data-backward-call="1"' in html


def test_a_lesson_example_shows_where_its_result_came_from(client: TestClient) -> None:
    from app.lessons.loader import load_catalog
    from app.lessons.models import ExampleSection

    lesson = load_catalog().get("stack-vs-cat")
    assert lesson is not None
    index = next(i for i, s in enumerate(lesson.sections)
                 if isinstance(s, ExampleSection) and s.mode == "scratchpad")
    html = client.post(f"/lessons/stack-vs-cat/run/{index}",
                       data={"code": "a = torch.tensor([1, 2])\ntorch.cat([a, a])\n"},
                       headers={"HX-Request": "true"}).text
    # Ids carry the section's prefix: several runs on one lesson page never share one.
    assert f'id="sec-{index}-pv0-out-3"' in html
    assert f'data-pv-from="sec-{index}-pv0-in1-1"' in html
    assert '<script src="/static/provenance.js" defer></script>' in \
        client.get("/lessons/stack-vs-cat").text
