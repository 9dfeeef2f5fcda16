"""Text that leaves the sandbox: no memory addresses anywhere, and bounded work for values
nested too deep to write out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.engine.program import Sandbox, to_json
from tests.security.conftest import Canary

ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


@pytest.mark.parametrize("code", [
    "y = torch.ones(2, requires_grad=True).sum()\nprint(y.grad_fn)\ny.grad_fn",
    "y = (torch.ones(2, requires_grad=True) * 2).sum()\nprint(y.grad_fn.next_functions)",
    "g = torch.Generator()\nprint(g)\ng",
    "m = nn.Linear(2, 2)\nprint(m.parameters())\nm.parameters()",
    "def f():\n    return 1\nprint(f)\nf",
    "o = optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1)\nprint(o)\nprint([o])",
    "class D(Dataset):\n    def __len__(self):\n        return 1\nd = D()\nprint(d)\nd",
    "print(DataLoader(TensorDataset(torch.ones(2))))",
    "y = torch.ones(2, requires_grad=True).sum()\n{}[y.grad_fn]",
    "y = torch.ones(2, requires_grad=True).sum()\nassert False, y.grad_fn",
])
def test_no_address_reaches_a_response(code: str, sandbox: Sandbox, intact: Canary) -> None:
    text = to_json(sandbox.run(code).body).decode()
    assert not ADDRESS.search(text), ADDRESS.search(text)


def deep_tuple(depth: int) -> str:
    return f"k = ()\nfor i in range({depth}):\n    k = (k,)\n"


@pytest.mark.parametrize(("code", "error_type"), [
    (deep_tuple(3000) + "{}[k]", "KeyError"),
    (deep_tuple(3000) + "print(k)\n1 / 0", "ZeroDivisionError"),
    (deep_tuple(3000) + "assert False, k", "AssertionError"),
])
def test_deep_values_give_the_programs_own_error(code: str, error_type: str, sandbox: Sandbox,
                                                 intact: Canary) -> None:
    body: dict[str, Any] = sandbox.run(code).body
    assert body["ok"] is False
    assert body["error"]["type"] == error_type
    assert len(body["error"]["message"]) <= 4100


def test_printing_a_deep_value_is_bounded_and_ends(sandbox: Sandbox, intact: Canary) -> None:
    body = sandbox.run(deep_tuple(3000) + "print(k)").body
    assert body["ok"] is True
    assert body["stdout"].startswith("(" * 100) and "…" in body["stdout"]
