"""The escape and exhaustion corpus: programs an attacker would send, and how each is refused.

Each case gives the HTTP status, the error type and a fragment of the message that names what
was refused (or which limit stopped it). ``{canary}`` and ``{dir}`` stand for the canary file
and its directory (see conftest.py), so an escape would show on the filesystem as well.

Status meanings (DESIGN.md section 3): 400 refused (by the parser, or at run time by the policy
tables); 413 a budget refused a call before it ran; 200 with ok:false the program was stopped
while running (LimitError / TimeoutError) or raised an ordinary error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    id: str
    code: str
    status: int
    type: str
    says: str  # a fragment of the message, naming what was refused


F = "ForbiddenError"
L = "LimitError"
S = "SyntaxError"

_GRAPH = "x = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\n"
_DATASET = """class D(Dataset):
    def __len__(self):
        return 4
    def __getitem__(self, i):
        return 30000
"""
_PLT = "import matplotlib.pyplot as plt\n"
_OPT = "m = nn.Linear(2, 2)\no = optim.SGD(m.parameters(), lr=0.1)\n"

CASES: list[Case] = [
    # --- classic Python sandbox escapes ----------------------------------------------------
    Case("subclasses", "().__class__.__bases__[0].__subclasses__()", 400, F,
         "attributes starting with '_'"),
    Case("getattr", "getattr(torch, 'os')", 400, F, "torch.os is not available"),
    Case("getattr-tensor", "getattr(torch.ones(1), 'data_ptr')", 400, F,
         "getattr() works on objects of your own classes only"),
    Case("type-call", "type(1)('5')", 400, F, "type(x) stands for a class and cannot be called"),
    Case("type-new-class", "X = type('X', (), {})", 400, F, "type() takes one argument here"),
    Case("dunder-import", "__import__('os').system('touch {dir}/pwned')", 400, F,
         "names starting with '_'"),
    Case("eval", "eval('1 + 1')", 400, F, "'eval' is not available"),
    Case("exec", "exec('x = 1')", 400, F, "'exec' is not available"),
    Case("compile", "compile('1', 'f', 'eval')", 400, F, "'compile' is not available"),
    Case("open-read", "open('{canary}').read()", 400, F, "'open' is not available"),
    Case("open-write", "open('{dir}/new.txt', 'w')", 400, F, "'open' is not available"),
    Case("globals", "globals()", 400, F, "'globals' is not available"),
    Case("locals", "locals()['torch']", 400, F, "'locals' is not available"),
    Case("vars", "vars(torch)", 400, F, "'vars' is not available"),
    Case("dir", "dir(torch)", 400, F, "'dir' is not available"),
    Case("object", "object.__subclasses__()", 400, F, "attributes starting with '_'"),
    Case("breakpoint", "breakpoint()", 400, F, "'breakpoint' is not available"),
    # A generator expression is a list here: it has no frame to reach.
    Case("genexp-frame", "g = (i for i in [1])\ng.gi_frame.f_globals", 200, "AttributeError",
         "'list' object has no attribute 'gi_frame'"),
    Case("yield-generator", "def g():\n    yield 1\nx = g()", 400, F, "generators (yield)"),
    Case("torch-generator-frame", "p = nn.Linear(2, 2).parameters()\np.gi_frame", 400, F,
         "attributes of a generator are not available ('.gi_frame')"),
    Case("function-globals", "def f():\n    pass\nf.__globals__", 400, F,
         "attributes starting with '_'"),
    Case("function-code", "def f():\n    pass\nf.__code__.co_consts", 400, F,
         "attributes starting with '_'"),
    Case("function-attribute", "def f():\n    pass\nf.func_globals", 400, F,
         "attributes of a UserFunction are not available"),
    Case("bound-method-attribute", "class A:\n    def f(self):\n        return 1\nA().f.function",
         400, F, "attributes of a BoundUserMethod are not available"),
    Case("builtin-attribute", "print.self", 400, F, "attributes of a function are not available"),
    Case("decorator-property", "f = property(torch.ones)", 400, F,
         "@property works on a function defined with def"),
    Case("decorator-any-call", "@print\ndef f():\n    pass", 400, F,
         "a decorator must be a function defined in the program"),
    Case("decorator-with-args", "@torch.no_grad(print)\ndef f():\n    pass", 400, F,
         "a decorator may be @torch.no_grad()"),
    Case("class-decorator", "@torch.no_grad()\nclass A:\n    pass", 400, F,
         "class decorators and class keywords"),
    Case("metaclass", "class A(metaclass=print):\n    pass", 400, F,
         "class decorators and class keywords"),
    Case("class-body-code", "class A:\n    print('runs at class creation')", 400, F,
         "a class body may hold methods and simple assignments only"),
    Case("class-dunder-repr", "class A:\n    def __repr__(self):\n        return 'x'", 400, F,
         "the function name '__repr__' is not allowed"),
    Case("class-dunder-getattr", "class A:\n    def __getattr__(self, n):\n        return n", 400,
         F, "the function name '__getattr__' is not allowed"),
    Case("class-base-int", "class A(int):\n    pass", 400, F, "a class may extend nn.Module"),
    Case("class-base-rebound", "Module = nn.Linear\nclass A(Module):\n    pass", 400, F,
         "a class may extend nn.Module, Dataset"),
    Case("class-attribute-callable", "class M(nn.Module):\n    forward = torch.ones\nM()(10)",
         400, F, "the class attribute 'forward' may not be a function"),
    Case("class-attribute-shadows-base", "class M(nn.Module):\n    call_super_init = 1", 400,
         F, "the class attribute 'call_super_init'"),
    Case("super-other-method",
         "class A(nn.Module):\n    def f(self):\n        return super().parameters\nA().f()",
         400, F, "super() gives access to __init__ and the methods of your own classes only"),
    Case("super-outside-class", "super().__init__()", 400, F,
         "super() works inside methods of your own classes only"),
    Case("super-explicit-args", "super(int, 1).__init__()", 400, F,
         "super() works inside methods of your own classes only"),
    Case("lambda-default", "f = lambda x=print: x", 400, F,
         "lambda default arguments are not available"),
    Case("global", "def f():\n    global _x\n    return 1", 400, F,
         "names starting with '_' are not allowed"),
    Case("try-except", "try:\n    getattr(torch, 'os')\nexcept BaseException:\n    pass", 400,
         F, "torch.os is not available"),
    Case("with-as", "with torch.no_grad() as g:\n    pass", 400, F, "'with ... as name'"),
    Case("with-user-object", "class C:\n    pass\nwith C():\n    pass", 400, F,
         "'with' works with torch.no_grad()"),
    Case("exit-returning-true",
         "class C:\n    def __exit__(self, *a):\n        return True", 400, F,
         "the function name '__exit__' is not allowed"),
    # os and sys import as empty namespaces (an unused import is free); every use is refused.
    Case("import-os", "import os\nos.system('touch {dir}/pwned')", 400, F,
         "os.system is not available"),
    Case("from-os-import", "from os import system", 400, F, "'system' is not available from os"),
    Case("import-subprocess", "import subprocess", 400, F,
         "'subprocess' cannot be imported here (it starts processes)"),
    Case("os-environ", "import os\nos.environ['HOME']", 400, F, "os.environ is not available"),
    Case("os-path-canary", "import os.path\nos.path.exists('{dir}')", 400, F,
         "the playground has no files"),
    Case("sys-modules", "import sys\nsys.modules['os'].system('touch {dir}/pwned')", 400, F,
         "sys.modules is not available"),
    Case("import-importlib", "import importlib", 400, F, "'importlib' cannot be imported here"),
    Case("import-pickle", "import pickle", 400, F, "unpickling runs arbitrary code"),
    Case("import-ctypes", "import ctypes", 400, F, "it reads and writes raw memory"),
    Case("sleep-past-deadline", "import time\ntime.sleep(10**9)", 200, "TimeoutError",
         "would run past the program's deadline"),
    Case("namedtuple-code", "import collections\ncollections.namedtuple('P', "
         "['x=open(\"{canary}\").read()'])", 400, F, "the field name"),
    Case("partial-refused", "import functools\nfunctools.partial(torch.load, '{canary}')", 400,
         F, "torch.load is not available"),
    Case("deepcopy-function", "import copy\ndef f():\n    return 1\ncopy.deepcopy(f)", 400, F,
         "copy.deepcopy cannot copy a function"),
    Case("import-cpp-extension", "import torch.utils.cpp_extension", 400, F,
         "'torch.utils.cpp_extension' cannot be imported here"),
    Case("from-torch-import-hub", "from torch import hub", 400, F,
         "'hub' is not available from torch"),
    Case("relative-import", "from . import app", 400, F, "relative imports are not available"),
    Case("import-star", "from torch import *", 400, F, "'import *' is not available"),
    Case("walrus", "(x := 1)", 400, F, "the walrus operator"),
    Case("dict-splat", "print(**{'end': ''})", 400, F, "**dict splats"),
    Case("kwargs-parameter", "def f(**kw):\n    pass", 400, F, "**kwargs parameters"),
    # --- format strings ----------------------------------------------------------------------
    Case("str-format", "'{0.__class__}'.format(1)", 400, F,
         "attribute lookups inside format fields ('{0.__class__}')"),
    Case("f-string", "x = 1\nf'{x.__class__.__mro__}'", 400, F,
         "attributes starting with '_'"),
    Case("percent-format-literal", "'%.999999f' % (1,)", 200, L,
         "precision of 999,999 is larger than the limit of 1,000 (setting max_format_width)"),
    Case("percent-format-variable", "s = '%*d'\ns % (10**9, 1)", 200, L,
         "width of 1,000,000,000 is larger than the limit"),
    Case("str-join", "','.join(['x' * 1000] * 2000)", 200, L,
         "longer than the limit of 1,000,000 (setting max_sequence_items)"),
    Case("fstring-width-bomb", "x = 1\nf'{x:>1000000000}'", 200, L,
         "width of 1,000,000,000 is larger than the limit"),
    Case("format-nested-width-bomb", "'{:{}}'.format(1, 10**9)", 200, L,
         "(setting max_format_width)"),
    Case("format-index-field", "'{0[0]}'.format([1])", 400, F,
         "index lookups inside format fields"),
    Case("format-map-own-class", "class D:\n    def __getitem__(self, k):\n        return 1\n"
         "'{a}'.format_map(D())", 200, "TypeError", "format_map() takes a dict here"),
    Case("str-ljust-bomb", "'x'.ljust(10**9)", 200, L, "(setting max_sequence_items)"),
    Case("str-replace-empty-bomb", "s = 'ab' * 1000\ns.replace('', 'x' * 1000)", 200, L,
         "(setting max_sequence_items)"),
    Case("str-encode", "'x'.encode()", 400, F, "makes bytes"),
    Case("class-dunder-format", "class A:\n    def __format__(self, spec):\n        return 'x'",
         400, F, "'__format__' is not allowed"),
    # --- dunder chains -----------------------------------------------------------------------
    Case("torch-dict", "torch.__dict__['os']", 400, F, "attributes starting with '_'"),
    Case("tensor-mro", "torch.ones(1).__class__.__mro__", 400, F,
         "attributes starting with '_'"),
    Case("tensor-reduce-ex", "torch.ones(1).__reduce_ex__(2)", 400, F,
         "attributes starting with '_'"),
    Case("module-dict", "m = nn.Linear(2, 2)\nm.__dict__", 400, F, "attributes starting with '_'"),
    Case("module-modules", "m = nn.Linear(2, 2)\nm._modules", 400, F,
         "attributes starting with '_'"),
    Case("grad-fn-saved", _GRAPH + "y.grad_fn._saved_self", 400, F,
         "attributes starting with '_'"),
    # --- torch, numpy: files, native code, shared state ---------------------------------------
    Case("torch-os", "torch.os.system('touch {dir}/pwned')", 400, F,
         "os is the operating system interface"),
    Case("torch-sys", "torch.sys.modules", 400, F, "sys is the interpreter's internals"),
    Case("torch-load", "torch.load('{canary}')", 400, F, "load reads files from the server"),
    Case("torch-save", "torch.save(torch.ones(1), '{dir}/x.pt')", 400, F,
         "save writes files on the server"),
    Case("torch-from-file", "torch.from_file('{canary}', size=4)", 400, F,
         "from_file reads files from the server"),
    Case("torch-hub", "torch.hub.load('owner/repo', 'model')", 400, F,
         "hub downloads and runs code"),
    Case("torch-ops", "torch.ops.aten.ones([1])", 400, F, "ops reaches native operator"),
    Case("torch-classes", "torch.classes.load_library('{canary}')", 400, F,
         "classes reaches native classes"),
    Case("torch-jit", "torch.jit.script(nn.Linear(1, 1))", 400, F, "jit compiles and runs code"),
    Case("torch-compile", "torch.compile(nn.Linear(1, 1))", 400, F, "compile compiles code"),
    Case("cpp-extension", "torch.utils.cpp_extension.load_inline('x', '')", 400, F,
         "torch.utils.cpp_extension is not available"),
    Case("torch-library", "torch.library.Library('aten', 'IMPL')", 400, F,
         "library overrides operators"),
    Case("benchmark-timer", "torch.utils.benchmark.Timer(stmt='import os')", 400, F,
         "torch.utils.benchmark is not available"),
    Case("set-default-device-meta", "torch.set_default_device('meta')", 400, F,
         "the device 'meta' is not available"),
    Case("set-default-device-in-with", "with torch.device('cpu'):\n"
         "    torch.set_default_device('cpu')", 400, F, "inside a 'with torch.device"),
    Case("with-device-meta", "with torch.device('meta'):\n    x = torch.ones(2)", 400, F,
         "the device 'meta' is not available"),
    Case("memory-fraction", "torch.cuda.set_per_process_memory_fraction(1.0)", 400, F,
         "set_per_process_memory_fraction is a server setting"),
    Case("set-printoptions", "torch.set_printoptions(threshold=10**9)", 400, F,
         "set_printoptions changes state shared"),
    Case("set-num-threads", "torch.set_num_threads(64)", 400, F,
         "set_num_threads changes state shared"),
    Case("torch-linalg-module", "torch.linalg", 400, F, "torch.linalg is not available"),
    Case("tensor-apply", "t = torch.ones(3)\nt.apply_(print)", 400, F,
         "calls a Python function from C on every element"),
    Case("tensor-map", "t = torch.ones(3)\nt.map_(t, print)", 400, F,
         "calls a Python function from C on every element"),
    Case("tensor-register-hook", "t = torch.ones(3, requires_grad=True)\nt.register_hook(print)",
         400, F, "registers a callback that torch runs later"),
    Case("grad-fn-register-hook", _GRAPH + "y.grad_fn.register_hook(print)", 400, F,
         "registers a callback that torch runs later"),
    Case("grad-fn-chain-hook", _GRAPH + "y.grad_fn.next_functions[0][0].register_prehook(print)",
         400, F, "'grad_fn.register_prehook' is not available"),
    Case("grad-fn-chain-metadata", _GRAPH + "y.grad_fn.next_functions[0][0].metadata", 400, F,
         "'grad_fn.metadata' is not available"),
    # The gradient trace's own hooks (app/inspect/gradtrace.py) are never reachable: not
    # after backward() (removed), nor while it runs (from a program's Function.backward).
    Case("grad-trace-hooks-after", _GRAPH + "y.backward(retain_graph=True)\n"
         "y.grad_fn._backward_hooks", 400, F, "attributes starting with '_' are not allowed"),
    Case("grad-trace-hooks-getattr", _GRAPH + "y.backward(retain_graph=True)\n"
         "getattr(y.grad_fn, '_backward_hooks')", 400, F, "getattr() with the name"),
    Case("grad-trace-hooks-during", """class Spy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2
    @staticmethod
    def backward(ctx, g):
        return g + len(ctx._backward_hooks)
x = torch.ones(2, requires_grad=True)
Spy.apply(x).sum().backward()""", 400, F, "attributes starting with '_' are not allowed"),
    Case("module-forward-hook", "nn.Linear(1, 1).register_forward_hook(print)", 400, F,
         "registers a callback that torch runs later"),
    Case("untyped-storage", "torch.ones(3).untyped_storage()", 400, F, "exposes raw memory"),
    Case("storage", "torch.ones(3).storage()", 400, F, "exposes raw memory"),
    Case("data-ptr", "torch.ones(3).data_ptr()", 400, F, "exposes a raw memory address"),
    Case("share-memory", "torch.ones(3).share_memory_()", 400, F,
         "shares memory with other processes"),
    Case("resize-under-view", "x = torch.ones(10)\ny = x[5:]\nx.resize_(1)\ny + 1", 400, F,
         "resizing storage under a live view can crash the process"),
    Case("resize-as", "x = torch.ones(10)\ny = x[5:]\nx.resize_as_(torch.ones(1))", 400, F,
         "resizing storage under a live view"),
    Case("set-storage", "x = torch.ones(10)\ny = x[5:]\nx.set_(torch.ones(1))", 400, F,
         "can point a tensor at arbitrary storage"),
    Case("out-keyword-resize", "x = torch.ones(10)\ny = x[5:]\ntorch.add(x, x, out=y)", 400, F,
         "the keyword 'out=' of torch.add"),
    Case("numpy-ma-builtins", "np.ma.core.builtins.open('{canary}')", 400, F,
         "numpy.ma is not available"),
    Case("numpy-load", "np.load('{canary}')", 400, F, "numpy.load is not available"),
    Case("numpy-fromfile", "np.fromfile('{canary}')", 400, F, "numpy.fromfile is not available"),
    Case("numpy-save", "np.save('{dir}/x.npy', np.ones(1))", 400, F,
         "numpy.save is not available"),
    Case("numpy-object-array", "a = np.array([print, len], dtype='O')\na[0]('x')", 400, F,
         "numpy arrays of text, records or objects"),
    Case("numpy-ndarray-class", "np.ndarray((10**6,))", 400, F,
         "calling the class ndarray is not available"),
    Case("functional-module-torch", "F.torch.os", 400, F,
         "torch.nn.functional.torch is not available"),
    Case("functional-module-math", "F.math", 400, F, "torch.nn.functional.math is not available"),
    Case("nn-modules-module", "nn.modules.module", 400, F, "torch.nn.modules is not available"),
    Case("nn-functional-alias", "from torch.nn import functional\nfunctional.torch", 400, F,
         "torch.nn.functional.torch is not available"),
    Case("dataloader-workers-after", "loader = DataLoader(TensorDataset(torch.ones(4)))\n"
         "loader.num_workers = 4", 400, F, "setting '.num_workers' on a DataLoader"),
    Case("dataloader-worker-init-fn", "DataLoader(TensorDataset(torch.ones(4)), "
         "worker_init_fn=print)", 400, F, "the keyword 'worker_init_fn='"),
    Case("dataloader-mp-context", "DataLoader(TensorDataset(torch.ones(4)), "
         "multiprocessing_context='fork')", 400, F, "the keyword 'multiprocessing_context='"),
    Case("dataloader-collate-class", "for b in DataLoader([3, 4], collate_fn=np.ndarray):\n"
         "    pass", 400, F,
         "calling the class ndarray is not available"),
    # optimizer.state is a plain copy: the defaultdict's internals do not exist there.
    Case("optimizer-state-internals", _OPT + "o.state.default_factory", 200, "AttributeError",
         "'dict' object has no attribute 'default_factory'"),
    Case("module-extra-repr", "class M(nn.Module):\n    def extra_repr(self):\n        return 'x'",
         400, F, "'extra_repr' would replace a method of Module"),
    Case("module-set-forward", "class M(nn.Module):\n    def __init__(self):\n"
         "        super().__init__()\n        self.forward = torch.ones\nM()", 400, F,
         "'.forward' belongs to Module"),
    Case("builtin-layer-holds-user-module",
         "class U(nn.Module):\n    def forward(self, x):\n        return x\n"
         "layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, activation=U())\n"
         "layer(torch.zeros(4, 1, 8))", 400, F,
         "TransformerEncoderLayer holds a module of your own class"),
    Case("torch-cov-unpredictable", "torch.cov(torch.ones(10**4, 1))", 400, F,
         "cov has no size prediction"),
    # --- user dunders run by torch -----------------------------------------------------------
    Case("len-huge", "class D(Dataset):\n    def __len__(self):\n        return 10**12\nlen(D())",
         200, L, "__len__ returned 1,000,000,000,000"),
    Case("len-huge-shuffle", "class D(Dataset):\n    def __len__(self):\n        return 10**9\n"
         "    def __getitem__(self, i):\n        return i\n"
         "for b in DataLoader(D(), shuffle=True):\n    break", 200, L, "__len__ returned"),
    Case("len-tensor", "class D(Dataset):\n    def __len__(self):\n"
         "        return torch.tensor(10**9)\nlen(D())", 200, L, "__len__ returned"),
    Case("len-string", "class D(Dataset):\n    def __len__(self):\n        return 'x'\nlen(D())",
         200, "TypeError", "cannot be interpreted as an integer"),
    Case("getitem-recursion", "class D(Dataset):\n    def __len__(self):\n        return 3\n"
         "    def __getitem__(self, i):\n        return self[i]\nD()[0]", 200, L,
         "calls nested more than"),
    Case("len-recursion", "class D(Dataset):\n    def __len__(self):\n        return len(self)\n"
         "len(D())", 200, L, "calls nested more than"),
    # --- callables handed to torch are called through the budget ---------------------------
    Case("collate-fn-torch-ones", _DATASET + "for b in DataLoader(D(), batch_size=2, "
         "collate_fn=torch.ones):\n    pass", 413, L, "torch.ones would allocate 3.4 GB"),
    Case("sorted-key-torch-ones", "sorted([10**9], key=torch.ones)", 413, L,
         "torch.ones would allocate"),
    Case("list-sort-key-torch-ones", "x = [10**9]\nx.sort(key=torch.ones)", 413, L,
         "torch.ones would allocate"),
    Case("collate-fn-layer", "layer = nn.Linear(1, 10**5)\n"
         "loader = DataLoader([torch.zeros(10**4, 1)], batch_size=None, collate_fn=layer)\n"
         "for b in loader:\n    pass", 413, L, "Linear(...) would allocate"),
    Case("sequential-with-user-module", "class U(nn.Module):\n    def forward(self, x):\n"
         "        return x\nseq = nn.Sequential(U(), nn.Linear(1, 10**5))\n"
         "seq(torch.zeros(10**4, 1))", 413, L, "Linear(...) would allocate"),
    # --- resource bombs ------------------------------------------------------------------------
    Case("int-power-tower", "10**10**8", 200, L, "max_int_bits"),
    Case("int-shift", "1 << 10**9", 200, L, "max_int_bits"),
    Case("pow-builtin", "pow(10, 10**8)", 200, L, "max_int_bits"),
    Case("string-repeat", "'a' * 10**10", 200, L, "max_sequence_items"),
    Case("list-repeat", "[0] * 10**9", 200, L, "max_sequence_items"),
    Case("list-of-range", "list(range(10**12))", 200, L, "a range of 1,000,000,000,000 items"),
    Case("max-of-range", "max(range(10**18))", 200, L, "a range of"),
    Case("sum-of-range-with-start", "sum(range(10**18), 0)", 200, L, "a range of"),
    Case("sum-concatenate-lists", "x = [[0] * 10**6] * 10**6\nsum(x, [])", 200, L,
         "max_steps"),
    Case("float-in-range", "0.5 in range(10**18)", 200, L, "max_sequence_items"),
    Case("extend-range", "x = [0]\nx.extend(range(10**12))", 200, L, "max_sequence_items"),
    Case("extend-doubling", "x = [0] * 10**6\nfor i in range(40):\n    x.extend(x)", 200, L,
         "max_sequence_items"),
    Case("slice-assign-range", "x = [0]\nx[0:0] = range(10**12)", 200, L, "max_sequence_items"),
    Case("starred-range-in-list", "[*range(10**12)]", 200, L, "max_sequence_items"),
    Case("starred-range-in-call", "print(*range(10**9))", 200, L, "max_sequence_items"),
    Case("unpack-range", "a, b = range(10**12)", 200, L, "max_sequence_items"),
    Case("range-to-tensor", "torch.tensor(range(10**9))", 413, L,
         "more than 1,000,000 Python values"),
    Case("range-to-size", "torch.Size(range(10**9))", 413, L, "more than 1,000,000 Python"),
    Case("range-as-index", "torch.ones(3)[range(10**9)]", 413, L, "more than 1,000,000 Python"),
    Case("int-shift-loop", "x = 1 << 4000\nfor i in range(30):\n    x = x << 4000", 200, L,
         "max_int_bits"),
    Case("int-add-doubling", "x = 1 << 4000\nfor i in range(300):\n    x = x + x", 200, L,
         "the sum has more than 4,096 bits"),
    Case("int-sum-doubling", "x = [1 << 4000] * 1000\nfor i in range(10):\n"
         "    x = [sum(x)] * 1000", 200, L, "the sum has more than 4,096 bits"),
    Case("key-error-huge-key", "s = 'a' * 10**6\nd = {}\nd[(s,) * 10**6]", 200, "KeyError",
         "key ('aaaa"),
    Case("legacy-constructor-numpy-size", "torch.Tensor(np.array(10**10))", 413, L,
         "torch.Tensor would allocate 37.3 GB"),
    Case("zeros-huge", "torch.zeros(10**6, 10**6)", 413, L, "torch.zeros would allocate 3.6 TB"),
    Case("expand-then-add", "torch.zeros(1).expand(10**6, 10**6) + 1", 413, L,
         "the operator for add would allocate 3.6 TB"),
    Case("repeat", "torch.ones(10**4).repeat(10**5)", 413, L, "Tensor.repeat would allocate"),
    Case("kron", "torch.kron(torch.ones(10**3, 10**3), torch.ones(10**3, 10**3))", 413, L,
         "torch.kron would allocate"),
    Case("cartesian-prod", "a = torch.ones(10**3)\ntorch.cartesian_prod(a, a, a)", 413, L,
         "torch.cartesian_prod would allocate"),
    Case("pad", "F.pad(torch.ones(1, 1), (0, 10**6, 0, 10**6))", 413, L,
         "torch.nn.functional.pad would allocate"),
    Case("interpolate", "F.interpolate(torch.ones(1, 1, 10, 10), scale_factor=10**4)", 413, L,
         "torch.nn.functional.interpolate would allocate"),
    Case("one-hot", "F.one_hot(torch.tensor([1]), num_classes=10**9)", 413, L,
         "one_hot would allocate"),
    Case("embedding-table", "nn.Embedding(10**9, 1000)", 413, L,
         "torch.nn.Embedding would allocate"),
    Case("linear-huge", "nn.Linear(10**6, 10**6)", 413, L, "torch.nn.Linear would allocate"),
    Case("matmul-flops", "a = torch.ones(3000, 3000)\na @ a", 413, L,
         "floating point operations"),
    Case("einsum-flops", "a = torch.ones(2000, 2000)\ntorch.einsum('ij,jk,kl->il', a, a, a)",
         413, L, "floating point operations"),
    Case("broadcast-compare", "torch.ones(10**6, 1) == torch.ones(1, 10**6)", 413, L,
         "the comparison would allocate"),
    Case("nested-list-to-tensor", "torch.tensor([[0] * 10**6] * 10**6)", 413, L,
         "more than 1,000,000 Python values"),
    Case("nested-list-to-array", "np.array([[0] * 10**4] * 10**4)", 413, L,
         "more than 1,000,000 Python values"),
    Case("nested-list-into-tensor", "x = torch.zeros(1000, 1000)\nx[:, :] = [[1] * 2000] * 1000",
         413, L, "more than 1,000,000 Python values"),
    Case("numpy-permutation", "np.random.permutation(10**9)", 413, L,
         "numpy.random.permutation would allocate"),
    Case("numpy-choice", "np.random.choice(10**10, 3, replace=False)", 413, L,
         "numpy.random.choice would allocate"),
    Case("numpy-broadcast", "np.ones((10**5, 1)) < np.ones((1, 10**5))", 413, L,
         "the operator for comparison would allocate"),
    Case("numpy-fancy-index", "np.ones((1, 10**4))[np.zeros(10**6, dtype=np.int64)]", 413, L,
         "ndarray indexing would allocate"),
    Case("numpy-total-memory", "xs = [np.zeros(3 * 10**7) for i in range(100)]", 413, L,
         "max_total_bytes"),
    Case("numpy-object-via-astype", "np.ones(3).astype('O')", 400, F,
         "numpy arrays of text, records or objects"),
    Case("numpy-object-via-full", "np.full(3, print)", 400, F, "numpy array of Python objects"),
    Case("tensor-total-memory", "xs = [torch.zeros(2**25) for i in range(12)]", 413, L,
         "max_total_bytes"),
    Case("scheduler-state-dict-internals", _OPT + "def f(epoch):\n    return 1.0\n"
         "s = optim.lr_scheduler.LambdaLR(o, lr_lambda=f)\n"
         "inner = s.state_dict()['lr_lambdas'][0]['interp']\ninner.budget", 400, F,
         "a NoneType cannot be indexed"),
    Case("numpy-text-from-data", "s = 'a' * 10**6\nnp.array([s] * 1000)", 400, F,
         "numpy arrays of text, records or objects are not available"),
    Case("numpy-text-dtype", "np.zeros(10**4, dtype='U100000')", 400, F,
         "numpy arrays of text, records or objects"),
    Case("numpy-text-astype", "np.ones(10**4).astype('U100000')", 400, F,
         "numpy arrays of text, records or objects"),
    Case("numpy-text-fill", "np.full(1000, 'a' * 10**6)", 400, F,
         "numpy arrays of text, records or objects"),
    Case("numpy-record-dtype", "np.zeros(10**4, dtype=[('a', 'U100000')])", 400, F,
         "numpy arrays of text, records or objects"),
    Case("numpy-dot-flops", "a = np.ones((3000, 3000))\nnp.dot(a, a)", 413, L,
         "floating point operations"),
    Case("deep-recursion", "def f(n):\n    return f(n + 1)\nf(0)", 200, L,
         "calls nested more than 40 deep"),
    Case("total-steps", "i = 0\nfor j in range(10**6):\n    i += 1", 200, L, "max_steps"),
    # --- the parser's own limits ----------------------------------------------------------
    Case("nested-brackets", "(" * 9000 + "1" + ")" * 9000, 400, S, "too many nested parentheses"),
    Case("nested-lists", "[" * 9000 + "]" * 9000, 400, S, "too many nested parentheses"),
    Case("deep-unary", "-" * 15000 + "1", 413, L, "nested too deeply for the parser"),
    Case("long-sum-chain", "+".join(["1"] * 9000), 413, L, "nested too deeply"),
    Case("nested-lambdas", "lambda: " * 2000 + "1", 413, L, "nested more than 60 levels deep"),
    Case("huge-source", "x = 1\n" * 4000, 413, L, "the limit is 20,000"),
    Case("many-nodes", "x = [" + "1," * 6000 + "]", 413, L, "max_ast_nodes"),
    Case("nul-byte", "x = 1\x00", 400, S, "null bytes"),
    Case("huge-int-literal", "1" * 19000, 400, S, "4300 digits"),
    Case("deep-indentation", "".join(" " * i + "if x:\n" for i in range(101)) + " " * 101 + "x",
         400, S, "too many levels of indentation"),
    # --- matplotlib.pyplot (app/engine/plots.py) -------------------------------------------
    Case("plt-rcparams-write", _PLT + "plt.rcParams['text.usetex'] = True", 400, F,
         "rcParams is not available"),
    Case("plt-rc", _PLT + "plt.rc('text', usetex=True)", 400, F,
         "matplotlib.pyplot.rc is not available"),
    Case("plt-switch-backend", _PLT + "plt.switch_backend('TkAgg')", 400, F,
         "switch_backend is not available"),
    Case("plt-get-backend", _PLT + "plt.get_backend()", 400, F, "get_backend is not available"),
    # matplotlib.use('Agg') is accepted and does nothing (figures are always SVG); any other
    # backend is refused, and nothing but pyplot (and use) is reachable from matplotlib.
    Case("matplotlib-use", "import matplotlib.pyplot\nmatplotlib.use('TkAgg')", 200,
         "ValueError", "takes a backend name such as 'Agg'"),
    Case("import-matplotlib", "import matplotlib\nmatplotlib.backends", 400, F,
         "matplotlib.backends is not available"),
    Case("import-matplotlib-other", "import matplotlib.backends.backend_agg", 400, F,
         "cannot be imported"),
    Case("from-matplotlib-pyplot-private", "from matplotlib.pyplot import matplotlib", 400, F,
         "not available from matplotlib.pyplot"),
    Case("plt-figure-dunder", _PLT + "plt.figure().__dict__", 400, F,
         "attributes starting with '_'"),
    Case("plt-axes-mpl-object", _PLT + "fig, ax = plt.subplots()\nax.figure.savefig('{dir}/x')",
         400, F, "Axes.figure is not available"),
    Case("plt-axes-array-inside", _PLT + "fig, axes = plt.subplots(2, 2)\naxes.array", 400, F,
         "axes array.array is not available"),
    Case("plt-axes-array-index", _PLT + "fig, axes = plt.subplots(2, 2)\n"
         "axes[torch.tensor([0, 1])]", 200, "IndexError", "item numbers and slices"),
    Case("plt-figure-canvas", _PLT + "plt.gcf().canvas", 400, F,
         "canvas is not available"),
    Case("plt-huge-figsize", _PLT + "plt.figure(figsize=(10**6, 10**6))", 413, L,
         "max_figure_inches"),
    Case("plt-huge-dpi", _PLT + "plt.figure(dpi=10**6)", 200, L, "max_figure_dpi"),
    Case("plt-million-points", _PLT + "plt.plot(torch.arange(10**6))", 413, L,
         "max_figure_points"),
    Case("plt-million-points-list", _PLT + "plt.scatter([0.0] * 10**6, [0.0] * 10**6)",
         413, L, "more than 100,000 Python values"),
    Case("plt-nested-list-points", _PLT + "plt.imshow([[0.0] * 1000] * 1000)", 413, L,
         "more than 100,000 Python values"),
    Case("plt-ten-thousand-figures", _PLT + "for i in range(10000):\n    plt.figure()", 200,
         L, "max_figures"),
    Case("plt-figures-closed-still-count", _PLT + "for i in range(10000):\n    plt.figure()\n"
         "    plt.close()", 200, L, "max_figures"),
    Case("plt-huge-grid", _PLT + "plt.subplots(1000, 1000)", 200, L, "max_figure_axes"),
    Case("plt-subplot-many", _PLT + "for i in range(1, 101):\n    plt.subplot(10, 10, i)",
         200, L, "max_figure_axes"),
    Case("plt-colorbars-are-axes", _PLT + "plt.imshow(torch.rand(2, 2))\n"
         "for i in range(100):\n    plt.colorbar()", 200, L, "max_figure_axes"),
    Case("plt-axis-mode", _PLT + "plt.axis('$\\\\frac{1}{2}$')", 200, "ValueError",
         "takes one of"),
    Case("plt-imshow-huge", _PLT + "plt.imshow(torch.zeros(4000, 4000))", 413, L,
         "max_figure_points"),
    Case("plt-hist-bins", _PLT + "plt.hist([1.0, 2.0], bins=10**9)", 413, L, "bins"),
    Case("plt-hist-bins-as-bars", _PLT + "plt.hist([1.0, 2.0], bins=5000)", 413, L,
         "max_figure_bars"),
    Case("plt-fifty-thousand-bars", _PLT + "plt.bar(torch.arange(50000), torch.ones(50000))",
         413, L, "max_figure_bars"),
    Case("plt-bars-add-up", _PLT + "for i in range(6):\n    plt.bar(torch.arange(100), "
         "torch.ones(100))", 413, L, "max_figure_bars"),
    Case("plt-columns-are-lines", _PLT + "plt.plot(torch.zeros(2, 50000))", 413, L,
         "max_figure_artists"),
    Case("plt-many-scatter-calls", _PLT + "for i in range(5000):\n    plt.scatter([i], [i])",
         413, L, "max_figure_artists"),
    Case("plt-scatter-markers", _PLT + "plt.scatter(torch.rand(50000), torch.rand(50000))",
         413, L, "max_figure_markers"),
    Case("plt-line-markers", _PLT + "plt.plot(torch.rand(50000), 'o-')", 413, L,
         "max_figure_markers"),
    Case("plt-mathtext-bomb", _PLT + "plt.title('$' + '\\\\frac{' * 1000 + '$')", 413, L,
         "max_plot_text_chars"),
    Case("plt-text-adds-up", _PLT + "plt.bar([str(i) + 'x' * 150 for i in range(100)], "
         "[1] * 100)", 413, L, "max_figure_text_chars"),
    Case("plt-titles-add-up", _PLT + "for i in range(100):\n    plt.title('t' * 100)", 413,
         L, "max_figure_text_chars"),
    Case("plt-label-huge", _PLT + "plt.plot([1], label='x' * 10**6)", 413, L,
         "max_plot_text_chars"),
    Case("plt-marker-mathtext", _PLT + "plt.plot([1], marker='$\\\\frac{1}{2}$')", 200,
         "ValueError", "marker="),
    Case("plt-user-array-dunder", _PLT + "class A:\n    def __array__(self):\n        "
         "return 1\nplt.plot(A())", 400, F, "'__array__' is not allowed"),
    Case("plt-user-object", _PLT + "class A:\n    pass\nplt.plot(A())", 200, "TypeError",
         "not A"),
    Case("plt-callable-color", _PLT + "plt.plot([1], color=torch.ones)", 200, "TypeError",
         "a colour is a name"),
    Case("plt-unknown-keyword", _PLT + "plt.plot([1], transform=None)", 400, F,
         "'transform=' is not available"),
    Case("plt-object-array", _PLT + "plt.plot(np.array([torch.ones(1)], dtype=object))", 400,
         F, "'object' is not available"),
    # --- unicode look-alikes ---------------------------------------------------------------------
    Case("fullwidth-eval", "\uff45val('1')", 400, F, "'eval' is not available"),
    Case("fullwidth-torch-os", "\uff54\uff4f\uff52\uff43\uff48.\uff4f\uff53", 400, F,
         "os is the operating system interface"),
    Case("cyrillic-name", "\u0440rint(1)", 400, F, "uses non-ASCII characters"),
    Case("cyrillic-attribute", "torch.\u043es", 400, F, "uses non-ASCII characters"),
    Case("cyrillic-keyword", "print(1, \u0435nd='')", 400, F, "uses non-ASCII characters"),
    Case("bidi-in-comment", "x = 1  # \u202e ) (cexe\nx", 400, F,
         "bidirectional control character U+202E"),
    Case("bidi-in-string", "s = 'admin\u2066 \u2069'", 400, F,
         "bidirectional control character U+2066"),
    Case("zero-width-in-name", "pri\u200bnt(1)", 400, S, "invalid non-printable character"),
    # --- native kernels that trust memory layout (optimizers) ---------------------------------
    Case("fused-sgd-stride0-param", "p = nn.Parameter(torch.zeros(1).expand(1000))\n"
         "optim.SGD([p], lr=0.1, fused=True)", 400, F, "must be a dense tensor"),
    Case("fused-keyword", "p = nn.Parameter(torch.zeros(10))\noptim.Adam([p], fused=True)",
         400, F, "'fused=' of torch.optim.Adam is not available"),
    Case("foreach-keyword", "p = nn.Parameter(torch.zeros(10))\noptim.AdamW([p], foreach=True)",
         400, F, "'foreach=' of torch.optim.AdamW is not available"),
    Case("foreach-clip", _OPT + "nn.utils.clip_grad_norm_(m.parameters(), 1.0, foreach=True)",
         400, F, "'foreach=' of torch.nn.utils.clip_grad_norm_ is not available"),
    # nn.utils.rnn offers pad_sequence only (lesson 12): its output is sized by the meta dry
    # run, its siblings and its module's internals stay closed.
    Case("pad-sequence-huge", "nn.utils.rnn.pad_sequence([torch.ones(2)] + "
         "[torch.ones(1)] * 10 + [torch.zeros(4 * 10**7)] * 2)", 413, L, "would allocate"),
    Case("pad-sequence-sibling", "nn.utils.rnn.pack_sequence([torch.ones(3)])", 400, F,
         "torch.nn.utils.rnn.pack_sequence is not available"),
    Case("pad-sequence-module-internals", "nn.utils.rnn.torch", 400, F,
         "torch.nn.utils.rnn.torch is not available"),
    Case("pad-sequence-import", "from torch.nn.utils.rnn import pack_sequence", 400, F,
         "'pack_sequence' is not available from torch.nn.utils.rnn"),
    Case("pad-sequence-globals", "nn.utils.rnn.pad_sequence.__globals__", 400, F,
         "attributes starting with '_' are not allowed"),
    Case("pad-sequence-0d", "nn.utils.rnn.pad_sequence([torch.tensor(1.)])", 200,
         "RuntimeError", "invalid slice"),
    Case("pad-sequence-empty", "nn.utils.rnn.pad_sequence([])", 200, "RuntimeError",
         "empty list of sequences"),
    Case("fused-through-param-groups", "p = nn.Parameter(torch.zeros(10))\n"
         "o = optim.Adam([p])\no.param_groups[0]['fused'] = True\np.sum().backward()\n"
         "o.step()", 400, F, "param_groups[0]['fused'] = True is not available"),
    Case("stride0-grad-setter", "w = nn.Parameter(torch.zeros(1000))\n"
         "w.grad = torch.zeros(1).expand(1000)", 400, F, "must be a dense tensor"),
    Case("grad-setter-wrong-dtype", "w = nn.Parameter(torch.zeros(10))\n"
         "w.grad = torch.zeros(10, dtype=torch.float64)", 400, F, "a gradient must match"),
    Case("grad-reshaped-in-place", "w = nn.Parameter(torch.zeros(4))\no = optim.SGD([w], lr=1)\n"
         "w.sum().backward()\nwith torch.no_grad():\n    w.grad.unsqueeze_(0)\no.step()",
         400, F, "no longer matches"),
    Case("stride0-plain-tensor-param", "t = torch.zeros(1).expand(100)\n"
         "t.requires_grad_()\no = optim.Adagrad([t])\nt.sum().backward()\no.step()",
         400, F, "must be a dense tensor"),
    Case("stride0-param-group", "p = nn.Parameter(torch.zeros(4))\no = optim.SGD([p], lr=1)\n"
         "o.add_param_group({'params': [torch.zeros(1).expand(1000).requires_grad_()]})\n"
         "o.step()", 400, F, "must be a dense tensor"),
    Case("optimizer-state-replaced-in-place", "w = nn.Parameter(torch.zeros(6))\n"
         "o = optim.Adam([w])\nw.sum().backward()\no.step()\n"
         "with torch.no_grad():\n    o.state_dict()['state'][0]['exp_avg'].unsqueeze_(0)\n"
         "o.step()", 400, F, "state 'exp_avg' has shape [1, 6]"),
    Case("vector-to-parameters-stride0", _OPT + "v = torch.zeros(1).expand(6)\n"
         "nn.utils.vector_to_parameters(v, m.parameters())", 400, F, "must be a dense tensor"),
    Case("scaler-unscale-stride0", "p = torch.zeros(1).expand(64)\np.requires_grad_()\n"
         "o = optim.SGD([p], lr=1)\ns = torch.amp.GradScaler('cpu')\n"
         "s.scale(p.sum()).backward()\ns.unscale_(o)", 400, F, "must be a dense tensor"),
    Case("inplace-on-expanded", "x = torch.zeros(1).expand(8)\nx.fill_(1)", 400, F,
         "share memory"),
    Case("augmented-on-expanded", "x = torch.zeros(1).expand(8)\nx += 1", 400, F,
         "share memory"),
    Case("init-on-unfolded", "x = torch.zeros(10).unfold(0, 3, 1)\nnn.init.normal_(x)", 400, F,
         "share memory"),
    Case("load-state-dict-assign", "m = nn.Linear(2, 2)\n"
         "m.load_state_dict({'weight': torch.zeros(1).expand(2, 2), 'bias': torch.zeros(2)}, "
         "assign=True)", 400, F, "assign=True"),
    Case("load-state-dict-assign-positional", "m = nn.Linear(2, 2)\n"
         "m.load_state_dict(m.state_dict(), True, True)", 400, F, "assign=True"),
    # --- tensors on devices without data -----------------------------------------------------
    Case("meta-factory", "torch.eye(128) @ torch.zeros(128, 128, device='meta')", 400, F,
         "the device 'meta' is not available"),
    Case("meta-to", "torch.ones(3).to('meta')", 400, F, "the device 'meta' is not available"),
    Case("meta-device-object", "d = torch.device('meta')", 400, F,
         "the device 'meta' is not available"),
    Case("meta-layer-keyword", "nn.Linear(128, 128, device='meta')", 400, F,
         "the device 'meta' is not available"),
    Case("meta-layer-positional", "nn.Linear(128, 128, True, 'meta')", 400, F,
         "the device 'meta' is not available"),
    Case("meta-module-to", "nn.Linear(2, 2).to('meta')", 400, F,
         "the device 'meta' is not available"),
    Case("meta-like", "torch.zeros_like(torch.ones(3), device='meta')", 400, F,
         "the device 'meta' is not available"),
    Case("meta-grad-scaler", "torch.amp.GradScaler('meta')", 400, F,
         "the device 'meta' is not available"),
    Case("meta-autocast", "with torch.autocast('meta'):\n    x = 1", 400, F,
         "the device 'meta' is not available"),
    Case("meta-generator-keyword", "torch.Generator(device='meta')", 400, F,
         "the device 'meta' is not available"),
    Case("meta-new-zeros", "torch.ones(2).new_zeros(3, device='meta')", 400, F,
         "the device 'meta' is not available"),
    Case("meta-indexed-device", "torch.ones(2).to('meta:0')", 400, F,
         "the device 'meta' is not available"),
    Case("parameter-list-expanded", "pl = nn.ParameterList([torch.zeros(1).expand(10)])\n"
         "o = optim.SGD(pl.parameters(), lr=0.1)\npl[0].sum().backward()\no.step()", 400, F,
         "must be a dense tensor"),
    Case("param-group-appended", "o = optim.SGD([nn.Parameter(torch.ones(2))], lr=1.0)\n"
         "g = dict(o.param_groups[0])\ng['params'] = [torch.zeros(1).expand(5).requires_grad_()]\n"
         "o.param_groups.append(g)\no.step()", 400, F, "must be a dense tensor"),
    Case("notice-repr-bounded", "DataLoader(TensorDataset(torch.zeros(4)), "
         "num_workers=nn.Linear(2, 2).parameters())\n1 / 0", 200, "ZeroDivisionError",
         "division by zero"),
    Case("sparse-type-string", "torch.ones(3).type('torch.sparse.FloatTensor')", 400, F,
         "is not available"),
    Case("other-device-string", "torch.zeros(3, device='xpu')", 400, F,
         "the device 'xpu' is not available"),
    # --- memory that no vetted call counted ----------------------------------------------------
    Case("layers-kept-alive", "layers = [nn.Linear(4096, 4096) for i in range(20)]", 413, L,
         "max_total_bytes"),
    Case("layer-cast-grows", "m = nn.Linear(8000, 8000).half()\nm.double()", 413, L,
         "Linear.double would allocate 488.3 MB"),
    Case("layer-positional-device", "nn.Linear(10000, 10000, True, 'cpu')", 413, L,
         "max_call_bytes"),
    Case("collate-huge-batch", "x = torch.zeros(1, 2**20).expand(1024, 2**20)\n"
         "for b in DataLoader(TensorDataset(x), batch_size=1024):\n    pass", 413, L,
         "the DataLoader's batch"),
    Case("expanded-dataset-shuffle", "x = torch.zeros(1).expand(10**9)\n"
         "DataLoader(TensorDataset(x), shuffle=True)", 413, L, "reports 1,000,000,000 items"),
    Case("dataloader-positional-workers", "DataLoader(TensorDataset(torch.zeros(4)), 2, False, "
         "None, None, 4, None, False)\n1 / 0", 200, "ZeroDivisionError", "division by zero"),
    Case("random-sampler-expanded", "x = torch.zeros(1).expand(10**9)\n"
         "torch.utils.data.RandomSampler(TensorDataset(x))", 413, L, "reports"),
    Case("tolist-huge", "torch.zeros(2**24).tolist()", 413, L, "tolist() of 16,777,216"),
    Case("unbind-millions", "torch.zeros(3000000, 1).unbind()", 413, L, "3,000,000 separate"),
    Case("split-ones", "torch.zeros(3000000).split(1)", 413, L, "max_objects_per_call"),
    # 128 MB of weights and 768 MB of other tensors: the gradient would pass 1 GB in all.
    Case("backward-huge-leaf", "w = torch.zeros(2**25, requires_grad=True)\nk = w.sum()\n"
         "a = [torch.zeros(2**25) for i in range(6)]\nk.backward()", 413, L, "backward()"),
    Case("autograd-grad-huge", "w = torch.zeros(2**25, requires_grad=True)\nk = w.sum()\n"
         "a = [torch.zeros(2**25) for i in range(6)]\ntorch.autograd.grad(k, [w])", 413, L,
         "torch.autograd.grad"),
    Case("adam-state", "w = nn.Parameter(torch.zeros(2**25))\n"
         "a = [torch.zeros(2**25) for i in range(5)]\no = optim.Adam([w])\n"
         "w.sum().backward()\no.step()", 413, L, "Adam.step (its state) would allocate 256.0 MB"),
    Case("adagrad-state-at-construction", "w = nn.Parameter(torch.zeros(2**25))\n"
         "a = [torch.zeros(2**25) for i in range(7)]\noptim.Adagrad([w])", 413, L,
         "Adagrad (its state)"),
    Case("lbfgs-history", "w = nn.Parameter(torch.zeros(2**22))\no = optim.LBFGS([w])\n"
         "def c():\n    o.zero_grad()\n    l = (w * w).sum()\n    l.backward()\n"
         "    return l\no.step(c)", 413, L, "LBFGS.step (its state)"),
    Case("dataset-gather-index", "ds = TensorDataset(torch.zeros(1, 1000))\n"
         "ds[torch.zeros(10**7, dtype=torch.long)]", 400, F,
         "indexed by an item number or a slice"),
    Case("batch-sampler-tensor-index", "ds = TensorDataset(torch.zeros(1, 1000))\n"
         "for b in DataLoader(ds, batch_sampler=[[torch.zeros(10**7, dtype=torch.long)]]):\n"
         "    pass", 400, F, "takes item numbers"),
    Case("sampler-tensor-index", "ds = TensorDataset(torch.zeros(1, 1000))\n"
         "for b in DataLoader(ds, sampler=[torch.zeros(10**7, dtype=torch.long)], "
         "batch_size=None):\n    pass", 400, F, "takes item numbers"),
    Case("subset-2d-indices", "ds = TensorDataset(torch.zeros(1, 1000))\n"
         "torch.utils.data.Subset(ds, torch.zeros(10, 10**6, dtype=torch.long))", 400, F,
         "takes item numbers"),
    Case("batch-sampler-huge", "s = torch.utils.data.SequentialSampler(range(10))\n"
         "torch.utils.data.BatchSampler(s, 10**7, False)", 413, L, "batch_size=10,000,000"),
    Case("dataloader-huge-batch-list", "ds = TensorDataset(torch.zeros(4))\n"
         "DataLoader(ds, batch_sampler=[[0] * 200000])", 413, L, "max_objects_per_call"),
    Case("comprehension-steps", "len([0 for i in range(1000) for j in range(1000) if i < 0])",
         200, L, "max_steps"),
    # --- what torch hands back ---------------------------------------------------------------
    Case("cyclic-scheduler-state", _OPT + "s = optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, "
         "scale_fn=lambda x: 1.0)\ns.state_dict()['_scale_fn_custom']['interp']", 400, F,
         "a NoneType cannot be indexed"),
    Case("key-error-deep-tuple", "k = ()\nfor i in range(3000):\n    k = (k,)\n{}[k]", 200,
         "KeyError", "not found"),
    # --- the prediction cache (predictions.py): a call seen before is predicted from its
    # cached entry, which must never admit what a fresh prediction refuses ------------------
    Case("cache-growing-factory", "for n in [10, 10, 10**9]:\n    y = torch.zeros(n)", 413, L,
         "torch.zeros would allocate 3.7 GB"),
    Case("cache-growing-repeat", "x = torch.ones(10)\nfor n in [1, 1, 10**5]:\n"
         "    y = x.repeat(n, 1000)", 413, L, "Tensor.repeat would allocate 3.7 GB"),
    Case("cache-strides-differ", "a = torch.ones(1).expand(10**8)\nb = torch.ones(10)\n"
         "for x in [b, b, a]:\n    y = x * 2", 413, L, "would allocate 381.5 MB"),
    Case("cache-default-dtype", "for d in [torch.float16, torch.float64]:\n"
         "    torch.set_default_dtype(d)\n    y = torch.ones(40 * 2**20)", 413, L,
         "would allocate 320.0 MB"),
    # --- library gaps, round 2 (pprint, timeit, typing, numpy.finfo, import forms, plots)
    Case('plt-hist-positional-bins',
         'import matplotlib.pyplot as plt\n'
         'plt.hist([1.0], 10**7)',
         413, L, '10,000,000 bins; at most'),
    Case('plt-grid-object',
         'import matplotlib.pyplot as plt\n'
         'plt.grid(print)',
         200, 'TypeError', 'takes True or False'),
    Case('timeit-timeit-code-string',
         'import timeit\n'
         "timeit.timeit('import os')",
         400, F, 'timeit.timeit is not available in the'),
    Case('timeit-repeat',
         'from timeit import repeat',
         400, F, "'repeat' is not available from timeit"),
    Case('timeit-timer-class',
         'import timeit\n'
         'timeit.Timer',
         400, F, 'timeit.Timer is not available in the'),
    Case('typing-get-type-hints',
         'import typing\n'
         'typing.get_type_hints',
         400, F, 'typing.get_type_hints is not available'),
    Case('typing-cast',
         'from typing import cast',
         400, F, "'cast' is not available from typing in"),
    Case('typing-dunder-origin',
         'from typing import List\n'
         'List.__origin__',
         400, F, "attributes starting with '_' are not"),
    Case('typing-attribute',
         'from typing import List\n'
         'List.text',
         400, F, 'attributes of an AnnotationName are not'),
    Case('typing-subscript-object',
         'from typing import List\n'
         'List[print]',
         200, 'TypeError', 'a typing annotation takes types, such'),
    Case('typing-subscript-lambda',
         'from typing import List\n'
         'List[lambda: 1]',
         200, 'TypeError', 'a typing annotation takes types, such'),
    Case('pprint-program-object',
         'from pprint import pprint\n'
         'class A:\n'
         '    pass\n'
         'pprint([A()])',
         200, 'TypeError', 'pprint lays out lists, tuples, dicts,'),
    Case('pprint-self-holding',
         'import pprint\n'
         'x = [1]\n'
         'x.append(x)\n'
         'pprint.pprint(x)',
         200, 'ValueError', 'pprint: this container holds itself;'),
    Case('pprint-stream',
         'import pprint\n'
         'pprint.pprint(1, stream=None)\n'
         'pprint.pprint(1, stream=1)',
         400, F, 'pprint(stream=...) is not available:'),
    Case('pprint-huge-width',
         'import pprint\n'
         'pprint.pprint([1], width=10**9)',
         200, 'ValueError', 'max_pprint_width'),
    Case('pprint-many-items',
         'import pprint\n'
         'pprint.pformat([[0] * 10**5] * 10**5)',
         413, L, 'max_pprint_items'),
    Case('pprint-deep',
         'import pprint\n'
         'x = []\n'
         'for i in range(1000):\n'
         '    x = [x]\n'
         'pprint.pformat(x)',
         200, L, 'pprint: containers nested more than 50'),
    Case('pprint-printer-class',
         'import pprint\n'
         'pprint.PrettyPrinter',
         400, F, 'pprint.PrettyPrinter is not available'),
    Case('pprint-function',
         'import pprint\n'
         'pprint.pprint(print)',
         200, 'TypeError', 'pprint lays out lists, tuples, dicts,'),
    Case('finfo-program-object',
         'import numpy as np\n'
         'class A:\n'
         '    dtype = 1\n'
         'np.finfo(A())',
         400, F, 'numpy.finfo takes np.float16,'),
    Case('finfo-int-type',
         'import numpy as np\n'
         'np.finfo(np.int32)',
         400, F, 'numpy.finfo takes np.float16,'),
    Case('finfo-object-dtype',
         'import numpy as np\n'
         "np.finfo('object')",
         400, F, 'numpy.finfo takes np.float16,'),
    Case('finfo-private',
         'import numpy as np\n'
         'np.finfo(np.float32)._str_eps',
         400, F, "attributes starting with '_' are not"),
    Case('enum-import',
         'from enum import Enum',
         400, F, "'enum' cannot be imported here;"),
    Case('distributions-submodule-other',
         'from torch.distributions.multinomial import torch',
         400, F, "'torch' is not available from"),
    Case('distributions-transformed',
         'import torch.distributions.transformed_distribution',
         400, F, "'torch.distributions.transformed_distrib"),
    Case('nn-utils-rnn-private',
         'from torch.nn.utils.rnn import torch',
         400, F, "'torch' is not available from"),
    Case('matplotlib-rcparams',
         'import matplotlib\n'
         'matplotlib.rcParams',
         400, F, 'matplotlib.rcParams is not available in'),
    Case('matplotlib-use-module',
         'import matplotlib\n'
         "matplotlib.use('module://os')",
         200, 'ValueError', 'matplotlib.use takes a backend name'),
    Case('matplotlib-submodule',
         'import matplotlib.colors',
         400, F, "'matplotlib.colors' cannot be imported"),
    Case('matplotlib-as-mpl-figure',
         'import matplotlib as mpl\n'
         'mpl.figure',
         400, F, 'matplotlib.figure is not available in'),
    Case('plt-contour-huge-grid',
         _PLT + 'plt.contour(torch.rand(1000, 1000))',
         413, L, 'max_figure_points'),
    Case('plt-contour-many-levels',
         _PLT + 'plt.contour(torch.rand(10, 10), levels=10**6)',
         413, L, 'max_contour_levels'),
    Case('plt-contour-level-list',
         _PLT + 'plt.contour(torch.rand(10, 10), list(range(10**4)))',
         413, L, 'max_contour_levels'),
    Case('plt-contour-1d',
         _PLT + 'plt.contour(torch.rand(10))',
         200, 'TypeError', 'plt.contour: Z is a 2-D grid of at'),
    Case('plt-contour-mismatch',
         _PLT + 'plt.contour(torch.rand(3), torch.rand(4), torch.rand(10, 10))',
         200, 'TypeError', 'plt.contour: X has shape (3,); it must'),
    Case('plt-legend-prop-family',
         _PLT + "plt.plot([1], label='a')\n"
         "plt.legend(prop={'family': '/etc/passwd'})",
         400, F, 'plt.legend(prop=) takes a font size'),
    Case('plt-legend-prop-fname',
         _PLT + "plt.plot([1], label='a')\n"
         "plt.legend(prop={'size': 9, 'fname': '/x'})",
         400, F, 'plt.legend(prop=) takes a font size'),
    Case('plt-xticks-many',
         _PLT + 'plt.xticks(list(range(10**5)))',
         413, L, 'max_axis_ticks'),
    Case('plt-xticks-huge-labels',
         _PLT + "plt.xticks([1], ['x' * 10**6])",
         413, L, 'max_plot_text_chars'),
    Case('plt-text-huge',
         _PLT + "plt.text(0, 0, 'x' * 10**6)",
         413, L, 'max_plot_text_chars'),
    Case('plt-text-many',
         _PLT + 'for i in range(1000):\n'
         "    plt.text(0, 0, 'a')",
         413, L, 'max_figure_artists'),
    Case('plt-axhline-many',
         _PLT + 'for i in range(1000):\n'
         '    plt.axhline(i)',
         413, L, 'max_figure_artists'),
    Case('plt-hist-patch-inside',
         _PLT + 'n, b, p = plt.hist([1, 2])\n'
         'p[0].figure',
         400, F, 'Rectangle.figure is not available in'),
    Case('plt-text-object-inside',
         _PLT + "t = plt.text(0, 0, 'a')\n"
         't.set_text',
         400, F, 'Text.set_text is not available in the'),
    Case('plt-huge-figsize-still',
         _PLT + 'plt.figure(figsize=(33, 10))',
         413, L, 'max_figure_inches'),
    Case('plt-axis-list-objects',
         _PLT + 'plt.axis([0, 1, 0, print])',
         200, 'TypeError', 'plt.axis takes a number, not'),
    Case('numpy-scalar-method',
         'import numpy as np\n'
         'np.finfo(np.float32).eps.tofile',
         400, F, "'float32.tofile' is not available in"),
    Case('plt-contour-cells',
         _PLT + 'plt.contour(torch.rand(250, 250))',
         413, L, 'max_contour_cells'),
    # Beginner constructs of issue 9 (round 2): each opened only as far as it is safe ------
    # x.__class__ is type(x): the TypeRef stand-in, nothing reachable through it.
    Case("class-mro", "x = 1\nx.__class__.__mro__", 400, F, "attributes starting with '_'"),
    Case("class-subclasses", "torch.ones(1).__class__.__subclasses__()", 400, F,
         "attributes starting with '_'"),
    Case("class-call", "t = torch.ones(1)\nt.__class__(5)", 400, F,
         "type(x) stands for a class"),
    Case("class-members", "nn.Linear(1, 1).__class__.forward", 400, F, "attributes of"),
    # def __call__: a plain class only, a plain method, interpreted on the budget.
    Case("module-dunder-call", "class M(nn.Module):\n    def __call__(self, x):\n"
         "        return x", 400, F, "'__call__' can be defined in a plain class only"),
    Case("function-dunder-call", "class F(torch.autograd.Function):\n"
         "    def __call__(self, x):\n        return x", 400, F, "plain class only"),
    Case("call-property", "class A:\n    @property\n    def __call__(self):\n"
         "        return torch.ones\nA()(10**10)", 400, F, "must be a plain method"),
    Case("call-recursion", "class A:\n    def __call__(self):\n        return self()\n"
         "A()()", 200, L, "max_call_depth"),
    Case("call-steps", "class A:\n    def __call__(self, n):\n        return n\na = A()\n"
         "while True:\n    a(1)", 200, L, "max_steps"),
    # x.data = y: same shape, dtype and device, dense (the optimizer kernels trust them).
    Case("data-shape", "w = nn.Parameter(torch.ones(10**4))\n"
         "opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)\n(w * w).sum().backward()\n"
         "opt.step()\nw.data = torch.ones(1)", 400, F, "keeps x's shape [10000]"),
    Case("data-expanded", "p = nn.Parameter(torch.ones(4))\np.data = torch.ones(1).expand(4)",
         400, F, "must be a dense tensor"),
    Case("data-dtype", "p = torch.ones(4)\np.data = torch.ones(4, dtype=torch.float64)", 400,
         F, "dtype float32"),
    Case("data-inplace-overlap", "p = torch.ones(1).expand(4)\np.data += 1", 400, F,
         "share memory"),
    # torch.return_types: the named fields only.
    Case("return-types-internals", "torch.max(torch.ones(2, 2), 0).n_fields", 400, F,
         "not available"),
    # torch.random: seeding only, as torch.manual_seed.
    Case("torch-random-set-state", "torch.random.set_rng_state(torch.zeros(5, "
         "dtype=torch.uint8))", 400, F, "torch.random.set_rng_state is not available"),
    Case("torch-random-fork", "torch.random.fork_rng()", 400, F, "not available"),
    # Lazy layers: the first call is sized before it materialises; uninitialised parameters
    # stay inside their layer.
    Case("lazy-linear-huge", "l = nn.LazyLinear(10**5)\ny = l(torch.zeros(1, 5 * 10**4))",
         413, L, "would allocate 18.6 GB"),
    Case("lazy-conv-huge", "c = nn.LazyConv2d(10**4, 3)\ny = c(torch.zeros(1, 10**4, 4, 4))",
         413, L, "LazyConv2d(...) would allocate"),
    Case("lazy-sequential-huge", "net = nn.Sequential(nn.LazyLinear(10**5), nn.ReLU(), "
         "nn.LazyLinear(10**5))\nnet(torch.zeros(1, 10))", 413, L, "Sequential(...)"),
    Case("lazy-load-huge", "l = nn.LazyLinear(10**5)\nl.load_state_dict({'weight': "
         "torch.zeros(1).expand(10**5, 10**4), 'bias': torch.zeros(10**5)})", 413, L,
         "load_state_dict would allocate"),
    Case("lazy-read-weight", "l = nn.LazyLinear(3)\nl.weight", 400, F,
         "not initialised yet"),
    Case("lazy-iterate", "for p in nn.LazyLinear(3).parameters():\n    q = p", 400, F,
         "not initialised yet"),
    Case("lazy-next", "next(nn.LazyLinear(3).parameters())", 400, F, "not initialised yet"),
    Case("lazy-named", "dict(nn.Sequential(nn.LazyLinear(3)).named_parameters())", 400, F,
         "not initialised yet"),
    Case("lazy-state-dict", "nn.LazyLinear(3).state_dict()", 400, F, "not initialised yet"),
    Case("lazy-optimizer-step", "l = nn.LazyLinear(3)\n"
         "opt = torch.optim.SGD(l.parameters(), lr=0.1)\nopt.step()", 400, F,
         "not initialised yet"),
    # module.apply(fn): fn runs interpreted; a shared-module DAG is visited per path (as in
    # torch), each visit a step.
    Case("apply-exponential", "def f(m):\n    pass\ns = nn.Linear(1, 1)\n"
         "for i in range(40):\n    s = nn.Sequential(s, nn.Sequential(s))\ns.apply(f)", 200,
         L, "max_steps"),
    # optimizer.load_state_dict: what step()'s kernels trust, checked at load.
    Case("opt-load-shape", "w = nn.Parameter(torch.ones(4))\n"
         "opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)\n"
         "g = opt.state_dict()['param_groups']\n"
         "opt.load_state_dict({'state': {0: {'momentum_buffer': torch.zeros(1)}}, "
         "'param_groups': g})", 400, F, "has shape [1] but its parameter has [4]"),
    Case("opt-load-expanded", "w = nn.Parameter(torch.ones(4))\n"
         "opt = torch.optim.Adam([w])\ng = opt.state_dict()['param_groups']\n"
         "opt.load_state_dict({'state': {0: {'step': torch.tensor(1.), 'exp_avg': "
         "torch.zeros(1).expand(4), 'exp_avg_sq': torch.zeros(4)}}, 'param_groups': g})",
         400, F, "must be a dense tensor"),
    Case("opt-load-fused", "w = nn.Parameter(torch.ones(4))\nopt = torch.optim.Adam([w])\n"
         "g = [dict(opt.state_dict()['param_groups'][0], fused=True)]\n"
         "opt.load_state_dict({'state': {}, 'param_groups': g})", 400, F,
         "['fused'] = True is not available"),
    Case("opt-load-function", "w = nn.Parameter(torch.ones(4))\n"
         "opt = torch.optim.SGD([w], lr=0.1)\ng = opt.state_dict()['param_groups']\n"
         "opt.load_state_dict({'state': {0: {'x': print}}, 'param_groups': g})", 400, F,
         "a saved state may hold numbers"),
    # torch.histogram has no meta kernel (sized by bins); multinomial by its dry run.
    Case("histogram-huge", "torch.histogram(torch.ones(3), bins=10**9)", 413, L,
         "torch.histogram would allocate"),
    Case("histogram-bins-text", "torch.histogram(torch.ones(3), bins='auto')", 200,
         "TypeError", "bins must be an integer"),
    Case("multinomial-huge", "torch.multinomial(torch.ones(10**4), 10**9, replacement=True)",
         413, L, "would allocate"),
    # getattr/hasattr on a module: its listed members only, no private names, no setattr.
    Case("getattr-module-private", "getattr(torch, '_C')", 400, F,
         "names starting with '_'"),
    Case("getattr-module-refused", "getattr(torch, 'load')", 400, F, "load reads files"),
    Case("setattr-module", "setattr(nn, 'Linear', 1)", 400, F, "own classes only"),
    Case("opt-load-not-a-dict", "w = nn.Parameter(torch.ones(4))\n"
         "opt = torch.optim.SGD([w], lr=0.1)\nopt.load_state_dict([1])", 200, "TypeError",
         "takes what SGD.state_dict() returned"),
]
