"""Heatmap colour classes for tensor cells.

Colours are CSS classes (``hm-s0`` .. ``hm-s8``, ``hm-d0`` .. ``hm-d8``) rather than inline
styles because the strict CSP forbids style attributes. Both palettes are ColorBrewer
schemes rated colour-blind safe: YlGnBu (sequential) for values of one sign and PuOr
(diverging, centred on zero) when a tensor holds negative and positive values. Every cell
also prints its number, so colour is never the only carrier of meaning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

STEPS = 9  # classes per palette; static/app.css defines each one


@dataclass(frozen=True)
class Scale:
    """How one tensor's numbers map onto classes: ``lo``/``hi`` are the finite extremes."""

    kind: str  # "sequential" | "diverging" | "constant" | "none"
    lo: float
    hi: float

    @property
    def legend(self) -> list[str]:
        """The classes of the legend swatches, low to high."""
        if self.kind == "diverging":
            return [f"hm-d{i}" for i in range(STEPS)]
        if self.kind in ("sequential", "constant"):
            return [f"hm-s{i}" for i in range(STEPS)]
        return []


def numeric(value: object) -> float | None:
    """A finite float for a cell value, or None (text, NaN, infinities)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def scale_for(values: list[object]) -> Scale:
    finite = [v for v in (numeric(x) for x in values) if v is not None]
    if not finite:
        return Scale("none", 0.0, 0.0)
    lo, hi = min(finite), max(finite)
    if lo == hi:
        return Scale("constant", lo, hi)
    if lo < 0 < hi:
        return Scale("diverging", lo, hi)
    return Scale("sequential", lo, hi)


def cell_class(value: object, scale: Scale) -> str:
    if value == "nan":
        return "hm-nan"
    if value in ("inf", "-inf"):
        return "hm-inf"
    v = numeric(value)
    if v is None or scale.kind == "none":
        return "hm-text"
    if scale.kind == "constant":
        # One colour for all: a mid-light step keeps dark text readable.
        return "hm-s2"
    if scale.kind == "diverging":
        # Zero sits on the neutral middle step whatever the range's asymmetry, so the
        # sign of a value is what the hue tells.
        span = max(-scale.lo, scale.hi)
        t = v / span  # -1 .. 1
        step = round((t + 1) / 2 * (STEPS - 1))
        return f"hm-d{min(STEPS - 1, max(0, step))}"
    t = (v - scale.lo) / (scale.hi - scale.lo)  # 0 .. 1
    return f"hm-s{min(STEPS - 1, int(t * STEPS))}"
