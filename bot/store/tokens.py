"""Bearer secrets (conversation tokens, agent sessions): made at random, stored only as their SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token(nbytes: int = 32) -> str:
    """A fresh URL-safe secret of ``nbytes`` random bytes."""
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """What the database keeps of a token: a long random secret needs no salt or slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(stored_hash: str, token: str) -> bool:
    """Whether ``token`` is the one whose hash was stored, in constant time."""
    return hmac.compare_digest(stored_hash, hash_token(token))
