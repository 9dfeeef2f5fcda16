"""Round tick values and their labels, for every chart the server draws.

The training pages (app/playground/charts.py) and the lessons' plots (app/lessons/plot.py)
read axes the same way: steps of 1, 2 or 5 times a power of ten, labels with as many
decimals as the step needs, and a short exponent form (``1e-4``, ``2e6``) for the very small
and the very large.
"""

from __future__ import annotations

import math

# Labels switch to the exponent form outside this band of magnitudes: 0.0001 and 2000000
# are hard to read at a glance, and wide labels crowd a narrow axis.
SMALLEST_PLAIN = 1e-3
LARGEST_PLAIN = 1e6


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving close to ``count`` intervals over
    ``span``; of two equally close, the larger (fewer labels). 1.0 for an empty span."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    power = 10.0 ** math.floor(math.log10(span / max(1, count)))
    steps = [f * power for f in (1, 2, 5, 10)]
    return min(steps, key=lambda step: (abs(span / step - count), -step))


def nice_range(lo: float, hi: float, count: int = 4) -> tuple[float, float, float]:
    """(low, high, step): ``lo``..``hi`` widened to whole steps (by 10% either side first
    when they are equal)."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo, count)
    return math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step, step


def ticks_between(lo: float, hi: float, step: float) -> list[float]:
    """The multiples of ``step`` from ``lo`` to ``hi`` (both included when they are ones),
    computed, not accumulated: 0.6, not 0.6000000000000001; 0, not 1e-17."""
    first = math.ceil(lo / step - 1e-9)
    count = math.floor(hi / step + 1e-9) - first
    return [round((first + i) * step, 12) for i in range(count + 1)]


def tick_text(value: float, step: float) -> str:
    """A tick label with as many decimals as the step needs, the same on every tick of an
    axis (0.0, 0.2 ... 1.0; 0, 10, 20), and outside the plain band a mantissa and exponent
    (1e-4, 2e6), where 0 is "0"."""
    if abs(value) < SMALLEST_PLAIN or abs(value) >= LARGEST_PLAIN:
        if value == 0:
            return "0" if step < SMALLEST_PLAIN or step >= LARGEST_PLAIN else \
                f"{0:.{_decimals(step)}f}"
        mantissa, exponent = f"{value:.0e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:.{_decimals(step)}f}"


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step) + 1e-9))


def log_ticks(lo: float, hi: float) -> list[float]:
    """Tick values of a log axis from ``lo`` to ``hi`` (both > 0): decades, plus 2 and 5
    between them when the range spans less than two decades."""
    first, last = math.floor(math.log10(lo) + 1e-9), math.ceil(math.log10(hi) - 1e-9)
    if last == first:
        last += 1
    multiples = (1, 2, 5) if last - first < 2 else (1,)
    return [m * 10.0**e for e in range(first, last + 1) for m in multiples
            if lo * 0.999 <= m * 10.0**e <= hi * 1.001]
