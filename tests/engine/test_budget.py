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
