"""The citizen key: HMAC-SHA256(pepper, normalised national ID), in hex.

The key is what every per-citizen table stores instead of the ID. Without the
pepper (a secret outside the database) nobody can turn a key back into an ID
by trying all 10^12 possible numbers, which a plain hash would allow.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from dcatalog.config import Settings
from dcatalog.identity.national_id import normalise

_FINGERPRINT_LABEL = b"dcatalog:pepper-fingerprint:v1"


class PepperUnavailable(RuntimeError):
    """No pepper is configured where one must be given explicitly."""


class CitizenKeyer:
    def __init__(self, pepper: bytes) -> None:
        if len(pepper) < 32:
            raise ValueError("the pepper must be at least 32 bytes")
        self._pepper = pepper

    def key(self, national_id: str) -> str:
        """Validate the ID and return its citizen key (64 hex characters)."""
        digits = normalise(national_id).encode("ascii")
        return hmac.new(self._pepper, digits, hashlib.sha256).hexdigest()

    @property
    def fingerprint(self) -> str:
        """Identifies the pepper without revealing it, so a process with the wrong
        pepper can be stopped before it writes keys that match nobody."""
        return hmac.new(self._pepper, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:32]

    def __repr__(self) -> str:  # never show the pepper, even in a traceback
        return f"CitizenKeyer(fingerprint={self.fingerprint[:8]}…)"


def load_pepper(settings: Settings) -> bytes:
    """The configured pepper; on the embedded SQLite default, one generated once."""
    if settings.pepper is not None:
        return settings.pepper.get_secret_value().encode("utf-8")
    path = settings.instance_dir / "pepper"
    if path.exists():
        return _read_pepper_file(path)
    if not settings.is_sqlite:
        raise PepperUnavailable(
            "DCATALOG_PEPPER must be set when the database is not the embedded SQLite: "
            "every app process must use the same pepper. Generate one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` and keep it safe."
        )
    return _create_pepper_file(path)


def _read_pepper_file(path: Path) -> bytes:
    return base64.urlsafe_b64decode(path.read_text(encoding="ascii").strip())


def _create_pepper_file(path: Path) -> bytes:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pepper = secrets.token_bytes(32)
    # Write a private temporary file, then link it into place: linking fails if
    # another process got there first, and nobody ever reads a half-written file.
    tmp = path.with_name(f".pepper.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(base64.urlsafe_b64encode(pepper).decode("ascii") + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _read_pepper_file(path)
    finally:
        tmp.unlink()
    return pepper
