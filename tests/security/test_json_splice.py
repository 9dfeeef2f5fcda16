"""to_json splices orjson's text of each values list into the standard library's document at
markers (app/engine/program.py). A program's own strings, keys and printed text cannot be
taken for a marker: each response's markers carry 16 random hex digits chosen after the
program ended."""

from __future__ import annotations

import json

import pytest

from app.config import Settings
from app.engine.program import Sandbox, from_json, to_json
from app.inspect.floats import as_lists

SPOOFS = [
    # marker-shaped text everywhere a program puts text: values, keys, stdout, a step's source
    "s = '\\x00v0000000000000000:0'\nt = torch.arange(100.)\nu = t\nprint(s)\n[s, t]",
    "d = {'\\x00v' + 'a' * 16 + ':1': torch.ones(80)}\ne = d\nd",
    "k = {'values': '\\x00v' + '0' * 16 + ':0', 'values_ref': 0}\nt = torch.ones(70)\nu = t\nk",
    "x = ['\"\\x00v' + 'f' * 16 + ':' + str(i) + '\"' for i in range(5)]\nt = torch.ones(65)\n"
    "u = t\nx",
]


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    sandbox = Sandbox(Settings())
    sandbox.run("torch.arange(10.) + 1")  # a sandbox's first tensor program takes seconds
    return sandbox


@pytest.mark.parametrize("code", SPOOFS)
def test_marker_shaped_text_stays_text(sandbox: Sandbox, code: str) -> None:
    body = sandbox.run(code).body
    assert body["ok"], body
    expected = json.loads(json.dumps(body, allow_nan=False, default=as_lists))
    assert from_json(to_json(body)) == expected
