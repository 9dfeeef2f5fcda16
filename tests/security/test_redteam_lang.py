"""Attack programs against the interpreter's newer language surface, written as an attacker who
has read app/engine: exceptions, own classes and their members, reflection built-ins,
formatting, the stdlib namespaces, numpy, distributions, pyplot, autograd Functions and the
traces. Each case asserts the exact safe outcome: a refusal with its error type and the words
that name it, the program's own error, or the value Python and torch give.

Classes covered: internals reachable (a live interpreter, scope, frame, code or class object),
addresses in output, InternalError (or a dead worker) instead of the program's own error, and
user code reaching eval/exec, files, the network or another program's data."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.engine.program import Outcome, Sandbox
from tests.security.conftest import Canary

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


def _error(outcome: Outcome) -> tuple[int, str, str]:
    body = outcome.body
    assert body["ok"] is False, f"not stopped: {body}"
    return outcome.status, body["error"]["type"], body["error"]["message"]


def _no_address(outcome: Outcome) -> None:
    text = str(outcome.body)
    assert not _ADDRESS.search(text), _ADDRESS.findall(text)[:3]


# (id, program, status, error type, fragment of the message)
STOPPED: list[tuple[str, str, int, str, str]] = [
    # --- a BaseException the program raises is its own error, never the worker's end ----------
    ("base-exception-top", "raise BaseException('boom')", 200, "BaseException", "boom"),
    ("base-exception-own-class", "class E(BaseException):\n    pass\nraise E('x')", 200, "E",
     "x"),
    ("base-exception-in-forward", "class E(BaseException):\n    pass\n"
     "class M(nn.Module):\n    def forward(self, x):\n        raise E('in forward')\n"
     "M()(torch.ones(1))", 200, "E", "in forward"),
    ("base-exception-in-sort-key", "class E(BaseException):\n    pass\ndef key(x):\n"
     "    raise E('k')\nsorted([3, 1], key=key)", 200, "E", "k"),
    ("base-exception-in-backward", "class E(BaseException):\n    pass\n"
     "class F(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n"
     "        return x * 2\n    @staticmethod\n    def backward(ctx, g):\n"
     "        raise E('bw')\nx = torch.ones(2, requires_grad=True)\n"
     "F.apply(x).sum().backward()", 200, "E", "bw"),
    ("base-exception-in-collate", "class E(BaseException):\n    pass\ndef collate(b):\n"
     "    raise E('collate')\nds = TensorDataset(torch.ones(4, 2))\n"
     "for b in DataLoader(ds, batch_size=2, collate_fn=collate):\n    pass", 200, "E",
     "collate"),
    ("keyboard-interrupt-unnamed", "raise KeyboardInterrupt", 200, "NameError",
     "'KeyboardInterrupt' is not defined"),
    ("system-exit-unnamed", "raise SystemExit(0)", 200, "NameError",
     "'SystemExit' is not defined"),
]


@pytest.mark.parametrize(("code", "status", "kind", "says"),
                         [case[1:] for case in STOPPED], ids=[case[0] for case in STOPPED])
def test_stopped(sandbox: Sandbox, intact: Canary, code: str, status: int, kind: str,
                 says: str) -> None:
    outcome = sandbox.run(code)
    got_status, got_kind, message = _error(outcome)
    assert (got_status, got_kind) == (status, kind), message
    assert says in message, message
    assert "escaped" not in outcome.body.get("stdout", "")
    _no_address(outcome)


# (id, program, exactly what it prints)
PRINTS: list[tuple[str, str, str]] = [
    ("base-exception-caught", "try:\n    raise BaseException('a')\n"
     "except BaseException as e:\n    print('caught', e)", "caught a\n"),
]


@pytest.mark.parametrize(("code", "printed"), [case[1:] for case in PRINTS],
                         ids=[case[0] for case in PRINTS])
def test_prints(sandbox: Sandbox, intact: Canary, code: str, printed: str) -> None:
    outcome = sandbox.run(code)
    assert outcome.body["ok"], outcome.body["error"]
    assert outcome.body["stdout"] == printed
    _no_address(outcome)


def test_base_exception_leaves_the_worker_serving(client: TestClient, intact: Canary) -> None:
    # It passed `except Exception` in Sandbox.run and in the job handler and ended the worker
    # process: the user got a WorkerCrash and the pool a fork.
    for _ in range(2):
        response = client.post("/eval", json={"code": "class E(BaseException):\n    pass\n"
                                                      "raise E('mine')"})
        body = response.json()
        assert (response.status_code, body["ok"], body["error"]["type"],
                body["error"]["message"]) == (200, False, "E", "mine")
    response = client.post("/eval", json={"code": "torch.arange(6).sum()"})
    assert response.json()["result"]["values"] == 15
