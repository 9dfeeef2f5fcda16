"""Step and memory metering of the interpreter, as mechanisms rather than by example.

Steps (setting max_steps) are counted like this, and the counts below are derived from these
rules by hand, not read back from the interpreter:

- every statement executed is one step, at top level or nested in a block;
- every loop iteration is one more step: ``for`` and ``while`` alike, and each ``for`` clause
  of a comprehension or generator expression per item, whether or not its ``if`` passes;
- every call of a user function is one step (its statements count as above);
- a built-in that consumes an iterable (list, sum, max, enumerate ...) takes one step per item
  it pulls, plus one for the pull that finds the end.

A program of exactly N steps runs with max_steps=N and is refused with max_steps=N-1, so each
count is checked at the boundary, for two sizes (which pins the per-iteration cost, not only
a total). Memory: tensors a program no longer references leave the live count at once, so
churning through far more than max_total_bytes in a loop must succeed.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.config import MiB, Settings
from app.engine.program import Sandbox

# Steps and memory are under test here, not time: programs that run long get a generous
# deadline, so a loaded machine cannot turn a step or memory verdict into a timeout.
SLOW_OK = 120.0

# (template with {n}, steps as a function of n)
LOOPS: dict[str, tuple[str, Callable[[int], int]]] = {
    # for statement 1, then per item: iteration 1 + body 1
    "for": ("for i in range({n}):\n    x = i", lambda n: 1 + 2 * n),
    # i = 0, the while statement, then per pass: iteration 1 + body 1 (M30 counted 1)
    "while": ("i = 0\nwhile i < {n}:\n    i += 1", lambda n: 2 + 2 * n),
    # per pass: iteration 1 + two statements; the break statement itself on the last pass
    "while-break": ("i = 0\nwhile True:\n    i += 1\n    if i == {n}:\n        break",
                    lambda n: 2 + 3 * n + 1),
    # outer for 1; per outer item: iteration 1 + inner for 1 + n x (iteration 1 + body 1)
    "nested-for": ("for i in range({n}):\n    for j in range({n}):\n        x = j",
                   lambda n: 1 + n * (2 + 2 * n)),
    "for-else": ("for i in range({n}):\n    pass\nelse:\n    y = 1", lambda n: 1 + 2 * n + 1),
    # the assignment 1, then one step per item
    "list-comprehension": ("xs = [i for i in range({n})]", lambda n: 1 + n),
    "set-comprehension": ("xs = {{i for i in range({n})}}", lambda n: 1 + n),
    "dict-comprehension": ("xs = {{i: 2 * i for i in range({n})}}", lambda n: 1 + n),
    # the generator is built eagerly (n), then sum pulls n items and the end (n + 1)
    "generator-expression": ("s = sum(i for i in range({n}))", lambda n: 1 + n + (n + 1)),
    "nested-comprehension": ("xs = [i * j for i in range({n}) for j in range({n})]",
                             lambda n: 1 + n + n * n),
    # the filter rejects every item; each item still costs its step
    "comprehension-if": ("xs = [i for i in range({n}) if i < 0]", lambda n: 1 + n),
    # M14's shape: a filter on the innermost clause of a double loop
    "nested-comprehension-if": ("xs = [0 for i in range({n}) for j in range({n}) if i < 0]",
                                lambda n: 1 + n + n * n),
    "comprehension-in-comprehension": ("xs = [[j for j in range({n})] for i in range({n})]",
                                       lambda n: 1 + n + n * n),
    # def 1, y = f(n) 1, the call 1, t = 0 1, for 1, per item 2, return 1
    "loop-in-function": ("def f(k):\n    t = 0\n    for i in range(k):\n        t += i\n"
                         "    return t\ny = f({n})", lambda n: 6 + 2 * n),
    # def 1, for 1, per item: iteration 1 + y = f(i) 1 + the call 1 + return 1
    "function-in-loop": ("def f(v):\n    return v + 1\nfor i in range({n}):\n    y = f(i)",
                         lambda n: 2 + 4 * n),
    "sum-range": ("s = sum(range({n}))", lambda n: 1 + (n + 1)),
    "max-range": ("s = max(range({n}))", lambda n: 1 + (n + 1)),
    "list-range": ("s = list(range({n}))", lambda n: 1 + (n + 1)),
    # for 1, enumerate pulls n + 1, per item: iteration 1 + body 1
    "for-enumerate": ("for i, v in enumerate(range({n})):\n    pass",
                      lambda n: 1 + (n + 1) + 2 * n),
}


def run(settings: Settings, code: str, **overrides: Any) -> dict[str, Any]:
    """The program's /eval body under the given settings (and the generous deadline)."""
    overrides.setdefault("deadline_s", SLOW_OK)
    return Sandbox(settings.model_copy(update=overrides)).run(code).body


def assert_stopped_by_max_steps(body: dict[str, Any], limit: int) -> None:
    assert body["ok"] is False
    assert body["error"]["type"] == "LimitError", body["error"]
    assert f"more than {limit:,} steps" in body["error"]["message"]
    assert "setting max_steps" in body["error"]["message"]


@pytest.mark.parametrize("n", [3, 7])
@pytest.mark.parametrize("form", LOOPS)
def test_every_loop_form_counts_its_exact_steps(form: str, n: int, settings: Settings) -> None:
    template, steps_of = LOOPS[form]
    code, steps = template.format(n=n), steps_of(n)
    body = run(settings, code, max_steps=steps)
    assert body["ok"] is True, body.get("error")
    assert_stopped_by_max_steps(run(settings, code, max_steps=steps - 1), steps - 1)


def long_size(steps_of: Callable[[int], int], steps: int) -> int:
    """A power of two n for which the form takes ``steps`` steps or more (at most about four
    times as many)."""
    n = 1
    while steps_of(n) < steps:
        n *= 2
    return n


@pytest.mark.parametrize("form", LOOPS)
def test_every_loop_form_is_stopped_by_max_steps(form: str, settings: Settings) -> None:
    """Ten times too long, each form is refused at max_steps, naming a line of the program.
    Sized in steps (about 10**5), so a form that stopped counting finishes in a moment and
    fails here, instead of looping 10**10 times."""
    template, steps_of = LOOPS[form]
    code = template.format(n=long_size(steps_of, 100_000))
    body = run(settings, code, max_steps=10_000)
    assert_stopped_by_max_steps(body, 10_000)
    assert body["error"]["line"] in range(1, len(code.splitlines()) + 1)


def test_a_comprehension_at_the_default_limit_is_refused(settings: Settings) -> None:
    """M14: a million iterations of a comprehension whose filter rejects everything; without
    a step per item it ran to the end (and, the deadline being checked in the step, unbounded
    in time too). The default max_steps, but a generous deadline: on a loaded machine (or
    under mutmut's tracing) 200,000 steps can take longer than 5 s, and the verdict must
    come from the step count."""
    body = run(settings, "len([0 for i in range(1000) for j in range(1000) if i < 0])")
    assert_stopped_by_max_steps(body, settings.max_steps)


def test_a_while_loop_costs_two_steps_per_pass(settings: Settings) -> None:
    """M30, spelled out: 100 passes of a one-statement while body are 200 steps plus the two
    statements around them; one step per pass would fit in 102."""
    code = "i = 0\nwhile i < 100:\n    i += 1"
    assert run(settings, code, max_steps=202)["ok"] is True
    assert_stopped_by_max_steps(run(settings, code, max_steps=201), 201)
    assert_stopped_by_max_steps(run(settings, code, max_steps=102), 102)


# --- memory -------------------------------------------------------------------------------


@pytest.fixture
def no_cyclic_collector() -> Iterator[None]:
    """Memory tests run with the cyclic collector off: a worker collects rarely (gc.freeze(),
    few allocations per program), so what the program dropped must be freed by reference
    counting alone. In pytest the collector runs often enough to hide a reference cycle."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@pytest.mark.usefixtures("no_cyclic_collector")
def test_churning_tensors_in_a_loop_stays_within_the_budget(settings: Settings) -> None:
    """M12's probe: 40 rounds of up to 112 MB (x, and y = x + 1 as big again) are 4.4 GB
    allocated in all, never more than about 450 MB alive, so it fits max_total_bytes."""
    code = ("for i in range(40):\n    x = torch.zeros(2**22 * (1 + i % 7))\n    y = x + 1\n"
            "(y.numel(), y[0].item())")
    body = run(settings, code)
    assert body["ok"] is True, body.get("error")
    assert body["result"]["kind"] == "tuple"
    numel, first = (item["value"] for item in body["result"]["items"])
    assert (numel, first) == (2**22 * (1 + 39 % 7), 1.0)


@pytest.mark.usefixtures("no_cyclic_collector")
@pytest.mark.parametrize("code", [
    "for i in range(10):\n    x = [torch.zeros(2**24) for k in range(3)]\nlen(x)",
    "for i in range(10):\n    x = []\n    for k in range(3):\n"
    "        x.append(torch.zeros(2**24))\nlen(x)",
], ids=["comprehension", "append"])
def test_lists_of_tensors_rebuilt_in_a_loop_stay_within_the_budget(code: str,
                                                                   settings: Settings) -> None:
    """Three 64 MB tensors per round, ten rounds: at most two lists (384 MB) are alive at
    once. The comprehension form was refused at "1.0 GB held" while its results stayed in a
    reference cycle until the cyclic collector ran."""
    body = run(settings, code)
    assert body["ok"] is True, body.get("error")
    assert body["result"]["value"] == 3


# With max_total_bytes = 64 MB, one 24 MB tensor at a time fits; three never do.
SMALL_TOTAL = 64 * MiB
TENSOR_24MB = "torch.zeros(6 * 2**20)"


@pytest.mark.usefixtures("no_cyclic_collector")
@pytest.mark.parametrize("code", [
    f"x = {TENSOR_24MB}\ndel x\ny = {TENSOR_24MB}\ndel y\nz = {TENSOR_24MB}\ndel z\n"
    f"w = {TENSOR_24MB}",
    f"x = {TENSOR_24MB}\nx = {TENSOR_24MB}\nx = {TENSOR_24MB}\nx = {TENSOR_24MB}",
    f"for i in range(6):\n    x = {TENSOR_24MB}",
    f"def f():\n    t = {TENSOR_24MB}\n    return t.sum()\nfor i in range(4):\n    s = f()",
], ids=["del", "reassignment", "loop", "function-local"])
def test_freed_tensors_leave_the_live_count(code: str, settings: Settings) -> None:
    """M12: storage the program dropped is released from the count at once, so the program
    can allocate again; four 24 MB tensors in turn fit where three at once do not."""
    body = run(settings, code, max_total_bytes=SMALL_TOTAL)
    assert body["ok"] is True, body.get("error")


@pytest.mark.usefixtures("no_cyclic_collector")
def test_tensors_still_referenced_stay_in_the_live_count(settings: Settings) -> None:
    """The control for the test above: the same budget refuses the third live tensor, naming
    what the program already holds."""
    code = f"x = {TENSOR_24MB}\ny = {TENSOR_24MB}\nz = {TENSOR_24MB}"
    body = run(settings, code, max_total_bytes=SMALL_TOTAL)
    assert body["ok"] is False
    assert body["error"]["type"] == "LimitError"
    assert body["error"]["line"] == 3
    assert "already holds 48.0 MB" in body["error"]["message"]
    assert "setting max_total_bytes" in body["error"]["message"]
