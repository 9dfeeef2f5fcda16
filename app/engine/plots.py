"""A vetted subset of ``matplotlib.pyplot`` for programs, and the figures it renders.

Programs never touch matplotlib itself: ``import matplotlib.pyplot as plt`` binds a
:class:`Namespace` of functions written here. Each checks its arguments (data is converted to
numeric numpy arrays here, text is bounded, every keyword is on a list) and then drives
matplotlib's object-oriented API (``matplotlib.figure.Figure``; pyplot and its global state are
never imported). Figures, axes and grids of axes are namespaces too, so the interpreter's
attribute rules apply to them unchanged. After the program, :meth:`PlotSession.render` draws
each figure to SVG, which ``app.inspect.svg`` sanitises before it enters the response.

Mathtext is off (``text.parse_math``): ``$...$`` in a label is shown as written, because the
mathtext parser is a large grammar whose worst cases (``'$' + '\\frac{' * 1000 + '$'``) are
slow and deeply recursive.
"""

from __future__ import annotations

import base64
import io
import math
import time
from collections.abc import Callable
from typing import Any

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.container as mcontainer
import numpy as np
import torch
from matplotlib.figure import Figure

from app.config import Settings
from app.engine.budget import count_data_items
from app.engine.errors import ForbiddenError, LimitError
from app.engine.marks import mark_builtin
from app.engine.policy import Namespace
from app.inspect.svg import SvgRejected, sanitize_svg
from app.message import Message, Text

matplotlib.use("svg")  # no GUI backend, ever; only what the SVG renderer needs is loaded
matplotlib.rcParams["text.parse_math"] = False
matplotlib.rcParams["text.usetex"] = False
matplotlib.rcParams["svg.hashsalt"] = "playground"  # the same program gives the same SVG
matplotlib.rcParams["svg.fonttype"] = "path"  # glyphs as paths: no fonts needed in the page

_MARKERS = frozenset({".", ",", "o", "v", "^", "<", ">", "1", "2", "3", "4", "8", "s", "p",
                      "P", "*", "h", "H", "+", "x", "X", "D", "d", "|", "_", "None", ""})
_LINESTYLES = frozenset({"-", "--", "-.", ":", "solid", "dashed", "dashdot", "dotted",
                         "None", "none", ""})
_FMT_MARKERS = frozenset(".,ov^<>1234sp*hH+xXDd|_")
_FMT_CHARS = _FMT_MARKERS | frozenset("-:bgrcmykw")
_LEGEND_LOCATIONS = frozenset({
    "best", "upper right", "upper left", "lower left", "lower right", "right",
    "center left", "center right", "lower center", "upper center", "center"})
_ALT_CHARS = 300
_AXIS_MODES = frozenset({"on", "off", "equal", "scaled", "tight", "auto", "image", "square"})


def _builtin(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    """A function the interpreter may call directly: it checks its own arguments."""
    def call(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    mark_builtin(call)
    call.__name__ = call.__qualname__ = name
    return call


class PlotObject(Namespace):
    """A figure or an axes as the program sees it: only the listed methods exist."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{self.name}>"


class AxesGrid(Namespace):
    """What ``plt.subplots(2, 2)`` returns in place of numpy's array of Axes objects (such
    arrays do not exist for programs): indexable as ``axes[0, 1]``, ``axes[0][1]`` or
    ``axes[:, 0]``, iterable by rows, with ``len()``, ``.flat``, ``.flatten()``, ``.ravel()``,
    ``.shape``. The object array stays inside: indexing hands out an axes or a new grid."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        flat = list(array.flat)
        members: dict[str, Any] = {
            "flat": tuple(flat), "shape": array.shape, "ndim": array.ndim, "size": array.size,
            "flatten": _builtin(lambda: list(flat), "flatten"),
            "ravel": _builtin(lambda: list(flat), "ravel"),
        }
        super().__init__("axes array", members, {})

    def item(self, index: Any) -> Any:
        parts = index if isinstance(index, tuple) else (index,)
        if not all(isinstance(p, (int, slice)) and not isinstance(p, bool) for p in parts):
            raise IndexError("an axes array is indexed by item numbers and slices, e.g. "
                             "axes[0, 1] or axes[:, 0]")
        picked = self.array[index]
        return AxesGrid(picked) if isinstance(picked, np.ndarray) else picked

    def __len__(self) -> int:
        return len(self.array)

    def rows(self) -> list[Any]:
        return [self.item(row) for row in range(len(self.array))]

    def __repr__(self) -> str:
        return f"<axes array of shape {self.array.shape}>"


def _grid(proxies: list[Any], shape: tuple[int, ...]) -> AxesGrid:
    array = np.empty(len(proxies), dtype=object)
    array[:] = proxies
    return AxesGrid(array.reshape(shape))


class _FigureState:
    def __init__(self, number: int, figure: Figure) -> None:
        self.number = number
        self.figure = figure
        self.points = 0
        self.markers = 0  # scatter points and line markers
        self.bars = 0  # bars and histogram bins
        self.artists = 0  # lines, scatter collections, bar groups, histograms, images
        self.text_chars = 0  # titles, labels, legend entries, category names
        self.colorbars = 0
        self.axes: list[tuple[Any, PlotObject]] = []  # (matplotlib Axes, its namespace)
        self.current: PlotObject | None = None
        self.proxy: PlotObject | None = None
        self.closed = False
        self.shown = False


class PlotSession:
    """The figures of one program run. A fresh session per run: nothing is shared."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.figures: list[_FigureState] = []
        self.current: _FigureState | None = None
        self.notices: list[Text] = []
        self.created = 0

    # ---------------------------------------------------------------- the namespaces
    def namespaces(self, base: dict[str, Namespace]) -> dict[str, Namespace]:
        """``base`` with ``matplotlib.pyplot`` (and ``matplotlib`` holding only it) added."""
        pyplot = Namespace("matplotlib.pyplot", self._pyplot_members(), {})
        return {**base, "matplotlib.pyplot": pyplot,
                "matplotlib": Namespace("matplotlib", {"pyplot": pyplot,
                                                       "use": _builtin(_use, "use")}, {})}

    def _pyplot_members(self) -> dict[str, Any]:
        def on_current_axes(name: str, method: str) -> Callable[..., Any]:
            return _builtin(lambda *a, **k: self._call_axes(*self._current(), method, a, k,
                                                            f"plt.{name}"), name)

        members = {name: on_current_axes(name, name)
                   for name in ("plot", "scatter", "bar", "hist", "imshow", "legend", "grid",
                                "axis", "colorbar", "contour", "contourf", "axhline",
                                "axvline", "text", "xticks", "yticks")}
        for name in ("title", "xlabel", "ylabel", "xlim", "ylim"):
            members[name] = on_current_axes(name, f"set_{name}")
        members.update({
            "figure": _builtin(self.figure, "figure"),
            "subplots": _builtin(self.subplots, "subplots"),
            "subplot": _builtin(self.subplot, "subplot"),
            "gcf": _builtin(lambda: self._figure().proxy, "gcf"),
            "gca": _builtin(lambda: self._axes(), "gca"),
            "suptitle": _builtin(lambda *a, **k: self._suptitle(self._figure(), a, k),
                                 "suptitle"),
            "tight_layout": _builtin(lambda: self._tight_layout(self._figure()),
                                     "tight_layout"),
            "show": _builtin(self.show, "show"),
            "savefig": _builtin(lambda *a, **k: self._savefig(self._figure()), "savefig"),
            "close": _builtin(self.close, "close"),
        })
        return members

    def _axes_namespace(self, state: _FigureState, axes: Any) -> PlotObject:
        def method(name: str) -> Callable[..., Any]:
            return _builtin(lambda *a, **k: self._call_axes(state, axes, name, a, k,
                                                            f"ax.{name}"), name)

        names = ("plot", "scatter", "bar", "hist", "imshow", "legend", "grid", "axis",
                 "contour", "contourf", "axhline", "axvline", "text", "set_xticks",
                 "set_yticks", "set_title", "set_xlabel",
                 "set_ylabel", "set_xlim", "set_ylim")
        proxy = PlotObject("Axes", {name: method(name) for name in names}, {})
        state.axes.append((axes, proxy))
        state.current = proxy
        return proxy

    def _figure_namespace(self, state: _FigureState) -> PlotObject:
        members = {
            "suptitle": _builtin(lambda *a, **k: self._suptitle(state, a, k), "suptitle"),
            "tight_layout": _builtin(lambda: self._tight_layout(state), "tight_layout"),
            "savefig": _builtin(lambda *a, **k: self._savefig(state), "savefig"),
            "add_subplot": _builtin(lambda *a: self._add_subplot(state, a), "add_subplot"),
            "show": _builtin(lambda: self._mark_shown(state), "show"),
        }
        return PlotObject(f"Figure {state.number}", members, {})

    # ---------------------------------------------------------------- figures and axes
    def figure(self, num: Any = None, figsize: Any = None, dpi: Any = None) -> PlotObject:
        """plt.figure(2) makes figure 2 current again if it is open, as pyplot does."""
        if num is not None and (isinstance(num, bool) or not isinstance(num, int)):
            raise TypeError("plt.figure takes a figure number, e.g. plt.figure(1), and "
                            "figsize=(w, h), dpi=")
        for state in self.figures:
            if num is not None and state.number == num and not state.closed:
                self.current = state
                assert state.proxy is not None
                return state.proxy
        state = self._new_figure(figsize, dpi)
        assert state.proxy is not None
        return state.proxy

    def subplots(self, nrows: Any = 1, ncols: Any = 1, *, figsize: Any = None, dpi: Any = None,
                 sharex: Any = False, sharey: Any = False,
                 squeeze: Any = True) -> tuple[PlotObject, Any]:
        rows, cols = _count(nrows, "nrows"), _count(ncols, "ncols")
        self._check_grid(rows, cols)
        for flag, name in ((sharex, "sharex"), (sharey, "sharey"), (squeeze, "squeeze")):
            if not isinstance(flag, bool):
                raise TypeError(f"plt.subplots: {name}= takes True or False")
        state = self._new_figure(figsize, dpi)
        grid = state.figure.subplots(rows, cols, sharex=sharex, sharey=sharey, squeeze=False)
        proxies = [[self._axes_namespace(state, grid[r][c]) for c in range(cols)]
                   for r in range(rows)]
        state.current = proxies[0][0]
        assert state.proxy is not None
        if squeeze and rows == 1 and cols == 1:
            return state.proxy, proxies[0][0]
        line = [p for row in proxies for p in row]
        if squeeze and (rows == 1 or cols == 1):
            return state.proxy, _grid(line, (len(line),))
        return state.proxy, _grid(line, (rows, cols))

    def subplot(self, *args: Any) -> PlotObject:
        state = self.current if self.current is not None else self._new_figure(None, None)
        return self._add_subplot(state, args)

    def _add_subplot(self, state: _FigureState, args: tuple[Any, ...]) -> PlotObject:
        if len(args) == 1 and isinstance(args[0], int) and 111 <= args[0] <= 999:
            args = tuple(int(digit) for digit in str(args[0]))
        if len(args) != 3:
            raise TypeError("subplot takes (rows, columns, index), e.g. plt.subplot(2, 1, 1) "
                            "or plt.subplot(211)")
        rows, cols, index = (_count(a, name) for a, name in zip(args, ("rows", "columns",
                                                                       "index"), strict=True))
        self._check_grid(rows, cols)
        if index > rows * cols:
            raise ValueError(f"subplot index {index} is past the {rows}x{cols} grid "
                             f"(1 to {rows * cols})")
        self.current = state
        for existing, proxy in state.axes:
            spec = existing.get_subplotspec()
            if spec is not None and spec.get_geometry() == (rows, cols, index - 1, index - 1):
                state.current = proxy  # pyplot.subplot reuses the axes at that place
                return proxy
        if len(state.axes) >= self.settings.max_figure_axes:
            raise self._grid_limit(len(state.axes) + 1)
        return self._axes_namespace(state, state.figure.add_subplot(rows, cols, index))

    def _check_grid(self, rows: int, cols: int) -> None:
        if rows * cols > self.settings.max_figure_axes:
            raise self._grid_limit(rows * cols)

    def _grid_limit(self, count: int) -> LimitError:
        return LimitError(Message("a figure may hold at most {max_figure_axes} subplots; this one "
                                  "would hold {count} (setting max_figure_axes)",
                                  max_figure_axes=self.settings.max_figure_axes, count=count),
                          hint=Message("Use a smaller grid, or several figures."))

    def _new_figure(self, figsize: Any, dpi: Any) -> _FigureState:
        if self.created >= self.settings.max_figures:
            raise LimitError(Message("a program may create at most {max_figures} figures (setting "
                                     "max_figures)", max_figures=self.settings.max_figures),
                             hint=Message("Draw several lines on one figure, or use plt.subplots "
                                          "for a grid of plots."))
        width, height = (_figure_size(figsize, self.settings) if figsize is not None
                         else (6.4, 4.8))
        resolution = 100.0 if dpi is None else _number(dpi, "dpi")
        if not 1 <= resolution <= self.settings.max_figure_dpi:
            raise LimitError(Message("dpi={resolution:g} is outside 1 to {max_figure_dpi} "
                                     "(setting max_figure_dpi)",
                                     resolution=resolution,
                                     max_figure_dpi=self.settings.max_figure_dpi),
                             hint=Message("Leave out dpi=; the default is 100."))
        pixels = width * resolution * height * resolution
        if pixels > self.settings.max_figure_pixels:
            # The size in inches is within max_figure_inches (checked above), so only the
            # resolution is too fine: drawn at the highest dpi that fits. The SVG is vector
            # art, so only raster parts (imshow) lose detail; the page scales it anyway.
            lowered = max(math.floor(math.sqrt(self.settings.max_figure_pixels
                                               / (width * height))), 1)
            self._notice(Message("a {width:g}x{height:g} inch figure at {resolution:g} dpi has "
                                 "{pixels:,.0f} pixels, more than {max_figure_pixels:,} (setting "
                                 "max_figure_pixels): it is drawn at {lowered} dpi",
                                 width=width, height=height, resolution=resolution, pixels=pixels,
                                 max_figure_pixels=self.settings.max_figure_pixels,
                                 lowered=lowered))
            resolution = float(lowered)
        self.created += 1
        state = _FigureState(self.created, Figure(figsize=(width, height), dpi=resolution))
        state.proxy = self._figure_namespace(state)
        self.figures.append(state)
        self.current = state
        return state

    def _figure(self) -> _FigureState:
        if self.current is None or self.current.closed:
            return self._new_figure(None, None)
        return self.current

    def _axes(self) -> PlotObject:
        state = self._figure()
        if state.current is None:
            return self._add_subplot(state, (1, 1, 1))
        return state.current

    def _current(self) -> tuple[_FigureState, Any]:
        """The current figure and its current matplotlib axes, made when there is none."""
        proxy = self._axes()
        state = self._figure()
        return state, next(axes for axes, own in state.axes if own is proxy)

    # ---------------------------------------------------------------- axes methods
    def _call_axes(self, state: _FigureState, axes: Any, name: str, args: tuple[Any, ...],
                   kwargs: dict[str, Any], label: str) -> Any:
        if state.closed:
            raise ValueError("this figure was closed with plt.close(); make a new one")
        self.current = state
        for axes_of, proxy in state.axes:
            if axes_of is axes:
                state.current = proxy
        if name == "hist" and len(args) == 2 and "bins" not in kwargs:
            # plt.hist(x, 50): matplotlib's second parameter is bins; checked as bins=50 is,
            # not converted as data (its bar count is what the limits below read).
            args, kwargs = args[:1], {**kwargs, "bins": args[1]}
        checked = {key: _check_keyword(label, name, key, value, self.settings)
                   for key, value in kwargs.items()}
        if isinstance(checked.get("label"), str):
            self._add_text(state, label, [checked["label"]])
        if name in _DATA_METHODS:
            return self._draw(state, axes, name, label, args, checked)
        if name in ("set_title", "set_xlabel", "set_ylabel"):
            if len(args) != 1:
                raise TypeError(f"{label} takes one text, e.g. {label}('loss')")
            text = _text(args[0], label, self.settings)
            self._add_text(state, label, [text])
            getattr(axes, name)(text, **checked)
            return None
        if name == "legend":
            return self._legend(state, axes, label, args, checked)
        if name in ("contour", "contourf"):
            return self._contour(state, axes, name, label, args, checked)
        if name in ("axhline", "axvline"):
            return self._reference_line(state, axes, name, label, args, checked)
        if name == "text":
            return self._text_at(state, axes, label, args, checked)
        if name in ("xticks", "yticks", "set_xticks", "set_yticks"):
            return self._ticks(state, axes, name, label, args, checked)
        if name == "grid":
            # matplotlib takes any truth value first: plt.grid('minor') turns the grid on.
            if len(args) > 1 or (args and not isinstance(args[0], (bool, int, str))):
                raise TypeError(f"{label} takes True or False, e.g. plt.grid(True)")
            axes.grid(*(bool(arg) for arg in args), **checked)
            return None
        if name == "axis":
            if len(args) == 1 and isinstance(args[0], (list, tuple)) and len(args[0]) == 4:
                limits = [_number(v, label) for v in args[0]]
                return tuple(axes.axis(limits))  # numpy floats, as matplotlib returns
            if len(args) != 1 or isinstance(args[0], (list, tuple)) \
                    or args[0] not in _AXIS_MODES:
                raise ValueError(f"{label} takes one of " + ", ".join(
                    repr(mode) for mode in sorted(_AXIS_MODES)) + " or [xmin, xmax, ymin, ymax], "
                    "e.g. plt.axis('off')")
            axes.axis(args[0])
            return None
        if name == "colorbar":
            return self._colorbar(state, axes, label, args)
        return self._limits(axes, name, label, args, checked)

    def _colorbar(self, state: _FigureState, axes: Any, label: str,
                  args: tuple[Any, ...]) -> None:
        """plt.colorbar() for the current axes' latest image or scatter with colours: a new
        axes beside it, so it counts as one."""
        if args:
            raise TypeError(f"{label} takes no arguments here: it shows the scale of the "
                            "current axes' latest imshow (or scatter with c=)")
        mappable = next((m for m in reversed([*axes.images, *axes.collections])
                         if m.get_array() is not None), None)
        if mappable is None:
            raise ValueError(f"{label} needs an image: call plt.imshow(...) (or plt.scatter "
                             "with c=) first")
        if len(state.axes) + state.colorbars >= self.settings.max_figure_axes:
            raise self._grid_limit(len(state.axes) + state.colorbars + 1)
        state.colorbars += 1
        state.figure.colorbar(mappable, ax=axes)

    def _draw(self, state: _FigureState, axes: Any, name: str, label: str,
              args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not args:
            raise TypeError(f"{label} needs data, e.g. {label}(x, y)")
        points = state.points
        converted: list[Any] = []
        for index, value in enumerate(args):
            if name == "plot" and isinstance(value, str):
                converted.append(_format_string(value, label))
            elif name == "bar" and index == 0 and _is_text_list(value):
                converted.append([_text(v, label, self.settings) for v in value])
                self._add_text(state, label, converted[-1])
                points += len(value)
            else:
                array = _data(value, label, self.settings.max_figure_points - points)
                points += max(array.size, 1)
                converted.append(array)
        for key in ("c", "s", "bins", "height", "width", "weights"):
            if isinstance(kwargs.get(key), np.ndarray):
                points += kwargs[key].size
        if name == "hist":
            bins = kwargs.get("bins", 10)
            points += bins if isinstance(bins, int) else 0
        if name == "imshow":
            _check_image(converted[0], label)
        markers, bars = state.markers, state.bars
        arrays = [c for c in converted if isinstance(c, np.ndarray)]
        # One line per column of a 2-D array (x arrays too: an over-count, never an under-count)
        artists = state.artists + (max(sum(a.shape[1] if a.ndim == 2 else 1 for a in arrays), 1)
                                   if name in ("plot", "hist") else 1)
        if name == "scatter" or (name == "plot" and _draws_markers(args, kwargs)):
            markers += max((a.size for a in arrays), default=0)
        elif name == "bar":
            bars += max((len(c) if isinstance(c, list) else c.size for c in converted),
                        default=0)
        elif name == "hist":
            bins = kwargs.get("bins", 10)
            columns = arrays[0].shape[1] if arrays and arrays[0].ndim == 2 else 1
            bars += (bins if isinstance(bins, int) else max(bins.size - 1, 1)) * columns
        self._check_artists(state, label, markers, bars, artists)
        if points > self.settings.max_figure_points:
            raise LimitError(Message("{label}: figure {number} would hold {points:,} data points; "
                                     "the limit is {max_figure_points:,} (setting "
                                     "max_figure_points)",
                                     label=label, number=state.number, points=points,
                                     max_figure_points=self.settings.max_figure_points),
                             hint=Message("Plot fewer points: every 10th with x[::10], or a mean "
                                          "over windows."), predicted=True)
        if name == "imshow" and len(converted) != 1:
            raise TypeError("plt.imshow takes one image (a 2-D array, or H x W x 3 / 4 "
                            "colours)")
        drawn = getattr(axes, name)(*converted, **kwargs)
        state.points, state.markers, state.bars = points, markers, bars
        state.artists = artists
        if name == "hist":
            return _hist_result(drawn)
        return None

    def _contour(self, state: _FigureState, axes: Any, name: str, label: str,
                 args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """contour(Z) or contour(X, Y, Z) with an optional level count or list. Marching
        squares costs grid cells x levels, so both are bounded (max_contour_cells,
        max_contour_levels); the grid's values count as figure points."""
        levels = kwargs.pop("levels", None)
        if len(args) in (2, 4):
            args, levels = args[:-1], args[-1]
        if len(args) not in (1, 3):
            raise TypeError(f"{label} takes Z, or X, Y, Z (2-D grids, e.g. from "
                            "torch.meshgrid), and optionally levels")
        room = self.settings.max_figure_points - state.points
        grids = [_data(value, label, room) for value in args]
        surface = grids[-1]
        if surface.ndim != 2 or min(surface.shape) < 2:
            raise TypeError(f"{label}: Z is a 2-D grid of at least 2 x 2 values; got shape "
                            f"{tuple(surface.shape)}")
        for grid, axis_name in zip(grids[:-1], ("X", "Y"), strict=False):
            if grid.shape != surface.shape and not (
                    grid.ndim == 1 and grid.size == surface.shape[1 if axis_name == "X"
                                                                  else 0]):
                raise TypeError(f"{label}: {axis_name} has shape {tuple(grid.shape)}; it "
                                f"must match Z {tuple(surface.shape)} (or be 1-D along it)")
        cells = surface.size
        if cells > self.settings.max_contour_cells:
            raise LimitError(Message("{label}: a grid of {cells:,} values; the limit is "
                                     "{max_contour_cells:,} (setting max_contour_cells)",
                                     label=label, cells=cells,
                                     max_contour_cells=self.settings.max_contour_cells),
                             hint=Message("Use a coarser grid: a larger step in torch.arange."),
                             predicted=True)
        if levels is not None:
            _contour_levels(levels, label, self.settings)
        points = state.points + sum(grid.size for grid in grids)
        if points > self.settings.max_figure_points:
            raise _points_limit(label, points)
        artists = state.artists + 1
        self._check_artists(state, label, state.markers, state.bars, artists)
        if levels is not None:
            kwargs["levels"] = levels if isinstance(levels, int) else list(
                _data(levels, label, self.settings.max_contour_levels))
        getattr(axes, name)(*grids, **kwargs)
        state.points, state.artists = points, artists

    def _reference_line(self, state: _FigureState, axes: Any, name: str, label: str,
                        args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """axhline(y=0, xmin=0, xmax=1) / axvline(x=0, ymin=0, ymax=1): one line."""
        where = "y" if name == "axhline" else "x"
        position = kwargs.pop(where, None)
        if args:
            if position is not None or len(args) > 3:
                raise TypeError(f"{label} takes the {where} position, then optionally where "
                                "the line starts and ends (0 to 1)")
            position, *span = args
        else:
            span = []
        values = [0.0 if position is None else _number(position, label),
                  *(_number(v, label) for v in span)]
        artists = state.artists + 1
        self._check_artists(state, label, state.markers, state.bars, artists)
        getattr(axes, name)(*values, **kwargs)
        state.artists = artists

    def _text_at(self, state: _FigureState, axes: Any, label: str, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> PlotObject:
        """plt.text(x, y, 'words'): one more artist, its characters counted as text."""
        if len(args) != 3:
            raise TypeError(f"{label} takes x, y and a text, e.g. {label}(0.5, 1.0, 'peak')")
        x, y = _number(args[0], label), _number(args[1], label)
        words = _text(args[2], label, self.settings)
        self._add_text(state, label, [words])
        artists = state.artists + 1
        self._check_artists(state, label, state.markers, state.bars, artists)
        axes.text(x, y, words, **kwargs)
        state.artists = artists
        return _stand_in("Text")

    def _ticks(self, state: _FigureState, axes: Any, name: str, label: str,
               args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """xticks(ticks, labels, rotation=, fontsize=): at most max_axis_ticks ticks, their
        labels counted as text. Returns the tick positions and one opaque stand-in per tick
        label, as matplotlib returns positions and Text objects."""
        which = "x" if "x" in name else "y"
        ticks = kwargs.pop("ticks", None)
        labels = kwargs.pop("labels", None)
        if len(args) > 2 or (args and ticks is not None) or (len(args) == 2
                                                             and labels is not None):
            raise TypeError(f"{label} takes tick positions and optionally their labels, e.g. "
                            f"{label}([0, 1, 2], ['a', 'b', 'c'])")
        if args:
            ticks = args[0]
        if len(args) == 2:
            labels = args[1]
        limit = self.settings.max_axis_ticks
        positions = None
        if ticks is not None:
            positions = _data(ticks, label, self.settings.max_figure_points)
            if positions.ndim != 1:
                raise TypeError(f"{label}: tick positions are a 1-D list of numbers")
            if positions.size > limit:
                raise LimitError(Message("{label}: {size:,} ticks; at most {limit} (setting "
                                         "max_axis_ticks)",
                                         label=label, size=positions.size, limit=limit),
                                 hint=Message("Label every 10th position: ticks[::10]."),
                                 predicted=True)
        texts = None
        if labels is not None:
            if positions is None:  # matplotlib's own words
                raise TypeError(f"{name}(): Parameter 'labels' can't be set without setting "
                                "'ticks'")
            if not isinstance(labels, (list, tuple)) or len(labels) != positions.size:
                raise ValueError(f"{label}: give one label per tick position")
            texts = [_text(v, label, self.settings) for v in labels]
            self._add_text(state, label, texts)
        axis = getattr(axes, f"{which}axis")
        ticks_set = None
        if positions is not None:
            made = getattr(axes, f"set_{which}ticks")(positions, texts)
            ticks_set = [_stand_in(type(tick).__name__) for tick in made]
        style = {f"label{'size' if key == 'fontsize' else key}": value
                 for key, value in kwargs.items()}  # labelsize=, labelrotation=
        if style:
            axes.tick_params(axis=which, **style)
        if name.startswith("set_"):
            return ticks_set
        # pyplot returns the Tick objects it set, or the positions when none were given.
        locations = ticks_set if ticks_set is not None else np.array(axis.get_ticklocs(),
                                                                      copy=True)
        return locations, [_stand_in("Text") for _ in axis.get_ticklabels()]

    def _add_text(self, state: _FigureState, label: str, texts: list[str]) -> None:
        """Every character is drawn as a glyph path: 500 category labels of 200 characters
        took 22 s to render. Counted as given (a replaced title still counts)."""
        total = state.text_chars + sum(len(text) for text in texts)
        if total > self.settings.max_figure_text_chars:
            raise LimitError(Message("{label}: figure {number} would hold {total:,} characters of "
                                     "text; the limit is {max_figure_text_chars:,} (setting "
                                     "max_figure_text_chars)",
                                     label=label, number=state.number, total=total,
                                     max_figure_text_chars=self.settings.max_figure_text_chars),
                             hint=Message("Use shorter labels, or fewer categories."),
                             predicted=True)
        state.text_chars = total

    def _check_artists(self, state: _FigureState, label: str, markers: int, bars: int,
                       artists: int) -> None:
        """Lines, markers and bars cost far more than line points: each is an object in
        matplotlib and an element in the SVG (50,000 bars took a minute to build; 2,000 lines
        with a legend took 12 s to draw)."""
        if artists > self.settings.max_figure_artists:
            raise LimitError(Message("{label}: figure {number} would hold {artists:,} lines, "
                                     "scatters, bar groups and images; the limit is "
                                     "{max_figure_artists:,} (setting max_figure_artists)",
                                     label=label, number=state.number, artists=artists,
                                     max_figure_artists=self.settings.max_figure_artists),
                             hint=Message("A 2-D array is one line per column: plot a few "
                                          "columns, or use plt.imshow for a whole matrix."),
                             predicted=True)
        if markers > self.settings.max_figure_markers:
            raise LimitError(Message("{label}: figure {number} would draw {markers:,} markers; "
                                     "the limit is {max_figure_markers:,} (setting "
                                     "max_figure_markers)",
                                     label=label, number=state.number, markers=markers,
                                     max_figure_markers=self.settings.max_figure_markers),
                             hint=Message("Plot a sample of the points (x[::10]), or draw a line "
                                          "without markers."), predicted=True)
        if bars > self.settings.max_figure_bars:
            raise LimitError(Message("{label}: figure {number} would draw {bars:,} bars; the "
                                     "limit is {max_figure_bars:,} (setting max_figure_bars)",
                                     label=label, number=state.number, bars=bars,
                                     max_figure_bars=self.settings.max_figure_bars),
                             hint=Message("Use fewer bars or bins (bins=50), or plt.plot for a "
                                          "long series."), predicted=True)

    def _legend(self, state: _FigureState, axes: Any, label: str, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> None:
        if "prop" in kwargs:  # prop={"size": 14}: the font size, checked as fontsize=
            kwargs["fontsize"] = kwargs.pop("prop")
        if len(args) > 1 or (args and not _is_text_list(args[0])):
            raise TypeError(f"{label} takes a list of labels, or none (then each plot's "
                            "label= is used)")
        labels = [_text(v, label, self.settings) for v in args[0]] if args else None
        self._add_text(state, label, labels or [])
        if labels is not None:
            axes.legend(labels, **kwargs)
        else:
            axes.legend(**kwargs)

    def _limits(self, axes: Any, name: str, label: str, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> tuple[float, float]:
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            args = tuple(args[0])
        if len(args) > 2:
            raise TypeError(f"{label} takes (low, high), e.g. {label}(0, 10)")
        values = [None if a is None else _number(a, label) for a in args]
        if values or kwargs:
            getattr(axes, name)(*values, **kwargs)
        low, high = getattr(axes, name.replace("set_", "get_"))()
        return float(low), float(high)

    # ---------------------------------------------------------------- figure methods
    def _suptitle(self, state: _FigureState, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> None:
        if len(args) != 1:
            raise TypeError("suptitle takes one text, e.g. plt.suptitle('Training')")
        checked = {key: _check_keyword("suptitle", "suptitle", key, value, self.settings)
                   for key, value in kwargs.items()}
        text = _text(args[0], "suptitle", self.settings)
        self._add_text(state, "suptitle", [text])
        state.figure.suptitle(text, **checked)

    def _tight_layout(self, state: _FigureState) -> None:
        state.figure.tight_layout()

    def _savefig(self, state: _FigureState) -> None:
        # Security: the path (or file object) is never looked at: nothing is written here.
        self._mark_shown(state)
        self._notice(Message("savefig does not write files in the playground; the figure is shown "
                             "with the results instead"))

    def _mark_shown(self, state: _FigureState) -> None:
        state.shown = True

    def show(self) -> None:
        for state in self.figures:
            if not state.closed:
                state.shown = True

    def close(self, which: Any = None) -> None:
        """Closed figures are not shown, unless show() or savefig() showed them first
        (as in a notebook, where plt.savefig(...); plt.close() still keeps the file)."""
        if which == "all":
            targets = list(self.figures)
        elif which is None:
            targets = [self.current] if self.current is not None else []
        elif isinstance(which, PlotObject):
            targets = [s for s in self.figures if s.proxy is which]
        else:
            raise TypeError("plt.close takes a figure, 'all', or nothing (the current figure)")
        for state in targets:
            state.closed = True
            if state is self.current:
                self.current = None

    def _notice(self, message: Text) -> None:
        if message not in self.notices:
            self.notices.append(message)

    # ---------------------------------------------------------------- rendering
    def render(self, notices: list[Text], deadline: float) -> list[dict[str, Any]]:
        """Every figure the program left to show, as sanitised SVG data URLs.

        Drawing counts against the program's deadline (``time.monotonic()``): a figure is not
        started past it, so eight large figures end with a notice instead of a killed
        worker (the one figure being drawn may still overrun, by about a second at most)."""
        figures: list[dict[str, Any]] = []
        for state in self.figures:
            if state.closed and not state.shown:
                continue
            if time.monotonic() > deadline:
                notices.append(Message("figure {number} and later ones were not drawn: the "
                                       "program's time ran out (setting deadline_s)",
                                       number=state.number))
                break
            buffer = io.BytesIO()
            try:
                state.figure.savefig(buffer, format="svg", metadata={"Date": None})
                svg = sanitize_svg(buffer.getvalue())
            except SvgRejected as rejected:
                notices.append(Message("figure {number} was not shown: {rejected}",
                                       number=state.number, rejected=rejected))
                continue
            except Exception as error:  # drawing runs after the program: report, go on
                notices.append(Message("figure {number} could not be drawn: {error_type}: {error}",
                                       number=state.number, error_type=type(error).__name__,
                                       error=str(error)[:200]))
                continue
            if len(svg) > self.settings.max_figure_svg_bytes:
                notices.append(Message("figure {number} was not shown: its SVG is {length:,} "
                                       "bytes, more than {max_figure_svg_bytes:,} (setting "
                                       "max_figure_svg_bytes); plot fewer points",
                                       number=state.number, length=len(svg),
                                       max_figure_svg_bytes=self.settings.max_figure_svg_bytes))
                continue
            width, height = state.figure.get_size_inches()
            figures.append({
                "src": "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"),
                "alt": _alt_text(state), "width": round(float(width) * 96),
                "height": round(float(height) * 96)})
        notices.extend(n for n in self.notices if n not in notices)
        return figures


_DATA_METHODS = frozenset({"plot", "scatter", "bar", "hist", "imshow"})


def _alt_text(state: _FigureState) -> str:
    """The figure's own words: its suptitle, and each axes' title and labels."""
    parts: list[str] = []
    suptitle = state.figure.get_suptitle()
    if suptitle:
        parts.append(suptitle)
    for axes, _proxy in state.axes:
        bits = [axes.get_title()]
        if axes.get_xlabel():
            bits.append(f"x: {axes.get_xlabel()}")
        if axes.get_ylabel():
            bits.append(f"y: {axes.get_ylabel()}")
        words = ", ".join(bit for bit in bits if bit)
        if words:
            parts.append(words)
    text = f"Figure {state.number}" + (": " + "; ".join(parts) if parts else "")
    return text if len(text) <= _ALT_CHARS else text[:_ALT_CHARS - 1] + "…"


# ------------------------------------------------------------------------ argument checks
def _data(value: Any, label: str, room: int) -> np.ndarray:
    """A numeric numpy array from a tensor, a numpy array, a (nested) list or a number.

    Anything else is refused before matplotlib sees it: matplotlib would call a value's own
    methods (``__array__``, ``__len__``, unit converters)."""
    if isinstance(value, torch.Tensor):
        if value.requires_grad:
            # What matplotlib itself raises, through tensor.numpy().
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if value.device.type != "cpu":
            raise TypeError(f"can't convert {value.device} device type tensor to numpy. Use "
                            "Tensor.cpu() to copy the tensor to host memory first.")
        if value.numel() > room:
            raise _points_limit(label, value.numel())
        if value.is_complex() or value.dtype not in _PLOTTABLE_DTYPES:
            raise TypeError(f"{label} cannot plot a tensor of {value.dtype}; use .float()")
        # The tensor's own dtype, as np.asarray(tensor) gives matplotlib (hist bins of float32
        # data are float32); a copy, so a later in-place change does not reach the figure.
        return value.numpy().copy()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{label} plots numbers; this numpy array holds {value.dtype}")
        if value.size > room:
            raise _points_limit(label, value.size)
        return value.copy()
    if isinstance(value, range):
        if len(value) > room:
            raise _points_limit(label, len(value))
        return np.asarray(value, dtype=np.int64)
    if isinstance(value, (list, tuple)):
        count_data_items(value, max(room, 1))
        return np.asarray(_numbers(value, label), dtype=np.float64)
    if isinstance(value, (int, float, np.number)) and not isinstance(value, complex):
        return np.asarray(float(value))
    raise TypeError(f"{label} takes tensors, numpy arrays, lists and numbers, not "
                    f"{type(value).__name__}")


_PLOTTABLE_DTYPES = frozenset({torch.float16, torch.float32, torch.float64,
                               torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8,
                               torch.bool})


def _numbers(value: Any, label: str) -> Any:
    """The nested lists of ``value`` with every item a float (0-d tensors included)."""
    if isinstance(value, (list, tuple)):
        return [_numbers(item, label) for item in value]
    if isinstance(value, bool | int | float | np.number):
        return float(value)
    if isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim == 0:
        return float(_data(value, label, 1))
    raise TypeError(f"{label}: a list to plot holds numbers only, not "
                    f"{type(value).__name__}")


def _points_limit(label: str, count: int) -> LimitError:
    return LimitError(Message("{label}: {count:,} data points would pass the figure's limit "
                              "(setting max_figure_points)", label=label, count=count),
                      hint=Message("Plot fewer points: every 10th with x[::10], or a mean over "
                                   "windows."), predicted=True)


def _check_image(image: np.ndarray, label: str) -> None:
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4)):
        return
    raise TypeError(f"{label} takes a 2-D array (H x W), or H x W x 3 / 4 colours; got shape "
                    f"{tuple(image.shape)}")


def _draws_markers(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether plot() puts a marker at every point: marker=, or a marker in the format string
    ('o-', 'r.'; the '.' of the line style '-.' is not one)."""
    if kwargs.get("marker") not in (None, "", "None"):
        return True
    return any(isinstance(a, str) and set(a.replace("-.", "")) & _FMT_MARKERS for a in args)


def _is_text_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(v, str) for v in value)


def _text(value: Any, label: str, settings: Settings) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise TypeError(f"{label} takes text, not {type(value).__name__}")
    if len(value) > settings.max_plot_text_chars:
        raise LimitError(Message("{label}: a text of {length:,} characters; the limit is "
                                 "{max_plot_text_chars} (setting max_plot_text_chars)",
                                 label=label, length=len(value),
                                 max_plot_text_chars=settings.max_plot_text_chars),
                         hint=Message("Use a shorter title or label."), predicted=True)
    return value


def _format_string(value: str, label: str) -> str:
    if len(value) > 4 or not set(value) <= _FMT_CHARS:
        raise ValueError(f"{label}: {value[:20]!r} is not a format string; use a colour, a "
                         "marker and a line style, e.g. 'r--' or 'bo-'")
    return value


def _number(value: Any, label: str) -> float:
    if isinstance(value, torch.Tensor | np.ndarray) and value.ndim == 0 \
            and not (isinstance(value, torch.Tensor) and value.requires_grad):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{label} takes a number, not {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{label} takes a finite number, not {number}")
    return number


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TypeError(f"{name} is a whole number of 1 or more")
    return value


def _stand_in(kind: str) -> PlotObject:
    """What matplotlib hands back as an artist (a bar's Rectangle, a Text): an opaque name
    with no members, so nothing of matplotlib's object graph is reachable through it."""
    return PlotObject(kind, {}, {})


def _hist_result(drawn: Any) -> tuple[Any, Any, Any]:
    """(n, bins, patches) as plain data: counts and edges as numpy arrays (a list of arrays
    for several data sets), patches as stand-ins (a list per data set)."""
    counts, edges, patches = drawn

    def kept(value: Any) -> Any:
        return [np.array(v, copy=True) for v in value] if isinstance(value, list) \
            else np.array(value, copy=True)

    def stand_ins(container: Any) -> list[Any]:
        return [_stand_in(type(patch).__name__) for patch in container]

    # One data set: a BarContainer of bars, or a list of Polygons (histtype='step'); several:
    # a list of those.
    several = isinstance(patches, list) and bool(patches) and isinstance(
        patches[0], (list, mcontainer.Container))
    opaque = [stand_ins(c) for c in patches] if several else stand_ins(patches)
    return kept(counts), np.array(edges, copy=True), opaque


def _contour_levels(value: Any, label: str, settings: Settings) -> int:
    limit = settings.max_contour_levels
    if isinstance(value, int) and not isinstance(value, bool):
        count = value
    elif isinstance(value, (list, tuple, np.ndarray, torch.Tensor)):
        count = len(value)
    else:
        raise TypeError(f"{label}: levels takes a number of levels or a list of heights")
    if not 1 <= count <= limit:
        raise LimitError(Message("{label}: {count:,} contour levels; at most {limit} (setting "
                                 "max_contour_levels)",
                                 label=label, count=count, limit=limit),
                         hint=Message("Use levels=10 or so."), predicted=True)
    return count


def _use(backend: Any, force: Any = True) -> None:
    """matplotlib.use('Agg') in a script: figures here are always drawn as SVG after the
    program, so the backend is never switched (that would change every later program)."""
    if not isinstance(backend, str) or backend.lower() not in _BACKENDS:
        raise ValueError("matplotlib.use takes a backend name such as 'Agg'; figures are "
                         "drawn as SVG for you either way")


_BACKENDS = frozenset({"agg", "svg", "pdf", "ps", "cairo", "template", "inline",
                       "module://matplotlib_inline.backend_inline"})


def _figure_size(value: Any, settings: Settings) -> tuple[float, float]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise TypeError("figsize= takes (width, height) in inches, e.g. figsize=(6, 4)")
    width, height = (_number(v, "figsize") for v in value)
    limit = settings.max_figure_inches
    if not (0 < width <= limit and 0 < height <= limit):
        raise LimitError(Message("figsize=({width:g}, {height:g}): each side must be above 0 and "
                                 "at most {limit:g} inches (setting max_figure_inches)",
                                 width=width, height=height, limit=limit),
                         hint=Message("Use figsize=(6, 4) or similar."), predicted=True)
    return width, height


def _color(value: Any, label: str, settings: Settings) -> Any:
    if isinstance(value, str):
        value = _text(value, label, settings)
    elif _is_text_list(value):  # one colour per bar or point
        if len(value) > settings.max_figure_points:
            raise _points_limit(label, len(value))
        return [_color(v, label, settings) for v in value]
    elif isinstance(value, (list, tuple)) and len(value) in (3, 4):
        value = tuple(_number(v, label) for v in value)
    else:
        raise TypeError(f"{label}: a colour is a name ('red', 'C1', '#1f77b4') or an "
                        "(r, g, b) tuple")
    if not mcolors.is_color_like(value):
        raise ValueError(f"{label}: {value!r} is not a colour")
    return value


def _check_keyword(label: str, method: str, key: str, value: Any, settings: Settings) -> Any:
    """The keyword arguments the vetted functions take, each with its own check."""
    kind = _KEYWORDS.get(key)
    if kind is None or key not in _METHOD_KEYWORDS[method]:
        raise ForbiddenError(Message("{label}: the keyword '{key}=' is not available in the "
                                     "playground; available: {available}", label=label, key=key,
                                     available=", ".join(f"{k}=" for k in
                                                         sorted(_METHOD_KEYWORDS[method]))),
                             hint=Message("Leave out {key}=.", key=key))
    where = f"{label}({key}=)"
    if kind == "text":
        return _text(value, where, settings)
    if kind == "color":
        if key == "c" and not isinstance(value, str):
            return _data(value, where, settings.max_figure_points)
        return _color(value, where, settings)
    if kind == "number":
        return _number(value, where)
    if kind == "numbers":  # one number, or one per point
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _number(value, where)
        return _data(value, where, settings.max_figure_points)
    if kind == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"{where} takes True or False")
        return value
    if kind == "marker":
        if value not in _MARKERS:
            raise ValueError(f"{where}: use one of " + " ".join(sorted(m for m in _MARKERS
                                                                       if m)))
        return value
    if kind == "linestyle":
        if value not in _LINESTYLES:
            raise ValueError(f"{where}: use '-', '--', '-.' or ':'")
        return value
    if kind == "cmap":
        if not isinstance(value, str) or value not in matplotlib.colormaps:
            raise ValueError(f"{where}: use a colormap name such as 'viridis', 'gray' or "
                             "'coolwarm'")
        return value
    if kind == "bins":
        if isinstance(value, int) and not isinstance(value, bool):
            if not 1 <= value <= settings.max_figure_points:
                raise LimitError(Message("{where}: {bins:,} bins; at most {max_figure_points:,} "
                                         "(setting max_figure_points)",
                                         where=where, bins=value,
                                         max_figure_points=settings.max_figure_points),
                                 predicted=True)
            return value
        return _data(value, where, settings.max_figure_points)
    if kind == "range":
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise TypeError(f"{where} takes (low, high)")
        return tuple(_number(v, where) for v in value)
    if kind == "choice":
        if value not in _CHOICES[key]:
            raise ValueError(f"{where}: use one of " + ", ".join(sorted(_CHOICES[key])))
        return value
    if kind == "prop":
        if not isinstance(value, dict) or set(value) != {"size"}:
            raise ForbiddenError(Message("{where} takes a font size only, e.g. prop={{'size': 14}}",
                                         where=where),
                                 hint=Message("Or use fontsize=14."))
        return _number(value["size"], where)
    if kind == "levels":
        return value  # checked with the grid (_contour_levels)
    if kind == "colors":
        return _color(value, where, settings)
    if kind in ("ticks", "labels"):
        return value  # checked with the ticks (_ticks)
    if kind == "position":
        return _number(value, where)
    if kind == "loc":
        if value not in _LEGEND_LOCATIONS:
            raise ValueError(f"{where}: use 'best', 'upper right', 'lower left' ...")
        return value
    raise AssertionError(kind)


_KEYWORDS: dict[str, str] = {
    "label": "text", "color": "color", "c": "color", "alpha": "number",
    "linewidth": "number", "lw": "number", "linestyle": "linestyle", "ls": "linestyle",
    "marker": "marker", "markersize": "number", "ms": "number", "s": "numbers",
    "width": "numbers", "bins": "bins", "range": "range", "density": "bool",
    "cmap": "cmap", "vmin": "number", "vmax": "number", "aspect": "choice",
    "interpolation": "choice", "origin": "choice", "loc": "loc", "fontsize": "number",
    "visible": "bool", "axis": "choice", "bottom": "number", "left": "number",
    "right": "number", "top": "number", "edgecolor": "color", "align": "choice",
    "histtype": "choice", "prop": "prop", "levels": "levels", "colors": "colors",
    "linewidths": "number", "linestyles": "linestyle", "x": "position", "y": "position",
    "rotation": "number", "ha": "choice", "va": "choice", "ticks": "ticks",
    "labels": "labels", "xmin": "number", "xmax": "number", "ymin": "number", "ymax": "number",
}
_LINE = frozenset({"label", "color", "alpha", "linewidth", "lw", "linestyle", "ls", "marker",
                   "markersize", "ms"})
_TEXT = frozenset({"fontsize", "color"})
_METHOD_KEYWORDS: dict[str, frozenset[str]] = {
    "plot": _LINE,
    "scatter": frozenset({"label", "color", "c", "alpha", "s", "marker", "cmap", "vmin", "vmax",
                          "edgecolor"}),
    "bar": frozenset({"label", "color", "alpha", "width", "bottom", "edgecolor", "align"}),
    "hist": frozenset({"label", "color", "alpha", "bins", "range", "density", "histtype",
                       "edgecolor"}),
    "imshow": frozenset({"cmap", "vmin", "vmax", "aspect", "interpolation", "origin", "alpha"}),
    "legend": frozenset({"loc", "fontsize", "prop"}),
    "contour": frozenset({"levels", "colors", "cmap", "alpha", "linewidths", "linestyles",
                          "vmin", "vmax"}),
    "contourf": frozenset({"levels", "colors", "cmap", "alpha", "vmin", "vmax"}),
    "text": frozenset({"fontsize", "color", "alpha", "ha", "va", "rotation"}),
    "xticks": frozenset({"ticks", "labels", "rotation", "fontsize"}),
    "yticks": frozenset({"ticks", "labels", "rotation", "fontsize"}),
    "set_xticks": frozenset({"ticks", "labels"}),
    "set_yticks": frozenset({"ticks", "labels"}),
    "axhline": _LINE | {"y", "xmin", "xmax"},
    "axvline": _LINE | {"x", "ymin", "ymax"},
    "axis": frozenset(), "colorbar": frozenset(),
    "grid": frozenset({"visible", "axis", "alpha", "color", "linestyle", "ls", "linewidth",
                       "lw"}),
    "set_title": _TEXT, "set_xlabel": _TEXT, "set_ylabel": _TEXT, "suptitle": _TEXT,
    "set_xlim": frozenset({"left", "right"}), "set_ylim": frozenset({"bottom", "top"}),
}
_CHOICES: dict[str, frozenset[str]] = {
    "aspect": frozenset({"auto", "equal"}),
    "interpolation": frozenset({"nearest", "bilinear", "none", "antialiased"}),
    "origin": frozenset({"upper", "lower"}),
    "axis": frozenset({"x", "y", "both"}),
    "align": frozenset({"center", "edge"}),
    "histtype": frozenset({"bar", "step", "stepfilled"}),
    "ha": frozenset({"center", "left", "right"}),
    "va": frozenset({"center", "top", "bottom", "baseline"}),
}

