"""The programme office's review of deeds that two agencies recorded for the same
person on the same day (see dcatalog.deeds.service.held_pairs). A module of its own:
the office reads two agencies' records of a person, so every look is logged."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dcatalog.actors import Actor
from dcatalog.citizens.disclosure import log_access
from dcatalog.citizens.models import AccessOutcome
from dcatalog.db import transactional
from dcatalog.deeds import service as deeds

REVIEW_PURPOSE = "review of a possible duplicate recorded by two agencies"


@transactional
def held_pairs_for_review(session: Session, actor: Actor) -> list[deeds.HeldPair]:
    """The held deeds beside the other agency's records; each person whose records
    are shown gets a line in their access log."""
    pairs = deeds.held_pairs(session, actor)
    for citizen_key in sorted({pair.held.citizen_key for pair in pairs}):
        log_access(session, actor, citizen_key, REVIEW_PURPOSE, "deeds", AccessOutcome.ALLOWED)
    return pairs
