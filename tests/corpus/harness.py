"""Run one corpus program twice, in the sandbox and with plain Python, and judge the pair.

The corpus programs are trusted files of this repository, so the reference run is a plain
``exec`` in the test process: the same source, the same seed, the same names bound before the
first line. Same seed and same ops give the same numbers; printed floats get a tolerance of
one or two units in their last printed digit only because a value on a rounding boundary may
print either way after a reordered reduction.
"""

from __future__ import annotations

import ast
import contextlib
import io
import math
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn, optim
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset, TensorDataset

from app.engine.program import Sandbox

PROGRAMS = Path(__file__).parent / "programs"

# The sandbox's own error types: it declined the program (a construct outside the
# allowlist, a budget), which is honest, unlike a wrong number.
REFUSAL_TYPES = frozenset({"ForbiddenError", "LimitError", "TimeoutError", "SyntaxError"})

# The sandbox removes memory addresses from every text it sends ("<AddBackward0 object at
# 0x7f...>" prints as "<AddBackward0 object>", docs/SECURITY.md); an address is not a result.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_NUMBER = re.compile(r"-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_PRELUDE: dict[str, Any] = {
    "torch": torch, "nn": nn, "F": F, "optim": optim, "np": np, "math": math,
    "Dataset": Dataset, "DataLoader": DataLoader, "TensorDataset": TensorDataset,
}


@dataclass
class Verdict:
    name: str
    outcome: str  # match | refused | failed | wrong
    reason: str = ""
    sandbox_s: float = 0.0
    reference_s: float = 0.0
    differences: list[str] = field(default_factory=list)


@dataclass
class Reference:
    stdout: str
    has_result: bool
    result: Any
    variables: dict[str, Any]


# Every verdict of this session, by program: the tests fill it, the terminal summary
# (tests/corpus/conftest.py) reads it.
VERDICTS: dict[str, Verdict] = {}


def program_paths() -> list[Path]:
    return sorted(PROGRAMS.glob("*.py"))


def _seed(seed: int) -> None:
    # What Sandbox._fresh_state does before every program.
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.set_default_dtype(torch.float32)
    torch.set_grad_enabled(True)


def _is_user_variable(value: Any) -> bool:
    # Mirrors app.engine.program._is_user_variable for plain Python objects.
    if isinstance(value, type) or type(value).__name__ == "module":
        return False
    return not (callable(value) and not isinstance(value, nn.Module))


def run_reference(code: str, name: str, seed: int = 0) -> Reference:
    """The ground truth: the program under plain Python and torch."""
    tree = ast.parse(code, filename=name)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    namespace: dict[str, Any] = {"__name__": "__main__", **_PRELUDE}
    printed = io.StringIO()
    _seed(seed)
    result = None
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(tree, name, "exec"), namespace)  # trusted corpus files only
            if last is not None:
                result = eval(compile(ast.Expression(last.value), name, "eval"), namespace)
    finally:
        # A program may change process-wide torch state; the next program must not see it.
        torch.set_grad_enabled(True)
        torch.set_default_dtype(torch.float32)
        torch.set_default_device(None)
        _close_figures()
    variables = {key: value for key, value in namespace.items()
                 if not key.startswith("__") and key not in _PRELUDE
                 and _is_user_variable(value)}
    variables.update({key: namespace[key] for key in _PRELUDE
                      if namespace[key] is not _PRELUDE[key] and _is_user_variable(namespace[key])})
    return Reference(_ADDRESS.sub("", printed.getvalue()), last is not None, result, variables)


def _close_figures() -> None:
    with contextlib.suppress(ImportError):
        import matplotlib.pyplot as plt

        plt.close("all")


def not_compared(code: str) -> set[str]:
    """Variables a program's header excludes, with its reason, e.g. wall-clock times:
    ``# Not compared: start, elapsed (wall-clock times)``."""
    names: set[str] = set()
    for line in code.splitlines():
        if line.startswith("# Not compared:"):
            listed = line.removeprefix("# Not compared:").split("(")[0]
            names.update(name.strip() for name in listed.split(",") if name.strip())
    return names


def judge(sandbox: Sandbox, path: Path, seed: int = 0) -> Verdict:
    code = path.read_text()
    skipped = not_compared(code)
    started = time.perf_counter()
    reference = run_reference(code, path.name, seed)
    reference_s = time.perf_counter() - started
    started = time.perf_counter()
    body = sandbox.run(code, seed=seed).body
    sandbox_s = time.perf_counter() - started
    verdict = Verdict(path.stem, "match", sandbox_s=sandbox_s, reference_s=reference_s)
    if not body["ok"]:
        error = body["error"]
        verdict.outcome = "refused" if error["type"] in REFUSAL_TYPES else "failed"
        verdict.reason = f"{error['type']}: {error['message']}".splitlines()[0][:160]
        verdict.reason += f" (line {error['line']})" if error.get("line") else ""
        return verdict
    differences = compare_stdout(body["stdout"], reference.stdout)
    if reference.has_result:
        differences += compare_view(body["result"], reference.result, "result")
    elif body["result"] is not None:
        differences.append("result: the sandbox gave one, plain Python none")
    sandbox_vars = body["variables"]
    for key, value in reference.variables.items():
        if key in skipped:
            continue
        if key not in sandbox_vars:
            if isinstance(value, torch.Tensor) and len(sandbox_vars) < 100:
                differences.append(f"{key}: a tensor in plain Python, missing in the sandbox")
            continue
        differences += compare_view(sandbox_vars[key], value, key)
    if differences:
        verdict.outcome = "wrong"
        verdict.differences = differences
        verdict.reason = differences[0][:160]
    return verdict


# ------------------------------------------------------------------------------ comparing
def compare_stdout(sandbox: str, reference: str) -> list[str]:
    """Equal text, and equal numbers up to the last printed digit."""
    if sandbox == reference:
        return []
    words, ref_words = _NUMBER.split(sandbox), _NUMBER.split(reference)
    numbers, ref_numbers = _NUMBER.findall(sandbox), _NUMBER.findall(reference)
    if words != ref_words or len(numbers) != len(ref_numbers):
        return [f"stdout differs: {_first_difference(sandbox, reference)}"]
    for got, want in zip(numbers, ref_numbers, strict=True):
        if not _close_printed(got, want):
            return [f"stdout number {got} != {want}"]
    return []


def _close_printed(got: str, want: str) -> bool:
    a, b = float(got), float(want)
    mantissa = want.lower().split("e")[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(want.lower().split("e")[1]) if "e" in want.lower() else 0
    unit = 10.0 ** (exponent - decimals)
    return abs(a - b) <= 2 * unit + 1e-5 * abs(b)


def _first_difference(a: str, b: str) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
              min(len(a), len(b)))
    return f"at char {at}: sandbox {a[at:at + 40]!r} vs plain {b[at:at + 40]!r}"


def compare_view(view: dict[str, Any] | None, value: Any, where: str) -> list[str]:
    """How the sandbox's view of a value differs from the value plain Python computed."""
    if view is None:
        return [f"{where}: no view"]
    kind = view.get("kind")
    if isinstance(value, torch.Tensor):
        return _compare_tensor(view, value, where)
    if isinstance(value, np.ndarray):
        if kind != "ndarray":
            return [f"{where}: kind {kind}, expected ndarray"]
        if list(view["shape"]) != list(value.shape) or view["dtype"] != str(value.dtype):
            return [f"{where}: ndarray {view['shape']} {view['dtype']} vs "
                    f"{list(value.shape)} {value.dtype}"]
        if view.get("values") is None or value.dtype.kind not in "biuf":
            return []
        return _compare_values(view["values"], torch.from_numpy(np.ascontiguousarray(value)),
                               view.get("truncated", False), where)
    if isinstance(value, np.generic):
        return compare_view(view, value.item(), where)
    if value is None:
        return [] if kind == "none" else [f"{where}: kind {kind}, expected none"]
    if isinstance(value, bool | int):
        if kind != "scalar" or view["value"] != value:
            if isinstance(view.get("value"), str) and str(value) == view["value"]:
                return []
            return [f"{where}: {view.get('value')!r} != {value!r}"]
        return []
    if isinstance(value, float):
        got = view.get("value")
        if kind != "scalar":
            return [f"{where}: kind {kind}, expected a float"]
        if isinstance(got, str) or not math.isfinite(value):
            return [] if str(got) == str(value).lower() else [f"{where}: {got} != {value}"]
        close = isinstance(got, int | float) and math.isclose(got, value, rel_tol=1e-5,
                                                              abs_tol=1e-6)
        return [] if close else [f"{where}: {got} != {value}"]
    if isinstance(value, str):
        value = _ADDRESS.sub("", value)
        got = view.get("value", "")
        same = got == value or (got.endswith(" …") and value.startswith(got[:-2]))
        return [] if kind == "text" and same else [f"{where}: text {got[:40]!r} != "
                                                   f"{value[:40]!r}"]
    if isinstance(value, torch.Size):
        return [] if view.get("value") == list(value) else [f"{where}: shape "
                                                            f"{view.get('value')} != {value}"]
    if isinstance(value, list | tuple):
        if kind not in ("list", "tuple") or view["length"] != len(value):
            return [f"{where}: kind {kind}, expected a {type(value).__name__} of {len(value)}"]
        found: list[str] = []
        for index, item in enumerate(view["items"]):
            found += compare_view(item, value[index], f"{where}[{index}]")
        return found
    if isinstance(value, dict):
        if kind != "dict" or view["length"] != len(value):
            return [f"{where}: kind {kind}, expected a dict of {len(value)}"]
        found = []
        for item, (key, ref_item) in zip(view["items"], value.items(), strict=False):
            found += compare_view(item, ref_item, f"{where}[{key!r}]")
        return found
    if isinstance(value, nn.Module):
        total = sum(p.numel() for p in value.parameters())
        if kind != "module" or (not view.get("truncated") and view["num_parameters"] != total):
            return [f"{where}: module view {kind} with {view.get('num_parameters')} "
                    f"parameters, expected {total}"]
        return []
    return []  # other objects (optimizers, loaders, distributions): their effects are compared


def _compare_tensor(view: dict[str, Any], value: torch.Tensor, where: str) -> list[str]:
    if view.get("kind") != "tensor":
        return [f"{where}: kind {view.get('kind')}, expected a tensor"]
    facts = (list(view["shape"]), view["dtype"], view["requires_grad"])
    expected = (list(value.shape), str(value.dtype).replace("torch.", ""),
                value.requires_grad)
    if facts != expected:
        return [f"{where}: tensor {facts} != {expected}"]
    found: list[str] = []
    if view.get("values") is not None:
        found += _compare_values(view["values"], value.detach(), view["truncated"], where)
    grad = value.grad if value.is_leaf or value.retains_grad else None
    if grad is not None:
        if view.get("grad") is None:
            found.append(f"{where}.grad: missing in the sandbox")
        else:
            found += _compare_tensor(view["grad"], grad, f"{where}.grad")
    return found


def _compare_values(values: Any, expected: torch.Tensor, truncated: bool,
                    where: str) -> list[str]:
    if truncated and expected.dim() > 0:
        got = torch.tensor(_unsanitize(values), dtype=torch.float64)
        expected = expected[tuple(slice(0, n) for n in got.shape)]
    else:
        got = torch.tensor(_unsanitize(values), dtype=torch.float64)
    if expected.is_complex():
        return []
    try:
        torch.testing.assert_close(got, expected.to(torch.float64).reshape(got.shape),
                                   rtol=1e-4, atol=1e-5, equal_nan=True)
    except (AssertionError, RuntimeError) as differing:
        return [f"{where}: values differ ({str(differing).splitlines()[0][:100]})"]
    return []


def _unsanitize(values: Any) -> Any:
    if isinstance(values, list):
        return [_unsanitize(v) for v in values]
    if isinstance(values, str):
        return float(values)
    return values


def summary(verdicts: list[Verdict]) -> list[str]:
    """The counts, then the programs that did not match grouped by reason, largest first."""
    counts = Counter(v.outcome for v in verdicts)
    lines = [", ".join(f"{k}: {counts[k]}" for k in ("match", "refused", "failed", "wrong"))
             + f" of {len(verdicts)} corpus programs"]
    groups: dict[str, list[str]] = {}
    for verdict in verdicts:
        if verdict.outcome != "match":
            reason = re.sub(r"(line \d+: )|( \(line \d+\))|(; available: .*)", "", verdict.reason)
            groups.setdefault(f"{verdict.outcome}: {reason}", []).append(verdict.name)
    for reason, names in sorted(groups.items(), key=lambda item: -len(item[1])):
        lines.append(f"  {len(names):2} {reason} — {', '.join(names)}")
    return lines


# ------------------------------------------------------------------------------ constructs
_PLAIN_BASES = frozenset({"Module", "Dataset", "object"})


def constructs(code: str) -> set[str]:
    """The constructs a program uses that a sandbox may lack: the sandbox reports only the
    first one it refuses, and this tells what else stands between a program and a match."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.JoinedStr):
            found.add("f-string")
        elif isinstance(node, ast.Try):
            found.add("try/except")
        elif isinstance(node, ast.Global | ast.Nonlocal):
            found.add("global")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) \
                and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
            found.add("%-format")
        elif isinstance(node, ast.Attribute):
            if node.attr == "format":
                found.add("str.format")
            elif isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                found.add(f"str.{node.attr}")
            elif node.attr.startswith("__") and node.attr != "__init__":
                found.add(f"attribute .{node.attr}")
            elif node.attr.startswith("Lazy"):
                found.add(f"nn.{node.attr}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) \
                else [alias.name for alias in node.names]
            found.update(f"import {name}" for name in names
                         if name.split(".")[0] not in ("torch", "numpy", "math", "random")
                         or name.startswith("torch.distributions"))
        elif isinstance(node, ast.Name) and node.id in ("input", "_", "type"):
            found.add(f"name {node.id}")
        elif isinstance(node, ast.FunctionDef) and node.name.startswith("__") \
                and node.name not in ("__init__", "__len__", "__getitem__"):
            found.add(f"def {node.name}")
        elif isinstance(node, ast.ClassDef):
            for base in node.bases:
                base_name = base.attr if isinstance(base, ast.Attribute) else \
                    getattr(base, "id", "?")
                if base_name not in _PLAIN_BASES:
                    found.add(f"class base {base_name}")
    return found
