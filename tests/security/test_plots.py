"""matplotlib in programs: text cannot become markup, nothing is written, no setting changes,
nothing leaks into the next program, and the page shows figures under the unchanged CSP.

The refusals (rcParams, backends, huge figures, a million points, 10,000 figures, dunders) are
corpus cases (corpus.py, "plt-..."); here are the checks a status and a message cannot make.
"""

from __future__ import annotations

import base64
import html
import os
import re
import time
import xml.etree.ElementTree as ET
from typing import Any

import matplotlib
import pytest
from fastapi.testclient import TestClient

from app.engine.program import Sandbox
from app.inspect.svg import ATTRIBUTES, ELEMENTS, SVG_NS, XLINK_NS
from app.web import CSP
from tests.security.conftest import Canary

PLT = "import matplotlib.pyplot as plt\n"
SCRIPT = "<script>alert(1)</script>"
BREAKOUT = "\" onload=\"alert(1)\" x=\""


def _svg(figure: dict[str, Any]) -> bytes:
    prefix = "data:image/svg+xml;base64,"
    assert figure["src"].startswith(prefix)
    return base64.b64decode(figure["src"][len(prefix):], validate=True)


def _only_allowlisted(svg: bytes) -> None:
    for element in ET.fromstring(svg).iter():
        assert element.tag.startswith(f"{{{SVG_NS}}}"), element.tag
        assert element.tag.split("}")[1] in ELEMENTS, element.tag
        for key in element.attrib:
            assert key in ATTRIBUTES or key == f"{{{XLINK_NS}}}href", key


def test_markup_in_titles_labels_and_legends_stays_text(sandbox: Sandbox) -> None:
    body = sandbox.run(PLT + f"""plt.plot([1, 2], label={SCRIPT!r})
plt.scatter([1], [2], label={BREAKOUT!r})
plt.title({SCRIPT!r})
plt.xlabel({BREAKOUT!r})
plt.ylabel('</svg><svg onload=alert(1)>')
plt.legend()
plt.suptitle('<![CDATA[x]]><!-- -->')
""").body
    assert body["ok"], body.get("error")
    (figure,) = body["figures"]
    svg = _svg(figure)
    _only_allowlisted(svg)
    assert b"<script" not in svg and b"onload" not in svg and b"alert" not in svg
    assert b"CDATA" not in svg and b"<!--" not in svg
    assert SCRIPT in figure["alt"]  # plain text here; the page escapes it (test below)


def test_savefig_writes_no_file(sandbox: Sandbox, intact: Canary) -> None:
    targets = [f"{intact.directory}/plot.png", str(intact.path), f"{intact.directory}/x.svg"]
    code = PLT + "plt.plot([1, 2])\n" + "".join(
        f"plt.savefig({t!r})\nplt.gcf().savefig({t!r}, dpi=10, format='svg')\n"
        for t in targets)
    body = sandbox.run(code).body
    assert body["ok"], body.get("error")
    assert len(body["figures"]) == 1
    for target in targets[::2]:
        assert not os.path.exists(target)
    # the intact fixture checks the canary and that no file appeared in its directory or repo


def test_mathtext_is_off_so_a_short_bomb_is_plain_text(sandbox: Sandbox) -> None:
    bomb = "$" + "\\frac{" * 30 + "$"
    assert len(bomb) <= sandbox.settings.max_plot_text_chars
    started = time.perf_counter()
    body = sandbox.run(PLT + f"plt.plot([1, 2])\nplt.title({bomb!r})\nplt.xlabel("
                       f"{'$' + chr(92) + 'sqrt{' * 30 + '$'!r})").body
    assert body["ok"], body.get("error")
    assert time.perf_counter() - started < 5
    assert matplotlib.rcParams["text.parse_math"] is False
    assert matplotlib.rcParams["text.usetex"] is False


def test_programs_cannot_change_matplotlib_settings(sandbox: Sandbox) -> None:
    before = dict(matplotlib.rcParams)
    for code in ("plt.plot([1, 2], 'r--', linewidth=9, marker='o', markersize=20, alpha=0.1)",
                 "plt.grid(True, axis='y', linestyle=':', color='red')",
                 "fig, ax = plt.subplots(2, 2, figsize=(3, 3), dpi=50, sharex=True)\n"
                 "ax[0, 0].imshow(torch.rand(4, 4), cmap='gray', interpolation='nearest')",
                 "plt.hist(torch.randn(100), bins=5, histtype='step', range=(0, 1))"):
        assert sandbox.run(PLT + code).body["ok"]
    assert dict(matplotlib.rcParams) == before


def test_figures_do_not_leak_into_the_next_program(sandbox: Sandbox) -> None:
    assert len(sandbox.run(PLT + "plt.plot([1, 2])\nplt.title('first')").body["figures"]) == 1
    after = sandbox.run(PLT + "plt.title('second')\nplt.xlim()").body
    assert [f["alt"] for f in after["figures"]] == ["Figure 1: second"]
    assert sandbox.run("x = 1").body["figures"] == []


def test_a_failing_program_returns_no_figures(sandbox: Sandbox) -> None:
    body = sandbox.run(PLT + "plt.plot([1, 2])\n1 / 0").body
    assert body["ok"] is False and "figures" not in body


@pytest.mark.parametrize("kind", ["plot", "scatter", "bar", "hist"])
def test_plotting_a_program_object_never_calls_its_methods(sandbox: Sandbox, kind: str) -> None:
    """A class of the program may not define __array__/__len__-like dunders matplotlib would
    call (the parser refuses them); an instance of any other class is refused as data."""
    code = PLT + ("class Data:\n    def values(self):\n        print('called')\n"
                  "        return [1, 2]\n"
                  f"plt.{kind}(Data()" + (", [1]" if kind in ("scatter", "bar") else "") + ")")
    body = sandbox.run(code).body
    assert body["ok"] is False and body["error"]["type"] == "TypeError"
    assert body["stdout"] == ""


def test_plots_draw_in_a_locked_down_worker(client: TestClient) -> None:
    """The fonts and the SVG renderer are loaded before the worker is locked down: a plot with
    text and an image renders in a real worker of the pool."""
    response = client.post("/eval", json={"code": PLT + "fig, ax = plt.subplots(1, 2)\n"
                                          "ax[0].plot(torch.arange(5.) ** 2, label='sq')\n"
                                          "ax[0].legend()\nax[1].imshow(torch.rand(3, 3))\n"
                                          "fig.suptitle('Workers draw too')"})
    assert response.status_code == 200
    body = response.json()
    assert body["ok"], body.get("error")
    assert body["notices"] == []
    (figure,) = body["figures"]
    assert figure["alt"] == "Figure 1: Workers draw too"
    _only_allowlisted(_svg(figure))


def test_the_scratchpad_shows_an_img_under_the_same_csp(client: TestClient) -> None:
    response = client.post("/run", data={"code": PLT + f"plt.plot([1, 3, 2])\n"
                                         f"plt.title({SCRIPT!r})", "seed": "0"})
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    assert "img-src 'self' data:" in CSP
    page = response.text
    images = re.findall(r'<img src="(data:image/svg\+xml;base64,[A-Za-z0-9+/=]+)" alt="([^"]*)"',
                        page)
    assert len(images) == 1
    assert html.unescape(images[0][1]) == f"Figure 1: {SCRIPT}"
    assert SCRIPT not in page  # only its escaped form
    assert "<svg" not in page.split('id="results"')[1]  # never inlined into the page
    assert 'href="#figures-panel"' in page


def test_a_lesson_example_that_plots_shows_its_figure(client: TestClient) -> None:
    from app.lessons.loader import catalog
    from app.lessons.models import ExampleSection

    lesson = catalog().get("optimizers")
    assert lesson is not None
    index = next(i for i, s in enumerate(lesson.sections)
                 if isinstance(s, ExampleSection) and "plt.plot" in s.code)
    response = client.post(f"/lessons/optimizers/run/{index}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    alts = re.findall(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+" '
                      r'alt="([^"]*)"', response.text)
    assert alts == ["Figure 1: Learning rate per epoch, x: epoch, y: lr"]


def test_the_new_plot_functions_and_modules_work_in_a_locked_down_worker(
        client: TestClient) -> None:
    """contour needs matplotlib's contour extension, pprint and typing their namespaces:
    all present before the worker is locked down (no import from disk after it)."""
    code = ("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
            "import numpy as np\nfrom pprint import pprint\nfrom typing import List\n"
            "from timeit import default_timer as timer\n"
            "from torch.distributions.multinomial import Multinomial\n"
            "x, y = torch.meshgrid(torch.arange(-2, 2, 0.5), torch.arange(-2, 2, 0.5), "
            "indexing='ij')\nplt.contour(x, y, x ** 2 + y ** 2)\nplt.contourf(x ** 2)\n"
            "plt.axhline(0.5)\nplt.text(0, 0, 'o')\nplt.xticks([0, 1], ['a', 'b'])\n"
            "n, bins, p = plt.hist([1, 2, 2])\nplt.legend(prop={'size': 8})\n"
            "plt.figure(figsize=(16, 16))\nplt.plot([1, 2])\n"
            "pprint({'b': [1] * 30, 'a': str(List[int])})\n"
            "print(np.finfo(np.float32).eps.item(), timer() > 0, "
            "Multinomial(4, torch.tensor([0.5, 0.5])).sample().sum().item())")
    response = client.post("/eval", json={"code": code})
    assert response.status_code == 200
    body = response.json()
    assert body["ok"], body.get("error")
    assert len(body["figures"]) == 2
    for figure in body["figures"]:
        _only_allowlisted(_svg(figure))
    assert body["stdout"].endswith("1.1920928955078125e-07 True 4.0\n")
