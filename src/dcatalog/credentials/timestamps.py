"""How credentials and proofs write a moment in time."""

from __future__ import annotations

from datetime import UTC, datetime

from dcatalog.credentials.errors import CredentialError


def format_date_time(moment: datetime) -> str:
    """``2026-01-31T09:00:00Z``: an XML Schema dateTimeStamp in UTC, whole seconds.

    UTC with ``Z`` is the form every verifier reads; local Thai time is for
    pages, not for signed data.
    """
    if moment.tzinfo is None:
        raise CredentialError("a credential time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
