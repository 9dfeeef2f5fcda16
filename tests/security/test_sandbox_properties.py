"""Defences that are not refusals: programs that run, but cannot see what they must not see
(uninitialised memory), cannot change what the next program sees (shared state), and cannot
make one call do unbounded work (print, round)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.config import Settings
from app.engine.program import Sandbox
from tests.security.conftest import Canary


def run_ok(sandbox: Sandbox, code: str) -> dict[str, Any]:
    outcome = sandbox.run(code)
    assert outcome.body["ok"] is True, outcome.body.get("error")
    return outcome.body


def values(view: dict[str, Any]) -> list[Any]:
    flat: list[Any] = []

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for inner in item:
                walk(inner)
        else:
            flat.append(item)
    walk(view["values"])
    return flat


# Every way to get an uninitialised tensor, direct or handed to torch as a callback.
UNINITIALISED = {
    "empty": "torch.empty(64, 64)",
    "empty-like": "torch.empty_like(torch.ones(64, 64))",
    "empty-strided": "torch.empty_strided((64, 64), (64, 1))",
    "legacy-constructor": "torch.Tensor(64, 64)",
    "legacy-typed": "torch.FloatTensor(64, 64)",
    "new-empty": "torch.ones(1).new_empty((64, 64))",
    "legacy-numpy-size": "torch.Tensor(np.arange(70)[64], np.array(64))",
    "collate-fn": "loader = DataLoader([64, 64], batch_size=2, collate_fn=torch.empty)\n"
                  "[b for b in loader][0]",
    "scheduler-lambda": "o = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)\n"
                        "s = optim.lr_scheduler.LambdaLR(o, lr_lambda=torch.empty)\n"
                        "torch.empty(64, 64)",
}


@pytest.mark.parametrize("code", UNINITIALISED.values(), ids=UNINITIALISED.keys())
def test_uninitialised_memory_is_never_shown(code: str, sandbox: Sandbox,
                                             intact: Canary) -> None:
    # Leave recognisable data behind in freed memory first.
    run_ok(sandbox, "x = torch.full((64, 64), 12345.0)\ny = x * 2")
    body = run_ok(sandbox, code)
    assert set(values(body["result"])) == {"nan"}


def test_dataloader_worker_processes_are_forced_off(sandbox: Sandbox, intact: Canary) -> None:
    body = run_ok(sandbox, "loader = DataLoader(TensorDataset(torch.ones(4)), num_workers=8, "
                           "pin_memory=True, persistent_workers=True, prefetch_factor=4)\n"
                           "n = [b for b in loader]\nloader.num_workers")
    assert body["result"]["value"] == 0
    assert any("num_workers=8 was replaced by 0" in notice for notice in body["notices"])


@pytest.mark.parametrize(("change", "check", "expected"), [
    ("torch.set_default_dtype(torch.float64)", "torch.ones(1).dtype", "float32"),
    ("torch.set_grad_enabled(False)", "torch.is_grad_enabled()", True),
    ("torch.manual_seed(123)\nx = torch.rand(1)", "torch.initial_seed()", 0),
    ("np.random.seed(123)", "np.random.randint(0, 10**6)", None),
    ("torch.autograd.grad", "torch.is_grad_enabled()", True),
])
def test_a_program_cannot_change_the_next_ones_state(change: str, check: str, expected: Any,
                                                     sandbox: Sandbox, intact: Canary) -> None:
    before = run_ok(sandbox, check)["result"]
    sandbox.run(change)
    after = run_ok(sandbox, check)["result"]
    assert after == before
    if expected is not None:
        assert after["value"] == expected


def test_a_user_class_does_not_outlive_its_program(sandbox: Sandbox, intact: Canary) -> None:
    run_ok(sandbox, "class Leak(nn.Module):\n    def forward(self, x):\n        return x\n"
                    "m = Leak()")
    outcome = sandbox.run("Leak")
    assert outcome.body["error"]["type"] == "NameError"


def test_print_of_a_huge_container_is_capped_without_building_it(
        sandbox: Sandbox, settings: Settings, intact: Canary) -> None:
    started = time.perf_counter()
    body = run_ok(sandbox, "s = 'a' * 10**6\nprint([s] * 10**6, sep=s, end=s)")
    assert time.perf_counter() - started < 5
    assert len(body["stdout"]) == settings.max_stdout_chars
    assert body["stdout"].startswith("['aaaa")
    assert any("was dropped" in notice for notice in body["notices"])


def test_print_still_writes_what_python_writes(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, "a = [1]\na.append(a)\n"
                           "print([1.5, 'x', (2,), {'k': None}, set(), {3}, a, torch.ones(2)], "
                           "(), sep='|', end='!')")
    assert body["stdout"] == ("[1.5, 'x', (2,), {'k': None}, set(), {3}, [1, [...]], "
                              "tensor([1., 1.])]|()!")


@pytest.mark.parametrize(("code", "value"), [
    ("round(1, -10**8)", 0),
    ("round(-7, -10**18)", 0),
    ("round(15, -1)", 20),
    ("round(25, -1)", 20),
    ("round(2**100, -40)", round(2**100, -40)),
])
def test_round_with_huge_negative_digits_is_instant(code: str, value: int,
                                                    sandbox: Sandbox) -> None:
    started = time.perf_counter()
    body = run_ok(sandbox, code)
    assert time.perf_counter() - started < 2
    assert body["result"]["value"] == (value if abs(value) <= 2**53 else str(value))


def test_callbacks_handed_to_torch_still_work(sandbox: Sandbox) -> None:
    """The budget wrapper around functions given to torch keeps them working."""
    body = run_ok(sandbox, "loader = DataLoader([1, 2, 3, 4], batch_size=2, "
                           "collate_fn=torch.tensor)\n"
                           "o = optim.SGD(nn.Linear(2, 2).parameters(), lr=1.0)\n"
                           "s = optim.lr_scheduler.LambdaLR(o, [math.sqrt])\n"
                           "s.step()\n"
                           "seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())\n"
                           "x = sorted([3, -1, 2], key=abs)\n"
                           "[b.tolist() for b in loader] + [x, o.param_groups[0]['lr'], "
                           "seq(torch.ones(1, 2)).shape[1]]")
    batch1, batch2, ordered, lr, width = body["result"]["items"]
    assert [v["value"] for v in batch1["items"] + batch2["items"]] == [1, 2, 3, 4]
    assert [v["value"] for v in ordered["items"]] == [-1, 2, 3]
    assert (lr["value"], width["value"]) == (1.0, 2)


def test_sequential_runs_user_modules_layer_by_layer(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, "class Double(nn.Module):\n    def forward(self, x):\n"
                           "        return x * 2\n"
                           "seq = nn.Sequential(Double(), nn.Sequential(Double(), nn.ReLU()))\n"
                           "seq(torch.tensor([1.0, -1.0]))")
    assert body["result"]["values"] == [4.0, 0.0]


def test_values_too_deep_to_show_do_not_end_the_sandbox(sandbox: Sandbox, intact: Canary) -> None:
    body = run_ok(sandbox, "m = nn.Sequential()\nfor i in range(3000):\n    m = nn.Sequential(m)\n"
                           "d = {}\nfor i in range(3000):\n    d = {'k': d}\nm")
    # A real module view, its text bounded (not the recursion of torch's own repr).
    assert body["result"]["kind"] == "module"
    assert body["result"]["truncated"] is True
    assert len(body["result"]["repr"]) <= sandbox.settings.max_repr_chars + 2
    assert body["variables"]["d"]["kind"] == "dict"


def test_views_of_huge_reprs_are_bounded(sandbox) -> None:  # type: ignore[no-untyped-def]
    # A dict key (and a tuple past the view depth) whose repr would be a gigabyte.
    outcome = sandbox.run("s = 'a' * 100000\nx = [[[{(s,) * 10000: 1}]]]\nx")
    assert outcome.status == 200 and outcome.body["ok"]
    assert len(str(outcome.body)) < 100_000
