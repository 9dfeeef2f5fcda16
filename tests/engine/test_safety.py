"""The guards for single C calls (app/engine/safety.py), at their exact boundaries and with
their exact messages: one operation past a limit is refused, the one at the limit runs.
Small limits make the boundaries cheap to reach."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from app.config import Settings
from app.engine.errors import LimitError
from app.engine.safety import guard_binop, guard_sequence_size

SMALL = Settings(max_int_bits=64, max_sequence_items=10)

ALLOWED = [
    (ast.Pow, 2, 32),            # 32 x 2 bits = 64: at the limit
    (ast.Pow, 1, 10**9),         # 1 ** n stays 1
    (ast.Pow, -1, 10**9),
    (ast.Pow, 0, 10**9),
    (ast.Pow, 2, -5),            # a float
    (ast.Pow, 2.0, 10**4),       # floats overflow to inf, not to memory
    (ast.LShift, 1, 63),         # 64 bits
    (ast.LShift, 0, 64),
    (ast.LShift, 1 << 59, 4),    # 60 + 4 bits
    (ast.Mult, "ab", 5),         # 10 items
    (ast.Mult, 5, "ab"),
    (ast.Mult, [0], 10),
    (ast.Mult, "ab", -5),
    (ast.Mult, "a" * 11, 0),     # no items, however long the sequence
    (ast.Mult, 1 << 31, 1 << 31),  # 32 + 32 bits
    (ast.Add, "a" * 5, "a" * 5),
    (ast.Add, [0] * 4, [0] * 6),
    (ast.Add, (1 << 62), 1),     # 63 bits
    (ast.Sub, -(1 << 62), 1),
    (ast.Mod, 5, 3),
    (ast.Mod, 5.5, 2),
]


@pytest.mark.parametrize(("op", "left", "right"), ALLOWED)
def test_operations_at_or_under_the_limits_run(op: type[ast.operator], left: Any,
                                               right: Any) -> None:
    guard_binop(op, left, right, SMALL)


REFUSED = [
    (ast.Pow, 2, 33, "2 ** 33 has more than 64 bits (setting max_int_bits)"),
    (ast.Pow, 3, 5000, "3 ** 5000 has more than 64 bits (setting max_int_bits)"),
    (ast.Pow, -2, 40, "-2 ** 40 has more than 64 bits (setting max_int_bits)"),
    (ast.Pow, 1 << 70, 1, f"{1 << 70} ** 1 has more than 64 bits (setting max_int_bits)"),
    (ast.LShift, 1, 64, "shifting by 64 bits makes more than 64 bits (setting max_int_bits)"),
    (ast.LShift, 0, 65, "shifting by 65 bits makes more than 64 bits (setting max_int_bits)"),
    (ast.LShift, 1 << 60, 4, "shifting by 4 bits makes more than 64 bits "
                             "(setting max_int_bits)"),
    (ast.Mult, "ab", 6, "a Python sequence of 12 items is larger than the limit of 10 "
                        "(setting max_sequence_items)"),
    (ast.Mult, 6, "ab", "a Python sequence of 12 items is larger than the limit of 10 "
                        "(setting max_sequence_items)"),
    (ast.Mult, [0], 11, "a Python sequence of 11 items is larger than the limit of 10 "
                        "(setting max_sequence_items)"),
    (ast.Mult, 1 << 32, 1 << 31, "the product has more than 64 bits (setting max_int_bits)"),
    (ast.Add, "a" * 5, "a" * 6, "a Python sequence of 11 items is larger than the limit of 10 "
                                "(setting max_sequence_items)"),
    (ast.Add, (0,) * 10, (0,), "a Python sequence of 11 items is larger than the limit of 10 "
                               "(setting max_sequence_items)"),
    (ast.Add, 1 << 63, 1, "the sum has more than 64 bits (setting max_int_bits)"),
    (ast.Add, 1, 1 << 63, "the sum has more than 64 bits (setting max_int_bits)"),
    (ast.Sub, -(1 << 63), 1, "the sum has more than 64 bits (setting max_int_bits)"),
    (ast.Mod, "%s", ("a",), "%-formatting of strings is not available in the playground"),
]


@pytest.mark.parametrize(("op", "left", "right", "message"), REFUSED)
def test_one_past_a_limit_is_refused_with_the_setting_named(
        op: type[ast.operator], left: Any, right: Any, message: str) -> None:
    with pytest.raises(LimitError) as refused:
        guard_binop(op, left, right, SMALL)
    assert refused.value.message == message


def test_hints_name_the_fix() -> None:
    with pytest.raises(LimitError) as refused:
        guard_binop(ast.Pow, 10, 100, SMALL)
    assert refused.value.hint == "Use floats (e.g. 10.0 ** 30) or smaller exponents."
    with pytest.raises(LimitError) as refused:
        guard_sequence_size(11, SMALL)
    assert refused.value.hint == "Use a tensor for large data, e.g. torch.zeros(n)."
    guard_sequence_size(10, SMALL)


@pytest.mark.parametrize("code", [
    "f = '%*s'\nf % (10**6, 'a')", "s = 'a' * 600000\ns + s", "(1 << 3000) * (1 << 3000)",
    "(1 << 4000) << 200", "3 ** 5000", "x = 1 << 4095\nx + x",
])
def test_the_interpreter_refuses_them_in_programs(code: str, sandbox: Any) -> None:
    body = sandbox.run(code).body
    assert body["ok"] is False and body["error"]["type"] == "LimitError", body["error"]
