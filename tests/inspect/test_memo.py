"""The view memo: a program's reruns reuse the views its earlier runs built, by content, and
nothing else does (app/inspect/memo.py)."""

from __future__ import annotations

import gc

import pytest
import torch

from app.config import Settings
from app.engine.program import Sandbox, from_json, to_json
from app.inspect import tensors
from app.inspect.compact import compact_tensor
from app.inspect.floats import Float32Values
from app.inspect.memo import ViewMemo
from bench.eval_latency import AUTOGRAD64

# The benchmark's program: two 64x64 leaves, tanh of their product, a loss, backward().
AUTOGRAD = AUTOGRAD64


def _document(sandbox: Sandbox, code: str, seed: int = 0) -> dict[str, object]:
    body = sandbox.run(code, seed=seed).body
    assert body["ok"], body
    document = from_json(to_json(body))
    document.pop("elapsed_ms")
    return document


def test_a_run_keeps_its_entries_while_they_fit() -> None:
    memo = ViewMemo(max_kept_bytes=3_000)
    memo.put("a", ("one", [[1.5, 2]] * 20), 1_000)
    memo.put("b", ("two",), 1_000)  # with the per-entry overhead, a and b fill 3,024 bytes
    assert memo.get("a") == ("one", [[1.5, 2]] * 20) and memo.get("b") == ("two",)  # both
    memo.end_run()
    assert memo.get("a") == ("one", [[1.5, 2]] * 20)  # kept as text, read back
    assert memo.get("b") is None
    assert 1_000 < memo.kept_bytes <= 3_000


def test_a_memo_of_no_bytes_keeps_nothing_for_the_next_run() -> None:
    memo = ViewMemo(0)
    memo.put("a", ("one",), 10)
    assert memo.get("a") == ("one",)
    memo.end_run()
    assert memo.get("a") is None and len(memo) == 0


def test_a_rerun_shows_what_a_fresh_sandbox_shows(monkeypatch: object) -> None:
    sandbox = Sandbox(Settings())
    first = _document(sandbox, AUTOGRAD)
    assert len(sandbox.programs.get(AUTOGRAD).views) > 0
    assert _document(sandbox, AUTOGRAD) == first
    assert _document(Sandbox(Settings(view_memo_bytes=0)), AUTOGRAD) == first


def test_a_rerun_builds_no_tensor_text_again(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    sandbox = Sandbox(Settings())
    sandbox.run(AUTOGRAD)
    built: list[torch.Size] = []
    original = tensors.tensor_text

    def counting(t: torch.Tensor, limits: object) -> str:
        built.append(t.shape)
        return original(t, limits)  # type: ignore[arg-type]

    monkeypatch.setattr(tensors, "tensor_text", counting)
    sandbox.run(AUTOGRAD)
    assert built == []
    sandbox.run(AUTOGRAD, seed=1)  # other values: every view is built again
    assert len(built) >= 5


def test_another_seed_shows_its_own_values() -> None:
    sandbox = Sandbox(Settings())
    _document(sandbox, AUTOGRAD, seed=0)
    body = sandbox.run(AUTOGRAD, seed=1).body
    torch.manual_seed(1)
    x = torch.randn(64, 64, requires_grad=True)
    w = torch.randn(64, 64, requires_grad=True)
    (torch.tanh(x @ w) ** 2).mean().backward()
    assert w.grad is not None
    shown = torch.tensor(from_json(to_json(body))["result"]["values"])
    torch.testing.assert_close(shown, w.grad[:32, :32], rtol=0, atol=0)  # 1,024 values shown


def test_same_values_with_another_grad_fn_get_their_own_repr() -> None:
    # One program, two equal tensors: a leaf and a computed one. The key tells them apart.
    code = "a = torch.ones(2, requires_grad=True)\nb = a * 1\nc = torch.ones(2)\nb"
    sandbox = Sandbox(Settings())
    for _ in range(2):
        body = sandbox.run(code).body
        reprs = [step["value"]["repr"] for step in body["steps"]]
        assert reprs == ["tensor([1., 1.], requires_grad=True)",
                         "tensor([1., 1.], grad_fn=<MulBackward0>)", "tensor([1., 1.])",
                         "tensor([1., 1.], grad_fn=<MulBackward0>)"]


def test_another_program_text_finds_nothing() -> None:
    sandbox = Sandbox(Settings())
    sandbox.run(AUTOGRAD)
    other = AUTOGRAD + "\n"
    assert len(sandbox.programs.get(other).views) == 0
    assert sandbox.programs.get(other).views is not sandbox.programs.get(AUTOGRAD).views


def test_the_memo_goes_with_its_program_entry() -> None:
    sandbox = Sandbox(Settings(parsed_program_cache_entries=1))
    sandbox.run(AUTOGRAD)
    kept = sandbox.programs.get(AUTOGRAD).views
    assert len(kept) > 0
    sandbox.run("torch.ones(2)")  # evicts the first program's entry, and its memo with it
    assert sandbox.programs.get(AUTOGRAD).views is not kept
    assert len(sandbox.programs.get(AUTOGRAD).views) == 0


def test_the_memo_stays_within_its_bytes() -> None:
    # Each 32x32 view takes ~55 kB (its key's 4 kB, 1,024 values): three fit, not twenty.
    sandbox = Sandbox(Settings(view_memo_bytes=200_000))
    code = "xs = [torch.randn(32, 32) for _ in range(20)]\nxs"
    assert sandbox.run(code).body["ok"]
    memo = sandbox.programs.get(code).views
    assert 100_000 < memo.kept_bytes <= 200_000


def test_pictures_are_copies_and_follow_a_change_through_numpy() -> None:
    memo = ViewMemo(1 << 20)
    t = torch.zeros(3)
    first = compact_tensor(t, 12, memo)
    first["values"] = "changed by a reader"
    again = compact_tensor(t, 12, memo)
    assert again["values"] == [0.0, 0.0, 0.0]
    t.numpy()[1] = 7.0  # the version counter does not move
    assert compact_tensor(t, 12, memo)["values"] == [0.0, 7.0, 0.0]


def test_a_change_through_numpy_shows_on_a_rerun_too() -> None:
    code = "t = torch.zeros(3)\na = t.numpy()\na[0] = 5\nu = t\nt"
    sandbox = Sandbox(Settings())
    for _ in range(2):
        body = sandbox.run(code).body
        shown = [step["value"] and step["value"].get("values") for step in body["steps"]]
        assert shown == [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], None, [5.0, 0.0, 0.0],
                         [5.0, 0.0, 0.0]]
        frames = body["trace"]["frames"]
        assert [f["variables"][0]["values"] for f in frames] == [
            [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [5.0, 0.0, 0.0], [5.0, 0.0, 0.0],
            [5.0, 0.0, 0.0]]


def test_kept_entries_are_not_walked_by_the_collector() -> None:
    """The worker collects after every answer: kept value lists are text, so sixteen
    programs' views add nothing to walk (as lists they made each collection 0.5 ms longer)."""
    sandbox = Sandbox(Settings())
    sandbox.run(AUTOGRAD)
    gc.collect()
    kept = sandbox.programs.get(AUTOGRAD).views._kept  # white box: what a collection walks
    assert len(kept) > 10
    walked = [item for value in kept.values() for item in value if gc.is_tracked(item)]
    assert walked == []
    # Read back as they were built: float32 values keep their text for the response writer.
    body = sandbox.run(AUTOGRAD).body
    assert type(body["result"]["values"]) is Float32Values


def test_values_that_json_cannot_write_are_kept_for_the_run_only() -> None:
    memo = ViewMemo(1 << 20)
    memo.put("big", ("text", [2**70] * 20), 100)
    memo.end_run()
    assert memo.get("big") is None and memo.kept_bytes == 0


def test_a_rerun_gets_lists_of_its_own() -> None:
    """What one response holds is never another run's list: a reader that changes one
    cannot change what the next run shows. float32 values cannot be changed at all."""
    sandbox = Sandbox(Settings())
    first = sandbox.run(AUTOGRAD).body
    picture = first["trace"]["frames"][0]["variables"][0]["values"]
    with pytest.raises(TypeError):
        picture[0] = "changed"
    first["result"]["values"][0][0] = "changed"  # a row of the list read from the text
    picture.items[0] = "changed"
    again = sandbox.run(AUTOGRAD).body
    assert again["result"]["values"][0][0] != "changed"
    assert again["trace"]["frames"][0]["variables"][0]["values"][0] != "changed"
    assert b"changed" not in to_json(first)  # the text is written, not the list read from it
