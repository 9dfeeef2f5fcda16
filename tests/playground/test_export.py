from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys

import torch

from app.playground.export import notebook_bytes, print_last_expression, to_python
from app.playground.presets import example


def run_python(source: str) -> str:
    """Run an export as a plain script in a fresh interpreter (the faithful check, ~1 s)."""
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout


def exec_python(source: str) -> str:
    """Run an export in this process (fast): a fresh namespace, stdout captured, and torch's
    default device put back, since the export sets it."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, "<export>", "exec"), {"__name__": "__main__"})
    finally:
        torch.set_default_device(None)
    return out.getvalue()


def test_exported_python_runs_and_prints_the_result() -> None:
    code = example("matmul").code
    script = to_python([(None, code)], seed=0, device="cpu")
    assert script.splitlines()[1:3] == ["import torch", "torch.manual_seed(0)"]
    out = run_python(script)
    assert "torch.Size([2, 2])" in out
    assert "tensor([[14, 32],\n        [32, 77]])" in out


def test_export_adds_the_imports_the_program_uses() -> None:
    script = to_python([(None, "x = torch.ones(3)\nF.relu(x - 2)\n")], seed=3, device="auto")
    assert "import torch.nn.functional as F" in script
    assert "import torch.nn as nn" not in script
    assert 'torch.set_default_device("cuda" if torch.cuda.is_available() else "cpu")' in script
    assert "print(F.relu(x - 2))" in script
    assert "tensor([0., 0., 0.])" in exec_python(script)


def test_seeded_export_reproduces_the_same_numbers() -> None:
    script = to_python([(None, "torch.randn(3)")], seed=7, device="cpu")
    torch.manual_seed(7)
    expected = repr(torch.randn(3))
    assert exec_python(script).strip() == expected


def test_print_last_expression_edge_cases() -> None:
    assert print_last_expression("a = 1\n") == "a = 1\n"  # no expression: unchanged
    assert print_last_expression("print(1)") == "print(1)"  # already printed
    assert print_last_expression("(1 +\n 2)  # sum") == "print((1 +\n 2))  # sum"
    assert print_last_expression("a = (") == "a = ("  # a syntax error is exported as typed


def test_compare_sections_start_from_fresh_inputs() -> None:
    sections = [("Left", "a = torch.ones(2)\na.add(1)"), ("Right", "a = torch.ones(2)\na.add_(1)")]
    out = exec_python(to_python(sections, seed=0, device="cpu"))
    assert out.split() == ["tensor([2.,", "2.])", "tensor([2.,", "2.])"]


def test_notebook_is_valid_nbformat_4() -> None:
    code = example("backward").code
    notebook = json.loads(notebook_bytes("Torch Playground", [(None, code)], 0, "cpu"))
    assert notebook["nbformat"] == 4 and notebook["nbformat_minor"] == 5
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    ids = [cell["id"] for cell in notebook["cells"]]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[A-Za-z0-9_-]{1,64}", i) for i in ids)
    for cell in notebook["cells"]:
        assert cell["cell_type"] in ("markdown", "code")
        assert isinstance(cell["metadata"], dict)
        assert all(isinstance(line, str) for line in cell["source"])
        assert all(line.endswith("\n") for line in cell["source"][:-1])
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
        else:
            assert "outputs" not in cell
    code_cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code_cells[-1] == code.rstrip("\n")  # the program exactly as typed
    # the cells run in order as plain Python, as Jupyter would run them
    assert "tensor([ 0.5000, -1.0000,  2.0000])" in exec_python(
        "\n".join(code_cells[:-1]) + "\n" + print_last_expression(code_cells[-1]))
