"""The gate for what torch hands back (app/engine/admission.py), checked directly: what
passes, what is refused and with which message, at any depth of containers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from app.engine import admission
from app.engine.admission import Admission, check_device, check_tensor
from app.engine.errors import ForbiddenError, LimitError


class Own:
    """Stands for a program's own object (its class instances, functions)."""


gate = Admission(lambda value: isinstance(value, Own))


@pytest.mark.parametrize("value", [
    torch.ones(2), nn.Parameter(torch.ones(2)), None, 1, 2.5, True, 1j, "text", slice(1),
    range(3), ..., torch.Size([2]), torch.float32, torch.strided, torch.finfo(torch.float32),
    torch.Generator(), [torch.ones(1), (2, {"k": torch.ones(1)})], {torch.ones(1): [1]},
    {1, 2}, frozenset({1}), np.ones(3), np.float32(1.0), np.dtype("int64"),
    nn.Linear(2, 2), nn.Linear(2, 2).parameters(), torch.device("cpu"), Own(), [Own()],
    torch.no_grad(), {"a": 1}.keys(),
])
def test_what_a_program_may_hold_passes(value: Any) -> None:
    assert gate.admit(value, "f") is value


def meta() -> torch.Tensor:
    return torch.zeros(2, device="meta")


@pytest.mark.parametrize(("value", "says"), [
    (meta(), "f gave a tensor on the 'meta' device; programs use 'cpu' or 'cuda' only"),
    ([1, (2, [meta()])], "f gave a tensor on the 'meta' device"),
    ({meta(): 1}, "f gave a tensor on the 'meta' device"),
    ({1: {"deep": meta()}}, "f gave a tensor on the 'meta' device"),
    ({meta()}, "f gave a tensor on the 'meta' device"),
    (nn.Linear(2, 2, device="meta"), "f gave a tensor on the 'meta' device"),
    ([torch.device("meta")], "f: the device 'meta' is not available in the playground"),
    (np.array(["a"]), "f gave a numpy array of <U1, which is not available"),
    (object(), "f gave a object, which the playground does not hand to programs"),
    ([print], "f gave a builtin_function_or_method, which the playground does not hand"),
    ((x for x in [1]), "f gave a generator, which the playground does not hand to programs"),
    (torch.zeros(3).to_sparse(), "f gave a torch.sparse_coo tensor; sparse and quantized "
                                 "tensors are not available in the playground"),
    (torch.quantize_per_tensor(torch.ones(2), 0.1, 0, torch.quint8),
     "f gave a torch.strided tensor; sparse and quantized tensors are not available"),
])
def test_what_no_program_may_hold_is_refused(value: Any, says: str) -> None:
    with pytest.raises(ForbiddenError) as refused:
        gate.admit(value, "f")
    assert refused.value.message.startswith(says), refused.value.message


def test_tensor_subclasses_are_refused() -> None:
    class Sub(torch.Tensor):
        pass

    with pytest.raises(ForbiddenError, match=r"^f gave a Sub, which the playground does not "
                                             r"hand to programs$"):
        check_tensor(torch.ones(2).as_subclass(Sub), "f")


def test_refusals_name_the_fix() -> None:
    with pytest.raises(ForbiddenError) as refused:
        check_tensor(meta(), "f")
    assert refused.value.hint == "Create tensors with device='cpu' or device='cuda'."
    with pytest.raises(ForbiddenError) as refused:
        check_tensor(torch.zeros(3).to_sparse(), "f")
    assert refused.value.hint == "Use ordinary (dense) tensors."
    with pytest.raises(ForbiddenError) as refused:
        check_device("meta", "f")
    assert refused.value.hint == ("device='cpu' runs everywhere; device='cuda' uses the GPU "
                                  "when the server has one.")


@pytest.mark.parametrize("device", [None, 0, 1, True, "cpu", "cuda", "cuda:1",
                                    torch.device("cpu"), "not a device", 2.5])
def test_device_arguments_that_pass(device: Any) -> None:
    check_device(device, "f")


@pytest.mark.parametrize("device", ["meta", "meta:0", torch.device("meta"), "xpu", "mps"])
def test_device_arguments_that_are_refused(device: Any) -> None:
    with pytest.raises(ForbiddenError, match=r"the device '[a-z]+' is not available"):
        check_device(device, "f")


def nested(depth: int, kind: str) -> Any:
    """A container whose innermost container sits ``depth`` levels below the outermost."""
    value: Any = [] if kind == "list" else {}
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_nesting_is_walked_to_its_limit_and_no_further(kind: str) -> None:
    gate.admit(nested(admission._MAX_ADMITTED_DEPTH, kind), "f")
    with pytest.raises(LimitError) as refused:
        gate.admit(nested(admission._MAX_ADMITTED_DEPTH + 1, kind), "f")
    assert refused.value.message == "f gave a value too large or too deeply nested to check"
    assert refused.value.hint == "Work with smaller containers."


def test_a_plain_value_does_not_end_the_walk() -> None:
    with pytest.raises(ForbiddenError):
        gate.admit([meta(), 1], "f")
    with pytest.raises(ForbiddenError):
        gate.admit([meta(), Own()], "f")
    with pytest.raises(ForbiddenError):
        gate.admit([meta(), torch.no_grad()], "f")


def test_too_large_values_are_refused_not_walked_forever(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admission, "_MAX_ADMITTED_ITEMS", 10)
    gate.admit([1] * 9, "f")
    with pytest.raises(LimitError):
        gate.admit([1] * 10, "f")
