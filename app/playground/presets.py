"""Example programs for the scratchpad and the compare presets.

Titles and notes are English msgids marked with ``N_`` so Babel extracts them; the
templates translate them at render time (``_(preset.title)``).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.message import N_


@dataclass(frozen=True)
class Example:
    slug: str
    title: str
    code: str


@dataclass(frozen=True)
class ComparePreset:
    slug: str
    title: str
    note: str  # the lesson the pair teaches, one sentence
    inputs: str  # shared by both sides: the same named inputs
    left: str
    right: str


EXAMPLES: tuple[Example, ...] = (
    Example("matmul", N_("Matrix multiply"), """\
A = torch.tensor([[1, 2, 3], [4, 5, 6]])    # 2x3
B = torch.tensor([[1, 4], [2, 5], [3, 6]])  # 3x2
C = torch.mm(A, B)                          # 2x2
print(C.shape)
C
"""),
    Example("add-inplace", N_("add vs add_ (storage)"), """\
a = torch.ones(3)
b = a.add(1)        # a new tensor with its own storage
c = a.add_(1)       # in place: c is a, and the version counter bumps
v = a.view(3, 1)    # a view: same storage, shape 3x1
a
"""),
    Example("views", N_("Views and copies"), """\
x = torch.arange(6).reshape(2, 3)  # 2x3
t = x.t()                # 3x2 view of x, not contiguous
r = t.reshape(6)         # 6: a copy, because t is not contiguous
c = t.contiguous()       # 3x2 copy laid out row by row
s = torch.stack([x, x])  # 2x2x3 in new storage
s
"""),
    Example("backward", N_("Autograd: backward"), """\
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
y = (w * x).sum()   # scalar
y.backward()
x.grad
"""),
    Example("detach", N_("no_grad and detach"), """\
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x * 3
z = y.detach()      # same values, cut from the graph
with torch.no_grad():
    n = x * 2       # not recorded by autograd
loss = (y * z).sum()
loss.backward()
x.grad
"""),
    Example("slices", N_("A 3-D tensor"), """\
t = torch.arange(24).reshape(2, 3, 4)  # 2x3x4
t[1]                                   # 3x4
"""),
    Example("broadcast", N_("Broadcasting"), """\
col = torch.tensor([[1.0], [2.0], [3.0]])  # 3x1
row = torch.tensor([10.0, 20.0])           # 2
col + row                                  # 3x2
"""),
    Example("random", N_("Random numbers (seeded)"), """\
g = torch.randn(4, 5)   # same numbers for the same seed
g.mean()
"""),
    Example("plot", N_("A plot (matplotlib)"), """\
import matplotlib.pyplot as plt
x = torch.linspace(-3, 3, 61, requires_grad=True)
y = torch.tanh(x)
y.sum().backward()                     # x.grad = 1 - tanh(x)^2
plt.plot(x.detach(), y.detach(), label="tanh(x)")
plt.plot(x.detach(), x.grad, "--", label="d/dx (autograd)")
plt.title("tanh and its gradient")
plt.xlabel("x")
plt.legend()
plt.grid(True)
"""),
    Example("shape-error", N_("A shape error"), """\
a = torch.ones(2, 3)
b = torch.ones(2, 3)
torch.mm(a, b)
"""),
)

COMPARE_PRESETS: tuple[ComparePreset, ...] = (
    ComparePreset(
        "stack-cat", N_("stack vs cat"),
        N_("cat joins tensors along an existing dimension; stack adds a new one."),
        "a = torch.arange(6.0).reshape(2, 3)        # 2x3\n"
        "b = torch.arange(6.0, 12.0).reshape(2, 3)  # 2x3\n",
        "torch.stack([a, b])  # 2x2x3\n",
        "torch.cat([a, b])    # 4x3\n"),
    ComparePreset(
        "mm-mul", N_("mm vs mul"),
        N_("mm is the matrix product (rows times columns); * multiplies element by element."),
        "a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])\n"
        "b = torch.tensor([[5.0, 6.0], [7.0, 8.0]])\n",
        "torch.mm(a, b)\n",
        "a * b\n"),
    ComparePreset(
        "matmul-mm", N_("matmul vs mm"),
        N_("matmul broadcasts over leading batch dimensions; mm only takes 2-D matrices."),
        "a = torch.randn(4, 2, 3)  # a batch of four 2x3 matrices\n"
        "b = torch.randn(3, 5)     # 3x5\n",
        "torch.matmul(a, b)  # 4x2x5\n",
        "torch.mm(a, b)\n"),
    ComparePreset(
        "add-inplace", N_("add vs add_"),
        N_("add returns a new tensor; add_ writes into a, bumping its version counter."),
        "a = torch.ones(3)\n"
        "b = torch.arange(3.0)\n",
        "a.add(b)\n",
        "a.add_(b)\n"),
    ComparePreset(
        "view-reshape", N_("reshape vs view"),
        N_("view needs compatible strides and never copies; reshape copies when it must."),
        "x = torch.arange(6).reshape(2, 3)  # 2x3\n"
        "t = x.t()                          # 3x2, not contiguous\n",
        "t.reshape(6)\n",
        "t.view(6)\n"),
    ComparePreset(
        "tensor-ctor", N_("torch.Tensor vs torch.tensor"),
        N_("torch.Tensor always makes float32; torch.tensor infers the dtype from the data."),
        "data = [1, 2, 3]\n",
        "torch.Tensor(data)\n",
        "torch.tensor(data)\n"),
)


def example(slug: str | None) -> Example | None:
    return next((e for e in EXAMPLES if e.slug == slug), None)


def compare_preset(slug: str | None) -> ComparePreset | None:
    return next((p for p in COMPARE_PRESETS if p.slug == slug), None)
