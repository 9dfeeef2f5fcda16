"""try/except/raise, global/nonlocal, names, decorators, classes and reflection behave like
Python (the reference is CPython running the same source) and like plain torch."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from app.engine.program import Sandbox
from tests.engine.test_language import normalise, plain, python_result

PROGRAMS = {
    "try_order": """
log = []
for case in range(3):
    try:
        log.append('try')
        if case == 1:
            raise ValueError('bad ' + str(case))
        if case == 2:
            x = [1][5]
    except ValueError as e:
        log.append('value: ' + str(e))
    except (KeyError, IndexError) as e:
        log.append(type(e).__name__)
    else:
        log.append('else')
    finally:
        log.append('finally')
result = log
""",
    "own_exception_hierarchy": """
class AppError(Exception):
    pass
class ShapeError(AppError):
    def __init__(self, expected, got):
        super().__init__('expected ' + str(expected) + ', got ' + str(got))
        self.expected = expected
out = []
for exc in [ShapeError(3, 4), AppError('plain'), ValueError('other')]:
    try:
        try:
            raise exc
        except AppError as e:
            out.append([type(e).__name__, str(e), isinstance(e, ShapeError)])
            if isinstance(e, ShapeError):
                out.append(e.expected)
    except ValueError as e:
        out.append(['outer', e.args])
result = out
""",
    "base_exception": """
class Stop(BaseException):
    pass
out = []
for exc in [Stop('own'), BaseException('plain')]:
    try:
        raise exc
    except Exception:
        out.append('not an Exception')
    except BaseException as e:
        out.append([type(e).__name__, str(e)])
result = out
""",
    "reraise_and_from": """
out = []
def parse(s):
    try:
        return int(s)
    except ValueError as e:
        raise RuntimeError('cannot parse ' + s) from e
try:
    parse('x')
except RuntimeError as e:
    out.append(str(e))
try:
    try:
        {}['missing']
    except KeyError:
        out.append('inner')
        raise
except KeyError as e:
    out.append(str(e))
try:
    raise NotImplementedError
except Exception as e:
    out.append(type(e).__name__)
try:
    assert 1 > 2, 'one is not more than two'
except AssertionError as e:
    out.append(str(e))
try:
    1 / 0
except ArithmeticError:
    out.append('arith')
except:
    out.append('never')
result = out
""",
    "finally_with_control_flow": """
out = []
def f():
    try:
        return 'try'
    finally:
        out.append('f finally')
def g():
    try:
        raise ValueError('lost')
    finally:
        return 'finally wins'
for i in range(4):
    try:
        if i == 1:
            continue
        if i == 3:
            break
        out.append(i)
    finally:
        out.append('fin ' + str(i))
result = [f(), g(), out]
""",
    "exception_name_unbound_after_handler": """
e = 'before'
try:
    raise ValueError('x')
except ValueError as e:
    pass
try:
    print(e)
    result = 'still bound'
except NameError:
    result = 'unbound like Python'
""",
    "global_nonlocal": """
count = 0
total = 10
def bump(n):
    global count
    count += n
    total = -1
    return total
def counter():
    value = 0
    def step():
        nonlocal value
        value += 1
        return value
    step()
    step()
    return value
bump(2)
bump(3)
def reset():
    global count
    del count
reset()
try:
    count
    gone = False
except NameError:
    gone = True
result = [total, counter(), gone]
""",
    "names_shadowing": """
input = [1, 2, 3]
def forward(self, input):
    return input * 2
id = 'my id'
type = 'my type'
def f(list, max, min):
    return [list, max, min]
_ = 5
total = 0
for _ in range(4):
    total += 1
xs = [1, 2, 3]
_, second, _ = xs
result = [forward(None, 3), input, id, type, f(1, 2, 3), _, total, second]
""",
    "del_and_assert": """
xs = [1, 2, 3, 4]
del xs[1]
d = {'a': 1, 'b': 2}
del d['a']
y = 3
del y
try:
    y
except NameError as e:
    missing = str(e)
ok = True
assert ok, 'never'
result = [xs, d, missing]
""",
    "decorators": """
calls = []
def logged(f):
    def wrapper(*args):
        calls.append(f.__name__)
        return f(*args)
    return wrapper
def repeat(n):
    def deco(f):
        def run(x):
            for i in range(n):
                x = f(x)
            return x
        return run
    return deco
@logged
def add(a, b):
    return a + b
@repeat(3)
@logged
def double(x):
    return x * 2
result = [add(1, 2), double(1), calls, add.__name__, double.__name__]
""",
    "class_members": """
class Temperature:
    scale = 'C'
    def __init__(self, degrees):
        self.degrees = degrees
    @property
    def kelvin(self):
        return self.degrees + 273
    @kelvin.setter
    def kelvin(self, value):
        self.degrees = value - 273
    @staticmethod
    def freezing():
        return Temperature(0)
    @classmethod
    def boiling(cls):
        return cls(100)
class Fahrenheit(Temperature):
    scale = 'F'
    def describe(self):
        return self.scale + str(self.degrees)
t = Temperature.freezing()
t.kelvin = 300
b = Fahrenheit.boiling()
result = [t.degrees, t.kelvin, type(b).__name__, b.describe(), Temperature.scale,
          Fahrenheit.__name__, isinstance(b, Temperature), type(b) is Fahrenheit,
          b.kelvin]
""",
    "inheritance_and_super": """
class Base(object):
    def __init__(self, n):
        self.n = n
    def describe(self):
        return 'base ' + str(self.n)
class Child(Base):
    def __init__(self, n):
        super().__init__(n * 10)
    def describe(self):
        return 'child of ' + super().describe()
class GrandChild(Child):
    pass
result = [Child(1).describe(), GrandChild(2).describe(), GrandChild(2).n]
""",
    "reflection": """
class Config:
    def __init__(self):
        self.lr = 0.1
c = Config()
setattr(c, 'momentum', 0.9)
names = ['lr', 'momentum', 'missing']
present = [hasattr(c, n) for n in names]
values = [getattr(c, n, None) for n in names]
kinds = [type(1).__name__, type('s').__name__, type([]).__name__, type(c).__name__,
         type(1) == int, type(1.5) is float, type(True) is int, type('a') in (str, int),
         isinstance(3, int), isinstance(c, Config), isinstance(3, type(4))]
a = [1]
b = a
result = [present, values, kinds, id(a) == id(b), id(a) == id([1])]
""",
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_matches_python(sandbox: Sandbox, name: str) -> None:
    source = PROGRAMS[name]
    outcome = sandbox.run(source + "\nresult")
    assert outcome.body["ok"], outcome.body.get("error")
    assert normalise(plain(outcome.body["result"])) == normalise(python_result(source))


def run_ok(sandbox: Sandbox, code: str) -> dict[str, Any]:
    outcome = sandbox.run(code)
    assert outcome.body["ok"], outcome.body.get("error")
    return outcome.body


def test_torch_errors_are_catchable_with_torch_own_message(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, "try:\n    torch.ones(2, 3) @ torch.ones(2, 3)\n"
                  "except RuntimeError as e:\n    print(e)\n")
    try:
        torch.ones(2, 3) @ torch.ones(2, 3)
    except RuntimeError as error:
        expected = str(error)
    assert body["stdout"] == expected + "\n"


def test_autograd_function_gradients_match_torch(sandbox: Sandbox) -> None:
    code = """
class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return scale * x ** 3
    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * 3 * ctx.scale * x ** 2, None
w = torch.tensor([[0.5, -1.0], [2.0, 3.0]], requires_grad=True)
y = Cube.apply(w, 2.0)
y.sum().backward()
g = w.grad
"""
    body = run_ok(sandbox, code)
    w = torch.tensor([[0.5, -1.0], [2.0, 3.0]], requires_grad=True)
    (2.0 * w ** 3).sum().backward()
    assert w.grad is not None
    assert body["variables"]["g"]["values"] == w.grad.tolist()
    assert body["variables"]["y"]["values"] == (2.0 * w.detach() ** 3).tolist()


def test_autograd_function_backward_runs_on_the_budget(sandbox: Sandbox) -> None:
    code = ("class F(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n"
            "        return x * 2\n    @staticmethod\n    def backward(ctx, g):\n"
            "        while True:\n            pass\n"
            "x = torch.ones(2, requires_grad=True)\nF.apply(x).sum().backward()")
    error = sandbox.run(code).body["error"]
    assert error["type"] == "LimitError" and "max_steps" in error["message"]


def test_lenet_style_forward_with_input_parameter(sandbox: Sandbox) -> None:
    code = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
    def forward(self, input):
        return torch.relu(self.fc(input))
torch.manual_seed(0)
net = Net()
out = net(torch.ones(1, 4))
"""
    body = run_ok(sandbox, code)
    torch.manual_seed(0)
    fc = torch.nn.Linear(4, 2)
    # float32 values travel as the shortest text of each float32 (docs/API.md)
    got = torch.tensor(body["variables"]["out"]["values"], dtype=torch.float32)
    assert torch.equal(got, torch.relu(fc(torch.ones(1, 4))))


def test_type_and_name_of_tensors(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, "x = torch.ones(2)\nprint(type(x))\n"
                  "r = [type(x).__name__, type(x) == torch.Tensor, type(x) is torch.Tensor, "
                  "isinstance(x, type(x)), type(nn.Linear(1, 1)) == nn.Linear]")
    assert body["stdout"] == "<class 'torch.Tensor'>\n"
    assert plain(body["variables"]["r"]) == ["Tensor", True, True, True, True]


@pytest.mark.parametrize(("code", "kind", "message"), [
    ("x = torch.ones(2)\nx.unsqeeze(0)", "AttributeError",
     "'Tensor' object has no attribute 'unsqeeze'; did you mean 'unsqueeze'?"),
    ("learning_rate = 0.1\nprint(lerning_rate)", "NameError",
     "name 'lerning_rate' is not defined; did you mean 'learning_rate'?"),
    ("nn.Lineer(2, 3)", "AttributeError",
     "module 'torch.nn' has no attribute 'Lineer'; did you mean 'Linear'?"),
    ("F.sofmax(torch.ones(2), dim=0)", "AttributeError", "did you mean 'softmax'?"),
    ("torch.cross_entropy_loss", "AttributeError",
     "module 'torch' has no attribute 'cross_entropy_loss'; did you mean "
     "'torch.nn.functional.cross_entropy'?"),
    ("torch.Adam", "AttributeError", "did you mean 'torch.optim.Adam'?"),
    ("class A:\n    def __init__(self):\n        self.value = 1\nA().valeu", "AttributeError",
     "'A' object has no attribute 'valeu'; did you mean 'value'?"),
    ("class A:\n    def run(self):\n        return 1\nA.rnu", "AttributeError",
     "type object 'A' has no attribute 'rnu'; did you mean 'run'?"),
])
def test_missing_names_teach(sandbox: Sandbox, code: str, kind: str, message: str) -> None:
    outcome = sandbox.run(code)
    error = outcome.body["error"]
    assert (outcome.status, error["type"]) == (200, kind), error
    assert message in error["message"]


@pytest.mark.parametrize(("code", "message"), [
    ("x = torch.ones(2)\nx.storage()", "'Tensor.storage' is not available"),
    ("torch.load('f')", "torch.load is not available"),
    ("torch.utils.benchmark", "torch.utils.benchmark is not available"),
])
def test_what_exists_but_is_not_allowed_is_refused(sandbox: Sandbox, code: str,
                                                    message: str) -> None:
    outcome = sandbox.run(code)
    assert (outcome.status, outcome.body["error"]["type"]) == (400, "ForbiddenError")
    assert message in outcome.body["error"]["message"]


def test_first_refusal_in_source_order_is_reported(sandbox: Sandbox) -> None:
    code = "x = 1\ny = eval('1')\nz = x.__class__\nwhile True:\n    exec('2')"
    error = sandbox.run(code).body["error"]
    assert error["line"] == 2 and "'eval'" in error["message"]
    nested = "print([1, (lambda: open('f'))(), __import__('os')])"
    assert "'open'" in sandbox.run(nested).body["error"]["message"]


def test_function_imported_from_torch_autograd(sandbox: Sandbox) -> None:
    code = ("from torch.autograd import Function\nclass Square(Function):\n"
            "    @staticmethod\n    def forward(ctx, x):\n        ctx.save_for_backward(x)\n"
            "        return x * x\n    @staticmethod\n    def backward(ctx, g):\n"
            "        x, = ctx.saved_tensors\n        return 2 * x * g\n"
            "x = torch.tensor([3.0, -1.5], requires_grad=True)\n"
            "Square.apply(x).sum().backward()\ng = x.grad")
    body = run_ok(sandbox, code)
    x = torch.tensor([3.0, -1.5], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad is not None
    assert body["variables"]["g"]["values"] == x.grad.tolist()


def test_class_variables_of_modules_and_subclasses(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, "class M(nn.Module):\n    hidden = 4\n    def __init__(self):\n"
                  "        super().__init__()\n        self.fc = nn.Linear(2, self.hidden)\n"
                  "    def forward(self, x):\n        return self.fc(x)\nclass N(M):\n"
                  "    pass\nr = [N().hidden, M.hidden, list(N()(torch.ones(1, 2)).shape)]")
    assert plain(body["variables"]["r"]) == [4, 4, [1, 4]]
    refused = sandbox.run("class M(nn.Module):\n    pass\nM.parameters")
    assert refused.status == 400 and "comes from Module" in refused.body["error"]["message"]


def test_the_class_attribute_is_type(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, "x = torch.ones(1)\nr = [x.__class__.__name__, "
                  "x.__class__ == type(x), str(nn.ReLU().__class__)]")
    assert plain(body["variables"]["r"]) == ["Tensor", True, str(torch.nn.ReLU)]
    error = sandbox.run("x = torch.ones(1)\nx.__class__.__mro__").body["error"]
    assert error["type"] == "ForbiddenError" and "'_'" in error["message"]
