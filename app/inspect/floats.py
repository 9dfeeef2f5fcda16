"""Float32 values as the shortest decimals that read back to the same float32.

``tensor.tolist()`` widens float32 to Python floats (float64), whose text carries up to 17
significant digits: 0.1f is written 0.10000000149011612. The value a float32 stands for needs
at most 9 significant digits; most need fewer. orjson writes a float32 array with the
shortest decimal that reads back as the same float32 (the Ryu algorithm, in native code), and
reading that text back gives, for each value, the float64 nearest to that decimal, whose
repr (and so its JSON text) is the same decimal. One write of the array, no Python loop over
elements; the text goes into the response as it is, and is read back only where Python code
reads the values.

tests/inspect/test_floats.py checks every value reads back exactly (sign included) and has
no more digits than numpy's own shortest float32 repr.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
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


class Float32Values:
    """Finite float32 values (nested as the array was) kept as ``text``, orjson's writing of
    them, and read back into Python lists only when Python code reads them.

    The response writer (app/engine/program.py, ``to_json``) puts ``text`` itself in the body,
    and the view memo keeps it (app/inspect/memo.py), so a view that is only written never
    pays for the read: ~21 us for 1,024 values, once per new view and, before, once per run
    for each view a rerun found in the memo (~340 us of an ``autograd64`` rerun).

    Reads as a read-only sequence (``len``, indexing, iteration, ``==`` with lists), but it is
    not a list: code that must tell lists apart asks for ``type(v) is Float32Values``."""

    __slots__ = ("_items", "count", "text")

    def __init__(self, text: bytes, count: int) -> None:
        self.text = text
        self.count = count  # how many values, at every depth
        self._items: list[Any] | None = None

    @property
    def items(self) -> list[Any]:
        """The values as Python lists (floats whose shortest text is ``text``'s)."""
        if self._items is None:
            self._items = orjson.loads(self.text)
        return self._items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: Any) -> Any:
        return self.items[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def __eq__(self, other: object) -> bool:
        if type(other) is Float32Values:
            return self.text == other.text or self.items == other.items
        return self.items == other

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which are unhashable

    def __repr__(self) -> str:
        return f"Float32Values({self.text.decode()})"


def as_lists(value: object) -> list[Any]:
    """The standard library's ``json.dumps(..., default=as_lists)``: Float32Values as Python
    lists. orjson needs none of it (app/engine/program.py gives it the text itself)."""
    if type(value) is Float32Values:
        return value.items
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def shortest_float32(values: np.ndarray) -> Any:
    """``values`` (float32, all finite) as nested lists of floats with the shortest text."""
    shown = finite_float32(values)
    if shown is None:
        raise ValueError("a float32 value is NaN or infinite")
    return shown.items if type(shown) is Float32Values else shown


def finite_float32(values: np.ndarray) -> Float32Values | float | None:
    """``values`` (float32) with the shortest text: Float32Values, a float for a 0-d array;
    None when one of them is NaN or infinite. orjson writes those as ``null``, and no float's
    text has an "n" (orjson writes 1e20, not inf): one memchr over the text tells (0.2 us for
    1,024 values; an np.isfinite pass costs 1.3 us, ``b"null" in text`` 7 us)."""
    if values.ndim == 0:  # orjson writes arrays, not 0-d scalars
        shown = float32_values(values.reshape(1))
        return None if shown is None else shown[0]
    return float32_values(values)


def float32_values(values: np.ndarray) -> Float32Values | None:
    """``finite_float32`` of an array of one dimension or more."""
    text = orjson.dumps(np.ascontiguousarray(values, dtype=np.float32),
                        option=orjson.OPT_SERIALIZE_NUMPY)
    if b"n" in text:
        return None
    return Float32Values(text, values.size)
