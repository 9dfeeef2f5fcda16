"""The checker compares a student's run with the reference's and says what differs."""

from __future__ import annotations

from typing import Any

import pytest

from app import i18n
from app.engine.program import Sandbox, from_json, to_json
from app.lessons.checker import evaluate_attempt, shape_text, untouched
from app.lessons.models import Check
from tests.japanese import in_japanese


def run(sandbox: Sandbox, code: str) -> dict[str, Any]:
    """The document the checker reads: a worker's answer, as the web process receives it."""
    return from_json(to_json(sandbox.run(code, 0, "cpu").body))


def verdict(sandbox: Sandbox, student: str, reference: str, *checks: Check) -> list[str]:
    problems, _checked = evaluate_attempt(run(sandbox, student), run(sandbox, reference),
                                         list(checks))
    return [str(p) for p in problems]


@pytest.mark.parametrize(("shape", "text"), [((), "()"), ((3,), "(3,)"),
                                             ((2, 3, 4), "(2, 3, 4)")])
def test_shapes_read_as_python_tuples(shape: tuple[int, ...], text: str) -> None:
    assert shape_text(shape) == text


def test_a_matching_program_passes(sandbox: Sandbox) -> None:
    code = "x = torch.ones(2, 3, requires_grad=True)\ny = (x * 2).sum()\ny.backward()\ny"
    assert verdict(sandbox, code, code, Check(target="result", compare="equal"),
                   Check(target="grad:x", compare="values"),
                   Check(target="var:x", compare="shape")) == []


def test_shape_difference_is_worded(sandbox: Sandbox) -> None:
    assert verdict(sandbox, "torch.zeros(2, 3)", "torch.zeros(2, 3, 4)",
                   Check(target="result", compare="values")) == [
        "the result has shape (2, 3) but expected (2, 3, 4)."]


def test_gradient_difference_names_the_index(sandbox: Sandbox) -> None:
    student = "x = torch.ones(2, 2, requires_grad=True)\n(x * x).sum().backward()"
    reference = "x = torch.ones(2, 2, requires_grad=True)\n(x * x * torch.tensor([[1., 1.], " \
                "[1., 1.5]])).sum().backward()"
    assert verdict(sandbox, student, reference, Check(target="grad:x", compare="values")) == [
        "x.grad differs at [1, 1]: 2.0 vs 3.0 (yours vs expected)."]


def test_tolerance_lets_rounding_pass(sandbox: Sandbox) -> None:
    check = Check(target="result", compare="values", tolerance=1e-3)
    assert verdict(sandbox, "torch.tensor([1.0001])", "torch.tensor([1.0])", check) == []
    assert verdict(sandbox, "torch.tensor([1.01])", "torch.tensor([1.0])", check)


def test_rtol_and_atol_apart(sandbox: Sandbox) -> None:
    """rtol scales with the value, atol does not: near zero only atol lets a value pass,
    and a large value passes on rtol where the same absolute gap near 1 does not."""
    near_zero = ("torch.tensor([1e-7, 1000.0])", "torch.tensor([0.0, 1000.05])")
    relative = Check(target="result", compare="values", rtol=1e-4, atol=0)
    absolute = Check(target="result", compare="values", rtol=0, atol=1e-6)
    assert verdict(sandbox, *near_zero, relative) == [
        "the result differs at [0]: 1e-07 vs 0.0 (yours vs expected)."]
    assert verdict(sandbox, *near_zero, absolute) == [
        "the result differs at [1]: 1000.0 vs 1000.05 (yours vs expected)."]
    both = Check(target="result", compare="values", rtol=1e-4, atol=1e-6)
    assert verdict(sandbox, *near_zero, both) == []
    with pytest.raises(ValueError, match="rtol only apply"):
        Check(target="result", compare="shape", rtol=1e-3)


def test_dtype_and_equal(sandbox: Sandbox) -> None:
    assert verdict(sandbox, "torch.tensor([1, 2])", "torch.tensor([1., 2.])",
                   Check(target="result", compare="dtype")) == [
        "the result has dtype int64 but expected float32."]
    # equal is exact: values that are close are still different
    assert verdict(sandbox, "torch.tensor([1.00001])", "torch.tensor([1.0])",
                   Check(target="result", compare="equal")) == [
        "the result differs at [0]: 1.00001 vs 1.0 (yours vs expected)."]


def test_missing_things_are_explained(sandbox: Sandbox) -> None:
    reference = "x = torch.ones(2, requires_grad=True)\nx.sum().backward()\nx"
    student = "y = torch.ones(2)"
    found = verdict(sandbox, student, reference, Check(target="result", compare="shape"),
                    Check(target="var:x", compare="shape"),
                    Check(target="grad:y", compare="values"))
    assert found[0].startswith("There is no result")
    assert found[1] == ("There is no variable x at the end of your program, or it holds no "
                        "value (for example a function that was not called).")
    assert found[2].startswith("There is no variable y") or "y.grad is None" in found[2]
    found = verdict(sandbox, "y = torch.ones(2)", "y = torch.ones(2, requires_grad=True)\n"
                    "y.sum().backward()", Check(target="grad:y", compare="values"))
    assert found == ["y.grad is None: create y with requires_grad=True and call backward() "
                     "on a result computed from it."]


def test_printed_output_is_compared_line_by_line(sandbox: Sandbox) -> None:
    check = Check(target="stdout", compare="equal")
    assert verdict(sandbox, "print(1)\nprint(2)", "print(1)\nprint(3)", check) == [
        "The printed output differs at line 2: '2' but expected '3'."]
    assert verdict(sandbox, "print(1)", "print(1)\nprint(2)", check) == [
        "The program printed 1 lines but 2 were expected."]


def test_kinds_and_scalars(sandbox: Sandbox) -> None:
    check = Check(target="result", compare="values")
    assert verdict(sandbox, "[1, 2]", "torch.tensor([1, 2])", check) == [
        "the result is a list but expected a tensor."]
    assert verdict(sandbox, "3", "4", check) == ["the result is 3 but expected 4."]


def test_a_failing_program_is_reported_not_compared(sandbox: Sandbox) -> None:
    found = verdict(sandbox, "torch.mm(torch.ones(2, 3), torch.ones(2, 3))", "1",
                    Check(target="result", compare="values"))
    assert len(found) == 1 and found[0].startswith("Your program did not finish: RuntimeError")


def test_a_broken_reference_never_blames_the_student(sandbox: Sandbox) -> None:
    problems, checked = evaluate_attempt(run(sandbox, "1"), run(sandbox, "1/0"),
                                         [Check(target="result", compare="values")])
    assert checked == 0 and str(problems[0]).startswith("The reference solution failed")
    assert in_japanese(problems[0])


def test_a_tensor_is_not_a_numpy_array(sandbox: Sandbox) -> None:
    check = Check(target="result", compare="values")
    assert verdict(sandbox, "torch.ones(2)", "torch.ones(2).numpy()", check) == [
        "the result is a tensor but expected a NumPy array."]
    assert verdict(sandbox, "torch.ones(2).numpy()", "torch.ones(2)", check) == [
        "the result is a NumPy array but expected a tensor."]


def test_a_number_stands_for_a_0d_tensor_only_where_values_count(sandbox: Sandbox) -> None:
    values = Check(target="result", compare="values")
    assert verdict(sandbox, "torch.tensor(2.5).item()", "torch.tensor(2.5)", values) == []
    assert verdict(sandbox, "2.0", "torch.tensor(2.5)", values) == [
        "the result is 2.0 but expected 2.5."]
    assert verdict(sandbox, "2.5", "torch.tensor([2.5])", values) == [
        "the result is a number but expected a tensor."]
    assert verdict(sandbox, "2.5", "torch.tensor(2.5)", Check(target="result",
                                                             compare="equal")) == [
        "the result is a number but expected a tensor."]


def test_numbers_get_the_digits_that_tell_them_apart(sandbox: Sandbox) -> None:
    found = verdict(sandbox, "torch.manual_seed(0)\ntorch.randn(2).double()",
                    "torch.manual_seed(0)\ntorch.randn(2, dtype=torch.float64)",
                    Check(target="result", compare="equal"))
    assert len(found) == 1
    got, want = found[0].split(": ")[1].split(" (")[0].split(" vs ")
    assert got != want and float(got) != float(want)


def test_a_non_leaf_is_named_as_such(sandbox: Sandbox) -> None:
    reference = "w = torch.ones(2, requires_grad=True)\n(w * w).sum().backward()"
    student = "w = torch.ones(2, requires_grad=True)\nw = w - 1\n(w * w).sum().backward()"
    found = verdict(sandbox, student, reference, Check(target="grad:w", compare="values"))
    assert len(found) == 1 and found[0].startswith("w is not a leaf")
    assert "retain_grad()" in found[0] and "requires_grad=True" not in found[0]


def test_the_device_is_compared(sandbox: Sandbox) -> None:
    # The reference as a GPU server would see it: the same view, on cuda:0.
    reference = run(sandbox, "torch.ones(2)")
    reference["result"] = {**reference["result"], "device": "cuda:0"}
    problems, _ = evaluate_attempt(run(sandbox, "torch.ones(2)"), reference,
                                   [Check(target="result", compare="values")])
    assert [str(p) for p in problems] == [
        "the result is on device cpu but expected cuda:0."]


def test_a_target_that_failed_is_reported_once(sandbox: Sandbox) -> None:
    assert verdict(sandbox, "torch.zeros(3)", "torch.zeros(3, 1)",
                   Check(target="result", compare="shape"),
                   Check(target="result", compare="values")) == [
        "the result has shape (3,) but expected (3, 1)."]


def test_a_function_left_uncalled_is_named(sandbox: Sandbox) -> None:
    found = verdict(sandbox, "available = torch.cuda.is_available",
                    "available = torch.cuda.is_available()",
                    Check(target="var:available", compare="equal"))
    assert len(found) == 1 and "a function that was not called" in found[0]


@pytest.mark.parametrize(("code", "starter", "same"), [
    ("a = ...\nb = ...\n\n", "a = ...\nb = ...", True),
    ("  \na = ...   \n\nb = ...", "a = ...\nb = ...", True),
    ("a = 1\nb = ...", "a = ...\nb = ...", False),
    ("", "", True),
])
def test_untouched_starter_code(code: str, starter: str, same: bool) -> None:
    assert untouched(code, starter) is same


def test_a_refused_program_is_reported_in_the_pages_language(sandbox: Sandbox) -> None:
    problems, checked = evaluate_attempt(run(sandbox, "open('x')"), run(sandbox, "1"),
                                         [Check(target="result", compare="values")])
    assert checked == 0 and str(problems[0]) == (
        "Your program did not finish: ForbiddenError: line 1: 'open' is not available in the "
        "playground (it could reach outside the sandbox)")
    # the sandbox's refusal is a message too, so the whole sentence is Japanese
    assert in_japanese(problems[0])
    assert i18n.translate(problems[0], "ja") == (
        "プログラムが最後まで実行されませんでした: ForbiddenError: 1 行目: 'open' は"
        "プレイグラウンドでは使えません（サンドボックスの外に届くおそれがあるため）")
