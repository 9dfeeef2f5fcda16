"""app/inspect/reprs.py writes exactly repr(value) (and str) for ordinary values, and a bounded
text, in bounded time and without recursion, for values built to be expensive."""

from __future__ import annotations

import collections
import timeit
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from app.inspect.reprs import TextLimits, bounded_text

WIDE = TextLimits(chars=100_000, elements=2_000, dims=32, items=100_000)
DEFAULT = TextLimits(chars=4_000, elements=2_000, dims=32, items=2_000)


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(2, 3)
        self.seq = nn.Sequential(
            nn.Conv2d(1, 2, 3), nn.ReLU(),
            nn.ModuleList([nn.Linear(1, 1)] * 3 + [nn.Tanh(), nn.Linear(2, 2), nn.Linear(2, 2)]))
        self.rnn = nn.LSTM(3, 4, 2)
        self.d = nn.ModuleDict({"x": nn.Identity()})
        self.p = nn.ParameterList([nn.Parameter(torch.ones(2))])
        self.e = nn.ModuleList()
        self.t = nn.TransformerEncoderLayer(8, 2)
        self.nested = nn.ModuleList([nn.ModuleList([nn.Linear(1, 1), nn.ReLU()])
                                     for _ in range(3)])


def _ordinary() -> list[Any]:
    sgd = torch.optim.SGD([{"params": [nn.Parameter(torch.zeros(1))]},
                           {"params": [nn.Parameter(torch.zeros(1))], "lr": 0.5}], lr=0.1)
    cyclic: list[Any] = [1]
    cyclic.append(cyclic)
    looped: dict[int, Any] = {}
    looped[1] = looped
    return [
        _Net(), nn.Linear(2, 2), nn.Sequential(), nn.Flatten(0, 1), nn.Upsample(scale_factor=2),
        nn.LayerNorm(3), nn.Unflatten(1, (2, 3)), nn.Sequential(nn.Sequential(nn.Linear(1, 1))),
        torch.optim.Adam(nn.Linear(2, 2).parameters()), sgd,
        [1, (2,), {"a": [3, 'x"y', "it's"]}, set(), frozenset({1}), {1}], (), ((),),
        torch.Size([2, 3]), torch.max(torch.ones(2, 2), 1), {}.keys(), {1: 2}.items(),
        KeyError("k"), ValueError(1, 2), slice(1, None, 2), torch.ones(3), torch.float32,
        torch.device("cpu"), 1.5, None, True, 10**30, "a'b", b"x", collections.OrderedDict(),
        collections.OrderedDict([("a", 1), ("b", [2])]), nn.Linear(2, 1).state_dict(),
        range(5), np.arange(4), np.float32(1.5), cyclic, looped, torch.randn(6, 6, 6),
    ]


@pytest.mark.parametrize("index", range(len(_ordinary())))
def test_ordinary_values_are_written_as_repr_writes_them(index: int) -> None:
    value = _ordinary()[index]
    assert bounded_text(value, WIDE) == repr(value)


@pytest.mark.parametrize("value", [KeyError("a"), ValueError("x y"), ValueError(),
                                   ValueError(1, "b"), np.arange(3), torch.device("cpu"),
                                   np.float32(1.5), [KeyError("a")], "text"])
def test_str_is_written_as_str_writes_it(value: Any) -> None:
    assert bounded_text(value, WIDE, as_str=True) == str(value)


def test_long_strings_keep_their_quotes() -> None:
    value = "x" * 10_000 + "'"
    text = bounded_text([value], DEFAULT)
    assert text.startswith('["xxx') and len(text) <= DEFAULT.chars + 2


def _deep_tuple() -> tuple[Any, ...]:
    value: tuple[Any, ...] = ()
    for _ in range(3000):
        value = (value,)
    return value


def _deep_sequential() -> nn.Module:
    module: nn.Module = nn.Linear(1, 1)
    for _ in range(3000):
        module = nn.Sequential(module)
    return module


def _deep_module_lists() -> nn.Module:
    """Two chains that print alike, so every level compares its children."""
    a: nn.Module = nn.Linear(1, 1)
    b: nn.Module = nn.Linear(1, 1)
    for _ in range(3000):
        a, b = nn.ModuleList([a, b]), nn.ModuleList([b, a])
    return a


def _optimizer_with_keys() -> torch.optim.Optimizer:
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    optimizer.param_groups[0].update({str(i): i for i in range(10**5)})
    return optimizer


EXPENSIVE = {
    "upsample-tuple": lambda: nn.Upsample(scale_factor=(2.0,) * 10**5),
    "unflatten-tuple": lambda: nn.Unflatten(1, (1,) * 10**5),
    "layernorm-ones": lambda: nn.LayerNorm((1,) * 10**4),
    "parameter-list": lambda: nn.ParameterList([nn.Parameter(torch.zeros(1))] * 10**4),
    "deep-tuple": _deep_tuple,
    "deep-sequential": _deep_sequential,
    "deep-module-lists": _deep_module_lists,
    "module-list-same": lambda: nn.ModuleList([nn.Linear(1, 1)] * 10**5),
    "module-list-alike": lambda: nn.ModuleList([nn.Linear(1, 1) for _ in range(2000)]),
    "optimizer-groups": lambda: torch.optim.SGD(
        [{"params": [nn.Parameter(torch.zeros(1))]} for _ in range(2000)], lr=0.1),
    "optimizer-keys": _optimizer_with_keys,
    "many-small-dims": lambda: torch.zeros(1).expand(*(6,) * 12),
    "many-dims": lambda: torch.zeros((1,) * 2000),
    "array-many-small-dims": lambda: np.broadcast_to(np.zeros(1), (6,) * 12),
    "long-list": lambda: [1] * 10**6,
    "long-strings": lambda: ("x" * 10**6,) * 1000,
    "key-error": lambda: KeyError(("s",) * 10**6),
    "dict-keys": lambda: dict.fromkeys(range(10**6)).keys(),
    "state-dict": lambda: nn.Sequential(*[nn.Linear(30, 30) for _ in range(100)]).state_dict(),
}


@pytest.mark.parametrize("name", sorted(EXPENSIVE))
def test_expensive_values_cost_a_few_ms(name: str) -> None:
    value = EXPENSIVE[name]()
    text = bounded_text(value, DEFAULT)
    assert len(text) <= DEFAULT.chars + 2
    # The best of three: the suite shares its CPU with other processes.
    best = min(timeit.repeat(lambda: bounded_text(value, DEFAULT), number=1, repeat=3))
    assert best < 0.015, f"{name}: {best * 1000:.1f} ms"


def test_repeated_layers_are_compressed_like_torch() -> None:
    layers = nn.ModuleList([nn.Linear(1, 1) for _ in range(50)])
    assert bounded_text(layers, DEFAULT) == repr(layers)
    assert "(0-49): 50 x Linear" in bounded_text(layers, DEFAULT)


def test_a_text_that_ran_out_of_work_says_so() -> None:
    text = bounded_text(_deep_tuple(), DEFAULT)
    assert text.endswith("…")
