"""Float32 values are written as the shortest decimal that reads back to the same float32
(app/inspect/floats.py), checked against numpy's own shortest repr, and views use them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from app.config import Settings
from app.engine.program import Sandbox, from_json, to_json
from app.inspect.floats import (
    Float32Values,
    as_lists,
    finite_float32,
    finite_number,
    finite_or_text,
    shortest_float32,
)


def _significant_digits(text: str) -> int:
    mantissa = text.lstrip("-").split("e")[0]
    if mantissa.endswith(".0"):
        mantissa = mantissa[:-2]
    digits = mantissa.replace(".", "").strip("0")
    return max(len(digits), 1)


def test_every_float32_bit_pattern_reads_back_exactly_sign_included() -> None:
    bits = np.random.default_rng(0).integers(0, 2**32, size=200_000, dtype=np.uint64)
    values = bits.astype(np.uint32).view(np.float32)
    values = values[np.isfinite(values)]
    written = np.array(shortest_float32(values), dtype=np.float64)
    assert np.array_equal(written.astype(np.float32), values)
    assert np.array_equal(np.signbit(written), np.signbit(values))


@pytest.mark.parametrize("scale", [1.0, 1e-3, 1e5, 1e-10, 1e15])
def test_as_few_digits_as_numpys_shortest_repr(scale: float) -> None:
    values = (torch.randn(5_000, generator=torch.Generator().manual_seed(1)) * scale).numpy()
    ours = [_significant_digits(repr(v)) for v in shortest_float32(values)]
    numpys = [_significant_digits(str(v)) for v in values]
    assert ours == numpys


def test_plain_values_and_the_shape_are_kept() -> None:
    values = np.array([[0.1, -0.0, 0.0, 0.3], [1.0, 2.5, -7.0, 1 / 3]], dtype=np.float32)
    assert shortest_float32(values) == [[0.1, -0.0, 0.0, 0.3], [1.0, 2.5, -7.0, 0.33333334]]
    assert json.dumps(shortest_float32(np.array(0.1, dtype=np.float32))) == "0.1"


def test_views_write_float32_values_short_and_exact() -> None:
    sandbox = Sandbox(Settings())
    code = "x = torch.randn(40, 40)\nh = x.half()\nd = x.double()\nx"
    body = from_json(to_json(sandbox.run(code).body))
    torch.manual_seed(0)
    x = torch.randn(40, 40)
    shown = torch.tensor(body["result"]["values"], dtype=torch.float32)
    assert torch.equal(shown, x[:32, :32])
    assert max(len(repr(v)) for row in body["result"]["values"] for v in row) <= 15
    # float16 is widened to float32 first: exact too.
    half = torch.tensor(body["variables"]["h"]["values"], dtype=torch.float32)
    assert torch.equal(half, x[:32, :32].half().float())
    # float64 keeps Python's own shortest text for float64: every digit.
    assert body["variables"]["d"]["values"] == x[:32, :32].double().tolist()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_value_is_told_by_orjsons_text(bad: float) -> None:
    values = np.array([[0.5, 1.0], [2.0, bad]], dtype=np.float32)
    assert finite_float32(values) is None
    assert finite_float32(np.array(bad, dtype=np.float32)) is None
    with pytest.raises(ValueError, match="NaN or infinite"):
        shortest_float32(values)
    values[1, 1] = 3.0
    assert finite_float32(values) == [[0.5, 1.0], [2.0, 3.0]]


def test_the_extremes_of_float32_are_finite_to_the_text_check() -> None:
    info = np.finfo(np.float32)
    values = np.array([info.max, -info.max, info.tiny, info.smallest_subnormal, -0.0, 1e-45,
                       3.4e38, 1e20, 1e-20], dtype=np.float32)
    shown = finite_float32(values)
    assert type(shown) is Float32Values and b"n" not in shown.text
    assert np.array_equal(np.array(shown.items, dtype=np.float32), values)


def test_float32_values_are_read_only_when_python_reads_them() -> None:
    values = np.array([[0.1, 2.0], [-0.0, 1 / 3]], dtype=np.float32)
    shown = finite_float32(values)
    assert type(shown) is Float32Values
    assert shown._items is None  # written, not read: the response writer needs the text only
    assert shown.count == 4 and shown.text == b"[[0.1,2.0],[-0.0,0.33333334]]"
    assert len(shown) == 2 and shown[1][1] == 0.33333334
    assert [*shown] == [[0.1, 2.0], [-0.0, 0.33333334]]
    assert shown == [[0.1, 2.0], [-0.0, 0.33333334]] and shown != [[0.1, 2.0]]
    assert shown == finite_float32(values.copy())
    assert json.dumps({"v": shown}, default=as_lists) == '{"v": [[0.1, 2.0], [-0.0, 0.33333334]]}'
    with pytest.raises(TypeError):
        shown[0] = [1.0, 1.0]  # type: ignore[index]
    with pytest.raises(TypeError):
        hash(shown)
    assert finite_float32(np.array(0.1, dtype=np.float32)) == 0.1  # 0-d: a float


def test_a_body_written_to_json_reads_no_float32_values() -> None:
    sandbox = Sandbox(Settings())
    code = "x = torch.randn(40, 40)\ny = x * 2\ny"
    for _ in range(2):  # a new program, then a rerun that finds the views in the memo
        body = sandbox.run(code).body
        written = to_json(body)
        values = body["result"]["values"]
        assert type(values) is Float32Values and values._items is None
        assert values.text in written
        assert from_json(written)["result"]["values"] == values


@pytest.mark.parametrize(("value", "written", "read"), [
    (1.5, 1.5, 1.5), (-0.0, -0.0, -0.0), (3, 3, 3.0), (1e308, 1e308, 1e308),
    (math.nan, "nan", None), (math.inf, "inf", None), (-math.inf, "-inf", None),
])
def test_one_spelling_of_non_finite_floats_written_and_read(value: float, written: object,
                                                           read: float | None) -> None:
    text = finite_or_text(value)
    assert text == written and type(text) is type(written)
    assert json.loads(json.dumps(text, allow_nan=False)) == written
    back = finite_number(text)
    assert back == read
    if back is not None and read is not None:  # -0.0 keeps its sign
        assert math.copysign(1, back) == math.copysign(1, read)


@pytest.mark.parametrize("value", [True, False, None, "1.5", [1.0], {"x": 1}])
def test_a_reader_takes_only_numbers(value: object) -> None:
    assert finite_number(value) is None
