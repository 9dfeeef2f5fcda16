"""The HTML pages over HTTP: chosen elements, headers, language, no-JS forms, CSP hygiene."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

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


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Collector(HTMLParser):
    """Every element as (tag, attrs, text inside it), in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None], list[str]]] = []
        self.open: list[tuple[str, dict[str, str | None], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = (tag, dict(attrs), [])
        self.elements.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        for _, _, text in self.open:
            text.append(data)


def elements(html: str, tag: str | None = None, **attrs: str) -> list[tuple[dict, str]]:
    """(attributes, text) of the elements matching ``tag`` and exact attribute values;
    ``class_`` matches one class among several."""
    collector = _Collector()
    collector.feed(html)
    found = []
    for name, element_attrs, text in collector.elements:
        if tag and name != tag:
            continue
        wanted_class = attrs.get("class_")
        if wanted_class and wanted_class not in (element_attrs.get("class") or "").split():
            continue
        if any(element_attrs.get(k) != v for k, v in attrs.items() if k != "class_"):
            continue
        found.append((element_attrs, "".join(text)))
    return found


def one(html: str, tag: str | None = None, **attrs: str) -> tuple[dict, str]:
    found = elements(html, tag, **attrs)
    assert len(found) == 1, f"{len(found)} matches for {tag} {attrs}"
    return found[0]


def test_home_page_is_a_form_that_works_without_javascript(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    form, _ = one(html, "form", id="run-form")
    assert (form["method"], form["action"], form["hx-post"]) == ("post", "/run", "/run")
    _, code = one(html, "textarea", id="code", name="code")
    assert code == example("matmul").code  # the first example is loaded, not run
    assert not elements(html, class_="run-summary")
    assert one(html, "label", **{"for": "code"})  # every control is labelled
    assert one(html, "label", **{"for": "seed"}) and one(html, "label", **{"for": "device"})


def test_security_headers_and_htmx_config(client: TestClient) -> None:
    response = client.get("/")
    csp = response.headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
                      "img-src 'self' data:", "object-src 'none'", "base-uri 'none'",
                      "frame-ancestors 'none'"):
        assert directive in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "HX-Request" in response.headers["vary"]
    meta, _ = one(response.text, "meta", name="htmx-config")
    assert '"allowEval":false' in meta["content"]
    assert '"includeIndicatorStyles":false' in meta["content"]
    scripts = [a["src"] for a, _ in elements(response.text, "script")]
    assert scripts == ["/static/vendor/htmx-2.0.11.min.js", "/static/app.js",
                       "/static/stepper.js", "/static/provenance.js",
                       "/static/vendor/codemirror/codemirror.min.js", "/static/editor.js"]


@pytest.mark.parametrize("path", ["/", "/compare", "/?example=backward",
                                  "/compare?preset=add-inplace"])
def test_no_inline_script_style_or_handlers(client: TestClient, path: str) -> None:
    html = client.get(path).text
    collector = _Collector()
    collector.feed(html)
    for tag, attrs, text in collector.elements:
        assert tag != "style", "a <style> element would be refused by the CSP"
        assert "style" not in attrs, f"<{tag} style=...> would be refused by the CSP"
        assert not [a for a in attrs if a.startswith("on")], f"inline handler on <{tag}>"
        assert not [a for a in attrs if a.startswith(("hx-on", "data-hx-on"))]
        if tag == "script":
            assert attrs.get("src") and not "".join(text).strip()
        for name in ("href", "src", "action"):
            assert not (attrs.get(name) or "").startswith(("http:", "https:", "//")), \
                "everything is served from this site: no CDN"


def test_htmx_gets_the_named_block_and_history_restore_the_page(client: TestClient) -> None:
    fragment = client.get("/?example=views", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "<header" not in fragment.text
    _, code = one(fragment.text, "textarea", id="code")
    assert code == example("views").code
    assert one(fragment.text, "section", id="results")  # the workspace holds the results
    restore = client.get("/?example=views", headers={"HX-Request": "true",
                                                     "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text


def test_language_from_accept_language_then_from_the_switch(client: TestClient) -> None:
    ja = client.get("/", headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"})
    assert one(ja.text, "html")[0]["lang"] == "ja"
    assert one(ja.text, "button", class_="run-button")[1].strip() == "実行"
    switched = client.post("/lang", data={"lang": "en", "next": "/compare?preset=mm-mul"},
                           headers={"Accept-Language": "ja"}, follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/compare?preset=mm-mul"
    assert "lang=en" in switched.headers["set-cookie"]
    page = client.get("/compare", headers={"Accept-Language": "ja"}, cookies={"lang": "en"})
    assert one(page.text, "html")[0]["lang"] == "en"  # the choice beats the header
    pressed = [a["value"] for a, _ in elements(page.text, "button", **{"aria-pressed": "true"})]
    assert pressed == ["en"]


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil", ""])
def test_language_switch_never_redirects_off_site(client: TestClient, target: str) -> None:
    response = client.post("/lang", data={"lang": "ja", "next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_permalink_runs_the_program(client: TestClient) -> None:
    token = permalink.encode(permalink.Share(code="torch.arange(4).reshape(2, 2)", seed=3))
    html = client.get(f"/?p={token}").text
    assert one(html, "textarea", id="code")[1] == "torch.arange(4).reshape(2, 2)"
    assert one(html, "input", id="seed")[0]["value"] == "3"
    cells = [t for _, t in elements(html, "td") if t.strip()]
    assert cells[:4] == ["0", "1", "2", "3"]
    assert client.get("/?p=garbage").status_code == 200  # a damaged link is just the editor


def test_user_text_is_escaped_everywhere(client: TestClient) -> None:
    evil = 'x = "</textarea><script>alert(1)</script>"\n<img src=x onerror=alert(1)>'
    html = client.post("/run", data={"code": evil, "seed": "0"}).text
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert one(html, "textarea", id="code")[1] == evil  # shown as typed, not interpreted


def test_static_files_and_vendored_licence(client: TestClient) -> None:
    assert client.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200
    assert "Zero-Clause BSD" in client.get("/static/vendor/htmx-LICENSE").text
    assert "addEventListener" in client.get("/static/app.js").text
    css = client.get("/static/app.css").text
    assert "@import" not in css and "url(http" not in css and "@font-face" not in css


@pytest.mark.parametrize("path", ["/", "/compare"])
def test_a_cut_short_permalink_says_so(client: TestClient, path: str) -> None:
    share = permalink.Share(code="x = torch.arange(6)\nx.view(2, 3)") if path == "/" else \
        permalink.Share(mode="compare", left="torch.ones(2)", right="torch.zeros(2)")
    token = permalink.encode(share)
    whole = client.get(path, params={"p": token})
    assert whole.status_code == 200 and "broken-link" not in whole.text
    cut = client.get(path, params={"p": token[: len(token) // 2]})
    assert cut.status_code == 200
    assert 'class="notice broken-link" role="alert"' in cut.text
    assert "cut short" in cut.text
    assert "broken-link" not in client.get(path).text  # no link, no notice


def test_compare_numbers_an_error_line_in_the_box_the_student_wrote(client: TestClient) -> None:
    inputs = "a = torch.ones(2)\nb = torch.ones(3)"
    response = client.post("/compare/run", data={
        "inputs": inputs, "left": "c = a + a\nc", "right": "c = a\nd = a + b\nd", "seed": "0"})
    assert response.status_code == 200
    page = response.text
    right = page[page.index('id="right-error-title"'):]
    assert "line 2</span>" in right  # line 4 of the joined program, line 2 of the right box
    assert '<span class="lineno" aria-hidden="true">2</span> d = a + b' in right
    assert 'class="fact fact-status differs" data-topic="status"' in page
    row = page[page.index('data-topic="status"'):]
    assert "≠ differs" in row[:row.index("</tr>")]  # one side failed: the 'Finished?' row
