"""Every exercise grades right: at least two other correct answers pass and at least two
plausible wrong answers fail, through the function the check route uses
(``evaluate_attempt``) on the sandbox's own runs, as a student would submit them."""

from __future__ import annotations

import pytest

from app.engine.program import Sandbox
from app.lessons.checker import evaluate_attempt
from app.lessons.loader import load_catalog
from app.lessons.models import ExerciseSection
from tests.japanese import in_japanese

CATALOG = load_catalog()

# exercise id -> (correct answers, wrong answers). Every program is whole, as submitted.
ANSWERS: dict[str, tuple[list[str], list[str]]] = {
    "ask-the-server": (
        ["available = torch.cuda.device_count() > 0\n"
         "device = 'cuda' if available else 'cpu'\ntorch.zeros((2, 3), device=device)",
         "available = torch.cuda.is_available()\n"
         "torch.zeros(2, 3).to('cuda' if available else 'cpu')"],
        ["available = torch.cuda.is_available\ntorch.zeros(2, 3)",
         "available = torch.cuda.is_available()\ntorch.zeros(3, 2)",
         "available = False\ntorch.zeros(2, 3, device='cpu')\n"
         "torch.zeros(2, 3, device='cuda' if torch.cuda.is_available() else 'cpu').int()"]),
    "scalar-not-size": (
        ["torch.tensor(3.0)", "torch.as_tensor(3)", "torch.tensor(3, dtype=torch.float64)"],
        ["torch.tensor([3])", "torch.Tensor(3)", "3", "torch.tensor(4)"]),
    "gradient-ready": (
        ["x = torch.tensor([2., 3., 4.], requires_grad=True)\ny = (x ** 2).sum()\ny.backward()",
         "x = torch.tensor([2, 3, 4], dtype=torch.float64, requires_grad=True)\n"
         "y = (x ** 2).sum()\ny.backward()",
         "x = torch.tensor([2, 3, 4]).float().requires_grad_()\ny = (x ** 2).sum()\n"
         "y.backward()"],
        ["x = torch.tensor([2, 3, 4], requires_grad=True)\ny = (x ** 2).sum()\ny.backward()",
         "x = torch.tensor([2., 3., 4.])\ny = (x ** 2).sum()",
         "x = torch.tensor([2., 3., 4.], requires_grad=True)\ny = (x ** 3).sum()\ny.backward()"]),
    "two-products": (
        ["A = torch.tensor([[1., 2., 3.], [4., 5., 6.]])\n"
         "B = torch.tensor([[1., 0.], [0., 1.], [1., 1.]])\nC = A @ B\nD = A ** 2",
         "A = torch.tensor([[1., 2., 3.], [4., 5., 6.]])\n"
         "B = torch.tensor([[1., 0.], [0., 1.], [1., 1.]])\nC = torch.matmul(A, B)\nD = A * A"],
        ["A = torch.tensor([[1., 2., 3.], [4., 5., 6.]])\n"
         "B = torch.tensor([[1., 0.], [0., 1.], [1., 1.]])\nC = A * B.T\nD = A * A",
         "A = torch.tensor([[1., 2., 3.], [4., 5., 6.]])\n"
         "B = torch.tensor([[1., 0.], [0., 1.], [1., 1.]])\nC = A @ B\nD = A @ A.T"]),
    "batched-product": (
        ["x = torch.arange(24.).reshape(2, 4, 3)\n"
         "W = torch.tensor([[1., 0.], [0., 1.], [1., -1.]])\ny = torch.matmul(x, W)",
         "x = torch.arange(24.).reshape(2, 4, 3)\n"
         "W = torch.tensor([[1., 0.], [0., 1.], [1., -1.]])\n"
         "y = torch.bmm(x, W.expand(2, 3, 2))",
         "x = torch.arange(24.).reshape(2, 4, 3)\n"
         "W = torch.tensor([[1., 0.], [0., 1.], [1., -1.]])\n"
         "y = torch.mm(x.reshape(8, 3), W).reshape(2, 4, 2)"],
        ["x = torch.arange(24.).reshape(2, 4, 3)\n"
         "W = torch.tensor([[1., 0.], [0., 1.], [1., -1.]])\ny = torch.mm(x, W)",
         "x = torch.arange(24.).reshape(2, 4, 3)\n"
         "W = torch.tensor([[1., 0.], [0., 1.], [1., -1.]])\n"
         "y = torch.mm(x.reshape(8, 3), W)",
         "x = torch.arange(24.).reshape(2, 4, 3)\n"
         "W = torch.tensor([[1., 0.], [0., 1.], [1., -1.]])\ny = x[..., :2] * W[0]"]),
    "keep-the-input": (
        ["a = torch.arange(4.)\nb = a + 1", "a = torch.arange(4.)\nb = a.clone().add_(1)"],
        ["a = torch.arange(4.)\nb = a.add_(1)", "a = torch.arange(4.)\nb = a\nb += 1"]),
    "update-in-place": (
        ["w = torch.tensor([1., 2., 3.], requires_grad=True)\noriginal = w\n"
         "g = torch.tensor([1., -1., 0.5])\nwith torch.no_grad():\n    w -= 0.1 * g\n"
         "loss = (w ** 2).sum()\nloss.backward()",
         "w = torch.tensor([1., 2., 3.], requires_grad=True)\noriginal = w\n"
         "g = torch.tensor([1., -1., 0.5])\nw.data.sub_(0.1 * g)\n"
         "loss = (w ** 2).sum()\nloss.backward()"],
        ["w = torch.tensor([1., 2., 3.], requires_grad=True)\noriginal = w\n"
         "g = torch.tensor([1., -1., 0.5])\nw = (w - 0.1 * g).detach().requires_grad_()\n"
         "loss = (w ** 2).sum()\nloss.backward()",
         "w = torch.tensor([1., 2., 3.], requires_grad=True)\noriginal = w\n"
         "g = torch.tensor([1., -1., 0.5])\nw = w - 0.1 * g\nloss = (w ** 2).sum()\n"
         "loss.backward()",
         "w = torch.tensor([1., 2., 3.], requires_grad=True)\noriginal = w\n"
         "g = torch.tensor([1., -1., 0.5])\nwith torch.no_grad():\n    w.add_(0.1 * g)\n"
         "loss = (w ** 2).sum()\nloss.backward()"]),
    "make-a-batch": (
        ["a = torch.arange(12.).reshape(3, 4)\nb = -torch.arange(12.).reshape(3, 4)\n"
         "batch = torch.cat((a.unsqueeze(0), b.unsqueeze(0)))",
         "a = torch.arange(12.).reshape(3, 4)\nb = -torch.arange(12.).reshape(3, 4)\n"
         "batch = torch.stack([a, b], dim=0)"],
        ["a = torch.arange(12.).reshape(3, 4)\nb = -torch.arange(12.).reshape(3, 4)\n"
         "batch = torch.stack((b, a))",
         "a = torch.arange(12.).reshape(3, 4)\nb = -torch.arange(12.).reshape(3, 4)\n"
         "batch = torch.cat((a, b))"]),
    "join-features": (
        ["img = torch.arange(20.).view(4, 5)\ntxt = -torch.arange(12.).view(4, 3)\n"
         "features = torch.hstack((img, txt))",
         "img = torch.arange(20.).view(4, 5)\ntxt = -torch.arange(12.).view(4, 3)\n"
         "features = torch.cat([img, txt], dim=-1)"],
        ["img = torch.arange(20.).view(4, 5)\ntxt = -torch.arange(12.).view(4, 3)\n"
         "features = torch.cat((img, txt.flip(0)), dim=1)",
         "img = torch.arange(20.).view(4, 5)\ntxt = -torch.arange(12.).view(4, 3)\n"
         "features = torch.cat((txt, img), dim=1)"]),
    "count-iterations": (
        ["dataset = TensorDataset(torch.arange(1000))\n"
         "loader = DataLoader(dataset, batch_size=64)\n"
         "epochs = 10\nper_epoch = math.ceil(len(dataset) / 64)\ntotal = per_epoch * epochs",
         "dataset = TensorDataset(torch.arange(1000))\n"
         "loader = DataLoader(dataset, batch_size=64)\n"
         "epochs = 10\nper_epoch = 0\nfor batch in loader:\n    per_epoch += 1\n"
         "total = len(loader) * epochs"],
        ["dataset = TensorDataset(torch.arange(1000))\n"
         "loader = DataLoader(dataset, batch_size=64)\n"
         "epochs = 10\nper_epoch = 1000 // 64\ntotal = per_epoch * epochs",
         "dataset = TensorDataset(torch.arange(1000))\n"
         "loader = DataLoader(dataset, batch_size=64)\n"
         "epochs = 10\nper_epoch = len(loader)\ntotal = 1000 / 64 * epochs"]),
    "last-batch": (
        ["dataset = TensorDataset(torch.arange(1000))\n"
         "loader = DataLoader(dataset, batch_size=64, drop_last=True)\n"
         "for batch in loader:\n    print(batch[0].shape[0])",
         "dataset = TensorDataset(torch.arange(1000))\n"
         "for (batch,) in DataLoader(dataset, 64, drop_last=True):\n    print(len(batch))"],
        ["dataset = TensorDataset(torch.arange(1000))\n"
         "loader = DataLoader(dataset, batch_size=64)\nfor (batch,) in loader:\n"
         "    print(len(batch))",
         "dataset = TensorDataset(torch.arange(1000))\n"
         "loader = DataLoader(dataset, batch_size=64, drop_last=True)\nprint(len(loader))"]),
    "half-precision": (
        ["x = torch.linspace(0, 1, 5)\nh = x.to(torch.float16)\nsize = h.itemsize",
         "x = torch.linspace(0, 1, 5)\nh = x.half()\nsize = h.nbytes // h.numel()"],
        ["x = torch.linspace(0, 1, 5)\nh = x.to(torch.float16)\nsize = x.element_size()",
         "x = torch.linspace(0, 1, 5)\nh = x.bfloat16()\nsize = h.element_size()"]),
    "class-labels": (
        ["raw = torch.tensor([0., 2., 1.])\nlabels = raw.to(torch.int64)",
         "raw = torch.tensor([0., 2., 1.])\nlabels = raw.type(torch.LongTensor)"],
        ["raw = torch.tensor([0., 2., 1.])\nlabels = raw.int()",
         "raw = torch.tensor([0., 2., 1.])\nlabels = raw.double()"]),
    "reproducible": (
        ["torch.manual_seed(42)\na = torch.randn((2, 3), dtype=torch.float64)\n"
         "b = torch.randint(10, (2, 3), dtype=torch.int8)",
         "torch.manual_seed(42)\na = torch.randn(2, 3, dtype=torch.double)\n"
         "b = torch.randint(low=0, high=10, size=(2, 3)).to(torch.int8)"],
        ["a = torch.randn(2, 3, dtype=torch.float64)\n"
         "b = torch.randint(0, 10, (2, 3), dtype=torch.int8)",
         "torch.manual_seed(42)\nb = torch.randint(0, 10, (2, 3), dtype=torch.int8)\n"
         "a = torch.randn(2, 3, dtype=torch.float64)",
         "torch.manual_seed(42)\na = torch.randn(2, 3).double()\n"
         "b = torch.randint(0, 10, (2, 3), dtype=torch.int8)"]),
    "share-memory": (
        ["a = np.ones(3)\nt = torch.as_tensor(a)\na[1] = 5.0\nt",
         "a = np.ones(3)\nt = torch.from_numpy(a)\na[1] = 5.0\nt.view(3)"],
        ["a = np.ones(3)\nt = torch.tensor(a)\na[1] = 5.0\nt",
         "a = np.ones(3)\nt = torch.from_numpy(a).float()\na[1] = 5.0\nt"]),
    "diagonal-column": (
        ["A = torch.arange(9.).view(3, 3)\n(torch.diag(A) * 10)[:, None]",
         "A = torch.arange(9.).view(3, 3)\n(A.diagonal() * 10).reshape(-1, 1)"],
        ["A = torch.arange(9.).view(3, 3)\ntorch.diag(A) * 10",
         "A = torch.arange(9.).view(3, 3)\n(torch.diag(A) * 10)[None, :]"]),
    "zero-last-row-then-clamp": (
        ["A = torch.arange(12.).view(3, 4)\noriginal = A\nA[-1].zero_()\nA.clamp_(0, 6)\nA",
         "A = torch.arange(12.).view(3, 4)\noriginal = A\nA[2, :] = torch.zeros(4)\n"
         "A.clamp_(min=0, max=6)\nA"],
        ["A = torch.arange(12.).view(3, 4)\noriginal = A\nA[-1] = 0\nA = A.clamp(max=6)\nA",
         "A = torch.arange(12.).view(3, 4)\noriginal = A\nA[:, -1] = 0\nA.clamp_(max=6)\nA",
         "A = torch.arange(12.).view(3, 4)\noriginal = A\nA = torch.cat((A[:2], "
         "torch.zeros(1, 4))).clamp(max=6)\nA"]),
    "stack-coordinates": (
        ["xs = torch.tensor([0., 1., 2., 3.])\nys = torch.tensor([5., 6., 7., 8.])\n"
         "points = torch.stack([xs, ys]).T\npoints",
         "xs = torch.tensor([0., 1., 2., 3.])\nys = torch.tensor([5., 6., 7., 8.])\n"
         "points = torch.stack((xs, ys), dim=1)\npoints"],
        ["xs = torch.tensor([0., 1., 2., 3.])\nys = torch.tensor([5., 6., 7., 8.])\n"
         "points = torch.stack((xs, ys))\npoints",
         "xs = torch.tensor([0., 1., 2., 3.])\nys = torch.tensor([5., 6., 7., 8.])\n"
         "points = torch.stack((ys, xs), dim=1)\npoints"]),
    "to-returns-a-new-tensor": (
        ["device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
         "t = torch.tensor([1, 2, 3])\nt = t.to(device=device, dtype=torch.float64)\nt",
         "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
         "t = torch.tensor([1, 2, 3])\nt = t.to(device, dtype=torch.double)\nt"],
        ["device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
         "t = torch.tensor([1, 2, 3])\nt.to(device, torch.float64)\nt",
         "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
         "t = torch.tensor([1, 2, 3])\nt = t.to(device, torch.float32)\nt"]),
    "result-to-numpy": (
        ["device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
         "x = torch.tensor([1., 2., 3.], device='cpu').to(device)\n"
         "x.pow(2).detach().cpu().numpy()",
         "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
         "x = torch.tensor([1., 2., 3.], device='cpu').to(device)\n"
         "y = x * x\ny.to('cpu').numpy()"],
        ["device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
         "x = torch.tensor([1., 2., 3.], device='cpu').to(device)\n(x ** 2).cpu()",
         "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')\n"
         "x = torch.tensor([1., 2., 3.], device='cpu').to(device)\n(x * 2).cpu().numpy()"]),
    "cube-gradient": (
        ["x = torch.tensor([1., 2., 3.]).requires_grad_()\nout = torch.sum(x.pow(3))\n"
         "out.backward()\nx.grad",
         "x = torch.tensor([1., 2., 3.], requires_grad=True)\nout = (x * x * x).sum()\n"
         "out.backward()\nx.grad"],
        ["x = torch.tensor([1., 2., 3.], requires_grad=True)\nout = (x ** 3).mean()\n"
         "out.backward()\nx.grad",
         "x = torch.tensor([1., 2., 3.], requires_grad=True)\nout = (x ** 2).sum()\n"
         "out.backward()\nx.grad"]),
    "keep-intermediate-gradient": (
        ["w = torch.tensor([0.5, -1.0], requires_grad=True)\nh = w * 4\nh.retain_grad()\n"
         "loss = h.pow(2).sum()\nloss.backward()\nh.grad",
         "w = torch.tensor([0.5, -1.0], requires_grad=True)\nh = torch.mul(w, 4)\n"
         "h.retain_grad()\nloss = (h * h).sum()\nloss.backward()\nh.grad"],
        ["w = torch.tensor([0.5, -1.0], requires_grad=True)\nh = w * 4\n"
         "loss = (h ** 2).sum()\nloss.backward()\nh.retain_grad()\nh.grad",
         "w = torch.tensor([0.5, -1.0], requires_grad=True)\nh = w * 4\nh.retain_grad()\n"
         "loss = h.sum()\nloss.backward()\nh.grad"]),
    "full-batches-only": (
        ["ds = TensorDataset(torch.arange(10.), torch.arange(10))\n"
         "loader = DataLoader(ds, batch_size=4, shuffle=True, drop_last=True)\n"
         "torch.tensor([len(yb) for xb, yb in loader])",
         "ds = TensorDataset(torch.arange(10.), torch.arange(10))\n"
         "loader = DataLoader(ds, 4, drop_last=True)\n"
         "torch.tensor([xb.shape[0] for xb, yb in loader])"],
        ["ds = TensorDataset(torch.arange(10.), torch.arange(10))\n"
         "loader = DataLoader(ds, batch_size=4, shuffle=True)\n"
         "torch.tensor([len(yb) for xb, yb in loader])",
         "ds = TensorDataset(torch.arange(10.), torch.arange(10))\n"
         "loader = DataLoader(ds, batch_size=5)\n"
         "torch.tensor([len(yb) for xb, yb in loader])"]),
    "pad-collate": (
        ["seqs = [torch.tensor([1.]), torch.tensor([2., 3.]), torch.tensor([4., 5., 6.])]\n\n"
         "def pad_collate(samples):\n    longest = max([len(s) for s in samples])\n"
         "    out = torch.zeros(len(samples), longest)\n    for i, s in enumerate(samples):\n"
         "        out[i, :len(s)] = s\n    return out\n\n"
         "loader = DataLoader(seqs, batch_size=3, collate_fn=pad_collate)\nnext(iter(loader))",
         "seqs = [torch.tensor([1.]), torch.tensor([2., 3.]), torch.tensor([4., 5., 6.])]\n\n"
         "def pad_collate(samples):\n"
         "    return nn.utils.rnn.pad_sequence(samples, batch_first=True)\n\n"
         "loader = DataLoader(seqs, batch_size=3, collate_fn=pad_collate)\nnext(iter(loader))"],
        ["seqs = [torch.tensor([1.]), torch.tensor([2., 3.]), torch.tensor([4., 5., 6.])]\n\n"
         "def pad_collate(samples):\n    longest = max([len(s) for s in samples])\n"
         "    return torch.stack([F.pad(s, (longest - len(s), 0)) for s in samples])\n\n"
         "loader = DataLoader(seqs, batch_size=3, collate_fn=pad_collate)\nnext(iter(loader))",
         "seqs = [torch.tensor([1.]), torch.tensor([2., 3.]), torch.tensor([4., 5., 6.])]\n\n"
         "def pad_collate(samples):\n"
         "    return nn.utils.rnn.pad_sequence(samples)\n\n"
         "loader = DataLoader(seqs, batch_size=3, collate_fn=pad_collate)\nnext(iter(loader))"]),
    "count-parameters": (
        ["model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))\n"
         "sum(p.numel() for p in model.parameters())",
         "model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))\ncount = 0\n"
         "for p in model.parameters():\n    count += p.numel()\ncount",
         "model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))\n"
         "nn.utils.parameters_to_vector(model.parameters()).numel()"],
        ["model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))\n"
         "len(list(model.parameters()))",
         "model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))\n"
         "sum([p.numel() for p in model.parameters() if p.ndim > 1])"]),
    "write-forward": (
        ["class TwoLayer(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
         "        self.fc1 = nn.Linear(4, 8)\n        self.fc2 = nn.Linear(8, 3)\n\n"
         "    def forward(self, x):\n        return self.fc2(F.relu(self.fc1(x)))\n\n"
         "model = TwoLayer()\nx = torch.randn(5, 4)\nmodel(x)",
         "class TwoLayer(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
         "        self.fc1 = nn.Linear(4, 8)\n        self.fc2 = nn.Linear(8, 3)\n"
         "        self.act = nn.ReLU()\n\n"
         "    def forward(self, x):\n        h = self.act(self.fc1(x))\n"
         "        return self.fc2(h)\n\n"
         "model = TwoLayer()\nx = torch.randn(5, 4)\nmodel(x)"],
        ["class TwoLayer(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
         "        self.fc1 = nn.Linear(4, 8)\n        self.fc2 = nn.Linear(8, 3)\n\n"
         "    def forward(self, x):\n        return self.fc2(self.fc1(x))\n\n"
         "model = TwoLayer()\nx = torch.randn(5, 4)\nmodel(x)",
         "class TwoLayer(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
         "        self.fc1 = nn.Linear(4, 8)\n        self.fc2 = nn.Linear(8, 3)\n\n"
         "    def forward(self, x):\n        return torch.relu(self.fc2(self.fc1(x)))\n\n"
         "model = TwoLayer()\nx = torch.randn(5, 4)\nmodel(x)"]),
    "mse-by-hand": (
        ["pred = torch.tensor([1.0, 2.0, 4.0, -1.0])\ntarget = torch.tensor([1.5, 2.0, 3.0, 0.0])\n"
         "loss = torch.mean((pred - target) ** 2)\nloss",
         "pred = torch.tensor([1.0, 2.0, 4.0, -1.0])\ntarget = torch.tensor([1.5, 2.0, 3.0, 0.0])\n"
         "loss = ((pred - target) ** 2).sum() / 4\nloss",
         "pred = torch.tensor([1.0, 2.0, 4.0, -1.0])\ntarget = torch.tensor([1.5, 2.0, 3.0, 0.0])\n"
         "loss = ((pred - target) ** 2).mean().item()\nloss"],
        ["pred = torch.tensor([1.0, 2.0, 4.0, -1.0])\ntarget = torch.tensor([1.5, 2.0, 3.0, 0.0])\n"
         "loss = ((pred - target) ** 2).sum()\nloss",
         "pred = torch.tensor([1.0, 2.0, 4.0, -1.0])\ntarget = torch.tensor([1.5, 2.0, 3.0, 0.0])\n"
         "loss = (pred - target).abs().mean()\nloss",
         "pred = torch.tensor([1.0, 2.0, 4.0, -1.0])\ntarget = torch.tensor([1.5, 2.0, 3.0, 0.0])\n"
         "loss = (pred - target) ** 2\nloss"]),
    "cross-entropy-by-hand": (
        ["logits = torch.tensor([[1.0, 2.0, 0.5, -1.0], [0.0, 0.0, 3.0, 1.0], "
         "[2.0, -1.0, 0.0, 0.5]])\ntarget = torch.tensor([1, 2, 3])\n"
         "log_p = F.log_softmax(logits, dim=1)\n"
         "loss = -log_p.gather(1, target[:, None]).mean()\nloss",
         "logits = torch.tensor([[1.0, 2.0, 0.5, -1.0], [0.0, 0.0, 3.0, 1.0], "
         "[2.0, -1.0, 0.0, 0.5]])\ntarget = torch.tensor([1, 2, 3])\n"
         "log_p = F.log_softmax(logits, dim=1)\n"
         "loss = -(log_p * F.one_hot(target, 4)).sum(dim=1).mean()\nloss"],
        ["logits = torch.tensor([[1.0, 2.0, 0.5, -1.0], [0.0, 0.0, 3.0, 1.0], "
         "[2.0, -1.0, 0.0, 0.5]])\ntarget = torch.tensor([1, 2, 3])\n"
         "log_p = F.log_softmax(logits, dim=1)\nloss = -log_p.mean()\nloss",
         "logits = torch.tensor([[1.0, 2.0, 0.5, -1.0], [0.0, 0.0, 3.0, 1.0], "
         "[2.0, -1.0, 0.0, 0.5]])\ntarget = torch.tensor([1, 2, 3])\n"
         "log_p = F.log_softmax(logits, dim=1)\n"
         "loss = -log_p[torch.arange(3), target].sum()\nloss"]),
    "weighted-loss-module": (
        ["class WeightedLoss(nn.Module):\n    def __init__(self, alpha):\n"
         "        super().__init__()\n        self.alpha = alpha\n\n"
         "    def forward(self, pred, target):\n"
         "        return self.alpha * F.mse_loss(pred, target) + (1 - self.alpha) * "
         "F.l1_loss(pred, target)\n\n"
         "pred = torch.tensor([0.5, 2.0, -1.0], requires_grad=True)\n"
         "target = torch.tensor([0.0, 1.0, 1.0])\n"
         "loss = WeightedLoss(alpha=0.8)(pred, target)\nloss.backward()\npred.grad",
         "class WeightedLoss(nn.Module):\n    def __init__(self, alpha):\n"
         "        super().__init__()\n        self.alpha = alpha\n        self.mse = nn.MSELoss()\n"
         "        self.l1 = nn.L1Loss()\n\n"
         "    def forward(self, pred, target):\n        a = self.alpha\n"
         "        return a * self.mse(pred, target) + (1 - a) * self.l1(pred, target)\n\n"
         "pred = torch.tensor([0.5, 2.0, -1.0], requires_grad=True)\n"
         "target = torch.tensor([0.0, 1.0, 1.0])\n"
         "loss = WeightedLoss(alpha=0.8)(pred, target)\nloss.backward()\npred.grad"],
        ["class WeightedLoss(nn.Module):\n    def __init__(self, alpha):\n"
         "        super().__init__()\n        self.alpha = alpha\n\n"
         "    def forward(self, pred, target):\n"
         "        return (1 - self.alpha) * F.mse_loss(pred, target) + self.alpha * "
         "F.l1_loss(pred, target)\n\n"
         "pred = torch.tensor([0.5, 2.0, -1.0], requires_grad=True)\n"
         "target = torch.tensor([0.0, 1.0, 1.0])\n"
         "loss = WeightedLoss(alpha=0.8)(pred, target)\nloss.backward()\npred.grad",
         "class WeightedLoss(nn.Module):\n    def __init__(self, alpha):\n"
         "        super().__init__()\n        self.alpha = alpha\n\n"
         "    def forward(self, pred, target):\n"
         "        return self.alpha * F.mse_loss(pred, target, reduction='sum') + "
         "(1 - self.alpha) * F.l1_loss(pred, target, reduction='sum')\n\n"
         "pred = torch.tensor([0.5, 2.0, -1.0], requires_grad=True)\n"
         "target = torch.tensor([0.0, 1.0, 1.0])\n"
         "loss = WeightedLoss(alpha=0.8)(pred, target)\nloss.backward()\npred.grad"]),
    "momentum-by-hand": (
        ["theta = torch.tensor([1.0, -2.0])\nv = torch.zeros(2)\nfor step in range(3):\n"
         "    g = 2 * theta\n    v.mul_(0.9).add_(g)\n    theta.sub_(0.1 * v)\ntheta",
         "theta = torch.tensor([1.0, -2.0])\nv = torch.zeros(2)\nfor step in range(3):\n"
         "    g = 2 * theta\n    v = 0.9 * v + g\n    theta -= 0.1 * v\ntheta"],
        ["theta = torch.tensor([1.0, -2.0])\nv = torch.zeros(2)\nfor step in range(3):\n"
         "    g = 2 * theta\n    v = g\n    theta = theta - 0.1 * v\ntheta",
         "theta = torch.tensor([1.0, -2.0])\nv = torch.zeros(2)\nfor step in range(3):\n"
         "    g = 2 * theta\n    v = 0.9 * v + 0.1 * g\n    theta = theta - 0.1 * v\ntheta"]),
    "two-parameter-groups": (
        ["class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
         "        self.body = nn.Linear(4, 4)\n        self.head = nn.Linear(4, 2)\n\n"
         "model = Net()\noptimizer = optim.SGD([\n    {'params': model.body.parameters()},\n"
         "    {'params': model.head.parameters(), 'lr': 0.01},\n], lr=0.001)\n"
         "[(tuple(group['params'][0].shape), group['lr']) for group in optimizer.param_groups]",
         "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
         "        self.body = nn.Linear(4, 4)\n        self.head = nn.Linear(4, 2)\n\n"
         "model = Net()\noptimizer = optim.SGD(\n"
         "    [dict(params=list(model.body.parameters()), lr=0.001),\n"
         "     dict(params=list(model.head.parameters()), lr=0.01)])\n"
         "[(tuple(group['params'][0].shape), group['lr']) for group in optimizer.param_groups]"],
        ["class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
         "        self.body = nn.Linear(4, 4)\n        self.head = nn.Linear(4, 2)\n\n"
         "model = Net()\noptimizer = optim.SGD([\n"
         "    {'params': model.head.parameters(), 'lr': 0.001},\n"
         "    {'params': model.body.parameters(), 'lr': 0.01},\n])\n"
         "[(tuple(group['params'][0].shape), group['lr']) for group in optimizer.param_groups]",
         "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
         "        self.body = nn.Linear(4, 4)\n        self.head = nn.Linear(4, 2)\n\n"
         "model = Net()\noptimizer = optim.SGD([\n"
         "    {'params': model.body.parameters(), 'lr': 0.01},\n"
         "    {'params': model.head.parameters(), 'lr': 0.001},\n])\n"
         "[(tuple(group['params'][0].shape), group['lr']) for group in optimizer.param_groups]"]),
    "clip-the-norm": (
        ["model = nn.Linear(3, 1)\nloss = (model(torch.ones(2, 3) * 10) ** 2).sum()\n"
         "loss.backward()\nnn.utils.clip_grad_norm_(model.parameters(), 1)\n"
         "torch.cat([p.grad.flatten() for p in model.parameters()]).norm()",
         "model = nn.Linear(3, 1)\nloss = (model(torch.ones(2, 3) * 10) ** 2).sum()\n"
         "loss.backward()\n"
         "norm = torch.cat([p.grad.flatten() for p in model.parameters()]).norm()\n"
         "for p in model.parameters():\n    p.grad.mul_(1.0 / norm)\n"
         "torch.cat([p.grad.flatten() for p in model.parameters()]).norm()"],
        ["model = nn.Linear(3, 1)\nloss = (model(torch.ones(2, 3) * 10) ** 2).sum()\n"
         "loss.backward()\nnn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)\n"
         "torch.cat([p.grad.flatten() for p in model.parameters()]).norm()",
         "model = nn.Linear(3, 1)\nloss = (model(torch.ones(2, 3) * 10) ** 2).sum()\n"
         "loss.backward()\nnn.utils.clip_grad_value_(model.parameters(), clip_value=1.0)\n"
         "torch.cat([p.grad.flatten() for p in model.parameters()]).norm()",
         "model = nn.Linear(3, 1)\nloss = (model(torch.ones(2, 3) * 10) ** 2).sum()\n"
         "loss.backward()\n"
         "torch.cat([p.grad.flatten() for p in model.parameters()]).norm()"]),
    "fix-the-loop": (
        ["w = torch.tensor([4.0], requires_grad=True)\noptimizer = optim.SGD([w], lr=0.1)\n"
         "for step in range(5):\n    loss = (w ** 2).sum()\n    loss.backward()\n"
         "    optimizer.step()\n    optimizer.zero_grad()\nw",
         "w = torch.tensor([4.0], requires_grad=True)\noptimizer = optim.SGD([w], lr=0.1)\n"
         "for step in range(5):\n    optimizer.zero_grad(set_to_none=True)\n"
         "    loss = (w ** 2).sum()\n    loss.backward()\n    optimizer.step()\nw"],
        ["w = torch.tensor([4.0], requires_grad=True)\noptimizer = optim.SGD([w], lr=0.1)\n"
         "for step in range(5):\n    loss = (w ** 2).sum()\n    loss.backward()\n"
         "    optimizer.zero_grad()\n    optimizer.step()\nw",
         "w = torch.tensor([4.0], requires_grad=True)\noptimizer = optim.SGD([w], lr=0.1)\n"
         "optimizer.zero_grad()\nfor step in range(5):\n    loss = (w ** 2).sum()\n"
         "    loss.backward()\n    optimizer.step()\nw"]),
    "scheduler-per-epoch": (
        ["p = torch.zeros(1, requires_grad=True)\noptimizer = optim.SGD([p], lr=0.1)\n"
         "scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)\n"
         "for epoch in range(4):\n    for batch in range(5):\n        optimizer.step()\n"
         "    scheduler.step()\noptimizer.param_groups[0]['lr']",
         "p = torch.zeros(1, requires_grad=True)\noptimizer = optim.SGD([p], lr=0.1)\n"
         "scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)\n"
         "for epoch in range(4):\n    for batch in range(5):\n        optimizer.step()\n"
         "    scheduler.step()\nscheduler.get_last_lr()[0]"],
        ["p = torch.zeros(1, requires_grad=True)\noptimizer = optim.SGD([p], lr=0.1)\n"
         "scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)\n"
         "for epoch in range(4):\n    for batch in range(5):\n        optimizer.step()\n"
         "        scheduler.step()\nscheduler.get_last_lr()[0]",
         "p = torch.zeros(1, requires_grad=True)\noptimizer = optim.SGD([p], lr=0.1)\n"
         "scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)\n"
         "for epoch in range(4):\n    scheduler.step()\n    for batch in range(5):\n"
         "        optimizer.step()\n    scheduler.step()\nscheduler.get_last_lr()[0]"]),
    "no-decay-group": (
        ["model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))\n"
         "decay, no_decay = [], []\nfor name, p in model.named_parameters():\n"
         "    if p.ndim > 1:\n        decay.append(p)\n    else:\n        no_decay.append(p)\n"
         "optimizer = optim.AdamW([{'params': decay},\n"
         "                         {'params': no_decay, 'weight_decay': 0.0}],\n"
         "                        lr=1e-3, weight_decay=0.01)\n"
         "[(len(group['params']), group['weight_decay']) for group in optimizer.param_groups]",
         "model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))\n"
         "params = list(model.parameters())\n"
         "optimizer = optim.AdamW([\n"
         "    dict(params=[p for p in params if p.dim() >= 2], weight_decay=0.01),\n"
         "    dict(params=[p for p in params if p.dim() < 2], weight_decay=0.0)], lr=1e-3)\n"
         "[(len(group['params']), group['weight_decay']) for group in optimizer.param_groups]"],
        ["model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))\n"
         "decay = [p for p in model.parameters() if p.ndim > 1]\n"
         "no_decay = [p for p in model.parameters() if p.ndim <= 1]\n"
         "optimizer = optim.AdamW([\n    {'params': decay, 'weight_decay': 0.0},\n"
         "    {'params': no_decay, 'weight_decay': 0.01},\n], lr=1e-3)\n"
         "[(len(group['params']), group['weight_decay']) for group in optimizer.param_groups]",
         "model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))\n"
         "bn = list(model[1].parameters())\n"
         "others = list(model[0].parameters()) + list(model[3].parameters())\n"
         "optimizer = optim.AdamW([\n    {'params': others, 'weight_decay': 0.01},\n"
         "    {'params': bn, 'weight_decay': 0.0},\n], lr=1e-3)\n"
         "[(len(group['params']), group['weight_decay']) for group in optimizer.param_groups]"]),
}

EXERCISES = {e.id: (lesson.id, e) for lesson in CATALOG.lessons for e in lesson.exercises}
CASES = [pytest.param(eid, code, True, id=f"{eid}-right{i}")
         for eid, (right, _) in ANSWERS.items() for i, code in enumerate(right)] + [
         pytest.param(eid, code, False, id=f"{eid}-wrong{i}")
         for eid, (_, wrong) in ANSWERS.items() for i, code in enumerate(wrong)]
_references: dict[str, dict[str, object]] = {}


def test_every_exercise_has_two_right_and_two_wrong_answers() -> None:
    assert set(ANSWERS) == set(EXERCISES)
    for exercise_id, (right, wrong) in ANSWERS.items():
        assert len(right) >= 2 and len(wrong) >= 2, exercise_id


def _reference(sandbox: Sandbox, exercise: ExerciseSection) -> dict[str, object]:
    if exercise.id not in _references:
        _references[exercise.id] = sandbox.run(exercise.solution, exercise.seed, "auto").body
    return _references[exercise.id]


@pytest.mark.parametrize(("exercise_id", "code", "is_right"), CASES)
def test_an_answer_is_graded_right(sandbox: Sandbox, exercise_id: str, code: str,
                                   is_right: bool) -> None:
    _lesson, exercise = EXERCISES[exercise_id]
    student = sandbox.run(code, exercise.seed, "auto").body
    problems, checked = evaluate_attempt(student, _reference(sandbox, exercise),
                                         exercise.checks)
    said = [str(p) for p in problems]
    if is_right:
        assert student["ok"], student.get("error")
        assert checked and not problems, said
    else:
        assert problems, "a wrong answer passed"
        assert all(in_japanese(p) for p in problems)
