"""The guide's examples run in the sandbox and give what PyTorch really gives.

Each test runs a program through the in-process sandbox and compares with torch run
directly in the test (the reference), never with numbers copied from the guide alone.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from app.engine.program import Sandbox

SEED_A = "A = torch.tensor([[1, 2, 3], [4, 5, 6]])\nB = torch.tensor([[1, 4], [2, 5], [3, 6]])\n"
SQUARE_AB = "A = torch.tensor([[1, 2], [3, 4]])\nB = torch.tensor([[5, 6], [7, 8]])\n"


def run_ok(sandbox: Sandbox, code: str, seed: int = 0) -> dict[str, Any]:
    outcome = sandbox.run(code, seed=seed)
    assert outcome.status == 200, outcome.body
    assert outcome.body["ok"], outcome.body.get("error")
    return outcome.body


def assert_values(values: Any, expected: torch.Tensor, **tolerance: float) -> None:
    """Compare a view's nested values with a reference tensor, within float tolerance."""
    torch.testing.assert_close(torch.tensor(values, dtype=expected.dtype), expected,
                               **tolerance)


def run_error(sandbox: Sandbox, code: str) -> dict[str, Any]:
    outcome = sandbox.run(code)
    assert outcome.body["ok"] is False, outcome.body
    return outcome.body["error"]


def test_tensor_from_sizes_vs_from_data(sandbox: Sandbox) -> None:
    assert run_ok(sandbox, "torch.Tensor(2,3,4).size()")["result"] == {
        "kind": "shape", "value": list(torch.Tensor(2, 3, 4).size())}
    assert run_ok(sandbox, "torch.Tensor([2,3,4]).size()")["result"] == {
        "kind": "shape", "value": [3]}


def test_tensor_vs_Tensor_dtype(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, "a = torch.tensor([1, 2, 3])\nb = torch.Tensor([1, 2, 3])\n"
                           "c = torch.tensor([1, 2, 3], dtype=torch.float32)")
    assert body["variables"]["a"]["dtype"] == str(torch.tensor([1, 2, 3]).dtype)[6:]
    assert body["variables"]["b"]["dtype"] == "float32"
    assert body["variables"]["c"]["values"] == [1.0, 2.0, 3.0]


def test_mm_and_mul(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, SEED_A + "torch.mm(A, B)")
    expected = torch.mm(torch.tensor([[1, 2, 3], [4, 5, 6]]),
                        torch.tensor([[1, 4], [2, 5], [3, 6]]))
    assert body["result"]["values"] == expected.tolist() == [[14, 32], [32, 77]]
    body = run_ok(sandbox, SQUARE_AB + "torch.mul(A, B)")
    assert body["result"]["values"] == [[5, 12], [21, 32]]


@pytest.mark.parametrize("dim", [0, 1])
def test_stack_dims(sandbox: Sandbox, dim: int) -> None:
    body = run_ok(sandbox, SQUARE_AB + f"torch.stack((A, B), dim={dim})")
    a, b = torch.tensor([[1, 2], [3, 4]]), torch.tensor([[5, 6], [7, 8]])
    expected = torch.stack((a, b), dim=dim)
    assert body["result"]["shape"] == [2, 2, 2]
    assert body["result"]["values"] == expected.tolist()


@pytest.mark.parametrize(("dim", "shape"), [(0, [4, 3]), (1, [2, 6])])
def test_cat_shapes(sandbox: Sandbox, dim: int, shape: list[int]) -> None:
    body = run_ok(sandbox, f"A = torch.randn(2, 3)\nB = torch.randn(2, 3)\n"
                           f"C = torch.cat((A, B), dim={dim})\nprint(C.shape)\nC")
    assert body["result"]["shape"] == shape
    assert body["stdout"] == f"torch.Size({shape})\n"


def test_stack_of_unequal_shapes_is_a_runtime_error_with_hint(sandbox: Sandbox) -> None:
    error = run_error(sandbox, "A = torch.rand(2,3)\nB = torch.rand(3,2)\ntorch.stack((A, B))")
    assert error["type"] == "RuntimeError"
    assert error["line"] == 3
    assert "same shape" in error["hint"]


def test_stack_dim_2_works_although_the_guide_says_index_error(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, "A = torch.rand(2,3)\nB = torch.rand(2,3)\ntorch.stack((A, B), dim=2)")
    assert body["result"]["shape"] == [2, 3, 2]


@pytest.mark.parametrize("code", ["torch.stack((A, B), dim=3)", "torch.cat((A, B), dim=2)"])
def test_dims_out_of_range_are_index_errors_with_hint(sandbox: Sandbox, code: str) -> None:
    error = run_error(sandbox, "A = torch.rand(2,3)\nB = torch.rand(2,3)\n" + code)
    assert error["type"] == "IndexError"
    assert "Dimension out of range" in error["message"]
    assert "dim" in error["hint"]


def test_autograd_with_the_guides_rounded_x(sandbox: Sandbox) -> None:
    code = ("x = torch.tensor([[-0.5736,-0.2012],[1.3563,0.5499]], requires_grad=True)\n"
            "y = x + 2\nz = y * y * 3\nout = z.mean()\nprint(out)\nout.backward()\nx.grad")
    body = run_ok(sandbox, code)
    x = torch.tensor([[-0.5736, -0.2012], [1.3563, 0.5499]], requires_grad=True)
    out = ((x + 2) * (x + 2) * 3).mean()
    out.backward()
    assert x.grad is not None
    assert body["stdout"] == "tensor(17.2778, grad_fn=<MeanBackward0>)\n"
    assert_values(body["result"]["values"], x.grad)
    assert body["result"]["repr"] == "tensor([[2.1396, 2.6982],\n        [5.0344, 3.8249]])"


def test_randn_autograd_grad_is_1_5_times_x_plus_2_and_graph(sandbox: Sandbox) -> None:
    code = ("x = torch.randn(2,2,requires_grad=True)\ny = x + 2\nz = y*y*3\nout = z.mean()\n"
            "out.backward()\nx.grad")
    body = run_ok(sandbox, code, seed=7)
    torch.manual_seed(7)
    x = torch.randn(2, 2)
    assert_values(body["variables"]["x"]["values"], x)
    assert_values(body["result"]["values"], 1.5 * (x + 2))
    graph = body["graph"]
    labels = {node["id"]: node for node in graph["nodes"]}
    leaf = next(n for n in graph["nodes"] if n["label"] == "AccumulateGrad")
    assert leaf["var"] == "x" and leaf["kind"] == "leaf"
    assert leaf["grad"]["values"] == body["result"]["values"]
    mean = next(n for n in graph["nodes"] if n["label"] == "MeanBackward0")
    assert mean["var"] == "out"
    # Walk forward from the leaf along edges: it must reach MeanBackward0.
    reach, frontier = set(), [leaf["id"]]
    while frontier:
        current = frontier.pop()
        reach.add(current)
        frontier.extend(e["to"] for e in graph["edges"] if e["from"] == current
                        and e["to"] not in reach)
    assert mean["id"] in reach
    assert {labels[i]["label"] for i in reach} >= {"AddBackward0", "MulBackward0"}


def test_add_vs_add_in_place_storage_and_version(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, "t = torch.ones(3)\nu = t.add(1)\nv = t.add_(1)")
    t, u, v = (body["variables"][name] for name in "tuv")
    assert t["values"] == [2.0, 2.0, 2.0]
    assert u["values"] == [2.0, 2.0, 2.0]
    assert v["storage"]["id"] == t["storage"]["id"]
    assert u["storage"]["id"] != t["storage"]["id"]
    assert t["storage"]["version"] == 1 and u["storage"]["version"] == 0
    assert "v" in t["storage"]["shares_with"] and "u" not in t["storage"]["shares_with"]
    # The trace shows the version before and after the in-place op.
    step_t, step_u, step_v = body["steps"]
    assert step_t["value"]["storage"]["version"] == 0
    assert step_u["value"]["storage"]["id"] != step_t["value"]["storage"]["id"]
    assert step_v["value"]["storage"]["version"] == 1


def test_no_grad_detach_requires_grad_and_retain_grad(sandbox: Sandbox) -> None:
    code = ("x = torch.randn(2, 2, requires_grad=True)\n"
            "with torch.no_grad():\n    y = x * 2\n"
            "@torch.no_grad()\ndef inference():\n    return x * 2\n"
            "w = inference()\nd = x.detach()\n"
            "h = x * 3\nh.retain_grad()\nh.sum().backward()\n"
            "before = x.requires_grad\nx.requires_grad_(False)\nafter = x.requires_grad")
    body = run_ok(sandbox, code)
    variables = body["variables"]
    assert variables["y"]["requires_grad"] is False
    assert variables["w"]["requires_grad"] is False
    assert variables["d"]["requires_grad"] is False
    assert variables["d"]["storage"]["id"] == variables["x"]["storage"]["id"]
    assert variables["h"]["grad"]["values"] == [[1.0, 1.0], [1.0, 1.0]]
    assert variables["x"]["grad"]["values"] == [[3.0, 3.0], [3.0, 3.0]]
    assert variables["before"]["value"] is True and variables["after"]["value"] is False


def test_cuda_without_gpu_falls_back_with_notice(sandbox: Sandbox) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    body = run_ok(sandbox, "x = torch.tensor([1, 2], device='cuda')\ny = x.cuda()\nx")
    assert body["result"]["device"] == "cpu"
    assert any("no CUDA GPU" in n for n in body["notices"])


def test_cuda_fallback_error_setting(settings: Any) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    strict = Sandbox(settings.model_copy(update={"cuda_fallback": "error"}))
    outcome = strict.run("torch.ones(2, device='cuda')")
    assert outcome.body["ok"] is False
    assert "no CUDA GPU" in outcome.body["error"]["message"]


# --------------------------------------------------------------------------- longer blocks
SIMPLE_NN = """import torch
import torch.nn as nn
import torch.optim as optim

class SimpleNN(nn.Module):
    def __init__(self):
        super(SimpleNN, self).__init__()
        self.fc1 = nn.Linear(1024, 224)
        self.fc2 = nn.Linear(224, 10)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = self.fc2(x)
        return x

model = SimpleNN()
print(model)
"""


class ReferenceSimpleNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(1024, 224)
        self.fc2 = nn.Linear(224, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.relu(self.fc1(x)))


def test_simple_nn_prints_its_structure(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, SIMPLE_NN)
    assert body["stdout"] == (
        "SimpleNN(\n  (fc1): Linear(in_features=1024, out_features=224, bias=True)\n"
        "  (fc2): Linear(in_features=224, out_features=10, bias=True)\n)\n")
    module = body["variables"]["model"]
    assert module["kind"] == "module"
    assert module["num_parameters"] == sum(p.numel() for p in ReferenceSimpleNN().parameters())


def test_simple_nn_forward_matches_torch(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, SIMPLE_NN + "x = torch.randn(3, 1024)\nmodel(x)", seed=3)
    torch.manual_seed(3)
    reference = ReferenceSimpleNN()
    x = torch.randn(3, 1024)
    assert_values(body["result"]["values"], reference(x).detach(), atol=1e-5, rtol=1e-4)


CUSTOM_DATASET = """from torch.utils.data import DataLoader, Dataset

class CustomDataset(Dataset):
    def __init__(self, data, targets):
        self.data = data
        self.targets = targets

    def __getitem__(self, index):
        return self.data[index], self.targets[index]

    def __len__(self):
        return len(self.data)

data_samples = torch.arange(20.0).reshape(10, 2)
target_labels = torch.arange(10)
num_epochs = 2
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
train_dataset = CustomDataset(data_samples, target_labels)
train_loader = DataLoader(
    dataset=train_dataset,
    batch_size=4,
    shuffle=True,
    num_workers=4
)
seen = []
for epoch in range(num_epochs):
    for batch_data, batch_labels in train_loader:
        batch_data = batch_data.to(device)
        batch_labels = batch_labels.to(device)
        seen.append(batch_labels.tolist())
seen
"""


def test_custom_dataset_and_dataloader_batches_like_torch(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, CUSTOM_DATASET, seed=11)
    torch.manual_seed(11)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.arange(20.0).reshape(10, 2), torch.arange(10)),
        batch_size=4, shuffle=True)
    expected = [labels.tolist() for _ in range(2) for _, labels in loader]
    got = [[item["value"] for item in batch["items"]] for batch in body["result"]["items"]]
    assert got == expected
    assert [len(b) for b in got] == [4, 4, 2, 4, 4, 2]
    assert any("num_workers=4" in n for n in body["notices"])


CUSTOM_LOSSES = """class CustomLoss(nn.Module):
    def __init__(self, alpha=0.5):
        super().__init__()
        self.alpha = alpha

    def forward(self, pred, target):
        mse = torch.mean((pred - target)**2)
        l1 = torch.mean(torch.abs(pred - target))
        return self.alpha * mse + (1 - self.alpha) * l1

def custom_loss(pred, target, beta=0.3):
    base_loss = F.binary_cross_entropy(pred, target)
    penalty = torch.mean(torch.relu(pred - 0.7))**2
    return base_loss + beta * penalty

pred = torch.tensor([0.9, 0.2, 0.8, 0.4])
target = torch.tensor([1.0, 0.0, 1.0, 0.0])
a = CustomLoss()(pred, target)
b = custom_loss(pred, target)
"""


def test_custom_losses_match_torch(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, CUSTOM_LOSSES)
    pred = torch.tensor([0.9, 0.2, 0.8, 0.4])
    target = torch.tensor([1.0, 0.0, 1.0, 0.0])
    a = 0.5 * torch.mean((pred - target) ** 2) + 0.5 * torch.mean(torch.abs(pred - target))
    b = torch.nn.functional.binary_cross_entropy(pred, target) + 0.3 * torch.mean(
        torch.relu(pred - 0.7)) ** 2
    assert body["variables"]["a"]["values"] == pytest.approx(a.item())
    assert body["variables"]["b"]["values"] == pytest.approx(b.item())


TRAINING_LOOP = """model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.05, weight_decay=1e-4)
data = torch.randn(32, 2)
target = (data[:, 0] > 0).long()
train_loader = DataLoader(TensorDataset(data, target), batch_size=8, shuffle=False)
losses = []
for epoch in range(3):
    for batch, labels in train_loader:
        optimizer.zero_grad()
        output = model(batch)
        loss = criterion(output, labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
losses
"""


def test_training_loop_matches_a_plain_torch_loop(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, TRAINING_LOOP, seed=5)
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=1e-4)
    data = torch.randn(32, 2)
    target = (data[:, 0] > 0).long()
    losses = []
    for _ in range(3):
        for start in range(0, 32, 8):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(data[start:start + 8]),
                                               target[start:start + 8])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    got = [item["value"] for item in body["result"]["items"]]
    assert got == pytest.approx(losses, rel=1e-5)


def test_param_groups_scheduler_and_clipping(sandbox: Sandbox) -> None:
    code = """class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.base = nn.Linear(4, 4)
        self.classifier = nn.Linear(4, 2)
    def forward(self, x):
        return self.classifier(torch.relu(self.base(x)))
model = Net()
optimizer = optim.SGD([
    {'params': model.base.parameters(), 'lr': 0.001},
    {'params': model.classifier.parameters(), 'lr': 0.01}
], momentum=0.9)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)
lrs = []
for epoch in range(4):
    loss = model(torch.randn(3, 4)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
    scheduler.step()
    lrs.append(scheduler.get_last_lr())
lrs
"""
    body = run_ok(sandbox, code)
    lrs = [[item["value"] for item in entry["items"]] for entry in body["result"]["items"]]
    assert_values(lrs, torch.tensor([[0.001, 0.01], [1e-4, 1e-3], [1e-4, 1e-3], [1e-5, 1e-4]],
                                    dtype=torch.float64))


def test_guide_import_block_reports_versions(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, "import torch\nprint(torch.__version__)\nprint(torch.version.cuda)\n"
                           "print(torch.cuda.is_available())")
    assert body["stdout"] == (f"{torch.__version__}\n{torch.version.cuda}\n"
                              f"{torch.cuda.is_available()}\n")


def test_warmup_and_numpy_round_trip(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, "a = np.random.randn(2, 3)\nt = torch.tensor(a, dtype=torch.float32)\n"
                           "back = t.numpy()\nt.shape", seed=2)
    assert body["result"]["value"] == [2, 3]
    assert body["variables"]["back"]["kind"] == "ndarray"


def test_graph_marks_detach_and_no_grad_as_cut_edges(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, "x = torch.ones(2, requires_grad=True)\ny = (x * 2).sum()\n"
                           "d = x.detach()\nwith torch.no_grad():\n    n = x * 3\n")
    graph = body["graph"]
    by_var = {node["var"]: node for node in graph["nodes"] if node.get("cut")}
    assert by_var["d"]["cut"] == "detach" and by_var["n"]["cut"] == "no_grad"
    leaf = next(n for n in graph["nodes"] if n["var"] == "x" and not n.get("cut"))
    cut_edges = [e for e in graph["edges"] if e.get("cut")]
    assert {(e["from"], e["to"]) for e in cut_edges} == {
        (leaf["id"], by_var["d"]["id"]), (leaf["id"], by_var["n"]["id"])}


def test_inference_mode_tensors_have_no_version_counter(sandbox: Sandbox) -> None:
    body = run_ok(sandbox, "with torch.inference_mode():\n    y = torch.ones(2) * 2\ny")
    assert body["result"]["values"] == [2.0, 2.0]
    assert body["result"]["storage"]["version"] is None
