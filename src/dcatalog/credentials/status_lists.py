"""The published status lists: each signed once per change and kept in the
database (``PublishedStatusList``), so every app host serves the same document
and no request signs one unless something changed.

A list is signed again when a credential on it was revoked (its bits changed),
when the issuer's key changed, or when less than half of its validity is left
(``validUntil``: ``DCATALOG_STATUS_LIST_VALID_HOURS``, so that a verifier
holding an old copy knows to fetch a new one). Whoever comes first signs: a
reader of ``/credentials/status/<n>``, or the workers, which republish every
list every ``DCATALOG_STATUS_LIST_REPUBLISH_MINUTES`` (kind
``credentials.status_lists``; it needs ``DCATALOG_PUBLIC_URL``, the address the
lists are published at). Two signers at once both write the same list; the
later one's document is kept, and both are valid.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dcatalog import jobs
from dcatalog.credentials import keystore, status_list
from dcatalog.credentials import service as credentials
from dcatalog.credentials.data_integrity import create_proof
from dcatalog.credentials.keystore import Issuer
from dcatalog.credentials.models import PublishedStatusList
from dcatalog.db import transaction, utcnow
from dcatalog.problems import NotFound

KIND = "credentials.status_lists"


def document(
    session: Session, issuer: Issuer, number: int, *, valid_for: timedelta
) -> dict[str, Any]:
    """The signed ``BitstringStatusListCredential`` number ``number``, as published
    (signed now if the published one is out of date)."""
    if number not in credentials.list_numbers(session):
        raise NotFound(f"There is no status list {number}.")
    return _published(session, issuer, number, valid_for=valid_for)[0]


def _published(
    session: Session, issuer: Issuer, number: int, *, valid_for: timedelta
) -> tuple[dict[str, Any], bool]:
    """The list's document, and whether it was signed just now."""
    bits = credentials.status_bits(session, number)
    digest = hashlib.sha256(bits).hexdigest()
    signing_key = issuer.signing_key()
    now = utcnow()
    stored = session.get(PublishedStatusList, (issuer.base_url, number))
    if (
        stored is not None
        and stored.bits_sha256 == digest
        and stored.key_id == signing_key.verification_method
        and stored.valid_until - now > valid_for / 2
    ):
        return stored.document, False
    with transaction(session):
        keystore.publish(session, issuer.public_key())
        unsigned = status_list.status_list_credential(
            list_credential_url=credentials.status_list_url(issuer, number),
            issuer=issuer.did,
            bitstring=bits,
            valid_from=now,
            valid_until=now + valid_for,
        )
        signed = create_proof(unsigned, signing_key, credentials.SUITE, created=now)
        _keep(
            session,
            issuer.base_url,
            number,
            digest,
            signing_key.verification_method,
            signed,
            now,
            now + valid_for,
        )
    return signed, True


def _keep(
    session: Session,
    base_url: str,
    number: int,
    digest: str,
    key_id: str,
    signed: dict[str, Any],
    now: datetime,
    valid_until: datetime,
) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = {
        "bits_sha256": digest,
        "key_id": key_id,
        "document": signed,
        "published_at": now,
        "valid_until": valid_until,
    }
    statement = dialect.insert(PublishedStatusList).values(
        base_url=base_url, number=number, **values
    )
    session.execute(
        statement.on_conflict_do_update(index_elements=["base_url", "number"], set_=values)
    )
    session.expire_all()  # the session's copy of the row, if any, is older


def valid_for(settings: Any) -> timedelta:
    return timedelta(hours=settings.status_list_valid_hours)


def republish(context: jobs.Context) -> dict[str, Any]:
    """The periodic job: every list up to date, signed by the current key."""
    settings = context.settings
    if not settings.public_url:  # the address is the request's: readers sign
        return {"lists": 0, "signed": 0, "skipped": "no DCATALOG_PUBLIC_URL"}
    issuer = Issuer(
        base_url=settings.public_url,  # as ``web.links.public_base_url`` gives it
        name=settings.issuer_name,
        private_key=keystore.load_private_key(settings),
    )
    signed = 0
    with context.database.write_session() as session:
        numbers = credentials.list_numbers(session)
        for number in numbers:
            signed += _published(session, issuer, number, valid_for=valid_for(settings))[1]
    return {"lists": len(numbers), "signed": signed}


JOB_KIND = jobs.JobKind(
    KIND,
    republish,
    at_once=1,
    every=lambda settings: timedelta(minutes=settings.status_list_republish_minutes),
)
