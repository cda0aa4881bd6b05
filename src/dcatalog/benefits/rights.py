"""What benefits keep of a citizen (awards, claims), for the PDPA copy and erasure
(a ``citizens.rights.DataHolder``, connected in dcatalog.assembly)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dcatalog.benefits import awards, claims
from dcatalog.citizens.rights import DataHolder, plain
from dcatalog.identity.sessions import CitizenPrincipal


def export(session: Session, citizen: CitizenPrincipal) -> dict[str, list[dict[str, Any]]]:
    return {
        "awards": [
            {
                "id": str(a.id),
                "benefit": a.benefit.code,
                "benefit_name_th": a.benefit.name_th,
                "benefit_name_en": a.benefit.name_en,
                "status": a.status.value,
                "reached_on": plain(a.reached_on),
                "province": a.province,
                "deed_id": str(a.deed_id),
                "awarded_at": plain(a.awarded_at),
                "withdrawn_at": plain(a.withdrawn_at),
                "withdrawal_reason": a.withdrawal_reason,
                "ceremony_name": a.ceremony_name,
                "ceremony_consented_at": plain(a.ceremony_consented_at),
                "handed_over_at": plain(a.handed_over_at),
                "public_name": a.public_name,
                "public_since": plain(a.public_since),
                "credential_id": plain(a.credential_id),
            }
            for a in awards.awards_of(session, citizen)
        ],
        "claims": [
            {
                "id": str(c.id),
                "benefit": c.benefit.code,
                "benefit_name_th": c.benefit.name_th,
                "benefit_name_en": c.benefit.name_en,
                "status": c.status.value,
                "claimed_at": plain(c.claimed_at),
                "expires_at": plain(c.expires_at),
                "redeemed_at": plain(c.redeemed_at),
            }
            for c in claims.claims_of(session, citizen)
        ],
    }


def lines(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Awards and claims in the spreadsheet: ``deed_type`` holds the benefit's code."""
    found: list[dict[str, Any]] = []
    found += [
        {
            **a,
            "record": "award",
            "occurred_on": a["reached_on"],
            "deed_type": a["benefit"],
            "deed_type_name_th": a["benefit_name_th"],
            "deed_type_name_en": a["benefit_name_en"],
            "status_reason": a["withdrawal_reason"],
        }
        for a in data["awards"]
    ]
    found += [
        {
            **c,
            "record": "claim",
            "occurred_on": c["claimed_at"][:10],
            "deed_type": c["benefit"],
            "deed_type_name_th": c["benefit_name_th"],
            "deed_type_name_en": c["benefit_name_en"],
        }
        for c in data["claims"]
    ]
    return found


def forget(session: Session, old: str, new: str) -> None:
    awards.forget_holder(session, old, new)
    claims.forget_holder(session, old, new)


HOLDER = DataHolder(export=export, lines=lines, forget=forget)
