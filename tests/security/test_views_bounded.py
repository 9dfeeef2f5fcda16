"""Everything built after a program ended (views, hints) has its own small, bounded cost: the
program's deadline no longer applies there, so a 40-character program must not be able to
hold a worker for seconds or make it copy gigabytes.

Each value here was cheap for the program to make and expensive to show before: stats that
converted a whole expanded tensor to float64 (1.2 GB for 1.5e8 elements, InternalError at
1e10), reprs of layers built with 10**5-item tuples, optimizers that list every group, values
nested 3,000 deep (RecursionError), and reprs that carry memory addresses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from app.config import Settings
from app.engine.program import Sandbox, to_json
from app.inspect.floats import as_lists
from app.inspect.tensors import StorageLabels, ViewBuilder

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


def _views(settings: Settings) -> ViewBuilder:
    return ViewBuilder(settings.max_view_values, settings.max_repr_chars, StorageLabels(),
                       settings)


# ----------------------------------------------------------------------- expanded tensors
_MEASURE = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np, torch
    torch.set_num_threads(1)
    from app.inspect.floats import as_lists
    from app.inspect.tensors import StorageLabels, ViewBuilder
    views = ViewBuilder(1024, 4000, StorageLabels())
    views.view(torch.ones(3))  # the repr's one-time self-check is not part of a view
    value = eval(sys.argv[1])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    view = views.view(value)
    elapsed = time.perf_counter() - start
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak
    print(json.dumps({"seconds": elapsed, "peak_kib": grown, "view": view}, default=as_lists))
""")

HUGE = ["torch.zeros(1).expand(10**10)", "torch.zeros(1).expand(10**5, 10**5)",
        "torch.zeros(1).expand(15 * 10**7)", "torch.zeros(2, 1).expand(2, 10**9)",
        "torch.arange(4.0).reshape(4, 1).expand(4, 10**9).t()",
        "torch.zeros(1).expand(10**8).numpy()", "np.broadcast_to(np.arange(3.0), (10**9, 3))",
        "torch.zeros(1).expand(*(6,) * 12)"]


@pytest.mark.parametrize("expression", HUGE)
def test_views_of_huge_expanded_tensors_copy_nothing_of_their_size(expression: str) -> None:
    # A fresh process: its peak RSS says what the view itself allocated.
    done = subprocess.run([sys.executable, "-c", _MEASURE, expression], capture_output=True,
                          text=True, timeout=120, check=True)
    measured = json.loads(done.stdout)
    assert measured["seconds"] < 0.05, measured["seconds"]
    assert measured["peak_kib"] < 50 * 1024, f"{measured['peak_kib'] / 1024:.0f} MB"
    view = measured["view"]
    assert view["truncated"] is True and len(json.dumps(view["values"], default=as_lists)) < 20_000
    assert len(view["repr"]) <= 4002


def test_stats_of_expanded_tensors_are_those_of_the_whole() -> None:
    views = ViewBuilder(1024, 4000, StorageLabels())
    base = torch.tensor([[1.0], [2.0], [4.0]])
    expanded = base.expand(3, 5)
    got = views.view(expanded)["stats"]
    whole = expanded.contiguous().double()
    assert got["min"] == 1.0 and got["max"] == 4.0
    assert got["mean"] == pytest.approx(float(whole.mean()))
    assert got["std"] == pytest.approx(float(whole.std()))


def test_stats_of_large_tensors_are_left_out_with_a_note(settings: Settings) -> None:
    views = _views(settings)
    view = views.view(torch.zeros(settings.max_stats_elements + 1))
    assert view["stats"] is None and "max_stats_elements" in view["stats_note"]
    assert views.view(torch.zeros(1000))["stats"]["max"] == 0.0


# -------------------------------------------------------------- layers, optimizers, data
EXPENSIVE_PROGRAMS = {
    "upsample": "nn.Upsample(scale_factor=(2.0,) * 10**5)",
    "unflatten": "nn.Unflatten(1, (1,) * 10**5)",
    "layernorm": "nn.LayerNorm((1,) * 2000)",
    "flatten": "nn.Flatten(0, 1)",
    "optimizer-groups": "ps = [nn.Parameter(torch.zeros(1)) for i in range(300)]\n"
                        "optim.SGD([{'params': [p]} for p in ps], lr=0.1)",
    "scheduler": "o = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)\n"
                 "optim.lr_scheduler.StepLR(o, 1)",
    "loader": "DataLoader(TensorDataset(torch.ones(10**5, 2)), batch_size=2)",
    "dataset": "TensorDataset(torch.ones(3), torch.zeros(3))",
    "nested-lists": "t = torch.ones(8, 8)\n[[[t] * 50] * 50] * 50",
    "long-list": "[1.5] * 10**6",
    "deep-tuple": "k = ()\nfor i in range(3000):\n    k = (k,)\nk",
    "deep-dict": "d = {}\nfor i in range(3000):\n    d = {'a': d}\nd",
    "deep-sequential": "m = nn.Linear(1, 1)\nfor i in range(1000):\n    m = nn.Sequential(m)\nm",
    "many-dims": "torch.zeros((1,) * 3000)",
}


@pytest.mark.parametrize("name", sorted(EXPENSIVE_PROGRAMS))
def test_views_of_expensive_values_are_bounded(name: str, sandbox: Sandbox,
                                               settings: Settings) -> None:
    body = sandbox.run(EXPENSIVE_PROGRAMS[name]).body
    assert body["ok"] is True, body.get("error")
    result = body["result"]
    texts = [result.get("repr"), result.get("value")]
    for text in texts:
        if isinstance(text, str):
            assert len(text) <= settings.max_repr_chars + 2
    assert len(to_json(body)) < 1_000_000
    assert not _ADDRESS.search(to_json(body).decode())


@pytest.mark.parametrize("make", [
    lambda: nn.Upsample(scale_factor=(2.0,) * 10**5),
    lambda: nn.Unflatten(1, (1,) * 10**5),
    lambda: nn.LayerNorm((1,) * 10**4),
    lambda: torch.optim.SGD([{"params": [nn.Parameter(torch.zeros(1))]} for _ in range(2000)],
                            lr=0.1),
    lambda: [[[torch.ones(8, 8)] * 50] * 50] * 50,
    lambda: nn.Sequential(*[nn.Linear(1, 1)] * 10**5),
    lambda: nn.ParameterList([nn.Parameter(torch.zeros(1)) for _ in range(10**4)]),
    lambda: torch.zeros((1,) * 5000),
], ids=["upsample", "unflatten", "layernorm", "optimizer", "nested-lists", "sequential",
        "parameter-list", "many-dims"])
def test_one_view_costs_a_few_ms(make: Any, settings: Settings) -> None:
    value = make()
    views = _views(settings)
    views.view(value)
    start = time.perf_counter()
    for _ in range(3):
        view = views.view(value)
    assert (time.perf_counter() - start) / 3 < 0.02
    assert len(json.dumps(view, default=as_lists)) < 200_000


def test_a_view_shows_a_bounded_number_of_values(settings: Settings) -> None:
    views = _views(settings)
    view = views.view([[[1] * 50] * 50] * 50)
    shown = sum(len(inner["items"]) for outer in view["items"] for inner in outer["items"])
    assert shown <= settings.max_view_items
    assert any(outer.get("truncated") for outer in view["items"])


def _nested(depth: int) -> nn.Module:
    module: nn.Module = nn.Linear(2, 2)
    for _ in range(depth):
        module = nn.Sequential(module)
    return module


def test_modules_count_parameters_without_recursion(settings: Settings) -> None:
    view = _views(settings).view(_nested(settings.max_view_items - 10))
    assert view["kind"] == "module" and view["parameters"][0]["shape"] == [2, 2]
    assert view["num_parameters"] == 6 and len(view["repr"]) <= settings.max_repr_chars + 2
    assert "truncated" not in view
    deeper = _views(settings).view(_nested(3 * settings.max_view_items))
    assert deeper["truncated"] is True and len(deeper["repr"]) <= settings.max_repr_chars + 2


def test_parameters_are_listed_like_named_parameters(settings: Settings) -> None:
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), nn.Sequential(nn.Linear(2, 3), shared))
    view = _views(settings).view(model)
    expected = [(name, list(p.shape)) for name, p in model.named_parameters()]
    assert [(p["name"], p["shape"]) for p in view["parameters"]] == expected
    assert view["num_parameters"] == sum(p.numel() for p in model.parameters())


# ------------------------------------------------------------------------------ addresses
def _objects() -> dict[str, Any]:
    x = torch.ones(2, requires_grad=True)
    y = (x * 2).sum()

    def generator() -> Any:
        yield 1

    return {"grad_fn": y.grad_fn, "generator": generator(), "module": nn.Linear(2, 2),
            "optimizer": torch.optim.SGD([x], lr=0.1), "function": lambda: 0,
            "torch-generator": torch.Generator(), "builtin-method": x.add,
            "loader": torch.utils.data.DataLoader([1, 2]),
            "scheduler": torch.optim.lr_scheduler.StepLR(torch.optim.SGD([x], lr=0.1), 1),
            "in-a-list": [[[[y.grad_fn, object()]]]], "as-a-key": {(object(),): 1},
            "exception": KeyError(object()), "class": type("C", (), {})()}


@pytest.mark.parametrize("name", sorted(_objects()))
def test_views_carry_no_memory_address(name: str, settings: Settings) -> None:
    view = _views(settings).view(_objects()[name])
    assert not _ADDRESS.search(json.dumps(view, default=as_lists)), view


def test_program_output_carries_no_memory_address(sandbox: Sandbox) -> None:
    body = sandbox.run("x = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\n"
                       "g = y.grad_fn\nprint(g)\nr = torch.Generator()\n"
                       "def f():\n    return 1\nfns = [f, g, r, x.add]\nfns").body
    assert body["ok"] is True, body.get("error")
    assert not _ADDRESS.search(to_json(body).decode())


# ---------------------------------------------------------------------- after the program
def test_a_key_error_on_a_deep_key_is_the_programs_own_error(sandbox: Sandbox) -> None:
    body = sandbox.run("d = {}\nk = ()\nfor i in range(3000):\n    k = (k,)\nd[k]").body
    assert body["error"]["type"] == "KeyError"


def test_a_long_assertion_message_is_explained_at_once(sandbox: Sandbox) -> None:
    start = time.perf_counter()
    body = sandbox.run("assert False, 'expected input ' * 7000").body
    assert body["error"]["type"] == "AssertionError"
    assert time.perf_counter() - start < 1.0


def test_ndarray_views_slice_before_copying(settings: Settings) -> None:
    array = np.broadcast_to(np.arange(3.0), (10**6, 3))
    view = _views(settings).view(array)
    assert view["truncated"] is True and view["stats"]["max"] == 2.0
    assert view["stats"]["mean"] == pytest.approx(1.0)
