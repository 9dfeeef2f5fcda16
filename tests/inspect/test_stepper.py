"""The step-through trace (app/inspect/stepper.py): one frame per top-level statement and per
loop pass (bounded), each with the variables at that moment, what changed, and shared
storage; values are those plain torch computes."""

from __future__ import annotations

from typing import Any

import torch

from app.engine.program import Sandbox


def frames(sandbox: Sandbox, code: str) -> list[dict[str, Any]]:
    outcome = sandbox.run(code, device="cpu")
    assert outcome.status == 200, outcome.body
    return outcome.body["trace"]["frames"]


def var(frame: dict[str, Any], name: str) -> dict[str, Any]:
    return next(v for v in frame["variables"] if v["name"] == name)


def test_each_statement_has_a_frame_with_the_variables_at_that_moment(sandbox: Sandbox) -> None:
    trace = frames(sandbox, "a = torch.arange(6.0).reshape(2, 3)\nb = a * 2\nn = 3\n")
    assert [f["line"] for f in trace] == [1, 2, 3]
    assert [v["name"] for v in trace[0]["variables"]] == ["a"]
    a = torch.arange(6.0).reshape(2, 3)
    b = var(trace[1], "b")
    assert b["shape"] == [2, 3] and b["dtype"] == "float32"
    assert b["values"] == (a * 2).reshape(-1).tolist()
    assert b["change"] == "new" and var(trace[1], "a")["change"] is None
    assert var(trace[2], "n") == {"name": "n", "kind": "value", "type": "int", "text": "3",
                                  "change": "new"}


def test_in_place_changes_rebinding_and_aliasing_are_marked(sandbox: Sandbox) -> None:
    trace = frames(sandbox, "x = torch.zeros(3)\nv = x.view(3)\nv.add_(1)\n"
                            "x = x + 1\nl = [1]\nl.append(2)\n")
    after_view = trace[1]
    assert after_view["shared"] == [{"storage": "S1", "names": ["x", "v"]}]
    after_add = trace[2]
    x, v = var(after_add, "x"), var(after_add, "v")
    assert (x["change"], v["change"]) == ("inplace", "inplace")
    assert x["version"] == v["version"] == 1 and x["values"] == [1.0, 1.0, 1.0]
    rebound = trace[3]
    assert var(rebound, "x")["change"] == "rebound" and var(rebound, "v")["change"] is None
    assert rebound["shared"] == []
    assert var(trace[5], "l")["change"] == "changed" and var(trace[5], "l")["text"] == "[1, 2]"


def test_a_loop_has_one_frame_per_pass_up_to_the_bound(sandbox: Sandbox) -> None:
    limit = sandbox.settings.max_trace_iterations
    trace = sandbox.run(f"t = torch.zeros(1)\nfor i in range({limit + 5}):\n    t += 1\n"
                        "done = t.item()\n", device="cpu").body["trace"]
    passes = [f for f in trace["frames"] if f["iteration"] is not None]
    assert [f["iteration"] for f in passes] == list(range(1, limit + 1))
    assert [var(f, "t")["values"] for f in passes] == [[float(k)] for k in range(1, limit + 1)]
    assert trace["skipped_iterations"] == 5
    last = trace["frames"][-1]
    assert last["line"] == 4 and var(last, "done")["text"] == str(float(limit + 5))


def test_frames_and_values_are_bounded(sandbox: Sandbox) -> None:
    settings = sandbox.settings
    code = "big = torch.zeros(1).expand(10**9)\nlong = list(range(10**4))\n" + "".join(
        f"v{k} = {k}\n" for k in range(settings.max_trace_frames + 10))
    trace = sandbox.run(code, device="cpu").body["trace"]
    assert len(trace["frames"]) == settings.max_trace_frames and trace["truncated"]
    big = var(trace["frames"][0], "big")
    assert len(big["values"]) == settings.max_trace_values and big["more"] is True
    assert all(len(f["variables"]) <= settings.max_trace_variables for f in trace["frames"])
    text = var(trace["frames"][1], "long")["text"]
    assert text.startswith("[0, 1, 2") and len(text) <= settings.max_trace_text_chars + 2


def test_a_failed_program_keeps_the_frames_up_to_the_error(sandbox: Sandbox) -> None:
    body = sandbox.run("a = torch.ones(2, 3)\ntorch.mm(a, a)\n", device="cpu").body
    assert body["ok"] is False
    assert [f["line"] for f in body["trace"]["frames"]] == [1]


def test_a_deleted_name_is_listed_as_removed(sandbox: Sandbox) -> None:
    trace = frames(sandbox, "a = torch.ones(2)\nb = 1\ndel a\n")
    assert trace[2]["removed"] == ["a"]
    assert [v["name"] for v in trace[2]["variables"]] == ["b"]
