"""Charts as SVG geometry, computed on the server (no JavaScript chart library).

First the data, then the drawing: ``line_chart`` and ``boundary_map`` turn numbers into
pixel coordinates, tick labels and CSS class names; the macros of
``templates/components/_run_charts.html`` only write SVG elements at those coordinates.
Colours are classes (the CSP forbids style attributes): ``tone-0`` .. ``tone-7`` are the
Okabe-Ito hues for lines, ``bd-p*`` a ColorBrewer PuOr ramp for two-class probabilities,
``bd-c*`` / ``bd-k*`` a hue per class and a confidence level for more classes. Every palette
is colour-blind safe, and no chart relies on colour alone: series also differ by dash
pattern, classes by marker shape, and each chart has a text alternative.

Numbers may arrive as the strings "nan", "inf", "-inf" (how runs report non-finite values)
or None (not measured): a line breaks there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.inspect.floats import finite_number
from app.playground.ticks import log_ticks, nice_range, tick_text, ticks_between

TONES = 8  # tone-0 .. tone-7 in static/app.css
MAX_POINTS = 300  # points drawn per line; more cannot be told apart in a chart this wide
PROBABILITY_STEPS = 9  # bd-p0 .. bd-p8
CONFIDENCE_LEVELS = (0.5, 0.8)  # bd-k0 below 0.5, bd-k1 below 0.8, bd-k2 from there
MAX_MARKS = 200  # data points drawn over a decision boundary
MARK_R = 3.2  # marker radius in pixels

Scale = Callable[[float], float]  # data coordinate -> pixel


# --- line charts ---------------------------------------------------------------------
@dataclass(frozen=True)
class Series:
    """One line: ``label`` is a message id the template translates; ``run`` names the run
    it belongs to when several runs share a chart."""

    label: str
    x: Sequence[Any]
    y: Sequence[Any]
    tone: int = 0
    dashed: bool = False
    thin: bool = False  # a faint line under the others (e.g. the noisy per-step loss)
    run: str | None = None


@dataclass(frozen=True)
class Tick:
    at: float  # pixel coordinate along its axis
    text: str


@dataclass(frozen=True)
class Line:
    label: str
    run: str | None
    css: str
    segments: tuple[str, ...]  # SVG polyline ``points`` values, one per unbroken stretch
    points: int  # points the series holds (before thinning)
    last_x: float | None  # data coordinates of the last finite point
    last_y: float | None
    end: tuple[float, float] | None  # pixel position of that point (an end marker)
    broken_at: float | None  # x of the first non-finite value


@dataclass(frozen=True)
class Rule:
    """A horizontal reference line (e.g. the clipping threshold)."""

    label: str
    value: float
    y: float
    css: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float


@dataclass
class Chart:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    dots: list[Dot] = field(default_factory=list)
    log_y: bool = False

    @property
    def empty(self) -> bool:
        return not any(line.segments for line in self.lines) and not self.dots

    @property
    def points(self) -> int:
        """Data points behind the chart, all series together (it grows as a run goes)."""
        return sum(line.points for line in self.lines)

    @property
    def plot_width(self) -> float:
        return self.right - self.left

    @property
    def plot_height(self) -> float:
        return self.bottom - self.top


def thin(n: int, limit: int) -> list[int]:
    """Indices of at most ``limit`` of ``n`` points, evenly spread, first and last kept."""
    if n <= limit:
        return list(range(n))
    if limit < 2:
        return [n - 1]
    return sorted({round(i * (n - 1) / (limit - 1)) for i in range(limit)})


def line_chart(
    series: Sequence[Series],
    *,
    width: int = 480,
    height: int = 240,
    log_y: bool = False,
    y_range: tuple[float, float] | None = None,
    x_range: tuple[float, float] | None = None,
    rules: Sequence[tuple[str, float]] = (),
    dots: Sequence[tuple[Any, Any]] = (),
    max_points: int = MAX_POINTS,
) -> Chart:
    """Lay out ``series`` on shared axes. ``log_y`` falls back to a linear axis when a value
    is not positive; ``y_range`` fixes the axis (e.g. 0..1 for accuracy)."""
    chart = Chart(width, height, left=60.0, top=10.0, right=width - 22.0, bottom=height - 30.0)
    # Thinned first: the axes span what is drawn, and a long run costs no more than a short one.
    sampled = [_sample(s, max_points) for s in series]
    drawn = [p for sample in sampled for p in sample.points if p is not None]
    finite_dots = [(fx, fy) for fx, fy in ((finite_number(x), finite_number(y)) for x, y in dots)
                   if fx is not None and fy is not None]
    xs = [x for x, _ in drawn + finite_dots]
    ys = [y for _, y in drawn + finite_dots] + [v for _, v in rules]
    if not xs:
        return chart
    chart.log_y = log_y and min(ys) > 0 and y_range is None

    x0, x1, x_step = nice_range(*(x_range or (min(xs), max(xs))), count=5)
    if x_range:
        x0, x1 = x_range
    to_x = _scale(x0, x1, chart.left, chart.right)
    if chart.log_y:
        low, high = 10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys)))
        if low == high:
            high *= 10
        to_y = _log_scale(low, high, chart.bottom, chart.top)
        chart.y_ticks = [Tick(round(to_y(v), 1), tick_text(v, v)) for v in log_ticks(low, high)]
    else:
        y0, y1, y_step = nice_range(*(y_range or (min(ys), max(ys))), count=4)
        if y_range:
            y0, y1 = y_range
        to_y = _scale(y0, y1, chart.bottom, chart.top)
        chart.y_ticks = [Tick(round(to_y(v), 1), tick_text(v, y_step))
                         for v in ticks_between(y0, y1, y_step)]
    chart.x_ticks = [Tick(round(to_x(v), 1), tick_text(v, x_step))
                     for v in ticks_between(x0, x1, x_step)]
    chart.lines = [_line(sample, to_x, to_y, chart.log_y) for sample in sampled]
    chart.rules = [Rule(label, value, round(to_y(value), 1), "rule") for label, value in rules]
    chart.dots = [Dot(round(to_x(x), 1), round(to_y(y), 1)) for x, y in finite_dots]
    return chart


def _scale(d0: float, d1: float, p0: float, p1: float) -> Scale:
    span = (d1 - d0) or 1.0
    return lambda v: p0 + (v - d0) / span * (p1 - p0)


def _log_scale(d0: float, d1: float, p0: float, p1: float) -> Scale:
    l0, l1 = math.log10(d0), math.log10(d1)
    return lambda v: p0 + (math.log10(v) - l0) / (l1 - l0) * (p1 - p0)


@dataclass(frozen=True)
class _Sample:
    """The points of a series that get drawn: None where the line breaks."""

    series: Series
    total: int
    points: list[tuple[float, float] | None]
    broken_at: float | None  # x of the first non-finite value


_INFINITIES = (math.inf, -math.inf)


def _non_finite(value: object) -> bool:
    """NaN or an infinity, as a float or as the string a run reports ("nan", "inf")."""
    return value.__class__ is str or value != value or value in _INFINITIES


def _sample(s: Series, max_points: int) -> _Sample:
    n = min(len(s.x), len(s.y))
    bad = [i for i in range(n) if _non_finite(s.y[i])]
    # Non-finite values are always kept, so a line visibly stops where a run diverged.
    keep = sorted(set(thin(n, max_points)).union(bad))
    points: list[tuple[float, float] | None] = []
    for i in keep:
        x, y = finite_number(s.x[i]), finite_number(s.y[i])
        points.append(None if x is None or y is None else (x, y))
    return _Sample(s, n, points, finite_number(s.x[bad[0]]) if bad else None)


def _line(sample: _Sample, to_x: Scale, to_y: Scale, log_y: bool) -> Line:
    s = sample.series
    segments: list[str] = []
    current: list[str] = []
    last: tuple[float, float] | None = None
    for point in sample.points:
        if point is None or (log_y and point[1] <= 0):
            if current:
                segments.append(" ".join(current))
            current = []
            continue
        current.append(f"{to_x(point[0]):.1f},{to_y(point[1]):.1f}")
        last = point
    if current:
        segments.append(" ".join(current))
    css = " ".join(c for c in (f"tone-{s.tone % TONES}", "dashed" if s.dashed else "",
                               "thin" if s.thin else "") if c)
    end = (round(to_x(last[0]), 1), round(to_y(last[1]), 1)) if last else None
    return Line(s.label, s.run, css, tuple(segments), sample.total, last[0] if last else None,
                last[1] if last else None, end, sample.broken_at)


# --- decision boundary ---------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    w: float
    h: float
    css: str


@dataclass(frozen=True)
class Mark:
    d: str  # SVG path of the marker
    css: str
    label: int


@dataclass(frozen=True)
class Swatch:
    """One step of the two-class probability ramp: its class and the range it covers."""

    css: str
    low: float
    high: float


@dataclass(frozen=True)
class ClassKey:
    """How one class looks: its region colour (multi-class maps) and its marker."""

    label: int
    region_css: str
    marker_d: str  # in a 12 x 12 box
    marker_css: str


@dataclass
class BoundaryMap:
    size: int  # the plot is size x size pixels, after a margin for the axes
    margin: int
    epoch: int
    classes: int
    cells: list[Cell]
    marks: list[Mark]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    ramp: list[Swatch]  # two classes: probability of class 1, low to high
    keys: list[ClassKey]
    grid: int  # cells per side of the model's grid

    @property
    def width(self) -> int:
        return self.size + self.margin + 8

    @property
    def height(self) -> int:
        return self.size + 8 + 22


def probability_class(p: object) -> str:
    value = finite_number(p)
    if value is None:
        return "bd-nan"
    step = min(PROBABILITY_STEPS - 1, max(0, int(value * PROBABILITY_STEPS)))
    return f"bd-p{step}"


def confidence_class(label: object, confidence: object) -> str:
    value = finite_number(confidence)
    if not isinstance(label, int) or value is None:
        return "bd-nan"
    level = sum(value >= c for c in CONFIDENCE_LEVELS)
    return f"bd-c{label} bd-k{level}"


def boundary_map(snapshot: dict[str, Any], points: dict[str, Any] | None, *,
                 size: int = 300, margin: int = 48) -> BoundaryMap | None:
    """The decision-boundary heatmap of a ``boundary`` event, with the data points over it.

    The event's rows run along y (row 0 at the lowest y) and its columns along x; SVG's y
    grows downwards, so row i is drawn at the bottom minus i cells. Equal neighbouring cells
    of a row are merged into one rectangle, which keeps a 40 x 40 map to a few hundred."""
    if snapshot.get("type") != "boundary":
        return None
    grid = int(snapshot.get("size") or 0)
    classes = int(snapshot.get("classes") or 0)
    two = classes == 2 and "probability" in snapshot
    if grid < 1 or (not two and "label" not in snapshot):
        return None
    cell = size / grid
    top = 8.0
    cells: list[Cell] = []
    for i in range(grid):
        if two:
            row = [probability_class(p) for p in snapshot["probability"][i]]
        else:
            row = [confidence_class(label, c) for label, c in
                   zip(snapshot["label"][i], snapshot["confidence"][i], strict=True)]
        y = top + (grid - 1 - i) * cell
        start = 0
        for j in range(1, grid + 1):
            if j == grid or row[j] != row[start]:
                cells.append(Cell(round(margin + start * cell, 2), round(y, 2),
                                  round((j - start) * cell, 2), round(cell, 2), row[start]))
                start = j
    (x0, x1), (y0, y1) = snapshot["x_range"], snapshot["y_range"]
    to_x = _scale(x0, x1, margin + cell / 2, margin + size - cell / 2)
    to_y = _scale(y0, y1, top + size - cell / 2, top + cell / 2)
    return BoundaryMap(
        size=size, margin=margin, epoch=int(snapshot.get("epoch") or 0), classes=classes,
        cells=cells, marks=_marks(points, to_x, to_y),
        x_ticks=_axis_ticks(x0, x1, to_x), y_ticks=_axis_ticks(y0, y1, to_y),
        ramp=_ramp() if two else [], keys=_keys(two, classes), grid=grid)


def _axis_ticks(lo: float, hi: float, to_pixel: Scale) -> list[Tick]:
    _, _, step = nice_range(lo, hi, count=4)
    return [Tick(round(to_pixel(v), 1), tick_text(v, step)) for v in ticks_between(lo, hi, step)]


def _ramp() -> list[Swatch]:
    return [Swatch(f"bd-p{i}", round(i / PROBABILITY_STEPS, 2),
                   round((i + 1) / PROBABILITY_STEPS, 2)) for i in range(PROBABILITY_STEPS)]


def _keys(two: bool, classes: int) -> list[ClassKey]:
    return [ClassKey(c, "" if two else f"bd-c{c} bd-k2", marker_path(c, 6, 6, 4.5),
                     f"pt pt-c{c}") for c in range(classes)]


def marker_path(shape: int, x: float, y: float, r: float = MARK_R) -> str:
    """A circle, square, triangle or diamond (by class), so classes differ by shape too."""
    shape %= 4
    if shape == 0:
        return (f"M{x - r:.1f},{y:.1f}a{r:.1f},{r:.1f} 0 1,0 {2 * r:.1f},0"
                f"a{r:.1f},{r:.1f} 0 1,0 {-2 * r:.1f},0z")
    if shape == 1:
        s = r * 0.9
        return f"M{x - s:.1f},{y - s:.1f}h{2 * s:.1f}v{2 * s:.1f}h{-2 * s:.1f}z"
    if shape == 2:
        h = r * 1.2
        return f"M{x:.1f},{y - h:.1f}L{x + h:.1f},{y + h * 0.8:.1f}L{x - h:.1f},{y + h * 0.8:.1f}z"
    h = r * 1.25
    return f"M{x:.1f},{y - h:.1f}L{x + h:.1f},{y:.1f}L{x:.1f},{y + h:.1f}L{x - h:.1f},{y:.1f}z"


def _marks(points: dict[str, Any] | None, to_x: Scale, to_y: Scale) -> list[Mark]:
    if not points:
        return []
    coords, labels = points.get("x") or [], points.get("y") or []
    marks = []
    for index in thin(min(len(coords), len(labels)), MAX_MARKS):
        (x, y), label = coords[index], labels[index]
        if finite_number(x) is None or finite_number(y) is None or not isinstance(label, int):
            continue
        marks.append(Mark(marker_path(label, to_x(x), to_y(y)), f"pt pt-c{label}", label))
    return marks
