"""The memory count of app/engine/budget.py gives back what a program lets go: arrays made
and dropped in a loop never add up past max_total_bytes."""

from __future__ import annotations

from app.engine.program import Sandbox


def test_numpy_arrays_dropped_in_a_loop_are_released(sandbox: Sandbox) -> None:
    # 30 arrays of 80 MB, one alive at a time: 2.4 GB if the count never went down.
    body = sandbox.run("import numpy as np\nfor i in range(30):\n    a = np.zeros(10**7)\n"
                       "print(a.nbytes)").body
    assert body["ok"], body.get("error")
    assert body["stdout"] == "80000000\n"


def test_a_refused_allocation_names_its_shape_and_dtype(sandbox: Sandbox) -> None:
    error = sandbox.run("import torch\nx = torch.ones(2, 3)\n"
                        "y = x.repeat(10000, 10000)").body["error"]
    assert (error["type"], error["message"]) == (
        "LimitError", "Tensor.repeat would allocate 2.2 GB (20000x30000 float32); the limit per "
        "call is 256.0 MB (setting max_call_bytes)")
