"""How the catalog's codes read on a page (units, verification policies, deed
types and virtues): shared by every domain's pages, in the reader's language."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dcatalog.catalog.models import DeedType, VerificationPolicy, Virtue
from dcatalog.catalog.schemas import UNITS
from dcatalog.catalog.service import list_virtues
from dcatalog.web.i18n import current_language
from dcatalog.web.i18n import gettext as _


def policy_labels() -> dict[str, str]:
    return {
        VerificationPolicy.AGENCY_ATTESTED.value: _("Verified by the recording agency"),
        VerificationPolicy.VERIFIER.value: _("Checked by a verifier before it counts"),
        VerificationPolicy.SELF_DECLARED.value: _("Declared by the citizen, then verified"),
    }


def unit_label(unit: str) -> str:
    thai, english = UNITS.get(unit, (unit, unit))
    return thai if current_language() == "th" else english


def virtue_options(session: Session) -> list[tuple[str, str]]:
    """The virtues as a form's choices: (code, name in the reader's language)."""
    lang = current_language()
    return [(v.code, v.name(lang)) for v in list_virtues(session)]


def subject_labels(session: Session, lang: str) -> dict[str, str]:
    """``type:<code>`` and ``virtue:<code>`` → names people read."""
    names = {f"virtue:{v.code}": v.name(lang) for v in session.scalars(select(Virtue))}
    for entry in session.scalars(select(DeedType)):
        version = entry.in_force or (entry.versions[-1] if entry.versions else None)
        names[f"type:{entry.code}"] = version.name(lang) if version else entry.code
    return names
