"""Proposals: anyone signed in proposes, supports and comments; the programme
office accepts one (it becomes a partner's draft deed type) or declines it
with a reason everybody can read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dcatalog.accounts.models import StaffAccount
from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.agencies.models import Agency
from dcatalog.audit import service as audit
from dcatalog.catalog import service as catalog
from dcatalog.catalog.models import DeedType, Virtue
from dcatalog.catalog.schemas import NewDeedType
from dcatalog.db import transactional, utcnow
from dcatalog.problems import Conflict, FieldError, Forbidden, NotFound, ValidationProblem
from dcatalog.proposals.models import Proposal, ProposalComment, ProposalStatus, ProposalSupport

TITLE_MAX = 200


def _text(value: str, field: str, limit: int) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > limit:
        raise ValidationProblem(
            f"The {field} must have 1 to {limit} characters.",
            errors=[FieldError(f"1 to {limit} characters", pointer=f"#/{field}")],
        )
    return cleaned


def _public_name(actor: Actor) -> str:
    """What others see of who took part: a staff member's name; nothing of a citizen
    (pages say "a citizen"), whose label is a pseudonym, not a name."""
    return "" if actor.kind == "citizen" else actor.name or actor.display


@transactional
def propose(
    session: Session, actor: Actor, *, title: str, description: str, virtue: str | None = None
) -> Proposal:
    if virtue and session.get(Virtue, virtue) is None:
        raise ValidationProblem(
            "No such virtue.", errors=[FieldError("no such virtue", pointer="#/virtue")]
        )
    proposal = Proposal(
        title=_text(title, "title", TITLE_MAX),
        description=_text(description, "description", 4000),
        virtue_code=virtue or None,
        proposer_ref=actor.label,
        proposer_name=_public_name(actor),
    )
    session.add(proposal)
    session.flush()
    session.add(ProposalSupport(proposal_id=proposal.id, supporter_ref=actor.label))
    return proposal


def list_proposals(session: Session) -> Sequence[tuple[Proposal, int]]:
    """Open ones first, most supported first; then decided ones, newest first."""
    supports = (
        select(ProposalSupport.proposal_id, func.count().label("n"))
        .group_by(ProposalSupport.proposal_id)
        .subquery()
    )
    count = func.coalesce(supports.c.n, 0)
    query = (
        select(Proposal, count)
        .outerjoin(supports, supports.c.proposal_id == Proposal.id)
        .order_by(
            case((Proposal.status == ProposalStatus.OPEN, 0), else_=1),
            count.desc(),
            Proposal.created_at.desc(),
        )
    )
    return [(proposal, int(n)) for proposal, n in session.execute(query).unique()]


def proposals_by(session: Session, label: str) -> list[Proposal]:
    """What one person proposed (for the copy of their data)."""
    query = select(Proposal).where(Proposal.proposer_ref == label).order_by(Proposal.created_at)
    return list(session.scalars(query).unique())


def comments_by(session: Session, label: str) -> list[ProposalComment]:
    query = (
        select(ProposalComment)
        .where(ProposalComment.author_ref == label)
        .order_by(ProposalComment.created_at)
    )
    return list(session.scalars(query))


def staff_agencies(session: Session, proposal: Proposal) -> dict[str, Agency | None]:
    """The agency each staff member who proposed or commented acts for, by their
    ``*_ref`` (None: the programme office). Pages name staff by their agency, in the
    page's language: the stored name is the person's own, often in English."""
    refs = {proposal.proposer_ref, *(c.author_ref for c in proposal.comments)}
    emails = sorted(ref.removeprefix("staff:") for ref in refs if ref.startswith("staff:"))
    if not emails:
        return {}
    query = (
        select(StaffAccount.email, Agency)
        .outerjoin(Agency, Agency.id == StaffAccount.agency_id)
        .where(StaffAccount.email.in_(emails))
    )
    return {f"staff:{email}": agency for email, agency in session.execute(query)}


def get_proposal(session: Session, proposal_id: uuid.UUID) -> Proposal:
    proposal = session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound("There is no such proposal.")
    return proposal


def _open(proposal: Proposal) -> None:
    if proposal.status is not ProposalStatus.OPEN:
        raise Conflict("This proposal has been decided already.")


@transactional
def support(session: Session, actor: Actor, proposal: Proposal) -> None:
    """Idempotent: supporting twice counts once."""
    _open(proposal)
    if any(s.supporter_ref == actor.label for s in proposal.supports):
        return
    try:
        with session.begin_nested():
            session.add(ProposalSupport(proposal_id=proposal.id, supporter_ref=actor.label))
    except IntegrityError:
        pass  # a concurrent click of the same person: already counted


@transactional
def comment(session: Session, actor: Actor, proposal: Proposal, text: str) -> ProposalComment:
    _open(proposal)
    entry = ProposalComment(
        proposal_id=proposal.id,
        author_ref=actor.label,
        author_name=_public_name(actor),
        text=_text(text, "text", 2000),
    )
    session.add(entry)
    return entry


def _require_office(actor: Actor) -> None:
    if not actor.can(Scope.CATALOG_APPROVE):
        raise Forbidden("Only the programme office decides on proposals.")


@transactional
def accept(
    session: Session, actor: Actor, proposal: Proposal, owner: Agency, draft: NewDeedType
) -> DeedType:
    """The proposal becomes a draft deed type of the chosen partner, which completes
    and submits it like any other."""
    _require_office(actor)
    _open(proposal)
    before = audit.snapshot(proposal)
    deed_type = catalog.create_deed_type(session, actor, owner, draft)
    proposal.status = ProposalStatus.ACCEPTED
    proposal.deed_type_code = deed_type.code
    proposal.decided_at, proposal.decided_by = utcnow(), actor.label
    audit.record(session, actor, "proposal.accept", proposal, before=before, agency_id=owner.id)
    return deed_type


@transactional
def decline(session: Session, actor: Actor, proposal: Proposal, reason: str) -> Proposal:
    _require_office(actor)
    _open(proposal)
    before = audit.snapshot(proposal)
    proposal.decision_reason = _text(reason, "reason", 2000)
    proposal.status = ProposalStatus.DECLINED
    proposal.decided_at, proposal.decided_by = utcnow(), actor.label
    audit.record(session, actor, "proposal.decline", proposal, before=before, reason=reason)
    return proposal
