"""Claims and redemption: a citizen who meets a benefit's rule claims it and gets
a single-use code (shown as a QR code); the partner redeems it at a counter or
over the API. Claims use up the benefit's quota, never the citizen's credits.

Race-safety, because two counters and two phones do race:
- claiming locks the benefit's row first (``SELECT … FOR UPDATE`` on
  PostgreSQL; SQLite's write sessions hold the database's write lock), then
  counts the claims against the quota and the per-citizen limit: two claims
  can never both take the last place;
- redeeming is one conditional ``UPDATE … WHERE status = 'issued' AND not
  expired``: whichever counter's statement runs first wins, the other changes
  no row and is told the code was used.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dcatalog.accounts.permissions import Scope
from dcatalog.actors import Actor
from dcatalog.benefits import rules
from dcatalog.benefits.evaluation import evaluate
from dcatalog.benefits.models import Benefit, BenefitKind, Claim, ClaimStatus
from dcatalog.benefits.service import get
from dcatalog.calendars.periods import MonthDay
from dcatalog.db import changed_rows, new_id, transactional, utcnow
from dcatalog.identity.sessions import CitizenPrincipal
from dcatalog.problems import Conflict, FieldError, Forbidden, NotFound, ValidationProblem
from dcatalog.tokens import digest
from dcatalog.web.throttle import Attempts

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a counter
CODE_LENGTH = 10  # 32^10 ≈ 10^15: unguessable within a code's life
VALID_FOR = timedelta(days=30)


def code_for(secret: bytes, claim_id: uuid.UUID) -> str:
    """A claim's code, derived from its id with the instance's secret key: the
    citizen can be shown it again at any time, while the database keeps only a
    digest (a leaked table redeems nothing)."""
    mac = hmac.new(secret, b"dcatalog:claim:" + claim_id.bytes, hashlib.sha256).digest()
    number = int.from_bytes(mac[:8], "big")
    return "".join(CODE_ALPHABET[(number >> (5 * i)) & 31] for i in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """As people type it: spaces and dashes dropped, upper case."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


@transactional
def claim(
    session: Session,
    citizen: CitizenPrincipal,
    secret: bytes,
    benefit_code: str,
    *,
    today: date,
    academic_start: MonthDay,
) -> Claim:
    benefit = get(session, benefit_code)
    if benefit.kind is BenefitKind.THANKS:
        raise Conflict("A thank-you has nothing to claim: it is yours already.")
    if not benefit.open_on(today):
        raise Conflict(f"{benefit.code} is not on offer today.")
    # Lock the benefit (its quota) before counting: concurrent claims queue here.
    session.execute(select(Benefit.id).where(Benefit.id == benefit.id).with_for_update())
    verdict = evaluate(
        session, rules.parse(benefit.rule), citizen.citizen_key, today, academic_start
    )
    if not verdict.met:
        raise Forbidden("You do not meet this benefit's rule yet.")
    full = no_room(session, benefit, citizen.citizen_key)
    if full is not None:
        raise Conflict(full)
    claim_id = new_id()
    found = Claim(
        id=claim_id,
        benefit_id=benefit.id,
        citizen_key=citizen.citizen_key,
        code_digest=digest(code_for(secret, claim_id)),
        status=ClaimStatus.ISSUED,
        expires_at=utcnow() + VALID_FOR,
    )
    session.add(found)
    session.flush()
    return found


LIMIT_REACHED = "You have claimed this benefit as many times as it allows."
QUOTA_USED_UP = "All of this benefit has been claimed: the quota is used up."


def no_room(session: Session, benefit: Benefit, citizen_key: str) -> str | None:
    """Why the citizen cannot claim ``benefit`` again (their limit, or the quota),
    or None. ``claim`` asks it under the benefit's lock; pages ask it to hide a
    button that could only fail."""
    return no_room_in(session, [benefit], citizen_key)[benefit.id]


def no_room_in(
    session: Session, benefits: Sequence[Benefit], citizen_key: str
) -> dict[uuid.UUID, str | None]:
    """``no_room`` for several benefits at once (her page lists them all): two
    queries, however many there are."""
    mine = _claims_per_benefit(session, [b.id for b in benefits], citizen_key)
    taken = _claims_per_benefit(session, [b.id for b in benefits if b.quota is not None])
    found: dict[uuid.UUID, str | None] = {}
    for benefit in benefits:
        if mine.get(benefit.id, 0) >= benefit.per_citizen_limit:
            found[benefit.id] = LIMIT_REACHED
        elif benefit.quota is not None and taken.get(benefit.id, 0) >= benefit.quota:
            found[benefit.id] = QUOTA_USED_UP
        else:
            found[benefit.id] = None
    return found


def _claims_per_benefit(
    session: Session, ids: list[uuid.UUID], citizen_key: str | None = None
) -> dict[uuid.UUID, int]:
    """How many claims each of these benefits has (of this citizen, if named)."""
    if not ids:
        return {}
    query = select(Claim.benefit_id, func.count(Claim.id)).where(Claim.benefit_id.in_(ids))
    if citizen_key is not None:
        query = query.where(Claim.citizen_key == citizen_key)
    return {row[0]: row[1] for row in session.execute(query.group_by(Claim.benefit_id))}


def claims_of(session: Session, citizen: CitizenPrincipal) -> list[Claim]:
    query = (
        select(Claim)
        .where(Claim.citizen_key == citizen.citizen_key)
        .order_by(Claim.claimed_at.desc())
    )
    return list(session.scalars(query))


@dataclass(frozen=True)
class Redemption:
    outcome: Literal["redeemed", "used", "expired", "unknown"]
    claim: Claim | None
    at: datetime | None = None


@transactional
def redeem(
    session: Session, actor: Actor, code: str, attempts: Attempts | None = None
) -> Redemption:
    """Use a claim code once, at the agency that offers the benefit.

    ``attempts`` (the counter's throttle) counts malformed and unknown codes: past
    its limit the answer is 429 before the code is looked at, so codes can't be
    guessed by trying many (used and expired codes are real ones: they don't count)."""
    if not actor.can(Scope.BENEFITS_REDEEM) or actor.agency_id is None:
        raise Forbidden("Redeeming needs the permission benefits:redeem.")
    if attempts is not None:
        attempts.check()
    code = normalise_code(code)
    if len(code) != CODE_LENGTH:
        if attempts is not None:
            attempts.failed()
        raise ValidationProblem(
            f"A claim code has {CODE_LENGTH} letters and digits.",
            errors=[FieldError("wrong length", pointer="#/code")],
        )
    wanted = digest(code)
    found = session.scalar(select(Claim).where(Claim.code_digest == wanted))
    if found is None or found.benefit.agency_id != actor.agency_id:
        if attempts is not None:
            attempts.failed()
        return Redemption("unknown", None)  # another agency's codes are unknown here
    now = utcnow()
    done = session.execute(
        update(Claim)
        .where(
            Claim.id == found.id,
            Claim.status == ClaimStatus.ISSUED,
            Claim.expires_at > now,
        )
        .values(status=ClaimStatus.REDEEMED, redeemed_at=now, redeemed_by=actor.label)
        .execution_options(synchronize_session=False)
    )
    session.refresh(found)
    if changed_rows(done) == 1:
        return Redemption("redeemed", found, now)
    if found.status is ClaimStatus.REDEEMED:
        return Redemption("used", found, found.redeemed_at)
    return Redemption("expired", found, found.expires_at)


def get_claim(session: Session, citizen: CitizenPrincipal, claim_id: uuid.UUID) -> Claim:
    found = session.get(Claim, claim_id)
    if found is None or found.citizen_key != citizen.citizen_key:
        raise NotFound("You have no such claim.")
    return found


def forget_holder(session: Session, citizen_key: str, pseudonym: str) -> None:
    """Erasure (see dcatalog.citizens.rights): claims move to the pseudonym, so a
    benefit's quota stays used up as it was, while the person who signs in again
    with the same ID starts with no claims and their per-citizen limit unspent."""
    session.execute(
        update(Claim)
        .where(Claim.citizen_key == citizen_key)
        .values(citizen_key=pseudonym)
        .execution_options(synchronize_session="fetch")
    )
