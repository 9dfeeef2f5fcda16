"""Randomized inputs: the declaration's grammar (nothing in it is evaluated), the values each
student draws, and what substitution may put into a program."""

from __future__ import annotations

import ast

import pytest

from app.classroom import variants
from app.classroom.service import ClassroomError

DECLARED = """
n: int 2..6          # rows
scale: float 0.25..2.5
size: shape (2, 3) | (4,) | (3, 4, 5)
s: seed
"""


def test_the_grammar_reads_each_kind() -> None:
    params = variants.parse(DECLARED, max_params=8)
    assert [(p.name, p.kind) for p in params] == [
        ("n", "int"), ("scale", "float"), ("size", "shape"), ("s", "seed")]
    assert (params[0].low, params[0].high) == (2, 6)
    assert (params[1].low, params[1].high, params[1].decimals) == (0.25, 2.5, 2)
    assert params[2].choices == ((2, 3), (4,), (3, 4, 5))


@pytest.mark.parametrize(("text", "says"), [
    ("n: int 6..2", "smaller number to the larger"),
    ("n: int 1..2\nn: int 3..4", "declared twice"),
    ("n: int 2.5..3", "whole numbers"),
    ("n: int 1..99999999", "int needs a range"),
    ("n: int 1..2000000", "between -1000000"),
    ("x: float a..b", "float needs a range"),
    ("size: shape (2, 0)", "each from 1"),
    ("size: shape [2, 3]", "written like (2, 3)"),
    ("s: seed 1..2", "takes no range"),
    ("__import__('os').system('x'): int 1..2", "Randomized inputs, line 1"),
    ("n: int 1..2; import os", "int needs a range"),
    ("n: eval 1..2", "line 1"),
    ("a: seed\nb: seed\nc: seed", "At most 2"),
])
def test_a_bad_declaration_is_refused_with_its_line(text: str, says: str) -> None:
    with pytest.raises(ClassroomError) as refused:
        variants.parse(text, max_params=2)
    assert says in str(refused.value)


def test_values_are_stable_per_seat_and_differ_between_seats() -> None:
    params = variants.parse(DECLARED, max_params=8)
    first = variants.draw(params, variants.seed_of(seat_id=7, exercise_id=3))
    assert first == variants.draw(params, variants.seed_of(seat_id=7, exercise_id=3))
    others = [variants.draw(params, variants.seed_of(seat, 3)) for seat in range(8, 20)]
    assert all(other != first for other in others)  # the seed alone has 100,000 values
    # Another exercise gives the same seat other values.
    assert variants.draw(params, variants.seed_of(7, 4)) != first
    for values in [first, *others]:
        assert 2 <= values["n"] <= 6 and isinstance(values["n"], int)
        assert 0.25 <= values["scale"] <= 2.5 and round(values["scale"], 2) == values["scale"]
        assert values["size"] in ((2, 3), (4,), (3, 4, 5))
        assert 0 <= values["s"] <= variants.MAX_SEED


def test_substitution_puts_only_literals_into_a_program() -> None:
    params = variants.parse(DECLARED + "neg: int -5..-5\n", max_params=8)
    values = variants.extreme(params, "high")
    literals = variants.rendered(params, values)
    assert literals == {"n": "6", "scale": "2.50", "size": "(3, 4, 5)",
                        "s": str(variants.MAX_SEED), "neg": "-5"}
    program = "x = torch.ones({{size}}) * {{ scale }}\ny = x -{{neg}}\nz = {{n}}"
    code = variants.substitute(program, literals, code=True)
    assert code == ("x = torch.ones((3, 4, 5)) * 2.50\ny = x -(-5)\nz = 6")
    ast.parse(code)
    assert variants.substitute("n is {{neg}}", literals, code=False) == "n is -5"
    # Every value of every kind is a literal: a number or a tuple of numbers.
    for seat in range(50):
        for text in variants.rendered(params, variants.draw(params, seat)).values():
            tree = ast.parse(text, mode="eval").body
            nodes = tree.elts if isinstance(tree, ast.Tuple) else [tree]
            for node in nodes:
                if isinstance(node, ast.UnaryOp):
                    node = node.operand
                assert isinstance(node, ast.Constant)
    assert variants.literal((4,), "shape") == "(4,)"
    assert variants.describe({"n": "3", "size": "(2, 3)"}) == "n=3, size=(2, 3)"


def test_unknown_placeholders_are_found() -> None:
    params = variants.parse("n: int 1..3", max_params=8)
    assert variants.unknown_placeholders(["{{n}} and {{m}}", "{{ m }} {{k}}"], params) \
        == ["m", "k"]
    # Only {{name}} is a placeholder: dict and set literals are left alone.
    assert variants.unknown_placeholders(["d = {'a': {1}}"], params) == []
