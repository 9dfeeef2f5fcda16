"""Signed, expiring tokens for the classroom's cookies, and the key that signs them.

A token is ``payload.expires.signature`` with an HMAC-SHA256 signature over the first two
parts, so a client can read its cookie but cannot forge or extend one."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from pathlib import Path

from app.config import Settings

_KEY_FILE = "secret_key"
_keys: dict[str, bytes] = {}


def secret_key(settings: Settings) -> bytes:
    """settings.secret_key, or a random key made once and kept in data_dir (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.data_dir) / _KEY_FILE
    cached = _keys.get(str(path.resolve()))
    if cached is not None:
        return cached
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    key = path.read_text().strip().encode()
    _keys[str(path.resolve())] = key
    return key


def _signature(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, payload: str, max_age_s: int, now: float | None = None) -> str:
    """A token carrying ``payload`` (no dots in it) until ``max_age_s`` from now."""
    if "." in payload:
        raise ValueError("a signed payload holds no dots")
    expires = int((time.time() if now is None else now) + max_age_s)
    message = f"{payload}.{expires}"
    return f"{message}.{_signature(key, message)}"


def unsign(key: bytes, token: str | None, now: float | None = None) -> str | None:
    """The payload of a genuine, unexpired token; None for anything else."""
    if not token or token.count(".") != 2:
        return None
    payload, expires, signature = token.split(".")
    if not hmac.compare_digest(signature, _signature(key, f"{payload}.{expires}")):
        return None
    if not expires.isdigit() or int(expires) < (time.time() if now is None else now):
        return None
    return payload
