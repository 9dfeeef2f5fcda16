"""numpy functions given tensors are sized like arrays of the same shape (class 5).

numpy has no meta device, so app/engine/numpy_rules.py predicts what each call allocates from
its arguments' shapes; a torch tensor handed to np.* was not counted at all, and numpy copies
it whole, however little storage it has: np.array(torch.zeros(1).expand(10**9)) asked for
4 GB, np.concatenate([t] * k) k times that."""

from __future__ import annotations

import pytest

from app.engine.program import Sandbox

BIG = "torch.zeros(1).expand(10**9)"

REFUSED = {
    "array": f"np.array({BIG})",
    "asarray": f"np.asarray({BIG})",
    "exp": f"np.exp({BIG})",
    "zeros-like": f"np.zeros_like({BIG})",
    "concatenate": "t = torch.zeros(1).expand(10**7)\nnp.concatenate([t] * 100)",
    "stack": "t = torch.zeros(1).expand(10**7)\nnp.stack([t] * 100)",
    "nested-list": "t = torch.zeros(1).expand(10**6)\nnp.array([[t] * 100] * 100)",
    "dot": "a = torch.zeros(1, 1).expand(10**5, 1)\nnp.dot(a, a.T)",
    "where": "a = torch.zeros(1, 1).expand(10**5, 1)\nnp.where(a > 0, a, a.T)",
    "full-with-a-tensor": f"np.full((10**9,), {BIG})",
    "shape-as-tensor": "np.zeros(torch.tensor([10**5, 10**5]))",
    # np.argmax gives a numpy integer, not a Python int.
    "shape-of-numpy-ints": "n = np.argmax(np.arange(10**5 + 1))\nnp.zeros((n, n))",
    "random-sizes-as-tensors": "np.random.rand(torch.tensor(10**5), torch.tensor(10**5))",
    "arange-to-a-tensor": "np.arange(torch.tensor(10**10))",
}


@pytest.mark.parametrize("code", REFUSED.values(), ids=REFUSED.keys())
def test_numpy_calls_on_big_tensors_are_refused_before_they_run(code: str,
                                                                sandbox: Sandbox) -> None:
    outcome = sandbox.run(code)
    error = outcome.body["error"]
    assert outcome.status == 413, error
    assert error["type"] == "LimitError"
    assert "would allocate" in error["message"] and "max_call_bytes" in error["message"]
    assert error["hint"]


ALLOWED = {
    "array": ("np.array(torch.ones(2, 3)).shape", [2, 3]),
    "exp": ("float(np.exp(torch.zeros(3)).sum())", 3.0),
    "concatenate": ("np.concatenate([torch.ones(2), torch.ones(3)]).shape", [5]),
    "zeros-like": ("np.zeros_like(torch.ones(4)).shape", [4]),
    "dot": ("np.dot(torch.ones(3, 4), torch.ones(4, 5)).shape", [3, 5]),
    "list-of-numbers": ("np.array([[1, 2], [3, 4]]).shape", [2, 2]),
    "shape-of-numpy-ints": ("n = np.argmax(np.arange(3))\nnp.zeros((n, n + 1)).shape", [2, 3]),
}


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_small_tensors_still_go_to_numpy(name: str, sandbox: Sandbox) -> None:
    code, expected = ALLOWED[name]
    body = sandbox.run(code).body
    assert body["ok"] is True, body.get("error")
    result = body["result"]
    got = result.get("value") if result["kind"] in ("shape", "scalar") \
        else [item["value"] for item in result["items"]]
    assert got == expected
