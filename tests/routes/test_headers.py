"""Request headers cannot stall the server.

The Accept-Language parser runs on the event loop for every page; a regex that backtracked
quadratically once took ~10 s on a 30 kB header, during which no other request, static
files included, was answered. The parser is now linear and reads a bounded prefix, and
HeaderSizeLimitMiddleware refuses oversized headers with 431 before any route runs.

The server tests start the real app under uvicorn with httptools (as ``make run`` does) on a
free port of 127.0.0.1, without its lifespan: no sandbox workers are needed for pages,
static files and headers.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from app import i18n
from app.config import get_settings
from app.headers import HeaderSizeLimitMiddleware, header_bytes
from app.main import create_app

# Each of these made the old regex backtrack (nested whitespace runs), or is simply long.
PATHOLOGICAL = {
    "spaces": "en" + " " * 30_000 + "x",
    "spaces before q": "en" + " " * 30_000 + ";q=0.5x",
    "long q": "en;q=" + "1" * 30_000,
    "subtags": "a" + "-a" * 15_000,
    "commas": "," * 30_000,
    "semicolons": "ja" + ";" * 30_000,
    "ranges": "ja;q=0.5, " * 3_000,
}


# --- the parser --------------------------------------------------------------------------
@pytest.mark.parametrize("header", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_the_parser_takes_microseconds_on_pathological_headers(header: str) -> None:
    started = time.perf_counter()
    i18n.negotiate(header)
    assert time.perf_counter() - started < 0.005  # the regex took seconds


@pytest.mark.parametrize(("header", "locale"), [
    ("ja,en;q=0.8", "ja"),
    ("en-US,en;q=0.9,ja;q=0.8", "en"),
    ("ja-JP,ja;q=0.9,en-US;q=0.8", "ja"),
    ("fr-CH, fr;q=0.9, ja;q=0.5", "ja"),
    ("ja;q=0, en", "en"),  # q=0: "not this one"
    ("ja;q=0", "en"),
    ("en;q=0.1, ja;q=0.2", "ja"),
    ("ja ; q = 0.5 , en ; q = 0.4", "ja"),  # optional whitespace
    ("JA-jp", "ja"),  # tags are case-insensitive
    ("*", "en"),
    ("ja;level=1, en;q=0.5", "en"),  # not a weight: the range is skipped
    ("ja;q=abc, en;q=0.5", "en"),
    ("ja;q=1.2.3", "en"),
    ("ja;q=" + "0" * 30, "en"),  # a weight has at most 5 characters
    ("", "en"),
    (";;;,=", "en"),
    ("日本語, ja;q=0.1", "ja"),  # not a language tag
    ("a" * 9 + ", ja", "ja"),  # a subtag has at most 8 letters
    (None, "en"),
])
def test_the_parser_negotiates_normal_and_garbage_values(header: str | None,
                                                          locale: str) -> None:
    assert i18n.negotiate(header) == locale


def test_only_a_bounded_prefix_is_read() -> None:
    filler = "de;q=0.9, " * 60  # 600 characters of ranges before the one that matters
    assert i18n.negotiate(filler + "ja") == "en"
    assert i18n.negotiate("ja, " + filler) == "ja"
    # Cut at a comma: "ja;q=0.1" cut in half would read as "ja" with weight 1.
    cut = "en;q=0.5, " + "x" * (i18n.MAX_ACCEPT_LANGUAGE_CHARS - 16) + ", ja;q=0.1"
    assert i18n.preferred_languages(cut) == ["en"]
    many = ", ".join(["de"] * (i18n.MAX_LANGUAGE_RANGES + 5) + ["ja"])
    assert "ja" not in i18n.preferred_languages(many)


# --- the middleware ----------------------------------------------------------------------
async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_the_limit_counts_header_lines_as_sent() -> None:
    scope = {"type": "http", "headers": [(b"a", b"bc"), (b"accept-language", b"ja")]}
    assert header_bytes(scope) == (1 + 2 + 4) + (15 + 2 + 4)  # "name: value\r\n"


def test_many_small_headers_add_up_to_a_431() -> None:
    client = TestClient(HeaderSizeLimitMiddleware(_ok, max_bytes=2_000))
    assert client.get("/", headers={f"x-{i}": "1" for i in range(10)}).status_code == 200
    refused = client.get("/", headers={f"x-{i}": "1" for i in range(300)})
    assert refused.status_code == 431


def test_the_app_answers_oversized_headers_with_431_naming_the_setting() -> None:
    limit = get_settings().max_header_bytes
    client = TestClient(create_app())  # no lifespan: no workers
    assert client.get("/static/app.css", headers={"x-pad": "a" * (limit - 1_000)}
                      ).status_code == 200
    refused = client.get("/static/app.css", headers={"accept-language": "a" * limit})
    assert refused.status_code == 431
    error = refused.json()["error"]
    assert "max_header_bytes" in error["message"] and "cookies" in error["hint"]
    assert "content-security-policy" in refused.headers  # the security headers still apply


def test_the_limit_fits_a_permalink_in_hx_current_url() -> None:
    # htmx sends the page's address with every request; a permalink's token may reach
    # 60,000 characters (app/playground/permalink.py).
    from app.playground.permalink import MAX_TOKEN_CHARS

    address = "http://localhost:8000/compare?p=" + "x" * MAX_TOKEN_CHARS
    assert len(address) + 4_000 < get_settings().max_header_bytes  # 4 kB: a browser's others


# --- a real server -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # a free port, held from here on: no race for it
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(), http="httptools", lifespan="off", log_level="warning",
                            access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    until = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < until and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _timed_get(client: httpx.Client, url: str, headers: dict[str, str] | None = None
               ) -> tuple[int, float]:
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    return response.status_code, time.perf_counter() - started


def test_a_huge_accept_language_is_answered_at_once(server_url: str) -> None:
    limit = get_settings().max_header_bytes
    with httpx.Client(base_url=server_url) as client:
        assert client.get("/lessons").status_code == 200  # connected and warm
        for size, status in ((60_000, 200), (64 * 1024, 431)):
            header = {"accept-language": "en" + " " * size + "x"}  # ~10 s for the old regex
            # The best of three: one slow try on a busy test machine is not the parser.
            timings = [_timed_get(client, "/lessons", header) for _ in range(3)]
            assert {code for code, _ in timings} == {status}, (size, limit)
            assert min(seconds for _, seconds in timings) < 0.050, (size, timings)


def test_other_requests_keep_flowing_during_hostile_ones(server_url: str) -> None:
    hostile = {"accept-language": "en" + " " * 60_000 + "x"}

    async def normal_latencies(client: httpx.AsyncClient, rounds: int) -> list[float]:
        seconds = []
        for _ in range(rounds):
            for url in ("/static/app.css", "/lessons"):
                started = time.perf_counter()
                assert (await client.get(url)).status_code == 200
                seconds.append(time.perf_counter() - started)
        return seconds

    async def attack(client: httpx.AsyncClient, stop: asyncio.Event) -> int:
        sent = 0
        while not stop.is_set():
            assert (await client.get("/lessons", headers=hostile)).status_code == 200
            sent += 1
        return sent

    async def scenario() -> tuple[list[float], list[float], int]:
        async with httpx.AsyncClient(base_url=server_url) as user, \
                httpx.AsyncClient(base_url=server_url) as attacker:
            await normal_latencies(user, 2)  # warm both paths
            alone = await normal_latencies(user, 10)
            stop = asyncio.Event()
            attacking = asyncio.create_task(attack(attacker, stop))
            await asyncio.sleep(0)
            under_attack = await normal_latencies(user, 10)
            stop.set()
            return alone, under_attack, await attacking

    alone, under_attack, hostile_sent = asyncio.run(scenario())
    assert hostile_sent >= 5, "the hostile requests did not run alongside"
    # The old parser stalled everything for seconds per hostile request; now the others
    # only share the CPU with the attacker.
    assert max(under_attack) < 0.5, under_attack
    assert statistics.median(under_attack) < 3 * statistics.median(alone) + 0.020, (
        alone, under_attack)
