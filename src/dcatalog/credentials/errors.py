"""The one error type of the credentials domain.

Verification never raises for a bad credential: it returns a result that says
why (see ``data_integrity.VerificationResult``), because a tampered credential
is an expected input, not a bug. ``CredentialError`` is for the issuer's own
mistakes: building or signing something that is not well formed.
"""

from __future__ import annotations


class CredentialError(ValueError):
    """A credential, key or status list could not be built, encoded or decoded."""
