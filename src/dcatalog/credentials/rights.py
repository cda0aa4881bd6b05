"""What credentials keep of a citizen, for the PDPA copy and erasure (a
``citizens.rights.DataHolder``, connected in dcatalog.assembly)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dcatalog.citizens.rights import DataHolder, plain
from dcatalog.credentials import service as credentials
from dcatalog.identity.sessions import CitizenPrincipal


def export(session: Session, citizen: CitizenPrincipal) -> dict[str, list[dict[str, Any]]]:
    return {
        "credentials": [
            {
                "id": str(c.id),
                "kind": c.kind,
                "subject": c.subject,
                "period": c.period,
                "issued_at": plain(c.issued_at),
                "revoked_at": plain(c.revoked_at),
                "revocation_reason": c.revocation_reason,
                "shared_at": plain(c.shared_at),
                "share_withdrawn_at": plain(c.share_withdrawn_at),
                "document": credentials.signed_document(c),
            }
            for c in credentials.credentials_of(session, citizen)
        ],
    }


def lines(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Credentials in the spreadsheet: ``deed_type`` holds the subject they certify."""
    found: list[dict[str, Any]] = []
    found += [
        {
            "record": "credential",
            "occurred_on": c["issued_at"][:10],
            "deed_type": c["subject"],
            "status": "revoked"
            if c["revoked_at"]
            else "shared"
            if c["shared_at"] and not c["share_withdrawn_at"]
            else "issued",
            "status_reason": c["revocation_reason"],
            "id": c["id"],
        }
        for c in data["credentials"]
    ]
    return found


HOLDER = DataHolder(export=export, lines=lines, forget=credentials.forget_holder)
