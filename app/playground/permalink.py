"""Permalinks: the whole program and its settings in one URL-safe token.

The token is versioned JSON, deflated and base64url-encoded, so a link stays short and
survives any chat client. Decoding never trusts the token: the inflated size is capped
(a deflate bomb stops at the cap) and the fields are validated; anything odd gives None,
which the page treats as "no permalink".
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from dataclasses import asdict, dataclass
from typing import Literal

VERSION = 1
MAX_TOKEN_CHARS = 60_000  # far above what max_source_chars of code compresses to
MAX_JSON_BYTES = 200_000  # inflated size cap: 3 programs of 20k chars, JSON-escaped
DEVICES = ("auto", "cpu", "cuda")

Mode = Literal["scratch", "compare"]


@dataclass(frozen=True)
class Share:
    """What a link restores. ``code`` is the scratchpad program; compare mode uses
    ``inputs`` + ``left`` / ``right`` instead."""

    mode: Mode = "scratch"
    code: str = ""
    inputs: str = ""
    left: str = ""
    right: str = ""
    seed: int = 0
    device: str = "auto"


def encode(share: Share) -> str:
    raw = json.dumps({"v": VERSION, **asdict(share)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).rstrip(b"=").decode("ascii")


def decode(token: str) -> Share | None:
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        packed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_JSON_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            return None  # larger than the cap, or cut short
        data = json.loads(raw)
    except (binascii.Error, ValueError, zlib.error, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("v") != VERSION:
        return None
    texts = ("code", "inputs", "left", "right")
    seed = data.get("seed", 0)
    if (data.get("mode") not in ("scratch", "compare")
            or any(not isinstance(data.get(k, ""), str) for k in texts)
            or not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32
            or data.get("device", "auto") not in DEVICES):
        return None
    return Share(mode=data["mode"], seed=seed, device=data.get("device", "auto"),
                 **{k: data.get(k, "") for k in texts})
