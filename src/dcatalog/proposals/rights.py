"""What proposals keep of a citizen (their proposals and comments, under their
alias), for the PDPA copy (a ``citizens.rights.DataHolder``, connected in
dcatalog.assembly). Erasure deletes the alias with the citizen, which unlinks them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dcatalog.citizens.rights import DataHolder, plain
from dcatalog.identity.sessions import CitizenPrincipal
from dcatalog.proposals import service as proposals


def export(session: Session, citizen: CitizenPrincipal) -> dict[str, list[dict[str, Any]]]:
    return {
        "proposals": [
            {
                "id": str(p.id),
                "title": p.title,
                "description": p.description,
                "status": p.status.value,
                "created_at": plain(p.created_at),
            }
            for p in proposals.proposals_by(session, citizen.label)
        ],
        "proposal_comments": [
            {"proposal_id": str(c.proposal_id), "text": c.text, "created_at": plain(c.created_at)}
            for c in proposals.comments_by(session, citizen.label)
        ],
    }


HOLDER = DataHolder(export=export)
