"""Charts drawn from real program results, and the calculator against a real DataLoader."""

from __future__ import annotations

import math

import pytest

from app.engine.program import Sandbox
from app.lessons import calculator, plot
from app.lessons.plot import HEIGHT, LEFT, TOP, WIDTH, PlotError, build_chart
from tests.japanese import in_japanese


def chart(sandbox: Sandbox, style: str, code: str) -> plot.Chart:
    return build_chart(style, sandbox.run(code, 0, "cpu").body)


def points(path: str) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in path.split()]  # type: ignore[misc]


def test_lines_map_data_onto_the_frame(sandbox: Sandbox) -> None:
    c = chart(sandbox, "lines", 'x = torch.linspace(0, 1, 11)\n{"x": x, "square": x ** 2, '
                                '"line": x}')
    assert [s.name for s in c.series] == ["square", "line"]
    assert [s.css for s in c.series] == ["plot-s0", "plot-s1"]
    line = points(c.series[1].paths[0])
    assert len(line) == 11
    xs, ys = [p[0] for p in line], [p[1] for p in line]
    assert xs == sorted(xs) and ys == sorted(ys, reverse=True)  # up the screen = larger y
    assert min(xs) >= LEFT and max(xs) <= WIDTH and min(ys) >= TOP and max(ys) <= HEIGHT
    assert c.x_ticks and c.y_ticks and "11 points" in c.series[0].described


def test_non_finite_values_break_the_line(sandbox: Sandbox) -> None:
    c = chart(sandbox, "lines", 'x = torch.linspace(-1, 1, 5)\n{"x": x, "log": torch.log(x)}')
    assert len(c.series[0].paths) == 1 and len(points(c.series[0].paths[0])) == 2


def test_trajectory_with_surface(sandbox: Sandbox) -> None:
    c = chart(sandbox, "trajectory",
              "xs = torch.linspace(-2, 2, 8)\nX, Y = torch.meshgrid(xs, xs, indexing='xy')\n"
              "path = torch.tensor([[-2.0, 2.0], [0.0, 1.0], [0.5, 0.0]])\n"
              "{'gd': path, 'surface': X ** 2 + Y ** 2, "
              "'extent': torch.tensor([-2.0, 2.0, -2.0, 2.0])}")
    gd = c.series[0]
    assert gd.name == "gd" and gd.start and gd.end and gd.start[0] < gd.end[0]
    assert len(c.cells) == 64 and c.surface_range == ("0.163", "8")
    # the lowest surface value sits in the middle, the highest in the corners
    corner = next(cell for cell in c.cells if cell.x == min(x.x for x in c.cells))
    assert corner.css == "hm-s8"


@pytest.mark.parametrize(("style", "code", "words"), [
    ("lines", "torch.ones(3)", "must end with a dict"),
    ("lines", "{'y': torch.ones(3)}", 'needs "x"'),
    ("lines", "{'x': torch.ones(3), 'y': torch.ones(4)}", "as long as x"),
    ("trajectory", "{'p': torch.ones(3)}", "(N, 2)"),
    ("trajectory", "{'p': torch.ones(3, 2), 'extent': torch.ones(4)}", '"extent" must be'),
    ("lines", "{'x': torch.ones(2000), 'y': torch.ones(2000)}", "too many values"),
    ("lines", "1/0", "did not finish: ZeroDivisionError"),
])
def test_charts_that_cannot_be_drawn_say_why(sandbox: Sandbox, style: str, code: str,
                                             words: str) -> None:
    with pytest.raises(PlotError) as raised:
        chart(sandbox, style, code)
    assert words in str(raised.value.said) and in_japanese(raised.value.said)


@pytest.mark.parametrize(("size", "batch", "epochs", "drop_last"), [
    (10, 3, 2, False), (10, 3, 2, True), (12, 4, 3, False), (5, 8, 1, False),
    (5, 8, 1, True), (1000, 64, 10, False), (1000, 64, 10, True), (1, 1, 1, False),
])
def test_formula_matches_a_real_dataloader(sandbox: Sandbox, size: int, batch: int,
                                           epochs: int, drop_last: bool) -> None:
    inputs = calculator.Inputs(size, batch, epochs, drop_last)
    formula = calculator.formula(inputs)
    body = sandbox.run(calculator.program(inputs), 0, "cpu").body
    live = calculator.read_live(inputs, body)
    assert live is not None, body.get("error")
    assert live.per_epoch == formula.per_epoch == (
        size // batch if drop_last else math.ceil(size / batch))
    assert live.iterations == formula.per_epoch * live.epochs_run
    assert live.epochs_run == epochs and live.iterations == formula.total
    assert live.samples == (size - formula.dropped) * epochs
    assert live.last_batch == formula.last_batch


def test_large_inputs_run_fewer_epochs_or_none() -> None:
    assert calculator.live_epochs(calculator.Inputs(60000, 64, 50)) == 1
    assert calculator.live_epochs(calculator.Inputs(1000, 100, 1000)) == 100
    assert calculator.too_big_for_live(calculator.Inputs(100_000, 1, 1)) is not None


@pytest.mark.parametrize(("fields", "problem"), [
    ({"size": "10", "batch": "3", "epochs": "2"}, None),
    ({"size": "ten"}, "whole numbers"),
    ({"size": "0"}, "from 1 to"),
    ({"epochs": "1001"}, "from 1 to"),
])
def test_calculator_form(fields: dict[str, str], problem: str | None) -> None:
    inputs, said = calculator.parse({**fields, "drop_last": "on"})
    assert inputs.drop_last
    if problem is None:
        assert said is None and inputs == calculator.Inputs(10, 3, 2, True)
    else:
        assert said is not None and problem in str(said) and in_japanese(said)
