"""Layers are probed on the meta device before they are built, and the probe fails closed:
the layers and containers a program really builds must still come out as in torch."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from app.engine.program import Sandbox

CASES = {
    "nn.ParameterDict({'w': nn.Parameter(torch.ones(2)), 'b': torch.zeros(3)})":
        lambda: nn.ParameterDict({"w": nn.Parameter(torch.ones(2)), "b": torch.zeros(3)}),
    "nn.ParameterList([nn.Parameter(torch.ones(2)), torch.zeros(3)])":
        lambda: nn.ParameterList([nn.Parameter(torch.ones(2)), torch.zeros(3)]),
    "nn.CrossEntropyLoss(weight=torch.ones(3))": lambda: nn.CrossEntropyLoss(weight=torch.ones(3)),
    "nn.Linear(3, 2, True, 'cpu')": lambda: nn.Linear(3, 2, True, "cpu"),
    "nn.Linear(3, 2, False, None, torch.float64)":
        lambda: nn.Linear(3, 2, False, None, torch.float64),
    "nn.Conv2d(1, 4, 3, bias=False)": lambda: nn.Conv2d(1, 4, 3, bias=False),
    "nn.Embedding(10, 3, padding_idx=0)": lambda: nn.Embedding(10, 3, padding_idx=0),
    "nn.BatchNorm1d(5)": lambda: nn.BatchNorm1d(5),
    "nn.LSTM(4, 8, 2, batch_first=True)": lambda: nn.LSTM(4, 8, 2, batch_first=True),
    "nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.ModuleList([nn.Linear(3, 1)]))":
        lambda: nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.ModuleList([nn.Linear(3, 1)])),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_layers_are_built_as_in_torch(code: str, sandbox: Sandbox) -> None:
    body = sandbox.run(f"m = {code}\n[(n, list(p.shape), str(p.dtype)) for n, p in "
                       "m.named_parameters()] + [(n, list(b.shape), str(b.dtype)) for n, b in "
                       "m.named_buffers()]").body
    assert body["ok"], body.get("error")
    expected = CASES[code]()
    rows = [(n, list(t.shape), str(t.dtype)) for n, t in
            (*expected.named_parameters(), *expected.named_buffers())]
    got = [[item["items"][0]["value"], [d["value"] for d in item["items"][1]["items"]],
            item["items"][2]["value"]] for item in body["result"]["items"]]
    assert got == [list(row) for row in rows]


def test_a_wrong_layer_call_gives_torchs_own_error(sandbox: Sandbox) -> None:
    body = sandbox.run("nn.Linear(3)").body
    assert body["error"]["type"] == "TypeError"
    assert "out_features" in body["error"]["message"]
