"""The language features (try/except, raise, decorators, type(), id(), getattr/setattr,
properties, autograd.Function) as ways around the sandbox: each attempt is stopped the way
the same attempt without the feature is, and the sandbox's own stops are never swallowed."""

from __future__ import annotations

import re

import pytest

from app.config import Settings
from app.engine.errors import DeadlineError, ForbiddenError, LimitError
from app.engine.exceptions import is_catchable
from app.engine.program import Outcome, Sandbox


def error_of(outcome: Outcome) -> tuple[int, str, str]:
    body = outcome.body
    assert body["ok"] is False, f"not stopped: {body}"
    return outcome.status, body["error"]["type"], body["error"]["message"]


# (id, program, status, error type, fragment of the message)
STOPPED = [
    # --- except never sees the sandbox's own stops -------------------------------------------
    ("steps-in-try", "try:\n    while True:\n        pass\nexcept Exception:\n    pass",
     200, "LimitError", "max_steps"),
    ("steps-bare-except", "n = 0\nwhile True:\n    try:\n        while True:\n            n += 1\n"
     "    except:\n        n = 0", 200, "LimitError", "max_steps"),
    ("steps-finally-return", "def f():\n    try:\n        while True:\n            pass\n"
     "    finally:\n        return 1\nx = f()\nprint('escaped', x)", 200, "LimitError",
     "max_steps"),
    ("steps-finally-break", "for i in range(3):\n    try:\n        while True:\n            pass\n"
     "    finally:\n        break\nprint('escaped')", 200, "LimitError", "max_steps"),
    ("memory-in-try", "try:\n    x = torch.zeros(10**11)\nexcept BaseException:\n    x = 1",
     413, "LimitError", "would allocate"),
    ("memory-in-try-else", "try:\n    x = torch.zeros(10**11)\nexcept Exception as e:\n"
     "    print(e)\nelse:\n    pass\nfinally:\n    x = 2", 413, "LimitError", "would allocate"),
    ("refusal-in-try", "try:\n    getattr(torch, 'os')\nexcept BaseException:\n    pass",
     400, "ForbiddenError", "torch.os is not available"),
    ("refusal-bare-except", "try:\n    torch.ones(2).storage()\nexcept:\n    pass",
     400, "ForbiddenError", "'Tensor.storage' is not available"),
    ("refusal-in-own-handler", "class E(Exception):\n    pass\ntry:\n    raise E()\n"
     "except E:\n    torch.ones(2).data_ptr()", 400, "ForbiddenError", "data_ptr"),
    ("recursion-in-try", "def f(n):\n    return f(n + 1)\ntry:\n    f(0)\nexcept Exception:\n"
     "    pass", 200, "LimitError", "max_call_depth"),
    ("steps-in-backward", "class F(torch.autograd.Function):\n    @staticmethod\n"
     "    def forward(ctx, x):\n        return x * 2\n    @staticmethod\n"
     "    def backward(ctx, g):\n        while True:\n            pass\n"
     "x = torch.ones(2, requires_grad=True)\ntry:\n    F.apply(x).sum().backward()\n"
     "except Exception:\n    pass", 200, "LimitError", "max_steps"),
    # --- raise ------------------------------------------------------------------------------
    ("raise-int", "raise 5", 200, "TypeError", "exceptions must be instances of an exception"),
    ("raise-tensor", "raise torch.ones(2)", 200, "TypeError", "not a Tensor"),
    ("raise-torch-function", "raise torch.ones", 200, "TypeError",
     "exceptions must be instances"),
    ("raise-class-not-exception", "class A:\n    pass\nraise A", 200, "TypeError",
     "exceptions must be instances"),
    ("raise-init-loops", "class E(Exception):\n    def __init__(self):\n        while True:\n"
     "            pass\ntry:\n    raise E\nexcept E:\n    pass", 200, "LimitError", "max_steps"),
    ("raise-init-refused", "class E(Exception):\n    def __init__(self):\n"
     "        self.x = torch.ones(2).storage()\ntry:\n    raise E()\nexcept Exception:\n"
     "    pass", 400, "ForbiddenError", "storage"),
    ("raise-bare-outside", "raise", 200, "RuntimeError", "No active exception"),
    ("except-not-a-class", "try:\n    1 / 0\nexcept torch.ones:\n    pass", 200, "TypeError",
     "except needs exception classes"),
    ("exception-traceback", "try:\n    1 / 0\nexcept Exception as e:\n    t = e.__traceback__",
     400, "ForbiddenError", "attributes starting with '_'"),
    ("exception-with-traceback", "try:\n    1 / 0\nexcept Exception as e:\n"
     "    t = e.with_traceback", 400, "ForbiddenError", "with_traceback"),
    ("exception-class-mro", "ValueError.mro()", 400, "ForbiddenError",
     "attributes of the class ValueError are not available"),
    ("exception-base-class", "class E(ValueError):\n    def with_traceback(self):\n"
     "        return 1", 400, "ForbiddenError", "would replace a method of ValueError"),
    # --- setattr / getattr / hasattr ---------------------------------------------------------
    ("setattr-torch", "setattr(torch, 'ones', print)", 400, "ForbiddenError",
     "own classes only"),
    ("setattr-tensor-class", "setattr(torch.Tensor, 'add', print)", 400, "ForbiddenError",
     "own classes only"),
    ("setattr-module-class", "setattr(nn.Module, 'forward', print)", 400, "ForbiddenError",
     "own classes only"),
    ("setattr-layer", "setattr(nn.Linear(2, 2), 'forward', print)", 400, "ForbiddenError",
     "own classes only"),
    ("setattr-function", "def f():\n    pass\nsetattr(f, 'x', 1)", 400, "ForbiddenError",
     "own classes only"),
    ("setattr-own-class-itself", "class A:\n    pass\nsetattr(A, 'x', print)", 400,
     "ForbiddenError", "own classes only"),
    ("setattr-dunder", "class A:\n    pass\nsetattr(A(), '__class__', int)", 400,
     "ForbiddenError", "names starting with '_'"),
    ("setattr-module-internals", "class M(nn.Module):\n    pass\nsetattr(M(), 'parameters', 5)",
     400, "ForbiddenError", "belongs to Module"),
    ("getattr-class", "class A:\n    pass\ngetattr(A(), '__class__')", 400, "ForbiddenError",
     "names starting with '_'"),
    ("getattr-computed-dunder", "class A:\n    pass\nn = '_' + '_cla' + 'ss__'\ngetattr(A(), n)",
     400, "ForbiddenError", "names starting with '_'"),
    ("getattr-tensor", "getattr(torch.ones(2), 'storage')", 400, "ForbiddenError",
     "own classes only"),
    ("hasattr-torch", "hasattr(torch, 'os')", 400, "ForbiddenError",
     "torch.os is not available"),
    ("getattr-dict-name", "class A:\n    pass\ngetattr(A(), '__dict__')", 400,
     "ForbiddenError", "names starting with '_'"),
    ("marker-attribute", "class A:\n    pass\na = A()\na.playground_builtin = True\na()", 400,
     "ForbiddenError", "reserved for the sandbox"),
    ("marker-setattr", "class A:\n    pass\nsetattr(A(), 'playground_type', int)", 400,
     "ForbiddenError", "reserved for the sandbox"),
    ("marker-class-variable", "class A:\n    playground_builtin = True", 400,
     "ForbiddenError", "reserved for the sandbox"),
    ("marker-method", "class A:\n    def playground_iterator(self):\n        return 1", 400,
     "ForbiddenError", "reserved for the sandbox"),
    # --- type() ------------------------------------------------------------------------------
    ("type-mro", "type(torch.ones(1)).__mro__", 400, "ForbiddenError",
     "attributes starting with '_'"),
    ("type-subclasses", "type(1).__subclasses__()", 400, "ForbiddenError",
     "attributes starting with '_'"),
    ("type-dict", "type(1).__dict__", 400, "ForbiddenError", "attributes starting with '_'"),
    ("type-call-string", "type('x')('...')", 400, "ForbiddenError",
     "type(x) stands for a class and cannot be called"),
    ("type-of-type-call", "type(type(1))('X', (), {})", 400, "ForbiddenError",
     "cannot be called"),
    ("type-three-arguments", "type('X', (), {})", 400, "ForbiddenError",
     "type() takes one argument here"),
    ("type-attribute", "type(torch.ones(1)).add", 400, "ForbiddenError",
     "attributes of a TypeRef are not available"),
    ("name-of-torch-function", "torch.ones.__name__", 400, "ForbiddenError",
     "'__name__' of a builtin_function_or_method is not available"),
    # x.__class__ is type(x) (here the program's own class A); nothing beyond it.
    ("class-of-instance", "class A:\n    pass\nA().__class__.__dict__", 400, "ForbiddenError",
     "attributes starting with '_'"),
    ("function-globals", "def f():\n    pass\nf.__globals__", 400, "ForbiddenError",
     "attributes starting with '_'"),
    # --- decorators --------------------------------------------------------------------------
    ("decorator-torch-function", "t = torch.ones\n@t\ndef f():\n    pass", 400,
     "ForbiddenError", "a decorator must be a function defined in the program"),
    ("decorator-builtin", "@print\ndef f():\n    pass", 400, "ForbiddenError",
     "a decorator must be a function defined in the program"),
    ("decorator-returns-torch-empty", "def deco(f):\n    return torch.empty\n@deco\n"
     "def g():\n    pass\ng(10**11)", 413, "LimitError", "would allocate"),
    ("decorator-returns-open", "def deco(f):\n    return open\n@deco\ndef g():\n    pass\n"
     "g('{}')", 400, "ForbiddenError", "'open' is not available"),
    ("decorator-method-returns-torch", "def deco(f):\n    return torch.ones\n"
     "class M(nn.Module):\n    @deco\n    def forward(self, x):\n        return x", 400,
     "ForbiddenError", "must give a function defined in the program"),
    ("staticmethod-torch-function", "f = staticmethod(torch.ones)", 400, "ForbiddenError",
     "@staticmethod works on a function defined with def"),
    ("classmethod-builtin", "f = classmethod(print)", 400, "ForbiddenError",
     "@classmethod works on a function defined with def"),
    ("property-forward", "def make(self):\n    return torch.ones\nclass M(nn.Module):\n"
     "    forward = property(make)", 400, "ForbiddenError", "may not be a function"),
    ("property-forward-decorator", "class M(nn.Module):\n    @property\n"
     "    def forward(self):\n        return torch.ones\nM()(10**11)", 400, "ForbiddenError",
     "'forward' must be a plain method"),
    ("staticmethod-getitem", "class D(Dataset):\n    @staticmethod\n    def __getitem__(i):\n"
     "        return i", 400, "ForbiddenError", "'__getitem__' must be a plain method"),
    ("property-calls-refused", "class A:\n    @property\n    def p(self):\n"
     "        return torch.ones(2).storage()\nA().p", 400, "ForbiddenError", "storage"),
    ("property-setter-wrong-name", "class A:\n    @q.setter\n    def p(self, v):\n"
     "        pass", 400, "ForbiddenError", "@q.setter needs a @property"),
    ("decorator-attribute", "@torch.jit.script\ndef f():\n    pass", 400, "ForbiddenError",
     "a decorator may be"),
    # --- autograd.Function -------------------------------------------------------------------
    ("function-ctx-apply", "class F(torch.autograd.Function):\n    @staticmethod\n"
     "    def forward(ctx, x):\n        ctx.apply(x)\n        return x\n"
     "F.apply(torch.ones(1))", 400, "ForbiddenError", "'ctx.apply' is not available"),
    ("function-ctx-internal", "class F(torch.autograd.Function):\n    @staticmethod\n"
     "    def forward(ctx, x):\n        ctx.to_save = (x,)\n        return x * 2\n"
     "F.apply(torch.ones(1, requires_grad=True))", 400, "ForbiddenError", "setting '.to_save'"),
    ("function-ctx-hook", "class F(torch.autograd.Function):\n    @staticmethod\n"
     "    def forward(ctx, x):\n        ctx.register_hook(print)\n        return x\n"
     "F.apply(torch.ones(1, requires_grad=True))", 400, "ForbiddenError",
     "'ctx.register_hook' is not available"),
    ("function-replace-apply", "class F(torch.autograd.Function):\n    @staticmethod\n"
     "    def apply(x):\n        return x", 400, "ForbiddenError",
     "would replace a method of Function"),
    ("function-base-call", "torch.autograd.Function()", 400, "ForbiddenError",
     "calling the class Function is not available"),
    # --- names -------------------------------------------------------------------------------
    ("eval-unbound", "eval('1')", 400, "ForbiddenError", "'eval' is not available"),
    ("input-unbound", "x = input()", 400, "ForbiddenError", "'input' is not available"),
    ("eval-bound-elsewhere", "def f():\n    return eval\nprint(f())\neval = 1", 400,
     "ForbiddenError", "'eval' is not available"),
    ("underscore-prefixed", "_x = 1", 400, "ForbiddenError", "names starting with '_'"),
    ("global-dunder", "def f():\n    global __builtins__", 400, "ForbiddenError",
     "names starting with '_'"),
    ("except-as-dunder", "try:\n    pass\nexcept Exception as __e:\n    pass", 400,
     "ForbiddenError", "names starting with '_'"),
    ("nonlocal-missing", "def f():\n    nonlocal torch\nf()", 200, "SyntaxError",
     "no binding for nonlocal 'torch'"),
]


@pytest.mark.parametrize(("code", "status", "kind", "says"),
                         [case[1:] for case in STOPPED], ids=[case[0] for case in STOPPED])
def test_stopped(sandbox: Sandbox, code: str, status: int, kind: str, says: str) -> None:
    got_status, got_kind, message = error_of(sandbox.run(code))
    assert (got_status, got_kind) == (status, kind), message
    assert says in message
    assert "escaped" not in sandbox.run(code).body.get("stdout", "")


def test_deadline_is_not_caught(settings: Settings) -> None:
    # Steps would stop the loop first at the default max_steps; here only the clock can.
    sandbox = Sandbox(settings.model_copy(update={"deadline_s": 0.5, "max_steps": 10**9}))
    code = ("n = 0\nwhile True:\n    try:\n        while True:\n            n += 1\n"
            "    except Exception:\n        n = 0\n    finally:\n        n = 0")
    status, kind, message = error_of(sandbox.run(code))
    assert (status, kind) == (200, "TimeoutError"), message


def test_id_numbers_objects_without_addresses(sandbox: Sandbox) -> None:
    outcome = sandbox.run("a = torch.ones(2)\nb = [1]\nresult = [id(a), id(b), id(a), id(None), "
                          "id(torch), id(b)]\nprint(id(a), id(print))")
    assert outcome.body["ok"], outcome.body
    values = [item["value"] for item in outcome.body["variables"]["result"]["items"]]
    assert values == [1, 2, 1, 3, 4, 2]
    assert outcome.body["stdout"] == "1 5\n"


def test_id_keeps_a_bounded_number_of_objects(settings: Settings) -> None:
    sandbox = Sandbox(settings.model_copy(update={"max_object_ids": 10}))
    status, kind, message = error_of(sandbox.run("for i in range(20):\n    id([i])"))
    assert (status, kind) == (200, "LimitError") and "max_object_ids" in message


def test_type_objects_print_without_addresses(sandbox: Sandbox) -> None:
    outcome = sandbox.run("print(type(torch.ones(1)), type(1), type(type(1)), type(print), "
                          "type(nn.Linear(1, 1)))")
    assert outcome.body["ok"], outcome.body
    text = outcome.body["stdout"]
    assert text.startswith("<class 'torch.Tensor'> <class 'int'> <class 'type'> ")
    assert not re.search(r"0x[0-9a-f]{6,}", text)


def test_exception_arguments_are_reachable_but_bounded(sandbox: Sandbox) -> None:
    outcome = sandbox.run("x = torch.ones(3)\ntry:\n    raise ValueError(x, 'msg')\n"
                          "except ValueError as e:\n    y = e.args[0] * 2\n"
                          "s = 'a' * 10**5\nraise ValueError([s] * 10**5)")
    status, kind, message = error_of(outcome)
    assert (status, kind) == (200, "ValueError")
    assert len(message) < 5_000
    assert outcome.body["variables"]["y"]["kind"] == "tensor"


@pytest.mark.parametrize("stop", [
    LimitError("budget"), DeadlineError("deadline"), ForbiddenError("refused"),
    MemoryError(), RecursionError()])
def test_errors_caused_by_a_stop_are_not_catchable(stop: BaseException) -> None:
    # Torch code that catches our stop and raises its own error from it (or while handling
    # it) must not hand the program a catchable error.
    try:
        try:
            raise stop
        except BaseException as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as chained:
        assert not is_catchable(chained, ())
    try:
        try:
            raise stop
        except BaseException:
            raise ValueError("during handling") from None
    except ValueError as suppressed:
        assert not is_catchable(suppressed, ())  # the context is still there
    assert is_catchable(ValueError("plain"), ())
    assert is_catchable(BaseException("plain"), ())
    for stop_of_python in (KeyboardInterrupt(), SystemExit(), GeneratorExit()):
        assert not is_catchable(stop_of_python, ())
        assert not is_catchable(stop_of_python, (), {type(stop_of_python)})


def test_caught_errors_do_not_keep_the_failed_calls_alive(settings: Settings) -> None:
    # A caught error's traceback held the interpreter's frames and the tensors they refer
    # to: keeping 2,000 caught errors kept 2,000 tensors (80 MB) nobody can reach.
    sandbox = Sandbox(settings.model_copy(update={"max_total_bytes": 64 * 1024**2}))
    code = ("errors = []\ndef f(x):\n    y = torch.ones(10000)\n    return x / 0\n"
            "for i in range(2000):\n    try:\n        f(i)\n    except ZeroDivisionError as e:\n"
            "        errors.append(e)\nn = len(errors)")
    outcome = sandbox.run(code)
    assert outcome.body["ok"], outcome.body.get("error")
    assert outcome.body["variables"]["n"]["value"] == 2000
