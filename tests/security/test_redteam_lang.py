"""Attack programs against the interpreter's newer language surface, written as an attacker who
has read app/engine: exceptions, own classes and their members, reflection built-ins,
formatting, the stdlib namespaces, numpy, distributions, pyplot, autograd Functions and the
traces. Each case asserts the exact safe outcome: a refusal with its error type and the words
that name it, the program's own error, or the value Python and torch give.

Classes covered: internals reachable (a live interpreter, scope, frame, code or class object),
addresses in output, InternalError (or a dead worker) instead of the program's own error, and
user code reaching eval/exec, files, the network or another program's data."""

from __future__ import annotations

import copy
import pickle
import re

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.engine.errors import ForbiddenError
from app.engine.interpreter import (
    BoundUserMethod,
    Interpreter,
    MethodRef,
    Scope,
    SuperProxy,
    UserFunction,
)
from app.engine.program import Outcome, Sandbox
from app.engine.stdlib_values import CountedIterator
from tests.security.conftest import Canary

_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}")


def _error(outcome: Outcome) -> tuple[int, str, str]:
    body = outcome.body
    assert body["ok"] is False, f"not stopped: {body}"
    return outcome.status, body["error"]["type"], body["error"]["message"]


def _no_address(outcome: Outcome) -> None:
    text = str(outcome.body)
    assert not _ADDRESS.search(text), _ADDRESS.findall(text)[:3]


# (id, program, status, error type, fragment of the message)
STOPPED: list[tuple[str, str, int, str, str]] = [
    # --- a BaseException the program raises is its own error, never the worker's end ----------
    ("base-exception-top", "raise BaseException('boom')", 200, "BaseException", "boom"),
    ("base-exception-own-class", "class E(BaseException):\n    pass\nraise E('x')", 200, "E",
     "x"),
    ("base-exception-in-forward", "class E(BaseException):\n    pass\n"
     "class M(nn.Module):\n    def forward(self, x):\n        raise E('in forward')\n"
     "M()(torch.ones(1))", 200, "E", "in forward"),
    ("base-exception-in-sort-key", "class E(BaseException):\n    pass\ndef key(x):\n"
     "    raise E('k')\nsorted([3, 1], key=key)", 200, "E", "k"),
    ("base-exception-in-backward", "class E(BaseException):\n    pass\n"
     "class F(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n"
     "        return x * 2\n    @staticmethod\n    def backward(ctx, g):\n"
     "        raise E('bw')\nx = torch.ones(2, requires_grad=True)\n"
     "F.apply(x).sum().backward()", 200, "E", "bw"),
    ("base-exception-in-collate", "class E(BaseException):\n    pass\ndef collate(b):\n"
     "    raise E('collate')\nds = TensorDataset(torch.ones(4, 2))\n"
     "for b in DataLoader(ds, batch_size=2, collate_fn=collate):\n    pass", 200, "E",
     "collate"),
    # --- copy.deepcopy reaches what an exception's args hold ------------------------------
    # deepcopy copies an exception's args (BaseException.__reduce__), which the sizing did
    # not walk: a program function there was copied with its live interpreter (globals,
    # tensors, budget), a second interpreter the budget never saw.
    ("deepcopy-exception-function", "import copy\nclass E(Exception):\n    pass\n"
     "def f():\n    return 1\ng = copy.deepcopy(E(f)).args[0]", 400, "ForbiddenError",
     "cannot copy a function"),
    ("deepcopy-exception-lambda", "import copy\nclass E(Exception):\n    pass\n"
     "g = copy.deepcopy(E(lambda: 0)).args[0]\nprint('escaped', g())", 400, "ForbiddenError",
     "cannot copy a function"),
    ("deepcopy-exception-bound-method", "import copy\nclass E(Exception):\n    pass\n"
     "class A:\n    def m(self):\n        return 1\ncopy.deepcopy(E(A().m))", 400,
     "ForbiddenError", "cannot copy a function"),
    ("deepcopy-exception-in-object", "import copy\nclass E(Exception):\n    pass\n"
     "class A:\n    def __init__(self):\n        self.e = E([{'k': lambda: 1}])\n"
     "copy.deepcopy(A())", 400, "ForbiddenError", "cannot copy a function"),
    ("copy-exception-lambda", "import copy\nclass E(Exception):\n    pass\n"
     "copy.copy(E(lambda: 2))", 400, "ForbiddenError", "cannot copy a function"),
    ("deepcopy-exception-tensor-method", "import copy\nclass E(Exception):\n    pass\n"
     "big = torch.ones(10)\ncopy.deepcopy(E(big.add))", 400, "ForbiddenError",
     "cannot copy a MethodRef"),
    ("deepcopy-exception-iterator", "import copy\nclass E(Exception):\n    pass\n"
     "copy.deepcopy(E(iter([1, 2])))", 400, "ForbiddenError", "cannot copy a _CountedIterator"),
    ("deepcopy-exception-itertools", "import copy\nimport itertools\n"
     "class E(Exception):\n    pass\ncopy.deepcopy(E(itertools.count()))", 400,
     "ForbiddenError", "cannot copy a CountedIterator"),
    ("deepcopy-exception-super", "import copy\nclass E(Exception):\n    pass\nclass A:\n"
     "    def m(self):\n        return super()\ncopy.deepcopy(E(A().m()))", 400,
     "ForbiddenError", "cannot copy a SuperProxy"),
    ("deepcopy-exception-namespace-member", "import copy\nclass E(Exception):\n    pass\n"
     "copy.deepcopy(E(torch.optim))", 400, "ForbiddenError", "cannot copy a Namespace"),
    # --- layer names are plain: Module.__getattr__ answers every child's name ---------------
    # A child named __deepcopy__ was called by copy.deepcopy with its memo (the "copy" was
    # what the child returned); one named playground_builtin made call() take the Sequential
    # for a sandbox built-in and call it past the budget (320 MB over the per-call 256 MB).
    ("layer-name-deepcopy", "import copy\nclass M(nn.Module):\n    def forward(self, memo):\n"
     "        print('escaped', memo)\n        return 5\nm = nn.Sequential()\n"
     "m.add_module('__deepcopy__', M())\nx = copy.deepcopy(m)", 400, "ForbiddenError",
     "the layer name '__deepcopy__' is not available"),
    ("layer-name-copy", "import copy\nm = nn.Sequential()\nm.add_module('__copy__', "
     "nn.Identity())\ncopy.copy(m)", 400, "ForbiddenError", "the layer name '__copy__'"),
    ("layer-name-array", "m = nn.Sequential()\nm.add_module('__array__', nn.Identity())\n"
     "np.array(m)", 400, "ForbiddenError", "the layer name '__array__'"),
    ("layer-name-array-interface", "m = nn.ModuleDict({'__array_interface__': nn.Identity()})"
     "\nnp.asarray(m)", 400, "ForbiddenError", "the layer name '__array_interface__'"),
    ("layer-name-cuda-array-interface", "from collections import OrderedDict\n"
     "m = nn.Sequential(OrderedDict([('__cuda_array_interface__', nn.Identity())]))\n"
     "torch.as_tensor(m)", 400, "ForbiddenError", "the layer name '__cuda_array_interface__'"),
    ("layer-name-parameter-dict", "p = nn.ParameterDict({'__deepcopy__': "
     "nn.Parameter(torch.ones(1))})", 400, "ForbiddenError", "the layer name '__deepcopy__'"),
    ("layer-name-wrapped", "m = nn.Sequential()\nm.add_module('__wrapped__', nn.Identity())",
     400, "ForbiddenError", "the layer name '__wrapped__'"),
    ("layer-name-private", "m = nn.Sequential()\nm.add_module('_secret', nn.Identity())",
     400, "ForbiddenError", "the layer name '_secret'"),
    ("marker-child-sequential", "from collections import OrderedDict\n"
     "seq = nn.Sequential(OrderedDict([('playground_builtin', nn.Linear(1, 2**20))]))\n"
     "y = seq(torch.ones(80, 1))", 400, "ForbiddenError",
     "the layer name 'playground_builtin'"),
    ("marker-child-add-module", "seq = nn.Sequential()\n"
     "seq.add_module('playground_builtin', nn.Linear(1, 2**20))\ny = seq(torch.ones(80, 1))",
     400, "ForbiddenError", "the layer name 'playground_builtin'"),
    ("marker-child-own-module", "class M(nn.Module):\n    def __init__(self):\n"
     "        super().__init__()\n        self.add_module('playground_type', nn.ReLU())\n"
     "m = M()", 400, "ForbiddenError", "the layer name 'playground_type'"),
    ("marker-child-module-dict", "d = nn.ModuleDict({'playground_iterator': nn.Identity()})",
     400, "ForbiddenError", "the layer name 'playground_iterator'"),
    # --- torch's instance attributes are not the program's to redefine ---------------------
    # hasattr(nn.Module, 'training') is False (Module.__init__ sets it on the instance), so a
    # property `training` ran the program's code when torch or the result view read it: after
    # the program, its LimitError (or a Namespace as the value) came out as an InternalError.
    ("module-training-property", "class M(nn.Module):\n    @property\n"
     "    def training(self):\n        while True:\n            pass\n"
     "    @training.setter\n    def training(self, v):\n        pass\n"
     "    def forward(self, x):\n        return x\nm = M()", 400, "ForbiddenError",
     "'training' would replace"),
    ("module-training-property-returns-torch", "class M(nn.Module):\n    @property\n"
     "    def training(self):\n        return torch\n    @training.setter\n"
     "    def training(self, v):\n        pass\nm = M()", 400, "ForbiddenError",
     "'training' would replace"),
    ("module-training-method", "class M(nn.Module):\n    def training(self):\n"
     "        return 1", 400, "ForbiddenError", "'training' would replace"),
    ("module-training-class-variable", "class M(nn.Module):\n    training = 5", 400,
     "ForbiddenError", "the class attribute 'training'"),
    ("module-subclass-training-property", "class B(nn.Module):\n    pass\nclass M(B):\n"
     "    @property\n    def training(self):\n        return 1", 400, "ForbiddenError",
     "'training' would replace"),
    ("keyboard-interrupt-unnamed", "raise KeyboardInterrupt", 200, "NameError",
     "'KeyboardInterrupt' is not defined"),
    ("system-exit-unnamed", "raise SystemExit(0)", 200, "NameError",
     "'SystemExit' is not defined"),
]


@pytest.mark.parametrize(("code", "status", "kind", "says"),
                         [case[1:] for case in STOPPED], ids=[case[0] for case in STOPPED])
def test_stopped(sandbox: Sandbox, intact: Canary, code: str, status: int, kind: str,
                 says: str) -> None:
    outcome = sandbox.run(code)
    got_status, got_kind, message = _error(outcome)
    assert (got_status, got_kind) == (status, kind), message
    assert says in message, message
    assert "escaped" not in outcome.body.get("stdout", "")
    _no_address(outcome)


# (id, program, exactly what it prints)
PRINTS: list[tuple[str, str, str]] = [
    ("deepcopy-exception-data", "import copy\nclass E(ValueError):\n    pass\n"
     "x = torch.arange(3.)\ne = E([x, x], {'k': (1, 'a')})\nc = copy.deepcopy(e)\n"
     "print(c.args[0][0] is c.args[0][1], c.args[0][0] is x, c.args[1], "
     "c.args[0][1].tolist())", "True False {'k': (1, 'a')} [0.0, 1.0, 2.0]\n"),
    ("deepcopy-own-exception-runs-init", "import copy\nclass E(Exception):\n"
     "    def __init__(self, x):\n        print('init', x)\n        self.y = x\n"
     "e = copy.deepcopy(E(1))\nprint(e.args, e.y)", "init 1\ninit 1\n(1,) 1\n"),
    ("super-object-repr", "class A:\n    def m(self):\n        return super()\n"
     "print(A().m())", "<super object>\n"),
    ("iterator-repr", "print(iter([1]), enumerate([1]), zip([1], [2]))",
     "<list_iterator object> <enumerate object> <zip object>\n"),
    ("layer-names-plain", "from collections import OrderedDict\n"
     "m = nn.Sequential(OrderedDict([('fc1', nn.Linear(2, 3)), ('act', nn.ReLU())]))\n"
     "m.add_module('out', nn.Linear(3, 1))\nd = nn.ModuleDict({'enc': nn.Identity()})\n"
     "print([n for n, c in m.named_children()], list(d.keys()), m(torch.ones(1, 2)).shape)",
     "['fc1', 'act', 'out'] ['enc'] torch.Size([1, 1])\n"),
    ("module-sets-training-data", "class M(nn.Module):\n    def __init__(self):\n"
     "        super().__init__()\n        self.training = False\n"
     "    def forward(self, x):\n        return x\nm = M()\nprint(m.training)\nm.train()\n"
     "print(m.training)", "False\nTrue\n"),
    ("base-exception-caught", "try:\n    raise BaseException('a')\n"
     "except BaseException as e:\n    print('caught', e)", "caught a\n"),
]


@pytest.mark.parametrize(("code", "printed"), [case[1:] for case in PRINTS],
                         ids=[case[0] for case in PRINTS])
def test_prints(sandbox: Sandbox, intact: Canary, code: str, printed: str) -> None:
    outcome = sandbox.run(code)
    assert outcome.body["ok"], outcome.body["error"]
    assert outcome.body["stdout"] == printed
    _no_address(outcome)


def test_base_exception_leaves_the_worker_serving(client: TestClient, intact: Canary) -> None:
    # It passed `except Exception` in Sandbox.run and in the job handler and ended the worker
    # process: the user got a WorkerCrash and the pool a fork.
    for _ in range(2):
        response = client.post("/eval", json={"code": "class E(BaseException):\n    pass\n"
                                                      "raise E('mine')"})
        body = response.json()
        assert (response.status_code, body["ok"], body["error"]["type"],
                body["error"]["message"]) == (200, False, "E", "mine")
    response = client.post("/eval", json={"code": "torch.arange(6).sum()"})
    assert response.json()["result"]["values"] == 15


def test_deepcopied_exception_args_count_as_memory(settings: Settings) -> None:
    # The copies of tensors inside an exception's args were neither sized nor tracked.
    sandbox = Sandbox(settings.model_copy(update={"max_total_bytes": 64 * 1024**2}))
    code = ("import copy\nclass E(Exception):\n    pass\nx = torch.ones(2**22)\n"
            "keep = [copy.deepcopy(E(x)) for i in range(6)]")
    status, kind, message = _error(sandbox.run(code))
    assert (status, kind) == (413, "LimitError"), message


@pytest.mark.parametrize("cls", [UserFunction, BoundUserMethod, MethodRef, SuperProxy, Scope,
                                 Interpreter, CountedIterator],
                         ids=lambda cls: cls.__name__)
def test_interpreter_objects_cannot_be_copied_or_pickled(cls: type) -> None:
    # The backstop: whatever path reaches them (torch's own deepcopy, pickle), these objects
    # hold or lead to the live interpreter and are never taken apart.
    obj = object.__new__(cls)
    for take_apart in (copy.deepcopy, copy.copy, pickle.dumps):
        with pytest.raises(ForbiddenError, match="cannot copy"):
            take_apart(obj)


def test_marks_are_not_read_through_getattr() -> None:
    # An nn.Module answers any name of a child through __getattr__; the marks must not.
    from collections import OrderedDict

    from torch import nn

    from app.engine.marks import builtin_type, is_builtin, is_counted_iterator

    marked = nn.Sequential(OrderedDict([("playground_builtin", nn.Identity()),
                                        ("playground_type", nn.Identity()),
                                        ("playground_iterator", nn.Identity())]))
    assert marked.playground_builtin is not None  # what getattr would have seen
    assert (is_builtin(marked), builtin_type(marked), is_counted_iterator(marked)) == (
        False, None, False)
