"""POST /eval over HTTP carries the step-through trace and the gradient trace (docs/API.md),
through the real worker pool, and the response validates against the documented schema."""

from __future__ import annotations

import torch
from fastapi.testclient import TestClient

from app.schemas import EvalResponse


def test_eval_returns_both_traces(client: TestClient) -> None:
    code = ("x = torch.tensor([1.0, 2.0], requires_grad=True)\nv = x.detach()\n"
            "for i in range(2):\n    v.mul_(2)\ny = (x * x).sum()\ny.backward()\n")
    response = client.post("/eval", json={"code": code})
    assert response.status_code == 200
    body = response.json()
    EvalResponse.model_validate(body)
    frames = body["trace"]["frames"]
    assert [(f["line"], f["iteration"]) for f in frames] == [
        (1, None), (2, None), (3, 1), (3, 2), (3, None), (5, None), (6, None)]
    loop = frames[3]
    assert loop["shared"] == [{"storage": "S1", "names": ["x", "v"]}]
    x_in_loop = next(v for v in loop["variables"] if v["name"] == "x")
    assert x_in_loop["change"] == "inplace" and x_in_loop["values"] == [4.0, 8.0]
    [call] = body["grad_trace"]["calls"]
    assert [n["name"] for n in call["nodes"]] == ["SumBackward0", "MulBackward0",
                                                 "AccumulateGrad"]
    x = torch.tensor([4.0, 8.0], requires_grad=True)
    (x * x).sum().backward()
    assert call["nodes"][-1]["grad_after"]["values"] == x.grad.tolist()
    assert call["nodes"][-1]["leaf"] == "x"


def test_a_failing_program_still_has_its_trace(client: TestClient) -> None:
    response = client.post("/eval", json={"code": "a = torch.ones(2)\nb = a @ torch.ones(3)\n"})
    body = response.json()
    assert response.status_code == 200 and body["ok"] is False
    EvalResponse.model_validate(body)
    assert [f["line"] for f in body["trace"]["frames"]] == [1]
    assert body["grad_trace"] == {"calls": [], "skipped_calls": 0}


def test_the_results_page_writes_every_frame_and_every_node(client: TestClient) -> None:
    code = ("x = torch.tensor([1.0, 2.0], requires_grad=True)\nv = x.detach()\n"
            "for i in range(2):\n    v.mul_(2)\ny = (x * x).sum()\ny.backward()\n")
    html = client.post("/run", data={"code": code, "seed": "0", "device": "auto"},
                       headers={"HX-Request": "true"}).text
    # The stepper is hidden until static/stepper.js shows it; the plain trace table stays.
    assert "data-stepper hidden" in html and 'class="plain trace"' in html
    assert html.count("data-frame=") == 7
    assert html.count('aria-current="step"') == 7
    assert "changed in place" in html and "storage S1" in html
    assert html.count("data-grad-node=") == 3
    assert "grad_a = grad · b, grad_b = grad · a" in html
    assert "2 gradients arrived and were summed" in html
    assert "[8.0, 16.0]" in html  # x.grad after the in-place doubling twice: 2 * [4, 8]
