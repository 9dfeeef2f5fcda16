"""Constructs of beginner tutorials opened in issue 9 (round 2): lazy layers, module.apply,
``x.data = y`` and ``p.data += x``, ``x.__class__``, ``__call__`` in a plain class, the fields
of torch.return_types, torch.random, optimizer.load_state_dict and the default device. Each
program gives the values plain torch gives for the same source (run here, on trusted code,
from the state every sandboxed program starts with)."""

from __future__ import annotations

import pytest
import torch

from app.config import MiB, Settings
from app.engine.program import Sandbox
from tests.engine.test_language import normalise, plain
from tests.engine.test_modules import as_plain, reference_result

PROGRAMS = {
    "lazy_sequential": (
        "net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))\n"
        "before = str(net)\nX = torch.rand(2, 4)\ny = net(X)\n"
        "result = [before, str(net), y.flatten().tolist(), net[0].weight.flatten().tolist(), "
        "[n + str(list(p.shape)) for n, p in net.named_parameters()], "
        "type(net[0]).__name__]"),
    "lazy_conv_batchnorm": (
        "c1 = nn.LazyConv1d(2, 3)\nc2 = nn.LazyConv2d(2, kernel_size=(1, 2), bias=False)\n"
        "c3 = nn.LazyConv3d(1, 2)\nb1 = nn.LazyBatchNorm1d()\nb2 = nn.LazyBatchNorm2d()\n"
        "y1 = c1(torch.rand(1, 3, 5))\ny2 = b2(c2(torch.rand(2, 3, 4, 4)))\n"
        "y3 = c3(torch.rand(1, 2, 3, 3, 3))\ny4 = b1(torch.rand(4, 3))\n"
        "result = [y1.flatten().tolist(), y2.flatten().tolist(), y3.flatten().tolist(), "
        "y4.flatten().tolist(), "
        "b2.running_mean.tolist(), list(c2.weight.shape), str(b1)]"),
    "lazy_cast_before_first_call": (
        "l = nn.LazyLinear(3).double()\ny = l(torch.ones(2, 4, dtype=torch.float64))\n"
        "result = [str(l.weight.dtype), y.flatten().tolist()]"),
    "lazy_in_own_module_and_training": (
        "class MLP(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.hidden = nn.LazyLinear(16)\n        self.out = nn.LazyLinear(2)\n"
        "    def forward(self, X):\n        return self.out(F.relu(self.hidden(X)))\n"
        "net = MLP()\nX = torch.rand(5, 3)\nnet(X)\n"
        "opt = optim.SGD(net.parameters(), lr=0.1)\n"
        "for i in range(3):\n    opt.zero_grad()\n    loss = net(X).pow(2).mean()\n"
        "    loss.backward()\n    opt.step()\n"
        "clone = MLP()\nclone.load_state_dict(net.state_dict())\n"
        "result = [loss.item(), net.out.bias.tolist(), clone(X).tolist(), "
        "sorted(net.state_dict().keys())]"),
    "module_apply": (
        "seen = []\ndef init(m):\n    seen.append(type(m).__name__)\n"
        "    if type(m) == nn.Linear:\n        nn.init.constant_(m.weight, 0.5)\n"
        "        nn.init.zeros_(m.bias)\n"
        "net = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))\n"
        "back = net.apply(init)\n"
        "result = [seen, back is net, net(torch.ones(1, 2)).tolist()]"),
    "data_assignment": (
        "w = torch.randn(3, 2, requires_grad=True)\np = nn.Parameter(torch.ones(3))\n"
        "(w.sum() * 2 + (p * p).sum()).backward()\nkeep = p\n"
        "p.data += -0.1 * p.grad\nw.data = w.data - 0.5 * w.grad\n"
        "q = torch.zeros(3)\nq.data = torch.arange(3.0)\n"
        "result = [p.tolist(), keep is p, p.requires_grad, w.tolist(), w.is_leaf, "
        "q.tolist()]"),
    "dunder_class": (
        "l = nn.Linear(1, 1)\nclass Mine:\n    pass\nm = Mine()\n"
        "result = [l.__class__.__name__, str(l.__class__), l.__class__ == nn.Linear, "
        "m.__class__ is Mine, (3).__class__.__name__, torch.ones(1).__class__ == "
        "torch.Tensor, type(l) == l.__class__]"),
    "dunder_call": (
        "class Scale:\n    def __init__(self, k):\n        self.k = k\n"
        "    def __call__(self, x, add=0):\n        return x * self.k + add\n"
        "class Twice(Scale):\n    pass\ns = Scale(3)\n"
        "result = [s(2), s(2, add=1), Twice(2)(torch.ones(2)).tolist(), "
        "sorted([3, 1, 2], key=s)]"),
    "return_types": (
        "x = torch.tensor([[1., 5, 2], [4, 0, 3]])\nr = torch.max(x, 0)\nv, i = r\n"
        "result = [r.values.tolist(), r.indices.tolist(), v.tolist(), r[1].tolist(), "
        "x.sort(dim=1).indices.tolist(), torch.topk(x, 2).values.tolist(), "
        "torch.aminmax(x).min.item(), torch.aminmax(x).max.item(), "
        "torch.median(x, 1).values.tolist(), torch.kthvalue(x, 2, 1).indices.tolist(), "
        "torch.mode(x, 1).values.tolist(), x.min(1).indices.tolist(), "
        "[t.tolist() for t in torch.std_mean(x, 1)], torch.cummax(x, 1).indices.tolist()]"),
    "torch_random": (
        "torch.random.manual_seed(seed=3)\na = torch.rand(2)\ntorch.manual_seed(3)\n"
        "b = torch.rand(2)\n"
        "result = [a.tolist(), torch.equal(a, b), torch.random.initial_seed()]"),
    "optimizer_checkpoint": (
        "w = nn.Parameter(torch.ones(4))\nopt = optim.Adam([w], lr=0.1)\n"
        "for i in range(2):\n    opt.zero_grad()\n    (w * w).sum().backward()\n"
        "    opt.step()\n"
        "checkpoint = {'opt': opt.state_dict(), 'w': w.detach().clone()}\n"
        "w2 = nn.Parameter(checkpoint['w'].clone())\nopt2 = optim.Adam([w2], lr=0.5)\n"
        "opt2.load_state_dict(checkpoint['opt'])\n"
        "opt2.zero_grad()\n(w2 * w2).sum().backward()\nopt2.step()\n"
        "opt.zero_grad()\n(w * w).sum().backward()\nopt.step()\n"
        "result = [w2.tolist(), w.tolist(), opt2.param_groups[0]['lr']]"),
    "default_device": (
        "with torch.device('cpu'):\n    m = nn.Linear(2, 3)\n    a = str(m.weight.device)\n"
        "torch.set_default_device('cpu')\nb = str(torch.ones(1).device)\n"
        "result = [a, b, str(torch.get_default_device())]"),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_matches_torch(sandbox: Sandbox, name: str) -> None:
    source = PROGRAMS[name]
    outcome = sandbox.run(source + "\nresult")
    assert outcome.body["ok"], outcome.body.get("error")
    try:
        expected = normalise(as_plain(reference_result(source)))
    finally:
        torch.set_default_device(None)  # the reference ran in this process
    assert normalise(plain(outcome.body["result"])) == expected


def test_a_lazy_layer_too_large_is_refused_before_it_allocates(sandbox: Sandbox) -> None:
    outcome = sandbox.run("l = nn.LazyLinear(10**5)\ny = l(torch.zeros(1, 5 * 10**4))")
    error = outcome.body["error"]
    assert (outcome.status, error["type"]) == (413, "LimitError")
    assert "would allocate 18.6 GB" in error["message"]


def test_an_uninitialised_lazy_layer_shows_as_torch_prints_it(sandbox: Sandbox) -> None:
    outcome = sandbox.run("net = nn.Sequential(nn.LazyLinear(3))\nprint(net)\nnet")
    assert outcome.body["ok"], outcome.body.get("error")
    expected = str(torch.nn.Sequential(torch.nn.LazyLinear(3)))
    assert outcome.body["stdout"] == expected + "\n"
    view = outcome.body["variables"]["net"]
    assert view["kind"] == "module" and view["num_parameters"] == 0
    assert [p["name"] for p in view["parameters"]] == ["0.weight", "0.bias"]


def test_the_lazy_parameters_count_as_the_programs_memory() -> None:
    """Made inside torch's pre-hook, they still count toward max_total_bytes."""
    small = Sandbox(Settings(max_total_bytes=64 * MiB))
    per_layer = 4 * 1024 * 1024
    layers = small.settings.max_total_bytes // per_layer + 2
    outcome = small.run(f"x = torch.zeros(1, 1024)\nkeep = []\nfor i in range({layers}):\n"
                        "    l = nn.LazyLinear(1024, bias=False)\n    l(x)\n    keep.append(l)")
    error = outcome.body["error"]
    assert error["type"] == "LimitError" and "max_total_bytes" in error["message"]
    assert "LazyLinear(...) would allocate 4.0 MB" in error["message"]
