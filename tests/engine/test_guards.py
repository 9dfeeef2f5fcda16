"""The refusals of the per-call guards (app/engine/guards.py) as a program meets them: the
exact message, the line and the hint that names the fix; guards.both, which runs two guards of
one callable in order."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from app.config import Settings
from app.engine import guards
from app.engine.errors import ForbiddenError
from app.engine.guards import guard_clip_grads
from app.engine.program import Sandbox

DATA = ("import torch\nfrom torch.utils.data import DataLoader, TensorDataset\n")

# (id, program, error type, message, hint)
REFUSED = [
    ("tolist", "import torch\nx = torch.zeros(2_000_000)\ny = x.tolist()", "LimitError",
     "tolist() of 2,000,000 elements would make that many Python objects; the limit is "
     "1,000,000 (setting max_sequence_items)",
     "Convert a slice (x[:10].tolist()), or keep it a tensor."),
    ("batch-size", DATA + "ds = TensorDataset(torch.zeros(4))\n"
     "DataLoader(ds, batch_size=10**9)", "LimitError",
     "DataLoader: batch_size=1,000,000,000 would gather that many items at once; the limit "
     "is 100,000 (setting max_objects_per_call)", "Use a smaller batch_size."),
    ("data-set-length", DATA + "ds = TensorDataset(torch.zeros(1).expand(10**9))\n"
     "DataLoader(ds, batch_size=2)", "LimitError",
     "DataLoader: the data set reports 1,000,000,000 items; at most 1,000,000 can be sampled "
     "(setting max_sequence_items)",
     "An expanded tensor reports the length it was expanded to; build the data set from the "
     "rows you need."),
    ("load-state-dict-assign", "import torch\nm = torch.nn.Linear(2, 2)\n"
     "m.load_state_dict(m.state_dict(), assign=True)", "ForbiddenError",
     "load_state_dict(..., assign=True) is not available in the playground",
     "Call load_state_dict(state_dict): it copies the values into the module's own "
     "parameters."),
    ("tensor-type-name", "import torch\nx = torch.zeros(2)\nx.type('torch.Bogus')",
     "ForbiddenError", "x.type('torch.Bogus') is not available in the playground",
     "Use a dtype: x.type(torch.float64), or x.double()."),
]


@pytest.mark.parametrize(("case", "code", "kind", "message", "hint"), REFUSED,
                         ids=[c[0] for c in REFUSED])
def test_refusal_says_what_and_how_to_fix_it(sandbox: Sandbox, case: str, code: str,
                                             kind: str, message: str, hint: str) -> None:
    body = sandbox.run(code).body
    assert body["ok"] is False, f"{case} ran"
    error = body["error"]
    assert (error["type"], error["message"], error["hint"]) == (kind, message, hint)
    assert error["line"] == code.count("\n") + 1  # the last line makes the call


def test_split_counts_the_last_short_piece(sandbox: Sandbox) -> None:
    # 200,001 items in pieces of 2: 100,001 tensors, one past max_objects_per_call.
    error = sandbox.run("import torch\nx = torch.zeros(200_001)\nparts = x.split(2)").body["error"]
    assert (error["type"], error["message"], error["hint"]) == (
        "LimitError", "split would make 100,001 separate objects; the limit is 100,000 per call "
        "(setting max_objects_per_call)", "Index the part you need instead (x[0], x[:10]).")


def test_parameter_groups_given_as_generators_reach_the_optimizer(sandbox: Sandbox) -> None:
    # The guard reads each group's parameters once; torch must still get all of them.
    body = sandbox.run("import torch\nm = torch.nn.Linear(2, 1)\n"
                       "opt = torch.optim.SGD([{'params': m.parameters()}], lr=0.1)\n"
                       "print(len(opt.param_groups[0]['params']))").body
    assert body["ok"], body.get("error")
    assert body["stdout"] == "2\n"


def test_clipping_refuses_a_gradient_that_no_longer_matches_its_parameter() -> None:
    # Built with torch directly (.data swaps the tensor under its gradient): the check is
    # the last one before clip_grad's foreach kernels.
    weight = torch.zeros(3, requires_grad=True)
    weight.grad = torch.zeros(3)
    weight.data = torch.zeros(2)
    with pytest.raises(ForbiddenError) as refused:
        guard_clip_grads(None, torch.nn.utils.clip_grad_norm_, ([weight], 1.0), {})
    assert (refused.value.message, refused.value.hint) == (
        "a gradient to clip no longer matches its parameter's shape",
        "Set gradients with torch.zeros_like(p).")


def test_both_passes_the_first_guards_call_to_the_second_and_runs_both_afters() -> None:
    seen: list[Any] = []

    def first(ctx: Any, function: Any, args: tuple[Any, ...],
              kwargs: dict[str, Any]) -> guards.Prepared:
        return guards.Prepared((*args, "first"), kwargs, lambda r: seen.append(("first", r)))

    def second(ctx: Any, function: Any, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> guards.Prepared:
        seen.append(("second saw", args))
        return guards.Prepared(args, {**kwargs, "k": 1}, lambda r: seen.append(("second", r)))

    prepared = guards.both(first, second)(None, print, ("a",), {})
    assert prepared.args == ("a", "first") and prepared.kwargs == {"k": 1}
    assert prepared.after is not None
    prepared.after("result")
    assert seen == [("second saw", ("a", "first")), ("first", "result"), ("second", "result")]


@pytest.mark.parametrize(("code", "error"), [
    # the container limit (max_objects_per_call) ...
    ("nn.Sequential(*[nn.Identity()] * (2 * 10**5))", "LimitError"),
    # ... and the layer names, on the same calls
    ("from collections import OrderedDict\n"
     "nn.Sequential(OrderedDict([('playground_builtin', nn.Linear(1, 2))]))", "ForbiddenError"),
    ("nn.ModuleDict({'_x': nn.Identity()})", "ForbiddenError"),
])
def test_containers_meet_both_their_guards(sandbox: Sandbox, code: str, error: str) -> None:
    body = sandbox.run(code).body
    assert body["ok"] is False
    assert body["error"]["type"] == error


def test_a_plain_container_still_builds(sandbox: Sandbox) -> None:
    body = sandbox.run("m = nn.Sequential(nn.Linear(2, 3), nn.ReLU())\nlen(m)").body
    assert body["ok"] is True and body["result"]["value"] == 2
    assert Settings().max_objects_per_call < 2 * 10**5  # the limit above is past the setting
