from __future__ import annotations

import pytest
import torch

from app.playground.grid import build_grid, format_ms, format_number
from app.playground.heatmap import STEPS, cell_class, scale_for


def texts(grid_slice) -> list[list[str]]:
    return [[cell.text for cell in row] for row in grid_slice.rows]


@pytest.mark.parametrize(("value", "text"), [
    (3, "3"), (-7, "-7"), (1.0, "1.0"), (1.5, "1.5"), (1 / 3, "0.3333"), (-0.0, "0.0"),
    (2e-5, "2.00e-05"), (123456.0, "1.23e+05"), (True, "True"), ("nan", "nan"), ("-inf", "-inf"),
])
def test_format_number(value: object, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(("ms", "text"), [(0.0421, "0.042"), (3.14159, "3.14"), (13.46, "13.5"),
                                          (1204.4, "1204")])
def test_format_ms(ms: float, text: str) -> None:
    assert format_ms(ms) == text


def test_matrix_cells_match_torch() -> None:
    t = torch.tensor([[1, 2, 3], [4, 5, 6]])
    grid = build_grid({"shape": list(t.shape), "values": t.tolist()})
    assert grid.ndim == 2 and len(grid.slices) == 1
    assert texts(grid.slices[0]) == [[str(v) for v in row] for row in t.tolist()]
    assert grid.slices[0].label is None and grid.slices[0].columns == 3
    assert (grid.legend_lo, grid.legend_hi) == ("1", "6")  # an int tensor's legend is ints
    assert not grid.truncated


def test_three_d_is_a_row_of_labelled_slices(recorded) -> None:
    view = recorded("cube")["body"]["result"]
    t = torch.arange(24).reshape(2, 3, 4)
    grid = build_grid(view)
    assert [s.label for s in grid.slices] == ["[0, :, :]", "[1, :, :]"]
    for i, part in enumerate(grid.slices):
        assert texts(part) == [[str(v) for v in row] for row in t[i].tolist()]


def test_four_d_labels_every_leading_index() -> None:
    t = torch.zeros(2, 2, 1, 1)
    grid = build_grid({"shape": list(t.shape), "values": t.tolist()})
    assert [s.label for s in grid.slices] == ["[0, 0, :, :]", "[0, 1, :, :]",
                                              "[1, 0, :, :]", "[1, 1, :, :]"]


def test_truncated_tensor_counts_what_is_missing(recorded) -> None:
    view = recorded("large")["body"]["result"]  # 50x100, the engine sent a corner
    grid = build_grid(view)
    assert view["truncated"] is True
    assert grid.truncated and grid.total == 5000
    assert grid.shown == sum(len(row) for row in view["values"]) < 5000
    assert texts(grid.slices[0])[1][:3] == ["100.0", "101.0", "102.0"]


def test_scalar_and_vector() -> None:
    scalar = build_grid({"shape": [], "values": 2.5})
    assert texts(scalar.slices[0]) == [["2.5"]] and scalar.total == 1
    vector = build_grid({"shape": [3], "values": [1.0, 2.0, 3.0]})
    assert texts(vector.slices[0]) == [["1.0", "2.0", "3.0"]] and vector.ndim == 1


def test_non_finite_values_get_their_own_classes(recorded) -> None:
    view = recorded("nonfinite")["body"]["result"]
    cells = build_grid(view).slices[0].rows[0]
    assert [c.text for c in cells] == ["1.0", "nan", "inf", "-2.0"]
    assert [c.css for c in cells][1:3] == ["hm-nan", "hm-inf"]
    # the finite values still span a diverging scale: -2 is on the negative side
    assert cells[3].css == "hm-d0" and cells[0].css.startswith("hm-d")


def test_diverging_scale_puts_zero_in_the_middle() -> None:
    scale = scale_for([-1.0, 0.0, 4.0])
    assert scale.kind == "diverging"
    assert cell_class(0.0, scale) == f"hm-d{(STEPS - 1) // 2}"
    assert cell_class(4.0, scale) == f"hm-d{STEPS - 1}"
    # -1 is a quarter of the span: a light negative step, not the darkest one
    assert cell_class(-1.0, scale) == "hm-d3"


def test_sequential_scale_spans_all_steps() -> None:
    scale = scale_for([0, 5, 10])
    assert scale.kind == "sequential"
    assert [cell_class(v, scale) for v in (0, 5, 10)] == ["hm-s0", "hm-s4", "hm-s8"]
    assert len(scale.legend) == STEPS


def test_constant_and_text_values() -> None:
    constant = scale_for([2.0, 2.0])
    assert constant.kind == "constant" and cell_class(2.0, constant) == "hm-s2"
    assert scale_for(["1+2j"]).kind == "none"
    assert cell_class("1+2j", scale_for(["1+2j"])) == "hm-text"
