"""The citizen key: HMAC-SHA256(pepper, normalised national ID), in hex.

The key is what every per-citizen table stores instead of the ID. Without the
pepper (a secret outside the database) nobody can turn a key back into an ID
by trying all 10^12 possible numbers, which a plain hash would allow.
"""

from __future__ import annotations

import hashlib
import hmac

from dcatalog.config import Settings
from dcatalog.identity.national_id import normalise
from dcatalog.instance import instance_secret

_FINGERPRINT_LABEL = b"dcatalog:pepper-fingerprint:v1"


class CitizenKeyer:
    def __init__(self, pepper: bytes) -> None:
        if len(pepper) < 32:
            raise ValueError("the pepper must be at least 32 bytes")
        self._pepper = pepper

    def key(self, national_id: str) -> str:
        """Validate the ID and return its citizen key (64 hex characters)."""
        return self.key_of_digits(normalise(national_id))

    def key_of_digits(self, digits: str) -> str:
        """The key of an ID already normalised (13 ASCII digits) by ``normalise``."""
        return hmac.new(self._pepper, digits.encode("ascii"), hashlib.sha256).hexdigest()

    def derived_key(self, purpose: bytes) -> bytes:
        """A 32-byte key for ``purpose`` (e.g. sealing stored rows), derived from the
        pepper: every process that shares the pepper has it, and it reveals nothing
        of the pepper or of any citizen key."""
        return hmac.new(self._pepper, b"dcatalog derived key: " + purpose, hashlib.sha256).digest()

    @property
    def fingerprint(self) -> str:
        """Identifies the pepper without revealing it, so a process with the wrong
        pepper can be stopped before it writes keys that match nobody."""
        return hmac.new(self._pepper, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:32]

    def __repr__(self) -> str:  # never show the pepper, even in a traceback
        return f"CitizenKeyer(fingerprint={self.fingerprint[:8]}…)"


def load_pepper(settings: Settings) -> bytes:
    """The configured pepper; on the embedded SQLite default, one generated once."""
    return instance_secret(settings, "pepper", settings.pepper)
