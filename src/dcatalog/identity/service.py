"""Binding this instance's pepper to its database."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dcatalog.identity.citizen_key import CitizenKeyer
from dcatalog.identity.models import InstanceMeta

PEPPER_FINGERPRINT = "citizen_key.pepper_fingerprint"


class PepperMismatch(RuntimeError):
    """This process's pepper is not the one the database's citizen keys were made with."""


def bind_pepper(session: Session, keyer: CitizenKeyer) -> None:
    """Record the pepper's fingerprint the first time; refuse a different pepper later.

    Keys made with another pepper would match nobody: a citizen's deeds would
    silently split in two. Stopping here is the only safe answer.
    """
    recorded = session.get(InstanceMeta, PEPPER_FINGERPRINT)
    if recorded is None:
        try:
            with session.begin_nested():
                session.add(InstanceMeta(key=PEPPER_FINGERPRINT, value=keyer.fingerprint))
            session.commit()
            return
        except IntegrityError:
            # Another worker starting at the same moment recorded it first: compare with it.
            session.rollback()
            recorded = session.get(InstanceMeta, PEPPER_FINGERPRINT)
    if recorded is None or recorded.value != keyer.fingerprint:
        raise PepperMismatch(
            "the configured pepper is not the one this database's citizen keys were made "
            "with; restore the original DCATALOG_PEPPER (or instance pepper file)"
        )
