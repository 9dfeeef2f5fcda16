"""numpy_rules.predict_operator against what numpy really makes: the predicted bytes of a
matrix product are those of its result, batched shapes included."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine.numpy_rules import predict_operator
from app.engine.program import Sandbox

SHAPES = [((3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 6)), ((4,), (4, 7)),
          ((3, 4), (4,)), ((7, 1, 3, 4), (5, 4, 2))]


@pytest.mark.parametrize(("a", "b"), SHAPES)
def test_matmul_bytes_are_the_result_s(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    left, right = np.ones(a), np.ones(b)
    predicted, flops = predict_operator(left, right, True)
    result = left @ right
    assert predicted == max(result.nbytes, 8 if result.ndim == 0 else 0)
    assert flops == 2 * result.size * a[-1]


def test_linspace_is_sized_by_its_count(sandbox: Sandbox) -> None:
    error = sandbox.run("import numpy as np\na = np.linspace(0, 1, 10**8)").body["error"]
    assert (error["type"], error["message"]) == (
        "LimitError", "numpy.linspace would allocate 762.9 MB; the limit per call is 256.0 MB "
        "(setting max_call_bytes)")
