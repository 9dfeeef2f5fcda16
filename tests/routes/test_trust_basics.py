"""Small things that break trust (issue 12, section 7): every page type carries the favicon
and the link to the API docs, and the docs link back to the app."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_pages import elements, one

PAGES = ("/", "/compare", "/lessons", "/train")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_favicon_and_links_to_the_api_docs(client: TestClient,
                                                               path: str) -> None:
    html = client.get(path).text
    icon, _ = one(html, "link", rel="icon")
    assert icon["href"] == "/static/favicon.svg"
    assert one(html, "a", href="/docs")


def test_the_favicon_is_an_svg_and_the_docs_lead_back(client: TestClient) -> None:
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.lstrip().startswith("<svg")
    docs = client.get("/docs").text
    assert one(docs, "link", rel="icon")[0]["href"] == "/static/favicon.svg"
    assert elements(docs, "a", href="/")  # the header leads back to the app
