"""The fast tensor printer prints exactly what torch prints, the per-request view memo never
serves a stale view (tensor_repr.py, tensors.py), and writing shared values once changes no
value of the response (program.to_json)."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import numpy as np
import pytest
import torch

from app.engine.program import Sandbox, from_json, to_json
from app.inspect import tensor_repr
from app.inspect.floats import as_lists
from app.inspect.tensors import StorageLabels, ViewBuilder

_DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
           torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool]


def _random_tensor(rng: random.Random) -> torch.Tensor:
    dims = rng.choice([0, 1, 1, 2, 2, 3, 4])
    shape = [rng.choice([1, 2, 3, 6, 7, 13, 40]) for _ in range(dims)]
    x = torch.randn(shape, dtype=torch.float64)
    kind = rng.choice(["normal", "int", "wide", "tiny", "huge", "special", "zeros", "quarters"])
    if kind == "int":
        x = torch.randint(-1000, 1000, shape).double()
    elif kind == "wide":
        x = x * 10 ** torch.randint(-10, 12, shape).double()
    elif kind == "tiny":
        x = x * 1e-6
    elif kind == "huge":
        x = x * 1e10
    elif kind == "zeros":
        x = torch.zeros(shape, dtype=torch.float64) * rng.choice([1, -1])
    elif kind == "special":
        special = rng.choice([math.nan, math.inf, -math.inf])
        x = torch.where(torch.rand(shape) < 0.3, torch.tensor(special, dtype=torch.float64), x)
    elif kind == "quarters":
        x = torch.round(x * 4) / 4
    dtype = rng.choice(_DTYPES)
    if dtype == torch.bool:
        t = x > 0
    elif not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        t = torch.nan_to_num(x, 0, 0, 0).clamp(info.min, info.max).to(dtype)
    else:
        t = x.to(dtype)
    if dims >= 2 and rng.random() < 0.3:
        t = t.transpose(0, 1)
    if dtype.is_floating_point and rng.random() < 0.3:
        t = t.clone().requires_grad_(True)
        if rng.random() < 0.5:
            t = t * 1
    return t


def test_the_self_check_passes_with_this_torch() -> None:
    tensor_repr._enabled = None
    tensor_repr.fast_repr(torch.ones(1))
    assert tensor_repr._enabled is True


@pytest.mark.parametrize("index", range(len(tensor_repr.self_check_corpus())))
def test_corpus_prints_like_torch(index: int) -> None:
    t = tensor_repr.self_check_corpus()[index]
    printed = tensor_repr.fast_repr(t)
    assert printed is None or printed == repr(t)


@pytest.mark.parametrize("default_dtype", [torch.float32, torch.float64])
def test_random_tensors_print_like_torch(default_dtype: torch.dtype) -> None:
    rng = random.Random(1234)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(default_dtype)
    try:
        checked = 0
        for _ in range(600):
            t = _random_tensor(rng)
            printed = tensor_repr.fast_repr(t)
            if printed is not None:
                checked += 1
                assert printed == repr(t), (t.dtype, tuple(t.shape))
        assert checked > 500
    finally:
        torch.set_default_dtype(previous)


def test_other_tensors_are_left_to_torch() -> None:
    assert tensor_repr.fast_repr(torch.ones(2, device="meta")) is None
    assert tensor_repr.fast_repr(torch.ones(2, dtype=torch.complex64)) is None
    assert tensor_repr.fast_repr(torch.ones(0)) is None
    assert tensor_repr.fast_repr(torch.ones(3).to_sparse()) is None


def test_the_memo_sees_changes_made_through_a_numpy_alias() -> None:
    views = ViewBuilder(1024, 4000, StorageLabels())
    t = torch.zeros(3)
    before = views.tensor(t, "t")
    t.numpy()[1] = 5.0  # no version bump: only the content key can notice
    after = views.tensor(t, "t")
    assert before["values"] == [0.0, 0.0, 0.0]
    assert after["values"] == [0.0, 5.0, 0.0]
    assert after["repr"] == repr(t)


def test_the_memo_serves_equal_tensors_and_tells_grad_modes_apart() -> None:
    views = ViewBuilder(1024, 4000, StorageLabels())
    a = torch.tensor([1.0, 2.0])
    leaf = a.clone().requires_grad_(True)
    strided = torch.arange(4.0)[::2]  # 1-D and strided: reshape(-1) keeps the stride
    expanded = torch.ones(1).expand(2)  # stride 0
    for t in (a, a.clone(), leaf, leaf * 1, torch.from_numpy(np.array([1.0, 2.0])), strided,
              expanded):
        view = views.tensor(t)
        assert view["repr"] == repr(t)
        assert view["values"] == t.tolist()


@pytest.mark.parametrize("code", [
    "x = torch.randn(64, 64, requires_grad=True)\nw = torch.randn(64, 64, requires_grad=True)\n"
    "loss = (x @ w).tanh().pow(2).mean()\nloss.backward()\nw.grad",
    "a = torch.arange(100.)\nb = a\nc = [a, a]\nd = {'k': a}\na",
    "a = torch.arange(100.)\nb = a.clone()\nb[0] = float('nan')\nb",  # NaN: the slow path
    "s = '\\x00not a token'\nt = torch.ones(10, 10)\nt",
])
def test_shared_values_are_written_once_and_read_back_the_same(sandbox: Sandbox,
                                                                code: str) -> None:
    body = sandbox.run(code).body
    try:
        expected = json.loads(json.dumps(body, allow_nan=False, default=as_lists))
    except ValueError:  # non-finite floats: to_json writes them as strings
        assert b'"nan"' in to_json(body)
        return
    written = to_json(body)
    assert from_json(written) == expected
    document = json.loads(written)
    shared = document.get("shared_values", [])
    refs = written.count(b'"values_ref":')
    # Each shared list is written once, and only lists that appear more than once are shared.
    assert len(shared) <= refs
    # No view still carries a copy of a shared list.
    inline = _inline_values(document)
    assert all(values not in inline for values in shared)
    if "torch.ones(10, 10)" in code or "arange(100.)\nb = a\n" in code:
        assert shared and refs >= 2


def _inline_values(document: Any) -> list[Any]:
    found, stack = [], [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "values" in item:
                found.append(item["values"])
            stack.extend(v for k, v in item.items() if k not in ("values", "shared_values"))
        elif isinstance(item, list):
            stack.extend(item)
    return found
