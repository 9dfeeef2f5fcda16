"""Views reuse their costly parts: by content while the program runs (a tensor can change
through a numpy array without its version changing), by tensor identity once it has ended."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch

from app.config import Settings
from app.engine.program import Sandbox, from_json, to_json
from app.inspect.tensors import StorageLabels, ViewBuilder, _content_key


def _views(labels: StorageLabels | None = None) -> ViewBuilder:
    settings = Settings()
    return ViewBuilder(settings.max_view_values, settings.max_repr_chars,
                       labels or StorageLabels(), settings)


def test_a_change_through_numpy_shows_in_later_steps_and_variables() -> None:
    code = "t = torch.zeros(3)\na = t.numpy()\na[0] = 5\nu = t\nt"
    body = Sandbox(Settings()).run(code).body
    assert body["ok"], body
    shown = [step["value"] and step["value"].get("values") for step in body["steps"]]
    assert shown == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], None, [5.0, 0.0, 0.0],
                     [5.0, 0.0, 0.0]]
    assert body["variables"]["t"]["values"] == [5.0, 0.0, 0.0]
    assert body["result"]["values"] == [5.0, 0.0, 0.0]
    assert body["result"]["repr"] == "tensor([5., 0., 0.])"


def test_settled_views_are_the_views_built_afresh() -> None:
    torch.manual_seed(0)
    x = torch.randn(64, 64, requires_grad=True)
    w = torch.randn(64, 64, requires_grad=True)
    loss = torch.tanh(x @ w).pow(2).mean()
    loss.backward()
    labels = StorageLabels()
    settled = _views(labels)
    settled.settle()
    for t in (x, w, loss, w.grad, x, w.grad):
        assert t is not None
        assert settled.tensor(t) == _views(labels).tensor(t)


def test_settled_views_tell_equal_tensors_apart_by_identity() -> None:
    settled = _views()
    settled.settle()
    a = torch.ones(3)
    b = torch.ones(3) * 2
    assert settled.tensor(a)["values"] == [1.0, 1.0, 1.0]
    assert settled.tensor(b)["values"] == [2.0, 2.0, 2.0]
    assert settled.tensor(a)["values"] == [1.0, 1.0, 1.0]


def test_autograd_views_match_plain_torch() -> None:
    code = ("x = torch.randn(8, 8, requires_grad=True)\nw = torch.randn(8, 8, requires_grad=True)\n"
            "y = torch.tanh(x @ w)\nloss = (y * y).mean()\nloss.backward()\nw.grad")
    body = from_json(to_json(Sandbox(Settings()).run(code, seed=3).body))
    torch.manual_seed(3)
    x = torch.randn(8, 8, requires_grad=True)
    w = torch.randn(8, 8, requires_grad=True)
    y = torch.tanh(x @ w)
    (y * y).mean().backward()
    assert w.grad is not None and x.grad is not None
    as32 = lambda values: torch.tensor(values, dtype=torch.float32)  # noqa: E731
    assert torch.equal(as32(body["result"]["values"]), w.grad)
    assert torch.equal(as32(body["variables"]["w"]["grad"]["values"]), w.grad)
    assert torch.equal(as32(body["variables"]["x"]["grad"]["values"]), x.grad)
    assert torch.equal(as32(body["variables"]["y"]["values"]), y.detach())
    assert body["result"]["repr"] == repr(w.grad)
    assert json.loads(json.dumps(body)) == body


@pytest.mark.parametrize("make", [
    lambda: torch.arange(12.0).reshape(3, 4).t(),
    lambda: torch.arange(12).reshape(3, 4)[:, ::2],
    lambda: torch.arange(10.0)[::5][:1],
    lambda: torch.zeros(2, 1).expand(2, 5),
    lambda: torch.randn(2, 3).bfloat16(),
    lambda: torch.randn(2, 3, requires_grad=True),
    lambda: (torch.randn(4) > 0),
])
def test_content_keys_hold_the_row_major_bytes(make: Any) -> None:
    t = make()
    rebuilt = torch.tensor(t.tolist(), dtype=t.dtype)  # contiguous, the same values
    expected = rebuilt.reshape(-1).view(torch.uint8).numpy().tobytes()
    key = _content_key(t)
    assert key is not None and key[-1] == expected
