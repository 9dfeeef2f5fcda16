"""DevicePolicy (app/engine/devices.py) on a machine without CUDA: a program that asks for
the GPU runs on the CPU and is told so, however it names the device."""

from __future__ import annotations

import pytest

from app.engine.program import Sandbox


def test_torch_device_cuda_falls_back_to_the_cpu_with_a_notice(sandbox: Sandbox) -> None:
    if sandbox.cuda_available or sandbox.settings.cuda_fallback != "cpu":
        pytest.skip("the fallback is for machines without CUDA under cuda_fallback='cpu'")
    body = sandbox.run("import torch\nd = torch.device('cuda')\nprint(d)").body
    assert body["ok"], body.get("error")
    assert body["stdout"] == "cpu\n"
    assert body["notices"] == ["line 2: device 'cuda' was requested, but this server has no "
                               "CUDA GPU, so it ran on the CPU"]
