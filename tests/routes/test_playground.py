"""Running programs from the browser's forms: fragments for htmx, whole pages without JS,
errors as 200 results, exports."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from app.playground import permalink
from app.playground.presets import example


@pytest.fixture(autouse=True)
def _no_language_cookie(client: TestClient) -> Iterator[None]:
    """The session's client keeps cookies; a language chosen in one test must not leak."""
    client.cookies.clear()
    yield
    client.cookies.clear()


HTMX = {"HX-Request": "true"}


def run(client: TestClient, code: str, **fields: str):
    return client.post("/run", data={"code": code, "seed": "0", "device": "auto", **fields},
                       headers=HTMX)


def classes(html: str, name: str) -> int:
    return len(re.findall(rf'class="[^"]*\b{re.escape(name)}\b[^"]*"', html))


def test_run_returns_the_results_fragment_and_pushes_a_permalink(client: TestClient) -> None:
    response = run(client, example("matmul").code)
    assert response.status_code == 200
    html = response.text
    assert "<html" not in html and 'id="code"' not in html  # only the results block
    assert "Ran in" in html
    cells = re.findall(r'<td class="hm-[a-z0-9-]+">([^<]*)</td>', html)
    assert cells[:4] == ["14", "32", "32", "77"]
    assert "tensor([[14, 32],\n        [32, 77]])" in html  # the repr as torch prints it
    pushed = response.headers["hx-push-url"]
    token = parse_qs(urlsplit(pushed).query)["p"][0]
    assert permalink.decode(token).code == example("matmul").code


def test_without_javascript_the_post_returns_the_whole_page(client: TestClient) -> None:
    html = client.post("/run", data={"code": "torch.ones(2)", "seed": "0"}).text
    assert html.startswith("<!doctype html>")
    assert 'id="run-form"' in html and "Ran in" in html
    assert re.search(r'<input type="hidden" name="next" value="/\?p=[\w-]+"', html)


def test_storage_panel_shows_add_inplace_sharing(client: TestClient) -> None:
    html = run(client, example("add-inplace").code).text
    shared = re.search(r'<section class="storage-group sg-\d is-shared".*?</section>', html, re.S)
    assert shared is not None
    assert "shared by 3 variables" in shared.group(0)
    assert "v0 → v1" in shared.group(0)
    assert classes(html, "badge-own") == 1  # b = a.add(1) is a copy


def test_autograd_panel_draws_leaf_gradients(client: TestClient) -> None:
    html = run(client, example("backward").code).text
    svg = re.search(r"<svg class=\"autograd\".*?</svg>", html, re.S).group(0)
    assert "grad [0.5, -1.0, 2.0]" in svg and "MulBackward0" in svg
    assert classes(svg, "node-leaf") == 2


def test_detach_and_no_grad_are_cut_edges(client: TestClient) -> None:
    html = run(client, example("detach").code).text
    svg = re.search(r"<svg class=\"autograd\".*?</svg>", html, re.S).group(0)
    assert classes(svg, "edge-cut") == 2 and classes(svg, "node-cut") == 2
    assert "detach()" in svg and "no_grad" in svg
    assert "Dashed edges are cut" in html


def test_a_runtime_error_is_a_200_card_with_the_hint(client: TestClient) -> None:
    response = run(client, example("shape-error").code)
    assert response.status_code == 200
    html = response.text
    assert 'data-error-type="RuntimeError"' in html
    assert re.search(r'<div class="hint">.*<p>\s*\S', html, re.S)
    assert "torch.mm(a, b)" in html  # the failing line is quoted


def test_a_refused_program_explains_the_refusal(client: TestClient) -> None:
    html = run(client, "import subprocess\nsubprocess.run(['ls'])").text
    assert "Refused before running: ForbiddenError" in html and "Nothing ran" in html
    assert classes(html, "refused") == 1
    assert 'id="trace-panel"' not in html  # nothing ran, so there is no trace to show


def test_invalid_settings_are_an_error_card(client: TestClient) -> None:
    response = run(client, "1", seed="-5")
    assert response.status_code == 200
    assert 'data-error-type="ValueError"' in response.text
    assert "seed" in response.text


def test_exports_of_a_permalink(client: TestClient) -> None:
    token = permalink.encode(permalink.Share(code=example("backward").code, seed=5))
    py = client.get(f"/export/python?p={token}")
    assert py.headers["content-disposition"] == 'attachment; filename="playground.py"'
    tree = ast.parse(py.text)
    assert isinstance(tree.body[-1], ast.Expr) and "print(x.grad)" in py.text
    assert "torch.manual_seed(5)" in py.text
    nb = client.get(f"/export/notebook?p={token}")
    assert nb.headers["content-type"].startswith("application/x-ipynb+json")
    notebook = json.loads(nb.content)
    assert notebook["nbformat"] == 4
    assert "".join(notebook["cells"][-1]["source"]) == example("backward").code.rstrip("\n")
    assert client.get("/export/python?p=broken").status_code == 400


def test_compare_preset_page_loads_without_running(client: TestClient) -> None:
    html = client.get("/compare?preset=view-reshape").text
    assert 't.view(6)' in html and 't.reshape(6)' in html
    assert "view needs compatible strides" in html
    assert 'data-topic=' not in html


def test_compare_run_spells_out_the_differences(client: TestClient) -> None:
    html = client.post("/compare/run", headers=HTMX, data={
        "inputs": "a = torch.ones(3)\nb = torch.arange(3.0)\n", "left": "a.add(b)\n",
        "right": "a.add_(b)\n", "seed": "0", "device": "auto"}).text
    rows = dict(re.findall(r'data-topic="(\w+)"(?: data-subject="a")?>(.*?)</tr>', html, re.S))
    assert "equal" in rows["values"]
    assert "no: new memory" in rows["storage"] and ">a<" in rows["storage"]
    assert "v0" in rows["input"] and "v1" in rows["input"]
    assert rows["time"].count(" ms ± ") == 2


def test_inference_mode_results_render(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/run", data={"code": "with torch.inference_mode():\n"
                                                 "    y = torch.ones(2) * 2\ny"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "tensor([2., 2.])" in response.text
