"""The corpus judge itself: it must call a different answer wrong, or the corpus proves
nothing. Views come from real sandbox runs; references are plain torch."""

from __future__ import annotations

import torch

from app.engine.program import Sandbox
from tests.corpus.harness import (
    compare_stdout,
    compare_view,
    constructs,
    not_compared,
    run_reference,
)


def test_equal_stdout_and_last_digit_rounding_pass() -> None:
    assert compare_stdout("loss: 0.1234\n", "loss: 0.1234\n") == []
    assert compare_stdout("loss: 0.1235\n", "loss: 0.1234\n") == []


def test_a_different_number_or_word_in_stdout_is_a_difference() -> None:
    assert compare_stdout("loss: 0.1264\n", "loss: 0.1234\n")
    assert compare_stdout("loss 0.1234\n", "loss: 0.1234\n")
    assert compare_stdout("tensor([1., 2.])\n", "tensor([1., 2., 3.])\n")
    assert compare_stdout("1e-05\n", "1e-06\n")


def test_a_tensor_view_matches_its_value_and_nothing_else(sandbox: Sandbox) -> None:
    body = sandbox.run("x = torch.arange(6.).reshape(2, 3)\nx.requires_grad_()\n"
                       "(x * x).sum().backward()").body
    view = body["variables"]["x"]
    expected = torch.arange(6.).reshape(2, 3).requires_grad_()
    (expected * expected).sum().backward()
    assert compare_view(view, expected, "x") == []
    assert compare_view(view, expected.detach() + 1e-3, "x")
    assert compare_view(view, expected.detach().double(), "x")
    assert compare_view(view, expected.detach().reshape(3, 2), "x")
    wrong_grad = torch.arange(6.).reshape(2, 3).requires_grad_()
    wrong_grad.sum().backward()
    assert compare_view(view, wrong_grad, "x")


def test_scalars_texts_and_containers_are_compared(sandbox: Sandbox) -> None:
    body = sandbox.run("n = 3\nf = 0.5\ns = 'abc'\nl = [1, torch.ones(2)]").body
    variables = body["variables"]
    assert compare_view(variables["n"], 3, "n") == []
    assert compare_view(variables["n"], 4, "n")
    assert compare_view(variables["f"], 0.5, "f") == []
    assert compare_view(variables["f"], 0.51, "f")
    assert compare_view(variables["s"], "abd", "s")
    assert compare_view(variables["l"], [1, torch.ones(2)], "l") == []
    assert compare_view(variables["l"], [1, torch.zeros(2)], "l")


def test_the_reference_sees_the_sandbox_names_and_seed() -> None:
    reference = run_reference("a = torch.rand(2)\nprint(F.relu(a - 2))\na", "ref.py", seed=3)
    torch.manual_seed(3)
    assert torch.equal(reference.result, torch.rand(2))
    assert reference.stdout == "tensor([0., 0.])\n"
    assert set(reference.variables) == {"a"}


def test_constructs_name_what_a_program_uses() -> None:
    code = ("from __future__ import print_function\nimport os\nclass F(torch.autograd.Function):"
            "\n    pass\ntry:\n    print(f'{1}', '{}'.format(2), '%d' % 3, type(input))\n"
            "except ValueError:\n    pass\nwords = ''.join('a b'.split())\n")
    assert constructs(code) == {"import __future__", "import os", "class base Function",
                                "try/except", "f-string", "str.format", "%-format",
                                "name type", "name input", "str.join", "str.split"}


def test_a_header_names_the_variables_not_compared() -> None:
    code = "# Source: x\n# Not compared: start, elapsed (wall-clock times)\nstart = 1\n"
    assert not_compared(code) == {"start", "elapsed"}
    assert not_compared("start = 1  # Not compared: start\n") == set()
