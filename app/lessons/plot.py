"""Charts drawn on the server as SVG from a real program's result.

Data first, drawing second: ``build_chart`` turns the result view of a program into a
``Chart`` (pixel coordinates, ticks, legend) and the Jinja macro only writes it out.

Two styles, both reading a dict result:

- ``lines``: ``{"x": 1-D tensor, "<series>": 1-D tensor of the same length, ...}``.
- ``trajectory``: ``{"<series>": (N, 2) tensor of (x, y) points, ...}`` drawn as paths with
  a start and an end mark; optionally ``"surface": (H, W) tensor`` shaded behind them,
  where ``surface[i, j]`` is the value at column ``j`` (x) and row ``i`` (y), as
  ``torch.meshgrid(xs, ys, indexing="xy")`` lays it out, and optionally ``"extent":
  tensor([x_min, x_max, y_min, y_max])`` saying where the surface lies (without it, it
  spans the trajectories' range).

Series colours are the Okabe-Ito palette (told apart with any colour vision) and each
series also has its own dash pattern, so colour is never the only cue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.inspect.floats import finite_number
from app.message import Message
from app.playground.heatmap import STEPS
from app.playground.ticks import nice_step, tick_text, ticks_between

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40  # room for tick labels on the left and below
MAX_SERIES = 8  # the palette's size
TICKS = 5  # about this many ticks per axis


@dataclass(frozen=True)
class Tick:
    at: float  # pixel position along its axis
    label: str


@dataclass
class Series:
    name: str
    css: str  # plot-s0 .. plot-s7: colour and dash pattern
    paths: list[str]  # SVG polyline points, one per run of finite values
    start: tuple[float, float] | None = None  # trajectory marks
    end: tuple[float, float] | None = None
    described: str = ""  # the same data in words, for screen readers


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    w: float
    h: float
    css: str


@dataclass
class Chart:
    style: str
    series: list[Series] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    surface_range: tuple[str, str] | None = None  # (low, high) labels of the shading
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    right: int = WIDTH - RIGHT
    bottom: int = HEIGHT - BOTTOM


class PlotError(ValueError):
    """The result cannot be drawn; ``said`` tells why (a catalog message)."""

    def __init__(self, said: Message) -> None:
        super().__init__(str(said))
        self.said = said


def value_label(value: float) -> str:
    """A data value in words or a legend: three significant digits are plenty to read."""
    return f"{value:.3g}"


def _padded(lo: float, hi: float) -> tuple[float, float]:
    if lo == hi:
        pad = abs(lo) * 0.1 or 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.05
    return lo - pad, hi + pad


class _Frame:
    """Data coordinates to pixels (y grows downwards in SVG)."""

    def __init__(self, x_range: tuple[float, float], y_range: tuple[float, float]) -> None:
        self.x0, self.x1 = x_range
        self.y0, self.y1 = y_range

    def px(self, x: float) -> float:
        return round(LEFT + (x - self.x0) / (self.x1 - self.x0) * (WIDTH - LEFT - RIGHT), 2)

    def py(self, y: float) -> float:
        return round(HEIGHT - BOTTOM - (y - self.y0) / (self.y1 - self.y0)
                     * (HEIGHT - TOP - BOTTOM), 2)

    def ticks(self) -> tuple[list[Tick], list[Tick]]:
        x_step = nice_step(self.x1 - self.x0, TICKS)
        y_step = nice_step(self.y1 - self.y0, TICKS)
        return ([Tick(self.px(v), tick_text(v, x_step))
                 for v in ticks_between(self.x0, self.x1, x_step)],
                [Tick(self.py(v), tick_text(v, y_step))
                 for v in ticks_between(self.y0, self.y1, y_step)])


def _items(result: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(result, dict) or result.get("kind") != "dict":
        raise PlotError(Message("A plot program must end with a dict of tensors."))
    items: dict[str, dict[str, Any]] = {}
    for item in result.get("items") or []:
        name = str(item.get("key"))
        if item.get("kind") not in ("tensor", "ndarray"):
            raise PlotError(Message("{name!r} is not a tensor.", name=name))
        if item.get("truncated"):
            raise PlotError(Message("{name!r} has too many values to draw.", name=name))
        items[name] = item
    return items


def _dims(item: dict[str, Any]) -> list[int]:
    return list(item.get("shape") or [])


def _paths(points: list[tuple[float | None, float | None]], frame: _Frame) -> list[str]:
    """Polylines through the points, broken where a value is not finite."""
    paths: list[str] = []
    current: list[str] = []
    for x, y in points:
        if x is None or y is None:
            if len(current) > 1:
                paths.append(" ".join(current))
            current = []
            continue
        current.append(f"{frame.px(x)},{frame.py(y)}")
    if len(current) > 1:
        paths.append(" ".join(current))
    elif len(current) == 1:
        paths.append(current[0] + " " + current[0])  # a lone point still shows (round cap)
    return paths


def _range(values: list[float | None], name: str) -> tuple[float, float]:
    finite = [v for v in values if v is not None]
    if not finite:
        raise PlotError(Message("{name} has no finite values to draw.", name=name))
    return min(finite), max(finite)


def _point_text(x: float | None, y: float | None) -> str:
    return f"({value_label(x or 0.0)}, {value_label(y or 0.0)})"


def lines_chart(result: Any) -> Chart:
    items = _items(result)
    if "x" not in items or len(_dims(items["x"])) != 1:
        raise PlotError(Message('A lines plot needs "x": a 1-D tensor.'))
    xs = [finite_number(v) for v in items["x"].get("values") or []]
    names = [k for k in items if k != "x"]
    if not names or len(names) > MAX_SERIES:
        raise PlotError(Message("A lines plot draws 1 to {MAX_SERIES} series besides x.",
                                MAX_SERIES=MAX_SERIES))
    columns: dict[str, list[float | None]] = {}
    for name in names:
        if _dims(items[name]) != [len(xs)]:
            raise PlotError(Message("{name!r} must be a 1-D tensor as long as x ({length}).",
                                    name=name, length=len(xs)))
        columns[name] = [finite_number(v) for v in items[name].get("values") or []]
    every_y = [v for column in columns.values() for v in column]
    frame = _Frame(_padded(*_range(xs, "x")), _padded(*_range(every_y, "y")))
    chart = Chart("lines")
    chart.x_ticks, chart.y_ticks = frame.ticks()
    for i, name in enumerate(names):
        ys = columns[name]
        finite_y = [y for y in ys if y is not None]
        described = (f"{name}: {len(ys)} points, y from {value_label(min(finite_y))} "
                     f"to {value_label(max(finite_y))}") if finite_y else name
        chart.series.append(Series(name, f"plot-s{i}", _paths(list(zip(xs, ys, strict=True)),
                                                                frame), described=described))
    return chart


def _pairs(item: dict[str, Any], name: str) -> list[tuple[float | None, float | None]]:
    dims = _dims(item)
    if len(dims) != 2 or dims[1] != 2:
        raise PlotError(Message("{name!r} must be an (N, 2) tensor of (x, y) points.", name=name))
    return [(finite_number(row[0]), finite_number(row[1])) for row in item.get("values") or []]


def trajectory_chart(result: Any) -> Chart:
    items = _items(result)
    surface = items.pop("surface", None)
    extent = items.pop("extent", None)
    if not items or len(items) > MAX_SERIES:
        raise PlotError(Message("A trajectory plot draws 1 to {MAX_SERIES} paths.",
                                MAX_SERIES=MAX_SERIES))
    paths = {name: _pairs(item, name) for name, item in items.items()}
    x_range = _range([p[0] for ps in paths.values() for p in ps], "x")
    y_range = _range([p[1] for ps in paths.values() for p in ps], "y")
    area = (*x_range, *y_range)
    if extent is not None:
        bounds = [finite_number(v) for v in extent.get("values") or []]
        if len(bounds) != 4 or None in bounds or not (
                bounds[0] < bounds[1] and bounds[2] < bounds[3]):  # type: ignore[operator]
            raise PlotError(Message('"extent" must be tensor([x_min, x_max, y_min, y_max]).'))
        area = tuple(bounds)  # type: ignore[assignment]
        x_range = (min(x_range[0], area[0]), max(x_range[1], area[1]))
        y_range = (min(y_range[0], area[2]), max(y_range[1], area[3]))
    frame = _Frame(_padded(*x_range), _padded(*y_range))
    chart = Chart("trajectory")
    chart.x_ticks, chart.y_ticks = frame.ticks()
    if surface is not None:
        _shade(chart, surface, frame, area)
    for i, (name, points) in enumerate(paths.items()):
        finite = [(x, y) for x, y in points if x is not None and y is not None]
        start, end = (finite[0], finite[-1]) if finite else (None, None)
        described = (f"{name}: {len(points)} points from {_point_text(*start)} to "
                     f"{_point_text(*end)}") if start and end else name
        chart.series.append(Series(
            name, f"plot-s{i}", _paths(points, frame),
            start=(frame.px(start[0]), frame.py(start[1])) if start else None,
            end=(frame.px(end[0]), frame.py(end[1])) if end else None, described=described))
    return chart


def _shade(chart: Chart, surface: dict[str, Any], frame: _Frame,
           area: tuple[float, ...]) -> None:
    dims = _dims(surface)
    if len(dims) != 2 or min(dims) < 1:
        raise PlotError(Message('"surface" must be an (H, W) tensor.'))
    rows = surface.get("values") or []
    finite = [v for row in rows for v in (finite_number(x) for x in row) if v is not None]
    if not finite:
        return
    lo, hi = min(finite), max(finite)
    h, w = dims
    x0, x1, y0, y1 = area
    dx, dy = (x1 - x0) / w, (y1 - y0) / h
    for i, row in enumerate(rows):
        for j, raw in enumerate(row):
            value = finite_number(raw)
            if value is None:
                continue
            step = 0 if hi == lo else min(STEPS - 1, int((value - lo) / (hi - lo) * STEPS))
            left, right = frame.px(x0 + j * dx), frame.px(x0 + (j + 1) * dx)
            top, bottom = frame.py(y0 + (i + 1) * dy), frame.py(y0 + i * dy)
            chart.cells.append(Cell(left, top, round(right - left + 0.5, 2),
                                    round(bottom - top + 0.5, 2), f"hm-s{step}"))
    chart.surface_range = (value_label(lo), value_label(hi))


def build_chart(style: str, data: dict[str, Any]) -> Chart:
    """The chart of a finished program's /eval body (``PlotError`` if it cannot be drawn)."""
    if not data.get("ok"):
        error = data.get("error") or {}
        message = Message.from_json(error.get("message_i18n")) or str(error.get("message"))
        raise PlotError(Message("The program did not finish: {kind}: {message}",
                                kind=str(error.get("type")), message=message))
    result = data.get("result")
    return lines_chart(result) if style == "lines" else trajectory_chart(result)
