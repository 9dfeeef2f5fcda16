"""The parser's refusals (app/engine/parser.py) with their exact message and hint."""

from __future__ import annotations

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
