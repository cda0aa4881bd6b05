"""Data rights under the PDPA: a copy of everything we hold on a citizen,
disputing a record, and erasure.

Erasure keeps national figures right: the citizen's deeds stay (the programme
counts them) but are moved to a fresh random key that nothing links back to the
person, with the last four ID digits blanked; their tallies move with them, so
``dcatalog tallies check`` stays clean. Sessions, consents, the access log and
guardians' consents of the old key are deleted; credentials are revoked,
unshared and emptied; claims and awards move to the fresh key (quotas and
award counts stay right), awards without the chosen ceremony and public names;
a consent the person gave as a minor's guardian stays in force but names a
pseudonym of its own instead. The request keeps only a
SHA-256 of the old key, to show that it was done.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dcatalog import tabular
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.audit import service as audit
from dcatalog.citizens import consent as consents
from dcatalog.citizens import service as citizens
from dcatalog.citizens.disclosure import access_log
from dcatalog.citizens.models import (
    AccessLog,
    Consent,
    Dispute,
    DisputeStatus,
    ErasureRequest,
    ErasureStatus,
    GuardianConsent,
)
from dcatalog.db import transactional, utcnow
from dcatalog.deeds import service as deeds
from dcatalog.deeds.models import Deed, DeedStatus, Tally
from dcatalog.identity.models import Citizen, CitizenSession
from dcatalog.identity.sessions import CitizenPrincipal
from dcatalog.problems import Conflict, FieldError, Forbidden, NotFound, ValidationProblem

# --- a copy of my data ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DataHolder:
    """A domain above this one that keeps something of a citizen's (benefits,
    credentials, proposals …): its sections of the copy, its lines of the
    spreadsheet, and how erasure moves its rows to the pseudonym. Registered by
    name in dcatalog.assembly, so that a new domain cannot be left out of the
    copy without also being left out of the application."""

    export: Callable[[Session, CitizenPrincipal], dict[str, list[dict[str, Any]]]]
    lines: Callable[[dict[str, Any]], list[dict[str, Any]]] = lambda data: []
    forget: Callable[[Session, str, str], object] = lambda session, old, new: None


holders: dict[str, DataHolder] = {}


def _holders() -> list[DataHolder]:
    if not holders:  # a copy or an erasure that silently skipped a domain would be a lie
        raise RuntimeError("no data holders in this process: call dcatalog.assembly.assemble()")
    return list(holders.values())


def plain(value: Any) -> Any:
    """A stored value in plain JSON types (times and days as ISO 8601, amounts as text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def export(session: Session, citizen: CitizenPrincipal) -> dict[str, Any]:
    """Everything stored under the citizen's key, in plain JSON types."""
    me = session.get(Citizen, citizen.citizen_key)
    lines = citizens.deeds(session, citizen)
    data: dict[str, Any] = {
        "format": "dcatalog-my-data/1",
        "exported_at": plain(utcnow()),
        "citizen": {
            "citizen_key": citizen.citizen_key,
            "born_on": plain(me.born_on) if me else None,
            "first_seen_at": plain(me.first_seen_at) if me else None,
        },
        "deeds": [
            {
                **{k: plain(v) for k, v in deeds.deed_view(line.deed).items()},
                "deed_type": line.deed.deed_type_code,
                "deed_type_name_th": line.version.name_th,
                "deed_type_name_en": line.version.name_en,
                "credits_per_unit": line.version.credits_per_unit,
                "virtue": line.deed.virtue_code,
                "agency": line.agency.code,
            }
            for line in lines
        ],
        "tallies": [
            {
                "subject": t.subject,
                "period": t.period,
                "count": t.count,
                "quantity": plain(t.quantity),
                "credits": t.credits,
            }
            for t in citizens.tallies(session, citizen)
        ],
        "consents": [
            {
                "agency": c.agency.code,
                "purpose": c.purpose,
                "scope": c.scope,
                "includes_health": c.includes_health,
                "granted_at": plain(c.granted_at),
                "withdrawn_at": plain(c.withdrawn_at),
            }
            for c in consents.history(session, citizen)
        ],
        "access_log": [
            {
                "at": plain(a.at),
                "agency": a.agency.code if a.agency else None,
                "by": a.actor,
                "purpose": a.purpose,
                "what": a.what,
                "outcome": a.outcome.value,
            }
            for a in access_log(session, citizen.citizen_key, limit=100_000)
        ],
        "disputes": [
            {
                "deed_id": str(d.deed_id),
                "message": d.message,
                "status": d.status.value,
                "answer": d.answer,
                "opened_at": plain(d.opened_at),
                "decided_at": plain(d.decided_at),
            }
            for d in disputes_of(session, citizen)
        ],
        "guardian_consents": [
            {
                "role": "minor" if g.citizen_key == citizen.citizen_key else "guardian",
                "relation": g.relation,
                "recorded_at": plain(g.recorded_at),
                "withdrawn_at": plain(g.withdrawn_at),
            }
            for g in session.scalars(
                select(GuardianConsent)
                .where(
                    (GuardianConsent.citizen_key == citizen.citizen_key)
                    | (GuardianConsent.guardian_key == citizen.citizen_key)
                )
                .order_by(GuardianConsent.recorded_at)
            )
        ],
        "sessions": [
            {
                "method": s.method,
                "created_at": plain(s.created_at),
                "expires_at": plain(s.expires_at),
                "ended_at": plain(s.ended_at),
            }
            for s in session.scalars(
                select(CitizenSession)
                .where(CitizenSession.citizen_key == citizen.citizen_key)
                .order_by(CitizenSession.created_at)
            )
        ],
        "erasure_requests": [
            {
                "status": e.status.value,
                "requested_at": plain(e.requested_at),
                "done_at": plain(e.done_at),
            }
            for e in session.scalars(
                select(ErasureRequest)
                .where(ErasureRequest.citizen_key == citizen.citizen_key)
                .order_by(ErasureRequest.requested_at)
            )
        ],
    }
    for holder in _holders():
        data.update(holder.export(session, citizen))
    return data


def export_csv(session: Session, citizen: CitizenPrincipal) -> str:
    """The record as a spreadsheet (UTF-8 with BOM, so that Excel shows Thai): one
    line per deed, award, claim and credential, ``record`` saying which. For an
    award or a claim ``deed_type`` holds the benefit's code; for a credential, the
    subject it certifies."""
    data = export(session, citizen)
    columns = [
        "record",
        "occurred_on",
        "deed_type",
        "deed_type_name_th",
        "deed_type_name_en",
        "quantity",
        "credits",
        "status",
        "status_reason",
        "province",
        "agency",
        "external_id",
        "evidence",
        "ceremony_name",
        "public_name",
        "id",
    ]
    lines: list[dict[str, Any]] = [{**deed, "record": "deed"} for deed in data["deeds"]]
    for holder in _holders():
        lines += holder.lines(data)
    # Evidence, external IDs and chosen names are people's text: ``tabular`` neutralises formulas.
    return tabular.csv_text(
        [columns, *(["" if line.get(c) is None else line[c] for c in columns] for line in lines)]
    )


# --- disputes ------------------------------------------------------------------------


def disputes_of(session: Session, citizen: CitizenPrincipal) -> list[Dispute]:
    query = (
        select(Dispute)
        .where(Dispute.citizen_key == citizen.citizen_key)
        .order_by(Dispute.opened_at.desc())
    )
    return list(session.scalars(query))


@transactional
def dispute(
    session: Session, citizen: CitizenPrincipal, deed_id: uuid.UUID, message: str
) -> Dispute:
    """The citizen says a record of theirs is wrong; it goes to the recording agency."""
    deed = session.get(Deed, deed_id)
    if deed is None or deed.citizen_key != citizen.citizen_key:
        raise NotFound("You have no such record.")
    message = message.strip()
    if not message or len(message) > 2000:
        raise ValidationProblem(
            "Say what is wrong (up to 2,000 characters).",
            errors=[FieldError("1 to 2,000 characters", pointer="#/message")],
        )
    if session.scalar(
        select(Dispute).where(Dispute.deed_id == deed.id, Dispute.status == DisputeStatus.OPEN)
    ):
        raise Conflict("This record is already disputed; the agency will answer.")
    found = Dispute(
        deed_id=deed.id,
        agency_id=deed.agency_id,
        citizen_key=citizen.citizen_key,
        message=message,
        status=DisputeStatus.OPEN,
    )
    session.add(found)
    session.flush()
    return found


def open_disputes(session: Session, actor: Actor) -> list[tuple[Dispute, Deed]]:
    if not actor.can(Scope.DEEDS_VERIFY) or actor.agency_id is None:
        raise Forbidden("Disputes are answered by the agency's verifiers.")
    query = (
        select(Dispute, Deed)
        .join(Deed, Deed.id == Dispute.deed_id)
        .where(Dispute.agency_id == actor.agency_id, Dispute.status == DisputeStatus.OPEN)
        .order_by(Dispute.opened_at)
    )
    return [(d, deed) for d, deed in session.execute(query)]


@transactional
def answer(
    session: Session,
    actor: Actor,
    rules: deeds.Rules,
    dispute_id: uuid.UUID,
    *,
    upheld: bool,
    reason: str,
) -> Dispute:
    """The agency answers: upheld corrects the record (a verified deed is revoked, a
    pending one rejected, both with the reason); dismissed keeps it. Either way the
    citizen reads the reason."""
    found = session.get(Dispute, dispute_id)
    if found is None or not actor.acts_for(found.agency_id):
        raise NotFound("Your agency has no such dispute.")
    if not actor.can(Scope.DEEDS_VERIFY):
        raise Forbidden("Disputes are answered by the agency's verifiers.")
    if found.status is not DisputeStatus.OPEN:
        raise Conflict("This dispute was answered already.")
    reason = reason.strip()
    if not reason:
        raise ValidationProblem(
            "Give the reason the citizen will read.",
            errors=[FieldError("empty", pointer="#/reason")],
        )
    if upheld:
        deed = session.get(Deed, found.deed_id)
        assert deed is not None
        if deed.status is DeedStatus.VERIFIED:
            deeds.revoke(session, actor, rules, deed.id, reason)
        elif deed.status is DeedStatus.PENDING:
            deeds.reject(session, actor, deed.id, reason)
    before = audit.snapshot(found)
    found.status = DisputeStatus.UPHELD if upheld else DisputeStatus.DISMISSED
    found.answer = reason
    found.decided_by, found.decided_at = actor.label, utcnow()
    audit.record(session, actor, "dispute.answer", found, before=before, reason=reason)
    return found


# --- erasure -------------------------------------------------------------------------


def _reference(citizen_key: str) -> str:
    return hashlib.sha256(f"dcatalog:erasure:{citizen_key}".encode()).hexdigest()


@transactional
def request_erasure(session: Session, citizen: CitizenPrincipal) -> ErasureRequest:
    waiting = session.scalar(
        select(ErasureRequest).where(
            ErasureRequest.citizen_key == citizen.citizen_key,
            ErasureRequest.status == ErasureStatus.REQUESTED,
        )
    )
    if waiting is not None:
        return waiting
    found = ErasureRequest(
        citizen_key=citizen.citizen_key,
        reference=_reference(citizen.citizen_key),
        status=ErasureStatus.REQUESTED,
    )
    session.add(found)
    session.flush()
    return found


def erasure_requests(session: Session, actor: Actor) -> list[ErasureRequest]:
    if not actor.is_program_office:
        raise Forbidden("Erasure is carried out by the programme office.")
    query = select(ErasureRequest).order_by(ErasureRequest.requested_at.desc()).limit(500)
    return list(session.scalars(query))


@transactional
def erase(session: Session, actor: Actor, request_id: uuid.UUID) -> ErasureRequest:
    if not actor.is_program_office:
        raise Forbidden("Erasure is carried out by the programme office.")
    found = session.get(ErasureRequest, request_id)
    if found is None:
        raise NotFound("No such erasure request.")
    if found.status is ErasureStatus.DONE or found.citizen_key is None:
        raise Conflict("This request was carried out already.")
    old = found.citizen_key
    new = f"erased-{secrets.token_hex(28)}"  # 64 characters, like a citizen key
    session.execute(
        update(Deed).where(Deed.citizen_key == old).values(citizen_key=new, id_last4="")
    )
    session.execute(update(Tally).where(Tally.citizen_key == old).values(citizen_key=new))
    session.execute(update(Dispute).where(Dispute.citizen_key == old).values(citizen_key=new))
    for holder in _holders():
        holder.forget(session, old, new)
    # Where the erased person was a minor's guardian, the consent they gave stays
    # in force for the minor (erasing the guardian is not withdrawing it), but it
    # no longer names them. A pseudonym of its own: the minor's record must not
    # link to the erased person's pseudonymised deeds either.
    session.execute(
        update(GuardianConsent)
        .where(GuardianConsent.guardian_key == old)
        .values(guardian_key=f"erased-{secrets.token_hex(28)}")
    )
    for table in (CitizenSession, Consent, AccessLog, GuardianConsent):
        session.execute(delete(table).where(table.citizen_key == old))
    session.execute(delete(Citizen).where(Citizen.citizen_key == old))
    # Other requests of the same person (older, done) keep only the reference too.
    session.execute(
        update(ErasureRequest).where(ErasureRequest.citizen_key == old).values(citizen_key=None)
    )
    session.refresh(found)
    found.status, found.done_at, found.done_by = ErasureStatus.DONE, utcnow(), actor.label
    audit.record(session, actor, "citizen.erase", found)
    return found
