"""The parser's refusals (app/engine/parser.py) with their exact message and hint."""

from __future__ import annotations

import ast

import pytest

from app.config import Settings
from app.engine.errors import LimitError
from app.engine.parser import parse_program
from app.engine.program import Sandbox


def test_a_program_with_too_many_syntax_nodes_is_told_to_shorten(sandbox: Sandbox) -> None:
    body = sandbox.run("x = [" + "1," * 6000 + "]").body
    error = body["error"]
    assert (error["type"], error["message"], error["hint"]) == (
        "LimitError", "the program has more than 5,000 syntax nodes (setting max_ast_nodes)",
        "Shorten the program.")


def test_the_first_problem_in_source_order_is_reported(sandbox: Sandbox) -> None:
    """Refusals and the size limits are reported in the order the walk meets them, and a
    name bound past the node limit still counts as bound (the error stays the limit's)."""
    deep = "y = " + "[" * 80 + "]" * 80
    refused_first = sandbox.run("import subprocess\n" + deep).body["error"]
    assert refused_first["type"] == "ForbiddenError" and refused_first["line"] == 1
    deep_first = sandbox.run(deep + "\nimport subprocess").body["error"]
    assert deep_first["type"] == "LimitError" and "max_ast_depth" in deep_first["message"]
    late_binding = sandbox.run("eval(1)\nx = [" + "1," * 6000 + "]\neval = 3").body["error"]
    assert late_binding["type"] == "LimitError" and "max_ast_nodes" in late_binding["message"]


@pytest.mark.parametrize("code", ["x", "a.b[c] = (d, [*e])", "del x[0]", "f(x)(y).z"])
def test_expression_contexts_count_toward_the_limits_where_the_walk_meets_them(code: str
                                                                               ) -> None:
    """The walk keeps no Load/Store/Del node (a third of a program's nodes) but counts each
    one, in its place, toward max_ast_nodes and max_ast_depth."""
    tree = ast.parse(code)
    nodes = sum(1 for _ in ast.walk(tree))
    contexts = sum(isinstance(node, ast.expr_context) for node in ast.walk(tree))
    assert contexts > 0
    parse_program(code, Settings(max_ast_nodes=nodes))
    with pytest.raises(LimitError, match="max_ast_nodes"):
        parse_program(code, Settings(max_ast_nodes=nodes - 1))
    depth = _depth(tree)  # the deepest node is a context: every program above ends in one
    parse_program(code, Settings(max_ast_depth=depth))
    with pytest.raises(LimitError, match="max_ast_depth") as refused:
        parse_program(code, Settings(max_ast_depth=depth - 1))
    assert refused.value.line is None  # a context has no line


def _depth(node: ast.AST) -> int:
    return max((1 + _depth(child) for child in ast.iter_child_nodes(node)), default=0)
