"""The HTML error pages (app/errors.py) and the broken-link notice: a crafted address or
body cannot put markup into them (what they show is escaped), and they carry the strict CSP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

BROWSER = {"accept": "text/html"}
PAYLOAD = "<script>alert(1)</script>"


@pytest.mark.parametrize("path", [
    "/%3Cscript%3Ealert(1)%3C/script%3E",
    "/lessons/x/%3Cscript%3Ealert(1)%3C/script%3E/y",
    "/static/%3Cscript%3E.js",
])
def test_a_404_page_does_not_echo_the_address(client: TestClient, path: str) -> None:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 404
    # only the language form's return address holds it, escaped
    assert "<script>alert" not in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_a_422_page_escapes_what_it_names(client: TestClient) -> None:
    # a JSON body of the wrong shape, with markup in its keys and values
    response = client.post("/eval", headers={**BROWSER, "content-type": "application/json"},
                           content='{"code": {"' + PAYLOAD + '": "' + PAYLOAD + '"}}')
    assert response.status_code == 422
    assert PAYLOAD not in response.text


def test_a_broken_permalink_is_not_echoed(client: TestClient) -> None:
    response = client.get("/", params={"p": PAYLOAD}, headers=BROWSER)
    assert response.status_code == 200 and "broken-link" in response.text
    assert PAYLOAD not in response.text
