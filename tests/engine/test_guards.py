"""app/engine/guards.py: guards.both runs two guards of one callable in order, and a program
meets both on the containers that carry them."""

from __future__ import annotations

from typing import Any

import pytest

from app.config import Settings
from app.engine import guards
from app.engine.program import Sandbox


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
