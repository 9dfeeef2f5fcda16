"""Errors for browsers are pages, errors for API clients stay JSON (app/errors.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_unknown_address_is_an_html_404_for_a_browser(client: TestClient) -> None:
    response = client.get("/no-such-page", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in response.text
    assert 'href="/"' in response.text and 'href="/docs"' in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_unknown_address_is_json_for_an_api_client(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={"accept": "application/json"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert client.get("/no-such-page").json() == {"detail": "Not Found"}  # curl's */*


def test_unreadable_query_is_an_html_422_naming_the_field(client: TestClient) -> None:
    response = client.get("/export/python", headers=BROWSER)  # p is required
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "<code>query.p</code>" in response.text
    api = client.get("/export/python")
    assert api.status_code == 422 and api.json()["detail"][0]["loc"] == ["query", "p"]


def test_error_page_speaks_the_chosen_language(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={**BROWSER, "accept-language": "ja"})
    assert response.status_code == 404
    assert '<html lang="ja">' in response.text


def test_htmx_request_keeps_the_json_error(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={**BROWSER, "hx-request": "true"})
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


def test_the_app_links_to_the_api_docs_and_back(client: TestClient) -> None:
    assert '<a href="/docs">' in client.get("/").text
    docs = client.get("/docs").text
    assert '<a href="/">' in docs and 'href="/static/favicon.svg"' in docs
    assert client.get("/static/favicon.svg").status_code == 200
