"""Responses are gzip-compressed when the client accepts gzip and they are long enough (setting
compress_min_bytes), JSON and HTML alike, and sent as they are otherwise; and the largest
benchmark program's /eval answer stays small (values shared once, shortest float text)."""

from __future__ import annotations

import gzip
import json
from typing import Any

from fastapi.testclient import TestClient

from app.config import Settings
from bench.eval_latency import AUTOGRAD64, TINY

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


def _raw(client: TestClient, method: str, url: str, headers: dict[str, str],
         **extra: Any) -> tuple[dict[str, str], bytes]:
    """Headers and the body bytes as they came over the wire (not decoded by the client)."""
    with client.stream(method, url, headers=headers, **extra) as response:
        assert response.status_code < 500
        return dict(response.headers), b"".join(response.iter_raw())


def _without_timing(body: bytes) -> dict[str, Any]:
    data = json.loads(body)
    data.pop("elapsed_ms", None)
    return data


def test_eval_is_compressed_only_when_the_client_accepts_gzip(client: TestClient,
                                                               settings: Settings) -> None:
    request = {"json": {"code": AUTOGRAD64, "seed": 0}}
    plain_headers, plain = _raw(client, "POST", "/eval", IDENTITY, **request)
    zipped_headers, zipped = _raw(client, "POST", "/eval", GZIP, **request)
    assert "content-encoding" not in plain_headers
    assert zipped_headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped_headers["vary"].lower()
    assert len(plain) > settings.compress_min_bytes
    assert len(zipped) < len(plain) * 0.7
    assert _without_timing(gzip.decompress(zipped)) == _without_timing(plain)


def test_a_short_answer_is_sent_as_it_is(client: TestClient, settings: Settings) -> None:
    headers, body = _raw(client, "POST", "/eval", GZIP, json={"code": "1 + 1"})
    assert len(body) < settings.compress_min_bytes
    assert "content-encoding" not in headers
    assert json.loads(body)["result"]["value"] == 2


def test_html_pages_are_compressed_too(client: TestClient) -> None:
    headers, body = _raw(client, "GET", "/", GZIP)
    assert headers["content-encoding"] == "gzip"
    assert headers["content-type"].startswith("text/html")
    assert b"<html" in gzip.decompress(body)
    headers, body = _raw(client, "GET", "/", IDENTITY)
    assert "content-encoding" not in headers and b"<html" in body


def test_the_autograd64_answer_is_at_most_100_kb_before_compression(client: TestClient) -> None:
    _, body = _raw(client, "POST", "/eval", IDENTITY, json={"code": AUTOGRAD64, "seed": 0})
    assert json.loads(body)["ok"] is True
    assert len(body) <= 100_000, len(body)


def test_the_tiny_answer_is_not_larger_than_before(client: TestClient) -> None:
    _, body = _raw(client, "POST", "/eval", IDENTITY, json={"code": TINY, "seed": 0})
    # 2,863 bytes before the shared values and shortest floats; the step-through trace's
    # frames (docs/API.md, "trace") added about 1.5 kB for the stepper to show, and the mm's
    # provenance (its inputs' values, for the sums written out) about 0.4 kB.
    assert len(body) <= 4_800
