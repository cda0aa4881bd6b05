"""Bearer secrets (sign-in cookies, API keys): made at random, stored only as a
SHA-256 digest. A digest is enough, unlike for passwords: the secret has 256
bits of randomness, so there is nothing to guess."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
