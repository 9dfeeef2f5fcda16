"""Float32 values as the shortest decimals that read back to the same float32.

``tensor.tolist()`` widens float32 to Python floats (float64), whose text carries up to 17
significant digits: 0.1f is written 0.10000000149011612. The value a float32 stands for needs
at most 9 significant digits; most need fewer. orjson writes a float32 array with the
shortest decimal that reads back as the same float32 (the Ryu algorithm, in native code), and
reading that text back gives, for each value, the float64 nearest to that decimal, whose
repr (and so its JSON text) is the same decimal. One write and one read of the array: no
Python loop over elements, and about the cost of ``tolist()`` twice.

tests/inspect/test_floats.py checks every value reads back exactly (sign included) and has
no more digits than numpy's own shortest float32 repr.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import orjson


def finite_or_text(value: float) -> float | str:
    """The contract's one spelling of a float JSON cannot write: NaN and the infinities
    travel as the strings "nan", "inf" and "-inf"."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


def finite_number(value: object) -> float | None:
    """What a reader of the contract makes of a value: a float for a finite number (an int
    too), None for anything else ("nan", "inf" and "-inf" as finite_or_text writes them,
    bools, texts)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return None


class FiniteView(dict):  # type: ignore[type-arg]
    """A view whose floats are all finite or already text, its values list's included (by
    _sanitize, finite_or_text, finite_float32 or compact._finite, where it was built): a
    tensor's view, or a trace's small picture of one. A plain dict to every reader; the
    response writer (app/engine/program.py, to_json), which must find any NaN or infinity
    left in a body, looks in one only for its ``values`` list and the view of its ``grad``:
    walking every field of every view was a fifth of a small program's JSON time."""

    __slots__ = ()


class Float32Values(list):  # type: ignore[type-arg]
    """Values read back from ``text``, orjson's writing of a float32 array: the response
    writer (app/engine/program.py, ``to_json``) puts ``text`` itself in the body rather than
    writing every float again (~30 ns each, a third of a 64x64 program's JSON time). Read
    only: a change would not reach ``text``."""

    __slots__ = ("text",)

    def __init__(self, values: list[Any], text: bytes) -> None:
        super().__init__(values)
        self.text = text


def shortest_float32(values: np.ndarray) -> Any:
    """``values`` (float32, all finite) as nested lists of floats with the shortest text."""
    shown = finite_float32(values)
    if shown is None:
        raise ValueError("a float32 value is NaN or infinite")
    return shown


def finite_float32(values: np.ndarray) -> Any | None:
    """``values`` (float32) as nested lists of floats with the shortest text, or None when one
    of them is NaN or infinite. orjson writes those as ``null``, which no float's text holds:
    its text tells, with no np.isfinite pass (~1.3 us of each small view)."""
    if values.ndim == 0:  # orjson writes arrays, not 0-d scalars
        shown = finite_float32(values.reshape(1))
        return None if shown is None else shown[0]
    text = orjson.dumps(np.ascontiguousarray(values, dtype=np.float32),
                        option=orjson.OPT_SERIALIZE_NUMPY)
    if b"null" in text:
        return None
    return Float32Values(orjson.loads(text), text)
