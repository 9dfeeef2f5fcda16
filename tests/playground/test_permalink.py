from __future__ import annotations

import base64
import json
import zlib

from app.playground.permalink import MAX_JSON_BYTES, Share, decode, encode


def test_round_trip_keeps_program_and_settings() -> None:
    share = Share(code="x = torch.ones(2)  # ✓ 日本語\nx * 2\n", seed=42, device="cpu")
    token = encode(share)
    assert decode(token) == share
    assert all(c.isalnum() or c in "-_" for c in token)  # URL-safe without escaping


def test_compare_share_round_trips() -> None:
    share = Share(mode="compare", inputs="a = torch.ones(3)\n", left="a.add(1)", right="a.add_(1)")
    assert decode(encode(share)) == share


def _token(data: object, raw: bytes | None = None) -> str:
    packed = zlib.compress(raw if raw is not None else json.dumps(data).encode())
    return base64.urlsafe_b64encode(packed).rstrip(b"=").decode()


def test_damaged_or_foreign_tokens_are_refused() -> None:
    good = {"v": 1, "mode": "scratch", "code": "1", "seed": 0, "device": "auto"}
    assert decode(_token(good)) is not None
    for bad in ({**good, "v": 2}, {**good, "mode": "train"}, {**good, "seed": -1},
                {**good, "seed": True}, {**good, "seed": 2**32}, {**good, "device": "tpu"},
                {**good, "code": ["list"]}, [1, 2]):
        assert decode(_token(bad)) is None, bad
    for junk in ("", "!!!", "abc", "A" * 70_000, encode(Share())[:-3]):
        assert decode(junk) is None


def test_a_deflate_bomb_stops_at_the_cap() -> None:
    bomb = b'{"v":1,"code":"' + b"a" * (MAX_JSON_BYTES * 10) + b'"}'
    token = _token(None, raw=bomb)
    assert len(token) < 10_000  # small on the wire ...
    assert decode(token) is None  # ... refused without inflating it all
