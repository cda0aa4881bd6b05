"""Buddhist Era (พ.ศ.) years and how Thai pages show dates and times.

Month names come from Babel's CLDR data; only the year is ours (CE + 543).
Times are stored in UTC and shown in Asia/Bangkok. Dates people type are read
here too (``parse_be_date``), in one place for every page.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import get_month_names

BE_OFFSET = 543
BANGKOK = ZoneInfo("Asia/Bangkok")

Style = Literal["short", "medium", "long"]


def today_in_thailand() -> date:
    """The date on Thai calendars now (the server's clock may run in UTC)."""
    return datetime.now(BANGKOK).date()


def be_year(ce_year: int) -> int:
    return ce_year + BE_OFFSET


def ce_year(be: int) -> int:
    return be - BE_OFFSET


def format_date(value: date, lang: str = "th", style: Style = "medium") -> str:
    """Thai: ``26 พ.ย. 2569`` (medium), ``26 พฤศจิกายน พ.ศ. 2569`` (long),
    ``26/11/2569`` (short). English follows CLDR with the Christian Era."""
    if lang != "th":
        return babel_format_date(value, format=style, locale="en_GB")
    year = be_year(value.year)
    if style == "short":
        return f"{value.day:02d}/{value.month:02d}/{year}"
    if style == "long":
        month = get_month_names("wide", locale="th")[value.month]
        return f"{value.day} {month} พ.ศ. {year}"
    month = get_month_names("abbreviated", locale="th")[value.month]
    return f"{value.day} {month} {year}"


def format_datetime(value: datetime, lang: str = "th", style: Style = "medium") -> str:
    """A UTC (or any aware) time shown in Bangkok: ``26 พ.ย. 2569 23:55 น.``."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous: store and pass UTC")
    local = value.astimezone(BANGKOK)
    day = format_date(local.date(), lang, style)
    clock = f"{local.hour:02d}:{local.minute:02d}"
    return f"{day} {clock} น." if lang == "th" else f"{day}, {clock}"


_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_BE_DATE = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# A Buddhist Era year typed by a person living today: from 2443 (1900) on. A
# four-digit year below it is a Christian Era year typed by mistake.
FIRST_BE_YEAR = 2443

DateProblem = Literal["empty", "format", "christian_era", "no_such_day"]


class InvalidDate(ValueError):
    """What a person typed is not a date; ``reason`` says why (pages word it)."""

    def __init__(self, reason: DateProblem) -> None:
        super().__init__(reason)
        self.reason: DateProblem = reason


def parse_be_date(text: str) -> date:
    """A date as Thai people type it: วัน/เดือน/ปี พ.ศ. (``01/06/2548``, ``1/6/2548``,
    ``1-6-2548``, ``1.6.2548``, Thai digits too). The ISO form ``2005-06-01``
    (Christian Era), which the browsers' date pickers sent before, is taken as well,
    so older forms and scripts keep working. Raises ``InvalidDate``."""
    cleaned = text.strip().translate(_THAI_DIGITS)
    if not cleaned:
        raise InvalidDate("empty")
    iso = _ISO_DATE.fullmatch(cleaned)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
        if year >= FIRST_BE_YEAR:  # 2548-06-01: the Buddhist Era year, in ISO order
            year = ce_year(year)
    else:
        typed = _BE_DATE.fullmatch(cleaned)
        if typed is None:
            raise InvalidDate("format")
        day, month, be = (int(part) for part in typed.groups())
        if be < FIRST_BE_YEAR:
            raise InvalidDate("christian_era")
        year = ce_year(be)
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidDate("no_such_day") from None
