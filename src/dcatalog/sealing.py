"""Sealed values: text only this instance can read back, and only for the use it
was sealed for (AES-GCM under a key derived per purpose, bound to a context such
as a job id). For what must be kept or handed out for a while without being
readable: an import's refused rows (they hold national IDs as uploaded), the
counter's "check again" form field."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


class Unreadable(ValueError):
    """Altered, sealed for another purpose or context, or by another instance."""


def _key(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"dcatalog sealing: {purpose}".encode(), hashlib.sha256).digest()


def seal(secret: bytes, purpose: str, plaintext: bytes, *, bound_to: bytes = b"") -> str:
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(_key(secret, purpose)).encrypt(nonce, plaintext, bound_to)
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")


def unseal(secret: bytes, purpose: str, value: str, *, bound_to: bytes = b"") -> bytes:
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        return AESGCM(_key(secret, purpose)).decrypt(data[:_NONCE], data[_NONCE:], bound_to)
    except (ValueError, InvalidTag) as exc:
        raise Unreadable(purpose) from exc


def seal_bytes(secret: bytes, purpose: str, plaintext: bytes, *, bound_to: bytes = b"") -> bytes:
    """``seal`` for binary data kept as bytes (a file's chunk): nonce and ciphertext."""
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(_key(secret, purpose)).encrypt(nonce, plaintext, bound_to)


def unseal_bytes(secret: bytes, purpose: str, data: bytes, *, bound_to: bytes = b"") -> bytes:
    try:
        return AESGCM(_key(secret, purpose)).decrypt(data[:_NONCE], data[_NONCE:], bound_to)
    except (ValueError, InvalidTag) as exc:
        raise Unreadable(purpose) from exc
