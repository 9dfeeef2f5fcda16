"""to_json: the body written by orjson, with shared values lists written once, reads back as
the same data as a plain ``json.dumps``; a non-finite float anywhere (which orjson would write
as null) sends it to the standard library's writer and the documented "nan" / "inf" texts."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from app.config import Settings
from app.engine.program import Sandbox, from_json, to_json
from app.inspect.floats import FiniteView, Float32Values, as_lists

AUTOGRAD64 = """x = torch.randn(64, 64, requires_grad=True)
w = torch.randn(64, 64, requires_grad=True)
y = torch.tanh(x @ w)
loss = (y * y).mean()
loss.backward()
w.grad"""


def _plain(body: dict[str, Any]) -> Any:
    """What the standard library alone makes of the body (no shared values, no orjson)."""
    return json.loads(json.dumps(body, allow_nan=False, default=as_lists))


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox(Settings())


@pytest.mark.parametrize("code", [
    AUTOGRAD64,
    "x = torch.randn(20, 20) * 1e-7\ny = x * 1e30\nz = x.double()\nb = x > 0\ny",
    "i = torch.arange(300) * (2**62 // 300)\nu = i\ni",
    "a = np.arange(200.0) / 7\nb = a\na",
    "t = torch.tensor([float('nan'), 1.0, float('-inf')] * 40)\nt",
])
def test_same_data_as_the_standard_library(sandbox: Sandbox, code: str) -> None:
    body = sandbox.run(code).body
    assert body["ok"], body
    before = _plain(body)
    written = to_json(body)
    assert _plain(body) == before  # the body is put back as it was
    assert from_json(written) == before


def test_values_shown_several_times_are_written_once(sandbox: Sandbox) -> None:
    body = sandbox.run(AUTOGRAD64).body
    data = json.loads(to_json(body))
    assert data["shared_values"]
    assert list(data)[-1] == "elapsed_ms"
    assert "values_ref" in data["variables"]["w"]["grad"]


def test_a_stray_non_finite_float_is_written_as_text(sandbox: Sandbox) -> None:
    body = sandbox.run("x = torch.ones(100)\ny = x\nx").body
    # One plain list shared by two plain dicts (views write their own non-finite values as
    # text, see below; what else a body holds is searched).
    stray = [math.nan, math.inf, -math.inf, *body["variables"]["x"]["values"][3:]]
    body["provenance"] = [{"target": "x", "values": stray}, {"target": "y", "values": stray}]
    data = from_json(to_json(body))
    assert data["provenance"][0]["values"][:4] == ["nan", "inf", "-inf", 1.0]
    assert data["provenance"][1]["values"][:3] == ["nan", "inf", "-inf"]


NON_FINITE = [
    "t = torch.tensor([1.0, float('nan'), float('inf'), -float('inf')])\nu = t * 2\nt",
    "d = torch.tensor([float('inf'), 1e308], dtype=torch.float64)\nh = d.half()\n"
    "b = d.bfloat16()\nc = torch.complex(d, d)\nd * 10",
    "x = torch.tensor([0.0, 1.0], requires_grad=True)\ny = torch.log(x).sum()\n"
    "y.backward()\nx.grad",
    "w = torch.full((70, 70), float('nan'), requires_grad=True)\nloss = (w * 2).sum()\n"
    "loss.backward()\ns = w.grad.mean()\nfor i in range(2):\n    w.data[0, 0] = float(i)\ns",
    "a = np.array([np.nan, np.inf, 1.0])\nt = torch.from_numpy(a)\nf = float('nan')\n"
    "g = [f, float('inf'), t]\na",
]


@pytest.mark.parametrize("code", NON_FINITE)
def test_views_write_their_own_non_finite_values_as_text(sandbox: Sandbox, code: str) -> None:
    """A FiniteView (a tensor's view, a trace's picture of one) is trusted by to_json to hold
    no NaN or infinity: every one is written as text where the view is built."""
    body = sandbox.run(code).body
    assert body["ok"], body
    views = list(_finite_views(body))
    assert views
    for view in views:
        json.dumps(view, allow_nan=False, default=as_lists)  # raises on a non-finite float
    assert from_json(to_json(body)) == _plain(body)
    assert b"null" not in to_json(body).split(b'"values":')[1][:40]


def _finite_views(value: Any) -> Any:
    if isinstance(value, FiniteView):
        yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _finite_views(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _finite_views(item)


def test_an_int_beyond_64_bits_in_a_values_list(sandbox: Sandbox) -> None:
    body = sandbox.run("x = torch.ones(100)\nx").body
    body["result"]["values"] = [2**70] * 100
    assert json.loads(to_json(body))["result"]["values"] == [2**70] * 100


def test_a_programs_text_is_written_as_it_is(sandbox: Sandbox) -> None:
    code = ("s = '\\x00v0123456789abcdef:0'\nt = torch.arange(100.0)\nu = t\n"
            "d = {'values': s}\n[s, t]")
    body = sandbox.run(code).body
    assert body["ok"], body
    data = from_json(to_json(body))
    assert data == _plain(body)
    assert data["variables"]["s"]["value"] == "\x00v0123456789abcdef:0"


@pytest.mark.parametrize("stray", [
    [1.0, math.nan],  # a list of numbers
    ("shape", math.inf),  # a tuple
    ["text", {"deep": [[0.5, -math.inf]]}],  # a dict inside a list that starts with a text
    [[1.0, 2.0], [3.0, math.nan]],  # rows
])
def test_a_non_finite_float_anywhere_is_written_as_text(sandbox: Sandbox, stray: Any) -> None:
    body = sandbox.run("x = torch.ones(100)\ny = x\nx").body
    body["notices"] = stray
    written = to_json(body)
    assert b"null" not in written.split(b'"notices":')[1][:80]
    assert json.loads(written)["notices"] == json.loads(json.dumps(_texts(stray)))


def _texts(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _texts(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_texts(v) for v in value]
    return value


def test_float32_values_are_written_as_the_text_they_were_read_from(sandbox: Sandbox) -> None:
    body = sandbox.run("x = torch.randn(40, 40) * 1e-6\ny = x\nx").body
    values = body["result"]["values"]
    assert isinstance(values, Float32Values)
    data = from_json(to_json(body))
    assert data["result"]["values"] == values == data["variables"]["y"]["values"]
    assert values.text in to_json(body)  # written once, as shared_values
    float32 = np.array(values, dtype=np.float32)
    assert np.array_equal(float32, np.array(data["variables"]["x"]["values"], dtype=np.float32))
