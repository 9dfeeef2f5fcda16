"""The library surface tutorials import (time, collections, itertools, functools, copy,
torch.distributions, torch.normal, torch.accelerator, numpy ufuncs) gives the values Python,
torch and numpy give for the same program (run here, in the test, on trusted code)."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, Dataset, TensorDataset

from app.engine.program import Sandbox
from tests.engine.test_language import normalise, plain

PROGRAMS = {
    "future_imports": "from __future__ import print_function, division, annotations\n"
                      "result = [7 / 2, 7 // 2]",
    "unused_os_sys": "import os\nimport sys\nimport os.path\nresult = 1 + 1",
    "torch_import_forms": (
        "import torch.nn.init as init\nfrom torch.utils.data import DataLoader, TensorDataset\n"
        "import torch.optim as optim\nfrom torch import nn, optim\n"
        "import torch.nn.functional as F\nfrom torch.optim import lr_scheduler\n"
        "from torch.utils.data import random_split, Subset, default_collate\n"
        "w = torch.empty(2, 3)\ninit.constant_(w, 0.5)\nnn.init.ones_(w[0])\n"
        "torch.nn.init.zeros_(w[1, :1])\n"
        "m = nn.Linear(3, 1)\no = optim.SGD(m.parameters(), lr=0.1)\n"
        "s = lr_scheduler.StepLR(o, step_size=1, gamma=0.5)\no.step()\ns.step()\n"
        "ds = TensorDataset(torch.arange(6.0).reshape(3, 2))\n"
        "a, b = random_split(ds, [2, 1], generator=torch.Generator().manual_seed(0))\n"
        "batch = default_collate([torch.ones(2), torch.zeros(2)])\n"
        "result = [w.tolist(), s.get_last_lr(), len(a), len(b), len(Subset(ds, [0, 2])), "
        "batch.tolist(), F.relu(torch.tensor([-1.0, 2.0])).tolist()]"),
    "collections": (
        "from collections import OrderedDict, defaultdict, Counter, deque, namedtuple\n"
        "d = defaultdict(list)\nfor w in ['a', 'b', 'a']:\n    d[w].append(len(d[w]))\n"
        "n = defaultdict(int)\nfor w in 'abracadabra':\n    n[w] += 1\n"
        "def zero():\n    return 0\nz = defaultdict(zero)\nz['q'] += 5\n"
        "c = Counter('abracadabra')\nq = deque([1, 2, 3], maxlen=3)\nq.append(4)\n"
        "q.appendleft(0)\nq.rotate(1)\nP = namedtuple('P', 'x y')\np = P(1, y=2)\n"
        "Q = namedtuple('Q', ['a', 'b', 'c'])\n"
        "o = OrderedDict([('b', 1), ('a', 2)])\no['c'] = 3\n"
        "result = [dict(d), dict(n), dict(z), c.most_common(3), c.total(), list(q), q[0], "
        "q.maxlen, p.x + p.y, p[1], list(Q(1, 2, 3)), list(o.keys()), list(o.items())]"),
    "itertools": (
        "import itertools\nfrom itertools import count, islice\n"
        "result = [list(islice(count(), 5)), list(islice(count(2.5, 0.5), 3)), "
        "list(itertools.chain([1], (2, 3), 'ab')), list(itertools.product('ab', repeat=2)), "
        "list(itertools.product([1, 2], [3])), list(itertools.permutations([1, 2, 3], 2)), "
        "list(itertools.combinations(range(4), 2)), "
        "list(itertools.combinations_with_replacement('ab', 2)), "
        "list(itertools.zip_longest([1, 2], [3], fillvalue=0)), "
        "list(itertools.accumulate([1, 2, 3])), "
        "list(itertools.accumulate([1, 2, 3], lambda a, b: a * b, initial=10)), "
        "list(islice(itertools.cycle('ab'), 5)), list(itertools.repeat(7, 3)), "
        "list(itertools.pairwise([1, 2, 3])), list(islice(range(10), 2, 8, 3)), "
        "list(itertools.chain.from_iterable([[1, 2], [], (3,)]))]"),
    "itertools_loops": (
        "import itertools\ntotal = 0\nfor i, x in zip(itertools.count(1), [10, 20, 30]):\n"
        "    total += i * x\nfor a, b in itertools.product(range(3), range(2)):\n"
        "    total += a - b\nresult = [total, [*itertools.repeat(1, 4)], "
        "sum(itertools.chain(range(3), range(3)))]"),
    "functools": (
        "import functools\nfrom functools import partial, reduce\n"
        "def power(base, exponent):\n    return base ** exponent\n"
        "square = partial(power, exponent=2)\n"
        "zeros = functools.partial(torch.zeros, 2)\n"
        "result = [reduce(lambda a, b: a * b, [1, 2, 3, 4]), reduce(power, [2, 3], 1), "
        "square(7), list(zeros(3).shape), reduce(torch.add, [torch.ones(2)] * 3).tolist(), "
        "functools.reduce(lambda a, b: a + b, [], 5)]"),
    "copy": (
        "import copy\ntorch.manual_seed(0)\nm = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), "
        "nn.Linear(3, 1))\nm2 = copy.deepcopy(m)\nwith torch.no_grad():\n"
        "    m2[0].weight.zero_()\nx = torch.ones(1, 2)\nnested = [[1, 2], {'a': [3]}]\n"
        "deep = copy.deepcopy(nested)\nshallow = copy.copy(nested)\ndeep[0].append(9)\n"
        "shallow[1]['a'].append(4)\nt = torch.arange(3.0)\nt2 = copy.deepcopy(t)\n"
        "from collections import defaultdict, deque\ndd = defaultdict(list)\ndd['k'].append(1)\n"
        "dd2 = copy.copy(dd)\ndd2['j'].append(2)\nq2 = copy.copy(deque([1, 2], maxlen=3))\n"
        "t2 += 1\n"
        "result = [m(x).tolist(), m2(x).tolist(), nested[0], nested[1]['a'], deep[0], "
        "deep[1]['a'], t.tolist(), t2.tolist(), sorted(dd), sorted(dd2), list(q2), q2.maxlen]"),
    "copy_layers": (
        "import copy\ntorch.manual_seed(0)\nlstm = nn.LSTM(3, 4)\n"
        "enc = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0)\n"
        "lstm2 = copy.deepcopy(lstm)\nenc2 = copy.deepcopy(enc)\nx = torch.randn(2, 1, 3)\n"
        "y = torch.randn(1, 2, 4)\nresult = [lstm(x)[0].flatten().tolist(), "
        "lstm2(x)[0].flatten().tolist(), enc(y).flatten().tolist(), "
        "enc2(y).flatten().tolist()]"),
    "random_sample_of_a_deque": (
        "from collections import deque\nimport random\nmemory = deque([], maxlen=10)\n"
        "for i in range(15):\n    memory.append(i)\n"
        "result = [random.sample(memory, 3), random.sample([1, 2, 3, 4], 2), list(memory)]"),
    "dqn_tutorial_replay_memory": (
        # The shape of PyTorch's DQN tutorial: a namedtuple transition, a bounded deque,
        # random.sample of it, itertools.count() for the steps of an episode.
        "import random\nfrom collections import namedtuple, deque\nfrom itertools import count\n"
        "import torch.optim as optim\n"
        "Transition = namedtuple('Transition', ('state', 'action', 'next_state', 'reward'))\n"
        "class ReplayMemory:\n    def __init__(self, capacity):\n"
        "        self.memory = deque([], maxlen=capacity)\n"
        "    def push(self, state, action, next_state, reward):\n"
        "        self.memory.append(Transition(state, action, next_state, reward))\n"
        "    def sample(self, batch_size):\n"
        "        return random.sample(self.memory, batch_size)\n"
        "    def __len__(self):\n        return len(self.memory)\n"
        "torch.manual_seed(0)\nmemory = ReplayMemory(8)\nnet = nn.Linear(2, 2)\n"
        "opt = optim.SGD(net.parameters(), lr=0.1)\nstate = torch.zeros(1, 2)\n"
        "for t in count():\n    action = net(state).argmax(1).view(1, 1)\n"
        "    next_state = state + torch.randn(1, 2)\n"
        "    memory.push(state, action, next_state, torch.tensor([1.0]))\n"
        "    state = next_state\n    if t == 11:\n        break\n"
        "batch = Transition(*zip(*memory.sample(4)))\n"
        "q = net(torch.cat(batch.state)).gather(1, torch.cat(batch.action))\n"
        "loss = F.smooth_l1_loss(q.squeeze(1), torch.cat(batch.reward))\n"
        "opt.zero_grad()\nloss.backward()\nopt.step()\n"
        "result = [len(memory), t, loss.item(), net.weight.flatten().tolist()]"),
    "torch_normal": (
        "torch.manual_seed(0)\nresult = [torch.normal(torch.zeros(3), torch.ones(3)).tolist(), "
        "torch.normal(2.0, torch.ones(2, 2)).tolist(), "
        "torch.normal(torch.zeros(4), 0.5).tolist(), "
        "torch.normal(0.0, 1.0, size=(2, 3)).tolist(), "
        "torch.normal(1.0, 2.0, (2,), dtype=torch.float64).tolist()]"),
    "accelerator": "result = [torch.accelerator.is_available(), "
                   "torch.accelerator.device_count(), "
                   "torch.accelerator.current_accelerator() is None]",
    "distributions": (
        "import torch.distributions as dist\nfrom torch.distributions import Normal\n"
        "torch.manual_seed(0)\nd = Normal(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 2.0]))\n"
        "s = d.sample((3,))\nu = dist.Uniform(0.0, 2.0)\nb = dist.Bernoulli(probs=0.3)\n"
        "c = dist.Categorical(probs=torch.tensor([0.1, 0.2, 0.7]))\n"
        "mn = dist.Multinomial(10, torch.tensor([0.2, 0.8]))\n"
        "mv = dist.MultivariateNormal(torch.zeros(2), torch.tensor([[2.0, 0.5], [0.5, 1.0]]))\n"
        "e = dist.Exponential(torch.tensor(2.0))\nbe = dist.Beta(2.0, 3.0)\n"
        "mu = torch.zeros(2, requires_grad=True)\nr = Normal(mu, 1.0).rsample()\n"
        "r.sum().backward()\n"
        "result = [s.tolist(), d.log_prob(s).tolist(), d.entropy().tolist(), d.mean.tolist(), "
        "d.stddev.tolist(), d.variance.tolist(), list(d.batch_shape), u.sample((2,)).tolist(), "
        "u.cdf(torch.tensor(0.5)).item(), b.sample((4,)).tolist(), c.sample((5,)).tolist(), "
        "c.log_prob(torch.tensor(2)).item(), mn.sample((2,)).tolist(), "
        "mv.sample((2,)).tolist(), mv.log_prob(torch.zeros(2)).item(), "
        "mv.covariance_matrix.tolist(), e.rsample((2,)).tolist(), "
        "e.icdf(torch.tensor(0.5)).item(), "
        "be.sample((2,)).tolist(), be.mean.item(), mu.grad.tolist(), list(mn.event_shape), "
        "mn.entropy().item(), mv.entropy().item(), c.entropy().item()]"),
    "numpy_ufuncs": (
        "x = np.array([[1.0, 2.0], [3.0, 4.0]])\ny = np.linspace(0, 1, 4)\n"
        "result = [np.sin(x).tolist(), np.cos(y).tolist(), np.tan(y).tolist(), "
        "np.exp(x).tolist(), np.log(x).tolist(), np.sqrt(x).tolist(), np.square(x).tolist(), "
        "np.abs(-x).tolist(), np.maximum(x, 2.5).tolist(), np.minimum(x, 2.5).tolist(), "
        "np.add(x, 1).tolist(), np.subtract(x, x.T).tolist(), np.multiply(x, 2).tolist(), "
        "np.divide(x, 4).tolist(), np.power(x, 2).tolist(), np.tanh(y).tolist(), "
        "np.clip(x, 1.5, 3.5).tolist(), np.where(x > 2, x, 0).tolist(), np.pi, np.e, "
        "float(np.sin(1.0)), np.arctan2(x, 2.0).tolist(), np.cumsum(y).tolist()]"),
    "ndarray_methods": (
        "x = np.arange(6.0).reshape(2, 3)\nw = np.ones(3)\n"
        "result = [x.T.tolist(), x.dot(w).tolist(), x.dot(x.T).tolist(), x.sum(), "
        "x.sum(axis=0).tolist(), x.mean(), x.reshape(3, 2).tolist(), x.flatten().tolist(), "
        "x.copy().tolist(), float(x[0, 1]), int(x.argmax()), x.max(), x.cumsum().tolist(), "
        "x.prod(), bool(x.any()), bool(x.all()), x.squeeze().tolist(), x.var()]"),
}


def reference_result(source: str) -> Any:
    """The same program run by Python itself, from the state every sandboxed program gets."""
    torch.manual_seed(0)
    random.seed(0)
    np.random.seed(0)
    scope: dict[str, Any] = {"torch": torch, "nn": nn, "F": F, "optim": optim, "np": np,
                             "math": math, "Dataset": Dataset, "DataLoader": DataLoader,
                             "TensorDataset": TensorDataset}
    exec(source, scope)
    return scope["result"]


def as_plain(value: Any) -> Any:
    """Python's answer in the shape the sandbox's views give: numpy scalars as numbers."""
    if isinstance(value, (list, tuple)):
        return [as_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_matches_python(sandbox: Sandbox, name: str) -> None:
    source = PROGRAMS[name]
    outcome = sandbox.run(source + "\nresult")
    assert outcome.body["ok"], outcome.body.get("error")
    expected = normalise(as_plain(reference_result(source)))
    assert normalise(plain(outcome.body["result"])) == expected


def test_time_reads_clocks_and_sleeps(sandbox: Sandbox) -> None:
    outcome = sandbox.run("import time\nt0 = time.perf_counter()\nw0 = time.time()\n"
                          "time.sleep(0.05)\n[time.perf_counter() - t0, time.time() - w0, "
                          "time.monotonic() > 0]")
    assert outcome.body["ok"], outcome.body.get("error")
    slept, wall, monotonic = plain(outcome.body["result"])
    assert slept >= 0.05 and wall >= 0.04 and monotonic is True


def test_a_sleep_inside_the_deadline_runs_one_past_it_is_refused_before_it_starts(
        sandbox: Sandbox) -> None:
    deadline = sandbox.settings.deadline_s
    outcome = sandbox.run(f"import time\ntime.sleep({deadline + 1})")
    error = outcome.body["error"]
    assert (outcome.status, error["type"]) == (200, "TimeoutError")
    assert "would run past the program's deadline" in error["message"]
    assert outcome.body["elapsed_ms"] < 1000  # refused, not slept


def test_a_layer_in_a_deque_stays_a_layer(sandbox: Sandbox) -> None:
    """Not the function the vetted call path wraps callables into for C callers."""
    outcome = sandbox.run("from collections import deque\nq = deque([nn.Linear(1, 1)])\n"
                          "q[0](torch.ones(1, 1)).shape")
    assert outcome.body["ok"], outcome.body.get("error")
    assert outcome.body["result"]["value"] == [1, 1]


def test_copy_counts_toward_the_programs_memory(sandbox: Sandbox) -> None:
    """Four deep copies of a 244 MB layer pass max_total_bytes (1 GB) on the fifth."""
    code = "import copy\nm = nn.Linear(8000, 8000)\nc1 = copy.deepcopy(m)\n" \
           "c2 = copy.deepcopy(m)\nc3 = copy.deepcopy(m)\nc4 = copy.deepcopy(m)"
    outcome = sandbox.run(code)
    error = outcome.body["error"]
    assert (outcome.status, error["type"]) == (413, "LimitError")
    assert "copy.deepcopy would allocate 244.2 MB while the program already holds" \
        in error["message"]


def test_every_allocating_or_calling_member_keeps_its_guard() -> None:
    """Removing one of these guards lets a call allocate, loop or call back unchecked."""
    from app.engine import guards, policy, stdlib
    from app.engine.policy import build_namespaces

    namespaces = build_namespaces()
    for path in ("collections", "itertools", "functools", "copy"):
        for name, rule in namespaces[path].rules.items():
            assert rule.guard in (stdlib._in_context, stdlib._guard_defaultdict), (path, name)
    assert namespaces["time"].rules["sleep"].guard is stdlib._in_context
    assert all(namespace.members == {} for path, namespace in namespaces.items()
               if path in ("os", "os.path", "sys"))
    assert policy.TORCH_FUNCTIONS["normal"].guard is guards.guard_normal
    assert policy.NDARRAY_METHODS["dot"].guard is guards.guard_ndarray_dot
    assert namespaces["random"].rules["sample"].guard is guards.guard_random_sample
    assert {rule.guard for rule in policy.DISTRIBUTION_MEMBERS.values()} \
        == {guards.guard_distribution_new}
    methods = policy.DISTRIBUTION_METHODS
    assert methods["sample"].guard is methods["rsample"].guard is guards.guard_distribution_sample
    assert methods["entropy"].guard is guards.guard_distribution_entropy
    assert all(methods[name].guard is not None for name in ("log_prob", "cdf", "icdf"))


def test_admission_takes_the_vetted_distributions_only() -> None:
    from app.engine.admission import DISTRIBUTION_TYPES, Admission
    from app.engine.errors import ForbiddenError

    admission = Admission(lambda value: False)
    normal = torch.distributions.Normal(0.0, 1.0)
    assert admission.admit([normal], "test") == [normal]
    assert len(DISTRIBUTION_TYPES) == 8
    transformed = torch.distributions.TransformedDistribution(
        normal, [torch.distributions.transforms.ExpTransform()])
    with pytest.raises(ForbiddenError, match="TransformedDistribution"):
        admission.admit([transformed], "test")

    class Sub(torch.distributions.Normal):
        pass

    with pytest.raises(ForbiddenError, match="Sub"):
        admission.admit([Sub(0.0, 1.0)], "test")
