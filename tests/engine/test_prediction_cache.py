"""The budget's prediction cache (app/engine/predictions.py): a key holds everything a dry run
reads, a loop pays for a call's dry run once, and a hit is checked against the limits and the
memory held now, exactly as a fresh prediction is."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from app.config import MiB, Settings
from app.engine.predictions import PredictionCache, call_key, module_key
from app.engine.program import Sandbox

LOOP = """x = torch.randn(8, 5)
y = torch.randn(8, 2)
model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
loss_fn = nn.MSELoss()
opt = optim.SGD(model.parameters(), lr=0.1)
for t in range(20):
    loss = loss_fn(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
loss.item()
"""


def _plain_loop() -> float:
    torch.manual_seed(0)
    x = torch.randn(8, 5)
    y = torch.randn(8, 2)
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2))
    loss_fn = nn.MSELoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = torch.zeros(())
    for _ in range(20):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()


def test_a_loop_predicts_each_distinct_call_once_and_computes_what_torch_does() -> None:
    sandbox = Sandbox(Settings())
    body = sandbox.run(LOOP).body
    assert body["ok"], body.get("error")
    assert body["result"]["value"] == _plain_loop()
    # Per iteration: the model and the loss function; 19 of the 20 iterations hit.
    assert sandbox.predictions.hits >= 2 * 19
    misses = sandbox.predictions.misses
    # The same program again: nothing new to predict.
    assert sandbox.run(LOOP).body["result"]["value"] == _plain_loop()
    assert sandbox.predictions.misses == misses


def test_a_hit_is_checked_against_the_memory_held_now() -> None:
    # 1 MiB per call, 4 MiB in all: the 5th identical call is a hit and must be refused.
    settings = Settings(max_total_bytes=4 * MiB + 1024)
    program = "xs = []\nfor i in range(10):\n    xs.append(torch.zeros(2**18))"
    cached = Sandbox(settings)
    uncached = Sandbox(settings.model_copy(update={"prediction_cache_entries": 0}))
    refusals = []
    for sandbox in (cached, uncached):
        outcome = sandbox.run(program)
        assert outcome.status == 413
        refusals.append(outcome.body["error"])
    assert refusals[0] == refusals[1]
    assert "already holds 4.0 MB" in refusals[0]["message"]
    assert cached.predictions.hits >= 3
    assert len(uncached.predictions) == 0


def test_a_hit_is_checked_against_the_limits_of_this_sandbox() -> None:
    program = "y = torch.ones(2**20)"  # 4 MiB
    shared = PredictionCache(16)
    loose, strict = Sandbox(Settings()), Sandbox(Settings(max_call_bytes=MiB))
    loose.predictions = strict.predictions = shared
    assert loose.run(program).body["ok"]
    outcome = strict.run(program)
    assert shared.hits == 1
    assert outcome.status == 413 and "limit per call is 1.0 MB" in outcome.body["error"]["message"]


def _key(*args: Any, **kwargs: Any) -> Any:
    return call_key("f", args, kwargs)


def test_call_keys_hold_layouts_and_values() -> None:
    a = torch.ones(2, 3)
    assert _key(a) == _key(torch.zeros(2, 3))  # values of tensors are never read
    different = [_key(torch.ones(3, 2)), _key(a.t()), _key(a.double()), _key(a, 1),
                 _key(a, 1.0), _key(a, True), _key(a, dim=1), _key(torch.ones(2, 3)[:, :2]),
                 _key([2, 3]), _key((2, 3)), _key(torch.Size([2, 3])), _key(0.0), _key(-0.0),
                 _key("sum"), _key("mean"), _key(dtype=torch.float16), _key(slice(1, 2)),
                 _key(slice(1, 3)), _key(None), _key(...)]
    keys = [_key(a), *different]
    assert len(set(keys)) == len(keys)
    assert call_key("g", (a,), {}) != _key(a)


def test_call_keys_follow_the_default_dtype() -> None:
    before = _key(2, 3)
    torch.set_default_dtype(torch.float64)
    try:
        assert _key(2, 3) != before
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("argument", [
    np.ones(3), [1.0] * 100, float("nan"), "x" * 100, 10**30, 1j, lambda: 0, object(),
    torch.ones(3).to_sparse(), range(5), {1, 2},
], ids=["ndarray", "long-list", "nan", "long-text", "huge-int", "complex", "callable", "object",
        "sparse", "range", "set"])
def test_anything_else_is_never_cached(argument: Any) -> None:
    assert _key(argument) is None
    assert _key([argument]) is None


def test_module_keys_follow_structure_settings_and_parameter_layouts() -> None:
    base = module_key(nn.Linear(4, 3))
    assert base is not None
    assert module_key(nn.Linear(4, 3)) == base  # parameter values are never read
    assert module_key(nn.Linear(4, 2)) != base
    assert module_key(nn.Linear(4, 3, bias=False)) != base
    assert module_key(nn.Linear(4, 3).double()) != base
    assert module_key(nn.MSELoss(reduction="sum")) != module_key(nn.MSELoss())
    layer = nn.Linear(4, 3)
    layer.eval()
    assert module_key(layer) != base
    assert module_key(nn.Sequential(nn.Linear(4, 3), nn.ReLU())) != \
        module_key(nn.Sequential(nn.Linear(4, 3), nn.Tanh()))


def test_a_module_with_a_hook_is_never_cached() -> None:
    layer = nn.Linear(4, 3)
    layer.register_forward_hook(lambda module, args, output: output)
    assert module_key(layer) is None
    assert module_key(nn.Sequential(layer)) is None


def test_the_cache_is_bounded() -> None:
    cache = PredictionCache(2)
    sandbox = Sandbox(Settings())
    sandbox.predictions = cache
    assert sandbox.run("for n in range(1, 6):\n    y = torch.ones(n)").body["ok"]
    assert len(cache) == 2 and cache.misses == 5


def test_keys_stay_small_whatever_the_program_passes() -> None:
    # The cache outlives a program: no entry may hold a long name, a deep shape or many parts.
    assert _key(torch.ones([1] * 9)) is None
    assert _key(torch.ones([1] * 8)) is not None
    wide = nn.ModuleDict({"k" * 65: nn.ReLU()})
    assert module_key(wide) is None
    assert module_key(nn.ModuleDict({"k" * 64: nn.ReLU()})) is not None
    assert module_key(nn.Sequential(*[nn.ReLU() for _ in range(100)])) is None
    assert _key(list(range(64))) is None  # more than 64 leaves with the list itself
    assert _key(list(range(32))) is not None
