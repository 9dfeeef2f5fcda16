"""Attack programs against the interpreter's newer language surface, written as an attacker who
has read app/engine: exceptions, own classes and their members, reflection built-ins,
formatting, the stdlib namespaces, numpy, distributions, pyplot, autograd Functions and the
traces. Each case asserts the exact safe outcome: a refusal with its error type and the words
that name it, the program's own error, or the value Python and torch give.

Classes covered: internals reachable (a live interpreter, scope, frame, code or class object),
addresses in output, InternalError (or a dead worker) instead of the program's own error, and
user code reaching eval/exec, files, the network or another program's data.

Holes this pass found and closed (each has cases below): raise BaseException() ended the
worker; copy.deepcopy of an exception's args copied a function's live interpreter; the
sandbox's marks were read with getattr (an nn.Sequential child named playground_builtin was
called unbudgeted); a property named `training` ran program code in the result view; layer
names such as '__deepcopy__' reached Python's protocols; `l += range(10**9)` extended in one
C call; the program's own sequences were read by torch and numpy from C (dry run and real call
saw different data); numpy shapes it could not read were predicted as one element; unary
operators and abs/pow/sum of tensors were not predicted."""

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


# A sequence of the program's own: two numbers the first time torch or numpy reads it, two
# arrays of 10**7 numbers after that.
SEQ = ("class S:\n    def __init__(self):\n        self.n = 0\n    def __len__(self):\n"
       "        return 2\n    def __getitem__(self, i):\n        if i >= 2:\n"
       "            raise IndexError\n        self.n += 1\n        if self.n <= 2:\n"
       "            return 1\n        return np.ones(10**7)\n")

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
    # --- copy.deepcopy reaches what an exception's args hold ----------------------------------
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
    # --- layer names are plain: Module.__getattr__ answers every child's name -----------------
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
    # --- torch's instance attributes are not the program's to redefine ------------------------
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
    # --- internals of the interpreter's own objects -------------------------------------------
    ("function-node", "def f():\n    pass\nprint(f.node)", 400, "ForbiddenError",
     "attributes of a UserFunction are not available ('.node')"),
    ("function-interp", "def f():\n    pass\nprint(f.interp)", 400, "ForbiddenError",
     "('.interp')"),
    ("function-code-getattr", "def f():\n    pass\ngetattr(f, '__code__')", 400,
     "ForbiddenError", "getattr() with the name '__code__' is not available"),
    ("bound-method-instance", "class A:\n    def m(self):\n        return 1\n"
     "print(A().m.instance)", 400, "ForbiddenError", "('.instance')"),
    ("iterator-inner", "x = iter([1, 2])\nprint(x.inner)", 400, "ForbiddenError",
     "('.inner')"),
    ("iterator-interp", "x = enumerate([1, 2])\nprint(x.interp)", 400, "ForbiddenError",
     "('.interp')"),
    ("itertools-ctx", "import itertools\nprint(itertools.count().ctx)", 400,
     "ForbiddenError", "('.ctx')"),
    ("super-base", "class A:\n    def m(self):\n        return super()\nprint(A().m().base)",
     400, "ForbiddenError", "super() gives access to __init__"),
    ("super-class", "class A:\n    def m(self):\n        return super().__class__\nA().m()",
     400, "ForbiddenError", "super() gives access to __init__"),
    ("super-torch-method", "class A(Exception):\n    def m(self):\n"
     "        return super().with_traceback\nA().m()", 400, "ForbiddenError",
     "super() gives access to __init__"),
    ("super-as-value", "s = super", 200, "NameError", "name 'super' is not defined"),
    ("generator-frame", "g = nn.Linear(2, 2).parameters()\nprint(g.gi_frame)", 400,
     "ForbiddenError", "attributes of a generator are not available ('.gi_frame')"),
    ("generator-send", "g = nn.Linear(2, 2).parameters()\ng.send(None)", 400,
     "ForbiddenError", "('.send')"),
    ("partial-func", "import functools\np = functools.partial(torch.ones, 3)\nprint(p.func)",
     400, "ForbiddenError", "attributes of a function are not available ('.func')"),
    ("namedtuple-methods-marker", "from collections import namedtuple\n"
     "P = namedtuple('P', 'x y')\nprint(P.playground_methods)", 400, "ForbiddenError",
     "('.playground_methods')"),
    ("typing-origin", "import typing\nprint(typing.Any.origin)", 400, "ForbiddenError",
     "attributes of an AnnotationName are not available"),
    ("typing-of-namespace", "import typing\nprint(typing.List[torch])", 200, "TypeError",
     "a typing annotation takes types"),
    ("defaultdict-factory-attribute", "import collections\n"
     "d = collections.defaultdict(int)\nprint(d.default_factory)", 400, "ForbiddenError",
     "'defaultdict.default_factory' is not available"),
    ("defaultdict-torch-factory", "import collections\n"
     "d = collections.defaultdict(torch.ones)", 400, "ForbiddenError",
     "defaultdict's factory must be"),
    ("defaultdict-typeref-factory", "import collections\n"
     "d = collections.defaultdict(type(1))", 400, "ForbiddenError",
     "defaultdict's factory must be"),
    ("defaultdict-factory-budget", "import collections\n"
     "d = collections.defaultdict(lambda: torch.empty(10**10))\nd['x']", 413, "LimitError",
     "torch.empty would allocate"),
    ("functools-lru-cache", "import functools\nprint(functools.lru_cache)", 400,
     "ForbiddenError", "functools.lru_cache is not available"),
    ("functools-wraps", "import functools\nprint(functools.wraps)", 400, "ForbiddenError",
     "functools.wraps is not available"),
    ("functools-cache-decorator", "import functools\n@functools.cache\ndef f(n):\n"
     "    return n", 400, "ForbiddenError", "a decorator may be"),
    # --- class creation hooks, metaclasses, descriptors ---------------------------------------
    ("class-init-subclass", "class A:\n    def __init_subclass__(cls):\n        pass", 400,
     "ForbiddenError", "the function name '__init_subclass__' is not allowed"),
    ("class-set-name", "class A:\n    def __set_name__(self, owner, name):\n        pass",
     400, "ForbiddenError", "the function name '__set_name__' is not allowed"),
    ("class-getitem-hook", "class A:\n    def __class_getitem__(cls, item):\n"
     "        return torch", 400, "ForbiddenError", "'__class_getitem__' is not allowed"),
    ("class-subscript", "class A:\n    pass\nA[int]", 400, "ForbiddenError",
     "the class A cannot be indexed here"),
    ("class-getattr-hook", "class A:\n    def __getattr__(self, name):\n        return torch",
     400, "ForbiddenError", "'__getattr__' is not allowed"),
    ("class-reduce-hook", "class A:\n    def __reduce__(self):\n        return (print, ('x',))",
     400, "ForbiddenError", "'__reduce__' is not allowed"),
    ("class-reduce-ex-getattr", "class A:\n    pass\ngetattr(A(), '__reduce_ex__')", 400,
     "ForbiddenError", "getattr() with the name '__reduce_ex__'"),
    ("class-metaclass", "class A(metaclass=type):\n    pass", 400, "ForbiddenError",
     "class decorators and class keywords are not available"),
    ("class-two-bases", "class A(ValueError, nn.Module):\n    pass", 400, "ForbiddenError",
     "a class may have one base class"),
    ("class-base-typeref", "class A(type(1)):\n    pass", 400, "ForbiddenError",
     "a class may extend nn.Module"),
    ("class-base-layer", "class A(nn.Linear):\n    pass", 400, "ForbiddenError",
     "a class may extend nn.Module"),
    ("class-base-tensor", "class A(torch.Tensor):\n    pass", 400, "ForbiddenError",
     "a class may extend nn.Module"),
    ("function-vmap-staticmethod", "class F(torch.autograd.Function):\n    @staticmethod\n"
     "    def forward(ctx, x):\n        return x * 2\n    @staticmethod\n"
     "    def vmap(info, dims, x):\n        return x, 0", 400, "ForbiddenError",
     "'vmap' would replace a method of Function"),
    ("function-generate-vmap-rule", "class F(torch.autograd.Function):\n"
     "    generate_vmap_rule = True", 400, "ForbiddenError",
     "the class attribute 'generate_vmap_rule'"),
    ("function-ctx-mark-dirty", "class F(torch.autograd.Function):\n    @staticmethod\n"
     "    def forward(ctx, x):\n        ctx.mark_dirty(x)\n        return x\n"
     "F.apply(torch.ones(2))", 400, "ForbiddenError", "'ctx.mark_dirty' is not available"),
    ("function-ctx-save-for-forward", "class F(torch.autograd.Function):\n    @staticmethod\n"
     "    def forward(ctx, x):\n        ctx.save_for_forward(x)\n        return x\n"
     "F.apply(torch.ones(2))", 400, "ForbiddenError", "'ctx.save_for_forward'"),
    ("function-base-backward", "class F(torch.autograd.Function):\n    @staticmethod\n"
     "    def forward(ctx, x):\n        return x * 2\nprint(F.backward)", 400,
     "ForbiddenError", "'F.backward' comes from Function"),
    ("function-backward-returns-namespace", "class F(torch.autograd.Function):\n"
     "    @staticmethod\n    def forward(ctx, x):\n        return x\n    @staticmethod\n"
     "    def backward(ctx, g):\n        return torch\n"
     "F.apply(torch.ones(2, requires_grad=True)).sum().backward()", 200, "RuntimeError",
     "expected Variable or None (got Namespace)"),
    # --- hooks that torch would call from C ---------------------------------------------------
    ("tensor-register-hook", "x = torch.ones(2, requires_grad=True)\nx.register_hook(print)",
     400, "ForbiddenError", "'Tensor.register_hook' is not available"),
    ("grad-fn-register-hook", "x = torch.ones(2, requires_grad=True)\n"
     "(x * 2).sum().grad_fn.register_hook(print)", 400, "ForbiddenError",
     "'grad_fn.register_hook' is not available"),
    ("grad-fn-metadata", "x = torch.ones(2, requires_grad=True)\n"
     "print((x * 2).sum().grad_fn.metadata)", 400, "ForbiddenError",
     "'grad_fn.metadata' is not available"),
    ("grad-fn-saved-self", "x = torch.ones(2, requires_grad=True)\n"
     "print((x * 2).sum().grad_fn._saved_self)", 400, "ForbiddenError",
     "attributes starting with '_'"),
    ("grad-fn-call", "x = torch.ones(2, requires_grad=True)\nf = (x * 2).sum().grad_fn\n"
     "f(torch.ones(()))", 400, "ForbiddenError", "calling a SumBackward0 is not available"),
    ("module-forward-hook", "nn.Linear(2, 2).register_forward_hook(print)", 400,
     "ForbiddenError", "'Linear.register_forward_hook' is not available"),
    ("module-register-buffer", "nn.Linear(2, 2).register_buffer('b', torch.ones(1))", 400,
     "ForbiddenError", "'Linear.register_buffer' is not available"),
    # --- exceptions' internals ----------------------------------------------------------------
    ("exception-context-getattr", "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n"
     "    c = getattr(e, '__context__')", 400, "ForbiddenError",
     "getattr() with the name '__context__'"),
    ("exception-cause", "class E(Exception):\n    pass\ntry:\n"
     "    raise E() from ValueError('v')\nexcept E as e:\n    c = e.__cause__", 400,
     "ForbiddenError", "attributes starting with '_'"),
    ("exception-attribute-obj", "try:\n    nn.Linear(2, 2).foo\nexcept AttributeError as e:\n"
     "    print(e.obj)", 400, "ForbiddenError",
     "attributes of an AttributeError are not available ('.obj')"),
    ("exception-stop-value", "try:\n    next(iter([]))\nexcept StopIteration as e:\n"
     "    print(e.value)", 400, "ForbiddenError", "('.value')"),
    ("exception-own-subclass-obj", "class E(AttributeError):\n    pass\ntry:\n"
     "    raise E('x')\nexcept E as e:\n    print(e.obj)", 200, "AttributeError",
     "'E' object has no attribute 'obj'"),
    ("exception-args-reach-namespace", "class E(Exception):\n    pass\ntry:\n"
     "    raise E(torch)\nexcept E as e:\n    e.args[0].os", 400, "ForbiddenError",
     "torch.os is not available"),
    # --- formatting ---------------------------------------------------------------------------
    ("percent-own-mapping", "class A:\n    def __getitem__(self, k):\n        return torch\n"
     "print('%(a)s' % A())", 200, "TypeError", "format requires a mapping"),
    ("format-map-own-mapping", "class A:\n    def __getitem__(self, k):\n        return 1\n"
     "print('{a}'.format_map(A()))", 200, "TypeError", "format_map() takes a dict here"),
    ("format-field-class", "print('{0.__class__}'.format(1))", 400, "ForbiddenError",
     "attribute lookups inside format fields"),
    ("format-field-index", "print('{0[0]}'.format([torch]))", 400, "ForbiddenError",
     "index lookups inside format fields"),
    ("format-tensor-spec", "print(format(torch.ones(2), '.2f'))", 200, "TypeError",
     "works on a plain 0-d tensor"),
    # --- numpy --------------------------------------------------------------------------------
    ("numpy-vectorize", "f = np.vectorize(lambda x: x + 1)", 400, "ForbiddenError",
     "numpy.vectorize is not available"),
    ("numpy-frompyfunc", "f = np.frompyfunc(lambda x: x, 1, 1)", 400, "ForbiddenError",
     "numpy.frompyfunc is not available"),
    ("numpy-apply-along-axis", "np.apply_along_axis(lambda r: r.sum(), 0, np.ones((2, 2)))",
     400, "ForbiddenError", "numpy.apply_along_axis is not available"),
    ("numpy-object-array-of-builtin", "x = np.array([print])", 400, "ForbiddenError",
     "a numpy array of Python objects"),
    ("numpy-object-array-own-sequence", "class A:\n    def __len__(self):\n        return 2\n"
     "    def __getitem__(self, i):\n        if i > 1:\n            raise IndexError\n"
     "        return torch\nx = np.array(A())", 400, "ForbiddenError",
     "numpy.array would read your A object"),
    ("numpy-where-object", "x = np.array([1, 2])\ny = np.where(x > 1, x, print)", 400,
     "ForbiddenError", "numpy.where made a numpy array of Python objects"),
    ("numpy-astype-object", "x = np.asarray([1, 2]).astype(object)", 400, "ForbiddenError",
     "'object' is not available"),
    ("numpy-astype-text", "np.ones(3).astype('U100')", 400, "ForbiddenError",
     "numpy arrays of text, records or objects"),
    ("numpy-ndarray-class-call", "x = np.ndarray((4,))", 400, "ForbiddenError",
     "calling the class ndarray is not available"),
    ("numpy-array-interface", "print(np.ones(3).__array_interface__)", 400, "ForbiddenError",
     "attributes starting with '_'"),
    ("numpy-ctypes-base", "x = np.ones(3)\nprint(x.base)", 400, "ForbiddenError",
     "'ndarray.base' is not available"),
    ("numpy-tofile", "np.ones(3).tofile('{canary}')", 400, "ForbiddenError",
     "'ndarray.tofile' is not available"),
    ("numpy-ufunc-outer", "print(np.add.outer)", 400, "ForbiddenError",
     "attributes of a ufunc are not available ('.outer')"),
    ("numpy-ufunc-at", "np.add.at(np.ones(3), [0], 1)", 400, "ForbiddenError",
     "attributes of a ufunc are not available ('.at')"),
    ("numpy-default-rng", "x = np.random.default_rng(0)", 400, "ForbiddenError",
     "numpy.random.default_rng is not available"),
    ("numpy-lib", "print(np.lib)", 400, "ForbiddenError", "numpy.lib is not available"),
    # --- distributions and pyplot -------------------------------------------------------------
    ("distribution-huge-sample", "d = torch.distributions.Normal(0., 1.)\n"
     "d.sample((10**6, 10**6))", 413, "LimitError", "Normal.sample would allocate"),
    ("distribution-support", "print(torch.distributions.Normal(0., 1.).support)", 400,
     "ForbiddenError", "'Normal.support' is not available"),
    ("distribution-set-loc", "d = torch.distributions.Normal(0., 1.)\nd.loc = torch", 400,
     "ForbiddenError", "setting '.loc' on a Normal is not allowed"),
    ("distribution-constraints", "from torch.distributions import constraints", 400,
     "ForbiddenError", "'constraints' is not available from torch.distributions"),
    ("plt-canvas", "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
     "print(fig.canvas)", 400, "ForbiddenError", "canvas is not available"),
    ("plt-set-yscale", "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
     "ax.set_yscale('log')", 400, "ForbiddenError", "Axes.set_yscale is not available"),
    ("plt-hist-stand-in", "import matplotlib.pyplot as plt\nh = plt.hist([1, 2, 3])\n"
     "h[2][0].figure", 400, "ForbiddenError", "Rectangle.figure is not available"),
    ("plt-plot-own-object", "import matplotlib.pyplot as plt\nclass A:\n    pass\n"
     "plt.plot(A())", 200, "TypeError", "plt.plot takes tensors, numpy arrays"),
    ("plt-color-function", "import matplotlib.pyplot as plt\nplt.plot([1, 2], color=print)",
     200, "TypeError", "a colour is a name"),
    # --- stdlib modules that would reach outside ----------------------------------------------
    ("random-choices-huge", "import random\nx = random.choices(range(5), k=10**8)", 400,
     "ForbiddenError", "random.choices is not available"),
    ("random-getrandbits", "import random\nx = random.getrandbits(10**9)", 400,
     "ForbiddenError", "random.getrandbits is not available"),
    ("random-class", "import random\nprint(random.Random)", 400, "ForbiddenError",
     "random.Random is not available"),
    ("math-fsum-huge", "import math\nx = math.fsum(range(10**12))", 400, "ForbiddenError",
     "math.fsum is not available"),
    ("math-factorial", "import math\nx = math.factorial(10**7)", 400, "ForbiddenError",
     "math.factorial is not available"),
    ("itertools-islice-huge", "import itertools\n"
     "x = list(itertools.islice(itertools.count(), 10**9))", 200, "LimitError", "max_steps"),
    ("itertools-product-huge", "import itertools\n"
     "x = itertools.product(range(10**9), repeat=10)", 413, "LimitError",
     "itertools.product would produce more than"),
    ("itertools-accumulate-budget", "import itertools\n"
     "x = list(itertools.accumulate([1] * 10, lambda a, b: torch.empty(10**10)))", 413,
     "LimitError", "torch.empty would allocate"),
    ("pprint-loader", "import pprint\npprint.pprint(DataLoader(TensorDataset(torch.ones(4, 2))))",
     200, "TypeError", "pprint lays out lists"),
    ("with-own-object", "class A:\n    pass\nwith A():\n    pass", 400, "ForbiddenError",
     "'with' works with torch.no_grad()"),
    ("del-attribute", "x = torch.ones(2)\ndel x.grad", 400, "ForbiddenError",
     "del works on names and subscripts only"),
    ("dataset-len-huge", "class D(Dataset):\n    def __len__(self):\n        return 10**12\n"
     "DataLoader(D(), shuffle=True)", 200, "LimitError", "__len__ returned"),
    ("collate-namespace", "class D(Dataset):\n    def __len__(self):\n        return 2\n"
     "    def __getitem__(self, i):\n        return {'a': torch.ones(2), 'f': torch}\n"
     "for b in DataLoader(D(), batch_size=2):\n    pass", 200, "TypeError",
     "default_collate: batch must contain"),
    ("state-dict-destination-namespace", "nn.Linear(2, 2).state_dict(destination=torch)", 200,
     "TypeError", "does not support item assignment"),
    ("get-submodule-dict", "print(nn.Linear(2, 2).get_submodule('__dict__'))", 200,
     "AttributeError", "is not an nn.Module"),
    # --- augmented assignment extends in one C call --------------------------------------------
    # l += x is list.extend(x) over any iterable (dict |= x is update): l += range(10**9)
    # filled 24 GB before RLIMIT_AS (none on a CUDA server) ended it.
    ("list-iadd-range", "l = []\nl += range(10**9)", 200, "LimitError",
     "a Python sequence of 1,000,000,000 items"),
    ("list-iadd-range-too-long-for-len", "l = []\nl += range(10**30)", 200, "LimitError",
     "is larger than the limit"),
    ("list-iadd-item-target", "x = [[]]\nx[0] += range(10**9)", 200, "LimitError",
     "a Python sequence of 1,000,000,000 items"),
    ("list-iadd-attribute-target", "class A:\n    pass\na = A()\na.l = []\n"
     "a.l += range(10**9)", 200, "LimitError", "a Python sequence of 1,000,000,000 items"),
    ("deque-iadd-range", "import collections\nd = collections.deque()\nd += range(10**7)",
     200, "LimitError", "a Python sequence of 10,000,000 items"),
    ("list-iadd-tensor", "l = []\nl += torch.ones(2 * 10**6)", 200, "LimitError",
     "a Python sequence of 2,000,000 items"),
    ("list-iadd-ndarray", "l = [0]\nl += np.ones(2 * 10**6)", 200, "LimitError",
     "a Python sequence of 2,000,001 items"),
    ("dict-ior-tensor-rows", "d = {}\nd |= torch.ones(2 * 10**6, 2)", 200, "LimitError",
     "a Python sequence of 2,000,000 items"),
    ("list-iadd-counted-iterator", "import itertools\nl = []\nl += itertools.count()", 200,
     "LimitError", "max_steps"),
    # --- the program's own sequences never reach torch or numpy ------------------------------
    # They read __len__/__getitem__ from C themselves: the meta dry run of torch.tensor(S())
    # saw two numbers, the real call two arrays of 10**7 (160 MB unsized; any size with a
    # larger len); numpy's shape reader took np.zeros(S()) where the prediction saw nothing.
    ("sequence-torch-tensor-toctou", SEQ + "x = torch.tensor(S())", 400, "ForbiddenError",
     "torch.tensor would read your S object item by item"),
    ("sequence-inside-list", SEQ + "x = torch.tensor([S(), S()])", 400, "ForbiddenError",
     "torch.tensor would read your S object"),
    ("sequence-numpy-shape", SEQ + "x = np.zeros(S())", 400, "ForbiddenError",
     "numpy.zeros would read your S object"),
    ("sequence-numpy-array", SEQ + "x = np.array({'k': S()})", 400, "ForbiddenError",
     "numpy.array would read your S object"),
    ("sequence-numpy-choice", SEQ + "x = np.random.choice(S())", 400, "ForbiddenError",
     "numpy.random.choice would read your S object"),
    ("sequence-tensor-method", SEQ + "x = torch.ones(4).reshape(S())", 400, "ForbiddenError",
     "Tensor.reshape would read your S object"),
    ("sequence-ndarray-method", SEQ + "x = np.ones(4).reshape(S())", 400, "ForbiddenError",
     "ndarray.reshape would read your S object"),
    ("sequence-operator", SEQ + "x = torch.ones(2) + S()", 400, "ForbiddenError",
     "the operator add would read your S object"),
    ("sequence-operator-ndarray", SEQ + "x = S() * np.ones(2)", 400, "ForbiddenError",
     "the operator mul would read your S object"),
    ("sequence-comparison", SEQ + "x = np.ones(2) == S()", 400, "ForbiddenError",
     "the comparison would read your S object"),
    ("sequence-index", SEQ + "x = torch.ones(5)[S()]", 400, "ForbiddenError",
     "indexing would read your S object"),
    ("sequence-item-assignment", SEQ + "x = torch.zeros(5)\nx[0] = S()", 400,
     "ForbiddenError", "item assignment would read your S object"),
    ("sequence-own-dataset-to-tensor", "class D(Dataset):\n    def __len__(self):\n"
     "        return 2\n    def __getitem__(self, i):\n        return torch.ones(2)\n"
     "x = torch.stack(D())", 400, "ForbiddenError", "torch.stack would read your D object"),
    ("sequence-own-module-to-tensor", "class M(nn.Module):\n    def __len__(self):\n"
     "        return 1\n    def __getitem__(self, i):\n        return 1.0\n"
     "x = torch.tensor(M())", 400, "ForbiddenError", "torch.tensor would read your M object"),
    # numpy read any sequence as a shape while the prediction read tuples and lists only
    ("numpy-shape-range", "x = np.zeros(range(20000, 20002))", 413, "LimitError",
     "numpy.zeros would allocate 3.0 GB"),
    ("numpy-shape-deque", "import collections\n"
     "x = np.ones(collections.deque([20000, 20000]))", 413, "LimitError",
     "numpy.ones would allocate 3.0 GB"),
    ("numpy-size-range", "x = np.random.randint(0, 2, size=range(20000, 20002))", 413,
     "LimitError", "numpy.random.randint would allocate 3.0 GB"),
    ("numpy-full-shape-range", "x = np.full(range(20000, 20002), 1.0)", 413, "LimitError",
     "numpy.full would allocate 3.0 GB"),
    ("numpy-shape-unreadable", "class A:\n    pass\nx = np.zeros(A())", 200, "TypeError",
     "a numpy shape is an int or a tuple or list of ints, not A"),
    ("builtin-name-in-error", "len()", 200, "TypeError",
     "len() missing 1 required positional argument"),
    # --- files and the network, by the canary's path ------------------------------------------
    ("file-plt-imread", "import matplotlib.pyplot as plt\nx = plt.imread('{canary}')", 400,
     "ForbiddenError", "matplotlib.pyplot.imread is not available"),
    ("file-plt-imsave", "import matplotlib.pyplot as plt\n"
     "plt.imsave('{dir}/x.png', np.ones((2, 2)))", 400, "ForbiddenError",
     "matplotlib.pyplot.imsave is not available"),
    ("file-plt-style", "import matplotlib.pyplot as plt\nplt.style.use('{canary}')", 400,
     "ForbiddenError", "matplotlib.pyplot.style is not available"),
    ("file-plt-font-file", "import matplotlib.pyplot as plt\nplt.plot([1], label='x')\n"
     "plt.legend(prop={'fname': '{canary}'})", 400, "ForbiddenError",
     "plt.legend(prop=) takes a font size only"),
    ("file-plt-fontproperties", "import matplotlib.pyplot as plt\n"
     "plt.text(0, 0, 'x', fontproperties='{canary}')", 400, "ForbiddenError",
     "the keyword 'fontproperties=' is not available"),
    ("file-np-loadtxt", "x = np.loadtxt('{canary}')", 400, "ForbiddenError",
     "numpy.loadtxt is not available"),
    ("file-np-save", "np.save('{dir}/x', np.ones(2))", 400, "ForbiddenError",
     "numpy.save is not available"),
    ("file-np-memmap", "x = np.memmap('{canary}')", 400, "ForbiddenError",
     "numpy.memmap is not available"),
    ("file-torch-from-file", "x = torch.from_file('{canary}')", 400, "ForbiddenError",
     "torch.from_file is not available"),
    ("file-tensor-class-attribute", "x = torch.Tensor.tofile", 400, "ForbiddenError",
     "attributes of the class Tensor are not available"),
    ("network-hub", "x = torch.hub.load('a', 'b')", 400, "ForbiddenError",
     "torch.hub is not available"),
    ("process-dataloader-context", "x = DataLoader(TensorDataset(torch.ones(4)), "
     "multiprocessing_context='fork')", 400, "ForbiddenError", "it starts processes"),
    # --- unary operators and abs/pow/sum on tensors allocate like the binary operators --------
    # They ran unpredicted: -x.expand(8, 6 * 10**7) allocated 1.9 GB past the 256 MB
    # per-call limit, [abs(x) for i in range(8)] held 1.8 GB past the 1 GB total.
    ("unary-neg-expanded", "x = torch.ones(10**6)\ny = -x.expand(100, 10**6)", 413,
     "LimitError", "the operator neg would allocate 381.5 MB"),
    ("unary-invert-expanded", "x = torch.ones(10**6, dtype=torch.int32)\n"
     "y = ~x.expand(100, 10**6)", 413, "LimitError", "the operator invert would allocate"),
    ("unary-pos-expanded", "x = torch.ones(10**6)\ny = +x.expand(100, 10**6)", 413,
     "LimitError", "the operator pos would allocate"),
    ("builtin-abs-expanded", "x = torch.ones(10**6)\ny = abs(x.expand(100, 10**6))", 413,
     "LimitError", "the operator abs would allocate 381.5 MB"),
    ("builtin-pow-expanded", "x = torch.ones(10**6)\ny = pow(x.expand(100, 10**6), 2)", 413,
     "LimitError", "the operator for pow would allocate"),
    ("builtin-sum-expanded", "x = torch.ones(10**6)\ny = sum([x.expand(100, 10**6)] * 2)",
     413, "LimitError", "the operator for add would allocate"),
    ("builtin-sum-start-expanded", "x = torch.ones(10**6)\n"
     "y = sum([1], x.expand(100, 10**6))", 413, "LimitError",
     "the operator for add would allocate"),
    # --- built-ins that reach outside ---------------------------------------------------------
    ("builtin-exit", "exit()", 400, "ForbiddenError", "'exit' is not available"),
    ("builtin-breakpoint", "breakpoint()", 400, "ForbiddenError",
     "'breakpoint' is not available"),
    ("builtin-help", "help(torch)", 400, "ForbiddenError", "'help' is not available"),
    ("builtin-memoryview", "x = memoryview", 400, "ForbiddenError",
     "'memoryview' is not available"),
    ("builtin-globals-of-print", "x = getattr(print, '__globals__')", 400, "ForbiddenError",
     "getattr() with the name '__globals__'"),
    ("function-attribute-set", "def g():\n    def f():\n        pass\n    return f\n"
     "g().y = 2", 400, "ForbiddenError", "setting '.y' on a UserFunction is not allowed"),
    ("keyboard-interrupt-unnamed", "raise KeyboardInterrupt", 200, "NameError",
     "'KeyboardInterrupt' is not defined"),
    ("system-exit-unnamed", "raise SystemExit(0)", 200, "NameError",
     "'SystemExit' is not defined"),
]


@pytest.mark.parametrize(("code", "status", "kind", "says"),
                         [case[1:] for case in STOPPED], ids=[case[0] for case in STOPPED])
def test_stopped(sandbox: Sandbox, intact: Canary, code: str, status: int, kind: str,
                 says: str) -> None:
    outcome = sandbox.run(intact.program(code))
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
    ("addresses-in-reprs", "m = nn.Linear(2, 2)\nds = TensorDataset(torch.ones(4, 2))\n"
     "loader = DataLoader(ds, batch_size=2)\nopt = torch.optim.SGD(m.parameters(), lr=0.1)\n"
     "sched = torch.optim.lr_scheduler.StepLR(opt, 1)\n"
     "print(m.parameters(), loader, sched, torch.no_grad(), torch.Generator())\n"
     "print('%r %s' % (loader, sched), f'{loader!r} {sched}', repr(loader.sampler))",
     "<generator object Module.parameters> <torch.utils.data.dataloader.DataLoader object> "
     "<torch.optim.lr_scheduler.StepLR object> <torch.autograd.grad_mode.no_grad object> "
     "<torch._C.Generator object>\n<torch.utils.data.dataloader.DataLoader object> "
     "<torch.optim.lr_scheduler.StepLR object> <torch.utils.data.dataloader.DataLoader "
     "object> <torch.optim.lr_scheduler.StepLR object> "
     "<torch.utils.data.sampler.SequentialSampler object>\n"),
    ("addresses-in-grad-fn-containers", "x = torch.ones(2, requires_grad=True)\ny = x * 2\n"
     "print([y.grad_fn], {'f': y.grad_fn.next_functions})",
     "[<MulBackward0 object>] {'f': ((<AccumulateGrad object>, 0), (None, 0))}\n"),
    ("exception-self-reference", "class E(Exception):\n    pass\nl = []\ne = E(l)\n"
     "l.append(e)\nprint(e)\nprint(l)", "[E([...])]\n[E([E([...])])]\n"),
    ("function-ctx-attributes", "class F(torch.autograd.Function):\n    @staticmethod\n"
     "    def forward(ctx, x):\n        ctx.save_for_backward(x)\n        ctx.keep = x\n"
     "        return x * 2\n    @staticmethod\n    def backward(ctx, g):\n"
     "        x, = ctx.saved_tensors\n        print(ctx.needs_input_grad, ctx.keep is x)\n"
     "        return g * 2\nx = torch.ones(2, requires_grad=True)\ny = F.apply(x)\n"
     "y.sum().backward()\nprint(x.grad, y.grad_fn.keep is x)",
     "(True,) True\ntensor([2., 2.]) True\n"),
    ("super-own-method", "class B:\n    def m(self):\n        return 'B'\nclass A(B):\n"
     "    def m(self):\n        return super().m() + 'A'\nprint(A().m())", "BA\n"),
    ("lambda-state-dict-no-function", "s = torch.optim.lr_scheduler.LambdaLR(torch.optim.SGD("
     "nn.Linear(2, 2).parameters(), lr=0.1), lambda e: 0.5)\n"
     "print(s.state_dict()['lr_lambdas'])", "[None]\n"),
    ("call-own-callable-as-key", "class A:\n    def __call__(self, x):\n        return -x\n"
     "print(sorted([3, 1, 2], key=A()))", "[3, 2, 1]\n"),
    ("iadd-plain", "l = [1]\nl += [2, 3]\nl += range(2)\nl += (9,)\nd = {1: 2}\n"
     "d |= {3: 4}\nd |= [(5, 6)]\nprint(l, d)", "[1, 2, 3, 0, 1, 9] {1: 2, 3: 4, 5: 6}\n"),
    ("sequence-where-python-reads-it", SEQ + "import random\nclass D(Dataset):\n"
     "    def __len__(self):\n        return 4\n    def __getitem__(self, i):\n"
     "        return torch.full((2,), float(i))\nclass Block(nn.Module):\n"
     "    def __init__(self):\n        super().__init__()\n"
     "        self.fc = nn.Linear(2, 2)\n    def __len__(self):\n        return 1\n"
     "    def forward(self, x):\n        return self.fc(x)\ns = S()\n"
     "print(random.choice(s), [b.shape for b in DataLoader(D(), batch_size=2)], "
     "nn.Sequential(Block())(torch.ones(1, 2)).shape, len(s))",
     "1 [torch.Size([2, 2]), torch.Size([2, 2])] torch.Size([1, 2]) 2\n"),
    # The sandbox's own functions print with their public names, not this package's
    # closures (make_builtins.<locals>.print_, Interpreter.callback.<locals>.<lambda>).
    ("builtin-names", "import functools\nprint(print, len, type, functools.partial(print, 1), "
     "np.random.choice([print, len]))",
     "<function print> <function len> <function type> <function partial> "
     "<function callback>\n"),
    ("file-savefig-path-ignored", "import matplotlib.pyplot as plt\nplt.plot([1, 2])\n"
     "plt.savefig('{dir}/figure.png')\nfig = plt.gcf()\n"
     "fig.savefig('{dir}/figure.svg', format='svg')\nprint('drawn')", "drawn\n"),
    ("unary-and-builtins-plain", "print(abs(-3), pow(2, 10), pow(2, 10, 7), sum([1, 2]), "
     "-(2.5), ~5, sum([torch.ones(2), torch.ones(2)]), -torch.ones(1), "
     "abs(np.array([-1.5])), pow(torch.tensor([2.0]), 3), sum(torch.arange(4)))",
     "3 1024 2 3 -2.5 -6 tensor([2., 2.]) tensor([-1.]) [1.5] tensor([8.]) tensor(6)\n"),
    ("base-exception-caught", "try:\n    raise BaseException('a')\n"
     "except BaseException as e:\n    print('caught', e)", "caught a\n"),
]


@pytest.mark.parametrize(("code", "printed"), [case[1:] for case in PRINTS],
                         ids=[case[0] for case in PRINTS])
def test_prints(sandbox: Sandbox, intact: Canary, code: str, printed: str) -> None:
    outcome = sandbox.run(intact.program(code))
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


@pytest.mark.parametrize("code", [
    "x = np.ones(10**6)\nys = [-x for i in range(10)]",
    "x = np.ones(10**6)\nys = [abs(x) for i in range(10)]",
    "x = torch.ones(2 * 10**6)\nys = [-x for i in range(10)]",
    "x = torch.ones(2 * 10**6)\nys = [sum([x, x]) for i in range(10)]",
], ids=["numpy-neg", "numpy-abs", "tensor-neg", "tensor-sum"])
def test_unary_results_count_toward_the_total(settings: Settings, code: str) -> None:
    # Ten 8 MB results against a 64 MB total: refused before the allocation that passes it.
    sandbox = Sandbox(settings.model_copy(update={"max_total_bytes": 64 * 1024**2}))
    status, kind, message = _error(sandbox.run(code))
    assert (status, kind) == (413, "LimitError"), message
    assert "max_total_bytes" in message
