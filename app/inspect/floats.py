"""Float32 values as the shortest decimals that read back to the same float32.

``tensor.tolist()`` widens float32 to Python floats (float64), whose text carries up to 17
significant digits: 0.1f is written 0.10000000149011612. The value a float32 stands for needs
at most 9 significant digits; most need fewer. For all values at once (numpy, no Python loop
over elements) this takes, for p = 6, 7, 8, 9, the nearest decimal of p significant digits,
keeps the first that reads back as the same float32, and returns it as the float64 nearest to
it, whose repr (and so its JSON text) is that decimal without trailing zeros.

Why these four are enough: a float32 lies within 6e-8 of its own value of the shortest
decimal d, while 6-digit decimals are 1e-5 (relative) apart, so when d has at most 6 digits
it is the nearest 6-digit decimal (0.1f -> 0.100000 -> "0.1"); when d needs 7, 8 or 9 digits,
the nearest decimal of that many digits is at least as close as d and so reads back too, with
as many digits as d. A value for which none fits (far outside 1e-13..1e22, where the powers
of ten used are no longer exact) keeps its exact float64 widening: every value always reads
back as its float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_EXACT_POWERS = 22  # 10**k is exact in float64 up to k = 22
_POWERS = 10.0 ** np.arange(_EXACT_POWERS + 1)
_DIGITS = np.arange(6, 10).reshape(-1, 1)  # one row per number of significant digits


def shortest_float32(values: np.ndarray) -> Any:
    """``values`` (float32, all finite) as nested lists of floats with the shortest text."""
    exact = values.astype(np.float64).reshape(-1)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(exact)))
        magnitude[exact == 0.0] = 0.0  # zeros are written 0.0 / -0.0 already
        # x * 10**shift has that row's number of digits before the point; an integer
        # mantissa divided (or multiplied) by an exact power of ten is one correctly rounded
        # operation, so the float64 nearest to the decimal.
        shift = _DIGITS - 1 - magnitude.astype(np.int64)
        up = np.take(_POWERS, shift, mode="clip")  # negative shifts clip to 10**0
        down = np.take(_POWERS, -shift, mode="clip")
        candidates = np.round(exact * up / down) / up * down
        fits = candidates.astype(np.float32) == values.reshape(-1)
    fits &= exact != 0.0
    result = exact
    for row in range(len(_DIGITS) - 1, -1, -1):  # the fewest digits that fit win
        result = np.where(fits[row], candidates[row], result)
    return result.reshape(values.shape).tolist()
