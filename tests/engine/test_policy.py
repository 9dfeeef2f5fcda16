"""The namespaces app/engine/policy.py builds, reached the way programs reach them: by
attribute from torch, as well as by import."""

from __future__ import annotations

from app.engine.program import Sandbox


def test_submodules_are_reachable_as_attributes_of_torch(sandbox: Sandbox) -> None:
    body = sandbox.run("import torch\n"
                       "x = torch.nn.utils.rnn.pad_sequence([torch.ones(2), torch.ones(1)])\n"
                       "print(tuple(x.shape), torch.cuda.is_available() in (True, False))\n"
                       "with torch.amp.autocast('cpu'):\n    y = torch.ones(2) * 2\n"
                       "print(torch.distributions.Normal(torch.tensor(1.0), 2.0).mean)").body
    assert body["ok"], body.get("error")
    assert body["stdout"] == "(2, 2) True\ntensor(1.)\n"
