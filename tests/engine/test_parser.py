"""The parser's refusals (app/engine/parser.py) with their exact message and hint."""

from __future__ import annotations

from app.engine.program import Sandbox


def test_a_program_with_too_many_syntax_nodes_is_told_to_shorten(sandbox: Sandbox) -> None:
    body = sandbox.run("x = [" + "1," * 6000 + "]").body
    error = body["error"]
    assert (error["type"], error["message"], error["hint"]) == (
        "LimitError", "the program has more than 5,000 syntax nodes (setting max_ast_nodes)",
        "Shorten the program.")
