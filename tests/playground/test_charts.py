"""The SVG chart geometry of the training pages (app/playground/charts.py)."""

from __future__ import annotations

import pytest

from app.playground.charts import (
    MAX_MARKS,
    Series,
    boundary_map,
    confidence_class,
    line_chart,
    marker_path,
    probability_class,
    thin,
)


def test_thin_keeps_first_and_last_and_at_most_the_limit() -> None:
    assert thin(5, 10) == [0, 1, 2, 3, 4]
    kept = thin(1000, 300)
    assert kept[0] == 0 and kept[-1] == 999 and len(kept) <= 300
    assert kept == sorted(set(kept))


def test_line_chart_maps_data_onto_the_plot_area() -> None:
    chart = line_chart([Series("loss", [0, 1, 2], [0.0, 0.5, 1.0])], y_range=(0.0, 1.0))
    (line,) = chart.lines
    (segment,) = line.segments
    points = [tuple(map(float, p.split(","))) for p in segment.split()]
    # x: first point on the left edge, last on the right; y: 0 at the bottom, 1 at the top.
    assert points[0] == (chart.left, chart.bottom)
    assert points[-1] == (chart.right, chart.top)
    assert points[1] == pytest.approx(((chart.left + chart.right) / 2,
                                       (chart.top + chart.bottom) / 2), abs=0.05)
    assert line.end == points[-1] and line.last_y == 1.0 and chart.points == 3
    assert [t.text for t in chart.y_ticks] == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]


def test_non_finite_values_break_the_line_and_are_reported() -> None:
    chart = line_chart([Series("loss", [1, 2, 3, 4, 5], [1.0, 0.5, "nan", 0.4, "inf"])])
    (line,) = chart.lines
    assert len(line.segments) == 2  # 1-2, then 4 alone
    assert line.broken_at == 3.0
    assert (line.last_x, line.last_y) == (4.0, 0.4)


def test_none_values_are_gaps_not_breaks() -> None:
    chart = line_chart([Series("val", [1, 2, 3], [None, 0.5, 0.4])])
    assert chart.lines[0].broken_at is None and chart.lines[0].points == 3


def test_log_axis_ticks_and_fallback_when_a_value_is_not_positive() -> None:
    chart = line_chart([Series("loss", [1, 2, 3], [2.0, 0.3, 0.02])], log_y=True)
    assert chart.log_y
    assert [t.text for t in chart.y_ticks] == ["0.01", "0.1", "1", "10"]
    # Equal ratios are equal distances on a log axis.
    ys = {t.text: t.at for t in chart.y_ticks}
    assert ys["0.01"] - ys["0.1"] == pytest.approx(ys["0.1"] - ys["1"], abs=0.15)
    linear = line_chart([Series("x", [1, 2], [0.0, 1.0])], log_y=True)
    assert not linear.log_y


def test_long_series_are_thinned_but_keep_their_count() -> None:
    xs = list(range(5000))
    chart = line_chart([Series("loss", xs, [1 / (1 + x) for x in xs])], max_points=200)
    (segment,) = chart.lines[0].segments
    assert len(segment.split()) <= 200
    assert chart.points == 5000


def test_rules_and_dots_are_placed_on_the_same_axes() -> None:
    chart = line_chart([Series("norm", [0, 10], [0.0, 2.0])], rules=[("clip", 1.0)],
                       dots=[(5, 1.0), ("nan", 1.0)])
    (rule,) = chart.rules
    assert rule.y == pytest.approx((chart.top + chart.bottom) / 2, abs=0.05)
    assert len(chart.dots) == 1 and chart.dots[0].y == pytest.approx(rule.y)


def test_empty_chart() -> None:
    chart = line_chart([Series("loss", [], [])])
    assert chart.empty and chart.points == 0 and not chart.x_ticks


def test_probability_and_confidence_classes() -> None:
    assert probability_class(0.0) == "bd-p0"
    assert probability_class(0.5) == "bd-p4"  # the white middle step
    assert probability_class(1.0) == "bd-p8"
    assert probability_class("nan") == "bd-nan"
    assert confidence_class(3, 0.3) == "bd-c3 bd-k0"
    assert confidence_class(3, 0.6) == "bd-c3 bd-k1"
    assert confidence_class(3, 0.95) == "bd-c3 bd-k2"


def _two_class_snapshot(grid: list[list[float]]) -> dict:
    n = len(grid)
    return {"type": "boundary", "epoch": 4, "size": n, "classes": 2, "probability": grid,
            "x_range": [-1.0, 1.0], "y_range": [0.0, 2.0]}


def test_boundary_rows_run_along_y_and_equal_cells_merge() -> None:
    # Rows 0-2 (the lower y) are class 0 everywhere; row 3 (the highest y) splits in two.
    grid = [[0.0] * 4, [0.0] * 4, [0.0] * 4, [0.0, 0.0, 1.0, 1.0]]
    b = boundary_map(_two_class_snapshot(grid), None, size=200, margin=40)
    assert b is not None and b.epoch == 4 and b.grid == 4
    assert len(b.cells) == 5  # one rectangle per uniform row, two for the split one
    by_row = sorted({c.y for c in b.cells})
    assert by_row == [8, 58, 108, 158]
    top = [(c.x, c.w, c.css) for c in b.cells if c.y == 8]
    assert top == [(40, 100, "bd-p0"), (140, 100, "bd-p8")]
    assert len(b.ramp) == 9 and [k.label for k in b.keys] == [0, 1]


def test_boundary_points_use_the_events_ranges_and_a_shape_per_class() -> None:
    snapshot = _two_class_snapshot([[0.5] * 4] * 4)
    points = {"x": [[-1.0, 0.0], [1.0, 2.0]], "y": [0, 1]}
    b = boundary_map(snapshot, points, size=200, margin=40)
    assert b is not None
    low, high = b.marks
    assert (low.label, high.label) == (0, 1) and low.css == "pt pt-c0"
    # (-1, 0) sits at the centre of the bottom-left cell, (1, 2) at the top-right one.
    # Cells are 50 px: the centres are 25 px inside the plot's corners (40..240, 8..208).
    assert low.d.startswith("M61.8,183.0")  # a circle starts r = 3.2 left of its centre
    assert high.d.startswith("M212.1,30.1")  # a square starts at its top-left corner
    assert marker_path(0, 0, 0) != marker_path(1, 0, 0) != marker_path(2, 0, 0)


def test_many_classes_use_label_and_confidence() -> None:
    snapshot = {"type": "boundary", "epoch": 1, "size": 2, "classes": 3,
                "label": [[0, 1], [2, 2]], "confidence": [[0.9, 0.4], [0.7, 0.7]],
                "x_range": [0, 1], "y_range": [0, 1]}
    b = boundary_map(snapshot, None)
    assert b is not None and not b.ramp and len(b.keys) == 3
    assert {c.css for c in b.cells} == {"bd-c0 bd-k2", "bd-c1 bd-k0", "bd-c2 bd-k1"}
    assert len(b.cells) == 3  # the two equal cells of the top row merged


def test_at_most_max_marks_points_are_drawn() -> None:
    snapshot = _two_class_snapshot([[0.5]])
    points = {"x": [[0.0, 1.0]] * 1000, "y": [0] * 1000}
    b = boundary_map(snapshot, points)
    assert b is not None and len(b.marks) == MAX_MARKS


def test_not_a_boundary_event() -> None:
    assert boundary_map({"type": "curve", "x": [], "y": []}, None) is None
