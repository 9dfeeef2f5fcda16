"""pprint, timeit, typing, numpy.finfo, numpy.empty and the submodule import forms: what a
program gets is what plain Python, numpy and torch give (the reference runs here, on the
same values)."""

from __future__ import annotations

import pprint
import time
import typing
from collections import OrderedDict
from typing import Any

import numpy as np
import pytest
import torch

from app.engine.program import Sandbox


def _stdout(sandbox: Sandbox, code: str) -> str:
    outcome = sandbox.run(code)
    assert outcome.status == 200 and outcome.body["ok"], outcome.body.get("error")
    return str(outcome.body["stdout"])


_DATA = """{'weights': [0.25, 0.5, 0.75] * 6, 'name': 'linear regression model',
         'layers': [(16, 32), (32, 64), (64, 10)], 'a': {'nested': list(range(12))},
         'empty': {}, 'flags': {True, False}}"""


@pytest.mark.parametrize("call", [
    "pprint.pprint(data)",
    "pprint.pprint(data, width=40, indent=2)",
    "pprint.pprint(data, depth=1)",
    "pprint.pprint(data, compact=True, width=30)",
    "pprint.pprint(data, sort_dicts=False)",
    "pprint.pp(data)",
    "print(pprint.pformat(list(range(40)), width=20))",
    "pprint.pprint(OrderedDict([('w', torch.arange(6.).reshape(2, 3)), ('b', torch.ones(2))]))",
    "pprint.pprint([np.arange(3), np.ones(2, np.float32)[0], torch.Size([2, 3]), torch.float16])",
])
def test_pprint_writes_what_pprint_writes(sandbox: Sandbox, call: str) -> None:
    program = ("import pprint\nimport numpy as np\nfrom collections import OrderedDict\n"
               f"data = {_DATA}\n{call}\n")
    reference: dict[str, Any] = {"pprint": pprint, "np": np, "torch": torch,
                                 "OrderedDict": OrderedDict}
    printed: list[str] = []
    reference["print"] = lambda text: printed.append(f"{text}\n")
    data = eval(_DATA, reference)
    reference["data"] = data
    if call.startswith("print("):
        exec(call, reference)
        expected = "".join(printed)
    else:
        expected = pprint.pformat(data, **_keywords(call)) + "\n" if "(data" in call \
            else _reference_output(call, reference)
    assert _stdout(sandbox, program) == expected


def _keywords(call: str) -> dict[str, Any]:
    inside = call[call.index("(data") + len("(data"):-1].lstrip(", ")
    keywords: dict[str, Any] = eval(f"dict({inside})")
    if call.startswith("pprint.pp("):
        keywords.setdefault("sort_dicts", False)
    return keywords


def _reference_output(call: str, namespace: dict[str, Any]) -> str:
    argument = call[len("pprint.pprint("):-1]
    return pprint.pformat(eval(argument, namespace)) + "\n"


def test_pprint_of_a_state_dict_wraps_as_python_does(sandbox: Sandbox) -> None:
    program = """import torch
from torch import nn
from pprint import pprint
model = nn.Linear(1, 1)
with torch.no_grad():
    model.weight.fill_(0.5972)
    model.bias.fill_(0.3410)
layer = nn.Linear(1, 1)
pprint({'linear_layer.weight': model.weight.detach(), 'linear_layer.bias': model.bias.detach()})
pprint(model.state_dict())
"""
    model = torch.nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(0.5972)
        model.bias.fill_(0.3410)
    expected = pprint.pformat({"linear_layer.weight": model.weight.detach(),
                               "linear_layer.bias": model.bias.detach()}) + "\n"
    expected += pprint.pformat(model.state_dict()) + "\n"
    assert _stdout(sandbox, program) == expected


def test_timeit_default_timer_is_a_perf_counter(sandbox: Sandbox) -> None:
    before = time.perf_counter()
    out = _stdout(sandbox, "from timeit import default_timer as timer\nimport timeit\n"
                  "a = timer()\nb = timeit.default_timer()\nprint(a, b, b >= a)")
    after = time.perf_counter()
    first, second, ordered = out.split()
    assert before <= float(first) <= float(second) <= after and ordered == "True"


def test_typing_names_write_annotations_as_python_does(sandbox: Sandbox) -> None:
    out = _stdout(sandbox, """from typing import Any, Callable, Dict, Iterable, List, Optional
from typing import Sequence, Tuple, Union
import typing
import torch
Vector = List[float]
def train(model: torch.nn.Module, steps: int = 2) -> Dict[str, List[float]]:
    return {'loss': [0.5] * steps}
x: Optional[int] = 3
print(Vector)
print(Dict[str, Tuple[int, Optional[torch.Tensor]]])
print(Callable[[int, str], float], Iterable[int], Sequence[Any], Union[int, str])
print(typing.List[typing.Tuple[int, ...]], Tuple[()] if False else Any)
print(train(None), x)
""")
    T = typing
    expected = [T.List[float], T.Dict[str, T.Tuple[int, T.Optional[torch.Tensor]]]]
    lines = [str(expected[0]), str(expected[1]),
             " ".join(str(v) for v in (T.Callable[[int, str], float], T.Iterable[int],
                                       T.Sequence[T.Any], T.Union[int, str])),
             f"{T.List[T.Tuple[int, ...]]} {T.Any}",
             "{'loss': [0.5, 0.5]} 3"]
    assert out == "\n".join(lines) + "\n"


def test_numpy_finfo_gives_numpys_limits(sandbox: Sandbox) -> None:
    out = _stdout(sandbox, """import numpy as np
eps = np.finfo(np.float32).eps.item()
print(eps, np.finfo(np.float64).max, np.finfo('float16').tiny, np.finfo(float).eps)
print(np.finfo(np.zeros(2, dtype=np.float32).dtype).bits, np.finfo(np.float32).resolution)
""")
    f32, f64, f16 = np.finfo(np.float32), np.finfo(np.float64), np.finfo("float16")
    first = (f32.eps.item(), f64.max, f16.tiny, np.finfo(float).eps)
    assert out == " ".join(str(v) for v in first) + f"\n{f32.bits} {f32.resolution!s}\n"


def test_numpy_empty_is_filled_and_then_the_programs_own(sandbox: Sandbox) -> None:
    outcome = sandbox.run("""import numpy as np
x = np.empty((2, 3), 'int64')
y = np.empty(3)
print(x.tolist(), np.isnan(y).all())
x[:] = np.array(range(3)) + np.array([[10], [20]])
print(x)
""")
    assert outcome.body["ok"], outcome.body.get("error")
    expected = np.empty((2, 3), "int64")
    expected[:] = np.array(range(3)) + np.array([[10], [20]])
    assert outcome.body["stdout"] == f"[[0, 0, 0], [0, 0, 0]] True\n{expected}\n"
    assert any("uninitialised" in notice for notice in outcome.body["notices"])


def test_distribution_and_rnn_import_forms(sandbox: Sandbox) -> None:
    code = """import torch
import torch.distributions.multinomial
from torch.distributions.multinomial import Multinomial
from torch.distributions import Categorical
from torch.distributions.categorical import Categorical as C2
from torch.nn.utils.rnn import pad_sequence
import torch.nn.utils.rnn as rnn
torch.manual_seed(0)
print(Multinomial is torch.distributions.multinomial.Multinomial, Categorical is C2)
print(Multinomial(100, torch.tensor([0.5, 0.5])).sample())
print(Categorical(torch.tensor([0.2, 0.8])).sample((5,)))
print(pad_sequence([torch.ones(2), torch.ones(3)], batch_first=True))
print(rnn.pad_sequence([torch.ones(1), torch.ones(2)]))
"""
    torch.manual_seed(0)
    dist = torch.distributions
    expected = "True True\n"
    expected += f"{dist.multinomial.Multinomial(100, torch.tensor([0.5, 0.5])).sample()}\n"
    expected += f"{dist.Categorical(torch.tensor([0.2, 0.8])).sample((5,))}\n"
    pad = torch.nn.utils.rnn.pad_sequence
    expected += f"{pad([torch.ones(2), torch.ones(3)], batch_first=True)}\n"
    expected += f"{pad([torch.ones(1), torch.ones(2)])}\n"
    assert _stdout(sandbox, code) == expected
