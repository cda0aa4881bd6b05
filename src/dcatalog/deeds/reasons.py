"""Why a deed was refused or held, as a code with its figures, in the reader's language.

The rules (``service``, ``importing``) state a reason once, as a code and its
parameters; the English text (the API's ``detail``/``reason``, kept as it always
was) and every translation come from the same msgid here, through the Babel
catalogue. Stored status reasons of our own (held for review, the standard
rejection reasons) are stored as their English text, which is their msgid: a page
translates them at render, and free text a verifier typed stays as it is.

Columns are named as the template names them (Thai headings on Thai pages), never
by the internal field names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from dcatalog.calendars.buddhist_era import format_date
from dcatalog.problems import FieldError
from dcatalog.web import templating
from dcatalog.web.i18n import N_, current_language, translated
from dcatalog.web.i18n import gettext as _

# code -> English msgid (with %(name)s parameters)
MESSAGES: dict[str, str] = {
    "id_empty": N_("the national ID is empty"),
    "id_format": N_("a national ID has digits only (dashes and spaces are allowed)"),
    "id_length": N_("a national ID has 13 digits"),
    "id_checksum": N_("the check digit does not match: the number has a typo"),
    "type_unknown": N_("'%(value)s' is not an approved deed type in the catalog"),
    "type_not_allowed": N_("your agency may not record %(value)s"),
    "province_unknown": N_("'%(value)s' is not a province (use ISO 3166-2:TH, e.g. TH-10)"),
    "quantity_not_positive": N_("must be more than 0"),
    "quantity_decimals": N_("no more than %(places)s decimal places"),
    "quantity_too_large": N_("is too large for one record"),
    "evidence_length": N_("must have at most %(max)s characters"),
    "quantity_over_record": N_("more than %(max)s in one record"),
    "quantity_over_day": N_("over the limit of %(max)s per day for this person"),
    "quantity_over_day_known": N_(
        "over the limit of %(max)s per day for this person (%(recorded)s recorded already)"
    ),
    "quantity_over_year": N_("over the yearly limit of %(max)s for this person"),
    "quantity_over_year_known": N_(
        "over the yearly limit of %(max)s for this person (%(recorded)s in %(year)s already)"
    ),
    "date_future": N_("is in the future"),
    "date_too_old": N_("is more than %(days)s days ago"),
    "date_too_close_known": N_(
        "only %(days)s days from this person's record of %(day)s; at least %(gap)s days are needed"
    ),
    "date_too_close": N_(
        "too close to another record of this person; at least %(gap)s days are needed"
    ),
    "external_id_length": N_("must have 1 to 100 characters"),
    "external_id_reused": N_("'%(value)s' was used already for a different deed"),
    "all_or_nothing": N_("not recorded: another row was refused (all or nothing)"),
    "empty": N_("empty"),
    "date_format": N_("write the date as DD/MM/YYYY or YYYY-MM-DD"),
    "date_impossible": N_("there is no such day in the calendar"),
    "not_a_number": N_("not a number"),
    "control_character": N_("control character"),
}

# The template's headings: Thai first (the importer reads these, and older
# spellings too), English as an English page shows them.
HEADINGS_EN: dict[str, str] = {
    "national_id": N_("National ID"),
    "deed_type": N_("Deed type"),
    "quantity": N_("Quantity"),
    "occurred_on": N_("Date"),
    "province": N_("Province"),
    "evidence": N_("Evidence"),
    "external_id": N_("Reference number"),
}


@dataclass(frozen=True, slots=True)
class Reason:
    """A refusal: its code and figures (text, never a national ID)."""

    code: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def english(self) -> str:
        return MESSAGES[self.code] % dict(self.params)

    def text(self) -> str:
        """In the language of the page being rendered."""
        return shown(self.code, self.params)


def shown(code: str | None, params: Mapping[str, str] | None, fallback: str = "") -> str:
    """A reason's text in the page's language; ``fallback`` for an unknown code."""
    if not code or code not in MESSAGES:
        return fallback
    values = dict(params or {})
    if "day" in values:  # an ISO date: the page's calendar
        with contextlib.suppress(ValueError):
            values["day"] = format_date(date.fromisoformat(values["day"]), current_language())
    return _(MESSAGES[code]) % values


def column_label(name: str) -> str:
    """A column as the template of the page's language heads it."""
    from dcatalog.deeds.importing import THAI_HEADINGS  # importing imports this module

    if current_language() == "th" and name in THAI_HEADINGS:
        return THAI_HEADINGS[name][0]
    if name in HEADINGS_EN:
        return _(HEADINGS_EN[name])
    return name


def with_column(name: str, text: str) -> str:
    """``text`` after its column's heading, when the reason is a column's."""
    from dcatalog.deeds.importing import COLUMNS

    return f"{column_label(name)}: {text}" if name in COLUMNS else text


def field_reason(error: FieldError) -> str:
    """A refusal (a ``FieldError``) in the page's language, naming its column as the
    template heads it; errors of other rules keep their text (Thai if they have it)."""
    text = shown(error.code, dict(error.params))
    if not text:
        thai = current_language() == "th" and error.detail_th
        return error.detail_th if thai and error.detail_th else translated(error.detail)
    return with_column((error.pointer or "").removeprefix("#/"), text)


# Status reasons that the system or a verifier's list gives: stored as the English
# text (what the API has always returned), translated when a page shows them.
HELD_FOR_REVIEW = N_("held for review by the programme office")
REJECTION_REASONS: dict[str, str] = {
    "no_evidence": N_("the evidence is missing or cannot be read"),
    "not_eligible": N_("the activity does not count as this deed type"),
    "wrong_details": N_("the details do not match the evidence (date, hours or person)"),
    "recorded_twice": N_("this deed was recorded twice"),
}
STATUS_REASON_CODES: dict[str, str] = {
    HELD_FOR_REVIEW: "held_for_review",
    **{text: code for code, text in REJECTION_REASONS.items()},
}


def status_reason_code(text: str) -> str | None:
    """The code of a stored status reason of ours, None for free text."""
    return STATUS_REASON_CODES.get(text)


def status_reason(text: str) -> str:
    """A stored status reason for the page: ours translated, free text as written."""
    return _(text) if text in STATUS_REASON_CODES else text


# Pages show a refused field's reason and a deed's stored status reason in the reader's language.
templating.add_template_helpers(
    functions={"field_reason": field_reason}, filters={"status_reason": status_reason}
)
