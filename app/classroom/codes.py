"""Join codes and recovery codes: short, random, and free of characters a student mixes up
when copying from a projector (0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V)."""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "34679ACDEFGHJKMNPQRTWXY"
JOIN_CODE_LENGTH = 6  # 23^6 = 148 million codes; rate-limited guessing finds none in a term
RECOVERY_CODE_LENGTH = 12  # 23^12 > 2^54: safe to store as a fast hash


def random_code(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalise(code: str) -> str:
    """What a student typed, upper-cased without spaces or dashes ("ab3-k7q" -> "AB3K7Q")."""
    return "".join(c for c in code.upper() if c not in " -\t")[:32]


def pretty_recovery(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def recovery_hash(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()
