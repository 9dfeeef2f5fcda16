"""Abuse cases of the importable library surface: os and sys, time, collections, itertools,
functools, copy, torch.distributions, torch.normal, torch.accelerator and the numpy ufuncs.

Each program must be refused (or stopped) with the given status, error type and message
fragment; none may allocate, sleep or loop past its budget first."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from app.engine.program import Sandbox

F, L = "ForbiddenError", "LimitError"
_PROBS = "torch.tensor([0.5, 0.5])"

CASES: dict[str, tuple[str, int, str, str]] = {
    # --- os and sys: the import is free, every use is refused with what to do instead -------
    "os-environ": ("import os\nos.environ['HOME']", 400, F,
                   "os.environ is not available in the playground: a program has no "
                   "environment variables"),
    "os-getenv": ("import os\nos.getenv('HOME')", 400, F, "no environment variables"),
    "os-path-join": ("import os\nos.path.join('data', 'x.pt')", 400, F,
                     "os.path is not available in the playground: the playground has no "
                     "files; make the tensors directly"),
    "os-path-alias": ("import os.path as p\np.exists('/etc/passwd')", 400, F,
                      "os.path.exists is not available"),
    "from-os-path": ("from os.path import join", 400, F, "'join' is not available from "
                     "os.path in the playground: the playground has no files"),
    "os-anything": ("import os\nos.fork()", 400, F, "os.fork is not available in the "
                    "playground: a program has no operating system"),
    "os-called": ("import os\nos()", 400, F, "calling a Namespace is not available"),
    "sys-modules": ("import sys\nsys.modules['os']", 400, F,
                    "sys.modules is not available in the playground"),
    "sys-exit": ("import sys\nsys.exit(0)", 400, F, "sys.exit is not available"),
    "sys-recursion": ("import sys\nsys.setrecursionlimit(10**6)", 400, F,
                      "sys.setrecursionlimit is not available"),
    "sys-version": ("import sys\nsys.version", 400, F, "sys.version is not available"),
    "from-sys-import": ("from sys import modules", 400, F, "'modules' is not available "
                        "from sys"),
    # --- imports that never exist ------------------------------------------------------------
    "importlib": ("import importlib", 400, F, "'importlib' cannot be imported here (it loads "
                  "arbitrary modules)"),
    "builtins": ("import builtins", 400, F, "'builtins' cannot be imported here"),
    "dunder-builtins": ("import __builtins__", 400, F, "'__builtins__' cannot be imported"),
    "ctypes": ("from ctypes import CDLL", 400, F, "'ctypes' cannot be imported here (it "
               "reads and writes raw memory)"),
    "pickle": ("import pickle", 400, F, "unpickling runs arbitrary code"),
    "subprocess": ("import subprocess", 400, F, "(it starts processes)"),
    "socket": ("import socket", 400, F, "(it opens network connections)"),
    "import-future-module": ("import __future__", 400, F, "'__future__' cannot be imported"),
    "future-braces": ("from __future__ import braces", 400, F,
                      "'braces' is not a __future__ feature"),
    "future-alias": ("from __future__ import division as d", 400, F,
                     "a __future__ import binds no name; leave out 'as d'"),
    "os-not-offered": ("import subprocess", 400, F, "available: collections, copy, "
                       "functools, itertools, math, matplotlib.pyplot, numpy, pprint, random, "
                       "time, timeit, torch,"),
    # --- time ----------------------------------------------------------------------------------
    "sleep-forever": ("import time\ntime.sleep(10**9)", 200, "TimeoutError",
                      "time.sleep(1e+09) would run past the program's deadline"),
    "sleep-negative": ("import time\ntime.sleep(-1)", 200, "ValueError",
                       "finite, non-negative number of seconds"),
    "sleep-nan": ("import time\ntime.sleep(float('nan'))", 200, "ValueError",
                  "finite, non-negative"),
    "sleep-inf": ("import time\ntime.sleep(float('inf'))", 200, "ValueError",
                  "finite, non-negative"),
    "sleep-tensor": ("import time\ntime.sleep(torch.tensor(10.0**9))", 200, "TypeError",
                     "takes a number of seconds"),
    "time-other": ("import time\ntime.localtime()", 400, F,
                   "time.localtime is not available"),
    # --- itertools: sizes predicted, lazy ones stop at the step limit -----------------------
    "product-huge": ("import itertools\nitertools.product(range(10**6), repeat=10)", 413, L,
                     "itertools.product would produce more than 1,000,000 items"),
    "product-repeat": ("import itertools\nitertools.product(range(2), repeat=10**9)", 413, L,
                       "itertools.product would produce more than 1,000,000 items"),
    "product-empty-repeat": ("import itertools\nitertools.product([], repeat=10**9)", 413, L,
                             "itertools.product would produce"),
    "product-of-iterators": ("import itertools\nitertools.product(itertools.count(), "
                             "repeat=2)", 200, L, "more than 200,000 steps"),
    "permutations-huge": ("import itertools\nitertools.permutations(range(10**4))", 413, L,
                          "itertools.permutations would produce more than 1,000,000 items"),
    "combinations-huge": ("import itertools\nitertools.combinations(range(10**5), 50000)",
                          413, L, "itertools.combinations would produce"),
    "count-loop": ("import itertools\nfor i in itertools.count():\n    pass", 200, L,
                   "more than 200,000 steps"),
    "repeat-list": ("import itertools\nlist(itertools.repeat(1, 10**12))", 200, L,
                    "more than 200,000 steps"),
    "repeat-starred": ("import itertools\n[*itertools.repeat(0, 10**12)]", 200, L,
                       "more than 200,000 steps"),
    "cycle-sum": ("import itertools\nsum(itertools.cycle([1]))", 200, L, "steps"),
    "repeat-tensor": ("import itertools\ntorch.tensor(itertools.repeat(1, 10**12))", 200,
                      "RuntimeError", "Could not infer dtype"),
    "islice-skip": ("import itertools\nnext(itertools.islice(range(10**15), 10**14, None))",
                    200, L, "more than 200,000 steps"),
    "islice-step": ("import itertools\nlist(itertools.islice(range(10**15), 0, None, 10**13))",
                    200, L, "more than 200,000 steps"),
    "chain-from-empties": ("import itertools\nlist(itertools.chain.from_iterable("
                           "itertools.repeat([], 10**12)))", 200, L, "steps"),
    # The playground's chain is its own function: mro does not exist on it (Python's error).
    "chain-other-attribute": ("import itertools\nitertools.chain.mro", 200, "AttributeError",
                              "object has no attribute 'mro'"),
    "function-attribute": ("import itertools\nitertools.count.from_iterable", 400, F,
                           "attributes of a function are not available"),
    "chain-range": ("import itertools\nlist(itertools.chain(range(10**12)))", 200, L,
                    "steps"),
    # --- functools: a partial is no stronger than a direct call ------------------------------
    "partial-load": ("import functools\nfunctools.partial(torch.load)", 400, F,
                     "torch.load is not available in the playground (load reads files"),
    "partial-huge": ("import functools\nf = functools.partial(torch.zeros, 10**6)\nf(10**6)",
                     413, L, "torch.zeros would allocate"),
    "reduce-class": ("import functools\nfunctools.reduce(np.ndarray, [1, 2])", 400, F,
                     "calling the class ndarray is not available"),
    "reduce-huge": ("import functools\nfunctools.reduce(torch.ones, [10**5, 10**5])", 413, L,
                    "torch.ones would allocate"),
    "reduce-endless": ("import functools, itertools\nfunctools.reduce(max, "
                       "itertools.count())", 200, L, "steps"),
    # --- copy: sized before copying, and only what can be sized --------------------------------
    "deepcopy-nested": ("import copy\nx = [[0] * 1000 for i in range(2000)]\ncopy.deepcopy(x)",
                        413, L, "copy.deepcopy: the value holds more than 1,000,000 Python"),
    "deepcopy-module": ("import copy\nm = nn.Sequential(nn.Linear(6000, 6000), "
                        "nn.Linear(6000, 6000))\ncopy.deepcopy(m)", 413, L,
                        "copy.deepcopy would allocate 274.7 MB"),
    "deepcopy-function": ("import copy\ndef f():\n    return 1\ncopy.deepcopy([f])", 400, F,
                          "copy.deepcopy cannot copy a function"),
    "deepcopy-attribute-function": ("import copy\nclass A:\n    def __init__(self):\n"
                                    "        self.f = lambda: 1\ncopy.deepcopy(A())", 400, F,
                                    "cannot copy a function"),
    "deepcopy-optimizer": ("import copy\no = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)"
                           "\ncopy.deepcopy(o)", 400, F, "copy.deepcopy cannot copy a SGD"),
    "deepcopy-iterator": ("import copy, itertools\ncopy.deepcopy([itertools.count()])", 400, F,
                          "cannot copy a CountedIterator"),
    "copy-iterator": ("import copy, itertools\ncopy.copy(itertools.count())", 400, F,
                      "cannot copy a CountedIterator"),
    "copy-counted": ("import copy\nx = [0] * 10**6\ncopy.copy(x)", 200, L,
                     "more than 200,000 steps"),
    "deepcopy-memo": ("import copy\ncopy.deepcopy([1], {})", 200, "TypeError", "argument"),
    "deepcopy-namespace": ("import copy\ncopy.deepcopy(torch)", 400, F,
                           "cannot copy a Namespace"),
    # --- collections ---------------------------------------------------------------------------
    "defaultdict-eval": ("import collections\ncollections.defaultdict(eval)", 400, F,
                         "'eval' is not available"),
    "defaultdict-torch": ("import collections\nd = collections.defaultdict(torch.ones)\n"
                          "d[10**6]", 400, F, "defaultdict's factory must be list, int"),
    "defaultdict-class": ("import collections\ncollections.defaultdict(np.ndarray)", 400, F,
                          "defaultdict's factory must be"),
    "namedtuple-dunder": ("import collections\ncollections.namedtuple('P', ['__class__'])",
                          400, F, "the field name '__class__' is not allowed"),
    "namedtuple-code": ("import collections\ncollections.namedtuple('P', "
                        "['x=0):\\n import os#'])", 400, F, "the field name"),
    "namedtuple-code-string": ("import collections\ncollections.namedtuple('P', "
                               "'x, y=print(1)')", 400, F, "the field name 'y=print(1)'"),
    "namedtuple-keyword": ("import collections\ncollections.namedtuple('P', 'def x')", 400, F,
                           "the field name 'def' is not allowed"),
    "namedtuple-typename": ("import collections\ncollections.namedtuple('P(tuple)', 'x')",
                            400, F, "the type name 'P(tuple)' is not allowed"),
    "namedtuple-private": ("import collections\ncollections.namedtuple('P', '_x')", 400, F,
                           "the field name '_x' is not allowed"),
    "namedtuple-unicode": ("import collections\ncollections.namedtuple('P', ['\u0445'])", 400,
                           F, "is not allowed"),
    "namedtuple-rename": ("import collections\ncollections.namedtuple('P', 'x', rename=True)",
                          200, "TypeError", "rename"),
    "namedtuple-wide": ("import collections\ncollections.namedtuple('P', ['f' + str(i) for i in "
                        "range(1000)])", 413, L, "the limit is 64"),
    "namedtuple-loop": ("import collections\nfor i in range(1000):\n"
                        "    collections.namedtuple('P', 'x')", 413, L,
                        "more than 100 namedtuple types"),
    "namedtuple-fields": ("import collections\nP = collections.namedtuple('P', 'x')\n"
                          "P(1)._fields", 400, F, "attributes starting with '_'"),
    "counter-range": ("import collections\ncollections.Counter(range(10**7))", 200, L,
                      "a range of 10,000,000 items is larger than the limit"),
    "counter-list": ("import collections\nx = [0] * 10**6\ncollections.Counter(x)", 200, L,
                     "more than 200,000 steps"),
    "counter-elements": ("import collections\ncollections.Counter({'a': 10**12}).elements()",
                         400, F, "Counter.elements' is not available"),
    "deque-range": ("import collections\ncollections.deque(range(10**12))", 200, L,
                    "larger than the limit"),
    "deque-extend": ("import collections\ncollections.deque().extend(range(10**12))", 400, F,
                     "deque.extend' is not available"),
    "random-sample-huge": ("import random\nrandom.sample([0] * 10**5, 10**7)", 413, L,
                           "random.sample of 10,000,000 items is larger than the limit"),
    "random-sample-counts": ("import random\nrandom.sample([1], 10**6, counts=[10**12])", 400,
                             F, "random.sample(counts=...) is not available"),
    # --- torch.distributions -----------------------------------------------------------------
    "normal-sample-huge": ("torch.distributions.Normal(0.0, 1.0).sample((10**9,))", 413, L,
                           "Normal.sample would allocate"),
    "multinomial-draws": (f"torch.distributions.Multinomial(10**9, {_PROBS}).sample((10,))",
                          413, L, "Multinomial.sample would allocate"),
    "multinomial-entropy": (f"torch.distributions.Multinomial(10**9, {_PROBS}).entropy()",
                            413, L, "Multinomial.entropy would allocate"),
    "categorical-sample": ("torch.distributions.Categorical(probs=torch.ones(10**4))"
                           ".sample((10**8,))", 413, L, "Categorical.sample would allocate"),
    "mvn-factor": ("torch.distributions.MultivariateNormal(torch.zeros(5000), torch.eye(5000))",
                   413, L, "MultivariateNormal(...) needs about 1.25e+11 floating point"),
    "beta-broadcast": ("torch.distributions.Beta(torch.ones(10**4, 1), torch.ones(1, 10**4))",
                       413, L, "Beta(...) would allocate"),
    "log-prob-broadcast": ("torch.distributions.Normal(torch.zeros(10**4), 1.0)"
                           ".log_prob(torch.zeros(10**4, 1))", 413, L,
                           "Normal.log_prob would allocate"),
    "validate-args-object": ("torch.distributions.Normal(0.0, 1.0, validate_args=torch.ones(2))",
                             200, "TypeError", "validate_args is True, False or None"),
    "set-default-validate-args": ("torch.distributions.Distribution"
                                  ".set_default_validate_args(False)", 400, F,
                                  "torch.distributions.Distribution is not available"),
    "set-default-on-class": ("torch.distributions.Normal.set_default_validate_args(False)",
                             400, F, "attributes of the class Normal are not available"),
    "sample-shape-int": ("torch.distributions.Normal(0.0, 1.0).sample(10**9)", 200,
                         "TypeError", "the sample shape is a tuple"),
    "transformed": ("torch.distributions.TransformedDistribution", 400, F,
                    "torch.distributions.TransformedDistribution is not available"),
    "support": ("torch.distributions.Normal(0.0, 1.0).support", 400, F,
                "'Normal.support' is not available"),
    "expand": ("torch.distributions.Normal(0.0, 1.0).expand((10**9,))", 400, F,
               "'Normal.expand' is not available"),
    # Each vetted class's own submodule is importable (from torch.distributions.normal import
    # Normal); other submodules, and anything else inside those, are not.
    "distribution-module-path": ("from torch.distributions.transforms import ExpTransform",
                                 400, F, "'torch.distributions.transforms' cannot be imported"),
    "distribution-module-other-name": ("from torch.distributions.normal import Normal\n"
                                       "from torch.distributions.normal import math", 400, F,
                                       "'math' is not available from torch.distributions.normal"),
    # --- torch.normal, torch.accelerator, numpy ----------------------------------------------
    "torch-normal-size": ("torch.normal(0.0, 1.0, size=(10**9,))", 413, L,
                          "torch.normal would allocate 7.5 GB"),
    "torch-normal-broadcast": ("torch.normal(torch.zeros(10**4, 1), torch.ones(1, 10**4))",
                               413, L, "torch.normal would allocate"),
    "torch-normal-no-size": ("torch.normal(0.0, 1.0)", 200, "TypeError", "give the size"),
    "torch-normal-out": ("torch.normal(0.0, 1.0, (2,), out=torch.zeros(1))", 400, F,
                         "the keyword 'out=' of torch.normal is not available"),
    "accelerator-set": ("torch.accelerator.set_device_index(0)", 400, F,
                        "torch.accelerator.set_device_index is not available"),
    "ndarray-dot-huge": ("np.ones((10**5, 1)).dot(np.ones((1, 10**5)))", 413, L,
                         "ndarray.dot would allocate 74.5 GB"),
    "ndarray-dot-flops": ("a = np.ones((3000, 3000))\na.dot(a)", 413, L,
                          "ndarray.dot needs about"),
    "ufunc-outer": ("np.multiply.outer(np.ones(3), np.ones(3))", 400, F,
                    "attributes of a ufunc are not available"),
    "ufunc-broadcast": ("np.add(np.ones((10**5, 1)), np.ones((1, 10**5)))", 413, L,
                        "numpy.add would allocate"),
    "ufunc-where-uninitialised": ("x = np.ones(1000)\nnp.exp(x, where=x < 0)", 400, F,
                                  "numpy.exp: the keyword 'where=' is not available"),
    "clip-where-uninitialised": ("x = np.ones(1000)\nnp.clip(x, 0, 1, where=x < 0)", 400, F,
                                 "'where=' is not available"),
    "method-where": ("x = np.ones(1000)\nx.clip(0, 1, where=x < 0)", 400, F,
                     "'where=' is not available"),
    "ufunc-text": ("np.add(['a'], ['b'])", 400, F, "numpy arrays of text"),
    "ufunc-object-dtype": ("np.sin(np.ones(2), dtype='O')", 400, F, "numpy arrays of text"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_refused(sandbox: Sandbox, name: str) -> None:
    code, status, kind, says = CASES[name]
    started = time.monotonic()
    outcome = sandbox.run(code)
    body = outcome.body
    assert body["ok"] is False, f"not refused: {str(body)[:300]}"
    assert (outcome.status, body["error"]["type"]) == (status, kind), body["error"]["message"]
    assert says in body["error"]["message"]
    assert time.monotonic() - started < sandbox.settings.deadline_s + 1


def test_refusals_say_what_to_do_instead(sandbox: Sandbox) -> None:
    hints = {
        "import os\nos.path.join('a', 'b')": "build the tensors in the program",
        "import sys\nsys.exit()": "End the program instead",
        "import os\nos.environ": "Write the value into the program",
    }
    for code, hint in hints.items():
        error = sandbox.run(code).body["error"]
        assert hint in error["hint"], (code, error)


def test_an_unused_os_or_sys_import_costs_nothing(sandbox: Sandbox) -> None:
    outcome = sandbox.run("import os\nimport sys\nimport os.path\nfrom os import path as p\n"
                          "x = torch.ones(2) * 3\nx.sum().item()")
    assert outcome.body["ok"] is False  # 'from os import path' is a use: refused at once
    outcome = sandbox.run("import os\nimport sys\nimport os.path\nx = torch.ones(2) * 3\n"
                          "x.sum().item()")
    assert outcome.body["ok"], outcome.body.get("error")
    assert outcome.body["result"]["value"] == 6.0


def test_a_namedtuple_field_reads_only_its_fields(sandbox: Sandbox) -> None:
    ok = sandbox.run("import collections\nP = collections.namedtuple('P', 'x y')\np = P(1, 2)\n"
                     "[p.x, p.y, p.count(1), p.index(2)]")
    assert ok.body["ok"], ok.body.get("error")
    assert [item["value"] for item in ok.body["result"]["items"]] == [1, 2, 1, 1]
    shadowed = sandbox.run("import collections\nP = collections.namedtuple('P', 'count x')\n"
                           "P(3, 4).count")
    assert shadowed.body["ok"] and shadowed.body["result"]["value"] == 3
    refused = sandbox.run("import collections\nP = collections.namedtuple('P', 'x')\n"
                          "P(1).count.mro")
    assert refused.body["ok"] is False


@pytest.mark.parametrize("code", [
    "import collections\ns = 'a' * 10**6\nq = collections.deque([s] * 2000)\nprint(q)\nq",
    "import collections\ns = 'a' * 10**6\nP = collections.namedtuple('P', 'x y')\n"
    "p = P(collections.deque([s] * 2000), [s] * 1000)\nprint(p)\n[p]",
    "import collections\nq = collections.deque([1])\nq.append(q)\nprint(q)\nq",
])
def test_deques_and_namedtuples_print_and_show_bounded(sandbox: Sandbox, code: str) -> None:
    """Their repr is one C call over every item (a deque of 2,000 references to a 10**6-
    character string is 2 GB of text); here it stops at max_repr_chars."""
    started = time.monotonic()
    outcome = sandbox.run(code)
    assert outcome.body["ok"], outcome.body.get("error")
    assert len(outcome.body["stdout"]) <= sandbox.settings.max_stdout_chars + 1
    assert len(str(outcome.body["result"])) < 10**6  # the views bound the rest
    assert time.monotonic() - started < 5


def test_what_distributions_build_counts_toward_the_programs_memory(sandbox: Sandbox) -> None:
    """Beta stacks its two broadcast parameters (50 MB here): kept in a list, they reach
    max_total_bytes (1 GB) instead of growing without a bound."""
    outcome = sandbox.run("ds = []\nfor i in range(20):\n"
                          "    ds.append(torch.distributions.Beta(torch.ones(2500, 1), "
                          "torch.ones(1, 2500)))")
    error = outcome.body["error"]
    assert (outcome.status, error["type"]) == (413, "LimitError")
    assert "while the program already holds" in error["message"]


def test_the_modules_work_in_a_locked_down_worker(client: TestClient) -> None:
    """The worker runs under seccomp, Landlock and OS limits (not the in-process sandbox):
    sleeping, copying, sampling and the itertools iterators still work there."""
    code = ("import time, copy, itertools, functools, collections\n"
            "time.sleep(0.01)\nm = copy.deepcopy(nn.Linear(2, 2))\n"
            "d = torch.distributions.Normal(0.0, 1.0)\n"
            "P = collections.namedtuple('P', 'a b')\n"
            "[len(list(itertools.product('ab', repeat=3))), functools.reduce(max, [3, 9, 2]), "
            "d.sample((4,)).numel(), P(1, 2).b, torch.accelerator.device_count() >= 0]")
    response = client.post("/eval", json={"code": code})
    body = response.json()
    assert response.status_code == 200 and body["ok"], body.get("error")
    assert [item.get("value") for item in body["result"]["items"]] == [8, 9, 4, 2, True]
