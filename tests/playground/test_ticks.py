"""Tick values and labels shared by the training charts and the lessons' plots
(app/playground/ticks.py)."""

from __future__ import annotations

import math

import pytest

from app.playground.ticks import log_ticks, nice_range, nice_step, tick_text, ticks_between


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (0.013, 0.97, (0.0, 1.0, 0.2)),
    (1, 30, (0.0, 30.0, 10.0)),
    (0, 750, (0.0, 800.0, 200.0)),
    (-3.2, 1.1, (-4.0, 2.0, 1.0)),
    (5, 5, (4.4, 5.6, 0.2)),  # one value: widened by 10% either side
    (7, 2, (2.0, 7.0, 1.0)),  # given high first
])
def test_nice_range_widens_to_round_steps(lo: float, hi: float,
                                          expected: tuple[float, float, float]) -> None:
    low, high, step = nice_range(lo, hi)
    assert (low, high, step) == pytest.approx(expected)
    assert low <= min(lo, hi) and high >= max(lo, hi)


@pytest.mark.parametrize(("span", "count", "step"), [
    (1.0, 5, 0.2), (10.4, 5, 2.0), (750, 4, 200.0), (3e-5, 5, 5e-6),
    (15, 5, 5.0),  # 3 intervals of 5 and 7.5 of 2 are equally close to 5: the larger step
])
def test_nice_step_is_1_2_or_5_times_a_power_of_ten(span: float, count: int,
                                                    step: float) -> None:
    assert nice_step(span, count) == pytest.approx(step)


@pytest.mark.parametrize("span", [0.0, -1.0, math.inf, math.nan])
def test_nice_step_of_an_empty_or_unbounded_span_is_one(span: float) -> None:
    assert nice_step(span, 5) == 1.0


def test_ticks_between_are_computed_multiples_not_accumulated_sums() -> None:
    assert ticks_between(0, 1, 0.2) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert ticks_between(-3.3, 7.1, 2) == [-2, 0, 2, 4, 6]
    assert ticks_between(-0.05, 1.05, 0.1)[:3] == [0.0, 0.1, 0.2]  # 0 exactly, not 1e-17
    assert ticks_between(0.31, 0.39, 0.1) == []  # no multiple inside


@pytest.mark.parametrize(("value", "step", "text"), [
    (0.0, 0.2, "0.0"), (0.0, 10.0, "0"), (0.0, 0.0001, "0"), (0.4, 0.2, "0.4"),
    (30.0, 10.0, "30"), (0.0105, 0.0005, "0.0105"),
    (0.0001, 0.0001, "1e-4"), (2e6, 1e6, "2e6"), (-0.5, 0.5, "-0.5"), (200, 50, "200"),
    (999_000, 1000, "999000"), (1.0, 0.2, "1.0"),
])
def test_tick_text_has_the_decimals_its_step_needs(value: float, step: float, text: str) -> None:
    assert tick_text(value, step) == text


def test_log_ticks_are_decades_with_2_and_5_inside_a_short_range() -> None:
    assert log_ticks(0.001, 10) == pytest.approx([0.001, 0.01, 0.1, 1, 10])
    assert log_ticks(0.1, 1) == pytest.approx([0.1, 0.2, 0.5, 1])
