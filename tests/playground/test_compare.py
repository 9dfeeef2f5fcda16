from __future__ import annotations

from typing import Any

import torch

from app.playground.compare import (
    Side,
    compare,
    input_names,
    join_program,
    locate_line,
    values_equal,
)


def tensor_view(t: torch.Tensor, sid: str, shares: list[str], version: int = 0) -> dict[str, Any]:
    return {"kind": "tensor", "shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch."),
            "values": t.tolist(), "truncated": False,
            "storage": {"id": sid, "version": version, "shares_with": shares}}


def side(result: dict[str, Any] | None, variables: dict[str, Any] | None = None,
         median: float | None = None, error: dict[str, Any] | None = None) -> Side:
    if error:
        return Side("code", 200, {"ok": False, "error": error})
    data: dict[str, Any] = {"ok": True, "result": result, "variables": variables or {}}
    if median is not None:
        data["timing"] = {"repeats": 20, "median_ms": median, "spread_ms": 0.01}
    return Side("code", 200, data)


INPUTS = "a = torch.ones(3)\nb = torch.arange(3.0)\n"


def test_input_names_and_join() -> None:
    source = "a = 1\nb, (c, d) = 2, (3, 4)\ne += 1\nprint(a)\n"
    assert input_names(source) == ["a", "b", "c", "d", "e"]
    assert input_names("a = (") == []
    assert join_program("a = 1\n\n", "a") == "a = 1\na"
    assert join_program("", "a") == "a"


def test_stack_vs_cat_differ_in_shape() -> None:
    a, b = torch.zeros(2, 3), torch.ones(2, 3)
    stacked, catted = torch.stack([a, b]), torch.cat([a, b])
    result = compare(side(tensor_view(stacked, "s3", [])), side(tensor_view(catted, "s3", [])),
                     "a = torch.zeros(2, 3)\nb = torch.ones(2, 3)")
    facts = {f.topic: f for f in result.facts}
    assert (facts["shape"].left, facts["shape"].right, facts["shape"].same) == (
        "[2, 2, 3]", "[4, 3]", False)
    assert facts["values"].same is False and facts["dtype"].same is True


def test_add_vs_add_inplace() -> None:
    a = torch.ones(3)
    b = torch.arange(3.0)
    left_result = a.add(b)
    right_a = a.clone().add_(b)
    left = side(tensor_view(left_result, "s3", []),
                {"a": tensor_view(a, "s1", []), "b": tensor_view(b, "s2", [])}, median=0.04)
    right = side(tensor_view(right_a, "s1", ["a"], version=1),
                 {"a": tensor_view(right_a, "s1", [], version=1), "b": tensor_view(b, "s2", [])},
                 median=0.02)
    result = compare(left, right, INPUTS)
    facts = {(f.topic, f.subject): f for f in result.facts}
    assert facts[("values", "")].same is True  # same numbers ...
    storage = facts[("storage", "")]
    assert (storage.left, storage.right, storage.same) == ("", "a", False)  # ... other memory
    changed = facts[("input", "a")]
    assert (changed.left, changed.right, changed.same) == ("v0", "v1", False)
    assert facts[("input", "b")].same is True
    assert result.faster == "right" and result.speedup == 2.0 and result.timed
    assert facts[("time", "")].left == "0.040 ms ± 0.010"


def test_no_winner_within_the_spread() -> None:
    view = tensor_view(torch.zeros(2), "s1", [])
    noisy_left, noisy_right = side(view, median=1.0), side(view, median=1.5)
    noisy_left.data["timing"]["spread_ms"] = 0.8
    result = compare(noisy_left, noisy_right, "")
    assert result.timed and result.faster is None  # 0.5 ms apart, 0.8 ms of noise
    close = compare(side(view, median=1.0), side(view, median=1.1), "")
    assert close.faster is None  # outside the spread but only 1.1x


def test_an_error_on_one_side_is_a_fact_not_a_crash() -> None:
    ok = side(tensor_view(torch.ones(4, 2, 5), "s3", []))
    failed = side(None, error={"type": "RuntimeError", "message": "self must be a matrix"})
    result = compare(ok, failed, "a = torch.ones(4, 2, 3)")
    facts = {f.topic: f for f in result.facts}
    assert (facts["status"].left, facts["status"].right) == ("ok", "RuntimeError")
    assert facts["status"].same is False  # 'differs': one finished, the other did not
    assert facts["shape"].same is None and facts["values"].same is None
    both = compare(failed, side(None, error={"type": "RuntimeError", "message": "x"}), "")
    assert {f.topic: f for f in both.facts}["status"].same is True


def test_error_lines_are_counted_in_the_box_the_student_wrote() -> None:
    inputs, body = "a = torch.ones(2)\nb = torch.ones(3)\n\n", "c = a + b\nc"
    joined = join_program(inputs, body)
    assert joined.splitlines()[2] == "c = a + b"  # line 3 of what the sandbox runs
    assert locate_line(inputs, body, 3) == ("program", 1, body)
    assert locate_line(inputs, body, 4) == ("program", 2, body)
    assert locate_line(inputs, body, 2) == ("inputs", 2, inputs)
    assert locate_line("", body, 1) == ("program", 1, body)
    assert locate_line(inputs, body, None) == ("program", None, body)


def test_values_equal_tolerates_float_noise_only() -> None:
    assert values_equal([[1.0, 2.0]], [[1.0, 2.0000001]])
    assert not values_equal([[1.0, 2.0]], [[1.0, 2.1]])
    assert not values_equal([1.0, 2.0], [1.0])
    assert values_equal([1, 2, 3], [1.0, 2.0, 3.0])  # torch.Tensor vs torch.tensor values
    assert values_equal(["nan"], ["nan"]) and not values_equal(["nan"], [1.0])


def test_truncated_values_are_not_compared() -> None:
    view = tensor_view(torch.zeros(2), "s1", [])
    cut = {**view, "truncated": True}
    facts = {f.topic: f for f in compare(side(view), side(cut), "").facts}
    assert facts["values"].same is None
