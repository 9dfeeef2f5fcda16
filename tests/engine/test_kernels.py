"""The layout facts and kernel preconditions (app/engine/kernels.py), checked directly: the
layout predicates against a brute-force reading of every element's memory offset, and each
refusal with its exact message and hint."""

from __future__ import annotations

import itertools
import random

import pytest
import torch
from torch import nn, optim

from app.engine.errors import ForbiddenError
from app.engine.kernels import (
    DENSE_HINT,
    check_dense,
    check_grad_assignment,
    check_inplace_target,
    check_optimizer,
    check_parameters,
    is_dense,
    overlaps_itself,
)
from app.engine.program import Sandbox


def offsets(t: torch.Tensor) -> list[int]:
    """The memory offset of every element, read from its shape and strides."""
    return [sum(i * s for i, s in zip(index, t.stride(), strict=True))
            for index in itertools.product(*(range(n) for n in t.shape))]


def strided(shape: tuple[int, ...], stride: tuple[int, ...]) -> torch.Tensor:
    return torch.zeros(4096).as_strided(shape, stride)


LAYOUTS = [
    ((), ()), ((1,), (5,)), ((2,), (2,)), ((2,), (0,)), ((2,), (1,)), ((3, 1), (1, 0)),
    ((2, 3), (3, 1)), ((2, 3), (1, 2)), ((2, 3), (1, 3)), ((2, 2, 2), (1, 2, 3)),
    ((2, 2, 2), (4, 2, 1)), ((2, 2, 2), (1, 4, 2)), ((3, 4, 5), (20, 5, 1)),
    ((3, 4, 5), (1, 3, 12)), ((3, 4, 5), (1, 3, 11)), ((8, 3), (1, 1)), ((4, 3), (0, 1)),
    ((2, 3, 4), (12, 0, 1)), ((5, 2), (2, 5)), ((5, 2), (3, 5)), ((2, 2), (3, 1)),
]


def test_the_layouts_cover_both_answers() -> None:
    dense = [is_dense(strided(*layout)) for layout in LAYOUTS]
    overlapping = [overlaps_itself(strided(*layout)) for layout in LAYOUTS]
    assert any(dense) and not all(dense) and any(overlapping) and not all(overlapping)


@pytest.mark.parametrize(("shape", "stride"), LAYOUTS)
def test_dense_means_one_block_without_gaps_or_repeats(shape: tuple[int, ...],
                                                       stride: tuple[int, ...]) -> None:
    t = strided(shape, stride)
    where = offsets(t)
    block = len(set(where)) == len(where) and (not where or
                                                max(where) - min(where) + 1 == len(where))
    assert is_dense(t) is (block or t.numel() <= 1)


# Interleaved layouts whose elements are distinct, though no sorted-stride argument proves it:
# counted as overlapping (the safe side). No torch view a program can make has them.
INTERLEAVED = {((5, 2), (2, 5)), ((5, 2), (3, 5))}


@pytest.mark.parametrize(("shape", "stride"), LAYOUTS)
def test_no_overlap_is_reported_only_where_every_element_has_its_own_place(
        shape: tuple[int, ...], stride: tuple[int, ...]) -> None:
    t = strided(shape, stride)
    where = offsets(t)
    distinct = len(set(where)) == len(where)
    assert overlaps_itself(t) is (not distinct or (shape, stride) in INTERLEAVED)


def test_random_layouts_are_judged_soundly() -> None:
    rng = random.Random(7)
    for _ in range(400):
        dims = rng.randint(1, 3)
        shape = tuple(rng.randint(1, 4) for _ in range(dims))
        stride = tuple(rng.randint(0, 9) for _ in range(dims))
        t = strided(shape, stride)
        where = offsets(t)
        distinct = len(set(where)) == len(where)
        if not overlaps_itself(t):
            assert distinct, (shape, stride)
        if is_dense(t) and t.numel() > 1:
            assert distinct and max(where) - min(where) + 1 == len(where), (shape, stride)


def test_torch_layouts() -> None:
    x = torch.zeros(3, 4)
    assert is_dense(x) and is_dense(x.t()) and is_dense(x.permute(1, 0))
    assert not is_dense(x[:, ::2]) and not overlaps_itself(x[:, ::2])
    assert overlaps_itself(torch.zeros(1).expand(5)) and not is_dense(torch.zeros(1).expand(5))
    assert overlaps_itself(torch.zeros(10).unfold(0, 3, 1))
    assert is_dense(torch.zeros(1).expand(1)) and is_dense(torch.zeros(0))


def refusal(call: object) -> ForbiddenError:
    with pytest.raises(ForbiddenError) as refused:
        call()  # type: ignore[operator]
    return refused.value


def test_inplace_writes_to_overlapping_tensors_are_refused_with_the_fix() -> None:
    error = refusal(lambda: check_inplace_target(torch.zeros(1).expand(4), "x.add_"))
    assert error.message == ("x.add_ writes in place to a tensor whose elements share memory "
                             "(made by expand or unfold), so one write would change several "
                             "elements")
    assert error.hint == "Write to a copy: y = x.clone(), then change y."
    check_inplace_target(torch.zeros(4, 4)[:, ::2], "x.add_")


def test_dense_is_required_with_a_reason_and_a_fix() -> None:
    error = refusal(lambda: check_dense(torch.zeros(1).expand(4), "the data of nn.Parameter"))
    assert error.message == ("the data of nn.Parameter must be a dense tensor (no expanded, "
                             "overlapping or gapped layout), because the optimizer's native "
                             "kernels walk its memory element by element")
    assert error.hint == str(DENSE_HINT) and error.hint_i18n == DENSE_HINT
    with pytest.raises(TypeError, match=r"^a gradient must be a tensor, not list$"):
        check_dense([1.0], "a gradient")
    error = refusal(lambda: check_dense(torch.zeros(2, device="meta"), "a gradient"))
    assert error.message.startswith("a gradient gave a tensor on the 'meta' device")


def test_a_gradient_must_match_its_tensor() -> None:
    w = torch.zeros(2, 3)
    check_grad_assignment(w, None)
    check_grad_assignment(w, torch.ones(2, 3))
    error = refusal(lambda: check_grad_assignment(w, torch.ones(3, 2, dtype=torch.float64)))
    assert error.message == ("a gradient must match its tensor: shape [2, 3], dtype float32, "
                             "device cpu; got shape [3, 2], dtype float64, device cpu")
    assert error.hint == "Build it with torch.zeros_like(x)."
    assert "a tensor assigned to .grad must be a dense tensor" in refusal(
        lambda: check_grad_assignment(w, torch.zeros(1, 3).expand(2, 3))).message


def param_with_grad(grad: torch.Tensor, shape: tuple[int, ...] = (4,)) -> nn.Parameter:
    p = nn.Parameter(torch.zeros(shape))
    p.grad = torch.zeros(shape)
    p.grad.data = grad  # what an in-place change of the gradient can leave behind
    return p


@pytest.mark.parametrize(("grad", "says"), [
    (torch.zeros(1, 4), "the .grad of p no longer matches it (shape [1, 4] for [4])"),
    (torch.zeros(4, dtype=torch.float64), "the .grad of p no longer matches it"),
    (torch.zeros(8)[::2], "the .grad of p must be a dense tensor"),
])
def test_parameters_and_their_gradients_are_checked(grad: torch.Tensor, says: str) -> None:
    error = refusal(lambda: check_parameters([param_with_grad(grad)], "p"))
    assert error.message.startswith(says)
    if "no longer matches" in says:
        assert error.hint == "Set gradients with torch.zeros_like(p)."


def test_a_parameter_must_be_dense() -> None:
    p = torch.zeros(1).expand(4).requires_grad_()
    assert refusal(lambda: check_parameters([p], "p")).message.startswith(
        "p must be a dense tensor")
    check_parameters([nn.Parameter(torch.zeros(3, 2).t())], "p")


def stepped(name: str) -> tuple[torch.optim.Optimizer, nn.Parameter]:
    w = nn.Parameter(torch.ones(3))
    opt = getattr(optim, name)([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    return opt, w


def test_the_optimizer_names_itself_when_a_parameter_is_not_dense() -> None:
    p = torch.zeros(1).expand(4).requires_grad_()
    opt = optim.SGD([p], lr=0.1)
    assert refusal(lambda: check_optimizer(opt)).message.startswith(
        "a parameter of SGD must be a dense tensor")


def test_kernel_options_set_later_are_refused() -> None:
    opt, _ = stepped("Adam")
    opt.param_groups[0]["foreach"] = True
    error = refusal(lambda: check_optimizer(opt))
    assert error.message == ("Adam: param_groups[0]['foreach'] = True is not available in the "
                             "playground (it selects a native kernel that trusts memory "
                             "layout)")
    assert error.hint == "Leave 'foreach' unset: the default update gives the same numbers."


def test_state_is_checked_past_entries_that_are_not_tensors() -> None:
    opt, w = stepped("Adam")
    check_optimizer(opt)
    other = nn.Parameter(torch.ones(3))
    opt.state = type(opt.state)(dict, {other: 5, w: {"a": 1.0, "exp_avg": torch.zeros(1, 3)}})
    error = refusal(lambda: check_optimizer(opt))
    assert error.message == "Adam's state 'exp_avg' has shape [1, 3] but its parameter has [3]"
    assert error.hint == "Leave the optimizer's state to the optimizer."
    opt.state[w]["exp_avg"] = torch.zeros(2)
    assert "has shape [2] but its parameter has [3]" in refusal(
        lambda: check_optimizer(opt)).message
    opt.state[w]["exp_avg"] = torch.zeros(6)[::2]
    assert refusal(lambda: check_optimizer(opt)).message.startswith(
        "Adam's state 'exp_avg' must be a dense tensor")


def test_lbfgs_keeps_flat_state_and_passes() -> None:
    w = nn.Parameter(torch.ones(2, 2))
    opt = optim.LBFGS([w])

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    check_optimizer(opt)


def test_a_loaded_state_that_holds_other_values_is_refused_by_name(sandbox: Sandbox) -> None:
    body = sandbox.run("import torch\nw = torch.zeros(2, requires_grad=True)\n"
                       "opt = torch.optim.SGD([w], lr=0.1)\nsd = opt.state_dict()\n"
                       "sd['param_groups'][0]['extra'] = {1, 2}\nopt.load_state_dict(sd)").body
    error = body["error"]
    assert (error["type"], error["message"], error["hint"]) == (
        "ForbiddenError", "SGD.load_state_dict: a saved state may hold numbers, text, tensors "
        "and lists or dicts of them, not set", "Load what state_dict() returned.")


def test_a_loaded_state_of_another_shape_is_refused_with_the_fix(sandbox: Sandbox) -> None:
    body = sandbox.run("import torch\nw = torch.zeros(2, requires_grad=True)\n"
                       "opt = torch.optim.Adam([w], lr=0.1)\nw.sum().backward()\nopt.step()\n"
                       "sd = opt.state_dict()\nsd['state'][0]['exp_avg'] = torch.zeros(5)\n"
                       "opt.load_state_dict(sd)").body
    error = body["error"]
    assert (error["type"], error["message"], error["hint"]) == (
        "ForbiddenError", "Adam.load_state_dict: the saved state 'exp_avg' has shape [5] but its "
        "parameter has [2]", "Load a state_dict() saved from an optimizer over the same "
        "parameters, in the same order.")
