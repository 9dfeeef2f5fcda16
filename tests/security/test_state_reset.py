"""The per-program reset as a mechanism: whatever global state one program changes (random
generators seeded or consumed, grad mode, the default dtype), the next program starts from
exactly the state a fresh sandbox gives, also when the first program ran with ``repeat`` (the
timed re-runs are programs too).

"Fresh" is computed here, directly with torch, numpy and Python's random, each seeded the way
a program's seed says; it is not read back from the sandbox.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch

from app.engine.program import Sandbox
from tests.security.conftest import Canary

PROBE = ("import random\n"
         "t = torch.rand(3)\n"
         "u = np.random.rand(3)\n"
         "r = random.random()\n"
         "g = torch.is_grad_enabled()\n"
         "d = torch.ones(1).dtype\n"
         "f = torch.tensor([0.5]).dtype")

CHANGES = {
    "torch-seed": "torch.manual_seed(123)",
    "torch-consumed": "x = torch.rand(100)",
    "numpy-seed": "np.random.seed(123)",
    "numpy-consumed": "y = np.random.rand(100)",
    "random-seed": "import random\nrandom.seed(123)",
    "random-consumed": "import random\nv = [random.random() for i in range(5)]",
    "grad-off": "torch.set_grad_enabled(False)",
    "default-float64": "torch.set_default_dtype(torch.float64)",
    "everything": "import random\ntorch.manual_seed(1)\nnp.random.seed(2)\nrandom.seed(3)\n"
                  "torch.set_grad_enabled(False)\ntorch.set_default_dtype(torch.float64)\n"
                  "z = (torch.rand(4), np.random.rand(4), random.random())",
}


def fresh_state(seed: int) -> dict[str, Any]:
    """What PROBE must see with ``seed``, computed without the sandbox and without touching
    this process's own generators."""
    generator = torch.Generator().manual_seed(seed)
    return {
        "t": torch.rand(3, generator=generator).tolist(),
        "u": np.random.RandomState(seed % 2**32).rand(3).tolist(),
        "r": random.Random(seed).random(),
        "g": True,
        "d": "float32",
        "f": "float32",
    }


def probe_state(sandbox: Sandbox, seed: int = 0) -> dict[str, Any]:
    outcome = sandbox.run(PROBE, seed=seed)
    assert outcome.body["ok"] is True, outcome.body.get("error")
    variables = outcome.body["variables"]
    # float32 values are sent as the shortest text that reads back as the same float32
    # (docs/API.md): read back that way, then widened like torch's tolist().
    return {"t": torch.tensor(variables["t"]["values"], dtype=torch.float32).tolist(),
            "u": variables["u"]["values"],
            "r": variables["r"]["value"], "g": variables["g"]["value"],
            "d": variables["d"]["value"], "f": variables["f"]["value"]}


@pytest.fixture(autouse=True)
def restore_this_process() -> Iterator[None]:
    """The sandbox runs in this process: leave grad mode and the default dtype as pytest's
    other tests expect them, whatever a test here left behind."""
    yield
    torch.set_grad_enabled(True)
    torch.set_default_dtype(torch.float32)


def test_the_probe_sees_the_fresh_state(sandbox: Sandbox, intact: Canary) -> None:
    """The baseline the matrix relies on: PROBE reports what torch, numpy and random give
    when seeded directly, for the default seed and another one."""
    assert probe_state(sandbox) == fresh_state(0)
    assert probe_state(sandbox, seed=7) == fresh_state(7)
    assert fresh_state(7) != fresh_state(0)


@pytest.mark.parametrize("repeat", [1, 2])
@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_program_starts_from_fresh_state_whatever_ran_before(
        change: str, repeat: int, sandbox: Sandbox, intact: Canary) -> None:
    outcome = sandbox.run(change, repeat=repeat)
    assert outcome.body["ok"] is True, outcome.body.get("error")
    if repeat > 1:  # the timed re-runs really happened (they are where M20 leaked)
        assert outcome.body["timing"]["repeats"] == repeat
    assert probe_state(sandbox) == fresh_state(0)


@pytest.mark.parametrize("repeat", [1, 2])
def test_a_failing_program_leaves_no_state_behind(repeat: int, sandbox: Sandbox,
                                                  intact: Canary) -> None:
    """The program changes every kind of state, then fails."""
    outcome = sandbox.run(CHANGES["everything"] + "\nundefined_name", repeat=repeat)
    assert outcome.body["error"]["type"] == "NameError"
    assert probe_state(sandbox) == fresh_state(0)


def test_the_same_seed_gives_the_same_answers(sandbox: Sandbox, intact: Canary) -> None:
    """M19: with Python's random not re-seeded, the same program with the same seed drew
    0.38 and then 0.94 instead of 0.84 twice."""
    first = sandbox.run("import random\nrandom.random()", seed=5).body["result"]["value"]
    second = sandbox.run("import random\nrandom.random()", seed=5).body["result"]["value"]
    assert first == second == random.Random(5).random()


# torch.set_default_device and `with torch.device(...)` push a device context onto torch's
# mode stack, which is per process: a worker serves many programs, so none may outlive its
# program, whatever way the program ends.
DEVICE_CHANGES = {
    "set-default": "torch.set_default_device(DEVICE)",
    "set-twice": "torch.set_default_device(DEVICE)\ntorch.set_default_device('cpu')",
    "set-then-with": "torch.set_default_device(DEVICE)\nwith torch.device('cpu'):\n"
                     "    x = torch.ones(1)",
    "fails-inside-with": "torch.set_default_device(DEVICE)\nwith torch.device(DEVICE):\n"
                         "    undefined_name",
    "set-inside-with": "with torch.device(DEVICE):\n    torch.set_default_device(DEVICE)",
}
_DEVICE = "'cuda' if torch.cuda.is_available() else 'cpu'"


def _device_modes() -> tuple[int, Any]:
    from torch.utils import _device
    return torch._C._len_torch_function_stack(), _device.CURRENT_DEVICE


@pytest.mark.parametrize("repeat", [1, 2])
@pytest.mark.parametrize("change", DEVICE_CHANGES.values(), ids=DEVICE_CHANGES.keys())
def test_the_default_device_never_outlives_its_program(change: str, repeat: int,
                                                        sandbox: Sandbox) -> None:
    before = _device_modes()
    sandbox.run(change.replace("DEVICE", f"({_DEVICE})"), repeat=repeat)
    assert _device_modes() == before == (0, None)
    assert torch.get_default_device() == torch.device("cpu")


def test_a_worker_serves_the_next_program_on_the_default_device(intact: Canary) -> None:
    """Through a one-worker pool: the programs run one after another in the same process.
    On a CUDA server the first one moves the default to the GPU."""
    from tests.security.test_worker_isolation import run_in_pool, run_pool

    probe = "[str(torch.ones(1).device), str(torch.get_default_device())]"

    async def scenario(executor: Any) -> None:
        for change in DEVICE_CHANGES.values():
            await run_in_pool(executor, change.replace("DEVICE", f"({_DEVICE})"), 30)
            status, body = await run_in_pool(executor, probe, 30)
            assert status == 200 and body["ok"], body.get("error")
            assert [item["value"] for item in body["result"]["items"]] == ["cpu", "cpu"]

    run_pool(scenario, deadline_s=30)
