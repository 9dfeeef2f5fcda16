"""matplotlib.pyplot in programs: what a program draws is what matplotlib itself draws.

The reference is plain matplotlib (its Figure API, the one pyplot wraps) fed the same data
computed by plain torch, rendered and sanitised the same way: the SVGs must be identical.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from app.engine.program import Sandbox
from app.inspect.svg import sanitize_svg

PLT = "import matplotlib.pyplot as plt\n"


def _svgs(body: dict[str, Any]) -> list[bytes]:
    prefix = "data:image/svg+xml;base64,"
    assert all(f["src"].startswith(prefix) for f in body["figures"])
    return [base64.b64decode(f["src"][len(prefix):]) for f in body["figures"]]


def _reference(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return sanitize_svg(buffer.getvalue())


def _run(sandbox: Sandbox, code: str) -> dict[str, Any]:
    outcome = sandbox.run(PLT + code)
    assert outcome.status == 200 and outcome.body["ok"], outcome.body.get("error")
    return outcome.body


def test_a_line_plot_is_the_svg_matplotlib_draws(sandbox: Sandbox) -> None:
    body = _run(sandbox, """x = torch.linspace(0, 6.28, 40)
plt.plot(x, torch.sin(x), 'r--', label='sin')
plt.plot(x.numpy(), np.exp(x.numpy()), label="exp", linewidth=2)
plt.title('waves')
plt.xlabel('x')
plt.ylabel('value')
plt.legend(loc='upper right')
plt.grid(True)
""")
    x = torch.linspace(0, 6.28, 40)
    figure = Figure(figsize=(6.4, 4.8), dpi=100)
    ax = figure.add_subplot(1, 1, 1)
    ax.plot(x.numpy(), torch.sin(x).numpy(), "r--", label="sin")
    ax.plot(x.numpy(), np.exp(x.numpy()), label="exp", linewidth=2)
    ax.set_title("waves")
    ax.set_xlabel("x")
    ax.set_ylabel("value")
    ax.legend(loc="upper right")
    ax.grid(True)
    assert _svgs(body) == [_reference(figure)]
    assert body["figures"][0]["alt"] == "Figure 1: waves, x: x, y: value"
    assert (body["figures"][0]["width"], body["figures"][0]["height"]) == (614, 461)


def test_scatter_bar_hist_imshow_in_a_grid_match_matplotlib(sandbox: Sandbox) -> None:
    body = _run(sandbox, """torch.manual_seed(0)
pts = torch.randn(50, 2)
img = torch.arange(12.).reshape(3, 4)
fig, axes = plt.subplots(2, 2, figsize=(8, 6))
axes[0, 0].scatter(pts[:, 0], pts[:, 1], s=10, c='C1', alpha=0.5)
axes[0][1].bar(['a', 'b', 'c'], [3, 1, 2], color='green')
axes[1, 0].hist(pts[:, 0], bins=8, density=True)
axes[1, 1].imshow(img, cmap='gray', origin='lower')
axes[1, 1].set_title('image')
fig.suptitle('four')
plt.tight_layout()
""")
    torch.manual_seed(0)
    pts = torch.randn(50, 2)
    figure = Figure(figsize=(8, 6), dpi=100)
    grid = figure.subplots(2, 2, squeeze=False)
    grid[0][0].scatter(pts[:, 0].numpy(), pts[:, 1].numpy(), s=10, c="C1", alpha=0.5)
    grid[0][1].bar(["a", "b", "c"], np.array([3, 1, 2]), color="green")
    grid[1][0].hist(pts[:, 0].numpy(), bins=8, density=True)
    grid[1][1].imshow(torch.arange(12.0).reshape(3, 4).numpy(), cmap="gray", origin="lower")
    grid[1][1].set_title("image")
    figure.suptitle("four")
    figure.tight_layout()
    assert _svgs(body) == [_reference(figure)]
    assert body["figures"][0]["alt"] == "Figure 1: four; image"


def test_subplots_shapes_and_indexing_follow_matplotlib(sandbox: Sandbox) -> None:
    body = _run(sandbox, """fig, ax = plt.subplots()
ax.plot([1, 2])
fig2, row = plt.subplots(1, 3)
shape_row = row.shape
for a in row:
    a.plot([1, 2, 3])
fig3, grid = plt.subplots(2, 3)
shape_grid = grid.shape
count = 0
for a in grid.flat:
    count = count + 1
rows = 0
for r in grid:
    rows = rows + 1
grid[1, 2].set_title('last')
first_of_flatten = grid.flatten()[5]
first_of_flatten.set_xlabel('x')
print(shape_row, shape_grid, count, rows, len(grid), len(row), grid[0, 1:].shape)
grid[:, 1][1].set_title('column 1, row 1')
print(grid[-1, 1:].shape, grid[:, ::2].shape)
""")
    assert body["stdout"] == "(3,) (2, 3) 6 2 2 3 (2,)\n(2,) (2, 2)\n"
    assert len(body["figures"]) == 3
    assert body["figures"][2]["alt"] == "Figure 3: column 1, row 1; last, x: x"


def test_subplot_numbers_pick_the_same_axes_as_matplotlib(sandbox: Sandbox) -> None:
    body = _run(sandbox, """plt.subplot(2, 1, 1)
plt.plot([1, 2, 3])
plt.title('top')
plt.subplot(212)
plt.plot([3, 2, 1])
plt.title('bottom')
plt.subplot(2, 1, 1)
plt.ylabel('again top')
""")
    figure = Figure(figsize=(6.4, 4.8), dpi=100)
    top = figure.add_subplot(2, 1, 1)
    top.plot(np.array([1.0, 2.0, 3.0]))
    top.set_title("top")
    bottom = figure.add_subplot(2, 1, 2)
    bottom.plot(np.array([3.0, 2.0, 1.0]))
    bottom.set_title("bottom")
    top.set_ylabel("again top")
    assert _svgs(body) == [_reference(figure)]


def test_limits_are_set_and_read_back(sandbox: Sandbox) -> None:
    body = _run(sandbox, "plt.plot([0, 10], [0, 5])\nplt.xlim(2, 8)\nplt.ylim((1, 4))\n"
                "print(plt.xlim(), plt.ylim())")
    assert body["stdout"] == "(2.0, 8.0) (1.0, 4.0)\n"


def test_show_savefig_and_close_decide_what_is_shown(sandbox: Sandbox) -> None:
    body = _run(sandbox, """plt.figure()
plt.plot([1, 2])
plt.title('kept by savefig')
plt.savefig('loss.png')
plt.close()
plt.figure()
plt.title('closed unseen')
plt.close()
plt.figure()
plt.title('open at the end')
""")
    assert [f["alt"] for f in body["figures"]] == ["Figure 1: kept by savefig",
                                                   "Figure 3: open at the end"]
    assert any("savefig does not write files" in n for n in body["notices"])


def test_a_tensor_that_requires_grad_fails_as_in_matplotlib(sandbox: Sandbox) -> None:
    code = PLT + "w = torch.ones(3, requires_grad=True)\nplt.plot(w)"
    with pytest.raises(RuntimeError) as real:
        np.asarray(torch.ones(3, requires_grad=True))  # what matplotlib runs into
    body = sandbox.run(code).body
    assert body["ok"] is False and body["error"]["type"] == "RuntimeError"
    assert body["error"]["message"] == str(real.value)
    assert "detach" in body["error"]["hint"]
    fixed = _run(sandbox, "w = torch.ones(3, requires_grad=True)\nplt.plot(w.detach())")
    assert len(fixed["figures"]) == 1


@pytest.mark.parametrize("data", ["[1, 2.5, True]", "np.array([1, 2, 3])", "torch.tensor([1, 2])",
                                  "[torch.tensor(1.0), torch.tensor(2.0)]", "3"])
def test_lists_arrays_tensors_and_numbers_are_data(sandbox: Sandbox, data: str) -> None:
    assert len(_run(sandbox, f"plt.plot({data})")["figures"]) == 1


@pytest.mark.parametrize(("code", "says"), [
    ("plt.plot('hello world')", "format string"),
    ("plt.plot([1], marker='$x$')", "marker="),
    ("plt.plot([1], picker=True)", "'picker=' is not available"),
    ("plt.plot({'a': 1})", "not dict"),
    ("plt.plot(['a', 'b'])", "numbers only"),
    ("plt.imshow(torch.zeros(2, 2, 2))", "H x W"),
    ("plt.scatter([1], [2], cmap='no such map')", "colormap"),
    ("plt.plot([1], color='notacolour')", "not a colour"),
    ("plt.subplots(2, 2, squeeze=1)", "True or False"),
])
def test_arguments_outside_the_subset_are_refused_with_a_reason(sandbox: Sandbox, code: str,
                                                                 says: str) -> None:
    body = sandbox.run(PLT + code).body
    assert body["ok"] is False
    assert says in body["error"]["message"], body["error"]


def test_points_are_summed_over_a_figures_artists(sandbox: Sandbox) -> None:
    limit = sandbox.settings.max_figure_points
    half = limit // 2 + 1
    body = sandbox.run(PLT + f"x = torch.zeros({half})\nplt.plot(x)\nplt.scatter(x, x)").body
    assert body["error"]["type"] == "LimitError"
    assert "max_figure_points" in body["error"]["message"]
    ok = _run(sandbox, f"x = torch.zeros({half})\nplt.plot(x)\nplt.figure()\nplt.plot(x)")
    assert len(ok["figures"]) == 2


def test_the_same_program_draws_the_same_figure(sandbox: Sandbox) -> None:
    code = "plt.plot(torch.randn(20))\nplt.title('noise')"
    first = sandbox.run(PLT + code, seed=3).body
    second = sandbox.run(PLT + code, seed=3).body
    assert first["figures"] == second["figures"]
    assert first["figures"] != sandbox.run(PLT + code, seed=4).body["figures"]


def test_timed_repeats_keep_the_first_runs_figures(sandbox: Sandbox) -> None:
    body = sandbox.run(PLT + "plt.plot([1, 2, 3])", repeat=3).body
    assert body["ok"] and body["timing"]["repeats"] == 3
    assert len(body["figures"]) == 1


def test_programs_without_plots_have_no_figures(sandbox: Sandbox) -> None:
    assert sandbox.run("torch.ones(2)").body["figures"] == []


def test_import_forms(sandbox: Sandbox) -> None:
    assert len(_run(sandbox, "import matplotlib.pyplot\nmatplotlib.pyplot.plot([1])")
               ["figures"]) == 1
    assert len(_run(sandbox, "from matplotlib.pyplot import plot, title\nplot([1])\ntitle('t')")
               ["figures"]) == 1


def test_figure_numbers_come_back_and_ranges_and_colour_lists_are_data(sandbox: Sandbox) -> None:
    body = _run(sandbox, """plt.figure(1)
plt.plot(range(10))
plt.figure(2)
plt.figure(1)
plt.title('one')
plt.figure(2)
plt.bar(['a', 'b'], [1, 2], color=['red', 'C1'])
""")
    assert [f["alt"] for f in body["figures"]] == ["Figure 1: one", "Figure 2"]
    figure = Figure(figsize=(6.4, 4.8), dpi=100)
    ax = figure.add_subplot(1, 1, 1)
    ax.bar(["a", "b"], np.array([1, 2]), color=["red", "C1"])
    assert _svgs(body)[1] == _reference(figure)


def test_figures_are_not_started_past_the_deadline(sandbox: Sandbox) -> None:
    import time

    from app.engine.plots import PlotSession
    from app.message import Text

    session = PlotSession(sandbox.settings)
    plt = session.namespaces({})["matplotlib.pyplot"].members
    plt["plot"]([1.0, 2.0])
    plt["figure"]()
    notices: list[Text] = []
    assert session.render(notices, time.monotonic() - 1) == []
    assert [str(n) for n in notices] == ["figure 1 and later ones were not drawn: the "
                                         "program's time ran out (setting deadline_s)"]
    assert len(session.render([], time.monotonic() + 60)) == 2


_SAMPLES = {"text": "'a'", "color": "'red'", "number": "0.5", "numbers": "2.0", "bool": "True",
            "marker": "'o'", "linestyle": "'--'", "cmap": "'gray'", "bins": "5",
            "range": "(0, 1)", "loc": "'best'", "prop": "{'size': 9}", "levels": "4",
            "colors": "'k'", "position": "0.5", "ticks": "[0, 1]",
            "labels": "['a', 'b'], ticks=[0, 1]"}
_CALLS = {"plot": "ax.plot([1, 2]{})", "scatter": "ax.scatter([1, 2], [3, 4]{})",
          "bar": "ax.bar([1, 2], [3, 4]{})", "hist": "ax.hist([1, 2, 2]{})",
          "imshow": "ax.imshow(torch.rand(3, 3){})", "legend": "ax.plot([1], label='x')\n"
          "ax.legend({})", "grid": "ax.grid({})", "set_title": "ax.set_title('t'{})",
          "set_xlabel": "ax.set_xlabel('x'{})", "set_ylabel": "ax.set_ylabel('y'{})",
          "suptitle": "fig.suptitle('s'{})", "set_xlim": "ax.set_xlim({})",
          "set_ylim": "ax.set_ylim({})", "contour": "ax.contour(torch.rand(4, 5){})",
          "contourf": "ax.contourf(torch.rand(4, 5){})", "axhline": "ax.axhline({})",
          "axvline": "ax.axvline({})", "text": "ax.text(0.5, 0.5, 't'{})",
          "xticks": "plt.xticks({})", "yticks": "plt.yticks({})",
          "set_xticks": "ax.set_xticks({})", "set_yticks": "ax.set_yticks({})"}


def _keyword_cases() -> list[tuple[str, str]]:
    from app.engine import plots
    return [(method, key) for method, keys in plots._METHOD_KEYWORDS.items()
            for key in sorted(keys)]


@pytest.mark.parametrize(("method", "key"), _keyword_cases())
def test_every_listed_keyword_is_one_matplotlib_takes(sandbox: Sandbox, method: str,
                                                      key: str) -> None:
    from app.engine import plots
    kind = plots._KEYWORDS[key]
    value = sorted(plots._CHOICES[key])[0] if kind == "choice" else None
    sample = repr(value) if value is not None else _SAMPLES[kind]
    call = _CALLS[method].format(f"{', ' if not _CALLS[method].endswith('({})') else ''}"
                                 f"{key}={sample}")
    body = _run(sandbox, f"fig, ax = plt.subplots()\n{call}")
    assert len(body["figures"]) == 1  # matplotlib may warn (vmin= without c=): a notice


def test_colorbar_and_axis_off_match_matplotlib(sandbox: Sandbox) -> None:
    body = _run(sandbox, """img = torch.arange(20.).reshape(4, 5)
plt.imshow(img, cmap='viridis')
plt.colorbar()
plt.axis('off')
plt.title('ramp')
""")
    figure = Figure(figsize=(6.4, 4.8), dpi=100)
    ax = figure.add_subplot(1, 1, 1)
    image = ax.imshow(torch.arange(20.0).reshape(4, 5).numpy(), cmap="viridis")
    figure.colorbar(image, ax=ax)
    ax.axis("off")
    ax.set_title("ramp")
    assert _svgs(body) == [_reference(figure)]
    assert body["figures"][0]["alt"] == "Figure 1: ramp"


def test_contour_reference_lines_text_ticks_and_legend_prop_match_matplotlib(
        sandbox: Sandbox) -> None:
    body = _run(sandbox, """x1, x2 = torch.meshgrid(torch.arange(-5.5, 1.0, 0.1),
                        torch.arange(-3.0, 1.0, 0.1), indexing='ij')
plt.plot([-5, -4, -3], [-2, -1, 0], '-o', color='#ff7f0e', label='trace')
plt.contour(x1, x2, x1 ** 2 + 2 * x2 ** 2, colors='#1f77b4')
plt.axhline(y=0.5, color='black', linestyle='dashed')
plt.axvline(-1, 0.1, 0.9)
plt.text(-4, 0.5, 'start', fontsize=12, ha='center')
locs, labels = plt.xticks([-5, -3, -1], ['a', 'b', 'c'], rotation=45)
print(len(locs), len(labels), labels[0])
print(plt.axis([-6, 1, -3, 1]))
plt.legend(prop={'size': 14})
fig, ax = plt.subplots()
ax.contourf(torch.arange(12.).reshape(3, 4), levels=5, cmap='viridis')
ax.set_yticks([0, 1, 2])
""")
    x1, x2 = torch.meshgrid(torch.arange(-5.5, 1.0, 0.1), torch.arange(-3.0, 1.0, 0.1),
                            indexing="ij")
    first = Figure(figsize=(6.4, 4.8), dpi=100)
    ax = first.add_subplot(1, 1, 1)
    ax.plot(np.asarray([-5.0, -4.0, -3.0]), np.asarray([-2.0, -1.0, 0.0]), "-o",
            color="#ff7f0e", label="trace")
    ax.contour(x1.numpy(), x2.numpy(), (x1 ** 2 + 2 * x2 ** 2).numpy(), colors="#1f77b4")
    ax.axhline(0.5, color="black", linestyle="dashed")
    ax.axvline(-1.0, 0.1, 0.9)
    ax.text(-4.0, 0.5, "start", fontsize=12, ha="center")
    ticks = ax.set_xticks(np.asarray([-5.0, -3.0, -1.0]), ["a", "b", "c"])
    ax.tick_params(axis="x", labelrotation=45.0)
    limits = ax.axis([-6.0, 1.0, -3.0, 1.0])
    ax.legend(fontsize=14.0)
    second = Figure(figsize=(6.4, 4.8), dpi=100)
    bx = second.add_subplot(1, 1, 1)
    bx.contourf(np.arange(12.0, dtype=np.float32).reshape(3, 4), levels=5, cmap="viridis")
    bx.set_yticks(np.asarray([0.0, 1.0, 2.0]))
    assert body["stdout"] == f"{len(ticks)} 3 <Text>\n{tuple(limits)}\n"
    assert _svgs(body) == [_reference(first), _reference(second)]


def test_hist_returns_counts_edges_and_one_stand_in_per_bar(sandbox: Sandbox) -> None:
    body = _run(sandbox, """data = torch.tensor([1., 2., 2., 3., 3., 3., 7.])
n, bins, patches = plt.hist(data, bins=4)
print(n, bins, len(patches), patches[0])
n2, bins2, patches2 = plt.hist([[1., 2.], [2., 3.], [4., 4.]], bins=2)
print(n2, bins2, len(patches2), len(patches2[0]))
n3, bins3, patches3 = plt.hist(data, bins=3, histtype='step')
print(n3, len(patches3), patches3[0])
n4, bins4, patches4 = plt.hist([[1., 2.], [2., 3.]], bins=3, histtype='step')
print(len(patches4), len(patches4[0]), patches4[1][0])
""")
    figure = Figure()
    ax = figure.add_subplot(1, 1, 1)
    n, bins, patches = ax.hist(np.asarray([1, 2, 2, 3, 3, 3, 7], dtype=np.float32), bins=4)
    n2, bins2, patches2 = ax.hist(np.asarray([[1.0, 2.0], [2.0, 3.0], [4.0, 4.0]]), bins=2)
    n3, _, patches3 = ax.hist(np.asarray([1, 2, 2, 3, 3, 3, 7], dtype=np.float32), bins=3,
                              histtype="step")
    _, _, patches4 = ax.hist(np.asarray([[1.0, 2.0], [2.0, 3.0]]), bins=3, histtype="step")
    assert type(patches3[0]).__name__ == type(patches4[1][0]).__name__ == "Polygon"
    assert body["stdout"] == (f"{n} {bins} {len(patches)} <Rectangle>\n"
                              f"{n2} {bins2} {len(patches2)} {len(patches2[0])}\n"
                              f"{n3} {len(patches3)} <Polygon>\n"
                              f"{len(patches4)} {len(patches4[0])} <Polygon>\n")


def test_hist_takes_bins_second_and_grid_any_truth_value(sandbox: Sandbox) -> None:
    """karpathy's makemore: plt.hist(values, 50) and plt.grid('minor'), as matplotlib reads
    them (bins is hist's second parameter; a truthy first argument turns the grid on)."""
    body = _run(sandbox, """data = [1., 2., 2., 3., 3., 3., 7.]
n, bins, patches = plt.hist(data, 4)
plt.grid('minor')
print(n, bins, len(patches))
""")
    ax = Figure().add_subplot(1, 1, 1)
    n, bins, patches = ax.hist(np.asarray([1, 2, 2, 3, 3, 3, 7], dtype=np.float64), 4)
    ax.grid("minor")
    assert body["stdout"] == f"{n} {bins} {len(patches)}\n"


def test_a_figure_past_the_pixel_limit_is_drawn_at_a_lower_dpi(sandbox: Sandbox) -> None:
    """karpathy's figsize=(16, 16) at 100 dpi: the largest dpi within max_figure_pixels."""
    outcome = sandbox.run(PLT + "plt.figure(figsize=(16, 16))\n"
                          "plt.imshow(torch.arange(9.).reshape(3, 3), cmap='Blues')\n"
                          "plt.axis('off')")
    body = outcome.body
    assert body["ok"], body.get("error")
    limit = sandbox.settings.max_figure_pixels
    dpi = int((limit / (16 * 16)) ** 0.5)
    assert (16 * dpi) ** 2 <= limit < (16 * (dpi + 1)) ** 2
    figure = Figure(figsize=(16, 16), dpi=dpi)
    ax = figure.add_subplot(1, 1, 1)
    ax.imshow(np.arange(9.0, dtype=np.float32).reshape(3, 3), cmap="Blues")
    ax.axis("off")
    assert _svgs(body) == [_reference(figure)]
    assert any(f"drawn at {dpi} dpi" in notice for notice in body["notices"])


def test_matplotlib_import_forms_and_use(sandbox: Sandbox) -> None:
    for code in ("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                 "plt.plot([1, 2])",
                 "import matplotlib as mpl\nmpl.pyplot.plot([1, 2])",
                 "import matplotlib\nmatplotlib.pyplot.plot([1, 2])"):
        outcome = sandbox.run(code)
        assert outcome.body["ok"], outcome.body.get("error")
        assert len(outcome.body["figures"]) == 1


def test_contour_names_the_grid_whose_shape_does_not_match_z(sandbox: Sandbox) -> None:
    for axis, x, y in (("X", "torch.zeros(5)", "torch.zeros(3)"),
                       ("Y", "torch.zeros(4)", "torch.zeros(5)")):
        body = sandbox.run(PLT + f"import torch\nplt.contour({x}, {y}, torch.zeros(3, 4))").body
        error = body["error"]
        assert (error["type"], error["message"]) == (
            "TypeError", f"plt.contour: {axis} has shape (5,); it must match Z (3, 4) (or be 1-D "
            "along it)")


def test_contour_grids_count_toward_the_figure_points(sandbox: Sandbox) -> None:
    # 90,000 points plotted, then three 100 x 100 grids (30,000 values): past 100,000.
    body = sandbox.run(PLT + "import torch\nplt.plot(torch.zeros(90_000))\n"
                       "g = torch.zeros(100, 100)\nplt.contour(g, g, g)").body
    error = body["error"]
    assert (error["type"], error["message"]) == (
        "LimitError", "plt.contour: 120,000 data points would pass the figure's limit "
        "(setting max_figure_points)")


@pytest.mark.parametrize(("call", "message"), [
    ("plt.plot([1, 'a'])", "plt.plot: a list to plot holds numbers only, not str"),
    ("plt.subplots(1, 0)", "ncols is a whole number of 1 or more"),
    ("plt.subplots(0, 1)", "nrows is a whole number of 1 or more"),
    ("plt.contour(torch.zeros(3, 3), colors=5)", "plt.contour(colors=): a colour is a name "
     "('red', 'C1', '#1f77b4') or an (r, g, b) tuple"),
])
def test_refused_plot_arguments_name_the_call(sandbox: Sandbox, call: str, message: str) -> None:
    error = sandbox.run(PLT + "import torch\n" + call).body["error"]
    assert (error["type"], error["message"], error["line"]) == ("TypeError", message, 3)
