"""The per-client token bucket behind 429."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.ratelimit import RateLimitedError, RateLimiter


def test_bucket_refuses_past_the_rate_and_refills() -> None:
    limiter = RateLimiter(per_minute=2)
    limiter.take("a", now=0.0)
    limiter.take("a", now=0.0)
    with pytest.raises(RateLimitedError) as refused:
        limiter.take("a", now=0.0)
    assert refused.value.retry_after_s >= 1
    limiter.take("b", now=0.0)  # other clients have their own bucket
    limiter.take("a", now=30.0)  # one token back after half a minute


@pytest.mark.parametrize("used_before_idling", [1, 2])
def test_a_long_idle_refills_the_bucket_only_up_to_the_rate(used_before_idling: int) -> None:
    """Ten idle minutes at 2 per minute would be 20 tokens uncapped; the bucket holds at most
    per_minute, so exactly 2 requests pass and the 3rd is refused. The clock is the ``now``
    argument, so the test is exact and instant."""
    limiter = RateLimiter(per_minute=2)
    for _ in range(used_before_idling):
        limiter.take("a", now=0.0)
    later = 10 * 60.0
    limiter.take("a", now=later)
    limiter.take("a", now=later)
    with pytest.raises(RateLimitedError) as refused:
        limiter.take("a", now=later)
    # At 2 per minute the next token is 30 s away (rounded up to whole seconds, at most one
    # more).
    assert 30 <= refused.value.retry_after_s <= 31


def test_zero_disables_the_limit() -> None:
    limiter = RateLimiter(per_minute=0)
    for _ in range(1000):
        limiter.take("a")


def test_http_429_with_retry_after(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import ratelimit

    strict = RateLimiter(per_minute=1)
    monkeypatch.setattr(ratelimit, "_limiters", {0: strict})
    assert client.post("/eval", json={"code": "1"}).status_code == 200
    response = client.post("/eval", json={"code": "1"})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"]["type"] == "RateLimitError"
