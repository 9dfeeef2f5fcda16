"""The interpreter's own refusals (app/engine/interpreter.py): the exact message, the line it
names and the hint that names the fix."""

from __future__ import annotations

import time

import pytest

from app.engine.interpreter import Interpreter
from app.engine.parser import parse_program
from app.engine.program import Sandbox

# (id, program, error type, message, line, hint)
REFUSED = [
    ("decorator-not-own-function", "@print\ndef f():\n    return 1", "ForbiddenError",
     "line 1: a decorator must be a function defined in the program, not a function", 1,
     "Write the decorator with def, or call the function directly."),
    ("reserved-marker-name", "class A:\n    pass\na = A()\na.playground_builtin = True",
     "ForbiddenError", "line 4: names starting with 'playground_' are reserved for the sandbox "
     "('playground_builtin')", 4, "Pick another name."),
    ("starred-target-alone", "x = 1\n*a = [1, 2]", "ForbiddenError",
     "a starred target must be inside a tuple", 2, None),
]


@pytest.mark.parametrize(("case", "code", "kind", "message", "line", "hint"), REFUSED,
                         ids=[c[0] for c in REFUSED])
def test_refusal_names_the_line_and_the_fix(sandbox: Sandbox, case: str, code: str, kind: str,
                                            message: str, line: int, hint: str | None) -> None:
    body = sandbox.run(code).body
    assert body["ok"] is False, f"{case} ran"
    error = body["error"]
    assert (error["type"], error["message"], error["line"], error["hint"]) == (
        kind, message, line, hint)


def test_a_lazy_layer_called_wrongly_gets_torch_s_own_error(sandbox: Sandbox) -> None:
    # The dry run on the meta device fails first; the inputs bound the call, and the real
    # call then raises what torch says.
    error = sandbox.run("import torch\nm = torch.nn.LazyConv2d(4, 3)\n"
                        "y = m(torch.zeros(5))").body["error"]
    assert (error["type"], error["message"], error["line"]) == (
        "RuntimeError", "Expected 3D (unbatched) or 4D (batched) input to LazyConv2d, but got "
        "input of size: torch.Size([5])", 3)


def test_built_ins_are_made_on_first_use(sandbox: Sandbox) -> None:
    """A program that names no built-in makes none (~40 closures, ~5% of a small run); the
    first name looked up there makes them all, each bound to this run's interpreter."""
    def interpreter_after(code: str) -> Interpreter:
        interp = sandbox._interpreter(0, time.monotonic() + 10)
        interp.run(parse_program(code, sandbox.settings))
        return interp

    plain = interpreter_after("a = torch.ones(2)\nb = a @ a")
    assert "builtins" not in vars(plain)
    printing = interpreter_after("a = torch.ones(2)\nprint(len(a))")
    assert "builtins" in vars(printing) and "".join(printing.stdout) == "2\n"
    assert printing.builtins["print"] is not interpreter_after("print(1)").builtins["print"]
